#!/bin/sh
# Writes a generated demo behaviour log (actions, items, users) into ddata/raw/.
# Settings as key=value, e.g.: sh scr/make_demo_data.sh demo_scale=10
set -e
cd "$(dirname "$0")/.."
. scr/python_env.sh
"$PYTHON" -m preprocessing.sources.make_demo_data "$@"
