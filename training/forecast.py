"""The forecast: who buys what in the days after the log ends, ranked, with reasons.

    python -m training.forecast [run=<run id>|best] [top_k=100] [key=value ...]   (sh scr/predict.sh)

Scores the processed data's open split (the open window: pairs with an action in the last
window_days of the log, features and sequences up to its end, no labels) with a run's best weights
(training.saved_run) and writes into ddata/results/<run id>/forecast/:
  scores.parquet       every scored pair: user_id, item_id, p_main (p_ctr, p_cvr for ESSM),
                       rank_for_item (the user's rank among the item's users, 1 first) and
                       rank_for_user (the item's rank among the user's items)
  buyers_by_item.csv   the top_k users of each item, with the reasons of each row (training.reasons)
  items_by_user.csv    the top_k items of each user, with reasons
  forecast.json        the run, the open window's dates, top_k and how the reasons were chosen
Ids are the raw ones of the log. Equal scores rank by the other id's index, so reruns agree.
"""
import json
import sys
import time
from pathlib import Path

from training.quiet_start import import_tensorflow_quietly

import_tensorflow_quietly()

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import configurator  # noqa: E402
from errors import PipelineError, run_cli  # noqa: E402
from preprocessing.processed_data import OPEN, load_array, load_split, per_sample  # noqa: E402
from training import reasons  # noqa: E402
from training.input_pipeline import make_dataset  # noqa: E402
from training.output_folder import written_whole  # noqa: E402
from training.ranking import ranks  # noqa: E402
from training.saved_run import load_network, split_arguments  # noqa: E402

OPTIONS = {"run": "best", "top_k": 100}
FOLDER = "forecast"


def score_open(net, arrays, meta, batch_size):
    """{"main": [N], ...} probabilities of the open split."""
    outputs = net.predict(make_dataset(arrays, meta, batch_size), verbose=0)
    return {name: np.asarray(values, np.float32) for name, values in outputs.items()}


def top_list(scores, rank_column, group_column, top_k):
    """Rows of scores with rank_column <= top_k, sorted by group then rank."""
    picked = scores[scores[rank_column] <= top_k]
    return picked.sort_values([group_column, rank_column], kind="stable")


def forecast(cfg, run, top_k):
    """Writes the run's forecast folder; returns its path."""
    if top_k < 1:
        raise PipelineError(f"argument top_k={top_k}: expected a positive whole number")
    began = time.perf_counter()
    row, settings, meta, processed, net = load_network(cfg, run)
    if "open_window" not in meta:
        raise PipelineError(f"{processed}/meta.json: no open window; rebuild the processed data (sh scr/pre_processing.sh)")
    arrays = load_split(processed, OPEN)
    if not len(arrays["user"]):
        raise PipelineError(f"{processed / OPEN}: the open window {meta['open_window']['interaction']} has no "
                            "samples; the log's last days hold no action")
    vocab = {name: load_array(processed / "vocab" / f"{name}.npy") for name in ("user", "item", "cate")}
    probabilities = score_open(net, arrays, meta, settings.eval_batch_size)
    user, item = np.asarray(arrays["user"]), np.asarray(arrays["item"])
    scores = pd.DataFrame({"user_id": vocab["user"][user], "item_id": vocab["item"][item]})
    for name in ("main", "ctr", "cvr"):
        if name in probabilities:
            scores[f"p_{name}"] = probabilities[name]
    main = probabilities["main"].astype(np.float64)
    scores["rank_for_item"] = ranks(item, user, main)
    scores["rank_for_user"] = ranks(user, item, main)

    listed = np.flatnonzero((scores["rank_for_item"].to_numpy() <= top_k) | (scores["rank_for_user"].to_numpy() <= top_k))
    subset = per_sample(arrays, listed)
    steps, weights = reasons.reason_steps(net, subset, meta, settings.eval_batch_size)
    explained = reasons.reason_columns(steps, weights, subset, vocab)
    explained.index = listed
    with_reasons = scores.join(explained, how="inner")
    lists = {"buyers_by_item.csv": top_list(with_reasons, "rank_for_item", "item_id", top_k),
             "items_by_user.csv": top_list(with_reasons, "rank_for_user", "user_id", top_k)}
    leading = {"buyers_by_item.csv": ["item_id", "rank_for_item", "user_id"],
               "items_by_user.csv": ["user_id", "rank_for_user", "item_id"]}

    target = Path(cfg.results_dir) / row["run_id"] / FOLDER
    with written_whole(target) as folder:
        scores.to_parquet(folder / "scores.parquet", index=False)
        for name, table in lists.items():
            order = leading[name] + [c for c in table.columns if c not in leading[name]]
            table[order].to_csv(folder / name, index=False)
        about = {"run_id": row["run_id"], "dataset": row["dataset"], "open_window": meta["open_window"],
                 "top_k": top_k, "pairs_scored": len(scores), "reasons": reasons.basis(net)}
        (folder / "forecast.json").write_text(json.dumps(about, indent=1) + "\n")
    print(f"forecast of run {row['run_id']} for {meta['open_window']['label'][0]}..{meta['open_window']['label'][1]}: "
          f"{len(scores)} pairs of {scores['user_id'].nunique()} users and {scores['item_id'].nunique()} items, "
          f"top {top_k} lists with reasons ({reasons.basis(net)}) in {target} ({time.perf_counter() - began:.1f} s)")
    return target


def main(argv):
    rest, options = split_arguments(argv, OPTIONS)
    return forecast(configurator.load(rest), options["run"], options["top_k"])


if __name__ == "__main__":
    sys.exit(run_cli(main, sys.argv[1:]))
