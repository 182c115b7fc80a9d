"""signed_folder, the one way every folder of this program is written (processed dataset, demo and
imported raw folders, forecast, export, study report, backtest): a folder is replaced only when its
signed marker vouches for everything in it, and look-alike folders of a user's, in the destination or
beside it, are left byte for byte. The run outputs are tested through training.record.output_folder, the
API their commands (and the backtest) call."""
import json
import os
import subprocess
import sys

import pytest

import signed_folder
from errors import PipelineError
from training.record import output_folder

# every run output this program writes, by its place in results_dir
OUTPUTS = ["RUN/forecast", "RUN/export", "reports/STUDY", "backtests/NAME"]


def _tree(folder):
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else None for p in sorted(folder.rglob("*"))}


def _write_output(target, files):
    with output_folder.written_whole(target) as folder:
        for name, data in files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)


def _dead_pid():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.mark.parametrize("place", OUTPUTS)
def test_an_output_is_written_whole_and_replaces_only_its_own_earlier_self(tmp_path, place):
    target = tmp_path / "results" / place
    _write_output(target, {"a.csv": b"1", "deep/b.json": b"{}"})
    _write_output(target, {"c.csv": b"2"})
    assert _tree(target).keys() == {".output-folder.json", "c.csv"}
    assert output_folder.is_ours(target)
    marker = json.loads((target / output_folder.MARKER).read_text())
    assert marker["signature"] == signed_folder.SIGNATURE and marker["kind"] == "run output"
    assert sorted(marker["files"]) == ["c.csv"] and marker["files"]["c.csv"]["bytes"] == 1
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]  # no temporary folder left


def _genuine_marker(tmp_path):
    _write_output(tmp_path / "genuine", {"summary.csv": b"ours"})
    return (tmp_path / "genuine" / output_folder.MARKER).read_text()


LOOK_ALIKES = {
    "no marker": None,
    "an empty marker": "{}",
    "a marker of the older format": json.dumps({"signature": "purchase-prediction run output", "files": ["summary.csv"]}),
    "a marker copied from another output": "GENUINE",
    "another kind's marker": json.dumps({"signature": signed_folder.SIGNATURE, "kind": "processed dataset",
                                         "token": "0" * 16, "files": {}}),
    "a marker of a folder still being written": json.dumps({"signature": signed_folder.SIGNATURE, "kind": "run output",
                                                            "token": "0" * 16, "files": None}),
}


@pytest.mark.parametrize("place", OUTPUTS)
@pytest.mark.parametrize("look", sorted(LOOK_ALIKES))
def test_a_users_look_alike_output_folder_is_left_byte_for_byte(tmp_path, place, look):
    target = tmp_path / "results" / place
    target.mkdir(parents=True)
    (target / "summary.csv").write_bytes(b"my own summary")
    marker = LOOK_ALIKES[look]
    if marker is not None:
        (target / output_folder.MARKER).write_text(_genuine_marker(tmp_path) if marker == "GENUINE" else marker)
    before = _tree(tmp_path / "results")
    with pytest.raises(PipelineError, match=f"{target} holds ") as caught:
        _write_output(target, {"summary.csv": b"new"})
    assert "\n" not in str(caught.value)
    assert _tree(tmp_path / "results") == before and not output_folder.is_ours(target)


@pytest.mark.parametrize("place", OUTPUTS)
@pytest.mark.parametrize("added", ["notes.txt", "deep/notes.txt", "empty_folder/"])
def test_something_added_to_an_output_is_named_and_kept(tmp_path, place, added):
    target = tmp_path / "results" / place
    _write_output(target, {"summary.csv": b"ours", "deep/x.csv": b"1"})
    if added.endswith("/"):
        (target / added).mkdir()
    else:
        (target / added).write_bytes(b"mine")
    before = _tree(target)
    with pytest.raises(PipelineError, match=f"holds 1 paths that this program did not write \\({added.rstrip('/')}\\)"):
        _write_output(target, {"summary.csv": b"new"})
    assert _tree(target) == before


def test_a_damaged_file_of_a_derived_folder_is_written_over_but_not_of_a_raw_one(tmp_path):
    output = tmp_path / "results" / "backtests" / "b1"
    _write_output(output, {"summary.csv": b"ours"})
    (output / "summary.csv").write_bytes(b"damaged!")  # same size: the digest tells
    os.utime(output / "summary.csv", ns=(0, 0))
    assert signed_folder.problem(output, signed_folder.RUN_OUTPUT) == "summary.csv changed since this program wrote them"
    _write_output(output, {"summary.csv": b"new"})
    assert (output / "summary.csv").read_bytes() == b"new"

    raw = tmp_path / "raw"
    with signed_folder.replacing(raw, signed_folder.IMPORTED_RAW) as staging:
        (staging / "actions.parquet").write_bytes(b"ours")
    (raw / "actions.parquet").write_bytes(b"edited")
    with pytest.raises(PipelineError, match="actions.parquet changed since this program wrote them"):
        with signed_folder.replacing(raw, signed_folder.IMPORTED_RAW) as staging:
            (staging / "actions.parquet").write_bytes(b"new")
    assert (raw / "actions.parquet").read_bytes() == b"edited"


def test_a_raw_file_with_its_time_changed_but_the_same_bytes_is_still_as_sealed(tmp_path):
    raw = tmp_path / "raw"
    with signed_folder.replacing(raw, signed_folder.DEMO_RAW) as staging:
        (staging / "actions.parquet").write_bytes(b"ours")
    os.utime(raw / "actions.parquet", ns=(0, 0))  # as a copy that does not keep times leaves it
    assert signed_folder.problem(raw, signed_folder.DEMO_RAW) is None
    # an output's files are sealed without digests (a processed dataset's are GiBs): a new time is a change
    target = tmp_path / "results" / "backtests" / "b1"
    _write_output(target, {"summary.csv": b"ours"})
    os.utime(target / "summary.csv", ns=(0, 0))
    assert not output_folder.is_ours(target)


@pytest.mark.parametrize("what", ["a file", "a link to a folder"])
def test_a_target_that_is_not_a_folder_is_left_alone(tmp_path, what):
    target = tmp_path / "results" / "backtests" / "b1"
    target.parent.mkdir(parents=True)
    if what == "a file":
        target.write_bytes(b"mine")
    else:
        (tmp_path / "elsewhere").mkdir()
        target.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(PipelineError, match="exists and is not a folder"):
        _write_output(target, {"summary.csv": b"new"})
    assert target.is_symlink() or target.read_bytes() == b"mine"


def test_look_alike_temporary_folders_beside_an_output_are_left_and_dead_writers_cleared(tmp_path):
    target = tmp_path / "results" / "backtests" / "b1"
    target.parent.mkdir(parents=True)
    pid = _dead_pid()
    look_alikes = [".b1.old-20240101", f".b1.building-{pid}", f".b1.building-{pid}-0123456789abcdef",
                   f".b1.old-{pid}-0123456789abcdef", ".b1.partial-1-0123456789abcdef"]
    for name in look_alikes:
        (target.parent / name).mkdir()
        (target.parent / name / "summary.csv").write_bytes(b"mine")
    # a signed marker whose token is not the one in the folder's name proves nothing
    (target.parent / look_alikes[3] / output_folder.MARKER).write_text(json.dumps(
        {"signature": signed_folder.SIGNATURE, "kind": "run output", "token": "f" * 16, "files": None}))
    dead = target.parent / f".b1.building-{pid}-fedcba9876543210"
    dead.mkdir()
    (dead / output_folder.MARKER).write_text(json.dumps(
        {"signature": signed_folder.SIGNATURE, "kind": "run output", "token": "fedcba9876543210", "files": None}))
    before = {name: _tree(target.parent / name) for name in look_alikes}
    _write_output(target, {"summary.csv": b"ours"})
    assert not dead.exists()
    assert {name: _tree(target.parent / name) for name in look_alikes} == before


def test_a_replacement_killed_between_its_renames_is_put_back(tmp_path):
    target = tmp_path / "results" / "backtests" / "b1"
    _write_output(target, {"summary.csv": b"first"})
    token = json.loads((target / output_folder.MARKER).read_text())["token"]
    old = target.parent / f".b1.old-{_dead_pid()}-{token}"
    os.rename(target, old)  # where a kill -9 after the first rename leaves it
    _write_output(target, {"summary.csv": b"second"})
    assert (target / "summary.csv").read_bytes() == b"second" and not old.exists()


def test_an_error_while_writing_leaves_the_earlier_output_and_no_temporary_folder(tmp_path):
    target = tmp_path / "results" / "backtests" / "b1"
    _write_output(target, {"summary.csv": b"first"})
    before = _tree(target)
    with pytest.raises(RuntimeError):
        with output_folder.written_whole(target) as folder:
            (folder / "summary.csv").write_bytes(b"half")
            raise RuntimeError("failed midway")
    assert _tree(target) == before and sorted(p.name for p in target.parent.iterdir()) == ["b1"]


def test_the_about_dict_goes_into_the_marker_and_the_kinds_do_not_vouch_for_each_other(tmp_path):
    target = tmp_path / "demo"
    with signed_folder.replacing(target, signed_folder.DEMO_RAW, {"settings": {"demo_seed": 1}}) as staging:
        (staging / "actions.parquet").write_bytes(b"x")
    marker = json.loads((target / "demo.json").read_text())
    assert marker["settings"] == {"demo_seed": 1} and signed_folder.problem(target, signed_folder.DEMO_RAW) is None
    with pytest.raises(PipelineError, match="holds a generated demo set \\(demo.json\\), not a imported log"):
        signed_folder.check_replaceable(target, signed_folder.IMPORTED_RAW, "raw_dir")


def test_an_unwritable_parent_is_one_line(tmp_path):
    with pytest.raises(PipelineError, match="cannot write beside it in /proc"):
        _write_output("/proc/results/backtests/b1", {"summary.csv": b"x"})
