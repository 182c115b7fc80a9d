#!/bin/sh
# Writes a study's report (Markdown table and figures) into ddata/results/studies/NAME/, e.g.:
#   sh scr/report.sh study=lr [baseline="model=DIN learning_rate=0.004"] [bootstrap=1000]
# baseline: the configuration the others are compared with (its label in the table; default the first).
set -e
cd "$(dirname "$0")/.."
. scr/python_env.sh
exec "$PYTHON" -m training.studies.report "$@"
