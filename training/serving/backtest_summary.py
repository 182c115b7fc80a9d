"""The backtests already run (results_dir/backtests/<name>/summary.json), for the forecast's coverage
ceiling: the one a forecast quotes is the latest on the same raw log (same raw_fingerprint)."""
import json
from pathlib import Path

FOLDER = "backtests"
SUMMARY = "summary.json"


def backtest_summaries(results_dir, raw_fingerprint):
    """The summaries of the backtests of the log with raw_fingerprint, oldest first (by finish time);
    unreadable ones are skipped."""
    found = []
    for path in sorted((Path(results_dir) / FOLDER).glob(f"*/{SUMMARY}")):
        try:
            summary = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(summary, dict) and raw_fingerprint and summary.get("raw_fingerprint") == raw_fingerprint:
            found.append(summary)
    return sorted(found, key=lambda s: str(s.get("finished", "")))
