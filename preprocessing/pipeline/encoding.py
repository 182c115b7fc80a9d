"""Ids: every categorical value mapped to 1..n in sorted order of its raw values; 0 is padding and
unknown (including the loader's reserved unknown side attribute).

The raw log is turned into int arrays once, so every later stage works on numpy arrays only.
"""
import dataclasses

import numpy as np
import pandas as pd

from errors import PipelineError
from preprocessing.raw_data import UNKNOWN_INT, UNKNOWN_SCORE, UNKNOWN_STR

# vocabulary name -> raw column, for the item side table and the user side table
ITEM_SIDE = {"cate": "item_third_cate_cd", "brand": "brand_code", "shop": "shop_id", "vendor": "vender_id"}
USER_SIDE = {name: name for name in ("age", "sex", "user_level", "province", "city", "county")}
# integer ids use a direct lookup table when their range is at most this many slots per value (+ the minimum)
LOOKUP_SPAN_PER_VALUE = 16
LOOKUP_SPAN_MIN = 1 << 20


class Vocabulary:
    """The sorted distinct raw values of a column; value k-1 has index k."""

    def __init__(self, name, values):
        self.name = name
        self.values = values
        self._index = pd.Index(values)
        self._table = None

    @classmethod
    def of(cls, name, column, drop_unknown=False):
        """The vocabulary of a column (int or string/categorical); with drop_unknown, the loader's
        reserved unknown value gets index 0 instead of an index of its own."""
        distinct = column.dropna().unique()
        if pd.api.types.is_numeric_dtype(column.dtype):
            values, unknown = np.sort(np.asarray(distinct)), UNKNOWN_INT
        else:
            values, unknown = np.sort(np.asarray(distinct, dtype=str)), UNKNOWN_STR
        if drop_unknown:
            values = values[values != unknown]
        return cls(name, values)

    @property
    def size(self):
        """n + 1: the embedding table size, index 0 included."""
        return len(self.values) + 1

    def encode(self, column):
        """int32 indices; 0 where the value is missing or not in the vocabulary."""
        if isinstance(column.dtype, pd.CategoricalDtype):
            # map the few categories, then gather by code: no hashing of every row
            by_code = np.append(self._index.get_indexer(column.cat.categories) + 1, 0).astype(np.int32)
            return by_code[column.cat.codes.to_numpy()]
        values = column.to_numpy()
        table = self._lookup_table() if values.dtype.kind in "iu" else None
        if table is None:
            return (self._index.get_indexer(values) + 1).astype(np.int32)
        offset = values.astype(np.int64, copy=False) - self.values[0]
        if len(offset) and 0 <= offset.min() and offset.max() < len(table):
            return table[offset]
        inside = (offset >= 0) & (offset < len(table))
        return np.where(inside, table[np.where(inside, offset, 0)], 0).astype(np.int32)

    def _lookup_table(self):
        """For integer ids spread over a modest range: index by (value - smallest value), a direct
        gather several times faster than hashing millions of action rows."""
        if self.values.dtype.kind not in "iu" or not len(self.values):
            return None
        span = int(self.values[-1]) - int(self.values[0]) + 1
        if span > LOOKUP_SPAN_PER_VALUE * len(self.values) + LOOKUP_SPAN_MIN:
            return None
        if self._table is None:
            self._table = np.zeros(span, dtype=np.int32)
            self._table[self.values - self.values[0]] = np.arange(1, len(self.values) + 1, dtype=np.int32)
        return self._table

    def encode_known(self, column, where):
        """Like encode, but every value must be in the vocabulary."""
        codes = self.encode(column)
        unknown = codes == 0
        if unknown.any():
            examples = pd.unique(np.asarray(column)[unknown])[:3]
            raise PipelineError(f"{where}: {int(unknown.sum())} values (e.g. {', '.join(map(repr, examples))}) "
                                f"have no row in the {self.name} table")
        return codes

    def raw_values(self):
        """The raw value of each index as a numeric or fixed-width unicode array (never object);
        index 0 holds the loader's unknown value (-1 or "unknown")."""
        if self.values.dtype.kind in "US":
            return np.concatenate([np.array([UNKNOWN_STR]), self.values])  # widens to fit either
        return np.concatenate([np.array([UNKNOWN_INT], dtype=self.values.dtype), self.values])


@dataclasses.dataclass
class EncodedLog:
    vocabs: dict  # name -> Vocabulary: item, user and every side id
    item_side: dict  # cate/brand/shop/vendor -> int32 [item vocab]: the side id of each item index
    user_side: dict  # age/sex/... -> int32 [user vocab]
    shop_score: np.ndarray  # float64 [item vocab]; an unknown score is the catalogue's mean
    user: np.ndarray  # int32 [actions]
    item: np.ndarray  # int32 [actions]
    action: np.ndarray  # int8 [actions], raw codes 1..5
    time: np.ndarray  # int64 [actions], nanoseconds


def _side_ids(table, key_column, key_vocab, columns, vocabs):
    """Adds a vocabulary per side column to vocabs; returns name -> side index of each key index."""
    rows = key_vocab.encode(table[key_column])
    side = {}
    for name, column in columns.items():
        vocabs[name] = Vocabulary.of(name, table[column], drop_unknown=True)
        side[name] = np.zeros(key_vocab.size, dtype=np.int32)
        side[name][rows] = vocabs[name].encode(table[column])
    return side


def encode_log(actions, items, users):
    """EncodedLog of the three tables of raw_data.RawData."""
    vocabs = {"item": Vocabulary.of("item", items["item_sku_id"]),
              "user": Vocabulary.of("user", users["user_log_acct"])}
    item_side = _side_ids(items, "item_sku_id", vocabs["item"], ITEM_SIDE, vocabs)
    user_side = _side_ids(users, "user_log_acct", vocabs["user"], USER_SIDE, vocabs)

    scores = items["shop_score"].to_numpy(dtype=np.float64, na_value=np.nan)
    known = np.isfinite(scores) & (scores != UNKNOWN_SCORE)
    shop_score = np.full(vocabs["item"].size, scores[known].mean() if known.any() else 0.0)
    shop_score[vocabs["item"].encode(items["item_sku_id"][known])] = scores[known]

    return EncodedLog(
        vocabs=vocabs, item_side=item_side, user_side=user_side, shop_score=shop_score,
        user=vocabs["user"].encode_known(actions["user_log_acct"], "actions.user_log_acct"),
        item=vocabs["item"].encode_known(actions["item_sku_id"], "actions.item_sku_id"),
        action=actions["action_type"].to_numpy().astype(np.int8),
        time=np.asarray(actions["action_time"].to_numpy(), dtype="datetime64[ns]").view(np.int64))
