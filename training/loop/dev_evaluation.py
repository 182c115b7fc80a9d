"""Exact dev metrics at the end of every evaluation period, put into the logs for the callbacks after it."""
import time

import keras
import numpy as np

from training.record.metric_catalogue import SELECTION, measure

MONITOR = "val_selection_auc"  # what early stopping and the best checkpoint watch


def selection_auc(evaluations, smoothing):
    """The mean dev Main AUC of the last `smoothing` evaluations (1: the last one's)."""
    return float(np.nanmean([e[SELECTION] for e in evaluations[-smoothing:]]))


class DevEvaluation(keras.callbacks.Callback):
    """Predicts the dev split and adds `val_<metric>` to the logs, with `val_selection_auc` (the dev
    Main AUC averaged over the last `smoothing` evaluations) for EarlyStopping and ModelCheckpoint;
    keeps every evaluation and the time spent."""

    def __init__(self, dataset, split, smoothing=1):
        super().__init__()
        self.dataset = dataset
        self.split = split
        self.smoothing = smoothing
        self.evaluations = []
        self.seconds = 0.0

    def on_epoch_end(self, epoch, logs=None):
        start = time.perf_counter()
        predictions = self.model.predict(self.dataset, verbose=0)
        metrics = measure(predictions, self.split, "dev")
        self.seconds += time.perf_counter() - start
        self.evaluations.append(metrics)
        metrics["selection_auc"] = selection_auc(self.evaluations, self.smoothing)
        if logs is not None:
            logs.update({f"val_{name}": value for name, value in metrics.items()})
