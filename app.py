"""Backprop Playground's web app: the page, a little JSON API and one live session per tab over /ws.

    python app.py [--host 127.0.0.1] [--port 5000]                  # one machine
    gunicorn -k gthread -w 4 --threads 32 'app:create_app()'         # a classroom

Each WebSocket connection owns its Session (nn/playground/session.py), so any number of worker processes
serve sessions with no shared state and no locks. The web layer only moves commands in and frames out.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from functools import lru_cache

import numpy as np
import plotly
from flask import Blueprint, Flask, abort, current_app, jsonify, render_template, request, send_from_directory
from flask_sock import Sock

from nn.playground import Config, Run
from nn.playground.session import SPEEDS, Session, field_named_in, json_value

PLOTLY_DIR = os.path.join(os.path.dirname(plotly.__file__), "package_data")

DEFAULTS = {
    "PLAYGROUND_FPS": 30,             # frames per second sent to each page, at most
    "PLAYGROUND_ON_SAVE": None,       # callable(run) for the run log: at reset, on disconnect, every few seconds
    "PLAYGROUND_SAVE_INTERVAL": 5.0,  # seconds between on_save calls while training
    "PLAYGROUND_MAX_COMMANDS": 64,    # commands applied per loop turn, so a flood cannot starve the frames
    "PLAYGROUND_FRAMES_IN_FLIGHT": 2, # frames sent but not yet reported drawn by the page, at most
    "SOCK_SERVER_OPTIONS": {"ping_interval": 25, "max_message_size": 4 * 1024 * 1024},
    "MAX_CONTENT_LENGTH": 4 * 1024 * 1024,
}


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(DEFAULTS)
    if config:
        app.config.update(config)
    app.register_blueprint(pages)
    app.register_blueprint(api, url_prefix="/api")
    app.register_blueprint(live)
    return app


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


@sock.route("/ws", bp=live)
def session_socket(ws):
    settings = current_app.config
    session = Session(on_save=settings["PLAYGROUND_ON_SAVE"], save_interval=settings["PLAYGROUND_SAVE_INTERVAL"])
    try:
        stream(ws, session, fps=settings["PLAYGROUND_FPS"], max_commands=settings["PLAYGROUND_MAX_COMMANDS"],
               frames_in_flight=settings["PLAYGROUND_FRAMES_IN_FLIGHT"])
    finally:
        session.close()


def stream(ws, session: Session, *, fps: float, max_commands: int, frames_in_flight: int):
    """Apply commands, train between frames, and send the newest frame at most `fps` times a second.

    Flow control: the page answers each frame with {"cmd": "drawn"}, and at most `frames_in_flight` frames
    are ever unanswered. A slow page therefore never has frames piling up (in the server, the network or
    the browser): training goes on, and the frame it gets next is built fresh, the newest. Commands are
    applied between ~10 ms training chunks, and the frame showing them goes out as soon as the rate allows.
    """
    interval = 1.0 / fps
    ws.send(session.frame())
    unanswered = 1
    last_frame = time.monotonic()
    frame_wanted = False
    while True:
        now = time.monotonic()
        next_frame = last_frame + interval
        can_send = unanswered < frames_in_flight
        if session.wants_training:
            wait = 0
        elif (frame_wanted or session.playing) and can_send:
            wait = max(0.0, next_frame - now)
        else:
            wait = 1.0  # nothing to do until the page says something
        for message in receive_messages(ws, wait, max_commands):
            try:
                command = json.loads(message)
            except (ValueError, TypeError):
                command = message  # not a JSON object: the session answers with an error naming "cmd"
            if isinstance(command, dict) and command.get("cmd") == "drawn":
                unanswered = max(0, unanswered - 1)
                continue
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


def main(argv=None):
    parser = argparse.ArgumentParser(description="Backprop Playground: the neural network playground, locally.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=5000, help="port to listen on (default 5000)")
    parser.add_argument("--fps", type=float, default=DEFAULTS["PLAYGROUND_FPS"], help="frames per second, at most")
    parser.add_argument("--debug", action="store_true", help="enable Flask's debugger (never on a shared network)")
    args = parser.parse_args(argv)
    app = create_app({"PLAYGROUND_FPS": args.fps})
    print(f"Backprop Playground: open http://{args.host}:{args.port}/", flush=True)
    app.run(host=args.host, port=args.port, debug=args.debug, use_reloader=False, threaded=True)


if __name__ == "__main__":
    main()
