"""Taobao user behaviour, Tianchi dataset 649 (UserBehavior.csv, about 100 million rows).

No header: user_id,item_id,category_id,behavior_type,timestamp. Behaviours pv -> 1 browse,
buy -> 2 order, fav -> 3 follow, cart -> 5 cart. Timestamps are Unix seconds; the log is China's
(UTC+8), so the China wall-clock time is written. Rows outside the documented span
2017-11-25..2017-12-03 (China time) are dropped and counted. An item filed under several categories
keeps its most frequent one (counted). A first line that is not data (a header some copies add) is
skipped. No brands, shops or user attributes: written as missing.
"""
import numpy as np
import pyarrow as pa

from preprocessing.sources.importers.key_counts import KeyCounts, most_frequent
from preprocessing.sources.importers.source_csv import CsvStream, first_row, mapped_codes, plain

SETTINGS = {}
COLUMNS = ["user_id", "item_id", "category_id", "behavior_type", "timestamp"]
TYPES = {"user_id": pa.int64(), "item_id": pa.int64(), "category_id": pa.int64(),
         "behavior_type": pa.dictionary(pa.int32(), pa.string()), "timestamp": pa.int64()}
BEHAVIOURS = {"pv": 1, "buy": 2, "fav": 3, "cart": 5}
CHINA_OFFSET = 8 * 3600  # seconds from UTC to China time
FIRST_DAY, LAST_DAY = "2017-11-25", "2017-12-03"
SPAN = (int(np.datetime64(FIRST_DAY, "s").astype(np.int64)),
        int((np.datetime64(LAST_DAY, "s") + np.timedelta64(1, "D")).astype(np.int64)))


def read(sources, settings, log):
    categories = KeyCounts(["item_sku_id", "item_third_cate_cd"])
    outside = 0
    for path in sources:
        header = "skip" if first_row(path)[:1] and not first_row(path)[0].lstrip("-").isdigit() else False
        stream = CsvStream(path, COLUMNS, TYPES, settings["chunk_mb"], header=header, required=COLUMNS)
        for batch in stream:
            codes = mapped_codes(stream, batch.column("behavior_type"), BEHAVIOURS, "behavior_type",
                                 ", ".join(BEHAVIOURS))
            seconds = plain(batch.column("timestamp")) + CHINA_OFFSET
            inside = (seconds >= SPAN[0]) & (seconds < SPAN[1])
            outside += int(np.count_nonzero(~inside))
            keep = inside & (codes > 0)
            columns = [batch.column(c) for c in ("user_id", "item_id", "category_id")]
            if not keep.all():
                chosen = pa.array(keep)
                columns = [c.filter(chosen) for c in columns]
                seconds, codes = seconds[keep], codes[keep]
            log.add_actions(columns[0], columns[1], seconds, codes)
            categories.add(columns[1], columns[2])
        stream.finish()
    log.repair(f"rows outside {FIRST_DAY}..{LAST_DAY} (China time) dropped", outside)
    log.item_table, several = most_frequent(categories, "item_sku_id")
    log.repair("items under several categories, the most frequent kept", several)
