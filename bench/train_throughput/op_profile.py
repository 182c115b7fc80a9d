"""Where a training step of ours spends its time: TensorFlow's profiler over a few steps, its op
events summed by phase (forward, backward, optimiser), by layer and by op type.

Times are those of the ops on TensorFlow's inter-op threads (they overlap when ops run side by side,
so they may add up to more than the wall time); op counts per step show how much of a step is
many small ops, the cost that fused kernels and XLA remove.
"""
import collections
import re
import tempfile
import time
from pathlib import Path

import tensorflow as tf
from tensorflow.tsl.profiler.protobuf import xplane_pb2

from bench.train_throughput.our_models import prepared_training

# Ops that only run other ops (their time is the nested ops' time).
CONTAINER_OPS = {"While", "StatelessWhile", "If", "StatelessIf", "PartitionedCall", "StatefulPartitionedCall"}
# Loops at the top of the step, outside every layer's scope: hand-written (custom-gradient) backward passes.
TOP_LEVEL_LOOP = re.compile(r"^while(_\d+)?/")


def op_events(logdir):
    """(op path, op type, seconds) of every op run on TensorFlow's compute threads in the trace."""
    space = xplane_pb2.XSpace()
    space.ParseFromString(next(Path(logdir).rglob("*.xplane.pb")).read_bytes())
    events = []
    for plane in space.planes:
        if plane.name != "/host:CPU":
            continue
        for line in plane.lines:
            if not line.name.startswith("tf_Compute"):
                continue
            for event in line.events:
                name = plane.event_metadata[event.metadata_id].name
                path, colon, op_type = name.rpartition(":")
                if colon and "::" not in name and op_type not in CONTAINER_OPS:
                    events.append((path, op_type, event.duration_ps / 1e12))
    return events


def _layer_parts(path):
    """Layer names along an op's scope, without Keras's call-count suffixes and loop internals;
    a loop body repeats the scope, so the walk stops at the first name seen again."""
    parts = []
    for part in path.split("/"):
        part = re.sub(r"(_\d+)+$", "", part)
        if part in parts:
            break
        if part and part not in ("while", "body", "cond") and not part.startswith("_"):
            parts.append(part)
    return parts


def classify(path, depth):
    """(phase, layer) of an op path from the trace."""
    path = path.removeprefix("StatefulPartitionedCall/")
    if path.startswith("adam/"):
        return "optimizer", "adam"
    if path.startswith("gradient_tape/"):
        phase, path = "backward", path.removeprefix("gradient_tape/")
    elif TOP_LEVEL_LOOP.match(path):
        return "backward", "custom-gradient loops"
    else:
        phase = "forward"
    parts = _layer_parts(path)
    if not parts or not parts[0].startswith("purchase_task"):
        return ("other" if phase == "forward" else phase), "outside layers: gradient glue, embedding sums, loss"
    return phase, "/".join(parts[1:1 + depth]) or "task"


def summary(events, steps, wall_s, depth=3, top=15):
    """The printed profile."""
    by_phase, by_layer, by_type = (collections.defaultdict(lambda: [0.0, 0]) for _ in range(3))
    for path, op_type, seconds in events:
        phase, layer = classify(path, depth)
        for table, key in ((by_phase, phase), (by_layer, (phase, layer)), (by_type, op_type)):
            table[key][0] += seconds
            table[key][1] += 1
    total = sum(seconds for _, _, seconds in events) or 1.0
    lines = [f"{steps} steps, {wall_s / steps:.2f} s a step (wall); op time {total / steps:.2f} s a step, "
             f"{len(events) / steps:,.0f} ops a step"]

    def rows(title, table, label, limit):
        lines.append(f"\n{title:<66}{'s/step':>8}{'share':>7}{'ops/step':>10}")
        for key, (seconds, count) in sorted(table.items(), key=lambda item: -item[1][0])[:limit]:
            lines.append(f"  {label(key):<64}{seconds / steps:>8.3f}{seconds / total:>7.0%}{count / steps:>10,.0f}")

    rows("phase", by_phase, str, top)
    rows("phase, layer", by_layer, lambda key: f"{key[0]:<10}{key[1]}", top)
    rows("op type", by_type, str, top)
    return "\n".join(lines)


def profile(folder, overrides, args):
    """Traces `args.steps` training steps of the model of `overrides` after the warm-up and returns
    the printed profile."""
    task, dataset, _ = prepared_training(folder, overrides)
    task.fit(dataset, epochs=1, steps_per_epoch=args.warmup_steps, verbose=0, shuffle=False)
    with tempfile.TemporaryDirectory(prefix="train_profile-") as logdir:
        tf.profiler.experimental.start(logdir)
        start = time.perf_counter()
        task.fit(dataset, epochs=1, steps_per_epoch=args.steps, verbose=0, shuffle=False)
        wall_s = time.perf_counter() - start
        tf.profiler.experimental.stop()
        events = op_events(logdir)
    return summary(events, args.steps, wall_s)
