"""The raw-data loader: each kind of bad input gets a one-line error naming file, column and values,
or a documented repair that is counted."""
import pandas as pd
import pytest

from preprocessing.raw_data import UNKNOWN_INT, UNKNOWN_SCORE, UNKNOWN_STR, RawDataError, load_raw


def _actions():
    return pd.DataFrame({
        "user_log_acct": [1, 1, 2, 3, 3],
        "item_sku_id": [10, 11, 10, 12, 12],
        "action_time": ["2020-02-01 10:00:00", "2020-02-01 10:05:00", "2020-02-02 08:00:00",
                        "2020-02-03 21:30:00", "2020-02-04 09:00:00"],
        "action_type": [1, 5, 1, 1, 2],
    })


def _items():
    return pd.DataFrame({
        "item_sku_id": [10, 11, 12],
        "brand_code": [100, 100, 101],
        "shop_id": [7, 7, 8],
        "item_third_cate_cd": [55, 55, 56],
        "vender_id": [3, 3, 4],
        "shop_score": [9.1, 9.1, 8.5],
    })


def _users():
    return pd.DataFrame({
        "user_log_acct": [1, 2, 3],
        "age": [2, 3, 4], "sex": [0, 1, 2], "user_level": [5, 6, 7],
        "province": [11, 12, 12], "city": [1101, 1201, 1202], "county": [110101, 120101, 120201],
    })


def _write(folder, fmt="csv", actions=None, items=None, users=None):
    folder.mkdir(exist_ok=True)
    for name, table in (("actions", actions), ("items", items), ("users", users)):
        table = {"actions": _actions, "items": _items, "users": _users}[name]() if table is None else table
        if fmt == "csv":
            table.to_csv(folder / f"{name}.csv", index=False)
        else:
            table.to_parquet(folder / f"{name}.parquet", index=False)
    return folder


def _merged(actions=None, items=None, users=None):
    actions = _actions() if actions is None else actions
    return (actions.merge(_items() if items is None else items, on="item_sku_id", how="left")
            .merge(_users() if users is None else users, on="user_log_acct", how="left"))


def _error(folder, allow_pickle=False):
    with pytest.raises(RawDataError) as caught:
        load_raw(folder, allow_pickle=allow_pickle)
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_clean_tables_load_with_contract_dtypes_and_no_repairs(tmp_path, fmt, capsys):
    raw = load_raw(_write(tmp_path / "raw", fmt))
    assert raw.repairs == {}
    assert capsys.readouterr().err == ""
    assert sorted(p.name for p in raw.files) == sorted(f"{n}.{fmt}" for n in ("actions", "items", "users"))
    assert raw.actions["action_time"].dtype == "datetime64[ns]"
    assert raw.actions["action_type"].dtype == "int8"
    assert raw.actions["user_log_acct"].dtype == "int64"
    assert raw.items["shop_score"].dtype == "float32"
    assert raw.actions["action_time"].iloc[3] == pd.Timestamp("2020-02-03 21:30:00")
    assert raw.actions["action_type"].tolist() == [1, 5, 1, 1, 2]
    assert raw.items["item_sku_id"].tolist() == [10, 11, 12]
    assert raw.users["county"].tolist() == [110101, 120101, 120201]


@pytest.mark.parametrize("name", ["merged.csv", "merged.parquet"])
def test_merged_table_equals_three_tables(tmp_path, name):
    separate = load_raw(_write(tmp_path / "three", "parquet"))
    folder = tmp_path / "merged"
    folder.mkdir()
    merged = _merged()
    merged.to_csv(folder / name, index=False) if name.endswith(".csv") else merged.to_parquet(folder / name)
    together = load_raw(folder)
    assert together.files == [folder / name]
    assert together.repairs == {}
    pd.testing.assert_frame_equal(together.actions, separate.actions)
    for table in ("items", "users"):
        key = "item_sku_id" if table == "items" else "user_log_acct"
        pd.testing.assert_frame_equal(getattr(together, table).sort_values(key, ignore_index=True),
                                      getattr(separate, table).sort_values(key, ignore_index=True))


def test_pickle_is_refused_without_opt_in_and_read_with_it(tmp_path):
    folder = tmp_path / "raw"
    folder.mkdir()
    _merged().to_pickle(folder / "merged.pkl")
    message = _error(folder)
    assert "merged.pkl" in message and "allow_pickle=True" in message and "runs code" in message
    raw = load_raw(folder, allow_pickle=True)
    assert len(raw.actions) == 5 and len(raw.items) == 3 and len(raw.users) == 3


def test_missing_folder(tmp_path):
    assert "raw-data folder not found" in _error(tmp_path / "nowhere")


def test_missing_file(tmp_path):
    folder = _write(tmp_path / "raw")
    (folder / "actions.csv").unlink()
    message = _error(folder)
    assert str(folder) in message and "missing actions.csv|parquet" in message


def test_a_log_without_side_tables_gets_unknown_attributes(tmp_path, capsys):
    folder = _write(tmp_path / "raw")
    (folder / "items.csv").unlink()
    (folder / "users.csv").unlink()
    raw = load_raw(folder)
    assert sorted(raw.items["item_sku_id"].tolist()) == sorted(set(raw.actions["item_sku_id"].tolist()))
    assert (raw.items["brand_code"] == UNKNOWN_INT).all() and (raw.items["shop_score"] == UNKNOWN_SCORE).all()
    assert (raw.users["age"] == UNKNOWN_INT).all() and len(raw.users) == raw.actions["user_log_acct"].nunique()
    assert raw.repairs["items: no items table, every attribute unknown"] == len(raw.items)
    assert "raw data repair: users: no users table, every attribute unknown" in capsys.readouterr().err


def test_two_forms_or_two_files_for_one_table(tmp_path):
    folder = _write(tmp_path / "raw")
    _items().to_parquet(folder / "items.parquet")
    assert "items.csv, items.parquet" in _error(folder)
    (folder / "items.parquet").unlink()
    _merged().to_parquet(folder / "merged.parquet")
    assert "merged.parquet" in _error(folder) and "keep one form" in _error(folder)


def test_unreadable_file(tmp_path):
    folder = _write(tmp_path / "raw", "parquet")
    (folder / "users.parquet").write_bytes(b"not a parquet file")
    message = _error(folder)
    assert "users.parquet" in message and "cannot be read as parquet" in message


def test_missing_column(tmp_path):
    message = _error(_write(tmp_path / "raw", users=_users().drop(columns="sex")))
    assert "users.csv" in message and "missing column(s) sex" in message


def test_parquet_reads_the_wanted_columns_only(tmp_path):
    folder = _write(tmp_path / "raw", "parquet")
    actions = _actions().assign(note="x", action_time=pd.to_datetime(_actions()["action_time"]))
    actions.set_index(pd.Index([5, 4, 3, 2, 1], name="user_level")).to_parquet(folder / "actions.parquet")
    raw = load_raw(folder)
    assert list(raw.actions.columns) == ["user_log_acct", "item_sku_id", "action_time", "action_type"]
    assert raw.actions["user_log_acct"].tolist() == [1, 1, 2, 3, 3]
    assert raw.actions["action_type"].tolist() == [1, 5, 1, 1, 2]
    # a stored index named like a wanted column is not that column (_read checks the frame read too)
    actions.drop(columns="action_type").set_index(pd.Index([1, 2, 1, 1, 2], name="action_type")).to_parquet(
        folder / "actions.parquet")
    message = _error(folder)
    assert "actions.parquet" in message and "missing column(s) action_type" in message


@pytest.mark.parametrize("table", ["actions", "items", "users"])
def test_empty_table(tmp_path, table):
    empty = {"actions": _actions, "items": _items, "users": _users}[table]().head(0)
    message = _error(_write(tmp_path / "raw", "parquet", **{table: empty}))
    assert f"{table}.parquet" in message and "empty" in message


def test_unparseable_time(tmp_path):
    actions = _actions()
    actions.loc[[1, 3], "action_time"] = ["yesterday", "2020-13-45 10:00:00"]
    message = _error(_write(tmp_path / "raw", actions=actions))
    assert "actions.csv column action_time" in message
    assert "2 values" in message and "'yesterday'" in message and "'2020-13-45 10:00:00'" in message


def test_missing_time(tmp_path):
    actions = _actions()
    actions.loc[2, "action_time"] = None
    message = _error(_write(tmp_path / "raw", "parquet", actions=actions))
    assert "actions.parquet column action_time" in message and "1 values are missing" in message


def test_unknown_action_type(tmp_path):
    actions = _actions()
    actions["action_type"] = [1, 7, 1, 0, 7]
    message = _error(_write(tmp_path / "raw", actions=actions))
    assert "actions.csv column action_type" in message
    assert "3 values" in message and "7, 0" in message and "1 browse" in message


def test_missing_id_in_actions(tmp_path):
    actions = _actions().astype({"item_sku_id": "float64"})
    actions.loc[4, "item_sku_id"] = None
    message = _error(_write(tmp_path / "raw", "parquet", actions=actions))
    assert "actions.parquet column item_sku_id" in message and "1 rows have no id" in message and "rows 5" in message


def test_few_absent_users_and_items_are_added_as_unknown(tmp_path, capsys):
    users = _users().iloc[:2]  # user 3 (2 of 5 actions) is absent, 1 of 3 distinct users
    items = _items().iloc[[0, 1]]  # item 12 is absent
    raw = load_raw(_write(tmp_path / "raw", users=users, items=items))
    assert raw.repairs == {"users: ids seen only in actions added with unknown attributes": 1,
                           "items: ids seen only in actions added with unknown attributes": 1}
    added = raw.users.set_index("user_log_acct").loc[3]
    assert (added == UNKNOWN_INT).all()
    assert raw.items.set_index("item_sku_id").loc[12, "shop_score"] == UNKNOWN_SCORE
    assert len(raw.actions) == 5
    assert "users: ids seen only in actions added with unknown attributes: 1 rows" in capsys.readouterr().err


def test_mostly_absent_users_is_an_error(tmp_path):
    users = _users()
    users["user_log_acct"] = [1, 8, 9]
    message = _error(_write(tmp_path / "raw", users=users))
    assert "actions.csv column user_log_acct" in message and "2 of 3 distinct ids are absent" in message
    assert "users.csv" in message and "2, 3" in message


def test_exact_duplicate_side_rows_are_dropped_and_counted(tmp_path):
    items = pd.concat([_items(), _items().iloc[[1, 1]]], ignore_index=True)
    raw = load_raw(_write(tmp_path / "raw", items=items))
    assert raw.repairs == {"items: exact duplicate rows dropped": 2}
    assert raw.items["item_sku_id"].tolist() == [10, 11, 12]


def test_duplicate_key_with_different_attributes(tmp_path):
    users = pd.concat([_users(), _users().iloc[[1]].assign(age=6)], ignore_index=True)
    message = _error(_write(tmp_path / "raw", users=users))
    assert "users.csv column user_log_acct" in message and "1 ids" in message
    assert "2:" in message and "age 3, 6" in message


def test_conflicting_attributes_in_merged_table(tmp_path):
    folder = tmp_path / "raw"
    folder.mkdir()
    merged = _merged()
    merged.loc[merged["item_sku_id"] == 12, "brand_code"] = [101, 102]
    merged.to_parquet(folder / "merged.parquet")
    message = _error(folder)
    assert "merged.parquet column item_sku_id" in message and "12:" in message and "brand_code 101, 102" in message


def test_missing_side_attributes_become_unknown(tmp_path):
    items = _items().astype({"brand_code": "float64"})
    items.loc[0, "brand_code"] = None
    items.loc[[0, 2], "shop_score"] = None
    users = _users().astype({"province": "str"})
    users["province"] = ["north", None, None]
    raw = load_raw(_write(tmp_path / "raw", "parquet", items=items, users=users))
    assert raw.repairs == {"items.brand_code: missing values set to unknown (-1)": 1,
                           "items.shop_score: missing values set to unknown (-1.0)": 2,
                           "users.province: missing values set to unknown ('unknown')": 2}
    assert raw.items["brand_code"].tolist() == [UNKNOWN_INT, 100, 101]
    assert raw.items["shop_score"].tolist() == [UNKNOWN_SCORE, 9.100000381469727, UNKNOWN_SCORE]
    assert raw.users["province"].tolist() == ["north", UNKNOWN_STR, UNKNOWN_STR]


def test_shop_score_not_a_number(tmp_path):
    items = _items().astype({"shop_score": "str"})
    items.loc[1, "shop_score"] = "excellent"
    message = _error(_write(tmp_path / "raw", items=items))
    assert "items.csv column shop_score" in message and "'excellent'" in message and "1 values" in message


def test_ints_and_strings_in_one_column(tmp_path):
    users = _users().astype({"user_log_acct": object})
    users.loc[2, "user_log_acct"] = "u3"
    actions = _actions().astype({"user_log_acct": object})
    actions.loc[[3, 4], "user_log_acct"] = "u3"
    folder = tmp_path / "raw"
    folder.mkdir()
    _merged(actions=actions, users=users).to_pickle(folder / "merged.pkl")
    message = _error(folder, allow_pickle=True)
    assert "merged.pkl column user_log_acct" in message and "mixed types" in message
    assert "3 int, 2 str" in message and "'u3'" in message


def test_integer_ids_in_actions_but_strings_in_the_side_table(tmp_path):
    items = _items().astype({"item_sku_id": "str"})
    items.loc[2, "item_sku_id"] = "sku-12"
    message = _error(_write(tmp_path / "raw", items=items))
    assert "mixed types in column item_sku_id" in message
    assert "actions.csv holds integers" in message and "items.csv holds strings" in message and "'sku-12'" in message


def test_fractional_float_ids(tmp_path):
    users = _users().astype({"user_level": "float64"})
    users.loc[0, "user_level"] = 2.5
    message = _error(_write(tmp_path / "raw", "parquet", users=users))
    assert "users.parquet column user_level" in message and "not integer ids" in message and "2.5" in message


def test_string_ids_share_one_categorical_dtype(tmp_path):
    actions = _actions().astype({"user_log_acct": "str"})
    actions["user_log_acct"] = "u" + actions["user_log_acct"]
    users = _users().astype({"user_log_acct": "str"})
    users["user_log_acct"] = "u" + users["user_log_acct"]
    raw = load_raw(_write(tmp_path / "raw", actions=actions, users=users))
    assert isinstance(raw.actions["user_log_acct"].dtype, pd.CategoricalDtype)
    assert raw.actions["user_log_acct"].dtype == raw.users["user_log_acct"].dtype
    assert raw.actions["user_log_acct"].tolist() == ["u1", "u1", "u2", "u3", "u3"]
    assert raw.actions["item_sku_id"].dtype == "int64"


WALL_CLOCK = ["2020-02-01 10:00:00", "2020-02-01 23:30:00", "2020-02-02 00:30:00", "2020-02-03 21:30:00",
              "2020-02-04 09:00:00"]


def test_csv_times_with_utc_offsets_keep_their_wall_clock_like_parquet(tmp_path, capsys):
    actions = _actions()
    actions["action_time"] = ["2020-02-01 10:00:00+08:00", "2020-02-01 23:30:00-05:00", "2020-02-02T00:30:00Z",
                              "2020-02-03 21:30:00+0530", "2020-02-04 09:00:00"]
    from_csv = load_raw(_write(tmp_path / "csv", actions=actions))
    assert from_csv.actions["action_time"].tolist() == [pd.Timestamp(t) for t in WALL_CLOCK]
    note = [line for line in capsys.readouterr().err.splitlines() if "action_time" in line]
    assert len(note) == 1 and "4 times carry a UTC offset" in note[0] and "wall-clock time is kept" in note[0]
    aware = _actions().head(2)
    aware["action_time"] = pd.to_datetime(WALL_CLOCK[:2]).tz_localize("Asia/Shanghai")
    from_parquet = load_raw(_write(tmp_path / "parquet", "parquet", actions=aware))
    assert from_parquet.actions["action_time"].tolist() == from_csv.actions["action_time"].tolist()[:2]


def test_a_csv_header_naming_a_column_twice_is_an_error(tmp_path):
    folder = _write(tmp_path / "raw")
    (folder / "users.csv").write_text("user_log_acct,age,sex,user_level,province,city,county,age\n"
                                      "1,2,0,5,11,1101,110101,9\n2,3,1,6,12,1201,120101,9\n3,4,2,7,12,1202,120201,9\n")
    message = _error(folder)
    assert "users.csv: column(s) age appear more than once in the header" in message


def _text_ids(frame, column, ids):
    frame = frame.astype({column: object})
    frame[column] = ids
    return frame


def test_ids_with_leading_zeros_are_kept_as_text_and_not_merged(tmp_path, capsys):
    items = _text_ids(pd.concat([_items(), _items().iloc[[2]]], ignore_index=True), "item_sku_id",
                      ["10", "11", "714", "00714"])
    actions = _text_ids(_actions(), "item_sku_id", ["10", "11", "714", "00714", "00714"])
    raw = load_raw(_write(tmp_path / "raw", actions=actions, items=items))
    assert raw.repairs == {}
    assert sorted(raw.items["item_sku_id"].tolist()) == ["00714", "10", "11", "714"]
    assert raw.actions["item_sku_id"].tolist() == ["10", "11", "714", "00714", "00714"]
    notes = capsys.readouterr().err.splitlines()
    assert len(notes) == 2 and all("leading zeros, read as text" in line and "'00714'" in line for line in notes)


def test_plain_integer_ids_match_ids_kept_as_text_by_their_text(tmp_path):
    items = _text_ids(_items(), "item_sku_id", ["010", "11", "12"])
    raw = load_raw(_write(tmp_path / "raw", items=items))  # actions hold 10, 11, 12
    assert raw.actions["item_sku_id"].tolist() == ["10", "11", "10", "12", "12"]
    assert raw.repairs == {"items: ids seen only in actions added with unknown attributes": 1}
    assert sorted(raw.items["item_sku_id"].tolist()) == ["010", "10", "11", "12"]


def test_words_like_na_are_text_in_a_csv_and_missing_only_in_shop_score(tmp_path, capsys):
    users = _text_ids(_users(), "province", ["NA", "NULL", "NaN"])
    items = _text_ids(_items(), "shop_score", ["NaN", "NULL", "8.5"])
    raw = load_raw(_write(tmp_path / "raw", items=items, users=users))
    assert raw.users["province"].tolist() == ["NA", "NULL", "NaN"]
    assert raw.repairs == {"items.shop_score: missing values set to unknown (-1.0)": 2}
    notes = [line for line in capsys.readouterr().err.splitlines() if line.startswith("raw data note:")]
    assert len(notes) == 1 and "users.csv column province: 3 cells like 'NA', 'NULL', 'NaN' read as text" in notes[0]


def test_shop_score_beyond_float32_is_an_error(tmp_path):
    items = _items()
    items.loc[1, "shop_score"] = 1e300
    message = _error(_write(tmp_path / "raw", "parquet", items=items))
    assert "items.parquet column shop_score: 1 values are not finite numbers within float32's range" in message
    assert "1e+300" in message


def test_ids_beyond_64_bits_are_text_from_csv_and_parquet(tmp_path, capsys):
    big = ["18446744073709551615", "12345678901234567890", "9223372036854775808"]
    users = _text_ids(_users(), "user_log_acct", big)
    actions = _text_ids(_actions(), "user_log_acct", [big[0], big[0], big[1], big[2], big[2]])
    from_csv = load_raw(_write(tmp_path / "csv", actions=actions, users=users))
    assert from_csv.actions["user_log_acct"].tolist() == [big[0], big[0], big[1], big[2], big[2]]
    assert "integers beyond 64 bits, read as text" in capsys.readouterr().err
    unsigned = [int(b) for b in big]
    users["user_log_acct"] = pd.array(unsigned, dtype="uint64")
    actions["user_log_acct"] = pd.array([unsigned[i] for i in (0, 0, 1, 2, 2)], dtype="uint64")
    from_parquet = load_raw(_write(tmp_path / "parquet", "parquet", actions=actions, users=users))
    assert from_parquet.actions["user_log_acct"].tolist() == from_csv.actions["user_log_acct"].tolist()
    users["user_log_acct"] = [float(u) for u in unsigned]
    actions["user_log_acct"] = [float(unsigned[i]) for i in (0, 0, 1, 2, 2)]
    message = _error(_write(tmp_path / "floats", "parquet", actions=actions, users=users))
    assert "actions.parquet column user_log_acct: 5 ids stored as floats beyond 64-bit integers" in message


# ---------------------------------------------------------------- bytes that are not a CSV table's text

def _rewrite(path, change):
    path.write_bytes(change(path.read_bytes()))


@pytest.mark.parametrize("table", ["actions", "items", "users"])
def test_a_gzip_file_named_csv_says_it_is_gzip(tmp_path, table):
    import gzip
    folder = _write(tmp_path / "raw")
    _rewrite(folder / f"{table}.csv", gzip.compress)
    assert _error(folder) == (f"{folder / table}.csv: is gzip-compressed data, not CSV text; decompress it "
                              "(raw tables are plain .csv or .parquet)")


def test_a_byte_that_is_not_utf8_names_file_line_and_byte(tmp_path):
    folder = _write(tmp_path / "raw")
    path = folder / "actions.csv"
    text = path.read_bytes()
    offset = text.index(b"\n", text.index(b"\n") + 1) + 3  # inside the second data row
    path.write_bytes(text[:offset] + b"\xff" + text[offset:])
    assert _error(folder).startswith(f"{path} line 3, byte {offset}: not UTF-8 text")


@pytest.mark.parametrize("change", [lambda data: b"\xef\xbb\xbf" + data, lambda data: data.replace(b"\n", b"\r\n")],
                         ids=["BOM", "CRLF"])
def test_a_bom_or_windows_line_ends_read_as_the_plain_file(tmp_path, change):
    plain = load_raw(_write(tmp_path / "plain"))
    folder = _write(tmp_path / "raw")
    for table in ("actions", "items", "users"):
        _rewrite(folder / f"{table}.csv", change)
    variant = load_raw(folder)
    for name in ("actions", "items", "users"):
        pd.testing.assert_frame_equal(getattr(variant, name), getattr(plain, name))


@pytest.mark.parametrize("times, said", [(["1580551200"] * 5, "not date-times like"),
                                         (["1580551200000"] * 5, "not date-times like")], ids=["unix s", "unix ms"])
def test_unix_times_in_a_raw_csv_are_refused_naming_the_column(tmp_path, times, said):
    folder = _write(tmp_path / "raw", actions=_actions().assign(action_time=times))
    assert f"actions.csv column action_time: 5 values are missing or {said}" in _error(folder)


@pytest.mark.parametrize("ids", [
    pd.Series([7, 3, 7, 5, 3, 4], dtype="int64"),  # a narrow span: marked in a table
    pd.Series([10**12, 3, 10**12, -5], dtype="int64"),  # a span wider than the column: hashed
    pd.Series([2, 2, 1], dtype="int32"),
    pd.Series(["b", "a", "b"], dtype=object),
])
def test_distinct_ids_are_the_column_unique_values(ids):
    from preprocessing.raw_data import _distinct
    distinct = _distinct(ids)
    assert sorted(distinct.tolist()) == sorted(ids.unique().tolist())
    assert distinct.dtype == pd.Series(ids.unique()).dtype
