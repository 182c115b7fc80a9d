"""sh scr/import_data.sh FORMAT SOURCE... [key=value ...]: converts a public log into raw_dir.

SOURCE is a file or a folder (its .csv files). Settings: raw_dir (config.py's raw_dir inside the
project by default; a relative path given is taken from the current folder),
chunk_mb (MiB of source text converted at a time; bounds the memory), and the format's own ones.
Prints the summary line and the window settings that fit the log's date span.
"""
import pathlib
import re
import sys

import configurator
import errors
from preprocessing.sources.importers import FORMATS
from preprocessing.sources.importers.log_writer import ImportedLog

PROJECT = pathlib.Path(__file__).resolve().parents[3]
COMMON = {"raw_dir": str(PROJECT / configurator.defaults()["raw_dir"]), "chunk_mb": 32.0}
SOURCE_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2")
SETTING = re.compile(r"^[A-Za-z_]\w*=")
MAX_CHUNK_MB = 1024.0  # the CSV reader's block size is a 32-bit count of bytes


def parse_settings(args, defaults):
    """The defaults updated by `key=value` strings, parsed as config.py's settings are."""
    values = {**defaults, **configurator.parse_arguments(args, defaults)}
    if not 0 < values["chunk_mb"] <= MAX_CHUNK_MB:
        raise configurator.ConfigError(f"setting chunk_mb={values['chunk_mb']!r}: expected a positive number of MiB "
                                       f"up to {MAX_CHUNK_MB}")
    return values


def source_files(args):
    """The files named, folders expanded to their CSV files (sorted), each once: a file named twice,
    or named and inside a folder named too, is read once. Returns the files and how many repeats
    were dropped."""
    files = []
    for arg in args:
        path = pathlib.Path(arg)
        if path.is_dir():
            inside = sorted(p for p in path.iterdir() if p.is_file() and p.name.lower().endswith(SOURCE_SUFFIXES))
            if not inside:
                raise errors.PipelineError(f"{path}: folder holds no {', '.join(SOURCE_SUFFIXES)} files")
            files += inside
        elif path.is_file():
            files.append(path)
        else:
            raise errors.PipelineError(f"{path}: source file not found")
    first = {}
    for path in files:
        first.setdefault(path.resolve(), path)
    return list(first.values()), len(files) - len(first)


def main(argv):
    if not argv or argv[0] not in FORMATS:
        given = repr(argv[0]) if argv else "none"
        raise errors.PipelineError(f"format {given}: expected one of {', '.join(FORMATS)}, then the source files "
                                   "(sh scr/import_data.sh FORMAT SOURCE... [raw_dir=...])")
    fmt, module = argv[0], FORMATS[argv[0]]
    settings = parse_settings([a for a in argv[1:] if SETTING.match(a)], {**COMMON, **module.SETTINGS})
    sources, repeated = source_files([a for a in argv[1:] if not SETTING.match(a)])
    if not sources:
        raise errors.PipelineError(f"format {fmt}: no source files given")
    with ImportedLog(settings["raw_dir"]) as log:
        log.repair("source files given more than once, read once", repeated)
        module.read(sources, settings, log)
        for line in log.commit(fmt, sources, settings):
            print(line)


if __name__ == "__main__":
    sys.exit(errors.run_cli(main, sys.argv[1:]))
