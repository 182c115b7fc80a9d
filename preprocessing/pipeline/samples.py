"""Samples of a window: the distinct (user, item) pairs with an action in its interaction range,
labelled from its label range (buy: an order; interact: any action)."""
import dataclasses

import numpy as np

ORDER = 2  # action type of an order (purchase)


@dataclasses.dataclass
class WindowSamples:
    window: object  # windows.Window
    user: np.ndarray  # int32 [N], sorted (then by item)
    item: np.ndarray  # int32 [N]
    label_buy: np.ndarray  # bool [N]
    label_interact: np.ndarray  # bool [N]
    seq_end: np.ndarray  # int64 [N]: position after the user's last action in the feature range

    def __len__(self):
        return len(self.user)


def sorted_unique(values, kind=None):
    """np.unique of a 1-d array via one sort (faster than numpy's hash-based unique here); kind="stable"
    for values that are a few sorted runs (a concatenation of sorted arrays): timsort merges them,
    several times faster than the default sort."""
    values = np.sort(values, kind=kind)
    keep = np.empty(len(values), dtype=bool)
    keep[:1] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def is_in_sorted(values, sorted_reference):
    """bool mask: which values occur in the sorted array sorted_reference."""
    if not len(sorted_reference):
        return np.zeros(len(values), dtype=bool)
    found = np.minimum(np.searchsorted(sorted_reference, values), len(sorted_reference) - 1)
    return sorted_reference[found] == values


def window_samples(log, timeline, window, item_vocab_size):
    """WindowSamples of one window, from the ActionLog and the Timeline of the whole log."""
    return windows_samples(log, timeline, [window], item_vocab_size)[0]


def windows_samples(log, timeline, windows, item_vocab_size):
    """[WindowSamples] of each of windows, each as window_samples gives it. The sorted pairs of a range
    are made once (a window's label range is its newer neighbour's interaction range when the stride
    is the window's length), and the users' sequence ends are counted on from one feature end to the
    next rather than from the log's start each time."""
    made = {}

    def pairs(span, orders_only=False):
        if (span.start, span.stop, orders_only) not in made:
            user, item = log.user[span], log.item[span]
            if orders_only:
                bought = log.action[span] == ORDER
                user, item = user[bought], item[bought]
            made[span.start, span.stop, orders_only] = sorted_unique(user.astype(np.int64) * item_vocab_size + item)
        return made[span.start, span.stop, orders_only]

    ends = timeline.ends_before_each(log, [w.feature_end_ns for w in windows])

    result = []
    for window in windows:
        samples = pairs(log.between(*window.interaction_ns))
        label_range = log.between(*window.label_ns)
        user = (samples // item_vocab_size).astype(np.int32)
        result.append(WindowSamples(
            window=window, user=user, item=(samples % item_vocab_size).astype(np.int32),
            label_buy=is_in_sorted(samples, pairs(label_range, orders_only=True)),
            label_interact=is_in_sorted(samples, pairs(label_range)), seq_end=ends[window.feature_end_ns][user]))
    return result
