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
