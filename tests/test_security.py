"""Let no one in: loopback by default, a token elsewhere (as Jupyter), Origin and Host checks against
cross-site pages and DNS rebinding, no debugger, exports that stay in their folder and are safe to open in a
spreadsheet."""
from __future__ import annotations

import csv
import io
import json
import os

import pytest
import websocket
from hypothesis import given, settings, strategies as st

import app as app_module
from app import create_app
from nn.playground import Config, Run, export
from nn.playground.runlog import RunLog

OTHER_SITE = "http://evil.example"
REMOTE = {"REMOTE_ADDR": "192.168.1.50"}


@pytest.fixture
def started(monkeypatch):
    """main(argv) without serving: returns what app.run was called with, the app, and what was printed."""
    calls = {}

    def fake_run(self, host=None, port=None, debug=None, **options):
        calls.update(host=host, port=port, debug=debug, app=self)

    monkeypatch.setattr(app_module.Flask, "run", fake_run)
    monkeypatch.delenv("PLAYGROUND_TOKEN", raising=False)

    def start(argv):
        app_module.main(argv)
        return calls
    return start


# ---- where it listens, and the debugger -----------------------------------------------------------------

def test_loopback_by_default_and_no_debugger(started, capsys):
    calls = started(["--port", "5123"])
    assert calls["host"] == "127.0.0.1" and calls["debug"] is False
    assert not calls["app"].debug and calls["app"].config["PLAYGROUND_TOKEN"] is None
    assert "warning" not in capsys.readouterr().err.lower()
    assert not create_app().debug


def test_the_debugger_only_with_debug_and_only_on_loopback(started):
    assert started(["--debug"])["debug"] is True
    with pytest.raises(SystemExit) as exit_:
        started(["--debug", "--host", "0.0.0.0"])
    assert exit_.value.code == 2


def test_binding_elsewhere_warns_and_requires_a_token(started, capsys):
    calls = started(["--host", "0.0.0.0", "--port", "5124"])
    printed = capsys.readouterr()
    token = calls["app"].config["PLAYGROUND_TOKEN"]
    assert token and len(token) >= 20
    assert "warning" in printed.err.lower() and "0.0.0.0" in printed.err
    assert f"?token={token}" in printed.out
    client = calls["app"].test_client()
    assert client.get("/", environ_base=REMOTE).status_code == 403
    assert client.get("/", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 403  # everyone needs it


def test_the_token_is_required_then_kept_in_a_cookie():
    app = create_app({"PLAYGROUND_TOKEN": "s3cret-token-for-tests", "PLAYGROUND_ALLOWED_HOSTS": ["*"]})
    client = app.test_client()
    refused = client.get("/api/config/defaults", environ_base=REMOTE)
    assert refused.status_code == 403 and "token" in refused.get_json()["error"]
    assert client.get("/?token=wrong", environ_base=REMOTE).status_code == 403
    first = client.get("/?token=s3cret-token-for-tests", environ_base=REMOTE)
    assert first.status_code == 200
    cookie = first.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert client.get("/api/config/defaults", environ_base=REMOTE).status_code == 200  # the cookie
    header = app.test_client().get("/api/config/defaults", environ_base=REMOTE,
                                   headers={"Authorization": "token s3cret-token-for-tests"})
    assert header.status_code == 200


def test_another_machine_needs_a_token_even_if_none_was_configured():
    client = create_app({"PLAYGROUND_ALLOWED_HOSTS": ["*"]}).test_client()
    response = client.get("/", environ_base=REMOTE)
    assert response.status_code == 403 and b"PLAYGROUND_TOKEN" in response.data
    assert client.get("/").status_code == 200  # this machine


def test_the_websocket_needs_the_token(make_live_server):
    server = make_live_server({"PLAYGROUND_TOKEN": "ws-token-0123456789"})
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(server.ws_url, timeout=10)
    assert refused.value.status_code == 403
    ws = websocket.create_connection(server.ws_url + "?token=ws-token-0123456789", timeout=10)
    assert isinstance(ws.recv(), bytes)
    ws.close()
    ws = websocket.create_connection(server.ws_url, timeout=10, cookie="playground_token=ws-token-0123456789")
    assert isinstance(ws.recv(), bytes)
    ws.close()


# ---- Origin: another site's page may not drive the server ---------------------------------------------------

def test_a_websocket_handshake_from_another_origin_is_refused(live_server):
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(live_server.ws_url, timeout=10, origin=OTHER_SITE)
    assert refused.value.status_code == 403
    with pytest.raises(websocket.WebSocketBadStatusException):
        websocket.create_connection(live_server.ws_url, timeout=10, origin="null")
    same = websocket.create_connection(live_server.ws_url, timeout=10, origin=live_server.url)
    assert isinstance(same.recv(), bytes)
    same.close()


def test_state_changing_requests_from_another_origin_are_refused(tmp_path):
    db = tmp_path / "runs.sqlite"
    with RunLog(db) as log:
        run_id = log.save(Run(Config(seed="kept", networkShape=(2,))).train(1))
    client = create_app({"TESTING": True, "PLAYGROUND_DB": str(db)}).test_client()
    forged = {"Origin": OTHER_SITE}
    attempts = [("POST", "/api/config/validate", {"url": "#seed=1"}),
                ("PATCH", f"/api/runs/{run_id}", {"name": "pwned"}),
                ("DELETE", f"/api/runs/{run_id}", None),
                ("POST", "/api/studies", {"settings": {"learningRate": "0.1"}, "epochs": 1})]
    for method, path, body in attempts:
        response = client.open(path, method=method, json=body, headers=forged)
        assert response.status_code == 403, (method, path)
        assert "Origin" in response.get_json()["error"]
    with RunLog(db) as log:
        [summary] = log.list_runs()
        assert summary["name"] is None and log.studies() == []
    same = client.post("/api/config/validate", json={"url": "#seed=1"}, headers={"Origin": "http://localhost"})
    assert same.status_code == 200
    assert client.post("/api/config/validate", json={"url": "#seed=1"}).status_code == 200  # curl, scripts


# ---- Host: DNS rebinding --------------------------------------------------------------------------------------

@pytest.mark.parametrize("host", ["evil.example", "evil.example:5000", "127.0.0.1.evil.example", "localhost.",
                                  "0x7f000001", ""])
def test_an_unknown_host_header_is_refused(client, host):
    response = client.get("/", headers={"Host": host})
    assert response.status_code == 400


@pytest.mark.parametrize("host", ["127.0.0.1:5000", "localhost:8000", "[::1]:5000", "localhost"])
def test_loopback_host_names_are_accepted(client, host):
    assert client.get("/", headers={"Host": host}).status_code == 200


def test_configured_host_names_are_accepted():
    client = create_app({"PLAYGROUND_ALLOWED_HOSTS": ["teacher.local"], "PLAYGROUND_TOKEN": "t" * 24}).test_client()
    assert client.get("/?token=" + "t" * 24, headers={"Host": "teacher.local:8000"}).status_code == 200
    assert client.get("/?token=" + "t" * 24, headers={"Host": "evil.example"}).status_code == 400


def test_a_rebound_websocket_is_refused(live_server):
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(live_server.ws_url, timeout=10, host="evil.example")
    assert refused.value.status_code == 400


# ---- exports --------------------------------------------------------------------------------------------------

@settings(max_examples=200, deadline=None, database=None)
@given(name=st.one_of(st.text(max_size=40), st.sampled_from(["../x.csv", "/etc/x.csv", "a/../../x.json", "..",
                                                            "sub/../x.html", "./x.csv", "\x00.csv", "~/x.csv"])))
def test_exports_never_write_outside_their_folder(tmp_path_factory, name):
    folder = tmp_path_factory.mktemp("exports")
    outside_before = set(os.listdir(folder.parent))
    run = Run(Config(seed="e", networkShape=(2,)))
    try:
        written = export.write_export(run, folder, name + ".csv" if not name.endswith((".csv", ".json", ".html"))
                                      else name)
    except (ValueError, OSError):
        pass
    else:
        assert folder.resolve() in written.resolve().parents
    assert set(os.listdir(folder.parent)) == outside_before


def test_a_symlink_out_of_the_export_folder_is_refused(tmp_path):
    folder, outside = tmp_path / "exports", tmp_path / "outside"
    folder.mkdir(), outside.mkdir()
    (folder / "link").symlink_to(outside)
    with pytest.raises(ValueError, match="outside"):
        export.write_export(Run(Config(seed="e", networkShape=(2,))), folder, "link/run.csv")
    assert list(outside.iterdir()) == []


FORMULAS = ["=HYPERLINK(\"http://evil\",\"x\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "=cmd|' /C calc'!A0"]


def test_text_in_csv_exports_cannot_run_as_a_formula(tmp_path):
    db = tmp_path / "runs.sqlite"
    with RunLog(db) as log:
        run_id = log.save(Run(Config(seed="f", networkShape=(2,))).train(2), name=FORMULAS[0])
        log.update_meta(run_id, tags=FORMULAS[1:4], notes=FORMULAS[6])
        record = log.get(run_id)
    for text in (export.runs_long_csv([record]), export.runs_wide_csv([record])):
        for row in csv.reader(io.StringIO(text)):
            for cell in row:
                if cell and cell[0] in "=+-@\t\r":
                    float(cell)  # only a number may start so (a negative loss, say)
    client = create_app({"TESTING": True, "PLAYGROUND_DB": str(db)}).test_client()
    response = client.get(f"/api/runs/export?ids={run_id}&format=csv")
    assert response.status_code == 200
    for row in csv.reader(io.StringIO(response.get_data(as_text=True))):
        assert not any(cell and cell[0] in "=+@\t\r" for cell in row), row


def test_json_exports_are_strict_json():
    run = Run(Config(problem="regression", learningRate=10, seed="0.1", networkShape=(4, 2)))
    run.train(5000)
    assert run.diverged
    json.loads(json.dumps(export.run_json(run), allow_nan=False))
