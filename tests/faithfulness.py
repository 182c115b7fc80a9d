"""The check that a forecast's reasons explain its score: removing each row's first reason lowers the
run's own purchase score by the stated effect, and more than removing a random group or another
row's first reason does (tests/test_forecast.py, tests/test_backtest.py)."""
import numpy as np

from preprocessing.processed_data import load_split, per_sample
from training.serving import reasons, saved_run

ROWS = 300


def fall_without(occlusion, score, arrays, groups):
    """float64 [N]: how much each row's purchase score falls when the group named groups[row] is removed."""
    base = np.asarray(score(arrays)["main"], np.float64)
    fallen = np.empty(len(base))
    steps = reasons.history_candidates(arrays)
    index = {name: i for i, name in enumerate(occlusion.names)}
    for name in np.unique(groups):
        rows = np.flatnonzero(groups == name)
        part = {key: np.asarray(values)[rows] for key, values in arrays.items()}
        removed = occlusion.removed(part, index[name], steps[rows])
        fallen[rows] = base[rows] - np.asarray(score(removed)["main"], np.float64)
    return fallen


def beats(occlusion, score, arrays, groups, others):
    """True when removing groups[row] lowers the score more than removing others[row], on average over
    the rows, by more than three standard errors of the paired difference."""
    difference = fall_without(occlusion, score, arrays, groups) - fall_without(occlusion, score, arrays, others)
    return difference.mean() > 3 * difference.std(ddof=1) / np.sqrt(len(difference))


def faithful(occlusion, score, arrays, top, seed=0, row_specific=True):
    """The reasons' check: each row's top reason lowers its score more than a random group does and
    (row_specific) more than another row's top reason does, so the reasons are about the row, not one
    feature strong for every row."""
    rng = np.random.default_rng(seed)
    available = np.array([name for name in occlusion.names if not name.startswith("history:")] + ["history:0"])
    return (beats(occlusion, score, arrays, top, available[rng.integers(0, len(available), len(top))])
            and (not row_specific or beats(occlusion, score, arrays, top, rng.permutation(top))))


def check_faithful(cfg, run_id, least_explained, row_specific=True):
    """Asserts the check on the first ROWS test samples of a run, and (row_specific) that the same
    reasons shuffled between rows fail it; least_explained: the share of rows that must have a first
    reason."""
    _, _, meta, processed, score, _ = saved_run.load_scorer(cfg, run_id)
    test = per_sample(load_split(processed, "test"), np.arange(ROWS))
    occlusion = reasons.Occlusion(meta, meta["settings"]["window_days"])
    vocab = {name: np.load(processed / "vocab" / f"{name}.npy", allow_pickle=False)
             for name in ("user", "item", "cate", "brand", "shop", "vendor")}
    explained = occlusion.reasons(score, test, vocab)
    has = explained["reason_1_group"].notna().to_numpy()
    assert has.mean() > least_explained
    kept = {key: values[has] for key, values in test.items()}
    top = explained["reason_1_group"].to_numpy()[has].astype(str)
    np.testing.assert_allclose(fall_without(occlusion, score, kept, top),
                               explained["reason_1_effect"].to_numpy()[has], atol=2e-5)
    assert faithful(occlusion, score, kept, top, row_specific=row_specific)
    if row_specific:
        assert not faithful(occlusion, score, kept, np.random.default_rng(1).permutation(top))
