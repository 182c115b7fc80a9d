"""Preprocessing throughput and peak memory on generated demo logs, against a previous version.

    python -m bench.preprocess_throughput [--actions 1000000 10000000 100000000] [--previous DIR]
                                          [--settings default use_item2vec=False] [key=value ...]

For each size, generates a demo log of about that many actions into a temporary folder
(make_demo_data without the oracle, at the demo_scale a small probe says gives that size), then
runs the build (`python -m preprocessing.pipeline.build_dataset`, a fresh process, end to end: start-up,
loading, everything written) once per settings: the default ones and use_item2vec=False. With
--previous DIR (a checkout of an earlier version, e.g. `git worktree add DIR COMMIT`), each build
runs there first and then here, one after the other on the same log (never at once): on a shared
machine the load drifts, and interleaving the two versions makes their ratio fair where the
figures themselves are not.
Prints per run the wall time, actions per second, the CPU seconds of the build and its item2vec
process (when other jobs share the machine the wall time grows, the CPU time much less), the build
process's peak resident memory (getrusage of the child), the peak of the summed anonymous resident
memory of the build and its item2vec process (sampled from /proc every 20 ms), these peaks over the
bytes of the arrays written, and the load average when the run began; then each run's stage lines,
and at the end the table again with this version's wall and CPU time over the previous one's.
Targets: >= 1,000,000 actions/s and peak memory <= 1.5x the arrays written.
key=value overrides are config.py settings, passed to the generator and the builds.
"""
import argparse
import json
import os
import pathlib
import shutil
import sys
import tempfile

import configurator
from bench.measure import run_measured
from errors import PipelineError, run_cli
from preprocessing.sources import make_demo_data

ROOT = pathlib.Path(__file__).resolve().parents[1]

PROBE_SCALE = 0.25
BUILD_MODULES = ("preprocessing.pipeline.build_dataset", "preprocessing.build_dataset")  # this layout, the earlier
SETTINGS = {"default": [], "use_item2vec=False": ["use_item2vec=False"]}
HEADER = (f"{'actions':>11} {'version':<8} {'settings':<18} {'wall s':>7} {'actions/s':>11} {'CPU s':>6} "
          f"{'arrays MiB':>10} {'peak MiB':>9} {'x arrays':>8} {'tree MiB':>9} {'x arrays':>8} {'load':>5}")


def _array_bytes(folder):
    return sum(path.stat().st_size for path in pathlib.Path(folder).rglob("*.npy"))


def generate(overrides):
    """Writes the demo log of the settings into raw_dir without the oracle; returns its action count."""
    cfg = configurator.load(overrides)
    actions, items, users = make_demo_data.generate(cfg)
    make_demo_data.write(actions, items, users, cfg.raw_dir, {k: v for k, v in vars(cfg).items()
                                                              if k.startswith("demo_")})
    return len(actions)


def _row(actions, version, label, run, written, load):
    return (f"{actions:>11,} {version:<8} {label:<18} {run.seconds:7.2f} {actions / run.seconds:11,.0f} "
            f"{run.cpu_seconds:6.1f} {written / 2**20:10,.0f} {run.peak / 2**20:9,.0f} {run.peak / written:8.2f} "
            f"{run.peak_tree / 2**20:9,.0f} {run.peak_tree / written:8.2f} {load:5.1f}")


def build_module(checkout):
    """The build's module in a checkout of this project: preprocessing/ grouped its stages into
    subfolders later, and an earlier version may be compared."""
    for module in BUILD_MODULES:
        if (checkout / (module.replace(".", "/") + ".py")).is_file():
            return module
    raise PipelineError(f"--previous {checkout}: expected a checkout of this project "
                        f"(none of {', '.join(BUILD_MODULES)} there)")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, nargs="+", default=[1_000_000, 10_000_000],
                        help="about how many actions to generate, one log per value")
    parser.add_argument("--previous", type=pathlib.Path,
                        help="checkout of an earlier version, its builds interleaved with this version's")
    parser.add_argument("--settings", nargs="+", choices=list(SETTINGS), default=list(SETTINGS))
    parser.add_argument("--child", choices=("generate",), help=argparse.SUPPRESS)
    args, overrides = parser.parse_known_args(argv)
    if args.child == "generate":
        print(json.dumps(generate(overrides)))
        return
    versions = ([("previous", args.previous.resolve())] if args.previous else []) + [("this", ROOT)]
    builders = {checkout: build_module(checkout) for _, checkout in versions}
    probe = configurator.load(overrides, demo_scale=PROBE_SCALE)
    per_scale = len(make_demo_data.generate(probe)[0]) / PROBE_SCALE
    print(HEADER, flush=True)
    rows, seconds = [], {}
    for target in args.actions:
        with tempfile.TemporaryDirectory() as folder:
            raw_dir = pathlib.Path(folder) / "raw"
            scale = round(target / per_scale, 3)
            made = run_measured([sys.executable, "-m", "bench.preprocess_throughput", "--child", "generate",
                                 f"raw_dir={raw_dir}", f"demo_scale={scale}", *overrides], ROOT)
            actions = json.loads(made.output.strip().splitlines()[-1])
            print(f"generated {actions:,} actions (demo_scale={scale}) in {made.seconds:.0f} s", flush=True)
            for label in args.settings:
                for version, checkout in versions:
                    processed = pathlib.Path(folder) / f"processed-{version}"
                    load = os.getloadavg()[0]
                    run = run_measured([sys.executable, "-m", builders[checkout], f"raw_dir={raw_dir}",
                                        f"processed_dir={processed}", *overrides, *SETTINGS[label]], checkout)
                    written = _array_bytes(processed)
                    shutil.rmtree(processed)  # this run's own output: at 100M actions it is 9 GiB
                    rows.append(_row(actions, version, label, run, written, load))
                    seconds[(actions, label, version)] = (run.seconds, run.cpu_seconds)
                    print(rows[-1], flush=True)
                    for line in run.output.splitlines():
                        print(f"    {line}")
    print("\n" + HEADER)
    print("\n".join(rows))
    if args.previous:
        print(f"\n{'actions':>11} {'settings':<18} {'wall: this / previous':>22} {'CPU: this / previous':>21}")
        for (actions, label, version), (wall, cpu) in seconds.items():
            if version == "this":
                old_wall, old_cpu = seconds[(actions, label, "previous")]
                print(f"{actions:>11,} {label:<18} {wall / old_wall:22.2f} {cpu / old_cpu:21.2f}")


if __name__ == "__main__":
    sys.exit(run_cli(main, sys.argv[1:]))
