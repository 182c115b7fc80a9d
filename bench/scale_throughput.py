"""Training samples/s and peak memory of DIEN against the item vocabulary: does a step's cost grow
with the item table, with its gradient dense (as large as the table) and with it sparse (the rows of
the batch, lazy Adam)?

    python -m bench.scale_throughput [--items 50000 4000000] [--rows 16384] [--steps 10] [key=value ...]

Each vocabulary and gradient kind trains in a fresh process (so its peak memory is its own) on
generated arrays of the processed-data form (bench/train_throughput/bench_data.py, item ids uniform
over the vocabulary): after 3 untimed steps, --steps steps are timed one by one and their median counts. The item table is made dense
or sparse through sparse_update_above; the other tables stay dense. key=value overrides are
config.py settings. A whole Taobao-size log: python -m bench.taobao_scale.
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench import BATCH

ROOT = Path(__file__).resolve().parents[1]
WARMUP_STEPS = 3


def one_vocabulary(items, rows, steps, overrides):
    """(samples per second, peak resident bytes) of DIEN with `items` item ids, in this process."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import configurator
    import keras
    from bench.train_throughput import bench_data
    from training.loop.input_pipeline import make_dataset
    from training.loop.task import build_task

    cfg = configurator.load([BATCH, *overrides], model="DIEN")
    meta = bench_data.generated_meta(cfg.max_len)
    meta["vocab_sizes"]["item"] = items
    arrays = bench_data.generated_arrays(meta, rows, seed=0)
    task = build_task(cfg, meta, None, decay_steps=max(1, rows // cfg.batch_size))
    batches = make_dataset(arrays, meta, cfg.batch_size, shuffle_seed=0)

    class StepTimer(keras.callbacks.Callback):
        """Each step's seconds: their median ignores a slow one (another process's burst)."""

        def __init__(self):
            super().__init__()
            self.seconds = []

        def on_train_batch_begin(self, batch, logs=None):
            self.began = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            self.seconds.append(time.perf_counter() - self.began)

    timer = StepTimer()
    task.fit(batches, epochs=1, steps_per_epoch=WARMUP_STEPS + steps, verbose=0, callbacks=[timer])
    return cfg.batch_size / statistics.median(timer.seconds[WARMUP_STEPS:]), \
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, nargs="+", default=[50_000, 4_000_000])
    parser.add_argument("--rows", type=int, default=16_384)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # the child process's vocabulary
    args, overrides = parser.parse_known_args(argv)
    if args.one:
        print(json.dumps(one_vocabulary(args.one, args.rows, args.steps, overrides)))
        return
    print(f"load average {os.getloadavg()[0]:.1f}; DIEN, {args.rows} generated rows, {args.steps} timed steps")
    print(f"{'items':>10} {'item table':>10} {'samples/s':>10} {'peak MiB':>9}", flush=True)
    for items in args.items:
        for kind, above in (("dense", items), ("sparse", items - 1)):
            child = subprocess.run([sys.executable, "-m", "bench.scale_throughput", f"--one={items}",
                                    f"--rows={args.rows}", f"--steps={args.steps}", *overrides,
                                    f"sparse_update_above={above}"], capture_output=True, text=True, check=True,
                                   cwd=ROOT)
            rate, peak = json.loads(child.stdout.strip().splitlines()[-1])
            print(f"{items:>10,} {kind:>10} {rate:10,.0f} {peak / 2**20:9,.0f}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
