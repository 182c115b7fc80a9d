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
  - the user's activity: actions in the look-back and in the interaction range, days with an action
    in the look-back and in its last week, the user's carts and orders of any item (how readily the
    user buys), and how many of the user's last RECENT_STEPS actions were on the item and on its
    category;
  - the target item's own record with every user in the look-back: browses, carts and orders (how
    readily it converts);
  - the user's actions on the target's brand in the look-back, and how fresh the interest in the
    item and the category is: counts decayed by exp(-age / DECAY_DAYS), and the distinct items of
    the category the user looked at in the last INTENT_DAYS days (comparing items means shopping).
Counts enter as log(1 + count), as they are long-tailed; build_dataset standardises the columns with
the training split's statistics like the other dense features.
"""
import numpy as np
import pandas as pd

from preprocessing.samples import sorted_unique
from preprocessing.sequences import gather

LOOKBACK_DAYS = 30
RECENT_STEPS = 20
DECAY_DAYS = 3.0
INTENT_DAYS = 3
WEEK_DAYS = 7
DAY_NS = 86_400 * 10**9
ACTION_NAMES = {1: "browse", 2: "order", 3: "follow", 4: "comment", 5: "cart"}
BROWSE, ORDER, FOLLOW, CART = 1, 2, 3, 5

COLUMNS = tuple(
    [f"log_{scope}_{name}s_{span}" for scope in ("item", "cate") for span in ("lookback", "interaction")
     for name in ACTION_NAMES.values()]
    + ["days_since_item", "days_since_cate", "days_since_item_cart_or_follow", "days_since_item_order",
       "open_cart_or_follow", "log_user_actions_lookback", "log_user_actions_interaction",
       f"item_share_last_{RECENT_STEPS}", f"cate_share_last_{RECENT_STEPS}",
       "log_user_active_days_lookback", f"user_active_days_last_{WEEK_DAYS}", "log_user_carts_lookback",
       "log_user_orders_lookback", "log_item_all_browses_lookback", "log_item_all_carts_lookback",
       "log_item_all_orders_lookback", "log_brand_actions_lookback", "log_item_decayed_actions",
       "log_cate_decayed_actions", f"cate_items_last_{INTENT_DAYS}_days"])


def _positions(keys, distinct_keys):
    """(rows of distinct_keys that each key matches, bool mask of keys that match one); a hash look-up,
    several times faster here than a binary search of unsorted keys."""
    rows = pd.Index(distinct_keys).get_indexer(keys)
    hit = rows >= 0
    return rows[hit], hit


def _action_counts(rows, actions, size):
    """int64 [size, 5]: how many actions of each type 1..5 fall on each row."""
    return np.bincount(rows * 6 + actions, minlength=size * 6).reshape(size, 6)[:, 1:]


def _last_times(rows, times, size):
    """int64 [size]: the latest time per row, -1 where none."""
    last = np.full(size, -1, dtype=np.int64)
    np.maximum.at(last, rows, times)
    return last


def _days_since(last, end_ns):
    days = (end_ns - last) / DAY_NS
    return np.where(last >= 0, np.minimum(days, LOOKBACK_DAYS), LOOKBACK_DAYS)


def _keys(user, other, size):
    return user.astype(np.int64) * size + other


def _per_user(user_index, values, size):
    """float64 [size]: values summed per user index."""
    return np.bincount(user_index, weights=values, minlength=size)


def pair_table(log, timeline, samples, item_side, vocab_sizes):
    """float32 [len(samples), len(COLUMNS)] for the samples of one window (sorted by user, then item).
    item_side: {"cate": [item vocab], "brand": [item vocab]} side ids by item index."""
    window = samples.window
    end = window.feature_end_ns
    n = len(samples)
    item_cate, item_brand = item_side["cate"], item_side["brand"]
    item_size, cate_size, brand_size = vocab_sizes["item"], vocab_sizes["cate"], vocab_sizes["brand"]
    user_size = int(max(samples.user.max(initial=0), log.user.max(initial=0))) + 1
    item_key = _keys(samples.user, samples.item, item_size)
    target_cate = item_cate[samples.item]
    cate_keys, cate_row = np.unique(_keys(samples.user, target_cate, cate_size), return_inverse=True)

    # one look-up of every action in the look-back and the interaction range (usually inside it)
    lookback_start, interaction_start = end - LOOKBACK_DAYS * DAY_NS, window.interaction_ns[0]
    span = log.between(min(lookback_start, interaction_start), end)
    span_user, span_item, all_action, times = (log.user[span], log.item[span], log.action[span].astype(np.int64),
                                               log.time[span])
    everyone = times >= lookback_start
    item_actions_all = np.bincount(span_item[everyone].astype(np.int64) * 6 + all_action[everyone],
                                   minlength=item_size * 6).reshape(item_size, 6)
    # every other column reads only the actions of the users with samples in this window
    has_samples = np.zeros(user_size, dtype=bool)
    has_samples[samples.user] = True
    theirs = has_samples[span_user]
    span_user, span_item, all_action, times = span_user[theirs], span_item[theirs], all_action[theirs], times[theirs]
    all_item_rows, all_item_hit = _positions(_keys(span_user, span_item, item_size), item_key)
    all_cate_rows, all_cate_hit = _positions(_keys(span_user, item_cate[span_item], cate_size), cate_keys)
    counts = {}
    for span_name, start in (("lookback", lookback_start), ("interaction", interaction_start)):
        inside = times >= start
        item_in, cate_in = inside[all_item_hit], inside[all_cate_hit]
        counts[("item", span_name)] = _action_counts(all_item_rows[item_in], all_action[all_item_hit & inside], n)
        counts[("cate", span_name)] = _action_counts(
            all_cate_rows[cate_in], all_action[all_cate_hit & inside], len(cate_keys))[cate_row]
    table = [np.log1p(counts[(scope, span)]) for scope in ("item", "cate") for span in ("lookback", "interaction")]

    in_lookback = times >= lookback_start
    user, item, action, times = span_user[in_lookback], span_item[in_lookback], all_action[in_lookback], times[in_lookback]
    item_hit, cate_hit = all_item_hit[in_lookback], all_cate_hit[in_lookback]
    item_rows, cate_rows = all_item_rows[in_lookback[all_item_hit]], all_cate_rows[in_lookback[all_cate_hit]]
    item_times, item_actions = times[item_hit], action[item_hit]
    last_item = _last_times(item_rows, item_times, n)
    last_cate = _last_times(cate_rows, times[cate_hit], len(cate_keys))[cate_row]
    holds = (item_actions == CART) | (item_actions == FOLLOW)
    last_hold = _last_times(item_rows[holds], item_times[holds], n)
    ordered = item_actions == ORDER
    last_order = _last_times(item_rows[ordered], item_times[ordered], n)
    open_hold = (last_hold >= 0) & (last_hold > last_order)

    user_lookback = np.bincount(user, minlength=user_size)
    user_interaction = np.bincount(log.user[log.between(interaction_start, end)], minlength=user_size)
    recent_items, _ = gather(timeline, samples.user, samples.seq_end, RECENT_STEPS)
    recent_real = recent_items > 0
    item_share = ((recent_items == samples.item[:, None]) & recent_real).sum(1) / RECENT_STEPS
    cate_share = ((item_cate[recent_items] == target_cate[:, None]) & recent_real).sum(1) / RECENT_STEPS

    day = (end - times - 1) // DAY_NS  # 0: the last day of the feature range
    # [user, day back] action counts of the look-back: a bincount, not a sort of every action
    active = np.bincount(_keys(user, day, LOOKBACK_DAYS), minlength=user_size * LOOKBACK_DAYS).reshape(
        user_size, LOOKBACK_DAYS) > 0
    days_active, week_active = active.sum(1), active[:, :WEEK_DAYS].sum(1)
    user_actions = np.bincount(user * 6 + action, minlength=user_size * 6).reshape(user_size, 6)

    brand_keys, brand_row = np.unique(_keys(samples.user, item_brand[samples.item], brand_size), return_inverse=True)
    known_brand = item_brand[item] > 0
    brand_rows, brand_hit = _positions(_keys(user[known_brand], item_brand[item][known_brand], brand_size), brand_keys)
    brand_actions = np.bincount(brand_rows, minlength=len(brand_keys))[brand_row]
    brand_actions[item_brand[samples.item] == 0] = 0

    decay = np.exp(-(end - times) / (DECAY_DAYS * DAY_NS))
    item_decayed = np.bincount(item_rows, weights=decay[item_hit], minlength=n)
    cate_decayed = np.bincount(cate_rows, weights=decay[cate_hit], minlength=len(cate_keys))[cate_row]
    fresh = day < INTENT_DAYS
    looked_at = sorted_unique(_keys(user[fresh], item[fresh], item_size))
    fresh_rows, _ = _positions(_keys(looked_at // item_size, item_cate[looked_at % item_size], cate_size),
                                       cate_keys)
    cate_items = np.bincount(fresh_rows, minlength=len(cate_keys))[cate_row]

    target_all = item_actions_all[samples.item]
    table.append(np.stack([
        _days_since(last_item, end), _days_since(last_cate, end), _days_since(last_hold, end),
        _days_since(last_order, end), open_hold,
        np.log1p(user_lookback[samples.user]), np.log1p(user_interaction[samples.user]),
        item_share, cate_share,
        np.log1p(days_active[samples.user]), week_active[samples.user],
        np.log1p(user_actions[samples.user, CART]), np.log1p(user_actions[samples.user, ORDER]),
        np.log1p(target_all[:, BROWSE]), np.log1p(target_all[:, CART]), np.log1p(target_all[:, ORDER]),
        np.log1p(brand_actions), np.log1p(item_decayed), np.log1p(cate_decayed), cate_items], axis=1))
    return np.concatenate(table, axis=1).astype(np.float32)
