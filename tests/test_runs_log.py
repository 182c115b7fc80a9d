"""runs.csv: one whole row per run, the preset file in its own column."""
import csv

import configurator
from training import runs_log


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
