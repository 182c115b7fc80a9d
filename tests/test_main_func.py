"""End to end on a tiny generated log: demo data -> preprocessing -> training -> runs.csv."""
import importlib

import numpy as np
import pytest

import configurator
import main_func
from errors import PipelineError, run_cli
from tests.pipeline_fixtures import demo_workspace, read_runs
from training.loop import data

TINY_MODEL = ["max_len=20", "embed_dim=8", "mlp_units=[32,16]", "attention_units=[16,8]", "gru_units=16",
              "dien_gru_units=8", "dien_augru_units=8", "batch_size=512", "eval_batch_size=4096",
              "eval_every=10", "patience=2", "max_epochs=2", "learning_rate=0.01", "w2v_epochs=1"]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """Paths and demo-data settings shared by the tests; the raw log is generated once."""
    return demo_workspace(tmp_path_factory.mktemp("pipeline"))


def test_essm_run_writes_a_sane_runs_row_and_reloads_its_best_checkpoint(workspace):
    root, settings = workspace
    rows = main_func.main(settings + TINY_MODEL + ["ctr_model=DIN", "cvr_model=GRU_DNN", "seeds=[16,17]"])
    recorded = read_runs(root)[-2:]
    assert [int(row["seed"]) for row in recorded] == [16, 17]
    for row, record in zip(rows, recorded):
        assert record["model"] == "ESSM" and record["ctr_model"] == "DIN" and record["cvr_model"] == "GRU_DNN"
        for split in ("dev", "test"):
            for metric in ("main_auc", "ctr_auc", "cvr_auc", "gauc"):
                assert 0.5 < float(record[f"{split}_{metric}"]) <= 1.0, (split, metric)
            assert 0.0 < float(record[f"{split}_logloss"]) < 0.7
        assert float(record["train_samples_per_second"]) > 0 and float(record["epochs"]) > 0
        assert '"max_len": 20' in record["changed_settings"] and "seeds" not in record["changed_settings"]
        run_dir = root / "results" / record["run_id"]
        assert (run_dir / "best.weights.h5").exists() and (run_dir / "tensorboard").is_dir()
        # the dev AUC after reloading the best checkpoint is that of the evaluation selected during
        # training: the best selection AUC (the dev AUC averaged over the last few when dev has few buyers)
        selected = max(row["dev_evaluations"], key=lambda evaluation: evaluation["selection_auc"])
        assert float(record["dev_main_auc"]) == pytest.approx(selected["main_auc"], abs=1e-6)


def test_same_seed_and_data_give_the_same_metrics(workspace):
    _, settings = workspace
    runs = [main_func.main(settings + TINY_MODEL + ["model=DIN"])[0] for _ in range(2)]
    for key in ("dev_main_auc", "dev_gauc", "test_main_auc", "test_logloss"):
        assert runs[0][key] == runs[1][key], key


def test_single_model_reports_main_auc_gauc_and_logloss_only(workspace):
    root, settings = workspace
    main_func.main(settings + TINY_MODEL + ["model=DNN"])
    record = read_runs(root)[-1]
    assert record["model"] == "DNN" and record["ctr_model"] == ""
    assert record["test_main_auc"] and record["test_gauc"] and record["test_logloss"]
    assert record["test_ctr_auc"] == "" and record["test_cvr_auc"] == ""


def test_unknown_model_is_a_one_line_error(workspace, capsys):
    _, settings = workspace
    assert run_cli(main_func.main, settings + TINY_MODEL + ["model=XGBoost"]) == 2
    message = capsys.readouterr().err.strip()
    assert message.startswith("error:") and "XGBoost" in message and "DIEN" in message
    assert "\n" not in message


@pytest.mark.parametrize("command", ["main_func", "training.serving.backtest", "training.serving.forecast",
                                     "training.studies.sweep", "preprocessing.pipeline.build_dataset"])
@pytest.mark.parametrize("setting", ["model=NO_SUCH_MODEL", "ctr_model=NO_SUCH_MODEL"])
def test_an_unknown_model_is_refused_before_any_data_is_read_or_built(tmp_path, capsys, setting, command):
    settings = [f"raw_dir={tmp_path / 'raw'}", f"processed_dir={tmp_path / 'processed'}",
                f"results_dir={tmp_path / 'results'}", setting]
    assert run_cli(importlib.import_module(command).main, settings) == 2
    message = capsys.readouterr().err.strip()
    assert "NO_SUCH_MODEL" in message and "unknown model" in message and "raw" not in message.split(":")[1]
    assert not (tmp_path / "processed").exists() and not (tmp_path / "results").exists()


def test_no_processed_and_no_raw_data_is_a_clear_error(tmp_path, capsys):
    settings = [f"raw_dir={tmp_path / 'raw'}", f"processed_dir={tmp_path / 'processed'}",
                f"results_dir={tmp_path / 'results'}"]
    assert run_cli(main_func.main, settings) == 2
    message = capsys.readouterr().err.strip()
    assert message.startswith("error:") and str(tmp_path / "raw") in message and "\n" not in message


@pytest.mark.parametrize("split, damage, expected", [
    ("dev", "no_buys", "the dev split has no purchase"),
    ("train", "empty", "the train split is empty"),
])
def test_unusable_split_is_a_clear_error(workspace, monkeypatch, split, damage, expected):
    _, settings = workspace
    cfg = configurator.load(settings + TINY_MODEL)
    original = data.load_split

    def damaged(processed_dir, name, mmap=True):
        arrays = dict(original(processed_dir, name, mmap=mmap))
        if name == split and damage == "no_buys":
            arrays["label_buy"] = np.zeros_like(arrays["label_buy"])
        if name == split and damage == "empty":
            arrays = {key: value[:0] for key, value in arrays.items()}
        return arrays

    monkeypatch.setattr(data, "load_split", damaged)
    with pytest.raises(PipelineError, match=expected):
        data.load_data(cfg)
