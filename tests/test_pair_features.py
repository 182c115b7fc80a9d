"""The pair features of several windows computed together (each action matched once against every
window's keys) against each window computed on its own: the rows each window gives a shared key must
not leak into another window's table. Likewise the samples of several windows made together."""
import numpy as np
import pytest

import configurator
from preprocessing.pipeline import pair_features
from preprocessing.pipeline.action_log import time_ordered
from preprocessing.pipeline.encoding import encode_log
from preprocessing.pipeline.samples import window_samples, windows_samples
from preprocessing.pipeline.sequences import build_timeline
from preprocessing.pipeline.windows import day_of, make_windows, open_window
from preprocessing.sources import make_demo_data


@pytest.fixture(scope="module")
def windows_of_a_log():
    cfg = configurator.load(["demo_users=200", "demo_items=150", "demo_categories=8"])
    encoded = encode_log(*make_demo_data.generate(cfg))
    log = time_ordered(encoded.user, encoded.item, encoded.action, encoded.time)
    timeline = build_timeline(log, encoded.vocabs["user"].size)
    first, last = day_of(log.time[0]), day_of(log.time[-1])
    windows = [w for w in make_windows(first, last, cfg) if w.role != "unused"] + [open_window(first, last, cfg)]
    samples = [window_samples(log, timeline, w, encoded.vocabs["item"].size) for w in windows]
    sizes = {name: encoded.vocabs[name].size for name in ("item", "cate", "brand")}
    return log, timeline, samples, encoded.item_side, sizes


def test_samples_of_windows_made_together_equal_each_window_alone(windows_of_a_log):
    log, timeline, samples, _, sizes = windows_of_a_log
    together = windows_samples(log, timeline, [s.window for s in samples][::-1], sizes["item"])[::-1]
    for made, alone in zip(together, samples, strict=True):
        assert made.window is alone.window
        for name in ("user", "item", "label_buy", "label_interact", "seq_end"):
            np.testing.assert_array_equal(getattr(made, name), getattr(alone, name), err_msg=name)
    assert any(s.label_interact.any() for s in together) and len({s.window.feature_end_ns for s in together}) > 2


def test_windows_computed_together_equal_each_window_alone(windows_of_a_log):
    log, timeline, samples, item_side, sizes = windows_of_a_log
    together = pair_features.pair_tables(log, timeline, samples, item_side, sizes)
    assert len(together) == len(samples) >= 4
    for table, one in zip(together, samples):
        alone, = pair_features.pair_tables(log, timeline, [one], item_side, sizes)
        assert table.shape == (len(one), len(pair_features.COLUMNS)) and table.dtype == np.float32
        np.testing.assert_array_equal(table, alone, err_msg=f"window {one.window.index}")
    counts = np.concatenate(together)[:, :20]  # 5 action types x (item, category) x (look-back, interaction)
    assert (counts > 0).any(axis=0).all(), "every count column has some non-zero value to compare"


def test_no_windows_give_no_tables(windows_of_a_log):
    log, timeline, _, item_side, sizes = windows_of_a_log
    assert pair_features.pair_tables(log, timeline, [], item_side, sizes) == []


def test_blocks_of_users_threads_and_groups_of_windows_leave_the_tables_unchanged(windows_of_a_log, monkeypatch):
    log, timeline, samples, item_side, sizes = windows_of_a_log
    whole = pair_features.pair_tables(log, timeline, samples, item_side, sizes, block_actions=10**9, threads=1)
    assert len(pair_features._user_blocks(timeline, 10**9)) == 1
    assert len(pair_features._user_blocks(timeline, 300)) > 20
    in_blocks = pair_features.pair_tables(log, timeline, samples, item_side, sizes, block_actions=300, threads=3)
    monkeypatch.setattr(pair_features, "MAX_WINDOWS_TOGETHER", 2)
    grouped = pair_features.pair_tables(log, timeline, samples, item_side, sizes, block_actions=300, threads=2)
    for one, two, three, window in zip(whole, in_blocks, grouped, samples, strict=True):
        np.testing.assert_array_equal(one, two, err_msg=f"window {window.window.index} in blocks")
        np.testing.assert_array_equal(one, three, err_msg=f"window {window.window.index} in groups of windows")


def test_user_blocks_cover_every_user_once_in_blocks_of_about_the_size_asked():
    start = np.array([0, 5, 6, 106, 110, 111, 120, 131, 140])  # user 2 has 100 actions
    timeline = type("Timeline", (), {"start": start, "size": 140})()
    blocks = pair_features._user_blocks(timeline, 10)
    assert blocks[0][0] == 0 and blocks[-1][1] == len(start) - 1
    assert all(first < end for first, end in blocks)
    assert all(end == begin for (_, end), (begin, _) in zip(blocks, blocks[1:]))
    sizes = [start[end] - start[first] for first, end in blocks if not first <= 2 < end]
    assert len(blocks) >= 3 and max(sizes) <= 2 * 10


def test_counts_in_ranges_equal_a_count_of_each_range():
    rng = np.random.default_rng(0)
    time = np.sort(rng.integers(0, 100, 2000))
    codes = rng.integers(0, 7, 2000)
    ranges = [(10, 40), (30, 60), (30, 30), (0, 100), (55, 60), (95, 200)]
    picks = [rng.integers(0, 7, 9) for _ in ranges]
    counted = pair_features._counts_in_ranges(time, codes, 7, ranges, picks)
    for (start, end), pick, got in zip(ranges, picks, counted, strict=True):
        expected = np.bincount(codes[(time >= start) & (time < end)], minlength=7)[pick]
        np.testing.assert_array_equal(got, expected, err_msg=f"range {start, end}")


def test_log_counts_equal_log1p_below_and_above_the_table():
    counts = np.array([0, 1, 2, 4095, 4096, 10**6, 3], dtype=np.int64)
    np.testing.assert_array_equal(pair_features._log_counts(counts), np.log1p(counts))
    np.testing.assert_array_equal(pair_features._log_counts(counts[:4]), np.log1p(counts[:4]))


@pytest.mark.parametrize("windows,dtype", [(1, np.uint8), (8, np.uint8), (9, np.uint16), (33, np.uint64),
                                           (64, np.uint64)])
def test_a_bit_for_every_window(windows, dtype):
    assert pair_features._window_bits(windows) == dtype
