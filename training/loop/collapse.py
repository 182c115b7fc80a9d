"""A run that learnt nothing is an error, not a result.

A network whose outputs are all one number scores a dev and test AUC of exactly 0.5; recorded, it
reads as "no better than chance" beside the baselines when it is a failure to train (a saturated
input, a learning rate decayed to nothing). Such a run ends with one line that says so and what to
try, and no runs.csv row: it is listed in results_dir/failed_runs.jsonl instead, which study
reports read to flag the configuration.
"""
import datetime
import json
from pathlib import Path

import numpy as np

from errors import PipelineError

RELATIVE_SPREAD = 1e-4  # predictions varying less than this share of their mean are one number
ADVICE = ("check the features for a saturated column, try a lower learning_rate or batch_size, "
          "or compare with model=LR")


class CollapsedRun(PipelineError):
    """A run whose predictions carry no ranking."""


def check_predictions(probabilities, split, run_dir):
    """Raises CollapsedRun when the split's purchase probabilities are non-finite or one number."""
    probabilities = np.asarray(probabilities, np.float64)
    bad = int(np.sum(~np.isfinite(probabilities)))
    if bad:
        raise CollapsedRun(f"{run_dir}: {bad} of {len(probabilities)} {split} predictions are NaN or infinite; "
                           f"not recorded; {ADVICE}")
    spread = float(np.ptp(probabilities)) if len(probabilities) else 0.0
    if spread <= RELATIVE_SPREAD * float(np.mean(np.abs(probabilities))):
        raise CollapsedRun(f"{run_dir}: every {split} prediction is {np.mean(probabilities):.6g} "
                           f"(spread {spread:.2g}): the network outputs a constant; not recorded; {ADVICE}")


def check_curve(evaluations, run_dir):
    """Raises CollapsedRun when no dev evaluation ranked the buyers at all (Main AUC 0.5 throughout)."""
    aucs = np.array([e["main_auc"] for e in evaluations], np.float64)
    if len(aucs) and np.all(np.isnan(aucs) | (np.abs(aucs - 0.5) < 1e-9)):
        raise CollapsedRun(f"{run_dir}: the dev Main AUC stayed at 0.5 in all {len(aucs)} evaluations: the "
                           f"network never ranked the buyers; not recorded; {ADVICE}")


FAILED_RUNS = "failed_runs.jsonl"


def record_failure(results_dir, model, study, settings, seed, reason):
    """Appends one line for a collapsed run to results_dir/failed_runs.jsonl (a file of its own, so
    runs.csv holds results only)."""
    entry = {"time": datetime.datetime.now().isoformat(timespec="seconds"), "model": model, "study": study,
             "seed": seed, "changed_settings": settings, "reason": reason}
    Path(results_dir).mkdir(parents=True, exist_ok=True)
    with open(Path(results_dir) / FAILED_RUNS, "a") as handle:
        handle.write(json.dumps(entry, default=str) + "\n")


def failed_runs(results_dir, study):
    """The failure entries of a study, oldest first (lines that are not entries are skipped)."""
    path = Path(results_dir) / FAILED_RUNS
    if not path.is_file():
        return []
    entries = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("study") == study:
            entries.append(entry)
    return entries
