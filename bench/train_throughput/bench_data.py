"""The arrays every run of the benchmark trains on: the training split of a processed-data folder, or
generated arrays of the same form (docs/data.md, "Processed data")."""
from pathlib import Path

import numpy as np

from bench.peers import bench_arrays

# Vocabulary sizes of the generated arrays (n + 1, index 0 being padding), of a mid-sized real log.
GENERATED_VOCAB = {"item": 50_000, "cate": 500, "brand": 5_000, "shop": 8_000, "vendor": 4_000,
                   "age": 8, "sex": 4, "user_level": 8, "province": 40, "city": 400, "county": 3_000,
                   "action": 6}
GENERATED_DENSE_DIM = 8
TARGET_ACTION = 2  # order, as in preprocessing


def generated_meta(max_len):
    """A feature description of the processed data's form."""
    target = [{"name": name, "kind": "sparse", "vocab": name, "group": "target"} for name in ("item", "cate")]
    item = [{"name": name, "kind": "sparse", "vocab": name, "group": "item"} for name in ("brand", "shop", "vendor")]
    user = [{"name": name, "kind": "sparse", "vocab": name, "group": "user"}
            for name in ("age", "sex", "user_level", "province", "city", "county")]
    sequences = [{"name": f"hist_{vocab}", "kind": "sequence", "vocab": vocab, "max_len": max_len, "target": target}
                 for vocab, target in (("item", "item"), ("cate", "cate"), ("action", None))]
    dense = [{"name": "dense", "kind": "dense", "dim": GENERATED_DENSE_DIM,
              "columns": [f"dense_{i}" for i in range(GENERATED_DENSE_DIM)]}]
    return {"features": target + item + user + sequences + dense, "vocab_sizes": dict(GENERATED_VOCAB),
            "target_action": TARGET_ACTION, "item2vec": None}


def generated_arrays(meta, rows, seed):
    """Random arrays for `meta`: ids uniform over each vocabulary, histories of uniform length in
    1..max_len padded in front, actions 1-5, buys about 2% and interactions about 10% (every buyer
    interacts)."""
    rng = np.random.default_rng(seed)
    vocab = meta["vocab_sizes"]
    max_len = next(f["max_len"] for f in meta["features"] if f["kind"] == "sequence")
    real = np.arange(max_len)[None, :] >= max_len - rng.integers(1, max_len + 1, size=rows)[:, None]
    arrays = {}
    for feature in meta["features"]:
        name, kind = feature["name"], feature["kind"]
        if kind == "sparse":
            arrays[name] = rng.integers(1, vocab[feature["vocab"]], size=rows, dtype=np.int32)
        elif kind == "sequence":
            ids = rng.integers(1, vocab[feature["vocab"]], size=(rows, max_len), dtype=np.int32)
            arrays[name] = np.where(real, ids, 0).astype(np.int32)
        else:
            arrays[name] = rng.standard_normal((rows, feature["dim"]), dtype=np.float32)
    buy = rng.random(rows) < 0.02
    arrays["label_buy"] = buy.astype(np.float32)
    arrays["label_interact"] = (buy | (rng.random(rows) < 0.08)).astype(np.float32)
    return arrays


def processed_arrays(folder, rows):
    """(meta, arrays): the training split of a processed-data folder, cycled to `rows` rows."""
    from preprocessing.processed_data import load_meta, load_split

    meta = load_meta(Path(folder))
    split = load_split(Path(folder), "train")
    index = np.arange(rows) % len(split["label_buy"])
    return meta, {name: split[name][index] for name in bench_arrays.array_names(meta)}
