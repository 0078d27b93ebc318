"""Optimizers: ``step(model)`` updates every parameter of ``model`` in place from
its gradient, read through ``model.parameters()`` (so layers whose shapes are
inferred at the first forward are included). Per-parameter state (momentum,
Adam moments) lives in the optimizer, keyed by (module, name), and restarts if a
parameter is replaced by one of another shape.
"""

import numpy as np


def _check_rate(owner, name, value, low, high=np.inf, high_inclusive=False):
    ok = np.isfinite(value) and low <= value and (value <= high if high_inclusive else value < high)
    if not ok:
        bound = f"{high}]" if high_inclusive else f"{high})"
        raise ValueError(f"{owner}: {name} must be a finite number in [{low}, {bound}, got {value}")
    return float(value)


class Optimizer:
    def __init__(self, lr):
        if not (np.isfinite(lr) and lr > 0):
            raise ValueError(f"{type(self).__name__}: lr must be a finite number > 0, got {lr}")
        self.lr = float(lr)
        self._state = {}

    def step(self, model):
        for module, name in model.parameters():
            param, grad = module.params[name], module.grads[name]
            if grad.shape != param.shape:
                raise ValueError(f"{type(self).__name__}: {module!r} grads[{name!r}] has shape {grad.shape}, "
                                 f"params[{name!r}] has shape {param.shape}; call backward() after replacing a parameter")
            state = self._state.get((module, name))
            if state is None or state[0].shape != param.shape:
                state = self._state[(module, name)] = self._new_state(param)
            param -= self._update(grad, state)

    def _new_state(self, param):
        raise NotImplementedError

    def _update(self, grad, state):
        raise NotImplementedError


class SGD(Optimizer):
    """v <- momentum v + g;  w <- w - lr v  (momentum 0: plain gradient descent)."""

    def __init__(self, lr, momentum=0.0):
        super().__init__(lr)
        self.momentum = _check_rate("SGD", "momentum", momentum, 0.0, 1.0)

    def __repr__(self):
        return f"SGD(lr={self.lr}, momentum={self.momentum})"

    def _new_state(self, param):
        return [np.zeros_like(param)]

    def _update(self, grad, state):
        velocity = state[0]
        velocity *= self.momentum
        velocity += grad
        return self.lr * velocity


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015), per parameter, t = steps taken by that parameter:
    m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;
    w <- w - lr m_hat / (sqrt(v_hat) + eps), m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t).
    """

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__(lr)
        self.beta1 = _check_rate("Adam", "beta1", beta1, 0.0, 1.0)
        self.beta2 = _check_rate("Adam", "beta2", beta2, 0.0, 1.0)
        self.eps = _check_rate("Adam", "eps", eps, 0.0)

    def __repr__(self):
        return f"Adam(lr={self.lr}, beta1={self.beta1}, beta2={self.beta2}, eps={self.eps})"

    def _new_state(self, param):
        return [np.zeros_like(param), np.zeros_like(param), 0]

    def _update(self, grad, state):
        mean, mean_square, _ = state
        state[2] += 1
        mean += (1.0 - self.beta1) * (grad - mean)
        mean_square += (1.0 - self.beta2) * (grad * grad - mean_square)
        mean_hat = mean / (1.0 - self.beta1 ** state[2])
        mean_square_hat = mean_square / (1.0 - self.beta2 ** state[2])
        return self.lr * mean_hat / (np.sqrt(mean_square_hat) + self.eps)
