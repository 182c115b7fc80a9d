"""ensure_dataset: raw CSV files in, processed folder out; reuse, rebuilds, interruptions, the CLI."""
import json
import os
import pathlib
import re
import signal
import subprocess
import sys

import numpy as np
import pytest

import configurator
from errors import PipelineError
from preprocessing import processed_data
from preprocessing.pipeline import build_dataset
from preprocessing.pipeline.build_dataset import ensure_dataset
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


def test_a_change_of_preprocessing_code_rebuilds(raw_dir, capsys, monkeypatch):
    processed, _ = build(raw_dir, capsys)
    before = load_meta(processed)["code_fingerprint"]
    monkeypatch.setattr(build_dataset, "code_fingerprint", lambda: "other code")
    processed, built = build(raw_dir, capsys)
    assert built and load_meta(processed)["code_fingerprint"] == "other code" != before


def test_the_code_fingerprint_covers_the_pipeline_and_the_formats_not_the_sources():
    covered = set(build_dataset.fingerprinted_code())
    pipeline = {f"pipeline/{path.name}" for path in (pathlib.Path(REPO) / "preprocessing" / "pipeline").glob("*.py")}
    assert pipeline <= covered and "pipeline/pair_features.py" in covered
    assert {"raw_data.py", "processed_data.py", "text_file.py"} <= covered
    assert not any(name.startswith("sources/") or "make_demo_data" in name for name in covered)


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


def snapshot(folder):
    """Every path under folder with its bytes (None for a folder)."""
    return {str(p.relative_to(folder)): None if p.is_dir() else p.read_bytes() for p in sorted(folder.rglob("*"))}


# Runs the command in a child that stops at one point and waits there to be killed with SIGKILL:
# "writing" after some arrays of the new dataset are written, "swap" between the two renames.
KILLED_AT = """
import os, sys, time
from preprocessing import processed_data
from preprocessing.pipeline import build_dataset

def stop_here():
    print("stopped", flush=True)
    time.sleep(120)

point, arguments = sys.argv[1], sys.argv[2:]
if point == "writing":
    write, calls = processed_data.NpyWriter.write, []
    def write_then_stop(writer, chunk):
        calls.append(writer.path.name)
        write(writer, chunk)
        if len(calls) == 20:
            stop_here()
    processed_data.NpyWriter.write = write_then_stop
else:
    rename = os.rename
    def rename_then_stop(source, target):
        rename(source, target)
        if ".old-" in str(target):
            stop_here()
    os.rename = rename_then_stop
build_dataset.main(arguments)
"""


def kill_minus_9_at(point, raw_dir, *arguments):
    child = subprocess.Popen([sys.executable, "-c", KILLED_AT, point, *TINY, f"raw_dir={raw_dir}",
                              f"processed_dir={raw_dir.parent / 'processed'}", *arguments],
                             cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        for line in child.stdout:
            if line == "stopped\n":
                break
        else:
            pytest.fail(f"the build ended before it reached {point!r}")
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=60)
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL


def test_a_kill_minus_9_while_writing_leaves_the_previous_dataset_usable(raw_dir, capsys):
    processed, _ = build(raw_dir, capsys)
    before = snapshot(processed)
    kill_minus_9_at("writing", raw_dir, "max_len=5")
    assert snapshot(processed) == before
    assert load_meta(processed)["max_len"] == 3 and len(load_split(processed, "train")["user"]) == 3
    assert len(leftovers(raw_dir)) == 1 and leftovers(raw_dir)[0].startswith(".processed.building-")
    assert build(raw_dir, capsys) == (processed, False), "the previous dataset is still up to date"
    assert leftovers(raw_dir) == [] and snapshot(processed) == before


def test_a_kill_minus_9_between_the_two_renames_puts_the_previous_dataset_back(raw_dir, capsys):
    processed, _ = build(raw_dir, capsys)
    before = snapshot(processed)
    kill_minus_9_at("swap", raw_dir, "max_len=5")
    assert not processed.exists() and sorted(name.split("-")[0] for name in leftovers(raw_dir)) == [
        ".processed.building", ".processed.old"]
    assert build(raw_dir, capsys) == (processed, False), "the dataset put back is reused"
    assert leftovers(raw_dir) == [] and snapshot(processed) == before


def dead_pid():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def look_alikes(parent):
    """Folders a user might keep beside processed/ whose names resemble the build's temporary ones."""
    made, pid = {}, dead_pid()
    names = [".processed.backup-20240101", ".processed.old-20240101", ".processed.old-" + "9" * 20,
             f".processed.building-{pid}", f".processed.building-{pid}-0123456789abcdef",
             f".processed.old-{pid}-0123456789abcdef", f".processed.old-{pid}-fedcba9876543210"]
    for number, name in enumerate(names):
        folder = parent / name
        (folder / "test").mkdir(parents=True)
        (folder / "test" / "keep.py").write_bytes(b"mine %d\n" % number)
        made[name] = folder
    # a marker of another folder's token, and one that is not the pipeline's at all
    (made[f".processed.old-{pid}-0123456789abcdef"] / ".dataset-folder.json").write_text(json.dumps(
        {"signature": "purchase-prediction processed dataset", "token": "0000000000000000", "files": []}))
    (made[f".processed.old-{pid}-fedcba9876543210"] / ".dataset-folder.json").write_text(
        json.dumps({"token": "fedcba9876543210", "files": ["test/keep.py"]}))
    return {name: snapshot(folder) for name, folder in made.items()}


def test_look_alike_folders_beside_processed_are_left_byte_for_byte(raw_dir, capsys):
    before = look_alikes(raw_dir.parent)
    processed, built = build(raw_dir, capsys)
    assert built and load_meta(processed)["max_len"] == 3
    build(raw_dir, capsys, "max_len=4")
    assert {name: snapshot(raw_dir.parent / name) for name in before} == before
    assert set(leftovers(raw_dir)) == set(before)


@pytest.mark.parametrize("inside", ["test/keep.py", "notes.txt", "vocab/extra/x.npy"])
def test_a_file_added_to_a_dataset_is_never_deleted(raw_dir, capsys, inside):
    processed, _ = build(raw_dir, capsys)
    added = processed / inside
    added.parent.mkdir(parents=True, exist_ok=True)
    added.write_text("mine")
    before = snapshot(processed)
    with pytest.raises(PipelineError, match=f"holds 1 paths that this program did not write \\({inside}\\)"):
        ensure_dataset(settings(raw_dir, "max_len=4"))
    assert snapshot(processed) == before and leftovers(raw_dir) == []


def test_a_folder_it_did_not_write_is_never_replaced(raw_dir):
    processed = raw_dir.parent / "processed"
    (processed / "test").mkdir(parents=True)
    (processed / "test" / "keep.py").write_text("hi\n")
    with pytest.raises(PipelineError, match="holds files that this program did not write .*test/keep.py"):
        ensure_dataset(settings(raw_dir))
    assert snapshot(processed) == {"test": None, "test/keep.py": b"hi\n"} and leftovers(raw_dir) == []


def test_an_empty_processed_folder_is_filled(raw_dir, capsys):
    (raw_dir.parent / "processed").mkdir()
    processed, built = build(raw_dir, capsys)
    assert built and load_meta(processed)["max_len"] == 3 and leftovers(raw_dir) == []


def test_an_incomplete_dataset_is_rebuilt(raw_dir, capsys):
    processed, _ = build(raw_dir, capsys)
    (processed / "dev" / "hist_item.npy").unlink()
    assert build(raw_dir, capsys)[1]


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
    return subprocess.run([sys.executable, "-m", "preprocessing.pipeline.build_dataset", *arguments], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


def test_the_command_prints_one_line_per_stage_and_exits_2_on_bad_input(raw_dir):
    common = [f"raw_dir={raw_dir}", f"processed_dir={raw_dir.parent / 'processed'}"] + TINY
    done = run_cli(*common)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert all(line.startswith("preprocessing: ") for line in lines)
    for stage in ("load raw data", "encode ids", "sort 12 actions", "samples and labels", "write train",
                  "write dev", "write test"):
        assert any(re.fullmatch(rf"preprocessing: {stage}.*: \d+\.\d\d s, peak \d+\.\d GiB", line)
                   for line in lines), stage
    assert json.loads((raw_dir.parent / "processed" / "meta.json").read_text())["max_len"] == 3
    for argument, message in (("max_len=-1", "error: setting max_len=-1: expected a positive whole number"),
                              ("num_windows=6", "error: window 5 (unused) needs interaction days")):
        failed = run_cli(*common, argument)
        errors = [line for line in failed.stderr.splitlines() if not line.startswith("raw data repair: ")]
        assert failed.returncode == 2 and len(errors) == 1 and errors[0].startswith(message)

