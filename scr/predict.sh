#!/bin/sh
# Forecast of the days after the log ends: scores the open window with a run's best weights and writes
# ddata/results/<run id>/forecast/ (scores.parquet, buyers_by_item.csv, items_by_user.csv with reasons).
#   sh scr/predict.sh [run=<run id>|best] [top_k=100] [key=value ...]
# run=best (the default): the best dev Main AUC in runs.csv on the current dataset and model settings.
set -e
cd "$(dirname "$0")/.."
. scr/python_env.sh
"$PYTHON" -m training.serving.forecast "$@"
