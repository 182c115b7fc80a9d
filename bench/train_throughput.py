"""Training throughput of our models and, with --peer, of DeepCTR and deepctr-torch on the same arrays.

    python bench/train_throughput.py [--data DIR] [--peer] [--steps 20] [--warmup-steps 5]
                                     [--repeats 3] [--models DNN,DIN,DIEN,ESSM] [key=value ...]

Every model trains with its library's own fit loop for `--steps` batches after a warm-up pass, in a
process of its own (so peak memory is its own); the figure is the median samples per second over
`--repeats` passes. Ours train through main_func's task (losses, optimiser, XLA setting) on
training/input_pipeline's tf.data batches. The arrays are the processed training split of --data,
or generated arrays shaped like it (vocabularies of `GENERATED_VOCAB`, sequence lengths uniform in
1..max_len). key=value overrides are config.py settings applied to every run of ours.

With --peer, the peers' virtual environments are made (or reused) under bench/.venvs/ from
bench/peers/requirements-*.txt, and DIN and DIEN are compared at the peers' layer sizes (MLP
256-128-64, attention 80-40; the same embedding size, sequence length and batch). A peer that cannot
run is reported with its one-line reason. Results are also written to bench/out/train_throughput.json.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PEERS = BENCH / "peers"
VENVS = BENCH / ".venvs"
OUT = BENCH / "out" / "train_throughput.json"
sys.path[:0] = [str(ROOT), str(PEERS)]

import bench_arrays  # noqa: E402  (found through the paths above)
import timing  # noqa: E402
from errors import run_cli  # noqa: E402

# Vocabulary sizes of the generated arrays (n + 1, index 0 being padding), of a mid-sized real log.
GENERATED_VOCAB = {"item": 50_000, "cate": 500, "brand": 5_000, "shop": 8_000, "vendor": 4_000,
                   "age": 8, "sex": 4, "user_level": 8, "province": 40, "city": 400, "county": 3_000,
                   "action": 6}
GENERATED_DENSE_DIM = 8
TARGET_ACTION = 2
OURS = {"DNN": ["model=DNN"], "DIN": ["model=DIN"], "DIEN": ["model=DIEN"],
        "ESSM": ["model=ESSM", "ctr_model=DIEN", "cvr_model=GRU_DNN"]}
OURS_LABELS = {"ESSM": "ESSM(DIEN, GRU_DNN)"}
# The peers' layer sizes; our models are run at these sizes for the comparison.
PEER_SIZES = {"mlp_units": [256, 128, 64], "attention_units": [80, 40]}
# (model, peer environment, runner script); the runners' docstrings say how each model is run.
PEER_RUNS = [("DIN", "deepctr", "run_deepctr.py"), ("DIN", "deepctr-torch", "run_deepctr_torch.py"),
             ("DIEN", "deepctr", "run_deepctr.py"), ("DIEN", "deepctr-torch", "run_deepctr_torch.py")]
# A module each environment must import once its requirements are in.
PEER_CHECK = {"deepctr": "deepctr, tf_keras", "deepctr-torch": "deepctr_torch, torch"}
RUN_TIMEOUT_S = 1800


def generated_meta(max_len):
    """A feature description of the processed data's form (README, "Processed data")."""
    target = [{"name": name, "kind": "sparse", "vocab": name, "group": "target"} for name in ("item", "cate")]
    item = [{"name": name, "kind": "sparse", "vocab": name, "group": "item"} for name in ("brand", "shop", "vendor")]
    user = [{"name": name, "kind": "sparse", "vocab": name, "group": "user"}
            for name in ("age", "sex", "user_level", "province", "city", "county")]
    sequences = [{"name": f"hist_{vocab}", "kind": "sequence", "vocab": vocab, "max_len": max_len, "target": target}
                 for vocab, target in (("item", "item"), ("cate", "cate"), ("action", None))]
    dense = [{"name": "dense", "kind": "dense", "dim": GENERATED_DENSE_DIM,
              "columns": [f"dense_{i}" for i in range(GENERATED_DENSE_DIM)]}]
    return {"features": target + item + user + sequences + dense, "vocab_sizes": dict(GENERATED_VOCAB),
            "target_action": TARGET_ACTION, "item2vec": None}


def generated_arrays(meta, rows, seed):
    """Random arrays for `meta`: ids uniform over each vocabulary, histories of uniform length padded
    in front, actions 1-5, buys about 2% and interactions about 10% (every buyer interacts)."""
    rng = np.random.default_rng(seed)
    vocab = meta["vocab_sizes"]
    sequences = [f for f in meta["features"] if f["kind"] == "sequence"]
    max_len = sequences[0]["max_len"]
    real = np.arange(max_len)[None, :] >= max_len - rng.integers(1, max_len + 1, size=rows)[:, None]
    arrays = {}
    for feature in meta["features"]:
        name, kind = feature["name"], feature["kind"]
        if kind == "sparse":
            arrays[name] = rng.integers(1, vocab[feature["vocab"]], size=rows, dtype=np.int32)
        elif kind == "sequence":
            ids = rng.integers(1, vocab[feature["vocab"]], size=(rows, max_len), dtype=np.int32)
            arrays[name] = np.where(real, ids, 0).astype(np.int32)
        else:
            arrays[name] = rng.standard_normal((rows, feature["dim"]), dtype=np.float32)
    buy = rng.random(rows) < 0.02
    arrays["label_buy"] = buy.astype(np.float32)
    arrays["label_interact"] = (buy | (rng.random(rows) < 0.08)).astype(np.float32)
    return arrays


def processed_arrays(folder, rows):
    """The training split of a processed-data folder, cycled to `rows` rows."""
    from preprocessing.processed_data import load_meta, load_split

    meta = load_meta(Path(folder))
    split = load_split(Path(folder), "train")
    index = np.arange(rows) % len(split["label_buy"])
    return meta, {name: split[name][index] for name in bench_arrays.array_names(meta)}


def machine():
    """CPU model and the cores this process may use."""
    name = platform.processor() or platform.machine()
    with open("/proc/cpuinfo") as handle:
        for line in handle:
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    return f"{name}, {len(os.sched_getaffinity(0))} cores"


# ------------------------------------------------------------------ one run of ours, in its own process

def train_ours(folder, overrides, args):
    """Samples per second of one of our models, trained as main_func trains it."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    import configurator
    from main_func import build_task
    from training.input_pipeline import make_dataset

    cfg = configurator.load(overrides)
    if cfg.deterministic:
        tf.config.experimental.enable_op_determinism()
    keras.utils.set_random_seed(cfg.seeds[0])
    meta, arrays, sizes = bench_arrays.load_folder(folder)
    # No learning-rate halving within the measured steps: one "pass" is longer than the whole run.
    task = build_task(cfg, meta, None, steps_per_pass=(args.warmup_steps + args.steps * args.repeats) * 10)
    dataset = make_dataset(arrays, meta, cfg.batch_size, shuffle_seed=cfg.seeds[0])

    def train(count):
        task.fit(dataset, epochs=1, steps_per_epoch=count, verbose=0, shuffle=False)

    result = timing.measure(train, cfg.batch_size, args.warmup_steps, args.steps, args.repeats,
                            args.repeat_budget_s)
    result["library"] = "ours"
    result["framework"] = f"Keras {keras.__version__}, TensorFlow {tf.__version__}"
    result["settings"] = overrides
    return result


# ------------------------------------------------------------------ the driver

def timing_options(args):
    return ["--warmup-steps", str(args.warmup_steps), "--steps", str(args.steps),
            "--repeats", str(args.repeats), "--repeat-budget-s", str(args.repeat_budget_s)]


def run_process(command, env=None):
    """Runs one benchmark process; its RESULT line, or {"error": the last line it printed}. The
    machine's load when it started is kept with it, since other work on the CPU skews the figures."""
    load = os.getloadavg()[0]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
                              env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})})
    except subprocess.TimeoutExpired:
        return {"error": f"no result within {RUN_TIMEOUT_S} s"}
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(timing.RESULT_PREFIX):
            return {**json.loads(line[len(timing.RESULT_PREFIX):]), "load_at_start": load}
    last = (done.stderr.strip().splitlines() or done.stdout.strip().splitlines() or ["no output"])[-1]
    return {"error": f"exit {done.returncode}: {last[:300]}", "load_at_start": load}


def run_ours(folder, name, settings, args):
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", folder, *timing_options(args),
               *OURS[name], *settings]
    print(f"  ours {OURS_LABELS.get(name, name)} {' '.join(settings)}", flush=True)
    return run_process(command, env={"PYTHONPATH": str(ROOT)})


def ensure_venv(peer):
    """The peer's python, after making its environment (system packages visible) if it is not usable."""
    venv = VENVS / peer
    python = venv / "bin" / "python"
    check = [str(python), "-c", f"import {PEER_CHECK[peer]}"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    print(f"  making bench/.venvs/{peer}", flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "-r",
                    str(PEERS / f"requirements-{peer}.txt")], check=True)
    subprocess.run(check, check=True)
    return python


def run_peer(folder, peer, script, model, args):
    print(f"  {peer} {model}", flush=True)
    try:
        python = ensure_venv(peer)
    except subprocess.CalledProcessError as err:
        return {"error": f"could not make bench/.venvs/{peer}: {err}"}
    command = [str(python), str(PEERS / script), "--data", folder, "--model", model, *timing_options(args)]
    return run_process(command)


def rate(result):
    return f"{result['samples_per_s']:,.0f}" if "samples_per_s" in result else "-"


def ours_table(results):
    lines = [f"{'model':<21}{'samples/s':>10}  {'each repeat':<22}{'steps':>6}{'peak MB':>9}{'load':>6}"]
    for label, result in results.items():
        if "error" in result:
            lines.append(f"{label:<21}  failed: {result['error']}")
            continue
        repeats = ", ".join(f"{r:,.0f}" for r in result["rates"])
        lines.append(f"{label:<21}{rate(result):>10}  {repeats:<22}{result['steps']:>6}"
                     f"{result['peak_rss_mb']:>9,.0f}{result['load_at_start']:>6.1f}")
    return "\n".join(lines)


def peer_table(pairs, machine_name):
    lines = [f"{'model':<6}{'ours samples/s':>15}  {'peer':<22}{'peer samples/s':>15}{'ours/peer':>10}"
             f"{'load':>6}  machine"]
    for pair in pairs:
        ours, peer = pair["ours"], pair["peer_result"]
        ratio = (f"{ours['samples_per_s'] / peer['samples_per_s']:.2f}"
                 if "samples_per_s" in ours and "samples_per_s" in peer else "-")
        lines.append(f"{pair['model']:<6}{rate(ours):>15}  {peer.get('library', pair['peer']):<22}{rate(peer):>15}"
                     f"{ratio:>10}{peer['load_at_start']:>6.1f}  {machine_name}")
        if "error" in peer:
            lines.append(f"        {pair['peer']} {pair['model']} cannot run: {peer['error']}")
        if "error" in ours:
            lines.append(f"        ours {pair['model']} failed: {ours['error']}")
    frameworks = {pair["peer"]: pair["peer_result"]["framework"]
                  for pair in pairs if "framework" in pair["peer_result"]}
    lines.append("peers on " + "; ".join(f"{peer}: {framework}" for peer, framework in frameworks.items())
                 + "; DIEN as the libraries' examples run it: AUGRU with the auxiliary net (negative sampling)")
    return "\n".join(lines)


def write_results(report):
    OUT.parent.mkdir(parents=True, exist_ok=True)
    partial = OUT.with_suffix(".json.partial")
    partial.write_text(json.dumps(report, indent=1))
    partial.replace(OUT)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="processed-data folder (meta.json, train/); default: generated arrays")
    parser.add_argument("--peer", action="store_true", help="also run DeepCTR and deepctr-torch")
    parser.add_argument("--models", default=",".join(OURS), help=f"ours to run, from {','.join(OURS)}")
    parser.add_argument("--warmup-steps", type=int, default=5)
    parser.add_argument("--steps", type=int, default=20, help="measured training steps per repeat")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--repeat-budget-s", type=float, default=30.0,
                        help="a slower model runs fewer steps per repeat (at least 3) to stay near this")
    parser.add_argument("--worker", metavar="FOLDER", help=argparse.SUPPRESS)
    parser.add_argument("settings", nargs="*", help="config.py overrides key=value for ours")
    args = parser.parse_args(argv)
    unknown = set(args.models.split(",")) - set(OURS)
    if unknown:
        parser.error(f"--models: unknown {', '.join(sorted(unknown))}; valid: {', '.join(OURS)}")
    if min(args.warmup_steps, args.steps, args.repeats) < 1:
        parser.error("--warmup-steps, --steps and --repeats must be at least 1")
    return args


def main(argv):
    args = parse_args(argv)
    if args.worker:
        timing.run_guarded(lambda: train_ours(args.worker, args.settings, args))
        return
    import configurator

    cfg = configurator.load(args.settings)
    rows = max(args.warmup_steps, args.steps) * cfg.batch_size
    if args.data:
        meta, arrays = processed_arrays(args.data, rows)
        source = f"training split of {args.data}, cycled to {rows} rows"
    else:
        meta = generated_meta(cfg.max_len)
        arrays = generated_arrays(meta, rows, seed=cfg.seeds[0])
        source = f"{rows} generated rows, sequence lengths uniform in 1..{cfg.max_len}"
    sizes = {"embed_dim": cfg.embed_dim, "batch_size": cfg.batch_size, **PEER_SIZES}
    machine_name = machine()
    print(f"{machine_name}; {source}; batch {cfg.batch_size}, embedding {cfg.embed_dim}; "
          f"{args.steps} steps after {args.warmup_steps} warm-up, median of {args.repeats}", flush=True)
    report = {"machine": machine_name, "data": source, "steps": args.steps, "warmup_steps": args.warmup_steps,
              "repeats": args.repeats, "settings": args.settings, "time": time.strftime("%Y-%m-%d %H:%M:%S"),
              "ours": {}, "pairs": []}
    with tempfile.TemporaryDirectory(prefix="train_throughput-") as folder:
        bench_arrays.write_folder(folder, meta, arrays, sizes)
        for name in args.models.split(","):
            report["ours"][OURS_LABELS.get(name, name)] = run_ours(folder, name, args.settings, args)
        if args.peer:
            peer_settings = [f"{key}={json.dumps(value).replace(' ', '')}" for key, value in PEER_SIZES.items()]
            ours_at_peer_sizes = {model: run_ours(folder, model, args.settings + peer_settings, args)
                                  for model in dict.fromkeys(model for model, *_ in PEER_RUNS)}
            for model, peer, script in PEER_RUNS:
                result = run_peer(folder, peer, script, model, args)
                report["pairs"].append({"model": model, "ours": ours_at_peer_sizes[model], "peer": peer,
                                        "peer_result": result})
    write_results(report)
    frameworks = {result["framework"] for result in report["ours"].values() if "framework" in result}
    print(f"\nOurs ({', '.join(frameworks)}; settings of config.py"
          f"{' with ' + ' '.join(args.settings) if args.settings else ''}):")
    print(ours_table(report["ours"]))
    if args.peer:
        print("\nOurs against peers (same arrays; MLP 256-128-64, attention 80-40):")
        print(peer_table(report["pairs"], machine_name))
    print(f"\nwritten to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(run_cli(main, sys.argv[1:]))
