"""A trained run brought back: its row in runs.csv, its settings and its network with the best weights.

A run is named by its id (`run=<run id>`) or `run=best`: the run with the best dev Main AUC in
runs.csv on the current processed dataset (runs.csv `dataset`) with the model and towers of the
settings. Its network is rebuilt from meta.json and the run's own settings (runs.csv
`changed_settings` over config.py's defaults; the locations are the current ones) and loaded from
its best.weights.h5, so any run can be scored again without retraining.
"""
import ast
import json
from pathlib import Path

import numpy as np
import pandas as pd

import configurator
from errors import PipelineError
from models import registry
from preprocessing.build_dataset import ensure_dataset
from preprocessing.processed_data import dataset_id, load_meta
from training import runs_log
from training.task import build_task

WEIGHTS = "best.weights.h5"
LOCATIONS = ("raw_dir", "processed_dir", "results_dir", "config")  # where to read and write, not what was trained


def split_arguments(argv, own):
    """(settings arguments, {name: value}) where own maps the script's own key=value names to their
    defaults (parsed like settings: `top_k=50` is an int); the rest are settings for configurator."""
    values, rest = dict(own), []
    for arg in argv:
        key, sep, text = arg.partition("=")
        if sep and key in own:
            try:
                values[key] = text if isinstance(own[key], str) else ast.literal_eval(text)
            except (ValueError, SyntaxError):
                values[key] = text
            if type(values[key]) is not type(own[key]):
                raise PipelineError(f"argument {arg!r}: expected {key}=<{type(own[key]).__name__}> "
                                    f"like {key}={own[key]}")
        else:
            rest.append(arg)
    return rest, values


def _runs(results_dir):
    path = Path(results_dir) / "runs.csv"
    if not path.is_file():
        raise PipelineError(f"{path}: no runs recorded yet; train a model first (python main_func.py)")
    text = {name: str for name in ("run_id", "dataset", "ctr_model", "cvr_model", "changed_settings")}
    runs_log.read_checked(path)
    runs = pd.read_csv(path, dtype=text, keep_default_na=False, na_values={"dev_main_auc": [""]})
    return path, runs


def find_run(cfg, run):
    """The runs.csv row (a dict) of run id `run`, or of the best run on the current dataset when
    run == "best" (the current processed data is built first when missing or stale)."""
    path, runs = _runs(cfg.results_dir)
    if run != "best":
        picked = runs[runs["run_id"] == run]
        if picked.empty:
            raise PipelineError(f"{path}: no run {run!r}; pass run=<a run_id of runs.csv> or run=best")
        return picked.iloc[-1].to_dict()
    dataset = dataset_id(load_meta(ensure_dataset(cfg)))
    ctr, cvr = registry.tower_names(cfg) if registry.is_multi_task(cfg) else ("", "")
    same = runs[(runs["dataset"] == dataset) & (runs["model"] == registry.canonical_name(cfg.model))
                & (runs["ctr_model"] == ctr) & (runs["cvr_model"] == cvr) & runs["dev_main_auc"].notna()]
    if same.empty:
        raise PipelineError(f"{path}: no run of {registry.title(cfg)} on the processed dataset {dataset}; "
                            "train one (python main_func.py), or pass model=... or run=<run id>")
    return same.loc[same["dev_main_auc"].idxmax()].to_dict()


def run_settings(row, cfg):
    """The settings the run was trained with, at cfg's locations."""
    try:
        changed = json.loads(row["changed_settings"] or "{}")
    except ValueError:
        raise PipelineError(f"runs.csv run {row['run_id']}: changed_settings is not JSON; "
                            "the run cannot be rebuilt") from None
    trained = {key: value for key, value in changed.items() if key not in LOCATIONS and key != "seeds"}
    return configurator.load([], **trained, **{key: getattr(cfg, key) for key in LOCATIONS[:3]})


def load_network(cfg, run):
    """(row, settings of the run, meta, processed folder, keras.Model with the run's best weights)."""
    row = find_run(cfg, run)
    if row["model"] in registry.BASELINES:
        raise PipelineError(f"run {row['run_id']}: a {row['model']} baseline keeps no fitted model to score with; "
                            "pick a network's run")
    settings = run_settings(row, cfg)
    processed = ensure_dataset(settings)
    meta = load_meta(processed)
    if dataset_id(meta) != row["dataset"]:
        raise PipelineError(f"run {row['run_id']}: trained on the processed dataset {row['dataset']}, but "
                            f"{processed} holds {dataset_id(meta)} (other raw files or settings); "
                            "rebuild it from the run's raw data or pick another run")
    weights = Path(cfg.results_dir) / row["run_id"] / WEIGHTS
    if not weights.is_file():
        raise PipelineError(f"{weights}: missing; the run's best weights are needed to rebuild it")
    task = build_task(settings, meta, None, decay_steps=1)
    # every weight, the optimizer's too (the file holds them), must exist before they are loaded
    task(_one_sample(meta))
    task.optimizer.build(task.trainable_variables)
    try:
        task.load_weights(weights)
    except (OSError, ValueError, KeyError) as err:
        reason = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise PipelineError(f"{weights}: truncated, corrupt or of another network ({reason[:200]}); "
                            "train the run again or pick another run") from None
    return row, settings, meta, processed, task.net


def _one_sample(meta):
    """A batch of one sample with two padded steps: enough to build the network."""
    return {f["name"]: np.zeros((1, f["dim"]), np.float32) if f["kind"] == "dense"
            else np.zeros((1, 2) if f["kind"] == "sequence" else (1,), np.int32) for f in meta["features"]}
