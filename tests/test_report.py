"""A study's report from real tiny runs: the sweep trains them, the report reads runs.csv and the
runs' folders."""
import re

import matplotlib.image
import numpy as np
import pandas as pd
import pytest

import main_func
from errors import PipelineError, run_cli
from tests.pipeline_fixtures import demo_workspace
from training.record.dev_curve import read_dev_curve
from training.record.output_folder import MARKER
from training.studies import report, significance, sweep

TINY_MODEL = ["max_len=20", "embed_dim=8", "mlp_units=[32,16]", "batch_size=512", "eval_batch_size=4096",
              "eval_every=10", "patience=2", "max_epochs=2", "learning_rate=0.01", "use_item2vec=False"]


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """Study "tiny": RULE and DNN, two seeds each, trained in this process."""
    root, settings = demo_workspace(tmp_path_factory.mktemp("study"))
    sweep.main(settings + TINY_MODEL + ["model=RULE,DNN", "seeds=[16,17]", "study=tiny"], runner=lambda args: run_cli(main_func.main, args))
    return root, settings


def test_report_table_holds_each_configuration_and_its_paired_difference(study):
    root, settings = study
    folder = report.main(settings + ["study=tiny", "bootstrap=300"])
    assert sorted(p.name for p in folder.iterdir()) == sorted(report.FILES + (MARKER,))
    text = (folder / "report.md").read_text()
    rows = {line.split(" | ")[0].strip("| "): line for line in text.splitlines() if line.startswith("| RULE") or
            line.startswith("| DNN")}
    assert set(rows) == {"RULE", "DNN"} and "baseline" in rows["RULE"]
    header = next(line for line in text.splitlines() if line.startswith("| configuration"))
    passes = [c.strip() for c in header.strip("|").split("|")].index("passes")
    cells = {name: [c.strip() for c in line.strip("|").split("|")] for name, line in rows.items()}
    assert cells["RULE"][passes] == "n/a" and float(cells["DNN"][passes].split(" ")[0]) > 0
    runs = report.study_runs(root / "results", "tiny")
    dnn = [root / "results" / r for r in runs.loc[runs["model"] == "DNN", "run_id"]]
    rule = [root / "results" / r for r in runs.loc[runs["model"] == "RULE", "run_id"]]
    assert len(dnn) == len(rule) == 2
    expected = significance.compare(dnn, rule, n_boot=300)
    shown = re.search(r"([+-]\d\.\d{4}) \[([+-]\d\.\d{4}), ([+-]\d\.\d{4})\] p", rows["DNN"]).groups()
    assert [float(v) for v in shown] == pytest.approx([expected.estimate, expected.low, expected.high], abs=1e-4)
    mean = runs.loc[runs["model"] == "DNN", "test_main_auc"]
    assert f"{mean.mean():.4f} ± {mean.std():.4f}" in rows["DNN"]
    for name in report.FILES[1:]:
        image = matplotlib.image.imread(folder / name)
        assert image.shape[0] > 250 and image.shape[1] > 600 and image.std() > 0.05, name


def test_a_baseline_shows_no_passes_even_where_an_older_version_recorded_its_iterations():
    runs = pd.DataFrame({"label": ["GBDT", "DNN"], "model": ["GBDT", "DNN"], "test_main_auc": [0.8, 0.85],
                         "epochs": [57.0, 2.5], "train_samples_per_second": [1e5, 1e3]})
    table = report.configuration_table(runs).set_index("configuration")
    assert table.loc["GBDT", "passes"] == "n/a" and table.loc["DNN", "passes"] == "2.50"


def test_every_trained_run_keeps_its_dev_curve_and_a_baseline_none(study):
    root, _ = study
    runs = report.study_runs(root / "results", "tiny")
    for model, run_id, best_step in zip(runs["model"], runs["run_id"], runs["best_step"]):
        curve = read_dev_curve(root / "results" / run_id)
        if model == "RULE":
            assert curve is None
            continue
        steps = [e["step"] for e in curve["evaluations"]]
        assert steps == list(range(10, 10 * len(steps) + 1, 10)) and best_step in steps
        assert all(0.5 < e["main_auc"] <= 1 for e in curve["evaluations"])


def test_a_report_folder_holding_other_files_is_not_replaced(study):
    root, settings = study
    folder = report.main(settings + ["study=tiny", "bootstrap=100", "baseline=DNN"])
    assert "baseline" in [line for line in (folder / "report.md").read_text().splitlines()
                          if line.startswith("| DNN")][0]
    (folder / "notes.txt").write_text("mine")
    with pytest.raises(PipelineError, match=r"did not write \(notes.txt\)"):
        report.main(settings + ["study=tiny", "bootstrap=100"])
    assert (folder / "notes.txt").read_text() == "mine" and (folder / "report.md").exists()
    with pytest.raises(PipelineError, match="baseline='GBDT': not a configuration of study tiny"):
        report.main(settings + ["study=tiny", "baseline=GBDT"])


def test_gains_of_a_constant_score_run_follow_the_random_line_whatever_the_file_order():
    labels = np.array([0, 0, 0, 0, 0, 0, 1, 1])  # the buyers last in the file
    targeted, found = report.cumulative_gains(labels, np.full(len(labels), 0.3))
    shares = np.linspace(0, 1, 11)
    np.testing.assert_allclose(np.interp(shares, targeted, found), shares)


def test_gains_step_at_each_distinct_score_and_cross_a_tie_in_a_straight_line():
    targeted, found = report.cumulative_gains(np.array([1, 0, 0, 1]), np.array([0.9, 0.1, 0.5, 0.3]))
    np.testing.assert_allclose(targeted, [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_allclose(found, [0, 0.5, 0.5, 1, 1])
    targeted, found = report.cumulative_gains(np.array([0, 0, 1, 0]), np.array([0.9, 0.5, 0.5, 0.1]))
    np.testing.assert_allclose(targeted, [0, 0.25, 0.75, 1])
    np.testing.assert_allclose(found, [0, 0, 1, 1])
