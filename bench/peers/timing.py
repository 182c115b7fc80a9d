"""How every benchmark run is timed and how it reports back to bench/train_throughput."""
import json
import re
import resource
import sys
import time
import traceback

import numpy as np

RESULT_PREFIX = "RESULT "
MIN_STEPS = 3


class Finished(Exception):
    """Raised from inside a training loop that has no other way to stop early."""


class StepClock:
    """Times the steps of one long training run: the loop calls step_done() after every step, and
    stops when it returns True.

    The first `warmup_steps` steps are not timed (the first pays for tracing and allocation); those
    after the first estimate the step time. Each of the `repeats` timed spans then covers `steps`
    steps, or fewer (not under MIN_STEPS) where they would take longer than `repeat_budget_s`. One
    run rather than a call of the library's fit per span, since a fit's set-up and tear-down
    (iterators, callback threads) would be timed with the steps.
    """

    def __init__(self, batch_size, warmup_steps, steps, repeats, repeat_budget_s):
        if warmup_steps < 2:
            raise ValueError("warmup_steps: at least 2 (the first step only traces)")
        self.batch_size = batch_size
        self.warmup_steps = warmup_steps
        self.steps = steps
        self.repeats = repeats
        self.repeat_budget_s = repeat_budget_s
        self.max_steps = warmup_steps + steps * repeats
        self.done = 0
        self.marks = []

    def step_done(self):
        now = time.perf_counter()
        self.done += 1
        if self.done == 1:
            self.first = now
        elif self.done == self.warmup_steps:
            step_s = (now - self.first) / (self.warmup_steps - 1)
            self.steps = min(self.steps, max(MIN_STEPS, int(self.repeat_budget_s / step_s)))
            self.marks = [now]
        elif self.marks and (self.done - self.warmup_steps) % self.steps == 0:
            self.marks.append(now)
        return len(self.marks) == self.repeats + 1

    def result(self):
        """Samples per second (median over the spans, and each), steps per span, peak memory."""
        if len(self.marks) < self.repeats + 1:
            raise RuntimeError(f"training stopped after {self.done} of {self.max_steps} steps")
        rates = [self.steps * self.batch_size / (end - start) for start, end in zip(self.marks, self.marks[1:])]
        return {"samples_per_s": float(np.median(rates)), "rates": [round(rate, 1) for rate in rates],
                "steps": self.steps, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


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
