"""ensure_dataset: raw CSV files in, processed folder out; reuse, rebuilds, interruptions, the CLI."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import configurator
from errors import PipelineError
from preprocessing import processed_data
from preprocessing.build_dataset import ensure_dataset
from preprocessing.processed_data import load_meta, load_split
from test_preprocessing import TINY, tiny_log

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def raw_dir(tmp_path):
    folder = tmp_path / "raw"
    folder.mkdir()
    actions, items, users = tiny_log()
    items["shop_score"] = items["shop_score"].where(items["shop_score"] >= 0)  # an empty CSV cell
    for name, table in (("actions", actions), ("items", items), ("users", users)):
        table.to_csv(folder / f"{name}.csv", index=False)
    return folder


def settings(raw_dir, *arguments):
    return configurator.load(TINY + list(arguments), raw_dir=str(raw_dir),
                             processed_dir=str(raw_dir.parent / "processed"))


def build(raw_dir, capsys, *arguments):
    """(processed folder, True if it was built rather than reused)."""
    processed = ensure_dataset(settings(raw_dir, *arguments))
    output = capsys.readouterr().out
    assert ("load raw data" in output) != ("reusing it" in output)
    return processed, "load raw data" in output


def leftovers(raw_dir):
    return sorted(p.name for p in raw_dir.parent.iterdir() if p.name.startswith("."))


def test_builds_from_raw_csv_files_and_reuses_an_up_to_date_result(raw_dir, capsys):
    processed, built = build(raw_dir, capsys)
    assert built and processed == raw_dir.parent / "processed"
    meta = load_meta(processed)
    assert meta["raw_files"] == ["actions.csv", "items.csv", "users.csv"] and len(meta["raw_fingerprint"]) == 32
    assert meta["raw_repairs"] == {"items.shop_score: missing values set to unknown (-1.0)": 1}
    assert load_meta(processed)["splits"]["train"]["samples"] == 3
    stamp = (processed / "meta.json").stat().st_mtime_ns
    assert build(raw_dir, capsys) == (processed, False)
    assert (processed / "meta.json").stat().st_mtime_ns == stamp
    assert leftovers(raw_dir) == []


@pytest.mark.parametrize("change", ["max_len=4", "embed_dim=8", "use_oldest_window=True", "split_by=random",
                                    "split_seed=7"])
def test_a_change_of_settings_rebuilds(raw_dir, capsys, change):
    build(raw_dir, capsys)
    processed, built = build(raw_dir, capsys, change)
    key, value = change.split("=")
    assert built and load_meta(processed)["settings"][key] == configurator.load([change]).__dict__[key]
    assert build(raw_dir, capsys, change) == (processed, False)
    assert build(raw_dir, capsys)[1], "back to the first settings: rebuilt again"


def test_a_change_of_raw_data_rebuilds(raw_dir, capsys):
    processed, _ = build(raw_dir, capsys)
    before = load_meta(processed)["raw_fingerprint"]
    with open(raw_dir / "actions.csv", "a") as file:
        file.write("bob,40,2020-01-04 21:00:00,5\n")
    processed, built = build(raw_dir, capsys)
    assert built and load_meta(processed)["raw_fingerprint"] != before
    assert load_meta(processed)["splits"]["train"]["samples"] == 4


def test_a_file_rewritten_with_the_same_content_is_reused(raw_dir, capsys):
    build(raw_dir, capsys)
    content = (raw_dir / "users.csv").read_bytes()
    (raw_dir / "users.csv").unlink()
    (raw_dir / "users.csv").write_bytes(content)
    assert not build(raw_dir, capsys)[1]


class Interrupted(KeyboardInterrupt):
    pass


@pytest.mark.parametrize("item2vec", ["use_item2vec=False", "use_item2vec=True"])
def test_an_interrupted_build_leaves_the_previous_dataset_usable(raw_dir, capsys, monkeypatch, item2vec):
    processed, _ = build(raw_dir, capsys)
    good = {name: np.array(array) for name, array in load_split(processed, "train").items()}
    write = processed_data.NpyWriter.write
    calls = []

    def interrupted_midway(writer, chunk):
        calls.append(writer.path.name)
        if len(calls) == 20:
            raise Interrupted
        write(writer, chunk)

    monkeypatch.setattr(processed_data.NpyWriter, "write", interrupted_midway)
    with pytest.raises(Interrupted):
        ensure_dataset(settings(raw_dir, "max_len=5", item2vec))
    assert len(calls) == 20
    monkeypatch.undo()
    capsys.readouterr()
    assert load_meta(processed)["max_len"] == 3
    for name, array in load_split(processed, "train").items():
        np.testing.assert_array_equal(array, good[name])
    assert leftovers(raw_dir) == []
    assert build(raw_dir, capsys) == (processed, False), "the previous dataset is still up to date"


def test_a_failed_build_leaves_the_previous_dataset_as_it_was(raw_dir, capsys):
    processed, _ = build(raw_dir, capsys)
    with pytest.raises(PipelineError, match="window 5 .* the data spans 2020-01-01..2020-01-06"):
        ensure_dataset(settings(raw_dir, "num_windows=6"))
    assert load_meta(processed)["settings"]["num_windows"] == 3 and leftovers(raw_dir) == []


def dead_pid():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_leftovers_of_a_killed_build_are_cleared_and_a_dataset_caught_mid_swap_is_restored(raw_dir, capsys):
    processed, _ = build(raw_dir, capsys)
    pid = dead_pid()
    (raw_dir.parent / f".processed.building-{pid}").mkdir()
    processed.rename(raw_dir.parent / f".processed.old-{pid}")
    assert build(raw_dir, capsys) == (processed, False), "the dataset put back is reused"
    assert leftovers(raw_dir) == []


def test_an_incomplete_dataset_is_rebuilt(raw_dir, capsys):
    processed, _ = build(raw_dir, capsys)
    (processed / "dev" / "hist_item.npy").unlink()
    assert build(raw_dir, capsys)[1]


def test_a_processed_dir_holding_other_files_is_never_replaced(raw_dir, capsys):
    processed = raw_dir.parent / "processed"
    processed.mkdir()
    (processed / "notes.txt").write_text("mine")
    with pytest.raises(PipelineError, match="holds files that are not a processed dataset \\(notes.txt\\)"):
        ensure_dataset(settings(raw_dir))
    assert (processed / "notes.txt").read_text() == "mine"


def test_bad_settings_are_rejected_before_reading_anything(raw_dir):
    with pytest.raises(PipelineError, match="setting max_len=-1"):
        ensure_dataset(settings(raw_dir, "max_len=-1"))
    assert not (raw_dir.parent / "processed").exists()


def test_readers_name_what_is_missing(tmp_path):
    with pytest.raises(PipelineError, match="no processed data; run sh scr/pre_processing.sh"):
        load_meta(tmp_path)
    with pytest.raises(PipelineError, match="split 'valid': expected one of train, dev, test"):
        load_split(tmp_path, "valid")
    with pytest.raises(PipelineError, match="train/user.npy: missing"):
        load_split(tmp_path, "train")


def run_cli(*arguments):
    return subprocess.run([sys.executable, "-m", "preprocessing.build_dataset", *arguments], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


def test_the_command_prints_one_line_per_stage_and_exits_2_on_bad_input(raw_dir):
    common = [f"raw_dir={raw_dir}", f"processed_dir={raw_dir.parent / 'processed'}"] + TINY
    done = run_cli(*common)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert all(line.startswith("preprocessing: ") for line in lines)
    for stage in ("load raw data", "encode ids", "sort 12 actions", "samples and labels", "write train",
                  "write dev", "write test"):
        assert any(line.startswith(f"preprocessing: {stage}") and line.endswith(" s") for line in lines), stage
    assert json.loads((raw_dir.parent / "processed" / "meta.json").read_text())["max_len"] == 3
    for argument, message in (("max_len=-1", "error: setting max_len=-1: expected a positive whole number"),
                              ("num_windows=6", "error: window 5 (unused) needs interaction days")):
        failed = run_cli(*common, argument)
        errors = [line for line in failed.stderr.splitlines() if not line.startswith("raw data repair: ")]
        assert failed.returncode == 2 and len(errors) == 1 and errors[0].startswith(message)

