import math

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from training.record.metrics import auc, gauc, purchase_metrics
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
    metrics = purchase_metrics(predictions, buy, interact, np.arange(5))
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
