"""Dense item features: shop_score and the item statistics of the original, standardised with
training-split statistics only.

Catalogue statistics (distinct items and brands per shop and per category, mean shop_score per
category) come from the item table, which holds no behaviour. The action counts per category and
per vendor (the original's "items per category/vendor", counted over log rows) are counted over the
last pair_features.LOOKBACK_DAYS days of each window's feature range: never its label range, and
over the same span in every window, so an older window's counts are comparable with a newer one's
(counted from the log's first day, they would grow with the window's age).
Counts enter as log(1 + count) because they are long-tailed.
"""
import numpy as np

from preprocessing.pipeline.pair_features import DAY_NS, LOOKBACK_DAYS
from preprocessing.pipeline.samples import sorted_unique

DENSE_COLUMNS = ("shop_score", "cate_mean_shop_score", "log_shop_items", "log_shop_brands",
                 "log_cate_items", "log_cate_brands", "log_cate_actions", "log_vendor_actions")


def _distinct_count(group, member, group_size):
    """How many distinct non-zero members each group index has (rows of index 0 ignored)."""
    keep = (group > 0) & (member > 0)
    span = int(member.max()) + 1
    pairs = sorted_unique(group[keep].astype(np.int64) * span + member[keep])
    return np.bincount(pairs // span, minlength=group_size)


def catalogue_table(encoded):
    """float64 [item vocab, 6]: the behaviour-free columns of DENSE_COLUMNS, by item index."""
    side, score = encoded.item_side, encoded.shop_score
    items = np.arange(len(score))
    real = items > 0
    cate_size = encoded.vocabs["cate"].size
    shop_size = encoded.vocabs["shop"].size
    cate_items = np.bincount(side["cate"][real], minlength=cate_size)
    cate_score = np.bincount(side["cate"][real], weights=score[real], minlength=cate_size)
    cate_mean = np.divide(cate_score, cate_items, out=np.zeros(cate_size), where=cate_items > 0)
    shop_items = np.bincount(side["shop"][real], minlength=shop_size)
    table = np.stack([
        score, cate_mean[side["cate"]], np.log1p(shop_items[side["shop"]]),
        np.log1p(_distinct_count(side["shop"], side["brand"], shop_size)[side["shop"]]),
        np.log1p(cate_items[side["cate"]]),
        np.log1p(_distinct_count(side["cate"], side["brand"], cate_size)[side["cate"]])], axis=1)
    table[0] = 0.0
    return table


def window_table(catalogue, encoded, log, window):
    """float64 [item vocab, len(DENSE_COLUMNS)]: the dense features of each item in one window."""
    end = window.feature_end_ns
    item_actions = np.bincount(log.item[log.between(end - LOOKBACK_DAYS * DAY_NS, end)], minlength=len(catalogue))
    side = encoded.item_side
    cate_actions = np.bincount(side["cate"], weights=item_actions, minlength=encoded.vocabs["cate"].size)
    vendor_actions = np.bincount(side["vendor"], weights=item_actions, minlength=encoded.vocabs["vendor"].size)
    return np.concatenate([catalogue, np.log1p(cate_actions[side["cate"]])[:, None],
                           np.log1p(vendor_actions[side["vendor"]])[:, None]], axis=1)


def training_rows(tables_and_items):
    """standardisation.fit's blocks over (per-window table, sample items) pairs: each item's row
    counts once per sample of it."""
    return [(table, np.bincount(items, minlength=len(table))) for table, items in tables_and_items]
