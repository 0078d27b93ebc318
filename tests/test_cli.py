"""`python -m nn.playground train`: exports from the full history, the run log, clear errors."""
import csv
import json
import re

import pytest

from nn.playground import Config
from nn.playground.cli import main
from nn.playground.runlog import RunLog

LINK = "https://playground.tensorflow.org/#activation=tanh&dataset=xor&networkShape=4,2&seed=0.5&learningRate=0.3"


def test_train_writes_csv_json_html_and_logs_the_run(tmp_path, capsys):
    db = tmp_path / "runs.sqlite"
    code = main(["train", "--url", LINK, "--learning-rate", "0.1", "--network-shape", "3", "--epochs", "12",
                 "--out", str(tmp_path / "run.csv"), "--out", str(tmp_path / "run.json"),
                 "--out", str(tmp_path / "run.html"), "--db", str(db)])
    assert code == 0
    rows = list(csv.DictReader((tmp_path / "run.csv").open()))
    assert [int(r["epoch"]) for r in rows] == list(range(13))
    saved = json.loads((tmp_path / "run.json").read_text())
    cfg = Config.from_dict(saved["config"])
    assert (cfg.learningRate, cfg.networkShape, cfg.dataset, cfg.seed) == (0.1, (3,), "xor", "0.5")  # option wins
    assert float(rows[-1]["test_loss"]) == saved["final"]["test_loss"]
    page = (tmp_path / "run.html").read_text()
    assert not re.search(r"<script[^>]+src=[\"']?https?:", page)
    out = capsys.readouterr()
    assert "epochs      12" in out.out and "test loss" in out.out and "playground  https://" in out.out
    assert "12/12 epochs" in out.err  # the progress bar
    [summary] = RunLog(db).list_runs()
    assert summary["epochs"] == 12 and summary["source"] == "cli"


def test_train_on_own_csv_data(tmp_path, capsys):
    data = tmp_path / "points.csv"
    data.write_text("x,y,label\n" + "\n".join(f"{i % 7 - 3},{i % 5 - 2},{1 if i % 2 else -1}" for i in range(30)))
    assert main(["train", "--csv-data", str(data), "--epochs", "3", "--db", str(tmp_path / "r.sqlite"),
                 "--quiet"]) == 0
    assert RunLog(tmp_path / "r.sqlite").list_runs()[0]["config"]["dataset"] == "custom"


@pytest.mark.parametrize("options, message", [
    (["--learning-rate", "fast"], "--learning-rate"),
    (["--network-shape", "8,x"], "--network-shape"),
    (["--dataset", "moons"], "--dataset"),
    (["--epochs", "0"], "--epochs"),
    (["--url", "#noise=abc"], "--url"),
    (["--out", "run.xlsx"], "--out"),
    (["--regularization", "L3"], "--regularization"),
])
def test_bad_options_exit_2_naming_the_option(tmp_path, capsys, options, message):
    with pytest.raises(SystemExit) as exit_:
        main(["train", "--db", str(tmp_path / "r.sqlite"), *options])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_export_and_report_commands(tmp_path, capsys):
    db = str(tmp_path / "runs.sqlite")
    for seed in ("a", "b"):
        main(["train", "--seed", seed, "--epochs", "2", "--db", db, "--quiet"])
    assert main(["export", "--runs", "1,2", "--out", str(tmp_path / "runs.csv"), "--db", db]) == 0
    rows = list(csv.DictReader((tmp_path / "runs.csv").open()))
    assert {r["run_id"] for r in rows} == {"1", "2"} and {r["metric"] for r in rows} >= {"test_loss"}
    with pytest.raises(SystemExit) as exit_:
        main(["export", "--runs", "1,99", "--out", str(tmp_path / "x.csv"), "--db", db])
    assert exit_.value.code == 2 and "run 99" in capsys.readouterr().err
