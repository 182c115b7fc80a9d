#!/bin/sh
# Builds the training, dev and test arrays in ddata/processed/ from the raw log in ddata/raw/.
# Settings as key=value, e.g.: sh scr/pre_processing.sh max_len=50
set -e
cd "$(dirname "$0")/.."
. scr/python_env.sh
"$PYTHON" -m preprocessing.pipeline.build_dataset "$@"
