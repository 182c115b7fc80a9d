"""A small generated dataset in the processed-data format, with signals the models can learn.

Every user has a favourite category; most of their history (item, category, action type) comes
from it and items of one category are numbered together, so the next behaviour is predictable.
A sample interacts again mostly when its target is in the favourite category, and buys (always
a subset of the interactions) mostly when the user is a buyer, whose history shows many carts and
orders (action types 5 and 2) and whose first dense feature is a little higher, and when the
user's level is high. Seeded and deterministic.
"""
import numpy as np

import configurator
from preprocessing.processed_data import describe_features

ITEMS = 120
CATEGORIES = 12
ITEMS_PER_CATEGORY = ITEMS // CATEGORIES
SIDE_VOCABS = {"brand": 16, "shop": 16, "vendor": 8, "age": 7, "sex": 3, "user_level": 6,
               "province": 5, "city": 9, "county": 12}
ORDER, CART = 2, 5
DENSE_DIM = 3


def make_meta(max_len=20):
    """meta.json's model-facing fields, described as preprocessing describes them."""
    vocab_sizes = {"item": ITEMS + 1, "cate": CATEGORIES + 1, "action": 6,
                   **{name: size + 1 for name, size in SIDE_VOCABS.items()}}
    features = describe_features(max_len, {"dense": ["a", "b", "c"][:DENSE_DIM]}, vocab_sizes)
    return {"features": features, "vocab_sizes": vocab_sizes, "target_action": ORDER, "embed_dim": 8,
            "max_len": max_len}


def category_of(items):
    return np.where(items > 0, (items - 1) // ITEMS_PER_CATEGORY + 1, 0)


def make_arrays(n, max_len=20, seed=0, buy_scale=1.0):
    """{feature and label name: array} for n samples; buy_scale < 1 makes buys rarer (every buy
    rate multiplied by it), as rare as the real task's, where a model's calibration shows."""
    rng = np.random.default_rng(seed)
    favourite = rng.integers(1, CATEGORIES + 1, n)
    lengths = rng.integers(1, max_len + 1, n)
    from_favourite = rng.random((n, max_len)) < 0.8
    categories = np.where(from_favourite, favourite[:, None], rng.integers(1, CATEGORIES + 1, (n, max_len)))
    hist_item = (categories - 1) * ITEMS_PER_CATEGORY + rng.integers(1, ITEMS_PER_CATEGORY + 1, (n, max_len))
    buyer = rng.random(n) < 0.5
    action_odds = np.where(buyer[:, None], [0.3, 0.25, 0.05, 0.05, 0.35], [0.8, 0.02, 0.08, 0.08, 0.02])
    drawn = (rng.random((n, max_len))[..., None] > np.cumsum(action_odds, 1)[:, None, :]).sum(-1)
    hist_action = 1 + np.minimum(drawn, 4)
    padding = np.arange(max_len)[None, :] < (max_len - lengths)[:, None]
    hist_item[padding] = 0
    hist_action[padding] = 0
    target_in_favourite = rng.random(n) < 0.5
    target_category = np.where(target_in_favourite, favourite, rng.integers(1, CATEGORIES + 1, n))
    item = (target_category - 1) * ITEMS_PER_CATEGORY + rng.integers(1, ITEMS_PER_CATEGORY + 1, n)
    side = {name: rng.integers(1, size + 1, n) for name, size in SIDE_VOCABS.items()}
    dense = rng.normal(size=(n, DENSE_DIM))
    dense[:, 0] += buyer  # a weak hint, as a shop's score would be
    interact = rng.random(n) < np.where(target_in_favourite, 0.9, 0.1)
    buy_rate = 0.1 + 0.6 * buyer + 0.3 * (side["user_level"] >= 4)
    buy = interact & (rng.random(n) < buy_scale * buy_rate)
    arrays = {"item": item, "cate": category_of(item), **side, "dense": dense,
              "hist_item": hist_item, "hist_cate": category_of(hist_item), "hist_action": hist_action,
              "label_buy": buy, "label_interact": interact}
    dtypes = {"dense": np.float32, "label_buy": np.float32, "label_interact": np.float32}
    return {k: v.astype(dtypes.get(k, np.int32)) for k, v in arrays.items()}


def make_item2vec(embed_dim, scale=0.3, seed=0):
    """An item2vec-like initial item table [ITEMS + 1, embed_dim]: items of one category near each
    other, on the scale of gensim's vectors on the demo data (std about 0.35, where a fresh
    embedding's is 0.03), so pooled histories are as large as they are in the real task."""
    rng = np.random.default_rng(seed)
    centres = np.repeat(rng.normal(0.0, scale, (CATEGORIES, embed_dim)), ITEMS_PER_CATEGORY, axis=0)
    items = centres + rng.normal(0.0, scale / 2, (ITEMS, embed_dim))
    return np.concatenate([np.zeros((1, embed_dim)), items]).astype(np.float32)


def feature_inputs(arrays, meta):
    """The model inputs (features only) of an arrays dict."""
    return {f["name"]: arrays[f["name"]] for f in meta["features"]}


def small_settings(**overrides):
    """config.py's settings with layer sizes small enough for fast tests."""
    values = {"embed_dim": 8, "mlp_units": [32, 16], "attention_units": [16, 8], "dien_gru_units": 8,
              "dien_augru_units": 8, "dien_aux_units": [16], "gru_units": 16}
    values.update(overrides)
    return configurator.load([], **values)


def repad(arrays, max_len):
    """The same samples with their sequences front-padded to max_len (shorter: only padding is cut)."""
    out = dict(arrays)
    for name in ("hist_item", "hist_cate", "hist_action"):
        seq = arrays[name]
        cut = seq.shape[1] - max_len
        if cut > 0:
            assert not seq[:, :cut].any(), "repad would cut real behaviours"
            out[name] = seq[:, cut:]
        else:
            out[name] = np.pad(seq, ((0, 0), (-cut, 0)))
    return out

