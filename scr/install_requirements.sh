#!/bin/sh
# Installs the Python requirements when they are missing (with "dev" also the test requirements) and
# prints the interpreter to use. Where that interpreter may not be changed (a Debian or Ubuntu
# system Python, PEP 668) or has no pip, it makes the project's own .venv/ and installs there.
#   PYTHON=$(sh scr/install_requirements.sh [dev])
set -e
cd "$(dirname "$0")/.."
. scr/python_env.sh
file=requirements.txt
check="import tensorflow, keras, gensim, numpy, pandas, pyarrow, sklearn, tensorboard, matplotlib"
if [ "$1" = "dev" ]; then
    file=requirements-dev.txt
    check="$check, pytest, xdist"
fi
if ! "$PYTHON" -c "$check" >/dev/null 2>&1; then
    echo "installing $file into $PYTHON" >&2
    log=$(mktemp)
    if ! "$PYTHON" -m pip install -q -r "$file" >"$log" 2>&1; then
        if grep -q "externally-managed-environment\|No module named pip" "$log"; then
            echo "$PYTHON may not be changed here: installing into the project's .venv/ instead" >&2
            [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv >&2
            PYTHON="$(pwd)/.venv/bin/python"
            "$PYTHON" -m pip install -q -r "$file" >&2
        else
            cat "$log" >&2
            rm -f "$log"
            exit 1
        fi
    fi
    rm -f "$log"
fi
echo "$PYTHON"
