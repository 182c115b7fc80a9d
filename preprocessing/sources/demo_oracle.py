"""The demo data's oracle, per sample of a processed split: the ceiling every model is read against.

The generator (preprocessing.sources.make_demo_data) writes demo_oracle.parquet beside the raw tables: each
pair's chance of an order (p_buy) and of any action (p_interact) in the newest label range, given the
simulation's whole latent state at the start of that range. A model can at best learn those chances
from the log, so their AUC on dev and test is what a perfect model would score on the same labels.

    oracle_predictions(raw_dir, processed_dir, "test")  # {"main": p_buy, "ctr": p_interact} or None
    oracle_unavailable_reason(raw_dir, processed_dir)   # why it is None

It is given only when it provably describes the processed samples: raw_dir holds a demo set exactly as
the generator wrote it (its signed marker vouches for every file), the processed dataset was built
from those raw files (same fingerprint) and its newest window's label range is the oracle's range.
A real log, other window settings or a dataset built elsewhere never get a wrong oracle.
"""
import json
import pathlib

import numpy as np
import pandas as pd

from errors import PipelineError
from preprocessing.pipeline.build_dataset import raw_fingerprint
from preprocessing.processed_data import META
from preprocessing.sources import make_demo_data

ORACLE_SPLITS = ("dev", "test")  # the newest window's samples, which the oracle's label range labels
KEY = ["user_log_acct", "item_sku_id"]


def oracle_unavailable_reason(raw_dir, processed_dir):
    """Why oracle_predictions gives None for these folders, as one line; None when the oracle applies."""
    raw_dir, processed_dir = pathlib.Path(raw_dir), pathlib.Path(processed_dir)
    if not (raw_dir / make_demo_data.ORACLE_FILE).is_file():
        return f"raw_dir={raw_dir} holds no {make_demo_data.ORACLE_FILE} (only generated demo data have an oracle)"
    problem = make_demo_data.signature_problem(raw_dir)
    if problem:
        return f"raw_dir={raw_dir}: {problem}, so its oracle may not describe its tables"
    oracle = json.loads((raw_dir / make_demo_data.MARKER).read_text()).get("oracle")
    if not isinstance(oracle, dict) or "label" not in oracle:
        return f"raw_dir={raw_dir}: its {make_demo_data.MARKER} records no oracle label range"
    try:
        meta = json.loads((processed_dir / META).read_text())
    except (OSError, ValueError):
        return f"processed_dir={processed_dir} holds no readable {META}"
    if meta.get("raw_fingerprint") is None or meta.get("raw_fingerprint") != raw_fingerprint(raw_dir):
        return f"processed_dir={processed_dir} was not built from the raw files in raw_dir={raw_dir}"
    label = (meta.get("windows") or [{}])[0].get("label")
    if label != oracle["label"]:
        return (f"processed_dir={processed_dir}: the newest label range {label[0]}..{label[1]} is not the oracle's "
                f"{oracle['label'][0]}..{oracle['label'][1]} (window_days={oracle['window_days']})")
    return None


def oracle_predictions(raw_dir, processed_dir, split):
    """{"main": p_buy, "ctr": p_interact}, float64 arrays in the row order of the processed split (dev or
    test), or None when the oracle does not apply (oracle_unavailable_reason says why). PipelineError
    for another split, or a sample the oracle lacks: it covers every pair acting in the interaction
    range by construction, so a missing one means the folders do not belong together."""
    if split not in ORACLE_SPLITS:
        raise PipelineError(f"split={split!r}: the oracle covers the newest window only; expected one of "
                            f"{', '.join(ORACLE_SPLITS)}")
    if oracle_unavailable_reason(raw_dir, processed_dir) is not None:
        return None
    raw_dir, processed_dir = pathlib.Path(raw_dir), pathlib.Path(processed_dir)
    samples = pd.MultiIndex.from_arrays([_raw_ids(processed_dir, split, "user"), _raw_ids(processed_dir, split, "item")])
    oracle = pd.read_parquet(raw_dir / make_demo_data.ORACLE_FILE)
    rows = pd.MultiIndex.from_frame(oracle[KEY]).get_indexer(samples)
    missing = rows < 0
    if missing.any():
        raise PipelineError(f"{raw_dir / make_demo_data.ORACLE_FILE}: {int(missing.sum())} of the {len(rows)} {split} "
                            f"samples (e.g. user {samples[np.argmax(missing)][0]}, item {samples[np.argmax(missing)][1]}) "
                            "have no row; expected every pair acting in the interaction range")
    return {"main": oracle["p_buy"].to_numpy(np.float64)[rows], "ctr": oracle["p_interact"].to_numpy(np.float64)[rows]}


def _raw_ids(processed_dir, split, name):
    """The raw user or item id of each sample of a split: its index looked up in the vocabulary."""
    vocab = np.load(processed_dir / "vocab" / f"{name}.npy", allow_pickle=False)
    return vocab[np.load(processed_dir / split / f"{name}.npy", allow_pickle=False)]
