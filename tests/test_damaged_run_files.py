"""What a careless user does to the files of a finished run and its dataset: a processed array damaged,
cut, of the wrong length or holding an id beyond its vocabulary, a file added; runs.csv written by
another program, cut short or binary; damaged weights or predictions; a results_dir that cannot be
written. Each is rebuilt (a damaged processed file: the dataset's signed marker tells) or one line
naming the file, and nothing this program did not write is changed."""
import csv
import json
import os

import numpy as np
import pytest

import main_func
from errors import PipelineError, run_cli
from preprocessing.pipeline import build_dataset
from preprocessing.sources import make_demo_data
from training.record import runs_log
from training.record.predictions import read_predictions
from training.serving import forecast
from training.studies import comparison, report

SETTINGS = ["demo_users=300", "demo_items=200", "demo_categories=12", "max_len=10", "embed_dim=8",
            "mlp_units=[16,8]", "batch_size=256", "eval_batch_size=4096", "eval_every=10", "patience=1",
            "max_epochs=1", "w2v_epochs=1", "seeds=[1]", "model=DNN"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A tiny demo log, its dataset and one DNN run; each test works on a copy of its folders."""
    root = tmp_path_factory.mktemp("damaged")
    settings = [f"raw_dir={root / 'raw'}", f"processed_dir={root / 'processed'}", f"results_dir={root / 'results'}",
                *SETTINGS]
    assert run_cli(make_demo_data.main, settings) == 0
    row = main_func.main(settings)[0]
    return root, settings, row


def _tree(folder):
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else None for p in sorted(folder.rglob("*"))}


def _one_error_line(capsys, command, settings):
    assert run_cli(command, settings) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    return err


# ---------------------------------------------------------------- the processed data's id check

def _save_like(path, make):
    """Writes make(the array at path) over it, as a user's script would."""
    array = np.load(path)
    np.save(path, make(array))


DAMAGE = {
    "cut short": lambda path: path.write_bytes(path.read_bytes()[:-7]),
    "bytes overwritten": lambda path: path.write_bytes(path.read_bytes()[:200] + b"\x01" * 8 + path.read_bytes()[208:]),
    "a row too few": lambda path: _save_like(path, lambda a: a[:-1]),
    "an item id beyond the vocabulary": lambda path: _save_like(path, lambda a: a + 10_000),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
@pytest.mark.parametrize("name", ["train/item.npy", "vocab/item.npy", "item2vec.npy"])
def test_a_damaged_processed_file_is_noticed_and_rebuilt(run, capsys, damage, name):
    root, settings, _ = run
    processed = root / "processed"
    before = _tree(processed)
    DAMAGE[damage](processed / name)
    assert run_cli(build_dataset.main, settings) == 0
    out = capsys.readouterr().out
    assert f"{processed} is up to date but {name} changed since this program wrote them; rebuilding it" in out
    assert _tree(processed) == {**before, ".dataset-folder.json": (processed / ".dataset-folder.json").read_bytes()}
    assert run_cli(build_dataset.main, settings) == 0
    assert "reusing it" in capsys.readouterr().out


def test_a_file_added_to_the_processed_data_is_named_not_deleted(run, capsys):
    root, settings, _ = run
    added = root / "processed" / "train" / "my_feature.npy"
    np.save(added, np.zeros(3))
    err = _one_error_line(capsys, build_dataset.main, settings)
    assert "holds 1 paths that this program did not write (train/my_feature.npy)" in err
    assert added.is_file()
    added.unlink()


# ---------------------------------------------------------------- runs.csv

FOREIGN = {
    "another program's": "model,score\nmine,0.5\n",
    "columns reordered": "seed,run_id,model\n1,r1,DNN\n",
    "empty": "",
    "binary": "run_id,model\n\x00\x01\udcff",
    "cut short": None,  # the real file less its last bytes
    "a number that is not": None,  # the real file with one metric replaced by text
}


def _foreign_runs_csv(path, kind):
    if kind == "cut short":
        path.write_bytes(path.read_bytes()[:-9])
    elif kind == "a number that is not":
        rows = list(csv.reader(path.open(newline="")))
        rows[1][rows[0].index("dev_main_auc")] = "good"
        with path.open("w", newline="") as handle:
            csv.writer(handle).writerows(rows)
    else:
        path.write_bytes(FOREIGN[kind].encode("utf-8", "surrogateescape"))


@pytest.mark.parametrize("kind", sorted(FOREIGN))
def test_a_foreign_or_damaged_runs_csv_is_one_line_everywhere_and_never_rewritten(run, capsys, tmp_path, kind):
    root, settings, _ = run
    path = root / "results" / "runs.csv"
    kept = path.read_bytes()
    try:
        _foreign_runs_csv(path, kind)
        before = path.read_bytes()
        for command, extra in ((main_func.main, []), (comparison.main, []), (forecast.main, []),
                               (report.main, ["study=mine"])):
            err = _one_error_line(capsys, command, settings + extra)
            assert f"{path}" in err, err
            assert path.read_bytes() == before
        assert not list((root / "results").glob(".runs.csv*"))
    finally:
        path.write_bytes(kept)


def test_an_older_runs_csv_of_this_program_gets_the_new_columns_appended_rows_in_place(tmp_path):
    older = "run_id,model,seed\nr1,DIN,16\n"
    (tmp_path / "runs.csv").write_text(older)
    runs_log.append_run(tmp_path, {"run_id": "r2", "model": "DNN", "seed": 17})
    rows = list(csv.DictReader((tmp_path / "runs.csv").open(newline="")))
    assert [(r["run_id"], r["model"], r["seed"]) for r in rows] == [("r1", "DIN", "16"), ("r2", "DNN", "17")]


def test_a_runs_csv_with_all_columns_in_another_order_is_appended_to_in_its_order(tmp_path):
    columns = list(reversed(runs_log.COLUMNS))
    columns.remove("run_id")
    header = ",".join(["run_id", *columns]) + "\n"
    (tmp_path / "runs.csv").write_text(header)
    runs_log.append_run(tmp_path, {"run_id": "r2", "model": "DNN", "seed": 17})
    text = (tmp_path / "runs.csv").read_text()
    assert text.startswith(header) and text.count("\n") == 2
    assert list(csv.DictReader(text.splitlines()))[0]["model"] == "DNN"


# ---------------------------------------------------------------- a run's own files

def test_damaged_best_weights_are_one_line_in_predict(run, capsys):
    root, settings, row = run
    weights = root / "results" / row["run_id"] / "best.weights.h5"
    kept = weights.read_bytes()
    try:
        for damaged in (kept[:len(kept) // 2], b"\x00" * len(kept)):
            weights.write_bytes(damaged)
            err = _one_error_line(capsys, forecast.main, settings)
            assert f"{weights}: truncated, corrupt or of another network" in err
            assert not (root / "results" / row["run_id"] / "forecast").exists()
    finally:
        weights.write_bytes(kept)


@pytest.mark.parametrize("damaged", [b"", b"PAR1 not really", "cut"])
def test_damaged_predictions_are_one_line(run, damaged):
    root, _, row = run
    path = root / "results" / row["run_id"] / "predictions.parquet"
    kept = path.read_bytes()
    try:
        path.write_bytes(kept[:len(kept) // 2] if damaged == "cut" else damaged)
        with pytest.raises(PipelineError, match=f"{path}: truncated or corrupt") as caught:
            read_predictions(path.parent)
        assert "\n" not in str(caught.value)
    finally:
        path.write_bytes(kept)


def test_a_damaged_vocabulary_is_rebuilt_when_predicting(run, capsys):
    root, settings, row = run
    vocab = root / "processed" / "vocab" / "user.npy"
    kept = vocab.read_bytes()
    vocab.write_bytes(kept[:100])
    assert run_cli(forecast.main, settings) == 0
    assert "vocab/user.npy changed since this program wrote them; rebuilding it" in capsys.readouterr().out
    assert vocab.read_bytes() == kept
    assert (root / "results" / row["run_id"] / "forecast" / "items_by_user.csv").is_file()


def test_an_unwritable_results_dir_is_one_line_before_training(run, capsys):
    _, settings, _ = run
    err = _one_error_line(capsys, main_func.main, settings + ["results_dir=/proc/results"])
    assert err.startswith("error: results_dir=/proc/results: cannot be written")
    err = _one_error_line(capsys, forecast.main, settings + ["results_dir=/proc/results"])
    assert "/proc/results/runs.csv: no runs recorded yet" in err
    assert not os.path.exists("/proc/results")


def test_a_dev_curve_that_is_not_json_is_one_line(run):
    root, _, row = run
    from training.record.dev_curve import read_dev_curve
    path = root / "results" / row["run_id"] / "dev_curve.json"
    kept = path.read_bytes()
    try:
        for damaged in (kept[:len(kept) // 2], b"\xff\xfe", b"[1, 2]"):
            path.write_bytes(damaged)
            with pytest.raises(PipelineError, match=f"{path}: "):
                read_dev_curve(path.parent)
    finally:
        path.write_bytes(kept)
    assert json.loads(path.read_text())
