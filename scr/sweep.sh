#!/bin/sh
# Runs a grid of configurations, every seed of each, tagged as one study in runs.csv; run it again
# after a kill to train only what is missing. A value with commas is a grid axis, e.g.:
#   sh scr/sweep.sh model=DIN,DNN learning_rate=0.004,0.008 seeds=[16,17,18] study=lr config=configs/demo.py
# Then: sh scr/report.sh study=lr
set -e
cd "$(dirname "$0")/.."
. scr/python_env.sh
exec "$PYTHON" -m training.studies.sweep "$@"
