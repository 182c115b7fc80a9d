#!/bin/sh
# Installs the Python requirements when they are missing; with "dev" also the test requirements.
set -e
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
file=requirements.txt
check="import tensorflow, keras, gensim, numpy, pandas, pyarrow, sklearn, tensorboard"
if [ "$1" = "dev" ]; then
    file=requirements-dev.txt
    check="$check, pytest"
fi
if ! "$PYTHON" -c "$check" >/dev/null 2>&1; then
    echo "installing $file"
    "$PYTHON" -m pip install -q -r "$file"
fi
