"""Each benchmark run is a process of its own (so its peak memory is its own); this starts one and
reads back its result line."""
import json
import os
import subprocess
from pathlib import Path

from bench.peers import timing

ROOT = Path(__file__).resolve().parents[2]  # where `python -m bench.train_throughput` runs from
RUN_TIMEOUT_S = 1800


def timing_options(args):
    """The command-line options that pass the timing settings on to a run."""
    return ["--warmup-steps", str(args.warmup_steps), "--steps", str(args.steps),
            "--repeats", str(args.repeats), "--repeat-budget-s", str(args.repeat_budget_s)]


def run_process(command, env=None):
    """Runs one benchmark process; its result, or {"error": the last line it printed}. The machine's
    load when it started is kept with it, since other work on the CPU skews the figures."""
    load = os.getloadavg()[0]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, cwd=ROOT,
                              env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})})
    except subprocess.TimeoutExpired:
        return {"error": f"no result within {RUN_TIMEOUT_S} s", "load_at_start": load}
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(timing.RESULT_PREFIX):
            return {**json.loads(line[len(timing.RESULT_PREFIX):]), "load_at_start": load}
    last = (done.stderr.strip().splitlines() or done.stdout.strip().splitlines() or ["no output"])[-1]
    return {"error": f"exit {done.returncode}: {last[:300]}", "load_at_start": load}
