"""Sliding windows anchored at the last day of the data.

Window 0 is the newest: its label range ends on the last day of the data. Each window has an
interaction range of `window_days` days followed by a label range of the same length; each older
window steps back `window_stride_days` days. A window's feature range runs from the first day of
the data to the end of its interaction range (inclusive, through that whole day).

The open window (index -1, role "open") is the one a forecast scores: its interaction range is the
last `window_days` days of the data and its label range the days after the data ends, so its
samples are built like any other window's and their labels are all zero.

A stride shorter than a window makes the label ranges of the windows just older than window 0
overlap its label range (the days dev and test are scored on): those windows are purged (role
"purged"), neither trained on nor scored, and still count in num_windows. Window i is purged when
i * window_stride_days < window_days; every later window's label days end before window 0's begin.
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
    role: str  # "dev_test", "train", "purged", "unused" or "open"
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


def needed_days(num_windows, window_days, stride_days):
    """Days from the oldest window's first interaction day to the newest label day."""
    return 2 * window_days + (num_windows - 1) * stride_days


def role_of(index, num_windows, window_days, stride_days, use_oldest_window):
    """The role of window `index` (0 the newest) among num_windows."""
    if index == 0:
        return "dev_test"
    if index * stride_days < window_days:
        return "purged"
    if index == num_windows - 1 and not use_oldest_window:
        return "unused"
    return "train"


def purged_count(window_days, stride_days):
    """How many windows after window 0 are purged: those i >= 1 with i * stride_days < window_days."""
    return -(-window_days // stride_days) - 1


def training_count(num_windows, window_days, stride_days, use_oldest_window):
    """How many of num_windows windows are training windows."""
    return sum(role_of(i, num_windows, window_days, stride_days, use_oldest_window) == "train"
               for i in range(num_windows))


def fitting_settings(span_days, num_windows, window_days, stride_days, use_oldest_window=False):
    """(num_windows, window_days, window_stride_days) that fit a span of span_days days: the wanted
    ones when they fit and leave a training window, else the longest windows up to window_days that
    leave one, with the stride (from their length down to one day) that gives the most training
    windows, up to as many as the wanted settings give, the longest such stride (the least overlap);
    None when the span is too short for one training window of one day."""
    wanted = training_count(num_windows, window_days, stride_days, use_oldest_window)
    if wanted >= 1 and needed_days(num_windows, window_days, stride_days) <= span_days:
        return num_windows, window_days, stride_days
    left_out = 0 if use_oldest_window else 1  # the unused oldest window
    for days in range(min(window_days, span_days // 2), 0, -1):
        best, most_training = None, 0
        for stride in range(days, 0, -1):
            purged = purged_count(days, stride)
            fit = min((span_days - 2 * days) // stride + 1, max(wanted, 1) + 1 + purged + left_out)
            training = fit - 1 - purged - left_out
            if training > most_training:
                best, most_training = (fit, days, stride), training
        if best:
            return best
    return None


def describe_roles(windows):
    """One line: which windows are dev/test, train, purged and unused, and how many train."""
    def indices(role):
        return ", ".join(str(w.index) for w in windows if w.role == role) or "none"
    training = sum(w.role == "train" for w in windows)
    line = f"windows: 0 dev/test; train {indices('train')} ({training} training window{'s' * (training != 1)})"
    purged = [w for w in windows if w.role == "purged"]
    if purged:
        whose = "its" if len(purged) == 1 else "their"
        line += (f"; purged {indices('purged')} ({whose} label days {purged[-1].label_start}..{purged[0].label_end} "
                 f"reach into the dev/test label days {windows[0].label_start}..{windows[0].label_end}; "
                 f"num_windows={len(windows) + len(purged)} would train on {training + len(purged)})")
    if any(w.role == "unused" for w in windows):
        line += f"; unused {indices('unused')} (the oldest; use_oldest_window=True trains on it)"
    return line


def make_windows(first_day, last_day, cfg):
    """The cfg.num_windows windows, newest first; WindowError if one starts before first_day."""
    windows = []
    for index in range(cfg.num_windows):
        label_end = last_day - index * cfg.window_stride_days * DAY
        label_start = label_end - (cfg.window_days - 1) * DAY
        interaction_end = label_start - DAY
        interaction_start = interaction_end - (cfg.window_days - 1) * DAY
        role = role_of(index, cfg.num_windows, cfg.window_days, cfg.window_stride_days, cfg.use_oldest_window)
        if interaction_start < first_day:
            span = int((last_day - first_day) / DAY) + 1
            fit = fitting_settings(span, cfg.num_windows, cfg.window_days, cfg.window_stride_days,
                                   cfg.use_oldest_window)
            proposal = ("settings that fit: num_windows={} window_days={} window_stride_days={}".format(*fit)
                        if fit else f"a {span}-day log is too short for a training window "
                                    f"({3 if cfg.use_oldest_window else 4} days at least)")
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
