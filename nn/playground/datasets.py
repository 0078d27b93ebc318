"""The playground's data: its six generators, shuffle and split, plus multi-class spirals and CSV data.

Points are (n, 3) float64 arrays of x, y, label. Every generator draws from the one seeded stream in the
original's order, with the original's float operations in the original's order, so a seed gives the
original's points bit for bit. U(a, b) below is rng.uniform(a, b) = random() * (b - a) + a; noise is the
URL value / 100 (e.g. 0.25). Generators draw their noise terms even when noise is 0.

* circle: n/2 points with r ~ U(0, 2.5), then n/2 with r ~ U(3.5, 5); angle a ~ U(0, 2 pi);
  (x, y) = (r sin a, r cos a); nx, ny ~ U(-5, 5) * noise; label +1 if |(x + nx, y + ny)| < 2.5 else -1.
* xor: x ~ U(-5, 5) pushed 0.3 away from 0, y likewise; nx, ny ~ U(-5, 5) * noise;
  label +1 if (x + nx)(y + ny) >= 0 else -1.
* gauss: n/2 points (N(2, v), N(2, v)) labelled +1, then n/2 (N(-2, v), N(-2, v)) labelled -1,
  v = 0.5 + 7 noise (d3's linear scale [0, 0.5] -> [0.5, 4]).
* spiral: for each arm, i = 0 .. n/2 - 1: r = i / (n/2) * 5, t = 1.75 i / (n/2) 2 pi + d,
  (x, y) = (r sin t + U(-1, 1) noise, r cos t + U(-1, 1) noise); d = 0 gives +1, d = pi gives -1.
  Ours, K = 3..6 classes: arm k has d = 2 pi k / K and label k, with n/K in place of n/2.
* reg-plane: x, y ~ U(-6, 6); nx, ny ~ U(-6, 6) * noise; label = (x + nx + y + ny) / 10
  (d3's linear scale [-10, 10] -> [-1, 1]).
* reg-gauss: x, y and noise as reg-plane; label = the signed bump sign * max(0, 1 - d/2) of largest
  magnitude over six centres, d = distance from (x + nx, y + ny) to the centre.

A loop "for i < n/K" runs ceil(n/K) times, as the original's does: 500 points give 3 x 167 = 501 points
for K = 3 and 6 x 84 = 504 for K = 6.
"""
import math
import re

import numpy as np

from nn.playground import jsmath
from nn.playground.seedrandom import SeedRandom

CLASSIFICATION_DATASETS = ("circle", "xor", "gauss", "spiral")
REGRESSION_DATASETS = ("reg-plane", "reg-gauss")
PROBLEMS = ("classification", "regression")
NUM_SAMPLES = {"classification": 500, "regression": 1200}
MAX_ABS_COORDINATE = 1e6
MAX_CLASSES = 6


def _linear_scale(value: float, domain: tuple, output: tuple, clamp: bool = False) -> float:
    """d3 v3's linear scale, same float operations: t = (value - d0) / (d1 - d0); r0 (1 - t) + r1 t."""
    t = (value - domain[0]) / (domain[1] - domain[0])
    if clamp:
        t = max(0, min(1, t))
    return output[0] * (1 - t) + output[1] * t


def _distance(x: float, y: float, cx: float, cy: float) -> float:
    dx = x - cx
    dy = y - cy
    return math.sqrt(dx * dx + dy * dy)


def _circle(num_samples: int, noise: float, rng: SeedRandom) -> list:
    radius = 5
    points = []
    for r_low, r_high in ((0, radius * 0.5), (radius * 0.7, radius)):
        for _ in range(math.ceil(num_samples / 2)):
            r = rng.uniform(r_low, r_high)
            angle = rng.uniform(0, 2 * math.pi)
            x = r * jsmath.sin(angle)
            y = r * jsmath.cos(angle)
            noise_x = rng.uniform(-radius, radius) * noise
            noise_y = rng.uniform(-radius, radius) * noise
            inside = _distance(x + noise_x, y + noise_y, 0, 0) < radius * 0.5
            points.append((x, y, 1 if inside else -1))
    return points


def _xor(num_samples: int, noise: float, rng: SeedRandom) -> list:
    padding = 0.3
    points = []
    for _ in range(num_samples):
        x = rng.uniform(-5, 5)
        x += padding if x > 0 else -padding
        y = rng.uniform(-5, 5)
        y += padding if y > 0 else -padding
        noise_x = rng.uniform(-5, 5) * noise
        noise_y = rng.uniform(-5, 5) * noise
        points.append((x, y, 1 if (x + noise_x) * (y + noise_y) >= 0 else -1))
    return points


def _gauss(num_samples: int, noise: float, rng: SeedRandom) -> list:
    variance = _linear_scale(noise, (0, 0.5), (0.5, 4))
    points = []
    for centre, label in ((2, 1), (-2, -1)):
        for _ in range(math.ceil(num_samples / 2)):
            x = rng.normal(centre, variance)
            y = rng.normal(centre, variance)
            points.append((x, y, label))
    return points


def _spiral(num_samples: int, noise: float, rng: SeedRandom, classes: int = 2) -> list:
    if classes == 2:
        arms = ((0, 1), (math.pi, -1))  # the original's two arms
    else:
        arms = tuple((2 * math.pi * k / classes, k) for k in range(classes))
    n = num_samples / classes
    points = []
    for delta_t, label in arms:
        for i in range(math.ceil(n)):
            r = i / n * 5
            t = 1.75 * i / n * 2 * math.pi + delta_t
            x = r * jsmath.sin(t) + rng.uniform(-1, 1) * noise
            y = r * jsmath.cos(t) + rng.uniform(-1, 1) * noise
            points.append((x, y, label))
    return points


def _regression_points(num_samples: int, noise: float, rng: SeedRandom, label_of) -> list:
    radius = 6
    points = []
    for _ in range(num_samples):
        x = rng.uniform(-radius, radius)
        y = rng.uniform(-radius, radius)
        noise_x = rng.uniform(-radius, radius) * noise
        noise_y = rng.uniform(-radius, radius) * noise
        points.append((x, y, label_of(x + noise_x, y + noise_y)))
    return points


def _plane_label(x: float, y: float) -> float:
    return _linear_scale(x + y, (-10, 10), (-1, 1))


_BUMPS = ((-4, 2.5, 1), (0, 2.5, -1), (4, 2.5, 1), (-4, -2.5, -1), (0, -2.5, 1), (4, -2.5, -1))


def _gauss_bumps_label(x: float, y: float) -> float:
    label = 0
    for cx, cy, sign in _BUMPS:
        candidate = sign * _linear_scale(_distance(x, y, cx, cy), (0, 2), (1, 0), clamp=True)
        if abs(candidate) > abs(label):  # strictly larger: the first of equal bumps wins
            label = candidate
    return label


_GENERATORS = {
    "circle": _circle,
    "xor": _xor,
    "gauss": _gauss,
    "spiral": _spiral,
    "reg-plane": lambda n, noise, rng: _regression_points(n, noise, rng, _plane_label),
    "reg-gauss": lambda n, noise, rng: _regression_points(n, noise, rng, _gauss_bumps_label),
}


def generate(name: str, num_samples: int, noise: float, rng: SeedRandom, classes: int = 2) -> np.ndarray:
    """The points of dataset `name` in generation order (before the shuffle): (n, 3) of x, y, label.

    `classes` > 2 (up to 6) is for "spiral" only: K arms labelled 0..K-1.
    """
    if name not in _GENERATORS:
        raise ValueError(f"name: {name!r} is not a dataset; allowed: {list(_GENERATORS)}")
    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1:
        raise ValueError(f"num_samples: {num_samples!r} is not allowed; expected an integer >= 1")
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not 0 <= noise <= 1:
        raise ValueError(f"noise: {noise!r} is not allowed; expected a number in [0, 1] (the URL value / 100)")
    if not isinstance(rng, SeedRandom):
        raise ValueError(f"rng: {rng!r} is not allowed; expected a SeedRandom")
    if isinstance(classes, bool) or not isinstance(classes, int) or not 2 <= classes <= MAX_CLASSES:
        raise ValueError(f"classes: {classes!r} is not allowed; expected an integer in 2..{MAX_CLASSES}")
    if classes != 2 and name != "spiral":
        raise ValueError(f"classes: {classes} is not allowed for dataset {name!r}; more than 2 needs 'spiral'")
    if name == "spiral":
        points = _spiral(num_samples, noise, rng, classes)
    else:
        points = _GENERATORS[name](num_samples, noise, rng)
    return np.array(points, dtype=np.float64)


def shuffle(points: np.ndarray, rng: SeedRandom) -> None:
    """Shuffle the rows in place as the original's Fisher-Yates does.

    counter = n; while counter > 0: index = floor(random() * counter); counter -= 1;
    swap rows counter and index. (One draw per row.)
    """
    order = list(range(len(points)))
    counter = len(order)
    while counter > 0:
        index = math.floor(rng.random() * counter)
        counter -= 1
        order[counter], order[index] = order[index], order[counter]
    points[:] = points[order]


def split(points: np.ndarray, perc_train: float) -> tuple[np.ndarray, np.ndarray]:
    """(train, test): the first floor(n * perc_train / 100) rows train, the rest test (copies)."""
    split_index = math.floor(len(points) * perc_train / 100)
    return points[:split_index].copy(), points[split_index:].copy()


def make_data(cfg, rng: SeedRandom) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) for a Config, as the original's generateData: generate, shuffle, split.

    Uses cfg.dataset (500 points) for classification, cfg.regDataset (1200 points) for regression, and
    cfg.classes arms for a spiral. User data ("custom") has no generator: use split_custom.
    """
    name = cfg.dataset if cfg.problem == "classification" else cfg.regDataset
    if name == "custom":
        raise ValueError("dataset: 'custom' has no generator; load the points and use split_custom")
    classes = cfg.classes if name == "spiral" else 2
    points = generate(name, NUM_SAMPLES[cfg.problem], cfg.noise / 100, rng, classes=classes)
    shuffle(points, rng)
    return split(points, cfg.percTrainData)


def split_custom(points: np.ndarray, perc_train: float, rng: SeedRandom) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) from user points: a shuffled copy split like generated data. `points` is untouched."""
    points = np.array(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 3:
        raise ValueError(f"points: shape {points.shape} is not allowed; expected (n, 3) of x, y, label")
    shuffle(points, rng)
    return split(points, perc_train)


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_COLUMNS = ("x", "y", "label")


def _parse_number(field: str) -> float | None:
    return float(field) if _NUMBER.fullmatch(field) else None


def load_csv(text: str, problem: str, max_rows: int = 10000, max_bytes: int = 1_000_000,
             classes: int = 2) -> np.ndarray:
    """User points from CSV text: rows "x,y,label", optionally after one header row (a row of no numbers).

    Rules: exactly 3 comma-separated columns; plain decimal numbers (e.g. 1, -0.5, 2e3), finite;
    |x|, |y| <= 1e6; 2..max_rows rows; at most max_bytes bytes (UTF-8); blank lines are skipped.
    Classification labels (classes = 2) are -1/1 or 0/1 (0 becomes -1; one coding per file); with
    classes = K > 2 they are the integers 0..K-1. Regression labels are any finite numbers.
    Errors are ValueErrors naming the line, the column and the value.
    """
    if problem not in PROBLEMS:
        raise ValueError(f"problem: {problem!r} is not allowed; allowed: {list(PROBLEMS)}")
    if isinstance(classes, bool) or not isinstance(classes, int) or not 2 <= classes <= MAX_CLASSES:
        raise ValueError(f"classes: {classes!r} is not allowed; expected an integer in 2..{MAX_CLASSES}")
    size = len(text.encode("utf-8"))
    if size > max_bytes:
        raise ValueError(f"text: {size} bytes is too large; at most {max_bytes} bytes are allowed")
    rows = []
    label_coding_line = None  # (line, label) of the first -1 or 0 label: it fixes -1/1 or 0/1 coding
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = [field.strip() for field in line.split(",")]
        if len(fields) != 3:
            raise ValueError(f"line {line_number}: {len(fields)} columns in {line!r}; expected 3: x, y, label")
        numbers = [_parse_number(field) for field in fields]
        if not rows and all(number is None for number in numbers):
            continue  # the header row
        for column, field, number in zip(_COLUMNS, fields, numbers):
            if number is None:
                raise ValueError(f"line {line_number}, column {column}: {field!r} is not a number")
            if not math.isfinite(number):
                raise ValueError(f"line {line_number}, column {column}: {field!r} is not a finite number")
        x, y, label = numbers
        for column, value in (("x", x), ("y", y)):
            if abs(value) > MAX_ABS_COORDINATE:
                raise ValueError(f"line {line_number}, column {column}: {value!r} is out of range; "
                                 f"allowed: |{column}| <= {MAX_ABS_COORDINATE:g}")
        if problem == "classification":
            label = _class_label(label, classes, line_number, label_coding_line)
            if classes == 2 and label_coding_line is None and numbers[2] in (-1, 0):
                label_coding_line = (line_number, numbers[2])
        rows.append((x, y, label))
        if len(rows) > max_rows:
            raise ValueError(f"text: more than {max_rows} rows at line {line_number}; at most {max_rows} allowed")
    if len(rows) < 2:
        raise ValueError(f"text: {len(rows)} data rows; at least 2 are needed")
    return np.array(rows, dtype=np.float64)


def _class_label(label: float, classes: int, line_number: int, label_coding_line) -> float:
    """A classification label as the network wants it: -1/+1 for 2 classes, 0..K-1 for K."""
    if classes > 2:
        if label not in range(classes):
            raise ValueError(f"line {line_number}, column label: {label!r} is not allowed; "
                             f"allowed: the integers 0..{classes - 1}")
        return label
    if label not in (-1, 0, 1):
        raise ValueError(f"line {line_number}, column label: {label!r} is not allowed; allowed: -1/1 or 0/1")
    if label_coding_line is not None and label != 1 and label != label_coding_line[1]:
        first_line, first_label = label_coding_line
        raise ValueError(f"line {line_number}, column label: {label!r} is not allowed: line {first_line} has "
                         f"label {first_label!r}, so this file's labels are {first_label!r}/1")
    return -1.0 if label == 0 else label
