"""Importer throughput on a generated log in the Taobao UserBehavior format.

    python -m bench.import_throughput [--rows 10000000] [--chunk-mb 16 64 256] [--figure PATH]

Writes a Taobao-format file (no header; user_id,item_id,category_id,behavior_type,timestamp) into a
temporary folder, sized like a tenth of the real log per 10 million rows (about 100,000 users,
416,000 items, 9,400 categories; behaviour shares and a few rows outside the span and items filed
under two categories as in the real file), then runs `python -m preprocessing.sources.importers taobao` on
it in a fresh process once per chunk_mb, printing wall seconds, rows per second and the process's
peak resident memory (from wait4). --figure writes a PNG of rows/s and peak memory against chunk_mb
(needs matplotlib).
"""
import argparse
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

ROOT = pathlib.Path(__file__).resolve().parents[1]
USERS_PER_ROW, ITEMS_PER_ROW, CATEGORIES_PER_ROW = 0.0099, 0.0416, 0.000094  # the real log's ratios
BEHAVIOURS = np.array(["pv", "cart", "fav", "buy"])
SHARES = [0.895, 0.055, 0.030, 0.020]  # the real log's behaviour shares
SPAN = (1511539200, 1511539200 + 9 * 86400)  # 2017-11-25..2017-12-03, China time, as Unix seconds
OUTSIDE = 0.0005  # share of rows with times outside the span
OTHER_CATEGORY = 0.001  # share of rows whose item is filed under a second category
WRITE_ROWS = 2_000_000


def generate(path, rows, seed=649):
    """The Taobao-format file, written in parts so its generation stays small in memory."""
    rng = np.random.default_rng(seed)
    n_users = max(1, int(rows * USERS_PER_ROW))
    n_items = max(1, int(rows * ITEMS_PER_ROW))
    n_categories = max(1, int(rows * CATEGORIES_PER_ROW))
    category_of = rng.integers(1, n_categories + 1, n_items)
    options = pacsv.WriteOptions(include_header=False, quoting_style="none")
    with pacsv.CSVWriter(path, pa.schema([("user_id", pa.int64()), ("item_id", pa.int64()), ("category_id", pa.int64()),
                                          ("behavior_type", pa.string()), ("timestamp", pa.int64())]),
                         write_options=options) as writer:
        for start in range(0, rows, WRITE_ROWS):
            n = min(WRITE_ROWS, rows - start)
            items = np.minimum(rng.zipf(1.3, n), n_items)  # long-tailed item popularity
            items = rng.permutation(n_items)[items - 1] + 1
            categories = np.where(rng.random(n) < OTHER_CATEGORY, rng.integers(1, n_categories + 1, n),
                                  category_of[items - 1])
            times = rng.integers(*SPAN, n)
            outside = rng.random(n) < OUTSIDE
            times[outside] -= 86400 * rng.integers(1, 30, int(outside.sum()))
            writer.write_table(pa.table({
                "user_id": rng.integers(1, n_users + 1, n), "item_id": items, "category_id": categories,
                "behavior_type": BEHAVIOURS[rng.choice(4, n, p=SHARES)], "timestamp": times}))


def run_import(source, raw_dir, chunk_mb):
    """(wall seconds, peak resident MiB, the importer's output) of one import in a fresh process."""
    began = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "preprocessing.sources.importers", "taobao", str(source),
                                f"raw_dir={raw_dir}", f"chunk_mb={chunk_mb}"], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - began
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"import failed: {output}")
    return seconds, usage.ru_maxrss / 1024, output


def figure(path, results, rows):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    chunks = [r[0] for r in results]
    fig, left = plt.subplots(figsize=(6, 3.6), dpi=120)
    left.plot(chunks, [rows / r[1] / 1e6 for r in results], "o-", color="tab:blue")
    left.set_xscale("log", base=2)
    left.set_xticks(chunks, [str(c) for c in chunks])
    left.set_xlabel("chunk_mb (MiB of CSV text per chunk)")
    left.set_ylabel("million rows per second", color="tab:blue")
    left.set_ylim(bottom=0)
    right = left.twinx()
    right.plot(chunks, [r[2] for r in results], "s--", color="tab:red")
    right.set_ylabel("peak memory (MiB)", color="tab:red")
    right.set_ylim(bottom=0)
    left.set_title(f"Taobao import of {rows / 1e6:.0f} M generated rows, load {os.getloadavg()[0]:.1f}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--chunk-mb", type=int, nargs="+", default=[16, 64, 256])
    parser.add_argument("--figure", type=pathlib.Path, help="PNG of rows/s and peak memory against chunk_mb")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="import_bench.") as folder:
        source = pathlib.Path(folder) / "UserBehavior.csv"
        began = time.perf_counter()
        generate(source, args.rows)
        print(f"generated {args.rows:,} rows ({source.stat().st_size / 2**20:,.0f} MiB) in "
              f"{time.perf_counter() - began:.1f} s; load average {os.getloadavg()[0]:.2f}", flush=True)
        results = []
        for chunk_mb in args.chunk_mb:
            seconds, peak, output = run_import(source, pathlib.Path(folder) / f"raw_{chunk_mb}", chunk_mb)
            results.append((chunk_mb, seconds, peak))
            print(f"chunk_mb={chunk_mb:<6g} {seconds:6.1f} s  {args.rows / seconds:12,.0f} rows/s  peak {peak:7,.0f} MiB  "
                  f"load {os.getloadavg()[0]:.2f}", flush=True)
        print(output.splitlines()[0])
    if args.figure:
        figure(args.figure, results, args.rows)
        print(f"figure: {args.figure}")


if __name__ == "__main__":
    main(sys.argv[1:])
