"""Resuming a killed run: after every evaluation period the model and optimizer are checkpointed
(tf.train.CheckpointManager) with what the run has seen so far, so running the same command again
continues from there in the same run folder.

The progress of an unfinished run lives in `results_dir/.unfinished/seed<seed>-<key>/`, the key a
digest of the settings that differ from config.py (`resume` aside), the seed and the dataset id: the
same command on the same data finds it, any other does not. `run.json` names the run folder, the
periods done, whether early stopping ended training, the dev evaluations and the seconds spent; it
is written (temporary file, then rename) after the checkpoint it names. A finished run removes its
progress folder. Under MultiWorkerMirroredStrategy every worker saves (saving may need them all),
the chief into that folder, the others into temporary folders they remove; every worker restores
from the chief's, so results_dir must be shared by the machines of a cluster.
"""
import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import keras
import tensorflow as tf

import configurator
from preprocessing.processed_data import dataset_id
from training.loop.dev_evaluation import DevEvaluation

FOLDER = ".unfinished"
STATE = "run.json"
KEPT = 2  # checkpoints kept: the one run.json names survives a kill while the next is written


def progress_folder(cfg, seed, meta):
    settings = {k: v for k, v in configurator.changed(cfg).items() if k not in ("resume", "seeds")}
    text = json.dumps({"settings": settings, "seed": seed, "dataset": dataset_id(meta)}, sort_keys=True,
                      default=str)
    return Path(cfg.results_dir) / FOLDER / f"seed{seed}-{hashlib.sha256(text.encode()).hexdigest()[:16]}"


class Progress:
    """The saved progress of one run (seed) of a command; empty when none was saved or resume=False."""

    def __init__(self, cfg, seed, meta, chief=True):
        self.folder = progress_folder(cfg, seed, meta)
        self.chief = chief
        self.state = {}
        if cfg.resume and (self.folder / STATE).is_file():
            self.state = json.loads((self.folder / STATE).read_text())
        # read once: save() rewrites the state, whose seconds already include this attempt's
        self._earlier_seconds = self.state.get("seconds", 0.0) if self.periods else 0.0
        self.dev_evaluation = None
        self._began = None

    @property
    def run_dir(self):
        """The run folder of the unfinished run, when it still exists."""
        if self.state and (Path(self.folder).parents[1] / self.state["run_dir"]).is_dir():
            return Path(self.folder).parents[1] / self.state["run_dir"]
        return None

    @property
    def periods(self):
        """Evaluation periods already trained; a run that early stopping ended trains no more."""
        return self.state.get("periods", 0) if self.run_dir or not self.chief else 0

    @property
    def stopped(self):
        return bool(self.state.get("stopped")) and self.periods > 0

    @property
    def earlier_seconds(self):
        """Training wall seconds of the earlier attempts, up to their last checkpoint (this attempt's
        own seconds not included, however often it saved)."""
        return self._earlier_seconds

    def restore(self, task):
        """Loads the last checkpoint into task (model and optimizer, built here first) when resuming."""
        if not self.periods:
            return
        with task.distribute_strategy.scope():
            task.optimizer.build(task.trainable_variables)
        _checkpoint(task).restore(str(self.folder / self.state["checkpoint"])).assert_existing_objects_matched()
        print(f"resuming {self.state['run_dir']} after {self.periods} evaluation periods", flush=True)

    def begin(self, callbacks=()):
        """Gives the callbacks of the chief the state they had at the checkpoint (dev evaluations,
        best dev Main AUC and evaluations since it); call after their on_train_begin."""
        self._began = time.perf_counter()
        self.dev_evaluation = next((c for c in callbacks if isinstance(c, DevEvaluation)), None)
        evaluations = self.state.get("evaluations", []) if self.periods else []
        if self.dev_evaluation is None or not evaluations:
            return
        self.dev_evaluation.evaluations = list(evaluations)
        self.dev_evaluation.seconds = self.state["eval_seconds"]
        scores = [e.get("selection_auc", e["main_auc"]) for e in evaluations]
        best = max(range(len(scores)), key=lambda i: scores[i])
        for callback in callbacks:
            if isinstance(callback, keras.callbacks.ModelCheckpoint):
                callback.best = scores[best]
            if isinstance(callback, keras.callbacks.EarlyStopping):
                callback.best, callback.best_epoch, callback.wait = scores[best], best, len(scores) - 1 - best

    def save(self, task, periods, stopped, run_dir=None):
        """Checkpoints task after `periods` evaluation periods; the chief also writes run.json."""
        target = self.folder if self.chief else Path(tempfile.mkdtemp(prefix="worker-checkpoint-"))
        target.mkdir(parents=True, exist_ok=True)
        manager = tf.train.CheckpointManager(_checkpoint(task), str(target), max_to_keep=KEPT)
        path = manager.save(checkpoint_number=periods)
        if not self.chief:
            shutil.rmtree(target)
            return
        evaluations = self.dev_evaluation.evaluations if self.dev_evaluation else []
        self.state = {"run_dir": Path(run_dir).name, "periods": periods, "stopped": bool(stopped),
                      "checkpoint": Path(path).name, "evaluations": evaluations,
                      "eval_seconds": self.dev_evaluation.seconds if self.dev_evaluation else 0.0,
                      "seconds": self.earlier_seconds + time.perf_counter() - self._began}
        partial = self.folder / f".{STATE}.partial-{os.getpid()}"
        partial.write_text(json.dumps(self.state, default=float))
        partial.rename(self.folder / STATE)

    def finish(self):
        """Removes the progress of a finished run (only a folder holding this module's run.json)."""
        if self.chief and (self.folder / STATE).is_file():
            shutil.rmtree(self.folder)

    def callback(self, run_dir, callbacks):
        """The Keras callback that keeps this progress during Model.fit; goes after `callbacks`."""
        return _KeepProgress(self, run_dir, callbacks)


def _checkpoint(task):
    # The variables listed one by one: tracking the Keras 3 model object misses its BatchNorm statistics.
    return tf.train.Checkpoint(weights=list(task.weights), optimizer=list(task.optimizer.variables))


class _KeepProgress(keras.callbacks.Callback):
    def __init__(self, progress, run_dir, callbacks):
        super().__init__()
        self.progress = progress
        self.run_dir = run_dir
        self.callbacks = callbacks

    def on_train_begin(self, logs=None):
        self.progress.begin(self.callbacks)

    def on_epoch_end(self, epoch, logs=None):
        self.progress.save(self.model, epoch + 1, self.model.stop_training, self.run_dir)
