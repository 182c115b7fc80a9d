"""The importers of public logs: each format's mapping and quirks on small hand-written files with
known answers, the real samples in ../shared/realdata/ where they exist, the loader accepting what
is written, and the destination folder left as it was on any error."""
import contextlib
import io
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import configurator
import main_func
from errors import PipelineError
from preprocessing.pipeline.windows import fitting_settings, needed_days, training_count
from preprocessing.processed_data import dataset_id, load_meta
from preprocessing.raw_data import load_raw
from preprocessing.sources import import_proposal
from preprocessing.sources.importers.__main__ import main
from tests.pipeline_fixtures import real_sample
from training.studies.comparison import latest_runs

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHINA_MIDNIGHT_2017_11_25 = 1511539200  # Unix seconds of 2017-11-25 00:00 in China (UTC+8)


def _write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def _import(fmt, *args, raw_dir):
    main([fmt, *map(str, args), f"raw_dir={raw_dir}"])
    return load_raw(raw_dir)


def _contents(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


# ---------------------------------------------------------------- taobao

TAOBAO = "\n".join([
    f"1,10,100,pv,{CHINA_MIDNIGHT_2017_11_25}",         # 2017-11-25 00:00:00 China time
    f"1,10,100,cart,{CHINA_MIDNIGHT_2017_11_25 + 60}",
    f"2,10,100,buy,{CHINA_MIDNIGHT_2017_11_25 + 3600}",
    f"2,11,200,fav,{CHINA_MIDNIGHT_2017_11_25 + 9 * 86400 - 1}",  # last second of 2017-12-03
    f"2,11,300,pv,{CHINA_MIDNIGHT_2017_11_25 + 86400}",  # item 11 also under 300, less often than 200
    f"3,11,200,pv,{CHINA_MIDNIGHT_2017_11_25 + 2 * 86400}",
    f"3,12,400,pv,{CHINA_MIDNIGHT_2017_11_25 - 1}",      # 2017-11-24 23:59:59: outside the span
    f"3,12,400,pv,{CHINA_MIDNIGHT_2017_11_25 + 9 * 86400}",  # 2017-12-04: outside
]) + "\n"


def test_taobao_maps_behaviours_china_time_span_and_categories(tmp_path, capsys):
    source = _write(tmp_path / "UserBehavior.csv", TAOBAO)
    raw = _import("taobao", source, raw_dir=tmp_path / "raw")
    actions = raw.actions
    assert actions["action_type"].tolist() == [1, 5, 2, 3, 1, 1]
    assert actions["action_time"].iloc[0] == pd.Timestamp("2017-11-25 00:00:00")
    assert actions["action_time"].iloc[3] == pd.Timestamp("2017-12-03 23:59:59")
    items = raw.items.set_index("item_sku_id")
    assert items.loc[10, "item_third_cate_cd"] == 100 and items.loc[11, "item_third_cate_cd"] == 200
    assert 12 not in items.index  # its only rows were outside the span
    assert (raw.items[["brand_code", "shop_id", "vender_id"]] == -1).all().all()
    assert (raw.items["shop_score"] == -1.0).all() and (raw.users["age"] == -1).all()
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 3
    assert "6 actions (browse 3, order 1, follow 1, comment 0, cart 1)" in out[0]
    assert "dropped: 2" in out[0] and "most frequent kept: 1" in out[0] and "2017-11-25..2017-12-03 (9 days)" in out[0]
    assert out[1] == "windows that fit: num_windows=6 window_days=2 window_stride_days=1"
    assert out[2].startswith(f"kept in {tmp_path / 'raw' / import_proposal.FILE}: used whenever raw_dir=")
    assert import_proposal.read(tmp_path / "raw") == {"num_windows": 6, "window_days": 2, "window_stride_days": 1}
    marker = json.loads((tmp_path / "raw" / "imported.json").read_text())
    assert marker["format"] == "taobao" and marker["summary"] == out


def test_taobao_header_line_is_skipped_and_chunks_give_the_same_tables(tmp_path):
    source = _write(tmp_path / "with_header.csv", "user_id,item_id,category_id,behavior_type,timestamp\n" + TAOBAO * 400)
    whole = _import("taobao", source, raw_dir=tmp_path / "whole")
    main(["taobao", str(source), f"raw_dir={tmp_path / 'chunked'}", "chunk_mb=0.01"])
    chunked = load_raw(tmp_path / "chunked")
    assert len(whole.actions) == 2400
    pd.testing.assert_frame_equal(whole.actions, chunked.actions)
    pd.testing.assert_frame_equal(whole.items, chunked.items)


def test_taobao_unknown_behaviour_names_file_line_and_count(tmp_path):
    source = _write(tmp_path / "ub.csv", TAOBAO + f"4,13,500,like,{CHINA_MIDNIGHT_2017_11_25}\n" * 3)
    with pytest.raises(PipelineError, match=r"ub\.csv line 9: 3 unknown behavior_type codes .*'like'"):
        main(["taobao", str(source), f"raw_dir={tmp_path / 'raw'}"])
    assert not (tmp_path / "raw").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ub.csv"]  # no temporary folder left behind


def test_taobao_non_integer_timestamp_is_located(tmp_path):
    source = _write(tmp_path / "ub.csv", TAOBAO + "4,13,500,pv,2017-11-25\n")
    with pytest.raises(PipelineError, match=r"ub\.csv line 9: 1 values of column timestamp that are not integers"):
        main(["taobao", str(source), f"raw_dir={tmp_path / 'raw'}"])


# ---------------------------------------------------------------- tmall

def test_tmall_format1_with_user_info(tmp_path):
    log = _write(tmp_path / "user_log_format1.csv", "user_id,item_id,cat_id,seller_id,brand_id,time_stamp,action_type\n"
                 "1,10,100,7,70,511,0\n1,10,100,7,70,1111,2\n2,11,101,8,,0229,3\n2,10,100,7,70,1111,1\n")
    info = _write(tmp_path / "user_info_format1.csv", "user_id,age_range,gender\n1,3,0\n2,,1\n")
    raw = _import("tmall", log, info, raw_dir=tmp_path / "raw")
    assert raw.actions["action_type"].tolist() == [1, 2, 3, 5]
    assert raw.actions["action_time"].tolist() == [pd.Timestamp("2016-05-11"), pd.Timestamp("2016-11-11"),
                                                   pd.Timestamp("2016-02-29"), pd.Timestamp("2016-11-11")]
    items = raw.items.set_index("item_sku_id")
    assert items.loc[10, ["item_third_cate_cd", "shop_id", "vender_id", "brand_code"]].tolist() == [100, 7, 7, 70]
    assert items.loc[11, "brand_code"] == -1  # empty brand_id: unknown
    users = raw.users.set_index("user_log_acct")
    assert users.loc[1, ["age", "sex"]].tolist() == [3, 0] and users.loc[2, ["age", "sex"]].tolist() == [-1, 1]


def test_tmall_year_setting_and_bad_dates(tmp_path):
    log = _write(tmp_path / "log.csv", "user_id,item_id,cat_id,seller_id,brand_id,time_stamp,action_type\n"
                 "1,10,100,7,70,229,0\n1,10,100,7,70,1301,0\n")
    with pytest.raises(PipelineError, match=r"log\.csv line 2: 2 dates that are not a month and day of 2015"):
        main(["tmall", str(log), f"raw_dir={tmp_path / 'raw'}", "year=2015"])


def test_tmall_real_copy_layout(tmp_path):
    source = real_sample("tmall", "user_log.csv")
    raw = _import("tmall", source, raw_dir=tmp_path / "raw")
    assert len(raw.actions) == 9999 and raw.actions["user_log_acct"].nunique() == 62
    assert raw.actions["action_time"].min() == pd.Timestamp("2016-05-11")
    assert raw.actions["action_time"].max() == pd.Timestamp("2016-11-11")
    assert (raw.actions["action_type"].value_counts().to_dict()) == {1: 8750, 2: 672, 3: 577}
    # age_range, gender and province change from row to row within every user of this copy
    assert (raw.users[["age", "sex", "province"]] == -1).all().all()
    assert raw.items["item_sku_id"].nunique() == 5915 and (raw.items["shop_id"] == raw.items["vender_id"]).all()


@pytest.fixture(scope="module")
def imported_tmall(tmp_path_factory):
    """The real Tmall sample imported, its proposed windows line, and the settings that preprocess it
    (with the windows the importer proposes) and train a tiny model."""
    root = tmp_path_factory.mktemp("tmall")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        main(["tmall", str(real_sample("tmall", "user_log.csv")), f"raw_dir={root / 'raw'}"])
    windows = printed.getvalue().splitlines()[1]
    # no window settings: the ones the import proposed are kept with it
    return root, windows, [f"raw_dir={root / 'raw'}", f"processed_dir={root / 'processed'}",
                               f"results_dir={root / 'results'}", "max_len=20", "use_item2vec=False", "mlp_units=[16]", "embed_dim=8",
                               "attention_units=[8]", "gru_units=8", "dien_gru_units=8", "dien_augru_units=8",
                               "batch_size=128", "eval_every=2", "max_epochs=1", "patience=1"]


# every registry model trains on the real Taobao sample (tests/test_real_taobao.py); here a network and a baseline
@pytest.mark.parametrize("model", ["ESSM", "GBDT"])
def test_models_train_on_the_real_tmall_sample_and_land_in_runs_csv(imported_tmall, model):
    root, windows, settings = imported_tmall
    assert windows == "windows that fit: num_windows=6 window_days=5 window_stride_days=5"
    row = main_func.main(settings + [f"model={model}"])[0]
    meta = load_meta(root / "processed")
    assert not {"age", "sex", "province"} & {f["name"] for f in meta["features"]}, "unknown in this copy"
    assert 0.0 < row["test_main_auc"] <= 1.0 and row["test_logloss"] > 0
    assert model in latest_runs(root / "results", dataset_id(meta)).index[0]


# ---------------------------------------------------------------- jdata2017

JDATA_ACTIONS = ("user_id,sku_id,time,model_id,type,cate,brand\n"
                 "266079.0,1,2016-02-01 10:00:00,,1,8,403\n266079.0,1,2016-02-01 10:00:01,0,6,8,403\n"
                 "266079.0,1,2016-02-01 10:00:02,,2,8,403\n266079.0,1,2016-02-01 10:00:03,,3,8,403\n"
                 "200719.0,2,2016-02-02 11:00:00,,4,4,30\n200719.0,2,2016-02-02 11:00:01,,5,4,30\n")


@pytest.mark.parametrize("encoding", ["gbk", "utf-8"])
def test_jdata2017_float_ids_codes_and_user_table_encoding(tmp_path, encoding):
    actions = _write(tmp_path / "JData_Action_201602.csv", JDATA_ACTIONS)
    users = _write(tmp_path / "JData_User.csv", "user_id,age,sex,user_lv_cd,user_reg_tm\n"
                   "266079,26-35岁,0,5,2015-01-01\n200719,-1,2,1,2016-01-01\n", encoding)
    products = _write(tmp_path / "JData_Product.csv", "sku_id,a1,a2,a3,cate,brand\n2,1,1,1,8,489\n")
    raw = _import("jdata2017", tmp_path, raw_dir=tmp_path / "raw")
    assert raw.actions["user_log_acct"].tolist() == [266079] * 3 + [200719] * 2
    assert raw.actions["action_type"].tolist() == [1, 1, 5, 2, 3]  # type 3 (remove from cart) dropped
    users = raw.users.set_index("user_log_acct")
    assert users.loc[266079, "age"] == "26-35岁" and users.loc[200719, "user_level"] == 1
    items = raw.items.set_index("item_sku_id")
    assert items.loc[1, ["item_third_cate_cd", "brand_code"]].tolist() == [8, 403]
    assert items.loc[2, ["item_third_cate_cd", "brand_code"]].tolist() == [8, 489]  # the product table wins
    assert actions.exists() and products.exists()


def test_jdata2017_without_optional_tables_and_with_a_fractional_id(tmp_path):
    actions = _write(tmp_path / "JData_Action_201602.csv", JDATA_ACTIONS)
    raw = _import("jdata2017", actions, raw_dir=tmp_path / "raw")
    assert sorted(raw.users["user_log_acct"]) == [200719, 266079] and (raw.users["age"] == -1).all()
    bad = _write(tmp_path / "bad.csv", JDATA_ACTIONS + "1.5,2,2016-02-02 11:00:01,,5,4,30\n")
    with pytest.raises(PipelineError, match=r"bad\.csv line 8: 1 values of column user_id that are not whole numbers"):
        main(["jdata2017", str(bad), f"raw_dir={tmp_path / 'raw2'}"])


def test_jdata2017_unparsable_times_and_unknown_types(tmp_path):
    times = _write(tmp_path / "a.csv", JDATA_ACTIONS + "1.0,2,yesterday,,1,4,30\n1.0,2,2016-13-45 10:00:00,,1,4,30\n")
    with pytest.raises(PipelineError, match=r"a\.csv line 8: 2 values of column time that are not date-times"):
        main(["jdata2017", str(times), f"raw_dir={tmp_path / 'raw'}"])
    codes = _write(tmp_path / "b.csv", JDATA_ACTIONS + "1.0,2,2016-02-02 11:00:01,,7,4,30\n")
    with pytest.raises(PipelineError, match=r"b\.csv line 8: 1 unknown type codes"):
        main(["jdata2017", str(codes), f"raw_dir={tmp_path / 'raw'}"])


def test_jdata2017_real_samples(tmp_path, capsys):
    folder = real_sample("jdata2017")
    raw = _import("jdata2017", folder, raw_dir=tmp_path / "raw")
    samples = pd.concat([pd.read_csv(p) for p in sorted(folder.glob("JData_Action_*.csv"))])
    kept = samples[samples["type"] != 3]
    assert len(raw.actions) == len(kept)
    assert raw.actions["user_log_acct"].nunique() == kept["user_id"].nunique()
    assert f"type 3 (remove from cart) rows dropped: {int((samples['type'] == 3).sum()):,}" in capsys.readouterr().out
    users = raw.users.set_index("user_log_acct")
    assert users.loc[200001, ["age", "sex", "user_level"]].tolist() == [5, 2, 5]  # JData_User_New's first row


# ---------------------------------------------------------------- jdata2019

def test_jdata2019_joins_products_and_shops(tmp_path):
    _write(tmp_path / "jdata_action.csv", "user_id,sku_id,action_time,module_id,type\n"
           "1,10,2018-02-01 08:00:00,5,1\n1,10,2018-02-02 09:30:00,5,2\n2,11,2018-02-03,7,4\n")
    _write(tmp_path / "jdata_product.csv", "sku_id,brand,shop_id,cate,market_time\n10,5,3,80,2016-01-01\n11,6,4,81,2017-01-01\n")
    _write(tmp_path / "jdata_shop.csv", "vender_id,shop_id,fans_num,vip_num,shop_reg_tm,cate,shop_score\n"
           "900,3,10,1,2015-01-01,80,9.5\n901,4,10,1,2015-01-01,81,-1\n")
    _write(tmp_path / "jdata_user.csv", "user_id,age,sex,user_reg_tm,user_lv_cd,city_level,province,city,county\n"
           "1,3,1,2010-01-01,5,1,11,101,1001\n")
    _write(tmp_path / "jdata_comment.csv", "dt,sku_id,comments,good_comments,bad_comments\n2018-02-01,10,1,1,0\n")
    raw = _import("jdata2019", tmp_path, raw_dir=tmp_path / "raw")
    assert raw.actions["action_type"].tolist() == [1, 2, 4]
    assert raw.actions["action_time"].iloc[2] == pd.Timestamp("2018-02-03")
    items = raw.items.set_index("item_sku_id")
    assert items.loc[10, ["brand_code", "shop_id", "item_third_cate_cd", "vender_id"]].tolist() == [5, 3, 80, 900]
    assert items.loc[10, "shop_score"] == np.float32(9.5) and items.loc[11, "shop_score"] == -1.0
    users = raw.users.set_index("user_log_acct")
    assert users.loc[1, ["user_level", "province", "city", "county"]].tolist() == [5, 11, 101, 1001]
    assert users.loc[2, "age"] == -1  # in actions only


# ---------------------------------------------------------------- retailrocket

def test_retailrocket_events_and_latest_category(tmp_path):
    _write(tmp_path / "events.csv", "timestamp,visitorid,event,itemid,transactionid\n"
           "1433221332117,257597,view,355908,\n1433224214164,992329,addtocart,248676,\n"
           "1433221999827,257597,transaction,355908,4000\n")
    _write(tmp_path / "item_properties_part1.csv", "timestamp,itemid,property,value\n"
           "1435460400000,355908,categoryid,1338\n1431226800000,355908,categoryid,1277\n"
           "1431226800000,248676,888,n12.000\n")
    _write(tmp_path / "category_tree.csv", "categoryid,parentid\n1338,1\n")
    raw = _import("retailrocket", tmp_path, raw_dir=tmp_path / "raw")
    assert raw.actions["action_type"].tolist() == [1, 5, 2]
    assert raw.actions["action_time"].iloc[0] == pd.Timestamp("2015-06-02 05:02:12")  # UTC, to the second
    items = raw.items.set_index("item_sku_id")
    assert items.loc[355908, "item_third_cate_cd"] == 1338 and items.loc[248676, "item_third_cate_cd"] == -1


# ---------------------------------------------------------------- own csv

def test_own_csv_with_column_and_action_mapping(tmp_path):
    source = _write(tmp_path / "log.csv", "uid,sku,ts,act,cat,lvl\nu1,a,1580515200,view,c1,3\n"
                    "u1,a,1580515260,purchase,c1,3\nu2,b,1580601600,view,c2,\n")
    main(["csv", str(source), f"raw_dir={tmp_path / 'raw'}", "columns=user:uid,item:sku,time:ts,action:act,"
          "category:cat,user_level:lvl", "actions=view:browse,purchase:2", "time_format=unix_s", "ids=str"])
    raw = load_raw(tmp_path / "raw")
    assert raw.actions["user_log_acct"].astype(str).tolist() == ["u1", "u1", "u2"]
    assert raw.actions["action_type"].tolist() == [1, 2, 1]
    assert raw.actions["action_time"].iloc[0] == pd.Timestamp("2020-02-01")
    assert raw.items.set_index("item_sku_id").loc["b", "item_third_cate_cd"] == "c2"
    assert raw.users.set_index("user_log_acct")["user_level"].to_dict() == {"u1": 3, "u2": -1}


@pytest.mark.parametrize("setting, named", [("columns=user:uid,item:sku", "missing time, action"),
                                            ("columns=user:uid,item:sku,time:ts,action:act,colour:c", "colour"),
                                            ("actions=view:look", "look"), ("time_format=days", "time_format")])
def test_own_csv_bad_settings(tmp_path, setting, named):
    source = _write(tmp_path / "log.csv", "uid,sku,ts,act\n1,2,2020-02-01,1\n")
    args = ["csv", str(source), f"raw_dir={tmp_path / 'raw'}", "columns=user:uid,item:sku,time:ts,action:act", setting]
    with pytest.raises(PipelineError, match=named):
        main(args)
    assert not (tmp_path / "raw").exists()


@pytest.mark.parametrize("setting, said", [
    ("year=abc", "setting year='abc': expected int like 2016"),
    ("colour=red", "unknown setting 'colour'; valid settings: chunk_mb, raw_dir, year"),
])
def test_import_settings_are_parsed_and_refused_like_config_settings(tmp_path, setting, said):
    log = _write(tmp_path / "log.csv", "user_id,item_id,cat_id,seller_id,brand_id,time_stamp,action_type\n")
    with pytest.raises(PipelineError) as error:
        main(["tmall", str(log), f"raw_dir={tmp_path / 'raw'}", setting])
    assert str(error.value) == said
    assert not (tmp_path / "raw").exists()


# ---------------------------------------------------------------- destination and bad sources

@pytest.mark.parametrize("present, named", [({"demo.json": b"{}", "actions.parquet": b"x"}, "generated demo set"),
                                            ({"actions.csv": b"mine"}, "did not write"),
                                            ({"imported.json": b"{}", "notes.txt": b"mine"}, "notes.txt")])
def test_a_folder_with_other_files_is_refused_and_left_as_it_was(tmp_path, present, named):
    raw = tmp_path / "raw"
    raw.mkdir()
    for name, data in present.items():
        (raw / name).write_bytes(data)
    source = _write(tmp_path / "ub.csv", TAOBAO)
    with pytest.raises(PipelineError, match=f"raw_dir={raw} holds .*{named}.*raw_dir=") as caught:
        main(["taobao", str(source), f"raw_dir={raw}"])
    assert "\n" not in str(caught.value)
    assert _contents(raw) == present
    assert sorted(p.name for p in tmp_path.iterdir()) == ["raw", "ub.csv"]


def test_an_earlier_import_is_replaced_and_a_failed_one_changes_nothing(tmp_path):
    raw = tmp_path / "raw"
    (raw).mkdir()  # an empty folder (as sh scr/prepare_dir.sh leaves it) may be filled
    _import("taobao", _write(tmp_path / "ub.csv", TAOBAO), raw_dir=raw)
    first = _contents(raw)
    replaced = _import("taobao", _write(tmp_path / "ub2.csv", TAOBAO * 2), raw_dir=raw)
    assert len(replaced.actions) == 12
    second = _contents(raw)
    assert second != first
    for broken in ("", "1,2\n", TAOBAO + "x,1,1,pv,1\n"):
        with pytest.raises(PipelineError):
            main(["taobao", str(_write(tmp_path / "bad.csv", broken)), f"raw_dir={raw}"])
        assert _contents(raw) == second
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "raw", "ub.csv", "ub2.csv"]


@pytest.mark.parametrize("text, message", [("", "the file is empty"),
                                           ("user_id,sku_id,time,type,cate,brand\n", "no data rows"),
                                           ("user_id,sku_id,when,type\n1,2,3,4\n", "none of this format's files")])
def test_empty_files_and_missing_columns(tmp_path, text, message):
    source = _write(tmp_path / "JData_Action_201602.csv", text)
    with pytest.raises(PipelineError, match=message):
        main(["jdata2017", str(source), f"raw_dir={tmp_path / 'raw'}"])


def test_script_prints_one_line_error_and_exits_2(tmp_path):
    source = _write(tmp_path / "ub.csv", "1,2,3,pv\n")
    env = {**os.environ, "PYTHON": sys.executable}
    result = subprocess.run(["sh", str(ROOT / "scr" / "import_data.sh"), "taobao", "ub.csv", "raw_dir=raw"],
                            cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ub.csv")
    assert "1 rows with 4 fields, expected 5" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ub.csv"]


# ---------------------------------------------------------------- window settings

@pytest.mark.parametrize("span, expected", [(9, (6, 2, 1)), (35, (6, 5, 5)), (34, (7, 5, 4)), (30, (7, 5, 3)),
                                            (20, (10, 5, 1)), (4, (3, 1, 1)), (3, None)])
def test_window_settings_fit_the_span(span, expected):
    """The longest windows that leave a training window, at the stride that gives the most training
    windows up to config.py's four, the longest such stride."""
    default = configurator.defaults()
    fit = fitting_settings(span, default["num_windows"], default["window_days"], default["window_stride_days"])
    assert fit == expected
    if fit is not None:
        assert needed_days(*fit) <= span and 1 <= training_count(*fit, False) <= 4


def test_a_log_too_short_for_a_training_window_gets_no_proposal(tmp_path, capsys):
    source = _write(tmp_path / "ub.csv", "\n".join(TAOBAO.splitlines()[:3]) + "\n")  # one day
    _import("taobao", source, raw_dir=tmp_path / "raw")
    out = capsys.readouterr().out.splitlines()
    assert out[1:] == ["windows: the span is too short for a training window (at least 4 days are needed)"]
    assert not (tmp_path / "raw" / import_proposal.FILE).exists()


def test_the_imported_even_users_sample_is_processed_with_its_proposal_unless_told_otherwise(tmp_path, capsys):
    """A newcomer's first steps on the 9-day Taobao sample: import, then main_func with raw_dir alone."""
    raw = tmp_path / "raw"
    main(["taobao", str(real_sample("taobao", "UserBehavior-even-users.csv")), f"raw_dir={raw}"])
    places = [f"raw_dir={raw}", f"processed_dir={tmp_path / 'processed'}", f"results_dir={tmp_path / 'results'}",
              "use_item2vec=False"]
    capsys.readouterr()
    [row] = main_func.main(places + ["model=RULE"])
    out = capsys.readouterr().out
    assert f"preprocessing: settings from the import ({raw / import_proposal.FILE}): num_windows=6 window_days=2 " \
           "window_stride_days=1\n" in out
    assert "preprocessing: windows: 0 dev/test; train 2, 3, 4 (3 training windows); purged 1 (its label days " \
           "2017-12-01..2017-12-02 reach into the dev/test label days 2017-12-02..2017-12-03; num_windows=7 would " \
           "train on 4); unused 5" in out
    meta = load_meta(tmp_path / "processed")
    assert [meta["settings"][k] for k in import_proposal.SETTINGS] == [6, 2, 1]
    assert {k: row["changed_settings"][k] for k in ("num_windows", "window_days", "window_stride_days")
            if k in row["changed_settings"]} == {"window_days": 2, "window_stride_days": 1}
    proposed = meta["splits"]["train"]

    overridden = "given instead of its proposal: num_windows=3 window_stride_days=2"
    main_func.main(places + ["model=RULE", "num_windows=3", "window_stride_days=2"])
    assert overridden in capsys.readouterr().out
    earlier = load_meta(tmp_path / "processed")["splits"]["train"]
    # the proposal before strides shorter than a window: one training window instead of three
    assert (earlier["samples"], proposed["samples"]) == (7549, 22742)
    assert proposed["buy_rate"] * proposed["samples"] > 3 * earlier["buy_rate"] * earlier["samples"]
