"""User–item pair features: what the user already did to the target item and to its category, how
often and how recently — the strongest purchase signal, given to every model explicitly.

For each sample of a window, from its feature range only (actions before the end of its
interaction range):
  - counts of each action type by the user on the target item and on the target's category, over a
    fixed look-back of LOOKBACK_DAYS days and over the interaction range. A fixed look-back, rather
    than everything since the log began, keeps an older window's counts comparable with a newer
    one's: the log's start says nothing about the user;
  - days since the user's last action on the item, on the category, since the last cart or follow
    and since the last order of the item (LOOKBACK_DAYS when none in the look-back);
  - whether a cart or follow of the item is still without a later order;
  - the user's activity: actions in the look-back and in the interaction range, and how many of the
    user's last RECENT_STEPS actions were on the item and on its category.
Counts enter as log(1 + count), as they are long-tailed; build_dataset standardises the columns with
the training split's statistics like the other dense features.
"""
import numpy as np

from preprocessing.sequences import gather

LOOKBACK_DAYS = 30
RECENT_STEPS = 20
DAY_NS = 86_400 * 10**9
ACTION_NAMES = {1: "browse", 2: "order", 3: "follow", 4: "comment", 5: "cart"}
BROWSE, ORDER, FOLLOW, CART = 1, 2, 3, 5

COLUMNS = tuple(
    [f"log_{scope}_{name}s_{span}" for scope in ("item", "cate") for span in ("lookback", "interaction")
     for name in ACTION_NAMES.values()]
    + ["days_since_item", "days_since_cate", "days_since_item_cart_or_follow", "days_since_item_order",
       "open_cart_or_follow", "log_user_actions_lookback", "log_user_actions_interaction",
       f"item_share_last_{RECENT_STEPS}", f"cate_share_last_{RECENT_STEPS}"])


def _positions(keys, sorted_keys):
    """(rows of sorted_keys that each key matches, bool mask of keys that match one)."""
    found = np.minimum(np.searchsorted(sorted_keys, keys), max(len(sorted_keys) - 1, 0))
    hit = sorted_keys[found] == keys if len(sorted_keys) else np.zeros(len(keys), dtype=bool)
    return found[hit], hit


def _action_counts(rows, actions, size):
    """int64 [size, 5]: how many actions of each type 1..5 fall on each row."""
    return np.bincount(rows * 6 + actions, minlength=size * 6).reshape(size, 6)[:, 1:]


def _last_times(rows, times, size):
    """int64 [size]: the latest time per row (times in non-decreasing order), -1 where none."""
    last = np.full(size, -1, dtype=np.int64)
    reversed_rows = rows[::-1]
    distinct, first_in_reverse = np.unique(reversed_rows, return_index=True)
    last[distinct] = times[::-1][first_in_reverse]
    return last


def _days_since(last, end_ns):
    days = (end_ns - last) / DAY_NS
    return np.where(last >= 0, np.minimum(days, LOOKBACK_DAYS), LOOKBACK_DAYS)


def pair_table(log, timeline, samples, item_cate, item_vocab_size, cate_vocab_size):
    """float32 [len(samples), len(COLUMNS)] for the samples of one window (sorted by user, then item)."""
    window = samples.window
    end = window.feature_end_ns
    n = len(samples)
    item_key = samples.user.astype(np.int64) * item_vocab_size + samples.item
    target_cate = item_cate[samples.item]
    cate_key_of_sample = samples.user.astype(np.int64) * cate_vocab_size + target_cate
    cate_keys, cate_row = np.unique(cate_key_of_sample, return_inverse=True)

    lookback = log.between(end - LOOKBACK_DAYS * DAY_NS, end)
    interaction = log.between(*window.interaction_ns)
    columns = []
    per_span = {}
    for span_name, span in (("lookback", lookback), ("interaction", interaction)):
        user, item, action = log.user[span], log.item[span], log.action[span].astype(np.int64)
        item_rows, item_hit = _positions(user.astype(np.int64) * item_vocab_size + item, item_key)
        cate_rows, cate_hit = _positions(user.astype(np.int64) * cate_vocab_size + item_cate[item], cate_keys)
        per_span[span_name] = (item_rows, item_hit, cate_rows, cate_hit, action)
        columns.append(("item", span_name, _action_counts(item_rows, action[item_hit], n)))
        columns.append(("cate", span_name, _action_counts(cate_rows, action[cate_hit], len(cate_keys))[cate_row]))
    counts = {(scope, span): table for scope, span, table in columns}
    table = [np.log1p(counts[(scope, span)]) for scope in ("item", "cate") for span in ("lookback", "interaction")]

    item_rows, item_hit, cate_rows, cate_hit, action = per_span["lookback"]
    times = log.time[lookback]
    item_times, item_actions = times[item_hit], action[item_hit]
    last_item = _last_times(item_rows, item_times, n)
    last_cate = _last_times(cate_rows, times[cate_hit], len(cate_keys))[cate_row]
    holds = (item_actions == CART) | (item_actions == FOLLOW)
    last_hold = _last_times(item_rows[holds], item_times[holds], n)
    ordered = item_actions == ORDER
    last_order = _last_times(item_rows[ordered], item_times[ordered], n)
    open_hold = (last_hold >= 0) & (last_hold > last_order)

    user_lookback = np.bincount(log.user[lookback], minlength=int(samples.user.max(initial=0)) + 1)
    user_interaction = np.bincount(log.user[interaction], minlength=len(user_lookback))
    recent_items, _ = gather(timeline, samples.user, samples.seq_end, RECENT_STEPS)
    recent_real = recent_items > 0
    item_share = ((recent_items == samples.item[:, None]) & recent_real).sum(1) / RECENT_STEPS
    cate_share = ((item_cate[recent_items] == target_cate[:, None]) & recent_real).sum(1) / RECENT_STEPS

    table.append(np.stack([
        _days_since(last_item, end), _days_since(last_cate, end), _days_since(last_hold, end),
        _days_since(last_order, end), open_hold,
        np.log1p(user_lookback[samples.user]), np.log1p(user_interaction[samples.user]),
        item_share, cate_share], axis=1))
    return np.concatenate(table, axis=1).astype(np.float32)
