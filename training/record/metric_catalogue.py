"""Every metric a run is judged by, in one catalogue. runs.csv's metric columns, the summary printed
after training, the comparison table, study reports and their paired differences all read CATALOGUE,
so a new metric is one entry here (and a test of its value in tests/test_metrics.py).

A metric is measured on one split from the model's outputs ({"main"[, "ctr", "cvr"]}) and the split's
arrays (label_buy, label_interact, user, item); runs.csv holds it as <split>_<name> for each split it
is measured on. An AUC metric is defined by its label, output and the samples it is restricted to,
which is also how training.studies.significance recomputes it from a run's predictions.parquet.
"""
import dataclasses
from typing import Callable

import numpy as np

from training.record import list_metrics
from training.record.metrics import auc, gauc, log_loss

SPLITS = ("dev", "test")
SELECTION = "main_auc"  # the dev metric early stopping and the best checkpoint watch (training.loop.dev_evaluation)
# the tables a metric may be shown in besides the summary printed after training
COMPARISON = "comparison"  # sh scr/compare.sh: every model's latest runs, on test
REPORT = "report"  # a study's report.md: each configuration on test
DIFFERENCE = "difference"  # a study's report.md: the paired difference to the baseline configuration


@dataclasses.dataclass(frozen=True)
class AucOf:
    """An AUC of one output against one label, on the samples where `among` is positive (all when None);
    predictions.parquet holds the output as p_<output>."""
    label: str
    output: str
    among: str | None = None

    def __call__(self, scored):
        if self.output not in scored.predictions:
            return None
        labels, scores = np.asarray(scored.arrays[self.label]), np.asarray(scored.predictions[self.output])
        if self.among is not None:
            kept = np.asarray(scored.arrays[self.among]) > 0
            labels, scores = labels[kept], scores[kept]
        return auc(labels, scores)


@dataclasses.dataclass(frozen=True)
class Metric:
    name: str  # runs.csv column <split>_<name>
    title: str  # how tables name it
    compute: Callable  # Scored -> float (NaN where undefined), None when the model lacks an output it needs
    higher_is_better: bool
    splits: tuple = SPLITS  # the splits it is measured on
    shown: tuple = ()  # COMPARISON, REPORT, DIFFERENCE (the last needs an AucOf)


class Scored:
    """One split's outputs and arrays, with what several metrics share (the lists' ranks) computed once."""

    def __init__(self, predictions, arrays):
        self.predictions = predictions
        self.arrays = arrays
        self.main = np.asarray(predictions["main"], dtype=np.float64)
        self._shared = {}

    def shared(self, key, make):
        if key not in self._shared:
            self._shared[key] = make()
        return self._shared[key]


def _list_metric(name, kind, k):
    return lambda scored: list_metrics.list_figure(scored, name, kind, k)


def _top_share(fraction):
    return lambda scored: list_metrics.buyers_in_top(scored, fraction)


CATALOGUE = (
    Metric("main_auc", "Main AUC", AucOf("label_buy", "main"), True, shown=(COMPARISON, REPORT, DIFFERENCE)),
    Metric("cvr_auc", "CVR AUC", AucOf("label_buy", "cvr", among="label_interact"), True,
           shown=(COMPARISON, REPORT, DIFFERENCE)),
    Metric("ctr_auc", "CTR AUC", AucOf("label_interact", "ctr"), True, shown=(REPORT,)),
    Metric("gauc", "GAUC", lambda s: gauc(s.arrays["user"], s.arrays["label_buy"], s.main), True, shown=(REPORT,)),
    Metric("logloss", "log loss", lambda s: log_loss(s.arrays["label_buy"], s.main), False,
           shown=(COMPARISON, REPORT)),
    # the ranked lists are judged on test only (training/record/list_metrics.py)
    *(Metric(f"{name}_{kind}_at_{k}", f"{name.replace('_', ' ')} {kind[0].upper()}@{k}", _list_metric(name, kind, k),
             True, splits=("test",))
      for name in list_metrics.LISTS for k in list_metrics.LIST_K for kind in ("precision", "recall")),
    *(Metric(f"buyers_in_top_{round(f * 100)}pct", f"buyers in top {round(f * 100)}%", _top_share(f), True,
             splits=("test",))
      for f in list_metrics.TOP_FRACTIONS),
)
BY_NAME = {metric.name: metric for metric in CATALOGUE}


def columns():
    """runs.csv's metric columns, in order: every metric of dev, then every metric of test."""
    return [f"{split}_{m.name}" for split in SPLITS for m in CATALOGUE if split in m.splits]


def shown_in(table):
    return [metric for metric in CATALOGUE if table in metric.shown]


def measure(predictions, arrays, split):
    """{name: value} of every catalogue metric of `split` that the predictions allow."""
    scored = Scored(predictions, arrays)
    values = {m.name: m.compute(scored) for m in CATALOGUE if split in m.splits}
    return {name: value for name, value in values.items() if value is not None}
