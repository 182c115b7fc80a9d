"""A Taobao-size log on one machine: time and peak memory of each stage, each in a fresh process.

    python -m bench.taobao_scale --work /tmp/taobao-scale [--stages generate preprocess train]
                                 [--steps 60] [key=value ...]

- generate: a demo log of about 100 million actions, 1 million users and 4 million items
  (demo_scale=66.7, demo_items=60000: the demo's users and ten times its items per user) into
  WORK/raw, without the oracle (its 32 re-simulations are a check of the demo, not a stage).
- preprocess: `python -m preprocessing.pipeline.build_dataset` from WORK/raw into WORK/processed.
- train: DIEN on WORK/processed as main_func.py trains it (the train split loaded into the input
  pipeline, the model built from the feature description, item2vec included): --steps timed steps
  after 5 untimed ones; the samples/s give the time of a whole pass.

Each stage prints wall and CPU seconds and the peak anonymous resident memory of its process tree (sampled
every 20 ms, bench/measure.py). A stage not named reuses WORK's earlier output. key=value overrides
are config.py settings for every stage.
"""
import argparse
import json
import pathlib
import sys
import time

from bench import BATCH
from bench.measure import run_measured

ROOT = pathlib.Path(__file__).resolve().parents[1]

SCALE = {"demo_scale": 66.7, "demo_items": 60_000}
WARMUP_STEPS = 5
STAGES = ("generate", "preprocess", "train")


def generate(overrides):
    """The demo log's tables at the scale above, written to raw_dir without the oracle."""
    import configurator
    from preprocessing.sources import make_demo_data

    cfg = configurator.load(overrides, **SCALE)
    actions, items, users = make_demo_data.generate(cfg)
    make_demo_data.write(actions, items, users, cfg.raw_dir, {k: v for k, v in vars(cfg).items()
                                                              if k.startswith("demo_")})
    return {"actions": len(actions), "items": len(items), "users": len(users)}


def train(overrides, steps):
    """Timed DIEN steps on the processed train split (as main_func.py loads and trains it)."""
    import configurator
    from training.loop.data import load_data
    from training.loop.input_pipeline import make_dataset
    from training.loop.task import build_task

    cfg = configurator.load([BATCH, *overrides], model="DIEN")
    began = time.perf_counter()
    meta, data, item2vec = load_data(cfg)
    samples = len(data["train"]["label_buy"])
    batches = make_dataset(data["train"], meta, cfg.batch_size, shuffle_seed=cfg.seeds[0])
    task = build_task(cfg, meta, item2vec, decay_steps=samples // cfg.batch_size)
    task.fit(batches, epochs=1, steps_per_epoch=WARMUP_STEPS, verbose=0)
    ready = time.perf_counter() - began
    began = time.perf_counter()
    task.fit(batches, epochs=1, steps_per_epoch=steps, verbose=0)
    rate = steps * cfg.batch_size / (time.perf_counter() - began)
    return {"train_samples": samples, "item_vocabulary": meta["vocab_sizes"]["item"],
            "sparse_tables": sorted({f["vocab"] for f in meta["features"] if "vocab" in f
                                     and meta["vocab_sizes"][f["vocab"]] > cfg.sparse_update_above}),
            "load_and_build_seconds": round(ready, 1), "samples_per_second": round(rate),
            "pass_hours": round(samples / rate / 3600, 2)}


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=pathlib.Path, required=True, help="folder for raw/ and processed/")
    parser.add_argument("--stages", nargs="+", choices=STAGES, default=list(STAGES))
    parser.add_argument("--steps", type=int, default=60, help="timed training steps")
    parser.add_argument("--child", choices=("generate", "train"), help=argparse.SUPPRESS)
    args, overrides = parser.parse_known_args(argv)
    overrides = [f"raw_dir={args.work / 'raw'}", f"processed_dir={args.work / 'processed'}", *overrides]
    if args.child == "generate":
        print(json.dumps(generate(overrides)))
        return
    if args.child == "train":
        print(json.dumps(train(overrides, args.steps)))
        return
    commands = {
        "generate": [sys.executable, "-m", "bench.taobao_scale", "--work", str(args.work), "--child", "generate",
                     *overrides],
        "preprocess": [sys.executable, "-m", "preprocessing.pipeline.build_dataset", *overrides],
        "train": [sys.executable, "-m", "bench.taobao_scale", "--work", str(args.work), "--child", "train",
                  f"--steps={args.steps}", *overrides],
    }
    for stage in args.stages:
        run = run_measured(commands[stage], ROOT)
        print(f"{stage}: {run.seconds:,.0f} s wall, {run.cpu_seconds:,.0f} s CPU, peak {run.peak_tree / 2**30:.1f} GiB",
              flush=True)
        for line in run.output.strip().splitlines():
            print(f"    {line}", flush=True)
        if stage == "preprocess":
            arrays = sum(p.stat().st_size for p in (args.work / "processed").rglob("*.npy"))
            print(f"    arrays written: {arrays / 2**30:.1f} GiB", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
