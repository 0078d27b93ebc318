"""The web app's HTTP side: the page, its local assets, the JSON API, and the two ways to start a server."""
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import websocket

import app as app_module

ROOT = Path(__file__).resolve().parent.parent
ORIGINAL_LABELS = ("Learning rate", "Activation", "Regularization", "Regularization rate", "Problem type",
                   "Ratio of training to test data", "Noise", "Batch size")


def test_page_has_the_originals_controls_and_stable_hooks(client):
    html = client.get("/").get_data(as_text=True)
    for label in ORIGINAL_LABELS:
        assert re.search(rf"<label for=\"\w+\">{re.escape(label)}", html), label
    for name in ("Play/Pause", "Step", "Reset"):
        assert f'aria-label="{name}"' in html
    for button in ("Regenerate", "Export CSV", "Export JSON", "Export chart PNG", "Export chart SVG",
                   "Export boundary PNG"):
        assert f">{button}</button>" in html
    for hook in ("epoch", "train-loss", "test-loss", "boundary"):
        assert f'data-testid="{hook}"' in html
    for value in ("0.00001", "0.03", "10"):
        assert f'<option value="{value}">' in html


def test_every_asset_the_page_loads_is_served_locally(client):
    html = client.get("/").get_data(as_text=True)
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and not [s for s in sources if re.match(r"(https?:)?//", s)]
    for source in sources:
        if source.startswith("/"):
            assert client.get(source).status_code == 200, source
    modules = (ROOT / "static" / "js").glob("*.js")
    for module in modules:
        assert not re.search(r"(from|import)\s*[\"']https?:", module.read_text()), module.name


def test_plotly_comes_from_the_installed_package(client):
    response = client.get("/vendor/plotly.min.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert len(response.data) > 1_000_000 and b"plotly" in response.data[:2000].lower()


def test_defaults_are_the_originals(client):
    config = client.get("/api/config/defaults").get_json()["config"]
    assert (config["learningRate"], config["activation"], config["regularization"]) == (0.03, "tanh", None)
    assert (config["regularizationRate"], config["problem"], config["dataset"]) == (0, "classification", "circle")
    assert (config["percTrainData"], config["noise"], config["batchSize"]) == (50, 0, 10)
    assert config["networkShape"] == [4, 2] and config["x"] and config["y"] and not config["xTimesY"]
    assert (config["showTestData"], config["discretize"]) == (False, False)


def test_validate_normalises_a_playground_link(client):
    link = ("https://playground.tensorflow.org/#activation=relu&batchSize=3&dataset=spiral&regDataset=reg-plane"
            "&learningRate=0.1&regularizationRate=0&noise=15&networkShape=5,3&seed=0.77&showTestData=true"
            "&discretize=false&percTrainData=70&x=true&y=false&problem=classification&noise_hide=true")
    body = client.post("/api/config/validate", json={"url": link}).get_json()
    config = body["config"]
    assert (config["activation"], config["batchSize"], config["dataset"], config["noise"]) == ("relu", 3, "spiral", 15)
    assert config["networkShape"] == [5, 3] and config["seed"] == "0.77" and config["y"] is False
    assert "noise" in config["hide"]
    assert "learningRate=0.1" in body["url"] and "noise_hide=true" in body["url"]


@pytest.mark.parametrize("body, field", [
    ({"url": "#learningRate=fast"}, "learningRate"),
    ({"url": "#batchSize=0"}, "batchSize"),
    ({"config": {"activation": "cubic"}}, "activation"),
    ({"config": {"bogus": 1}}, "bogus"),
])
def test_validate_rejects_bad_values_naming_the_field(client, body, field):
    response = client.post("/api/config/validate", json=body)
    assert response.status_code == 400
    error = response.get_json()
    assert error["field"] == field and field in error["error"]


def test_validate_explains_what_it_needs(client):
    for body in (None, {"something": 1}, {"url": 5}):
        response = client.post("/api/config/validate", json=body)
        assert response.status_code == 400 and response.get_json()["error"]


def test_dataset_thumbnails_come_from_the_engine(client):
    classification = client.get("/api/datasets/classification").get_json()
    assert set(classification) == {"circle", "xor", "gauss", "spiral"}
    assert all(len(points) == 200 for points in classification.values())
    assert {label for points in classification.values() for _, _, label in points} == {-1, 1}
    assert set(client.get("/api/datasets/regression").get_json()) == {"reg-plane", "reg-gauss"}
    assert client.get("/api/datasets/clustering").status_code == 404


def test_python_app_py_binds_to_localhost_without_the_debugger(monkeypatch, capsys):
    calls = []
    monkeypatch.setattr("flask.Flask.run", lambda self, **kwargs: calls.append(kwargs))
    app_module.main([])
    assert calls[0]["host"] == "127.0.0.1" and calls[0]["port"] == 5000 and calls[0]["debug"] is False
    assert "http://127.0.0.1:5000/" in capsys.readouterr().out
    app_module.main(["--port", "8080", "--debug"])  # the debugger only when asked for ...
    assert calls[1]["host"] == "127.0.0.1" and calls[1]["port"] == 8080 and calls[1]["debug"] is True
    with pytest.raises(SystemExit) as refused:  # ... and never where another machine could reach it
        app_module.main(["--host", "0.0.0.0", "--debug"])
    assert refused.value.code == 2 and len(calls) == 2
    assert "--debug" in capsys.readouterr().err


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_readme_classroom_command_serves_independent_sessions(connect, tmp_path):
    """gunicorn -k gthread -w 4 --threads 32 'app:create_app()' (smaller here: 2 workers, 4 threads)."""
    port = free_port()
    log = open(tmp_path / "gunicorn.log", "w")
    clients = []
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-k", "gthread", "-w", "2", "--threads", "4",
         "--graceful-timeout", "5", "-b", f"127.0.0.1:{port}", "app:create_app()"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                clients = [connect(f"ws://127.0.0.1:{port}/ws") for _ in range(3)]
                break
            except (ConnectionRefusedError, websocket.WebSocketException, OSError):
                assert time.monotonic() < deadline and server.poll() is None, (tmp_path / "gunicorn.log").read_text()
                time.sleep(0.3)
        uids = {client.frame()[0]["uid"] for client in clients}
        assert len(uids) == 3  # a session per connection
        header, _ = clients[0].frame(after=clients[0].send({"cmd": "step"}))
        assert header["epoch"] == 1
        header, _ = clients[1].frame(after=clients[1].send({"cmd": "set", "field": "learningRate", "value": 0.3}))
        assert header["epoch"] == 0 and "learningRate=0.3" in header["url"]
        header, _ = clients[2].frame(after=clients[2].send({"cmd": "play"}))
        while header["epoch"] < 5:
            header, _ = clients[2].frame()
        assert header["state"] == "playing"
    finally:
        for client in clients:
            client.close()
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()
