"""Generates a demo behaviour log in the raw-data format (README "Raw data") and writes it to raw_dir.

    python -m preprocessing.sources.make_demo_data demo_scale=10 raw_dir=/tmp/raw
    python -m preprocessing.sources.make_demo_data like=ddata/taobao raw_dir=ddata/twin   # a real log's twin

The log is simulated day by day, vectorised over users and (user, item) pairs, so that it carries
the structure the models are meant to find:
  - categories and items have long-tailed popularity; every item belongs to a category, a brand
    (within the category), a shop (selling that category) and the shop's vendor; shops have scores;
  - users have attributes; membership level and age band shift how likely they are to buy, and an
    activity level sets how often they come;
  - each user holds a few interest slots (a category, a preferred brand in it, a weight); slots
    drift to new categories over time, so recent behaviour predicts the next days better than old;
    some slots are buying missions, which draw more browsing and end soon after an order;
  - a visit to an item is a few browses, possibly a follow or an add to cart, and an order on a
    later visit after a cart; but as in real shopping most orders come without a cart, many on the
    first visit of the item and some with no browse of it at all (from a list); an order is
    followed by a comment days later with some probability;
  - a user's visits of a day fall into a few sessions, one visit after another (bursts);
  - a user comes back to items seen before while the item's category is still among the user's
    interests, more often shortly after the last visit and after an add to cart;
  - how likely a pair comes back and converts depends on the target item: on how many items of its
    category the user visited in the last days (buying intent, decaying day by day), on its category
    being a current mission, on its brand being the slot's preferred brand, on its quality and its
    shop's score; so the relevant part of a user's history is the part about the target's category
    and brand, which is what DIN/DIEN attention reads.
Shape holds the settings of the log's shape (DEMO_SHAPE: the default demo's; log_twin fits them to
a real log for like=DIR, and like.json lists both logs' statistics, log_shape, side by side). On
the original's windows (5-day interaction range, next 5 days as label range) about 13% of the
distinct (user, item) pairs of an interaction range act again in the label range, and about 0.85%
order (the original: 15.3% and 0.97%). The same settings always give the same tables.

Beside the tables it writes the oracle, demo_oracle.parquet: for every pair the simulation knows at
the start of the newest label range (the last window_days days), and every pair acting in the
window_days before it, the chance of an order and of any action in that range given the whole
latent state at its start, estimated by re-simulating the range ORACLE_REPEATS times on random
streams of their own, so the log itself is the same with or without it. It is the ceiling a model
of the log can reach (preprocessing.sources.demo_oracle reads it for a processed split). The marker demo.json
records the settings, the oracle's label range and the digest of every file written: the generator
replaces a folder only when the marker vouches for all of its contents, or the folder is empty.
"""
import dataclasses
import json
import pathlib
import sys
import time

import numpy as np
import pandas as pd

import configurator
import errors
import signed_folder
from preprocessing import raw_data
from preprocessing.pipeline import windows
from preprocessing.sources import log_shape, log_twin

DEMO_FILES = ("actions.parquet", "items.parquet", "users.parquet")
ORACLE_FILE = "demo_oracle.parquet"  # each pair's true chances in the newest label range (sources.demo_oracle)
LIKE_FILE = "like.json"  # a twin's source, fitted settings and statistics side by side (make_demo_data like=DIR)
MARKER = signed_folder.DEMO_RAW.marker  # settings, oracle range and the signed list of files written
GENERATOR = "preprocessing.sources.make_demo_data"  # the writer, named in the marker

# ---- catalogue
BRAND_GEOMETRIC = 0.3  # brand index within a category ~ geometric(p): a few big brands, a long tail
ITEMS_PER_SHOP = 15  # catalogue items per shop, on average
SHOPS_PER_VENDOR = 1.5  # shops per vendor, on average
# ---- users
SLOTS = 4  # interest slots per user
ACTIVITY_SPREAD = 0.8  # log-normal spread of activity across users
LEVEL_EFFECT = 0.2  # log buying propensity per membership level above the middle one
AGE_EFFECT = np.array([-0.4, -0.1, 0.2, 0.3, 0.1, -0.2])  # log buying propensity by age band 1..6
# ---- behaviour
DRIFT = 0.07  # daily chance that an interest slot moves to a new category
DONE_DRIFT = 0.5  # daily chance that a slot whose mission ended with an order moves on
MISSION = 0.2  # chance that a new slot is a buying mission (times the user's propensity)
MISSION_PULL = 3.0  # a mission slot draws this many times its weight of new browsing
SAME_BRAND = 0.5  # share of new items picked within the slot's preferred brand
REVISIT_DECAY_DAYS = 4.0  # revisit chance decays with days since the last visit
REVISIT_INTENT_BASE = 0.3  # revisit factor of an in-interest pair without recent visits to its category ...
REVISIT_PER_VISIT = 0.5  # ... plus this per recent visit to an item of the category
OUT_OF_INTEREST = 0.05  # revisit factor once the item's category left the user's interests
MISSION_REVISIT = 1.6  # revisit factor for a pair in a mission category
STAGE_REVISIT = np.array([1.0, 2.2, 0.35])  # revisit factor after browse, after cart/follow, after order
MAX_IDLE_DAYS = 20  # pairs idle for longer are forgotten
SAME_VISIT = 0.067  # chance of an order on the visit of the cart itself, relative to one on a later visit
COMMENT_LAG = 0.3  # comment lag in days ~ 1 + geometric(p)
BRAND_MATCH = 2.5  # affinity factor when the item's brand is the slot's preferred brand
MISSION_AFFINITY = 5.0  # affinity factor in a mission category
INTENT_BASE = 0.1  # affinity factor of a category the user has not visited lately ...
INTENT_PER_VISIT = 0.4  # ... plus this per recent visit to an item of the category
INTENT_KEEP = 0.75  # share of the recent-visit count carried to the next day
INTENT_CAP = 6.0  # the effect of recent visits saturates towards this many visits
INTEREST_AFFINITY = 0.5  # affinity factor in a plain interest category
STRAY_AFFINITY = 0.05  # affinity factor outside the user's interests
QUALITY_SPREAD = 0.4  # log-normal spread of item quality (affinity factor)
SHOP_EFFECT = 1.2  # log affinity per shop-score point above the mean
SHOP_SCORE_MEAN = 9.2  # shop scores ~ normal around this, clipped to [5, 10]
SHOP_SCORE_SPREAD = 0.45  # standard deviation of shop scores
WEEKDAY_ACTIVITY = np.array([1.0, 0.95, 0.95, 1.0, 1.1, 1.2, 1.15])  # Monday..Sunday
HOURS = np.array([1, 1, 1, 1, 1, 2, 3, 5, 6, 6, 7, 7, 7, 6, 6, 6, 6, 7, 8, 10, 11, 11, 8, 4], float)  # by hour of day
SECONDS_BETWEEN = 70.0  # mean seconds between the actions of one visit, and between two visits of a session


@dataclasses.dataclass(frozen=True)
class Shape:
    """The settings that give the log its shape: the default demo's, or fitted to a real log
    (preprocessing.sources.log_twin) so that log_shape measures the same statistics on both."""
    category_zipf: float = 1.0  # category popularity ~ rank^-a
    item_zipf: float = 1.1  # item popularity within its category ~ rank^-a
    category_breadth: float = 0.6  # items in a category ~ its popularity^b (big categories are broad)
    activity_median: float = 0.11  # median chance that a user comes on a given day
    activity_cap: float = 0.9  # no user comes on more days than this share
    explore: float = 0.05  # share of the items newly looked at that come from any category, not an interest
    new_items: float = 3.2  # items newly looked at per active day, besides the first (Poisson mean)
    revisit: float = 0.09  # chance that an active user revisits a fresh in-interest pair (before decay)
    browses: float = 0.8  # extra browses per visit (Poisson mean)
    sessions: float = 1.5  # sessions per active day besides the first (Poisson mean); a day's visits fall into them
    cart: float = 0.02  # chance of follow/cart on a visit of a browsed pair (times the pair's affinity)
    follow_share: float = 0.3  # follows among follow/cart actions
    order_after_cart: float = 0.06  # chance of an order on a visit after a cart (times affinity)
    direct: float = 0.01  # chance of an order on a visit of a browsed pair without a cart (times affinity) ...
    direct_known: float = 0.2  # ... times this for a pair visited on an earlier day
    blind: float = 0.8  # share of those orders placed with no browse of the item on the visit (from a list)
    comment: float = 0.4  # chance that an order gets a comment
    known: tuple = ("brand_code", "shop_id", "item_third_cate_cd", "vender_id", "shop_score",
                    "age", "sex", "user_level")  # side attributes written; the others are unknown (-1)
    seen_items_only: bool = False  # the items table lists only the items acted on, as an imported log does


DEMO_SHAPE = Shape()  # the default demo's shape
# ---- oracle
ORACLE_REPEATS = 32  # re-simulations of the label range averaged into the oracle
ORACLE_STREAM = 1  # the re-simulations' random streams are seeded by (demo_seed, this, repeat)


def generate(cfg, shape=DEMO_SHAPE):
    """(actions, items, users) DataFrames of the raw-data contract, deterministic for cfg's demo_* settings
    and the shape."""
    return _generate(cfg, shape, oracle_days=0)[0]


def generate_with_oracle(cfg, shape=DEMO_SHAPE, repeats=ORACLE_REPEATS, stream=ORACLE_STREAM):
    """(tables, oracle, description): the tables of generate(cfg), identical to them; the oracle of the
    last cfg.window_days days (the newest label range), a DataFrame of raw user_log_acct, item_sku_id
    and the chances p_buy and p_interact that the pair orders / acts in that range, given the
    simulation's latent state at its start; its description {"label": [first day, last day],
    "window_days", "repeats"}. Oracle and description are None when the log is shorter than two ranges. repeats: re-simulations averaged; stream: picks their
    random streams (another stream gives an independent oracle)."""
    return _generate(cfg, shape, cfg.window_days, repeats, stream)


def _generate(cfg, shape, oracle_days, repeats=0, stream=ORACLE_STREAM):
    n_users, n_items, n_categories, start, n_days = _sizes(cfg)
    rng = np.random.default_rng(cfg.demo_seed)
    items = _catalogue(rng, n_items, n_categories, shape)
    users = _people(rng, n_users, shape)
    label_day = n_days - oracle_days if 0 < oracle_days and 2 * oracle_days <= n_days else None
    log, snapshot = _simulate(rng, items, users, n_days, start.day_of_week, shape, label_day)
    user_ids = _ids(rng, n_users, 10)
    item_ids = _ids(rng, n_items, 10)
    tables = _tables(rng, items, users, log, start, user_ids, item_ids, shape)
    if label_day is None:
        return tables, None, None
    user, item, seconds, _ = log
    acted = (seconds >= (label_day - oracle_days) * 86400) & (seconds < label_day * 86400)
    keys, p_buy, p_interact = _oracle(items, users, snapshot, label_day, n_days, start.day_of_week, shape,
                                      user[acted] * n_items + item[acted], [cfg.demo_seed, stream], repeats)
    oracle = pd.DataFrame({"user_log_acct": user_ids[keys // n_items], "item_sku_id": item_ids[keys % n_items],
                           "p_buy": p_buy, "p_interact": p_interact})
    label = [start + pd.Timedelta(days=label_day), start + pd.Timedelta(days=n_days - 1)]
    return tables, oracle, {"label": [f"{day:%Y-%m-%d}" for day in label], "window_days": oracle_days,
                            "repeats": repeats}


def _sizes(cfg):
    n_users = round(cfg.demo_users * cfg.demo_scale)
    n_items = round(cfg.demo_items * cfg.demo_scale)
    if cfg.demo_scale <= 0 or n_users < 1:
        raise configurator.ConfigError(f"settings demo_users={cfg.demo_users}, demo_scale={cfg.demo_scale}: "
                                       "expected at least one user")
    if not 1 <= cfg.demo_categories <= n_items:
        raise configurator.ConfigError(f"setting demo_categories={cfg.demo_categories}: expected between 1 and "
                                       f"the number of items ({n_items})")
    try:
        start, end = pd.Timestamp(cfg.demo_start), pd.Timestamp(cfg.demo_end)
    except ValueError:
        raise configurator.ConfigError(f"settings demo_start={cfg.demo_start!r}, demo_end={cfg.demo_end!r}: "
                                       "expected dates like 2020-02-01") from None
    if end < start or start.normalize() != start or end.normalize() != end:
        raise configurator.ConfigError(f"settings demo_start={cfg.demo_start!r}, demo_end={cfg.demo_end!r}: "
                                       "expected two dates, the first not after the second")
    return n_users, n_items, cfg.demo_categories, start, (end - start).days + 1


def _zipf(n, a):
    return (np.arange(n) + 1.0) ** -a


def _cumulative(groups, weights):
    """group + running share of weight within the group, items ordered by group; ends exactly at group + 1."""
    totals = np.bincount(groups, weights)
    within = np.cumsum(weights) - np.repeat(np.cumsum(totals) - totals, np.bincount(groups))
    last = np.r_[groups[1:] != groups[:-1], True]
    shares = within / totals[groups]
    shares[last] = 1.0
    return groups + shares


def _pick(rng, cumulative, groups):
    """One index per entry of groups, drawn by weight among the indices of that group."""
    at = np.searchsorted(cumulative, groups + rng.random(len(groups)), side="right")
    return np.minimum(at, len(cumulative) - 1)


def _catalogue(rng, n_items, n_categories, shape):
    """Item arrays, items ordered by (category, brand); the category and brand samplers."""
    category_weight = rng.permutation(_zipf(n_categories, shape.category_zipf))
    category_weight /= category_weight.sum()
    # Every category gets an item; the rest follow popularity (big categories are broad).
    breadth = category_weight ** shape.category_breadth
    rest = rng.choice(n_categories, n_items - n_categories, p=breadth / breadth.sum())
    category = np.sort(np.r_[np.arange(n_categories), rest])
    brand_in_category = rng.geometric(BRAND_GEOMETRIC, n_items) - 1
    order = np.lexsort((brand_in_category, category))
    category, brand_in_category = category[order], brand_in_category[order]
    brand = np.unique(np.c_[category, brand_in_category], axis=0, return_inverse=True)[1].ravel()
    rank = np.arange(n_items) - np.searchsorted(category, category)
    # Zipf by rank within the category, the ranks shuffled so that popular items spread over brands.
    popularity = ((rank + 1.0) ** -shape.item_zipf)[np.lexsort((rng.random(n_items), category))]
    popularity *= rng.lognormal(0.0, 0.3, n_items)
    n_shops = max(n_categories, n_items // ITEMS_PER_SHOP)
    shop_category = np.sort(np.r_[np.arange(n_categories), rng.choice(n_categories, n_shops - n_categories, p=category_weight)])
    shop_start = np.searchsorted(shop_category, np.arange(n_categories))
    shop_count = np.bincount(shop_category, minlength=n_categories)
    shop = shop_start[category] + (rng.random(n_items) * shop_count[category]).astype(np.int64)
    n_vendors = max(1, round(n_shops / SHOPS_PER_VENDOR))
    vendor_of_shop = np.r_[rng.permutation(n_vendors), rng.integers(0, n_vendors, max(0, n_shops - n_vendors))][:n_shops]
    shop_score = np.clip(rng.normal(SHOP_SCORE_MEAN, SHOP_SCORE_SPREAD, n_shops), 5.0, 10.0).round(2)
    quality = rng.lognormal(0.0, QUALITY_SPREAD, n_items)
    conversion = quality * np.exp(SHOP_EFFECT * (shop_score[shop] - SHOP_SCORE_MEAN))
    by_category, by_brand = _cumulative(category, popularity), _cumulative(brand, popularity)
    return {
        "category": category, "brand": brand, "shop": shop, "vendor": vendor_of_shop[shop],
        "shop_score": shop_score[shop], "conversion": conversion, "category_weight": category_weight,
        "by_category": by_category, "by_brand": by_brand,
        # an item's chance to be _pick-ed within its category, and within its brand
        "category_share": np.diff(by_category, prepend=0.0), "brand_share": np.diff(by_brand, prepend=0.0),
        "n_brands": brand.max() + 1, "n_shops": n_shops, "n_vendors": n_vendors,
    }


def _people(rng, n_users, shape):
    """User attribute arrays, buying propensity (mean 1) and daily activity."""
    age = rng.choice(6, n_users, p=[0.08, 0.25, 0.3, 0.2, 0.11, 0.06]) + 1
    age_effect = AGE_EFFECT[age - 1]
    unknown_age = rng.random(n_users) < 0.03
    age[unknown_age], age_effect[unknown_age] = -1, 0.0  # -1: age not given, as in the original log
    level = rng.choice(7, n_users, p=[0.05, 0.1, 0.2, 0.25, 0.2, 0.12, 0.08]) + 1
    province = rng.choice(34, n_users, p=_zipf(34, 0.8) / _zipf(34, 0.8).sum()) + 1
    city = province * 100 + np.minimum(rng.geometric(0.25, n_users), 15)
    propensity = np.exp(LEVEL_EFFECT * (level - 4) + age_effect + rng.normal(0.0, 0.3, n_users))
    activity = rng.lognormal(np.log(shape.activity_median), ACTIVITY_SPREAD, n_users) * (1 + 0.05 * (level - 4))
    return {
        "age": age, "sex": rng.choice(3, n_users, p=[0.45, 0.45, 0.1]), "user_level": level,
        "province": province, "city": city, "county": city * 100 + np.minimum(rng.geometric(0.3, n_users), 12),
        "propensity": propensity / propensity.mean(), "activity": np.minimum(activity, shape.activity_cap),
    }


def _new_slots(rng, items, propensity):
    """Category, preferred brand, weight and mission flag of len(propensity) fresh interest slots."""
    n = len(propensity)
    category = _draw_categories(rng, items, n)
    brand = items["brand"][_pick(rng, items["by_category"], category)]
    return category, brand, rng.gamma(1.0, size=n), rng.random(n) < MISSION * propensity


def _draw_categories(rng, items, n):
    """n categories drawn by popularity."""
    category = np.searchsorted(np.cumsum(items["category_weight"]), rng.random(n) * items["category_weight"].sum())
    return np.minimum(category, len(items["category_weight"]) - 1)


def _relation(items, slots, users_of, items_of):
    """Per pair: item category among the user's interests, a mission category, the slot's preferred brand;
    and the (pair, slot) match matrix."""
    category, brand, _, mission = slots
    match = category[users_of] == items["category"][items_of][:, None]
    return (match.any(1), (match & mission[users_of]).any(1),
            (match & (brand[users_of] == items["brand"][items_of][:, None])).any(1), match)


@dataclasses.dataclass
class _State:
    """The latent state of the simulation between two days."""
    slots: tuple  # category, preferred brand, weight, mission flag: [users, SLOTS] each
    done: np.ndarray  # [users, SLOTS]: the slot's mission ended with an order
    intent: np.ndarray  # [users, SLOTS]: decayed count of recent visits in each slot's category
    pair_user: np.ndarray  # the (user, item) pairs seen and not yet forgotten; a pair may be seen twice
    pair_item: np.ndarray
    pair_stage: np.ndarray  # 0 browsed, 1 followed or carted, 2 ordered
    pair_last: np.ndarray  # day of the last visit
    comments: tuple  # user, item, due day of the comments still to come

    def copy(self):
        return _State(tuple(a.copy() for a in self.slots), self.done.copy(), self.intent.copy(),
                      self.pair_user.copy(), self.pair_item.copy(), self.pair_stage.copy(), self.pair_last.copy(),
                      tuple(a.copy() for a in self.comments))


@dataclasses.dataclass
class _Visits:
    """One day's visits: the known pairs of the active users with their revisit chances, and every
    visited pair (revisits first, then the new pairs) with its affinity and slot matches."""
    active: np.ndarray  # bool [users]: who came
    known: np.ndarray  # indices of the state's pairs whose user is active
    chance: np.ndarray  # revisit chance of each of them
    known_relation: tuple  # _relation of each of them
    revisited: np.ndarray  # bool [known]
    visits: np.ndarray  # indices of the visited pairs, in the state's pair arrays after the new pairs
    user: np.ndarray
    item: np.ndarray
    stage: np.ndarray  # the pair's stage before the visit
    affinity: np.ndarray
    match: np.ndarray  # [visits, SLOTS]


def _start_state(rng, items, users):
    n_users = len(users["propensity"])
    flat = _new_slots(rng, items, np.repeat(users["propensity"], SLOTS))
    empty = np.empty(0, np.int64)
    return _State(slots=tuple(a.reshape(n_users, SLOTS) for a in flat), done=np.zeros((n_users, SLOTS), bool),
                  intent=np.zeros((n_users, SLOTS)), pair_user=empty, pair_item=empty,
                  pair_stage=np.empty(0, np.int8), pair_last=empty, comments=(empty, empty, empty))


def _drift(rng, items, users, state):
    """The start of a day: slots move to new categories, intent decays."""
    move = rng.random(state.done.shape) < np.where(state.done, DONE_DRIFT, DRIFT)
    rows, cols = np.nonzero(move)
    for array, fresh in zip(state.slots, _new_slots(rng, items, users["propensity"][rows])):
        array[rows, cols] = fresh
    state.done[rows, cols] = False
    state.intent[rows, cols] = 0.0
    state.intent *= INTENT_KEEP


def _activity(users, day, first_weekday):
    """Each user's chance to come on the day."""
    return users["activity"] * WEEKDAY_ACTIVITY[(first_weekday + day) % 7]


def _revisit_chance(items, state, pairs, day, shape):
    """Chance that each of the state's pairs (indices) is revisited on the day if its user comes, and
    the pairs' _relation."""
    user = state.pair_user[pairs]
    relation = _relation(items, state.slots, user, state.pair_item[pairs])
    in_interest, mission, _, match = relation
    # Shopping a category brings the user back to the items of it seen before (comparing them).
    recent = _saturated((state.intent[user] * match).max(1))
    return (shape.revisit * np.exp(-(day - state.pair_last[pairs]) / REVISIT_DECAY_DAYS)
            * np.where(in_interest, REVISIT_INTENT_BASE + REVISIT_PER_VISIT * recent, OUT_OF_INTEREST)
            * np.where(mission, MISSION_REVISIT, 1.0)
            * STAGE_REVISIT[state.pair_stage[pairs]]), relation


def _affinity(items, users, user, item, relation, intent_rows):
    """How readily a visit of each (user, item) turns into a cart and an order, given the user's
    intent in each slot (rows of intent, this day's visits included)."""
    in_interest, mission, brand_match, match = relation
    recent = _saturated((intent_rows * match).max(1))
    return (users["propensity"][user] * items["conversion"][item] * np.where(brand_match, BRAND_MATCH, 1.0)
            * (INTENT_BASE + INTENT_PER_VISIT * recent)
            * np.where(mission, MISSION_AFFINITY, np.where(in_interest, INTEREST_AFFINITY, STRAY_AFFINITY)))


def _visit(rng, items, users, state, day, first_weekday, shape):
    """Who comes, which known pairs they revisit, which items they newly look at; adds the new pairs
    and the visits' intent to the state."""
    active = rng.random(len(users["propensity"])) < _activity(users, day, first_weekday)
    known = np.flatnonzero(active[state.pair_user])
    chance, known_relation = _revisit_chance(items, state, known, day, shape)
    revisited = rng.random(len(known)) < chance

    new_user, new_item = _new_pairs(rng, items, state.slots, np.flatnonzero(active), shape)
    first_new = len(state.pair_user)
    state.pair_user = np.r_[state.pair_user, new_user]
    state.pair_item = np.r_[state.pair_item, new_item]
    state.pair_stage = np.r_[state.pair_stage, np.zeros(len(new_user), np.int8)]
    state.pair_last = np.r_[state.pair_last, np.full(len(new_user), day)]
    visits = np.r_[known[revisited], np.arange(first_new, len(state.pair_user))]

    vu, vi = state.pair_user[visits], state.pair_item[visits]
    relation = _relation(items, state.slots, vu, vi)
    # Buying intent builds up with visits to the category, so the history says which targets convert.
    visit_rows, visit_slots = np.nonzero(relation[3])
    np.add.at(state.intent, (vu[visit_rows], visit_slots), 1.0)
    affinity = _affinity(items, users, vu, vi, relation, state.intent[vu])
    return _Visits(active, known, chance, known_relation, revisited, visits, vu, vi, state.pair_stage[visits], affinity, relation[3])


def _outcomes(rng, state, visits, day, shape):
    """Carts, orders and the comments they schedule; returns (cart, order, blind) of the visits (blind:
    an order placed with no browse) and the (user, item) of the comments due on the day, which leave
    the state."""
    vu, vi, stage, affinity = visits.user, visits.item, visits.stage, visits.affinity
    cart = (stage == 0) & (rng.random(len(vu)) < shape.cart * affinity)
    # Most real orders come without a cart: bought at once, often straight from a list or a search.
    direct = (stage == 0) & ~cart & (rng.random(len(vu)) < _direct_chance(shape, affinity, _known_visits(visits)))
    order = (((stage == 1) & (rng.random(len(vu)) < shape.order_after_cart * affinity))
             | (cart & (rng.random(len(vu)) < SAME_VISIT * shape.order_after_cart * affinity)) | direct)
    blind = order & ~cart & (stage == 0) & (rng.random(len(vu)) < shape.blind)
    state.pair_stage[visits.visits] = np.where(order, 2, np.where(cart, 1, stage))
    state.pair_last[visits.visits] = day
    # An order ends the buying missions of its category.
    ordered_rows, ordered_slots = np.nonzero(visits.match[order] & state.slots[3][vu[order]])
    state.done[vu[order][ordered_rows], ordered_slots] = True
    state.slots[3][vu[order][ordered_rows], ordered_slots] = False

    commented = order & (rng.random(len(vu)) < shape.comment)
    due = day + rng.geometric(COMMENT_LAG, int(commented.sum()))
    comments = tuple(np.r_[old, new] for old, new in zip(state.comments, (vu[commented], vi[commented], due)))
    today = comments[2] == day
    state.comments = tuple(a[~today] for a in comments)
    return cart, order, blind, (comments[0][today], comments[1][today])


def _known_visits(visits):
    """Whether each visit is a revisit of a pair seen on an earlier day (the revisits come first)."""
    return np.arange(len(visits.user)) < int(visits.revisited.sum())


def _direct_chance(shape, affinity, known):
    return np.minimum(shape.direct * affinity * np.where(known, shape.direct_known, 1.0), 1.0)


def _forget(state, day):
    """Pairs idle for MAX_IDLE_DAYS leave the state."""
    keep = day - state.pair_last < MAX_IDLE_DAYS
    state.pair_user, state.pair_item, state.pair_stage, state.pair_last = (
        a[keep] for a in (state.pair_user, state.pair_item, state.pair_stage, state.pair_last))


def _simulate(rng, items, users, n_days, first_weekday, shape, snapshot_day=None):
    """(user, item, second since the start, action type) arrays of the whole log, and a copy of the
    state at the start of snapshot_day (None without one)."""
    state = _start_state(rng, items, users)
    log = []
    snapshot = None
    for day in range(n_days):
        if day == snapshot_day:
            snapshot = state.copy()
        _drift(rng, items, users, state)
        visits = _visit(rng, items, users, state, day, first_weekday, shape)
        cart, order, blind, commented = _outcomes(rng, state, visits, day, shape)
        log.append(_visit_actions(rng, day, visits.user, visits.item, cart, order, blind, shape))
        log.append(_comment_actions(rng, day, *commented))
        _forget(state, day)
    return tuple(np.concatenate(parts) for parts in zip(*log)), snapshot


def _saturated(visits):
    """Recent visits as they act on behaviour: about linear for a few, never above INTENT_CAP."""
    return visits / (1.0 + visits / INTENT_CAP)


def _new_pairs(rng, items, slots, active_users, shape):
    """Items newly looked at by the active users: a slot by weight (missions pull harder), then an item
    of the slot's preferred brand or of its category, by popularity; or, for a share shape.explore of
    them, an item of any category, by popularity."""
    users_of = np.repeat(active_users, 1 + rng.poisson(shape.new_items, len(active_users)))
    category, brand, weight, mission = slots
    pull = np.cumsum(weight[users_of] * np.where(mission[users_of], MISSION_PULL, 1.0), axis=1)
    slot = (pull < rng.random(len(users_of))[:, None] * pull[:, -1:]).sum(1)
    explore = rng.random(len(users_of)) < shape.explore
    by_brand = (rng.random(len(users_of)) < SAME_BRAND) & ~explore
    picked = category[users_of, slot]
    picked[explore] = _draw_categories(rng, items, int(explore.sum()))
    item = _pick(rng, items["by_category"], picked)
    item[by_brand] = _pick(rng, items["by_brand"], brand[users_of[by_brand], slot[by_brand]])
    return users_of, item


def _oracle(items, users, state, label_day, n_days, first_weekday, shape, window_pairs, seed, repeats):
    """Monte Carlo estimate, from the state at the start of label_day, of each pair's chance to get an
    order (p_buy) and any action (p_interact) on days label_day..n_days-1: the pairs the state knows,
    those with a comment to come and window_pairs (user * items + item codes). Each repeat re-simulates
    those days with a random stream of its own (seed + repeat), never the log's. Instead of counting
    sampled events it adds, each day until the pair's first event, the event's chance given everything
    drawn so far: unbiased, since that chance is the event's expectation on that day, and much less
    noisy. (1 - prod(1 - chance) over the days would be biased here, because an order changes the
    pair's stage and so its later chances.) Returns the sorted codes and the two chances."""
    n_items = len(items["category"])
    keys = np.unique(np.r_[state.pair_user * n_items + state.pair_item,
                           state.comments[0] * n_items + state.comments[1], window_pairs])
    p_buy, p_interact = np.zeros(len(keys)), np.zeros(len(keys))
    for repeat in range(repeats):
        rng = np.random.default_rng([*seed, repeat])
        run = state.copy()
        bought, acted = np.zeros(len(keys), bool), np.zeros(len(keys), bool)
        for day in range(label_day, n_days):
            _drift(rng, items, users, run)
            visits = _visit(rng, items, users, run, day, first_weekday, shape)
            act, order = _day_chances(items, users, run, visits, keys, day, shape)
            p_interact += np.where(acted, 0.0, act)
            p_buy += np.where(bought, 0.0, order)
            _, order, _, commented = _outcomes(rng, run, visits, day, shape)
            for events, user, item in ((acted, visits.user, visits.item), (acted, *commented),
                                       (bought, visits.user[order], visits.item[order])):
                index, found = _key_index(keys, user * n_items + item)
                events[index[found]] = True
            _forget(run, day)
    # a comment due in the range is an action for certain
    due = _key_index(keys, state.comments[0] * n_items + state.comments[1])[0][state.comments[2] < n_days]
    p_interact[due] = repeats
    return keys, np.clip(p_buy / max(repeats, 1), 0.0, 1.0), np.clip(p_interact / max(repeats, 1), 0.0, 1.0)


def _key_index(keys, codes):
    """Position of each code in the sorted keys, and whether it is there."""
    index = np.minimum(np.searchsorted(keys, codes), max(len(keys) - 1, 0))
    return index, keys[index] == codes if len(keys) else np.zeros(len(codes), bool)


def _none_of(n_keys, at, chance):
    """Per key, the chance that none of the independent events at those key positions happens."""
    with np.errstate(divide="ignore"):
        return np.exp(np.bincount(at, np.log1p(-np.minimum(chance, 1.0)), minlength=n_keys))


def _day_chances(items, users, state, visits, keys, day, shape):
    """Chances that each key's pair acts, and orders, on the day, given who came, the state before the
    visits, and for orders every other draw of the day. Acting: a revisit of one of the pair's entries,
    a new pick of its item, or a comment due. Ordering: a known entry by its revisit chance times its
    order chance on a visit (its own visit counted in the intent), a new pair by its order chance."""
    n_items = len(items["category"])
    user, item = state.pair_user[visits.known], state.pair_item[visits.known]
    index, found = _key_index(keys, user * n_items + item)
    at, user, item, chance = index[found], user[found], item[found], np.minimum(visits.chance[found], 1.0)
    none = _none_of(len(keys), at, chance)
    key_user, key_item = keys // n_items, keys % n_items
    came = visits.active[key_user]
    none[came] *= 1.0 - _new_pick_chance(items, state.slots, key_user[came], key_item[came], shape)
    act = np.where(came, 1.0 - none, 0.0)
    due, found_due = _key_index(keys, state.comments[0] * n_items + state.comments[1])
    act[due[found_due & (state.comments[2] == day)]] = 1.0

    relation = tuple(a[found] for a in visits.known_relation)
    intent = state.intent[user] + relation[3] * ~visits.revisited[found][:, None]
    known = chance * _order_chance(shape, state.pair_stage[visits.known[found]],
                                   _affinity(items, users, user, item, relation, intent), known=True)
    new = slice(int(visits.revisited.sum()), None)
    new_index, new_found = _key_index(keys, visits.user[new] * n_items + visits.item[new])
    new_order = _order_chance(shape, visits.stage[new], visits.affinity[new], known=False)[new_found]
    order = 1.0 - _none_of(len(keys), at, known) * _none_of(len(keys), new_index[new_found], new_order)
    return act, order


def _new_pick_chance(items, slots, user, item, shape):
    """Chance that user newly looks at item on a day it comes (_new_pairs: 1 + Poisson(new_items)
    draws, each a slot by pull, then an item of the slot's brand or category by popularity, or an
    item of a category drawn by popularity)."""
    category, brand, weight, mission = slots
    pull = weight[user] * np.where(mission[user], MISSION_PULL, 1.0)
    weights = items["category_weight"]
    anywhere = weights[items["category"][item]] / weights.sum() * items["category_share"][item]
    per_draw = shape.explore * anywhere + (1.0 - shape.explore) * (pull / pull.sum(1, keepdims=True)
                * ((1.0 - SAME_BRAND) * (category[user] == items["category"][item][:, None])
                   * items["category_share"][item][:, None]
                   + SAME_BRAND * (brand[user] == items["brand"][item][:, None]) * items["brand_share"][item][:, None])
                ).sum(1)
    return 1.0 - (1.0 - per_draw) * np.exp(-shape.new_items * per_draw)


def _order_chance(shape, stage, affinity, known):
    """Chance that a visit ends in an order, as _outcomes draws it: after a cart, with a cart on the
    same visit, or directly without a cart (known: the pair was visited on an earlier day)."""
    cart = np.minimum(shape.cart * affinity, 1.0)
    first_visit = (cart * np.minimum(SAME_VISIT * shape.order_after_cart * affinity, 1.0)
                   + (1.0 - cart) * _direct_chance(shape, affinity, known))
    return np.select([stage == 1, stage == 0], [np.minimum(shape.order_after_cart * affinity, 1.0), first_visit], 0.0)


def _session_starts(rng, n):
    hour = rng.choice(24, n, p=HOURS / HOURS.sum())
    return hour * 3600.0 + rng.random(n) * 3600.0


def _visit_actions(rng, day, users_of, items_of, cart, order, blind, shape):
    """Browses of each visit (none for a blind order), then its follow/cart and order, seconds apart;
    a user's visits of the day fall into a few sessions, one after another within a session."""
    n = len(users_of)
    browses = np.where(blind, 0, 1 + rng.poisson(shape.browses, n))
    gaps = rng.exponential(SECONDS_BETWEEN, browses.sum())
    ends = np.cumsum(browses)
    elapsed = np.cumsum(gaps)
    # seconds from the visit's start: browses, then the cart, then the order
    browsed = browses > 0
    first = (ends - browses)[browsed]
    browse_time = elapsed - np.repeat(elapsed[first] - gaps[first], browses[browsed])
    last = np.zeros(n)
    last[browsed] = browse_time[ends[browsed] - 1]
    cart_time = last + rng.exponential(SECONDS_BETWEEN, n)
    order_time = np.where(cart, cart_time, last) + rng.exponential(2 * SECONDS_BETWEEN, n)
    length = np.where(order, order_time, np.where(cart, cart_time, last)) + rng.exponential(SECONDS_BETWEEN, n)

    users, user_at = np.unique(users_of, return_inverse=True)
    sessions = 1 + rng.poisson(shape.sessions, len(users))
    first_session = np.cumsum(sessions) - sessions
    session = first_session[user_at] + (rng.random(n) * sessions[user_at]).astype(np.int64)
    session_start = _session_starts(rng, int(sessions.sum()))
    # the visits of a session in random order, each starting where the one before ended
    in_order = np.lexsort((rng.random(n), session))
    ran = np.cumsum(length[in_order])
    is_first = np.r_[True, session[in_order][1:] != session[in_order][:-1]]
    before = ran - length[in_order]
    offset = np.empty(n)
    offset[in_order] = before - np.maximum.accumulate(np.where(is_first, before, 0.0))
    start = session_start[session] + offset

    carted = np.where(rng.random(int(cart.sum())) < shape.follow_share, 3, 5)
    user = np.r_[np.repeat(users_of, browses), users_of[cart], users_of[order]]
    item = np.r_[np.repeat(items_of, browses), items_of[cart], items_of[order]]
    seconds = np.r_[np.repeat(start, browses) + browse_time, (start + cart_time)[cart], (start + order_time)[order]]
    kind = np.r_[np.ones(int(browses.sum()), np.int8), carted.astype(np.int8), np.full(int(order.sum()), 2, np.int8)]
    return user, item, day * 86400 + np.minimum(seconds, 86399).astype(np.int64), kind


def _comment_actions(rng, day, users_of, items_of):
    seconds = day * 86400 + _session_starts(rng, len(users_of)).astype(np.int64)
    return users_of, items_of, seconds, np.full(len(users_of), 4, np.int8)


def _ids(rng, n, stride):
    """n distinct positive integer ids in random order, spread like real account and sku numbers."""
    return (np.arange(n) * stride + rng.integers(1, stride, n))[rng.permutation(n)]


def _tables(rng, items, users, log, start, user_ids, item_ids, shape):
    user, item, seconds, kind = log
    order = np.argsort(seconds, kind="stable")
    actions = pd.DataFrame({
        "user_log_acct": user_ids[user[order]],
        "item_sku_id": item_ids[item[order]],
        "action_time": start.to_datetime64().astype("datetime64[ns]") + seconds[order].astype("timedelta64[s]"),
        "action_type": kind[order],
    })
    actions["action_time"] = actions["action_time"].astype("datetime64[ns]")
    catalogue = pd.DataFrame({
        "item_sku_id": item_ids,
        "brand_code": _ids(rng, items["n_brands"], 7)[items["brand"]],
        "shop_id": _ids(rng, items["n_shops"], 5)[items["shop"]],
        "item_third_cate_cd": _ids(rng, len(items["category_weight"]), 13)[items["category"]],
        "vender_id": _ids(rng, items["n_vendors"], 5)[items["vendor"]],
        "shop_score": items["shop_score"].astype(np.float32),
    })
    if shape.seen_items_only:
        catalogue = catalogue[np.bincount(item, minlength=len(item_ids)) > 0]
    catalogue = catalogue.sort_values("item_sku_id", ignore_index=True)
    people = pd.DataFrame({"user_log_acct": user_ids, **{c: users[c] for c in raw_data.USER_COLUMNS[1:]}})
    people = people.astype({c: np.int64 for c in people.columns}).sort_values("user_log_acct", ignore_index=True)
    # An attribute the shape leaves unknown is the contract's reserved unknown value on every row.
    for table in (catalogue, people):
        for column in table.columns[1:]:
            if column not in shape.known:
                table[column] = raw_data.UNKNOWN_SCORE if column == "shop_score" else raw_data.UNKNOWN_INT
    catalogue["shop_score"] = catalogue["shop_score"].astype(np.float32)
    return actions, catalogue, people


def write(actions, items, users, raw_dir, settings, oracle=None, oracle_info=None, like=None):
    """Writes the three tables, the oracle (when given), like.json (a twin's comparison, when given) and
    the signed marker into raw_dir at once, replacing an older demo set; refuses (check_replaceable) to
    touch a raw_dir holding anything else."""
    raw_dir = check_replaceable(raw_dir)
    tables = dict(zip(DEMO_FILES, (actions, items, users)))
    if oracle is not None:
        tables[ORACLE_FILE] = oracle
    about = {"generator": GENERATOR, "settings": settings, "oracle": oracle_info}
    with signed_folder.replacing(raw_dir, signed_folder.DEMO_RAW, about, "raw_dir") as staging:
        for name, table in tables.items():
            table.to_parquet(staging / name, index=False)
        if like is not None:
            (staging / LIKE_FILE).write_text(json.dumps(like, indent=1) + "\n")


def check_replaceable(raw_dir):
    """raw_dir as an absolute path when the generator may replace it: absent, an empty folder, or a
    demo set this generator wrote and nobody changed since (signature_problem); PipelineError
    otherwise, so that no file of anyone else is ever deleted or moved."""
    path = pathlib.Path(raw_dir).resolve()
    here = pathlib.Path.cwd().resolve()
    if path == here or path in here.parents:
        raise errors.PipelineError(f"raw_dir={raw_dir} is the current folder or holds it; the demo set is written "
                                   "as a folder of its own, so name one such as ddata/raw")
    signed_folder.check_replaceable(path, signed_folder.DEMO_RAW, "raw_dir")
    return path


def signature_problem(raw_dir):
    """Why raw_dir is not a demo set exactly as this generator wrote it (None when it is)."""
    return signed_folder.problem(raw_dir, signed_folder.DEMO_RAW)


def main(argv=None):
    cfg = configurator.load(argv)
    check_replaceable(cfg.raw_dir)  # fail before the generation's seconds, not after
    began = time.perf_counter()
    if cfg.like:
        actions, items, users, oracle, oracle_info, settings, like = _twin(cfg)
    else:
        (actions, items, users), oracle, oracle_info = generate_with_oracle(cfg)
        settings, like = {k: v for k, v in vars(cfg).items() if k.startswith("demo_")}, None
    write(actions, items, users, cfg.raw_dir, settings, oracle, oracle_info, like)
    if like is not None:
        print(log_shape.table(like["statistics"]))
    times = actions["action_time"]
    print(f"demo data: {len(actions)} actions, {len(users)} users, {len(items)} items, "
          f"{times.min():%Y-%m-%d} to {times.max():%Y-%m-%d}, oracle of {len(oracle) if oracle is not None else 0} "
          f"pairs, {time.perf_counter() - began:.1f} s -> {cfg.raw_dir}")


def _twin(cfg):
    """A twin of the raw log in cfg.like: its tables, oracle, settings and like.json's content. The
    oracle's label range is window_days long, or as long as the windows that fit the span allow."""
    if pathlib.Path(cfg.like).resolve() == pathlib.Path(cfg.raw_dir).resolve():
        raise errors.PipelineError(f"like={cfg.like} is raw_dir: the twin is written to a folder of its own")
    source = raw_data.load_raw(cfg.like)
    twin_cfg, shape, source_shape = log_twin.fit(cfg, source)
    span = (pd.Timestamp(twin_cfg.demo_end) - pd.Timestamp(twin_cfg.demo_start)).days + 1
    if 2 * twin_cfg.window_days > span:
        fit = windows.fitting_settings(span, twin_cfg.num_windows, twin_cfg.window_days, twin_cfg.window_stride_days)
        if fit is not None:
            twin_cfg.window_days = fit[1]
            print(f"the oracle's label range is the windows that fit: num_windows={fit[0]} window_days={fit[1]} "
                  f"window_stride_days={fit[2]}")
    (actions, items, users), oracle, oracle_info = generate_with_oracle(twin_cfg, shape)
    rows = log_shape.compare(source_shape, log_shape.measure(actions, items, users), twin_cfg.demo_scale)
    settings = log_twin.shape_settings(twin_cfg, shape)
    like = {"source": str(cfg.like), "settings": settings, "statistics": rows,
            "within": sum(row["within"] for row in rows), "of": len(rows)}
    return actions, items, users, oracle, oracle_info, {**settings, "like": str(cfg.like)}, like


if __name__ == "__main__":
    sys.exit(errors.run_cli(main, sys.argv[1:]))
