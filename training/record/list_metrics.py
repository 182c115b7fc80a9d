"""How good the ranked lists are where the outcome is known (a run's test split), read as an analyst
would use the forecast's lists:

- buyers per item @K: each item's K highest-scored users. Precision: buying pairs among all listed
  pairs; recall: listed buying pairs among all buying pairs. Pooled over the items, so an item with
  fewer than K candidate users lists them all and costs no empty slots.
- items per user @K: the same with each user's K highest-scored items.
- buyers in the top 1%, 5%, 10%: the share of all buying pairs among the highest-scored 1%, 5%, 10%
  of pairs (the lift is that share over the fraction).
Equal scores are ordered by the other id, as in the forecast, so the figures are reproducible. Each
figure is a metric of training/record/metric_catalogue.py, measured on test.
"""
import math

import numpy as np

from training.record.ranking import ranks

LIST_K = (1, 5)
TOP_FRACTIONS = (0.01, 0.05, 0.10)
LISTS = {"buyers_per_item": ("item", "user"), "items_per_user": ("user", "item")}  # list: (grouped by, ranked)


def _bought(scored):
    return scored.shared("bought", lambda: np.asarray(scored.arrays["label_buy"]) > 0)


def list_figure(scored, name, kind, k):
    """"precision" or "recall" of the list `name` at k for a metric_catalogue.Scored split; NaN
    where the split has no buyer."""
    group, ranked = LISTS[name]
    rank = scored.shared(name, lambda: ranks(np.asarray(scored.arrays[group]), np.asarray(scored.arrays[ranked]),
                                             scored.main))
    bought = _bought(scored)
    buyers = int(bought.sum())
    if not buyers:
        return math.nan
    listed = rank <= k
    hits = int((bought & listed).sum())
    return hits / max(int(listed.sum()), 1) if kind == "precision" else hits / buyers


def buyers_in_top(scored, fraction):
    """The share of all buying pairs among the highest-scored `fraction` of pairs; NaN without a buyer."""
    bought = _bought(scored)
    buyers = int(bought.sum())
    if not buyers:
        return math.nan
    order = scored.shared("order", lambda: np.lexsort((np.asarray(scored.arrays["item"]),
                                                       np.asarray(scored.arrays["user"]), -scored.main)))
    return float(bought[order[:math.ceil(fraction * len(order))]].sum()) / buyers
