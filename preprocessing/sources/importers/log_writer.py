"""Writes an imported log as the raw-data contract (README "Raw data") into raw_dir, all at once.

actions.parquet is written chunk by chunk into a hidden temporary folder beside raw_dir (signed_folder),
then items.parquet, users.parquet and the window settings that fit the log's span
(proposed_settings.json, used whenever raw_dir is processed unless given otherwise:
preprocessing/sources/import_proposal.py); the folder is sealed with the signed marker imported.json
(format, sources, settings, summary, and every file written) and renamed onto raw_dir only when every
source was read without error. raw_dir is replaced only when it is absent, empty or an earlier import
exactly as sealed; any other content, a generated demo set or an unsigned imported.json included, is
refused and left exactly as it was.

Side attributes a format does not have are written as missing values (Parquet nulls), which the
loader accepts and sets to its reserved unknown value; ids seen in actions but absent from a
publisher's side table get a row of missing attributes.
"""
import collections
import pathlib

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

import configurator
import errors
import signed_folder
from preprocessing import raw_data
from preprocessing.pipeline.windows import fitting_settings
from preprocessing.sources import import_proposal
from preprocessing.sources.importers.key_counts import KeyCounts

MARKER = signed_folder.IMPORTED_RAW.marker  # format, sources, settings, summary and files of the import
TABLE_FILES = {"actions": "actions.parquet", "items": "items.parquet", "users": "users.parquet"}
COMPRESSION = "lz4"  # about twice as fast to write as snappy at the same size; the import's slowest step
NAMES = {1: "browse", 2: "order", 3: "follow", 4: "comment", 5: "cart"}
TIME_RANGE = tuple(int(pd.Timestamp(t).timestamp()) for t in ("1678-01-01", "2262-01-01"))  # datetime64[ns]'s years


def check_destination(raw_dir):
    """Raises PipelineError unless raw_dir may be replaced by an import (see the module docstring)."""
    signed_folder.check_replaceable(pathlib.Path(raw_dir), signed_folder.IMPORTED_RAW, "raw_dir")


class ImportedLog:
    """The destination of one import: add_actions() per chunk, items/users frames, repair() counts;
    commit() writes and renames. Used as a context manager, which removes the temporary folder on error."""

    def __init__(self, raw_dir):
        self.raw_dir = pathlib.Path(raw_dir)
        self.staging = signed_folder.stage(self.raw_dir, signed_folder.IMPORTED_RAW, "raw_dir")
        self.writer = None
        self.users = KeyCounts(["user_log_acct"])
        self.items = KeyCounts(["item_sku_id"])
        self.type_counts = np.zeros(6, np.int64)
        self.first = self.last = None
        self.item_table = None  # DataFrame: item_sku_id and whichever item attributes the format has
        self.user_table = None  # DataFrame: user_log_acct and whichever user attributes the format has
        self.repairs = collections.Counter()
        self.notes = []

    def __enter__(self):
        return self

    def __exit__(self, *failure):
        if self.writer is not None:
            self.writer.close()
        signed_folder.discard(self.staging, signed_folder.IMPORTED_RAW)

    def add_actions(self, users, items, seconds, types):
        """One chunk: user and item ids (arrow or numpy), wall-clock times as int64 seconds since
        1970-01-01, action types 1-5."""
        chunk = pa.table({"user_log_acct": users, "item_sku_id": items,
                          "action_time": pa.array(np.asarray(seconds, np.int64)).cast(pa.timestamp("s")),
                          "action_type": pa.array(np.asarray(types, np.int8))})
        if chunk.num_rows == 0:
            return
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.staging / TABLE_FILES["actions"], chunk.schema, compression=COMPRESSION)
        self.writer.write_table(chunk)
        self.users.add(chunk.column("user_log_acct"))
        self.items.add(chunk.column("item_sku_id"))
        self.type_counts += np.bincount(np.asarray(types, np.int64), minlength=6)
        low, high = int(np.min(seconds)), int(np.max(seconds))
        self.first = low if self.first is None else min(self.first, low)
        self.last = high if self.last is None else max(self.last, high)

    def repair(self, what, count):
        if count:
            self.repairs[what] += int(count)

    def commit(self, fmt, sources, settings):
        """Writes the side tables, seals the folder with the marker (listing every file in the temporary
        folder, whichever step wrote it) and renames it onto raw_dir; the summary lines."""
        if self.writer is None:
            dropped = "; ".join(f"{what}: {n:,}" for what, n in self.repairs.items()) or "the sources hold none"
            raise errors.PipelineError(f"no actions left to import from {', '.join(map(str, sources))} ({dropped})")
        self.writer.close()
        self.writer = None
        if not TIME_RANGE[0] <= self.first <= self.last < TIME_RANGE[1]:
            shown = [str(np.datetime64(t, "s")) for t in (self.first, self.last)]
            raise errors.PipelineError(f"{', '.join(map(str, sources))}: times from {shown[0]} to {shown[1]}, beyond "
                                       "the years 1678-2261 a date-time can hold here (Unix times in another unit?)")
        items = self._side("items", self.item_table, self.items)
        users = self._side("users", self.user_table, self.users)
        pq.write_table(items, self.staging / TABLE_FILES["items"])
        pq.write_table(users, self.staging / TABLE_FILES["users"])
        first, last = (np.datetime64(t, "s").astype("datetime64[D]") for t in (self.first, self.last))
        span = int((last - first) / np.timedelta64(1, "D")) + 1
        default = configurator.defaults()
        fit = fitting_settings(span, *(default[name] for name in import_proposal.SETTINGS))
        if fit is not None:
            import_proposal.write(self.staging, dict(zip(import_proposal.SETTINGS, fit)), first, last)
        lines = self._summary(fmt, items.num_rows, users.num_rows, f"{first}..{last} ({span} days)", fit)
        about = {"format": fmt, "sources": [str(s) for s in sources], "settings": settings, "summary": lines}
        signed_folder.swap_in(self.staging, self.raw_dir, signed_folder.IMPORTED_RAW, about, "raw_dir")
        return lines

    def _side(self, table, given, seen):
        """The side table as arrow: the given rows (one per key) plus the ids of actions it lacks."""
        key = raw_data.SIDE_KEYS[table]
        ids = seen.table().column(key).to_pandas()
        frame = pd.DataFrame({key: ids}) if given is None else given.drop_duplicates()
        if given is not None:
            doubled = frame[key].duplicated()
            self.repair(f"{table}: ids with rows of different attributes, the first kept", doubled.sum())
            frame = frame[~doubled]
            absent = ids[~ids.isin(frame[key])]
            self.repair(f"{table}: ids of actions absent from the {table} file, added with unknown attributes", len(absent))
            frame = pd.concat([frame, pd.DataFrame({key: absent})], ignore_index=True)
        frame = frame.sort_values(key, kind="stable", ignore_index=True)
        columns = {}
        for column in raw_data.TABLE_COLUMNS[table]:
            values = frame[column] if column in frame else pd.Series(pd.NA, index=frame.index)
            columns[column] = _arrow_column(values, column)
        return pa.table(columns)

    def _summary(self, fmt, n_items, n_users, span, fit):
        rows = int(self.type_counts.sum())
        by_type = ", ".join(f"{NAMES[t]} {self.type_counts[t]:,}" for t in NAMES)
        repairs = "; ".join(f"{what}: {n:,}" for what, n in self.repairs.items()) or "none"
        notes = "".join(f"; {note}" for note in self.notes)
        summary = (f"imported {fmt}: {rows:,} actions ({by_type}), {len(self.users):,} users, {len(self.items):,} items "
                   f"({n_users:,} and {n_items:,} in the side tables), {span}; "
                   f"repairs: {repairs}{notes} -> {self.raw_dir}")
        if fit is None:
            return [summary, "windows: the span is too short for a training window (at least 4 days are needed)"]
        return [summary, "windows that fit: num_windows={} window_days={} window_stride_days={}".format(*fit),
                f"kept in {self.raw_dir / import_proposal.FILE}: used whenever raw_dir={self.raw_dir} is processed, "
                "unless given as key=value or in a preset file"]


def _arrow_column(values, column):
    """int64 for whole numbers, float64 for shop_score, else text; all-missing columns as int64 nulls."""
    if column == "shop_score":
        return pa.array(pd.to_numeric(values, errors="coerce").astype("float64"), pa.float64(), from_pandas=True)
    present = values.dropna()
    if len(present) == 0:
        return pa.nulls(len(values), pa.int64())
    if pd.api.types.is_integer_dtype(present.dtype) or pd.api.types.is_float_dtype(present.dtype):
        return pa.array(values.astype("Int64"), pa.int64(), from_pandas=True)
    return pa.array(values.astype("str").where(values.notna(), None), pa.string(), from_pandas=True)
