"""Weight penalties added to the loss: L1 (rate * sum |w|) and L2 (rate * sum w^2 / 2).

Like the TF playground, only parameters named "weight" are penalised, not biases.
Per array: ``function(w) -> float`` and ``derivative(w) -> dpenalty/dw``.
Per model: ``penalty(model)`` sums the function over all weights (add it to the
loss you report) and ``add_gradients(model)``, called after ``model.backward``,
adds the derivative to each weight's gradient.
"""

import numpy as np


class Regularizer:
    def __init__(self, rate):
        if not (np.isfinite(rate) and rate >= 0):
            raise ValueError(f"{type(self).__name__}: rate must be a finite number >= 0, got {rate}")
        self.rate = float(rate)

    def __repr__(self):
        return f"{type(self).__name__}(rate={self.rate})"

    def function(self, weight):
        raise NotImplementedError

    def derivative(self, weight):
        raise NotImplementedError

    def penalty(self, model):
        return sum(self.function(module.params[name]) for module, name in _weights(model))

    def add_gradients(self, model):
        for module, name in _weights(model):
            module.grads[name] = module.grads[name] + self.derivative(module.params[name])


def _weights(model):
    return [(module, name) for module, name in model.parameters() if name == "weight"]


class L1(Regularizer):
    """rate * sum |w|; derivative rate * sign(w) (0 at w = 0). Pushes weights to
    exactly zero."""

    def function(self, weight):
        return self.rate * float(np.abs(weight).sum())

    def derivative(self, weight):
        return self.rate * np.sign(weight)


class L2(Regularizer):
    """rate * sum w^2 / 2; derivative rate * w ("weight decay")."""

    def function(self, weight):
        return 0.5 * self.rate * float(np.square(weight).sum())

    def derivative(self, weight):
        return self.rate * weight
