"""A study's report for a reader, from its rows in runs.csv and its runs' folders:

    sh scr/report.sh study=NAME [baseline=LABEL] [bootstrap=1000] [key=value ...]

writes results_dir/studies/NAME/: report.md (each configuration's test metrics as mean ± std over
its seeds, speed, and its paired difference in test Main and CVR AUC to the baseline configuration
with a 95% user-bootstrap interval and p-value) and figures: dev AUC learning curves of every run,
test Main AUC with its interval per configuration, ROC and cumulative-gains curves of each
configuration's best run (by dev Main AUC, so test data chooses nothing). The baseline is named by
its label in the table (default: the study's first configuration).
"""
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.metrics import roc_curve  # noqa: E402

import configurator  # noqa: E402
from errors import PipelineError, run_cli  # noqa: E402
from models.model_spec import BASELINES  # noqa: E402
from training.loop import collapse  # noqa: E402
from training.record import runs_log  # noqa: E402
from training.record.dev_curve import read_dev_curve  # noqa: E402
from training.record.metric_catalogue import DIFFERENCE, REPORT, shown_in  # noqa: E402
from training.record.metrics import auc  # noqa: E402
from training.record.output_folder import written_whole  # noqa: E402
from training.record.predictions import read_predictions  # noqa: E402
from training.record.runs_log import mean_std_text  # noqa: E402
from training.studies import significance  # noqa: E402
from training.studies.sweep import check_study_name, configuration_key  # noqa: E402

FILES = ("report.md", "dev_curves.png", "auc_intervals.png", "roc.png", "gains.png")
OWN_ARGUMENTS = {"baseline": str, "bootstrap": int}  # the report's own, beside config.py's settings
TITLE_SETTINGS = ("model", "ctr_model", "cvr_model")  # shown by the model's title
PLACES = ("raw_dir", "processed_dir", "results_dir", "config", "study", *TITLE_SETTINGS)  # not configuration
TABLE_METRICS = tuple((f"test_{m.name}", m.title) for m in shown_in(REPORT))
COMPARED = tuple((m.name, m.title) for m in shown_in(DIFFERENCE))


def _settings_text(settings):
    return " ".join(f"{k}={v if isinstance(v, str) else repr(v).replace(' ', '')}" for k, v in settings.items())


def study_runs(results_dir, study):
    """The study's runs.csv rows, the latest of each (configuration, seed), with `key` (the
    configuration) and `label` (its model's title and those of the settings that vary in the study
    that it changes from config.py's default)."""
    path = Path(results_dir) / "runs.csv"
    if not path.is_file():
        raise PipelineError(f"{path}: no runs recorded; run the study first (sh scr/sweep.sh ... study={study})")
    text = ("run_id", "dataset", "model", "ctr_model", "cvr_model", "config", "study", "changed_settings")
    runs_log.read_checked(path)
    runs = pd.read_csv(path, dtype={name: str for name in text})
    if "study" not in runs or not (runs["study"] == study).any():
        raise PipelineError(f"{path}: no run of study {study!r}; run it first (sh scr/sweep.sh ... study={study})")
    runs = runs[runs["study"] == study].fillna({name: "" for name in text if name in runs})
    settings = [json.loads(s or "{}") for s in runs["changed_settings"]]
    runs["key"] = [configuration_key(s) for s in settings]
    runs = runs.drop_duplicates(["key", "seed"], keep="last")
    by_key = dict(zip(runs["key"], [json.loads(k) for k in runs["key"]]))
    names = sorted({name for s in by_key.values() for name in s} - set(TITLE_SETTINGS))
    defaults = configurator.defaults()
    varying = [n for n in names if len({json.dumps(s.get(n, defaults.get(n))) for s in by_key.values()}) > 1]
    titles = np.where(runs["ctr_model"] != "", runs["model"] + "(" + runs["ctr_model"] + ", " + runs["cvr_model"] + ")",
                      runs["model"])
    # a varying setting is shown where it departs from config.py's default, so most labels stay short
    runs["label"] = [(title + " " + _settings_text({n: by_key[key][n] for n in varying if n in by_key[key]})).strip()
                     for title, key in zip(titles, runs["key"])]
    if runs.groupby("label")["key"].nunique().max() > 1:
        runs["label"] = [(title + " " + _settings_text(by_key[key])).strip() for title, key in zip(titles, runs["key"])]
    return runs


def configuration_table(runs):
    """One row per configuration (in the order they first ran): seeds and metric cells."""
    rows = []
    for label, group in runs.groupby("label", sort=False):
        row = {"configuration": label, "seeds": len(group)}
        for column, title in TABLE_METRICS:
            row[title] = mean_std_text(group[column].tolist()) if column in group else ""
        # a baseline is fitted, not trained in passes (an older version wrote its fitting iterations there)
        baseline = group["model"].isin(BASELINES).all()
        row["passes"] = "n/a" if baseline else mean_std_text(group["epochs"].tolist(), digits=2)
        row["samples/s"] = mean_std_text(group["train_samples_per_second"].tolist(), digits=0)
        rows.append(row)
    return pd.DataFrame(rows)


def bootstrap(runs, results_dir, n_boot):
    """{metric: {label: (seed-mean AUC, replicates)}} for the compared metrics."""
    groups = {label: [Path(results_dir) / run for run in group["run_id"]]
              for label, group in runs.groupby("label", sort=False)}
    return {metric: significance.study_replicates(groups, metric, n_boot) for metric, _ in COMPARED}


def _difference_cell(difference):
    if difference is None:
        return ""
    p = f"p={difference.p_value:.3f}" if difference.p_value >= 0.001 else "p<0.001"
    return f"{difference.estimate:+.4f} [{difference.low:+.4f}, {difference.high:+.4f}] {p}"


def differences(replicates, baseline):
    """{metric: {label: Difference to the baseline, or None}}."""
    result = {}
    for metric, by_label in replicates.items():
        result[metric] = {}
        for label, (estimate, reps) in by_label.items():
            if label != baseline and baseline in by_label:
                base_estimate, base_reps = by_label[baseline]
                result[metric][label] = significance.paired_difference(estimate - base_estimate, reps, base_reps)
    return result


def markdown(study, runs, table, diffs, baseline, n_boot, results_dir):
    table = table.copy()
    for metric, title in COMPARED:
        cells = [("baseline" if label == baseline else _difference_cell(diffs[metric].get(label)))
                 for label in table["configuration"]]
        if any(cell not in ("", "baseline") for cell in cells):
            table[f"Δ {title} vs baseline [95% CI] p"] = cells
    table = table.loc[:, [c for c in table if (table[c].astype(str) != "").any()]]
    lines = [f"# Study {study}", "",
             f"{len(runs)} runs of {table.shape[0]} configurations on the test split; metrics as mean ± std over "
             "the seeds (a single seed shows its value alone). passes: passes over the training split "
             "before the run stopped (n/a for a baseline, fitted rather than trained in passes); samples/s: "
             "training throughput.", "",
             f"Δ: the configuration's seed-mean test AUC minus the baseline's ({baseline}), with a 95% interval and "
             f"two-sided p-value from {n_boot} bootstrap replicates that resample users (all runs on the same "
             "resamples, so the difference is paired). CVR AUC is on interacted samples only.", "",
             "| " + " | ".join(table.columns) + " |", "|" + "---|" * table.shape[1]]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in table.itertuples(index=False)]
    failures = collapse.failed_runs(results_dir, study)
    if failures:
        lines += ["", "**Runs that failed to train** (not in the table: their predictions carried no ranking):", ""]
        lines += [f"- {f['model']} {_settings_text({k: v for k, v in f['changed_settings'].items() if k not in PLACES})}"
                  f", seed {f['seed']}: {f['reason']}" for f in failures]
    lines += ["", "![dev Main AUC learning curves](dev_curves.png)", "",
              "![test Main AUC with 95% intervals](auc_intervals.png)", "",
              "![ROC of each configuration's best run](roc.png)", "",
              "![cumulative gains of each configuration's best run](gains.png)", ""]
    return "\n".join(lines)


def plot_dev_curves(runs, results_dir, path):
    curves = {}
    for label, group in runs.groupby("label", sort=False):
        found = [(seed, read_dev_curve(Path(results_dir) / run)) for seed, run in zip(group["seed"], group["run_id"])]
        if any(curve for _, curve in found):
            curves[label] = [(seed, curve) for seed, curve in found if curve]
    columns = min(3, max(1, len(curves)))
    rows = max(1, -(-len(curves) // columns))
    figure, axes = plt.subplots(rows, columns, figsize=(max(7, 5 * columns), 3.4 * rows + 0.6), squeeze=False,
                                sharey=True)
    for axis, (label, found) in zip(axes.flat, curves.items()):
        for seed, curve in found:
            passes = [e["step"] / curve["steps_per_pass"] for e in curve["evaluations"]]
            values = [np.nan if e["main_auc"] is None else e["main_auc"] for e in curve["evaluations"]]
            axis.plot(passes, values, marker=".", label=f"seed {seed}")
        axis.set_title(label, fontsize=9)
        axis.set_xlabel("passes over the training split")
        axis.set_ylabel("dev Main AUC")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    for axis in list(axes.flat)[len(curves):]:
        axis.set_visible(False)
    if not curves:
        axes[0, 0].set_visible(True)
        axes[0, 0].text(0.5, 0.5, "no trained run in this study\n(baselines have no dev curve)", ha="center",
                        va="center")
        axes[0, 0].set_axis_off()
    figure.suptitle("Dev Main AUC during training, every trained run")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_intervals(runs, replicates, baseline, path):
    labels = list(replicates)
    figure, axis = plt.subplots(figsize=(8, 0.45 * len(labels) + 1.6))
    for row, label in enumerate(labels):
        estimate, reps = replicates[label]
        low, high = np.nanpercentile(reps, [2.5, 97.5])
        color = "tab:red" if label == baseline else "tab:blue"
        axis.errorbar(estimate, row, xerr=[[estimate - low], [high - estimate]], fmt="o", color=color, capsize=4)
        seeds = runs.loc[runs["label"] == label, "test_main_auc"]
        axis.plot(seeds, np.full(len(seeds), row), "x", color="gray", markersize=5)
    axis.set_yticks(range(len(labels)), labels, fontsize=8)
    axis.invert_yaxis()
    axis.set_xlabel("test Main AUC (seed mean, 95% user-bootstrap interval; × each seed)")
    axis.set_title("Test Main AUC per configuration (red: baseline)")
    axis.grid(axis="x", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def best_runs(runs, results_dir):
    """{label: test frame of the configuration's run with the best dev Main AUC}."""
    best = {}
    for label, group in runs.groupby("label", sort=False):
        run = group.loc[group["dev_main_auc"].idxmax(), "run_id"] if group["dev_main_auc"].notna().any() \
            else group["run_id"].iloc[-1]
        frame = read_predictions(Path(results_dir) / run)
        best[label] = frame[frame["split"] == "test"]
    return best


def _styles(count):
    """(colour, line style) of count lines: ten distinct colours, then dashed ones."""
    return [(plt.cm.tab10(i % 10), ("-", "--", ":")[min(i // 10, 2)]) for i in range(count)]


def plot_roc(best, path):
    figure, axis = plt.subplots(figsize=(7, 6))
    for (color, style), (label, frame) in zip(_styles(len(best)), best.items()):
        false_positive, true_positive, _ = roc_curve(frame["label_buy"], frame["p_main"])
        axis.plot(false_positive, true_positive, color=color, linestyle=style, lw=1.2,
                  label=f"{label} ({auc(frame['label_buy'], frame['p_main']):.3f})")
    axis.plot([0, 1], [0, 1], "k:", lw=1, label="random (0.5)")
    axis.set_xlabel("false positive rate (non-buyers flagged)")
    axis.set_ylabel("true positive rate (buyers found)")
    axis.set_title("Test ROC, each configuration's best run by dev AUC (test Main AUC)")
    axis.legend(fontsize=7, loc="lower right")
    axis.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def cumulative_gains(labels, scores):
    """(share of samples targeted, share of buyers among them), best scores first, from (0, 0) with
    a point at the end of each run of equal scores: tied samples are targeted together, in no
    order, so the curve crosses them in a straight line (as roc_curve does), not in file order."""
    scores, labels = np.asarray(scores), np.asarray(labels)
    order = np.argsort(-scores, kind="stable")
    found = np.cumsum(labels[order])
    ends = np.append(np.flatnonzero(np.diff(scores[order]) != 0), len(order) - 1)
    return np.append(0.0, (ends + 1) / len(order)), np.append(0.0, found[ends] / max(found[-1], 1))


def plot_gains(best, path):
    figure, axes = plt.subplots(1, 2, figsize=(14, 5.2))
    curves = {label: cumulative_gains(frame["label_buy"].to_numpy(), frame["p_main"].to_numpy())
              for label, frame in best.items()}
    for axis, limit in zip(axes, (1.0, 0.1)):
        for (color, style), (label, (targeted, found)) in zip(_styles(len(curves)), curves.items()):
            axis.plot(targeted * 100, found * 100, color=color, linestyle=style, lw=1.2, label=label)
        axis.plot([0, limit * 100], [0, limit * 100], "k:", lw=1, label="random", zorder=1)  # under a constant run
        # a tie block crossing the limit is a segment: the panel cuts it there rather than dropping it
        top = max([limit] + [np.interp(limit, targeted, found) for targeted, found in curves.values()])
        axis.set_xlim(0, limit * 100)
        axis.set_ylim(0, min(top * 105, 102))
        axis.set_xlabel("samples targeted, highest purchase score first (%)")
        axis.set_ylabel("buyers found (%)")
        axis.set_title("all samples" if limit == 1.0 else f"the top {limit:.0%}")
        axis.grid(alpha=0.3)
    axes[1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0))  # outside: curves fill the panels
    figure.suptitle("Cumulative gains on test, each configuration's best run by dev AUC (tied scores: straight lines)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _own_arguments(argv):
    own, rest = {}, []
    for arg in argv:
        key, _, value = arg.partition("=")
        if key in OWN_ARGUMENTS:
            try:
                own[key] = OWN_ARGUMENTS[key](value)
            except ValueError:
                raise PipelineError(f"argument {arg!r}: expected a whole number") from None
        else:
            rest.append(arg)
    return own, rest


def main(argv):
    own, rest = _own_arguments(argv)
    cfg = configurator.load(rest)
    if not cfg.study:
        raise PipelineError("setting study: expected the name of a study, e.g. sh scr/report.sh study=NAME")
    study = check_study_name(cfg.study)
    n_boot = own.get("bootstrap", significance.N_BOOT)
    if n_boot < 100:
        raise PipelineError(f"argument bootstrap={n_boot}: expected at least 100 replicates")
    runs = study_runs(cfg.results_dir, study)
    labels = list(dict.fromkeys(runs["label"]))
    baseline = own.get("baseline", labels[0])
    if baseline not in labels:
        raise PipelineError(f"argument baseline={baseline!r}: not a configuration of study {study}; "
                            f"one of: {'; '.join(labels)}")
    replicates = bootstrap(runs, cfg.results_dir, n_boot)
    diffs = differences(replicates, baseline)
    folder = Path(cfg.results_dir) / "studies"
    with written_whole(folder / study) as partial:
        (partial / "report.md").write_text(
            markdown(study, runs, configuration_table(runs), diffs, baseline, n_boot, cfg.results_dir))
        plot_dev_curves(runs, cfg.results_dir, partial / "dev_curves.png")
        plot_intervals(runs, replicates["main_auc"], baseline, partial / "auc_intervals.png")
        best = best_runs(runs, cfg.results_dir)
        plot_roc(best, partial / "roc.png")
        plot_gains(best, partial / "gains.png")
    print(f"study {study}: report of {len(runs)} runs in {folder / study / 'report.md'}")
    return folder / study


if __name__ == "__main__":
    sys.exit(run_cli(main, sys.argv[1:]))
