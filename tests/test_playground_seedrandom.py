"""The random stream and JavaScript's Math, checked against numbers from the original's own JavaScript.

Fixtures (tests/fixtures/, made under node 20 with seedrandom@2.4.4; see the "source" field of each):
seedrandom_streams.json: Math.random() after Math.seedrandom(seed) for several seeds;
js_math.json: V8's Math.sin, Math.cos and Math.log on chosen and random arguments.
"""
import json
import math
from pathlib import Path

import numpy as np
import pytest

from nn.playground import jsmath
from nn.playground.seedrandom import SeedRandom

FIXTURES = Path(__file__).parent / "fixtures"
STREAMS = json.loads((FIXTURES / "seedrandom_streams.json").read_text())
JS_MATH = json.loads((FIXTURES / "js_math.json").read_text())


@pytest.mark.parametrize("stream", STREAMS["streams"], ids=lambda stream: repr(stream["seed"][:12]))
def test_stream_matches_seedrandom_2_4_4(stream):
    rng = SeedRandom(stream["seed"])
    values = [rng.random() for _ in range(max(STREAMS["deep_indices"]) + 1)]
    assert values[:STREAMS["first_count"]] == stream["first"]
    assert [values[i] for i in STREAMS["deep_indices"]] == stream["deep"]


def test_fixture_covers_empty_unicode_and_long_seeds():
    seeds = [stream["seed"] for stream in STREAMS["streams"]]
    assert "" in seeds
    assert any(any(ord(c) > 0xFFFF for c in seed) for seed in seeds)  # a surrogate pair in UTF-16
    assert any(len(seed) > 256 for seed in seeds)  # the key wraps around


def test_randoms_are_the_next_random_values():
    reference = SeedRandom("abc")
    expected = [reference.random() for _ in range(20)]
    values = SeedRandom("abc").randoms(20)
    assert values.dtype == np.float64 and values.shape == (20,)
    assert values.tolist() == expected


def test_values_lie_in_unit_interval_and_vary():
    values = SeedRandom("range").randoms(5000)
    assert values.min() >= 0 and values.max() < 1
    assert 0.45 < values.mean() < 0.55
    assert len(set(values.tolist())) == 5000


def test_same_seed_same_stream_and_different_seeds_differ():
    assert SeedRandom("x").randoms(10).tolist() == SeedRandom("x").randoms(10).tolist()
    assert SeedRandom("x").randoms(10).tolist() != SeedRandom("y").randoms(10).tolist()


def test_uniform_is_random_times_width_plus_low_in_that_order():
    rng, reference = SeedRandom("u"), SeedRandom("u")
    for a, b in [(-1, 1), (0, 2 * math.pi), (3.5, 5), (-6, 6)]:
        assert rng.uniform(a, b) == reference.random() * (b - a) + a


def test_normal_is_marsaglia_polar_with_the_original_draw_order():
    rng, reference = SeedRandom("n"), SeedRandom("n")
    rejected = 0
    for _ in range(200):
        value = rng.normal(2, 0.5)
        while True:
            v1 = 2 * reference.random() - 1
            v2 = 2 * reference.random() - 1
            s = v1 * v1 + v2 * v2
            if s <= 1:
                break
            rejected += 1
        assert value == 2 + math.sqrt(0.5) * (math.sqrt(-2 * jsmath.log(s) / s) * v1)
    assert rejected > 0  # the rejection loop was exercised
    assert rng.random() == reference.random()  # and both streams are at the same place


def test_seed_must_be_a_string():
    with pytest.raises(ValueError, match="seed"):
        SeedRandom(12345)


@pytest.mark.parametrize("function", ["sin", "cos"])
def test_trig_matches_v8(function):
    column = 1 if function == "sin" else 2
    mismatches = [row for row in JS_MATH["trig"]
                  if abs(row[0]) < 8e5 and getattr(jsmath, function)(row[0]) != row[column]]
    assert mismatches == []


def test_log_matches_v8():
    assert [row for row in JS_MATH["log"] if jsmath.log(row[0]) != row[1]] == []


def test_fixture_catches_the_c_library_difference():
    # The fixture is only useful if the C library differs from V8 on some of its arguments.
    assert any(math.log(x) != expected for x, expected in JS_MATH["log"])
    assert any(math.sin(x) != expected for x, expected, _ in JS_MATH["trig"])


def test_special_values():
    assert jsmath.log(0) == -math.inf
    assert math.isnan(jsmath.log(-1))
    assert math.isnan(jsmath.sin(math.inf)) and math.isnan(jsmath.cos(math.nan))
    assert jsmath.sin(0.0) == 0.0 and jsmath.cos(0.0) == 1.0
