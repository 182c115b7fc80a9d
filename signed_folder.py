"""A folder this program writes whole and signs: built in a hidden folder beside its destination,
sealed with a marker listing every file in it, renamed over the destination at the end. The processed
dataset, the demo and the imported raw folders and every run output (forecast, export, study report,
backtest) are written this way, so one check decides what may be replaced.

Only what this program provably wrote is ever renamed or deleted. A marker (the file KIND.marker
inside the folder) holds SIGNATURE, the kind of folder, a random token that is also in the temporary
folder's name and, once sealed, the folder's inode (a marker copied into another folder vouches for
nothing there) and the size, modification time and (raw folders: a user's data) BLAKE2b digest of
every file, plus what its writer adds (settings, a summary). A destination is replaced only when it is absent, empty,
or a sealed folder of the same kind holding nothing unlisted whose files are still as sealed; in a
derived folder (rebuilt from other files) a listed file that changed is damage and is written over.
Anything else stops the run with a one-line PipelineError and is left exactly as it is.

    with replacing(target, RUN_OUTPUT) as staging:  # an empty folder to write into; about= goes into the marker
        ...
    problem(folder, DEMO_RAW)          # why folder is not exactly as this program sealed it; None when it is
    check_replaceable(target, KIND)    # PipelineError unless replacing target loses nothing of anyone else's
    staging = stage(target, KIND); swap_in(staging, target, KIND, about); discard(staging)  # the steps
"""
import contextlib
import dataclasses
import hashlib
import json
import os
import pathlib
import re
import secrets
import shutil
import sys

from errors import PipelineError

SIGNATURE = "purchase-prediction signed folder"
_TOKEN_CHARS = 16
_EXAMPLES = 5


@dataclasses.dataclass(frozen=True)
class Kind:
    name: str  # written into the marker: a marker of one kind never vouches for another kind of folder
    marker: str  # the marker's file name inside the folder
    derived: bool  # rebuilt from other files: a listed file that changed is damage, written over
    digests: bool  # seal each file's digest too, so a copy with new times still verifies (costly on GiBs)


PROCESSED = Kind("processed dataset", ".dataset-folder.json", derived=True, digests=False)
DEMO_RAW = Kind("generated demo set", "demo.json", derived=False, digests=True)
IMPORTED_RAW = Kind("imported log", "imported.json", derived=False, digests=True)
RUN_OUTPUT = Kind("run output", ".output-folder.json", derived=True, digests=False)
KINDS = (PROCESSED, DEMO_RAW, IMPORTED_RAW, RUN_OUTPUT)


def _digest(path):
    with open(path, "rb") as file:
        return hashlib.file_digest(file, lambda: hashlib.blake2b(digest_size=16)).hexdigest()


def _read_marker(folder, kind):
    """The folder's marker of this kind as a dict when it carries the signature, else None."""
    try:
        marker = json.loads((folder / kind.marker).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (not isinstance(marker, dict) or marker.get("signature") != SIGNATURE or marker.get("kind") != kind.name
            or not isinstance(marker.get("token"), str)):
        return None
    files = marker.get("files")
    if files is not None and not (isinstance(files, dict) and all(
            isinstance(f, dict) and {"bytes", "mtime_ns", "blake2b"} <= f.keys() for f in files.values())):
        return None
    return marker


def _write_marker(folder, kind, content):
    """Written beside and renamed into place, so a kill never leaves a half-written marker."""
    temporary = folder / f"{kind.marker}.{os.getpid()}"
    temporary.write_text(json.dumps(content, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(temporary, folder / kind.marker)


def _contents(folder, kind):
    """Every file (or link) and every folder under folder, as relative POSIX paths, the marker left out."""
    files, folders = set(), set()
    for root, dirs, names in os.walk(folder):
        relative = os.path.relpath(root, folder)
        prefix = "" if relative == "." else relative.replace(os.sep, "/") + "/"
        folders.update(prefix + d for d in dirs if not os.path.islink(os.path.join(root, d)))
        files.update(prefix + n for n in names)
        files.update(prefix + d for d in dirs if os.path.islink(os.path.join(root, d)))
    files.discard(kind.marker)
    return files, folders


def _survey(folder, kind, home=True):
    """(sealed marker or None, paths the marker does not list, listed files missing or changed); with
    home, a marker sealed in another folder (copied with it or alone) counts as none."""
    marker = _read_marker(folder, kind)
    sealed = marker if marker is not None and marker["files"] is not None else None
    if sealed and home and not _is_home(folder, sealed):
        sealed = None
    listed = sealed["files"] if sealed else {}
    files, folders = _contents(folder, kind)
    parents = {"/".join(path.split("/")[:depth]) for path in listed for depth in range(1, path.count("/") + 1)}
    foreign = (files - listed.keys()) | (folders - parents)
    # a foreign folder is named only when nothing inside it is: the deepest paths say the most
    foreign = sorted(path for path in foreign if not any(other.startswith(path + "/") for other in foreign))
    changed = sorted(path for path, entry in listed.items() if not _as_sealed(folder / path, entry))
    return sealed, foreign, changed


def _is_home(folder, marker):
    """True when marker was sealed in folder itself (renames keep a folder's inode; copies do not)."""
    return marker.get("inode") == os.stat(folder).st_ino


def _as_sealed(path, sealed):
    """True when path is a plain file still as sealed: same size, and same time or else (when sealed
    with one) the same digest."""
    try:
        status = os.lstat(path)
    except OSError:
        return False
    if not os.path.isfile(path) or os.path.islink(path) or status.st_size != sealed["bytes"]:
        return False
    return status.st_mtime_ns == sealed["mtime_ns"] or (sealed["blake2b"] is not None
                                                        and _digest(path) == sealed["blake2b"])


def _other_kind(folder, kind):
    """Another kind whose signed marker folder holds (a demo set where an import is to go), or None."""
    return next((other for other in KINDS if other != kind and _read_marker(folder, other)), None)


def problem(folder, kind):
    """Why folder's contents are not those of a folder of this kind as this program sealed it; None
    when they are (a whole copy's too: replacing one needs its own seal, check_replaceable)."""
    folder = pathlib.Path(folder)
    if not folder.is_dir():
        return "it is not a folder"
    marker, foreign, changed = _survey(folder, kind, home=False)
    if marker is None:
        return f"it has no {kind.marker} signed by this program as a sealed {kind.name}"
    if foreign:
        return f"it holds {len(foreign)} paths its {kind.marker} does not list ({', '.join(foreign[:_EXAMPLES])})"
    if changed:
        return f"{', '.join(changed[:_EXAMPLES])} changed since this program wrote them"
    return None


def _named(target, setting):
    return f"{setting}={target}" if setting else str(target)


def check_replaceable(target, kind, setting=""):
    """PipelineError unless target is absent, an empty folder or a sealed folder of this kind that
    holds nothing unlisted (and, unless the kind is derived, nothing changed); replacing it then loses
    nothing of anyone else's. Returns the listed files that changed (damage in a derived folder)."""
    target = pathlib.Path(target)
    where = _named(target, setting)
    if not os.path.lexists(target):
        return []
    if target.is_symlink() or not target.is_dir():
        raise PipelineError(f"{where}: exists and is not a folder; choose another")
    if not any(target.iterdir()):
        return []
    marker, foreign, changed = _survey(target, kind)
    choose = f"choose another with {setting}=..." if setting else "choose another folder"
    if marker is None:
        signed = _other_kind(target, kind)
        named = next((k for k in (kind,) + KINDS if (target / k.marker).exists()), None)
        if signed:
            what = f"a {signed.name} ({signed.marker}), not a {kind.name}"
        elif named:
            what = (f"files that this program did not write ({named.marker} is not the marker of a sealed "
                    f"{named.name} of this folder signed by this program; e.g. {', '.join(foreign[:_EXAMPLES])})")
        else:
            what = f"files that this program did not write (no {kind.marker}; e.g. {', '.join(foreign[:_EXAMPLES])})"
        raise PipelineError(f"{where} holds {what}; it is left as it is: move it away or {choose}")
    if foreign:
        raise PipelineError(f"{where} holds {len(foreign)} paths that this program did not write "
                            f"({', '.join(foreign[:_EXAMPLES])}); move it away or {choose}")
    if changed and not kind.derived:
        raise PipelineError(f"{where} holds {', '.join(changed[:_EXAMPLES])} changed since this program wrote them, "
                            f"so they may be someone's data; move it away or {choose}")
    return changed


def _leftover_pattern(target):
    """Names of this program's temporary folders beside target: kind, pid, token."""
    return re.compile(rf"\.{re.escape(target.name)}\.(building|old)-(\d{{1,7}})-([0-9a-f]{{{_TOKEN_CHARS}}})")


def _is_running(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clear_leftovers(target, kind):
    """Deletes the temporary folders of dead writers beside target; puts back a folder whose replacement
    died between its two renames. Anything without this program's marker and token is left alone."""
    target = pathlib.Path(target)
    if not target.parent.is_dir():
        return
    pattern = _leftover_pattern(target)
    for leftover in sorted(target.parent.iterdir()):
        match = pattern.fullmatch(leftover.name)
        if not match or not leftover.is_dir() or leftover.is_symlink():
            continue
        state, pid, token = match.groups()
        marker = _read_marker(leftover, kind)
        if marker is None or marker["token"] != token or _is_running(int(pid)):
            continue
        sealed, foreign, _ = _survey(leftover, kind)
        if state == "building":
            # a dead build's child process may still be writing into it: what remains goes next time
            shutil.rmtree(leftover, ignore_errors=True)
        elif not os.path.lexists(target) and sealed is not None:
            os.rename(leftover, target)
        elif not foreign:
            shutil.rmtree(leftover)
        else:
            print(f"left {leftover} as it is: it holds files this program did not write", file=sys.stderr)


def stage(target, kind, setting=""):
    """A new empty temporary folder beside target, marked as this program's, after checking that target
    may be replaced (and clearing dead writers' leftovers)."""
    target = pathlib.Path(target)
    check_replaceable(target, kind, setting)
    token = secrets.token_hex(_TOKEN_CHARS // 2)
    staging = target.parent / f".{target.name}.building-{os.getpid()}-{token}"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        clear_leftovers(target, kind)
        staging.mkdir()
        _write_marker(staging, kind, {"signature": SIGNATURE, "kind": kind.name, "token": token, "files": None})
    except OSError as err:
        raise PipelineError(f"{_named(target, setting)}: cannot write beside it in {target.parent} "
                            f"({err.strerror or err}); choose a writable folder") from None
    return staging


def _sealed_files(staging, kind):
    files, _ = _contents(staging, kind)
    sealed = {}
    for path in sorted(files):
        status = os.lstat(staging / path)
        sealed[path] = {"bytes": status.st_size, "mtime_ns": status.st_mtime_ns,
                        "blake2b": _digest(staging / path) if kind.digests and os.path.isfile(staging / path) else None}
    return sealed


def swap_in(staging, target, kind, about=None, setting=""):
    """Seals staging (every file it holds, whoever put it there, plus the about dict) and renames it over
    target; the previous folder is kept under a marked name between the two renames, so a kill leaves
    one of them (clear_leftovers puts it back). Returns the damaged files written over."""
    target = pathlib.Path(target)
    token = _read_marker(staging, kind)["token"]
    content = dict(about or {})
    content.update({"signature": SIGNATURE, "kind": kind.name, "token": token, "inode": os.stat(staging).st_ino,
                    "files": _sealed_files(staging, kind)})
    _write_marker(staging, kind, content)
    if not os.path.lexists(target) or (target.is_dir() and not target.is_symlink() and not any(target.iterdir())):
        os.rename(staging, target)  # over an empty folder too: rename(2) replaces it in one step
        return []
    damaged = check_replaceable(target, kind, setting)  # again: something may have appeared there meanwhile
    old = target.parent / f".{target.name}.old-{os.getpid()}-{_read_marker(target, kind)['token']}"
    os.rename(target, old)
    os.rename(staging, target)
    shutil.rmtree(old)
    return damaged


def discard(staging, kind):
    """Deletes a temporary folder of this process after a failure (when it is still marked as ours)."""
    staging = pathlib.Path(staging)
    if staging.is_dir() and _read_marker(staging, kind) is not None:
        shutil.rmtree(staging, ignore_errors=True)


@contextlib.contextmanager
def replacing(target, kind, about=None, setting=""):
    """Yields an empty temporary folder beside target; when the block ends without error it is sealed
    with the about dict (which the block may still fill) and renamed over target; on an error, removed."""
    staging = stage(target, kind, setting)
    try:
        yield staging
        swap_in(staging, target, kind, about, setting)
    except BaseException:
        discard(staging, kind)
        raise
