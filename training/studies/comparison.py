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
from preprocessing.processed_data import dataset_id, load_meta, load_split
from preprocessing.sources import demo_oracle
from training.record import runs_log
from training.record.metrics import purchase_metrics

SHOWN = (("dev_main_auc", "dev Main AUC"), ("test_main_auc", "test Main AUC"), ("test_cvr_auc", "test CVR AUC"),
         ("test_logloss", "test log loss"), ("epochs", "passes"))
ORACLE = "oracle (the generator's true chance)"


def latest_runs(results_dir, dataset):
    """runs.csv rows of `dataset`, the latest settings of each model: one row per model, the mean of
    its seeds, newest model first."""
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
    columns = [name for name, _ in SHOWN if name in same]
    table = same.groupby("title", sort=False)[columns].mean()
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
        metrics = purchase_metrics(predictions, arrays["label_buy"], arrays["label_interact"], arrays["user"])
        row.update({f"{split}_{name}": value for name, value in metrics.items()})
    return row, None


def comparison_table(runs, oracle):
    """The table as text: one line a model, the oracle last."""
    width = max([len(ORACLE)] + [len(t) for t in runs.index]) + 2
    lines = [f"{'model':<{width}}" + "".join(f"{title:>15}" for _, title in SHOWN) + f"{'seeds':>7}"]
    rows = list(runs.iterrows()) + ([(ORACLE, pd.Series(oracle))] if oracle else [])
    for title, row in rows:
        cells = "".join(f"{'' if pd.isna(row.get(name)) else format(row[name], '.4f'):>15}"
                        for name, _ in SHOWN if name != "epochs")
        passes = row.get("epochs")
        cells += f"{'' if passes is None or pd.isna(passes) else format(passes, '.1f'):>15}"
        seeds = row.get("seeds")
        lines.append(f"{title:<{width}}{cells}{'' if seeds is None or pd.isna(seeds) else int(seeds):>7}")
    return "\n".join(lines)


def main(argv):
    cfg = configurator.load(argv)
    meta = load_meta(cfg.processed_dir)
    runs = latest_runs(cfg.results_dir, dataset_id(meta))
    oracle, reason = oracle_metrics(cfg.raw_dir, cfg.processed_dir)
    print(f"\nmodels on the processed dataset {dataset_id(meta)} ({cfg.processed_dir}), "
          f"latest settings of each, mean over seeds:")
    print(comparison_table(runs, oracle))
    if reason:
        print(f"no oracle: {reason}")
    return runs


if __name__ == "__main__":
    sys.exit(run_cli(main, sys.argv[1:]))
