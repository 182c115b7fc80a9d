"""The encoded log in time order, so that every date range is one contiguous slice."""
import dataclasses

import numpy as np


@dataclasses.dataclass
class ActionLog:
    """Parallel arrays in time order; actions with equal times keep their order in the raw table."""
    user: np.ndarray  # int32 user index
    item: np.ndarray  # int32 item index
    action: np.ndarray  # int8 action type 1..5
    time: np.ndarray  # int64 nanoseconds, non-decreasing

    def __len__(self):
        return len(self.time)

    def between(self, start_ns, end_ns):
        """The slice of actions with start_ns <= time < end_ns."""
        return slice(*np.searchsorted(self.time, [start_ns, end_ns]).tolist())

    def before(self, end_ns):
        """The slice of actions with time < end_ns."""
        return slice(0, int(np.searchsorted(self.time, end_ns)))


def time_ordered(user, item, action, time):
    """ActionLog of arrays in any order (no copy when they are already in time order, as logs
    usually are)."""
    if np.all(time[1:] >= time[:-1]):
        return ActionLog(user, item, action, time)
    order = np.argsort(time, kind="stable")
    return ActionLog(user[order], item[order], action[order], time[order])
