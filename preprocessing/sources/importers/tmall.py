"""Tmall repeat buyers (Tianchi, IJCAI-15): user_log_format1.csv, optional user_info_format1.csv.

The layout of each file is told by its header:
  - user_log_format1: user_id,item_id,cat_id,seller_id,brand_id,time_stamp,action_type, time_stamp
    the month and day as one number (mmdd, 1111 or 0511 or 511);
  - the widely copied layout user_id,item_id,cat_id,merchant_id,brand_id,month,day,action,age_range,
    gender,province, user attributes on every row;
  - user_info_format1: user_id,age_range,gender.
Actions 0 click -> 1 browse, 1 cart -> 5 cart, 2 purchase -> 2 order, 3 favourite -> 3 follow. The
log has no year (the `year` setting, 2016) and no time of day (midnight is written; the loader keeps
the file's order within a day). seller (merchant) -> shop_id and vender_id, brand -> brand_code,
cat -> item_third_cate_cd; an item with several of these keeps its most frequent set (counted).
User attributes of the copied layout are kept only when constant within every user; otherwise they
are written as missing (counted), since a user's attributes cannot change from row to row.
"""
import numpy as np
import pandas as pd
import pyarrow as pa

from preprocessing.sources.importers.key_counts import KeyCounts, most_frequent
from preprocessing.sources.importers.source_csv import (CsvStream, SourceError, classify, detect_encoding,
                                                        first_row, mapped_codes, plain, read_side_table, require)

SETTINGS = {"year": 2016}
LOG_COLUMNS = ["user_id", "item_id", "cat_id", "brand_id", "time_stamp", "action_type"]  # + seller_id or merchant_id
COPY_COLUMNS = ["user_id", "item_id", "cat_id", "merchant_id", "brand_id", "month", "day", "action"]
USER_ATTRIBUTES = {"age_range": "age", "gender": "sex", "province": "province"}
LAYOUTS = {"log": LOG_COLUMNS, "copied log": COPY_COLUMNS, "user info": ["user_id", "age_range", "gender"]}
ACTIONS = {0: 1, 1: 5, 2: 2, 3: 3}
INT = pa.int64()


def read(sources, settings, log):
    year = settings["year"]
    if not 1970 <= year <= 2200:
        raise SourceError(f"setting year={year}: expected the log's year, like 2016")
    found = classify(sources, LAYOUTS)
    logs = [(p, "log") for p in found["log"]] + [(p, "copied log") for p in found["copied log"]]
    if not logs:
        require(found, "log", "tmall")
    items = KeyCounts(["item_sku_id", "item_third_cate_cd", "shop_id", "brand_code"])
    per_user = {a: KeyCounts(["user_log_acct", a]) for a in USER_ATTRIBUTES}
    for path, layout in logs:
        encoding = detect_encoding(path)
        if layout == "log":
            seller = "seller_id" if "seller_id" in first_row(path, encoding) else "merchant_id"
            columns, when, action = LOG_COLUMNS + [seller], ["time_stamp"], "action_type"
        else:
            seller, columns, when, action = "merchant_id", COPY_COLUMNS + list(USER_ATTRIBUTES), ["month", "day"], "action"
        types = {c: INT for c in columns if c != "province"}
        required = [c for c in columns if c not in (*USER_ATTRIBUTES, "brand_id")]
        stream = CsvStream(path, columns, types, settings["chunk_mb"], required=required, encoding=encoding)
        for batch in stream:
            codes = mapped_codes(stream, batch.column(action), ACTIONS, action, "0 click, 1 cart, 2 purchase, 3 favourite")
            if layout == "log":
                stamp = plain(batch.column("time_stamp"))
                month, day = stamp // 100, stamp % 100
            else:
                month, day = plain(batch.column("month")), plain(batch.column("day"))
            seconds, bad = _dates(year, month, day)
            stream.reject(bad, f"dates that are not a month and day of {year}", batch.column(when[0]))
            keep = ~bad & (codes > 0)
            chunk = batch.filter(pa.array(keep))
            log.add_actions(chunk.column("user_id"), chunk.column("item_id"), seconds[keep], codes[keep])
            items.add(chunk.column("item_id"), chunk.column("cat_id"), chunk.column(seller),
                      chunk.column("brand_id").cast(INT))
            if layout == "copied log":
                for attribute, counts in per_user.items():
                    values = chunk.column(attribute)
                    counts.add(chunk.column("user_id"), values.cast(pa.string()) if attribute == "province" else values)
        stream.finish()
    item_table, several = most_frequent(items, "item_sku_id")
    log.repair("items with several category, seller or brand values, the most frequent kept", several)
    item_table["vender_id"] = item_table["shop_id"]
    log.item_table = item_table
    if found["user info"]:
        users = [read_side_table(p, ["user_id", "age_range", "gender"], {"age_range": INT, "gender": INT})
                 for p in found["user info"]]
        log.user_table = _named_users(pd.concat(users, ignore_index=True))
    elif found["copied log"]:
        log.user_table = _constant_attributes(per_user, log)


def first_row(path, encoding):
    from preprocessing.sources.importers.source_csv import first_row
    return first_row(path, encoding)


def _dates(year, month, day):
    """int64 seconds of midnight of each (month, day) of year, and where the pair is no date."""
    months = np.arange(f"{year}-01", f"{year + 1}-01", dtype="datetime64[M]")
    starts = months.astype("datetime64[D]")
    lengths = ((months + 1).astype("datetime64[D]") - starts).astype(np.int64)
    bad = (month < 1) | (month > 12)
    index = np.where(bad, 1, month) - 1
    bad |= (day < 1) | (day > lengths[index])
    midnight = starts[index] + np.where(bad, 1, day) - 1
    return midnight.astype("datetime64[s]").astype(np.int64), bad


def _named_users(frame):
    return frame.rename(columns={"user_id": "user_log_acct", **USER_ATTRIBUTES})


def _constant_attributes(per_user, log):
    """Users with each attribute that is constant within every user; the others left missing."""
    table = None
    for attribute, counts in per_user.items():
        values, several = most_frequent(counts, "user_log_acct")
        if several:
            log.repair(f"users whose {attribute} varies from row to row (the attribute written as missing)", several)
            continue
        table = values if table is None else table.merge(values, on="user_log_acct", how="outer")
    return None if table is None else _named_users(table)
