"""The headless command line: train one run, run a study, write a study report, export saved runs.

    python -m nn.playground train --url '<playground link>' --epochs 2000 --out run.csv --out run.html
    python -m nn.playground sweep --dataset spiral --learning-rate 0.01,0.03 --network-shape 4 8,8 --seeds 3
    python -m nn.playground report --study 1 --out study.html
    python -m nn.playground export --runs 3,4 --out runs.csv [--wide]

Every Config field is an option, named in kebab case (learningRate -> --learning-rate) and written as in a
playground link (--network-shape 8,8, --regularization L2, --x-times-y true, --hide dataset,noise); an
option overrides the --url's value. Bad options exit with status 2 and a message naming the option.
"""
from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

from nn.playground import Config, Run
from nn.playground import export
from nn.playground.runlog import RunLog, RunLogError
from nn.playground.study import LIST_FIELDS, StudySpec, run_study, with_settings, parse_level

DEFAULT_EPOCHS = 1000
SAVE_INTERVAL_S = 5.0  # a crash loses at most this much training


def option_name(field: str) -> str:
    """learningRate -> learning-rate."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"-\1", field).lower()


CONFIG_FIELDS = tuple(Config.__dataclass_fields__)


def _add_config_options(parser, sweep: bool):
    group = parser.add_argument_group("settings (as in a playground link; each overrides --url)")
    group.add_argument("--url", help="a playground link or its hash: the starting settings")
    for field in CONFIG_FIELDS:
        default = Config.__dataclass_fields__[field].default
        shown = "" if field == "seed" else f" (default {default!r})"
        if sweep:
            grammar = "levels separated by spaces" if field in LIST_FIELDS else "levels separated by spaces or commas"
            group.add_argument(f"--{option_name(field)}", dest=field, nargs="+", metavar="VALUE",
                               help=f"{field}{shown}; {grammar}")
        else:
            group.add_argument(f"--{option_name(field)}", dest=field, metavar="VALUE", help=f"{field}{shown}")


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not allowed; allowed: 1 or more")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m nn.playground", allow_abbrev=False,
                                     description="Backprop Playground without the browser.")
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", allow_abbrev=False, help="train one run and export it")
    train.add_argument("--epochs", type=_positive_int, default=DEFAULT_EPOCHS)
    train.add_argument("--out", action="append", default=[], metavar="FILE",
                       help="export file, by extension: .csv (history), .json, .html (offline); repeatable")
    train.add_argument("--csv-data", metavar="FILE", help="train on your own points: CSV rows x,y,label")
    train.add_argument("--db", metavar="PATH", help="run log file (default: in your user data folder)")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_config_options(train, sweep=False)

    sweep = commands.add_parser("sweep", allow_abbrev=False, help="train every combination of settings x seeds")
    sweep.add_argument("--seeds", default="1", metavar="N|S1,S2,...",
                       help='replicates: a count N (seeds "s0".."sN-1") or a comma list of seeds')
    sweep.add_argument("--epochs", type=_positive_int, default=DEFAULT_EPOCHS)
    sweep.add_argument("--workers", type=_positive_int, default=2, help="local worker processes (1: none)")
    sweep.add_argument("--scheduler", metavar="ADDRESS", help="run on a Dask cluster, e.g. tcp://host:8786")
    sweep.add_argument("--db", metavar="PATH", help="run log file (default: in your user data folder)")
    sweep.add_argument("--report", metavar="FILE.html", help="write the study report here")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_config_options(sweep, sweep=True)

    report = commands.add_parser("report", allow_abbrev=False, help="write the report of a study in the log")
    report.add_argument("--study", type=_positive_int, help="study id (default: the latest)")
    report.add_argument("--out", required=True, metavar="FILE.html")
    report.add_argument("--db", metavar="PATH")

    exporter = commands.add_parser("export", allow_abbrev=False, help="export runs from the log")
    exporter.add_argument("--runs", required=True, metavar="ID,ID,...", help="run ids (see the Runs page)")
    exporter.add_argument("--out", action="append", required=True, metavar="FILE", help=".csv, .json or .html")
    exporter.add_argument("--wide", action="store_true", help="CSV with one row per run and epoch (default: long)")
    exporter.add_argument("--db", metavar="PATH")
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return {"train": _train, "sweep": _sweep, "report": _report, "export": _export}[args.command](parser, args)


# ---------------------------------------------------------------- helpers

class ProgressBar:
    """A plain one-line progress bar with ETA on stderr, redrawn at most 10 times a second."""

    def __init__(self, total: int, unit: str, enabled: bool = True, stream=None):
        self.total, self.unit, self.enabled = total, unit, enabled
        self.stream = stream if stream is not None else sys.stderr
        self.start = time.monotonic()
        self._drawn = 0.0

    def show(self, done: int, eta: float | None = None, force: bool = False):
        now = time.monotonic()
        if not self.enabled or (not force and now - self._drawn < 0.1):
            return
        self._drawn = now
        elapsed = now - self.start
        if eta is None and done:
            eta = elapsed / done * (self.total - done)
        filled = int(30 * done / self.total) if self.total else 30
        self.stream.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{self.total} {self.unit}  "
                          f"{_duration(elapsed)} elapsed  ETA {_duration(eta) if eta is not None else '?'}  ")
        self.stream.flush()

    def close(self):
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 \
        else f"{seconds // 60}:{seconds % 60:02d}"


def _base_config(parser, args) -> Config:
    try:
        return Config.from_url(args.url) if args.url else Config()
    except ValueError as error:
        parser.error(f"--url: {error}")


def _setting_error(parser, error: ValueError):
    """Exit 2 with a settings error, naming the option of the field it names."""
    key = str(error).split(":")[0]
    hidden = key.endswith("_hide")  # Config.from_url names a hidden control "<control>_hide"
    option = "--hide" if hidden else f"--{option_name(key)}"
    parser.error(f"{option}: {error}" if hidden or key in (*CONFIG_FIELDS, "seeds", "epochs") else str(error))


def _open_log(parser, args) -> RunLog:
    try:
        return RunLog(args.db)
    except RunLogError as error:
        parser.error(f"--db: {error}")


def _check_outputs(parser, paths, option="--out", allowed=export.EXPORT_FORMATS):
    for path in paths:
        path = Path(path)
        if path.suffix.lower() not in allowed:
            parser.error(f"{option}: {str(path)!r} has extension {path.suffix!r}; allowed: {', '.join(allowed)}")
        if not path.resolve().parent.is_dir():
            parser.error(f"{option}: {str(path)!r}: the folder {str(path.resolve().parent)!r} does not exist")


def _write(runs, path, csv_form="long") -> Path:
    path = Path(path).resolve()
    return export.write_export(runs, path.parent, path.name, csv_form)


def _playground(url: str) -> str:
    return export.ORIGINAL_PLAYGROUND + url


# ---------------------------------------------------------------- train

def _train(parser, args) -> int:
    base = _base_config(parser, args)
    try:
        # One value per field: the same texts a study's levels are (e.g. --regularization L2:0.01).
        settings = [pair for field in CONFIG_FIELDS if getattr(args, field) is not None
                    for pair in parse_level(field, getattr(args, field)).settings]
        cfg = with_settings(base, settings)
    except ValueError as error:
        _setting_error(parser, error)
    data = None
    if args.csv_data:
        from nn.playground.datasets import load_csv

        try:
            data = load_csv(Path(args.csv_data).read_text(encoding="utf-8"), cfg.problem, classes=cfg.classes)
        except (OSError, UnicodeDecodeError, ValueError) as error:
            parser.error(f"--csv-data: {args.csv_data!r}: {error}")
        cfg = cfg.replace(**{"dataset" if cfg.problem == "classification" else "regDataset": "custom"})
    _check_outputs(parser, args.out)
    log = _open_log(parser, args)
    try:
        run = Run(cfg, data=data)
    except ValueError as error:
        parser.error(str(error))

    bar = ProgressBar(args.epochs, "epochs", enabled=not args.quiet)
    interrupted = False
    last_save = time.monotonic()
    chunk = max(1, args.epochs // 200)
    try:
        while run.epoch < args.epochs and not run.diverged:
            run.train(min(chunk, args.epochs - run.epoch))
            bar.show(run.epoch)
            if time.monotonic() - last_save > SAVE_INTERVAL_S:
                log.save(run, source="cli")
                last_save = time.monotonic()
    except KeyboardInterrupt:
        interrupted = True
    bar.show(run.epoch, force=True)
    bar.close()
    run_id = log.save(run, source="cli")
    written = [_write(run, path) for path in args.out]
    _print_summary(run, run_id, log, written, bar, interrupted)
    return 130 if interrupted else 0


def _print_summary(run, run_id, log, written, bar, interrupted):
    last = run.history.last()
    seconds = time.monotonic() - bar.start
    lines = [("epochs", f"{run.epoch}" + (f" (diverged at epoch {run.diverged_epoch})" if run.diverged else "")
              + (" (interrupted)" if interrupted else ""))]
    for split in ("train", "test"):
        accuracy = last[f"{split}_accuracy"]
        lines.append((f"{split} loss", export.format_value(last[f"{split}_loss"]) + (
            f"   accuracy {export.format_value(accuracy, percent=True)}" if accuracy is not None else "")))
    lines.append(("time", f"{seconds:.1f} s ({run.epoch / seconds if seconds else 0:.0f} epochs/s)"))
    lines.append(("run log", f"run {run_id} in {log.path}" if run_id is not None else f"NOT SAVED: {log.last_error}"))
    lines += [("wrote", str(path)) for path in written]
    lines.append(("playground", _playground(run.cfg.to_url())))
    print("\n".join(f"{label:<11} {value}" for label, value in lines))


# ---------------------------------------------------------------- sweep

def _sweep(parser, args) -> int:
    from nn.playground.report import study_html, study_summary

    base = _base_config(parser, args)
    options = {field: getattr(args, field) for field in CONFIG_FIELDS if getattr(args, field) is not None}
    seeds = args.seeds.split(",") if "," in args.seeds or not args.seeds.isdigit() else int(args.seeds)
    try:
        spec = StudySpec.from_options(base, options, seeds=seeds, epochs=args.epochs)
    except ValueError as error:
        _setting_error(parser, error)
    if args.report:
        _check_outputs(parser, [args.report], "--report", (".html",))
    log = _open_log(parser, args)
    total = len(spec.tasks())
    bar = ProgressBar(total, "runs", enabled=not args.quiet)
    result = run_study(spec, log, workers=args.workers, scheduler=args.scheduler,
                       on_progress=lambda p: bar.show(p["done"], p["eta"], force=True))
    bar.close()
    print(f"study {result['study_id']}: {result['done']} of {result['total']} runs in {log.path} "
          f"({result['skipped']} already there, {result['done'] - result['skipped']} trained now"
          f"{', ' + str(result['failed']) + ' not saved' if result['failed'] else ''}) in {result['elapsed']:.1f} s")
    for message in dict.fromkeys(result["errors"]):
        print(f"warning: {message}", file=sys.stderr)
    if result["interrupted"]:
        print(f"interrupted: the {result['done']} finished runs are kept; run the same command again to "
              "train the rest", file=sys.stderr)
    if args.report and result["done"]:
        path = Path(args.report).resolve()
        export.write_text(path.parent, path.name, study_html(study_summary(log, result["study_id"])))
        print(f"report     {path}")
    return 130 if result["interrupted"] else 0


# ---------------------------------------------------------------- report, export

def _report(parser, args) -> int:
    from nn.playground.report import study_html, study_summary

    _check_outputs(parser, [args.out], "--out", (".html",))
    log = _open_log(parser, args)
    studies = log.studies()
    if not studies:
        parser.error(f"--study: the run log {str(log.path)!r} has no studies")
    study_id = args.study if args.study is not None else studies[-1]["id"]
    try:
        summary = study_summary(log, study_id)
    except RunLogError as error:
        parser.error(f"--study: {error}")
    path = Path(args.out).resolve()
    export.write_text(path.parent, path.name, study_html(summary))
    print(f"report     {path}")
    return 0


def _export(parser, args) -> int:
    _check_outputs(parser, args.out)
    try:
        run_ids = [int(i) for i in args.runs.split(",")]
    except ValueError:
        parser.error(f"--runs: {args.runs!r} is not allowed; allowed: run ids separated by commas, e.g. 3,4")
    log = _open_log(parser, args)
    try:
        records = [log.get(run_id) for run_id in run_ids]
    except RunLogError as error:
        parser.error(f"--runs: {error}")
    for path in args.out:
        print(f"wrote      {_write(records, path, 'wide' if args.wide else 'long')}")
    return 0
