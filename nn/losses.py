"""Losses: ``forward(pred, target) -> float`` keeps what ``backward() -> dL/dpred``
needs. Each is a mean over the batch, so the learning rate does not depend on
the batch size. Shapes must match exactly: no broadcasting, because (N, 1)
against (N,) would silently broadcast to (N, N).
"""

import numpy as np

from .activations import sigmoid
from .module import as_float_array, check_finite


class Loss:
    def __init__(self):
        self._cache = None

    def __repr__(self):
        return f"{type(self).__name__}()"

    def forward(self, pred, target):
        raise NotImplementedError

    def backward(self):
        if self._cache is None:
            raise RuntimeError(f"{self!r}: backward() called before forward()")
        return self._backward(*self._cache)

    def _inputs(self, pred, target):
        """Float, finite, same-shape (pred, target); the result dtype follows pred."""
        pred = as_float_array(pred, self, "pred")
        target = as_float_array(target, self, "target").astype(pred.dtype, copy=False)
        if pred.shape != target.shape:
            raise ValueError(f"{self!r}: pred shape {pred.shape} and target shape {target.shape} must be equal")
        check_finite(pred, self, "pred")
        check_finite(target, self, "target")
        return pred, target


class HalfSquaredError(Loss):
    """L = mean((pred - target)^2 / 2) over all N entries (the playground's
    loss); dL/dpred = (pred - target) / N."""

    def forward(self, pred, target):
        pred, target = self._inputs(pred, target)
        error = pred - target
        self._cache = (error,)
        return float(0.5 * np.mean(error * error))

    def _backward(self, error):
        return error / error.size


class BinaryCrossEntropy(Loss):
    """From logits z and targets t in [0, 1], with p = sigmoid(z):

        L = mean(-t log p - (1 - t) log(1 - p)) = mean(log(1 + e^z) - t z)

    computed as logaddexp(0, z) - t z, which never overflows.
    dL/dz = (sigmoid(z) - t) / N.
    """

    def forward(self, logits, target):
        logits, target = self._inputs(logits, target)
        if target.size and not (target.min() >= 0 and target.max() <= 1):
            raise ValueError(f"{self!r}: targets must lie in [0, 1], got range [{target.min()}, {target.max()}]")
        self._cache = (logits, target)
        return float(np.mean(np.logaddexp(0.0, logits) - target * logits))

    def _backward(self, logits, target):
        return (sigmoid(logits) - target) / logits.size


class SoftmaxCrossEntropy(Loss):
    """From logits z (N, C) and integer labels (N,) in [0, C), with
    p = softmax(z) row-wise:

        L = mean_n(-log p[n, label_n]) = mean_n(logsumexp(z[n]) - z[n, label_n])

    (the row max is subtracted before exp, so it never overflows).
    dL/dz = (p - onehot(labels)) / N.
    """

    def forward(self, logits, labels):
        logits = as_float_array(logits, self, "logits")
        labels = np.asarray(labels)
        if logits.ndim != 2 or logits.shape[1] < 2:
            raise ValueError(f"{self!r}: logits must be (N, C) with C >= 2 classes, got shape {logits.shape}")
        if labels.shape != logits.shape[:1]:
            raise ValueError(f"{self!r}: labels shape {labels.shape} must be (N,) = {logits.shape[:1]} for logits {logits.shape}")
        if labels.dtype.kind not in "iu":
            raise ValueError(f"{self!r}: labels must be integer class indices, got dtype {labels.dtype}")
        if labels.size and not (labels.min() >= 0 and labels.max() < logits.shape[1]):
            raise ValueError(f"{self!r}: labels must lie in [0, {logits.shape[1]}), got range [{labels.min()}, {labels.max()}]")
        check_finite(logits, self, "logits")
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        rows = np.arange(len(labels))
        self._cache = (np.exp(log_probs), labels)
        return float(-np.mean(log_probs[rows, labels]))

    def _backward(self, probs, labels):
        grad = probs.copy()
        grad[np.arange(len(labels)), labels] -= 1.0
        return grad / len(labels)
