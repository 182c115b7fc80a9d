"""The comparison a run is read against: every model's latest runs on the current processed dataset,
beside the baselines and, on the demo log, the oracle (the generator's own chance of each purchase).

    python -m training.studies.comparison [key=value ...]      (what sh scr/run_all.sh ends with)

Rows come from runs.csv, matched on the dataset id that main_func records, so runs on other data or
other preprocessing settings never mix in. A model's row is the mean over the seeds of its most
recent settings.
"""
import sys
from pathlib import Path

import numpy as np
import pandas as pd

import configurator
from errors import PipelineError, run_cli
from models.model_spec import BASELINES
from preprocessing.processed_data import dataset_id, load_meta, load_split
from preprocessing.sources import demo_oracle
from training.record import metric_catalogue, runs_log
from training.record.metric_catalogue import COMPARISON, SELECTION

# (runs.csv column, title, higher is better): the selection metric on dev, then the catalogue's on test
SHOWN = ((f"dev_{SELECTION}", f"dev {metric_catalogue.BY_NAME[SELECTION].title}", True),
         *((f"test_{m.name}", f"test {m.title}", m.higher_is_better) for m in metric_catalogue.shown_in(COMPARISON)))
ORACLE = "oracle (the generator's true chance)"
BEST = "*"  # marks the best model of a column (the oracle aside)
NOT_TRAINED = "n/a"  # passes of a baseline: fitted, not trained in passes over the data


def latest_runs(results_dir, dataset):
    """runs.csv rows of `dataset`, the latest settings of each model: one row per model, the mean of
    its seeds, newest model first; `passes` over the training split (NaN for a baseline, whose epochs
    cell an older version filled with its fitting iterations) and whether it is a `baseline`."""
    path = Path(results_dir) / "runs.csv"
    if not path.is_file():
        raise PipelineError(f"{path}: no runs recorded yet; train a model first (python main_func.py)")
    runs_log.read_checked(path)
    runs = pd.read_csv(path, dtype={name: str for name in ("dataset", "ctr_model", "cvr_model", "changed_settings")})
    if "dataset" not in runs:
        raise PipelineError(f"{path}: no dataset column (written by an older version); move it away")
    runs = runs[runs["dataset"] == dataset].fillna({"ctr_model": "", "cvr_model": "", "changed_settings": ""})
    if runs.empty:
        raise PipelineError(f"{path}: no run on the current processed dataset {dataset}; train a model first")
    runs["title"] = np.where(runs["ctr_model"] != "",
                             runs["model"] + "(" + runs["ctr_model"] + ", " + runs["cvr_model"] + ")", runs["model"])
    newest = runs.groupby("title").tail(1).set_index("title")["changed_settings"]
    same = runs[runs["changed_settings"].to_numpy() == newest.reindex(runs["title"]).to_numpy()]
    same = same.drop_duplicates(["title", "seed"], keep="last")
    same = same.assign(baseline=same["model"].isin(BASELINES))
    epochs = same["epochs"] if "epochs" in same else pd.Series(np.nan, index=same.index)
    same = same.assign(passes=epochs.where(~same["baseline"]))
    columns = [name for name, *_ in SHOWN if name in same] + ["passes"]
    table = same.groupby("title", sort=False)[columns].mean()
    table["baseline"] = same.groupby("title", sort=False)["baseline"].first()
    table["seeds"] = same.groupby("title", sort=False).size()
    # rows are appended in the order runs end: the newest model is the one with the last row
    order = same.assign(row=np.arange(len(same))).groupby("title")["row"].max().sort_values(ascending=False).index
    return table.loc[order]


def oracle_metrics(raw_dir, processed_dir):
    """{"dev_main_auc": ..., "test_...": ...} of the demo oracle, or None with the reason why not."""
    reason = demo_oracle.oracle_unavailable_reason(raw_dir, processed_dir)
    if reason:
        return None, reason
    row = {}
    for split in ("dev", "test"):
        arrays = load_split(processed_dir, split)
        predictions = demo_oracle.oracle_predictions(raw_dir, processed_dir, split)
        # a purchase is an interaction, so p(buy | interact) = p(buy) / p(interact)
        predictions["cvr"] = np.clip(predictions["main"] / np.maximum(predictions["ctr"], 1e-12), 0.0, 1.0)
        metrics = metric_catalogue.measure(predictions, arrays, split)
        row.update({f"{split}_{name}": value for name, value in metrics.items()})
    return row, None


def _best(runs):
    """{column: the best value among the models} for the columns where two models or more have one."""
    best = {}
    for name, _, higher_is_better in SHOWN:
        values = runs[name].dropna() if name in runs else pd.Series(dtype=float)
        if len(values) > 1:
            best[name] = values.max() if higher_is_better else values.min()
    return best


def comparison_table(runs, oracle):
    """The table as text: one line a model, the oracle last; each column's best model marked."""
    width = max([len(ORACLE)] + [len(t) for t in runs.index]) + 2
    titles = "".join(f"{title:>15} " for _, title, _ in SHOWN)  # the column after each value holds BEST
    lines = [f"{'model':<{width}}{titles}{'passes':>15}{'seeds':>7}"]
    best = _best(runs)
    rows = [(title, row, True) for title, row in runs.iterrows()]
    rows += [(ORACLE, pd.Series(oracle), False)] if oracle else []
    for title, row, ranked in rows:
        cells = "".join(f"{'' if pd.isna(row.get(name)) else format(row[name], '.4f'):>15}"
                        + (BEST if ranked and name in best and row.get(name) == best[name] else " ")
                        for name, *_ in SHOWN)
        passes = row.get("passes")
        if bool(row.get("baseline", False)):
            passes = NOT_TRAINED
        elif passes is None or pd.isna(passes):
            passes = ""
        else:
            passes = format(passes, ".1f")
        cells += f"{passes:>15}"
        seeds = row.get("seeds")
        lines.append(f"{title:<{width}}{cells}{'' if seeds is None or pd.isna(seeds) else int(seeds):>7}")
    return "\n".join(lines)


def main(argv):
    cfg = configurator.load(argv)
    meta = load_meta(cfg.processed_dir)
    runs = latest_runs(cfg.results_dir, dataset_id(meta))
    oracle, reason = oracle_metrics(cfg.raw_dir, cfg.processed_dir)
    print(f"\nmodels on the processed dataset {dataset_id(meta)} ({cfg.processed_dir}), "
          f"latest settings of each, mean over seeds ({BEST}: the best model of a column):")
    print(comparison_table(runs, oracle))
    if reason:
        print(f"no oracle: {reason}")
    return runs


if __name__ == "__main__":
    sys.exit(run_cli(main, sys.argv[1:]))
