#!/bin/sh
# Backtest: cuts the raw log at `cut`, trains the model and the baselines RULE, LR, GBDT on the part
# before, forecasts the days after and scores every list against what happened (coverage, P/R at K).
#   sh scr/backtest.sh [cut=YYYY-MM-DD] [name=...] [candidates=20] [model=...] [key=value ...]
# Writes ddata/results/backtests/<name>/ (summary.json, report.md, precision_recall.png); docs/forecast.md.
set -e
cd "$(dirname "$0")/.."
. scr/python_env.sh
"$PYTHON" -m training.serving.backtest "$@"
