"""Exports of runs: CSV, JSON and self-contained HTML, as pure functions over runs.

Every function takes a `Run` or a run record (a dict from `runlog.snapshot(run)` or `RunLog.get(run_id)`),
so the CLI, the web app and the run log export the same way, from the full per-epoch history.

    history_csv(run) -> str              one row per epoch
    run_json(run) -> dict                config, URL, history, final weights (JSON-safe: NaN/inf become null)
    run_html(run) -> str                 loss curves + final decision boundary, plotly.js embedded (offline)
    runs_long_csv(runs) / runs_wide_csv(runs) / runs_json(runs) / runs_html(runs)   several runs
    write_export(runs, folder, filename)  picks the format from the file extension; never writes outside folder

Rules:
- Text cells in CSV (names, tags, notes) that start with = + - @ (or a tab / carriage return) get a leading
  quote, so a spreadsheet never runs them as a formula. Numbers are written as numbers, negative ones too.
- Missing values (accuracy for regression) are empty CSV cells and JSON null.
"""
from __future__ import annotations

import base64
import csv
import html
import io
import json
import math
import os
import struct
import uuid
import zlib
from pathlib import Path

import numpy as np

from nn.playground import runlog

ORANGE, GREY, BLUE = "#f59322", "#e8eaeb", "#0877bd"  # the original's colours for -1, 0, +1
BOUNDARY_COLOURSCALE = [[0.0, ORANGE], [0.5, GREY], [1.0, BLUE]]
# For more than 2 classes: class k is painted CLASS_COLOURS[k].
CLASS_COLOURS = [ORANGE, BLUE, "#2ca02c", "#9467bd", "#d62728", "#8c564b"]
ORIGINAL_PLAYGROUND = "https://playground.tensorflow.org/#"
HISTORY_COLUMNS = ("epoch", "wall_time", "train_loss", "test_loss", "train_accuracy", "test_accuracy")
METRICS = ("train_loss", "test_loss", "train_accuracy", "test_accuracy")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def as_record(run) -> dict:
    """The run record of a Run; a record (dict) is returned as it is."""
    return run if isinstance(run, dict) else runlog.snapshot(run)


def playground_link(record: dict) -> str:
    """A link that opens the run's settings in the original playground (our extra settings ride along)."""
    return ORIGINAL_PLAYGROUND + record["url"]


# ---------------------------------------------------------------- CSV

def spreadsheet_safe(text) -> str:
    """`text` as a CSV cell a spreadsheet shows as text: a leading quote if it could start a formula."""
    text = "" if text is None else str(text)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _number(value) -> str:
    """A number as a CSV cell: full precision, empty for missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return repr(int(value)) if isinstance(value, (int, np.integer)) else repr(float(value))


def _history_rows(record: dict):
    """(epoch, wall_time, train_loss, test_loss, train_accuracy, test_accuracy) per epoch, None for missing."""
    history = record["history"]
    n = len(history["epoch"])
    columns = [history.get(name) for name in HISTORY_COLUMNS]
    for i in range(n):
        row = []
        for name, column in zip(HISTORY_COLUMNS, columns):
            if column is None:
                row.append(None)
            elif name == "epoch":
                row.append(int(column[i]))
            else:
                row.append(float(column[i]))
        yield row


def _csv_text(rows) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def history_csv(run) -> str:
    """One row per epoch (epoch 0 = before training): epoch, wall_time, losses, accuracies."""
    record = as_record(run)
    return _csv_text([HISTORY_COLUMNS, *([_number(v) for v in row] for row in _history_rows(record))])


def runs_wide_csv(runs) -> str:
    """Several runs, one row per run and epoch: run_id, name, epoch, wall_time, losses, accuracies."""
    rows = [("run_id", "name", *HISTORY_COLUMNS)]
    for record in map(as_record, runs):
        ident, name = _number(record.get("id")) or record["uid"], spreadsheet_safe(record.get("name"))
        rows += [(ident, name, *map(_number, row)) for row in _history_rows(record)]
    return _csv_text(rows)


def runs_long_csv(runs) -> str:
    """Several runs in long form, one row per run, epoch and metric: run_id, epoch, metric, value, wall_time."""
    rows = [("run_id", "epoch", "metric", "value", "wall_time")]
    for record in map(as_record, runs):
        ident = _number(record.get("id")) or record["uid"]
        for epoch, wall_time, *values in _history_rows(record):
            rows += [(ident, epoch, metric, _number(value), _number(wall_time))
                     for metric, value in zip(METRICS, values) if value is not None]
    return _csv_text(rows)


# ---------------------------------------------------------------- JSON

def jsonable(value):
    """`value` with arrays as lists, sets sorted, and NaN/inf as None (JSON has no NaN)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(jsonable(v) for v in value)
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value


def run_json(run) -> dict:
    """Config, playground URL, summary, full history (column lists) and final weights of one run."""
    record = as_record(run)
    keys = ("id", "uid", "name", "tags", "notes", "source", "created", "updated", "config", "url", "seed",
            "epochs", "diverged", "diverged_epoch", "final")
    out = {key: record.get(key) for key in keys}
    out["playground_link"] = playground_link(record)
    out["history"] = {name: column for name, column in record["history"].items() if column is not None}
    out["weights"] = [{"W": W, "b": b, "dead": dead}
                      for (W, b), dead in zip(record["weights"], record["dead"])]
    return jsonable(out)


def runs_json(runs) -> dict:
    """Several runs: {"runs": [run_json(run), ...]}."""
    return {"runs": [run_json(run) for run in runs]}


# ---------------------------------------------------------------- pictures

def _hex_rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)], dtype=float)


def boundary_rgb(boundary: np.ndarray) -> np.ndarray:
    """(d, d, 3) uint8 picture of a boundary in the original's colours; NaN (diverged) is grey.

    Two classes / regression: -1 orange, 0 grey, +1 blue, linear in between, clipped to [-1, 1].
    More classes ((K, d, d) probabilities): the most likely class's colour."""
    boundary = np.asarray(boundary, dtype=float)
    if boundary.ndim == 3:
        palette = np.array([_hex_rgb(c) for c in CLASS_COLOURS])
        picture = palette[np.nan_to_num(boundary, nan=0.0).argmax(axis=0) % len(palette)]
        picture[np.isnan(boundary).any(axis=0)] = _hex_rgb(GREY)
        return picture.astype(np.uint8)
    t = np.clip(np.nan_to_num(boundary, nan=0.0), -1, 1)[..., None]
    grey = _hex_rgb(GREY)
    picture = np.where(t < 0, grey + (grey - _hex_rgb(ORANGE)) * t, grey + (_hex_rgb(BLUE) - grey) * t)
    return np.round(picture).astype(np.uint8)


def png_bytes(rgb: np.ndarray) -> bytes:
    """A PNG file of an (h, w, 3) uint8 picture (stdlib only: thumbnails need no imaging library)."""
    height, width, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[row].tobytes() for row in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b""))


def thumbnail_img(boundary, size: int = 80, title: str = "") -> str:
    """An <img> tag with the boundary as an inline PNG (no script, no network)."""
    data = base64.b64encode(png_bytes(boundary_rgb(boundary))).decode()
    return (f'<img class="thumb" src="data:image/png;base64,{data}" width="{size}" height="{size}" '
            f'title="{html.escape(title)}" alt="decision boundary {html.escape(title)}">')


def record_points(record: dict):
    """(train_data, test_data) of a record, rebuilt from its seed (and its points, for user data)."""
    run = runlog.rebuild_run(record)
    return run.train_data, run.test_data


def loss_figure(curves, title: str = "Loss"):
    """A plotly figure of loss curves: `curves` is a list of (label, epochs, values, dash)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for label, epochs, values, dash in curves:
        values = np.asarray(values, dtype=float)
        fig.add_trace(go.Scatter(x=np.asarray(epochs).tolist(), y=np.where(np.isfinite(values), values, None).tolist(),
                                 mode="lines", name=label, line={"dash": dash}))
    fig.update_layout(title=title, xaxis_title="epoch", yaxis_title="loss", height=380,
                      margin={"l": 50, "r": 20, "t": 50, "b": 40}, template="plotly_white")
    return fig


def boundary_figure(record: dict, title: str = "Decision boundary", size: int = 420):
    """A plotly figure: the record's final boundary over [-6, 6]^2 with train (white outline) and test
    (black outline) points, in the original's colours."""
    import plotly.graph_objects as go

    boundary = np.asarray(record["boundary"], dtype=float)
    step = 12 / (boundary.shape[-1] - 1)
    # An image (not a heatmap) so NaN shows grey as in the original; row 0 is y = +6.
    fig = go.Figure(go.Image(z=boundary_rgb(boundary), x0=-6, dx=step, y0=6, dy=-step, hoverinfo="skip"))
    train, test = record_points(record)
    multiclass = boundary.ndim == 3
    for name, points, outline in (("train", train, "white"), ("test", test, "black")):
        labels = points[:, 2]
        rgb = (np.array([_hex_rgb(CLASS_COLOURS[int(k) % len(CLASS_COLOURS)]) for k in labels]) if multiclass
               else boundary_rgb(labels[None, :])[0])
        colours = [f"rgb({r:.0f},{g:.0f},{b:.0f})" for r, g, b in rgb]
        fig.add_trace(go.Scatter(x=points[:, 0].tolist(), y=points[:, 1].tolist(), mode="markers", name=name,
                                 marker={"color": colours, "size": 6, "line": {"color": outline, "width": 1}}))
    fig.update_layout(title=title, width=size, height=size, template="plotly_white",
                      margin={"l": 30, "r": 10, "t": 50, "b": 30}, legend={"orientation": "h"},
                      xaxis={"range": [-6, 6], "constrain": "domain"},
                      yaxis={"range": [-6, 6], "scaleanchor": "x", "autorange": False})
    return fig


def figure_div(fig) -> str:
    """A figure as an HTML fragment that uses the page's embedded plotly.js (no network)."""
    return fig.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False})


PAGE_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; padding: 0 1em; max-width: 1100px; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.92em; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: right; }
th { background: #f4f4f4; } td.text, th.text { text-align: left; }
.thumb { image-rendering: pixelated; border: 1px solid #ccc; }
.row { display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }
code { word-break: break-all; }
"""


def html_page(title: str, body: str) -> str:
    """A complete HTML page with plotly.js embedded, so it opens offline."""
    from plotly.offline import get_plotlyjs

    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>\n"
            f"<style>{PAGE_STYLE}</style>\n<script type=\"text/javascript\">{get_plotlyjs()}</script>\n"
            f"</head><body>\n<h1>{html.escape(title)}</h1>\n{body}\n</body></html>\n")


def format_value(value, percent: bool = False) -> str:
    """A metric for people: 3 decimals (the original shows losses so), percent for accuracy, '-' for none."""
    if value is None:
        return "-"
    if isinstance(value, float) and not math.isfinite(value):
        return "diverged" if math.isnan(value) else str(value)
    return f"{100 * value:.1f}%" if percent else f"{value:.3f}"


def table_html(header, rows, text_columns=(0,)) -> str:
    """An HTML table; cells are escaped."""
    def cell(tag, i, value):
        klass = ' class="text"' if i in text_columns else ""
        return f"<{tag}{klass}>{value if isinstance(value, Markup) else html.escape(str(value))}</{tag}>"

    head = "".join(cell("th", i, h) for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(cell("td", i, v) for i, v in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


class Markup(str):
    """HTML that table_html puts in a cell as it is (already escaped by whoever made it)."""


def summary_rows(record: dict):
    final = record["final"]
    return [("epochs", record["epochs"]),
            ("train loss", format_value(final["train_loss"])), ("test loss", format_value(final["test_loss"])),
            ("train accuracy", format_value(final["train_accuracy"], percent=True)),
            ("test accuracy", format_value(final["test_accuracy"], percent=True)),
            ("diverged", f"at epoch {record['diverged_epoch']}" if record["diverged"] else "no")]


def _run_title(record: dict) -> str:
    return record.get("name") or (f"run {record['id']}" if record.get("id") else f"run {record['uid'][:8]}")


def run_html(run) -> str:
    """One run: its summary, the loss curves and the final decision boundary with the data."""
    record = as_record(run)
    history = record["history"]
    curves = [("train", history["epoch"], history["train_loss"], "dash"),
              ("test", history["epoch"], history["test_loss"], "solid")]
    link = playground_link(record)
    body = (table_html(("", "value"), summary_rows(record))
            + f'<p>Settings: <a href="{html.escape(link)}"><code>{html.escape(record["url"])}</code></a></p>'
            + '<div class="row">' + figure_div(loss_figure(curves))
            + figure_div(boundary_figure(record)) + "</div>")
    return html_page(_run_title(record), body)


def runs_html(runs) -> str:
    """Several runs: a table with each run's settings, results and boundary thumbnail, and all their
    test-loss curves overlaid."""
    records = [as_record(run) for run in runs]
    rows = []
    for record in records:
        final = record["final"]
        rows.append((_run_title(record), Markup(thumbnail_img(record["boundary"], 60, _run_title(record))),
                     record["epochs"], format_value(final["train_loss"]), format_value(final["test_loss"]),
                     format_value(final["test_accuracy"], percent=True),
                     Markup(f'<a href="{html.escape(playground_link(record))}">settings</a>')))
    curves = [(_run_title(r), r["history"]["epoch"], r["history"]["test_loss"], "solid") for r in records]
    body = (table_html(("run", "boundary", "epochs", "train loss", "test loss", "test accuracy", "playground"),
                       rows, text_columns=(0,))
            + figure_div(loss_figure(curves, "Test loss")))
    return html_page(f"{len(records)} runs", body)


# ---------------------------------------------------------------- files

def safe_path(folder, filename) -> Path:
    """folder/filename, refusing any name that would land outside `folder` (.., absolute paths, links)."""
    root = Path(folder).resolve()
    target = (root / filename).resolve()
    if target.parent != root and root not in target.parents:
        raise ValueError(f"export file name: {str(filename)!r} is outside the folder {str(root)!r}; "
                         "allowed: a file name inside that folder")
    return target


EXPORT_FORMATS = (".csv", ".json", ".html")


def export_text(runs, extension: str, csv_form: str = "long") -> str:
    """The export of one run (a Run or record) or a list of runs as text, by file extension."""
    single = not isinstance(runs, (list, tuple))
    if extension == ".csv":
        if single:
            return history_csv(runs)
        if csv_form not in ("long", "wide"):
            raise ValueError(f"csv form: {csv_form!r} is not allowed; allowed: long, wide")
        return runs_long_csv(runs) if csv_form == "long" else runs_wide_csv(runs)
    if extension == ".json":
        return json.dumps(run_json(runs) if single else runs_json(runs), indent=1, allow_nan=False) + "\n"
    if extension == ".html":
        return run_html(runs) if single else runs_html(runs)
    raise ValueError(f"export file extension: {extension!r} is not allowed; allowed: {', '.join(EXPORT_FORMATS)}")


def write_export(runs, folder, filename, csv_form: str = "long") -> Path:
    """Write the export chosen by `filename`'s extension into `folder` and return its path.

    The file is written whole or not at all (temporary file, then rename), so an old export is never
    left half-overwritten by a failed one."""
    target = safe_path(folder, filename)
    return write_text(folder, filename, export_text(runs, target.suffix.lower(), csv_form))


def write_text(folder, filename, text: str) -> Path:
    """Write `text` to folder/filename (inside `folder` only), whole or not at all."""
    target = safe_path(folder, filename)
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(temporary, "x", encoding="utf-8", newline="") as file:
            file.write(text)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return target
