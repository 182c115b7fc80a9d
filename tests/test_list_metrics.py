"""List metrics on small hand-made cases with known answers."""
import math

import numpy as np
import pytest

from training.record.metric_catalogue import CATALOGUE, measure
from training.record.ranking import ranks

# users 1..3, items 10, 20; two purchases: (1, 10) and (3, 20)
USER = np.array([1, 2, 3, 1, 3, 2])
ITEM = np.array([10, 10, 10, 20, 20, 20])
BUY = np.array([1, 0, 0, 0, 1, 0], dtype=np.float32)
SCORE = np.array([0.9, 0.8, 0.1, 0.7, 0.2, 0.6])
LIST_METRICS = [m.name for m in CATALOGUE if "dev" not in m.splits]  # the lists are judged on test only


def list_metrics(scores, buy, users, items):
    arrays = {"label_buy": buy, "label_interact": buy, "user": users, "item": items}
    return {name: value for name, value in measure({"main": scores}, arrays, "test").items() if name in LIST_METRICS}


def test_ranks_within_groups_break_ties_by_the_other_id():
    assert ranks(ITEM, USER, SCORE).tolist() == [1, 2, 3, 1, 3, 2]
    assert ranks(USER, ITEM, SCORE).tolist() == [1, 1, 2, 2, 1, 2]
    tied = np.array([0.5, 0.5, 0.5])
    assert ranks(np.array([7, 7, 7]), np.array([3, 1, 2]), tied).tolist() == [3, 1, 2]


def test_precision_and_recall_of_the_lists():
    result = list_metrics(SCORE, BUY, USER, ITEM)
    # each item's best user: (1, 10) bought, (1, 20) did not
    assert result["buyers_per_item_precision_at_1"] == 0.5 and result["buyers_per_item_recall_at_1"] == 0.5
    # each user's best item: user 1 -> 10 (bought), user 2 -> 10, user 3 -> 20 (bought)
    assert result["items_per_user_precision_at_1"] == pytest.approx(2 / 3)
    assert result["items_per_user_recall_at_1"] == 1.0
    # five per list lists every pair: the base rate and every buyer
    assert result["buyers_per_item_precision_at_5"] == pytest.approx(2 / 6)
    assert result["buyers_per_item_recall_at_5"] == 1.0


def test_share_of_buyers_in_the_top_scores():
    scores = np.linspace(1.0, 0.0, 200)
    buy = np.zeros(200)
    buy[[0, 3, 7, 15, 100]] = 1  # ranks 1, 4, 8, 16 and 101 of 200
    users, items = np.arange(200), np.zeros(200, dtype=int)
    result = list_metrics(scores, buy, users, items)
    assert result["buyers_in_top_1pct"] == pytest.approx(1 / 5)  # the top 2
    assert result["buyers_in_top_5pct"] == pytest.approx(3 / 5)  # the top 10
    assert result["buyers_in_top_10pct"] == pytest.approx(4 / 5)  # the top 20


def test_no_buyer_leaves_every_metric_undefined():
    result = list_metrics(SCORE, np.zeros(6), USER, ITEM)
    assert set(result) == set(LIST_METRICS) and all(math.isnan(v) for v in result.values())
