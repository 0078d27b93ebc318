"""The playground's input features: what the network sees of a point (x, y).

The order is the original's (it fixes the order of the input nodes and so of the first weight draws):
x, y, xSquared, ySquared, xTimesY, sinX, sinY. Labels use the original's notation (X_1^2 = x1 squared).
sin is JavaScript's Math.sin (see jsmath) so that inputs match the original bit for bit.
"""
from types import MappingProxyType

import numpy as np

from nn.playground import jsmath

_js_sin = np.frompyfunc(jsmath.sin, 1, 1)


def _sin(values: np.ndarray) -> np.ndarray:
    # Element by element in Python: NumPy's sin differs from Math.sin in the last bit for ~3% of inputs.
    return _js_sin(values).astype(np.float64)


FEATURES = MappingProxyType({
    "x": (lambda x, y: x, "X_1"),
    "y": (lambda x, y: y, "X_2"),
    "xSquared": (lambda x, y: x * x, "X_1^2"),
    "ySquared": (lambda x, y: y * y, "X_2^2"),
    "xTimesY": (lambda x, y: x * y, "X_1X_2"),
    "sinX": (lambda x, y: _sin(x), "sin(X_1)"),
    "sinY": (lambda x, y: _sin(y), "sin(X_2)"),
})


def feature_matrix(xy: np.ndarray, names: list[str]) -> np.ndarray:
    """Column j is feature names[j] evaluated at every row (x, y) of xy: shape (n, len(names))."""
    xy = np.asarray(xy, dtype=np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise ValueError(f"xy: shape {xy.shape} is not allowed; expected (n, 2)")
    unknown = [name for name in names if name not in FEATURES]
    if unknown:
        raise ValueError(f"names: {unknown} are not features; allowed: {list(FEATURES)}")
    x, y = xy[:, 0], xy[:, 1]
    matrix = np.empty((len(xy), len(names)), dtype=np.float64)
    for column, name in enumerate(names):
        function, _label = FEATURES[name]
        matrix[:, column] = function(x, y)
    return matrix
