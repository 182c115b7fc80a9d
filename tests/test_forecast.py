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
from preprocessing import make_demo_data
from preprocessing.build_dataset import build_from_frames
from preprocessing.processed_data import SAMPLE_ARRAYS, OPEN, load_meta, load_split, per_sample
from tests.model_fixtures import feature_inputs, make_arrays, make_meta, small_settings
from training import forecast, reasons, saved_run
from training.input_pipeline import make_dataset

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
def test_reason_weights_are_the_attention_the_model_scores_with(model):
    """Fed back into the tower in place of its own attention, the reasons' weights give the model's
    very output; and the reasons are the steps of largest weight."""
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
    replayed = tower.head([side, query, pooled]).numpy()
    expected = logit(net.predict(feature_inputs(arrays, meta), verbose=0)["main"].astype(np.float64))
    np.testing.assert_allclose(replayed, expected, atol=1e-4)
    assert np.ptp(weights[mask.numpy()]) > 0 and not weights[~mask.numpy()].any()

    steps, chosen = reasons.reason_steps(net, arrays, meta, batch_size=16)
    present = arrays["hist_item"] > 0
    # the largest weight; among equal ones (a repeated item) the latest step
    best = 19 - np.argmax(np.where(present, weights, -np.inf)[:, ::-1], axis=1)
    np.testing.assert_array_equal(steps[:, 0], best)
    np.testing.assert_allclose(chosen[:, 0], weights[np.arange(len(best)), best], rtol=1e-6)
    assert (np.diff(chosen, axis=1)[steps[:, 1:] >= 0] <= 0).all(), "reasons in order of weight"


def test_without_attention_the_reasons_are_the_latest_actions_on_the_target_category():
    meta = make_meta()
    net = build_model(small_settings(model="GRU_DNN"), meta)
    arrays = make_arrays(40, seed=3)
    assert reasons.attention_tower(net) == (None, None) and reasons.basis(net) == reasons.RULE
    steps, weights = reasons.reason_steps(net, arrays, meta, batch_size=16)
    assert np.isnan(weights).all()
    for row in range(40):
        same = [t for t in range(20) if arrays["hist_item"][row, t] and arrays["hist_cate"][row, t] == arrays["cate"][row]]
        other = [t for t in range(20) if arrays["hist_item"][row, t] and t not in same]
        expected = (same[::-1] + other[::-1] + [-1] * 3)[:3]
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


def test_predict_writes_ranked_lists_with_raw_ids_and_reasons(trained):
    root, settings, row = trained
    assert run_cli(forecast.main, settings + ["top_k=3"]) == 0
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
    assert buyers.groupby("item_id").size().max() == 3 and items.groupby("user_id").size().max() == 3
    assert buyers["rank_for_item"].between(1, 3).all() and items["rank_for_user"].between(1, 3).all()
    assert len(items) == (scores["rank_for_user"] <= 3).sum()
    assert items[["reason_1_item", "reason_1_action", "reason_1_time", "reason_1_weight"]].notna().all().all()
    assert items["reason_1_action"].isin(["browse", "order", "follow", "comment", "cart"]).all()
    last_day = meta["open_window"]["interaction"][1]
    assert (items["reason_1_time"] <= f"{last_day} 23:59:59").all()
    # a reason is one of the user's own past actions
    user_index = {raw: index for index, raw in enumerate(vocab_user.tolist())}
    vocab_item = np.load(processed / "vocab" / "item.npy", allow_pickle=False)
    first_rows = np.searchsorted(np.asarray(opened["user"]), [user_index[u] for u in items["user_id"][:50]])
    for reason_item, row_index in zip(items["reason_1_item"][:50], first_rows):
        assert reason_item in vocab_item[opened["hist_item"][row_index]].tolist()
    about = json.loads((folder / "forecast.json").read_text())
    assert about["run_id"] == row["run_id"] and about["reasons"] == "attention weights of the DIEN ctr tower"


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
    assert pd.read_csv(folder / "items_by_user.csv")["rank_for_user"].max() == 2
    (folder / "notes.txt").write_text("mine")
    assert run_cli(forecast.main, settings + [f"run={row['run_id']}"]) == 2
    assert "move it away" in capsys.readouterr().err
    assert (folder / "notes.txt").read_text() == "mine" and (folder / "scores.parquet").is_file()
