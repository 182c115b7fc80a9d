"""Resuming a killed run (resume=True): the checkpoint holds the model and the optimizer, and the same
command run again continues the run in its folder, with the dev evaluations it had."""
import csv

import numpy as np
import pytest

import main_func
from preprocessing.sources import make_demo_data
from tests import model_fixtures
from training.loop.dev_evaluation import DevEvaluation
from training.loop.input_pipeline import make_dataset
from training.loop.resume import Progress
from training.loop.task import build_task

TINY = ["max_len=20", "embed_dim=8", "mlp_units=[32,16]", "gru_units=16", "model=GRU_DNN", "batch_size=512",
        "eval_batch_size=4096", "eval_every=10", "patience=100", "max_epochs=1", "learning_rate=0.01",
        "w2v_epochs=1"]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("resume")
    settings = [f"raw_dir={root / 'raw'}", f"processed_dir={root / 'processed'}", f"results_dir={root / 'results'}",
                "demo_users=1500", "demo_items=800", "demo_categories=30"]
    make_demo_data.main(settings)
    return root, settings


def test_checkpoint_restores_model_and_optimizer(tmp_path):
    cfg = model_fixtures.small_settings(model="DNN", results_dir=str(tmp_path))
    meta = model_fixtures.make_meta()
    batches = make_dataset(model_fixtures.make_arrays(256), meta, 64, shuffle_seed=1)
    trained = build_task(cfg, meta, None, 4)
    trained.fit(batches, epochs=1, steps_per_epoch=3, verbose=0)
    saving = Progress(cfg, 16, meta)
    saving.begin()
    saving.save(trained, periods=1, stopped=False, run_dir=tmp_path / "run")
    (tmp_path / "run").mkdir()

    fresh = build_task(cfg, meta, None, 4)
    resumed = Progress(cfg, 16, meta)
    assert resumed.periods == 1 and resumed.run_dir == tmp_path / "run"
    resumed.restore(fresh)
    assert int(fresh.optimizer.iterations) == 3
    for a, b in zip(trained.weights + trained.optimizer.variables, fresh.weights + fresh.optimizer.variables):
        assert np.array_equal(a, b), a.path


def test_killed_run_continues_in_its_folder_with_its_evaluations(workspace, monkeypatch):
    root, settings = workspace
    evaluate = DevEvaluation.on_epoch_end

    def killed_at_the_third(self, epoch, logs=None):
        if epoch == 2:
            raise KeyboardInterrupt  # as a kill: nothing after the second period's checkpoint runs
        evaluate(self, epoch, logs)

    monkeypatch.setattr(DevEvaluation, "on_epoch_end", killed_at_the_third)
    with pytest.raises(KeyboardInterrupt):
        main_func.main(settings + TINY)
    [folder] = (root / "results" / ".unfinished").iterdir()
    monkeypatch.setattr(DevEvaluation, "on_epoch_end", evaluate)

    [row] = main_func.main(settings + TINY)
    run_dir = root / "results" / row["run_id"]
    assert run_dir.is_dir() and len(list((root / "results").glob("*-seed16"))) == 1
    assert len(row["dev_evaluations"]) == 3  # 31 steps per pass: 3 whole periods of 10 in max_epochs=1, 2 before the kill
    assert row["best_step"] == 10 * (1 + int(np.argmax([e["selection_auc"] for e in row["dev_evaluations"]])))
    assert not folder.exists()
    with open(root / "results" / "runs.csv", newline="") as handle:
        assert [r["run_id"] for r in csv.DictReader(handle)] == [row["run_id"]]


def test_training_seconds_count_each_second_once_however_often_a_run_saves(tmp_path, monkeypatch):
    cfg = model_fixtures.small_settings(model="DNN", results_dir=str(tmp_path))
    meta = model_fixtures.make_meta()
    task = build_task(cfg, meta, None, 4)
    clock = iter([100.0, 110.0, 120.0, 130.0, 500.0, 540.0])
    monkeypatch.setattr("training.loop.resume.time.perf_counter", lambda: next(clock))
    (tmp_path / "run").mkdir()
    first = Progress(cfg, 16, meta)
    first.begin()
    for periods in (1, 2, 3):  # checkpoints 10, 20 and 30 s after the attempt began
        first.save(task, periods=periods, stopped=False, run_dir=tmp_path / "run")
    assert first.state["seconds"] == 30.0
    assert first.earlier_seconds == 0.0, "a first attempt has no earlier seconds to add to its own wall time"

    resumed = Progress(cfg, 16, meta)
    assert resumed.earlier_seconds == 30.0
    resumed.begin()
    resumed.save(task, periods=4, stopped=True, run_dir=tmp_path / "run")
    assert resumed.state["seconds"] == 70.0 and resumed.earlier_seconds == 30.0
