"""The processed folder's life: built in a hidden temporary folder beside it, renamed over it at the
end, leftovers of killed builds cleared on the next run.

Only what this program provably made is ever renamed or deleted: every folder it makes holds a
marker file (MARKER) with SIGNATURE and a random token that is also in the folder's name, and a
finished dataset's marker lists every file written. A folder without a matching marker, or holding
a file its marker does not list, is left exactly as it is.

    clear_leftovers(processed)           # before a build: temporary folders of dead builds
    check_replaceable(processed)         # PipelineError unless absent, empty or an intact dataset
    building = new_building(processed)   # the empty temporary folder (marker inside) to write into
    replace(building, processed)         # seals the file list and renames building over processed
    discard(building)                    # after a failure in this process
"""
import json
import os
import re
import secrets
import shutil
import sys

from errors import PipelineError

MARKER = ".dataset-folder.json"
SIGNATURE = "purchase-prediction processed dataset"
_TOKEN_CHARS = 16
_EXAMPLES = 5


def _leftover_pattern(processed):
    """Names of this program's temporary folders beside processed: kind, pid, token."""
    return re.compile(rf"\.{re.escape(processed.name)}\.(building|old)-(\d{{1,7}})-([0-9a-f]{{{_TOKEN_CHARS}}})")


def _marker(folder):
    """The folder's marker as a dict when it is this program's, else None."""
    try:
        marker = json.loads((folder / MARKER).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(marker, dict) or marker.get("signature") != SIGNATURE or not isinstance(marker.get("token"), str):
        return None
    files = marker.get("files")
    if files is not None and not (isinstance(files, list) and all(isinstance(f, str) for f in files)):
        return None
    return marker


def _write_marker(folder, token, files):
    """Written beside and renamed into place, so a kill never leaves a half-written marker."""
    temporary = folder / f"{MARKER}.{os.getpid()}"
    temporary.write_text(json.dumps({"signature": SIGNATURE, "token": token, "files": files}) + "\n")
    os.replace(temporary, folder / MARKER)


def _contents(folder):
    """Every file (or link) and every folder under folder, as relative POSIX paths, the marker left out."""
    files, folders = set(), set()
    for root, dirs, names in os.walk(folder):
        relative = os.path.relpath(root, folder)
        prefix = "" if relative == "." else relative.replace(os.sep, "/") + "/"
        folders.update(prefix + d for d in dirs if not os.path.islink(os.path.join(root, d)))
        files.update(prefix + n for n in names)
        files.update(prefix + d for d in dirs if os.path.islink(os.path.join(root, d)))
    files.discard(MARKER)
    return files, folders


def _foreign(folder, marker):
    """Paths under folder that its marker does not list (all of them when there is no sealed marker)."""
    files, folders = _contents(folder)
    listed = set(marker["files"]) if marker and marker.get("files") is not None else set()
    parents = {"/".join(path.split("/")[:depth]) for path in listed for depth in range(1, path.count("/") + 1)}
    foreign = (files - listed) | (folders - parents)
    # a foreign folder is named only when nothing inside it is: the deepest paths say the most
    return sorted(path for path in foreign if not any(other.startswith(path + "/") for other in foreign))


def _is_running(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clear_leftovers(processed):
    """Deletes the temporary folders of dead builds; puts back a dataset whose replacement died
    between its two renames. Anything without this program's marker is left alone."""
    pattern = _leftover_pattern(processed)
    for leftover in sorted(processed.parent.iterdir()):
        match = pattern.fullmatch(leftover.name)
        if not match or not leftover.is_dir() or leftover.is_symlink():
            continue
        kind, pid, token = match.groups()
        marker = _marker(leftover)
        if marker is None or marker["token"] != token or _is_running(int(pid)):
            continue
        if kind == "building":
            # the dead build's item2vec child may still be writing into it: what remains goes next time
            shutil.rmtree(leftover, ignore_errors=True)
        elif not os.path.lexists(processed) and marker.get("files") is not None:
            os.rename(leftover, processed)
        elif not _foreign(leftover, marker):
            shutil.rmtree(leftover)
        else:
            print(f"preprocessing: left {leftover} as it is: it holds files this program did not write",
                  file=sys.stderr)


def check_replaceable(processed):
    """PipelineError unless processed is absent, an empty folder or a dataset this program wrote
    with nothing added: replacing it must never delete anything else."""
    if not os.path.lexists(processed):
        return
    if processed.is_symlink() or not processed.is_dir():
        raise PipelineError(f"processed_dir={processed}: exists and is not a folder")
    if not any(processed.iterdir()):
        return
    marker = _marker(processed)
    foreign = _foreign(processed, marker)
    if marker is None or marker.get("files") is None:
        raise PipelineError(f"processed_dir={processed} holds files that this program did not write (no {MARKER} "
                            f"of a finished dataset; e.g. {', '.join(foreign[:_EXAMPLES])}); move them away, "
                            "delete an older dataset yourself, or choose another processed_dir")
    if foreign:
        raise PipelineError(f"processed_dir={processed} holds {len(foreign)} paths that this program did not write "
                            f"({', '.join(foreign[:_EXAMPLES])}); move them away or choose another processed_dir")


def new_building(processed):
    """A new empty temporary folder beside processed, marked as this program's."""
    token = secrets.token_hex(_TOKEN_CHARS // 2)
    building = processed.parent / f".{processed.name}.building-{os.getpid()}-{token}"
    building.mkdir()
    _write_marker(building, token, None)
    return building


def replace(building, processed):
    """Lists every file of building in its marker, then renames it over processed; the previous
    dataset is kept under a marked name between the two renames, so a kill leaves one of them."""
    token = _marker(building)["token"]
    files, _ = _contents(building)
    _write_marker(building, token, sorted(files))
    if not os.path.lexists(processed) or (processed.is_dir() and not any(processed.iterdir())):
        os.rename(building, processed)  # over an empty folder too: rename(2) replaces it in one step
        return
    check_replaceable(processed)
    previous = _marker(processed)
    old = processed.parent / f".{processed.name}.old-{os.getpid()}-{previous['token']}"
    os.rename(processed, old)
    os.rename(building, processed)
    shutil.rmtree(old)


def discard(building):
    """Deletes a temporary folder of this process after a failure (when it is still marked as ours)."""
    if building.is_dir() and _marker(building) is not None:
        shutil.rmtree(building)
