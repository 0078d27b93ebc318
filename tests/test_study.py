"""Studies: the sweep grammar, running, resuming, Dask giving the pool's results, and the report."""
import os
import re
import sqlite3
import subprocess
import sys

import numpy as np
import pytest

from nn.playground import Config
from nn.playground.cli import main
from nn.playground.report import study_html, study_summary
from nn.playground.runlog import RunLog
from nn.playground.study import StudySpec, run_study, running_study, study_progress

BASE = Config(dataset="xor", networkShape=(3,))


def tiny_spec(**options):
    options = options or {"learningRate": ["0.03,0.3"]}
    return StudySpec.from_options(BASE, options, seeds=2, epochs=20)


def test_grammar_comma_and_space_lists_pairs_and_seeds():
    spec = StudySpec.from_options(BASE, {"learningRate": ["0.003,0.01", "0.03"], "networkShape": ["4", "8,8"],
                                         "regularization": ["none", "L1:0.001", "L2:0.01"],
                                         "activation": ["relu"]}, seeds=3, epochs=10)
    assert [f.name for f in spec.factors] == ["learningRate", "networkShape", "regularization"]
    tasks = spec.tasks()
    assert len(tasks) == 3 * 2 * 3 * 3
    assert {t.config.seed for t in tasks} == {"s0", "s1", "s2"} and {t.config.activation for t in tasks} == {"relu"}
    l1 = [t.config for t in tasks if t.labels["regularization"] == "L1:0.001"]
    assert {(c.regularization, c.regularizationRate) for c in l1} == {("L1", 0.001)}
    assert {t.config.networkShape for t in tasks} == {(4,), (8, 8)}
    assert StudySpec.from_dict(spec.to_dict()).key == spec.key


@pytest.mark.parametrize("options, field", [({"learningRate": ["0.1,x"]}, "learningRate"),
                                            ({"regularization": ["L3:0.1"]}, "regularization"),
                                            ({"learningRate": ["0.1,0.1"]}, "learningRate")])
def test_bad_levels_name_the_field(options, field):
    with pytest.raises(ValueError, match=field):
        tiny_spec(**options)


def test_sweep_runs_resumes_and_reports(tmp_path, capsys):
    db, report = tmp_path / "runs.sqlite", tmp_path / "study.html"
    argv = ["sweep", "--dataset", "xor", "--network-shape", "3", "--learning-rate", "0.03,0.3", "--seeds", "2",
            "--epochs", "20", "--workers", "2", "--db", str(db), "--report", str(report)]
    assert main(argv) == 0
    assert "4 of 4 runs" in capsys.readouterr().out
    assert main(argv) == 0
    assert "4 already there, 0 trained now" in capsys.readouterr().out
    log = RunLog(db)
    assert len(log.list_runs(source="study")) == 4 and len(log.studies()) == 1
    page = report.read_text()
    assert "The best configuration is learning rate" in page and not re.search(r"<script[^>]+src=", page)
    fixed = re.search(r"Fixed settings: <code>([^<]*)</code>", page).group(1)
    assert "dataset=xor" in fixed and "learningRate" not in fixed and "seed" not in fixed  # what was swept


def test_interrupt_keeps_what_finished(tmp_path):
    log = RunLog(tmp_path / "runs.sqlite")
    seen = []

    def stop_after_first(progress):
        seen.append(progress["done"])
        if progress["done"]:
            raise KeyboardInterrupt

    result = run_study(tiny_spec(learningRate=["0.01,0.03,0.3"]), log, workers=1, on_progress=stop_after_first,
                       max_stack=2)
    assert result["interrupted"] and 0 < result["done"] < result["total"]
    assert len(log.list_runs()) == result["done"]
    assert run_study(tiny_spec(learningRate=["0.01,0.03,0.3"]), log, workers=1)["skipped"] == result["done"]


def test_progress_is_read_from_the_log_so_any_process_can_follow(tmp_path):
    log = RunLog(tmp_path / "runs.sqlite")
    spec = tiny_spec(learningRate=["0.01,0.03,0.3"])
    seen = []

    def look(progress):  # what another process reading the log sees while the sweep runs
        seen.append((study_progress(log, progress["study_id"]), running_study(log)))

    result = run_study(spec, log, workers=1, on_progress=look, max_stack=2)
    while_running, running = seen[1]
    assert while_running["state"] == "running" and 0 < while_running["done"] < 6
    assert while_running["eta"] > 0 and running["study_id"] == result["study_id"]
    assert study_progress(log, result["study_id"])["state"] == "finished" and running_study(log) is None

    log.delete([run["id"] for run in log.list_runs()][:2])  # runs deleted on the Runs page
    assert study_progress(log, result["study_id"])["state"] == "incomplete"


def test_a_sweep_that_died_without_a_word_shows_as_failed(tmp_path):
    log = RunLog(tmp_path / "runs.sqlite")
    spec = tiny_spec()
    study_id = log.study(spec.key, spec.to_dict())
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    log.job_started(study_id, int(gone.stdout), 0)  # as a sweep records itself, then killed with -9
    assert study_progress(log, study_id) == {"study_id": study_id, "total": 4, "done": 0, "skipped": 0,
                                              "eta": None, "state": "failed"}
    assert running_study(log) is None  # so a new study may start


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="tells process start times from /proc")
def test_a_reused_pid_does_not_make_a_dead_sweep_look_alive(tmp_path):
    log = RunLog(tmp_path / "runs.sqlite")
    spec = tiny_spec()
    study_id = log.study(spec.key, spec.to_dict())
    log.job_started(study_id, os.getpid(), 0)  # this live process: the sweep's own PID, just recorded
    assert study_progress(log, study_id)["state"] == "running"
    # The same PID, but the job is an hour older than the process: a killed sweep whose PID was reused.
    with sqlite3.connect(log.path) as raw:
        raw.execute("UPDATE study_jobs SET started = started - 3600")
    assert study_progress(log, study_id)["state"] == "failed" and running_study(log) is None


def test_a_run_log_that_refuses_the_job_record_says_why_and_raises_nothing(tmp_path):
    path = tmp_path / "runs.sqlite"
    spec = tiny_spec()
    with RunLog(path) as log:
        study_id = log.study(spec.key, spec.to_dict())
    with RunLog(path, read_only=True) as refusing:
        assert refusing.job_started(study_id, 1, 0) is False
        assert "progress not recorded" in refusing.last_error and "readonly" in refusing.last_error
        assert refusing.job_ended(study_id, 1, "finished") is False
        assert refusing.study_jobs(study_id) == []


def test_an_interrupted_sweep_says_so(tmp_path):
    log = RunLog(tmp_path / "runs.sqlite")

    def stop(progress):
        if progress["done"]:
            raise KeyboardInterrupt

    result = run_study(tiny_spec(), log, workers=1, on_progress=stop, max_stack=1)
    assert study_progress(log, result["study_id"])["state"] == "interrupted"


def test_dask_cluster_gives_the_local_pools_results(tmp_path):
    distributed = pytest.importorskip("distributed")
    spec = tiny_spec()
    local, remote = RunLog(tmp_path / "local.sqlite"), RunLog(tmp_path / "dask.sqlite")
    run_study(spec, local, workers=2)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        result = run_study(spec, remote, scheduler=cluster.scheduler_address)
    assert result["done"] == 4 and not result["failed"]

    def finals(log):
        return {(s["seed"], s["url"]): s["test_loss"] for s in log.list_runs()}
    a, b = finals(local), finals(remote)
    assert a.keys() == b.keys() and np.allclose([a[k] for k in a], [b[k] for k in a], rtol=1e-12)


def test_summary_ranks_by_mean_test_loss_and_counts_divergence(tmp_path):
    log = RunLog(tmp_path / "runs.sqlite")
    spec = StudySpec.from_options(Config(problem="regression", activation="relu", networkShape=(4,)),
                                  {"learningRate": ["0.01,10"]}, seeds=2, epochs=15)
    result = run_study(spec, log, workers=1)
    summary = study_summary(log, result["study_id"])
    assert summary["best"]["levels"] == {"learningRate": "0.01"}
    rows = {row["level"]: row for row in summary["factor_tables"][0]["levels"]}
    assert rows["10"]["diverged"] == 2 and rows["0.01"]["diverged"] == 0
    assert any("diverged" in s and "10 in 2 of 2 runs" in s for s in summary["findings"])
    assert summary["worst_run"]["diverged"]
    assert "Runs diverged" in study_html(summary)
