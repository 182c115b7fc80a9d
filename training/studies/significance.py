"""Paired significance of a difference in test AUC between two configurations, each averaged over
its seeds: a 95% interval and a p-value from a bootstrap that resamples users.

    difference = compare(run_dirs_a, run_dirs_b, "main_auc")    # a - b, from predictions.parquet
    difference.estimate, difference.low, difference.high, difference.p_value

The samples of one user are correlated (one person's taste and activity shape all of them), so
resampling samples would understate the spread. Each replicate draws the users with replacement
and weights every sample by its user's draw count; all runs of both configurations share each
replicate, which makes the difference paired (the same users, the same samples). A replicate's AUC
is exact: the weighted Mann-Whitney statistic by rank sums over the sorted scores, ties counting
half, so no sample is ever copied.
"""
import dataclasses
from pathlib import Path

import numpy as np

from errors import PipelineError
from training.record.metric_catalogue import BY_NAME, AucOf
from training.record.metrics import auc
from training.record.predictions import FILE, read_predictions

N_BOOT = 1000
BLOCK = 50  # replicates computed together: memory is BLOCK x samples floats


def _auc_of(metric):
    """The catalogue's definition of an AUC metric: its label, output and restriction."""
    definition = BY_NAME[metric].compute if metric in BY_NAME else None
    if not isinstance(definition, AucOf):
        aucs = ", ".join(name for name, m in BY_NAME.items() if isinstance(m.compute, AucOf))
        raise PipelineError(f"metric {metric!r}: a paired bootstrap needs an AUC; one of {aucs}")
    return definition


@dataclasses.dataclass
class Difference:
    """a - b of the seed-mean AUCs, its 95% percentile interval and two-sided p-value."""
    estimate: float
    low: float
    high: float
    p_value: float
    n_boot: int


class _Ranked:
    """One run's scores, sorted once: which samples are positive and the tie group of each."""

    def __init__(self, labels, scores):
        self.order = np.argsort(scores, kind="stable")
        ordered = np.asarray(scores)[self.order]
        new_value = np.r_[True, ordered[1:] != ordered[:-1]]
        self.group_starts = np.flatnonzero(new_value)
        self.group = np.cumsum(new_value) - 1
        self.positive = np.asarray(labels)[self.order] > 0

    def auc(self, weights):
        """[B] weighted AUCs for weights [B, n] (by sample, in the original order)."""
        weights = weights[:, self.order]
        negative = np.where(self.positive, 0.0, weights)
        positive = np.where(self.positive, weights, 0.0)
        per_group = np.add.reduceat(negative, self.group_starts, axis=1)
        # a positive beats the negatives of lower scores and half of those tied with it
        credit = np.cumsum(per_group, axis=1) - 0.5 * per_group
        wins = (positive * credit[:, self.group]).sum(axis=1)
        pairs = positive.sum(axis=1) * negative.sum(axis=1)
        return np.divide(wins, pairs, out=np.full(len(weights), np.nan), where=pairs > 0)


def user_weight_blocks(users, n_boot, seed):
    """Blocks of [<=BLOCK, n] sample weights: each replicate draws len(unique users) users with
    replacement, a sample weighing as much as its user's draw count."""
    _, codes = np.unique(np.asarray(users), return_inverse=True)
    n_users = int(codes.max()) + 1 if len(codes) else 0
    rng = np.random.default_rng(seed)
    for start in range(0, n_boot, BLOCK):
        size = min(BLOCK, n_boot - start)
        counts = rng.multinomial(n_users, np.full(n_users, 1.0 / n_users), size=size)
        yield counts[:, codes].astype(np.float64)


def weighted_auc(labels, scores, weights):
    """[B] exact AUCs of one score vector under each row of weights [B, n]."""
    return _Ranked(labels, scores).auc(np.atleast_2d(weights))


def bootstrap_aucs(labels, users, scores, n_boot=N_BOOT, seed=0):
    """AUC replicates [runs, n_boot] of score rows [runs, n] on common user resamples."""
    ranked = [_Ranked(labels, row) for row in np.atleast_2d(scores)]
    blocks = [[run.auc(weights) for run in ranked] for weights in user_weight_blocks(users, n_boot, seed)]
    return np.concatenate([np.stack(block) for block in blocks], axis=1)


def paired_difference(estimate, replicates_a, replicates_b):
    """Difference of a - b from its point estimate and the two configurations' replicates [n_boot]
    (seed means on common resamples). p: twice the smaller share of replicates on either side of
    zero, with the +1 correction that keeps it above zero for a finite bootstrap."""
    differences = np.asarray(replicates_a) - np.asarray(replicates_b)
    differences = differences[~np.isnan(differences)]
    n = len(differences)
    if n == 0:
        return Difference(float("nan"), float("nan"), float("nan"), float("nan"), 0)
    low, high = np.percentile(differences, [2.5, 97.5])
    tail = min(np.sum(differences <= 0), np.sum(differences >= 0))
    return Difference(float(estimate), float(low), float(high), min(1.0, 2 * (tail + 1) / (n + 1)), n)


def aligned_test_split(run_dirs):
    """The test split of each run's predictions.parquet, aligned on (user_id, item_id): a frame of
    ids and labels, and the runs' frames in the same row order. PipelineError when the runs were
    not scored on the same samples (another dataset), as a paired comparison needs."""
    frames = []
    for run_dir in run_dirs:
        path = Path(run_dir) / FILE
        if not path.is_file():
            raise PipelineError(f"{path}: missing; the run did not finish or was made before runs kept predictions")
        frame = read_predictions(run_dir)
        frame = frame[frame["split"] == "test"].sort_values(["user_id", "item_id"], kind="stable")
        frames.append(frame.reset_index(drop=True))
    first = frames[0]
    for run_dir, frame in zip(run_dirs[1:], frames[1:]):
        columns = ["user_id", "item_id", "label_buy", "label_interact"]
        if len(frame) != len(first) or not frame[columns].equals(first[columns]):
            raise PipelineError(f"{Path(run_dir) / FILE}: its test samples differ from those of {Path(run_dirs[0]) / FILE}; "
                                "a paired comparison needs runs on the same test split")
    return first[["user_id", "item_id", "label_buy", "label_interact"]], frames


def study_replicates(groups, metric, n_boot=N_BOOT, seed=0):
    """For {name: [run folders]}: {name: (seed-mean AUC, seed-mean replicates [n_boot])} of one
    metric, every run on the same user resamples; groups whose runs lack the metric's score are
    left out."""
    definition = _auc_of(metric)
    label_column, score_column, restrict = definition.label, f"p_{definition.output}", definition.among
    names = list(groups)
    samples, frames = aligned_test_split([run for name in names for run in groups[name]])
    keep = np.ones(len(samples), dtype=bool) if restrict is None else samples[restrict].to_numpy() > 0
    labels, users = samples[label_column].to_numpy()[keep], samples["user_id"].to_numpy()[keep]
    result, position = {}, 0
    for name in names:
        runs = frames[position:position + len(groups[name])]
        position += len(groups[name])
        if not all(score_column in frame for frame in runs):
            continue
        scores = np.stack([frame[score_column].to_numpy(dtype=np.float64)[keep] for frame in runs])
        estimate = float(np.mean([auc(labels, row) for row in scores]))
        result[name] = (estimate, bootstrap_aucs(labels, users, scores, n_boot, seed).mean(axis=0))
    return result


def compare(run_dirs_a, run_dirs_b, metric="main_auc", n_boot=N_BOOT, seed=0):
    """Difference of test `metric` between configuration a and b (run folders of their seeds)."""
    replicates = study_replicates({"a": list(run_dirs_a), "b": list(run_dirs_b)}, metric, n_boot, seed)
    if len(replicates) < 2:
        raise PipelineError(f"p_{_auc_of(metric).output}: not in the predictions of both configurations")
    (estimate_a, a), (estimate_b, b) = replicates["a"], replicates["b"]
    return paired_difference(estimate_a - estimate_b, a, b)
