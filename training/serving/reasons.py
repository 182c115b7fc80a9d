"""Reasons of a forecast: what in a scored (user, item) raises its purchase score, by occlusion.

The score explained is the run's own purchase probability (`main`: pCTCVR for ESSM). Each input
group is removed in turn and the pair scored again; a group's effect is how much the score falls
without it. The REASONS groups of largest positive effect are the reasons, in words. Occlusion asks
the model itself, so it works for every run, baselines included, and removing the first reason
lowers the score by exactly its stated effect (tests/test_reasons.py checks that the first reason
lowers it more than a random group does, on average over a test set).

Groups and what "removed" means:
  - the pair features (preprocessing.pipeline.pair_features), grouped as they read ("carted this item 2× in
    the last 30 days", "last acted on this item 3 days ago"): set to what they are for a user who
    never did it (counts 0, days since = the look-back);
  - the history steps: the HISTORY_CANDIDATES steps tried per row (the latest on the target's
    category, then the latest others), each replaced by padding;
  - the side features: the item's category, brand, shop and vendor each set to unknown (0), the
    user's profile (age, sex, level, place) as one group, and the item statistics (`dense`) set to
    the training mean.
A network with attention also gets `attention_top`: the step its attention weighs most, an extra
column (the attention is not the score's explanation: the CTR tower's weights say little about buying).
"""
import math

import numpy as np
import pandas as pd
import tensorflow as tf

from preprocessing.pipeline.pair_features import ACTION_NAMES, LOOKBACK_DAYS
from preprocessing.processed_data import dense_column_names
from training.loop.input_pipeline import make_dataset

REASONS = 3
HISTORY_CANDIDATES = 5
CHUNK = 256  # rows scored together with all their occluded copies
TOWER_PREFERENCE = ("cvr_tower", "ctr_tower", "tower")  # ESSM's towers, then a single model's
BASIS = "occlusion: the fall of the purchase score (main) when an input group is removed"
VERBS = {"browse": "viewed", "order": "ordered", "follow": "followed", "comment": "commented on", "cart": "carted"}
ITEM_SIDE = ("cate", "brand", "shop", "vendor")
USER_SIDE = ("age", "sex", "user_level", "province", "city", "county")


def _count(value):
    return int(round(math.expm1(value)))


def _pair_phrases(window_days):
    """[(columns, phrase(values) -> text)]: the pair-feature groups and how a row's raw values read."""
    groups = []
    for scope in ("item", "cate"):
        noun = "this item" if scope == "item" else "this category"
        for action in ACTION_NAMES.values():
            groups.append(((f"log_{scope}_{action}s_lookback", f"log_{scope}_{action}s_interaction"),
                           lambda v, noun=noun, verb=VERBS[action]:
                           f"{verb} {noun} {_count(v[0])}× in {LOOKBACK_DAYS} days ({_count(v[1])}× in the last {window_days})"))
    days = lambda d: "none in the look-back" if d >= LOOKBACK_DAYS else f"{d:.1f} days ago"  # noqa: E731
    groups += [
        (("days_since_item",), lambda v: f"last action on this item: {days(v[0])}"),
        (("days_since_cate",), lambda v: f"last action on this category: {days(v[0])}"),
        (("days_since_item_cart_or_follow", "open_cart_or_follow"),
         lambda v: f"carted or followed this item: {days(v[0])}{', not ordered since' if v[1] > 0.5 else ''}"),
        (("days_since_item_order",), lambda v: f"last order of this item: {days(v[0])}"),
        (("log_user_actions_lookback", "log_user_actions_interaction"),
         lambda v: f"{_count(v[0])} actions in {LOOKBACK_DAYS} days ({_count(v[1])} in the last {window_days})"),
        (("item_share_last_20",), lambda v: f"{v[0]:.0%} of the last 20 actions on this item"),
        (("cate_share_last_20",), lambda v: f"{v[0]:.0%} of the last 20 actions on this category"),
        (("log_user_active_days_lookback", "user_active_days_last_7"),
         lambda v: f"active on {_count(v[0])} of the last {LOOKBACK_DAYS} days ({v[1]:.0f} of the last 7)"),
        (("log_user_carts_lookback",), lambda v: f"{_count(v[0])} carts of any item in {LOOKBACK_DAYS} days"),
        (("log_user_orders_lookback",), lambda v: f"{_count(v[0])} orders of any item in {LOOKBACK_DAYS} days"),
        (("log_item_all_browses_lookback", "log_item_all_carts_lookback", "log_item_all_orders_lookback"),
         lambda v: f"this item's {LOOKBACK_DAYS} days among all users: {_count(v[0])} views, {_count(v[1])} carts, "
                   f"{_count(v[2])} orders"),
        (("log_brand_actions_lookback",), lambda v: f"{_count(v[0])} actions on this brand in {LOOKBACK_DAYS} days"),
        (("log_item_decayed_actions",), lambda v: f"fresh interest in this item ({math.expm1(v[0]):.1f} recent-weighted actions)"),
        (("log_cate_decayed_actions",), lambda v: f"fresh interest in this category ({math.expm1(v[0]):.1f} recent-weighted actions)"),
        (("cate_items_last_3_days",), lambda v: f"compared {v[0]:.0f} items of this category in the last 3 days"),
    ]
    return groups


def pair_groups(meta, window_days):
    """[(name, column indices, raw values when removed, phrase)] of the pair features in meta; a column
    no phrase knows gets a group of its own, read as `name = value`."""
    columns = dense_column_names(meta, "pair")
    index = {name: i for i, name in enumerate(columns)}
    groups, covered = [], set()
    for names, phrase in _pair_phrases(window_days):
        if all(name in index for name in names):
            groups.append((names[0], [index[n] for n in names], phrase))
            covered.update(names)
    groups += [(name, [i], lambda v, name=name: f"{name} = {v[0]:.3g}") for name, i in index.items() if name not in covered]
    absent = np.array([LOOKBACK_DAYS if name.startswith("days_since") else 0.0 for name in columns])
    return [(name, rows, absent[rows], phrase) for name, rows, phrase in groups]


def history_candidates(arrays):
    """int64 [N, HISTORY_CANDIDATES]: the steps tried as reasons, the latest on the target's category
    first, then the latest others; -1 where the history holds fewer."""
    present = np.asarray(arrays["hist_item"]) > 0
    same_cate = np.asarray(arrays["hist_cate"]) == np.asarray(arrays["cate"])[:, None]
    return _top_steps(same_cate * present.shape[1] + np.arange(present.shape[1]), present, HISTORY_CANDIDATES)


class Occlusion:
    """The groups of one dataset's features and how each is removed from a batch of per-sample arrays."""

    def __init__(self, meta, window_days):
        self.meta = meta
        names = {f["name"] for f in meta["features"]}
        self.pair = pair_groups(meta, window_days)
        self.item_side = [name for name in ITEM_SIDE if name in names]
        self.user_side = [name for name in USER_SIDE if name in names]
        self.has_dense = "dense" in names
        self.names = ([f"pair:{name}" for name, *_ in self.pair] + [f"item:{name}" for name in self.item_side]
                      + ["user:profile"] * bool(self.user_side) + ["item:statistics"] * self.has_dense
                      + [f"history:{k}" for k in range(HISTORY_CANDIDATES)])

    def removed(self, arrays, group, steps):
        """A copy of the per-sample arrays with group (an index into names) removed; steps: the rows'
        history candidates."""
        out = dict(arrays)
        name = self.names[group]
        if name.startswith("pair:"):
            _, rows, absent, _ = self.pair[group]
            pair = np.array(arrays["pair"], np.float32)
            mean, std = (np.asarray(self.meta["pair"][key], np.float64)[rows] for key in ("mean", "std"))
            pair[:, rows] = ((absent - mean) / std).astype(np.float32)
            out["pair"] = pair
        elif name.startswith("item:") and name != "item:statistics":
            out[name[5:]] = np.zeros_like(arrays[name[5:]])
        elif name == "user:profile":
            out.update({n: np.zeros_like(arrays[n]) for n in self.user_side})
        elif name == "item:statistics":
            out["dense"] = np.zeros_like(arrays["dense"])
        else:
            step = steps[:, int(name.split(":")[1])]
            rows = np.flatnonzero(step >= 0)
            for channel in ("hist_item", "hist_cate", "hist_action"):
                if channel in arrays:
                    values = np.array(arrays[channel])
                    values[rows, step[rows]] = 0
                    out[channel] = values
        return out

    def effects(self, score, arrays):
        """(base [N], effects [N, groups]): the purchase score and its fall without each group (NaN
        for a history candidate the row lacks). score(arrays) -> {"main": [N]}."""
        n = len(arrays["user"])
        base, effects = np.empty(n), np.empty((n, len(self.names)))
        history = np.array([name.startswith("history:") for name in self.names])
        for start in range(0, n, CHUNK):
            part = {name: np.asarray(values[start:start + CHUNK]) for name, values in arrays.items()}
            steps = history_candidates(part)
            copies = [part] + [self.removed(part, g, steps) for g in range(len(self.names))]
            stacked = {name: np.concatenate([c[name] for c in copies]) for name in part}
            scored = np.asarray(score(stacked)["main"], np.float64).reshape(len(copies), -1)
            base[start:start + CHUNK] = scored[0]
            fall = (scored[0] - scored[1:]).T
            fall[:, history] = np.where(steps < 0, np.nan, fall[:, history])
            effects[start:start + CHUNK] = fall
        return base, effects

    def texts(self, group, arrays, vocab, rows):
        """The words of group for the samples rows (object array)."""
        name = self.names[group]
        if name.startswith("pair:"):
            _, columns, _, phrase = self.pair[group]
            pair = np.asarray(arrays["pair"], np.float64)[np.ix_(rows, columns)]
            raw = pair * np.asarray(self.meta["pair"]["std"])[columns] + np.asarray(self.meta["pair"]["mean"])[columns]
            return np.array([phrase(values) for values in raw], dtype=object)
        if name == "user:profile":
            return np.full(len(rows), "the user's profile (" + ", ".join(self.user_side) + ")", dtype=object)
        if name == "item:statistics":
            return np.full(len(rows), "the item's shop and category statistics", dtype=object)
        if name.startswith("item:"):
            feature = name[5:]
            values = vocab[feature][np.asarray(arrays[feature])[rows]] if feature in vocab else np.asarray(arrays[feature])[rows]
            return np.array([f"its {feature} {value}" for value in values], dtype=object)
        step = history_candidates({key: np.asarray(arrays[key])[rows] for key in ("hist_item", "hist_cate", "cate")})
        return step_texts(arrays, vocab, rows, step[:, int(name.split(":")[1])])

    def reasons(self, score, arrays, vocab):
        """DataFrame of reason_{k}_text, reason_{k}_effect (the fall of the score without it) and
        reason_{k}_group (the group's name in self.names), k = 1..REASONS, largest effect first, only
        groups whose removal lowers the score; and p_explained, the score explained."""
        base, effects = self.effects(score, arrays)
        order = np.argsort(-np.nan_to_num(effects, nan=-np.inf), axis=1, kind="stable")[:, :REASONS]
        columns = {"p_explained": base.astype(np.float32)}
        for k in range(REASONS):
            group = order[:, k]
            effect = effects[np.arange(len(base)), group]
            real = effect > 0
            text = np.full(len(base), None, dtype=object)
            for g in np.unique(group[real]):
                rows = np.flatnonzero(real & (group == g))
                text[rows] = self.texts(g, arrays, vocab, rows)
            columns[f"reason_{k + 1}_text"] = text
            columns[f"reason_{k + 1}_effect"] = np.where(real, effect, np.nan).astype(np.float32)
            columns[f"reason_{k + 1}_group"] = np.where(real, np.array(self.names, dtype=object)[group], None)
        return pd.DataFrame(columns)


def step_texts(arrays, vocab, rows, step):
    """'carted this item on 2020-04-10 14:00' and the like for history step `step` of rows (None where -1)."""
    at = np.maximum(step, 0)[:, None]
    picked = {name: np.take_along_axis(np.asarray(arrays[name])[rows], at, axis=1)[:, 0]
              for name in ("hist_item", "hist_cate", "hist_action", "hist_time") if name in arrays}
    verbs = np.array(["acted on"] + [VERBS[ACTION_NAMES[code]] for code in range(1, 6)], dtype=object)
    verb = pd.Series(verbs[picked.get("hist_action", np.zeros(len(rows), int))])
    item = pd.Series(vocab["item"][picked["hist_item"]]).astype(str)
    cate = pd.Series(vocab["cate"][picked["hist_cate"]]).astype(str)
    same_item = picked["hist_item"] == np.asarray(arrays["item"])[rows]
    same_cate = picked["hist_cate"] == np.asarray(arrays["cate"])[rows]
    what = ("item " + item + np.where(same_cate, " of this category", " of category " + cate)).where(~same_item, "this item")
    text = verb + " " + what
    if "hist_time" in picked:
        text = text + " on " + pd.to_datetime(pd.Series(picked["hist_time"]), unit="s").dt.strftime("%Y-%m-%d %H:%M")
    return np.where(step >= 0, text.to_numpy(object), None)


# ---------------------------------------------------------------- attention, an extra column


def attention_tower(net):
    """(layer name, tower) of the tower with attention weights, or (None, None)."""
    if net is None:
        return None, None
    names = {layer.name for layer in net.layers}
    for name in TOWER_PREFERENCE:
        if name in names and hasattr(net.get_layer(name), "attention_weights"):
            return name, net.get_layer(name)
    return None, None


def attention_basis(net):
    """Whose attention fills attention_top, in words, or None."""
    name, tower = attention_tower(net)
    if tower is None:
        return None
    return f"attention weights of the {type(tower).__name__.removesuffix('Tower')} {name.replace('_', ' ')}"


def attention_weights(net, arrays, meta, batch_size):
    """float32 [N, T]: the attention tower's weight of every step of every sample (0 on padding)."""
    _, tower = attention_tower(net)
    embedding = net.get_layer("embedding")
    weigh = tf.function(lambda inputs: tower.attention_weights(embedding(inputs)))
    batches = make_dataset(arrays, meta, batch_size)
    return np.concatenate([weigh(features).numpy() for features, _ in batches], axis=0)


def attention_top(net, arrays, meta, vocab, batch_size):
    """Object [N]: the step of largest attention in words (later steps first among equals)."""
    weights = attention_weights(net, arrays, meta, batch_size)
    step = _top_steps(weights, np.asarray(arrays["hist_item"]) > 0, 1)[:, 0]
    return step_texts(arrays, vocab, np.arange(len(step)), step)


def _top_steps(priority, present, count):
    """(steps [N, count] int64, -1 where the history has fewer real steps): the real steps of highest
    priority, later steps first among equals."""
    steps = priority.shape[1]
    keyed = np.where(present, priority, -np.inf)[:, ::-1]  # reversed: a stable sort then prefers later steps
    order = np.argsort(-keyed, axis=1, kind="stable")[:, :count]
    chosen = steps - 1 - order
    return np.where(np.take_along_axis(present, chosen, axis=1), chosen, -1)
