"""Studies from the web: start a sweep (the command line's grammar), follow its progress, read its report."""
import re
import time

import pytest

from app import create_app
from nn.playground.runlog import RunLog

pytestmark = pytest.mark.timeout(180)

TINY = {"settings": {"dataset": "xor", "learningRate": "0.01 0.1", "networkShape": "3"}, "seeds": 2, "epochs": 10}


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "runs.sqlite"


@pytest.fixture
def client(db_path):
    return create_app({"TESTING": True, "PLAYGROUND_DB": db_path}).test_client()


def wait_until_finished(client, study_id, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        progress = client.get(f"/api/studies/{study_id}").get_json()
        if progress["state"] != "running":
            return progress
        time.sleep(0.2)
    raise AssertionError(f"study {study_id} still running after {timeout} s: {progress}")


def test_a_study_trains_every_combination_reports_progress_and_a_report(client, db_path):
    response = client.post("/api/studies", json=TINY)
    assert response.status_code == 202, response.get_json()
    started = response.get_json()
    assert started["total"] == 4
    # One study at a time per server process.
    second = client.post("/api/studies", json={**TINY, "epochs": 11})
    if second.status_code == 409:  # (unless the tiny study already finished)
        assert "a study is running" in second.get_json()["error"]
    progress = wait_until_finished(client, started["id"])
    assert progress["state"] == "finished" and (progress["done"], progress["total"]) == (4, 4)
    with RunLog(db_path) as log:
        runs = log.list_runs(study_id=started["id"])
    assert len(runs) == 4 and {run["epochs"] for run in runs} == {10}
    assert {run["config"]["learningRate"] for run in runs} == {0.01, 0.1}
    assert {run["seed"] for run in runs} == {"s0", "s1"}

    page = client.get(f"/studies/{started['id']}")
    assert page.status_code == 200 and 'data-testid="study-progress"' in page.get_data(as_text=True)
    fixed = re.search(r"Fixed settings: <code>([^<]*)</code>", page.get_data(as_text=True)).group(1)
    assert "dataset=" in fixed and "learningRate" not in fixed and "seed" not in fixed  # the swept ones
    report = client.get(f"/studies/{started['id']}/report?download=1")
    assert report.status_code == 200 and "Leaderboard" in report.get_data(as_text=True)
    assert report.headers["Content-Disposition"] == f'attachment; filename="study-{started["id"]}.html"'
    listed = client.get("/api/studies").get_json()["studies"]
    assert [(s["id"], s["runs"]) for s in listed] == [(started["id"], 4)]


def test_every_server_worker_follows_a_study_another_started(db_path):
    # Two apps on one run log stand for two gunicorn workers: B must see what A started.
    worker_a, worker_b = (create_app({"TESTING": True, "PLAYGROUND_DB": db_path}).test_client() for _ in range(2))
    started = worker_a.post("/api/studies", json={**TINY, "epochs": 400}).get_json()
    seen = worker_b.get(f"/api/studies/{started['id']}").get_json()
    assert seen["state"] in ("running", "finished") and seen["total"] == 4
    # One study at a time for the whole log, whichever worker is asked.
    second = worker_b.post("/api/studies", json={**TINY, "epochs": 11})
    if second.status_code == 202:  # (the first had just finished)
        assert seen["state"] == "finished" or wait_until_finished(worker_b, started["id"])
        wait_until_finished(worker_b, second.get_json()["id"])
    else:
        assert second.status_code == 409 and f"study {started['id']}:" in second.get_json()["error"]
    assert wait_until_finished(worker_b, started["id"])["state"] == "finished"
    assert wait_until_finished(worker_a, started["id"])["state"] == "finished"


def test_starting_the_same_study_again_trains_nothing_new(client, db_path):
    first = client.post("/api/studies", json=TINY).get_json()
    wait_until_finished(client, first["id"])
    again = client.post("/api/studies", json=TINY)
    assert again.status_code == 202 and again.get_json()["id"] == first["id"]
    progress = wait_until_finished(client, first["id"])
    assert progress["skipped"] == 4
    with RunLog(db_path) as log:
        assert len(log.list_runs()) == 4


@pytest.mark.parametrize("body, field", [
    ({**TINY, "settings": {"learningRate": "0.01 fast"}}, "learningRate"),
    ({**TINY, "settings": {"networkShape": "4 8,x"}}, "networkShape"),
    ({**TINY, "settings": {"regularization": "none L3"}}, "regularization"),
    ({**TINY, "settings": {"colour": "red"}}, "colour"),
    ({**TINY, "epochs": 0}, "epochs"),
    ({**TINY, "epochs": "many"}, "epochs"),
    ({**TINY, "seeds": 0}, "seeds"),
    ({**TINY, "seeds": True}, "seeds"),
    ({**TINY, "url": "#dataset=moons"}, "url"),
    ({**TINY, "workers": 8}, "workers"),
    ({**TINY, "settings": {"learningRate": " ".join(["0.01", "0.03", "0.1"] * 1), "batchSize": " ".join(map(str, range(1, 31))),
                           "networkShape": "1 2 3 4 5 6"}, "seeds": 5}, "settings"),  # 2700 runs: too many for the page
])
def test_bad_studies_are_400_naming_the_field_and_start_nothing(client, db_path, body, field):
    response = client.post("/api/studies", json=body)
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["field"] == field
    assert client.get("/api/studies").get_json()["studies"] == []


def test_a_study_that_is_not_there_is_404(client):
    for path in ("/api/studies/7", "/api/studies/x", "/studies/7", "/studies/7/report"):
        assert client.get(path).status_code == 404, path
