"""The run log keeps every attempt: round trip, migrations, several writers, refusing databases."""
import multiprocessing
import sqlite3

import numpy as np
import pytest

from nn.playground import Config, Run
from nn.playground.runlog import MIGRATIONS, SCHEMA_VERSION, RunLog, RunLogError


def trained(seed="log", epochs=5, **settings):
    run = Run(Config(dataset="circle", networkShape=(3,), seed=seed, **settings))
    run.train(epochs)
    return run


def test_round_trip_save_list_get_update_delete_load(tmp_path):
    log = RunLog(tmp_path / "runs.sqlite")
    run = trained()
    run_id = log.save(run, name="first", source="cli")
    assert log.save(run) == run_id  # same attempt: updated, not duplicated
    run.train(3)
    assert log.save(run) == run_id
    [summary] = log.list_runs()
    assert summary["epochs"] == 8 and summary["name"] == "first" and summary["source"] == "cli"
    assert summary["test_loss"] == pytest.approx(run.history.last()["test_loss"])
    record = log.get(run_id)
    assert np.array_equal(record["history"]["test_loss"], run.history.column("test_loss"))
    assert np.array_equal(record["weights"][0][0], run.weights()[0][0])

    loaded = log.load_run(run_id)
    assert loaded.cfg == run.cfg and loaded.epoch == 8
    assert all(np.array_equal(a, b) for (a, _), (b, _) in zip(loaded.weights(), run.weights()))
    assert np.array_equal(loaded.history.column("train_loss"), run.history.column("train_loss"))
    assert np.array_equal(loaded.train_data, run.train_data)
    assert np.allclose(loaded.boundary(50), run.boundary(50))

    log.update_meta(run_id, name="=cmd", tags=["spiral", "good"], notes="lr too high")
    assert log.list_runs(tag="good")[0]["notes"] == "lr too high"
    with pytest.raises(RunLogError, match="tags"):
        log.update_meta(run_id, tags="not a list")
    other = log.save(trained(seed="other"))
    assert [s["id"] for s in log.list_runs(sort="id", descending=False)] == [run_id, other]
    assert log.delete([run_id]) == 1
    assert [s["id"] for s in log.list_runs()] == [other]
    with pytest.raises(RunLogError, match=f"run {run_id}: no such run"):
        log.get(run_id)


def test_custom_data_comes_back_with_the_same_split(tmp_path):
    rng = np.random.default_rng(0)
    points = np.column_stack([rng.uniform(-5, 5, (40, 2)), rng.choice([-1.0, 1.0], 40)])
    run = Run(Config(dataset="custom", seed="c"), data=points)
    run.train(2)
    log = RunLog(tmp_path / "runs.sqlite")
    loaded = log.load_run(log.save(run))
    assert np.array_equal(loaded.train_data, run.train_data) and np.array_equal(loaded.test_data, run.test_data)


def test_corrupted_row_names_run_and_column_and_listing_survives(tmp_path):
    path = tmp_path / "runs.sqlite"
    log = RunLog(path)
    good, bad = log.save(trained(seed="a")), log.save(trained(seed="b"))
    with sqlite3.connect(path) as raw:
        raw.execute("UPDATE runs SET config = '{\"learningRate\": -1}' WHERE id = ?", (bad,))
        raw.execute("UPDATE runs SET history = x'00ff' WHERE id = ?", (good,))
    summaries = {s["id"]: s for s in log.list_runs()}
    assert "error" not in summaries[good]
    assert f"run {bad}, column config" in summaries[bad]["error"] and "learningRate" in summaries[bad]["error"]
    with pytest.raises(RunLogError, match=f"run {good}, column history"):
        log.get(good)


def test_migrates_an_older_schema_and_keeps_its_rows(tmp_path):
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as raw:  # a version-1 database, as the first release wrote it
        raw.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        raw.execute("INSERT INTO schema_version VALUES (1)")
        for statement in MIGRATIONS[0]:
            raw.execute(statement)
    RunLog(path).close()  # nothing to carry yet: the structure is upgraded
    log = RunLog(path)
    assert log.schema_version() == SCHEMA_VERSION
    run_id = log.save(trained())
    log.update_meta(run_id, name="after migration")
    assert log.get(run_id)["name"] == "after migration"


def test_refuses_a_newer_schema(tmp_path):
    path = tmp_path / "new.sqlite"
    RunLog(path).close()
    with sqlite3.connect(path) as raw:
        raw.execute("UPDATE schema_version SET version = 99")
    with pytest.raises(RunLogError, match="newer"):
        RunLog(path)


def test_read_only_database_does_not_raise_into_training(tmp_path):
    path = tmp_path / "runs.sqlite"
    RunLog(path).save(trained(seed="kept"))
    log = RunLog(path, read_only=True)
    run = trained(seed="new")
    assert log.save(run) is None
    assert "not saved" in log.last_error and "readonly" in log.last_error
    assert len(log.list_runs()) == 1  # reading still works
    run.train(1)  # and training goes on


def test_full_disk_does_not_raise_into_training(tmp_path):
    log = RunLog(tmp_path / "runs.sqlite")
    log._conn.execute("PRAGMA max_page_count = 1")  # the database may not grow: as a full disk
    assert log.save(trained()) is None
    assert "full" in log.last_error


def _writer(path, seed_prefix, count):
    log = RunLog(path)
    for i in range(count):
        assert log.save(trained(seed=f"{seed_prefix}{i}", epochs=1)) is not None, log.last_error


def test_concurrent_writers_lose_nothing(tmp_path):
    path = tmp_path / "runs.sqlite"
    RunLog(path).close()
    context = multiprocessing.get_context("fork")
    writers = [context.Process(target=_writer, args=(path, f"w{w}-", 8)) for w in range(3)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(60)
    assert [w.exitcode for w in writers] == [0, 0, 0]
    log = RunLog(path)
    assert len(log.list_runs()) == 24
    assert log._conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
