"""Splits: the newest window halved into dev and test, by user (no user in both) or at random
(the original's way); the training windows concatenated as train."""
import numpy as np

from errors import PipelineError
from preprocessing.pipeline.samples import is_in_sorted, sorted_unique


def halve_newest(samples, split_by, seed):
    """(dev rows, test rows) of the newest window's samples, sorted; seeded, so deterministic."""
    rng = np.random.default_rng(seed)
    if split_by == "user":
        users = rng.permutation(sorted_unique(samples.user, kind="stable"))
        is_dev = is_in_sorted(samples.user, np.sort(users[:len(users) // 2]))
        rows = np.arange(len(samples))
        return rows[is_dev], rows[~is_dev]
    shuffled = rng.permutation(len(samples))
    half = len(samples) // 2
    return np.sort(shuffled[:half]), np.sort(shuffled[half:])


def split_parts(window_samples, split_by, seed):
    """split name -> list of (WindowSamples, rows or None for all); PipelineError if a split is empty."""
    newest = next(s for s in window_samples if s.window.role == "dev_test")
    dev, test = halve_newest(newest, split_by, seed)
    parts = {"train": [(s, None) for s in window_samples if s.window.role == "train"],
             "dev": [(newest, dev)], "test": [(newest, test)]}
    for split, members in parts.items():
        if not sum(len(s) if rows is None else len(rows) for s, rows in members):
            windows = ", ".join(f"window {s.window.index} (interaction {s.window.interaction_start}.."
                                f"{s.window.interaction_end}): {len(s)} samples from "
                                f"{len(sorted_unique(s.user))} users" for s, _ in members) or "no window"
            raise PipelineError(f"the {split} split is empty ({windows}); use more data, longer windows "
                                f"or split_by=random")
    return parts
