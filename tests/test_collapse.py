"""A run whose predictions are one number, or not finite, ends with one line and no runs.csv row."""
import numpy as np
import pytest

import main_func
from errors import PipelineError, run_cli
from preprocessing.sources import make_demo_data
from tests.pipeline_fixtures import read_runs
from training.loop import baselines, collapse
from training.studies import report, sweep


def test_constant_and_non_finite_predictions_are_refused_and_varied_ones_pass():
    with pytest.raises(collapse.CollapsedRun, match="outputs a constant"):
        collapse.check_predictions(np.full(500, 0.1204, np.float32), "dev", "run")
    with pytest.raises(collapse.CollapsedRun, match="outputs a constant"):
        collapse.check_predictions(0.1204 + np.linspace(0, 1e-7, 500), "dev", "run")
    with pytest.raises(collapse.CollapsedRun, match="2 of 3 test predictions are NaN"):
        collapse.check_predictions(np.array([0.1, np.nan, np.inf]), "test", "run")
    collapse.check_predictions(np.array([0.001, 0.0011, 0.003]), "dev", "run")


def test_a_curve_that_stays_at_half_is_a_collapse():
    with pytest.raises(collapse.CollapsedRun, match="stayed at 0.5 in all 3"):
        collapse.check_curve([{"main_auc": 0.5}, {"main_auc": float("nan")}, {"main_auc": 0.5}], "run")
    collapse.check_curve([{"main_auc": 0.5}, {"main_auc": 0.51}], "run")


def test_a_run_that_outputs_a_constant_is_one_line_not_recorded_and_flagged_by_its_study(tmp_path, monkeypatch,
                                                                                         capsys):
    settings = [f"raw_dir={tmp_path / 'raw'}", f"processed_dir={tmp_path / 'processed'}",
                f"results_dir={tmp_path / 'results'}", "demo_users=600", "demo_items=300", "demo_categories=12",
                "max_len=10", "use_item2vec=False"]
    assert run_cli(make_demo_data.main, settings) == 0
    monkeypatch.setattr(baselines.LRBaseline, "predict",
                        lambda self, arrays: {"main": np.full(len(arrays["label_buy"]), 0.1204)})
    assert run_cli(main_func.main, settings + ["model=LR"]) != 0
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "outputs a constant; not recorded" in error[0]
    assert not (tmp_path / "results" / "runs.csv").exists()
    assert [f["model"] for f in collapse.failed_runs(tmp_path / "results", "")] == ["LR"]

    runner = lambda args: run_cli(main_func.main, args)  # noqa: E731
    with pytest.raises(PipelineError, match="configurations failed: model=LR"):
        sweep.main(settings + ["model=RULE,LR", "seeds=[16,17]", "study=flat"], runner=runner)
    assert [r["model"] for r in read_runs(tmp_path)] == ["RULE", "RULE"], "only the sound runs are recorded"
    text = (report.main(settings + ["study=flat", "bootstrap=100"]) / "report.md").read_text()
    table = [line for line in text.splitlines() if line.startswith("| ")]
    assert not any(line.startswith("| LR") for line in table), "a collapsed run is no number in the table"
    flagged = text.split("**Runs that failed to train**")[1]
    assert flagged.count("- LR") == 1 and "seed 16: " in flagged and "outputs a constant" in flagged
