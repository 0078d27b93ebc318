"""Shared fixtures: the Flask app and client, a live server on 127.0.0.1, and a headless Chromium page.

The browser is Debian's `chromium` driven by Playwright through `executable_path` (Playwright's own
browser downloads are not used). Every request a page makes to anything but the live server is blocked
and recorded in `page.blocked_requests`, so a test can assert the page works offline.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
from werkzeug.serving import make_server

from app import create_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.fixture(scope="session", autouse=True)
def private_data_folder(tmp_path_factory):
    """Tests never touch the user's own run log: the default data folder (platformdirs follows
    XDG_DATA_HOME) points into pytest's temporary folder, for servers started as subprocesses too."""
    saved = os.environ.get("XDG_DATA_HOME")
    os.environ["XDG_DATA_HOME"] = str(tmp_path_factory.mktemp("user-data"))
    yield
    if saved is None:
        os.environ.pop("XDG_DATA_HOME", None)
    else:
        os.environ["XDG_DATA_HOME"] = saved


@pytest.fixture
def app():
    return create_app({"TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()


class LiveServer:
    """A real threaded HTTP + WebSocket server for one app, on 127.0.0.1 and a free port."""

    def __init__(self, app):
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server():
    """One server for the whole test session: each WebSocket gets its own session, so tests don't mix."""
    with LiveServer(create_app({"TESTING": True})) as server:
        yield server


@pytest.fixture
def make_live_server():
    """Start servers for apps a test configures itself; they stop when the test ends."""
    servers = []

    def start(config=None):
        server = LiveServer(create_app({"TESTING": True, **(config or {})})).__enter__()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.__exit__(None, None, None)


@pytest.fixture
def wait_for_session_place():
    """A function: has a new WebSocket client of `ws_url` got a frame (a free session place) within
    `attempts` tries? The server notices a closed or vanished client within its loop's wait (~1 s)."""
    import websocket

    def wait(ws_url: str, attempts: int = 100) -> bool:
        for _ in range(attempts):
            client = websocket.create_connection(ws_url, timeout=20)
            message = client.recv()
            client.close()
            if isinstance(message, bytes):
                return True
            time.sleep(0.05)
        return False

    return wait


@pytest.fixture(scope="session")
def chromium_path():
    """Debian's chromium; installed with apt-get when missing and we may, otherwise a clear failure."""
    if not os.path.exists(CHROMIUM) and shutil.which("apt-get") and os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True, env=env)
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) "
                    "to run the browser tests")
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh tab whose requests may only reach the live server; others are blocked and recorded."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.blocked_requests = []
    page.console_errors = []

    def only_local(route):
        url = urlparse(route.request.url)
        if url.scheme in ("data", "blob") or url.hostname == "127.0.0.1":
            route.continue_()
        else:
            page.blocked_requests.append(route.request.url)
            route.abort()

    context.route("**/*", only_local)
    page.on("pageerror", lambda error: page.console_errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
    yield page
    context.close()


@pytest.fixture
def artifacts():
    """tests/artifacts/ (gitignored): screenshots and downloads worth looking at after a run."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


class SessionClient:
    """A WebSocket client of /ws that behaves like the page: it answers every frame with "drawn"."""

    def __init__(self, url: str, timeout: float = 20):
        import websocket

        self.ws = websocket.create_connection(url, timeout=timeout)
        self.replies: list[dict] = []  # text messages (errors, history), strictly parsed
        self._next_id = 0

    def send(self, command: dict) -> int:
        """Send a command with a fresh id; frames after it report that id as "ack"."""
        import json

        self._next_id += 1
        self.ws.send(json.dumps({**command, "id": self._next_id}))
        return self._next_id

    def receive(self):
        """The next message: ("frame", header, arrays) or ("reply", reply, None)."""
        import json

        from nn.playground.session import parse_frame

        message = self.ws.recv()
        if isinstance(message, str):
            reply = json.loads(message, parse_constant=_reject_constant)
            self.replies.append(reply)
            return "reply", reply, None
        header, arrays = parse_frame(message)
        self.ws.send('{"cmd":"drawn"}')
        return "frame", header, arrays

    def frame(self, after: int | None = None):
        """The next frame (header, arrays), skipping replies; with `after`, the first that shows that command."""
        while True:
            kind, header, arrays = self.receive()
            if kind == "frame" and (after is None or (header["ack"] or 0) >= after):
                return header, arrays

    def reply(self):
        """The next text reply, skipping frames."""
        while True:
            kind, reply, _ = self.receive()
            if kind == "reply":
                return reply

    def close(self):
        self.ws.close()


def _reject_constant(name):
    raise ValueError(f"bare {name} in a JSON message")


@pytest.fixture
def connect(live_server):
    """connect(url=None) -> SessionClient on the live server (or `url`); closed when the test ends."""
    clients = []

    def open_client(url=None):
        client = SessionClient(url or live_server.ws_url)
        clients.append(client)
        return client

    yield open_client
    for client in clients:
        client.close()
