#!/bin/sh
# Installs the requirements (with the test ones) if missing, then runs the whole test suite.
set -e
cd "$(dirname "$0")/.."
sh scr/install_requirements.sh dev
${PYTHON:-python3} -m pytest -q tests "$@"
