"""An output folder (a run's forecast, its exported model, a study's report, a backtest) written whole
through signed_folder: built in a hidden folder beside it and renamed over it at the end, so a killed
run never leaves half an output, and an earlier folder is replaced only when it is provably this
program's (its signed marker lists every file in it).

    with written_whole(run_dir / "forecast") as folder:    # an empty folder to write into
        ...
"""
import pathlib

import signed_folder

MARKER = signed_folder.RUN_OUTPUT.marker
SIGNATURE = signed_folder.SIGNATURE


def is_ours(folder):
    """True when folder is a sealed run output holding exactly the files its marker lists."""
    return signed_folder.problem(folder, signed_folder.RUN_OUTPUT) is None


def check_replaceable(target):
    """PipelineError unless target is absent, empty or a sealed run output with nothing added."""
    signed_folder.check_replaceable(pathlib.Path(target), signed_folder.RUN_OUTPUT)


def written_whole(target, about=None):
    """Yields an empty hidden folder beside target; when the block ends without error, the folder is
    sealed (its marker lists its files, and about) and renamed over target; on an error it is removed."""
    return signed_folder.replacing(pathlib.Path(target), signed_folder.RUN_OUTPUT, about)
