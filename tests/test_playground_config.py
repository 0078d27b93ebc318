"""Config: the original's settings and defaults, validation, and the playground URL format.

tests/fixtures/js_math.json's number_strings are String(number) from node 20 (V8): the numbers in our
links must be written exactly as the original writes them.
"""
import json
import re
import string
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nn.playground.config import (
    ACTIVATIONS, DATASETS, HIDABLE_CONTROLS, INITS, LIMITS, MULTICLASS_DATASETS, REG_DATASETS, Config, js_number,
    js_number_text,
)

JS_MATH = json.loads((Path(__file__).parent / "fixtures" / "js_math.json").read_text())
EXAMPLE_HASH = (
    "activation=tanh&batchSize=10&dataset=spiral&regDataset=reg-plane&learningRate=0.03&regularizationRate=0"
    "&noise=0&networkShape=8,8&seed=0.12345&showTestData=false&discretize=false&percTrainData=50&x=true&y=true"
    "&xTimesY=false&xSquared=false&ySquared=false&cosX=false&sinX=false&cosY=false&sinY=false"
    "&collectStats=false&problem=classification&initZero=false&hideText=false")
EXAMPLE_LINK = "https://playground.tensorflow.org/#" + EXAMPLE_HASH
URL_TEXT_CHARACTERS = [c for c in string.printable if c not in string.whitespace and c not in '"#&<=>`']


def test_defaults_are_the_originals():
    cfg = Config()
    assert (cfg.activation, cfg.regularization, cfg.batchSize, cfg.dataset, cfg.regDataset) == (
        "tanh", None, 10, "circle", "reg-plane")
    assert (cfg.learningRate, cfg.regularizationRate, cfg.noise, cfg.networkShape, cfg.percTrainData) == (
        0.03, 0, 0, (4, 2), 50)
    assert cfg.input_names == ["x", "y"] and cfg.problem == "classification" and cfg.tutorial is None
    assert not (cfg.showTestData or cfg.discretize or cfg.initZero or cfg.hideText or cfg.collectStats)
    assert (cfg.optimizer, cfg.momentum, cfg.loss, cfg.reshuffle, cfg.init, cfg.layerActivations,
            cfg.classes, cfg.sameInitOnReset, cfg.hide) == ("sgd", 0, "square", False, "uniform", (), 2, False,
                                                            frozenset())


def test_default_seed_is_fresh_like_math_random_to_fixed_5():
    seeds = {Config().seed for _ in range(20)}
    assert all(re.fullmatch(r"[01]\.\d{5}", seed) for seed in seeds)
    assert len(seeds) > 1
    assert re.fullmatch(r"[01]\.\d{5}", Config.from_url("activation=relu").seed)


@pytest.mark.parametrize("text", [EXAMPLE_LINK, "#" + EXAMPLE_HASH, EXAMPLE_HASH, f"  {EXAMPLE_LINK}\n"])
def test_from_url_reads_the_example_link(text):
    cfg = Config.from_url(text)
    assert cfg == Config(dataset="spiral", networkShape=(8, 8), seed="0.12345")
    assert cfg.to_url() == EXAMPLE_HASH  # the original's keys in the original's order


def test_from_url_without_a_hash_gives_the_defaults():
    cfg = Config.from_url("https://playground.tensorflow.org/")
    assert cfg == Config(seed=cfg.seed)


def test_from_url_follows_the_originals_parsing():
    cfg = Config.from_url("#learningRate=1e-1&batchSize=0x10&networkShape=&regularization=L1&regularizationRate="
                          "&noise= 15 &x_hide=true&showTestData_hide=false&sinX=true&seed=abc")
    assert cfg.learningRate == 0.1 and cfg.batchSize == 16 and cfg.networkShape == ()
    assert cfg.regularization == "L1" and cfg.regularizationRate == 0 and cfg.noise == 15
    assert cfg.hide == frozenset({"x"}) and cfg.input_names == ["y", "sinX"]  # a hidden input is no input
    assert Config.from_url("regularization=none&seed=a").regularization is None
    assert Config.from_url("networkShape=3, 5,1&seed=a").networkShape == (3, 5, 1)
    assert Config.from_url("seed=a&seed=b").seed == "b"  # the last one wins, as in the original


@pytest.mark.parametrize("pair, key", [
    ("batchSize=abc", "batchSize"), ("batchSize=0", "batchSize"), ("batchSize=2.5", "batchSize"),
    ("batchSize=1001", "batchSize"), ("learningRate=0", "learningRate"), ("learningRate=11", "learningRate"),
    ("learningRate=Infinity", "learningRate"), ("regularizationRate=-1", "regularizationRate"),
    ("activation=softmax", "activation"), ("regularization=L3", "regularization"), ("dataset=moons", "dataset"),
    ("regDataset=reg-maximum", "regDataset"), ("problem=clustering", "problem"), ("noise=55", "noise"),
    ("percTrainData=5", "percTrainData"), ("networkShape=4,0", "networkShape"), ("networkShape=4,x", "networkShape"),
    ("networkShape=" + ",".join(["2"] * 11), "networkShape"), ("networkShape=257", "networkShape"),
    ("x=yes", "x"), ("showTestData=1", "showTestData"), ("seed=" + "9" * 65, "seed"), ("seed=a%", None),
    ("foo=1", "foo"), ("foo_hide=true", "foo_hide"), ("x_hide=maybe", "x_hide"), ("momentum=1", "momentum"),
    ("optimizer=rmsprop", "optimizer"), ("classes=3", "classes"), ("loss=hinge", "loss"),
    ("layerActivations=relu", "layerActivations"), ("layerActivations=relu,foo", "layerActivations"),
    ("init=orthogonal", "init"), ("reshuffle=on", "reshuffle"),
])
def test_bad_url_values_name_the_key(pair, key):
    if key is None:  # allowed after all: '%' travels raw, as in the original
        assert Config.from_url(pair).seed == "a%"
        return
    with pytest.raises(ValueError, match=re.escape(key)):
        Config.from_url(pair)


def test_our_keys_follow_the_originals_only_when_set():
    cfg = Config(seed="s", hide=frozenset({"noise", "x", "playButton"}), optimizer="adam", loss="crossentropy",
                 layerActivations=("relu", "elu"), dataset="spiral", classes=3, tutorial="intro")
    text = cfg.to_url()
    keys = [pair.split("=")[0] for pair in text.split("&")]
    assert keys[keys.index("collectStats") + 1:keys.index("hideText") + 1] == [
        "tutorial", "problem", "initZero", "hideText"]
    assert keys[keys.index("hideText") + 1:] == [
        "playButton_hide", "noise_hide", "x_hide", "optimizer", "loss", "layerActivations", "classes"]
    assert "layerActivations=relu,elu" in text and "regularization" not in keys
    assert Config.from_url(text) == cfg
    assert "optimizer" not in Config(seed="s").to_url()


@pytest.mark.parametrize("value, text", JS_MATH["number_strings"])
def test_numbers_are_written_like_javascript(value, text):
    assert js_number_text(value) == text


def test_js_number_parsing():
    assert js_number(" 12 ") == 12 and js_number("") == 0 and js_number(".5") == 0.5 and js_number("5.") == 5
    assert js_number("0b101") == 5 and js_number("0o17") == 15 and js_number("-Infinity") == float("-inf")
    for text in ["abc", "1_000", "inf", "nan", "1e", "0x", "--1", "1,5"]:
        assert js_number(text) != js_number(text)  # NaN


def url_texts():
    return st.text(alphabet=URL_TEXT_CHARACTERS, min_size=1, max_size=LIMITS["seedLength"][1])


@st.composite
def configs(draw):
    problem = draw(st.sampled_from(["classification", "regression"]))
    dataset = draw(st.sampled_from(DATASETS))
    multiclass = problem == "classification" and dataset in MULTICLASS_DATASETS
    shape = tuple(draw(st.lists(st.integers(1, 256), max_size=10)))
    optimizer = draw(st.sampled_from(["sgd", "adam"]))
    return Config(
        activation=draw(st.sampled_from(ACTIVATIONS)), regularization=draw(st.sampled_from([None, "L1", "L2"])),
        batchSize=draw(st.integers(1, 1000)), dataset=dataset, regDataset=draw(st.sampled_from(REG_DATASETS)),
        learningRate=draw(st.floats(0, 10, exclude_min=True)), regularizationRate=draw(st.floats(0, 10)),
        noise=draw(st.integers(0, 50)), networkShape=shape, seed=draw(url_texts()),
        percTrainData=draw(st.integers(10, 90)), tutorial=draw(st.none() | url_texts()), problem=problem,
        hide=frozenset(draw(st.lists(st.sampled_from(HIDABLE_CONTROLS)))),
        optimizer=optimizer, momentum=draw(st.floats(0, 1, exclude_max=True)) if optimizer == "sgd" else 0.0,
        loss=draw(st.sampled_from(["square", "crossentropy"])) if problem == "classification" else "square",
        init=draw(st.sampled_from(INITS)),
        layerActivations=draw(st.just(()) | st.lists(st.sampled_from(ACTIVATIONS), min_size=len(shape),
                                                      max_size=len(shape)).map(tuple)),
        classes=draw(st.integers(2, 6)) if multiclass else 2,
        **{name: draw(st.booleans()) for name in (
            "showTestData", "discretize", "x", "y", "xTimesY", "xSquared", "ySquared", "cosX", "sinX", "cosY",
            "sinY", "collectStats", "initZero", "hideText", "reshuffle", "sameInitOnReset")},
    )


@settings(max_examples=300, deadline=None)
@given(configs())
def test_url_round_trip(cfg):
    assert Config.from_url(cfg.to_url()) == cfg
    assert Config.from_url("https://playground.tensorflow.org/#" + cfg.to_url()) == cfg


@settings(max_examples=100, deadline=None)
@given(configs())
def test_dict_round_trip_is_json_safe(cfg):
    assert Config.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg


@pytest.mark.parametrize("field, value", [
    ("activation", "softmax"), ("activation", None), ("regularization", "none"), ("batchSize", 0),
    ("batchSize", 10.0), ("batchSize", True), ("dataset", "reg-plane"), ("regDataset", "circle"),
    ("learningRate", 0.0), ("learningRate", float("nan")), ("learningRate", "0.03"), ("regularizationRate", 10.5),
    ("noise", -5), ("noise", 2.5), ("networkShape", (4, 300)), ("networkShape", "4,2"), ("networkShape", (2.5,)),
    ("seed", ""), ("seed", "a b"), ("seed", 12345), ("seed", "a&b"), ("showTestData", "false"), ("x", 1),
    ("percTrainData", 95), ("tutorial", ""), ("problem", "Regression"), ("hide", {"nothing"}),
    ("optimizer", "rmsprop"), ("momentum", 1.0), ("momentum", -0.1), ("loss", "hinge"), ("init", "zeros"),
    ("layerActivations", ("relu",)), ("layerActivations", "relu"), ("classes", 1), ("classes", 7),
    ("sameInitOnReset", None),
])
def test_bad_values_name_the_field_and_value(field, value):
    with pytest.raises(ValueError) as error:
        Config(**{"seed": "s", field: value})
    assert str(error.value).startswith(f"{field}: ")


def test_error_messages_give_the_value_and_what_is_allowed():
    with pytest.raises(ValueError, match=r"^batchSize: 0 is not allowed; expected an integer in 1\.\.1000$"):
        Config(seed="s", batchSize=0)
    with pytest.raises(ValueError, match=r"^activation: 'softmax' is not allowed; allowed: \['relu', 'tanh'"):
        Config(seed="s", activation="softmax")
    with pytest.raises(ValueError, match=r"^learningRate: 0\.0 is not allowed; expected a number in \(0, 10\]$"):
        Config(seed="s", learningRate=0.0)


@pytest.mark.parametrize("settings_, field", [
    ({"classes": 3}, "classes"),  # circle has two classes
    ({"classes": 3, "dataset": "spiral", "problem": "regression"}, "classes"),
    ({"loss": "crossentropy", "problem": "regression"}, "loss"),
    ({"optimizer": "adam", "momentum": 0.9}, "momentum"),
])
def test_combinations_are_checked(settings_, field):
    with pytest.raises(ValueError, match=field):
        Config(seed="s", **settings_)


def test_allowed_combinations():
    assert Config(seed="s", dataset="spiral", classes=6).classes == 6
    assert Config(seed="s", dataset="custom", classes=3).classes == 3
    assert Config(seed="s", momentum=0.9).momentum == 0.9


def test_values_are_normalised():
    cfg = Config(seed="s", networkShape=[3, 3], hide=["x"], layerActivations=["relu", "tanh"], learningRate=1)
    assert cfg.networkShape == (3, 3) and cfg.hide == frozenset({"x"})
    assert cfg.layerActivations == ("relu", "tanh") and type(cfg.learningRate) is float
    hash(cfg)  # frozen and hashable


def test_replace_validates_and_rejects_unknown_names():
    cfg = Config(seed="s")
    assert cfg.replace(batchSize=30).batchSize == 30 and cfg.batchSize == 10
    with pytest.raises(ValueError, match="batchSize"):
        cfg.replace(batchSize=0)
    with pytest.raises(ValueError, match="batch_size"):
        cfg.replace(batch_size=30)


def test_from_dict_rejects_unknown_keys_and_takes_defaults():
    with pytest.raises(ValueError, match="speed"):
        Config.from_dict({"seed": "s", "speed": 3})
    with pytest.raises(ValueError, match="settings"):
        Config.from_dict([("seed", "s")])
    assert Config.from_dict({"seed": "s", "activation": "relu"}) == Config(seed="s", activation="relu")


def test_layer_activations_and_input_names():
    assert Config(seed="s", networkShape=(3, 2, 2), activation="relu").layer_activations == ["relu"] * 3
    cfg = Config(seed="s", networkShape=(3, 2), layerActivations=("elu", "swish"))
    assert cfg.layer_activations == ["elu", "swish"]
    names = Config(seed="s", sinY=True, xTimesY=True, xSquared=True, cosX=True).input_names
    assert names == ["x", "y", "xSquared", "xTimesY", "sinY"]  # the original's order; cosX is no input


def test_limits():
    assert LIMITS["hiddenLayers"] == (0, 10) and LIMITS["neuronsPerLayer"] == (1, 256)
    assert LIMITS["batchSize"] == (1, 1000) and LIMITS["learningRate"] == (0, 10)
    Config(seed="s", networkShape=(256,) * 10, batchSize=1000, learningRate=10, regularizationRate=10,
           noise=50, percTrainData=90)
