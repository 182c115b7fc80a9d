"""The processed data a run trains on: its splits, feature description and item2vec matrix, built
first when missing or stale, and refused when a split cannot train or be scored.

    meta, data, item2vec = load_data(cfg)      # data: {"train" | "dev" | "test": {array name: array}}
"""
import numpy as np

from errors import PipelineError
from preprocessing.pipeline.build_dataset import ensure_dataset
from preprocessing.processed_data import load_array, load_meta, load_split

SPLITS = ("train", "dev", "test")


def load_data(cfg):
    """The processed splits, feature description and item2vec matrix; checks every split is usable."""
    processed = ensure_dataset(cfg)
    meta = load_meta(processed)
    data = {split: load_split(processed, split) for split in SPLITS}
    for split, arrays in data.items():
        if len(arrays["label_buy"]) == 0:
            raise PipelineError(f"{processed / split}: the {split} split is empty; use more data or other windows")
        if not np.any(arrays["label_buy"] > 0):
            raise PipelineError(f"{processed / split}/label_buy.npy: the {split} split has no purchase; "
                                "AUC is undefined, use more data or longer windows")
    item2vec = load_array(processed / meta["item2vec"]) if meta.get("item2vec") else None
    if item2vec is not None and item2vec.shape != (meta["vocab_sizes"]["item"], meta["embed_dim"]):
        raise PipelineError(f"{processed / meta['item2vec']}: shape {item2vec.shape}, expected "
                            f"({meta['vocab_sizes']['item']}, {meta['embed_dim']}); rebuild: sh scr/pre_processing.sh")
    return meta, data, item2vec
