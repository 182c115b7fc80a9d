import numpy as np
import pytest

import configurator
from configurator import ConfigError
from preprocessing.pipeline import settings
from preprocessing.pipeline.windows import DAY, WindowError, describe_roles, make_windows

FIRST, LAST = np.datetime64("2020-02-01"), np.datetime64("2020-04-15")


def dates(window):
    return (str(window.interaction_start), str(window.interaction_end), str(window.label_start),
            str(window.label_end))


def test_defaults_give_the_original_windows_without_its_six_day_slip():
    windows = make_windows(FIRST, LAST, configurator.load([]))
    assert [dates(w) for w in windows] == [
        ("2020-04-06", "2020-04-10", "2020-04-11", "2020-04-15"),
        ("2020-04-01", "2020-04-05", "2020-04-06", "2020-04-10"),
        ("2020-03-27", "2020-03-31", "2020-04-01", "2020-04-05"),
        ("2020-03-22", "2020-03-26", "2020-03-27", "2020-03-31"),
        ("2020-03-17", "2020-03-21", "2020-03-22", "2020-03-26"),
        ("2020-03-12", "2020-03-16", "2020-03-17", "2020-03-21"),
    ]
    assert [w.role for w in windows] == ["dev_test", "train", "train", "train", "train", "unused"]
    assert all(w.describe()["feature"] == ["2020-02-01", str(w.interaction_end)] for w in windows)


def test_the_oldest_window_joins_train_when_asked():
    windows = make_windows(FIRST, LAST, configurator.load(["use_oldest_window=True"]))
    assert [w.role for w in windows] == ["dev_test"] + ["train"] * 5


def test_one_day_windows_fit_a_short_log():
    cfg = configurator.load(["num_windows=3", "window_days=1", "window_stride_days=1"])
    windows = make_windows(np.datetime64("2020-01-01"), np.datetime64("2020-01-04"), cfg)
    assert [dates(w) for w in windows] == [
        ("2020-01-03", "2020-01-03", "2020-01-04", "2020-01-04"),
        ("2020-01-02", "2020-01-02", "2020-01-03", "2020-01-03"),
        ("2020-01-01", "2020-01-01", "2020-01-02", "2020-01-02"),
    ]


def test_nanosecond_bounds_cover_whole_days():
    window = make_windows(FIRST, LAST, configurator.load([]))[0]
    start, end = window.interaction_ns
    assert np.datetime64(start, "ns") == np.datetime64("2020-04-06T00:00:00")
    assert np.datetime64(end, "ns") == np.datetime64("2020-04-11T00:00:00")
    assert window.feature_end_ns == end == window.label_ns[0]


@pytest.mark.parametrize("days, stride, count", [(5, 5, 6), (3, 1, 10), (2, 7, 4), (1, 1, 30), (7, 3, 8)])
def test_a_label_range_never_overlaps_its_feature_range(days, stride, count):
    cfg = configurator.load([f"window_days={days}", f"window_stride_days={stride}", f"num_windows={count}"])
    for window in make_windows(FIRST, LAST, cfg):
        assert window.label_start == window.interaction_end + DAY
        assert window.label_end - window.label_start == window.interaction_end - window.interaction_start
        assert window.label_ns[0] >= window.feature_end_ns
        assert window.interaction_start >= FIRST and window.label_end <= LAST


def test_a_window_beyond_the_data_is_named_with_the_data_span():
    cfg = configurator.load(["num_windows=16"])
    with pytest.raises(WindowError) as error:
        make_windows(FIRST, LAST, cfg)
    message = str(error.value)
    assert "window 14 (train) needs interaction days 2020-01-27..2020-01-31" in message
    assert "the data spans 2020-02-01..2020-04-15 (75 days)" in message and "\n" not in message
    # 14 training windows as wanted: a 4-day stride, its one purged window counted in
    assert "settings that fit: num_windows=17 window_days=5 window_stride_days=4" in message


def test_a_nine_day_log_gets_settings_that_fit_it_and_they_do():
    first, last = np.datetime64("2017-11-25"), np.datetime64("2017-12-03")
    with pytest.raises(WindowError, match="settings that fit: num_windows=6 window_days=2 window_stride_days=1"):
        make_windows(first, last, configurator.load([]))
    cfg = configurator.load(["num_windows=6", "window_days=2", "window_stride_days=1"])
    settings.check(cfg)
    windows = make_windows(first, last, cfg)
    assert windows[-1].interaction_start == first and windows[0].label_end == last
    assert [w.role for w in windows] == ["dev_test", "purged", "train", "train", "train", "unused"]
    with pytest.raises(WindowError, match=r"a 3-day log is too short for a training window"):
        make_windows(first, first + 2 * DAY, configurator.load([]))


@pytest.mark.parametrize("days", range(1, 8))
def test_a_training_window_label_range_ends_before_the_dev_test_one_begins_for_every_stride(days):
    for stride in range(1, days + 1):
        cfg = configurator.load([f"window_days={days}", f"window_stride_days={stride}", "num_windows=9"])
        windows = make_windows(FIRST, LAST, cfg)
        newest = windows[0]
        for window in windows[1:]:
            overlaps = window.label_end >= newest.label_start
            assert (window.role == "purged") == overlaps, (days, stride, window.index)
            if window.role == "train":
                assert window.label_ns[1] <= newest.label_ns[0], "training labels from the dev/test label days"
        assert sum(w.role == "purged" for w in windows) == -(-days // stride) - 1
        assert sum(w.role == "train" for w in windows) == 9 - 2 - (-(-days // stride) - 1)


def test_the_roles_line_counts_training_windows_and_names_the_purged_ones():
    cfg = configurator.load(["num_windows=7", "window_days=3", "window_stride_days=1"])
    windows = make_windows(FIRST, LAST, cfg)
    assert [w.role for w in windows] == ["dev_test", "purged", "purged", "train", "train", "train", "unused"]
    assert describe_roles(windows) == (
        "windows: 0 dev/test; train 3, 4, 5 (3 training windows); purged 1, 2 (their label days "
        "2020-04-11..2020-04-14 reach into the dev/test label days 2020-04-13..2020-04-15; num_windows=9 would "
        "train on 5); "
        "unused 6 (the oldest; use_oldest_window=True trains on it)")
    assert describe_roles(make_windows(FIRST, LAST, configurator.load(["use_oldest_window=True"]))) == \
        "windows: 0 dev/test; train 1, 2, 3, 4, 5 (5 training windows)"


@pytest.mark.parametrize("argument, expected", [
    ("max_len=-1", "setting max_len=-1: expected a positive whole number"),
    ("window_days=0", "setting window_days=0: expected a positive whole number"),
    ("window_stride_days=-5", "setting window_stride_days=-5"),
    ("embed_dim=0", "setting embed_dim=0"),
    ("w2v_epochs=0", "setting w2v_epochs=0"),
    ("split_by=items", "setting split_by='items': expected one of user, random"),
    ("num_windows=2", "leave no training window"),
    ("window_stride_days=1", "settings num_windows=6, window_days=5, window_stride_days=1, use_oldest_window=False "
                             "leave no training window: the newest window is dev/test, windows 1..4 are purged"),
    ("num_windows=0", "setting num_windows=0"),
    ("w2v_sample=-0.1", "setting w2v_sample=-0.1: expected a number from 0"),
])
def test_bad_settings_are_rejected_before_any_data_is_read(argument, expected):
    with pytest.raises(ConfigError) as error:
        settings.check(configurator.load([argument]))
    assert expected in str(error.value)


def test_two_windows_are_enough_with_the_oldest_in_train():
    settings.check(configurator.load(["num_windows=2", "use_oldest_window=True"]))


@pytest.mark.parametrize("count, stride", [(7, 1), (5, 2), (4, 3), (4, 4), (3, 5)])
def test_a_stride_shorter_than_a_window_is_allowed_while_a_training_window_remains(count, stride):
    cfg = configurator.load([f"num_windows={count}", f"window_stride_days={stride}"])
    settings.check(cfg)
    assert [w.role for w in make_windows(FIRST, LAST, cfg)].count("train") == 1
    with pytest.raises(ConfigError, match=f"leave no training window.*expected num_windows >= {count}"):
        settings.check(configurator.load([f"num_windows={count - 1}", f"window_stride_days={stride}"]))
