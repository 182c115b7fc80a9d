"""Counts of key tuples over a stream of chunks, merged as they come: memory follows the distinct
keys (users, items, item-category pairs), not the rows."""
import pyarrow as pa

MERGE_ROWS = 2_000_000  # partial counts held before they are merged (besides the merged counts)


class KeyCounts:
    def __init__(self, names):
        self.names = list(names)
        self.merged = None
        self.partial = []
        self.partial_rows = 0

    def add(self, *columns):
        """Counts the rows of one chunk (one array per name)."""
        chunk = pa.table(dict(zip(self.names, columns)))
        counted = chunk.group_by(self.names).aggregate([([], "count_all")]).rename_columns([*self.names, "count"])
        self.partial.append(counted)
        self.partial_rows += counted.num_rows
        if self.partial_rows > max(MERGE_ROWS, 0 if self.merged is None else self.merged.num_rows):
            self._merge()

    def _merge(self):
        parts = self.partial + ([] if self.merged is None else [self.merged])
        if parts:
            stacked = pa.concat_tables(parts, promote_options="permissive")
            self.merged = stacked.group_by(self.names).aggregate([("count", "sum")]).rename_columns([*self.names, "count"])
        self.partial, self.partial_rows = [], 0

    def table(self):
        """One row per distinct key tuple with its count (an empty table when nothing was added)."""
        self._merge()
        return self.merged

    def __len__(self):
        table = self.table()
        return 0 if table is None else table.num_rows


def most_frequent(counts, key):
    """(DataFrame with one row per key holding its most frequent values, number of keys that had
    several); ties go to the smallest values, so the choice does not depend on the reading order."""
    frame = counts.table().to_pandas()
    values = [c for c in frame.columns if c not in (key, "count")]
    frame = frame.sort_values([key, "count", *values], ascending=[True, False, *[True] * len(values)],
                              na_position="last", kind="stable")
    first = ~frame[key].duplicated()
    several = int((~first).groupby(frame[key]).any().sum())
    return frame.loc[first, [key, *values]].reset_index(drop=True), several
