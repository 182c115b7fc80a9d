"""Preprocessing throughput and peak memory on generated demo logs.

    python bench/preprocess_throughput.py [--actions 1000000 10000000] [key=value ...]

For each size, generates a demo log of about that many actions into a temporary folder
(make_demo_data, at the demo_scale a small probe says gives that size), then runs the build
(`python -m preprocessing.build_dataset`, a fresh process, end to end: start-up, loading,
everything written) twice: with the default settings and with use_item2vec=False. Prints per run
the wall time, actions per second, the CPU seconds of the build and its item2vec process (when
other jobs share the machine the wall time grows, the CPU time much less), the build process's
peak resident memory (getrusage of the child), the peak of the summed anonymous resident memory of the
build and its item2vec process (sampled from /proc every 20 ms), and these peaks over the bytes
of the arrays written.
Targets: >= 1,000,000 actions/s and peak memory <= 3x the arrays written.
key=value overrides are config.py settings, passed to the generator and the build.
"""
import argparse
import pathlib
import subprocess
import sys
import tempfile

import pandas as pd

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import configurator  # noqa: E402  (found through the path above)
from errors import run_cli  # noqa: E402
from measure import run_measured  # noqa: E402
from preprocessing import make_demo_data  # noqa: E402

PROBE_SCALE = 0.25


def _array_bytes(folder):
    return sum(path.stat().st_size for path in pathlib.Path(folder).rglob("*.npy"))


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, nargs="+", default=[1_000_000, 10_000_000],
                        help="about how many actions to generate, one run per value")
    args, overrides = parser.parse_known_args(argv)
    probe = configurator.load(overrides, demo_scale=PROBE_SCALE)
    per_scale = len(make_demo_data.generate(probe)[0]) / PROBE_SCALE
    print(f"{'actions':>11} {'settings':<18} {'wall s':>7} {'actions/s':>11} {'CPU s':>6} {'arrays MiB':>10} "
          f"{'peak MiB':>9} {'x arrays':>8} {'tree MiB':>9} {'x arrays':>8}", flush=True)
    for target in args.actions:
        with tempfile.TemporaryDirectory() as folder:
            raw_dir = pathlib.Path(folder) / "raw"
            scale = round(target / per_scale, 3)
            subprocess.run([sys.executable, "-m", "preprocessing.make_demo_data", f"raw_dir={raw_dir}",
                            f"demo_scale={scale}", *overrides], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
            actions = len(pd.read_parquet(raw_dir / "actions.parquet", columns=["action_type"]))
            for label, extra in (("default", []), ("use_item2vec=False", ["use_item2vec=False"])):
                processed = pathlib.Path(folder) / f"processed-{label}"
                run = run_measured([sys.executable, "-m", "preprocessing.build_dataset", f"raw_dir={raw_dir}",
                                    f"processed_dir={processed}", *overrides, *extra], ROOT)
                seconds, cpu, peak, tree, output = run.seconds, run.cpu_seconds, run.peak, run.peak_tree, run.output
                written = _array_bytes(processed)
                print(f"{actions:>11,} {label:<18} {seconds:7.2f} {actions / seconds:11,.0f} {cpu:6.1f} "
                      f"{written / 2**20:10,.0f} "
                      f"{peak / 2**20:9,.0f} {peak / written:8.2f} {tree / 2**20:9,.0f} {tree / written:8.2f}",
                      flush=True)
                for line in output.splitlines():
                    print(f"    {line}")


if __name__ == "__main__":
    sys.exit(run_cli(main, sys.argv[1:]))
