"""Weight initializers: callables ``init(shape, rng) -> float64 array``.

Every draw comes from the ``np.random.Generator`` passed in, so a seeded
generator makes a whole model reproducible.

Fan conventions (what "inputs" and "outputs" of one unit are):

- Linear weight (d_in, d_out): fan_in = d_in, fan_out = d_out.
- Conv2D weight (in_c, k_h, k_w, out_c): fan_in = in_c * k_h * k_w,
  fan_out = out_c * k_h * k_w (each output sees a k_h x k_w patch of every input
  channel).
- 1-D shape (n,) (a bias): fan_in = fan_out = n.
"""

import math
from dataclasses import dataclass

import numpy as np


def fans(shape):
    """(fan_in, fan_out) of a weight shape, per the conventions above."""
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive_field = math.prod(shape[1:-1])
    return shape[0] * receptive_field, shape[-1] * receptive_field


def _finite(owner, **values):
    for name, value in values.items():
        if not np.isfinite(value):
            raise ValueError(f"{owner!r}: {name} must be a finite number, got {value}")


class Initializer:
    """Base class: validates (shape, rng), then calls ``draw``."""

    def __call__(self, shape, rng):
        shape = tuple(shape)
        if not shape or not all(isinstance(n, (int, np.integer)) and n > 0 for n in shape):
            raise ValueError(f"{self!r}: shape must be a non-empty tuple of positive ints, got {shape}")
        if not isinstance(rng, np.random.Generator):
            raise ValueError(f"{self!r}: rng must be an np.random.Generator, got {type(rng).__name__}")
        return self.draw(shape, rng)

    def draw(self, shape, rng):
        raise NotImplementedError


@dataclass(frozen=True)
class XavierUniform(Initializer):
    """U(-a, a) with a = sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio 2010):
    keeps the activation and gradient variances about constant through tanh
    layers."""

    def draw(self, shape, rng):
        fan_in, fan_out = fans(shape)
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, size=shape)


@dataclass(frozen=True)
class HeUniform(Initializer):
    """U(-a, a) with a = sqrt(6 / fan_in) (He et al. 2015), variance 2 / fan_in:
    compensates ReLU zeroing half of its inputs."""

    def draw(self, shape, rng):
        limit = math.sqrt(6.0 / fans(shape)[0])
        return rng.uniform(-limit, limit, size=shape)


@dataclass(frozen=True)
class HeNormal(Initializer):
    """N(0, 2 / fan_in) (He et al. 2015)."""

    def draw(self, shape, rng):
        return rng.normal(0.0, math.sqrt(2.0 / fans(shape)[0]), size=shape)


@dataclass(frozen=True)
class Normal(Initializer):
    """N(mean, std^2)."""

    mean: float = 0.0
    std: float = 1.0

    def __post_init__(self):
        _finite(self, mean=self.mean, std=self.std)
        if self.std < 0:
            raise ValueError(f"{self!r}: std must be >= 0, got {self.std}")

    def draw(self, shape, rng):
        return rng.normal(self.mean, self.std, size=shape)


@dataclass(frozen=True)
class Uniform(Initializer):
    """U(lo, hi); the TF playground uses Uniform(-0.5, 0.5)."""

    lo: float
    hi: float

    def __post_init__(self):
        _finite(self, lo=self.lo, hi=self.hi)
        if not self.lo < self.hi:
            raise ValueError(f"{self!r}: needs lo < hi, got lo={self.lo}, hi={self.hi}")

    def draw(self, shape, rng):
        return rng.uniform(self.lo, self.hi, size=shape)


@dataclass(frozen=True)
class Constant(Initializer):
    """Every entry equal to ``value`` (the TF playground's biases start at 0.1)."""

    value: float

    def __post_init__(self):
        _finite(self, value=self.value)

    def draw(self, shape, rng):
        return np.full(shape, float(self.value))


@dataclass(frozen=True)
class Zeros(Initializer):
    def draw(self, shape, rng):
        return np.zeros(shape)
