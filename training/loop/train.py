"""Trains the settings' model on the processed data, one run per seed, and records each:

    rows = main(["model=DIN", "seeds=[16,17,18]"])     (what python main_func.py runs; the backtest too)

Reads the processed data (training.loop.data: built from raw_dir first when missing or stale), trains
one run per seed with early stopping on dev Main AUC, evaluates the best weights on test, appends a
row per seed to results_dir/runs.csv and prints mean ± std over the seeds.
"""
import datetime
import time
from pathlib import Path

from training.loop.quiet_start import import_tensorflow_quietly

import_tensorflow_quietly()

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import configurator  # noqa: E402
from errors import PipelineError  # noqa: E402
from preprocessing.processed_data import dataset_id  # noqa: E402
from training.loop import collapse, distributed, schedule  # noqa: E402
from training.loop.baselines import make_baseline, save_baseline  # noqa: E402
from training.loop.data import load_data  # noqa: E402
from training.loop.dev_evaluation import MONITOR, DevEvaluation  # noqa: E402
from training.loop.input_pipeline import make_dataset  # noqa: E402
from training.loop.period_log import PeriodLog  # noqa: E402
from training.loop.resume import Progress  # noqa: E402
from training.loop.task import build_task  # noqa: E402
from training.record import runs_log  # noqa: E402
from training.record.dev_curve import write_dev_curve  # noqa: E402
from training.record.metric_catalogue import measure  # noqa: E402
from training.record.predictions import write_predictions  # noqa: E402


def new_run_dir(cfg, seed):
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    spec = cfg.model_spec
    parts = (spec.name,) + spec.towers * spec.multi_task
    name = f"{stamp}-{'-'.join(parts)}"
    run_dir = Path(cfg.results_dir) / f"{name}-seed{seed}"
    suffix = 1
    while run_dir.exists():
        suffix += 1
        run_dir = Path(cfg.results_dir) / f"{name}-seed{seed}-{suffix}"
    run_dir.mkdir(parents=True)
    return run_dir


def run_row(cfg, seed, run_dir, meta):
    """The fields of a runs.csv row that say which run it is and on which data."""
    started = datetime.datetime.now().isoformat(timespec="seconds")
    ctr, cvr = cfg.model_spec.ctr_cvr
    return {"run_id": run_dir.name, "start_time": started, "dataset": dataset_id(meta),
            "model": cfg.model_spec.name, "ctr_model": ctr, "cvr_model": cvr, "seed": seed,
            "changed_settings": {k: v for k, v in configurator.changed(cfg).items() if k != "seeds"}}


def evaluate(row, run_dir, predict, cfg, data):
    """Scores dev and test with predict(split), adds their metrics to the row and keeps the
    per-sample predictions in the run's folder."""
    predictions = {split: predict(split) for split in ("dev", "test")}
    for split, outputs in predictions.items():
        collapse.check_predictions(outputs["main"], split, run_dir)
    for split, outputs in predictions.items():
        row.update({f"{split}_{name}": value for name, value in measure(outputs, data[split], split).items()})
    write_predictions(run_dir, cfg.processed_dir, data, predictions)
    return row


def fit_baseline(cfg, seed, meta, data):
    """A baseline run (RULE, LR, GBDT): fitted on train (LR and GBDT tuned on dev), scored on dev and test."""
    run_dir = new_run_dir(cfg, seed)
    row = run_row(cfg, seed, run_dir, meta)
    baseline = make_baseline(cfg.model_spec.name, meta, seed)
    print(f"fitting {run_dir.name}: {len(data['train']['label_buy'])} samples")
    start = time.perf_counter()
    fitted = baseline.fit(data["train"], data["dev"])
    seconds = time.perf_counter() - start
    save_baseline(run_dir, cfg.model_spec.name, seed, baseline)
    row.update({"fit_iterations": fitted["iterations"], "train_seconds": round(seconds, 1),
                "train_samples_per_second": round(len(data["train"]["label_buy"]) / max(seconds, 1e-9), 1)})
    return evaluate(row, run_dir, lambda split: baseline.predict(data[split]), cfg, data)


def train_and_evaluate(cfg, seed, meta, data, item2vec, strategy):
    """One run: fit with dev evaluation every evaluation period, reload the best weights, test."""
    if cfg.model_spec.baseline:
        return fit_baseline(cfg, seed, meta, data)
    keras.utils.set_random_seed(seed)
    progress = Progress(cfg, seed, meta, chief=distributed.is_chief(strategy))
    train_size = len(data["train"]["label_buy"])
    plan = schedule.plan(cfg, train_size, int(np.sum(data["dev"]["label_buy"] > 0)), strategy.num_replicas_in_sync)
    with strategy.scope():
        task = build_task(cfg, meta, item2vec, plan.decay_steps)
    # a resumed run reshuffles from another seed rather than replaying the batches it began with
    batches = distributed.training_input(strategy, data["train"], meta, plan.batch_size, seed + progress.periods)
    if not progress.chief:
        return distributed.train(strategy, task, batches, plan.periods, plan.period_steps, progress)
    run_dir = progress.run_dir or new_run_dir(cfg, seed)
    row = run_row(cfg, seed, run_dir, meta)

    evaluation_sets = {split: make_dataset(data[split], meta, cfg.eval_batch_size) for split in ("dev", "test")}
    dev_evaluation = DevEvaluation(evaluation_sets["dev"], data["dev"], plan.smoothing)
    best_weights = run_dir / "best.weights.h5"
    callbacks = [
        dev_evaluation,
        keras.callbacks.TerminateOnNaN(),
        keras.callbacks.ModelCheckpoint(best_weights, monitor=MONITOR, mode="max",
                                        save_best_only=True, save_weights_only=True),
        keras.callbacks.EarlyStopping(monitor=MONITOR, mode="max", patience=plan.patience,
                                      start_from_epoch=plan.first_stop),
        keras.callbacks.TensorBoard(log_dir=str(run_dir / "tensorboard"), profile_batch=0),
        PeriodLog(plan.periods, plan.steps_per_pass, plan.period_steps),
    ]
    print(f"training {run_dir.name}: {train_size} samples; {plan.describe()}")
    start = time.perf_counter()
    # One Keras "epoch" is one evaluation period: PeriodLog prints a line for each, named as such.
    model = distributed.train(strategy, task, batches, plan.periods, plan.period_steps, progress, run_dir,
                              callbacks, lambda: build_task(cfg, meta, None, plan.decay_steps), verbose=0)
    fit_seconds = time.perf_counter() - start + progress.earlier_seconds
    if not best_weights.exists():
        raise PipelineError(f"{run_dir}: training produced no usable weights (loss became NaN?); "
                            "try a lower learning_rate")
    model.load_weights(best_weights)

    evaluations = dev_evaluation.evaluations
    steps_run = len(evaluations) * plan.period_steps
    best_period = int(np.nanargmax([e["selection_auc"] for e in evaluations]))
    train_seconds = fit_seconds - dev_evaluation.seconds
    row.update({"best_step": (best_period + 1) * plan.period_steps,
                "epochs": round(steps_run / plan.steps_per_pass, 3), "train_seconds": round(train_seconds, 1),
                "train_samples_per_second": round(steps_run * plan.batch_size / train_seconds, 1),
                "dev_evaluations": evaluations})
    write_dev_curve(run_dir, evaluations, plan.period_steps, plan.steps_per_pass)
    collapse.check_curve(evaluations, run_dir)
    row = evaluate(row, run_dir, lambda split: model.predict(evaluation_sets[split], verbose=0), cfg, data)
    progress.finish()
    return row


def main(argv):
    cfg = configurator.load(argv)  # an unknown model (or tower) is refused here, before any data is read
    runs_log.check_appendable(cfg.results_dir)
    if cfg.deterministic:
        tf.config.experimental.enable_op_determinism()
    strategy = distributed.make_strategy(cfg)
    meta, data, item2vec = load_data(cfg)
    rows = []
    for seed in cfg.seeds:
        try:
            row = train_and_evaluate(cfg, seed, meta, data, item2vec, strategy)
        except collapse.CollapsedRun as failure:
            collapse.record_failure(cfg.results_dir, cfg.model_spec.title, cfg.study,
                                    {k: v for k, v in configurator.changed(cfg).items() if k != "seeds"}, seed,
                                    str(failure))
            raise
        if row is None:
            continue  # a worker other than the cluster's chief: the chief records the run
        runs_log.append_run(cfg.results_dir, row)
        rows.append(row)
    if not rows:
        return rows
    print(f"\n{cfg.model_spec.title}, seeds {cfg.seeds}, runs recorded in {Path(cfg.results_dir) / 'runs.csv'}")
    print(runs_log.summary_table(rows))
    return rows

