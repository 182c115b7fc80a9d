"""Preprocessing on a tiny hand-written log with known answers, and on a small generated log
checked against a plain pandas computation."""
import numpy as np
import pandas as pd
import pytest

import configurator
from errors import PipelineError
from preprocessing.pipeline import pair_features
from preprocessing.pipeline.build_dataset import build_from_frames
from preprocessing.pipeline.encoding import encode_log
from preprocessing.processed_data import ARRAYS, SAMPLE_ARRAYS, SEQUENCE_ARRAYS, load_meta, load_split, per_sample
from preprocessing.raw_data import UNKNOWN_INT, UNKNOWN_SCORE
from preprocessing.sources import make_demo_data

TINY = ["num_windows=3", "window_days=1", "window_stride_days=1", "max_len=3", "use_item2vec=False",
        "embed_dim=4"]


def tiny_log():
    """Six days of three users; rows out of time order on purpose. Alice's two actions at
    2020-01-04 08:00 are a tie: item 10 comes first in the table, so first in her sequence."""
    actions = pd.DataFrame([
        ("bob", 20, "2020-01-04 20:00:00", 1),
        ("alice", 10, "2020-01-04 08:00:00", 5),
        ("alice", 30, "2020-01-04 08:00:00", 1),
        ("alice", 20, "2020-01-02 10:00:00", 1),
        ("alice", 10, "2020-01-01 09:00:00", 1),
        ("carol", 10, "2020-01-06 10:00:00", 1),
        ("alice", 10, "2020-01-05 12:00:00", 2),
        ("bob", 30, "2020-01-05 23:59:59", 3),
        ("alice", 40, "2020-01-05 13:00:00", 1),
        ("bob", 30, "2020-01-06 00:00:00", 1),
        ("alice", 40, "2020-01-06 09:00:00", 2),
        ("carol", 20, "2020-01-05 09:00:00", 1),
    ], columns=["user_log_acct", "item_sku_id", "action_time", "action_type"])
    actions["action_time"] = pd.to_datetime(actions["action_time"]).astype("datetime64[ns]")
    actions["action_type"] = actions["action_type"].astype(np.int8)
    items = pd.DataFrame({
        "item_sku_id": [10, 20, 30, 40, 50],
        "brand_code": [1, 2, 1, 3, 3],
        "shop_id": [100, 100, 200, 200, 300],
        "item_third_cate_cd": [7, 3, 7, 9, 9],
        "vender_id": [5, 5, 6, 6, 6],
        "shop_score": np.array([9.0, 8.0, 7.0, 9.5, UNKNOWN_SCORE], dtype=np.float32)})
    users = pd.DataFrame({
        "user_log_acct": ["carol", "alice", "bob"],
        "age": [2, 3, UNKNOWN_INT], "sex": [0, 1, 1], "user_level": [1, 5, 3],
        "province": ["north", "south", "north"], "city": [11, 12, 11], "county": [101, 102, 103]})
    return actions, items, users


def build(tmp_path, frames, arguments, name="processed"):
    out = tmp_path / name
    out.mkdir()
    build_from_frames(*frames, configurator.load(arguments), out)
    return out


def rows(arrays, names=("user", "item", "label_buy", "label_interact", "hist_item", "hist_cate", "hist_action")):
    """The samples as tuples, sorted: comparable whatever their order in a split."""
    table = zip(*[arrays[name].tolist() for name in names])
    return sorted(tuple(tuple(v) if isinstance(v, list) else v for v in row) for row in table)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return build(tmp_path_factory.mktemp("tiny"), tiny_log(), TINY)


def test_ids_are_sorted_raw_values_from_one_with_zero_for_padding_and_unknown(tiny):
    vocab = {name: np.load(tiny / "vocab" / f"{name}.npy", allow_pickle=False)
             for name in ("user", "item", "cate", "age", "province")}
    assert vocab["user"].tolist() == ["unknown", "alice", "bob", "carol"] and vocab["user"].dtype.kind == "U"
    assert vocab["item"].tolist() == [-1, 10, 20, 30, 40, 50] and vocab["item"].dtype == np.int64
    assert vocab["cate"].tolist() == [-1, 3, 7, 9]
    assert vocab["age"].tolist() == [-1, 2, 3], "the loader's unknown value gets index 0, not an id"
    assert vocab["province"].tolist() == ["unknown", "north", "south"]
    meta = load_meta(tiny)
    assert meta["vocab_sizes"] == {"user": 4, "item": 6, "cate": 4, "brand": 4, "shop": 4, "vendor": 3,
                                   "age": 3, "sex": 3, "user_level": 4, "province": 3, "city": 3,
                                   "county": 4, "action": 6}
    dev_test = {name: np.concatenate([per_sample(load_split(tiny, s))[name] for s in ("dev", "test")])
                for name in ("user", "age", "province")}
    by_user = {vocab["user"][u]: (vocab["age"][a], vocab["province"][p]) for u, a, p in zip(*dev_test.values())}
    assert by_user == {"alice": (3, "south"), "bob": (-1, "north"), "carol": (2, "north")}


def test_training_window_samples_labels_and_truncated_sequences(tiny):
    train = per_sample(load_split(tiny, "train"))
    # window 1: interaction 2020-01-04, label 2020-01-05, sequences up to the end of 2020-01-04
    assert rows(train) == [
        (1, 1, 1.0, 1.0, (2, 1, 3), (1, 2, 2), (1, 5, 1)),  # alice, item 10: ordered on the 5th
        (1, 3, 0.0, 0.0, (2, 1, 3), (1, 2, 2), (1, 5, 1)),  # alice, item 30: her 10 and 30 tie at 08:00
        (2, 2, 0.0, 0.0, (0, 0, 2), (0, 0, 1), (0, 0, 1)),  # bob, item 20: padded in front
    ]
    assert rows(train, ("item", "cate", "brand", "shop", "vendor")) == [(1, 2, 1, 1, 1), (2, 1, 2, 1, 1),
                                                                      (3, 2, 1, 2, 2)]


def test_newest_window_samples_and_labels_split_between_dev_and_test(tiny):
    dev, test = per_sample(load_split(tiny, "dev")), per_sample(load_split(tiny, "test"))
    both = {name: np.concatenate([dev[name], test[name]]) for name in SAMPLE_ARRAYS}
    # window 0: interaction 2020-01-05, label 2020-01-06; carol's action on the 6th stays out
    assert rows(both) == [
        (1, 1, 0.0, 0.0, (3, 1, 4), (2, 2, 3), (1, 2, 1)),
        (1, 4, 1.0, 1.0, (3, 1, 4), (2, 2, 3), (1, 2, 1)),  # alice orders item 40 on the 6th
        (2, 3, 0.0, 1.0, (0, 2, 3), (0, 1, 2), (0, 1, 3)),  # bob browses 30 at 00:00 on the 6th
        (3, 2, 0.0, 0.0, (0, 0, 2), (0, 0, 1), (0, 0, 1)),
    ]
    assert not set(dev["user"].tolist()) & set(test["user"].tolist())
    assert len(set(dev["user"].tolist())) == 1 and len(set(test["user"].tolist())) == 2


def test_longer_max_len_pads_in_front(tmp_path):
    train = per_sample(load_split(build(tmp_path, tiny_log(), TINY + ["max_len=6"]), "train"))
    by_item = dict(zip(train["item"].tolist(), train["hist_item"].tolist()))
    assert by_item[1] == [0, 0, 1, 2, 1, 3]  # alice: 10, 20, 10, 30
    assert by_item[2] == [0, 0, 0, 0, 0, 2]
    assert train["hist_action"].shape == (3, 6) and train["hist_action"].dtype == np.int32


def test_meta_describes_features_windows_and_splits(tiny):
    meta = load_meta(tiny)
    features = {f["name"]: f for f in meta["features"]}
    assert features["item"] == {"name": "item", "kind": "sparse", "vocab": "item", "group": "target"}
    assert features["brand"] == {"name": "brand", "kind": "sparse", "vocab": "brand", "group": "item"}
    assert features["age"] == {"name": "age", "kind": "sparse", "vocab": "age", "group": "user"}
    assert features["hist_item"] == {"name": "hist_item", "kind": "sequence", "vocab": "item", "max_len": 3,
                                     "target": "item"}
    assert features["hist_action"]["target"] is None and features["hist_cate"]["target"] == "cate"
    assert features["dense"]["dim"] == len(features["dense"]["columns"]) == 8
    assert "user" not in features and "label_buy" not in features
    assert {f["group"] for f in meta["features"] if f["kind"] == "sparse"} == {"target", "item", "user"}
    assert meta["target_action"] == 2 and meta["max_len"] == 3 and meta["embed_dim"] == 4
    assert meta["windows"][0] == {"index": 0, "role": "dev_test", "interaction": ["2020-01-05", "2020-01-05"],
                                  "label": ["2020-01-06", "2020-01-06"], "feature": ["2020-01-01", "2020-01-05"],
                                  "samples": 4}
    assert [w["role"] for w in meta["windows"]] == ["dev_test", "train", "unused"]
    assert meta["splits"]["train"] == {"windows": [1], "samples": 3, "users": 2, "buy_rate": 1 / 3,
                                       "interact_rate": 1 / 3}
    assert meta["splits"]["dev"]["samples"] + meta["splits"]["test"]["samples"] == 4
    assert meta["item2vec"] is None and meta["settings"]["max_len"] == 3


def test_dense_features_are_standardised_on_train_only(tiny):
    meta = load_meta(tiny)
    train = per_sample(load_split(tiny, "train"))
    assert train["dense"].dtype == np.float32 and train["dense"].shape == (3, 8)
    np.testing.assert_allclose(train["dense"].mean(axis=0), 0.0, atol=1e-5)
    varying = np.array(meta["dense"]["std"]) != 1.0
    np.testing.assert_allclose(train["dense"].std(axis=0)[varying], 1.0, atol=1e-5)
    shop_score = meta["dense"]["columns"].index("shop_score")
    dev = per_sample(load_split(tiny, "dev"))
    raw = dev["dense"][:, shop_score] * meta["dense"]["std"][shop_score] + meta["dense"]["mean"][shop_score]
    scores = {1: 9.0, 2: 8.0, 3: 7.0, 4: 9.5}
    np.testing.assert_allclose(raw, [scores[i] for i in dev["item"].tolist()], rtol=1e-5)


def test_an_unknown_shop_score_becomes_the_catalogue_mean():
    encoded = encode_log(*tiny_log())
    assert encoded.shop_score[5] == pytest.approx((9.0 + 8.0 + 7.0 + 9.5) / 4)


def test_arrays_have_the_documented_types_and_load_without_pickle(tiny):
    for split in ("train", "dev", "test"):
        stored = load_split(tiny, split, mmap=False)
        assert set(stored) == set(ARRAYS)
        count, runs = len(stored["user"]), len(stored["hist_item"])
        for name, array in stored.items():
            expected = np.float32 if name in ("dense", "pair", "label_buy", "label_interact") else np.int32
            assert array.dtype == expected and len(array) == (runs if name in SEQUENCE_ARRAYS else count), name
        # a user's samples in a window share one stored sequence
        assert runs < count if split == "train" else runs <= count
        assert np.array_equal(np.unique(stored["hist_row"]), np.arange(runs))
        assert all(len(np.unique(stored["user"][stored["hist_row"] == row])) == 1 for row in range(runs))


def test_ties_follow_the_order_of_the_raw_table(tmp_path):
    actions, items, users = tiny_log()
    swapped = actions.iloc[[0, 2, 1] + list(range(3, len(actions)))].reset_index(drop=True)
    train = per_sample(load_split(build(tmp_path, (swapped, items, users), TINY), "train"))
    assert train["hist_item"][0].tolist() == [2, 3, 1]


def newest(processed):
    return {name: np.concatenate([per_sample(load_split(processed, s))[name] for s in ("dev", "test")]) for name in SAMPLE_ARRAYS}


def test_random_split_halves_the_newest_samples_reproducibly(tmp_path, tiny):
    first = build(tmp_path, tiny_log(), TINY + ["split_by=random"], "a")
    again = build(tmp_path, tiny_log(), TINY + ["split_by=random"], "b")
    dev, test = per_sample(load_split(first, "dev")), per_sample(load_split(first, "test"))
    assert len(dev["user"]) == len(test["user"]) == 2
    assert rows(dev) == rows(per_sample(load_split(again, "dev")))
    assert rows(newest(first)) == rows(newest(tiny))


def test_a_split_left_empty_is_an_error(tmp_path):
    actions, items, users = tiny_log()
    alone = actions[actions["user_log_acct"] == "alice"].reset_index(drop=True)
    with pytest.raises(PipelineError) as error:
        build(tmp_path, (alone, items, users), TINY)
    assert "the dev split is empty (window 0 (interaction 2020-01-05..2020-01-05): 2 samples from 1 users)" \
        in str(error.value)


def test_a_window_before_the_first_day_is_an_error(tmp_path):
    with pytest.raises(PipelineError) as error:
        build(tmp_path, tiny_log(), TINY + ["num_windows=6"])
    assert str(error.value).startswith("window 5 (unused) needs interaction days 2019-12-31..2019-12-31 but "
                                       "the data spans 2020-01-01..2020-01-06")


# ---------------------------------------------------------------- a small generated log

GENERATED = ["demo_users=300", "demo_items=200", "demo_categories=12", "max_len=20", "w2v_epochs=2"]
NEW_ITEM = 999999  # in the catalogue, acted on only in the perturbed log


@pytest.fixture(scope="module")
def generated():
    actions, items, users = make_demo_data.generate(configurator.load(GENERATED))
    catalogue = pd.concat([items, items.iloc[[0]].assign(item_sku_id=NEW_ITEM)], ignore_index=True)
    return actions, catalogue, users


@pytest.fixture(scope="module")
def generated_build(generated, tmp_path_factory):
    return build(tmp_path_factory.mktemp("generated"), generated, GENERATED)


def window_rows(processed, index):
    """The arrays of one window: its rows of train, or dev and test together for window 0."""
    if index == 0:
        return newest(processed)
    meta = load_meta(processed)
    train = per_sample(load_split(processed, "train"))
    counts = {w["index"]: w["samples"] for w in meta["windows"]}
    start = sum(counts[i] for i in meta["splits"]["train"]["windows"] if i < index)
    return {n: train[n][start:start + counts[index]] for n in SAMPLE_ARRAYS}


def test_samples_labels_and_sequences_match_a_plain_pandas_computation(generated, generated_build):
    actions, items, _ = generated
    meta = load_meta(generated_build)
    vocab_user, vocab_item, vocab_cate = (np.load(generated_build / "vocab" / f"{name}.npy")
                                          for name in ("user", "item", "cate"))
    cate_of = dict(zip(items["item_sku_id"], items["item_third_cate_cd"]))
    day = pd.Timedelta(days=1)
    time = actions["action_time"]
    checked = 0
    for window in meta["windows"]:
        if window["role"] == "unused":
            continue
        arrays = window_rows(generated_build, window["index"])
        interaction = [pd.Timestamp(d) for d in window["interaction"]]
        label = [pd.Timestamp(d) for d in window["label"]]
        pairs = actions[(time >= interaction[0]) & (time < interaction[1] + day)]
        later = actions[(time >= label[0]) & (time < label[1] + day)]
        keys = set(zip(later["user_log_acct"], later["item_sku_id"]))
        bought = set(zip(later["user_log_acct"][later["action_type"] == 2],
                         later["item_sku_id"][later["action_type"] == 2]))
        expected = sorted((u, i, float((u, i) in bought), float((u, i) in keys))
                          for u, i in set(zip(pairs["user_log_acct"], pairs["item_sku_id"])))
        got = sorted(zip(vocab_user[arrays["user"]].tolist(), vocab_item[arrays["item"]].tolist(),
                         arrays["label_buy"].tolist(), arrays["label_interact"].tolist()))
        assert got == expected, f"window {window['index']}"

        history = actions[time < interaction[1] + day].sort_values("action_time", kind="stable")
        by_user = dict(list(history.groupby("user_log_acct", sort=False)))
        for row in np.random.default_rng(window["index"]).choice(len(arrays["user"]), 40, replace=False):
            kept = by_user[vocab_user[arrays["user"][row]]].tail(20)
            pad = [0] * (20 - len(kept))
            assert vocab_item[arrays["hist_item"][row]].tolist() == [-1] * len(pad) + kept["item_sku_id"].tolist()
            assert arrays["hist_action"][row].tolist() == pad + kept["action_type"].tolist()
            assert vocab_cate[arrays["hist_cate"][row]].tolist() == [-1] * len(pad) + [
                cate_of[i] for i in kept["item_sku_id"]]
            checked += 1
    assert checked == 40 * 5


def perturbed_after(actions, end):
    """The log with every action from `end` on pointing at another item (NEW_ITEM among them), with
    another type; times, so the windows, unchanged."""
    changed = actions.copy()
    late = (changed["action_time"] >= end).to_numpy()
    rng = np.random.default_rng(5)
    pool = np.append(np.unique(actions["item_sku_id"]), NEW_ITEM)
    changed.loc[late, "item_sku_id"] = rng.choice(pool, int(late.sum()))
    changed.loc[late, "action_type"] = rng.integers(1, 6, int(late.sum())).astype(np.int8)
    return changed


def assert_features_unchanged(before, after, from_index):
    """Every sample array but the labels of each trained or scored window from from_index on is the
    same in the two builds, as are the windows' dates."""
    meta = load_meta(before)
    dates = [{k: v for k, v in w.items() if k != "samples"} for w in meta["windows"]]
    assert [{k: v for k, v in w.items() if k != "samples"} for w in load_meta(after)["windows"]] == dates
    checked = [w["index"] for w in meta["windows"] if w["role"] in ("dev_test", "train") and w["index"] >= from_index]
    for index in checked:
        old, new = window_rows(before, index), window_rows(after, index)
        for name in set(SAMPLE_ARRAYS) - {"label_buy", "label_interact"}:
            np.testing.assert_array_equal(old[name], new[name], err_msg=f"window {index} {name}")
    assert all(w["label"][0] > w["feature"][1] for w in meta["windows"])
    return checked


def feature_end(processed, index):
    """The first moment after window `index`'s feature range."""
    return pd.Timestamp(load_meta(processed)["windows"][index]["feature"][1]) + pd.Timedelta(days=1)


@pytest.mark.parametrize("window", [0, 1])
def test_nothing_after_a_window_feature_end_reaches_its_features(generated, generated_build, tmp_path, window):
    actions, items, users = generated
    changed = build(tmp_path, (perturbed_after(actions, feature_end(generated_build, window)), items, users),
                    GENERATED)
    assert assert_features_unchanged(generated_build, changed, window)


STRIDED = ["window_days=3", "num_windows=6"]  # strides 1 to 3 leave 2 to 4 training windows


@pytest.fixture(scope="module", params=[1, 2, 3], ids=lambda stride: f"stride{stride}")
def strided(request, generated, tmp_path_factory):
    """(stride, settings, processed folder) of the generated log cut into 3-day windows at a stride of
    1 to 3 days."""
    arguments = GENERATED + STRIDED + [f"window_stride_days={request.param}"]
    return request.param, arguments, build(tmp_path_factory.mktemp(f"stride{request.param}"), generated, arguments)


def test_nothing_of_the_dev_test_label_days_reaches_training_whatever_the_stride(generated, strided, tmp_path):
    """The training windows whose label days overlap the dev/test label days are purged: with every
    action from those days on changed, the training split (labels included), item2vec and the
    features of every window are as they were."""
    stride, arguments, processed = strided
    actions, items, users = generated
    meta = load_meta(processed)
    assert [w["role"] for w in meta["windows"]].count("purged") == -(-3 // stride) - 1
    changed = build(tmp_path, (perturbed_after(actions, feature_end(processed, 0)), items, users), arguments)
    assert assert_features_unchanged(processed, changed, 0)[0] == 0
    before, after = load_split(processed, "train"), load_split(changed, "train")
    for name in before:
        np.testing.assert_array_equal(before[name], after[name], err_msg=f"train {name}")
    np.testing.assert_array_equal(np.load(processed / "item2vec.npy"), np.load(changed / "item2vec.npy"))
    dev = load_split(changed, "dev")["label_buy"]
    assert not np.array_equal(load_split(processed, "dev")["label_buy"], dev), "the perturbation reaches dev labels"


def test_nothing_after_a_training_window_feature_end_reaches_its_features_whatever_the_stride(
        generated, strided, tmp_path):
    _, arguments, processed = strided
    actions, items, users = generated
    newest_train = min(w["index"] for w in load_meta(processed)["windows"] if w["role"] == "train")
    changed = build(tmp_path, (perturbed_after(actions, feature_end(processed, newest_train)), items, users),
                    arguments)
    assert assert_features_unchanged(processed, changed, newest_train)[0] == newest_train


def test_item2vec_uses_nothing_after_the_newest_training_window(generated, generated_build, tmp_path):
    actions, items, users = generated
    meta = load_meta(generated_build)
    assert meta["item2vec"] == "item2vec.npy"
    end = pd.Timestamp(meta["windows"][1]["feature"][1]) + pd.Timedelta(days=1)
    changed = build(tmp_path, (perturbed_after(actions, end), items, users), GENERATED)
    matrix = np.load(generated_build / "item2vec.npy", allow_pickle=False)
    np.testing.assert_array_equal(matrix, np.load(changed / "item2vec.npy", allow_pickle=False))
    assert matrix.shape == (meta["vocab_sizes"]["item"], 16) and matrix.dtype == np.float32
    vocab_item = np.load(generated_build / "vocab" / "item.npy").tolist()
    unseen = matrix[vocab_item.index(NEW_ITEM)]
    assert 0 < np.abs(unseen).max() <= 0.5 / 16, "an item never seen before the cutoff gets a small random row"
    assert not matrix[0].any()
    trained = matrix[[vocab_item.index(i) for i in actions["item_sku_id"].value_counts().index[:20]]]
    assert np.abs(trained).max() > 0.5 / 16, "frequent items get trained vectors"


def test_dev_and_test_users_are_disjoint_halves_of_the_newest_window(generated_build):
    dev, test = per_sample(load_split(generated_build, "dev")), per_sample(load_split(generated_build, "test"))
    dev_users, test_users = set(dev["user"].tolist()), set(test["user"].tolist())
    assert not dev_users & test_users
    assert len(dev_users) == (len(dev_users) + len(test_users)) // 2
    meta = load_meta(generated_build)
    assert meta["splits"]["dev"]["users"] == len(dev_users) and meta["splits"]["test"]["users"] == len(test_users)
    assert meta["splits"]["dev"]["samples"] + meta["splits"]["test"]["samples"] == meta["windows"][0]["samples"]


def test_pair_features_match_a_plain_pandas_computation(generated, generated_build):
    actions, items, _ = generated
    meta = load_meta(generated_build)
    columns, mean, std = meta["pair"]["columns"], np.array(meta["pair"]["mean"]), np.array(meta["pair"]["std"])
    vocab_user, vocab_item = (np.load(generated_build / "vocab" / f"{name}.npy") for name in ("user", "item"))
    cate_of = dict(zip(items["item_sku_id"], items["item_third_cate_cd"]))
    brand_of = dict(zip(items["item_sku_id"], items["brand_code"]))
    actions = actions.assign(cate=actions["item_sku_id"].map(cate_of))
    rng = np.random.default_rng(3)
    checked = 0
    for window in meta["windows"]:
        if window["role"] == "unused":
            continue
        arrays = window_rows(generated_build, window["index"])
        values = arrays["pair"] * std + mean
        end = pd.Timestamp(window["feature"][1]) + pd.Timedelta(days=1)
        lookback = actions[(actions["action_time"] >= end - pd.Timedelta(days=pair_features.LOOKBACK_DAYS))
                           & (actions["action_time"] < end)]
        interaction = lookback[lookback["action_time"] >= pd.Timestamp(window["interaction"][0])]
        for row in rng.choice(len(values), 30, replace=False):
            user, item = vocab_user[arrays["user"][row]], vocab_item[arrays["item"][row]]
            got = dict(zip(columns, values[row]))
            mine = lookback[lookback["user_log_acct"] == user]
            on_item = mine[mine["item_sku_id"] == item]
            for code, name in pair_features.ACTION_NAMES.items():
                assert np.expm1(got[f"log_item_{name}s_lookback"]) == pytest.approx((on_item["action_type"] == code).sum(), abs=1e-3)
                assert np.expm1(got[f"log_cate_{name}s_lookback"]) == pytest.approx(
                    ((mine["cate"] == cate_of[item]) & (mine["action_type"] == code)).sum(), abs=1e-3)
                recent = interaction[(interaction["user_log_acct"] == user) & (interaction["item_sku_id"] == item)]
                assert np.expm1(got[f"log_item_{name}s_interaction"]) == pytest.approx((recent["action_type"] == code).sum(), abs=1e-3)
            days = (end - on_item["action_time"].max()) / pd.Timedelta(days=1)
            assert got["days_since_item"] == pytest.approx(days, abs=1e-3)
            holds = on_item[on_item["action_type"].isin([3, 5])]["action_time"]
            orders = on_item[on_item["action_type"] == 2]["action_time"]
            is_open = len(holds) > 0 and (len(orders) == 0 or holds.max() > orders.max())
            assert got["open_cart_or_follow"] == pytest.approx(float(is_open), abs=1e-3)
            assert np.expm1(got["log_user_actions_lookback"]) == pytest.approx(len(mine), abs=1e-2)
            assert np.expm1(got["log_user_orders_lookback"]) == pytest.approx((mine["action_type"] == 2).sum(), abs=1e-2)
            everyone = lookback[lookback["item_sku_id"] == item]
            assert np.expm1(got["log_item_all_carts_lookback"]) == pytest.approx((everyone["action_type"] == 5).sum(), abs=1e-2)
            assert np.expm1(got["log_brand_actions_lookback"]) == pytest.approx(
                (mine["item_sku_id"].map(brand_of) == brand_of[item]).sum(), abs=1e-2)
            days_back = (end - mine["action_time"] - pd.Timedelta(1, "ns")) // pd.Timedelta(days=1)
            assert np.expm1(got["log_user_active_days_lookback"]) == pytest.approx(days_back.nunique(), abs=1e-2)
            fresh = mine[(days_back < pair_features.INTENT_DAYS) & (mine["cate"] == cate_of[item])]
            assert got[f"cate_items_last_{pair_features.INTENT_DAYS}_days"] == pytest.approx(
                fresh["item_sku_id"].nunique(), abs=1e-3)
            age = (end - on_item["action_time"]) / pd.Timedelta(days=pair_features.DECAY_DAYS)
            assert np.expm1(got["log_item_decayed_actions"]) == pytest.approx(np.exp(-age).sum(), rel=1e-3)
            checked += 1
    assert checked == 30 * 5


def test_category_and_vendor_action_counts_span_the_same_look_back_in_every_window(generated, generated_build):
    actions, items, _ = generated
    meta = load_meta(generated_build)
    columns = meta["dense"]["columns"]
    vocab_item = np.load(generated_build / "vocab" / "item.npy")
    side = items.set_index("item_sku_id")
    time = actions["action_time"]
    for window in [w for w in meta["windows"] if w["role"] != "unused"]:
        end = pd.Timestamp(window["feature"][1]) + pd.Timedelta(days=1)
        recent = actions[(time >= end - pd.Timedelta(days=pair_features.LOOKBACK_DAYS)) & (time < end)]
        recent_side = side.loc[recent["item_sku_id"]]
        arrays = window_rows(generated_build, window["index"])
        sample_side = side.loc[vocab_item[arrays["item"]]]
        for column, key in (("log_cate_actions", "item_third_cate_cd"), ("log_vendor_actions", "vender_id")):
            at = columns.index(column)
            counts = recent_side[key].value_counts()
            expected = np.log1p(sample_side[key].map(counts).fillna(0).to_numpy())
            stored = arrays["dense"][:, at] * meta["dense"]["std"][at] + meta["dense"]["mean"][at]
            np.testing.assert_allclose(stored, expected, atol=2e-4, err_msg=f"window {window['index']} {column}")
