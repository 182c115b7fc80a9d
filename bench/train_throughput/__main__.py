"""Training throughput of our models and, with --peer, of DeepCTR and deepctr-torch on the same arrays.

    python -m bench.train_throughput [--data DIR] [--peer] [--models DNN,DIN,DIEN,ESSM] [--steps 20]
                                     [--warmup-steps 5] [--repeats 3] [--repeat-budget-s 30] [key=value ...]
    python -m bench.train_throughput --profile DIEN [--steps 3] [key=value ...]

Every model trains with its library's own fit loop, once, in a process of its own (so peak memory is
its own): after `--warmup-steps` untimed steps, `--repeats` spans of `--steps` steps each are timed
inside that run (fewer steps, but at least 3, for a model whose span would take longer than
`--repeat-budget-s`; see bench/peers/timing.py); the figure is the median samples per second. Ours
train through main_func.py's task (losses, optimiser, XLA setting) on training/loop/input_pipeline's
tf.data batches; key=value overrides are config.py settings for ours.
The arrays are the processed training split of --data, or generated arrays of the same form
(bench_data.py: vocabularies up to 50,000 items, sequence lengths uniform in 1..max_len).

--peer makes (or reuses) the peers' virtual environments under bench/.venvs/ and compares DIN and
DIEN with the peers at the peers' layer sizes (MLP 256-128-64, attention 80-40) and the same
embedding size, sequence length and batch; a peer that cannot run is reported with its reason.
--profile traces a few training steps of one of ours and prints where their time goes.
Results are also written to bench/out/train_throughput.json. Other work on the CPU skews every
figure: each run's load average at its start is printed with it.
"""
import argparse
import json
import os
import sys
import tempfile
import time

from bench import BATCH
from bench.peers import bench_arrays, timing
from bench.train_throughput import bench_data
from bench.train_throughput.peer_runs import PEER_NAMES, PEER_RUNS, PEER_SIZES, run_peer
from bench.train_throughput.processes import ROOT, run_process, timing_options
from errors import run_cli

OUT = ROOT / "bench" / "out" / "train_throughput.json"
OURS = {"DNN": ["model=DNN"], "DIN": ["model=DIN"], "DIEN": ["model=DIEN"],
        "ESSM": ["model=ESSM", "ctr_model=DIEN", "cvr_model=GRU_DNN"]}
OURS_LABELS = {"ESSM": "ESSM(DIEN, GRU_DNN)"}


def machine():
    """CPU model and the cores this process may use."""
    name = "unknown CPU"
    with open("/proc/cpuinfo") as handle:
        for line in handle:
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    return f"{name}, {len(os.sched_getaffinity(0))} cores"


def run_ours(folder, name, settings, args):
    print(f"  ours {OURS_LABELS.get(name, name)} {' '.join(settings)}", flush=True)
    return run_process([sys.executable, "-m", "bench.train_throughput", "--worker", folder,
                        *timing_options(args), *OURS[name], *settings])


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
             f"{'load ours/peer':>16}  machine"]
    for pair in pairs:
        ours, peer = pair["ours"], pair["peer_result"]
        ratio = (f"{ours['samples_per_s'] / peer['samples_per_s']:.2f}"
                 if "samples_per_s" in ours and "samples_per_s" in peer else "-")
        name = peer.get("library", PEER_NAMES[pair["peer"]])
        lines.append(f"{pair['model']:<6}{rate(ours):>15}  {name:<22}{rate(peer):>15}{ratio:>10}"
                     f"{ours['load_at_start']:>10.1f}/{peer['load_at_start']:<5.1f}  {machine_name}")
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
    parser = argparse.ArgumentParser(prog="python -m bench.train_throughput", description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="processed-data folder (meta.json, train/); default: generated arrays")
    parser.add_argument("--peer", action="store_true", help="also run DeepCTR and deepctr-torch")
    parser.add_argument("--models", default=",".join(OURS), help=f"ours to run, from {','.join(OURS)}")
    parser.add_argument("--profile", choices=list(OURS), help="print where the training steps of this model go")
    parser.add_argument("--warmup-steps", type=int, default=5)
    parser.add_argument("--steps", type=int, default=20, help="measured (or profiled) training steps")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--repeat-budget-s", type=float, default=30.0,
                        help="a slower model runs fewer steps per repeat (at least 3) to stay near this")
    parser.add_argument("--worker", metavar="FOLDER", help=argparse.SUPPRESS)
    parser.add_argument("settings", nargs="*", help="config.py overrides key=value for ours")
    args = parser.parse_args(argv)
    unknown = set(args.models.split(",")) - set(OURS)
    if unknown:
        parser.error(f"--models: unknown {', '.join(sorted(unknown))}; valid: {', '.join(OURS)}")
    if min(args.steps, args.repeats) < 1 or args.warmup_steps < 2:
        parser.error("--steps and --repeats must be at least 1, --warmup-steps at least 2")
    return args


def write_arrays(folder, args):
    """Writes the benchmark's arrays into `folder`; returns what they are, in words."""
    import configurator

    cfg = configurator.load([BATCH, *args.settings])
    rows = (args.warmup_steps + args.steps * args.repeats) * cfg.batch_size  # every run, without a second pass
    if args.data:
        meta, arrays = bench_data.processed_arrays(args.data, rows)
        source = f"training split of {args.data}, cycled to {rows} rows"
    else:
        meta = bench_data.generated_meta(cfg.max_len)
        arrays = bench_data.generated_arrays(meta, rows, seed=cfg.seeds[0])
        source = f"{rows} generated rows, sequence lengths uniform in 1..{cfg.max_len}"
    sizes = {"embed_dim": cfg.embed_dim, "batch_size": cfg.batch_size, **PEER_SIZES}
    bench_arrays.write_folder(folder, meta, arrays, sizes)
    return f"{source}; batch {cfg.batch_size}, embedding {cfg.embed_dim}"


def benchmark(folder, args, source):
    machine_name = machine()
    print(f"{machine_name}; {source}; {args.steps} steps after {args.warmup_steps} warm-up, "
          f"median of {args.repeats}", flush=True)
    report = {"machine": machine_name, "data": source, "steps": args.steps, "warmup_steps": args.warmup_steps,
              "repeats": args.repeats, "settings": args.settings, "time": time.strftime("%Y-%m-%d %H:%M:%S"),
              "ours": {}, "pairs": []}
    for name in args.models.split(","):
        report["ours"][OURS_LABELS.get(name, name)] = run_ours(folder, name, args.settings, args)
    if args.peer:
        peer_settings = [f"{key}={json.dumps(value).replace(' ', '')}" for key, value in PEER_SIZES.items()]
        ours_at_peer_sizes = {}
        for model, peer, script in PEER_RUNS:
            # ours just before its peers, so that both meet much the same load from other work
            if model not in ours_at_peer_sizes:
                ours_at_peer_sizes[model] = run_ours(folder, model, args.settings + peer_settings, args)
            report["pairs"].append({"model": model, "ours": ours_at_peer_sizes[model], "peer": peer,
                                    "peer_result": run_peer(folder, peer, script, model, args)})
    write_results(report)
    frameworks = {result["framework"] for result in report["ours"].values() if "framework" in result}
    print(f"\nOurs ({', '.join(frameworks)}; settings of config.py"
          f"{' with ' + ' '.join(args.settings) if args.settings else ''}):")
    print(ours_table(report["ours"]))
    if args.peer:
        print(f"\nOurs against peers (same arrays; MLP {PEER_SIZES['mlp_units']}, "
              f"attention {PEER_SIZES['attention_units']}):")
        print(peer_table(report["pairs"], machine_name))
    print(f"\nwritten to {OUT.relative_to(ROOT)}")


def main(argv):
    args = parse_args(argv)
    if args.worker:
        from bench.train_throughput.our_models import throughput

        timing.run_guarded(lambda: throughput(args.worker, args.settings, args))
        return
    with tempfile.TemporaryDirectory(prefix="train_throughput-") as folder:
        source = write_arrays(folder, args)
        if args.profile:
            from bench.train_throughput.op_profile import profile

            print(f"{machine()}; {source}\n{OURS_LABELS.get(args.profile, args.profile)}:", flush=True)
            print(profile(folder, OURS[args.profile] + args.settings, args))
        else:
            benchmark(folder, args, source)


if __name__ == "__main__":
    sys.exit(run_cli(main, sys.argv[1:]))
