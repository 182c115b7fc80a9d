"""The record of runs: one row per trained seed in runs.csv, and the printed summary table."""
import csv
import fcntl
import io
import json
import math
import os
from pathlib import Path

import numpy as np

from training.list_metrics import LIST_METRICS, TITLES as LIST_TITLES

METRICS = ("main_auc", "cvr_auc", "ctr_auc", "gauc", "logloss")
METRIC_TITLES = {"main_auc": "Main AUC", "cvr_auc": "CVR AUC", "ctr_auc": "CTR AUC", "gauc": "GAUC",
                 "logloss": "log loss"}
COLUMNS = (["run_id", "start_time", "dataset", "model", "ctr_model", "cvr_model", "config", "study",
            "changed_settings", "seed"]
           + [f"{split}_{metric}" for split in ("dev", "test") for metric in METRICS]
           + [f"test_{metric}" for metric in LIST_METRICS]
           + ["best_step", "epochs", "train_seconds", "train_samples_per_second"])


def append_run(results_dir, row):
    """Appends one run to results_dir/runs.csv (header written with the first row). Runs finishing
    at once each land a whole row: the file is locked (fcntl) while a row is written. A file whose
    header lacks some of COLUMNS is first rewritten with them added, its rows kept."""
    path = Path(results_dir) / "runs.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    cells = {"config": _changed_setting(row, "config"), "study": _changed_setting(row, "study"), **row}
    while True:
        with open(path, "a+", newline="") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            if not _is_current(handle, path):
                continue  # another run replaced the file while this one waited: lock the new one
            handle.seek(0)
            header = next(csv.reader(handle), None)
            if header is not None and not set(COLUMNS) <= set(header):
                _add_columns(path, handle, header)
                continue
            if header is None:
                header = list(COLUMNS)
                handle.write(_csv_line(header))
            handle.write(_csv_line([_cell(cells.get(key)) if key in COLUMNS else "" for key in header]))
            handle.flush()
            return path


def _is_current(handle, path):
    try:
        return os.fstat(handle.fileno()).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        return False


def _csv_line(values):
    line = io.StringIO()
    csv.writer(line).writerow(values)
    return line.getvalue()


def _add_columns(path, handle, header):
    """Rewrites runs.csv (locked by handle) with COLUMNS followed by any other columns it had, every
    row kept; written beside it and renamed over it."""
    handle.seek(0)
    rows = list(csv.DictReader(handle))
    columns = list(COLUMNS) + [c for c in header if c not in COLUMNS]
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    with open(temporary, "w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(rows)
    os.replace(temporary, path)


def _changed_setting(row, key):
    """One of the run's changed settings, given its own column: the preset file(s) the settings
    started from (config=...) or the study the run belongs to (study=...); "" when not changed."""
    return (row.get("changed_settings") or {}).get(key, "")


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


def mean_std_text(values, digits=4):
    """"mean ± std" of several values; a single value alone, since one seed measures no spread;
    "" when none is defined."""
    defined = [v for v in values if v is not None and not math.isnan(v)]
    mean, std = mean_std(defined)
    if math.isnan(mean):
        return ""
    return f"{mean:.{digits}f}" if len(defined) == 1 else f"{mean:.{digits}f} ± {std:.{digits}f}"


def summary_table(rows):
    """The dev and test metrics of the rows (one per seed) as mean ± std, one metric a line."""
    lines = [f"{'metric':<10}{'dev':>20}{'test':>20}"]
    for metric in METRICS:
        cells = [mean_std_text([row.get(f"{split}_{metric}") for row in rows]) for split in ("dev", "test")]
        if any(cells):
            lines.append(f"{METRIC_TITLES[metric]:<10}{cells[0]:>20}{cells[1]:>20}")
    # the lists are judged on test only (training.list_metrics)
    width = max(len(title) for title in LIST_TITLES.values())
    for metric in LIST_METRICS:
        cell = mean_std_text([row.get(f"test_{metric}") for row in rows])
        if cell:
            lines.append(f"{LIST_TITLES[metric]:<{width}}{cell:>{50 - width}}")
    return "\n".join(lines)
