import math

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from training.record import metric_catalogue
from training.record.metric_catalogue import measure
from training.record.metrics import auc, gauc
from training.record.runs_log import mean_std, summary_table


def test_gauc_matches_a_per_user_weighted_average_of_sklearn_auc():
    rng = np.random.default_rng(3)
    users = rng.integers(0, 40, 3000)
    labels = (rng.random(3000) < 0.3).astype(float)
    scores = np.round(rng.random(3000) + 0.4 * labels, 1)  # rounding makes ties
    expected, weights = [], []
    for user in np.unique(users):
        mask = users == user
        if 0 < labels[mask].sum() < mask.sum():
            expected.append(roc_auc_score(labels[mask], scores[mask]))
            weights.append(mask.sum())
    assert gauc(users, labels, scores) == pytest.approx(np.average(expected, weights=weights))


def test_gauc_leaves_out_users_with_one_class():
    users = np.array([1, 1, 2, 2, 2])
    labels = np.array([1, 0, 0, 0, 0])
    assert gauc(users, labels, np.array([0.9, 0.1, 0.5, 0.6, 0.7])) == 1.0
    assert math.isnan(gauc(users[2:], labels[2:], np.array([0.5, 0.6, 0.7])))


def test_cvr_auc_uses_interacted_samples_only():
    buy = np.array([1, 0, 0, 1, 0])
    interact = np.array([1, 1, 0, 1, 0])
    cvr = np.array([0.9, 0.1, 0.99, 0.8, 0.95])  # the high scores sit on non-interacted samples
    ctr = np.array([0.2, 0.9, 0.9, 0.6, 0.1])
    predictions = {"main": cvr * ctr, "ctr": ctr, "cvr": cvr}  # main ranks unlike cvr and unlike ctr
    arrays = {"label_buy": buy, "label_interact": interact, "user": np.arange(5), "item": np.zeros(5)}
    metrics = measure(predictions, arrays, "dev")
    assert metrics["cvr_auc"] == 1.0
    assert metrics["main_auc"] == pytest.approx(2 / 3)
    assert auc(buy, cvr) == pytest.approx(1 / 3) and auc(buy, ctr) == pytest.approx(1 / 3)
    assert metrics["ctr_auc"] == auc(interact, ctr)


def test_seed_aggregation_is_mean_and_sample_std():
    assert mean_std([0.9, 0.92, 0.94]) == pytest.approx((0.92, 0.02))
    assert mean_std([0.9]) == (0.9, 0.0)
    rows = [{"dev_main_auc": 0.9, "test_main_auc": 0.8}, {"dev_main_auc": 0.92, "test_main_auc": 0.82}]
    table = summary_table(rows)
    assert "Main AUC" in table and "0.9100 ± 0.0141" in table and "0.8100 ± 0.0141" in table
    assert "CVR AUC" not in table


def test_runs_csv_keeps_the_metric_columns_of_earlier_versions():
    lists = [f"{name}_{kind}_at_{k}" for name in ("buyers_per_item", "items_per_user") for k in (1, 5)
             for kind in ("precision", "recall")]
    assert metric_catalogue.columns() == (
        [f"{split}_{m}" for split in ("dev", "test") for m in ("main_auc", "cvr_auc", "ctr_auc", "gauc", "logloss")]
        + [f"test_{name}" for name in lists] + [f"test_buyers_in_top_{p}pct" for p in (1, 5, 10)])


def test_a_metric_added_to_the_catalogue_is_measured_and_summarised(monkeypatch):
    share = metric_catalogue.Metric("buy_share", "buy share", lambda s: float(np.mean(s.arrays["label_buy"])), True)
    monkeypatch.setattr(metric_catalogue, "CATALOGUE", metric_catalogue.CATALOGUE + (share,))
    arrays = {"label_buy": np.array([1, 0, 0, 0]), "label_interact": np.array([1, 1, 0, 0]), "user": np.arange(4),
              "item": np.zeros(4)}
    measured = measure({"main": np.array([0.9, 0.2, 0.1, 0.3])}, arrays, "dev")
    assert measured["buy_share"] == 0.25 and measured["main_auc"] == 1.0 and "cvr_auc" not in measured
    table = summary_table([{"dev_buy_share": 0.25, "test_buy_share": 0.5}])
    assert "buy share" in table and "0.2500" in table and "0.5000" in table


def test_the_comparison_marks_the_best_model_by_each_metrics_direction():
    import pandas as pd

    from training.studies import comparison
    runs = pd.DataFrame({"dev_main_auc": [0.8, 0.7], "test_main_auc": [0.75, 0.78], "test_logloss": [0.2, 0.3],
                         "passes": [1.0, 2.0], "baseline": [False, False], "seeds": [1, 1]}, index=["A", "B"])
    lines = comparison.comparison_table(runs, {"test_main_auc": 0.99, "test_logloss": 0.01}).splitlines()
    marked = {line.split()[0]: line.count(comparison.BEST) for line in lines[1:]}
    assert marked["A"] == 2 and marked["B"] == 1, "A: dev AUC and the lower log loss; B: test AUC"
    assert comparison.BEST not in lines[-1], "the oracle is not a model"
