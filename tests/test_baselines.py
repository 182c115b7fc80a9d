"""RULE, LR and GBDT, fitted and scored like any registry model, and the comparison the main job prints."""
import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

import configurator
import main_func
from errors import PipelineError
from preprocessing.processed_data import dataset_id, load_meta, load_split
from tests.pipeline_fixtures import demo_workspace, read_runs
from training.loop import baselines
from training.loop.data import load_data
from training.record import runs_log
from training.record.predictions import read_predictions
from training.studies import comparison


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    return demo_workspace(tmp_path_factory.mktemp("baselines"), "max_len=20", "w2v_epochs=1")


def test_rule_scores_carts_follows_browses_and_recency_of_the_target_item(workspace):
    root, settings = workspace
    load_data(configurator.load(settings))
    meta = load_meta(root / "processed")
    arrays = load_split(root / "processed", "dev")
    column = {name: i for i, name in enumerate(meta["pair"]["columns"])}
    raw = arrays["pair"] * np.array(meta["pair"]["std"]) + np.array(meta["pair"]["mean"])
    carts, follows, browses = (np.expm1(raw[:, column[f"log_item_{n}_lookback"]]) for n in ("carts", "follows", "browses"))
    expected = carts + 0.5 * follows + 0.1 * browses + 0.01 / (1 + raw[:, column["days_since_item"]])
    np.testing.assert_allclose(baselines.rule_score(arrays, meta), expected, rtol=1e-4, atol=1e-4)
    assert np.round(carts).max() >= 1 and np.round(browses).max() >= 2


def test_baselines_land_in_runs_csv_with_calibrated_probabilities_and_gbdt_stops_on_dev(workspace):
    root, settings = workspace
    rule = main_func.main(settings + ["model=RULE"])[0]
    gbdt = main_func.main(settings + ["model=GBDT"])[0]
    lr = main_func.main(settings + ["model=LR"])[0]
    recorded = read_runs(root)[-3:]
    assert [r["model"] for r in recorded] == ["RULE", "GBDT", "LR"]
    meta = load_meta(root / "processed")
    assert {r["dataset"] for r in recorded} == {dataset_id(meta)}
    for row in (rule, gbdt, lr):
        assert 0.6 < row["test_main_auc"] <= 1.0
        base_rate = np.mean(load_split(root / "processed", "test")["label_buy"])
        base_loss = -(base_rate * np.log(base_rate) + (1 - base_rate) * np.log(1 - base_rate))
        assert row["test_logloss"] < base_loss, "calibrated probabilities beat the base rate"
    assert 1 <= gbdt["fit_iterations"] < baselines.GBDT_SETTINGS["max_iter"], "early-stopped on dev"
    assert all(r["epochs"] == "" and r["best_step"] == "" for r in recorded), "passes are a network's"
    assert gbdt["test_main_auc"] > rule["test_main_auc"] - 0.02
    assert lr["test_main_auc"] > rule["test_main_auc"] - 0.02


def test_lr_keeps_the_regularisation_with_the_best_dev_auc(workspace):
    root, _ = workspace
    meta = load_meta(root / "processed")
    train, dev = load_split(root / "processed", "train"), load_split(root / "processed", "dev")
    lr = baselines.LRBaseline(meta, seed=0)
    lr.fit(train, dev)
    dev_aucs = {}
    for strength in baselines.LR_STRENGTHS:
        other = baselines.LRBaseline(meta, seed=0)
        other.model = baselines.LogisticRegression(C=strength, max_iter=1000, random_state=0).fit(
            baselines.dense_matrix(train, meta), train["label_buy"])
        dev_aucs[strength] = roc_auc_score(dev["label_buy"], other.predict(dev)["main"])
    assert lr.choice["C"] == max(dev_aucs, key=dev_aucs.get)
    assert roc_auc_score(dev["label_buy"], lr.predict(dev)["main"]) == pytest.approx(max(dev_aucs.values()))


def test_rule_probability_is_monotone_in_its_score(workspace):
    root, _ = workspace
    meta = load_meta(root / "processed")
    train, dev = load_split(root / "processed", "train"), load_split(root / "processed", "dev")
    rule = baselines.RuleBaseline(meta, seed=0)
    rule.fit(train, dev)
    score, probability = baselines.rule_score(dev, meta), rule.predict(dev)["main"]
    order = np.argsort(score, kind="stable")
    assert np.all(np.diff(probability[order]) >= -1e-12)


def test_comparison_shows_each_models_latest_runs_on_this_dataset_only(workspace, capsys):
    root, settings = workspace
    main_func.main(settings + ["model=RULE", "seeds=[16,17]"])
    main_func.main(settings + ["model=RULE", "seeds=[16]"])
    main_func.main(settings + ["model=DNN", "max_epochs=1", "eval_every=5", "mlp_units=[16]", "seeds=[16]"])
    runs = comparison.latest_runs(root / "results", dataset_id(load_meta(root / "processed")))
    assert list(runs.index)[:2] == ["DNN", "RULE"] and runs.loc["RULE", "seeds"] == 2
    main_func.main(settings + ["model=RULE", "seeds=[18]", "learning_rate=0.004"])
    runs = comparison.latest_runs(root / "results", dataset_id(load_meta(root / "processed")))
    assert runs.loc["RULE", "seeds"] == 1, "only the latest settings of a model count"
    table = comparison.comparison_table(runs, {"dev_main_auc": 0.9, "test_main_auc": 0.95})
    assert table.splitlines()[-1].startswith(comparison.ORACLE) and "0.9500" in table
    lines = {line.split()[0]: line.split() for line in table.splitlines()[1:3]}
    assert lines["RULE"][-2] == comparison.NOT_TRAINED and float(lines["DNN"][-2]) > 0, "passes: the network's only"
    with open(root / "results" / "runs.csv") as handle:
        lines = handle.read().splitlines()
    with open(root / "results" / "runs.csv", "w") as handle:
        handle.write("\n".join(lines[:1] + [line.replace(dataset_id(load_meta(root / "processed")), "otherdata")
                                            for line in lines[1:]]) + "\n")
    with pytest.raises(PipelineError, match="no run on the current processed dataset"):
        comparison.latest_runs(root / "results", dataset_id(load_meta(root / "processed")))


def test_every_run_keeps_its_per_sample_predictions_with_raw_ids(workspace):
    root, settings = workspace
    row = main_func.main(settings + ["model=RULE"])[0]
    predictions = read_predictions(root / "results" / row["run_id"])
    processed = root / "processed"
    for split in ("dev", "test"):
        arrays = load_split(processed, split)
        part = predictions[predictions["split"] == split]
        vocab_user = np.load(processed / "vocab" / "user.npy")
        assert part["user_id"].tolist() == vocab_user[arrays["user"]].tolist()
        np.testing.assert_array_equal(part["label_buy"], arrays["label_buy"])
        assert roc_auc_score(part["label_buy"], part["p_main"]) == pytest.approx(row[f"{split}_main_auc"])
    assert not list((root / "results" / row["run_id"]).glob(".*partial*"))


def test_a_baseline_row_of_an_older_runs_csv_shows_no_passes(tmp_path):
    """An older version wrote a baseline's boosting rounds or solver iterations as its epochs."""
    for model, epochs in (("GBDT", 57), ("DNN", 2.5)):
        runs_log.append_run(tmp_path, {"run_id": model, "dataset": "d1", "model": model, "seed": 16,
                                       "test_main_auc": 0.8, "epochs": epochs})
    runs = comparison.latest_runs(tmp_path, "d1")
    assert runs.loc["GBDT", "baseline"] and np.isnan(runs.loc["GBDT", "passes"])
    assert not runs.loc["DNN", "baseline"] and runs.loc["DNN", "passes"] == 2.5
