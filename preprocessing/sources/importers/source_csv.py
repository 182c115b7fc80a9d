"""A publisher's CSV file read in chunks, with the line numbers and counts that error messages need.

Columns given an arrow type are converted by pyarrow's CSV reader (fast, all-or-nothing); when a
value cannot be converted the file is scanned again as text to name the column, the first line and
the count of such values. Rows the importer rejects (reject()) and malformed rows are collected
while reading and raised by finish() as one error, so the count covers the whole file.
"""
import codecs
import csv
import io
import pathlib

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

import errors
from preprocessing.text_file import compression_of, first_undecodable

MiB = 1 << 20
SNIFF_BYTES = 1 << 20  # bytes read to tell the text encoding
EXAMPLES = 5  # offending values quoted in an error message
PATTERNS = {  # what a convertible cell looks like, per arrow type, for the diagnostic scan
    pa.int64(): (r"^\s*-?\d*\s*$", "integers"),
    pa.float64(): (r"^\s*(-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)?\s*$", "numbers"),
}


class SourceError(errors.PipelineError):
    """A source file that does not hold the documented format."""


SUFFIXES = {"gzip": ".gz", "bzip2": ".bz2"}  # the compressions pyarrow opens, by the name's last suffix


def _opened(path):
    """pa.input_stream of path (decompressing .gz and .bz2), after checking that the file is compressed
    the way its name says: a gzip file named .csv would otherwise be parsed as garbled text."""
    try:
        found = compression_of(path)
    except OSError as err:
        raise SourceError(f"{path}: cannot be read ({err.strerror or err})") from None
    suffix = pathlib.Path(path).suffix.lower()
    named = next((name for name, ending in SUFFIXES.items() if ending == suffix), None)
    if found != named:
        if found in SUFFIXES:
            raise SourceError(f"{path}: is {found}-compressed, but its name does not end in {SUFFIXES[found]}; "
                              f"rename it to {pathlib.Path(path).name}{SUFFIXES[found]} or decompress it")
        if found:
            raise SourceError(f"{path}: is {found}-compressed; decompress it first (.csv, .csv.gz and .csv.bz2 are read)")
        raise SourceError(f"{path}: named {suffix} but is not {named} data; rename it or compress it with {named}")
    return pa.input_stream(str(path))


def detect_encoding(path):
    """'utf8' when the head of the file decodes as UTF-8, else 'gb18030' (the superset of GBK, which
    Chinese publishers' tables often use) when it decodes as that; an error naming the byte otherwise."""
    with _opened(path) as source:
        head = source.read(SNIFF_BYTES)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError as err:
        try:
            codecs.getincrementaldecoder("gb18030")().decode(head, final=False)
        except UnicodeDecodeError:
            line = head[:err.start].count(b"\n") + 1
            raise SourceError(f"{path} line {line}, byte {err.start}: neither UTF-8 nor GBK text (binary or damaged?); "
                              "convert it to UTF-8") from None
        return "gb18030"
    return "utf8"


def first_undecodable_in(path, encoding="utf8"):
    """(byte offset, line) of the first byte of path that does not decode, or (None, None)."""
    with _opened(path) as source:
        return first_undecodable(source.read, _codec(encoding))


def _codec(encoding):
    """Python's name of pyarrow's encoding name."""
    return "utf-8" if encoding == "utf8" else encoding


def first_row(path, encoding="utf8"):
    """The first row of the file as a list of stripped fields ([] for an empty file)."""
    with _opened(path) as source:
        head = source.read(64 * 1024)
    line = head.decode(_codec(encoding), errors="replace").lstrip("\ufeff")
    line = line.splitlines()[0] if line.strip() else ""
    return [field.strip() for field in next(csv.reader(io.StringIO(line)), [])]


def classify(paths, layouts, skipped=()):
    """{layout name: [paths]} by each file's header; layouts maps a name to the columns it needs.
    Files whose header holds the columns of a `skipped` layout are left out; any other is an error."""
    found = {name: [] for name in layouts}
    for path in paths:
        header = set(first_row(path, detect_encoding(path)))
        if not header:
            raise SourceError(f"{path}: the file is empty")
        name = next((n for n, needed in layouts.items() if set(needed) <= header), None)
        if name is not None:
            found[name].append(path)
        elif not any(set(needed) <= header for needed in skipped):
            expected = "; ".join(f"{n}: {','.join(c)}" for n, c in layouts.items())
            raise SourceError(f"{path}: header {','.join(sorted(header)) or '(empty file)'} is none of this format's "
                              f"files ({expected})")
    return found


def require(found, name, fmt):
    if not found[name]:
        raise SourceError(f"no {name} file among the sources of format {fmt}")
    return found[name]


class CsvStream:
    """Record batches of `columns` from a CSV file, about block_mb MiB of text at a time.

    header: True when the first line names the columns (then `columns` are picked by name), False when
    the file has no header (then `columns` name its fields in order), or "skip" for a header line to
    ignore. types: arrow type per column (others are read as pyarrow infers, strings as text).
    required: columns whose cells must not be empty.
    """

    def __init__(self, path, columns, types, block_mb, header=True, required=(), encoding="utf8"):
        self.path, self.columns, self.types, self.required = path, list(columns), dict(types), list(required)
        self.header, self.encoding = header, encoding
        with _opened(path) as source:
            head = source.read(SNIFF_BYTES)
        try:
            codecs.getincrementaldecoder(_codec(encoding))().decode(head, final=False)
        except UnicodeDecodeError as err:
            self._check_text(err)
        self.block_bytes = max(1, int(block_mb * MiB))
        self.rows = 0  # data rows read before the current batch
        self.problems = {}  # what -> [count, first line, examples]
        if header is True:
            found = first_row(path, encoding)
            missing = [c for c in self.columns if c not in found]
            if missing:
                raise SourceError(f"{path}: missing column(s) {', '.join(missing)}; found {', '.join(found) or 'no header'}")

    def _reader(self, types):
        read = pacsv.ReadOptions(block_size=self.block_bytes, encoding=self.encoding,
                                 column_names=None if self.header is True else self.columns,
                                 skip_rows=1 if self.header == "skip" else 0)
        parse = pacsv.ParseOptions(invalid_row_handler=self._malformed)
        convert = pacsv.ConvertOptions(include_columns=self.columns, column_types=types, strings_can_be_null=True)
        try:
            return pacsv.open_csv(str(self.path), read_options=read, parse_options=parse, convert_options=convert)
        except UnicodeDecodeError as err:
            self._check_text(err)
        except KeyError as err:  # pyarrow's ArrowKeyError: the header has a column's name with spaces around it
            reason = str(err.args[0] if err.args else err)
            raise SourceError(f"{self.path}: the header does not name a column exactly ({reason}); spaces around "
                              "the names? write them without") from None
        except pa.ArrowInvalid as err:
            self._check_text(err)
            if "Empty CSV file" in str(err):
                raise SourceError(f"{self.path}: the file is empty") from None
            if "conversion error" in str(err):
                self._locate_unconvertible()
            raise self._unreadable(err) from None

    def _check_text(self, err):
        """Raises naming the first byte that is not text of the file's encoding when err says so
        (pyarrow's "invalid UTF8", or its transcoding's UnicodeDecodeError, name neither line nor byte)."""
        if not isinstance(err, UnicodeDecodeError) and "invalid UTF8" not in str(err):
            return
        offset, line = first_undecodable_in(self.path, self.encoding)
        where = f"{self.path} line {line}, byte {offset}" if offset is not None else str(self.path)
        raise SourceError(f"{where}: not {_codec(self.encoding).upper()} text (binary, damaged or mixed encodings); "
                          "repair it or convert it to UTF-8")

    def _malformed(self, row):
        self._record(f"rows with {row.actual_columns} fields, expected {row.expected_columns}", 1, row.number, [row.text])
        return "skip"

    def _unreadable(self, err):
        reason = (str(err).strip().splitlines() or [type(err).__name__])[0]
        return SourceError(f"{self.path}: cannot be read as CSV: {reason}")

    def __iter__(self):
        reader = self._reader(self.types)
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                return
            except UnicodeDecodeError as err:
                self._check_text(err)
            except pa.ArrowInvalid as err:
                self._check_text(err)
                if "conversion error" in str(err):
                    self._locate_unconvertible()
                raise self._unreadable(err) from None
            for column in self.required:
                values = batch.column(column)
                if values.null_count:
                    self.reject(values.is_null().to_numpy(zero_copy_only=False), f"empty {column} cells", values)
            yield batch
            self.rows += batch.num_rows

    def line_of(self, index):
        """File line of row `index` of the current batch (1 is the first line of the file)."""
        return self.rows + index + 1 + (self.header is not False)

    def _record(self, what, count, line, examples):
        entry = self.problems.setdefault(what, [0, line, []])
        entry[0] += count
        entry[2] = list(dict.fromkeys(entry[2] + [str(e) for e in examples]))[:EXAMPLES]

    def reject(self, mask, what, values):
        """Records the rows of the current batch where mask holds as bad (raised by finish())."""
        count = int(np.count_nonzero(mask))
        if count:
            shown = pc.unique(pc.filter(values, pa.array(mask))).slice(0, EXAMPLES).to_pylist()
            self._record(what, count, self.line_of(int(np.argmax(mask))), shown)

    def finish(self):
        """Raises the first problem recorded while reading, or an error when the file held no rows."""
        for what, (count, line, examples) in self.problems.items():
            where = f"{self.path} line {line}" if line is not None else str(self.path)
            raise SourceError(f"{where}: {count} {what} (e.g. {', '.join(map(repr, examples))})")
        if self.rows == 0:
            raise SourceError(f"{self.path}: no data rows")

    def _locate_unconvertible(self):
        """Scans the file as text for the cells the typed read could not convert; raises naming them."""
        checked = {c: PATTERNS[t] for c, t in self.types.items() if t in PATTERNS}
        self.rows, self.problems = 0, {}
        for batch in self._reader({c: pa.string() for c in self.columns}):
            for column, (pattern, kind) in checked.items():
                values = batch.column(column)
                fits = pc.fill_null(pc.match_substring_regex(values, pattern), True)
                self.reject(pc.invert(fits).to_numpy(zero_copy_only=False), f"values of column {column} that are not {kind}", values)
            self.rows += batch.num_rows
        if self.problems:
            self.finish()

def integral(stream, values, column):
    """int64 numpy ids from a float column (ids written like 266079.0); other values rejected."""
    floats = values.to_numpy(zero_copy_only=False)
    bad = ~np.isfinite(floats) | (np.mod(floats, 1) != 0)
    stream.reject(bad & ~np.isnan(floats), f"values of column {column} that are not whole numbers", values)
    return np.where(bad, 0, floats).astype(np.int64), bad


def mapped_codes(stream, values, mapping, column, expected):
    """int8 action codes for the raw values of a column (0 where the mapping gives none); values the
    mapping does not know are rejected as unknown codes. A dictionary column maps its dictionary once."""
    if pa.types.is_dictionary(values.type):
        lut = np.array([mapping.get(v, -1) for v in values.dictionary.to_pylist()] + [-1], np.int8)
        indices = pc.fill_null(values.indices, len(values.dictionary)).to_numpy(zero_copy_only=False)
        codes = lut[indices]
    else:
        raw = values.to_numpy(zero_copy_only=False)
        codes = np.full(len(raw), -1, np.int8)
        for source, code in mapping.items():
            codes[raw == source] = code
    stream.reject(codes < 0, f"unknown {column} codes (expected {expected})", values)
    return codes


def plain(values):
    """A numeric arrow array as numpy (nulls, already rejected, become 0)."""
    return pc.fill_null(values, 0).to_numpy(zero_copy_only=False) if values.null_count else values.to_numpy()


def text_times(stream, values, column):
    """int64 seconds (wall clock) from date-time text like 2016-02-01 10:00:00; pandas' ISO 8601 parser
    takes the rows that format misses (dates only, fractions of a second); the rest are rejected."""
    parsed = pc.strptime(values, format="%Y-%m-%d %H:%M:%S", unit="s", error_is_null=True)
    missed = pc.and_(parsed.is_null(), values.is_valid()).to_numpy(zero_copy_only=False)
    seconds = np.array(plain(parsed.cast(pa.int64())))
    if missed.any():
        texts = values.filter(pa.array(missed)).to_pandas()
        retried = pd.to_datetime(texts, format="ISO8601", errors="coerce")
        if isinstance(retried.dtype, pd.DatetimeTZDtype):
            retried = retried.dt.tz_localize(None)
        bad = retried.isna().to_numpy()
        seconds[missed] = np.where(bad, 0, retried.to_numpy("datetime64[s]").astype(np.int64))
        failed = np.zeros(len(missed), bool)
        failed[np.flatnonzero(missed)[bad]] = True
        stream.reject(failed, f"values of column {column} that are not date-times like 2016-02-01 10:00:00", values)
        return seconds, failed
    return seconds, np.zeros(len(values), bool)


def read_side_table(path, columns, types=None):
    """A small side table, whole, as a DataFrame of `columns` (text encoding detected, UTF-8 or GBK)."""
    stream = CsvStream(path, columns, types or {}, block_mb=64, encoding=detect_encoding(path))
    batches = list(stream)
    stream.finish()
    return pa.Table.from_batches(batches).to_pandas()
