"""End to end: the page in headless Chromium (Debian's, driven by Playwright), offline, against a live server.

These find controls the way a person does and other test suites should: by their visible labels, the
buttons' accessible names and the data-testid hooks (epoch, train-loss, test-loss, boundary).
"""
import csv
import io
import re

import pytest

from nn.playground import Config
from playground_reference import ReferenceRun

pytestmark = pytest.mark.timeout(120)

ORIGINAL_SELECTS = ("Learning rate", "Activation", "Regularization", "Regularization rate", "Problem type")
ORIGINAL_SLIDERS = ("Ratio of training to test data", "Noise", "Batch size")
LINK = ("https://playground.tensorflow.org/#activation=tanh&batchSize=10&dataset=spiral&regDataset=reg-plane"
        "&learningRate=0.03&regularizationRate=0&noise=0&networkShape=4,2&seed=0.12345&showTestData=false"
        "&discretize=false&percTrainData=50&x=true&y=true&xTimesY=false&xSquared=false&ySquared=false"
        "&cosX=false&sinX=false&cosY=false&sinY=false&collectStats=false&problem=classification"
        "&initZero=false&hideText=false")


def open_playground(page, live_server, hash_text=""):
    page.goto(f"{live_server.url}/{hash_text}")
    page.wait_for_function("window.playground && window.playground.frame !== null && window.playground.waitingFor === null")


def epoch(page):
    return int(page.get_by_test_id("epoch").text_content().replace(",", ""))


def wait_for_epoch(page, at_least):
    page.wait_for_function(
        f"parseInt(document.querySelector('[data-testid=epoch]').textContent.replace(/,/g, '')) >= {at_least}")
    return epoch(page)


def boundary_image(page):
    return page.get_by_test_id("boundary").evaluate("canvas => canvas.toDataURL()")


def header(page, name):
    return page.evaluate(f"window.playground.frame.header[{name!r}]")


def test_the_page_works_offline_with_every_control_labelled(page, live_server, artifacts):
    open_playground(page, live_server)
    for label in ORIGINAL_SELECTS:
        assert page.get_by_label(label, exact=True).count() == 1, label
    for label in ORIGINAL_SLIDERS:
        assert page.get_by_label(label).count() == 1, label
    for name in ("Play/Pause", "Step", "Reset", "Regenerate", "Export CSV", "Export JSON"):
        assert page.get_by_role("button", name=name, exact=True).is_visible(), name
    assert page.get_by_label("Learning rate", exact=True).input_value() == "0.03"
    assert page.get_by_label("Activation", exact=True).input_value() == "tanh"
    assert page.get_by_label("Batch size").input_value() == "10"
    assert page.get_by_test_id("epoch").text_content() == "000,000"
    assert re.fullmatch(r"\d\.\d{3}", page.get_by_test_id("train-loss").text_content())
    assert "#activation=tanh&" in page.url  # the hash follows the setup, in the original's format
    page.wait_for_function("window.Plotly && document.querySelector('#linechart .main-svg') !== null")
    page.screenshot(path=artifacts / "page.png", full_page=True)
    assert page.blocked_requests == []
    assert page.console_errors == []


def test_play_raises_the_epoch_and_changes_the_boundary(page, live_server, artifacts):
    open_playground(page, live_server, "#dataset=spiral&networkShape=6,4&seed=0.3&x=true&y=true&showTestData=true")
    before = boundary_image(page)
    page.get_by_role("button", name="Play/Pause").click()
    wait_for_epoch(page, 20)
    assert header(page, "state") == "playing"
    assert boundary_image(page) != before
    page.get_by_role("button", name="Play/Pause").click()
    page.wait_for_function("window.playground.frame.header.state === 'paused'")
    paused_at = epoch(page)
    page.wait_for_timeout(300)
    assert epoch(page) == paused_at
    page.get_by_role("button", name="Step").click()
    wait_for_epoch(page, paused_at + 1)
    page.screenshot(path=artifacts / "page-trained.png", full_page=True)
    assert page.console_errors == []


def test_learning_rate_changes_mid_run_without_a_reset(page, live_server):
    open_playground(page, live_server)
    page.get_by_role("button", name="Play/Pause").click()
    before = wait_for_epoch(page, 10)
    uid = header(page, "uid")
    page.get_by_label("Learning rate", exact=True).select_option("0.3")
    page.wait_for_function("window.playground.config.learningRate === 0.3")
    assert wait_for_epoch(page, before + 10) >= before + 10
    assert header(page, "uid") == uid and header(page, "state") == "playing"
    assert "learningRate=0.3" in page.url


def test_changing_the_activation_resets(page, live_server):
    open_playground(page, live_server)
    page.get_by_role("button", name="Play/Pause").click()
    wait_for_epoch(page, 10)
    uid = header(page, "uid")
    page.get_by_label("Activation", exact=True).select_option("relu")
    page.wait_for_function("window.playground.frame.header.state === 'paused'")
    assert epoch(page) == 0 and header(page, "uid") != uid
    assert page.get_by_test_id("train-loss").text_content() != ""
    assert "activation=relu" in page.url


def test_a_pasted_playground_link_replays_the_originals_losses(page, live_server):
    open_playground(page, live_server)
    page.get_by_label("Paste a playground link").fill(LINK)
    page.get_by_role("button", name="Load link").click()
    page.wait_for_function("window.playground.config.seed === '0.12345'")
    reference = ReferenceRun(Config.from_url(LINK))
    expected = [reference.initial_losses()] + [reference.train_epoch() for _ in range(3)]
    for step, (train_loss, test_loss) in enumerate(expected):
        if step:
            page.get_by_role("button", name="Step").click()
            wait_for_epoch(page, step)
        assert page.get_by_test_id("train-loss").text_content() == f"{train_loss:.3f}"
        assert page.get_by_test_id("test-loss").text_content() == f"{test_loss:.3f}"
    assert "seed=0.12345" in page.url and "dataset=spiral" in page.url
    # Reloading restores the setup from the hash: same data and first weights, so the same first losses.
    page.reload()
    page.wait_for_function("window.playground && window.playground.frame !== null && window.playground.waitingFor === null")
    assert epoch(page) == 0 and page.evaluate("window.playground.config.seed") == "0.12345"
    assert page.get_by_test_id("train-loss").text_content() == f"{expected[0][0]:.3f}"


def test_export_csv_has_one_row_per_epoch(page, live_server, artifacts):
    open_playground(page, live_server)
    page.get_by_label("Speed").select_option("20")
    page.get_by_role("button", name="Play/Pause").click()
    wait_for_epoch(page, 100)
    page.get_by_role("button", name="Play/Pause").click()
    page.wait_for_function("window.playground.frame.header.state === 'paused'")
    last = epoch(page)
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Export CSV").click()
    path = artifacts / "history.csv"
    download_info.value.save_as(path)
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    assert [int(row["epoch"]) for row in rows] == list(range(last + 1))
    assert set(rows[0]) == {"epoch", "wall_time", "train_loss", "test_loss", "train_accuracy", "test_accuracy"}
    assert f"{float(rows[-1]['train_loss']):.3f}" == page.get_by_test_id("train-loss").text_content()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Export boundary PNG").click()
    assert download_info.value.suggested_filename == "boundary.png"


def test_a_diverging_run_says_so_and_the_page_keeps_working(page, live_server, artifacts):
    open_playground(page, live_server, "#problem=regression&learningRate=10&seed=0.1&networkShape=4,2&x=true&y=true")
    assert page.get_by_label("Learning rate", exact=True).input_value() == "10"
    page.get_by_role("button", name="Play/Pause").click()
    page.wait_for_function("window.playground.frame.header.state === 'diverged'")
    assert "diverged" in page.get_by_test_id("state").text_content()
    page.screenshot(path=artifacts / "page-diverged.png", full_page=True)
    assert page.console_errors == []
    page.get_by_role("button", name="Reset").click()
    page.wait_for_function("window.playground.frame.header.state === 'paused'")
    assert epoch(page) == 0


def test_hovering_a_neuron_shows_it_in_the_big_map(page, live_server):
    open_playground(page, live_server)
    output = boundary_image(page)
    page.get_by_label("Neuron 1 of layer 1").hover()
    page.wait_for_function("JSON.stringify(window.playground.frame.header.focus) === '[1,0]'")
    assert boundary_image(page) != output
    page.mouse.move(0, 0)
    page.wait_for_function("window.playground.frame.header.focus === null")


def test_clicking_a_bias_lets_you_type_a_new_value(page, live_server):
    open_playground(page, live_server)
    page.locator("#network rect.bias").first.click()
    page.get_by_label("New value").fill("-0.8")
    page.get_by_label("New value").press("Enter")
    page.wait_for_function("Math.abs(window.playground.frame.arrays.biases0[0] + 0.8) < 1e-6")


def test_classroom_hide_options_hide_controls(page, live_server):
    open_playground(page, live_server, "#noise_hide=true&batchSize_hide=true&x=true&y=true")
    assert not page.get_by_label("Noise").is_visible()
    assert not page.get_by_label("Batch size").is_visible()
    assert page.get_by_label("Learning rate", exact=True).is_visible()
    assert "noise_hide=true" in page.url


def test_a_bad_link_is_explained_and_the_session_goes_on(page, live_server):
    open_playground(page, live_server, "#learningRate=fast")
    assert "learningRate" in page.get_by_test_id("error").text_content()
    page.get_by_role("button", name="Step").click()
    wait_for_epoch(page, 1)


def test_our_training_options_are_controls_too(page, live_server):
    open_playground(page, live_server, "#dataset=spiral&networkShape=4,2&seed=0.4&x=true&y=true")
    page.get_by_label("Momentum").select_option("0.9")
    page.wait_for_function("window.playground.config.momentum === 0.9")
    assert "momentum=0.9" in page.url
    # Momentum is for SGD: choosing Adam sets it back to 0 first, so nothing is refused.
    page.get_by_label("Optimizer").select_option("adam")
    page.wait_for_function("window.playground.config.optimizer === 'adam'")
    assert page.evaluate("window.playground.config.momentum") == 0
    assert page.get_by_label("Momentum").is_disabled()
    assert page.get_by_test_id("error").text_content() == ""
    page.get_by_label("Initial weights").select_option("xavier")
    page.wait_for_function("window.playground.config.init === 'xavier'")
    page.get_by_label("Reshuffle every epoch").check()
    page.wait_for_function("window.playground.config.reshuffle === true")

    page.get_by_label("Reset restores the same weights").check()
    page.wait_for_function("window.playground.config.sameInitOnReset === true")
    initial = header(page, "train_loss")
    for _ in range(3):
        page.get_by_role("button", name="Step").click()
    wait_for_epoch(page, 3)
    assert header(page, "train_loss") != initial
    page.get_by_role("button", name="Reset").click()
    page.wait_for_function("window.playground.frame.header.epoch === 0")
    assert header(page, "train_loss") == initial
    page.get_by_label("Reset restores the same weights").uncheck()
    page.wait_for_function("window.playground.config.sameInitOnReset === false")
    page.get_by_role("button", name="Reset").click()
    page.wait_for_function(f"window.playground.frame.header.train_loss !== {initial!r}")
    assert page.console_errors == []


def test_each_hidden_layer_can_have_its_own_activation(page, live_server, artifacts):
    open_playground(page, live_server, "#dataset=spiral&networkShape=4,2&activation=tanh&seed=0.4&x=true&y=true")
    assert page.get_by_label("Activation of layer 1").input_value() == "tanh"
    page.get_by_label("Activation of layer 1").select_option("relu")
    page.wait_for_function("window.playground.config.layerActivations.join() === 'relu,tanh'")
    assert "layerActivations=relu,tanh" in page.url
    page.wait_for_function("document.querySelector('[aria-label=\"Activation of layer 1\"]').value === 'relu'")
    # A new layer gets the Activation of the top bar; the others keep theirs.
    page.get_by_role("button", name="Add a hidden layer").click()
    page.wait_for_function("window.playground.config.layerActivations.join() === 'relu,tanh,tanh'")
    page.wait_for_function("document.querySelectorAll('select.layer-activation').length === 3")
    page.screenshot(path=artifacts / "page-layer-activations.png", full_page=True)
    # The top bar's Activation sets every layer.
    page.get_by_label("Activation", exact=True).select_option("sigmoid")
    page.wait_for_function("window.playground.config.layerActivations.length === 0")
    page.wait_for_function("[...document.querySelectorAll('select.layer-activation')].every(s => s.value === 'sigmoid')")
    assert page.get_by_test_id("error").text_content() == ""
    assert page.console_errors == []
