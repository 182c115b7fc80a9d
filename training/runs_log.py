"""The record of runs: one row per trained seed in runs.csv, and the printed summary table."""
import csv
import json
import math
from pathlib import Path

import numpy as np

METRICS = ("main_auc", "cvr_auc", "ctr_auc", "gauc", "logloss")
METRIC_TITLES = {"main_auc": "Main AUC", "cvr_auc": "CVR AUC", "ctr_auc": "CTR AUC", "gauc": "GAUC",
                 "logloss": "log loss"}
COLUMNS = (["run_id", "start_time", "model", "ctr_model", "cvr_model", "config", "changed_settings", "seed"]
           + [f"{split}_{metric}" for split in ("dev", "test") for metric in METRICS]
           + ["best_step", "epochs", "train_seconds", "train_samples_per_second"])


def append_run(results_dir, row):
    """Appends one run to results_dir/runs.csv (header written with the first row)."""
    path = Path(results_dir) / "runs.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists() or path.stat().st_size == 0
    with open(path, "a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, extrasaction="ignore")
        if new:
            writer.writeheader()
        cells = {"config": _preset_of(row), **row}
        writer.writerow({key: _cell(cells.get(key)) for key in COLUMNS})
    return path


def _preset_of(row):
    """The preset file(s) the run's settings started from (config=...), one of its changed settings."""
    return (row.get("changed_settings") or {}).get("config", "")


def _cell(value):
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.6g}"
    return "" if value is None else value


def mean_std(values):
    """Mean and sample standard deviation (0 for a single value), ignoring undefined values."""
    values = np.asarray([v for v in values if v is not None and not math.isnan(v)], dtype=np.float64)
    if values.size == 0:
        return float("nan"), float("nan")
    return float(values.mean()), float(values.std(ddof=1)) if values.size > 1 else 0.0


def summary_table(rows):
    """The dev and test metrics of the rows (one per seed) as mean ± std, one metric a line."""
    lines = [f"{'metric':<10}{'dev':>20}{'test':>20}"]
    for metric in METRICS:
        cells = []
        for split in ("dev", "test"):
            mean, std = mean_std([row.get(f"{split}_{metric}") for row in rows])
            cells.append("" if math.isnan(mean) else f"{mean:.4f} ± {std:.4f}")
        if any(cells):
            lines.append(f"{METRIC_TITLES[metric]:<10}{cells[0]:>20}{cells[1]:>20}")
    return "\n".join(lines)
