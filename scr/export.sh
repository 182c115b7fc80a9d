#!/bin/sh
# Exports a run's network with its best weights as a TensorFlow SavedModel into
# ddata/results/<run id>/saved_model/ (inputs: the processed feature arrays; outputs: the probabilities).
#   sh scr/export.sh [run=<run id>|best] [key=value ...]
set -e
cd "$(dirname "$0")/.."
. scr/python_env.sh
"$PYTHON" -m training.serving.export "$@"
