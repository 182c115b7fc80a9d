"""The window settings (num_windows, window_days, window_stride_days) that fit a log's date span."""
import configurator

MIN_WINDOWS = 3  # the newest window is dev/test and the oldest unused: three leave one for training


def needed_days(num_windows, window_days, stride_days):
    """Days from the oldest window's first interaction day to the newest label day."""
    return 2 * window_days + (num_windows - 1) * stride_days


def fitting(span_days):
    """config.py's windows when they fit the span, else the longest windows up to config.py's length
    with a stride equal to the length (a shorter stride would put a training window's label days
    inside the dev/test window's label range) and as many windows as fit, at least three; None when
    the span is too short for three one-day windows."""
    default = configurator.defaults()
    wanted = (default["num_windows"], default["window_days"], default["window_stride_days"])
    if wanted[2] >= wanted[1] and needed_days(*wanted) <= span_days:
        return wanted
    for days in range(default["window_days"], 0, -1):
        windows = min(default["num_windows"], span_days // days - 1)
        if windows >= MIN_WINDOWS:
            return windows, days, days
    return None
