"""Multi-worker training on this machine: two worker processes on 127.0.0.1 ports
(MultiWorkerMirroredStrategy, the custom step) train a tiny ESSM on a tiny demo log.

Every process a test starts is bounded by a timeout and killed when the test ends.
"""
import csv
import json
import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

import configurator
import main_func
from errors import PipelineError
from preprocessing.pipeline import build_dataset
from preprocessing.sources import make_demo_data
from training.loop import distributed
from training.serving import saved_run

ROOT = Path(__file__).resolve().parents[1]
TINY_ESSM = ["max_len=20", "embed_dim=8", "mlp_units=[32,16]", "attention_units=[16,8]", "gru_units=16",
             "ctr_model=DIN", "cvr_model=GRU_DNN", "batch_size=512", "eval_batch_size=4096", "eval_every=10",
             "patience=100", "learning_rate=0.01", "w2v_epochs=1"]
WORKER_SECONDS = 240
# Two workers see other batches than one process (each shuffles its own shard) and keep BatchNorm
# statistics of half batches, so the same seed lands near, not on, the one-process result; the tiny
# dev split has about 30 buyers, whose AUC moves by about 0.03 between such runs.
AUC_TOLERANCE = 0.05

# A worker that also keeps its final trained weights (before the chief reloads its best ones).
KEEP_WEIGHTS = """
import sys
import numpy as np
import main_func
from training.loop import distributed
train = distributed.train
def train_and_keep(strategy, task, *args, **kwargs):
    model = train(strategy, task, *args, **kwargs)
    np.savez(sys.argv[1], *task.get_weights())
    return model
distributed.train = train_and_keep
main_func.main(sys.argv[2:])
"""


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A tiny demo log, preprocessed once (the workers only read it)."""
    root = tmp_path_factory.mktemp("distributed")
    settings = [f"raw_dir={root / 'raw'}", f"processed_dir={root / 'processed'}", "demo_users=1500",
                "demo_items=800", "demo_categories=30", "max_len=20", "embed_dim=8", "w2v_epochs=1"]
    make_demo_data.main(settings)
    build_dataset.main(settings)
    return root, settings


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def start_workers(command, count, logs):
    """count processes of command(index) with the TF_CONFIG of a loopback cluster, output in logs/."""
    workers = [f"127.0.0.1:{port}" for port in free_ports(count)]
    processes = []
    for index in range(count):
        tf_config = json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}})
        with open(logs / f"worker{index}.log", "w") as log:
            processes.append(subprocess.Popen(command(index), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                              env={**os.environ, "TF_CONFIG": tf_config}))
    return processes


def finish(processes, logs):
    """Each process's output after it ends (killed when past WORKER_SECONDS)."""
    try:
        for process in processes:
            process.wait(timeout=WORKER_SECONDS)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    return [(logs / f"worker{index}.log").read_text()[-3000:] for index in range(len(processes))]


def read_runs(results):
    with open(Path(results) / "runs.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def train_two_workers(root, run, results):
    """Trains run on two workers; checks both end with identical weights; returns the chief's row."""
    processes = start_workers(lambda index: [sys.executable, "-c", KEEP_WEIGHTS, str(root / f"weights{index}.npz"),
                                             *run, f"results_dir={results}", "distribute=multi_worker"], 2, root)
    outputs = finish(processes, root)
    assert [p.returncode for p in processes] == [0, 0], outputs
    chief, other = (np.load(root / f"weights{index}.npz") for index in range(2))
    assert len(chief.files) == len(other.files) > 20
    for name in chief.files:
        assert np.array_equal(chief[name], other[name]), name
    [row] = read_runs(results)  # only the chief writes
    assert '"distribute": "multi_worker"' in row["changed_settings"]
    return row


def test_two_workers_end_with_identical_weights_and_the_dev_auc_of_one_process(workspace):
    root, settings = workspace
    run = settings + TINY_ESSM + ["max_epochs=1", "seeds=[16]"]
    row = train_two_workers(root, run, root / "results-two-workers")
    alone = main_func.main(run + [f"results_dir={root / 'results-one-process'}"])[0]
    assert float(row["epochs"]) == alone["epochs"]
    assert abs(float(row["dev_main_auc"]) - alone["dev_main_auc"]) <= AUC_TOLERANCE
    assert float(row["dev_main_auc"]) > 0.7


def test_two_workers_with_sparse_tables_end_with_identical_weights(workspace):
    # the item table (801 ids) and the larger side tables get sparse gradients, gathered across workers
    root, settings = workspace
    row = train_two_workers(root, settings + TINY_ESSM + ["max_epochs=1", "seeds=[16]", "sparse_update_above=500"],
                            root / "results-two-workers-sparse")
    assert '"sparse_update_above": 500' in row["changed_settings"]
    assert float(row["dev_main_auc"]) > 0.7
    # the chief's best weights load as a one-process run's do, the optimizer's included
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        saved_run.load_network(configurator.load(settings + [f"results_dir={root / 'results-two-workers-sparse'}"]),
                               row["run_id"])


def test_mirrored_on_two_cpu_devices_trains_with_sparse_tables(workspace):
    # a fresh process: its CPU is split into two logical devices before TensorFlow starts
    root, settings = workspace
    results = root / "results-mirrored"
    done = subprocess.run([sys.executable, "main_func.py", *settings, *TINY_ESSM, "max_epochs=1", "seeds=[16]",
                           "distribute=mirrored", "sparse_update_above=500", f"results_dir={results}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=WORKER_SECONDS)
    assert done.returncode == 0, done.stderr[-2000:]
    [row] = read_runs(results)
    assert '"distribute": "mirrored"' in row["changed_settings"]
    # whole evaluation periods up to max_epochs, never past it
    assert 0.8 < float(row["epochs"]) <= 1.0 and float(row["dev_main_auc"]) > 0.7
    odd = subprocess.run([sys.executable, "main_func.py", *settings, *TINY_ESSM, "distribute=mirrored",
                          "batch_size=511", f"results_dir={results}"],
                         cwd=ROOT, capture_output=True, text=True, timeout=WORKER_SECONDS)
    assert "expected a multiple of the 2 replicas of distribute=mirrored" in odd.stderr  # two devices, not one


def test_killed_worker_then_the_same_command_finishes_the_run(workspace):
    root, settings = workspace
    results = root / "results-killed"
    command = ["sh", "scr/train_workers.sh", "2", *settings, *TINY_ESSM, "max_epochs=3", f"results_dir={results}"]
    env = {**os.environ, "PYTHON": sys.executable}
    log = root / "killed.log"
    with open(log, "w") as output:
        first = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
                                 start_new_session=True)
    try:
        deadline = time.monotonic() + WORKER_SECONDS
        saved = None
        while saved is None and time.monotonic() < deadline and first.poll() is None:
            states = list(results.glob(".unfinished/*/run.json"))
            saved = json.loads(states[0].read_text()) if states else None
            time.sleep(0.2)
        assert saved and saved["periods"] >= 1, "no checkpoint before the run ended"
        worker = int(log.read_text().split("worker 1: pid")[1].split()[0])
        os.kill(worker, signal.SIGKILL)
        first.wait(timeout=WORKER_SECONDS)
        assert first.returncode != 0
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait()
    assert not (results / "runs.csv").exists()

    again = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=WORKER_SECONDS)
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"resuming {saved['run_dir']}" in again.stdout
    [row] = read_runs(results)
    assert row["run_id"] == saved["run_dir"]
    assert 2.8 < float(row["epochs"]) <= 3.0  # every period, those before the kill included
    assert not list(results.glob(".unfinished/*"))  # a finished run leaves no progress behind


def _running(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not open(f"/proc/{pid}/stat").read().split(") ")[1].startswith("Z")


def test_the_workers_stop_when_train_workers_sh_is_killed(workspace, how=signal.SIGTERM):
    root, settings = workspace
    results = root / f"results-stopped-{how.name}"
    command = ["sh", "scr/train_workers.sh", "2", *settings, *TINY_ESSM, "max_epochs=50", f"results_dir={results}"]
    log = root / f"stopped-{how.name}.log"
    with open(log, "w") as output:
        script = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "PYTHON": sys.executable}, stdout=output,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    workers = []
    try:
        deadline = time.monotonic() + WORKER_SECONDS
        while not list(results.glob(".unfinished/*/run.json")) and time.monotonic() < deadline:
            assert script.poll() is None, log.read_text()[-2000:]
            time.sleep(0.2)
        workers += [int(part.split()[0]) for part in log.read_text().split(": pid ")[1:]]
        assert len(workers) == 2 and all(map(_running, workers)), "the workers were not training"
        script.send_signal(how)  # to the script alone, as `kill PID` does: not to its process group
        script.wait(timeout=60)
        deadline = time.monotonic() + 30
        while any(map(_running, workers)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(map(_running, workers)), "a worker outlived scr/train_workers.sh"
    finally:
        if script.poll() is None:
            os.killpg(script.pid, signal.SIGKILL)
        script.wait()
        for worker in filter(_running, workers):
            os.kill(worker, signal.SIGKILL)


def test_multi_worker_without_tf_config_is_a_one_line_error(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(PipelineError, match="distribute=multi_worker: expected TF_CONFIG") as error:
        distributed.make_strategy(configurator.load(["distribute=multi_worker"]))
    assert "\n" not in str(error.value)


def test_unknown_distribute_setting_is_a_one_line_error():
    with pytest.raises(PipelineError, match="distribute='horovod': expected one of none, mirrored, multi_worker"):
        configurator.load(["distribute=horovod"])
