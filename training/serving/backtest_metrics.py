"""How a forecast's lists fare against what happened: the figures, the report and the figure of a backtest.

A forecast scores pairs; the outcome is the set of buyer pairs (user, item with an order) in the
days after the cut. Figures of one method's scores:
  - coverage: the share of all buyer pairs among the scored pairs: the recall no list can pass;
  - precision and recall at K over all pairs (the K highest scores of the whole forecast), for K in
    10, 100, 1000, ... up to the pairs scored;
  - buyers per item at K: buyer pairs among each item's K highest-scored users, over all buyer pairs
    (recall) and over the listed pairs (precision).
Equal scores are ordered by user then item index, as the forecast's ranks order them.
"""
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from training.record.ranking import ranks  # noqa: E402

ITEM_K = (1, 5, 10)


def global_ks(pairs):
    """10, 100, 1000, ... below the number of pairs."""
    return [10 ** e for e in range(1, max(int(math.log10(max(pairs, 1))), 0) + 1) if 10 ** e <= pairs]


def global_order(score, user, item):
    """Indices of the pairs, highest score first (ties: user, then item index)."""
    return np.lexsort((item, user, -np.asarray(score, np.float64)))


def list_figures(score, bought, user, item, buyer_pairs):
    """{coverage, pairs, buyers_scored, at_k: {K: {precision, recall, buyers}}, per_item: {K: {...}}}.
    bought: bool [N], the scored pair was a buyer pair; buyer_pairs: all buyer pairs of the outcome."""
    bought = np.asarray(bought, bool)
    order = global_order(score, user, item)
    hits = np.cumsum(bought[order])
    figures = {"pairs": int(len(bought)), "buyers_scored": int(bought.sum()),
               "coverage": float(bought.sum() / buyer_pairs) if buyer_pairs else math.nan, "at_k": {}, "per_item": {}}
    for k in global_ks(len(bought)):
        figures["at_k"][str(k)] = {"buyers": int(hits[k - 1]), "precision": float(hits[k - 1] / k),
                                   "recall": float(hits[k - 1] / buyer_pairs) if buyer_pairs else math.nan}
    rank = ranks(item, user, score)
    for k in ITEM_K:
        listed = rank <= k
        found = int((bought & listed).sum())
        figures["per_item"][str(k)] = {"buyers": found, "listed": int(listed.sum()),
                                       "precision": found / max(int(listed.sum()), 1),
                                       "recall": found / buyer_pairs if buyer_pairs else math.nan}
    return figures


def pr_curve(score, bought, user, item, buyer_pairs):
    """(recall, precision) after each pair of the global ranking."""
    hits = np.cumsum(np.asarray(bought, bool)[global_order(score, user, item)])
    listed = np.arange(1, len(hits) + 1)
    return hits / max(buyer_pairs, 1), hits / listed


def plot_pr(curves, coverage, buyer_pairs, path, title):
    """curves: {scope: {method: (recall, precision)}}, one panel per scope; coverage: {scope: the scored
    pairs' share of the buyers}, the recall no list can pass, drawn as a dashed line."""
    figure, panels = plt.subplots(1, len(curves), figsize=(6.5 * len(curves), 4.6), sharey=True, squeeze=False)
    for axes, (scope, methods) in zip(panels[0], curves.items()):
        for method, (recall, precision) in methods.items():
            axes.plot(recall, precision, label=method, linewidth=1.4)
        axes.axvline(coverage[scope], color="grey", linestyle="--", linewidth=1)
        axes.annotate(f"coverage {coverage[scope]:.0%}", (coverage[scope], 0.5), rotation=90, ha="right",
                      va="center", fontsize=8, color="grey", xycoords=("data", "axes fraction"))
        axes.set_xscale("log")
        axes.set_xlim(0.5 / max(buyer_pairs, 1), 1.0)
        axes.set_ylim(0, 1.02)
        axes.set_xlabel("recall: share of all buyer pairs after the cut (log scale)")
        axes.set_title(f"pairs scored: {scope.replace('_', ' ')}", fontsize=9)
        axes.grid(alpha=0.3)
    panels[0][0].set_ylabel("precision of the top pairs")
    panels[0][0].legend(loc="upper right", fontsize=8)
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def report_text(summary):
    """report.md of a backtest summary."""
    lines = [f"# Backtest {summary['name']}", "",
             f"Log `{summary['raw_dir']}` cut at **{summary['cut']}**: trained on the days before, forecast for "
             f"{summary['outcome_days'][0]}..{summary['outcome_days'][1]} ({summary['window_days']} days), "
             f"scored against the {summary['buyer_pairs']} buyer pairs (user, item with an order) of those days.", "",
             f"**Coverage {summary['coverage']['touched']:.1%}**: the share of those buyer pairs among the "
             f"{summary['pairs']['touched']} pairs the forecast scores (pairs touched in the last {summary['window_days']} "
             "days before the cut). No list can find more of the buyers."]
    if "with_candidates" in summary["coverage"]:
        lines += ["", f"With candidates ({summary['candidates']} per user): {summary['pairs']['with_candidates']} "
                  f"pairs, coverage **{summary['coverage']['with_candidates']:.1%}**."]
    for scope in summary["scopes"]:
        methods = summary["methods"]
        ks = sorted({k for m in methods.values() for k in m[scope]["at_k"]}, key=int)
        lines += ["", f"## Pairs scored: {scope.replace('_', ' ')}", "",
                  "| method | run | " + " | ".join(f"P@{k}" for k in ks) + " | " + " | ".join(f"R@{k}" for k in ks)
                  + " | " + " | ".join(f"buyers in items' top {k}" for k in ITEM_K) + " |",
                  "| --- | --- |" + " --- |" * (2 * len(ks) + len(ITEM_K))]
        for method, figures in methods.items():
            at_k, per_item = figures[scope]["at_k"], figures[scope]["per_item"]
            lines.append(f"| {method} | {figures['run_id']} | "
                         + " | ".join(f"{at_k[k]['precision']:.3f}" if k in at_k else "" for k in ks) + " | "
                         + " | ".join(f"{at_k[k]['recall']:.3f}" if k in at_k else "" for k in ks) + " | "
                         + " | ".join(f"{per_item[str(k)]['buyers']} ({per_item[str(k)]['recall']:.1%})" for k in ITEM_K)
                         + " |")
    lines += ["", "P@K, R@K: precision and recall of the K highest-scored pairs of the whole forecast; buyers in "
              "items' top K: buyer pairs among each item's K highest-scored users (their share of all buyer pairs).",
              "", "![precision and recall](precision_recall.png)", ""]
    return "\n".join(lines)
