"""The record of runs: one row per trained seed in runs.csv, and the printed summary table."""
import csv
import fcntl
import io
import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd

from errors import PipelineError
from training.record import metric_catalogue

COLUMNS = (["run_id", "start_time", "dataset", "model", "ctr_model", "cvr_model", "config", "study",
            "changed_settings", "seed"]
           + metric_catalogue.columns()
           + ["best_step", "epochs", "train_seconds", "train_samples_per_second", "fit_iterations"])
# best_step and epochs (passes over the training split) are a network's, empty for a baseline;
# fit_iterations is a baseline's (its solver iterations or boosting rounds), empty for a network
NUMBERS = [c for c in COLUMNS if c == "seed" or c.startswith(("dev_", "test_")) or c in (
    "best_step", "epochs", "train_seconds", "train_samples_per_second", "fit_iterations")]  # numbers or empty


def _header_kind(header):
    """"current" when header holds every column of COLUMNS (extra ones after them, as written here),
    "older" when it is this program's from an older version (run_id first, its known columns in the
    order of COLUMNS), else None: a file another program wrote, never rewritten."""
    if not header or header[0] != "run_id":
        return None
    if set(COLUMNS) <= set(header):
        return "current"
    known = [c for c in header if c in COLUMNS]
    return "older" if known == sorted(known, key=COLUMNS.index) and len(set(header)) == len(header) else None


def read_checked(path):
    """The runs.csv at path as a DataFrame of text cells after checking that it is one this program
    writes: UTF-8, its header, each row with the header's number of fields, the last line ended,
    numbers where numbers go. PipelineError naming the file and line otherwise."""
    try:
        text = path.read_bytes().decode("utf-8-sig")  # a spreadsheet may have added a byte-order mark
    except UnicodeDecodeError as err:
        raise PipelineError(f"{path}: byte {err.start} is not UTF-8 text: not a runs.csv this program wrote "
                            "(binary or damaged); move it away") from None
    except OSError as err:
        raise PipelineError(f"{path}: cannot be read ({err.strerror or err})") from None
    if text and not text.endswith("\n"):
        raise PipelineError(f"{path}: its last line has no line break (truncated?); repair or move it away")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        rows = []
        for row in reader:
            rows.append(row)
            if len(rows) > 1 and len(row) != len(rows[0]):
                raise PipelineError(f"{path} line {reader.line_num}: {len(row)} fields, its header has {len(rows[0])} "
                                    "(truncated or edited?); repair or move it away")
    except csv.Error as err:
        raise PipelineError(f"{path} line {reader.line_num}: not CSV ({err}); repair or move it away") from None
    if not rows or _header_kind(rows[0]) is None:
        shown = ",".join(rows[0])[:80] if rows else "(empty file)"
        raise PipelineError(f"{path}: header {shown!r} is not one this program writes (run_id first, then the "
                            "columns of training/record/runs_log.py); move it away or choose another results_dir")
    runs = pd.DataFrame(rows[1:], columns=rows[0], dtype=str)
    for column in (c for c in NUMBERS if c in runs):
        bad = pd.to_numeric(runs[column], errors="coerce").isna() & (runs[column] != "")
        if bad.any():
            line = int(np.argmax(bad.to_numpy())) + 2
            raise PipelineError(f"{path} line {line}: {column} {runs[column][bad].iloc[0]!r} is not a number; "
                                "repair or move it away")
    return runs


def check_appendable(results_dir):
    """PipelineError unless results_dir can be written and a run appended to its runs.csv (absent, or
    one this program writes): checked before training, so no run is trained only to be refused at the end."""
    path = Path(results_dir) / "runs.csv"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.parent / f".writable-{os.getpid()}", "w") as probe:
            os.unlink(probe.name)
    except OSError as err:
        raise PipelineError(f"results_dir={results_dir}: cannot be written ({err.strerror or err}); "
                            "choose a writable folder") from None
    if os.path.lexists(path):
        if not path.is_file():
            raise PipelineError(f"{path}: exists and is not a file; move it away or choose another results_dir")
        read_checked(path)


def append_run(results_dir, row):
    """Appends one run to results_dir/runs.csv (header written with the first row). Runs finishing
    at once each land a whole row: the file is locked (fcntl) while a row is written. A file of an older
    version of this program (its header lacks some of COLUMNS) is first rewritten with them added, its
    rows kept; a file another program wrote is refused (read_checked), never rewritten."""
    path = Path(results_dir) / "runs.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    cells = {"config": _changed_setting(row, "config"), "study": _changed_setting(row, "study"), **row}
    while True:
        with open(path, "a+", newline="") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            if not _is_current(handle, path):
                continue  # another run replaced the file while this one waited: lock the new one
            handle.seek(0, os.SEEK_END)
            header = list(read_checked(path).columns) if handle.tell() else None
            if header is not None and _header_kind(header) == "older":
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
    """The metrics of the rows (one per seed) as mean ± std, one metric a line: those of dev and test
    in two columns, then those of test alone (the ranked lists)."""
    both = [m for m in metric_catalogue.CATALOGUE if "dev" in m.splits]
    lines = [f"{'metric':<10}{'dev':>20}{'test':>20}"]
    for metric in both:
        cells = [mean_std_text([row.get(f"{split}_{metric.name}") for row in rows]) for split in ("dev", "test")]
        if any(cells):
            lines.append(f"{metric.title:<10}{cells[0]:>20}{cells[1]:>20}")
    test_only = [m for m in metric_catalogue.CATALOGUE if "dev" not in m.splits]
    width = max(len(metric.title) for metric in test_only)
    for metric in test_only:
        cell = mean_std_text([row.get(f"test_{metric.name}") for row in rows])
        if cell:
            lines.append(f"{metric.title:<{width}}{cell:>{50 - width}}")
    return "\n".join(lines)
