#!/bin/sh
# Every model's latest runs on the current processed dataset side by side (and the demo's oracle), e.g.:
#   sh scr/compare.sh config=configs/demo.py
set -e
cd "$(dirname "$0")/.."
. scr/python_env.sh
exec "$PYTHON" -m training.studies.comparison "$@"
