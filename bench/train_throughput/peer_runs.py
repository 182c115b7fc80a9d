"""The peers: DeepCTR (TensorFlow) and deepctr-torch (PyTorch), each in a virtual environment of its
own under bench/.venvs/, made from bench/peers/requirements-<peer>.txt when missing or broken."""
import subprocess
import sys
from pathlib import Path

from bench.train_throughput.processes import run_process, timing_options

BENCH = Path(__file__).resolve().parent.parent
PEERS = BENCH / "peers"
VENVS = BENCH / ".venvs"
# The peers' layer sizes; our models are run at these sizes for the comparison.
PEER_SIZES = {"mlp_units": [256, 128, 64], "attention_units": [80, 40]}
# (model, peer environment, runner script); the runners' docstrings say how each model is run.
PEER_RUNS = [("DIN", "deepctr", "run_deepctr.py"), ("DIN", "deepctr-torch", "run_deepctr_torch.py"),
             ("DIEN", "deepctr", "run_deepctr.py"), ("DIEN", "deepctr-torch", "run_deepctr_torch.py")]
PEER_NAMES = {"deepctr": "DeepCTR", "deepctr-torch": "deepctr-torch"}
# What each environment must import once its requirements are in.
PEER_CHECK = {"deepctr": "deepctr, tf_keras", "deepctr-torch": "deepctr_torch, torch"}


def ensure_venv(peer):
    """The peer's python, after making its environment (system packages visible, so the installed
    TensorFlow and numpy are shared) if it cannot import the peer."""
    venv = VENVS / peer
    python = venv / "bin" / "python"
    check = [str(python), "-c", f"import {PEER_CHECK[peer]}"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    print(f"  making bench/.venvs/{peer}", flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(PEERS / f"requirements-{peer}.txt")],
                   check=True)
    subprocess.run(check, check=True, capture_output=True)
    return python


def run_peer(folder, peer, script, model, args):
    """The peer's result for `model` on the arrays of `folder`, or {"error": why it could not run}."""
    print(f"  {peer} {model}", flush=True)
    try:
        python = ensure_venv(peer)
    except subprocess.CalledProcessError as err:
        return {"error": f"could not make bench/.venvs/{peer}: {err}"}
    return run_process([str(python), str(PEERS / script), "--data", folder, "--model", model,
                        *timing_options(args)])
