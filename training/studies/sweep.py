"""A study: a grid of configurations, each trained with all its seeds, its runs tagged in runs.csv.

    sh scr/sweep.sh key=a,b key2=x,y [seeds=[16,17,18]] [study=NAME] [config=...] [key=value ...]

A value with commas outside brackets is a grid axis (`mlp_units=[64,32],[128]` has two values);
every other key=value holds for all configurations. Each configuration is one main_func run (a
child process) over its seeds, with study=NAME so runs.csv tags its rows. Without study=, the name
is made from the axes. Run again after a kill, it trains only the (configuration, seed) pairs
runs.csv does not hold yet for the study; a configuration is its changed settings, as main_func
records them. Afterwards: sh scr/report.sh study=NAME.
"""
import itertools
import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import configurator
from errors import PipelineError, run_cli
from training.record import runs_log

ROOT = Path(__file__).resolve().parents[2]
OPENING, CLOSING = "[({", "])}"


def split_values(text):
    """The comma-separated values of text, commas inside brackets or quotes not splitting."""
    values, depth, quote, current = [], 0, None, ""
    for char in text:
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in OPENING:
            depth += 1
        elif char in CLOSING:
            depth -= 1
        elif char == "," and depth == 0:
            values.append(current)
            current = ""
            continue
        current += char
    return values + [current]


def parse_grid(argv):
    """(fixed key=value arguments, [(key, [value texts])] axes in command-line order)."""
    fixed, axes = [], []
    for arg in argv:
        key, sep, text = arg.partition("=")
        values = split_values(text) if sep else [text]
        if len(values) > 1:
            if any(not v for v in values):
                raise PipelineError(f"argument {arg!r}: an empty value in the list; expected key=a,b")
            axes.append((key, values))
        else:
            fixed.append(arg)
    return fixed, axes


def check_study_name(name):
    if not configurator.STUDY_NAME.fullmatch(name):
        raise PipelineError(f"setting study={name!r}: expected a name of letters, digits, '.', '_', '=' or '-', "
                            "starting with a letter or digit (it names the report's folder)")
    return name


def default_study_name(axes):
    """A name made from the axes, e.g. model=DIN-DNN_learning_rate=0.01-0.02."""
    parts = [f"{key}={'-'.join(values)}" for key, values in axes]
    return re.sub(r"[^A-Za-z0-9._=]+", "-", "_".join(parts) or "study").strip("-")


def configuration_key(changed_settings):
    """The identity of a configuration: its changed settings (seeds aside) as canonical JSON."""
    return json.dumps({k: v for k, v in changed_settings.items() if k != "seeds"}, sort_keys=True)


def recorded_runs(results_dir, study):
    """{(configuration key, seed)} of the study's rows in runs.csv."""
    path = Path(results_dir) / "runs.csv"
    if not path.is_file():
        return set()
    runs = runs_log.read_checked(path)
    if "study" not in runs:
        return set()
    runs = runs[runs["study"] == study]
    return {(configuration_key(json.loads(settings or "{}")), int(seed))
            for settings, seed in zip(runs["changed_settings"], runs["seed"])}


class Configuration:
    """One grid point: its arguments for main_func, its settings and the seeds still to run."""

    def __init__(self, args, axes_values, cfg, done):
        self.args = args
        self.label = " ".join(axes_values) or "(fixed settings)"
        self.key = configuration_key(configurator.changed(cfg))
        self.seeds = list(cfg.seeds)
        self.missing = [seed for seed in self.seeds if (self.key, seed) not in done]


def plan(argv):
    """(study name, results_dir, [Configuration]) for the command line; every configuration's
    settings are checked before anything runs."""
    fixed, axes = parse_grid(argv)
    base = configurator.load(fixed)
    study = check_study_name(base.study or default_study_name(axes))
    done = recorded_runs(base.results_dir, study)
    configurations = []
    for values in itertools.product(*[[f"{key}={value}" for value in values] for key, values in axes]):
        args = fixed + list(values) + [f"study={study}"]
        configurations.append(Configuration(args, values, configurator.load(args), done))
    return study, base.results_dir, configurations


def run_main_func(args):
    """Trains one configuration in a child process; its exit status. A kill of the sweep
    (Ctrl-C, SIGTERM) stops the child too."""
    child = subprocess.Popen([sys.executable, str(ROOT / "main_func.py"), *args])
    try:
        return child.wait()
    finally:
        if child.poll() is None:
            child.terminate()
            child.wait()


def _minutes(seconds):
    return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"


def _stop_on_sigterm(signum, frame):
    raise KeyboardInterrupt


def main(argv, runner=run_main_func):
    study, results_dir, configurations = plan(argv)
    total = sum(len(c.seeds) for c in configurations)
    left = sum(len(c.missing) for c in configurations)
    print(f"study {study}: {len(configurations)} configurations, {total} runs, {total - left} already in "
          f"{Path(results_dir) / 'runs.csv'}, {left} to run", flush=True)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    started, finished, failed = time.monotonic(), 0, []
    for number, configuration in enumerate(configurations, 1):
        if not configuration.missing:
            continue
        elapsed = time.monotonic() - started
        estimate = (f"about {_minutes(elapsed / finished * left)} left" if finished
                    else "time left known after the first configuration")
        print(f"\nstudy {study}: configuration {number}/{len(configurations)} ({configuration.label}), "
              f"seeds {configuration.missing}; {total - left}/{total} runs done, {_minutes(elapsed)} elapsed, "
              f"{estimate}", flush=True)
        try:
            status = runner(configuration.args + [f"seeds={configuration.missing}"])
        except KeyboardInterrupt:
            print(f"\nstudy {study}: stopped; the same command resumes it", file=sys.stderr, flush=True)
            raise SystemExit(130) from None
        if status:
            failed.append(configuration.label)
        finished += len(configuration.missing)
        left -= len(configuration.missing)
    print(f"\nstudy {study}: done in {_minutes(time.monotonic() - started)}; "
          f"report: sh scr/report.sh study={study}", flush=True)
    if failed:
        raise PipelineError(f"study {study}: configurations failed: {'; '.join(failed)} (their errors are above); "
                            "run the sweep again to retry them")
    return study


if __name__ == "__main__":
    sys.exit(run_cli(main, sys.argv[1:]))
