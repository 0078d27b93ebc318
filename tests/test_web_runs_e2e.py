"""The Runs page in headless Chromium: saved runs listed, overlaid, renamed, deleted, and opened again in
the playground where training continues from the saved epoch."""
import pytest

from nn.playground import Config, Run
from nn.playground.runlog import RunLog

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def saved_runs(tmp_path):
    """Two saved runs on spiral and xor: (db path, [spiral id, xor id])."""
    path = tmp_path / "runs.sqlite"
    ids = []
    with RunLog(path) as log:
        for dataset, epochs in (("spiral", 12), ("xor", 7)):
            run = Run(Config(dataset=dataset, seed=f"e2e-{dataset}"))
            run.train(epochs)
            ids.append(log.save(run, name=f"{dataset} run"))
    return path, ids


@pytest.fixture
def runs_server(make_live_server, saved_runs):
    return make_live_server({"PLAYGROUND_DB": saved_runs[0]})


def open_runs(page, server):
    page.goto(f"{server.url}/runs")
    page.wait_for_function("window.runsPage && document.querySelectorAll('[data-testid=run-row]').length > 0")


def row(page, name):
    return page.get_by_test_id("run-row").filter(has_text=name)


def overlay_traces(page):
    return page.evaluate("document.getElementById('overlay').data ? document.getElementById('overlay').data.length : 0")


def test_two_selected_runs_are_overlaid_one_colour_each(page, runs_server, artifacts):
    open_runs(page, runs_server)
    assert page.get_by_test_id("run-row").count() == 2
    page.get_by_label("Select spiral run").check()
    page.get_by_label("Select xor run").check()
    page.wait_for_function("document.getElementById('overlay').data && document.getElementById('overlay').data.length === 4")
    traces = page.evaluate("document.getElementById('overlay').data.map(t => [t.name, t.line.color, t.x.length])")
    assert {name for name, _, _ in traces} == {"spiral run test", "spiral run train", "xor run test", "xor run train"}
    colours = {name.split()[0]: colour for name, colour, _ in traces}
    assert colours["spiral"] != colours["xor"]
    assert sorted(length for _, _, length in traces) == [8, 8, 13, 13]  # every epoch, 0 included
    assert page.locator("#overlay .scatterlayer path.js-line").count() == 4  # drawn, not only given
    # Each run's final boundary shows as a thumbnail.
    assert page.evaluate("[...document.querySelectorAll('img.thumb')].every(img => img.complete && img.naturalWidth === 50)")
    page.screenshot(path=artifacts / "runs-page.png", full_page=True)
    assert not page.blocked_requests and not page.console_errors


def test_filter_sort_rename_and_delete(page, runs_server, saved_runs):
    open_runs(page, runs_server)
    page.get_by_label("Dataset", exact=True).select_option("xor")
    page.wait_for_function("document.querySelectorAll('[data-testid=run-row]').length === 1")
    assert "xor run" in row(page, "xor run").text_content()
    page.get_by_label("Dataset", exact=True).select_option("")
    page.wait_for_function("document.querySelectorAll('[data-testid=run-row]').length === 2")

    row(page, "spiral run").get_by_role("button", name="Edit").click()
    page.get_by_label("Name", exact=True).fill("my best spiral")
    page.get_by_label("Tags", exact=True).fill("homework, week 3")
    page.get_by_role("button", name="Save").click()
    page.wait_for_function("[...document.querySelectorAll('[data-testid=run-name]')].some(n => n.textContent.includes('my best spiral'))")
    with RunLog(saved_runs[0]) as log:
        names = {run["name"]: run["tags"] for run in log.list_runs()}
    assert names["my best spiral"] == ["homework", "week 3"]

    page.once("dialog", lambda dialog: dialog.dismiss())  # asked first; "Cancel" keeps it
    row(page, "xor run").get_by_role("button", name="Delete").click()
    assert page.get_by_test_id("run-row").count() == 2
    page.once("dialog", lambda dialog: dialog.accept())
    row(page, "xor run").get_by_role("button", name="Delete").click()
    page.wait_for_function("document.querySelectorAll('[data-testid=run-row]').length === 1")
    with RunLog(saved_runs[0]) as log:
        assert [run["name"] for run in log.list_runs()] == ["my best spiral"]


def test_filters_live_in_the_address_so_a_reload_keeps_them(page, runs_server):
    open_runs(page, runs_server)
    page.get_by_label("Dataset", exact=True).select_option("xor")
    page.get_by_label("Order").select_option("asc")
    page.wait_for_function("document.querySelectorAll('[data-testid=run-row]').length === 1")
    assert "dataset=xor" in page.url and "order=asc" in page.url
    page.reload()
    page.wait_for_function("window.runsPage && document.querySelectorAll('[data-testid=run-row]').length === 1")
    assert page.get_by_label("Dataset", exact=True).input_value() == "xor"
    assert page.get_by_label("Order").input_value() == "asc"
    page.goto(f"{runs_server.url}/runs?dataset=nonsense&min_epochs=10")  # a stale or edited address
    page.wait_for_function("window.runsPage && document.querySelectorAll('[data-testid=run-row]').length === 1")
    assert page.get_by_label("Dataset", exact=True).input_value() == ""
    assert "spiral run" in row(page, "spiral run").text_content()  # 12 epochs >= 10; xor has 7
    assert not page.console_errors


def test_open_a_run_in_the_playground_and_train_on_from_its_epoch(page, runs_server, saved_runs):
    open_runs(page, runs_server)
    row(page, "spiral run").get_by_role("link", name="Open").click()
    page.wait_for_url("**/?run=*")
    page.wait_for_function("window.playground && window.playground.frame && window.playground.frame.header.epoch === 12")
    assert page.get_by_test_id("epoch").text_content() == "000,012"
    assert page.evaluate("window.playground.frame.header.config.dataset") == "spiral"
    page.get_by_role("button", name="Step", exact=True).click()
    page.wait_for_function("document.querySelector('[data-testid=epoch]').textContent === '000,013'")
    # The loss chart goes on from the saved history: epochs 0..13 in both curves.
    page.wait_for_function("document.getElementById('linechart').data.every(t => t.x.length === 14)")
    assert page.evaluate("document.getElementById('linechart').data[0].x[0]") == 0
    # The page's URL forgot the run but kept its settings: a reload starts from these settings.
    assert "run=" not in page.url and "dataset=spiral" in page.url
    assert not page.console_errors


def test_the_page_warns_when_runs_are_not_being_saved_and_trains_on(page, make_live_server, tmp_path):
    not_a_folder = tmp_path / "a file"
    not_a_folder.write_text("the run log cannot live under a file")
    server = make_live_server({"PLAYGROUND_DB": not_a_folder / "runs.sqlite"})
    page.goto(server.url + "/")
    page.wait_for_function("window.playground && window.playground.frame !== null")
    assert not page.get_by_test_id("warning").is_visible()
    page.get_by_role("button", name="Step", exact=True).click()
    page.get_by_role("button", name="Reset", exact=True).click()  # Reset offers the run to the log
    page.get_by_test_id("warning").wait_for(state="visible")
    assert "not being saved" in page.get_by_test_id("warning").text_content()
    page.get_by_role("button", name="Step", exact=True).click()
    page.wait_for_function("document.querySelector('[data-testid=epoch]').textContent === '000,001'")


def test_a_study_started_from_the_page_shows_progress_then_its_report(page, make_live_server, tmp_path, artifacts):
    server = make_live_server({"PLAYGROUND_DB": tmp_path / "runs.sqlite"})
    page.goto(server.url + "/studies")
    page.get_by_label("Learning rates").fill("0.01 0.1")
    page.get_by_label("Network shapes").fill("3")
    page.get_by_label("Seeds (how many, or names)").fill("2")
    page.get_by_label("Epochs per run").fill("10")
    page.get_by_role("button", name="Start study").click()
    page.wait_for_url("**/studies/1")
    page.wait_for_function("document.querySelector('[data-testid=study-progress]').dataset.state === 'finished'")
    assert page.get_by_test_id("study-progress").text_content().startswith("finished: 4 of 4 runs")
    report = page.frame_locator("#study-report")
    report.get_by_role("heading", name="Leaderboard").wait_for()
    page.screenshot(path=artifacts / "study-page.png")
    assert not page.blocked_requests and not page.console_errors


def test_a_bad_study_names_the_field_on_the_page(page, make_live_server, tmp_path):
    server = make_live_server({"PLAYGROUND_DB": tmp_path / "runs.sqlite"})
    page.goto(server.url + "/studies")
    page.get_by_label("Learning rates").fill("0.01 fast")
    page.get_by_role("button", name="Start study").click()
    page.get_by_test_id("study-error").filter(has_text="learningRate").wait_for()
    assert page.get_by_label("Learning rates").get_attribute("aria-invalid") == "true"
