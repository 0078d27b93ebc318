"""The live session: its commands and frames, directly and over /ws on a live server."""
import json
import math

import numpy as np
import pytest

from nn.playground import Config
from nn.playground.session import SPEEDS, Session, parse_frame, quantize

SPIRAL = "#dataset=spiral&networkShape=4,2&learningRate=0.03&batchSize=10&seed=0.5&x=true&y=true"
DIVERGING = "#problem=regression&learningRate=10&seed=0.1&networkShape=4,2&x=true&y=true"


def session_for(url=SPIRAL, **options):
    return Session(Config.from_url(url), **options)


def strict_json(data):
    """json.loads that refuses NaN and Infinity, as a browser's JSON.parse does."""
    def reject(name):
        raise ValueError(f"bare {name} token")
    return json.loads(data, parse_constant=reject)


def header_of(frame):
    length = int.from_bytes(frame[:4], "little")
    return strict_json(frame[4:4 + length])


# ---- frames ----------------------------------------------------------------------------------------------


def test_a_frame_carries_everything_the_page_draws():
    session = session_for()
    header, arrays = parse_frame(session.frame())
    sizes = header["layer_sizes"]
    assert sizes == [2, 4, 2, 1] and header["input_names"] == ["x", "y"]
    assert (header["epoch"], header["state"]) == (0, "paused")
    assert 0 < header["train_loss"] < 1 and 0 <= header["test_accuracy"] <= 1
    assert arrays["boundary"].shape == (100, 100) and arrays["boundary"].dtype == np.uint8
    assert arrays["thumbnails"].shape == (sum(sizes), 10, 10)
    for layer, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        assert arrays[f"weights{layer}"].shape == (n_in, n_out)
        assert arrays[f"biases{layer}"].shape == (n_out,)
        assert arrays[f"dead{layer}"].shape == (n_in, n_out)
    weights, biases = session.run.weights()[0]
    np.testing.assert_allclose(arrays["weights0"], weights, rtol=1e-6)
    np.testing.assert_allclose(arrays["biases0"], biases, rtol=1e-6)
    assert arrays["train"].shape == (250, 3) and arrays["test"].shape == (250, 3)
    assert header["url"] == session.run.cfg.to_url() and header["config"]["dataset"] == "spiral"


def test_the_boundary_is_the_runs_output_quantised():
    session = session_for()
    _, arrays = parse_frame(session.frame())
    expected = quantize(session.run.boundary(100))
    assert np.array_equal(arrays["boundary"], expected)
    assert list(quantize(np.array([-1.0, 0.0, 1.0, -7.0, 7.0, np.nan]))) == [0, 128, 255, 0, 255, 128]


def test_frames_send_data_and_config_only_when_they_change():
    session = session_for()
    session.frame()
    header, arrays = parse_frame(session.frame())
    assert "train" not in arrays and "config" not in header
    session.handle({"cmd": "regenerate"})
    header, arrays = parse_frame(session.frame())
    assert "train" in arrays and "config" in header


def test_frames_carry_each_epochs_losses_once_and_restart_after_reset():
    session = session_for()
    session.frame()
    session.handle({"cmd": "speed", "value": 5})
    session.handle({"cmd": "play"})
    session.frame()  # starts the frame's share of 5 epochs
    assert session.tick(budget=10) == 5
    history = parse_frame(session.frame())[0]["history"]
    assert history["start"] == 1 and history["epoch"] == [1, 2, 3, 4, 5]
    expected = [row["train_loss"] for row in session.run.history.rows(1)]
    assert history["train_loss"] == pytest.approx(expected, rel=1e-5)
    old_uid = session.run.uid
    session.handle({"cmd": "reset"})
    header = parse_frame(session.frame())[0]
    assert header["uid"] != old_uid and header["history"]["start"] == 0 and header["history"]["epoch"] == [0]


def test_focus_shows_one_neuron_full_size():
    session = session_for()
    assert session.handle({"cmd": "focus", "layer": 1, "node": 3}) is None
    header, arrays = parse_frame(session.frame())
    assert header["focus"] == [1, 3]
    assert np.array_equal(arrays["boundary"], quantize(session.run.neuron_maps(100)[1][3]))
    reply = session.handle({"cmd": "focus", "layer": 1, "node": 4})
    assert reply["field"] == "node" and "0..3" in reply["error"]
    session.handle({"cmd": "focus", "layer": None})
    assert parse_frame(session.frame())[0]["focus"] is None


# ---- commands ----------------------------------------------------------------------------------------------


def test_step_trains_one_epoch_and_pauses():
    session = session_for()
    session.handle({"cmd": "play"})
    session.handle({"cmd": "step"})
    assert session.run.epoch == 1 and session.state == "paused"


def test_learning_rate_applies_live_and_activation_resets():
    session = session_for()
    for _ in range(3):
        session.handle({"cmd": "step"})
    uid = session.run.uid
    assert session.handle({"cmd": "set", "field": "learningRate", "value": 0.1}) is None
    assert (session.run.epoch, session.run.uid, session.run.cfg.learningRate) == (3, uid, 0.1)
    session.handle({"cmd": "set", "field": "activation", "value": "relu"})
    assert session.run.epoch == 0 and session.run.uid != uid and session.run.cfg.activation == "relu"


@pytest.mark.parametrize("command, field", [
    ({"cmd": "set", "field": "learningRate", "value": "fast"}, "learningRate"),
    ({"cmd": "set", "field": "batchSize", "value": 0}, "batchSize"),
    ({"cmd": "set", "field": "networkShape", "value": [4, 0]}, "networkShape"),
    ({"cmd": "set", "field": "colour", "value": 1}, "field"),
    ({"cmd": "set", "field": "noise"}, "noise"),
    ({"cmd": "fly"}, "cmd"),
    ({"nothing": 1}, "cmd"),
    ({"cmd": "speed", "value": 3}, "value"),
    ({"cmd": "set_weight", "layer": 0, "source": 2, "dest": 0, "value": 1}, "source"),
    ({"cmd": "set_weight", "layer": 0, "source": 0, "dest": 0, "value": "big"}, "value"),
    ({"cmd": "set_bias", "layer": 3, "node": 0, "value": 1}, "layer"),
    ({"cmd": "load", "url": "#learningRate=fast"}, "learningRate"),
    ({"cmd": "load", "url": 7}, "url"),
    ({"cmd": "load"}, "url"),
    ({"cmd": "data", "csv": "x,y,label\n1,2,7\n3,4,1\n"}, "csv"),
])
def test_bad_commands_are_refused_naming_the_field_and_change_nothing(command, field):
    session = session_for()
    session.handle({"cmd": "step"})
    before = (session.run.uid, session.run.epoch, session.run.cfg, session.speed,
              [w.copy() for w, _ in session.run.weights()])
    reply = session.handle(command)
    assert reply["type"] == "error" and reply["field"] == field, reply
    assert field in reply["error"] or field in ("cmd", "value", "url")
    after = (session.run.uid, session.run.epoch, session.run.cfg, session.speed)
    assert after == before[:4]
    assert all(np.array_equal(a, b) for a, (b, _) in zip(before[4], session.run.weights()))
    header_of(session.frame())  # and the session still makes valid frames


def test_unknown_commands_list_what_is_allowed():
    reply = Session().handle({"cmd": "fly"})
    assert "'fly'" in reply["error"] and "play" in reply["error"] and "set_weight" in reply["error"]


def test_weights_and_biases_can_be_typed_in():
    session = session_for()
    session.handle({"cmd": "set_weight", "layer": 1, "source": 3, "dest": 1, "value": -2.5})
    session.handle({"cmd": "set_bias", "layer": 2, "node": 0, "value": 0.75})
    weights = session.run.weights()
    assert weights[1][0][3, 1] == -2.5 and weights[2][1][0] == 0.75
    _, arrays = parse_frame(session.frame())
    assert arrays["weights1"][3, 1] == -2.5 and arrays["biases2"][0] == 0.75


def test_speed_sets_epochs_per_frame_and_max_fills_the_time_budget():
    session = session_for()
    session.handle({"cmd": "play"})
    session.frame()
    assert session.tick(budget=10) == 1 and session.tick(budget=10) == 0  # the original: one epoch a frame
    session.handle({"cmd": "speed", "value": 20})
    session.frame()
    assert session.tick(budget=10) == 20
    session.handle({"cmd": "speed", "value": "max"})
    session.frame()
    trained = session.tick(budget=0.2)
    assert trained > 20 and session.wants_training
    assert set(SPEEDS) >= {1, "max"}


def test_a_playground_link_loads_the_whole_setup():
    session = Session()
    link = "https://playground.tensorflow.org/" + SPIRAL + "&activation=relu&regularization=L2&noise_hide=true"
    assert session.handle({"cmd": "load", "url": link}) is None
    cfg = session.run.cfg
    assert (cfg.dataset, cfg.activation, cfg.regularization, cfg.seed) == ("spiral", "relu", "L2", "0.5")
    assert "noise" in cfg.hide and session.run.epoch == 0
    assert session.handle({"cmd": "load", "config": {"dataset": "xor", "seed": "0.5"}}) is None
    assert session.run.cfg.dataset == "xor"


def test_same_link_same_run():
    first, second = session_for(), session_for()
    for session in (first, second):
        for _ in range(5):
            session.handle({"cmd": "step"})
    assert first.run.history.rows()[-1]["train_loss"] == second.run.history.rows()[-1]["train_loss"]


def test_own_csv_data_replaces_the_dataset():
    session = session_for()
    rows = "\n".join(f"{x},{-x},{1 if x > 0 else -1}" for x in np.linspace(-5, 5, 40))
    assert session.handle({"cmd": "data", "csv": "x,y,label\n" + rows}) is None
    assert session.run.cfg.dataset == "custom"
    assert len(session.run.train_data) + len(session.run.test_data) == 40
    _, arrays = parse_frame(session.frame())
    assert len(arrays["train"]) + len(arrays["test"]) == 40


def test_history_has_one_row_per_epoch_with_every_column():
    session = session_for()
    for _ in range(4):
        session.handle({"cmd": "step"})
    reply = session.handle({"cmd": "history", "id": 9})
    assert reply["type"] == "history" and reply["id"] == 9
    assert reply["columns"] == ["epoch", "wall_time", "train_loss", "test_loss", "train_accuracy", "test_accuracy"]
    assert [row[0] for row in reply["rows"]] == [0, 1, 2, 3, 4]
    strict_json(json.dumps(reply))


def test_frames_acknowledge_the_last_command():
    session = Session()
    session.handle({"cmd": "set", "field": "learningRate", "value": 0.1, "id": 41})
    assert header_of(session.frame())["ack"] == 41
    assert session.handle({"cmd": "fly", "id": 42})["id"] == 42


def test_divergence_is_a_state_not_a_nan():
    session = session_for(DIVERGING)
    session.handle({"cmd": "speed", "value": 50})
    session.handle({"cmd": "play"})
    session.frame()
    session.tick(budget=10)
    assert session.run.diverged and session.state == "diverged" and not session.playing
    frame = session.frame()
    header = header_of(frame)  # strict: no bare NaN or Infinity anywhere
    assert header["state"] == "diverged" and header["diverged_epoch"] == session.run.diverged_epoch
    assert header["train_loss"] is None or math.isfinite(header["train_loss"])
    reply = session.handle({"cmd": "play"})
    assert reply["type"] == "error" and "diverged" in reply["error"] and not session.playing
    strict_json(json.dumps(session.handle({"cmd": "history"})))
    session.handle({"cmd": "reset"})
    assert session.state == "paused" and session.run.epoch == 0


def test_on_save_gets_the_run_before_it_is_discarded_and_while_training():
    saved = []
    now = [0.0]
    session = session_for(on_save=lambda run: saved.append((run.uid, run.epoch)), save_interval=5,
                          clock=lambda: now[0])
    session.handle({"cmd": "step"})
    uid = session.run.uid
    session.handle({"cmd": "set", "field": "learningRate", "value": 0.1})
    assert saved == []  # a live change discards nothing
    session.handle({"cmd": "reset"})
    assert saved == [(uid, 1)]
    session.handle({"cmd": "set", "field": "activation", "value": "relu"})
    assert len(saved) == 2
    session.handle({"cmd": "play"})
    session.frame()
    now[0] = 6.0
    session.tick(budget=10)
    assert len(saved) == 3 and saved[-1][1] == 1
    session.close()
    assert len(saved) == 4


def test_a_failing_on_save_does_not_break_the_session():
    def broken(run):
        raise RuntimeError("disk full")
    session = session_for(on_save=broken)
    session.handle({"cmd": "reset"})
    session.handle({"cmd": "step"})
    assert session.run.epoch == 1


# ---- over the WebSocket, on a live server ------------------------------------------------------------------


def test_play_streams_frames_with_rising_epochs(connect):
    client = connect()
    header, _ = client.frame()
    assert header["state"] == "paused" and header["epoch"] == 0
    header, _ = client.frame(after=client.send({"cmd": "play"}))
    epochs = [client.frame()[0]["epoch"] for _ in range(10)]
    assert epochs == sorted(epochs) and epochs[-1] > epochs[0]
    header, _ = client.frame(after=client.send({"cmd": "pause"}))
    assert header["state"] == "paused"


def test_learning_rate_changes_mid_run_without_a_reset(connect):
    client = connect()
    client.frame(after=client.send({"cmd": "play"}))
    before, _ = client.frame()
    header, _ = client.frame(after=client.send({"cmd": "set", "field": "learningRate", "value": 0.3}))
    assert header["uid"] == before["uid"] and header["epoch"] >= before["epoch"]
    assert header["config"]["learningRate"] == 0.3 and "learningRate=0.3" in header["url"]
    assert header["state"] == "playing"


def test_bad_messages_get_an_error_and_the_session_goes_on(connect):
    client = connect()
    client.frame()
    client.ws.send("play please")
    reply = client.reply()
    assert reply["type"] == "error" and reply["field"] == "cmd" and "play please" in reply["error"]
    client.send({"cmd": "set", "field": "batchSize", "value": 5000})
    reply = client.reply()
    assert reply["field"] == "batchSize" and "5000" in reply["error"]
    header, _ = client.frame(after=client.send({"cmd": "step"}))
    assert header["epoch"] == 1


def test_a_page_that_stops_drawing_gets_no_more_frames_but_training_goes_on(connect):
    client = connect()
    client.frame()
    client.ws.send(json.dumps({"cmd": "speed", "value": "max"}))
    client.ws.send(json.dumps({"cmd": "play"}))
    client.ws.settimeout(1.5)
    unanswered = []
    try:
        while True:
            message = client.ws.recv()  # read without answering "drawn"
            if isinstance(message, bytes):
                unanswered.append(header_of(message))
    except Exception:  # the timeout: nothing more came
        pass
    assert len(unanswered) <= 2
    client.ws.settimeout(20)
    client.ws.send('{"cmd":"drawn"}')
    client.ws.send('{"cmd":"drawn"}')
    header, _ = client.frame()
    assert header["epoch"] > unanswered[-1]["epoch"] + 50  # trained on while the page was not drawing


def test_every_text_message_is_strict_json_even_when_diverged(connect):
    client = connect()
    client.frame(after=client.send({"cmd": "load", "url": DIVERGING}))
    client.send({"cmd": "speed", "value": 10})
    header, _ = client.frame(after=client.send({"cmd": "play"}))
    while header["state"] != "diverged":
        header, _ = client.frame()
    assert header["diverged_epoch"] is not None and header["train_loss"] is None
    client.send({"cmd": "history"})
    reply = client.reply()  # parsed strictly by the client
    assert reply["rows"][-1][2] is None
    client.send({"cmd": "play"})
    assert "diverged" in client.reply()["error"]
