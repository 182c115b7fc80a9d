"""runs.csv: one whole row per run, the preset file in its own column."""
import csv
import fcntl
import json
import pathlib
import subprocess
import sys
import time

import pytest

import configurator
from training.record import runs_log

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _rows(results_dir):
    with open(results_dir / "runs.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def test_preset_file_is_recorded_in_its_own_column(tmp_path):
    for argv in (["config=configs/demo.py", "model=DIN"], ["model=DIN"]):
        cfg = configurator.load(argv)
        runs_log.append_run(tmp_path, {"run_id": argv[0], "model": cfg.model,
                                       "changed_settings": configurator.changed(cfg), "dev_main_auc": 0.5})
    rows = _rows(tmp_path)
    assert [row["config"] for row in rows] == ["configs/demo.py", ""]
    assert [row["run_id"] for row in rows] == ["config=configs/demo.py", "model=DIN"]
    assert rows[0]["dev_main_auc"] == "0.5" and list(rows[0]) == list(runs_log.COLUMNS)


# Appends rows of about 40 kB each once the start file exists, so two processes write at once.
APPENDER = """
import os, sys, time
from training.record import runs_log
results, name, start = sys.argv[1:]
while not os.path.exists(start):
    time.sleep(0.001)
for i in range(40):
    runs_log.append_run(results, {"run_id": f"{name}-{i}", "changed_settings": {"pad": name * 40000}})
"""


def test_two_runs_appending_at_once_each_land_whole_rows(tmp_path):
    start = tmp_path / "start"
    children = [subprocess.Popen([sys.executable, "-c", APPENDER, str(tmp_path), name, str(start)], cwd=ROOT)
                for name in ("a", "b")]
    start.touch()
    assert [child.wait(timeout=120) for child in children] == [0, 0]
    rows = _rows(tmp_path)
    assert sorted(row["run_id"] for row in rows) == sorted(f"{n}-{i}" for n in "ab" for i in range(40))
    for row in rows:
        assert json.loads(row["changed_settings"]) == {"pad": row["run_id"][0] * 40000}


def test_a_runs_csv_with_an_older_header_gets_the_new_columns_and_keeps_its_rows(tmp_path):
    (tmp_path / "runs.csv").write_text("run_id,model,seed,old_note\nr1,DIN,16,kept\n")
    runs_log.append_run(tmp_path, {"run_id": "r2", "model": "DNN", "seed": 17})
    rows = _rows(tmp_path)
    assert list(rows[0]) == list(runs_log.COLUMNS) + ["old_note"]
    assert [(r["run_id"], r["model"], r["seed"], r["old_note"], r["config"]) for r in rows] == [
        ("r1", "DIN", "16", "kept", ""), ("r2", "DNN", "17", "", "")]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs.csv"]


def _waits_for_a_lock(pid):
    """True when process pid is blocked on a file lock (a '->' entry of /proc/locks)."""
    return any(line.split()[1:3] == ["->", "FLOCK"] and line.split()[5] == str(pid)
               for line in pathlib.Path("/proc/locks").read_text().splitlines())


@pytest.mark.skipif(not pathlib.Path("/proc/locks").exists(), reason="needs Linux's /proc/locks")
def test_a_run_waits_while_runs_csv_is_locked(tmp_path):
    runs_log.append_run(tmp_path, {"run_id": "first"})
    with open(tmp_path / "runs.csv", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        child = subprocess.Popen([sys.executable, "-c", "import sys; from training.record import runs_log; "
                                  "runs_log.append_run(sys.argv[1], {'run_id': 'second'})", str(tmp_path)], cwd=ROOT)
        for _ in range(3000):  # bounded, so a changed /proc/locks format fails instead of hanging
            if _waits_for_a_lock(child.pid):
                break
            assert child.poll() is None, "the run wrote runs.csv while another held its lock"
            time.sleep(0.01)
        else:
            pytest.fail("the run never waited for the lock")
        assert [row["run_id"] for row in _rows(tmp_path)] == ["first"]
    assert child.wait(timeout=60) == 0
    assert [row["run_id"] for row in _rows(tmp_path)] == ["first", "second"]


def test_study_is_recorded_in_its_own_column(tmp_path):
    for argv in (["study=lr-sweep", "learning_rate=0.01"], ["learning_rate=0.01"]):
        cfg = configurator.load(argv)
        runs_log.append_run(tmp_path, {"run_id": argv[0], "changed_settings": configurator.changed(cfg)})
    assert [row["study"] for row in _rows(tmp_path)] == ["lr-sweep", ""]


def test_one_seed_shows_its_value_without_a_spread_and_several_show_mean_and_std():
    one = runs_log.summary_table([{"dev_main_auc": 0.71, "test_main_auc": 0.7}])
    assert "±" not in one and "0.7100" in one and "0.7000" in one
    two = runs_log.summary_table([{"test_main_auc": 0.7}, {"test_main_auc": 0.8}])
    assert "0.7500 ± 0.0707" in two
    assert runs_log.mean_std_text([0.5, float("nan")]) == "0.5000"


def test_a_runs_csv_saved_by_a_spreadsheet_with_a_bom_and_crlf_is_appended_to(tmp_path):
    runs_log.append_run(tmp_path, {"run_id": "r1", "model": "DIN", "seed": 16})
    path = tmp_path / "runs.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    runs_log.append_run(tmp_path, {"run_id": "r2", "model": "DNN", "seed": 17})
    assert runs_log.read_checked(path)[["run_id", "seed"]].values.tolist() == [["r1", "16"], ["r2", "17"]]
    assert path.read_bytes().startswith(b"\xef\xbb\xbfrun_id,")
