"""The forecast: who buys what in the days after the log ends, ranked, with reasons.

    python -m training.serving.forecast [run=<run id>|best] [top_k=100] [explain_top_k=10] [key=value ...]
    (sh scr/predict.sh)

Scores the processed data's open split (the open window: pairs with an action in the last
window_days of the log, features and sequences up to its end, no labels) with any run, a network's
best weights or a baseline's fitted state (training.serving.saved_run), and writes into
ddata/results/<run id>/forecast/:
  scores.parquet       every scored pair: user_id, item_id, p_main (p_ctr, p_cvr for a multi-task model),
                       rank_for_item (the user's rank among the item's users, 1 first) and
                       rank_for_user (the item's rank among the user's items)
  buyers_by_item.csv   the top_k users of each item: items with the most expected buyers (sum of
                       p_main over the item's scored pairs) first, then by `rank`; the rows of rank
                       up to explain_top_k with their reasons (training.serving.reasons)
  items_by_user.csv    the top_k items of each user, likewise (users with the most expected purchases first)
  forecast.json        the run, the open window's dates, top_k, how the reasons were found and the
                       coverage ceiling of the latest backtest on this log (training.serving.backtest)
Ids are the raw ones of the log. Equal scores rank by the other id's index, so reruns agree.
"""
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
from preprocessing.processed_data import OPEN, load_array, load_split, per_sample  # noqa: E402
from training.record.output_folder import written_whole  # noqa: E402
from training.record.ranking import ranks  # noqa: E402
from training.serving import reasons  # noqa: E402
from training.serving.backtest_summary import backtest_summaries  # noqa: E402
from training.serving.saved_run import load_scorer, split_arguments  # noqa: E402

OPTIONS = {"run": "best", "top_k": 100, "explain_top_k": 5}
FOLDER = "forecast"
LEADING = {"buyers_by_item.csv": ["item_id", "expected_buyers", "rank", "user_id"],
           "items_by_user.csv": ["user_id", "expected_purchases", "rank", "item_id"]}


def ordered_list(scores, group_column, rank_column, total_column, top_k):
    """The rows of scores with rank_column <= top_k, as `rank`: the groups with the largest sum of
    p_main over all their scored pairs first (that sum as total_column), then by rank."""
    totals = scores.groupby(group_column, sort=False)["p_main"].transform("sum").astype(np.float64)
    table = scores.assign(**{total_column: totals, "rank": scores[rank_column]})
    table = table[table["rank"] <= top_k]
    # equal totals: the smaller id first, so reruns agree
    return table.sort_values([total_column, group_column, "rank"], ascending=[False, True, True], kind="stable")


def coverage_note(cfg, meta):
    """(text, figures or None): the share of buyers the latest backtest on this log found among the
    scored pairs, the ceiling of any list of this forecast."""
    latest = backtest_summaries(cfg.results_dir, meta.get("raw_fingerprint"))
    if not latest:
        return ("coverage ceiling unknown: no backtest on this log yet (sh scr/backtest.sh)", None)
    summary = latest[-1]
    figures = {"backtest": summary["name"], "cut": summary["cut"], "coverage": summary["coverage"]["touched"],
               "buyer_pairs": summary["buyer_pairs"], "window_days": summary["window_days"]}
    return (f"coverage ceiling {figures['coverage']:.1%}: in backtest {summary['name']} (cut {summary['cut']}) only "
            f"that share of the {summary['buyer_pairs']} buyer pairs of the {summary['window_days']} days after was "
            "among the scored pairs, so no list reaches more of the buyers", figures)


def forecast(cfg, run, top_k, explain_top_k=OPTIONS["explain_top_k"]):
    """Writes the run's forecast folder; returns its path."""
    for name, value in (("top_k", top_k), ("explain_top_k", explain_top_k)):
        if value < 0 or (name == "top_k" and value < 1):
            raise PipelineError(f"argument {name}={value}: expected a positive whole number")
    began = time.perf_counter()
    row, settings, meta, processed, score, net = load_scorer(cfg, run)
    if "open_window" not in meta:
        raise PipelineError(f"{processed}/meta.json: no open window; rebuild the processed data (sh scr/pre_processing.sh)")
    arrays = load_split(processed, OPEN)
    if not len(arrays["user"]):
        raise PipelineError(f"{processed / OPEN}: the open window {meta['open_window']['interaction']} has no "
                            "samples; the log's last days hold no action")
    vocab = {name: load_array(processed / "vocab" / f"{name}.npy")
             for name in ("user", "item", "cate", "brand", "shop", "vendor")}
    probabilities = score(arrays)
    scores = score_table(arrays, probabilities, vocab)

    explained_rows = np.flatnonzero((scores["rank_for_item"].to_numpy() <= min(top_k, explain_top_k))
                                    | (scores["rank_for_user"].to_numpy() <= min(top_k, explain_top_k)))
    subset = per_sample(arrays, explained_rows)
    window_days = meta["settings"]["window_days"]
    explained = reasons.Occlusion(meta, window_days).reasons(score, subset, vocab).drop(columns="p_explained")
    if reasons.attention_tower(net)[1] is not None:
        explained["attention_top"] = reasons.attention_top(net, subset, meta, vocab, settings.eval_batch_size)
    explained.index = explained_rows
    with_reasons = scores.join(explained, how="left")
    lists = {"buyers_by_item.csv": ordered_list(with_reasons, "item_id", "rank_for_item", "expected_buyers", top_k),
             "items_by_user.csv": ordered_list(with_reasons, "user_id", "rank_for_user", "expected_purchases", top_k)}
    note, coverage = coverage_note(cfg, meta)

    target = Path(cfg.results_dir) / row["run_id"] / FOLDER
    with written_whole(target) as folder:
        scores.to_parquet(folder / "scores.parquet", index=False)
        for name, table in lists.items():
            order = LEADING[name] + [c for c in table.columns if c not in LEADING[name] + ["rank_for_item", "rank_for_user"]]
            table[order].to_csv(folder / name, index=False)
        about = {"run_id": row["run_id"], "model": row["model"], "dataset": row["dataset"],
                 "raw_dir": settings.raw_dir, "open_window": meta["open_window"], "top_k": top_k,
                 "explain_top_k": explain_top_k, "pairs_scored": len(scores), "reasons": reasons.BASIS,
                 "attention_top": reasons.attention_basis(net), "coverage": coverage, "coverage_note": note}
        (folder / "forecast.json").write_text(json.dumps(about, indent=1) + "\n")
    print(f"forecast of run {row['run_id']} for {meta['open_window']['label'][0]}..{meta['open_window']['label'][1]}: "
          f"{len(scores)} pairs of {scores['user_id'].nunique()} users and {scores['item_id'].nunique()} items, "
          f"top {top_k} lists ordered by expected buyers, reasons for the top {min(top_k, explain_top_k)} of each "
          f"list, in {target} ({time.perf_counter() - began:.1f} s)\n{note}")
    return target


def score_table(arrays, probabilities, vocab):
    """DataFrame of every scored pair: raw ids, p_main (p_ctr, p_cvr), rank_for_item, rank_for_user."""
    user, item = np.asarray(arrays["user"]), np.asarray(arrays["item"])
    scores = pd.DataFrame({"user_id": vocab["user"][user], "item_id": vocab["item"][item]})
    for name in ("main", "ctr", "cvr"):
        if name in probabilities:
            scores[f"p_{name}"] = probabilities[name]
    main = probabilities["main"].astype(np.float64)
    scores["rank_for_item"] = ranks(item, user, main)
    scores["rank_for_user"] = ranks(user, item, main)
    return scores


def main(argv):
    rest, options = split_arguments(argv, OPTIONS)
    return forecast(configurator.load(rest), options["run"], options["top_k"], options["explain_top_k"])


if __name__ == "__main__":
    sys.exit(run_cli(main, sys.argv[1:]))
