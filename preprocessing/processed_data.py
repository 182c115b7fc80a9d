"""The processed-data format (README, "Processed data"): per split .npy arrays, vocab/, item2vec.npy
and meta.json; readers for it, and a writer that streams an array to disk chunk by chunk."""
import json
import pathlib

import numpy as np

from errors import PipelineError

FORMAT_VERSION = 1  # bumped when the files or their meaning change, so older outputs are rebuilt
META = "meta.json"
SPLITS = ("train", "dev", "test")
WRITE_BLOCK = 1 << 20  # bytes per write call: single writes of tens of MB ran several times slower here
# [N] int32 ids, [N, D] float32 dense, [N, max_len] int32 sequences, [N] float32 labels
ID_ARRAYS = ("user", "item", "cate", "brand", "shop", "vendor",
             "age", "sex", "user_level", "province", "city", "county")
SEQUENCE_ARRAYS = ("hist_item", "hist_cate", "hist_action")
LABEL_ARRAYS = ("label_buy", "label_interact")
ARRAYS = ID_ARRAYS + ("dense",) + SEQUENCE_ARRAYS + LABEL_ARRAYS


def load_meta(processed_dir):
    """meta.json of a processed dataset, as a dict."""
    path = pathlib.Path(processed_dir) / META
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise PipelineError(f"{path}: no processed data; run sh scr/pre_processing.sh") from None
    except json.JSONDecodeError as err:
        raise PipelineError(f"{path}: not valid JSON ({err}); run sh scr/pre_processing.sh again") from None


def load_split(processed_dir, split, mmap=True):
    """Every array of one split, by name (see ARRAYS); memory-mapped read-only unless mmap=False."""
    if split not in SPLITS:
        raise PipelineError(f"split {split!r}: expected one of {', '.join(SPLITS)}")
    folder = pathlib.Path(processed_dir) / split
    arrays = {}
    for name in ARRAYS:
        path = folder / f"{name}.npy"
        try:
            arrays[name] = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
        except FileNotFoundError:
            raise PipelineError(f"{path}: missing; run sh scr/pre_processing.sh") from None
    return arrays


class NpyWriter:
    """Writes an .npy file of a known shape from consecutive row chunks, without holding it in
    memory (plain writes: no mapped pages count against the process)."""

    def __init__(self, path, dtype, shape):
        self.path = pathlib.Path(path)
        self.dtype = np.dtype(dtype)
        self.shape = tuple(shape)
        self.rows = 0
        self._file = open(self.path, "wb")
        np.lib.format.write_array_header_1_0(
            self._file, {"descr": np.lib.format.dtype_to_descr(self.dtype), "fortran_order": False,
                         "shape": self.shape})

    def write(self, chunk):
        chunk = np.ascontiguousarray(chunk, dtype=self.dtype)
        if chunk.shape[1:] != self.shape[1:] or self.rows + len(chunk) > self.shape[0]:
            raise ValueError(f"{self.path}: chunk {chunk.shape} does not fit {self.shape} after {self.rows} rows")
        data = memoryview(chunk).cast("B")
        for start in range(0, len(data), WRITE_BLOCK):
            self._file.write(data[start:start + WRITE_BLOCK])
        self.rows += len(chunk)

    def close(self):
        self._file.close()

    def check_complete(self):
        if self.rows != self.shape[0]:
            raise ValueError(f"{self.path}: {self.rows} rows written, {self.shape[0]} declared")
