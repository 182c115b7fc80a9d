"""JD JData 2017 (JData_Action_2016*.csv, JData_User*.csv, JData_Product.csv; JData_Comment is not used).

Files are told apart by their headers. Actions: user_id,sku_id,time,model_id,type,cate,brand, user
ids written as floats (266079.0); type 1 browse and 6 click -> 1 browse, 2 add to cart -> 5 cart,
4 order -> 2 order, 5 follow -> 3 follow; 3 remove from cart has no counterpart and is dropped
(counted). Items: cate and brand from the actions (the most frequent per item), replaced by
JData_Product's where it lists the item; shops, vendors and shop scores are missing. Users:
user_id,age,sex,user_lv_cd from JData_User (the publisher's file is GBK with ages as text like
"26-35岁"; processed copies are UTF-8 with age numbers: the encoding is detected, the values kept).
"""
import pandas as pd
import pyarrow as pa

from preprocessing.sources.importers.key_counts import KeyCounts, most_frequent
from preprocessing.sources.importers.source_csv import (CsvStream, classify, integral, mapped_codes, read_side_table,
                                                        require, text_times)

SETTINGS = {}
ACTION_COLUMNS = ["user_id", "sku_id", "time", "type", "cate", "brand"]
LAYOUTS = {"actions": ACTION_COLUMNS, "users": ["user_id", "age", "sex", "user_lv_cd"],
           "products": ["sku_id", "cate", "brand", "a1"]}
SKIPPED = [["dt", "sku_id", "comment_num"]]  # JData_Comment: review counts, not part of the raw contract
ACTIONS = {1: 1, 6: 1, 2: 5, 4: 2, 5: 3, 3: 0}
INT = pa.int64()


def read(sources, settings, log):
    found = classify(sources, LAYOUTS, SKIPPED)
    items = KeyCounts(["item_sku_id", "item_third_cate_cd", "brand_code"])
    removed = 0
    types = {"user_id": pa.float64(), "sku_id": INT, "time": pa.string(), "type": INT, "cate": INT, "brand": INT}
    for path in require(found, "actions", "jdata2017"):
        stream = CsvStream(path, ACTION_COLUMNS, types, settings["chunk_mb"], required=ACTION_COLUMNS)
        for batch in stream:
            users, bad_user = integral(stream, batch.column("user_id"), "user_id")
            seconds, bad_time = text_times(stream, batch.column("time"), "time")
            codes = mapped_codes(stream, batch.column("type"), ACTIONS, "type",
                                 "1 browse, 2 add to cart, 3 remove from cart, 4 order, 5 follow, 6 click")
            removed += int((codes == 0).sum())
            keep = ~bad_user & ~bad_time & (codes > 0)
            chunk = batch.filter(pa.array(keep))
            log.add_actions(users[keep], chunk.column("sku_id"), seconds[keep], codes[keep])
            items.add(chunk.column("sku_id"), chunk.column("cate"), chunk.column("brand"))
        stream.finish()
    log.repair("type 3 (remove from cart) rows dropped", removed)
    seen, several = most_frequent(items, "item_sku_id")
    log.repair("items with several cate or brand values in actions, the most frequent kept", several)
    if found["products"]:
        products = pd.concat([read_side_table(p, ["sku_id", "cate", "brand"]) for p in found["products"]])
        products = products.rename(columns={"sku_id": "item_sku_id", "cate": "item_third_cate_cd", "brand": "brand_code"})
        seen = pd.concat([products, seen[~seen["item_sku_id"].isin(products["item_sku_id"])]], ignore_index=True)
    log.item_table = seen
    if found["users"]:
        users = pd.concat([read_side_table(p, ["user_id", "age", "sex", "user_lv_cd"]) for p in found["users"]])
        log.user_table = users.rename(columns={"user_id": "user_log_acct", "user_lv_cd": "user_level"})
