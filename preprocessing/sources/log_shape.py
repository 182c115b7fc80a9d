"""The shape of a behaviour log in the raw-data format, measured the same way for a real log and a
generated one (make_demo_data like=DIR compares the two).

    shape = measure(actions, items, users)         # {statistic name: value}
    rows = compare(source_shape, twin_shape, scale)  # side-by-side rows with each statistic's tolerance

Every statistic is one number. Its kind says how two logs are compared:
  - "ratio": a per-user or per-action rate; within RELATIVE (10%) of the source;
  - "share": a share of something; within SHARE_ABSOLUTE (0.03) of the source;
  - "mix": a share of the actions, several of them small; within RELATIVE of the source or
    MIX_ABSOLUTE (0.002), whichever is wider;
  - "count": a size; within RELATIVE of the source times the twin's scale when `scaled`
    (users, items seen), of the source itself otherwise (categories, span, attribute values).
Days are calendar days of action_time; a session is a run of one user's actions with gaps of at most
SESSION_GAP; the funnel looks back LOOKBACK_DAYS from each order.
"""
import numpy as np
import pandas as pd

from preprocessing.raw_data import ACTION_TYPES, ITEM_COLUMNS, USER_COLUMNS

SESSION_GAP = pd.Timedelta(minutes=30)  # a longer pause between two actions of a user starts a new session
LOOKBACK_DAYS = 5  # an order's "earlier actions" on its (user, item) pair are those of the days before it
RETENTION_DAYS = 5  # buyer pairs of the last days, looked for in as many days before (at most half the span)
TOP_ITEMS = 0.01  # the head of the item popularity tail: this share of the items seen
TOP_CATEGORIES = 0.1  # the head of the category popularity tail
RELATIVE = 0.10  # tolerance of ratios, mixes and counts, relative to the source
SHARE_ABSOLUTE = 0.03  # tolerance of shares, absolute
MIX_ABSOLUTE = 0.002  # floor of the tolerance of an action type's share
KEY = ["user_log_acct", "item_sku_id"]

# name -> (kind, scaled with demo_scale, what it is)
STATISTICS = {
    "users": ("count", True, "users with an action"),
    "items_seen": ("count", True, "items with an action"),
    "categories_seen": ("count", False, "categories with an action"),
    "span_days": ("count", False, "days from the first action to the last"),
    "actions_per_user": ("ratio", False, "actions per user"),
    "actions_per_active_day": ("ratio", False, "actions per active user-day"),
    "items_per_active_day": ("ratio", False, "distinct items per active user-day"),
    "active_days_per_user": ("ratio", False, "active days per user"),
    "sessions_per_active_day": ("ratio", False, f"sessions per active user-day (gap > {SESSION_GAP.seconds // 60} min)"),
    **{f"mix_{name}": ("mix", False, f"share of actions that are {name}s") for name in ACTION_TYPES.values()},
    "cart_of_browsed_pairs": ("share", False, "share of browsed (user, item) pairs that get a cart"),
    "order_of_carted_pairs": ("share", False, "share of carted (user, item) pairs that get an order"),
    "orders_without_earlier_day": ("share", False, f"share of orders with no action on the pair in the {LOOKBACK_DAYS} "
                                                   "calendar days before the order's day"),
    "orders_without_earlier_action": ("share", False, f"share of orders with no earlier action on the pair in the "
                                                      f"{LOOKBACK_DAYS} x 24 hours before (the same day included)"),
    "orders_after_cart": ("share", False, f"share of orders preceded by a cart of the item in the {LOOKBACK_DAYS} x 24 hours before"),
    "orders_after_browse_and_cart": ("share", False, "share of orders preceded by a browse and a cart of the item in the same hours (browse -> cart -> order)"),
    "buyers_per_user": ("share", False, "share of users with an order"),
    "repeat_buyer_pairs": ("share", False, "share of buyer (user, item) pairs ordering on more than one day"),
    "orders_per_buyer": ("ratio", False, "orders per buying user"),
    "top_items_share": ("share", False, f"share of actions on the top {TOP_ITEMS:.0%} of items seen"),
    "single_action_items": ("share", False, "share of items seen with one action only"),
    "top_categories_share": ("share", False, f"share of actions on the top {TOP_CATEGORIES:.0%} of categories seen"),
    "retained_buyer_pairs": ("share", False, "share of the last days' buyer pairs acting in as many days before "
                                             f"({RETENTION_DAYS} days, or half the span when shorter)"),
    **{f"known_{column}": ("count", False, f"distinct known values of {column}")
       for column in ITEM_COLUMNS[1:] + USER_COLUMNS[1:]},
}


def measure(actions, items=None, users=None):
    """{statistic: float} of STATISTICS for a raw log: actions with the columns of the raw-data contract
    (any action_time precision), items and users side tables (None or absent columns: unknown)."""
    actions = actions[KEY + ["action_time", "action_type"]].sort_values(["user_log_acct", "action_time"], kind="stable")
    actions = actions.reset_index(drop=True)
    time = actions["action_time"].astype("datetime64[ns]")
    day = time.dt.normalize()
    kind = actions["action_type"].to_numpy()
    n = len(actions)
    user_day = actions[["user_log_acct"]].assign(day=day)
    n_user_days = len(user_day.drop_duplicates())
    n_users = actions["user_log_acct"].nunique()
    same_user = actions["user_log_acct"].to_numpy()[1:] == actions["user_log_acct"].to_numpy()[:-1]
    gap = time.to_numpy()[1:] - time.to_numpy()[:-1]
    n_sessions = 1 + int((~same_user | (gap > SESSION_GAP.to_timedelta64())).sum())

    category = _category(actions, items)
    shape = {
        "users": n_users,
        "items_seen": actions["item_sku_id"].nunique(),
        "categories_seen": category.nunique(),
        "span_days": (day.max() - day.min()).days + 1,
        "actions_per_user": n / n_users,
        "actions_per_active_day": n / n_user_days,
        "items_per_active_day": len(actions[KEY].assign(day=day).drop_duplicates()) / n_user_days,
        "active_days_per_user": n_user_days / n_users,
        "sessions_per_active_day": n_sessions / n_user_days,
        **{f"mix_{name}": float((kind == code).mean()) for code, name in ACTION_TYPES.items()},
    }
    shape.update(_funnel(actions, time, kind))
    shape.update(_buying(actions, day, kind, n_users))
    per_item = np.sort(actions["item_sku_id"].value_counts().to_numpy())[::-1]
    per_category = np.sort(category.value_counts().to_numpy())[::-1]
    shape.update({
        "top_items_share": per_item[:max(1, round(TOP_ITEMS * len(per_item)))].sum() / n,
        "single_action_items": float((per_item == 1).mean()),
        "top_categories_share": per_category[:max(1, round(TOP_CATEGORIES * len(per_category)))].sum() / n,
        "retained_buyer_pairs": _retained(actions, day, kind),
    })
    for table, columns in ((items, ITEM_COLUMNS[1:]), (users, USER_COLUMNS[1:])):
        for column in columns:
            shape[f"known_{column}"] = _known_values(table, column)
    return {name: float(shape[name]) for name in STATISTICS}


def _category(actions, items):
    """Each action's item category (unknown: one shared value)."""
    if items is None or "item_third_cate_cd" not in items:
        return pd.Series(np.zeros(len(actions)))
    known = items[["item_sku_id", "item_third_cate_cd"]].drop_duplicates("item_sku_id")
    codes = known["item_third_cate_cd"].astype(str).to_numpy()
    at = pd.Index(known["item_sku_id"]).get_indexer(actions["item_sku_id"])
    return pd.Series(np.where(at >= 0, codes[at], "unknown"))


def _known_values(table, column):
    """Distinct values of a side column that are not missing nor the reserved unknown ones."""
    if table is None or column not in table:
        return 0
    values = table[column].dropna()
    values = values[~values.astype(str).isin(["-1", "-1.0", "unknown"])]
    return values.nunique()


def _funnel(actions, time, kind):
    """Carts of browsed pairs, orders of carted pairs, and what came before each order on its pair."""
    pair = actions.groupby(KEY, sort=False).ngroup().to_numpy()
    has = {name: np.bincount(pair, kind == code, minlength=pair.max() + 1) > 0
           for name, code in (("browse", 1), ("cart", 5), ("order", 2))}
    orders = np.flatnonzero(kind == 2)
    seconds = (time.to_numpy() - time.min().normalize().to_numpy()) // np.timedelta64(1, "s")
    # The actions of an order's pair in the days before it are a contiguous run of the actions sorted
    # by (pair, time), found by binary search on one int64 key per action.
    by_pair = np.lexsort((seconds, pair))
    position = np.empty(len(pair), np.int64)
    position[by_pair] = np.arange(len(pair))
    key = pair[by_pair] * 2 ** 33 + seconds[by_pair]
    at = position[orders]
    order_key, day_start = key[at], key[at] - seconds[orders] % 86400
    counts = {name: np.r_[0, np.cumsum(mask)] for name, mask in
              (("any", np.ones(len(pair), bool)), ("browse", kind[by_pair] == 1), ("cart", kind[by_pair] == 5))}

    def earlier(name, first, end):
        return counts[name][end] - counts[name][first] > 0

    # actions at the order's own second count as before it only when listed before it
    hours = np.searchsorted(key, order_key - LOOKBACK_DAYS * 86400)
    days = np.searchsorted(key, day_start - LOOKBACK_DAYS * 86400)
    before_day = np.searchsorted(key, day_start)
    return {
        "cart_of_browsed_pairs": _share(has["cart"][has["browse"]]),
        "order_of_carted_pairs": _share(has["order"][has["cart"]]),
        "orders_without_earlier_day": _share(~earlier("any", days, before_day)),
        "orders_without_earlier_action": _share(~earlier("any", hours, at)),
        "orders_after_cart": _share(earlier("cart", hours, at)),
        "orders_after_browse_and_cart": _share(earlier("browse", hours, at) & earlier("cart", hours, at)),
    }


def _buying(actions, day, kind, n_users):
    orders = actions.loc[kind == 2, KEY].assign(day=day[kind == 2])
    days_per_pair = orders.drop_duplicates().groupby(KEY).size()
    buyers = orders["user_log_acct"].nunique()
    return {"buyers_per_user": buyers / n_users, "repeat_buyer_pairs": _share(days_per_pair.to_numpy() > 1),
            "orders_per_buyer": len(orders) / buyers if buyers else 0.0}


def _retained(actions, day, kind):
    span = (day.max() - day.min()).days + 1
    days = min(RETENTION_DAYS, span // 2)
    label_start = day.max() - pd.Timedelta(days=days - 1)
    history = (day >= label_start - pd.Timedelta(days=days)) & (day < label_start)
    buyers = actions.loc[(day >= label_start).to_numpy() & (kind == 2), KEY].drop_duplicates()
    before = pd.MultiIndex.from_frame(actions.loc[history, KEY])
    return _share(pd.MultiIndex.from_frame(buyers).isin(before))


def _share(mask):
    return float(np.mean(mask)) if len(mask) else 0.0


def within(kind, source, twin, scale=1.0):
    """Whether a twin's value of a statistic of this kind matches the source's (module docstring)."""
    if kind == "share":
        return abs(twin - source) <= SHARE_ABSOLUTE + 1e-9
    if kind == "mix":
        return abs(twin - source) <= max(RELATIVE * source, MIX_ABSOLUTE) + 1e-9
    return abs(twin - source * scale) <= RELATIVE * source * scale + 1e-9


def compare(source, twin, scale=1.0):
    """Rows {statistic, what, kind, source, twin, target, within} for every statistic."""
    rows = []
    for name, (kind, scaled, what) in STATISTICS.items():
        factor = scale if scaled else 1.0
        rows.append({"statistic": name, "what": what, "kind": kind, "source": source[name], "twin": twin[name],
                     "target": source[name] * factor, "within": within(kind, source[name], twin[name], factor)})
    return rows


def table(rows):
    """The rows of compare as a plain-text table."""
    lines = [f"{'statistic':<34} {'source':>10} {'twin':>10}  within"]
    for row in rows:
        lines.append(f"{row['statistic']:<34} {_number(row['target']):>10} {_number(row['twin']):>10}  "
                     f"{'yes' if row['within'] else 'NO'}")
    return "\n".join(lines)


def _number(value):
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3f}"
