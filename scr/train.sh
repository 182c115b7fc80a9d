#!/bin/sh
# Trains config.py's model (or model=...) on the processed data, building it first when missing or
# stale, and prints dev and test metrics; each seed appends a row to ddata/results/runs.csv, e.g.:
#   sh scr/train.sh config=configs/demo.py model=DIN seeds=[16,17,18]
set -e
cd "$(dirname "$0")/.."
. scr/python_env.sh
exec "$PYTHON" main_func.py "$@"
