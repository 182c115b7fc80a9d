"""RetailRocket e-commerce dataset (Kaggle): events.csv and item_properties_part*.csv.

Files are told apart by their headers (category_tree.csv is not used). events:
timestamp,visitorid,event,itemid,transactionid with times in milliseconds since 1970 (UTC; the
publisher names no time zone, so UTC wall-clock time is written, to the second); view -> 1 browse,
addtocart -> 5 cart, transaction -> 2 order. item_properties: timestamp,itemid,property,value, one
row per change of a property; the category is the latest `categoryid` value of an item. Brands,
shops and user attributes are missing (the other properties are hashed).
"""
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from preprocessing.sources.importers.source_csv import CsvStream, classify, mapped_codes, plain, require

SETTINGS = {}
EVENT_COLUMNS = ["timestamp", "visitorid", "event", "itemid"]
PROPERTY_COLUMNS = ["timestamp", "itemid", "property", "value"]
LAYOUTS = {"events": EVENT_COLUMNS, "item_properties": PROPERTY_COLUMNS}
SKIPPED = [["categoryid", "parentid"]]  # category_tree.csv: the category hierarchy, not part of the raw contract
EVENTS = {"view": 1, "addtocart": 5, "transaction": 2}
INT = pa.int64()
TEXT = pa.dictionary(pa.int32(), pa.string())


def read(sources, settings, log):
    found = classify(sources, LAYOUTS, SKIPPED)
    types = {"timestamp": INT, "visitorid": INT, "event": TEXT, "itemid": INT}
    for path in require(found, "events", "retailrocket"):
        stream = CsvStream(path, EVENT_COLUMNS, types, settings["chunk_mb"], required=EVENT_COLUMNS)
        for batch in stream:
            codes = mapped_codes(stream, batch.column("event"), EVENTS, "event", ", ".join(EVENTS))
            keep = codes > 0
            chunk = batch.filter(pa.array(keep))
            log.add_actions(chunk.column("visitorid"), chunk.column("itemid"),
                            np.floor_divide(plain(chunk.column("timestamp")), 1000), codes[keep])
        stream.finish()
    latest = []
    types = {"timestamp": INT, "itemid": INT, "property": TEXT, "value": pa.string()}
    for path in found["item_properties"]:
        stream = CsvStream(path, PROPERTY_COLUMNS, types, settings["chunk_mb"], required=["timestamp", "itemid"])
        for batch in stream:
            category = batch.filter(pc.equal(batch.column("property").cast(pa.string()), "categoryid"))
            latest.append(category.select(["itemid", "timestamp", "value"]).to_pandas())
        stream.finish()
    if latest:
        rows = pd.concat(latest, ignore_index=True).sort_values(["itemid", "timestamp"], kind="stable")
        rows = rows.drop_duplicates("itemid", keep="last")
        numbers = pd.to_numeric(rows["value"], errors="coerce")
        category = numbers.astype("Int64") if numbers.notna().all() else rows["value"]
        log.item_table = pd.DataFrame({"item_sku_id": rows["itemid"].to_numpy(), "item_third_cate_cd": category.to_numpy()})
