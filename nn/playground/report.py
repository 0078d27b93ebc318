"""The study report: what a student hands in for "show your best result, how you found it, what you learned".

    summary = study_summary(log, study_id)   # a JSON-ready dict (the web page renders the same data)
    html = study_html(summary)               # self-contained page, plotly.js embedded, opens offline

Definitions (the report states them too):
- A configuration is one combination of factor levels; its seeds are its replicates. Configurations are
  ranked by mean final test loss over seeds; a diverged run (loss NaN or infinite) counts as infinitely bad,
  so a configuration with any diverged seed ranks after every one without.
- Spread is the standard deviation over seeds (and the min..max range).
- Epochs to threshold: the first epoch whose test loss is below THRESHOLDS[problem] (0.05 for classification,
  the level the original's C2 benchmark uses; 0.01 for regression, whose labels are smaller); "never" if
  the run did not get there.
- Per-factor tables pool every run at that level (all other factors and seeds): the factor's main effect.
  The loss curves and the "by level" findings hold the other factors at the best configuration's levels,
  so each compares like with like.
- Levels are read in the order the study lists them ("more capacity" means later in the networkShape list).
"""
from __future__ import annotations

import html
import math

import numpy as np

from nn.playground import export
from nn.playground.runlog import RunLog, RunLogError
from nn.playground.study import fixed_settings

THRESHOLDS = {"classification": 0.05, "regression": 0.01}
FACTOR_NAMES = {"learningRate": "learning rate", "networkShape": "hidden layer sizes",
                "regularization": "regularization", "regularizationRate": "regularization rate",
                "batchSize": "batch size", "activation": "activation"}


def _finite(value):
    return value is not None and math.isfinite(value)


def _stats(values) -> dict:
    """mean, std, min, max of the finite values (None when there are none)."""
    values = np.array([v for v in values if _finite(v)], dtype=float)
    if not len(values):
        return {"mean": None, "std": None, "min": None, "max": None}
    return {"mean": float(values.mean()), "std": float(values.std()), "min": float(values.min()),
            "max": float(values.max())}


def _epochs_to(test_loss: np.ndarray, threshold: float):
    below = np.flatnonzero(test_loss < threshold)
    return int(below[0]) if len(below) else None


def _group_stats(runs: list) -> dict:
    """What the report shows for a set of runs (one configuration, or one factor level)."""
    losses = [r["test_loss"] for r in runs]
    reached = [r["epochs_to_threshold"] for r in runs if r["epochs_to_threshold"] is not None]
    diverged = sum(r["diverged"] for r in runs)
    stats = {"runs": len(runs), "diverged": diverged, "test_loss": _stats(losses),
             "test_accuracy": _stats([r["test_accuracy"] for r in runs]),
             "train_loss": _stats([r["train_loss"] for r in runs]),
             "reached": len(reached), "epochs_to_threshold": float(np.median(reached)) if reached else None}
    # Ranking score: a diverged seed makes the configuration infinitely bad.
    mean = stats["test_loss"]["mean"]
    stats["score"] = math.inf if diverged or mean is None else mean
    return stats


def _mean_curve(curves: list) -> list:
    """Mean test loss per epoch over runs (NaN-safe; a diverged run counts until it stopped)."""
    if not curves:
        return []
    length = max(len(c) for c in curves)
    table = np.full((len(curves), length), np.nan)
    for i, curve in enumerate(curves):
        table[i, :len(curve)] = np.where(np.isfinite(curve), curve, np.nan)
    counts = np.isfinite(table).sum(axis=0)
    mean = np.where(counts > 0, np.nansum(table, axis=0) / np.maximum(counts, 1), np.nan)
    return [float(v) if math.isfinite(v) else None for v in mean]


def study_summary(log: RunLog, study_id: int, threshold: float | None = None) -> dict:
    """Everything the report shows, computed from the study's runs in the log (JSON-ready)."""
    study = log.get_study(study_id)
    spec = study["spec"]
    factors = [f["name"] for f in spec["factors"]]
    levels = {f["name"]: f["levels"] for f in spec["factors"]}
    problem = spec["base"].get("problem", "classification")
    threshold = THRESHOLDS[problem] if threshold is None else threshold
    runs, errors = [], []
    for run_id, labels in sorted(log.study_labels(study_id).items()):
        try:
            record = log.get(run_id)
        except RunLogError as error:  # one bad row must not sink the report
            errors.append(str(error))
            continue
        curve = np.asarray(record["history"]["test_loss"], dtype=float)
        final = record["final"]
        runs.append({"id": run_id, "labels": labels, "key": tuple(labels.get(f) for f in factors),
                     "seed": record["seed"], "epochs": record["epochs"], "diverged": record["diverged"],
                     "diverged_epoch": record["diverged_epoch"],
                     "test_loss": final["test_loss"] if not record["diverged"] else None,
                     "train_loss": final["train_loss"] if not record["diverged"] else None,
                     "test_accuracy": final["test_accuracy"] if not record["diverged"] else None,
                     "epochs_to_threshold": _epochs_to(curve, threshold), "curve": curve,
                     "record": record})
    if not runs:
        raise RunLogError(f"study {study_id}: no runs in the log yet")

    configs = {}
    for run in runs:
        configs.setdefault(run["key"], []).append(run)
    leaderboard = sorted(({"levels": dict(zip(factors, key)), **_group_stats(members),
                           "url": members[0]["record"]["url"]} for key, members in configs.items()),
                         key=lambda row: (row["score"], row["test_loss"]["mean"] or math.inf))
    best = leaderboard[0]
    best_key = tuple(best["levels"][f] for f in factors)

    factor_tables = []
    for index, factor in enumerate(factors):
        rows, curves = [], []
        for level in levels[factor]:
            at_level = [r for r in runs if r["labels"].get(factor) == level]
            rows.append({"level": level, **_group_stats(at_level)})
            # Like with like: the other factors at the best configuration's levels.
            key = best_key[:index] + (level,) + best_key[index + 1:]
            at_best = configs.get(key, [])
            curves.append({"level": level, "curve": _mean_curve([r["curve"] for r in at_best]),
                           **{k: v for k, v in _group_stats(at_best).items() if k != "score"}})
        factor_tables.append({"factor": factor, "levels": rows, "at_best": curves})

    ranked = sorted(runs, key=lambda r: r["test_loss"] if _finite(r["test_loss"]) else math.inf)
    summary = {
        "study_id": study_id, "spec": spec, "problem": problem, "threshold": threshold,
        "runs": len(runs), "configurations": len(configs), "seeds": spec["seeds"], "epochs": spec["epochs"],
        "factors": factors, "best": best, "leaderboard": leaderboard, "factor_tables": factor_tables,
        "best_run": _run_picture(ranked[0]), "worst_run": _run_picture(ranked[-1]), "errors": errors,
        "diverged": sum(r["diverged"] for r in runs),
    }
    summary["findings"] = findings(summary)
    return export.jsonable(summary)


def _run_picture(run) -> dict:
    record = run["record"]
    return {"id": run["id"], "labels": run["labels"], "seed": run["seed"], "config": record["config"],
            "url": record["url"], "data": record["data"], "boundary": record["boundary"],
            "final": record["final"], "diverged": record["diverged"], "epochs": record["epochs"]}


# ---------------------------------------------------------------- findings

def _name(factor: str) -> str:
    return FACTOR_NAMES.get(factor, factor)


def _describe(levels: dict) -> str:
    return ", ".join(f"{_name(f)} {v}" for f, v in levels.items()) or "the fixed settings"


def _seeds(count: int) -> str:
    return f"{count} seed" + ("" if count == 1 else "s")


def _loss(value) -> str:
    return "diverged" if value is None else f"{value:.3f}"


def findings(summary: dict) -> list:
    """Plain sentences computed from the summary: best result, divergence, and each factor's effect."""
    best, threshold = summary["best"], summary["threshold"]
    loss = best["test_loss"]
    sentences = []
    if best["score"] == math.inf or loss["mean"] is None:
        sentences.append("Every configuration diverged in at least one seed; no configuration is reliable.")
    else:
        accuracy = best["test_accuracy"]["mean"]
        sentences.append(
            f"The best configuration is {_describe(best['levels'])}: mean final test loss {loss['mean']:.3f} "
            f"± {loss['std']:.3f} over {_seeds(best['runs'])} (from {loss['min']:.3f} to {loss['max']:.3f})"
            + (f", mean test accuracy {100 * accuracy:.1f}%" if accuracy is not None else "") + ".")
        reached = best["reached"]
        sentences.append(
            f"It reached test loss < {threshold:g} in {reached} of {_seeds(best['runs'])}"
            + (f", after a median {best['epochs_to_threshold']:.0f} epochs." if reached else "."))
    total, diverged = summary["runs"], summary["diverged"]
    if not diverged:
        sentences.append(f"No run diverged ({total} runs).")
    for table in summary["factor_tables"]:
        factor = table["factor"]
        bad = [row for row in table["levels"] if row["diverged"]]
        if bad:
            parts = [f"{row['level']} in {row['diverged']} of {row['runs']} runs" for row in bad]
            sentences.append(f"Runs diverged (loss became NaN or infinite) at {_name(factor)} "
                             + "; ".join(parts) + ".")
    for table in summary["factor_tables"]:
        sentences += _factor_findings(table, threshold, summary["best"]["levels"])
    return sentences


def _factor_findings(table: dict, threshold: float, best_levels: dict) -> list:
    factor, rows = table["factor"], table["at_best"]
    others = {f: v for f, v in best_levels.items() if f != factor}
    context = f" (other settings as in the best configuration: {_describe(others)})" if others else ""
    means = [row["test_loss"]["mean"] if not row["diverged"] else None for row in rows]
    spreads = [row["test_loss"]["std"] or 0.0 for row in rows]
    sentences = [f"Final test loss by {_name(factor)}{context}: "
                 + ", ".join(f"{row['level']} → {_loss(m)}" for row, m in zip(rows, means)) + "."]
    if factor == "learningRate" or any(row["reached"] for row in rows):
        sentences.append(f"Median epochs to test loss < {threshold:g} by {_name(factor)}: " + ", ".join(
            f"{row['level']} → " + (f"{row['epochs_to_threshold']:.0f} ({row['reached']} of {row['runs']} seeds)"
                                    if row["reached"] else "never") for row in rows) + ".")
    if factor == "networkShape":
        sentences.append(_capacity_finding(rows, means, spreads))
    if factor == "regularization":
        sentences += _regularization_findings(rows, means, spreads)
    return [s for s in sentences if s]


def _capacity_finding(rows, means, spreads) -> str:
    """Where a larger network (later level) stopped lowering the test loss by more than the seed spread."""
    for i in range(len(rows) - 1):
        if means[i] is None or means[i + 1] is None:
            continue
        if means[i + 1] > means[i] - spreads[i]:
            return (f"More capacity stopped helping after hidden layers {rows[i]['level']}: "
                    f"{rows[i + 1]['level']} gave {means[i + 1]:.3f} against {means[i]:.3f}, "
                    f"{'worse' if means[i + 1] > means[i] else 'within the seed-to-seed spread'}.")
    if all(m is not None for m in means) and len(means) > 1:
        return (f"Each larger network lowered the test loss beyond the seed-to-seed spread; the largest tried "
                f"({rows[-1]['level']}) was best, so even more capacity may help.")
    return ""


def _regularization_findings(rows, means, spreads) -> list:
    """Compared with no regularization (or the first level): which levels helped, and where it hurt."""
    labels = [row["level"] for row in rows]
    ref = labels.index("none") if "none" in labels else 0
    if means[ref] is None:
        return []
    sentences = []
    for row, mean, spread in zip(rows, means, spreads):
        if row["level"] == labels[ref] or mean is None:
            continue
        margin = max(spread, spreads[ref])
        if mean > means[ref] + margin:
            sentences.append(f"Regularization {row['level']} hurt: test loss {mean:.3f} against "
                             f"{means[ref]:.3f} with {labels[ref]}.")
        elif mean < means[ref] - margin:
            sentences.append(f"Regularization {row['level']} helped: test loss {mean:.3f} against "
                             f"{means[ref]:.3f} with {labels[ref]}.")
    hurt = [s for s in sentences if " hurt:" in s]
    if hurt:
        first = hurt[0].split(" hurt:")[0].removeprefix("Regularization ")
        sentences.insert(0, f"Regularization started to hurt at {first}.")
    elif len(rows) > 1:
        sentences.append("No regularization level tried made the test loss clearly worse "
                         "than the seed-to-seed spread.")
    return sentences


# ---------------------------------------------------------------- HTML

def _loss_cell(stats) -> str:
    loss = stats["test_loss"]
    if loss["mean"] is None:
        return "diverged"
    return f"{loss['mean']:.3f} ± {loss['std']:.3f}"


def _epochs_cell(stats) -> str:
    return f"{stats['epochs_to_threshold']:.0f} ({stats['reached']}/{stats['runs']})" if stats["reached"] else "never"


def _picture(run: dict, title: str) -> str:
    # JSON null (a NaN of a diverged run) becomes NaN again: np.array(..., dtype=float) maps None to nan.
    record = {**run, "boundary": np.array(run["boundary"], dtype=float),
              "data": None if run["data"] is None else np.array(run["data"], dtype=float)}
    return export.figure_div(export.boundary_figure(record, title, size=400))


def study_html(summary: dict) -> str:
    """The study report as one self-contained HTML page."""
    import plotly.graph_objects as go

    best, factors = summary["best"], summary["factors"]
    threshold = summary["threshold"]
    best_link = export.ORIGINAL_PLAYGROUND + best["url"]
    parts = [
        "<h2>Best configuration</h2>",
        f"<p><b>{html.escape(_describe(best['levels']))}</b>: mean final test loss {_loss_cell(best)} over "
        f"{_seeds(best['runs'])}. <a href=\"{html.escape(best_link)}\">Open it in the playground</a>.</p>",
        "<h2>What the data says</h2><ul>" + "".join(f"<li>{html.escape(s)}</li>" for s in summary["findings"])
        + "</ul>",
        "<h2>How it was found</h2>",
        f"<p>{summary['runs']} runs: {summary['configurations']} configurations "
        f"({' × '.join(str(len(t['levels'])) + ' ' + html.escape(_name(t['factor'])) for t in summary['factor_tables']) or 'one'})"
        f" × {_seeds(len(summary['seeds']))} ({html.escape(', '.join(summary['seeds']))}), {summary['epochs']} epochs "
        "each. Configurations are ranked by mean final test loss over seeds (± standard deviation); a diverged "
        f"seed ranks its configuration last. Epochs to threshold: first epoch with test loss &lt; {threshold:g} "
        "(median over the seeds that got there, and how many did). Fixed settings: "
        f"<code>{html.escape(fixed_settings(summary['spec']))}</code></p>",
        "<h2>Leaderboard</h2>",
        export.table_html(
            ("rank", *map(_name, factors), "test loss (mean ± sd)", "min .. max", "test accuracy", "diverged",
             f"epochs to < {threshold:g}"),
            [(i + 1, *(row["levels"][f] for f in factors), _loss_cell(row),
              "-" if row["test_loss"]["min"] is None else f"{row['test_loss']['min']:.3f} .. {row['test_loss']['max']:.3f}",
              export.format_value(row["test_accuracy"]["mean"], percent=True), f"{row['diverged']}/{row['runs']}",
              _epochs_cell(row)) for i, row in enumerate(summary["leaderboard"])],
            text_columns=tuple(range(1, len(factors) + 1))),
    ]
    for table in summary["factor_tables"]:
        name = _name(table["factor"])
        rows = table["levels"]
        parts.append(f"<h2>Effect of {html.escape(name)}</h2><p>All runs at each level (other factors pooled):</p>")
        parts.append(export.table_html(
            (name, "runs", "test loss (mean ± sd)", "test accuracy", "diverged", f"epochs to < {threshold:g}"),
            [(row["level"], row["runs"], _loss_cell(row), export.format_value(row["test_accuracy"]["mean"], percent=True),
              f"{row['diverged']}/{row['runs']}", _epochs_cell(row)) for row in rows]))
        bars = go.Figure(go.Bar(
            x=[row["level"] for row in rows], y=[row["test_loss"]["mean"] for row in rows],
            error_y={"type": "data", "array": [row["test_loss"]["std"] for row in rows]}))
        bars.update_layout(title=f"Final test loss by {name} (all runs)", xaxis={"type": "category", "title": name},
                           yaxis_title="test loss", height=340, width=480, template="plotly_white")
        curves = [(row["level"], list(range(len(row["curve"]))), [np.nan if v is None else v for v in row["curve"]],
                   "solid") for row in table["at_best"]]
        curve_figure = export.loss_figure(curves, f"Mean test loss by {name}, others as in the best configuration")
        curve_figure.update_layout(width=600)
        parts.append('<div class="row">' + export.figure_div(bars) + export.figure_div(curve_figure) + "</div>")
    parts.append("<h2>Decision boundaries of the best and the worst run</h2><div class=\"row\">")
    for key, title in (("best_run", "Best run"), ("worst_run", "Worst run")):
        run = summary[key]
        caption = f"{title}: {_describe(run['labels'])}, seed {run['seed']}, test loss {_loss(run['final']['test_loss']) if not run['diverged'] else 'diverged'}"
        parts.append(_picture(run, caption))
    parts.append("</div>")
    if summary["errors"]:
        parts.append("<h2>Runs left out</h2><ul>" + "".join(f"<li>{html.escape(e)}</li>" for e in summary["errors"])
                     + "</ul>")
    return export.html_page(f"Study {summary['study_id']}: {summary['spec']['base'].get('dataset', '')}", "\n".join(parts))
