"""The backtest: how many of the buyers a forecast would have found, on a log whose future is known.

    python -m training.serving.backtest [cut=YYYY-MM-DD] [name=...] [candidates=20] [key=value ...]
    (sh scr/backtest.sh)

Cuts the raw log of raw_dir at `cut` (the first day left out; default: where the log's last label
range begins, window_days before its end), builds the processed data of the part before and trains
on it the settings' model and the baselines RULE, LR and GBDT (the first seed of `seeds`), then
forecasts the window_days days from the cut on with each run (training.serving.saved_run.load_scorer: the
very scorer of sh scr/predict.sh) and scores every forecast against the buyer pairs (user, item with
an order) of those days (training.serving.backtest_metrics): coverage, precision and recall at K over all
pairs, buyers found in each item's top K.

With candidates=N (default 20; 0: none) the cut data's open window also holds N candidate pairs per
user beyond the pairs touched (preprocessing.pipeline.candidates), scored by the same runs; every figure is
given for the touched pairs alone ("touched") and with the candidates ("with_candidates").

Everything goes into results_dir/backtests/<name>/ (default name: <cut>-<model>), written whole
(training.record.output_folder): raw/ (the cut log), processed/, results/ (runs.csv and the runs),
summary.json, report.md and precision_recall.png. The user's raw_dir, processed_dir and runs.csv are
only read. summary.json records the log's raw_fingerprint, so a forecast of the same log quotes its
coverage (training.serving.forecast).
"""
import datetime
import json
import sys
import time
from pathlib import Path

from training.loop.quiet_start import import_tensorflow_quietly

import_tensorflow_quietly()

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import configurator  # noqa: E402
from errors import PipelineError, run_cli  # noqa: E402
from preprocessing.pipeline.build_dataset import raw_fingerprint  # noqa: E402
from preprocessing.pipeline.samples import ORDER  # noqa: E402
from preprocessing.processed_data import CANDIDATE_ARRAY, OPEN, load_meta, load_split  # noqa: E402
from preprocessing.raw_data import load_raw, release_arrow_memory  # noqa: E402
from training.loop import train  # noqa: E402
from training.record.output_folder import written_whole  # noqa: E402
from training.serving import backtest_metrics  # noqa: E402
from training.serving.backtest_summary import FOLDER, SUMMARY  # noqa: E402
from training.serving.saved_run import load_scorer, split_arguments  # noqa: E402

OPTIONS = {"cut": "", "name": "", "candidates": 20}
BASELINE_METHODS = ("RULE", "LR", "GBDT")
DAY = pd.Timedelta(days=1)


def default_cut(actions, window_days):
    """The first day of the log's last label range: window_days days before its end."""
    last_day = actions["action_time"].max().normalize()
    return last_day - (window_days - 1) * DAY


def parse_cut(text, actions, window_days):
    if not text:
        return default_cut(actions, window_days)
    try:
        cut = pd.Timestamp(datetime.date.fromisoformat(text))
    except ValueError:
        raise PipelineError(f"argument cut={text!r}: expected a day like 2020-04-11") from None
    first, last = actions["action_time"].min().normalize(), actions["action_time"].max().normalize()
    if not first < cut <= last:
        raise PipelineError(f"argument cut={text}: expected a day after {first.date()} and up to {last.date()}, "
                            "the log's span")
    return cut


def _plain(frame):
    """frame with categorical columns turned back into their values (as the raw files hold them)."""
    return frame.assign(**{c: frame[c].astype(frame[c].cat.categories.dtype)
                           for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)})


def write_cut_log(raw, cut, folder):
    """The raw tables with the actions before cut, as Parquet files in folder."""
    folder.mkdir()
    _plain(raw.actions[raw.actions["action_time"] < cut]).to_parquet(folder / "actions.parquet", index=False)
    _plain(raw.items).to_parquet(folder / "items.parquet", index=False)
    _plain(raw.users).to_parquet(folder / "users.parquet", index=False)


def buyer_pairs(actions, start, days):
    """DataFrame of the distinct (user_id, item_id) with an order in [start, start + days)."""
    after = actions[(actions["action_time"] >= start) & (actions["action_time"] < start + days * DAY)
                    & (actions["action_type"] == ORDER)]
    return _plain(after[["user_log_acct", "item_sku_id"]]).drop_duplicates().rename(
        columns={"user_log_acct": "user_id", "item_sku_id": "item_id"})


def methods_of(cfg):
    """{method title: model setting} of the settings' model and the baselines."""
    methods = {cfg.model_spec.title: cfg.model}
    methods.update({name: name for name in BASELINE_METHODS if name not in methods})
    return methods


def backtest(argv, cut_text, name, candidates):
    began = time.perf_counter()
    cfg = configurator.load(argv)
    if candidates < 0:
        raise PipelineError(f"argument candidates={candidates}: expected 0 or a positive whole number")
    raw = load_raw(cfg.raw_dir, allow_pickle=cfg.allow_pickle)
    cut = parse_cut(cut_text, raw.actions, cfg.window_days)
    outcome = buyer_pairs(raw.actions, cut, cfg.window_days)
    if outcome.empty:
        raise PipelineError(f"{cfg.raw_dir}: no order in the {cfg.window_days} days from cut={cut.date()}; "
                            "pick an earlier cut")
    name = name or f"{cut.date()}-{cfg.model_spec.name}"
    if "/" in name or name.startswith("."):
        raise PipelineError(f"argument name={name!r}: expected a plain folder name")
    target = Path(cfg.results_dir) / FOLDER / name
    methods = methods_of(cfg)
    fingerprint = raw_fingerprint(cfg.raw_dir)
    with written_whole(target) as folder:
        write_cut_log(raw, cut, folder / "raw")
        del raw
        release_arrow_memory()
        locations = [f"raw_dir={folder / 'raw'}", f"processed_dir={folder / 'processed'}",
                     f"results_dir={folder / 'results'}", f"seeds=[{cfg.seeds[0]}]", f"open_candidates={candidates}"]
        runs = {}
        for method, model in methods.items():
            print(f"backtest {name}: {method}", flush=True)
            runs[method] = train.main(argv + locations + [f"model={model}"])[0]["run_id"]
        inner = configurator.load(argv + locations)
        processed = folder / "processed"
        meta = load_meta(processed)
        arrays = load_split(processed, OPEN)
        vocab = {key: np.load(processed / "vocab" / f"{key}.npy", allow_pickle=False) for key in ("user", "item")}
        user, item = np.asarray(arrays["user"]), np.asarray(arrays["item"])
        scored = pd.DataFrame({"user_id": vocab["user"][user], "item_id": vocab["item"][item]})
        bought = scored.merge(outcome.assign(bought=True), on=["user_id", "item_id"], how="left")["bought"]
        bought = bought.fillna(False).to_numpy(bool)
        candidate = np.asarray(arrays[CANDIDATE_ARRAY]) > 0
        scopes = {"touched": ~candidate}
        if candidate.any():
            scopes["with_candidates"] = np.ones(len(candidate), bool)
        summary = {"name": name, "raw_dir": str(cfg.raw_dir), "raw_fingerprint": fingerprint,
                   "cut": str(cut.date()), "window_days": cfg.window_days,
                   "outcome_days": [str(cut.date()), str((cut + (cfg.window_days - 1) * DAY).date())],
                   "open_window": meta["open_window"], "buyer_pairs": int(len(outcome)), "candidates": candidates,
                   "pairs": {scope: int(rows.sum()) for scope, rows in scopes.items()},
                   "coverage": {scope: float(bought[rows].sum() / len(outcome)) for scope, rows in scopes.items()},
                   "scopes": list(scopes), "seed": cfg.seeds[0], "methods": {}}
        curves = {scope: {} for scope in scopes}
        for method, run_id in runs.items():
            probabilities = load_scorer(inner, run_id)[4](arrays)
            score = np.asarray(probabilities["main"], np.float64)
            summary["methods"][method] = {"run_id": run_id}
            for scope, rows in scopes.items():
                picked = (score[rows], bought[rows], user[rows], item[rows], len(outcome))
                summary["methods"][method][scope] = backtest_metrics.list_figures(*picked)
                curves[scope][method] = backtest_metrics.pr_curve(*picked)
        summary["finished"] = datetime.datetime.now().isoformat(timespec="seconds")
        summary["seconds"] = round(time.perf_counter() - began, 1)
        (folder / SUMMARY).write_text(json.dumps(summary, indent=1) + "\n")
        (folder / "report.md").write_text(backtest_metrics.report_text(summary))
        backtest_metrics.plot_pr(curves, summary["coverage"], len(outcome), folder / "precision_recall.png",
                                 f"backtest {name}: forecast of {summary['outcome_days'][0]}..{summary['outcome_days'][1]}, "
                                 f"{len(outcome)} buyer pairs")
    print_summary(summary, target)
    return summary


def print_summary(summary, target):
    print(f"\nbacktest {summary['name']}: cut {summary['cut']}, {summary['buyer_pairs']} buyer pairs in "
          f"{summary['outcome_days'][0]}..{summary['outcome_days'][1]}")
    for scope in summary["scopes"]:
        print(f"  {scope}: {summary['pairs'][scope]} pairs scored, coverage {summary['coverage'][scope]:.1%}")
        for method, figures in summary["methods"].items():
            at_k = figures[scope]["at_k"]
            shown = ", ".join(f"P@{k} {v['precision']:.3f}" for k, v in at_k.items())
            print(f"    {method:24s} {shown}; buyers in items' top 5: {figures[scope]['per_item']['5']['buyers']}")
    print(f"written to {target}")


def main(argv):
    rest, options = split_arguments(argv, OPTIONS)
    return backtest(rest, options["cut"], options["name"], options["candidates"])


if __name__ == "__main__":
    sys.exit(run_cli(main, sys.argv[1:]))
