"""Sweeps: the grid, the study tag in runs.csv, and a resume that runs only what is missing."""
import csv
import json

import pytest

import configurator
from errors import PipelineError, run_cli
from training.record import runs_log
from training.studies import sweep


def test_values_with_commas_outside_brackets_are_grid_axes():
    fixed, axes = sweep.parse_grid(["model=DIN,DNN", "mlp_units=[64,32],[128]", "seeds=[16,17]", "study=s"])
    assert fixed == ["seeds=[16,17]", "study=s"]
    assert axes == [("model", ["DIN", "DNN"]), ("mlp_units", ["[64,32]", "[128]"])]
    assert sweep.default_study_name(axes) == "model=DIN-DNN_mlp_units=-64-32-128"


def test_a_study_name_that_cannot_name_a_folder_is_an_error(tmp_path):
    with pytest.raises(PipelineError, match="study='../x'"):
        sweep.plan([f"results_dir={tmp_path}", "study=../x", "model=DIN,DNN"])


def fake_main_func(results_dir, calls, stop_after=None):
    """Stands in for a main_func run: records its arguments and appends a runs.csv row per seed with
    the changed settings main_func would record; raises KeyboardInterrupt (a kill) once stop_after
    configurations ran."""
    def run(args):
        if stop_after is not None and len(calls) == stop_after:
            raise KeyboardInterrupt
        calls.append(args)
        cfg = configurator.load(args)
        for seed in cfg.seeds:
            runs_log.append_run(results_dir, {"run_id": f"{cfg.model}-{cfg.learning_rate}-{seed}", "seed": seed,
                                              "changed_settings": {k: v for k, v in configurator.changed(cfg).items()
                                                                   if k != "seeds"}})
        return 0
    return run


def test_a_killed_sweep_resumes_with_the_runs_not_yet_in_runs_csv(tmp_path, capsys):
    argv = [f"results_dir={tmp_path}", "model=DIN,DNN", "learning_rate=0.01,0.02", "seeds=[16,17]", "study=grid"]
    first = []
    with pytest.raises(SystemExit, match="130"):
        sweep.main(argv, runner=fake_main_func(tmp_path, first, stop_after=1))
    assert len(first) == 1 and "model=DIN" in first[0] and "learning_rate=0.01" in first[0]
    assert "study=grid" in first[0] and first[0][-1] == "seeds=[16, 17]"
    # a run of the same settings outside the study, and one seed of a later configuration, recorded already
    runs_log.append_run(tmp_path, {"run_id": "other", "seed": 16, "changed_settings": {"model": "DNN"}})
    cfg = configurator.load([f"results_dir={tmp_path}", "model=DNN", "learning_rate=0.02", "study=grid"])
    runs_log.append_run(tmp_path, {"run_id": "done", "seed": 17,
                                   "changed_settings": {k: v for k, v in configurator.changed(cfg).items()}})
    second = []
    sweep.main(argv, runner=fake_main_func(tmp_path, second))
    assert [(*[x for x in a if x.startswith(("model=", "learning_rate="))], a[-1]) for a in second] == [
        ("model=DIN", "learning_rate=0.02", "seeds=[16, 17]"),
        ("model=DNN", "learning_rate=0.01", "seeds=[16, 17]"),
        ("model=DNN", "learning_rate=0.02", "seeds=[16]")]
    out = capsys.readouterr().out
    assert "4 configurations, 8 runs, 3 already in" in out and "about" in out and "min" in out
    with open(tmp_path / "runs.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    tagged = [(json.loads(r["changed_settings"])["model"], r["seed"]) for r in rows if r["study"] == "grid"]
    assert sorted(tagged) == sorted((m, s) for m in ("DIN", "DNN") for s in ("16", "17") for _ in range(2))
    third = []
    sweep.main(argv, runner=fake_main_func(tmp_path, third))
    assert third == []


def test_a_failed_configuration_is_reported_after_the_others_ran(tmp_path, capsys):
    calls = []

    def failing_first(args):
        calls.append(args)
        return 2 if len(calls) == 1 else fake_main_func(tmp_path, [])(args)
    assert run_cli(sweep.main, [f"results_dir={tmp_path}", "model=DIN,DNN", "study=f"], failing_first) == 2
    assert len(calls) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: study f: configurations failed: model=DIN") and error.count("\n") == 1
