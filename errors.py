"""The one error type users see: a one-line message, no traceback, a non-zero exit."""
import sys


class PipelineError(Exception):
    """Bad input or settings; the message names the file, column or setting and what was expected."""


def run_cli(main, *args):
    """Runs main(*args); a PipelineError becomes `error: message` on stderr and exit status 2."""
    try:
        main(*args)
    except PipelineError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0
