"""How every benchmark run is timed and how it reports back to bench/train_throughput.py."""
import json
import re
import resource
import sys
import time
import traceback

import numpy as np

RESULT_PREFIX = "RESULT "
MIN_STEPS = 3


def measure(train, batch_size, warmup_steps, steps, repeats, repeat_budget_s):
    """Training samples per second of `train(n)` (one call of the library's own fit over n batches).

    Warm-up: one step (tracing, allocation), one timed step that estimates the step time, then the
    rest of `warmup_steps`. Each repeat runs `steps` steps, or fewer (not under MIN_STEPS) where
    they would take longer than `repeat_budget_s`; the warm-up is capped the same way. The figure
    is the median over `repeats`, with the process's peak memory so far.
    """
    train(1)
    start = time.perf_counter()
    train(1)
    affordable = max(MIN_STEPS, int(repeat_budget_s / (time.perf_counter() - start)))
    if min(warmup_steps, affordable) > 2:
        train(min(warmup_steps, affordable) - 2)
    steps = min(steps, affordable)
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        train(steps)
        rates.append(steps * batch_size / (time.perf_counter() - start))
    return {"samples_per_s": float(np.median(rates)), "rates": [round(rate, 1) for rate in rates],
            "steps": steps, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def report(result):
    """The one line the benchmark's driver reads back from this process."""
    print(RESULT_PREFIX + json.dumps(result), flush=True)


def one_line_reason(err):
    """The innermost `SomeError: message` line of an error (Keras wraps a layer's failure in a long
    message whose first line only names the layer), else its first line."""
    lines = f"{type(err).__name__}: {err}".splitlines()
    inner = [line.strip() for line in lines if re.match(r"\s*\w+(Error|Exception): ", line)]
    return (inner[-1] if inner else lines[0])[:300]


def run_guarded(body):
    """Reports body()'s result; a failure is reported as a one-line reason (and the traceback goes to
    stderr), since a peer that cannot run is itself a finding of the benchmark."""
    try:
        result = body()
    except Exception as err:
        traceback.print_exc(file=sys.stderr)
        report({"error": one_line_reason(err)})
        sys.exit(1)
    report(result)
