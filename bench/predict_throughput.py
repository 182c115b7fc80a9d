"""Scoring throughput against training throughput of the same model (target: scoring at least 5x).

    python -m bench.predict_throughput [--models DNN,DIN,DIEN,ESSM] [--rows 32768] [--steps 10] [key=value ...]

For each model, on the generated arrays of bench/train_throughput (default sizes: batch 2048,
sequence length 100, vocabularies up to 50,000 items): training samples per second of main_func's
task (`fit`, after warm-up steps) and scoring samples per second the way the forecast scores
(training.loop.input_pipeline batches of eval_batch_size into `predict`, after one warm-up pass).
key=value arguments are config.py settings. Other work on the CPU skews both figures: the load
average is printed with them.
"""
import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402  (after the log setting above, like the imports below)

import configurator  # noqa: E402
from bench import BATCH  # noqa: E402
from bench.train_throughput.bench_data import generated_arrays, generated_meta  # noqa: E402
from training.loop.input_pipeline import make_dataset  # noqa: E402
from training.loop.task import build_task  # noqa: E402

MODELS = {"DNN": ["model=DNN"], "DIN": ["model=DIN"], "DIEN": ["model=DIEN"],
          "ESSM": ["model=ESSM", "ctr_model=DIEN", "cvr_model=GRU_DNN"]}
WARMUP_STEPS = 3


def training_rate(task, arrays, meta, cfg, steps):
    batches = make_dataset(arrays, meta, cfg.batch_size, shuffle_seed=0)
    task.fit(batches, epochs=1, steps_per_epoch=WARMUP_STEPS, verbose=0)
    began = time.perf_counter()
    task.fit(batches, epochs=1, steps_per_epoch=steps, verbose=0)
    return steps * cfg.batch_size / (time.perf_counter() - began)


def scoring_rate(net, arrays, meta, cfg):
    batches = make_dataset(arrays, meta, cfg.eval_batch_size)
    net.predict(batches, verbose=0)
    began = time.perf_counter()
    net.predict(batches, verbose=0)
    return len(arrays["label_buy"]) / (time.perf_counter() - began)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--rows", type=int, default=32768, help="samples scored (and cycled through in training)")
    parser.add_argument("--steps", type=int, default=10, help="timed training steps")
    args, settings = parser.parse_known_args(argv)
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'model':<8}{'train samples/s':>18}{'score samples/s':>18}{'score / train':>15}")
    for name in args.models.split(","):
        cfg = configurator.load([BATCH] + MODELS[name] + settings)
        keras.utils.set_random_seed(0)
        meta = generated_meta(cfg.max_len)
        arrays = generated_arrays(meta, args.rows, seed=0)
        task = build_task(cfg, meta, None, decay_steps=1_000_000)
        train = training_rate(task, arrays, meta, cfg, args.steps)
        score = scoring_rate(task.net, arrays, meta, cfg)
        print(f"{name:<8}{train:>18,.0f}{score:>18,.0f}{score / train:>15.1f}", flush=True)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main(sys.argv[1:])
