"""Elementwise activations: each defines its function and its derivative side by side.

``function(x, out=None)`` returns y = f(x). ``derivative(x, y, out=None)`` returns
f'(x), given the input x and the already computed y = f(x), because many
derivatives are cheapest in terms of y (tanh: 1 - y^2, sigmoid: y (1 - y)).
With ``out`` (an array shaped like x) the result is written into it and returned;
the simple ones then allocate nothing, which the playground's training loop
relies on.

Backward of any activation is the chain rule, elementwise:
dL/dx = dL/dy * f'(x).
"""

import functools

import numpy as np

from .module import Module


def _constants(value):
    """value as read-only 0-d arrays, one per float dtype. A ufunc converts a Python float on every
    call, which costs as much as the arithmetic on the playground's tiny arrays; a 0-d array of the
    operand's own dtype it takes as is. Look one up with ``_ONE.get(x.dtype, 1.0)``."""
    arrays = {}
    for dtype in (np.float16, np.float32, np.float64, np.longdouble):
        array = np.array(value, dtype=dtype)
        array.flags.writeable = False
        arrays[array.dtype] = array
    return arrays


_ZERO, _ONE = _constants(0.0), _constants(1.0)


def _buffer(x, out):
    """The array to write the result into: ``out`` if given, else a new one (an
    array even for 0-d x, where ufuncs without out= would return a scalar)."""
    return np.empty_like(x) if out is None else out


def sigmoid(x, out=None):
    """1 / (1 + e^-x), computed as (1 + tanh(x / 2)) / 2: identical, but it never
    overflows for large |x| and needs no temporaries."""
    out = np.multiply(x, 0.5, out=_buffer(x, out))
    np.tanh(out, out=out)
    np.add(out, 1.0, out=out)
    return np.multiply(out, 0.5, out=out)


class Activation(Module):
    """Base class. Subclasses define ``function`` and ``derivative``."""

    def function(self, x, out=None):
        raise NotImplementedError

    def derivative(self, x, y, out=None):
        raise NotImplementedError

    def bind(self, x, out):
        """f(x) -> out as a call without arguments, for loops that replay the same buffers many
        times (the playground's training replays each step's calls)."""
        return functools.partial(self.function, x, out)

    def bind_derivative(self, x, y, out):
        """f'(x) -> out as a call without arguments, like bind."""
        return functools.partial(self.derivative, x, y, out)

    # Explicit out buffers: with out=None, ufuncs turn 0-d arrays into scalars.
    def _forward(self, x):
        y = self.function(x, out=np.empty_like(x))
        return y, (x, y)

    def _backward(self, grad, cache):
        x, y = cache
        slope = self.derivative(x, y, out=np.empty_like(x))
        return np.multiply(slope, grad, out=slope)


class Identity(Activation):
    """f(x) = x, f'(x) = 1. The playground calls it "linear"."""

    def function(self, x, out=None):
        return np.positive(x, out=out)  # a copy, so y never aliases x

    def derivative(self, x, y, out=None):
        out = _buffer(x, out)
        out.fill(1.0)
        return out


class ReLU(Activation):
    """f(x) = max(x, 0); f'(x) = 1 if x > 0 else 0 (0 at the kink, like the TF
    playground)."""

    def function(self, x, out=None):
        return np.maximum(x, _ZERO.get(x.dtype, 0.0), out=out)

    def bind(self, x, out):
        # Against an array of zeros np.maximum takes its fast path at every size (against a 0-d zero,
        # twice as slow on a 64 x 250 layer); a closure calls it for less than a partial with out=.
        zeros, maximum = np.zeros_like(x), np.maximum
        return lambda: maximum(x, zeros, out=out)

    def derivative(self, x, y, out=None):
        # y = max(x, 0) >= 0, so sign(y) is 1 where x > 0 and 0 elsewhere: one call, where x > 0
        # would also cast its booleans to floats.
        return np.sign(y, _buffer(x, out))

    def bind_derivative(self, x, y, out):
        return functools.partial(np.sign, y, out)  # derivative's one call, without its Python frame


class Tanh(Activation):
    """f(x) = tanh(x); f'(x) = 1 - tanh(x)^2 = 1 - y^2."""

    function = np.tanh  # the ufunc itself, f(x, out=None): no Python call around it

    def derivative(self, x, y, out=None):
        out = np.multiply(y, y, _buffer(x, out))
        return np.subtract(_ONE.get(out.dtype, 1.0), out, out)

    def bind_derivative(self, x, y, out):
        # derivative's two calls in a closure: its Python frame and lookups cost as much as one more.
        one, multiply, subtract = _ONE.get(out.dtype, 1.0), np.multiply, np.subtract

        def one_minus_y_squared():
            multiply(y, y, out)
            subtract(one, out, out)
        return one_minus_y_squared


class Sigmoid(Activation):
    """f(x) = 1 / (1 + e^-x); f'(x) = f(x) (1 - f(x)) = y (1 - y)."""

    def function(self, x, out=None):
        return sigmoid(x, out=out)

    def derivative(self, x, y, out=None):
        out = np.subtract(_ONE.get(y.dtype, 1.0), y, _buffer(x, out))
        return np.multiply(out, y, out)


class LeakyReLU(Activation):
    """f(x) = x if x > 0 else a x; f'(x) = 1 if x > 0 else a; 0 <= a < 1."""

    def __init__(self, negative_slope=0.01):
        super().__init__()
        if not 0.0 <= negative_slope < 1.0:
            raise ValueError(f"LeakyReLU: negative_slope must be in [0, 1), got {negative_slope}")
        self.negative_slope = float(negative_slope)

    def __repr__(self):
        return f"LeakyReLU(negative_slope={self.negative_slope})"

    def function(self, x, out=None):
        # For a < 1, max(x, a x) picks x when x > 0 and a x otherwise.
        out = np.multiply(x, self.negative_slope, out=_buffer(x, out))
        return np.maximum(out, x, out=out)

    def derivative(self, x, y, out=None):
        # (x > 0) * (1 - a) + a is 1 for x > 0 and a otherwise.
        out = np.greater(x, 0.0, out=_buffer(x, out))
        np.multiply(out, 1.0 - self.negative_slope, out=out)
        return np.add(out, self.negative_slope, out=out)


class ELU(Activation):
    """f(x) = x if x > 0 else alpha (e^x - 1); f'(x) = 1 if x > 0 else
    alpha e^x = y + alpha."""

    def __init__(self, alpha=1.0):
        super().__init__()
        if not (np.isfinite(alpha) and alpha > 0):
            raise ValueError(f"ELU: alpha must be a finite number > 0, got {alpha}")
        self.alpha = float(alpha)

    def __repr__(self):
        return f"ELU(alpha={self.alpha})"

    def function(self, x, out=None):
        # expm1 of min(x, 0) so that large positive x cannot overflow exp.
        out = np.minimum(x, 0.0, out=_buffer(x, out))
        np.expm1(out, out=out)
        np.multiply(out, self.alpha, out=out)
        np.copyto(out, x, where=x > 0)
        return out

    def derivative(self, x, y, out=None):
        out = np.add(y, self.alpha, out=_buffer(x, out))
        np.copyto(out, 1.0, where=x > 0)
        return out


class Softplus(Activation):
    """f(x) = log(1 + e^x) (a smooth ReLU); f'(x) = sigmoid(x) = 1 - e^-y."""

    def function(self, x, out=None):
        return np.logaddexp(0.0, x, out=out)  # stable for large |x|

    def derivative(self, x, y, out=None):
        # e^y = 1 + e^x, so sigmoid(x) = e^x / e^y = 1 - e^-y = -expm1(-y).
        out = np.negative(y, out=_buffer(x, out))
        np.expm1(out, out=out)
        return np.negative(out, out=out)


class Swish(Activation):
    """f(x) = x sigmoid(x) (also called SiLU); with s = sigmoid(x),
    f'(x) = s + x s (1 - s) = s + y (1 - s)."""

    def function(self, x, out=None):
        out = sigmoid(x, out=out)
        return np.multiply(out, x, out=out)

    def derivative(self, x, y, out=None):
        s = sigmoid(x)  # the one temporary: f' needs s and y together
        out = np.subtract(1.0, s, out=_buffer(x, out))
        np.multiply(out, y, out=out)
        return np.add(out, s, out=out)


ACTIVATIONS = {
    "relu": ReLU,
    "tanh": Tanh,
    "sigmoid": Sigmoid,
    "linear": Identity,
    "leakyrelu": LeakyReLU,
    "elu": ELU,
    "softplus": Softplus,
    "swish": Swish,
}


def get_activation(name):
    """A new activation instance from its playground name, e.g. "tanh"."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; allowed: {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]()
