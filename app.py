"""Backprop Playground's web app: the page, a little JSON API and one live session per tab over /ws.

    python app.py [--host 127.0.0.1] [--port 5000]                  # one machine
    gunicorn -k gthread -w 4 --threads 32 'app:create_app()'         # a classroom

Each WebSocket connection owns its Session (nn/playground/session.py), so any number of worker processes
serve sessions with no shared state and no locks. The web layer only moves commands in and frames out.
"""
from __future__ import annotations

import os

# Every session does many tiny matrix products in its own thread. OpenBLAS's worker threads only fight
# each other (and the other sessions) for the cores: with 4 sessions on 2 cores a frame took 13x longer.
# Set before NumPy loads; an explicit setting in the environment wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402 (after the thread settings above)
import functools  # noqa: E402
import hmac  # noqa: E402
import ipaddress  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import secrets  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from functools import lru_cache  # noqa: E402
from urllib.parse import urlsplit  # noqa: E402

import numpy as np  # noqa: E402
import plotly  # noqa: E402
from flask import (Blueprint, Flask, Response, abort, current_app, jsonify, render_template,  # noqa: E402
                   request, send_from_directory)
from flask_sock import Sock  # noqa: E402

from nn.playground import Config, Run, export  # noqa: E402
from nn.playground.config import DATASETS, REG_DATASETS  # noqa: E402
from nn.playground.runlog import SORT_COLUMNS, SOURCES, RunLog, RunLogError  # noqa: E402
from nn.playground.session import SPEEDS, Session, field_named_in, json_value  # noqa: E402
from nn.playground.study import StudySpec, fixed_settings, running_study, study_progress  # noqa: E402

PLOTLY_DIR = os.path.join(os.path.dirname(plotly.__file__), "package_data")

DEFAULTS = {
    "PLAYGROUND_FPS": 30,             # frames per second sent to each page, at most
    "PLAYGROUND_ON_SAVE": None,       # callable(run) for the run log: at reset, on disconnect, every few seconds
    "PLAYGROUND_SAVE_INTERVAL": 5.0,  # seconds between on_save calls while training
    "PLAYGROUND_MAX_COMMANDS": 64,    # commands applied per loop turn, so a flood cannot starve the frames
    "PLAYGROUND_FRAMES_IN_FLIGHT": 2, # frames sent but not yet reported drawn by the page, at most
    "SOCK_SERVER_OPTIONS": {"ping_interval": 25, "max_message_size": 4 * 1024 * 1024},
    "MAX_CONTENT_LENGTH": 4 * 1024 * 1024,
    "PLAYGROUND_DB": None,            # run log file (None: runs.sqlite in the user data folder)
    "PLAYGROUND_STUDY_WORKERS": 2,    # processes training a study started from the page (1..2)
    # Limits and access (docs/robustness.md). Any PLAYGROUND_ setting may also come from the environment.
    "PLAYGROUND_MAX_SESSIONS": 30,    # live sessions per server process; one more is told "server busy"
    "PLAYGROUND_IDLE_TIMEOUT": 1800.0,  # seconds without a command from the page before its session closes
    "PLAYGROUND_MAX_MESSAGE_BYTES": 2_000_000,  # a bigger WebSocket message is refused; the session is kept
    "PLAYGROUND_MAX_UPLOAD_ROWS": 10_000,       # rows of a user's CSV data
    "PLAYGROUND_MAX_UPLOAD_BYTES": 1_000_000,   # bytes of a user's CSV data
    "PLAYGROUND_TOKEN": None,         # when set, every request needs it (python app.py --host <not loopback> sets one)
    "PLAYGROUND_ALLOWED_HOSTS": [],   # Host names besides 127.0.0.1, localhost, [::1]; "*" for any
}


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(DEFAULTS)
    app.config.update(settings_from_environment(os.environ))
    if config:
        app.config.update(config)
    app.extensions["sessions"] = SessionCount()
    app.before_request(guard_request)
    app.after_request(remember_token)
    app.register_blueprint(pages)
    app.register_blueprint(api, url_prefix="/api")
    app.register_blueprint(live)
    app.register_blueprint(runs)  # the run log: saves every run, the Runs page, /api/runs, studies
    return app


def settings_from_environment(environ) -> dict:
    """The PLAYGROUND_ settings given as environment variables (gunicorn's way to pass them), typed as their
    defaults: numbers, comma-separated lists, text."""
    settings = {}
    for key, default in DEFAULTS.items():
        if not key.startswith("PLAYGROUND_") or key not in environ or callable(default) or key == "PLAYGROUND_ON_SAVE":
            continue
        text = environ[key].strip()
        try:
            if isinstance(default, list):
                settings[key] = [item.strip() for item in text.split(",") if item.strip()]
            elif isinstance(default, (int, float)):
                settings[key] = type(default)(text)
            else:
                settings[key] = text or None
        except ValueError:
            raise ValueError(f"environment variable {key}={text!r} is not allowed; "
                             f"expected {'a whole number' if isinstance(default, int) else 'a number'}") from None
    return settings


# ---- who may talk to the server ------------------------------------------------------------------------------
# Loopback by default. A page on another site must not drive it (Origin), a rebound DNS name must not reach it
# (Host), and from another machine every request needs the token, as Jupyter's.

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")
TOKEN_COOKIE = "playground_token"


def guard_request():
    settings = current_app.config
    allowed = settings["PLAYGROUND_ALLOWED_HOSTS"]
    host = host_name(request.host)
    if host not in LOOPBACK_HOSTS and host not in allowed and "*" not in allowed:
        return refuse(400, f"Host {request.host!r} is not allowed: this server answers to 127.0.0.1, localhost "
                           f"and [::1]{', ' + ', '.join(allowed) if allowed else ''}; to serve other names set "
                           "PLAYGROUND_ALLOWED_HOSTS (docs/robustness.md)")
    token = settings["PLAYGROUND_TOKEN"]
    if token:
        if not hmac.compare_digest(token_given().encode(), token.encode()):
            return refuse(403, "a token is required: open the link the server printed when it started "
                               "(http://<host>:<port>/?token=...)")
    elif not is_loopback(request.remote_addr):
        return refuse(403, "connections from other machines need a token: set PLAYGROUND_TOKEN, or start the "
                           "server with python app.py --host <address>, which prints a link with one")
    websocket = request.headers.get("Upgrade", "").lower() == "websocket"
    origin = request.headers.get("Origin")
    if origin is not None and (websocket or request.method in STATE_CHANGING) \
            and urlsplit(origin).netloc.lower() != request.host.lower():
        return refuse(403, f"Origin {origin!r:.100} is not this server ({request.host}): a page on another site "
                           "may not drive the playground")
    return None


def remember_token(response):
    """A token that came in the link is kept in a cookie, so the page's own requests and WebSocket carry it."""
    token = current_app.config["PLAYGROUND_TOKEN"]
    if token and hmac.compare_digest(request.args.get("token", "").encode(), token.encode()):
        response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="Strict")
    return response


def token_given() -> str:
    authorization = request.headers.get("Authorization", "")
    scheme, _, value = authorization.partition(" ")
    header_token = value.strip() if scheme.lower() in ("token", "bearer") else ""
    return request.args.get("token") or request.cookies.get(TOKEN_COOKIE) or header_token


def host_name(host: str) -> str:
    """The name part of a Host header: "127.0.0.1:5000" -> "127.0.0.1", "[::1]:5000" -> "::1"."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def is_loopback(address) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def refuse(status: int, message: str):
    response = jsonify(error=message, field=None)
    response.status_code = status
    return response


# ---- the page and its assets -----------------------------------------------------------------------------

pages = Blueprint("pages", __name__)


@pages.get("/")
def index():
    return render_template("index.html", speeds=SPEEDS)


@pages.get("/vendor/plotly.min.js")
def plotly_js():
    """plotly.js from the installed plotly package: the page works with no internet access."""
    return send_from_directory(PLOTLY_DIR, "plotly.min.js", mimetype="text/javascript", max_age=86400)


# ---- JSON API ----------------------------------------------------------------------------------------------

api = Blueprint("api", __name__)


@api.errorhandler(400)
def bad_request(error):
    return jsonify(error=error.description, field=getattr(error, "field", None)), 400


@api.get("/config/defaults")
def config_defaults():
    config = Config()
    return jsonify(config=json_config(config), url=config.to_url(), speeds=list(SPEEDS))


@api.post("/config/validate")
def config_validate():
    """A playground link, its hash or a config object -> the normalised config, or 400 naming the field."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not ({"url", "config"} & body.keys()):
        return jsonify(error='send JSON {"url": "<playground link or hash>"} or {"config": {...}}',
                       field=None), 400
    try:
        if "url" in body:
            if not isinstance(body["url"], str):
                raise ValueError(f"url={body['url']!r} must be a string")
            config = Config.from_url(body["url"])
        else:
            if not isinstance(body["config"], dict):
                raise ValueError(f"config={body['config']!r} must be an object of config fields")
            config = Config.from_dict(body["config"])
    except (ValueError, TypeError) as error:
        return jsonify(error=str(error), field=field_named_in(error, "url" if "url" in body else "config")), 400
    return jsonify(config=json_config(config), url=config.to_url())


@api.get("/datasets/<problem>")
def dataset_thumbnails(problem):
    """Points for the data column's thumbnails (noise 0, as the original draws them)."""
    if problem not in ("classification", "regression"):
        abort(404)
    return jsonify(thumbnail_points(problem))


@lru_cache(maxsize=None)
def thumbnail_points(problem: str) -> dict:
    # Pure function of the engine's generators with a fixed seed: caching it shares no mutable state.
    field = "dataset" if problem == "classification" else "regDataset"
    names = ("circle", "xor", "gauss", "spiral") if problem == "classification" else ("reg-plane", "reg-gauss")
    result = {}
    for name in names:
        run = Run(Config(problem=problem, noise=0, seed="thumbnail", **{field: name}))
        points = np.concatenate([run.train_data, run.test_data])[:200]
        result[name] = np.round(points, 3).tolist()
    return result


def json_config(config: Config) -> dict:
    return {key: json_value(value) for key, value in config.to_dict().items()}


# ---- the live session ---------------------------------------------------------------------------------------

live = Blueprint("live", __name__)
sock = Sock()


class SessionCount:
    """The live sessions of one server process, so that one past the limit is told "server busy"."""

    def __init__(self):
        self._lock = threading.Lock()
        self.open = 0

    def take(self, limit: int) -> bool:
        with self._lock:
            if self.open >= limit:
                return False
            self.open += 1
            return True

    def give_back(self):
        with self._lock:
            self.open -= 1


@sock.route("/ws", bp=live)
def session_socket(ws):
    settings = current_app.config
    sessions, limit = current_app.extensions["sessions"], settings["PLAYGROUND_MAX_SESSIONS"]
    if not sessions.take(limit):
        ws.send(json.dumps({"type": "error", "field": None,
                            "error": f"server busy: {limit} sessions are open, the most this server process "
                                     "takes; the page tries again by itself"}))
        ws.close(reason=1013, message="server busy")  # 1013: try again later
        return
    try:
        session = Session(on_save=settings["PLAYGROUND_ON_SAVE"], save_interval=settings["PLAYGROUND_SAVE_INTERVAL"],
                          max_upload_rows=settings["PLAYGROUND_MAX_UPLOAD_ROWS"],
                          max_upload_bytes=settings["PLAYGROUND_MAX_UPLOAD_BYTES"],
                          load_run=functools.partial(continue_saved_run, current_app.extensions["runlog"]))
        try:
            stream(ws, session, fps=settings["PLAYGROUND_FPS"], max_commands=settings["PLAYGROUND_MAX_COMMANDS"],
                   frames_in_flight=settings["PLAYGROUND_FRAMES_IN_FLIGHT"],
                   idle_timeout=settings["PLAYGROUND_IDLE_TIMEOUT"],
                   max_message_bytes=settings["PLAYGROUND_MAX_MESSAGE_BYTES"])
        finally:
            session.close()
    finally:
        sessions.give_back()


def stream(ws, session: Session, *, fps: float, max_commands: int, frames_in_flight: int,
           idle_timeout: float = 1800.0, max_message_bytes: int = 2_000_000):
    """Apply commands, train between frames, and send the newest frame at most `fps` times a second.

    Flow control: the page answers each frame with {"cmd": "drawn"}, and at most `frames_in_flight` frames
    are ever unanswered. A slow page therefore never has frames piling up (in the server, the network or
    the browser): training goes on, and the frame it gets next is built fresh, the newest. Commands are
    applied between ~10 ms training chunks, and the frame showing them goes out as soon as the rate allows.

    A session whose page sent no command for `idle_timeout` seconds is told why and closed ("drawn" does not
    count: a forgotten tab left playing would hold a thread and a core forever).
    """
    interval = 1.0 / fps
    ws.send(session.frame())
    unanswered = 1
    last_frame = last_command = time.monotonic()
    frame_wanted = False
    while True:
        now = time.monotonic()
        if now - last_command >= idle_timeout:
            ws.send(json.dumps({"type": "closed", "reason": "idle", "field": None,
                                "error": f"closed after {idle_timeout / 60:g} minutes without any command; "
                                         "reload the page to start again"}))
            ws.close(reason=1000, message="idle")
            return
        next_frame = last_frame + interval
        can_send = unanswered < frames_in_flight
        if session.wants_training:
            wait = 0
        elif (frame_wanted or session.playing) and can_send:
            wait = max(0.0, next_frame - now)
        else:
            wait = 1.0  # nothing to do until the page says something
        wait = min(wait, max(0.0, last_command + idle_timeout - now))
        for message in receive_messages(ws, wait, max_commands):
            size = len(message) if isinstance(message, bytes) else len(message.encode("utf-8", "replace"))
            if size > max_message_bytes:
                ws.send(json.dumps({"type": "error", "field": "message",
                                    "error": f"message of {size} bytes is too large; at most "
                                             f"{max_message_bytes} bytes are allowed"}))
                continue
            try:
                command = json.loads(message)
            except (ValueError, TypeError, RecursionError):
                command = message  # not JSON: the session answers with an error naming "cmd"
            if isinstance(command, dict) and command.get("cmd") == "drawn":
                unanswered = max(0, unanswered - 1)
                continue
            last_command = time.monotonic()
            reply = session.handle(command)
            if reply is not None:
                ws.send(json.dumps(reply, allow_nan=False))
            frame_wanted = True
        if session.wants_training and time.monotonic() < next_frame:
            session.tick(budget=min(0.01, next_frame - time.monotonic()))
            frame_wanted = True
        if ((frame_wanted or session.playing) and unanswered < frames_in_flight
                and time.monotonic() >= next_frame):
            ws.send(session.frame())
            unanswered += 1
            last_frame = time.monotonic()
            frame_wanted = False


def receive_messages(ws, wait: float, limit: int):
    """Yield up to `limit` messages, waiting at most `wait` seconds for the first."""
    message = ws.receive(timeout=wait)
    count = 0
    while message is not None:
        yield message
        count += 1
        message = ws.receive(timeout=0) if count < limit else None


# ---- the run log: every run the page trains, the Runs page and its API, studies ---------------------------
# One feature, one blueprint (studies nested in it); it installs the run log as the sessions' on_save.

runs = Blueprint("runs", __name__)
studies = Blueprint("studies", __name__)
runs.register_blueprint(studies)

MAX_ID = 2**63 - 1  # SQLite's largest integer: no run has a bigger id
MAX_IDS = 500       # runs in one export or bulk delete
MAX_STUDY_RUNS = 500
EXPORT_FORMATS = {"csv": (".csv", "long", "text/csv"), "csv-wide": (".csv", "wide", "text/csv"),
                  "json": (".json", "long", "application/json"), "html": (".html", "long", "text/html")}
LIST_PARAMETERS = ("sort", "order", "dataset", "q", "tag", "min_epochs", "source", "study", "limit")
RUN_FIELDS = ("name", "tags", "notes")  # what a person may change about a saved run


class ApiError(Exception):
    """Bad input or a missing run: answered as JSON {error, field} with `status`, never as a 500."""

    def __init__(self, message: str, field: str | None = None, status: int = 400):
        super().__init__(message)
        self.field, self.status = field, status


@runs.errorhandler(ApiError)
def api_error(error: ApiError):
    return jsonify(error=str(error), field=error.field), error.status


class ProcessRunLog:
    """The app's RunLog, opened on first use in each worker process: a SQLite connection must not cross a
    fork. Its threads share it; RunLog serialises them with its own lock."""

    def __init__(self, path):
        self.path = None if path is None else str(path)
        self._lock = threading.Lock()
        self._log, self._pid = None, None

    def get(self) -> RunLog:
        with self._lock:
            if self._pid != os.getpid():
                self._log, self._pid = RunLog(self.path), os.getpid()
            return self._log


@runs.record_once
def install_run_log(state):
    app = state.app
    app.extensions["runlog"] = ProcessRunLog(app.config["PLAYGROUND_DB"])
    app.extensions["study"] = StudyLauncher()
    if app.config["PLAYGROUND_ON_SAVE"] is None:
        app.config["PLAYGROUND_ON_SAVE"] = functools.partial(save_page_run, app.extensions["runlog"])


def save_page_run(runlog: ProcessRunLog, run: Run):
    """The sessions' on_save: keep the run in the log. Raises if the log refused, so the page can warn."""
    if run.epoch == 0:
        return  # an untrained network is not an attempt worth keeping
    try:
        log = runlog.get()
    except RunLogError as error:
        raise RunLogError(f"this run is not being saved: {error}") from None
    if log.save(run) is None:
        raise RunLogError(f"this run is not being saved: {log.last_error}")


def continue_saved_run(runlog: ProcessRunLog, run_id: int) -> Run:
    """The sessions' load_run: the saved run as a Run, keeping its uid, so training on updates that same
    record (its name, tags and notes stay) instead of copying it."""
    log = runlog.get()
    run = log.load_run(run_id)
    run.uid = log.get(run_id)["uid"]
    return run


def open_log() -> RunLog:
    try:
        return current_app.extensions["runlog"].get()
    except RunLogError as error:
        raise ApiError(str(error), None, 503) from None


def check_parameters(allowed):
    unknown = sorted(set(request.args) - set(allowed))
    if unknown:
        raise ApiError(f"unknown query parameter {unknown[0]!r}; allowed: {', '.join(allowed)}", unknown[0])


def whole_number(text, field: str, low: int = 0, high: int = MAX_ID) -> int:
    if not isinstance(text, str) or not re.fullmatch(r"[0-9]{1,19}", text.strip()) \
            or not low <= int(text) <= high:
        raise ApiError(f"{field}={text!r} is not allowed; allowed: a whole number {low}..{high}", field)
    return int(text)


def path_run_id(text: str) -> int:
    """A run id from the URL path; anything that cannot be a run's id is a run that is not there."""
    if not re.fullmatch(r"[0-9]{1,19}", text) or not 1 <= int(text) <= MAX_ID:
        raise ApiError(f"run {text!r} not found; run ids are whole numbers from 1", "id", 404)
    return int(text)


def run_ids(text) -> list[int]:
    """ids=1,2,3 -> [1, 2, 3] (duplicates dropped, order kept)."""
    parts = [part.strip() for part in (text or "").split(",") if part.strip()]
    if not parts or len(parts) > MAX_IDS or not all(re.fullmatch(r"[0-9]{1,19}", p) and 1 <= int(p) <= MAX_ID
                                                     for p in parts):
        raise ApiError(f"ids={text!r} is not allowed; allowed: 1 to {MAX_IDS} run ids separated by commas, "
                       "e.g. ids=3,7", "ids")
    return list(dict.fromkeys(int(part) for part in parts))


def is_missing(error: RunLogError) -> bool:
    return str(error).endswith("no such run") or str(error).endswith("no such study")


def get_record(log: RunLog, run_id: int, field: str = "id") -> dict:
    try:
        return log.get(run_id)
    except RunLogError as error:
        if is_missing(error):
            raise ApiError(f"run {run_id} not found", field, 404) from None
        raise ApiError(f"run {run_id} is stored but cannot be read: {error}", field, 422) from None


def dataset_of(config) -> str | None:
    if not isinstance(config, dict):
        return None  # a corrupted row: its summary says so in "error"
    return config.get("regDataset") if config.get("problem") == "regression" else config.get("dataset")


def run_row(summary: dict) -> dict:
    """A run's line on the Runs page: the log's summary plus what the page shows and links to."""
    return export.jsonable({**summary, "dataset": dataset_of(summary["config"]),
                            "playground": f"/?run={summary['id']}#{summary['url']}",
                            "boundary": f"/api/runs/{summary['id']}/boundary.png?v={summary['updated']}"})


# ---- the Runs page and /api/runs

@runs.get("/runs")
def runs_page():
    return render_template("runs.html", sort_columns=SORT_COLUMNS, datasets=sorted(set(DATASETS + REG_DATASETS)))


@runs.get("/api/runs")
def list_runs():
    """Saved runs, filtered and sorted: ?sort=test_loss&order=asc&dataset=spiral&q=text&tag=t&min_epochs=100
    &source=page&study=1&limit=50."""
    check_parameters(LIST_PARAMETERS)
    args = request.args
    sort = args.get("sort", "updated")
    if sort not in SORT_COLUMNS:
        raise ApiError(f"sort={sort!r} is not allowed; allowed: {', '.join(SORT_COLUMNS)}", "sort")
    order = args.get("order", "desc")
    if order not in ("asc", "desc"):
        raise ApiError(f"order={order!r} is not allowed; allowed: asc, desc", "order")
    source = args.get("source")
    if source is not None and source not in SOURCES:
        raise ApiError(f"source={source!r} is not allowed; allowed: {', '.join(SOURCES)}", "source")
    dataset = args.get("dataset") or None
    datasets = sorted(set(DATASETS + REG_DATASETS))
    if dataset is not None and dataset not in datasets:
        raise ApiError(f"dataset={dataset!r} is not allowed; allowed: {', '.join(datasets)}", "dataset")
    text = args.get("q", "").strip().casefold()
    if len(text) > 200:
        raise ApiError(f"q={text[:20]!r}... is too long; allowed: at most 200 characters", "q")
    min_epochs = whole_number(args["min_epochs"], "min_epochs") if args.get("min_epochs") else 0
    study = whole_number(args["study"], "study", 1) if args.get("study") else None
    limit = whole_number(args["limit"], "limit", 1, 100_000) if args.get("limit") else None
    tag = args.get("tag") or None

    summaries = open_log().list_runs(sort=sort, descending=order == "desc", source=source, study_id=study, tag=tag)

    def wanted(summary):
        words = [summary.get("name") or "", summary.get("notes") or "", *summary.get("tags", ())]
        return (summary["epochs"] >= min_epochs
                and (dataset is None or dataset_of(summary["config"]) == dataset)
                and (not text or any(text in str(word).casefold() for word in words)))

    rows = [run_row(summary) for summary in summaries if wanted(summary)][:limit]
    return jsonify(runs=rows, count=len(rows))


@runs.get("/api/runs/<run_id>")
def get_run(run_id):
    """One run in full: config, URL, history, final weights (as the JSON export)."""
    return jsonify(export.run_json(get_record(open_log(), path_run_id(run_id))))


@runs.get("/api/runs/<run_id>/history")
def run_history(run_id):
    """The per-epoch history alone (the overlay plot needs no weights)."""
    run_id = path_run_id(run_id)
    try:
        history = open_log().history(run_id)
    except RunLogError as error:
        raise ApiError(f"run {run_id} not found" if is_missing(error) else str(error), "id",
                       404 if is_missing(error) else 422) from None
    return jsonify(export.jsonable({"id": run_id, "history": history}))


@runs.get("/api/runs/<run_id>/boundary.png")
def run_boundary(run_id):
    """The final decision boundary as a small PNG in the original's colours (the Runs page's thumbnails)."""
    record = get_record(open_log(), path_run_id(run_id))
    png = export.png_bytes(export.boundary_rgb(record["boundary"]))
    return Response(png, mimetype="image/png", headers={"Cache-Control": "max-age=3600"})


@runs.patch("/api/runs/<run_id>")
def update_run(run_id):
    """Name, tag or annotate a run: JSON {"name": text, "tags": [text, ...], "notes": text}, any of them."""
    run_id = path_run_id(run_id)
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not body:
        raise ApiError('send a JSON object with any of "name" (text), "tags" (a list of texts), "notes" (text)')
    for field, value in body.items():
        if field not in RUN_FIELDS:
            raise ApiError(f"{field}: cannot be changed; allowed: {', '.join(RUN_FIELDS)}", field)
        if value is None:  # the log reads None as "leave it": say so rather than silently do nothing
            raise ApiError(f"{field}: null is not allowed; send text (\"\" to clear)"
                           if field != "tags" else "tags: null is not allowed; send a list ([] to clear)", field)
    try:
        open_log().update_meta(run_id, **body)
    except RunLogError as error:
        if is_missing(error):
            raise ApiError(f"run {run_id} not found", "id", 404) from None
        field = field_named_in(error, None)
        raise ApiError(str(error), field, 400 if field in RUN_FIELDS else 503) from None
    return jsonify(id=run_id, **body)


@runs.delete("/api/runs/<run_id>")
def delete_run(run_id):
    run_id = path_run_id(run_id)
    if not delete_runs_from_log([run_id]):
        raise ApiError(f"run {run_id} not found", "id", 404)
    return jsonify(deleted=1)


@runs.delete("/api/runs")
def delete_runs():
    """Bulk delete: DELETE /api/runs?ids=1,2,3 (the page asks for confirmation first)."""
    check_parameters(("ids",))
    return jsonify(deleted=delete_runs_from_log(run_ids(request.args.get("ids"))))


def delete_runs_from_log(ids) -> int:
    try:
        return open_log().delete(ids)
    except RunLogError as error:
        raise ApiError(str(error), None, 503) from None


@runs.get("/api/runs/export")
def export_runs():
    """A download of several runs: ?ids=1,2&format=csv (long: one row per run, epoch and metric), csv-wide
    (one row per run and epoch), json, or html (self-contained: table, thumbnails, overlaid curves)."""
    check_parameters(("ids", "format"))
    ids = run_ids(request.args.get("ids"))
    form = request.args.get("format", "csv")
    if form not in EXPORT_FORMATS:
        raise ApiError(f"format={form!r} is not allowed; allowed: {', '.join(EXPORT_FORMATS)}", "format")
    extension, csv_form, mimetype = EXPORT_FORMATS[form]
    log = open_log()
    records = [get_record(log, run_id, "ids") for run_id in ids]
    text = export.export_text(records, extension, csv_form)
    filename = f"runs-{'-'.join(map(str, ids[:5]))}{'-etc' if len(ids) > 5 else ''}{extension}"
    return Response(text, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# ---- studies: a sweep defined on the page, trained in a child process, reported when done

class StudyLauncher:
    """Starts studies, one at a time per run log: each trains in a child process, the command line's
    `sweep` (its own pool, its own RunLog connection; nothing shared with this threaded server). The sweep
    records its job in the run log, so every server worker follows every study from the log alone
    (study.study_progress), whichever worker started it, and a reload loses nothing."""

    def __init__(self):
        self._lock = threading.Lock()  # two requests of this worker never start two studies

    def start(self, log: RunLog, spec: StudySpec, workers: int) -> tuple[int | None, dict | None]:
        """Start the study: (its id, None), or (None, the running study's progress) if one is running."""
        with self._lock:
            running = running_study(log)
            if running is not None:
                return None, running
            study_id = log.study(spec.key, spec.to_dict())
            process = subprocess.Popen(sweep_command(spec, log.path, workers), stdin=subprocess.DEVNULL,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            # Recorded here too (the sweep records itself once started), so that every worker sees it at once.
            log.job_started(study_id, process.pid, len(log.study_labels(study_id)))
            # Wait for it in the background: a child nobody waits for lingers as a zombie, which looks alive.
            threading.Thread(target=process.wait, daemon=True).start()
            return study_id, None


def sweep_command(spec: StudySpec, db_path, workers: int) -> list[str]:
    """The `python -m nn.playground sweep` command that runs exactly this study (same spec, so same study)."""
    from nn.playground.cli import option_name

    command = [sys.executable, "-m", "nn.playground", "sweep", "--url", spec.base.to_url(), "--quiet",
               "--seeds", ",".join(spec.seeds), "--epochs", str(spec.epochs), "--workers", str(workers),
               "--db", str(db_path)]
    for factor in spec.factors:
        command += [f"--{option_name(factor.name)}", *(level.label for level in factor.levels)]
    return command


@studies.get("/studies")
def studies_page():
    return render_template("studies.html", fields=sorted(Config.__dataclass_fields__))


@studies.get("/studies/<study_id>")
def study_page(study_id):
    study = get_study(open_log(), study_id)
    return render_template("study.html", study=study, fixed_settings=fixed_settings(study["spec"]))


@studies.get("/studies/<study_id>/report")
def study_report(study_id):
    """The study report (report.study_html: self-contained, opens offline); ?download=1 to save it."""
    from nn.playground.report import study_html, study_summary

    log = open_log()
    study = get_study(log, study_id)
    try:
        page = study_html(study_summary(log, study["id"]))
    except RunLogError as error:
        raise ApiError(str(error), "id", 404) from None
    headers = {}
    if request.args.get("download"):
        headers["Content-Disposition"] = f'attachment; filename="study-{study["id"]}.html"'
    return Response(page, mimetype="text/html", headers=headers)


def get_study(log: RunLog, text: str) -> dict:
    if not re.fullmatch(r"[0-9]{1,19}", text) or not 1 <= int(text) <= MAX_ID:
        raise ApiError(f"study {text!r} not found; study ids are whole numbers from 1", "id", 404)
    try:
        return log.get_study(int(text))
    except RunLogError as error:
        raise ApiError(f"study {text} not found" if is_missing(error) else str(error), "id",
                       404 if is_missing(error) else 422) from None


@studies.get("/api/studies")
def list_studies():
    return jsonify(studies=export.jsonable(open_log().studies()))


@studies.post("/api/studies")
def start_study():
    """Start a sweep: JSON {"url": base playground link (optional), "settings": {field: "levels"}, "seeds": 3
    or "a,b", "epochs": 500}. Levels are written as on the command line: separated by spaces, or commas
    except for lists ("networkShape": "4 8,8"); "regularization": "none L1:0.001 L2:0.01"."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError('send a JSON object: {"settings": {"learningRate": "0.01 0.03"}, "seeds": 2, "epochs": 100}')
    unknown = sorted(set(body) - {"url", "settings", "seeds", "epochs"})
    if unknown:
        raise ApiError(f"{unknown[0]}: unknown; allowed: url, settings, seeds, epochs", unknown[0])
    spec = study_spec(body)
    total = len(spec.tasks())
    if total > MAX_STUDY_RUNS:
        raise ApiError(f"this study has {total} runs; allowed: at most {MAX_STUDY_RUNS} from the page "
                       "(use `python -m nn.playground sweep` for bigger ones)", "settings")
    workers = max(1, min(2, int(current_app.config["PLAYGROUND_STUDY_WORKERS"])))
    study_id, running = current_app.extensions["study"].start(open_log(), spec, workers)
    if running is not None:
        return jsonify(error=f"a study is running (study {running['study_id']}: {running['done']} of "
                             f"{running['total']} runs done); start this one when it has finished",
                       field=None, study_id=running["study_id"]), 409
    return jsonify(id=study_id, total=total, page=f"/studies/{study_id}", progress=f"/api/studies/{study_id}"), 202


def study_spec(body: dict) -> StudySpec:
    """The StudySpec of a request body, parsed with the command line's grammar (study.StudySpec.from_options)."""
    url = body.get("url") or ""
    if not isinstance(url, str):
        raise ApiError(f"url={url!r} is not allowed; allowed: a playground link or its hash", "url")
    settings = body.get("settings", {})
    if not isinstance(settings, dict):
        raise ApiError(f"settings={settings!r} is not allowed; allowed: an object {{field: levels text}}", "settings")
    options = {}
    for field, text in settings.items():
        if field not in Config.__dataclass_fields__:
            raise ApiError(f"{field}: unknown setting; allowed: {', '.join(sorted(Config.__dataclass_fields__))}",
                           field)
        if isinstance(text, (int, float)) and not isinstance(text, bool):
            text = str(text)
        if not isinstance(text, str) or len(text) > 1000:
            raise ApiError(f"{field}={text!r:.60} is not allowed; allowed: levels as text, e.g. \"0.01 0.03\"", field)
        if text.split():
            options[field] = text.split()
    seeds = body.get("seeds", 1)
    if isinstance(seeds, str):
        seeds = [s for s in re.split(r"[,\s]+", seeds) if s]
    if isinstance(seeds, list) and len(seeds) == 1 and re.fullmatch(r"[0-9]+", str(seeds[0])):
        seeds = int(seeds[0])  # as on the command line: one number is a count ("3" -> s0, s1, s2)
    if not isinstance(seeds, (int, list)) or isinstance(seeds, bool):
        raise ApiError(f"seeds={seeds!r} is not allowed; allowed: a count 1..1000 or seeds separated by commas",
                       "seeds")
    epochs = body.get("epochs", 100)
    if isinstance(epochs, str) and re.fullmatch(r"\s*[0-9]{1,9}\s*", epochs):
        epochs = int(epochs)
    try:
        base = Config.from_url(url) if url.strip() else Config()
    except ValueError as error:
        raise ApiError(f"url: {error}", "url") from None
    try:
        return StudySpec.from_options(base, options, seeds=seeds, epochs=epochs)
    except (ValueError, TypeError) as error:
        field = field_named_in(error, "settings")
        raise ApiError(str(error), "hide" if field.endswith("_hide") else field) from None


@studies.get("/api/studies/<study_id>")
def get_study_progress(study_id):
    """done/total, eta (seconds) and state: running, finished, interrupted, failed or incomplete
    (see study.study_progress)."""
    log = open_log()
    study = get_study(log, study_id)
    progress = study_progress(log, study["id"])
    return jsonify(export.jsonable({**progress, "spec": study["spec"], "report": f"/studies/{study['id']}/report"}))



def main(argv=None):
    parser = argparse.ArgumentParser(description="Backprop Playground: the neural network playground, locally.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=5000, help="port to listen on (default 5000)")
    parser.add_argument("--fps", type=float, default=DEFAULTS["PLAYGROUND_FPS"], help="frames per second, at most")
    parser.add_argument("--db", help="run log file (default: runs.sqlite in your user data folder)")
    parser.add_argument("--debug", action="store_true", help="enable Flask's debugger (loopback only)")
    args = parser.parse_args(argv)
    settings = {"PLAYGROUND_FPS": args.fps}
    if args.db:
        settings["PLAYGROUND_DB"] = args.db
    loopback = host_name(args.host) in LOOPBACK_HOSTS or is_loopback(host_name(args.host))
    if args.debug and not loopback:
        parser.error("--debug: the debugger runs any code it is sent; it is only allowed with --host 127.0.0.1")
    query = ""
    if not loopback:
        # Reachable from other machines: as Jupyter, every request needs a token, given once in the link.
        token = os.environ.get("PLAYGROUND_TOKEN") or secrets.token_urlsafe(24)
        wildcard = args.host in ("0.0.0.0", "::", "")
        settings.update(PLAYGROUND_TOKEN=token, PLAYGROUND_ALLOWED_HOSTS=[
            *settings_from_environment(os.environ).get("PLAYGROUND_ALLOWED_HOSTS", []),
            "*" if wildcard else host_name(args.host)])
        query = f"?token={token}"
        print(f"WARNING: serving on {args.host}, reachable from other machines. Anyone with the link below can "
              "use this playground; share it only with your class.", file=sys.stderr, flush=True)
    app = create_app(settings)
    shown = "<this machine's address>" if args.host in ("0.0.0.0", "::") else args.host
    print(f"Backprop Playground: open http://{shown}:{args.port}/{query}", flush=True)
    app.run(host=args.host, port=args.port, debug=args.debug, use_reloader=False, threaded=True)


if __name__ == "__main__":
    main()
