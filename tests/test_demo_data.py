"""The demo generator: deterministic, in the raw-data contract, written atomically, and carrying the
label rates and learnable structure the issue asks for (measured with plain pandas)."""
import json

import pandas as pd
import pytest

import configurator
import errors
from preprocessing.raw_data import load_raw
from preprocessing.sources import make_demo_data

SMALL = ["demo_users=600", "demo_items=300", "demo_categories=20"]
DAY = pd.Timedelta(days=1)


def _small(*extra):
    return configurator.load(SMALL + list(extra))


def test_same_settings_give_identical_tables_and_another_seed_differs():
    first, again = make_demo_data.generate(_small()), make_demo_data.generate(_small())
    for table, same in zip(first, again):
        pd.testing.assert_frame_equal(table, same)
    other = make_demo_data.generate(_small("demo_seed=7"))
    assert not first[0].equals(other[0])
    assert len(first[0]) > 10000


def test_tables_follow_the_contract_and_load_without_repairs(tmp_path):
    cfg = _small()
    make_demo_data.write(*make_demo_data.generate(cfg), tmp_path / "raw", {"demo_seed": cfg.demo_seed})
    raw = load_raw(tmp_path / "raw")
    assert raw.repairs == {}
    actions = raw.actions
    assert actions["action_time"].min().normalize() == pd.Timestamp(cfg.demo_start)
    assert actions["action_time"].max().normalize() == pd.Timestamp(cfg.demo_end)
    assert sorted(actions["action_type"].unique()) == [1, 2, 3, 4, 5]
    assert actions["action_time"].is_monotonic_increasing
    assert actions["user_log_acct"].isin(raw.users["user_log_acct"]).all()
    assert actions["item_sku_id"].isin(raw.items["item_sku_id"]).all()
    assert len(raw.users) == 600 and len(raw.items) == 300
    assert raw.items["item_third_cate_cd"].nunique() == 20
    # the hierarchy: a shop has one vendor and sells one category
    assert (raw.items.groupby("shop_id")[["vender_id", "item_third_cate_cd"]].nunique() == 1).all().all()


def test_write_replaces_an_older_demo_set_and_refuses_other_data(tmp_path):
    raw_dir = tmp_path / "raw"
    make_demo_data.write(*make_demo_data.generate(_small()), raw_dir, {"demo_seed": 1})
    newer = make_demo_data.generate(_small("demo_seed=5"))
    make_demo_data.write(*newer, raw_dir, {"demo_seed": 5})
    pd.testing.assert_frame_equal(pd.read_parquet(raw_dir / "actions.parquet"), newer[0])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["raw"]
    (raw_dir / "actions.csv").write_text("user_log_acct\n1\n")
    with pytest.raises(errors.PipelineError, match=r"holds 1 paths that this program did not write \(actions.csv\)"):
        make_demo_data.write(*newer, raw_dir, {"demo_seed": 5})
    assert (raw_dir / "actions.csv").read_text() == "user_log_acct\n1\n"


def test_a_failed_write_leaves_the_older_set_whole(tmp_path, monkeypatch):
    raw_dir = tmp_path / "raw"
    make_demo_data.write(*make_demo_data.generate(_small()), raw_dir, {"demo_seed": 1})
    before = {p.name: p.read_bytes() for p in raw_dir.iterdir()}
    written = []

    def fail_on_second_table(frame, path, **kwargs):
        written.append(path)
        if len(written) == 2:
            raise OSError("disk full")
        frame.to_csv(path)

    monkeypatch.setattr(pd.DataFrame, "to_parquet", fail_on_second_table)
    with pytest.raises(OSError):
        make_demo_data.write(*make_demo_data.generate(_small("demo_seed=5")), raw_dir, {"demo_seed": 5})
    assert {p.name: p.read_bytes() for p in raw_dir.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["raw"]


def _contents(folder):
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else None for p in sorted(folder.rglob("*"))}


def test_main_writes_the_oracle_and_replaces_its_own_set(tmp_path, capsys):
    raw_dir = tmp_path / "raw"
    for _ in range(2):
        assert errors.run_cli(make_demo_data.main, SMALL + [f"raw_dir={raw_dir}"]) == 0
    assert sorted(_contents(tmp_path)) == ["raw", *(f"raw/{name}" for name in sorted(
        ["actions.parquet", "demo.json", "demo_oracle.parquet", "items.parquet", "users.parquet"]))]
    marker = json.loads((raw_dir / "demo.json").read_text())
    assert marker["oracle"] == {"label": ["2020-04-11", "2020-04-15"], "window_days": 5,
                                "repeats": make_demo_data.ORACLE_REPEATS}
    assert marker["settings"]["demo_users"] == 600 and make_demo_data.signature_problem(raw_dir) is None
    oracle = pd.read_parquet(raw_dir / "demo_oracle.parquet")
    assert list(oracle.columns) == ["user_log_acct", "item_sku_id", "p_buy", "p_interact"]
    assert oracle[["p_buy", "p_interact"]].stack().between(0, 1).all()


def _look_alike(folder, marker):
    """A user's folder holding tables named like a demo set, and a demo.json that does not vouch for them."""
    folder.mkdir(parents=True)
    for name, table in zip(make_demo_data.DEMO_FILES, make_demo_data.generate(_small("demo_seed=3"))):
        table.to_parquet(folder / name, index=False)
    if marker is not None:
        (folder / "demo.json").write_text(marker)


def _signed_marker_of_another_set(tmp_path):
    make_demo_data.write(*make_demo_data.generate(_small()), tmp_path / "genuine", {"demo_seed": 1})
    return (tmp_path / "genuine" / "demo.json").read_text()


@pytest.mark.parametrize("marker", ["none", "unsigned", "another set's", "not json"])
def test_a_look_alike_user_folder_is_left_byte_for_byte(tmp_path, capsys, marker):
    if marker == "another set's":
        text = _signed_marker_of_another_set(tmp_path)
    else:
        text = {"none": None, "unsigned": json.dumps({"demo_seed": 2021, "demo_users": 600}), "not json": "{"}[marker]
    users_folder = tmp_path / "mine" / "raw"
    _look_alike(users_folder, text)
    before = _contents(tmp_path / "mine")
    assert errors.run_cli(make_demo_data.main, SMALL + [f"raw_dir={users_folder}"]) == 2
    message = capsys.readouterr().err
    assert message.startswith(f"error: raw_dir={users_folder} holds ") and message.count("\n") == 1
    assert "actions.parquet" in message
    assert _contents(tmp_path / "mine") == before


def test_raw_dir_dot_is_refused_whatever_the_current_folder_holds(tmp_path, monkeypatch, capsys):
    for name, files in (("busy", {"notes.txt": b"mine"}), ("empty", {})):
        folder = tmp_path / name
        folder.mkdir()
        for file, data in files.items():
            (folder / file).write_bytes(data)
        monkeypatch.chdir(folder)
        assert errors.run_cli(make_demo_data.main, SMALL + ["raw_dir=."]) == 2
        message = capsys.readouterr().err
        assert message.startswith("error: raw_dir=. ") and message.count("\n") == 1
        assert _contents(tmp_path / name) == {k: v for k, v in files.items()}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["busy", "empty"]


@pytest.mark.parametrize("setting", ["demo_categories=0", "demo_categories=400", "demo_scale=0.0",
                                     "demo_end=2020-01-01", "demo_start=someday"])
def test_bad_sizes_or_dates_are_one_line_errors(setting):
    with pytest.raises(configurator.ConfigError) as caught:
        make_demo_data.generate(_small(setting))
    assert setting.split("=")[0] in str(caught.value) and "\n" not in str(caught.value)


@pytest.fixture(scope="module")
def newest_window():
    """The default demo log and the candidate pairs of its newest window, with plain pandas: the pairs
    acting in the 5-day interaction range, labelled by any action / an order in the next 5 days."""
    actions, items, users = make_demo_data.generate(configurator.load([]))
    actions = actions.merge(items[["item_sku_id", "item_third_cate_cd"]], on="item_sku_id")
    label_end = actions["action_time"].max().normalize() + DAY
    label_start = label_end - 5 * DAY
    start = label_start - 5 * DAY
    window = actions[(actions["action_time"] >= start) & (actions["action_time"] < label_start)]
    label = actions[(actions["action_time"] >= label_start) & (actions["action_time"] < label_end)]
    key = ["user_log_acct", "item_sku_id"]
    pairs = window.groupby(key).agg(last=("action_time", "max"), cate=("item_third_cate_cd", "first")).reset_index()
    carts = window[window["action_type"].isin([3, 5])]
    pairs["carted"] = pd.MultiIndex.from_frame(pairs[key]).isin(pd.MultiIndex.from_frame(carts[key]))
    pairs["interact"] = pd.MultiIndex.from_frame(pairs[key]).isin(pd.MultiIndex.from_frame(label[key]))
    buys = label[label["action_type"] == 2]
    pairs["buy"] = pd.MultiIndex.from_frame(pairs[key]).isin(pd.MultiIndex.from_frame(buys[key]))
    pairs = pairs.merge(users[["user_log_acct", "user_level"]], on="user_log_acct")
    return {"actions": actions, "items": items, "window": window, "pairs": pairs, "label_start": label_start,
            "start": start}


def test_default_size_and_label_rates_match_the_original(newest_window):
    pairs = newest_window["pairs"]
    assert 1_000_000 <= len(newest_window["actions"]) <= 2_000_000
    assert 40_000 <= len(pairs) <= 60_000
    assert 0.10 <= pairs["interact"].mean() <= 0.20
    assert 0.005 <= pairs["buy"].mean() <= 0.02
    assert not (pairs["buy"] & ~pairs["interact"]).any()


def _rate(pairs, label, mask):
    return pairs.loc[mask, label].mean()


def test_recent_behaviour_predicts_better_than_old(newest_window):
    pairs, label_start, start = newest_window["pairs"], newest_window["label_start"], newest_window["start"]
    recent, old = pairs["last"] >= label_start - 2 * DAY, pairs["last"] < start + 2 * DAY
    for label in ("interact", "buy"):
        assert _rate(pairs, label, recent) > 1.5 * _rate(pairs, label, old)


def test_other_items_of_the_target_category_make_a_pair_convert(newest_window):
    """Pairs not touched lately convert more when the user lately acted on other items of the same
    category: the relevance of past actions depends on the target."""
    pairs, window, label_start = newest_window["pairs"], newest_window["window"], newest_window["label_start"]
    lately = window[window["action_time"] >= label_start - 2 * DAY]
    lately = pd.MultiIndex.from_frame(lately[["user_log_acct", "item_third_cate_cd"]])
    quiet = pairs[pairs["last"] < label_start - 2 * DAY]
    same = pd.MultiIndex.from_frame(quiet[["user_log_acct", "cate"]]).isin(lately)
    assert _rate(quiet, "interact", same) > 1.3 * _rate(quiet, "interact", ~same)
    assert _rate(quiet, "buy", same) > 1.2 * _rate(quiet, "buy", ~same)


def test_funnel_and_user_attributes_shift_buying(newest_window):
    pairs, actions = newest_window["pairs"], newest_window["actions"]
    assert _rate(pairs, "buy", pairs["carted"]) > 5 * _rate(pairs, "buy", ~pairs["carted"])
    assert _rate(pairs, "buy", pairs["user_level"] >= 6) > 1.5 * _rate(pairs, "buy", pairs["user_level"] <= 3)
    key = ["user_log_acct", "item_sku_id"]
    first = {kind: actions[actions["action_type"].isin(kinds)].groupby(key)["action_time"].min()
             for kind, kinds in (("cart", [3, 5]), ("order", [2]))}
    orders = actions[actions["action_type"] == 2].join(first["cart"].rename("cart"), on=key)
    # most orders come without a cart, as in real shopping; those with one come on a later visit
    assert 0.2 < (orders["cart"] < orders["action_time"]).mean() < 0.6
    assert (orders["action_time"] - orders["cart"]).median() > 0.5 * DAY
    comments = actions[actions["action_type"] == 4].join(first["order"].rename("order"), on=key)
    assert (comments["order"] < comments["action_time"]).all()


def test_popularity_is_long_tailed(newest_window):
    actions, items = newest_window["actions"], newest_window["items"]
    per_item = actions["item_sku_id"].value_counts()
    assert per_item.head(len(items) // 10).sum() > 0.4 * len(actions)
    per_category = actions["item_third_cate_cd"].value_counts()
    assert per_category.head(len(per_category) // 10).sum() > 0.3 * len(actions)
