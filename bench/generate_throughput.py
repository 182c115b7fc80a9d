"""Demo-log generation throughput, and the loader's speed on the generated log.

    python -m bench.generate_throughput [--actions 10000000] [key=value ...]

A small probe run (demo_scale=0.25) gives the actions per unit of demo_scale; the benchmark then
generates at the demo_scale that gives about --actions actions, then again with the oracle of the newest
label range (make_demo_data.generate_with_oracle: the seconds it adds), writes the tables and the oracle
to a temporary folder, reads the tables back with raw_data.load_raw, and prints each step's seconds and
actions per second, with the process's peak resident memory (getrusage) after each step.
key=value overrides are config.py settings (demo_users, demo_items, demo_seed, ...).
"""
import argparse
import os
import pathlib
import resource
import sys
import tempfile
import time

import configurator
from errors import run_cli
from preprocessing import raw_data
from preprocessing.sources import make_demo_data

PROBE_SCALE = 0.25


def _peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # ru_maxrss is in KiB on Linux


def _timed(step, actions, began):
    seconds = time.perf_counter() - began
    print(f"{step:<9} {seconds:7.1f} s  {actions / seconds:12,.0f} actions/s  peak {_peak_mib():8,.0f} MiB", flush=True)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=10_000_000, help="about how many actions to generate")
    args, overrides = parser.parse_known_args(argv)
    probe = configurator.load(overrides, demo_scale=PROBE_SCALE)
    per_scale = len(make_demo_data.generate(probe)[0]) / PROBE_SCALE
    cfg = configurator.load(overrides, demo_scale=round(args.actions / per_scale, 2))
    print(f"demo_scale={cfg.demo_scale}: {round(cfg.demo_users * cfg.demo_scale)} users, "
          f"{round(cfg.demo_items * cfg.demo_scale)} items, {cfg.demo_start} to {cfg.demo_end}; "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)

    began = time.perf_counter()
    actions = make_demo_data.generate(cfg)[0]
    plain = time.perf_counter() - began
    _timed("generate", len(actions), began)
    began = time.perf_counter()
    (actions, items, users), oracle, oracle_info = make_demo_data.generate_with_oracle(cfg)
    _timed("+ oracle", len(actions), began)
    print(f"the oracle adds {time.perf_counter() - began - plain:.1f} s: {len(oracle):,} pairs, "
          f"{oracle_info['repeats']} re-simulations of {oracle_info['window_days']} days", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        raw_dir = pathlib.Path(folder) / "raw"
        began = time.perf_counter()
        make_demo_data.write(actions, items, users, raw_dir, {"demo_scale": cfg.demo_scale}, oracle, oracle_info)
        _timed("write", len(actions), began)
        n_actions = len(actions)
        del actions, items, users, oracle
        began = time.perf_counter()
        raw = raw_data.load_raw(raw_dir)
        _timed("load_raw", n_actions, began)
        print(f"{n_actions:,} actions, {sum(p.stat().st_size for p in raw.files) / 2**20:,.0f} MiB of Parquet")


if __name__ == "__main__":
    sys.exit(run_cli(main, sys.argv[1:]))
