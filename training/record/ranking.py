"""Ranks within groups, as the forecast's lists and the list metrics order them."""
import numpy as np


def ranks(group, other, score):
    """int64 [N]: rank of each row within its group, 1 for the highest score; equal scores are
    ordered by the other index, so the same scores always give the same lists."""
    order = np.lexsort((other, -np.asarray(score, dtype=np.float64), group))
    sorted_group = np.asarray(group)[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = sorted_group[1:] != sorted_group[:-1]
    starts = np.maximum.accumulate(np.where(first, np.arange(len(order)), 0))
    result = np.empty(len(order), dtype=np.int64)
    result[order] = np.arange(len(order)) - starts + 1
    return result
