"""The run log on the web: /api/runs (list, sort, filter, one run, rename/tag/annotate, delete, export),
and every run the page trains landing in the log by itself."""
import csv
import io
import json
import time

import pytest

from app import create_app
from nn.playground import Config, Run
from nn.playground.runlog import RunLog


def trained_run(epochs, **settings) -> Run:
    run = Run(Config(seed="runs-page", **settings))
    run.train(epochs)
    return run


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "runs.sqlite"


@pytest.fixture
def saved(db_path):
    """Three saved runs: {name: id}."""
    with RunLog(db_path) as log:
        ids = {
            "spiral": log.save(trained_run(5, dataset="spiral", networkShape=(8, 8)), name="spiral deep"),
            "circle": log.save(trained_run(2, dataset="circle", learningRate=0.1), name="circle fast"),
            "xor": log.save(trained_run(8, dataset="xor")),
        }
        log.update_meta(ids["circle"], tags=["homework", "fast"], notes="the learning rate is too high")
    return ids


@pytest.fixture
def client(db_path):
    return create_app({"TESTING": True, "PLAYGROUND_DB": db_path}).test_client()


def listed(client, query=""):
    response = client.get(f"/api/runs{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["runs"]


def test_list_gives_each_runs_settings_results_and_date(client, saved):
    runs = {run["id"]: run for run in listed(client)}
    assert set(runs) == set(saved.values())
    spiral = runs[saved["spiral"]]
    assert spiral["name"] == "spiral deep" and spiral["dataset"] == "spiral" and spiral["epochs"] == 5
    assert spiral["config"]["networkShape"] == [8, 8] and spiral["config"]["activation"] == "tanh"
    assert 0 < spiral["test_loss"] < 1 and 0 <= spiral["test_accuracy"] <= 1 and spiral["created"] > 0
    assert spiral["playground"].startswith(f"/?run={saved['spiral']}#") and "dataset=spiral" in spiral["playground"]


def test_list_sorts_both_ways(client, saved):
    by_epochs = [run["epochs"] for run in listed(client, "?sort=epochs&order=asc")]
    assert by_epochs == [2, 5, 8]
    assert [run["epochs"] for run in listed(client, "?sort=epochs&order=desc")] == [8, 5, 2]


def test_list_filters_by_dataset_text_tag_and_min_epochs(client, saved):
    assert [run["id"] for run in listed(client, "?dataset=spiral")] == [saved["spiral"]]
    assert [run["id"] for run in listed(client, "?q=DEEP")] == [saved["spiral"]]          # name
    assert [run["id"] for run in listed(client, "?q=too%20high")] == [saved["circle"]]    # notes
    assert [run["id"] for run in listed(client, "?q=homework")] == [saved["circle"]]      # tags
    assert [run["id"] for run in listed(client, "?tag=fast")] == [saved["circle"]]
    assert {run["id"] for run in listed(client, "?min_epochs=5")} == {saved["spiral"], saved["xor"]}


@pytest.mark.parametrize("query, field", [
    ("?sort=loss", "sort"), ("?order=up", "order"), ("?dataset=moons", "dataset"), ("?min_epochs=-1", "min_epochs"),
    ("?min_epochs=ten", "min_epochs"), ("?limit=0", "limit"), ("?source=web", "source"), ("?sortt=id", "sortt"),
])
def test_bad_list_queries_are_400_naming_the_field_and_what_is_allowed(client, saved, query, field):
    response = client.get(f"/api/runs{query}")
    assert response.status_code == 400
    body = response.get_json()
    assert body["field"] == field and "allowed" in body["error"]


def test_one_run_in_full_and_its_history_and_thumbnail(client, saved):
    run = client.get(f"/api/runs/{saved['xor']}").get_json()
    assert run["epochs"] == 8 and len(run["history"]["test_loss"]) == 9 and run["weights"]
    history = client.get(f"/api/runs/{saved['xor']}/history").get_json()["history"]
    assert history["epoch"] == list(range(9))
    png = client.get(f"/api/runs/{saved['xor']}/boundary.png")
    assert png.status_code == 200 and png.mimetype == "image/png" and png.data.startswith(b"\x89PNG")


@pytest.mark.parametrize("path", ["/api/runs/999", "/api/runs/abc", "/api/runs/0", "/api/runs/99999999999999999999",
                                  "/api/runs/999/history", "/api/runs/1e3/boundary.png"])
def test_a_run_that_is_not_there_is_404_not_500(client, saved, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.get_json()["field"] == "id"


def test_rename_tag_and_annotate(client, saved):
    run_id = saved["xor"]
    response = client.patch(f"/api/runs/{run_id}", json={"name": "xor baseline", "tags": ["a", "b"],
                                                          "notes": "converges by epoch 8"})
    assert response.status_code == 200
    (run,) = [run for run in listed(client) if run["id"] == run_id]
    assert (run["name"], run["tags"], run["notes"]) == ("xor baseline", ["a", "b"], "converges by epoch 8")
    client.patch(f"/api/runs/{run_id}", json={"notes": ""})
    (run,) = [run for run in listed(client) if run["id"] == run_id]
    assert run["name"] == "xor baseline" and run["notes"] == ""  # only what was sent changes


@pytest.mark.parametrize("body, field", [
    ({"name": "x" * 201}, "name"), ({"name": 5}, "name"), ({"name": None}, "name"),
    ({"tags": "a,b"}, "tags"), ({"tags": ["ok", ""]}, "tags"), ({"tags": ["t"] * 21}, "tags"),
    ({"notes": "n" * 10_001}, "notes"), ({"epochs": 3}, "epochs"), ({}, None), ([], None),
])
def test_bad_patches_are_400_naming_the_field_and_change_nothing(client, saved, body, field):
    before = listed(client)
    response = client.patch(f"/api/runs/{saved['circle']}", json=body)
    assert response.status_code == 400
    assert response.get_json()["field"] == field
    assert listed(client) == before


def test_patch_of_a_missing_run_is_404(client, saved):
    assert client.patch("/api/runs/12345", json={"name": "x"}).status_code == 404


def test_delete_one_and_several(client, saved):
    assert client.delete(f"/api/runs/{saved['xor']}").get_json() == {"deleted": 1}
    assert client.delete(f"/api/runs/{saved['xor']}").status_code == 404
    response = client.delete(f"/api/runs?ids={saved['spiral']},{saved['circle']}")
    assert response.get_json() == {"deleted": 2}
    assert listed(client) == []


@pytest.mark.parametrize("ids", ["", "1,x", "-1", "1;DROP TABLE runs"])
def test_bulk_delete_with_bad_ids_is_400_and_deletes_nothing(client, saved, ids):
    response = client.delete(f"/api/runs?ids={ids}")
    assert response.status_code == 400 and response.get_json()["field"] == "ids"
    assert len(listed(client)) == 3


def test_long_csv_export_has_one_row_per_epoch_and_metric_of_each_run(client, saved):
    ids = [saved["spiral"], saved["circle"]]
    response = client.get(f"/api/runs/export?ids={ids[0]},{ids[1]}&format=csv")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == f'attachment; filename="runs-{ids[0]}-{ids[1]}.csv"'
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    for run_id, epochs in ((ids[0], 5), (ids[1], 2)):
        test_loss = [row for row in rows if row["run_id"] == str(run_id) and row["metric"] == "test_loss"]
        assert [int(row["epoch"]) for row in test_loss] == list(range(epochs + 1))
    assert {row["run_id"] for row in rows} == {str(i) for i in ids}


def test_exported_names_cannot_run_as_spreadsheet_formulas(client, saved):
    client.patch(f"/api/runs/{saved['xor']}", json={"name": "=HYPERLINK(\"http://evil\")"})
    text = client.get(f"/api/runs/export?ids={saved['xor']}&format=csv-wide").get_data(as_text=True)
    names = {row["name"] for row in csv.DictReader(io.StringIO(text))}
    assert names == {"'=HYPERLINK(\"http://evil\")"}


def test_json_and_html_exports(client, saved):
    exported = json.loads(client.get(f"/api/runs/export?ids={saved['xor']}&format=json").get_data(as_text=True))
    assert [run["id"] for run in exported["runs"]] == [saved["xor"]]
    page = client.get(f"/api/runs/export?ids={saved['xor']},{saved['spiral']}&format=html")
    assert page.mimetype == "text/html" and "spiral deep" in page.get_data(as_text=True)
    assert page.headers["Content-Disposition"].endswith('.html"')


@pytest.mark.parametrize("query, field, status", [
    ("?ids=1&format=xlsx", "format", 400), ("?format=csv", "ids", 400), ("?ids=abc", "ids", 400),
    ("?ids=424242", "ids", 404),
])
def test_bad_exports_name_the_field(client, saved, query, field, status):
    response = client.get(f"/api/runs/export{query}")
    assert response.status_code == status and response.get_json()["field"] == field


def test_runs_page_is_served_and_linked_from_the_playground(client, saved):
    assert client.get("/runs").status_code == 200
    assert 'href="/runs"' in client.get("/").get_data(as_text=True)


# ---- every run the page trains is saved by itself

def test_a_session_saves_its_run_to_the_log_through_the_websocket(make_live_server, db_path):
    from conftest import SessionClient

    server = make_live_server({"PLAYGROUND_DB": db_path})
    session = SessionClient(server.ws_url)
    try:
        session.frame()
        after = session.send({"cmd": "set", "field": "dataset", "value": "xor"})
        session.frame(after)
        for _ in range(3):
            after = session.send({"cmd": "step"})
        header, _ = session.frame(after)
        assert header["epoch"] == 3
        session.send({"cmd": "reset"})  # Reset keeps the attempt it discards
        session.frame()
    finally:
        session.close()
    with RunLog(db_path) as log:
        (summary,) = log.list_runs()
        assert summary["epochs"] == 3 and summary["config"]["dataset"] == "xor" and summary["source"] == "page"
        assert list(log.history(summary["id"])["epoch"]) == [0, 1, 2, 3]


def test_training_saves_every_few_seconds(make_live_server, db_path):
    from conftest import SessionClient

    server = make_live_server({"PLAYGROUND_DB": db_path, "PLAYGROUND_SAVE_INTERVAL": 0.2})
    session = SessionClient(server.ws_url)
    try:
        session.frame()
        after = session.send({"cmd": "play"})
        # Wait until a save happened while training, without stopping: the row appears and grows.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            session.frame(after)
            with RunLog(db_path) as log:
                runs = log.list_runs()
            if runs and runs[0]["epochs"] > 0:
                break
        assert runs and runs[0]["epochs"] > 0
    finally:
        session.close()


def test_a_saved_run_continues_where_it_stopped_and_stays_one_record(make_live_server, db_path, saved):
    from conftest import SessionClient

    server = make_live_server({"PLAYGROUND_DB": db_path})
    session = SessionClient(server.ws_url)
    try:
        session.frame()
        after = session.send({"cmd": "load_run", "run": saved["spiral"]})
        header, _ = session.frame(after)
        assert header["epoch"] == 5 and header["config"]["dataset"] == "spiral"
        assert header["config"]["networkShape"] == [8, 8]
        assert header["history"]["start"] == 0 and header["history"]["epoch"] == [0, 1, 2, 3, 4, 5]
        after = session.send({"cmd": "step"})
        header, _ = session.frame(after)
        assert header["epoch"] == 6
    finally:
        session.close()
    with RunLog(db_path) as log:
        deadline = time.monotonic() + 10  # the server saves as soon as it notices the disconnect
        while log.get(saved["spiral"])["epochs"] != 6 and time.monotonic() < deadline:
            time.sleep(0.05)
        record = log.get(saved["spiral"])
        assert record["epochs"] == 6 and record["name"] == "spiral deep"
        assert list(record["history"]["epoch"]) == list(range(7))
        assert len(log.list_runs()) == 3  # continued in place, not copied


def test_loading_a_run_that_is_not_there_is_an_error_naming_run(make_live_server, db_path, saved):
    from conftest import SessionClient

    server = make_live_server({"PLAYGROUND_DB": db_path})
    session = SessionClient(server.ws_url)
    try:
        session.frame()
        for bad in (4242, 0, "1", True):
            session.send({"cmd": "load_run", "run": bad})
            reply = session.reply()
            assert reply["type"] == "error" and reply["field"] == "run", reply
    finally:
        session.close()


def test_when_the_run_log_cannot_be_written_training_goes_on_with_a_warning(make_live_server, tmp_path):
    from conftest import SessionClient

    not_a_folder = tmp_path / "a file"
    not_a_folder.write_text("the run log cannot live under a file")
    server = make_live_server({"PLAYGROUND_DB": not_a_folder / "runs.sqlite"})
    session = SessionClient(server.ws_url)
    try:
        session.frame()
        session.send({"cmd": "step"})
        after = session.send({"cmd": "reset"})  # Reset offers the trained run to the log, which refuses
        header, _ = session.frame(after)
        assert header["warning"] and "cannot open" in header["warning"]
        after = session.send({"cmd": "step"})
        header, _ = session.frame(after)
        assert header["epoch"] == 1  # training goes on
    finally:
        session.close()
