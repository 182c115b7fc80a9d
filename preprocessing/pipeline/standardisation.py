"""Each standardised column's mean and spread on the training split, and their use on every split.

Two passes in float64: the mean, then the mean squared deviation from it. The one-pass form
E[x²] − E[x]² cancels catastrophically for a column of large magnitude and no spread: a vendor
count that is the same for every training sample (a log without vendors) came out with a spread of
3e-6, and the dev values of that column became 1e5, saturating every network.
A column constant on train (spread at most RELATIVE_SPREAD of its magnitude) holds nothing a model
can learn from train, so it becomes 0 on every split rather than being scaled by rounding noise.
"""
import dataclasses

import numpy as np

from preprocessing.pipeline.threads import thread_map

RELATIVE_SPREAD = 1e-9
CHUNK_ROWS = 1 << 20  # rows converted to float64 at a time: a Taobao-size split's pair table is 4 GB in float64
APPLY_ROWS = 1 << 16  # rows scaled at a time: their float64 copies stay in the cache


@dataclasses.dataclass
class Standardisation:
    mean: np.ndarray  # float64 [D]
    std: np.ndarray  # float64 [D], 1 where the column is constant
    constant: np.ndarray  # bool [D]

    def apply_in_place(self, table):
        """table = (table − mean) / std (0 in constant columns), a chunk of rows at a time."""
        scale = np.where(self.constant, 0.0, 1.0 / self.std)

        def apply(begin):
            rows = slice(begin, begin + APPLY_ROWS)
            table[rows] = (table[rows] - self.mean) * scale

        thread_map(apply, range(0, len(table), APPLY_ROWS))
        return table

    def describe(self):
        """meta.json's entry: a stored value v is v × std + mean in the column's own units, except in a
        constant column, whose train value is the mean."""
        return {"mean": self.mean.tolist(), "std": self.std.tolist(),
                "constant": [bool(c) for c in self.constant]}


def _chunks(blocks):
    """(table, rows, weights or None) a chunk of rows at a time from (table, weights or None) pairs."""
    return [(table, slice(begin, begin + CHUNK_ROWS), weights)
            for table, weights in blocks for begin in range(0, len(table), CHUNK_ROWS)]


def _sums(chunks, mean=None):
    """[(weights @ rows, weights summed)] of each chunk's float64 rows, or with mean of their squared
    deviations from it; chunks in threads, each with one float64 copy of its rows, summed afterwards
    in the chunks' order, so the result does not depend on the threads."""
    def sums(chunk):
        table, rows, weights = chunk
        values = np.array(table[rows], np.float64)
        if mean is not None:
            np.subtract(values, mean, out=values)
            np.square(values, out=values)
        weights = np.ones(len(values)) if weights is None else np.asarray(weights[rows], np.float64)
        return weights @ values, weights.sum()

    return thread_map(sums, chunks)


def fit(blocks):
    """The Standardisation of the rows of `blocks`, a list of (table [N, D], weights [N] or None)
    pairs: each row counts its weight (None: once). Two passes over it."""
    chunks = _chunks(blocks)
    total, count = 0.0, 0.0
    for chunk_total, chunk_count in _sums(chunks):
        total = total + chunk_total
        count += chunk_count
    if count == 0:
        raise ValueError("no training rows to standardise the features on")
    mean = total / count
    square = 0.0
    for chunk_square, _ in _sums(chunks, mean):
        square = square + chunk_square
    std = np.sqrt(square / count)
    constant = std <= RELATIVE_SPREAD * np.abs(mean)
    return Standardisation(mean, np.where(constant, 1.0, std), constant)
