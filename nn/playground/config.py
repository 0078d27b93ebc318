"""Every setting of a playground run, named and defaulted as the original's URL state (src/state.ts).

`Config` is frozen and validated on construction: a bad value raises ValueError naming the field, the
value and what is allowed. It reads and writes the original's URL hash (docs/url-format.md), so a link
from playground.tensorflow.org opens here and our links open there (our own keys are written only when
they differ from their defaults, and the original ignores keys it does not know).

Our limits are wider than the original's controls (it never range-checks its hash; we do): see LIMITS.
"""
import dataclasses
import math
import numbers
import random
import re
from decimal import Decimal
from types import MappingProxyType

from nn.playground.features import FEATURES

ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear", "leakyrelu", "elu", "softplus", "swish")
REGULARIZATIONS = (None, "L1", "L2")
DATASETS = ("circle", "xor", "gauss", "spiral", "custom")
REG_DATASETS = ("reg-plane", "reg-gauss", "custom")
PROBLEMS = ("classification", "regression")
OPTIMIZERS = ("sgd", "adam")
LOSSES = ("square", "crossentropy")
INITS = ("uniform", "xavier", "he")
MULTICLASS_DATASETS = ("spiral", "custom")
# Controls a classroom link can hide with `<control>_hide=true`: the original's HIDABLE_CONTROLS, then the
# input features (a hidden feature is removed from the network's inputs, as in the original).
HIDABLE_CONTROLS = (
    "showTestData", "discretize", "playButton", "stepButton", "resetButton", "learningRate", "activation",
    "regularization", "regularizationRate", "problem", "dataset", "percTrainData", "noise", "batchSize",
    "numHiddenLayers", *FEATURES,
)

# Bounds of every numeric setting, (low, high), both ends included except learningRate's low end (> 0)
# and momentum's high end (< 1). The original's own controls: 0..6 hidden layers of 1..8 neurons, batch
# size 1..30, learning rate 0.00001..10.
LIMITS = MappingProxyType({
    "hiddenLayers": (0, 10),
    "neuronsPerLayer": (1, 256),
    "batchSize": (1, 1000),
    "learningRate": (0, 10),
    "regularizationRate": (0, 10),
    "noise": (0, 50),
    "percTrainData": (10, 90),
    "momentum": (0, 1),
    "classes": (2, 6),
    "seedLength": (1, 64),
})

# Seeds and tutorial names travel raw in the URL hash (the original never percent-decodes them), so they
# may not contain the hash's separators (& =), '#', spaces, or the characters browsers percent-encode.
_URL_TEXT = re.compile(r"[!$%'()*+,\-./0-9:;?@A-Z\[\\\]^_a-z{|}~]+")
_URL_TEXT_RULE = "printable ASCII without spaces or any of \" # & < = > `"


def _fresh_seed() -> str:
    # The original's Math.random().toFixed(5) for a link without a seed: deliberately not reproducible.
    return f"{random.random():.5f}"


@dataclasses.dataclass(frozen=True)
class Config:
    # The original's settings, in the original's URL order.
    activation: str = "tanh"
    regularization: str | None = None
    batchSize: int = 10
    dataset: str = "circle"
    regDataset: str = "reg-plane"
    learningRate: float = 0.03
    regularizationRate: float = 0.0
    noise: int = 0
    networkShape: tuple[int, ...] = (4, 2)
    seed: str = dataclasses.field(default_factory=_fresh_seed)
    showTestData: bool = False
    discretize: bool = False
    percTrainData: int = 50
    x: bool = True
    y: bool = True
    xTimesY: bool = False
    xSquared: bool = False
    ySquared: bool = False
    cosX: bool = False  # in the original's URL but never an input; kept so links round-trip
    sinX: bool = False
    cosY: bool = False  # likewise
    sinY: bool = False
    collectStats: bool = False
    tutorial: str | None = None
    problem: str = "classification"
    initZero: bool = False
    hideText: bool = False
    hide: frozenset[str] = frozenset()
    # Ours; the defaults keep the original's behaviour.
    optimizer: str = "sgd"
    momentum: float = 0.0
    loss: str = "square"
    reshuffle: bool = False
    init: str = "uniform"
    layerActivations: tuple[str, ...] = ()
    classes: int = 2
    sameInitOnReset: bool = False

    def __post_init__(self):
        for field in dataclasses.fields(self):
            # Checks return the value normalised (e.g. a list to a tuple); frozen, so set it directly.
            checked = _FIELD_CHECKS[field.name](field.name, getattr(self, field.name))
            object.__setattr__(self, field.name, checked)
        self._check_combinations()

    def _check_combinations(self):
        if self.layerActivations and len(self.layerActivations) != len(self.networkShape):
            raise ValueError(f"layerActivations: {list(self.layerActivations)} is not allowed; expected one "
                             f"activation per hidden layer ({len(self.networkShape)}) or none")
        if self.classes > 2 and (self.problem != "classification" or self.dataset not in MULTICLASS_DATASETS):
            raise ValueError(f"classes: {self.classes} is not allowed with problem {self.problem!r} and dataset "
                             f"{self.dataset!r}; more than 2 classes need classification of "
                             f"{' or '.join(MULTICLASS_DATASETS)}")
        if self.loss == "crossentropy" and self.problem != "classification":
            raise ValueError(f"loss: 'crossentropy' is not allowed with problem {self.problem!r}; "
                             "it is for classification")
        if self.momentum != 0 and self.optimizer != "sgd":
            raise ValueError(f"momentum: {self.momentum!r} is not allowed with optimizer {self.optimizer!r}; "
                             "momentum is for 'sgd'")

    # ---- derived views ------------------------------------------------------------------------------

    @property
    def input_names(self) -> list[str]:
        """The enabled, not hidden input features in the original's order (the order of input nodes)."""
        return [name for name in FEATURES if getattr(self, name) and name not in self.hide]

    @property
    def layer_activations(self) -> list[str]:
        """The activation of each hidden layer: layerActivations if given, else `activation` for all."""
        return list(self.layerActivations) or [self.activation] * len(self.networkShape)

    def replace(self, **changes) -> "Config":
        """A copy with `changes` applied, validated like a new Config."""
        unknown = sorted(set(changes) - _FIELD_NAMES)
        if unknown:
            raise ValueError(f"{', '.join(unknown)}: unknown setting; allowed: {sorted(_FIELD_NAMES)}")
        return dataclasses.replace(self, **changes)

    # ---- JSON ---------------------------------------------------------------------------------------

    def to_dict(self) -> dict:
        """JSON-safe {field: value}; tuples become lists, `hide` a list in HIDABLE_CONTROLS order."""
        result = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.name == "hide":
                value = [name for name in HIDABLE_CONTROLS if name in value]
            elif isinstance(value, tuple):
                value = list(value)
            result[field.name] = value
        return result

    @classmethod
    def from_dict(cls, settings: dict) -> "Config":
        """The Config of a to_dict() result; missing fields take their defaults, unknown ones raise."""
        if not isinstance(settings, dict):
            raise ValueError(f"settings: {settings!r} is not allowed; expected a dict of field: value")
        unknown = sorted(set(settings) - _FIELD_NAMES)
        if unknown:
            raise ValueError(f"{', '.join(map(str, unknown))}: unknown setting; allowed: {sorted(_FIELD_NAMES)}")
        return cls(**settings)

    # ---- URL ----------------------------------------------------------------------------------------

    @classmethod
    def from_url(cls, text: str) -> "Config":
        """The Config of a playground link, its hash (with or without '#'), or one of our links.

        Parsed like the original's state.ts: `key=value` pairs joined by '&'; a key without a value (or
        with a blank one) takes its default (a missing seed means a fresh one); numbers read with
        JavaScript's Number(); networkShape "4,2" ("" = no hidden layers); `<control>_hide=true`.
        Stricter than the original: booleans must be "true" or "false", names must be known, values must
        be in range, and unknown keys raise. The error names the key.
        """
        if not isinstance(text, str):
            raise ValueError(f"text: {text!r} is not allowed; expected a playground link or its hash")
        text = text.strip()
        if "#" in text:
            hash_text = text.split("#", 1)[1]
        elif "://" in text:
            hash_text = ""  # a link without a hash: the original's defaults
        else:
            hash_text = text
        values = {}
        for pair in hash_text.split("&"):
            key, _, value = pair.partition("=")
            if key:
                values[key] = value  # a repeated key: the last one wins, as in the original
        settings = {}
        hidden = set()
        for key, value in values.items():
            if key.endswith(_HIDE_SUFFIX):
                control = key[:-len(_HIDE_SUFFIX)]
                if control not in HIDABLE_CONTROLS:
                    raise ValueError(f"{key}: {control!r} is not a control that can be hidden; "
                                     f"allowed: {list(HIDABLE_CONTROLS)}")
                if _parse_bool(key, value):
                    hidden.add(control)
                continue
            if key not in _URL_PARSERS:
                raise ValueError(f"{key}: unknown key (value {value!r}); "
                                 f"allowed: {list(_URL_PARSERS)} and <control>_hide")
            if value.strip() == "" and key not in _ARRAY_KEYS:
                continue  # blank: the default, as the original's hasKey()
            settings[key] = _URL_PARSERS[key](key, value)
        if hidden:
            settings["hide"] = frozenset(hidden)
        return cls(**settings)

    def to_url(self) -> str:
        """The URL hash (without '#'): the original's keys in its order, then `<control>_hide=true`,
        then our keys that differ from their defaults. Numbers as JavaScript prints them."""
        pairs = []
        for name in _ORIGINAL_KEYS:
            value = getattr(self, name)
            if value is not None:  # the original omits unset values (regularization, tutorial)
                pairs.append(f"{name}={_url_text(value)}")
        pairs += [f"{name}{_HIDE_SUFFIX}=true" for name in HIDABLE_CONTROLS if name in self.hide]
        for name in _OUR_KEYS:
            value = getattr(self, name)
            if value != _DEFAULTS[name]:
                pairs.append(f"{name}={_url_text(value)}")
        return "&".join(pairs)


# ---- validation -------------------------------------------------------------------------------------

def _choice(allowed):
    def check(name, value):
        if not isinstance(value, (str, type(None))) or value not in allowed:
            raise ValueError(f"{name}: {value!r} is not allowed; allowed: {list(allowed)}")
        return value
    return check


def _boolean(name, value):
    if not isinstance(value, bool):
        raise ValueError(f"{name}: {value!r} is not allowed; expected true or false")
    return value


def _integer(low, high):
    def check(name, value):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not low <= value <= high:
            raise ValueError(f"{name}: {value!r} is not allowed; expected an integer in {low}..{high}")
        return int(value)
    return check


def _real(low, high, low_open=False, high_open=False):
    low_ok = (lambda v: v > low) if low_open else (lambda v: v >= low)
    high_ok = (lambda v: v < high) if high_open else (lambda v: v <= high)
    interval = f"{'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"

    def check(name, value):
        if (isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value)
                or not (low_ok(value) and high_ok(value))):
            raise ValueError(f"{name}: {value!r} is not allowed; expected a number in {interval}")
        return float(value)
    return check


def _url_safe_text(optional):
    low, high = LIMITS["seedLength"]

    def check(name, value):
        if optional and value is None:
            return value
        if not isinstance(value, str) or not low <= len(value) <= high or not _URL_TEXT.fullmatch(value):
            raise ValueError(f"{name}: {value!r} is not allowed; expected {low}..{high} characters of "
                             f"{_URL_TEXT_RULE}")
        return value
    return check


def _network_shape(name, value):
    layers_low, layers_high = LIMITS["hiddenLayers"]
    neurons_low, neurons_high = LIMITS["neuronsPerLayer"]
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ValueError(f"{name}: {value!r} is not allowed; expected a list of neurons per hidden layer")
    shape = tuple(value)
    if not layers_low <= len(shape) <= layers_high or not all(
            not isinstance(n, bool) and isinstance(n, numbers.Integral) and neurons_low <= n <= neurons_high
            for n in shape):
        raise ValueError(f"{name}: {list(shape)} is not allowed; expected {layers_low}..{layers_high} hidden "
                         f"layers of {neurons_low}..{neurons_high} neurons (integers)")
    return tuple(int(n) for n in shape)


def _hidden_controls(name, value):
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ValueError(f"{name}: {value!r} is not allowed; expected a set of control names")
    controls = frozenset(value)
    unknown = sorted(map(repr, controls - set(HIDABLE_CONTROLS)))
    if unknown:
        raise ValueError(f"{name}: {', '.join(unknown)} cannot be hidden; allowed: {list(HIDABLE_CONTROLS)}")
    return controls


def _activation_list(name, value):
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ValueError(f"{name}: {value!r} is not allowed; expected a list of activation names")
    activations = tuple(value)
    unknown = [a for a in activations if not isinstance(a, str) or a not in ACTIVATIONS]
    if unknown:
        raise ValueError(f"{name}: {unknown} are not activations; allowed: {list(ACTIVATIONS)}")
    return activations


_FIELD_CHECKS = {
    **{field.name: _boolean for field in dataclasses.fields(Config) if field.type is bool},
    "activation": _choice(ACTIVATIONS),
    "regularization": _choice(REGULARIZATIONS),
    "batchSize": _integer(*LIMITS["batchSize"]),
    "dataset": _choice(DATASETS),
    "regDataset": _choice(REG_DATASETS),
    "learningRate": _real(*LIMITS["learningRate"], low_open=True),
    "regularizationRate": _real(*LIMITS["regularizationRate"]),
    "noise": _integer(*LIMITS["noise"]),
    "networkShape": _network_shape,
    "seed": _url_safe_text(optional=False),
    "percTrainData": _integer(*LIMITS["percTrainData"]),
    "tutorial": _url_safe_text(optional=True),
    "problem": _choice(PROBLEMS),
    "hide": _hidden_controls,
    "optimizer": _choice(OPTIMIZERS),
    "momentum": _real(*LIMITS["momentum"], high_open=True),
    "loss": _choice(LOSSES),
    "init": _choice(INITS),
    "layerActivations": _activation_list,
    "classes": _integer(*LIMITS["classes"]),
}
_FIELD_NAMES = frozenset(field.name for field in dataclasses.fields(Config))
_DEFAULTS = {field.name: field.default for field in dataclasses.fields(Config)}


# ---- URL format -------------------------------------------------------------------------------------

_HIDE_SUFFIX = "_hide"
_ORIGINAL_KEYS = (
    "activation", "regularization", "batchSize", "dataset", "regDataset", "learningRate", "regularizationRate",
    "noise", "networkShape", "seed", "showTestData", "discretize", "percTrainData", "x", "y", "xTimesY",
    "xSquared", "ySquared", "cosX", "sinX", "cosY", "sinY", "collectStats", "tutorial", "problem", "initZero",
    "hideText",
)
_OUR_KEYS = ("optimizer", "momentum", "loss", "reshuffle", "init", "layerActivations", "classes",
             "sameInitOnReset")
_ARRAY_KEYS = ("networkShape", "layerActivations")  # "" is a value for these: the empty list
_JS_DECIMAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_JS_RADIX = {"0x": 16, "0o": 8, "0b": 2}
_JS_RADIX_DIGITS = re.compile(r"0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+")


def js_number(text: str) -> float:
    """JavaScript's Number(text): trimmed; "" is 0; decimal, Infinity, 0x/0o/0b integers; else NaN."""
    text = text.strip()
    if text == "":
        return 0.0
    if _JS_DECIMAL.fullmatch(text):
        return float(text)
    if text.lstrip("+-") == "Infinity":
        return -math.inf if text.startswith("-") else math.inf
    if _JS_RADIX_DIGITS.fullmatch(text):
        return float(int(text[2:], _JS_RADIX[text[:2].lower()]))
    return math.nan


def js_number_text(value: float) -> str:
    """JavaScript's Number.prototype.toString: the shortest round-trip digits, written as
    digits with a point when the decimal exponent n (value = 0.d1..dk x 10^n) is in -6 < n <= 21,
    else as d1.d2..dk e±(n-1). E.g. 0.03 -> "0.03", 1e-7 -> "1e-7", 10.0 -> "10", -0.0 -> "0"."""
    if isinstance(value, int):
        return str(value)
    if value == 0:
        return "0"
    if not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    sign = "-" if value < 0 else ""
    # repr gives the same shortest round-trip digits as JavaScript; Decimal splits them from the exponent.
    _, digit_tuple, exponent = Decimal(repr(abs(value))).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    point = exponent + len(digits)
    count = len(digits)
    if count <= point <= 21:
        return sign + digits + "0" * (point - count)
    if 0 < point <= 21:
        return sign + digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return sign + "0." + "0" * -point + digits
    tail = "." + digits[1:] if count > 1 else ""
    return f"{sign}{digits[0]}{tail}e{'+' if point > 0 else '-'}{abs(point - 1)}"


def _url_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return js_number_text(value)
    if isinstance(value, tuple):
        return ",".join(_url_text(item) for item in value)
    return str(value)


def _parse_bool(key, value):
    if value not in ("true", "false"):
        raise ValueError(f"{key}: {value!r} is not allowed; expected true or false")
    return value == "true"


def _parse_number(key, value):
    number = js_number(value)
    if math.isnan(number):
        raise ValueError(f"{key}: {value!r} is not a number")
    return number


def _parse_integer(key, value):
    number = _parse_number(key, value)
    if not number.is_integer():
        raise ValueError(f"{key}: {value!r} is not allowed; expected an integer")
    return int(number)


def _parse_shape(key, value):
    return tuple(_parse_integer(key, item) for item in value.split(",")) if value.strip() else ()


def _parse_name_list(key, value):
    return tuple(value.split(",")) if value.strip() else ()


def _parse_regularization(key, value):
    if value not in ("none", "L1", "L2"):
        raise ValueError(f"{key}: {value!r} is not allowed; allowed: ['none', 'L1', 'L2']")
    return None if value == "none" else value


def _parse_text(key, value):
    return value


_URL_PARSERS = {
    **{name: _parse_bool for name in (*_ORIGINAL_KEYS, *_OUR_KEYS) if _FIELD_CHECKS[name] is _boolean},
    **{name: _parse_text for name in ("activation", "dataset", "regDataset", "seed", "tutorial", "problem",
                                      "optimizer", "loss", "init")},  # names and strings: Config checks them
    **{name: _parse_integer for name in ("batchSize", "noise", "percTrainData", "classes")},
    **{name: _parse_number for name in ("learningRate", "regularizationRate", "momentum")},
    "networkShape": _parse_shape,
    "layerActivations": _parse_name_list,
    "regularization": _parse_regularization,
}
