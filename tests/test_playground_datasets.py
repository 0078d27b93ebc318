"""Datasets, shuffle, split, user CSV data and input features.

The fixture tests/fixtures/playground_datasets.json was made under node 20 by an independent JavaScript
implementation of the original's data rules on seedrandom@2.4.4 with d3@3.5.17's linear scales and V8's
Math (see its "source" field): our points must equal it bit for bit.
"""
import json
import math
from pathlib import Path

import numpy as np
import pytest

from nn.playground import jsmath
from nn.playground.config import Config
from nn.playground.datasets import (
    CLASSIFICATION_DATASETS, REGRESSION_DATASETS, generate, load_csv, make_data, shuffle, split, split_custom,
)
from nn.playground.features import FEATURES, feature_matrix
from nn.playground.seedrandom import SeedRandom

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "playground_datasets.json").read_text())
ALL_DATASETS = CLASSIFICATION_DATASETS + REGRESSION_DATASETS
DRAWS_PER_POINT = {"circle": 4, "xor": 4, "spiral": 2, "reg-plane": 4, "reg-gauss": 4}


def stream_after(seed, draws):
    rng = SeedRandom(seed)
    for _ in range(draws):
        rng.random()
    return rng


@pytest.mark.parametrize("case", FIXTURE["generate"], ids=lambda c: f"{c['name']}-{c['noise']}")
def test_generate_matches_the_original_bit_for_bit(case):
    rng = SeedRandom(case["seed"])
    points = generate(case["name"], case["num_samples"], case["noise"], rng)
    np.testing.assert_array_equal(points, np.array(case["points"]))
    assert rng.random() == case["next_random"]  # and it drew exactly as many numbers


@pytest.mark.parametrize("case", FIXTURE["make_data"], ids=lambda c: f"{c['name']}-{c['noise']}-{c['percTrainData']}")
def test_make_data_matches_the_original(case):
    dataset_field = "dataset" if case["problem"] == "classification" else "regDataset"
    cfg = Config(seed=case["seed"], problem=case["problem"], noise=case["noise"],
                 percTrainData=case["percTrainData"], **{dataset_field: case["name"]})
    rng = SeedRandom(cfg.seed)
    train, test = make_data(cfg, rng)
    assert (len(train), len(test)) == (case["train_count"], case["test_count"])
    np.testing.assert_array_equal(train[:10], case["train_head"])
    np.testing.assert_array_equal(test[:10], case["test_head"])
    np.testing.assert_array_equal(test[-3:], case["test_tail"])
    assert rng.random() == case["next_random"]  # the network's first weight draw comes next


@pytest.mark.parametrize("name", ALL_DATASETS)
def test_shape_labels_and_determinism(name):
    points = generate(name, 200, 0.25, SeedRandom("s"))
    assert points.shape == (200, 3) and points.dtype == np.float64
    np.testing.assert_array_equal(points, generate(name, 200, 0.25, SeedRandom("s")))
    assert not np.array_equal(points, generate(name, 200, 0.25, SeedRandom("t")))
    labels = points[:, 2]
    if name in CLASSIFICATION_DATASETS:
        assert set(labels.tolist()) == {-1.0, 1.0}
    else:
        assert len(set(labels.tolist())) > 100
        bound = 1 if name == "reg-gauss" else (6 + 6 + 2 * 6 * 0.25) / 10  # the plane's noise shifts labels
        assert np.abs(labels).max() <= bound


@pytest.mark.parametrize("name", sorted(DRAWS_PER_POINT))
@pytest.mark.parametrize("noise", [0, 0.3])
def test_draws_per_point_even_without_noise(name, noise):
    rng = SeedRandom("count")
    generate(name, 500, noise, rng)
    assert rng.random() == stream_after("count", 500 * DRAWS_PER_POINT[name]).random()


def test_spiral_points_before_the_shuffle_follow_the_rule():
    points = generate("spiral", 500, 0, SeedRandom("spiral"))
    n = 250
    for i in (0, 1, 2, 100, 249):
        r = i / n * 5
        t = 1.75 * i / n * 2 * math.pi
        assert points[i].tolist() == pytest.approx([r * math.sin(t), r * math.cos(t), 1], abs=1e-12)
        t_negative = t + math.pi
        assert points[n + i].tolist() == pytest.approx(
            [r * math.sin(t_negative), r * math.cos(t_negative), -1], abs=1e-12)


def test_spiral_noise_adds_a_uniform_offset_per_coordinate():
    clean = generate("spiral", 100, 0, SeedRandom("k"))
    rng = SeedRandom("k")
    noisy = generate("spiral", 100, 0.5, rng)
    offsets = noisy[:, :2] - clean[:, :2]
    assert np.abs(offsets).max() <= 0.5 and np.abs(offsets).max() > 0.4
    first_draws = SeedRandom("k").randoms(2)
    assert offsets[0].tolist() == pytest.approx(((first_draws * 2 - 1) * 0.5).tolist(), abs=1e-15)


def test_circle_radii_and_noise_free_labels():
    points = generate("circle", 500, 0, SeedRandom("c"))
    radius = np.hypot(points[:, 0], points[:, 1])
    assert radius[:250].max() <= 2.5 and radius[250:].min() >= 3.5 and radius[250:].max() <= 5
    assert (points[:250, 2] == 1).all() and (points[250:, 2] == -1).all()


def test_circle_noise_flips_labels_but_not_points():
    clean = generate("circle", 500, 0, SeedRandom("c"))
    noisy = generate("circle", 500, 0.5, SeedRandom("c"))
    np.testing.assert_array_equal(clean[:, :2], noisy[:, :2])
    assert (clean[:, 2] != noisy[:, 2]).any()


def test_xor_padding_and_noise_free_labels():
    points = generate("xor", 500, 0, SeedRandom("x"))
    x, y, label = points.T
    assert np.abs(x).min() >= 0.3 and np.abs(y).min() >= 0.3 and np.abs(points[:, :2]).max() <= 5.3
    np.testing.assert_array_equal(label, np.where(x * y >= 0, 1, -1))


def test_gauss_centres_and_variance():
    points = generate("gauss", 4000, 0, SeedRandom("g"))
    positive, negative = points[:2000], points[2000:]
    assert (positive[:, 2] == 1).all() and (negative[:, 2] == -1).all()
    assert positive[:, :2].mean(axis=0) == pytest.approx([2, 2], abs=0.1)
    assert negative[:, :2].mean(axis=0) == pytest.approx([-2, -2], abs=0.1)
    assert positive[:, :2].var() == pytest.approx(0.5, rel=0.1)  # variance 0.5 + 7 * noise
    wide = generate("gauss", 4000, 0.5, SeedRandom("g"))
    assert wide[:2000, :2].var() == pytest.approx(4, rel=0.1)


def test_regression_labels_without_noise():
    plane = generate("reg-plane", 300, 0, SeedRandom("p"))
    np.testing.assert_allclose(plane[:, 2], (plane[:, 0] + plane[:, 1]) / 10, atol=1e-12)
    bumps = generate("reg-gauss", 300, 0, SeedRandom("p"))
    centres = [(-4, 2.5, 1), (0, 2.5, -1), (4, 2.5, 1), (-4, -2.5, -1), (0, -2.5, 1), (4, -2.5, -1)]
    for x, y, label in bumps[:50]:
        terms = [sign * max(0.0, 1 - math.hypot(x - cx, y - cy) / 2) for cx, cy, sign in centres]
        assert label == pytest.approx(max(terms, key=abs), abs=1e-12)


@pytest.mark.parametrize("classes", [3, 4, 5, 6])
def test_multiclass_spiral(classes):
    rng = SeedRandom("K")
    points = generate("spiral", 500, 0, rng, classes=classes)
    per_class = math.ceil(500 / classes)  # the original's "for i < n / K" loop
    assert points.shape == (classes * per_class, 3)
    assert points[:, 2].tolist() == [k for k in range(classes) for _ in range(per_class)]
    assert rng.random() == stream_after("K", 2 * len(points)).random()
    n = 500 / classes
    for k in range(classes):
        i = 7
        r, t = i / n * 5, 1.75 * i / n * 2 * math.pi + 2 * math.pi * k / classes
        assert points[k * per_class + i, :2].tolist() == pytest.approx([r * math.sin(t), r * math.cos(t)], abs=1e-12)


def test_generate_rejects_bad_arguments():
    rng = SeedRandom("bad")
    for kwargs, field in [({"name": "moons"}, "name"), ({"num_samples": 0}, "num_samples"),
                          ({"noise": 25}, "noise"), ({"rng": 1}, "rng"), ({"classes": 7}, "classes"),
                          ({"name": "circle", "classes": 3}, "classes")]:
        arguments = {"name": "spiral", "num_samples": 10, "noise": 0, "rng": rng, **kwargs}
        with pytest.raises(ValueError, match=field):
            generate(**arguments)


def test_shuffle_is_the_originals_fisher_yates():
    points = np.arange(30, dtype=np.float64).reshape(10, 3)
    expected = [tuple(row) for row in points.tolist()]
    reference = SeedRandom("shuffle")
    counter = len(expected)
    while counter > 0:
        index = math.floor(reference.random() * counter)
        counter -= 1
        expected[counter], expected[index] = expected[index], expected[counter]
    rng = SeedRandom("shuffle")
    shuffle(points, rng)
    assert [tuple(row) for row in points.tolist()] == expected
    assert rng.random() == reference.random()  # one draw per row


def test_shuffle_keeps_every_row():
    points = generate("circle", 500, 0.1, SeedRandom("keep"))
    shuffled = points.copy()
    shuffle(shuffled, SeedRandom("other"))
    assert not np.array_equal(points, shuffled)
    assert sorted(map(tuple, points.tolist())) == sorted(map(tuple, shuffled.tolist()))


@pytest.mark.parametrize("count, percent, train_count", [(500, 50, 250), (500, 30, 150), (1200, 70, 840),
                                                          (7, 50, 3), (3, 90, 2)])
def test_split_takes_the_floor(count, percent, train_count):
    points = np.arange(count * 3, dtype=np.float64).reshape(count, 3)
    train, test = split(points, percent)
    assert len(train) == train_count and len(test) == count - train_count
    np.testing.assert_array_equal(np.vstack([train, test]), points)


def test_make_data_sizes_and_choice_of_dataset():
    train, test = make_data(Config(seed="a", dataset="xor", percTrainData=80), SeedRandom("a"))
    assert (len(train), len(test)) == (400, 100)
    expected = generate("xor", 500, 0, SeedRandom("a"))
    assert sorted(map(tuple, np.vstack([train, test]).tolist())) == sorted(map(tuple, expected.tolist()))
    train, test = make_data(Config(seed="a", problem="regression", regDataset="reg-gauss"), SeedRandom("a"))
    assert (len(train), len(test)) == (600, 600)
    train, test = make_data(Config(seed="a", dataset="spiral", classes=4), SeedRandom("a"))
    assert set(np.concatenate([train[:, 2], test[:, 2]]).tolist()) == {0, 1, 2, 3}
    with pytest.raises(ValueError, match="custom"):
        make_data(Config(seed="a", dataset="custom"), SeedRandom("a"))


def test_make_data_uses_noise_over_100():
    train, test = make_data(Config(seed="n", dataset="spiral", noise=40, percTrainData=90), SeedRandom("n"))
    points = generate("spiral", 500, 0.4, SeedRandom("n"))
    shuffle(points, SeedRandom("n"))  # not the same stream position: only compare the point sets
    assert sorted(map(tuple, np.vstack([train, test]).tolist())) == sorted(map(tuple, points.tolist()))


# ---- user data ---------------------------------------------------------------------------------------

def test_load_csv_with_header_blank_lines_and_zero_one_labels():
    points = load_csv("x, y, label\n1.5,-2,1\n\n0,3e2,0\n  -.5 , 4. , 1 \n", "classification")
    np.testing.assert_array_equal(points, [[1.5, -2, 1], [0, 300, -1], [-0.5, 4, 1]])


def test_load_csv_minus_one_labels_and_regression_labels():
    np.testing.assert_array_equal(load_csv("1,2,-1\n3,4,1", "classification"), [[1, 2, -1], [3, 4, 1]])
    np.testing.assert_array_equal(load_csv("1,2,0.25\n3,4,-7", "regression"), [[1, 2, 0.25], [3, 4, -7]])


def test_load_csv_multiclass_labels():
    points = load_csv("0,0,0\n1,1,2\n2,2,1", "classification", classes=3)
    assert points[:, 2].tolist() == [0, 2, 1]
    with pytest.raises(ValueError, match=r"line 2, column label.*0\.\.2"):
        load_csv("0,0,0\n1,1,3", "classification", classes=3)


@pytest.mark.parametrize("text, problem, message", [
    ("1,2,1\n1,2\n", "classification", r"line 2: 2 columns"),
    ("1,2,1\n1,2,1,4\n", "classification", r"line 2: 4 columns"),
    ("1,2,1\n1,abc,1\n", "classification", r"line 2, column y: 'abc' is not a number"),
    ("1,2,1\n1,nan,1\n", "regression", r"line 2, column y: 'nan' is not a number"),
    ("1,2,1\n1e999,2,1\n", "regression", r"line 2, column x: '1e999' is not a finite number"),
    ("1,2,1\n2000000,2,1\n", "regression", r"line 2, column x: 2000000.0 is out of range"),
    ("1,2,1\n1,-1e7,1\n", "regression", r"line 2, column y"),
    ("1,2,1\n", "regression", r"at least 2"),
    ("x,y,label\n", "regression", r"at least 2"),
    ("1,2,1\n1,2,2\n", "classification", r"line 2, column label: 2.0 is not allowed"),
    ("1,2,1\n1,2,0.5\n", "classification", r"line 2, column label"),
    ("1,2,-1\n1,2,1\n1,2,0\n", "classification", r"line 3, column label: 0.0 .*line 1"),
    ("1,2,1\n1,2,0\n1,2,-1\n", "classification", r"line 3, column label: -1.0 .*line 2"),
])
def test_load_csv_errors_name_line_column_and_value(text, problem, message):
    with pytest.raises(ValueError, match=message):
        load_csv(text, problem)


def test_load_csv_limits():
    rows = "".join(f"{i},{i},1\n" for i in range(11))
    assert len(load_csv(rows, "classification", max_rows=11)) == 11
    with pytest.raises(ValueError, match="more than 10 rows"):
        load_csv(rows, "classification", max_rows=10)
    with pytest.raises(ValueError, match="bytes"):
        load_csv(rows, "classification", max_bytes=20)
    with pytest.raises(ValueError, match="problem"):
        load_csv(rows, "clustering")


def test_split_custom_shuffles_a_copy_like_the_original():
    points = load_csv("".join(f"{i},{-i},{1 if i % 2 else -1}\n" for i in range(20)), "classification")
    original = points.copy()
    train, test = split_custom(points, 70, SeedRandom("c"))
    np.testing.assert_array_equal(points, original)
    expected = original.copy()
    shuffle(expected, SeedRandom("c"))
    np.testing.assert_array_equal(np.vstack([train, test]), expected)
    assert (len(train), len(test)) == (14, 6)


# ---- input features ----------------------------------------------------------------------------------

def test_features_order_and_labels_are_the_originals():
    assert list(FEATURES) == ["x", "y", "xSquared", "ySquared", "xTimesY", "sinX", "sinY"]
    assert [label for _, label in FEATURES.values()] == [
        "X_1", "X_2", "X_1^2", "X_2^2", "X_1X_2", "sin(X_1)", "sin(X_2)"]


def test_feature_matrix_values():
    xy = np.array([[1.5, -2.0], [0.0, 3.0], [-4.25, 0.5]])
    matrix = feature_matrix(xy, ["sinY", "x", "xTimesY", "ySquared"])
    assert matrix.shape == (3, 4)
    np.testing.assert_array_equal(matrix[:, 0], [jsmath.sin(y) for y in xy[:, 1]])
    np.testing.assert_array_equal(matrix[:, 1], xy[:, 0])
    np.testing.assert_array_equal(matrix[:, 2], xy[:, 0] * xy[:, 1])
    np.testing.assert_array_equal(matrix[:, 3], xy[:, 1] ** 2)
    assert feature_matrix(xy, []).shape == (3, 0)


def test_feature_matrix_rejects_bad_input():
    with pytest.raises(ValueError, match="names"):
        feature_matrix(np.zeros((2, 2)), ["cosX"])
    with pytest.raises(ValueError, match="xy"):
        feature_matrix(np.zeros((2, 3)), ["x"])
