"""An output folder (a run's forecast, its exported model, a study's report) written whole: built in a hidden folder
beside it and renamed over it at the end, so a killed run never leaves half an output.

An earlier folder is replaced only when it is provably this program's: its marker (MARKER) carries
SIGNATURE and lists every file in it. Anything else there stops the run with an error and is left
exactly as it is.

    with written_whole(run_dir / "forecast") as folder:    # an empty folder to write into
        ...
"""
import contextlib
import json
import os
import secrets
import shutil
from pathlib import Path

from errors import PipelineError

MARKER = ".output-folder.json"
SIGNATURE = "purchase-prediction run output"


def _files(folder):
    return sorted(str(path.relative_to(folder).as_posix()) for path in folder.rglob("*")
                  if not path.is_dir() and path.name != MARKER)


def is_ours(folder):
    """True when folder holds exactly the files its marker lists, under this program's signature."""
    try:
        marker = json.loads((folder / MARKER).read_text())
    except (OSError, ValueError):
        return False
    return isinstance(marker, dict) and marker.get("signature") == SIGNATURE and marker.get("files") == _files(folder)


def _unlisted(folder):
    """The files in folder that its marker does not list (all of them without a marker of ours)."""
    try:
        marker = json.loads((folder / MARKER).read_text())
        listed = set(marker["files"]) if marker.get("signature") == SIGNATURE else set()
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        listed = set()
    return [name for name in _files(folder) if name not in listed]


def check_replaceable(target):
    if not os.path.lexists(target) or (target.is_dir() and not target.is_symlink() and is_ours(target)):
        return
    unlisted = _unlisted(target) if target.is_dir() and not target.is_symlink() else []
    named = f" ({', '.join(unlisted[:3])})" if unlisted else ""
    raise PipelineError(f"{target}: holds something this program did not write{named}; move it away")


@contextlib.contextmanager
def written_whole(target):
    """Yields an empty hidden folder beside target; when the block ends without error, the folder is
    sealed (its marker lists its files) and renamed over target; on an error it is removed."""
    target = Path(target)
    check_replaceable(target)
    token = f"{os.getpid()}-{secrets.token_hex(8)}"
    partial = target.with_name(f".{target.name}.partial-{token}")
    partial.mkdir(parents=True)
    try:
        yield partial
        (partial / MARKER).write_text(json.dumps({"signature": SIGNATURE, "files": _files(partial)}) + "\n")
        check_replaceable(target)  # again: something may have appeared there meanwhile
        old = target.with_name(f".{target.name}.old-{token}")
        if target.exists():
            target.rename(old)
        partial.rename(target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    if old.exists():
        shutil.rmtree(old)
