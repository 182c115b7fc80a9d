"""Per-sample predictions of a run (predictions.parquet in its folder), so two runs can be compared
on the very same samples: raw user and item ids, split, both labels and every probability."""
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from errors import PipelineError
from preprocessing.processed_data import load_array

FILE = "predictions.parquet"


def write_predictions(run_dir, processed_dir, data, predictions):
    """predictions: {split: {"main": [N], optionally "ctr", "cvr"}}; written to a temporary file and
    renamed, so a killed run never leaves half a file."""
    vocab = {name: load_array(Path(processed_dir) / "vocab" / f"{name}.npy") for name in ("user", "item")}
    frames = []
    for split, outputs in predictions.items():
        arrays = data[split]
        frame = pd.DataFrame({"user_id": vocab["user"][np.asarray(arrays["user"])],
                              "item_id": vocab["item"][np.asarray(arrays["item"])],
                              "split": split,
                              "label_buy": np.asarray(arrays["label_buy"], dtype=np.int8),
                              "label_interact": np.asarray(arrays["label_interact"], dtype=np.int8)})
        for name in ("main", "ctr", "cvr"):
            if name in outputs:
                frame[f"p_{name}"] = np.asarray(outputs[name], dtype=np.float32)
        frames.append(frame)
    path = Path(run_dir) / FILE
    partial = path.with_name(f".{FILE}.partial-{os.getpid()}")
    pd.concat(frames, ignore_index=True).to_parquet(partial, index=False)
    partial.rename(path)
    return path


COLUMNS = ("user_id", "item_id", "split", "label_buy", "label_interact", "p_main")


def read_predictions(run_dir):
    """The run's predictions.parquet; PipelineError naming it when it is damaged or lacks a column."""
    path = Path(run_dir) / FILE
    try:
        frame = pd.read_parquet(path)
    except FileNotFoundError:
        raise PipelineError(f"{path}: missing; the run did not finish or was made before runs kept predictions") from None
    except (OSError, ValueError, pa.ArrowException) as err:
        reason = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise PipelineError(f"{path}: truncated or corrupt ({reason}); train the run again or move it away") from None
    missing = [column for column in COLUMNS if column not in frame]
    if missing:
        raise PipelineError(f"{path}: no column {', '.join(missing)}; not predictions this program wrote")
    return frame
