"""The window settings an importer proposes for the log it imported, kept in the raw folder.

`sh scr/import_data.sh` writes `proposed_settings.json` into the folder it builds; whenever that
raw_dir is processed, configurator.load takes these settings in place of config.py's, unless a
preset file or a `key=value` argument gives them (what is given explicitly wins). Only the window
settings are proposed: they are what a log's date span decides.
"""
import json
import pathlib

from errors import PipelineError

FILE = "proposed_settings.json"
SETTINGS = ("num_windows", "window_days", "window_stride_days")


def write(folder, proposal, first_day, last_day):
    """Writes the proposal {setting: value} for a log spanning first_day..last_day into folder."""
    record = {"settings": dict(proposal), "span": [str(first_day), str(last_day)],
              "note": "window settings that fit the imported log's span; used whenever this raw_dir is "
                      "processed, unless given as key=value or in a preset file"}
    (pathlib.Path(folder) / FILE).write_text(json.dumps(record, indent=1) + "\n")


def read(raw_dir):
    """The proposed settings kept in raw_dir ({} when it holds none); PipelineError naming the file
    when it is not a proposal."""
    path = pathlib.Path(raw_dir) / FILE
    if not path.is_file():
        return {}
    try:
        proposal = json.loads(path.read_text())["settings"]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError):
        proposal = None
    if not isinstance(proposal, dict) or not set(proposal) <= set(SETTINGS) or not all(
            type(v) is int and v > 0 for v in proposal.values()):
        raise PipelineError(f"{path}: expected {{\"settings\": {{...}}}} with positive whole numbers for "
                            f"{', '.join(SETTINGS)}; import the log again or delete the file")
    return proposal


def describe(path, used, overridden):
    """One line: which settings came from the import's proposal in path, which were given instead."""
    shown = " ".join(f"{k}={v}" for k, v in used.items()) or "none"
    line = f"settings from the import ({path}): {shown}"
    if overridden:
        line += f"; given instead of its proposal: {' '.join(f'{k}={v}' for k, v in overridden.items())}"
    return line
