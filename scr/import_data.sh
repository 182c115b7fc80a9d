#!/bin/sh
# Converts a public e-commerce log into the raw-data format (docs/real_logs.md), e.g.:
#   sh scr/import_data.sh taobao UserBehavior.csv raw_dir=ddata/taobao
# Formats: taobao, tmall, jdata2017, jdata2019, retailrocket, csv (your own, with a column mapping).
# Paths are taken from where the command is run (no cd, so relative SOURCE paths work); the default
# raw_dir is the project's ddata/raw.
set -e
root="$(cd "$(dirname "$0")/.." && pwd)"
. "$root/scr/python_env.sh"
PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}" "$PYTHON" -m preprocessing.sources.importers "$@"
