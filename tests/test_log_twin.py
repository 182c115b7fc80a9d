"""log_shape on a hand-written log with known answers; make_demo_data like=DIR: a twin of the real
Taobao sample within the stated tolerances, deterministic for a seed, written with its like.json
and oracle, and bad sources refused in one line."""
import json

import numpy as np
import pandas as pd
import pytest

import configurator
import errors
from preprocessing.raw_data import load_raw
from preprocessing.sources import demo_oracle, log_shape, log_twin, make_demo_data
from preprocessing.sources.importers.__main__ import main as import_main
from tests.pipeline_fixtures import real_sample

SMALL_SOURCE = ["demo_users=400", "demo_items=300", "demo_categories=20", "demo_start=2020-03-01",
                "demo_end=2020-03-20"]


def _log(rows):
    actions = pd.DataFrame(rows, columns=["user_log_acct", "item_sku_id", "action_time", "action_type"])
    actions["action_time"] = pd.to_datetime(actions["action_time"])
    items = pd.DataFrame({"item_sku_id": [1, 2, 3], "brand_code": [-1, -1, -1], "shop_id": [-1, -1, -1],
                          "item_third_cate_cd": [10, 10, 20], "vender_id": [-1, -1, -1], "shop_score": [-1.0] * 3})
    return actions, items, None


def test_shape_of_a_hand_written_log():
    actions, items, users = _log([
        # user 1: browses item 1 on day 1, carts it on day 3, orders it on day 4 (two sessions on day 3)
        (1, 1, "2020-01-01 10:00", 1), (1, 1, "2020-01-03 09:00", 1), (1, 1, "2020-01-03 12:00", 5),
        (1, 1, "2020-01-04 10:00", 2),
        # user 2: orders item 2 with no action before, and item 3 after a browse the same hour
        (2, 2, "2020-01-04 10:00", 2), (2, 3, "2020-01-04 11:00", 1), (2, 3, "2020-01-04 11:05", 2),
        # user 3: browses item 3 five calendar days before ordering it, but 121 hours before
        (3, 3, "2020-01-01 09:00", 1), (3, 3, "2020-01-06 10:00", 2),
    ])
    shape = log_shape.measure(actions, items, users)
    assert shape["users"] == 3 and shape["span_days"] == 6 and shape["categories_seen"] == 2
    assert shape["actions_per_active_day"] == pytest.approx(9 / 6)
    assert shape["sessions_per_active_day"] == pytest.approx(8 / 6)  # day 3 of user 1 and day 4 of user 2: two
    assert shape["mix_order"] == pytest.approx(4 / 9) and shape["mix_cart"] == pytest.approx(1 / 9)
    assert shape["orders_without_earlier_day"] == pytest.approx(2 / 4)  # items 2 and 3 of user 2
    assert shape["orders_without_earlier_action"] == pytest.approx(2 / 4)  # item 2 of user 2, item 3 of user 3
    assert shape["orders_after_cart"] == pytest.approx(1 / 4)
    assert shape["orders_after_browse_and_cart"] == pytest.approx(1 / 4)
    assert shape["cart_of_browsed_pairs"] == pytest.approx(1 / 3) and shape["order_of_carted_pairs"] == 1.0
    assert shape["buyers_per_user"] == 1.0 and shape["orders_per_buyer"] == pytest.approx(4 / 3)
    # the last 3 days (half the span) against the 3 before: users 1 and 3 acted on their buyer pairs then
    assert shape["retained_buyer_pairs"] == pytest.approx(2 / 4)
    assert shape["known_item_third_cate_cd"] == 2 and shape["known_brand_code"] == 0 and shape["known_age"] == 0


def test_tolerances_follow_the_kind_of_statistic():
    assert log_shape.within("share", 0.40, 0.43) and not log_shape.within("share", 0.40, 0.44)
    assert log_shape.within("ratio", 10.0, 10.9) and not log_shape.within("ratio", 10.0, 11.2)
    assert log_shape.within("mix", 0.001, 0.0028) and not log_shape.within("mix", 0.02, 0.0225)
    assert log_shape.within("count", 400, 4300, scale=10) and not log_shape.within("count", 400, 4500, scale=10)


# The issue's table (statistic -> tolerance between the Taobao sample and its twin); the remaining
# statistics with the tolerance log_shape states for them, except the few the generator does not
# reproduce yet, with the widest difference measured (docs/data.md, "A twin of a real log").
ISSUE_TABLE = {"actions_per_active_day": ("ratio", 0.10), "orders_without_earlier_day": ("share", 0.035),
               "orders_after_cart": ("share", 0.03), "retained_buyer_pairs": ("share", 0.03),
               "users": ("ratio", 0.02), "span_days": ("ratio", 0.0)}
NOT_YET = {"cart_of_browsed_pairs": 0.05, "orders_after_browse_and_cart": 0.09, "buyers_per_user": 0.15,
           "single_action_items": 0.12}


@pytest.fixture(scope="module")
def taobao_twin(tmp_path_factory):
    taobao = real_sample("taobao", "UserBehavior-even-users.csv")
    folder = tmp_path_factory.mktemp("taobao")
    import_main(["taobao", str(taobao), f"raw_dir={folder / 'raw'}"])
    source = load_raw(folder / "raw")
    cfg, shape, source_shape = log_twin.fit(configurator.load([]), source)
    return source_shape, log_shape.measure(*make_demo_data.generate(cfg, shape)), shape


def test_twin_of_the_taobao_sample_has_its_shape(taobao_twin):
    source, twin, shape = taobao_twin
    for name, (kind, tolerance) in ISSUE_TABLE.items():
        gap = abs(twin[name] - source[name]) / (source[name] if kind == "ratio" else 1.0)
        assert gap <= tolerance + 1e-9, f"{name}: source {source[name]:.3f}, twin {twin[name]:.3f}"
    for name, (kind, scaled, _) in log_shape.STATISTICS.items():
        if name in NOT_YET:
            assert abs(twin[name] - source[name]) <= NOT_YET[name], name
        elif name not in ISSUE_TABLE:
            assert log_shape.within(kind, source[name], twin[name]), f"{name}: {source[name]:.3f} vs {twin[name]:.3f}"
    # the sample knows each item's category only, and so does its twin
    assert shape.known == ("item_third_cate_cd",) and shape.seen_items_only


@pytest.fixture(scope="module")
def small_source(tmp_path_factory):
    """A small generated log as a source to be twinned: fast to fit."""
    folder = tmp_path_factory.mktemp("source") / "raw"
    cfg = configurator.load(SMALL_SOURCE + ["demo_seed=11"])
    make_demo_data.write(*make_demo_data.generate(cfg), folder, {"demo_seed": 11})
    return folder


def test_the_twin_is_deterministic_for_a_seed(small_source):
    source = load_raw(small_source)
    first, again = (log_twin.fit(configurator.load(["demo_seed=3"]), source) for _ in range(2))
    assert first[1] == again[1] and vars(first[0]) == vars(again[0])
    tables, same = make_demo_data.generate(first[0], first[1]), make_demo_data.generate(again[0], again[1])
    for table, copy in zip(tables, same):
        pd.testing.assert_frame_equal(table, copy)
    other_cfg, other_shape, _ = log_twin.fit(configurator.load(["demo_seed=4"]), source)
    assert not make_demo_data.generate(other_cfg, other_shape)[0].equals(tables[0])


def test_like_writes_the_twin_its_comparison_and_oracle(small_source, tmp_path, capsys):
    raw_dir = tmp_path / "twin"
    assert errors.run_cli(make_demo_data.main, [f"like={small_source}", f"raw_dir={raw_dir}", "demo_scale=2"]) == 0
    out = capsys.readouterr().out
    like = json.loads((raw_dir / "like.json").read_text())
    assert [row["statistic"] for row in like["statistics"]] == list(log_shape.STATISTICS)
    assert like["source"] == str(small_source) and like["settings"]["demo_scale"] == 2.0
    assert "orders_without_earlier_day" in out and out.count("\n") > len(log_shape.STATISTICS)
    users = {row["statistic"]: row for row in like["statistics"]}["users"]
    assert users["target"] == 2 * users["source"] and abs(users["twin"] / users["target"] - 1) < 0.1
    assert make_demo_data.signature_problem(raw_dir) is None
    marker = json.loads((raw_dir / "demo.json").read_text())
    assert marker["settings"]["like"] == str(small_source) and marker["oracle"]["window_days"] == 5
    oracle = pd.read_parquet(raw_dir / make_demo_data.ORACLE_FILE)
    assert len(oracle) > 0 and oracle["p_buy"].between(0, 1).all()
    # the source's unknown user attributes stay unknown in the twin
    assert set(pd.read_parquet(raw_dir / "users.parquet")["province"]) == {-1}
    assert demo_oracle.oracle_unavailable_reason(raw_dir, tmp_path / "none").startswith("processed_dir=")


@pytest.mark.parametrize("case", ["missing", "itself"])
def test_a_bad_source_is_a_one_line_error(small_source, tmp_path, capsys, case):
    like = tmp_path / "nowhere" if case == "missing" else small_source
    raw_dir = tmp_path / "twin" if case == "missing" else small_source
    before = sorted(p.name for p in small_source.iterdir())
    assert errors.run_cli(make_demo_data.main, [f"like={like}", f"raw_dir={raw_dir}"]) != 0
    message = capsys.readouterr().err
    assert message.startswith("error:") and str(like) in message and message.count("\n") == 1
    assert not (tmp_path / "twin").exists() and sorted(p.name for p in small_source.iterdir()) == before


def test_scaled_counts_are_compared_with_the_scaled_source():
    source = {name: 1.0 for name in log_shape.STATISTICS}
    twin = dict(source, users=3.0, categories_seen=3.0)
    rows = {row["statistic"]: row for row in log_shape.compare(source, twin, scale=3.0)}
    assert rows["users"]["within"] and not rows["categories_seen"]["within"]
    assert np.isclose(rows["users"]["target"], 3.0)
