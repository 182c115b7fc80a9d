"""A run's dev learning curve on disk (dev_curve.json in its folder): the dev metrics of every
evaluation and the training step it was made at, so curves can be drawn after the run."""
import json
import math
import os
from pathlib import Path

from errors import PipelineError

FILE = "dev_curve.json"


def write_dev_curve(run_dir, evaluations, period_steps, steps_per_pass):
    """evaluations: one dict of dev metrics per evaluation period, in order. Written to a temporary
    file and renamed, so a killed run never leaves half a file. NaN (undefined AUC) becomes null."""
    curve = {"steps_per_pass": steps_per_pass,
             "evaluations": [{"step": (i + 1) * period_steps,
                              **{name: None if math.isnan(value) else value for name, value in metrics.items()}}
                             for i, metrics in enumerate(evaluations)]}
    path = Path(run_dir) / FILE
    partial = path.with_name(f".{FILE}.partial-{os.getpid()}")
    partial.write_text(json.dumps(curve, indent=1) + "\n")
    partial.rename(path)
    return path


def read_dev_curve(run_dir):
    """The curve written by write_dev_curve, or None for a run without one (a baseline)."""
    path = Path(run_dir) / FILE
    if not path.is_file():
        return None
    try:
        curve = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:  # UnicodeDecodeError and JSONDecodeError alike: damaged
        raise PipelineError(f"{path}: truncated or corrupt ({err}); train the run again or move it away") from None
    if not isinstance(curve, dict):
        raise PipelineError(f"{path}: holds a JSON {type(curve).__name__}, expected an object; move it away")
    return curve
