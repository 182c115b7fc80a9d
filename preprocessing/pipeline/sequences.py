"""Behaviour sequences: every action sorted by user then time, and [N, max_len] gathers from it.

A sample's sequence is its user's actions before the window's feature end, oldest first, the last
max_len kept, padded in front with 0; the samples of a user in a window share it. With the actions
of each user contiguous and in time order, the actions before a time are a prefix of the user's
run, so a sequence is the slice [end - max_len, end) of the sorted arrays: one index gather per
chunk of samples.
"""
import dataclasses

import numpy as np

from preprocessing.pipeline.threads import thread_map


@dataclasses.dataclass
class Timeline:
    """The log sorted by (user, time); ties keep their order in the log."""
    user: np.ndarray  # int32 [n]
    item: np.ndarray  # int32 [n + 1]; the extra last slot is 0, the padding every gather points at
    action: np.ndarray  # int8 [n + 1], same padding slot
    time: np.ndarray  # int64 [n]
    start: np.ndarray  # int64 [user vocab + 1]: the user's first position; start[u + 1] ends it

    @property
    def size(self):
        return len(self.time)

    def ends_before(self, log, time_ns):
        """int64 [user vocab]: the position just after each user's last action before time_ns."""
        return self.ends_before_each(log, [time_ns])[time_ns]

    def ends_before_each(self, log, times_ns):
        """{time: ends_before(log, time)} for each of times_ns, the users' actions counted on from one
        time to the next rather than from the log's start each time."""
        counts, counted, ends = np.zeros(len(self.start) - 1, dtype=np.int64), 0, {}
        for time_ns in sorted(set(times_ns)):
            stop = log.before(time_ns).stop
            counts = counts + np.bincount(log.user[counted:stop], minlength=len(counts))
            counted, ends[time_ns] = stop, self.start[:-1] + counts
        return ends


def stable_argsort_ids(ids):
    """A stable argsort of non-negative int32 ids, by 16-bit radix passes (numpy sorts 16-bit keys
    with a radix sort, several times faster than its stable sort of wider keys)."""
    order = np.argsort((ids & 0xFFFF).astype(np.uint16), kind="stable")
    if ids.size and ids.max() >= 1 << 16:
        order = order[np.argsort((ids[order] >> 16).astype(np.uint16), kind="stable")]
    return order


def _gathered(values, order, padding):
    """values[order], with padding a last slot of 0 that every gather of a padded step points at."""
    out = np.zeros(len(values) + padding, dtype=values.dtype)
    np.take(values, order, out=out[:len(values)])
    return out


def build_timeline(log, user_vocab_size):
    """The Timeline of an ActionLog (a stable sort by user keeps each user's actions in time order)."""
    order = stable_argsort_ids(log.user)
    counts = np.bincount(log.user, minlength=user_vocab_size)
    start = np.zeros(user_vocab_size + 1, dtype=np.int64)
    np.cumsum(counts, out=start[1:])

    # the three gathers wait on memory and share the cores; the users are each id repeated by its
    # count, written in order rather than gathered at random
    user, item, action, time = thread_map(lambda make: make(), [
        lambda: np.repeat(np.arange(user_vocab_size, dtype=log.user.dtype), counts),
        lambda: _gathered(log.item, order, padding=True),
        lambda: _gathered(log.action, order, padding=True),
        lambda: _gathered(log.time, order, padding=False)])
    return Timeline(user=user, item=item, action=action, time=time, start=start)


def _positions(timeline, users, ends, max_len):
    """int64 [N, max_len]: for each sample, the positions [ends - max_len, ends), those before its
    user's first action pointing at the padding slot (timeline.size)."""
    steps = np.arange(-max_len, 0, dtype=np.int64)
    positions = ends[:, None] + steps
    positions[positions < timeline.start[users][:, None]] = timeline.size
    return positions


def gather(timeline, users, ends, max_len):
    """(hist_item, hist_action), int32 [N, max_len]: for each sample, the actions of its user at
    positions [ends - max_len, ends) that belong to that user, padded in front with 0."""
    positions = _positions(timeline, users, ends, max_len)
    return timeline.item[positions], timeline.action[positions].astype(np.int32)


def gather_seconds(timeline, users, ends, max_len):
    """int64 [N, max_len]: the times in whole seconds of gather's actions, 0 in the padding."""
    positions = _positions(timeline, users, ends, max_len)
    padding = positions == timeline.size
    seconds = timeline.time[np.where(padding, 0, positions)] // 10**9
    seconds[padding] = 0
    return seconds


def user_runs(user):
    """(first row, row count) of each run of equal values in a sorted user array."""
    first = np.ones(len(user), dtype=bool)
    first[1:] = user[1:] != user[:-1]
    starts = np.flatnonzero(first)
    return starts, np.diff(np.append(starts, len(user)))


def run_sequences(timeline, item_cate, users, ends, max_len):
    """(hist_item, hist_cate, hist_action) [R, max_len] for runs of samples sharing a sequence (the
    samples of one user in one window), given each run's user and sequence end."""
    hist_item, hist_action = gather(timeline, users, ends, max_len)
    return hist_item, item_cate[hist_item], hist_action
