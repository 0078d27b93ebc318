"""Exports of one run and of several: what a user opens in a spreadsheet, a script or a browser."""
import csv
import io
import json
import re

import numpy as np
import pytest

from nn.playground import Config, Run
from nn.playground import export


@pytest.fixture(scope="module")
def run():
    run = Run(Config(dataset="xor", networkShape=(3,), seed="export"))
    run.train(5)
    return run


def test_history_csv_has_one_row_per_epoch_with_full_precision(run):
    rows = list(csv.DictReader(io.StringIO(export.history_csv(run))))
    assert [int(r["epoch"]) for r in rows] == list(range(6))
    assert list(rows[0]) == list(export.HISTORY_COLUMNS)
    assert np.array_equal([float(r["test_loss"]) for r in rows], run.history.column("test_loss"))


def test_regression_accuracy_is_empty_not_zero():
    run = Run(Config(problem="regression", seed="r"))
    rows = list(csv.DictReader(io.StringIO(export.history_csv(run))))
    assert rows[0]["train_accuracy"] == "" and float(rows[0]["train_loss"]) > 0


def test_json_round_trips_config_and_weights(run):
    data = json.loads(json.dumps(export.run_json(run), allow_nan=False))
    assert Config.from_dict(data["config"]) == run.cfg
    assert Config.from_url(data["url"]) == run.cfg
    assert np.allclose(data["weights"][0]["W"], run.weights()[0][0])
    assert len(data["history"]["epoch"]) == 6


def test_diverged_run_exports_valid_json():
    run = Run(Config(problem="regression", activation="relu", learningRate=10, networkShape=(8, 8), seed="boom"))
    run.train(30)
    assert run.diverged
    json.dumps(export.run_json(run), allow_nan=False)  # NaN would make invalid JSON


def test_html_is_offline_and_shows_the_boundary(run):
    page = export.run_html(run)
    assert not re.search(r"<script[^>]+src=", page)
    assert "Plotly.newPlot" in page and "Decision boundary" in page
    assert "rgb(8,119,189)" in page and "rgb(245,147,34)" in page  # points in the original's blue and orange


def test_spreadsheet_formulas_are_neutralised_but_numbers_kept(run):
    record = {**export.as_record(run), "id": 7, "name": "=HYPERLINK(\"http://x\")"}
    rows = list(csv.reader(io.StringIO(export.runs_wide_csv([record]))))
    assert rows[1][1].startswith("'=")
    assert export.spreadsheet_safe("-1") == "'-1"  # text that looks like a formula
    long_rows = list(csv.DictReader(io.StringIO(export.runs_long_csv([record]))))
    assert {r["metric"] for r in long_rows} == set(export.METRICS)
    assert all(float(r["value"]) == float(r["value"]) for r in long_rows)  # numbers, not quoted text
    assert export._number(-0.5) == "-0.5"


def test_write_export_refuses_paths_outside_the_folder(tmp_path, run):
    for name in ("../evil.csv", "/etc/evil.csv", "sub/../../evil.csv"):
        with pytest.raises(ValueError, match="outside the folder"):
            export.write_export(run, tmp_path, name)
    with pytest.raises(ValueError, match="extension"):
        export.write_export(run, tmp_path, "run.exe")
    path = export.write_export(run, tmp_path, "run.json")
    assert path.parent == tmp_path.resolve() and json.loads(path.read_text())["epochs"] == 5
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]  # no temporary left behind


def test_thumbnail_png_is_a_valid_png(run):
    png = export.png_bytes(export.boundary_rgb(run.boundary(20)))
    assert png.startswith(b"\x89PNG") and png.endswith(b"IEND\xaeB`\x82")
    rgb = export.boundary_rgb(np.array([[-1.0, 0.0, 1.0, np.nan]]))
    assert [tuple(c) for c in rgb[0]] == [(0xf5, 0x93, 0x22), (0xe8, 0xea, 0xeb), (0x08, 0x77, 0xbd),
                                          (0xe8, 0xea, 0xeb)]
