"""Reads the raw behaviour log (README "Raw data") and validates it.

Forms, in the raw-data folder (exactly one of them):
  - three tables `actions`, `items`, `users`, each `.csv` (with a header) or `.parquet`; `items`
    and `users` may be absent (a log that has no side attributes);
  - one merged table `merged.csv|parquet` holding every column (the original project's form),
    or `merged.pkl`, read only with allow_pickle=True because loading a pickle runs code.
From a merged table the side tables are its distinct item and user rows.

Ids (user_log_acct, item_sku_id) and side attributes are integers or strings. A CSV cell carries no
type: a CSV column is integers when every cell is written as a 64-bit integer, otherwise strings;
only an empty cell is missing. In the result,
integer columns are int64 and string columns are categorical; an id column shares one categorical
dtype across the tables, whose categories are the side table's ids.

Errors (RawDataError, one line naming the file, the column, a few offending values and their count):
  - the folder, or the actions table, is missing; two forms or two files for one table;
  - merged.pkl without allow_pickle;
  - a file that cannot be read, a missing column, a column named twice in a header, an empty table;
  - an action time that is missing or not a date-time like 2020-02-01 10:00:00;
  - an action type that is missing or not one of 1-5;
  - a missing id in actions, or a missing key in a side table;
  - ids of mixed types: integers and strings in one column, floats that are not integers (or beyond
    64-bit integers, their digits lost), or an id column of integers in actions but of strings in
    the side table (or the other way round);
  - a side-table key on rows with different attributes (in a merged table: an item or user whose
    attributes differ between its rows);
  - more than half of the distinct users (or items) of actions absent from their side table, which
    means a wrong file or a different id encoding rather than a few missing rows;
  - a shop_score that is not a number, or infinite, or beyond float32's range.

Ambiguous values, read the safe way (the raw text kept) and noted on stderr, one line each
(RawData.notes, "raw data note: ..."):
  - CSV integers with leading zeros (00714) or beyond 64 bits: the column is read as text, so 00714
    and 714 stay two ids; integer ids of the other table are then matched by their text;
  - CSV cells NA, NULL, NaN and the like: text, not missing (in shop_score they are missing);
  - times with a UTC offset (2020-02-01 10:00:00+08:00, mixed offsets too): the wall-clock time is
    kept and the offset dropped, as for time-zone-aware Parquet times.

Repairs (counted in RawData.repairs, name -> rows touched, and printed on stderr, one line each):
  - "{table}: exact duplicate rows dropped" (three-table form only);
  - "{table}.{column}: missing values set to unknown (...)": a missing side attribute becomes the
    reserved unknown value, UNKNOWN_INT (-1) for integer columns, UNKNOWN_STR for string columns,
    UNKNOWN_SCORE (-1.0) for shop_score;
  - "{table}: ids seen only in actions added with unknown attributes": when at most half of the
    distinct users (or items) of actions are absent from their side table, the actions are kept
    and each absent id gets a side row of unknown attributes;
  - "{table}: no {table} table, every attribute unknown": an absent items or users table is one row
    of unknown attributes per id of actions (preprocessing then leaves those features out).
"""
import csv
import dataclasses
import pathlib
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

import errors
from preprocessing.text_file import compression_of, first_undecodable

ACTION_COLUMNS = ["user_log_acct", "item_sku_id", "action_time", "action_type"]
ITEM_COLUMNS = ["item_sku_id", "brand_code", "shop_id", "item_third_cate_cd", "vender_id", "shop_score"]
USER_COLUMNS = ["user_log_acct", "age", "sex", "user_level", "province", "city", "county"]
TABLE_COLUMNS = {"actions": ACTION_COLUMNS, "items": ITEM_COLUMNS, "users": USER_COLUMNS}
SIDE_KEYS = {"items": "item_sku_id", "users": "user_log_acct"}
ACTION_TYPES = {1: "browse", 2: "order", 3: "follow", 4: "comment", 5: "cart"}
TABLE_SUFFIXES = (".csv", ".parquet")

UNKNOWN_INT = -1  # reserved unknown side attribute in an integer column
UNKNOWN_STR = "unknown"  # reserved unknown side attribute in a string column
UNKNOWN_SCORE = -1.0  # reserved unknown shop_score, outside the range of real ratings
ABSENT_ID_LIMIT = 0.5  # above this share of absent distinct ids, the side table is taken as wrong
EXAMPLES = 5  # offending values quoted in an error message
# Words pandas would read as missing; in a CSV only an empty cell is missing, these are text (a
# province "NA"), except in shop_score, a number, where they can only mean "no score".
MISSING_WORDS = ("NA", "N/A", "n/a", "NaN", "nan", "-NaN", "-nan", "NULL", "null", "None", "<NA>", "#N/A",
                 "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "1.#IND", "1.#QNAN")
# A time's UTC offset (Z, +08:00, -0500, +08) after its clock time; dropped to keep the wall clock
UTC_OFFSET = r"(\d:\d\d(?::\d\d(?:\.\d+)?)?)\s*(?:Z|UTC|[+-]\d\d(?::?\d\d)?)$"
INT64_MAX = np.iinfo(np.int64).max
FLOAT32_MAX = float(np.finfo(np.float32).max)


class RawDataError(errors.PipelineError):
    """The raw data break the contract; the message names the file, column and offending values."""


@dataclasses.dataclass
class RawData:
    actions: pd.DataFrame  # user_log_acct, item_sku_id, action_time (datetime64[ns]), action_type (int8, 1..5)
    items: pd.DataFrame  # item_sku_id (unique), brand_code, shop_id, item_third_cate_cd, vender_id, shop_score (float32)
    users: pd.DataFrame  # user_log_acct (unique), age, sex, user_level, province, city, county
    repairs: dict  # name of a documented repair -> count of rows it touched (empty when clean)
    files: list  # pathlib.Path of every file read, for fingerprinting
    notes: list = dataclasses.field(default_factory=list)  # ambiguous values read the safe way, one line each


def load_raw(raw_dir, allow_pickle=False):
    """The validated log in raw_dir (see the module docstring); raises RawDataError on bad input."""
    raw_dir = pathlib.Path(raw_dir)
    paths = _find_files(raw_dir, allow_pickle)
    repairs, notes = {}, []
    if "merged" in paths:
        path = paths["merged"]
        frame = _read(path, list(dict.fromkeys(sum(TABLE_COLUMNS.values(), []))), notes)
        ids = {c: _typed(frame[c], path, c, notes) for c in ("user_log_acct", "item_sku_id")}
        _require_ids(ids["user_log_acct"], path, "user_log_acct")
        _require_ids(ids["item_sku_id"], path, "item_sku_id")
        actions = _actions(frame, ids, path, notes)
        items = _side(frame, "items", path, repairs, notes, ids, merged=True)
        users = _side(frame, "users", path, repairs, notes, ids, merged=True)
        files = [path]
    else:
        frames = {name: _read(path, TABLE_COLUMNS[name], notes) for name, path in paths.items()}
        ids = {c: _typed(frames["actions"][c], paths["actions"], c, notes) for c in ("user_log_acct", "item_sku_id")}
        for column in ids:
            _require_ids(ids[column], paths["actions"], column)
        actions = _actions(frames["actions"], ids, paths["actions"], notes)
        sides = {}
        for table in ("items", "users"):
            if table not in paths:
                sides[table] = _all_unknown(actions, table, repairs)
                continue
            side = _side(frames[table], table, paths[table], repairs, notes)
            key = SIDE_KEYS[table]
            actions[key], side[key] = _same_id_text(actions[key], side[key])
            _check_same_kind(actions[key], paths["actions"], side[key], paths[table], key)
            sides[table] = _add_absent(actions, side, table, paths, repairs)
        items, users = sides["items"], sides["users"]
        files = list(paths.values())
    actions, items, users = _final_dtypes(actions, items, users)
    for note in notes:
        print(f"raw data note: {note}", file=sys.stderr)
    for name, count in repairs.items():
        print(f"raw data repair: {name}: {count} rows", file=sys.stderr)
    release_arrow_memory()
    return RawData(actions=actions, items=items, users=users, repairs=repairs, files=files, notes=notes)


def _find_files(raw_dir, allow_pickle):
    if not raw_dir.is_dir():
        raise RawDataError(f"{raw_dir}: raw-data folder not found; put the log there "
                           "(README \"Raw data\") or run sh scr/make_demo_data.sh")
    found = {name: [raw_dir / f"{name}{s}" for s in TABLE_SUFFIXES if (raw_dir / f"{name}{s}").is_file()]
             for name in (*TABLE_COLUMNS, "merged")}
    if (raw_dir / "merged.pkl").is_file():
        found["merged"].append(raw_dir / "merged.pkl")
    for name, paths in found.items():
        if len(paths) > 1:
            raise RawDataError(f"{raw_dir}: several files for one table ({', '.join(p.name for p in paths)}); keep one")
    tables = [found[name][0].name for name in TABLE_COLUMNS if found[name]]
    if found["merged"] and tables:
        raise RawDataError(f"{raw_dir}: both a merged table ({found['merged'][0].name}) and separate tables "
                           f"({', '.join(tables)}); keep one form")
    if found["merged"]:
        path = found["merged"][0]
        if path.suffix == ".pkl" and not allow_pickle:
            raise RawDataError(f"{path}: a pickle is read only with allow_pickle=True, because loading a pickle "
                               "runs code from the file; opt in only for a file you trust, or convert it to Parquet")
        return {"merged": path}
    if not found["actions"]:
        raise RawDataError(f"{raw_dir}: missing actions.csv|parquet; expected actions (with items and users if "
                           "the log has them) as .csv or .parquet, or one merged.csv|parquet")
    return {name: found[name][0] for name in TABLE_COLUMNS if found[name]}


def release_arrow_memory():
    """Hands the memory Arrow's allocator keeps after the reading back to the system: it holds on to
    freed pages, 3.4 GiB after reading a 100-million-action table and as much again once the
    tables are dropped, which the rest of a build then cannot use."""
    pa.default_memory_pool().release_unused()


def _read(path, columns, notes):
    if path.suffix == ".csv":
        return _read_csv(path, columns, notes)
    try:
        if path.suffix == ".parquet":
            frame = _read_parquet(path, columns)
        else:
            frame = pd.read_pickle(path)
    except RawDataError:
        raise
    # Readers raise many types for a corrupt file; any of them is bad input, reported in one line.
    except Exception as err:  # noqa: BLE001
        reason = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise RawDataError(f"{path}: cannot be read as {path.suffix[1:]}: {reason}") from None
    if not isinstance(frame, pd.DataFrame):
        raise RawDataError(f"{path}: holds a {type(frame).__name__}, expected a table (DataFrame)")
    _check_header(path, list(frame.columns), columns)
    if len(frame) == 0:
        raise RawDataError(f"{path}: the table is empty (no rows)")
    return frame[columns].reset_index(drop=True)


def _read_parquet(path, columns):
    """The wanted columns of a Parquet file, each column its own block: pandas' default stacks the
    columns of one dtype into a 2-d copy (a second copy of a large actions table)."""
    _check_header(path, pq.read_schema(path).names, columns)  # a missing column named, not Arrow's error
    return pd.read_parquet(path, columns=columns, to_pandas_kwargs={"split_blocks": True, "self_destruct": True})


def _check_header(path, found, columns):
    repeated = list(dict.fromkeys(c for c in found if found.count(c) > 1 and c in columns))
    if repeated:
        raise RawDataError(f"{path}: column(s) {', '.join(map(str, repeated))} appear more than once in the header; "
                           "keep one")
    missing = [c for c in columns if c not in found]
    if missing:
        raise RawDataError(f"{path}: missing column(s) {', '.join(missing)}; found {', '.join(map(str, found))}")


def _read_csv(path, columns, notes):
    """The columns of a CSV file, each read from its text: ids and attributes as integers only when
    every cell is a plain integer, times with their wall clock, an empty cell as the only missing value."""
    try:
        compression = compression_of(path)
    except OSError as err:
        raise RawDataError(f"{path}: cannot be read ({err.strerror or err})") from None
    if compression:
        raise RawDataError(f"{path}: is {compression}-compressed data, not CSV text; decompress it "
                           f"(raw tables are plain .csv or .parquet)")
    try:
        with open(path, newline="", encoding="utf-8-sig", errors="replace") as handle:
            header = next(csv.reader(handle), [])
        _check_header(path, header, columns)
        table = pa_csv.read_csv(path, convert_options=pa_csv.ConvertOptions(
            include_columns=columns, column_types={c: pa.string() for c in columns}, null_values=[""],
            strings_can_be_null=True))
    except RawDataError:
        raise
    # Readers raise many types for a corrupt file; any of them is bad input, reported in one line.
    except Exception as err:  # noqa: BLE001
        reason = (str(err).strip().splitlines() or [type(err).__name__])[0]
        if "invalid UTF8" in reason:
            with open(path, "rb") as handle:
                offset, line = first_undecodable(handle.read, "utf-8")
            raise RawDataError(f"{path} line {line}, byte {offset}: not UTF-8 text (binary, damaged or another "
                               "encoding); repair it or convert it to UTF-8") from None
        raise RawDataError(f"{path}: cannot be read as csv: {reason}") from None
    if table.num_rows == 0:
        raise RawDataError(f"{path}: the table is empty (no rows)")
    return pd.DataFrame({c: _csv_column(table[c].combine_chunks(), path, c, notes) for c in columns})


def _csv_column(text, path, column, notes):
    """One CSV column (pyarrow strings, empty cells null) as a pandas Series."""
    where = f"{path} column {column}"
    if column == "shop_score":
        return pd.Series(pc.if_else(pc.is_in(text, pa.array(MISSING_WORDS)), None, text).to_pandas())
    if column == "action_time":
        try:  # plain times parse at once; anything else (UTC offsets) goes through _times
            return pd.Series(pc.cast(text, pa.timestamp("ns")).to_pandas())
        except pa.ArrowInvalid:
            return pd.Series(text.to_pandas())
    if column == "action_type":
        try:
            return pd.Series(pc.cast(text, pa.int64()).to_pandas())
        except pa.ArrowInvalid:
            return pd.Series(text.to_pandas())  # checked with its offending values quoted
    try:
        numbers = pc.cast(text, pa.int64())
    except pa.ArrowInvalid:
        numbers = None
        if len(text.drop_null()) and pc.all(pc.match_substring_regex(text.drop_null(), r"^-?[0-9]+$")).as_py():
            notes.append(f"{where}: integers beyond 64 bits, read as text")
    if numbers is not None:
        # an integer is read as one only when it is written as one: 00714 is not 714
        altered = pc.fill_null(pc.not_equal(pc.cast(numbers, pa.string()), text), False)
        if not pc.any(altered).as_py():
            return pd.Series(numbers.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get))
        notes.append(f"{where}: integers with leading zeros, read as text so that "
                     f"{_examples(text.filter(altered).to_pandas())} keep their zeros (00714 and 714 are "
                     "different ids)")
    present = text.drop_null()
    words = present.filter(pc.is_in(present, pa.array(MISSING_WORDS)))
    if len(words):
        notes.append(f"{where}: {len(words)} cells like {_examples(words.to_pandas())} read as text, not as "
                     "missing values (in a CSV only an empty cell is missing)")
    return pd.Series(text.to_pandas())


def _examples(values):
    """A few distinct values, quoted, for an error message."""
    shown = pd.Series(values, dtype=object).drop_duplicates().head(EXAMPLES).tolist()
    return ", ".join(repr(v.item() if isinstance(v, np.generic) else v) for v in shown)


def _rows(mask):
    """Row numbers (1 = first data row) of a few True entries of mask."""
    return ", ".join(str(i + 1) for i in np.flatnonzero(np.asarray(mask))[:EXAMPLES])


def _typed(series, path, column, notes):
    """The column as nullable Int64 or as str (missing values kept); mixed types raise RawDataError."""
    where = f"{path} column {column}"
    if isinstance(series.dtype, pd.CategoricalDtype):
        categories = _typed(pd.Series(series.cat.categories), path, column, notes)
        return pd.Series(categories.array.take(series.cat.codes.to_numpy(), allow_fill=True), name=series.name)
    if pd.api.types.is_bool_dtype(series.dtype):
        raise RawDataError(f"{where}: expected integer or string ids, found booleans")
    if pd.api.types.is_unsigned_integer_dtype(series.dtype) and len(series) and series.max() > INT64_MAX:
        notes.append(f"{where}: unsigned integers beyond 64-bit signed ones, read as text")
        return series.astype("str")
    if pd.api.types.is_integer_dtype(series.dtype):
        return series.astype("Int64")
    if pd.api.types.is_float_dtype(series.dtype):
        return _integral(series, where)
    if pd.api.types.is_string_dtype(series.dtype) and series.dtype != object:
        return series
    if series.dtype != object:
        raise RawDataError(f"{where}: expected integer or string ids, found {series.dtype}")
    kind = pd.api.types.infer_dtype(series, skipna=True)
    if kind in ("integer", "empty"):
        return series.astype("Int64")
    if kind == "string":
        return series.astype("str")
    if kind in ("floating", "mixed-integer-float"):
        return _integral(series.astype("float64"), where)
    present = series.dropna()
    kinds = present.map(lambda v: type(v).__name__).value_counts()
    described = ", ".join(f"{n} {t}" for t, n in kinds.items())
    one_per_type = present[~present.map(type).duplicated()]
    raise RawDataError(f"{where}: ids of mixed types ({described}; e.g. {_examples(one_per_type)}); "
                       "expected all integers or all strings")


def _integral(series, where):
    present = series.dropna()
    bad = ~np.isfinite(present) | (present % 1 != 0)
    if bad.any():
        raise RawDataError(f"{where}: {int(bad.sum())} values are not integer ids (e.g. {_examples(present[bad])})")
    # a float this large has lost the id's last digits already
    huge = present.abs() >= 2.0**63
    if huge.any():
        raise RawDataError(f"{where}: {int(huge.sum())} ids stored as floats beyond 64-bit integers, their digits lost "
                           f"(e.g. {_examples(present[huge])}); store the ids as integers or text")
    return series.astype("Int64")


def _is_int(series):
    return isinstance(series.dtype, pd.Int64Dtype) or pd.api.types.is_integer_dtype(series.dtype)


def _require_ids(series, path, column):
    missing = series.isna()
    if missing.any():
        raise RawDataError(f"{path} column {column}: {int(missing.sum())} rows have no id (e.g. data rows {_rows(missing)})")


def _actions(frame, ids, path, notes):
    times = _times(frame["action_time"], f"{path} column action_time", notes)
    types = _action_types(frame["action_type"], f"{path} column action_type")
    return pd.DataFrame({
        "user_log_acct": _plain(ids["user_log_acct"]),
        "item_sku_id": _plain(ids["item_sku_id"]),
        "action_time": times,
        "action_type": types,
    }, copy=False)  # a copy would stack the two int64 columns into one new block


def _plain(series):
    """A column without missing values: Int64 -> int64 numpy; str stays str."""
    return series.astype("int64") if isinstance(series.dtype, pd.Int64Dtype) else series


def _times(series, where, notes):
    example = "like 2020-02-01 10:00:00"
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        # Windows are whole local days: keep the wall-clock time the log was written in.
        parsed = series.dt.tz_localize(None)
    elif pd.api.types.is_datetime64_dtype(series.dtype):
        parsed = series
    elif pd.api.types.is_string_dtype(series.dtype):
        # Text times keep their wall clock too, whatever offset (or mix of offsets) they carry.
        wall_clock = series.str.replace(UTC_OFFSET, r"\1", regex=True)
        shifted = int((wall_clock != series).sum())
        if shifted:
            notes.append(f"{where}: {shifted} times carry a UTC offset (e.g. {_examples(series[wall_clock != series])}); "
                         "their wall-clock time is kept and the offset dropped, as for time-zone-aware Parquet")
        parsed = pd.to_datetime(wall_clock, format="ISO8601", errors="coerce")
    else:
        raise RawDataError(f"{where}: expected date-times {example}, found {series.dtype} values "
                           f"(e.g. {_examples(series.head(EXAMPLES))})")
    bad = parsed.isna()
    if bad.any():
        raise RawDataError(f"{where}: {int(bad.sum())} values are missing or not date-times {example} "
                           f"(e.g. {_examples(series[bad])})")
    try:
        return parsed.astype("datetime64[ns]")
    except (pd.errors.OutOfBoundsDatetime, OverflowError):
        far = (parsed < pd.Timestamp.min) | (parsed > pd.Timestamp.max)
        raise RawDataError(f"{where}: {int(far.sum())} times lie outside the years 1678-2261 "
                           f"(e.g. {_examples(series[far])})") from None


def _action_types(series, where):
    if pd.api.types.is_bool_dtype(series.dtype):
        numbers = pd.Series(np.nan, index=series.index)
    elif pd.api.types.is_numeric_dtype(series.dtype):
        numbers = series
    else:
        numbers = pd.to_numeric(series, errors="coerce")
    if isinstance(numbers.dtype, np.dtype) and numbers.dtype.kind in "iu":  # no missing values: two comparisons
        bad = (numbers < min(ACTION_TYPES)) | (numbers > max(ACTION_TYPES))
    else:
        bad = ~numbers.isin(list(ACTION_TYPES))
    if bad.any():
        codes = ", ".join(f"{k} {v}" for k, v in ACTION_TYPES.items())
        raise RawDataError(f"{where}: {int(bad.sum())} values are missing or not action types ({codes}) "
                           f"(e.g. {_examples(series[bad])})")
    return numbers.astype("int8")


def _side(frame, table, path, repairs, notes, ids=None, merged=False):
    """The side table (items or users) with typed columns, unique keys and unknowns filled in."""
    key = SIDE_KEYS[table]
    columns = TABLE_COLUMNS[table]
    typed = {}
    for column in columns:
        if column == "shop_score":
            typed[column] = _scores(frame[column], f"{path} column {column}")
        elif ids is not None and column in ids:
            typed[column] = ids[column]
        else:
            typed[column] = _typed(frame[column], path, column, notes)
    side = pd.DataFrame(typed)
    if not merged:
        _require_ids(side[key], path, key)
    duplicated = side.duplicated()
    if duplicated.any():
        if not merged:
            repairs[f"{table}: exact duplicate rows dropped"] = int(duplicated.sum())
        side = side[~duplicated].reset_index(drop=True)
    conflict = side[key].duplicated(keep=False)
    if conflict.any():
        example = side.loc[conflict.idxmax(), key]
        first = side[side[key] == example]
        differing = [c for c in columns if c != key and first[c].nunique(dropna=False) > 1]
        shown = "; ".join(f"{c} {_examples(first[c])}" for c in differing)
        raise RawDataError(f"{path} column {key}: {int(side.loc[conflict, key].nunique())} ids have rows with different "
                           f"{table} attributes (e.g. {_examples([example])}: {shown})")
    for column in columns:
        if column == key:
            continue
        missing = side[column].isna()
        if missing.any():
            unknown = _unknown_for(side[column])
            repairs[f"{table}.{column}: missing values set to unknown ({unknown!r})"] = int(missing.sum())
            side[column] = side[column].fillna(unknown)
        side[column] = _plain(side[column])
    side[key] = _plain(side[key])
    return side


def _unknown_for(series):
    if pd.api.types.is_float_dtype(series.dtype):
        return UNKNOWN_SCORE
    return UNKNOWN_INT if _is_int(series) else UNKNOWN_STR


def _scores(series, where):
    if pd.api.types.is_bool_dtype(series.dtype):
        raise RawDataError(f"{where}: expected numbers, found booleans")
    numbers = series if pd.api.types.is_numeric_dtype(series.dtype) else pd.to_numeric(series, errors="coerce")
    numbers = numbers.astype("float64")
    # the scores are stored as float32: anything larger would become infinite there
    bad = (numbers.isna() & series.notna()) | ~(numbers.abs() <= FLOAT32_MAX) & numbers.notna()
    if bad.any():
        raise RawDataError(f"{where}: {int(bad.sum())} values are not finite numbers within float32's range "
                           f"(e.g. {_examples(series[bad])})")
    return numbers


def _kind(series):
    return "integers" if _is_int(series) else "strings"


def _same_id_text(action_ids, side_ids):
    """When one table's integer-like ids were read as text (leading zeros, beyond 64 bits), the
    other's integer ids as text too, so that equal text is the same id and nothing else is."""
    kinds = {_kind(action_ids), _kind(side_ids)}
    text = side_ids if _kind(side_ids) == "strings" else action_ids
    if kinds != {"integers", "strings"} or not text.dropna().str.fullmatch(r"-?\d+").all():
        return action_ids, side_ids
    as_text = [ids if ids is text else ids.astype("str") for ids in (action_ids, side_ids)]
    return as_text[0], as_text[1]


def _check_same_kind(action_ids, action_path, side_ids, side_path, column):
    if _kind(action_ids) == _kind(side_ids):
        return
    strings = side_ids if _kind(side_ids) == "strings" else action_ids
    odd = strings[~strings.str.fullmatch(r"-?\d+")]
    shown = odd if len(odd) else strings
    raise RawDataError(f"ids of mixed types in column {column}: {action_path} holds {_kind(action_ids)}, "
                       f"{side_path} holds {_kind(side_ids)} (strings e.g. {_examples(shown)})")


def _all_unknown(actions, table, repairs):
    """The side table of a log without one: each id of actions, every attribute unknown."""
    key = SIDE_KEYS[table]
    side = pd.DataFrame({key: actions[key].unique()})
    for column in TABLE_COLUMNS[table]:
        if column != key:
            side[column] = np.float64(UNKNOWN_SCORE) if column == "shop_score" else np.int64(UNKNOWN_INT)
    repairs[f"{table}: no {table} table, every attribute unknown"] = len(side)
    return side


def _distinct(ids):
    """The distinct values of an id column. Integer ids spread over no more values than the column
    holds are marked in a table of their span, in increasing order: hashing 100 million action rows
    took seconds."""
    values = ids.to_numpy()
    if isinstance(ids.dtype, np.dtype) and ids.dtype.kind in "iu" and len(values):
        low = values.min()
        span = int(values.max()) - int(low) + 1
        if span <= len(values):
            marked = np.zeros(span, dtype=bool)
            marked[values - low] = True
            return pd.Series((np.flatnonzero(marked) + low).astype(ids.dtype))
    return pd.Series(ids.unique())


def _add_absent(actions, side, table, paths, repairs):
    key = SIDE_KEYS[table]
    seen = _distinct(actions[key])
    absent = seen[~seen.isin(side[key])]
    if len(absent) == 0:
        return side
    if len(absent) > ABSENT_ID_LIMIT * len(seen):
        raise RawDataError(f"{paths['actions']} column {key}: {len(absent)} of {len(seen)} distinct ids are absent from "
                           f"{paths[table]} (e.g. {_examples(absent)}); is it the matching {table} file?")
    added = pd.DataFrame({key: absent})
    for column in TABLE_COLUMNS[table]:
        if column != key:
            added[column] = _unknown_for(side[column])
    repairs[f"{table}: ids seen only in actions added with unknown attributes"] = len(added)
    return pd.concat([side, added.astype(side.dtypes.to_dict())], ignore_index=True)


def _final_dtypes(actions, items, users):
    """int64 stays; strings become categoricals, ids sharing one dtype across tables."""
    for table, side in (("items", items), ("users", users)):
        key = SIDE_KEYS[table]
        if not _is_int(side[key]):
            dtype = pd.CategoricalDtype(np.sort(side[key].to_numpy(dtype=str)))
            side[key] = side[key].astype(dtype)
            actions[key] = actions[key].astype(dtype)
        for column in TABLE_COLUMNS[table]:
            if column != key and not _is_int(side[column]) and column != "shop_score":
                side[column] = side[column].astype("category")
    items["shop_score"] = items["shop_score"].astype("float32")
    return actions, items, users
