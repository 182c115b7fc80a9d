#!/bin/sh
# Installs the requirements (with the test ones) if missing, then runs the whole test suite, one test
# file per worker process (TEST_WORKERS, default 2: this machine's cores), so a file's module-scoped
# fixtures are built once.
set -e
cd "$(dirname "$0")/.."
PYTHON=$(sh scr/install_requirements.sh dev)
export PYTHON
"$PYTHON" -m pytest -q -n "${TEST_WORKERS:-2}" --dist loadfile tests "$@"
