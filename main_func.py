"""Trains the model of config.py on the processed data and reports dev and test metrics.

    python main_func.py [key=value ...]      e.g.  python main_func.py model=DIN seeds=[16,17,18]

Reads ddata/processed/ (building it from ddata/raw/ first when missing or stale), trains one run
per seed with early stopping on dev Main AUC, evaluates the best weights on test, appends a row per
seed to ddata/results/runs.csv and prints mean ± std over the seeds.
"""
import datetime
import math
import os
import sys
import time
from pathlib import Path

# TensorFlow's C++ start-up chatter (no GPU found, CPU features) says nothing about the run.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import configurator  # noqa: E402
from errors import PipelineError, run_cli  # noqa: E402
from models.purchase_task import PurchaseTask  # noqa: E402
from models.registry import build_model  # noqa: E402
from preprocessing.build_dataset import ensure_dataset  # noqa: E402
from preprocessing.processed_data import load_meta, load_split  # noqa: E402
from training import runs_log  # noqa: E402
from training.dev_evaluation import DevEvaluation  # noqa: E402
from training.input_pipeline import make_dataset  # noqa: E402
from training.metrics import purchase_metrics  # noqa: E402

SPLITS = ("train", "dev", "test")


def is_multi_task(cfg):
    return cfg.model in ("ESSM", "ESMM")


def towers(cfg):
    return (cfg.ctr_model, cfg.cvr_model) if is_multi_task(cfg) else (cfg.model,)


def load_data(cfg):
    """The processed splits, feature description and item2vec matrix; checks every split is usable."""
    processed = ensure_dataset(cfg)
    meta = load_meta(processed)
    data = {split: load_split(processed, split) for split in SPLITS}
    for split, arrays in data.items():
        if len(arrays["label_buy"]) == 0:
            raise PipelineError(f"{processed / split}: the {split} split is empty; use more data or other windows")
        if not np.any(arrays["label_buy"] > 0):
            raise PipelineError(f"{processed / split}/label_buy.npy: the {split} split has no purchase; "
                                "AUC is undefined, use more data or longer windows")
    item2vec = np.load(processed / meta["item2vec"], allow_pickle=False) if meta.get("item2vec") else None
    return meta, data, item2vec


def build_task(cfg, meta, item2vec, steps_per_pass):
    net = build_model(cfg, meta, item2vec)
    task = PurchaseTask(net, multi_task=is_multi_task(cfg),
                        aux_loss="DIEN" in towers(cfg) and cfg.dien_aux_weight > 0,
                        label_smoothing=cfg.label_smoothing, ctr_weight=cfg.ctr_weight,
                        cvr_weight=cfg.cvr_weight)
    learning_rate = keras.optimizers.schedules.ExponentialDecay(
        cfg.learning_rate, decay_steps=steps_per_pass, decay_rate=cfg.lr_decay, staircase=True)
    task.compile(optimizer=keras.optimizers.Adam(learning_rate, global_clipnorm=cfg.clip_norm),
                 jit_compile=cfg.jit_compile)
    return task


def new_run_dir(cfg, seed):
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    name = f"{stamp}-{'-'.join((cfg.model,) + towers(cfg) * is_multi_task(cfg))}-seed{seed}"
    run_dir = Path(cfg.results_dir) / name
    suffix = 1
    while run_dir.exists():
        suffix += 1
        run_dir = Path(cfg.results_dir) / f"{name}-{suffix}"
    run_dir.mkdir(parents=True)
    return run_dir


def train_and_evaluate(cfg, seed, meta, data, item2vec):
    """One run: fit with dev evaluation every `eval_every` steps, reload the best weights, test."""
    keras.utils.set_random_seed(seed)
    run_dir = new_run_dir(cfg, seed)
    started = datetime.datetime.now().isoformat(timespec="seconds")
    train_size = len(data["train"]["label_buy"])
    steps_per_pass = math.ceil(train_size / cfg.batch_size)
    periods = math.ceil(cfg.max_epochs * steps_per_pass / cfg.eval_every)
    task = build_task(cfg, meta, item2vec, steps_per_pass)

    evaluation_sets = {split: make_dataset(data[split], meta, cfg.eval_batch_size) for split in ("dev", "test")}
    dev_evaluation = DevEvaluation(evaluation_sets["dev"], data["dev"])
    best_weights = run_dir / "best.weights.h5"
    callbacks = [
        dev_evaluation,
        keras.callbacks.TerminateOnNaN(),
        keras.callbacks.ModelCheckpoint(best_weights, monitor="val_main_auc", mode="max",
                                        save_best_only=True, save_weights_only=True),
        keras.callbacks.EarlyStopping(monitor="val_main_auc", mode="max", patience=cfg.patience),
        keras.callbacks.TensorBoard(log_dir=str(run_dir / "tensorboard"), profile_batch=0),
    ]
    print(f"training {run_dir.name}: {train_size} samples, {steps_per_pass} steps per pass, "
          f"dev evaluated every {cfg.eval_every} steps")
    start = time.perf_counter()
    # One Keras "epoch" is one evaluation period; a progress bar on a terminal, a line per period in a log.
    task.fit(make_dataset(data["train"], meta, cfg.batch_size, shuffle_seed=seed), epochs=periods,
             steps_per_epoch=cfg.eval_every, callbacks=callbacks, shuffle=False,
             verbose=1 if sys.stdout.isatty() else 2)
    fit_seconds = time.perf_counter() - start
    if not best_weights.exists():
        raise PipelineError(f"{run_dir}: training produced no usable weights (loss became NaN?); "
                            "try a lower learning_rate")
    task.load_weights(best_weights)

    steps_run = len(dev_evaluation.evaluations) * cfg.eval_every
    best_period = int(np.nanargmax([e["main_auc"] for e in dev_evaluation.evaluations]))
    train_seconds = fit_seconds - dev_evaluation.seconds
    row = {"run_id": run_dir.name, "start_time": started, "model": cfg.model,
           "ctr_model": cfg.ctr_model if is_multi_task(cfg) else "",
           "cvr_model": cfg.cvr_model if is_multi_task(cfg) else "",
           "changed_settings": {k: v for k, v in configurator.changed(cfg).items() if k != "seeds"},
           "seed": seed, "best_step": (best_period + 1) * cfg.eval_every,
           "epochs": round(steps_run / steps_per_pass, 3), "train_seconds": round(train_seconds, 1),
           "train_samples_per_second": round(steps_run * cfg.batch_size / train_seconds, 1),
           "dev_evaluations": dev_evaluation.evaluations}
    for split, dataset in evaluation_sets.items():
        predictions = task.predict(dataset, verbose=0)
        metrics = purchase_metrics(predictions, data[split]["label_buy"], data[split]["label_interact"],
                                   data[split]["user"])
        row.update({f"{split}_{name}": value for name, value in metrics.items()})
    return row


def main(argv):
    cfg = configurator.load(argv)
    if cfg.deterministic:
        tf.config.experimental.enable_op_determinism()
    meta, data, item2vec = load_data(cfg)
    rows = []
    for seed in cfg.seeds:
        row = train_and_evaluate(cfg, seed, meta, data, item2vec)
        runs_log.append_run(cfg.results_dir, row)
        rows.append(row)
    title = f"{cfg.model}(ctr={cfg.ctr_model}, cvr={cfg.cvr_model})" if is_multi_task(cfg) else cfg.model
    print(f"\n{title}, seeds {cfg.seeds}, runs recorded in {Path(cfg.results_dir) / 'runs.csv'}")
    print(runs_log.summary_table(rows))
    return rows


if __name__ == "__main__":
    sys.exit(run_cli(main, sys.argv[1:]))
