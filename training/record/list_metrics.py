"""How good the ranked lists are where the outcome is known (a run's test split), read as an analyst
would use the forecast's lists:

- buyers per item @K: each item's K highest-scored users. Precision: buying pairs among all listed
  pairs; recall: listed buying pairs among all buying pairs. Pooled over the items, so an item with
  fewer than K candidate users lists them all and costs no empty slots.
- items per user @K: the same with each user's K highest-scored items.
- buyers in the top 1%, 5%, 10%: the share of all buying pairs among the highest-scored 1%, 5%, 10%
  of pairs (the lift is that share over the fraction).
Equal scores are ordered by the other id, as in the forecast, so the figures are reproducible.
"""
import math

import numpy as np

from training.record.ranking import ranks

LIST_K = (1, 5)
TOP_FRACTIONS = (0.01, 0.05, 0.10)
LISTS = {"buyers_per_item": ("item", "user"), "items_per_user": ("user", "item")}  # list: (grouped by, ranked)
LIST_METRICS = tuple(
    [f"{name}_{kind}_at_{k}" for name in LISTS for k in LIST_K for kind in ("precision", "recall")]
    + [f"buyers_in_top_{round(f * 100)}pct" for f in TOP_FRACTIONS])
TITLES = {**{f"{name}_{kind}_at_{k}": f"{name.replace('_', ' ')} {kind[0].upper()}@{k}"
             for name in LISTS for k in LIST_K for kind in ("precision", "recall")},
          **{f"buyers_in_top_{round(f * 100)}pct": f"buyers in top {round(f * 100)}%" for f in TOP_FRACTIONS}}


def list_metrics(scores, label_buy, user, item):
    """{LIST_METRICS name: value} for one split; NaN where the split has no buyer."""
    bought = np.asarray(label_buy) > 0
    score = np.asarray(scores, dtype=np.float64)
    user, item = np.asarray(user), np.asarray(item)
    columns = {"user": user, "item": item}
    buyers = int(bought.sum())
    result = {}
    for name, (group, ranked) in LISTS.items():
        rank = ranks(columns[group], columns[ranked], score)
        for k in LIST_K:
            listed = rank <= k
            hits = int((bought & listed).sum())
            result[f"{name}_precision_at_{k}"] = hits / max(int(listed.sum()), 1) if buyers else math.nan
            result[f"{name}_recall_at_{k}"] = hits / buyers if buyers else math.nan
    order = np.lexsort((item, user, -score))
    for fraction in TOP_FRACTIONS:
        top = order[:math.ceil(fraction * len(score))]
        result[f"buyers_in_top_{round(fraction * 100)}pct"] = float(bought[top].sum()) / buyers if buyers else math.nan
    return result
