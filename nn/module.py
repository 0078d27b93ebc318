"""`Module`: the forward/backward contract every layer, activation and model follows.

A module is a differentiable function y = f(x; params).

- ``params``: plain dict name -> array ("weight", "bias"). Assigning an array to
  ``params["weight"]`` replaces the parameter; the next forward uses it.
- ``grads``: dict with the same keys and shapes, holding dL/dparam from the last
  ``backward`` (each backward overwrites it; ``zero_grad`` resets it to zeros).
- ``forward(x)`` returns y and keeps what backward needs (the "cache").
- ``backward(grad)`` takes dL/dy (exactly y's shape), fills ``grads`` and returns
  dL/dx (x's shape).
- ``predict(x)`` returns y and keeps nothing, so evaluating the model (say on a
  100x100 grid for a heatmap) between a forward and its backward is harmless.

A subclass writes two methods and inherits the checks above:

- ``_forward(x) -> (y, cache)``: the math, and what backward will need.
- ``_backward(grad, cache) -> dx``: the derivation, sets ``self.grads``.
"""

import numpy as np


def as_float_array(x, owner, what="input"):
    """Return ``x`` as a float ndarray: float arrays pass through unchanged (so the
    output dtype follows the input), integer/bool arrays become float64."""
    x = np.asarray(x)
    if x.dtype.kind in "biu":
        return x.astype(np.float64)
    if x.dtype.kind != "f":
        raise ValueError(f"{owner!r}: {what} must be a real number array, got dtype {x.dtype}")
    return x


def check_finite(x, owner, what="input"):
    """Raise ValueError if ``x`` holds NaN or +-inf: they would silently poison
    every number computed after them."""
    finite = np.isfinite(x)
    if not finite.all():
        first = tuple(int(i) for i in np.argwhere(~finite)[0])
        raise ValueError(
            f"{owner!r}: {what} of shape {x.shape} contains non-finite values "
            f"(first at index {first}: {x[first]}); only finite numbers are allowed"
        )


def make_rng(rng):
    """``rng`` may be an ``np.random.Generator`` (used as is), an int seed, or None
    (fresh OS entropy). No global random state is ever used."""
    return np.random.default_rng(rng)


class Module:
    """Base class; see the module docstring for the contract."""

    def __init__(self):
        self.params = {}
        self.grads = {}
        self._cache = None
        self._output_shape = None
        self._output_dtype = None

    def __repr__(self):
        return f"{type(self).__name__}()"

    @property
    def is_init(self):
        """True once every parameter exists. Layers with a size of None (e.g.
        ``Linear(None, 3)``) create their parameters at the first forward."""
        return True

    @property
    def param_names(self):
        return list(self.params)

    def forward(self, x):
        x = as_float_array(x, self)
        y, self._cache = self._forward(x)
        self._output_shape, self._output_dtype = y.shape, y.dtype
        return y

    def predict(self, x):
        """The inference path: same output as ``forward``, nothing kept."""
        return self._forward(as_float_array(x, self))[0]

    def backward(self, grad):
        if self._cache is None:
            raise RuntimeError(f"{self!r}: backward() called before forward()")
        grad = as_float_array(grad, self, "grad")
        if grad.shape != self._output_shape:
            raise ValueError(
                f"{self!r}: backward grad has shape {grad.shape}, expected the forward "
                f"output's shape {self._output_shape}"
            )
        # Compute in the forward's dtype, so float32 stays float32 end to end.
        return self._backward(grad.astype(self._output_dtype, copy=False), self._cache)

    def parameters(self):
        """List of (module, name) pairs: ``module.params[name]`` is the parameter,
        ``module.grads[name]`` its gradient. Optimizers update through these."""
        return [(self, name) for name in self.params]

    def zero_grad(self):
        for name, value in self.params.items():
            self.grads[name] = np.zeros_like(value)

    def _forward(self, x):
        raise NotImplementedError

    def _backward(self, grad, cache):
        raise NotImplementedError
