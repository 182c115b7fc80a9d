"""Exact dev metrics at the end of every evaluation period, put into the logs for the callbacks after it."""
import time

import keras

from training.metrics import purchase_metrics


class DevEvaluation(keras.callbacks.Callback):
    """Predicts the dev split and adds `val_<metric>` to the logs (so EarlyStopping and
    ModelCheckpoint can monitor `val_main_auc`); keeps every evaluation and the time spent."""

    def __init__(self, dataset, split):
        super().__init__()
        self.dataset = dataset
        self.split = split
        self.evaluations = []
        self.seconds = 0.0

    def on_epoch_end(self, epoch, logs=None):
        start = time.perf_counter()
        predictions = self.model.predict(self.dataset, verbose=0)
        metrics = purchase_metrics(predictions, self.split["label_buy"], self.split["label_interact"],
                                   self.split["user"])
        self.seconds += time.perf_counter() - start
        self.evaluations.append(metrics)
        if logs is not None:
            logs.update({f"val_{name}": value for name, value in metrics.items()})
