"""The processed-data format (docs/data.md, "Processed data"): per split .npy arrays, vocab/,
item2vec.npy and meta.json; the feature description the models are built from; readers for it, and
a writer that streams an array to disk chunk by chunk."""
import functools
import hashlib
import json
import pathlib
import queue
import threading

import numpy as np

from errors import PipelineError

FORMAT_VERSION = 6  # bumped when the files or their meaning change, so older outputs are rebuilt
META = "meta.json"
SPLITS = ("train", "dev", "test")
OPEN = "open"  # the open window's samples, scored by the forecast: labels all zero, never trained or evaluated on
WRITE_BLOCK = 1 << 20  # bytes per write call: single writes of tens of MB ran several times slower here
PENDING_BLOCKS = 64  # write calls a BackgroundWrites holds at most: 64 MiB waiting to be written
# [N] int32 ids, [N, D] float32 dense, [N] float32 labels, one row per sample; [S, max_len] int32
# sequences, one row per (user, window) run of samples: every sample of a user in a window has the
# same history, so it is stored once (a sixth of the bytes at the demo's 4-5 samples per user) and
# SEQUENCE_ROW [N] int32 names each sample's row.
ID_ARRAYS = ("user", "item", "cate", "brand", "shop", "vendor",
             "age", "sex", "user_level", "province", "city", "county")
SEQUENCE_ARRAYS = ("hist_item", "hist_cate", "hist_action")
SEQUENCE_ROW = "hist_row"
LABEL_ARRAYS = ("label_buy", "label_interact")
DENSE_ARRAYS = ("dense", "pair")  # [N, D] item statistics; [N, P] the user's past on the target item and category
ARRAYS = ID_ARRAYS + DENSE_ARRAYS + SEQUENCE_ARRAYS + (SEQUENCE_ROW,) + LABEL_ARRAYS
# [S, max_len] int64 seconds (Unix time of the log's wall clock) of each sequence step, 0 for padding:
# the open split only, for the forecast's reasons; not a model input
TIME_ARRAY = "hist_time"
# [N] int8 of the open split only: 1 for a candidate pair beyond the pairs touched (open_candidates), else 0
CANDIDATE_ARRAY = "candidate"
SEQUENCE_TABLES = SEQUENCE_ARRAYS + (TIME_ARRAY,)  # the arrays of one row per run, not per sample
SAMPLE_ARRAYS = tuple(name for name in ARRAYS if name != SEQUENCE_ROW)  # what per_sample gives of a split

# ---- the feature description (meta.json["features"]): the one schema of the processed data
# sparse feature -> group: "target" (the item scored), "item" (its side attributes) or "user"
SPARSE_GROUPS = {"item": "target", "cate": "target", "brand": "item", "shop": "item", "vendor": "item",
                 **{name: "user" for name in ("age", "sex", "user_level", "province", "city", "county")}}
# sequence channel -> (vocabulary, target feature it is paired with; None: the constant target action)
SEQUENCE_CHANNELS = {"hist_item": ("item", "item"), "hist_cate": ("cate", "cate"), "hist_action": ("action", None)}
FEATURE_KINDS = ("sparse", "sequence", "dense")


def describe_features(max_len, dense_columns, vocab_sizes):
    """meta.json["features"]: what the models are built from. dense_columns: {dense array name:
    column names}. A sparse feature (and a sequence channel) whose vocabulary holds no known value
    (size < 2: padding only) is left out, since it could only ever embed "unknown"."""
    known = {vocab for vocab, size in vocab_sizes.items() if size >= 2}
    described = [{"name": name, "kind": "sparse", "vocab": name, "group": group}
                 for name, group in SPARSE_GROUPS.items() if name in known]
    described += [{"name": name, "kind": "sequence", "vocab": vocab, "max_len": max_len,
                   "target": target if target in known else None}
                  for name, (vocab, target) in SEQUENCE_CHANNELS.items() if vocab in known]
    described += [{"name": name, "kind": "dense", "dim": len(columns), "columns": list(columns)}
                  for name, columns in dense_columns.items() if columns]
    return described


def left_out_features(vocab_sizes):
    """The sparse features describe_features leaves out for want of a known value."""
    return [name for name in SPARSE_GROUPS if vocab_sizes.get(name, 0) < 2]


def check_feature_description(meta):
    """Raises a PipelineError naming the first field of meta.json's feature description that the
    models cannot be built from."""
    for key in ("features", "vocab_sizes", "target_action"):
        if key not in meta:
            raise PipelineError(f"meta.json: no {key!r}; rebuild the processed data (sh scr/pre_processing.sh)")
    features = meta["features"]
    names = [f.get("name") for f in features]
    sparse = {f.get("name"): f.get("vocab") for f in features if f.get("kind") == "sparse"}
    for i, feature in enumerate(features):
        where = f"meta.json features[{i}] ({feature.get('name')!r})"
        kind = feature.get("kind")
        if kind not in FEATURE_KINDS:
            raise PipelineError(f"{where}: kind {kind!r}, expected one of {', '.join(FEATURE_KINDS)}")
        if names.count(feature.get("name")) > 1:
            raise PipelineError(f"{where}: the name appears more than once")
        if kind == "dense":
            if not isinstance(feature.get("dim"), int) or feature["dim"] < 1:
                raise PipelineError(f"{where}: dim {feature.get('dim')!r}, expected a positive int")
            continue
        size = meta["vocab_sizes"].get(feature.get("vocab"))
        if not isinstance(size, int) or size < 2:
            raise PipelineError(f"{where}: vocab {feature.get('vocab')!r} has no size >= 2 in vocab_sizes")
        target = feature.get("target") if kind == "sequence" else None
        if target is not None and sparse.get(target) != feature["vocab"]:
            raise PipelineError(f"{where}: target {target!r} is not a sparse feature of vocab {feature['vocab']!r}; "
                                "a sequence and its target share one embedding table")
    if not any(f["kind"] == "sequence" for f in features):
        raise PipelineError("meta.json features: no sequence feature; every model reads the behaviour history")


def dataset_id(meta):
    """A short id of a processed dataset: its format, preprocessing code, raw files and settings. Runs
    of one id are comparable; runs.csv records it."""
    key = json.dumps([meta.get("format_version"), meta.get("code_fingerprint"), meta.get("raw_fingerprint"),
                      meta.get("settings")], sort_keys=True)
    return hashlib.blake2b(key.encode(), digest_size=6).hexdigest()


def dense_column_names(meta, name):
    """The column names of the dense feature `name` (empty when the description has none)."""
    return next((f["columns"] for f in meta["features"] if f["name"] == name and f["kind"] == "dense"), [])


def load_meta(processed_dir):
    """meta.json of a processed dataset, as a dict."""
    path = pathlib.Path(processed_dir) / META
    try:
        meta = json.loads(path.read_text())
    except FileNotFoundError:
        raise PipelineError(f"{path}: no processed data; run sh scr/pre_processing.sh") from None
    # UnicodeDecodeError and JSONDecodeError are ValueErrors: a file cut short or overwritten
    except (OSError, ValueError) as err:
        raise PipelineError(f"{path}: truncated or corrupt ({_first_line(err)}); rebuild the processed data: "
                            "sh scr/pre_processing.sh") from None
    if not isinstance(meta, dict):
        raise PipelineError(f"{path}: holds a JSON {type(meta).__name__}, expected an object; rebuild the processed "
                            "data: sh scr/pre_processing.sh")
    return meta


def _first_line(err):
    return (str(err).strip().splitlines() or [type(err).__name__])[0]


def split_arrays(split):
    """The array names of a split: ARRAYS, and TIME_ARRAY and CANDIDATE_ARRAY as well for the open split."""
    return ARRAYS + (TIME_ARRAY, CANDIDATE_ARRAY) * (split == OPEN)


def per_sample(arrays, rows=None):
    """The arrays of a split with one row per sample (the sequences gathered through SEQUENCE_ROW,
    which is dropped), or of the samples `rows` only."""
    picked = slice(None) if rows is None else rows
    sequence_rows = np.asarray(arrays[SEQUENCE_ROW][picked])
    return {name: np.asarray(array)[sequence_rows] if name in SEQUENCE_TABLES else np.asarray(array[picked])
            for name, array in arrays.items() if name != SEQUENCE_ROW}


def sample_rows(arrays, rows):
    """The samples `rows` of a split as stored: the per-sample arrays sliced, the sequence tables
    whole (SEQUENCE_ROW still points into them)."""
    return {name: array if name in SEQUENCE_TABLES else array[rows] for name, array in arrays.items()}


def load_array(path, mmap=False):
    """One .npy file of the processed data; PipelineError naming it when missing, cut short or damaged."""
    try:
        return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except FileNotFoundError:
        raise PipelineError(f"{path}: missing; run sh scr/pre_processing.sh") from None
    # numpy raises ValueError, EOFError or OSError for a file cut short or a damaged header
    except (OSError, ValueError, EOFError) as err:
        raise PipelineError(f"{path}: truncated or corrupt ({_first_line(err)}); rebuild the processed data: "
                            "sh scr/pre_processing.sh") from None


def load_split(processed_dir, split, mmap=True):
    """Every array of one split, by name (see split_arrays), as stored: the sequences one row per run,
    SEQUENCE_ROW per sample (per_sample expands them); memory-mapped read-only unless mmap=False."""
    if split not in SPLITS + (OPEN,):
        raise PipelineError(f"split {split!r}: expected one of {', '.join(SPLITS + (OPEN,))}")
    folder = pathlib.Path(processed_dir) / split
    arrays = {name: load_array(folder / f"{name}.npy", mmap) for name in split_arrays(split)}
    # every per-sample array has a row per sample, every sequence table a row per run
    for names in ([n for n in arrays if n not in SEQUENCE_TABLES], [n for n in arrays if n in SEQUENCE_TABLES]):
        rows = {name: len(arrays[name]) for name in names}
        counts = list(rows.values())
        expected = max(set(counts), key=counts.count)  # the odd one out is the array to name
        odd = next((name for name in names if rows[name] != expected), None)
        if odd:
            other = next(name for name in names if rows[name] == expected)
            raise PipelineError(f"{folder / odd}.npy: {rows[odd]} rows, but {other}.npy has {expected}; "
                                "rebuild the processed data: sh scr/pre_processing.sh")
    return arrays


class BackgroundWrites:
    """A thread that makes the file writes of NpyWriters, in the order they were asked for: copying
    into the page cache is most of the writing's time (system time), and in a thread of its own it
    runs on a second core while the next chunk is gathered. At most PENDING_BLOCKS writes wait at a
    time; a failed write is raised in the caller at its next write or at the end of the context."""

    def __init__(self):
        self._queue = queue.Queue(maxsize=PENDING_BLOCKS)
        self._error = None
        self._thread = threading.Thread(target=self._run, name="npy-writes", daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, kind, value, traceback):
        self._queue.put(None)
        self._thread.join()
        if kind is None:
            self._raise_failure()

    def _run(self):
        while (task := self._queue.get()) is not None:
            if self._error is None:  # after a failure the rest is dropped: the build fails anyway
                try:
                    task()
                except BaseException as err:  # noqa: BLE001  (raised in the caller's thread)
                    self._error = err

    def _raise_failure(self):
        if self._error is not None:
            raise self._error

    def submit(self, task):
        self._raise_failure()
        self._queue.put(task)


class NpyWriter:
    """Writes an .npy file of a known shape from consecutive row chunks, without holding it in
    memory (plain writes: no mapped pages count against the process); with `writes`, a
    BackgroundWrites, the writes are made in its thread (a chunk must not change once given)."""

    def __init__(self, path, dtype, shape, writes=None):
        self.path = pathlib.Path(path)
        self.dtype = np.dtype(dtype)
        self.shape = tuple(shape)
        self.rows = 0
        self._writes = writes
        self._file = open(self.path, "wb")
        np.lib.format.write_array_header_1_0(
            self._file, {"descr": np.lib.format.dtype_to_descr(self.dtype), "fortran_order": False,
                         "shape": self.shape})

    def _do(self, task):
        if self._writes is None:
            task()
        else:
            self._writes.submit(task)

    def write(self, chunk):
        chunk = np.ascontiguousarray(chunk, dtype=self.dtype)
        if chunk.shape[1:] != self.shape[1:] or self.rows + len(chunk) > self.shape[0]:
            raise ValueError(f"{self.path}: chunk {chunk.shape} does not fit {self.shape} after {self.rows} rows")
        data = memoryview(chunk).cast("B")
        for start in range(0, len(data), WRITE_BLOCK):
            self._do(functools.partial(self._file.write, data[start:start + WRITE_BLOCK]))
        self.rows += len(chunk)

    def close(self):
        self._do(self._file.close)

    def check_complete(self):
        if self.rows != self.shape[0]:
            raise ValueError(f"{self.path}: {self.rows} rows written, {self.shape[0]} declared")
