"""A small generated demo log in a folder of its own, for the end-to-end tests, and its runs.csv; the
real samples of ../shared/realdata/ where they exist."""
import csv
import pathlib

import pytest

from errors import run_cli
from preprocessing.sources import make_demo_data

REALDATA = pathlib.Path(__file__).resolve().parents[2] / "shared" / "realdata"


def real_sample(*parts):
    """The path of a real sample in ../shared/realdata/, read in place; the test is skipped without it."""
    path = REALDATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real sample {path} absent (the shared realdata folder is not beside the repository)")
    return path


def demo_workspace(root, *settings):
    """(root, settings): raw, processed and results folders under root, a small demo log generated into
    raw; the settings (the folders, the demo's size and any given) serve every later command."""
    settings = [f"raw_dir={root / 'raw'}", f"processed_dir={root / 'processed'}", f"results_dir={root / 'results'}",
                "demo_users=1500", "demo_items=800", "demo_categories=30", *settings]
    assert run_cli(make_demo_data.main, settings) == 0
    return root, settings


def read_runs(root):
    with open(root / "results" / "runs.csv", newline="") as handle:
        return list(csv.DictReader(handle))
