"""The baselines a careful analyst tries first, fitted and scored like any registry model.

RULE: score = carts + 0.5 × follows + 0.1 × browses of the target item by the user over the pair
      features' look-back, + 0.01 / (1 + days since the user's last action on it). Not trained: a
      one-feature logistic regression on train only turns the score into a probability (a monotone
      map, so its AUC is the rule's own).
GBDT: scikit-learn's HistGradientBoostingClassifier over the dense and pair features and the side
      ids of small vocabularies (as categories), early-stopped on the dev split's log loss.
LR:   scikit-learn's LogisticRegression over the dense and pair features (already standardised on
      train), its L2 strength chosen on the dev split's Main AUC: the linear model every network's
      features allow, so a network below it has not learnt what its inputs hold.
All three read the processed arrays and return {"main": p_buy} like the networks. fit() returns
their fitting iterations (runs.csv's fit_iterations): RULE's and LR's solver iterations, GBDT's
boosting rounds; they are not passes over the data, which a baseline's row leaves empty.

A fitted baseline's state is JSON (state(), restore()), kept as baseline.json in its run's folder so the
forecast can score with it: RULE and LR hold their coefficients; GBDT holds the settings and seed it
was fitted with and is refitted on the run's own train and dev splits when restored. Its fit is
deterministic for a given seed and data (scikit-learn's binning and early stopping draw from
random_state only), and saved_run checks the refit against the run's recorded test predictions, so a
refit that differs is refused rather than used. Trees are not stored: scikit-learn offers no format for
them but pickle.
"""
import json
import os
from pathlib import Path

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from errors import PipelineError
from preprocessing.processed_data import dense_column_names

RULE_WEIGHTS = {"log_item_carts_lookback": 1.0, "log_item_follows_lookback": 0.5,
                "log_item_browses_lookback": 0.1}
RULE_RECENCY = ("days_since_item", 0.01)
MAX_CATEGORIES = 255  # HistGradientBoosting's limit on the categories of one feature
GBDT_SETTINGS = {"learning_rate": 0.05, "max_iter": 500, "max_leaf_nodes": 31, "l2_regularization": 1.0,
                 "n_iter_no_change": 20}


def _pair_column(arrays, meta, name):
    """A pair-feature column in its own units (the arrays hold it standardised)."""
    columns = dense_column_names(meta, "pair")
    if name not in columns:
        raise PipelineError(f"meta.json: no pair feature {name!r}; rebuild the processed data "
                            "(sh scr/pre_processing.sh)")
    index = columns.index(name)
    return np.asarray(arrays["pair"][:, index], np.float64) * meta["pair"]["std"][index] + meta["pair"]["mean"][index]


def rule_score(arrays, meta):
    """The rule's score of every sample, float64 [N]."""
    score = sum(weight * np.expm1(_pair_column(arrays, meta, name)) for name, weight in RULE_WEIGHTS.items())
    name, weight = RULE_RECENCY
    return score + weight / (1.0 + _pair_column(arrays, meta, name))


class RuleBaseline:
    def __init__(self, meta, seed):
        self.meta = meta
        self.calibration = LogisticRegression()

    def _score(self, arrays):
        return np.log1p(rule_score(arrays, self.meta))[:, None]

    def fit(self, train, dev):
        self.calibration.fit(self._score(train), np.asarray(train["label_buy"]))
        return {"iterations": int(np.max(self.calibration.n_iter_))}

    def predict(self, arrays):
        return {"main": self.calibration.predict_proba(self._score(arrays))[:, 1]}

    def state(self):
        return {"coef": self.calibration.coef_.tolist(), "intercept": self.calibration.intercept_.tolist()}

    def restore(self, state, load_training):
        self.calibration = fitted_logistic(state)


def gbdt_columns(meta):
    """(sparse feature names used as categories, names of the dense arrays) for GBDT: the side ids of
    vocabularies small enough to be categories (not user or item ids), and every dense feature."""
    sparse = [f["name"] for f in meta["features"] if f["kind"] == "sparse"
              and f["group"] != "target" and meta["vocab_sizes"][f["vocab"]] <= MAX_CATEGORIES]
    sparse += [f["name"] for f in meta["features"] if f["kind"] == "sparse" and f["group"] == "target"
               and f["name"] != "item" and meta["vocab_sizes"][f["vocab"]] <= MAX_CATEGORIES]
    dense = [f["name"] for f in meta["features"] if f["kind"] == "dense"]
    return sparse, dense


class GBDTBaseline:
    def __init__(self, meta, seed):
        self.sparse, self.dense = gbdt_columns(meta)
        self.model = HistGradientBoostingClassifier(
            **GBDT_SETTINGS, early_stopping=True, categorical_features=list(range(len(self.sparse))),
            random_state=seed)

    def _matrix(self, arrays):
        return np.concatenate([np.stack([np.asarray(arrays[n], np.float64) for n in self.sparse], axis=1)
                               if self.sparse else np.zeros((len(arrays["label_buy"]), 0))]
                              + [np.asarray(arrays[n], np.float64) for n in self.dense], axis=1)

    def fit(self, train, dev):
        self.model.fit(self._matrix(train), np.asarray(train["label_buy"]),
                       X_val=self._matrix(dev), y_val=np.asarray(dev["label_buy"]))
        return {"iterations": int(self.model.n_iter_)}

    def predict(self, arrays):
        return {"main": self.model.predict_proba(self._matrix(arrays))[:, 1]}

    def state(self):
        return {"refit": "train and dev of the run's processed data", "settings": GBDT_SETTINGS,
                "n_iter": int(self.model.n_iter_)}

    def restore(self, state, load_training):
        self.fit(*load_training())
        if int(self.model.n_iter_) != state["n_iter"]:
            raise PipelineError(f"GBDT refit: {self.model.n_iter_} trees, the run had {state['n_iter']}; "
                                "the processed data or scikit-learn changed since the run")


LR_STRENGTHS = (1e-3, 1e-2, 1e-1, 1.0, 10.0)  # inverse L2 strengths C tried, weakest last


def dense_matrix(arrays, meta):
    """float64 [N, D]: every dense feature of the samples side by side."""
    return np.concatenate([np.asarray(arrays[f["name"]], np.float64) for f in meta["features"]
                           if f["kind"] == "dense"], axis=1)


class LRBaseline:
    def __init__(self, meta, seed):
        self.meta = meta
        self.seed = seed
        self.model = None
        self.choice = {}

    def fit(self, train, dev):
        x_train, y_train = dense_matrix(train, self.meta), np.asarray(train["label_buy"])
        x_dev, y_dev = dense_matrix(dev, self.meta), np.asarray(dev["label_buy"])
        best = -np.inf
        for strength in LR_STRENGTHS:
            model = LogisticRegression(C=strength, max_iter=1000, random_state=self.seed).fit(x_train, y_train)
            auc = roc_auc_score(y_dev, model.predict_proba(x_dev)[:, 1])
            if auc > best:
                best, self.model, self.choice = auc, model, {"C": strength, "dev_auc": auc}
        return {"iterations": int(np.max(self.model.n_iter_))}

    def predict(self, arrays):
        return {"main": self.model.predict_proba(dense_matrix(arrays, self.meta))[:, 1]}

    def state(self):
        return {"coef": self.model.coef_.tolist(), "intercept": self.model.intercept_.tolist(), **self.choice}

    def restore(self, state, load_training):
        self.model = fitted_logistic(state)
        self.choice = {"C": state["C"], "dev_auc": state["dev_auc"]}


def fitted_logistic(state):
    """A LogisticRegression holding the coefficients of a state (binary labels 0, 1)."""
    model = LogisticRegression()
    model.coef_ = np.asarray(state["coef"], np.float64)
    model.intercept_ = np.asarray(state["intercept"], np.float64)
    model.classes_ = np.array([0, 1])
    return model


BASELINE_CLASSES = {"RULE": RuleBaseline, "GBDT": GBDTBaseline, "LR": LRBaseline}


def make_baseline(name, meta, seed):
    return BASELINE_CLASSES[name](meta, seed)


STATE_FILE = "baseline.json"


def save_baseline(run_dir, name, seed, baseline):
    """Writes the fitted baseline's state to run_dir/baseline.json (a temporary file renamed)."""
    path = Path(run_dir) / STATE_FILE
    partial = path.with_name(f".{STATE_FILE}.partial-{os.getpid()}")
    partial.write_text(json.dumps({"model": name, "seed": seed, "state": baseline.state()}) + "\n")
    partial.rename(path)


def load_baseline(run_dir, meta, load_training):
    """The baseline of a run folder, restored from its baseline.json; load_training() gives the
    run's (train, dev) arrays when the baseline is refitted (GBDT)."""
    path = Path(run_dir) / STATE_FILE
    try:
        saved = json.loads(path.read_text())
        name, seed, state = saved["model"], saved["seed"], saved["state"]
    except (OSError, ValueError, KeyError, TypeError):
        raise PipelineError(f"{path}: missing or unreadable; refit the baseline (python main_func.py model=...) "
                            "to forecast with it") from None
    baseline = make_baseline(name, meta, seed)
    baseline.restore(state, load_training)
    return baseline
