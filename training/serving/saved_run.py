"""A trained run brought back: its row in runs.csv, its settings and its network with the best weights.

A run is named by its id (`run=<run id>`) or `run=best`: the run with the best dev Main AUC in
runs.csv on the current processed dataset (runs.csv `dataset`) with the model and towers of the
settings. Its network is rebuilt from meta.json and the run's own settings (runs.csv
`changed_settings` over config.py's defaults) and loaded from its best.weights.h5; a baseline
(RULE, LR, GBDT) is restored from its baseline.json (training.loop.baselines) and checked against its
recorded test predictions. So any run can be scored again without retraining.

A run remembers its data: its raw_dir and processed_dir (recorded in changed_settings when not the
defaults) are used unless raw_dir or processed_dir is given now; results_dir is always the current one.
Without them, run=best looks among the runs on the dataset of the latest run of the model.
"""
import ast
import json
from pathlib import Path

import numpy as np
import pandas as pd

import configurator
from errors import PipelineError
from models.model_spec import BASELINES
from preprocessing.pipeline.build_dataset import ensure_dataset
from preprocessing.processed_data import dataset_id, load_meta, load_split
from training.loop.baselines import load_baseline
from training.loop.input_pipeline import make_dataset
from training.loop.task import build_task
from training.record import runs_log
from training.record.predictions import read_predictions

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


def _data_given(cfg):
    """True when raw_dir or processed_dir was given now (differs from config.py's default)."""
    return bool({"raw_dir", "processed_dir"} & set(configurator.changed(cfg)))


def find_run(cfg, run):
    """The runs.csv row (a dict) of run id `run`, or of the best run of the settings' model when
    run == "best": on the current processed data (built first when missing or stale) when raw_dir or
    processed_dir is given, else on the dataset of the model's latest run."""
    path, runs = _runs(cfg.results_dir)
    if run != "best":
        picked = runs[runs["run_id"] == run]
        if picked.empty:
            raise PipelineError(f"{path}: no run {run!r}; pass run=<a run_id of runs.csv> or run=best")
        return picked.iloc[-1].to_dict()
    ctr, cvr = cfg.model_spec.ctr_cvr
    of_model = runs[(runs["model"] == cfg.model_spec.name) & (runs["ctr_model"] == ctr)
                    & (runs["cvr_model"] == cvr) & runs["dev_main_auc"].notna()]
    if _data_given(cfg) or of_model.empty:
        dataset = dataset_id(load_meta(ensure_dataset(cfg)))
    else:
        dataset = of_model.iloc[-1]["dataset"]
    same = of_model[of_model["dataset"] == dataset]
    if same.empty:
        raise PipelineError(f"{path}: no run of {cfg.model_spec.title} on the processed dataset {dataset}; "
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
    locations = {key: getattr(cfg, key) for key in LOCATIONS[:3]}
    if not _data_given(cfg):
        locations.update({key: changed[key] for key in ("raw_dir", "processed_dir") if key in changed})
    return configurator.load([], **trained, **locations)


def _run_data(cfg, row):
    """(settings of the run, its processed folder, meta), refused when the folder holds another dataset."""
    settings = run_settings(row, cfg)
    processed = ensure_dataset(settings)
    meta = load_meta(processed)
    if dataset_id(meta) != row["dataset"]:
        raise PipelineError(f"run {row['run_id']}: trained on the processed dataset {row['dataset']}, but "
                            f"{processed} holds {dataset_id(meta)} (other raw files or settings); "
                            "rebuild it from the run's raw data or pick another run")
    return settings, processed, meta


def load_network(cfg, run):
    """(row, settings of the run, meta, processed folder, keras.Model with the run's best weights)."""
    row = find_run(cfg, run)
    if row["model"] in BASELINES:
        raise PipelineError(f"run {row['run_id']}: a {row['model']} baseline has no network; use load_scorer")
    settings, processed, meta = _run_data(cfg, row)
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


def load_scorer(cfg, run):
    """(row, settings, meta, processed folder, score, net) of any run: score(arrays) gives
    {"main": [N], ...} probabilities; net is the keras.Model of a network's run, None for a baseline."""
    row = find_run(cfg, run)
    if row["model"] not in BASELINES:
        row, settings, meta, processed, net = load_network(cfg, row["run_id"])
        return row, settings, meta, processed, lambda arrays: score_network(net, arrays, meta, settings.eval_batch_size), net
    settings, processed, meta = _run_data(cfg, row)
    run_dir = Path(cfg.results_dir) / row["run_id"]
    baseline = load_baseline(run_dir, meta, lambda: (load_split(processed, "train"), load_split(processed, "dev")))
    recorded = read_predictions(run_dir)
    recorded = recorded[recorded["split"] == "test"]["p_main"].to_numpy()
    again = baseline.predict(load_split(processed, "test"))["main"]
    if len(again) != len(recorded) or not np.allclose(again, recorded, atol=1e-5):
        raise PipelineError(f"{run_dir}: the restored {row['model']} does not reproduce the run's test predictions "
                            "(predictions.parquet); refit it")
    return row, settings, meta, processed, lambda arrays: {k: np.asarray(v, np.float32)
                                                           for k, v in baseline.predict(arrays).items()}, None


def score_network(net, arrays, meta, batch_size):
    """{"main": [N], ...} float32 probabilities of a network."""
    outputs = net.predict(make_dataset(arrays, meta, batch_size), verbose=0)
    return {name: np.asarray(values, np.float32) for name, values in outputs.items()}
