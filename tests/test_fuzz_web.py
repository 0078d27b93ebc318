"""Bad input at the web app's doors: WebSocket commands to a live server, and every HTTP route.

Property-based (hypothesis). A refused WebSocket command gets an error reply naming the field, and the session
keeps its state: a harmless command sent right after it is answered by a frame with the same run, epoch,
settings, speed and focus. No HTTP request, however malformed, gets a 500. Each test prints how many inputs it
tried (`pytest -s`); FUZZ_EXAMPLES (environment, default 200) sets how many per door.
"""
from __future__ import annotations

import json
import os
import string
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from app import create_app
from nn.playground import Config, Run
from nn.playground.runlog import RunLog
from nn.playground.config import HIDABLE_CONTROLS
from nn.playground.session import COMMAND_FIELDS, Session

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", 200))
settings.register_profile("fuzz", max_examples=EXAMPLES, deadline=None, database=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                                 HealthCheck.function_scoped_fixture])
FUZZ = settings.get_profile("fuzz")
SETUP = "#dataset=xor&networkShape=3,2&seed=fuzz&learningRate=0.03"


def report(door: str, tried: int):
    print(f"\nfuzz door {door}: {tried} inputs tried")


# ---- hostile JSON values ---------------------------------------------------------------------------------

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**30, 10**30), st.sampled_from([-1, 0, 1, 2, 10**6]),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
                    st.sampled_from(["", "NaN", "1e999", "-1", "relu", "spiral", "x" * 5000, "__proto__"]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                      max_leaves=12)
FIELDS = st.one_of(st.sampled_from(sorted(Config.__dataclass_fields__)), VALUES)
KNOWN = sorted(COMMAND_FIELDS)


@st.composite
def bad_command_objects(draw):
    """A JSON object that is meant to be a command but is not a valid one (checked against a reference)."""
    kind = draw(st.sampled_from(["unknown cmd", "bad arguments", "unknown key", "bad id"]))
    if kind == "unknown cmd":
        command = {"cmd": draw(st.one_of(VALUES, st.text(max_size=20)))}
        command.update(draw(st.dictionaries(st.text(max_size=8), VALUES, max_size=3)))
    else:
        name = draw(st.sampled_from(KNOWN))
        command = {"cmd": name}
        for field in COMMAND_FIELDS[name]:
            if draw(st.booleans()):
                command[field] = draw(FIELDS if field == "field" else VALUES)
        if name == "set" and draw(st.booleans()):
            command["field"] = draw(st.sampled_from(sorted(Config.__dataclass_fields__)))
            command["value"] = draw(VALUES)
        if kind == "unknown key":
            key = draw(st.text(string.ascii_letters, min_size=1, max_size=10))
            assume(key not in (*COMMAND_FIELDS[name], "cmd", "id"))
            command[key] = draw(VALUES)
        elif kind == "bad id":
            command["id"] = draw(st.one_of(st.floats(allow_nan=True, allow_infinity=True)
                                           .filter(lambda f: f != f or abs(f) == float("inf")),
                                           st.lists(VALUES, min_size=1, max_size=2), st.text(min_size=300)))
    return command


RAW_JUNK = st.one_of(
    st.text(max_size=200),
    st.binary(max_size=200),
    st.sampled_from(['{"cmd": "set"', '{"cmd": "set", "field": "learningRate", "value": NaN}', "NaN", "null",
                     "[]", '""', "{}", '{"cmd": null}', "[" * 100_000 + "]" * 100_000, '{"a":' * 50_000,
                     '{"cmd":"play","id":1e999}', '{"cmd":"play"}{"cmd":"play"}', "\ufeff{}", "\x00"]),
    VALUES.filter(lambda v: not isinstance(v, dict)).map(lambda v: json.dumps(v)),
)


def is_refused(command: dict, load_run=None) -> bool:
    """What a fresh session with the same setup (and the server's run log: `load_run`) says about
    `command` (refused: an error reply)."""
    reference = Session(Config.from_url(SETUP), load_run=load_run)
    reply = reference.handle(command)
    return reply is not None and reply.get("type") == "error"


# ---- door 1: WebSocket commands ----------------------------------------------------------------------------

@pytest.fixture
def fast_server(make_live_server, tmp_path):
    # A high frame rate only makes the test quicker: every bad message is followed by a frame check.
    # A run log of its own: runs saved there (a refused change of the network saves the attempt first)
    # make "load_run" of their ids a good command, which the reference session must know too.
    log = RunLog(tmp_path / "fuzz-runs.sqlite")
    server = make_live_server({"PLAYGROUND_FPS": 200, "PLAYGROUND_DB": log.path})
    server.log = log
    yield server
    server.log.close()


def test_bad_websocket_messages_are_refused_and_change_nothing(fast_server, connect):
    client = connect(fast_server.ws_url)
    client.send({"cmd": "load", "url": SETUP})
    client.send({"cmd": "step"})
    probe = client.send({"cmd": "step"})
    before, _ = client.frame(after=probe)
    assert before["epoch"] == 2
    tried = {"objects": 0, "raw": 0}
    probe_id = 10_000

    def state_is_unchanged():
        nonlocal probe_id
        probe_id += 1
        client.ws.send(json.dumps({"cmd": "pause", "id": probe_id}))
        header, _ = client.frame(after=probe_id)
        assert "config" not in header, "a refused command changed the settings"
        for key in ("uid", "epoch", "state", "speed", "focus", "train_loss"):
            assert header[key] == before[key], key

    def refused(message):
        kind, reply, _ = client.receive()
        while kind != "reply":
            kind, reply, _ = client.receive()
        assert reply["type"] == "error", f"{message[:200]!r} was not refused: {reply}"
        assert isinstance(reply["field"], str) and reply["field"], reply
        assert reply["error"], reply
        return reply

    @FUZZ
    @given(command=bad_command_objects())
    def objects(command):
        assume(is_refused(command, load_run=fast_server.log.load_run))
        tried["objects"] += 1
        text = json.dumps(command)  # NaN and Infinity go out as the bare literals JavaScript cannot send
        client.ws.send(text)
        reply = refused(text)
        if isinstance(command.get("id"), int) and isinstance(command.get("cmd"), str):
            assert reply.get("id") == command["id"]
        state_is_unchanged()

    @FUZZ
    @given(message=RAW_JUNK)
    def raw(message):
        tried["raw"] += 1
        if isinstance(message, bytes):
            client.ws.send_binary(message)
        else:
            client.ws.send(message)
        refused(message)
        state_is_unchanged()

    objects()
    raw()
    report("WebSocket commands (objects checked against a reference session)", tried["objects"])
    report("WebSocket raw messages (malformed JSON, binary, deep nesting)", tried["raw"])
    assert tried["objects"] >= min(EXAMPLES, 50) // 2 and tried["raw"] >= min(EXAMPLES, 50)


def test_every_command_declares_its_fields():
    assert sorted(COMMAND_FIELDS) == Session.commands()


def test_a_command_with_an_unknown_key_is_refused_naming_it():
    session = Session(Config.from_url(SETUP))
    reply = session.handle({"cmd": "step", "epochs": 1000, "id": 7})
    assert reply["type"] == "error" and reply["field"] == "epochs" and reply["id"] == 7
    assert session.run.epoch == 0


def test_an_id_that_json_cannot_carry_is_refused():
    session = Session(Config.from_url(SETUP))
    reply = session.handle({"cmd": "step", "id": float("nan")})
    assert reply["type"] == "error" and reply["field"] == "id" and "id" not in reply
    assert session.run.epoch == 0
    json.dumps(reply, allow_nan=False)
    session.frame()  # the frame's "ack" is still JSON


# ---- door 2: the HTTP API ----------------------------------------------------------------------------------

PATH_TEXT = st.one_of(st.text(max_size=30), st.sampled_from(["..", "../app.py", "..%2fapp.py", "%00", "a/../../etc",
                                                            "classification", "regression", "1", "-1", "0",
                                                            "99999999999999999999", "x" * 3000, "js/main.js"]))
BODIES = st.one_of(st.none(), st.binary(max_size=300), VALUES.map(lambda v: json.dumps(v)),
                   st.dictionaries(st.sampled_from(["url", "config", "name", "tags", "notes", "ids", "runs", "sort",
                                                    "format", "filename"]), VALUES, max_size=3)
                   .map(lambda v: json.dumps(v)),
                   st.sampled_from(['{"url": "#networkShape=10000"}', '{"config": {"learningRate": NaN}}',
                                    '{"url": "' + "a" * 100_000 + '"}', "[" * 50_000, '{"config": []}',
                                    '{"config": {"hide": ["nope"]}}', '{"url": "#' + "&x=true" * 5000 + '"}']))
CONTENT_TYPES = st.sampled_from([None, "application/json", "text/plain", "multipart/form-data; boundary=x",
                                 "application/x-www-form-urlencoded", "application/json; charset=utf-7"])
QUERIES = st.dictionaries(st.sampled_from(["sort", "desc", "limit", "tag", "text", "source", "study", "format",
                                           "ids", "page", "token", "q"]), st.one_of(PATH_TEXT, SCALARS.map(str)),
                          max_size=4)


def test_no_http_request_gets_a_500(tmp_path):
    db = tmp_path / "runs.sqlite"
    with RunLog(db) as log:  # runs 1 and 2 exist, so the run routes get past "not found" too
        for seed in ("a", "b"):
            log.save(Run(Config(seed=seed, networkShape=(2,))).train(2))
    app = create_app({"TESTING": False, "PROPAGATE_EXCEPTIONS": False, "PLAYGROUND_DB": str(db)})
    client = app.test_client()
    rules = [rule for rule in app.url_map.iter_rules()]
    tried = 0
    statuses = {}

    @FUZZ
    @given(rule=st.sampled_from(rules), data=st.data(), any_method=st.sampled_from(
        ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]), body=BODIES, content_type=CONTENT_TYPES,
        query=QUERIES)
    def door(rule, data, any_method, body, content_type, query):
        nonlocal tried
        tried += 1
        # Mostly the route's own methods (that is where the code is), sometimes any other.
        method = data.draw(st.sampled_from(sorted(rule.methods - {"OPTIONS", "HEAD"}) or ["GET"]) | st.just(any_method))
        path = rule.rule
        for argument in rule.arguments:
            value = data.draw(PATH_TEXT)
            converter = rule._converters[argument]
            if type(converter).__name__ == "IntegerConverter":
                value = data.draw(st.one_of(st.integers(0, 10**6).map(str), PATH_TEXT))
            path = path.replace(f"<{_placeholder(rule, argument)}>", quote(value, safe="/" if
                                                                             "path" in type(converter).__name__.lower() else ""))
        response = client.open(path, method=method, data=body, content_type=content_type, query_string=query)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        assert response.status_code < 500, f"{method} {path} {body!r:.200} -> {response.status_code}"
        if response.status_code == 400 and path.startswith("/api/") and response.is_json and method != "HEAD":
            assert isinstance(response.get_json().get("error"), str)
        if "static" in rule.endpoint and ".." in path:
            assert response.status_code in (404, 400, 403, 405)

    door()
    report(f"HTTP API ({len(rules)} routes; statuses {dict(sorted(statuses.items()))})", tried)
    assert tried >= min(EXAMPLES, 50)


def _placeholder(rule, argument) -> str:
    """The text between < and > for `argument` in the rule, e.g. "path:filename"."""
    start = rule.rule.index("<")
    for part in rule.rule.split("<")[1:]:
        inside = part.split(">")[0]
        if inside.split(":")[-1] == argument:
            return inside
    raise AssertionError(f"{argument} not in {rule.rule} from {start}")


def test_oversized_http_bodies_are_refused_cleanly(client):
    response = client.post("/api/config/validate", data=b"{" + b" " * (5 * 1024 * 1024) + b"}",
                           content_type="application/json")
    assert response.status_code == 413


def test_a_link_asking_for_10000_neurons_is_refused_naming_the_field(client):
    response = client.post("/api/config/validate", json={"url": "#networkShape=10000"})
    assert response.status_code == 400 and response.get_json()["field"] == "networkShape"
    hidden = client.post("/api/config/validate", json={"url": "#nope_hide=true"})
    assert hidden.status_code == 400 and hidden.get_json()["field"] == "nope_hide"
    assert "nope" not in HIDABLE_CONTROLS
