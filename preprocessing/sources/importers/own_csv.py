"""A CSV log in none of the known formats, with a header, mapped by settings:

    columns=user:uid,item:sku,time:ts,action:act[,category:cat,brand:...,shop:...,vendor:...,
            shop_score:...,age:...,sex:...,user_level:...,province:...,city:...,county:...]
    actions=pv:browse,buy:order,...   raw action value -> browse, order, follow, comment, cart (or 1-5);
                                      empty: the values are already 1-5 or those names
    time_format=text|unix_s|unix_ms   date-time text (ISO 8601) or Unix seconds/milliseconds (UTC)
    ids=int|str                       user and item ids as integers or as text

Side attributes come from the log's rows: an item's (or user's) most frequent values are kept
(counted when they vary); attributes not mapped are missing.
"""
import pandas as pd
import pyarrow as pa

from configurator import ConfigError
from preprocessing import raw_data
from preprocessing.sources.importers.key_counts import KeyCounts, most_frequent
from preprocessing.sources.importers.source_csv import CsvStream, mapped_codes, plain, text_times

SETTINGS = {"columns": "", "actions": "", "time_format": "text", "ids": "int"}
REQUIRED = ("user", "item", "time", "action")
ITEM_ROLES = {"category": "item_third_cate_cd", "brand": "brand_code", "shop": "shop_id", "vendor": "vender_id",
              "shop_score": "shop_score"}
USER_ROLES = {"age": "age", "sex": "sex", "user_level": "user_level", "province": "province", "city": "city",
              "county": "county"}
TIME_FORMATS = {"text": None, "unix_s": 1, "unix_ms": 1000}
UNIT_BOUNDARY = 10 ** 11  # as seconds the year 5138, as milliseconds 1973-03-03: a Unix time's unit tells
ID_TYPES = {"int": pa.int64(), "str": pa.string()}


def read(sources, settings, log):
    roles, actions = _mapping(settings)
    id_type = ID_TYPES[settings["ids"]]
    divisor = TIME_FORMATS[settings["time_format"]]
    types = {roles["user"]: id_type, roles["item"]: id_type, roles["action"]: pa.dictionary(pa.int32(), pa.string()),
             roles["time"]: pa.string() if divisor is None else pa.int64()}
    types.update({roles[r]: pa.string() for r in (*ITEM_ROLES, *USER_ROLES) if r in roles})
    item_roles = [r for r in ITEM_ROLES if r in roles]
    user_roles = [r for r in USER_ROLES if r in roles]
    items = KeyCounts(["item_sku_id", *(ITEM_ROLES[r] for r in item_roles)])
    users = KeyCounts(["user_log_acct", *(USER_ROLES[r] for r in user_roles)])
    expected = ", ".join(actions) if settings["actions"] else "1-5 or browse, order, follow, comment, cart"
    for path in sources:
        stream = CsvStream(path, list(dict.fromkeys(roles.values())), types, settings["chunk_mb"],
                           required=[roles[r] for r in REQUIRED])
        for batch in stream:
            codes = mapped_codes(stream, batch.column(roles["action"]), actions, roles["action"], expected)
            if divisor is None:
                seconds, bad_time = text_times(stream, batch.column(roles["time"]), roles["time"])
            else:
                raw = plain(batch.column(roles["time"]))
                seconds = raw // divisor
                bad_time = seconds < 0
                stream.reject(bad_time, f"values of column {roles['time']} before 1970", batch.column(roles["time"]))
                # seconds read as milliseconds land in January 1970, milliseconds read as seconds after 5000
                other, other_unit = {1: ("unix_ms", "milliseconds"), 1000: ("unix_s", "seconds")}[divisor]
                wrong_unit = (raw >= UNIT_BOUNDARY) if divisor == 1 else (raw >= 0) & (raw < UNIT_BOUNDARY)
                stream.reject(wrong_unit, f"values of column {roles['time']} that look like Unix {other_unit} "
                              f"(use time_format={other})", batch.column(roles["time"]))
                bad_time |= wrong_unit
            keep = ~bad_time & (codes > 0)
            chunk = batch.filter(pa.array(keep))
            log.add_actions(chunk.column(roles["user"]), chunk.column(roles["item"]), seconds[keep], codes[keep])
            if item_roles:
                items.add(chunk.column(roles["item"]), *(chunk.column(roles[r]) for r in item_roles))
            if user_roles:
                users.add(chunk.column(roles["user"]), *(chunk.column(roles[r]) for r in user_roles))
        stream.finish()
    if item_roles:
        log.item_table = _side(items, "item_sku_id", log, "items")
    if user_roles:
        log.user_table = _side(users, "user_log_acct", log, "users")


def _mapping(settings):
    """{role: source column} and {raw action value: code 1-5} from the settings."""
    known = (*REQUIRED, *ITEM_ROLES, *USER_ROLES)
    roles = _pairs(settings["columns"], "columns", "role:column like user:uid")
    unknown = [r for r in roles if r not in known]
    missing = [r for r in REQUIRED if r not in roles]
    if unknown or missing:
        raise ConfigError(f"setting columns={settings['columns']!r}: "
                          + (f"unknown role(s) {', '.join(unknown)}" if unknown else f"missing {', '.join(missing)}")
                          + f"; roles: {', '.join(known)} (user, item, time and action required)")
    for name, allowed in (("time_format", TIME_FORMATS), ("ids", ID_TYPES)):
        if settings[name] not in allowed:
            raise ConfigError(f"setting {name}={settings[name]!r}: expected one of {', '.join(allowed)}")
    codes = {name: code for code, name in raw_data.ACTION_TYPES.items()}
    codes.update({str(code): code for code in raw_data.ACTION_TYPES})
    given = _pairs(settings["actions"], "actions", "value:type like pv:browse")
    bad = [t for t in given.values() if t not in codes]
    if bad:
        raise ConfigError(f"setting actions={settings['actions']!r}: unknown action type(s) {', '.join(bad)}; expected "
                          "browse, order, follow, comment, cart or 1-5")
    return roles, ({raw: codes[t] for raw, t in given.items()} if given else codes)


def _pairs(text, name, example):
    pairs = {}
    for part in filter(None, text.split(",")):
        key, sep, value = part.partition(":")
        if not sep or not key or not value:
            raise ConfigError(f"setting {name}={text!r}: expected comma-separated {example}")
        pairs[key.strip()] = value.strip()
    return pairs


def _side(counts, key, log, table):
    """The most frequent attributes per id; columns of whole numbers as integers."""
    frame, several = most_frequent(counts, key)
    log.repair(f"{table} whose attributes vary between rows, the most frequent kept", several)
    for column in frame.columns.drop(key):
        numbers = pd.to_numeric(frame[column], errors="coerce")
        if column == "shop_score" or (numbers.notna() == frame[column].notna()).all() and (numbers.dropna() % 1 == 0).all():
            frame[column] = numbers if column == "shop_score" else numbers.astype("Int64")
    return frame
