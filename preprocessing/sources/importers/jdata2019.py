"""JD JData 2019 (jdata_action, jdata_product, jdata_shop, jdata_user; jdata_comment is not used): the
JD schema the original project was built on.

Files are told apart by their headers. Actions: user_id,sku_id,action_time,module_id,type with the
raw contract's own codes (1 browse, 2 order, 3 follow, 4 comment, 5 cart). Items: jdata_product
(sku_id,brand,shop_id,cate,market_time) joined with jdata_shop (vender_id,shop_id,...,shop_score)
on shop_id. Users: jdata_user (user_id,age,sex,user_reg_tm,user_lv_cd,city_level,province,city,
county). -1, the publisher's unknown, is also the raw contract's unknown integer, so it is kept.
"""
import pandas as pd
import pyarrow as pa

from preprocessing.sources.importers.source_csv import (CsvStream, classify, mapped_codes, read_side_table, require,
                                                        text_times)

SETTINGS = {}
ACTION_COLUMNS = ["user_id", "sku_id", "action_time", "type"]
PRODUCT_COLUMNS = ["sku_id", "brand", "shop_id", "cate"]
SHOP_COLUMNS = ["vender_id", "shop_id", "shop_score"]
USER_COLUMNS = ["user_id", "age", "sex", "user_lv_cd", "province", "city", "county"]
LAYOUTS = {"jdata_action": ACTION_COLUMNS, "jdata_product": PRODUCT_COLUMNS, "jdata_shop": SHOP_COLUMNS,
           "jdata_user": USER_COLUMNS}
SKIPPED = [["dt", "sku_id", "comments"]]  # jdata_comment: review counts, not part of the raw contract
ACTIONS = {code: code for code in range(1, 6)}
INT = pa.int64()


def read(sources, settings, log):
    found = classify(sources, LAYOUTS, SKIPPED)
    types = {"user_id": INT, "sku_id": INT, "action_time": pa.string(), "type": INT}
    for path in require(found, "jdata_action", "jdata2019"):
        stream = CsvStream(path, ACTION_COLUMNS, types, settings["chunk_mb"], required=ACTION_COLUMNS)
        for batch in stream:
            seconds, bad_time = text_times(stream, batch.column("action_time"), "action_time")
            codes = mapped_codes(stream, batch.column("type"), ACTIONS, "type",
                                 "1 browse, 2 order, 3 follow, 4 comment, 5 cart")
            keep = ~bad_time & (codes > 0)
            chunk = batch.filter(pa.array(keep))
            log.add_actions(chunk.column("user_id"), chunk.column("sku_id"), seconds[keep], codes[keep])
        stream.finish()
    if found["jdata_product"]:
        items = _table(found["jdata_product"], PRODUCT_COLUMNS).rename(
            columns={"sku_id": "item_sku_id", "brand": "brand_code", "cate": "item_third_cate_cd"})
        if found["jdata_shop"]:
            shops = _table(found["jdata_shop"], SHOP_COLUMNS).drop_duplicates()
            doubled = shops["shop_id"].duplicated()
            log.repair("shops listed twice with different vendors or scores, the first kept", doubled.sum())
            items = items.merge(shops[~doubled], on="shop_id", how="left")
        log.item_table = items
    if found["jdata_user"]:
        log.user_table = _table(found["jdata_user"], USER_COLUMNS).rename(
            columns={"user_id": "user_log_acct", "user_lv_cd": "user_level"})


def _table(paths, columns):
    return pd.concat([read_side_table(p, columns) for p in paths], ignore_index=True)
