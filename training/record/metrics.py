"""Exact evaluation metrics: AUC (scikit-learn), per-user GAUC and log loss. Which metric scores
which output against which label is training/record/metric_catalogue.py's: Main AUC scores the
purchase probability (pCTCVR for ESSM, ESCM2) against buys; CTR AUC scores pCTR against interactions;
CVR AUC scores pCVR against buys on interacted samples only, where it is defined.
"""
import numpy as np
import pandas as pd
from sklearn.metrics import log_loss as sklearn_log_loss, roc_auc_score


def auc(labels, scores):
    """ROC AUC, or NaN when only one class is present."""
    labels = np.asarray(labels)
    if labels.size == 0 or labels.min() == labels.max():
        return float("nan")
    return float(roc_auc_score(labels, scores))


def gauc(users, labels, scores):
    """AUC per user weighted by the user's sample count (DIN paper); users with one class are left out."""
    frame = pd.DataFrame({"user": np.asarray(users), "label": np.asarray(labels, dtype=np.float64),
                          "rank": np.asarray(scores, dtype=np.float64)})
    frame["rank"] = frame.groupby("user")["rank"].rank(method="average")
    frame["pos_rank"] = frame["rank"] * frame["label"]
    per_user = frame.groupby("user").agg(n=("label", "size"), pos=("label", "sum"), pos_rank=("pos_rank", "sum"))
    per_user = per_user[(per_user["pos"] > 0) & (per_user["pos"] < per_user["n"])]
    if per_user.empty:
        return float("nan")
    neg = per_user["n"] - per_user["pos"]
    user_auc = (per_user["pos_rank"] - per_user["pos"] * (per_user["pos"] + 1) / 2) / (per_user["pos"] * neg)
    return float(np.average(user_auc, weights=per_user["n"]))


def log_loss(labels, probabilities):
    """Binary cross-entropy of the probabilities, clipped away from 0 and 1 so that one sure miss stays finite."""
    return float(sklearn_log_loss(labels, np.clip(np.asarray(probabilities, dtype=np.float64), 1e-7, 1 - 1e-7),
                                  labels=[0, 1]))
