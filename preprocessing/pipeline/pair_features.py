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

All windows are computed together, each action of the look-back span read once per level of keys
(item, category, brand): the look-backs of neighbouring windows overlap (five-day strides, 30-day
look-backs), and reading every window's look-back on its own read most actions several times over.
The span is taken a block of users at a time, in user-major order (each user's actions in time
order), and each window's samples of those users are one slice of its rows (samples are sorted by
user): the block's keys, look-ups and counts stay in the cache, where matching the whole span in
time order missed it at every action of a large log. In a block, each action is matched once
against the sorted keys of every window's samples; a bit per window marks which windows have each
key (a key is mostly one window's alone), so a window reads only its own matches, and a table
[window, key] gives each match its row in that window. Counts that depend on the user alone or on
the item alone (the item's record with everyone) are summed once per stretch of time between window
edges and differenced.
"""
import dataclasses
import functools

import numpy as np

from preprocessing.pipeline.samples import sorted_unique
from preprocessing.pipeline.sequences import gather, user_runs
from preprocessing.pipeline.threads import thread_map

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


BLOCK_ACTIONS = 1 << 18  # timeline actions per block of users, about: many blocks share the cores evenly
MAX_WINDOWS_TOGETHER = 64  # a window's mark on each matched action is one bit of a uint64


@dataclasses.dataclass
class _Block:
    """A run of consecutive users: their actions in the span in user-major order (each user's in time
    order), and each window's slice of rows that are theirs."""
    first_user: int
    users: int
    user: np.ndarray  # int32 [B]
    item: np.ndarray  # int32 [B]
    action: np.ndarray  # int8 [B]
    time: np.ndarray  # int64 [B]
    rows: list  # [slice] per window


def _user_blocks(timeline, block_actions):
    """[(first user, end user)] covering every user, a block starting at the first user past each
    multiple of block_actions actions of the timeline (a block holds whole users, so one with a very
    active user holds more)."""
    user_size = len(timeline.start) - 1
    cuts = np.searchsorted(timeline.start, np.arange(block_actions, timeline.size, block_actions))
    bounds = np.unique(np.concatenate([[0], np.minimum(cuts, user_size), [user_size]])).tolist()
    return list(zip(bounds[:-1], bounds[1:]))


def _block(timeline, windows, first_user, end_user, start_ns, end_ns):
    """The _Block of users [first_user, end_user), holding their actions in [start_ns, end_ns)."""
    lo, hi = timeline.start[first_user], timeline.start[end_user]
    times = timeline.time[lo:hi]
    inside = np.flatnonzero((times >= start_ns) & (times < end_ns))
    return _Block(first_user, end_user - first_user, timeline.user[lo:hi][inside], timeline.item[lo:hi][inside],
                  timeline.action[lo:hi][inside], times[inside],
                  [slice(*np.searchsorted(s.user, [first_user, end_user]).tolist()) for s in windows])


@dataclasses.dataclass
class _Matched:
    """The actions of a block that fall on a key of some window's samples, in user-major order."""
    rows: np.ndarray  # int32 [windows, distinct keys]: each key's row among a window's keys, -1 where absent
    windows: np.ndarray  # uint8..uint64 [M]: bit w set where the action's key is one of window w's
    key: np.ndarray  # int32 [M]: each matched action's key, as an index into the distinct keys
    action: np.ndarray  # int8 [M]
    time: np.ndarray  # int64 [M]
    item: np.ndarray  # int32 [M], or None where not asked for

    def part(self, window, start_ns, end_ns):
        """(rows, actions, times, items) of the matched actions in [start_ns, end_ns) whose key is one
        of window's (rows: their rows among its keys)."""
        mine = np.flatnonzero(self.windows & self.windows.dtype.type(1 << window))
        times = self.time[mine]
        inside = (times >= start_ns) & (times < end_ns)
        mine, times = mine[inside], times[inside]
        items = None if self.item is None else self.item[mine]
        return self.rows[window][self.key[mine]], self.action[mine], times, items

    def parts(self, window, starts, end_ns):
        """part(window, start, end_ns) for each of starts, taken from one part from the earliest start
        (the interaction range lies inside the look-back: it is not searched for twice)."""
        earliest = min(starts)
        whole = self.part(window, earliest, end_ns)
        for start in starts:
            if start == earliest:
                yield whole
            else:
                keep = whole[2] >= start
                yield tuple(None if column is None else column[keep] for column in whole)


def _window_bits(count):
    """The unsigned dtype with a bit for each of count windows."""
    return np.dtype(f"uint{max(8, 1 << (count - 1).bit_length())}")


def _match(window_keys, keys, action, time, item=None):
    """_Matched of a block's actions (keys: one int64 key each) against each window's distinct, sorted
    keys: one binary search per action whatever the number of windows (item: kept for the matched
    actions when given)."""
    distinct = sorted_unique(np.concatenate(window_keys), kind="stable")
    rows = np.full((len(window_keys), len(distinct)), -1, dtype=np.int32)
    marks = np.zeros(len(distinct), dtype=_window_bits(len(window_keys)))
    for window, mine in enumerate(window_keys):
        at = np.searchsorted(distinct, mine)
        rows[window, at] = np.arange(len(mine), dtype=np.int32)
        marks[at] |= marks.dtype.type(1 << window)
    if not len(distinct):
        found, hit = np.zeros(0, dtype=np.int32), np.zeros(len(keys), dtype=bool)
    else:
        found = np.minimum(np.searchsorted(distinct, keys), len(distinct) - 1)
        hit = distinct[found] == keys
        found = found[hit].astype(np.int32)
    return _Matched(rows, marks[found], found, action[hit], time[hit], None if item is None else item[hit])


def _side_match(block, windows, item_side, side_size, with_items=False):
    """The (user, side id of the item) level of keys, such as the category: ([(distinct keys, each
    sample's index among them)] per window, and the _Matched of the block's actions on them)."""
    window_keys = [np.unique(_keys(s.user[rows], item_side[s.item[rows]], side_size), return_inverse=True)
                   for s, rows in zip(windows, block.rows)]
    matched = _match([keys for keys, _ in window_keys], _keys(block.user, item_side[block.item], side_size),
                     block.action, block.time, block.item if with_items else None)
    return window_keys, matched


def _counts_in_ranges(time, codes, size, ranges, picks):
    """[np.bincount(codes[start <= time < end], minlength=size)[pick] for each (start, end) of ranges
    and pick of picks], time non-decreasing: the codes between each two neighbouring range edges are
    counted once and summed as the edges pass, a range's counts the difference of its edges' sums,
    so an action is read once however many ranges hold it."""
    edges = sorted({edge for range_ in ranges for edge in range_})
    bounds = np.searchsorted(time, edges).tolist()
    running = np.zeros(size, dtype=np.int64)
    counts = [None] * len(ranges)
    for edge, previous, bound in zip(edges, bounds[:1] + bounds[:-1], bounds):
        running += np.bincount(codes[previous:bound], minlength=size)
        for index, ((start, end), pick) in enumerate(zip(ranges, picks)):
            if edge == start:
                counts[index] = -running[pick]
            if edge == end:
                counts[index] += running[pick]
    return counts


_SMALL_LOGS = np.log1p(np.arange(4096, dtype=np.int64))


def _log_counts(counts):
    """np.log1p of non-negative integer counts, the small ones read from a table (most counts are
    small, and log1p was a tenth of the pair features' time)."""
    logs = _SMALL_LOGS[np.minimum(counts, len(_SMALL_LOGS) - 1)]
    large = counts >= len(_SMALL_LOGS)
    if large.any():
        logs[large] = np.log1p(counts[large])
    return logs


def _action_counts(rows, actions, size):
    """int64 [5, size]: how many actions of each type 1..5 fall on each row."""
    return np.bincount(actions.astype(np.int64) * size + rows, minlength=size * 6).reshape(6, size)[1:]


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


def pair_tables(log, timeline, windows, item_side, vocab_sizes, block_actions=BLOCK_ACTIONS, threads=None):
    """[float32 [len(samples), len(COLUMNS)]] for the WindowSamples of each window in windows (each
    sorted by user, then item). item_side: {"cate": [item vocab], "brand": [item vocab]} side ids by
    item index. block_actions: about how many actions of the timeline each block of users holds;
    threads: how many blocks are computed at once (None: one per core this process may use)."""
    if len(windows) > MAX_WINDOWS_TOGETHER:
        return (pair_tables(log, timeline, windows[:MAX_WINDOWS_TOGETHER], item_side, vocab_sizes, block_actions,
                            threads)
                + pair_tables(log, timeline, windows[MAX_WINDOWS_TOGETHER:], item_side, vocab_sizes, block_actions,
                              threads))
    if not windows:
        return []
    ends = [s.window.feature_end_ns for s in windows]
    first = min([end - LOOKBACK_DAYS * DAY_NS for end in ends] + [s.window.interaction_ns[0] for s in windows])
    # filled a column at a time, so held column by column until the end: writing a column of the
    # row-major table touched a cache line per row, 40 passes over it
    tables = [np.empty((len(COLUMNS), len(s)), dtype=np.float32) for s in windows]
    span = log.between(first, max(ends))

    def fill(users):
        block = _block(timeline, windows, *users, first, max(ends))
        _item_columns(block, windows, tables, vocab_sizes["item"])
        _category_columns(block, windows, tables, item_side["cate"], vocab_sizes)
        _brand_columns(block, windows, tables, item_side["brand"], vocab_sizes["brand"])
        _activity_columns(block, timeline, first, windows, tables, item_side["cate"])

    # every task writes its own columns or its own users' rows, and numpy lets go of the interpreter
    # in its loops: the tasks share the cores
    tasks = [lambda: _everyone_columns(log, span, windows, tables, vocab_sizes["item"]),
             lambda: _user_count_columns(log, span, windows, tables, len(timeline.start) - 1)]
    tasks += [functools.partial(fill, users) for users in _user_blocks(timeline, block_actions)]
    thread_map(lambda task: task(), tasks, threads)

    def to_rows(index):  # each transposed in place of its columns, so a copy lives only while it is made
        tables[index] = np.ascontiguousarray(tables[index].T)

    thread_map(to_rows, range(len(tables)), threads)
    return tables


def _put(table, name, rows, values):
    table[COLUMNS.index(name), rows] = values


def _count_columns(table, scope, span, rows, counts):
    at = COLUMNS.index(f"log_{scope}_{ACTION_NAMES[1]}s_{span}")
    table[at:at + len(ACTION_NAMES), rows] = _log_counts(counts)


def _lookback(window_samples):
    end = window_samples.window.feature_end_ns
    return end - LOOKBACK_DAYS * DAY_NS, window_samples.window.interaction_ns[0], end


def _lookback_ranges(windows):
    return [(start, end) for start, _, end in map(_lookback, windows)]


def _item_columns(block, windows, tables, item_size):
    """What the user did to the target item: counts, recency, an open cart or follow, decayed counts."""
    items = _match([_keys(s.user[rows], s.item[rows], item_size) for s, rows in zip(windows, block.rows)],
                   _keys(block.user, block.item, item_size), block.action, block.time)
    for index, (samples, table, mine) in enumerate(zip(windows, tables, block.rows)):
        lookback_start, interaction_start, end = _lookback(samples)
        n = mine.stop - mine.start
        (rows, actions, times, _), (interaction_rows, interaction_actions, _, _) = items.parts(
            index, (lookback_start, interaction_start), end)
        _count_columns(table, "item", "lookback", mine, _action_counts(rows, actions, n))
        _count_columns(table, "item", "interaction", mine, _action_counts(interaction_rows, interaction_actions, n))
        holds = (actions == CART) | (actions == FOLLOW)
        last_hold = _last_times(rows[holds], times[holds], n)
        ordered = actions == ORDER
        last_order = _last_times(rows[ordered], times[ordered], n)
        _put(table, "days_since_item", mine, _days_since(_last_times(rows, times, n), end))
        _put(table, "days_since_item_cart_or_follow", mine, _days_since(last_hold, end))
        _put(table, "days_since_item_order", mine, _days_since(last_order, end))
        _put(table, "open_cart_or_follow", mine, (last_hold >= 0) & (last_hold > last_order))
        _put(table, "log_item_decayed_actions", mine, np.log1p(_decayed(rows, times, end, n)))


def _category_columns(block, windows, tables, item_cate, vocab_sizes):
    """What the user did in the target's category: counts, recency, decayed counts, distinct items lately."""
    item_size, cate_size = vocab_sizes["item"], vocab_sizes["cate"]
    cate_keys, cates = _side_match(block, windows, item_cate, cate_size, with_items=True)
    for index, (samples, table, mine) in enumerate(zip(windows, tables, block.rows)):
        lookback_start, interaction_start, end = _lookback(samples)
        keys, row = cate_keys[index]
        (rows, actions, times, items), (interaction_rows, interaction_actions, _, _) = cates.parts(
            index, (lookback_start, interaction_start), end)
        _count_columns(table, "cate", "lookback", mine, _action_counts(rows, actions, len(keys))[:, row])
        _count_columns(table, "cate", "interaction", mine,
                       _action_counts(interaction_rows, interaction_actions, len(keys))[:, row])
        _put(table, "days_since_cate", mine, _days_since(_last_times(rows, times, len(keys))[row], end))
        _put(table, "log_cate_decayed_actions", mine, np.log1p(_decayed(rows, times, end, len(keys))[row]))
        fresh = times >= end - INTENT_DAYS * DAY_NS
        looked_at = sorted_unique(_keys(rows[fresh], items[fresh], item_size))
        _put(table, f"cate_items_last_{INTENT_DAYS}_days", mine,
             np.bincount(looked_at // item_size, minlength=len(keys))[row])


def _brand_columns(block, windows, tables, item_brand, brand_size):
    """The user's actions on the target's brand in the look-back."""
    # unknown brands (0) are matched too, as a key like any other: their samples' counts are set to 0
    brand_keys, brands = _side_match(block, windows, item_brand, brand_size)
    for index, (samples, table, mine) in enumerate(zip(windows, tables, block.rows)):
        lookback_start, _, end = _lookback(samples)
        keys, row = brand_keys[index]
        rows, _, _, _ = brands.part(index, lookback_start, end)
        brand_actions = np.bincount(rows, minlength=len(keys))[row]
        brand_actions[item_brand[samples.item[mine]] == 0] = 0
        _put(table, "log_brand_actions_lookback", mine, _log_counts(brand_actions))


def _activity_columns(block, timeline, first, windows, tables, item_cate):
    """The user's active days in the look-back and its last week, and how many of the user's last
    RECENT_STEPS actions were on the target item and on its category."""
    # [user of the block, day of the span] whether the user acted; the span starts at midnight like every window edge
    last_days = [(s.window.feature_end_ns - first) // DAY_NS for s in windows]
    active = np.zeros((block.users, max(last_days)), dtype=bool)
    active.reshape(-1)[_keys(block.user - block.first_user, (block.time - first) // DAY_NS, active.shape[1])] = True
    for index, (samples, table, mine) in enumerate(zip(windows, tables, block.rows)):
        of_sample, items = samples.user[mine], samples.item[mine]
        # per run of one user's samples (they share the days and the sequence), then repeated over the run
        starts, repeats = user_runs(of_sample)
        active_days = active[of_sample[starts] - block.first_user, last_days[index] - LOOKBACK_DAYS:last_days[index]]
        _put(table, "log_user_active_days_lookback", mine, _log_counts(np.repeat(active_days.sum(1), repeats)))
        _put(table, f"user_active_days_last_{WEEK_DAYS}", mine,
             np.repeat(active_days[:, LOOKBACK_DAYS - WEEK_DAYS:].sum(1), repeats))

        recent_items, _ = gather(timeline, of_sample[starts], samples.seq_end[mine][starts], RECENT_STEPS)
        recent_items = np.repeat(recent_items, repeats, axis=0)
        recent_real = recent_items > 0
        # a target item is never the padding 0, so an equal step is a real one
        _put(table, f"item_share_last_{RECENT_STEPS}", mine,
             np.count_nonzero(recent_items == items[:, None], axis=1) / RECENT_STEPS)
        _put(table, f"cate_share_last_{RECENT_STEPS}", mine,
             np.count_nonzero((item_cate[recent_items] == item_cate[items][:, None]) & recent_real, axis=1)
             / RECENT_STEPS)


def _everyone_columns(log, span, windows, tables, item_size):
    """The target item's record with every user in the look-back: browses, carts and orders."""
    codes = (BROWSE, CART, ORDER)
    # int32 codes: 6 x the item vocabulary stays far below 2**31
    everyone = _counts_in_ranges(log.time[span], log.item[span] * 6 + log.action[span], item_size * 6,
                                 _lookback_ranges(windows), [s.item[:, None] * 6 + codes for s in windows])
    for counts, table in zip(everyone, tables):
        for column, name in enumerate(("browses", "carts", "orders")):
            _put(table, f"log_item_all_{name}_lookback", slice(None), _log_counts(counts[:, column]))


def _user_count_columns(log, span, windows, tables, user_size):
    """The user's actions in the look-back and in the interaction range, and carts and orders of any item."""
    user, action, time = log.user[span], log.action[span], log.time[span]
    lookbacks, users = _lookback_ranges(windows), [s.user for s in windows]
    interactions = [(s.window.interaction_ns[0], end) for s, (_, end) in zip(windows, lookbacks)]
    counted = {"log_user_actions_lookback": _counts_in_ranges(time, user, user_size, lookbacks, users),
               "log_user_actions_interaction": _counts_in_ranges(time, user, user_size, interactions, users)}
    for code, name in ((CART, "log_user_carts_lookback"), (ORDER, "log_user_orders_lookback")):
        of_code = action == code
        counted[name] = _counts_in_ranges(time[of_code], user[of_code], user_size, lookbacks, users)
    for name, counts in counted.items():
        for count, table in zip(counts, tables):
            _put(table, name, slice(None), _log_counts(count))
