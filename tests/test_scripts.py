"""The step-by-step scripts, run in a copy of the repository: idempotent, and a bad setting is a
one-line error with a non-zero exit that writes nothing."""
import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
SMALL = ["demo_users=300", "demo_items=150", "demo_categories=10"]


@pytest.fixture
def repo(tmp_path):
    copy = tmp_path / "repo"
    shutil.copytree(ROOT / "scr", copy / "scr")
    for package in ("preprocessing", "models"):  # models/: the settings resolve the model they name
        shutil.copytree(ROOT / package, copy / package, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("config.py", "configurator.py", "errors.py", "signed_folder.py"):
        shutil.copy(ROOT / name, copy / name)
    return copy


def _run(repo, script, *args):
    env = {**os.environ, "PYTHON": sys.executable}
    return subprocess.run(["sh", str(repo / "scr" / script), *args], capture_output=True, text=True, env=env,
                          timeout=300)


def _contents(folder):
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else None for p in sorted(folder.rglob("*"))}


def _same_demo_set(contents):
    """The folder's contents with what its seal must vary (the token, the folder's inode, the files'
    times) left out of demo.json: the rest is the same for the same settings."""
    marker = json.loads(contents["demo.json"])
    for entry in marker.pop("files").values():
        entry.pop("mtime_ns")
        marker.setdefault("digests", []).append(entry)
    for volatile in ("token", "inode"):
        marker.pop(volatile)
    return {**contents, "demo.json": marker}


def test_prepare_dir_is_idempotent(repo):
    first = _run(repo, "prepare_dir.sh")
    assert first.returncode == 0, first.stderr
    for name in ("raw", "processed", "results"):
        assert (repo / "ddata" / name).is_dir()
    (repo / "ddata" / "raw" / "actions.csv").write_text("kept\n")
    before = _contents(repo / "ddata")
    second = _run(repo, "prepare_dir.sh")
    assert second.returncode == 0, second.stderr
    assert _contents(repo / "ddata") == before


def test_make_demo_data_twice_gives_the_same_files(repo):
    first = _run(repo, "make_demo_data.sh", *SMALL)
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("\n") == 1 and first.stdout.startswith("demo data: ")
    raw = repo / "ddata" / "raw"
    before = _contents(raw)
    assert sorted(before) == ["actions.parquet", "demo.json", "demo_oracle.parquet", "items.parquet", "users.parquet"]
    second = _run(repo, "make_demo_data.sh", *SMALL)
    assert second.returncode == 0, second.stderr
    assert _same_demo_set(_contents(raw)) == _same_demo_set(before)
    assert sorted(p.name for p in (repo / "ddata").iterdir()) == ["raw"]


def test_raw_dir_override(repo, tmp_path):
    result = _run(repo, "make_demo_data.sh", *SMALL, f"raw_dir={tmp_path / 'elsewhere' / 'raw'}")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "elsewhere" / "raw" / "actions.parquet").is_file()
    assert not (repo / "ddata").exists()


@pytest.mark.parametrize("setting, named", [("demo_users=many", "demo_users"), ("demo_size=3", "demo_size"),
                                            ("demo_categories=0", "demo_categories"), ("demo_users", "demo_users")])
def test_bad_setting_is_a_one_line_error_and_writes_nothing(repo, setting, named):
    result = _run(repo, "make_demo_data.sh", *SMALL, setting)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ") and named in result.stderr
    assert not (repo / "ddata").exists()


def test_other_data_in_raw_dir_is_left_alone(repo):
    raw = repo / "ddata" / "raw"
    raw.mkdir(parents=True)
    (raw / "merged.parquet").write_bytes(b"real data")
    result = _run(repo, "make_demo_data.sh", *SMALL)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "merged.parquet" in result.stderr
    assert _contents(repo / "ddata") == {"raw": None, "raw/merged.parquet": b"real data"}
