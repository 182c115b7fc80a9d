# Sourced by the scripts in scr/ from the project's root (or with $root set to it): the interpreter
# is $PYTHON when set, else the project's own .venv/ (which install_requirements.sh makes where
# python3 may not be changed, PEP 668), else python3.
if [ -z "${PYTHON:-}" ]; then
    if [ -x "${root:-$(pwd)}/.venv/bin/python" ]; then
        PYTHON="${root:-$(pwd)}/.venv/bin/python"
    else
        PYTHON=python3
    fi
fi
export PYTHON
