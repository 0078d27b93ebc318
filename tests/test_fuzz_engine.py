"""Bad input at the engine's doors: the URL hash, CLI options, uploaded CSV and values read back from the run log.

Property-based (hypothesis): every input either works or is refused with a ValueError (exit status 2 for the
CLI) whose message names the offending field, and nothing else ever escapes. Each test counts the inputs it
tried and prints the count (`pytest -s` shows them; docs/robustness.md lists them).

The number of examples per door is FUZZ_EXAMPLES (environment, default 200) so a long fuzzing session is one
variable away: FUZZ_EXAMPLES=5000 python -m pytest tests/test_fuzz_engine.py -s
"""
from __future__ import annotations

import contextlib
import io
import os
import re
import sqlite3

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from nn.playground import Config, Run
from nn.playground.cli import CONFIG_FIELDS, main as cli_main, option_name
from nn.playground.config import HIDABLE_CONTROLS, LIMITS
from nn.playground.datasets import load_csv
from nn.playground.runlog import RunLog, RunLogError
from nn.playground.session import Session

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", 200))
settings.register_profile("fuzz", max_examples=EXAMPLES, deadline=None, database=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
FUZZ = settings.get_profile("fuzz")


def report(door: str, tried: int):
    print(f"\nfuzz door {door}: {tried} inputs tried")


# ---- values a careless or hostile user might type ---------------------------------------------------------

NASTY_NUMBERS = st.sampled_from(["NaN", "nan", "Infinity", "-Infinity", "inf", "1e309", "-1e309", "1e-400",
                                 "-1", "-0", "0", "1e9", "99999999999999999999999", "0x10", "0b2", "1_000",
                                 "", " ", "1,5", "١", "½", "None", "null", "true", "[]", "{}"])
NUMBER_TEXT = st.one_of(NASTY_NUMBERS, st.integers(-10**12, 10**12).map(str),
                        st.floats(allow_nan=True, allow_infinity=True).map(repr))
JUNK_TEXT = st.text(st.characters(blacklist_categories=["Cs"]), max_size=40)
VALUE_TEXT = st.one_of(NUMBER_TEXT, JUNK_TEXT, st.sampled_from(["true", "false", "relu", "L1", "spiral",
                                                               "8,8", "1,2,3,4,5,6,7,8,9,10,11", "256,256",
                                                               "10000", "0,4", "-4", "4,,2", "x" * 200]))
URL_KEYS = st.one_of(st.sampled_from(CONFIG_FIELDS), st.sampled_from([f"{c}_hide" for c in HIDABLE_CONTROLS]),
                     st.sampled_from(["hide", "unknown", "networkshape", "__proto__", "constructor", "a_hide"]),
                     st.text(st.characters(blacklist_characters="&=#", blacklist_categories=["Cs"]), max_size=12))


def leading_field(message: str) -> str | None:
    match = re.match(r"\s*([A-Za-z_][\w]*)\s*[:=]", message)
    return match.group(1) if match else None


# ---- door 3: the URL hash ---------------------------------------------------------------------------------

def test_url_hash_is_parsed_or_refused_naming_the_key():
    tried = 0

    @FUZZ
    @given(pairs=st.lists(st.tuples(URL_KEYS, VALUE_TEXT), max_size=6),
           prefix=st.sampled_from(["", "#", "https://playground.tensorflow.org/#", "http://x/?a=b#"]),
           junk=st.sampled_from(["", "&", "&&", "=", "&=&", "#"]))
    def door(pairs, prefix, junk):
        nonlocal tried
        tried += 1
        text = prefix + "&".join(f"{key}={value}" for key, value in pairs) + junk
        try:
            config = Config.from_url(text)
        except ValueError as error:
            hash_keys = {pair.partition("=")[0] for pair in text.strip().split("#", 1)[-1].split("&")}
            keys = hash_keys | set(CONFIG_FIELDS)
            assert any(str(error).startswith(f"{key}:") for key in keys if key), \
                f"{text!r}: the error does not start with the key: {error}"
            return
        # A link we accept is one we can write back and read again to the same settings.
        assert Config.from_url(config.to_url()) == config
        for name, (low, high) in (("batchSize", LIMITS["batchSize"]), ("noise", LIMITS["noise"])):
            assert low <= getattr(config, name) <= high
        assert len(config.networkShape) <= LIMITS["hiddenLayers"][1]

    door()
    report("URL hash (Config.from_url)", tried)
    assert tried >= min(EXAMPLES, 50)


def test_a_link_asking_for_10000_neurons_is_refused_before_anything_is_built():
    with pytest.raises(ValueError, match=r"^networkShape: .*1\.\.256 neurons"):
        Config.from_url("#networkShape=10000,10000&seed=1")
    with pytest.raises(ValueError, match=r"^networkShape: .*0\.\.10 hidden layers"):
        Config.from_url("#networkShape=" + ",".join(["8"] * 11))


# ---- door 4: CLI options ----------------------------------------------------------------------------------

CLI_VALUE_OPTIONS = [f"--{option_name(field)}" for field in CONFIG_FIELDS] + ["--url", "--seeds", "--csv-data"]


def run_cli(argv):
    """(exit code, stderr) of the CLI; any exception but SystemExit fails the test."""
    errors, output = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(errors), contextlib.redirect_stdout(output):
        try:
            code = cli_main(argv)
        except SystemExit as exit_:
            code = exit_.code
    return code, errors.getvalue()


def test_cli_options_work_or_exit_2_naming_the_option(tmp_path):
    tried = 0
    db = str(tmp_path / "runs.sqlite")

    @FUZZ
    @given(option=st.sampled_from(CLI_VALUE_OPTIONS), value=VALUE_TEXT,
           epochs=st.sampled_from(["1", "0", "-3", "1.5", "one", "", "1e3"]),
           extra=st.sampled_from([[], ["--bogus"], ["--learning"], ["--epochs"], ["--out", "x.exe"]]))
    def door(option, value, epochs, extra):
        nonlocal tried
        tried += 1
        assume(not value.startswith("-") or option != "--url")  # "-x" is read as an option: covered by extra
        command = "train"
        argv = [command, "--db", db, "--quiet", "--epochs", epochs, f"{option}={value}", *extra]
        code, stderr = run_cli(argv)
        assert "Traceback" not in stderr
        if code == 0:
            return
        assert code == 2, f"{argv}: exit {code}: {stderr}"
        refused = re.search(r"error: (.*)", stderr)
        assert refused, f"{argv}: no error message: {stderr!r}"
        message = refused.group(1)
        named = [o for o in (option, "--epochs", *extra) if o.startswith("--") and o in message]
        assert named or "the following arguments are required" in message, f"{argv}: {message}"

    door()
    report("CLI options (cli.main)", tried)
    assert tried >= min(EXAMPLES, 50)


def test_cli_epochs_limit_and_network_limit_are_clear(tmp_path):
    code, stderr = run_cli(["train", "--db", str(tmp_path / "r.sqlite"), "--network-shape", "10000"])
    assert code == 2 and "--network-shape" in stderr and "1..256" in stderr


# ---- door 5: uploaded CSV ---------------------------------------------------------------------------------

CSV_CELL = st.one_of(NUMBER_TEXT, st.sampled_from(["1", "-1", "0", "2", "0.5", "1e6", "1e7", "-1e6", '"1"',
                                                   "=cmd|' /C calc'!A0", "x", "label"]), JUNK_TEXT)
CSV_LINE = st.one_of(st.lists(CSV_CELL, min_size=1, max_size=5).map(",".join),
                     st.tuples(st.floats(-10, 10), st.floats(-10, 10), st.sampled_from(["1", "-1", "0"]))
                     .map(lambda t: f"{t[0]},{t[1]},{t[2]}"))
CSV_TEXT = st.one_of(st.lists(CSV_LINE, max_size=30).map("\n".join),
                     st.lists(CSV_LINE, max_size=30).map("\r\n".join), st.binary(max_size=200).map(
                         lambda b: b.decode("latin-1")))


def test_uploaded_csv_is_loaded_or_refused_naming_line_and_column():
    tried = 0

    @FUZZ
    @given(text=CSV_TEXT, problem=st.sampled_from(["classification", "regression"]), classes=st.sampled_from([2, 3]))
    def door(text, problem, classes):
        nonlocal tried
        tried += 1
        try:
            points = load_csv(text, problem, classes=classes)
        except ValueError as error:
            assert re.match(r"(line \d+(, column (x|y|label))?|text): ", str(error)), str(error)
            return
        assert points.ndim == 2 and points.shape[1] == 3 and len(points) >= 2
        assert np.isfinite(points).all() and (np.abs(points[:, :2]) <= 1e6).all()
        if problem == "classification":
            allowed = {-1.0, 1.0} if classes == 2 else set(map(float, range(classes)))
            assert set(np.unique(points[:, 2])) <= allowed

    door()
    report("uploaded CSV (datasets.load_csv)", tried)
    assert tried >= min(EXAMPLES, 50)


def test_a_refused_upload_leaves_the_session_as_it_was():
    """The same door through the session's "data" command: the run, its epoch and its data are kept."""
    tried = 0
    session = Session(Config(seed="keep", networkShape=(3,)))
    session.run.train(3)
    original = session.run
    before = (original.uid, original.epoch, original.cfg, original.train_data.copy())

    @FUZZ
    @given(text=st.one_of(CSV_TEXT, st.integers(), st.none(), st.lists(st.integers(), max_size=3)))
    def door(text):
        nonlocal tried
        tried += 1
        reply = session.handle({"cmd": "data", "csv": text, "id": tried})
        if reply is None:  # accepted: the session now trains on these points; put the original back
            session.run = original
            return
        assert reply["type"] == "error" and reply["field"] == "csv" and reply["id"] == tried
        assert (session.run.uid, session.run.epoch, session.run.cfg) == before[:3]
        assert np.array_equal(session.run.train_data, before[3])

    door()
    report("uploaded CSV (session data command)", tried)


def test_upload_limits_rows_and_bytes():
    row = "1,1,1\n"
    with pytest.raises(ValueError, match=r"^text: more than 10000 rows"):
        load_csv(row * 10_001, "classification")
    with pytest.raises(ValueError, match=r"^text: \d+ bytes is too large; at most 1000000"):
        load_csv("1" * 1_000_001, "classification")
    assert len(load_csv(row * 10_000, "classification")) == 10_000


# ---- door 6: values read back from the run log --------------------------------------------------------------

LOG_COLUMNS = ("config", "url", "seed", "epochs", "diverged", "diverged_epoch", "train_loss", "test_loss",
               "train_accuracy", "test_accuracy", "history", "weights", "boundary", "data", "tags", "notes", "name")
CELL_VALUES = st.one_of(
    st.none(), st.integers(-2**63, 2**63 - 1), st.floats(allow_nan=True), st.text(max_size=40), st.binary(max_size=64),
    st.sampled_from(["{}", "[]", "null", '{"networkShape": [10000]}', '{"bogus": 1}', '["a", 1]', "NaN",
                     b"\x93NUMPY", b"PK\x03\x04", b"\x93NUMPY\x01\x00v\x00{'descr': '<f8', 'fortran_order': False, "
                     b"'shape': (3,), }" + b" " * 40]))


def test_corrupted_run_log_rows_give_clear_errors_and_the_listing_survives(tmp_path):
    tried = 0
    path = tmp_path / "runs.sqlite"
    log = RunLog(path)
    run = Run(Config(seed="corrupt", networkShape=(2,)))
    run.train(2)
    assert log.save(run) is not None
    raw = sqlite3.connect(path, isolation_level=None)
    (run_id,) = raw.execute("SELECT id FROM runs").fetchone()
    pristine = raw.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
    columns = [c[1] for c in raw.execute("PRAGMA table_info(runs)")]

    @FUZZ
    @given(corruption=st.lists(st.tuples(st.sampled_from(LOG_COLUMNS), CELL_VALUES), min_size=1, max_size=3))
    def door(corruption):
        nonlocal tried
        raw.execute(f"UPDATE runs SET {', '.join(f'{c} = ?' for c in columns)} WHERE id = ?", (*pristine, run_id))
        try:
            for column, value in corruption:
                raw.execute(f"UPDATE runs SET {column} = ? WHERE id = ?", (value, run_id))
        except sqlite3.IntegrityError:
            assume(False)  # NOT NULL refused it: that corruption cannot happen
        tried += 1
        [summary] = log.list_runs()  # the listing survives, and says what is wrong with the row
        assert summary["id"] == run_id
        if "error" in summary:
            assert f"run {run_id}, column " in summary["error"]
        for read in (log.get, log.load_run):
            try:
                read(run_id)
            except RunLogError as error:
                message = str(error)
                assert f"run {run_id}, column " in message, message
                corrupted = {c for c, _ in corruption}
                suspects = corrupted | {other for c in corrupted for other in CHECKED_TOGETHER.get(c, ())}
                assert leading_column(message, run_id) in suspects, message

    door()
    raw.close()
    report("run log values read back (RunLog.list_runs/get/load_run)", tried)
    assert tried >= min(EXAMPLES, 50) // 2


# A cell checked against another: the error may name either.
CHECKED_TOGETHER = {"epochs": ("history",), "config": ("weights", "data", "history"),
                    "diverged": ("weights",), "diverged_epoch": ("weights",)}


def leading_column(message: str, run_id: int) -> str | None:
    match = re.search(rf"run {run_id}, column (\w+)", message)
    return match.group(1) if match else None
