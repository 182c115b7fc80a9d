#!/bin/sh
# Installs the requirements (with the test ones) if missing, then runs the whole test suite.
set -e
cd "$(dirname "$0")/.."
PYTHON=$(sh scr/install_requirements.sh dev)
export PYTHON
"$PYTHON" -m pytest -q tests "$@"
