"""The forecast: the open window built like any other, reasons from the model's own attention, and
sh scr/predict.sh's files end to end on a tiny generated log."""
import json

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

import configurator
import main_func
from errors import PipelineError, run_cli
from models.registry import build_model
from preprocessing.pipeline.build_dataset import build_from_frames
from preprocessing.processed_data import SAMPLE_ARRAYS, OPEN, load_meta, load_split, per_sample
from preprocessing.sources import make_demo_data
from tests.faithfulness import check_faithful
from tests.model_fixtures import feature_inputs, make_arrays, make_meta, small_settings
from training.loop.input_pipeline import make_dataset
from training.serving import forecast, reasons, saved_run

GENERATED = ["demo_users=300", "demo_items=200", "demo_categories=12", "max_len=20", "use_item2vec=False"]


# ---------------------------------------------------------------- the open window


def build(folder, frames, arguments):
    folder.mkdir()
    build_from_frames(*frames, configurator.load(arguments), folder)
    return folder


def raw_rows(processed, arrays):
    """The samples as a DataFrame of raw values (ids through the vocabularies, dense and pair features
    in their own units), sorted by raw user and item: comparable between two datasets."""
    meta = load_meta(processed)
    vocab = {name: np.load(processed / "vocab" / f"{name}.npy", allow_pickle=False)
             for name in ("user", "item", "cate", "brand", "shop", "vendor", "age", "sex", "user_level",
                          "province", "city", "county")}
    columns = {name: vocab[name][np.asarray(arrays[name])] for name in vocab}
    for name in ("hist_item", "hist_cate"):
        values = vocab[name.removeprefix("hist_")][np.asarray(arrays[name])]
        columns.update({f"{name}_{step}": values[:, step] for step in range(values.shape[1])})
    columns.update({f"hist_action_{step}": arrays["hist_action"][:, step] for step in range(arrays["hist_action"].shape[1])})
    for name in ("dense", "pair"):
        raw = np.asarray(arrays[name], np.float64) * meta[name]["std"] + meta[name]["mean"]
        columns.update({f"{name}_{column}": raw[:, column] for column in range(raw.shape[1])})
    return pd.DataFrame(columns).sort_values(["user", "item"], ignore_index=True)


def test_the_open_window_is_window_0_of_the_log_cut_where_that_window_labels_begin(tmp_path):
    """The open window's arrays equal those of the newest labelled window built from the log
    truncated at its feature end: it uses nothing that window would not, by the same code."""
    actions, items, users = make_demo_data.generate(configurator.load(GENERATED))
    full = build(tmp_path / "full", (actions, items, users), GENERATED)
    full_meta = load_meta(full)
    label_start = pd.Timestamp(full_meta["windows"][0]["label"][0])
    cut = build(tmp_path / "cut", (actions[actions["action_time"] < label_start], items, users), GENERATED)
    cut_meta = load_meta(cut)
    assert cut_meta["open_window"]["interaction"] == full_meta["windows"][0]["interaction"]
    assert cut_meta["open_window"]["feature"] == full_meta["windows"][0]["feature"]
    assert cut_meta["open_window"]["label"][0] == full_meta["windows"][0]["label"][0]

    opened = per_sample(load_split(cut, OPEN))
    assert not np.asarray(opened["label_buy"]).any() and not np.asarray(opened["label_interact"]).any()
    labelled = {name: np.concatenate([per_sample(load_split(full, split))[name] for split in ("dev", "test")])
                for name in SAMPLE_ARRAYS}
    assert len(opened["user"]) == len(labelled["user"]) == cut_meta["open_window"]["samples"] > 100
    got, expected = raw_rows(cut, opened), raw_rows(full, labelled)
    exact = [c for c in got.columns if not c.startswith(("dense_", "pair_"))]
    pd.testing.assert_frame_equal(got[exact], expected[exact])
    measured = [c for c in got.columns if c.startswith(("dense_", "pair_"))]
    np.testing.assert_allclose(got[measured].to_numpy(), expected[measured].to_numpy(), rtol=1e-5, atol=1e-4)
    # standardised with the cut dataset's own training statistics, like its other splits
    train = per_sample(load_split(cut, "train"))
    assert abs(float(np.asarray(train["pair"]).mean())) < 0.05 and abs(float(np.asarray(opened["pair"]).mean())) < 1.0

    # hist_time: the time of each step of hist_item, from the log
    log = actions[actions["action_time"] < label_start]
    vocab_user = np.load(cut / "vocab" / "user.npy", allow_pickle=False)
    times = np.asarray(opened["hist_time"])
    assert ((times > 0) == (np.asarray(opened["hist_item"]) > 0)).all()
    for row in np.random.default_rng(0).choice(len(times), 20, replace=False):
        own = log[log["user_log_acct"] == vocab_user[opened["user"][row]]].sort_values("action_time", kind="stable")
        kept = (own["action_time"].astype("int64") // 10**9).to_numpy()[-20:]
        assert times[row][times[row] > 0].tolist() == kept.tolist()


# ---------------------------------------------------------------- reasons


def logit(p):
    return np.log(p) - np.log1p(-p)


@pytest.mark.parametrize("model", ["DIN", "DIEN"])
def test_attention_weights_are_the_attention_the_model_scores_with(model):
    """Fed back into the tower in place of its own attention, the weights of the attention_top
    column give the model's very output; attention_top names the step of largest weight."""
    meta = make_meta()
    net = build_model(small_settings(model=model, attention_softmax=model == "DIN"), meta)
    arrays = make_arrays(48, seed=7)
    weights = reasons.attention_weights(net, arrays, meta, batch_size=16)
    _, tower = reasons.attention_tower(net)
    embedded = net.get_layer("embedding")(feature_inputs(arrays, meta))
    query, keys, mask, side = tower.view(embedded)
    if model == "DIN":
        pooled = tf.reduce_sum(weights[..., None] * keys, axis=1)
    else:
        pooled = tower.evolution(tower.extractor(keys, mask), tf.constant(weights), mask)
    replayed = tower.head(embedded, [side, query, pooled]).numpy()
    expected = logit(net.predict(feature_inputs(arrays, meta), verbose=0)["main"].astype(np.float64))
    np.testing.assert_allclose(replayed, expected, atol=1e-4)
    assert np.ptp(weights[mask.numpy()]) > 0 and not weights[~mask.numpy()].any()

    vocab = {"item": np.arange(200), "cate": np.arange(20)}
    named = reasons.attention_top(net, arrays, meta, vocab, batch_size=16)
    present = arrays["hist_item"] > 0
    best = 19 - np.argmax(np.where(present, weights, -np.inf)[:, ::-1], axis=1)  # among equals the latest
    for row in range(48):
        item = arrays["hist_item"][row, best[row]]
        assert ("this item" if item == arrays["item"][row] else f"item {item} ") in named[row] + " ", row


def test_the_history_steps_tried_are_the_latest_on_the_target_category_then_the_latest_others():
    arrays = make_arrays(40, seed=3)
    steps = reasons.history_candidates(arrays)
    for row in range(40):
        same = [t for t in range(20) if arrays["hist_item"][row, t] and arrays["hist_cate"][row, t] == arrays["cate"][row]]
        other = [t for t in range(20) if arrays["hist_item"][row, t] and t not in same]
        expected = (same[::-1] + other[::-1] + [-1] * reasons.HISTORY_CANDIDATES)[:reasons.HISTORY_CANDIDATES]
        assert steps[row].tolist() == expected, row


# ---------------------------------------------------------------- end to end

TINY_MODEL = ["embed_dim=8", "mlp_units=[32,16]", "attention_units=[16,8]", "gru_units=16", "dien_gru_units=8",
              "dien_augru_units=8", "batch_size=512", "eval_batch_size=4096", "eval_every=10", "patience=1",
              "max_epochs=1", "learning_rate=0.01", "w2v_epochs=1"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny demo log, its dataset and one ESSM(DIEN, GRU_DNN) run."""
    root = tmp_path_factory.mktemp("forecast")
    settings = [f"raw_dir={root / 'raw'}", f"processed_dir={root / 'processed'}", f"results_dir={root / 'results'}",
                "demo_users=600", "demo_items=300", "demo_categories=12", "max_len=20"] + TINY_MODEL
    assert run_cli(make_demo_data.main, settings) == 0
    row = main_func.main(settings + ["ctr_model=DIEN", "cvr_model=GRU_DNN"])[0]
    return root, settings, row


def test_predict_writes_ordered_lists_with_raw_ids_and_reasons(trained, capsys):
    root, settings, row = trained
    assert run_cli(forecast.main, settings + ["top_k=3", "explain_top_k=2"]) == 0
    assert "coverage ceiling unknown: no backtest on this log yet" in capsys.readouterr().out
    folder = root / "results" / row["run_id"] / "forecast"
    processed = root / "processed"
    meta = load_meta(processed)
    scores = pd.read_parquet(folder / "scores.parquet")
    opened = per_sample(load_split(processed, OPEN))
    assert len(scores) == meta["open_window"]["samples"] == len(opened["user"])
    assert {"p_main", "p_ctr", "p_cvr"} <= set(scores) and scores["p_main"].between(0, 1).all()
    np.testing.assert_allclose(scores["p_main"], scores["p_ctr"] * scores["p_cvr"], rtol=1e-5)
    vocab_user = np.load(processed / "vocab" / "user.npy", allow_pickle=False)
    assert scores["user_id"].isin(vocab_user[1:]).all()
    # rank 1 of every item holds its highest score
    best = scores.loc[scores.groupby("item_id")["p_main"].idxmax()]
    assert (scores[scores["rank_for_item"] == 1]["p_main"].sort_values().to_numpy()
            == best["p_main"].sort_values().to_numpy()).all()

    buyers = pd.read_csv(folder / "buyers_by_item.csv")
    items = pd.read_csv(folder / "items_by_user.csv")
    assert list(buyers.columns[:4]) == ["item_id", "expected_buyers", "rank", "user_id"]
    assert buyers.groupby("item_id").size().max() == 3 and items.groupby("user_id").size().max() == 3
    assert buyers["rank"].between(1, 3).all() and items["rank"].between(1, 3).all()
    assert len(items) == (scores["rank_for_user"] <= 3).sum()
    # ordered: items with the most expected buyers (all their scored pairs) first, then by score
    expected = scores.groupby("item_id")["p_main"].sum()
    np.testing.assert_allclose(buyers["expected_buyers"], expected[buyers["item_id"]].to_numpy(), rtol=1e-5)
    assert (np.diff(buyers["expected_buyers"].to_numpy()) <= 1e-9).all()
    for table, group in ((buyers, "item_id"), (items, "user_id")):
        blocks = table[group].to_numpy()
        assert (blocks[1:] != blocks[:-1]).sum() == table[group].nunique() - 1, "each group's rows together"
        same = blocks[1:] == blocks[:-1]
        assert (np.diff(table["rank"].to_numpy())[same] == 1).all()
        assert (np.diff(table["p_main"].to_numpy())[same] <= 1e-7).all()
    top = expected.sort_values(ascending=False).index[:20]
    assert buyers.drop_duplicates("item_id")["item_id"].iloc[:20].tolist() == top.tolist()

    explained = items[items["rank"] <= 2]
    assert explained["reason_1_text"].notna().mean() > 0.9
    # a row beyond rank 2 in both lists has no reasons
    unexplained = scores[(scores["rank_for_item"] > 2) & (scores["rank_for_user"] > 2)]
    third = items[items["rank"] == 3].merge(unexplained[["user_id", "item_id"]], on=["user_id", "item_id"])
    assert len(third) and third["reason_1_text"].isna().all()
    assert (explained["reason_1_effect"].dropna() > 0).all()
    assert (explained["reason_1_effect"].fillna(0) >= explained["reason_2_effect"].fillna(0)).all()
    assert explained["attention_top"].notna().all()
    # the reasons speak of the pair features, the history and the side features in words
    words = explained[["reason_1_text", "reason_2_text", "reason_3_text"]].stack()
    assert words.str.contains("this item|this category").any()
    about = json.loads((folder / "forecast.json").read_text())
    assert about["run_id"] == row["run_id"] and about["reasons"] == reasons.BASIS
    assert about["attention_top"] == "attention weights of the DIEN ctr tower" and about["coverage"] is None


def test_a_run_rebuilt_from_its_settings_and_weights_scores_as_it_did(trained):
    root, settings, row = trained
    _, _, meta, processed, net = saved_run.load_network(configurator.load(settings[:3]), row["run_id"])
    test = per_sample(load_split(processed, "test"))
    recorded = pd.read_parquet(root / "results" / row["run_id"] / "predictions.parquet")
    recorded = recorded[recorded["split"] == "test"]
    predicted = net.predict(make_dataset(test, meta, 4096), verbose=0)["main"]
    np.testing.assert_allclose(predicted, recorded["p_main"].to_numpy(), atol=1e-6)


def test_best_is_the_best_dev_auc_of_the_dataset_and_model(trained, tmp_path):
    root, settings, row = trained
    runs = pd.read_csv(root / "results" / "runs.csv", dtype=str, keep_default_na=False)
    lower = runs.iloc[[-1]].assign(run_id="lower", dev_main_auc="0.5")
    other = runs.iloc[[-1]].assign(run_id="other-data", dataset="000000000000", dev_main_auc="0.99")
    results = tmp_path / "results"
    results.mkdir()
    pd.concat([lower, runs.iloc[[-1]], other]).to_csv(results / "runs.csv", index=False)
    cfg = configurator.load(settings[:2] + [f"results_dir={results}"] + settings[3:] + ["ctr_model=DIEN"])
    assert saved_run.find_run(cfg, "best")["run_id"] == row["run_id"]
    with pytest.raises(PipelineError, match="no run of DIN"):
        saved_run.find_run(configurator.load(settings[:2] + [f"results_dir={results}"] + settings[3:] + ["model=DIN"]),
                           "best")


def test_a_forecast_folder_holding_a_foreign_file_is_left_alone(trained, capsys):
    root, settings, row = trained
    folder = root / "results" / row["run_id"] / "forecast"
    assert run_cli(forecast.main, settings + [f"run={row['run_id']}", "top_k=2"]) == 0  # replaces its own
    assert pd.read_csv(folder / "items_by_user.csv")["rank"].max() == 2
    (folder / "notes.txt").write_text("mine")
    assert run_cli(forecast.main, settings + [f"run={row['run_id']}"]) == 2
    assert "move it away" in capsys.readouterr().err
    assert (folder / "notes.txt").read_text() == "mine" and (folder / "scores.parquet").is_file()


# ---------------------------------------------------------------- faithful reasons


def test_removing_the_top_reason_of_essm_lowers_its_score_more_than_removing_a_random_group(trained):
    """Over the test split, the first reason's removal lowers the run's own pCTCVR by its stated
    effect, more than a random group's or another row's first reason; shuffled reasons do not pass."""
    root, settings, row = trained
    check_faithful(configurator.load(settings[:3]), row["run_id"], least_explained=0.8)
