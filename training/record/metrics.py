"""Exact evaluation metrics: AUC (scikit-learn), per-user GAUC and log loss.

Main AUC scores the purchase probability (pCTCVR for ESSM, ESCM2) against buys; CTR AUC scores pCTR against
interactions; CVR AUC scores pCVR against buys on interacted samples only, where it is defined.
"""
import numpy as np
import pandas as pd
from sklearn.metrics import log_loss, roc_auc_score


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


def purchase_metrics(predictions, label_buy, label_interact, users):
    """Every reported metric for one split; CTR and CVR AUC only when the model predicts them."""
    main = np.asarray(predictions["main"], dtype=np.float64)
    result = {
        "main_auc": auc(label_buy, main),
        "gauc": gauc(users, label_buy, main),
        "logloss": float(log_loss(label_buy, np.clip(main, 1e-7, 1 - 1e-7), labels=[0, 1])),
    }
    if "ctr" in predictions:
        result["ctr_auc"] = auc(label_interact, predictions["ctr"])
        interacted = np.asarray(label_interact) > 0
        result["cvr_auc"] = auc(np.asarray(label_buy)[interacted], np.asarray(predictions["cvr"])[interacted])
    return result
