"""Faults: the server killed mid-training, a client vanishing mid-frame, a client too slow to read, a run log that
refuses writes. Training goes on, nothing saved is lost, and the page says what happened."""
from __future__ import annotations

import base64
import functools
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import websocket

from app import save_page_run
from nn.playground.runlog import RunLog

ROOT = Path(__file__).resolve().parent.parent
SETUP = "#dataset=spiral&networkShape=6,6&seed=faults&learningRate=0.03"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


#: How the README serves the app: alone (`python app.py`), and for a classroom under gunicorn, where several
#: worker processes save to one run log.
COMMANDS = {
    "app.py": lambda port, db: [sys.executable, "app.py", "--port", str(port), "--db", str(db)],
    "gunicorn": lambda port, db: [sys.executable, "-m", "gunicorn", "-k", "gthread", "-w", "2", "--threads", "8",
                                  "-b", f"127.0.0.1:{port}", "app:create_app()"],
}


class ServerProcess:
    """The server on 127.0.0.1 in child processes of their own group, so the test can kill -9 all of them."""

    def __init__(self, port: int, db: Path, save_interval: float = 0.5, command: str = "app.py"):
        self.port, self.db = port, db
        env = {**os.environ, "PLAYGROUND_SAVE_INTERVAL": str(save_interval), "PLAYGROUND_DB": str(db)}
        env.pop("PLAYGROUND_TOKEN", None)
        self.process = subprocess.Popen(COMMANDS[command](port, db), cwd=ROOT, env=env, start_new_session=True,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(300):  # up to 30 s for a cold start
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited: {self.process.stderr.read().decode()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("the server did not start")

    @property
    def ws_url(self):
        return f"ws://127.0.0.1:{self.port}/ws"

    def kill(self):
        """kill -9 the server and every worker it started, as a power cut would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # whatever is left of the group
        except ProcessLookupError:
            pass


@pytest.fixture
def server_process(tmp_path):
    servers = []

    def start(port=None, db=None, command="app.py"):
        server = ServerProcess(port or free_port(), db or tmp_path / "runs.sqlite", command=command)
        servers.append(server)
        return server
    yield start
    for server in servers:
        server.stop()


def play(client, url=SETUP, speed=5):
    client.send({"cmd": "load", "url": url})
    client.send({"cmd": "speed", "value": speed})
    return client.send({"cmd": "play"})


# ---- kill -9 during training -------------------------------------------------------------------------------

@pytest.mark.parametrize("command", COMMANDS)
def test_kill_9_during_training_loses_nothing_saved(server_process, tmp_path, command):
    from conftest import SessionClient

    server = server_process(command=command)
    clients = [SessionClient(server.ws_url) for _ in range(3)]
    for client in clients:
        play(client)
    seen = {}
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        for client in clients:
            header, _ = client.frame()
            if header["epoch"] > 0:  # the untrained default network before "load" is not an attempt
                seen[header["uid"]] = header["epoch"]
    server.kill()  # no chance to save anything more
    for client in clients:
        with pytest.raises((websocket.WebSocketException, ConnectionError)):
            for _ in range(100):
                client.receive()

    raw = sqlite3.connect(server.db)
    assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    raw.close()
    log = RunLog(server.db)
    saved = {summary["uid"]: summary for summary in log.list_runs()}
    assert len(seen) == 3 and set(seen) <= set(saved), "a run that trained for 3 s is missing from the log"
    for uid, epoch in seen.items():
        assert 0 < saved[uid]["epochs"] <= epoch + 5 * 2  # up to its last save (frames may lag a save)
        assert "error" not in saved[uid]
        log.load_run(saved[uid]["id"])  # and it loads back whole
    log.close()

    restarted = server_process(port=server.port, db=server.db, command=command)
    client = SessionClient(restarted.ws_url)
    step = client.send({"cmd": "step"})
    assert client.frame(after=step)[0]["epoch"] == 1
    client.close()


def test_the_page_reconnects_by_itself_and_says_what_happened(server_process, page):
    server = server_process()
    page.goto(f"http://127.0.0.1:{server.port}/{SETUP}")
    connection = page.get_by_test_id("connection")
    page.get_by_role("button", name="Play/Pause").click()
    page.wait_for_function("() => parseInt(document.querySelector('[data-testid=epoch]').textContent"
                           ".replace(/,/g, '')) > 5")
    server.kill()
    page.wait_for_function("() => /lost the connection/i.test("
                           "document.querySelector('[data-testid=connection]').textContent)", timeout=15_000)
    server_process(port=server.port, db=server.db)  # the same address, as after a laptop wakes up
    page.wait_for_function("() => /reconnected/i.test("
                           "document.querySelector('[data-testid=connection]').textContent)", timeout=30_000)
    text = connection.text_content()
    assert re.search(r"server (restarted|was restarted)", text, re.I) and "Runs" in text
    assert "dataset=spiral" in page.url and "seed=faults" in page.url  # the setup came back
    page.get_by_role("button", name="Step").click()
    page.wait_for_function("() => document.querySelector('[data-testid=epoch]').textContent.replace(/[,0]/g, '')"
                           " === '1'")
    assert not page.console_errors or all("WebSocket" in e or "ERR_CONNECTION" in e for e in page.console_errors)


# ---- clients that vanish or never read ---------------------------------------------------------------------

def handshake(port: int) -> socket.socket:
    """A bare WebSocket handshake on a TCP socket, so the test can drop it mid-frame."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    response = b""
    while b"\r\n\r\n" not in response:
        response += sock.recv(1)
    assert response.startswith(b"HTTP/1.1 101"), response
    return sock


def masked_text(text: str) -> bytes:
    payload = text.encode()
    assert len(payload) < 126
    mask = os.urandom(4)
    return bytes([0x81, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def test_a_client_vanishing_mid_frame_frees_its_session(make_live_server, connect, wait_for_session_place):
    server = make_live_server({"PLAYGROUND_MAX_SESSIONS": 1})
    for attempt in range(3):
        sock = handshake(server.port)
        for command in ('{"cmd":"load","url":"#networkShape=8,8,8,8,8,8&seed=v"}', '{"cmd":"speed","value":"max"}',
                        '{"cmd":"play"}'):
            sock.sendall(masked_text(command))
        assert len(sock.recv(1000)) > 0  # part of a frame
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.close()  # a reset in the middle of a frame, as a laptop lid closing or a cable pulled
    # The only session place comes free once the server notices.
    assert wait_for_session_place(server.ws_url), "the vanished client's session was never closed"


def test_a_client_too_slow_to_read_gets_no_pile_of_frames(make_live_server, connect):
    server = make_live_server({"PLAYGROUND_FRAMES_IN_FLIGHT": 2})
    slow = websocket.create_connection(server.ws_url, timeout=20)
    for command in ({"cmd": "load", "url": "#networkShape=8,8,8,8&seed=slow"}, {"cmd": "speed", "value": "max"},
                    {"cmd": "play"}):
        slow.send(json.dumps(command))
    # Meanwhile another student works as usual.
    other = connect(server.ws_url)
    for expected in range(1, 21):
        step = other.send({"cmd": "step"})
        assert other.frame(after=step)[0]["epoch"] == expected
    time.sleep(1)
    slow.settimeout(1)
    frames = 0
    try:
        while True:
            frames += isinstance(slow.recv(), bytes)
    except websocket.WebSocketTimeoutException:
        pass
    assert 1 <= frames <= 2  # the server waited for "drawn" instead of queueing frames in memory
    slow.send('{"cmd":"drawn"}')
    assert isinstance(slow.recv(), bytes)  # and the session is alive, still training
    slow.close()


# ---- a run log that refuses writes ---------------------------------------------------------------------------

class RefusingLog:
    """Stands in for the app's run log: the same RunLog, opened read-only or on a full disk."""

    def __init__(self, path: Path, kind: str):
        self.path, self.kind = path, kind

    def get(self):
        if self.kind == "read-only":
            return RunLog(self.path, read_only=True)
        log = RunLog(self.path)
        log._conn.execute("PRAGMA max_page_count = 1")  # the database may not grow: a full disk
        return log


@pytest.mark.parametrize("kind", ["read-only", "disk full"])
def test_a_refusing_run_log_does_not_stop_training_and_the_page_warns(make_live_server, connect, tmp_path, kind):
    db = tmp_path / "runs.sqlite"
    RunLog(db).close()
    server = make_live_server({"PLAYGROUND_ON_SAVE": functools.partial(save_page_run, RefusingLog(db, kind)),
                               "PLAYGROUND_SAVE_INTERVAL": 0.2})
    client = connect(server.ws_url)
    play(client, speed=2)
    for _ in range(500):
        header, _ = client.frame()
        if header.get("warning"):
            break
    else:
        raise AssertionError("the page was never told the run is not being saved")
    assert "not being saved" in header["warning"]
    epoch = header["epoch"]
    for _ in range(20):
        header, _ = client.frame()
    assert header["epoch"] > epoch and header["state"] == "playing"
