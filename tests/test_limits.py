"""Limits a shared server relies on, each configurable (app config / environment) and each tested at its edge:
sessions at once, idle sessions, message size, uploaded rows and bytes, network size, grid density,
run-history memory, and divergence caught at once."""
from __future__ import annotations

import json
import time

import numpy as np
import pytest
import websocket

from app import DEFAULTS, create_app
from nn.playground import Config, Run
from nn.playground.config import LIMITS
from nn.playground.history import COLUMNS, History
from nn.playground.session import Session

SETUP = "#dataset=xor&networkShape=3&seed=limits"
DIVERGING = "#problem=regression&learningRate=10&seed=0.1&networkShape=4,2&x=true&y=true"


def first_text_reply(ws, limit=200):
    """The first text message on `ws` (frames are answered "drawn", as the page does)."""
    for _ in range(limit):
        message = ws.recv()
        if isinstance(message, str):
            return json.loads(message)
        ws.send('{"cmd":"drawn"}')
    raise AssertionError("no text reply")


def closed(ws, limit=200) -> bool:
    """True once the server has closed `ws` (frames and replies before the close are skipped)."""
    try:
        for _ in range(limit):
            opcode, _ = ws.recv_data(control_frame=True)
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                return True
    except (websocket.WebSocketConnectionClosedException, ConnectionError):
        return True
    return False


# ---- every limit is a documented app setting ----------------------------------------------------------------

def test_limits_are_app_settings_with_defaults():
    for key in ("PLAYGROUND_MAX_SESSIONS", "PLAYGROUND_IDLE_TIMEOUT", "PLAYGROUND_MAX_MESSAGE_BYTES",
                "PLAYGROUND_MAX_UPLOAD_ROWS", "PLAYGROUND_MAX_UPLOAD_BYTES", "PLAYGROUND_TOKEN",
                "PLAYGROUND_ALLOWED_HOSTS", "MAX_CONTENT_LENGTH"):
        assert key in DEFAULTS, key
    assert DEFAULTS["PLAYGROUND_MAX_MESSAGE_BYTES"] < DEFAULTS["SOCK_SERVER_OPTIONS"]["max_message_size"]


def test_limits_can_be_set_from_the_environment(monkeypatch):
    monkeypatch.setenv("PLAYGROUND_MAX_SESSIONS", "7")
    monkeypatch.setenv("PLAYGROUND_ALLOWED_HOSTS", "teacher.local,10.0.0.5")
    app = create_app()
    assert app.config["PLAYGROUND_MAX_SESSIONS"] == 7
    assert app.config["PLAYGROUND_ALLOWED_HOSTS"] == ["teacher.local", "10.0.0.5"]
    monkeypatch.setenv("PLAYGROUND_MAX_SESSIONS", "many")
    with pytest.raises(ValueError, match="PLAYGROUND_MAX_SESSIONS"):
        create_app()


# ---- sessions at once ---------------------------------------------------------------------------------------

def test_past_the_session_limit_a_client_is_told_the_server_is_busy(make_live_server, connect, wait_for_session_place):
    server = make_live_server({"PLAYGROUND_MAX_SESSIONS": 2})
    first, second = connect(server.ws_url), connect(server.ws_url)
    first.frame(), second.frame()
    third = websocket.create_connection(server.ws_url, timeout=20)
    reply = json.loads(third.recv())
    assert reply["type"] == "error" and "server busy" in reply["error"] and "2 sessions" in reply["error"]
    assert closed(third)
    # The sessions already open are unaffected, and a freed place is taken by the next one.
    first.send({"cmd": "step"})
    assert first.frame()[0]["epoch"] == 1
    second.close()
    assert wait_for_session_place(server.ws_url), "the freed session place was never given to a new client"


# ---- idle sessions ------------------------------------------------------------------------------------------

def test_an_idle_session_is_closed_with_a_reason(make_live_server):
    server = make_live_server({"PLAYGROUND_IDLE_TIMEOUT": 0.5})
    idle = websocket.create_connection(server.ws_url, timeout=20)
    reply = first_text_reply(idle)
    assert reply["type"] == "closed" and reply["reason"] == "idle"
    assert "without any command" in reply["error"] and "reload" in reply["error"].lower()
    assert closed(idle)


def test_a_session_in_use_is_not_closed_as_idle(make_live_server, connect):
    server = make_live_server({"PLAYGROUND_IDLE_TIMEOUT": 1.0})
    client = connect(server.ws_url)
    for _ in range(15):  # 3 s of a student clicking every 0.2 s: never 1 s without a command
        step = client.send({"cmd": "step"})
        client.frame(after=step)
        time.sleep(0.2)
    assert all(reply.get("type") != "closed" for reply in client.replies)
    step = client.send({"cmd": "step"})
    assert client.frame(after=step)[0]["epoch"] == 16


# ---- message size -------------------------------------------------------------------------------------------

def test_a_too_large_message_is_refused_and_the_session_kept(make_live_server, connect):
    server = make_live_server({"PLAYGROUND_MAX_MESSAGE_BYTES": 1000})
    client = connect(server.ws_url)
    client.send({"cmd": "load", "url": SETUP})
    step = client.send({"cmd": "step"})
    before, _ = client.frame(after=step)
    client.send({"cmd": "data", "csv": "1,1,1\n" * 300})
    reply = client.reply()
    assert reply["type"] == "error" and reply["field"] == "message" and "1000 bytes" in reply["error"]
    pause = client.send({"cmd": "pause"})
    after, _ = client.frame(after=pause)
    assert (after["uid"], after["epoch"]) == (before["uid"], 1) and "config" not in after


def test_a_message_beyond_the_transport_limit_closes_the_connection(make_live_server):
    server = make_live_server({"SOCK_SERVER_OPTIONS": {"ping_interval": 25, "max_message_size": 20_000},
                               "PLAYGROUND_MAX_MESSAGE_BYTES": 10_000})
    ws = websocket.create_connection(server.ws_url, timeout=20)
    ws.recv()
    ws.send(json.dumps({"cmd": "data", "csv": "1,1,1\n" * 10_000}))
    assert closed(ws)


# ---- uploads ------------------------------------------------------------------------------------------------

def test_upload_rows_and_bytes_limits_are_the_apps(make_live_server, connect):
    server = make_live_server({"PLAYGROUND_MAX_UPLOAD_ROWS": 5, "PLAYGROUND_MAX_UPLOAD_BYTES": 200})
    client = connect(server.ws_url)
    client.send({"cmd": "data", "csv": "1,1,1\n-1,-1,-1\n" * 3})
    reply = client.reply()
    assert reply["field"] == "csv" and "more than 5 rows" in reply["error"]
    client.send({"cmd": "data", "csv": "1,1,1\n" + "0.5,0.5,1\n" * 30})
    reply = client.reply()
    assert reply["field"] == "csv" and "at most 200 bytes" in reply["error"]
    ok = client.send({"cmd": "data", "csv": "1,1,1\n-1,-1,-1\n2,2,1\n-2,-2,-1\n"})
    header, _ = client.frame(after=ok)
    assert header["config"]["dataset"] == "custom"


def test_upload_limits_in_the_session():
    session = Session(Config(seed="up"), max_upload_rows=3, max_upload_bytes=10_000)
    reply = session.handle({"cmd": "data", "csv": "1,1,1\n" * 4})
    assert reply["field"] == "csv" and "more than 3 rows" in reply["error"]


# ---- network size and grid density ------------------------------------------------------------------------

@pytest.mark.parametrize("shape, message", [([10_000], "1..256 neurons"), ([257], "1..256 neurons"),
                                            ([8] * 11, "0..10 hidden layers"), ([-1], "1..256"), ([0], "1..256")])
def test_network_size_limits(shape, message):
    session = Session(Config(seed="size"))
    reply = session.handle({"cmd": "set", "field": "networkShape", "value": shape})
    assert reply["field"] == "networkShape" and message in reply["error"]
    assert session.run.cfg.networkShape == (4, 2)
    assert LIMITS["neuronsPerLayer"] == (1, 256) and LIMITS["hiddenLayers"] == (0, 10)


def test_the_largest_network_allowed_still_trains_and_draws():
    session = Session(Config(seed="big", networkShape=(256,) * 10, batchSize=1000))
    session.run.train(1)
    assert session.run.epoch == 1 and len(session.frame()) < 4_000_000  # 3.2 MB: weights are float32


@pytest.mark.parametrize("density", [1, 1001, 10**9, -5, 2.5, "100"])
def test_grid_density_limit(density):
    run = Run(Config(seed="grid", networkShape=(2,)))
    with pytest.raises(ValueError, match="density"):
        run.boundary(density)


# ---- run-history memory -------------------------------------------------------------------------------------

def test_history_memory_is_a_compact_table():
    """100,000 epochs of history: one float64 table, at most twice its rows (it doubles when full)."""
    history = History()
    for epoch in range(100_001):
        history.append(epoch, 0.5, 0.5, 0.9, 0.9, epoch * 1e-3)
    row_bytes = 8 * len(COLUMNS)
    assert history.array().nbytes == 100_001 * row_bytes
    assert history._data.nbytes <= 2 * 100_001 * row_bytes  # under 10 MB for 100,000 epochs
    assert len(history.rows(100_000)) == 1


def test_a_frame_carries_only_the_new_history_rows():
    session = Session(Config(seed="rows", networkShape=(2,)))
    session.frame()
    session.run.train(500)
    from nn.playground.session import parse_frame

    header, _ = parse_frame(session.frame())
    assert header["history"]["start"] == 1 and len(header["history"]["epoch"]) == 500
    header, _ = parse_frame(session.frame())
    assert header["history"]["start"] == 501 and header["history"]["epoch"] == []


# ---- divergence ---------------------------------------------------------------------------------------------

def test_divergence_pauses_in_state_diverged_with_the_epoch_and_reset_recovers(connect):
    client = connect()
    client.send({"cmd": "load", "url": DIVERGING})
    client.send({"cmd": "speed", "value": "max"})
    client.send({"cmd": "play"})
    for _ in range(2000):
        header, _ = client.frame()
        if header["state"] == "diverged":
            break
    else:
        raise AssertionError("the run never diverged")
    assert header["diverged_epoch"] == header["epoch"] > 0
    assert header["train_loss"] is None  # NaN travels as null, JSON stays valid
    play = client.send({"cmd": "play"})
    reply = client.reply()
    assert reply["id"] == play and f"diverged at epoch {header['diverged_epoch']}" in reply["error"]
    reset = client.send({"cmd": "reset"})
    header, _ = client.frame(after=reset)
    assert (header["state"], header["epoch"], header["diverged_epoch"]) == ("paused", 0, None)


def test_divergence_is_caught_at_the_first_non_finite_epoch():
    run = Run(Config.from_url(DIVERGING))
    run.train(10_000)
    assert run.diverged and run.epoch == run.diverged_epoch  # training stopped there
    losses = run.history.column("train_loss")
    weights_finite = all(np.isfinite(W).all() and np.isfinite(b).all() for W, b in run.weights())
    assert np.isfinite(losses[:-1]).all()  # every epoch before it was finite
    assert not (np.isfinite(losses[-1]) and weights_finite)  # and this one was not
    run.reset()
    assert not run.diverged and run.epoch == 0
