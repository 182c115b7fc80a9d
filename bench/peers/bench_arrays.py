"""The folder of arrays every benchmark run trains on: `meta.json` (the processed data's feature
description), `bench.json` (batch and layer sizes) and one `{name}.npy` per feature and label.

Read by our models' runs and by the peer runners alike (numpy only, so it loads in any environment).
"""
import json
import os

import numpy as np

LABELS = ("label_buy", "label_interact")


def array_names(meta):
    return [feature["name"] for feature in meta["features"]] + list(LABELS)


def write_folder(folder, meta, arrays, sizes):
    """Writes the folder (which must exist and be empty or disposable)."""
    for name in array_names(meta):
        np.save(os.path.join(folder, f"{name}.npy"), np.ascontiguousarray(arrays[name]), allow_pickle=False)
    for file_name, value in (("meta.json", meta), ("bench.json", sizes)):
        with open(os.path.join(folder, file_name), "w") as handle:
            json.dump(value, handle)


def load_folder(folder):
    """(meta, arrays by name, sizes) as written by write_folder."""
    with open(os.path.join(folder, "meta.json")) as handle:
        meta = json.load(handle)
    with open(os.path.join(folder, "bench.json")) as handle:
        sizes = json.load(handle)
    arrays = {name: np.load(os.path.join(folder, f"{name}.npy"), allow_pickle=False)
              for name in array_names(meta)}
    return meta, arrays, sizes
