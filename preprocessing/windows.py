"""Sliding windows anchored at the last day of the data.

Window 0 is the newest: its label range ends on the last day of the data. Each window has an
interaction range of `window_days` days followed by a label range of the same length; each older
window steps back `window_stride_days` days. A window's feature range runs from the first day of
the data to the end of its interaction range (inclusive, through that whole day).

The open window (index -1, role "open") is the one a forecast scores: its interaction range is the
last `window_days` days of the data and its label range the days after the data ends, so its
samples are built like any other window's and their labels are all zero.
"""
import dataclasses

import numpy as np

from errors import PipelineError

DAY = np.timedelta64(1, "D")


class WindowError(PipelineError):
    """A window that does not fit in the data's date span."""


@dataclasses.dataclass(frozen=True)
class Window:
    index: int  # 0 is the newest
    role: str  # "dev_test", "train", "unused" or "open"
    feature_start: np.datetime64  # first day of the data
    interaction_start: np.datetime64  # days, both ends inclusive
    interaction_end: np.datetime64
    label_start: np.datetime64
    label_end: np.datetime64

    @property
    def interaction_ns(self):
        """[start, end) of the interaction range in int64 nanoseconds."""
        return _ns(self.interaction_start), _ns(self.interaction_end + DAY)

    @property
    def label_ns(self):
        return _ns(self.label_start), _ns(self.label_end + DAY)

    @property
    def feature_end_ns(self):
        """Exclusive end of the feature range: actions before it may be used as features."""
        return _ns(self.interaction_end + DAY)

    def describe(self):
        """The window as meta.json records it (inclusive ISO dates)."""
        return {"index": self.index, "role": self.role,
                "interaction": [str(self.interaction_start), str(self.interaction_end)],
                "label": [str(self.label_start), str(self.label_end)],
                "feature": [str(self.feature_start), str(self.interaction_end)]}


def _ns(day):
    return int(day.astype("datetime64[ns]").astype(np.int64))


def day_of(time_ns):
    """The calendar day of an int64 nanosecond time."""
    return np.datetime64(int(time_ns), "ns").astype("datetime64[D]")


MIN_WINDOWS = 3  # the newest window is dev/test and the oldest unused: three leave one for training


def needed_days(num_windows, window_days, stride_days):
    """Days from the oldest window's first interaction day to the newest label day."""
    return 2 * window_days + (num_windows - 1) * stride_days


def fitting_settings(span_days, num_windows, window_days, stride_days):
    """(num_windows, window_days, window_stride_days) that fit a span of span_days days: the wanted
    ones when they fit, else the longest windows up to window_days with a stride equal to their
    length (a shorter stride would put a training window's label days inside the dev/test window's
    label range) and as many windows as fit, at least three; None when the span is too short for
    three one-day windows."""
    if stride_days >= window_days and needed_days(num_windows, window_days, stride_days) <= span_days:
        return num_windows, window_days, stride_days
    for days in range(window_days, 0, -1):
        windows = min(num_windows, span_days // days - 1)
        if windows >= MIN_WINDOWS:
            return windows, days, days
    return None


def make_windows(first_day, last_day, cfg):
    """The cfg.num_windows windows, newest first; WindowError if one starts before first_day."""
    windows = []
    for index in range(cfg.num_windows):
        label_end = last_day - index * cfg.window_stride_days * DAY
        label_start = label_end - (cfg.window_days - 1) * DAY
        interaction_end = label_start - DAY
        interaction_start = interaction_end - (cfg.window_days - 1) * DAY
        if index == 0:
            role = "dev_test"
        elif index < cfg.num_windows - 1 or cfg.use_oldest_window:
            role = "train"
        else:
            role = "unused"
        if interaction_start < first_day:
            span = int((last_day - first_day) / DAY) + 1
            fit = fitting_settings(span, cfg.num_windows, cfg.window_days, cfg.window_stride_days)
            proposal = ("settings that fit: num_windows={} window_days={} window_stride_days={}".format(*fit)
                        if fit else f"a {span}-day log is too short for three windows (4 days at least)")
            raise WindowError(
                f"window {index} ({role}) needs interaction days {interaction_start}..{interaction_end} but "
                f"the data spans {first_day}..{last_day} ({span} days); {proposal}")
        windows.append(Window(index, role, first_day, interaction_start, interaction_end, label_start, label_end))
    return windows


def open_window(first_day, last_day, cfg):
    """The open window: interaction range the last cfg.window_days days up to last_day, label range
    the cfg.window_days days after it, beyond the data."""
    # inside the data whenever make_windows' window 0 is, which starts a window earlier
    interaction_start = last_day - (cfg.window_days - 1) * DAY
    return Window(-1, "open", first_day, interaction_start, last_day, last_day + DAY, last_day + cfg.window_days * DAY)
