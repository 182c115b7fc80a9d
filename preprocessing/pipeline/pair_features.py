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

All windows are computed together, each action of the log looked up once: the look-backs of
neighbouring windows overlap (five-day strides, 30-day look-backs), and reading every window's
look-back on its own read most actions several times over. Each action is matched once against the
(user, item), (user, category) and (user, brand) keys of every window's samples; the matched
actions stay in time order, so a window's look-back is one contiguous slice of them, and a table
[window, key] gives each match its row in that window (or none). One level of keys is done for
every window before the next, so only one level's matches are held at a time. The user's active
days come from one [user, day] table of the log.
"""
import dataclasses

import numpy as np
import pandas as pd

from preprocessing.pipeline.samples import sorted_unique
from preprocessing.pipeline.sequences import gather, user_runs

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


@dataclasses.dataclass
class _Matched:
    """The actions of the span that fall on a key of some window's samples, in time order."""
    rows: np.ndarray  # int32 [windows, distinct keys]: each key's row among a window's keys, -1 where absent
    key: np.ndarray  # int32 [M]: each matched action's key, as an index into the distinct keys
    action: np.ndarray  # int8 [M]
    time: np.ndarray  # int64 [M], non-decreasing
    item: np.ndarray  # int32 [M], or None where not asked for

    def part(self, window, start_ns, end_ns):
        """(rows, actions, times, items) of the matched actions in [start_ns, end_ns) whose key is one
        of window's (rows: their rows among its keys)."""
        lo, hi = np.searchsorted(self.time, [start_ns, end_ns]).tolist()
        rows = self.rows[window][self.key[lo:hi]]
        mine = rows >= 0
        items = None if self.item is None else self.item[lo:hi][mine]
        return rows[mine], self.action[lo:hi][mine], self.time[lo:hi][mine], items

    def parts(self, window, starts, end_ns):
        """part(window, start, end_ns) for each of starts, as views of one part from the earliest
        start (the interaction range lies inside the look-back: it is not gathered twice)."""
        whole = self.part(window, min(starts), end_ns)
        for start in starts:
            keep = slice(int(np.searchsorted(whole[2], start)), None)
            yield tuple(None if column is None else column[keep] for column in whole)


def _match(window_keys, keys, action, time, item=None):
    """_Matched of the span's actions (keys: one int64 key each) against each window's distinct,
    sorted keys: one hash look-up per action whatever the number of windows (item: kept for the
    matched actions when given)."""
    distinct = sorted_unique(np.concatenate(window_keys), kind="stable")
    rows = np.full((len(window_keys), len(distinct)), -1, dtype=np.int32)
    for window, mine in enumerate(window_keys):
        rows[window, np.searchsorted(distinct, mine)] = np.arange(len(mine), dtype=np.int32)
    found = pd.Index(distinct).get_indexer(keys)
    hit = found >= 0
    return _Matched(rows, found[hit].astype(np.int32), action[hit], time[hit], None if item is None else item[hit])


def _action_counts(rows, actions, size):
    """int64 [size, 5]: how many actions of each type 1..5 fall on each row."""
    return np.bincount(rows.astype(np.int64) * 6 + actions, minlength=size * 6).reshape(size, 6)[:, 1:]


def _last_times(rows, times, size):
    """int64 [size]: the latest time per row, -1 where none."""
    last = np.full(size, -1, dtype=np.int64)
    np.maximum.at(last, rows, times)
    return last


def _days_since(last, end_ns):
    days = (end_ns - last) / DAY_NS
    return np.where(last >= 0, np.minimum(days, LOOKBACK_DAYS), LOOKBACK_DAYS)


def _decayed(rows, times, end_ns, size):
    """float64 [size]: exp(-age / DECAY_DAYS) summed per row."""
    return np.bincount(rows, weights=np.exp(-(end_ns - times) / (DECAY_DAYS * DAY_NS)), minlength=size)


def _keys(user, other, size):
    return user.astype(np.int64) * size + other


def _between(times, start_ns, end_ns):
    return slice(*np.searchsorted(times, [start_ns, end_ns]).tolist())


def pair_tables(log, timeline, windows, item_side, vocab_sizes):
    """[float32 [len(samples), len(COLUMNS)]] for the WindowSamples of each window in windows (each
    sorted by user, then item). item_side: {"cate": [item vocab], "brand": [item vocab]} side ids by
    item index. One level of keys at a time (item, category, brand, user), so that only one level's
    matched actions are held."""
    if not windows:
        return []
    ends = [s.window.feature_end_ns for s in windows]
    first = min([end - LOOKBACK_DAYS * DAY_NS for end in ends] + [s.window.interaction_ns[0] for s in windows])
    span = log.between(first, max(ends))
    # filled a column at a time, so held column by column until the end: writing a column of the
    # row-major table touched a cache line per row, 40 passes over it
    tables = [np.empty((len(COLUMNS), len(s)), dtype=np.float32) for s in windows]
    _item_columns(log, span, windows, tables, vocab_sizes["item"])
    _category_columns(log, span, windows, tables, item_side["cate"], vocab_sizes)
    _brand_and_everyone_columns(log, span, windows, tables, item_side["brand"], vocab_sizes)
    _user_columns(log, timeline, span, first, windows, tables, item_side["cate"])
    for index, table in enumerate(tables):
        tables[index] = np.ascontiguousarray(table.T)  # one window's copy at a time
    return tables


def _put(table, name, values):
    table[COLUMNS.index(name)] = values


def _count_columns(table, scope, span, counts):
    at = COLUMNS.index(f"log_{scope}_{ACTION_NAMES[1]}s_{span}")
    table[at:at + len(ACTION_NAMES)] = np.log1p(counts).T


def _lookback(window_samples):
    end = window_samples.window.feature_end_ns
    return end - LOOKBACK_DAYS * DAY_NS, window_samples.window.interaction_ns[0], end


def _item_columns(log, span, windows, tables, item_size):
    """What the user did to the target item: counts, recency, an open cart or follow, decayed counts."""
    user, item = log.user[span], log.item[span]
    items = _match([_keys(s.user, s.item, item_size) for s in windows], _keys(user, item, item_size),
                   log.action[span], log.time[span])
    for index, (samples, table) in enumerate(zip(windows, tables)):
        lookback_start, interaction_start, end = _lookback(samples)
        n = len(samples)
        (rows, actions, times, _), (interaction_rows, interaction_actions, _, _) = items.parts(
            index, (lookback_start, interaction_start), end)
        _count_columns(table, "item", "lookback", _action_counts(rows, actions, n))
        _count_columns(table, "item", "interaction", _action_counts(interaction_rows, interaction_actions, n))
        holds = (actions == CART) | (actions == FOLLOW)
        last_hold = _last_times(rows[holds], times[holds], n)
        ordered = actions == ORDER
        last_order = _last_times(rows[ordered], times[ordered], n)
        _put(table, "days_since_item", _days_since(_last_times(rows, times, n), end))
        _put(table, "days_since_item_cart_or_follow", _days_since(last_hold, end))
        _put(table, "days_since_item_order", _days_since(last_order, end))
        _put(table, "open_cart_or_follow", (last_hold >= 0) & (last_hold > last_order))
        _put(table, "log_item_decayed_actions", np.log1p(_decayed(rows, times, end, n)))


def _category_columns(log, span, windows, tables, item_cate, vocab_sizes):
    """What the user did in the target's category: counts, recency, decayed counts, distinct items lately."""
    item_size, cate_size = vocab_sizes["item"], vocab_sizes["cate"]
    user, item = log.user[span], log.item[span]
    cate_keys = [np.unique(_keys(s.user, item_cate[s.item], cate_size), return_inverse=True) for s in windows]
    cates = _match([keys for keys, _ in cate_keys], _keys(user, item_cate[item], cate_size),
                   log.action[span], log.time[span], item)
    for index, (samples, table) in enumerate(zip(windows, tables)):
        lookback_start, interaction_start, end = _lookback(samples)
        keys, row = cate_keys[index]
        (rows, actions, times, items), (interaction_rows, interaction_actions, _, _) = cates.parts(
            index, (lookback_start, interaction_start), end)
        _count_columns(table, "cate", "lookback", _action_counts(rows, actions, len(keys))[row])
        _count_columns(table, "cate", "interaction",
                       _action_counts(interaction_rows, interaction_actions, len(keys))[row])
        _put(table, "days_since_cate", _days_since(_last_times(rows, times, len(keys))[row], end))
        _put(table, "log_cate_decayed_actions", np.log1p(_decayed(rows, times, end, len(keys))[row]))
        fresh = times >= end - INTENT_DAYS * DAY_NS
        looked_at = sorted_unique(_keys(rows[fresh], items[fresh], item_size))
        _put(table, f"cate_items_last_{INTENT_DAYS}_days",
             np.bincount(looked_at // item_size, minlength=len(keys))[row])


def _brand_and_everyone_columns(log, span, windows, tables, item_brand, vocab_sizes):
    """The user's actions on the target's brand, and the target item's record with every user."""
    item_size, brand_size = vocab_sizes["item"], vocab_sizes["brand"]
    user, item, action, time = log.user[span], log.item[span], log.action[span], log.time[span]
    # unknown brands (0) are matched too, as a key like any other: their samples' counts are set to 0
    brand_keys = [np.unique(_keys(s.user, item_brand[s.item], brand_size), return_inverse=True) for s in windows]
    brands = _match([keys for keys, _ in brand_keys], _keys(user, item_brand[item], brand_size), action, time)
    everyone_key = item * 6 + action  # int32: 6 x the item vocabulary stays far below 2**31
    for index, (samples, table) in enumerate(zip(windows, tables)):
        lookback_start, _, end = _lookback(samples)
        keys, row = brand_keys[index]
        rows, _, _, _ = brands.part(index, lookback_start, end)
        brand_actions = np.bincount(rows, minlength=len(keys))[row]
        brand_actions[item_brand[samples.item] == 0] = 0
        _put(table, "log_brand_actions_lookback", np.log1p(brand_actions))
        lookback = _between(time, lookback_start, end)
        everyone = np.bincount(everyone_key[lookback], minlength=item_size * 6).reshape(item_size, 6)[samples.item]
        for code, name in ((BROWSE, "browses"), (CART, "carts"), (ORDER, "orders")):
            _put(table, f"log_item_all_{name}_lookback", np.log1p(everyone[:, code]))


def _user_columns(log, timeline, span, first, windows, tables, item_cate):
    """The user's activity: actions, active days, carts and orders, and the last RECENT_STEPS actions."""
    user_size = len(timeline.start) - 1
    user, action, time = log.user[span], log.action[span], log.time[span]
    # [user, day of the span] whether the user acted; the span starts at midnight like every window edge
    last_days = [(s.window.feature_end_ns - first) // DAY_NS for s in windows]
    active = np.zeros((user_size, max(last_days)), dtype=bool)
    active.reshape(-1)[_keys(user, (time - first) // DAY_NS, active.shape[1])] = True
    carts, orders = action == CART, action == ORDER
    cart_user, cart_time, order_user, order_time = user[carts], time[carts], user[orders], time[orders]
    del carts, orders
    for index, (samples, table) in enumerate(zip(windows, tables)):
        lookback_start, interaction_start, end = _lookback(samples)
        of_sample = samples.user
        user_lookback = np.bincount(user[_between(time, lookback_start, end)], minlength=user_size)
        user_interaction = np.bincount(log.user[log.between(interaction_start, end)], minlength=user_size)
        user_carts = np.bincount(cart_user[_between(cart_time, lookback_start, end)], minlength=user_size)
        user_orders = np.bincount(order_user[_between(order_time, lookback_start, end)], minlength=user_size)
        _put(table, "log_user_actions_lookback", np.log1p(user_lookback[of_sample]))
        _put(table, "log_user_actions_interaction", np.log1p(user_interaction[of_sample]))
        _put(table, "log_user_carts_lookback", np.log1p(user_carts[of_sample]))
        _put(table, "log_user_orders_lookback", np.log1p(user_orders[of_sample]))

        # active days per run of one user's samples, then repeated over the run
        starts, repeats = user_runs(of_sample)
        active_days = active[of_sample[starts], last_days[index] - LOOKBACK_DAYS:last_days[index]]
        _put(table, "log_user_active_days_lookback", np.log1p(np.repeat(active_days.sum(1), repeats)))
        _put(table, f"user_active_days_last_{WEEK_DAYS}",
             np.repeat(active_days[:, LOOKBACK_DAYS - WEEK_DAYS:].sum(1), repeats))

        recent_items, _ = gather(timeline, of_sample, samples.seq_end, RECENT_STEPS)
        recent_real = recent_items > 0
        _put(table, f"item_share_last_{RECENT_STEPS}",
             ((recent_items == samples.item[:, None]) & recent_real).sum(1) / RECENT_STEPS)
        target_cate = item_cate[samples.item]
        _put(table, f"cate_share_last_{RECENT_STEPS}",
             ((item_cate[recent_items] == target_cate[:, None]) & recent_real).sum(1) / RECENT_STEPS)
