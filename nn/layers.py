"""Layers with hand-derived backward passes: Linear, Conv2D, MaxPool2D, Reshape.

Images are NCHW: (batch, channels, height, width). Conv2D and MaxPool2D share one
idea: "gather" copies every kernel-window of the padded input into an array
windows[b, c, i, j, p, q] = x_padded[b, c, p*s_h + i, q*s_w + j] with one slice per
kernel offset (i, j) (a loop over k_h*k_w offsets, never over pixels); "scatter"
is its adjoint and adds such an array back into the input positions it was read
from, so overlapping windows accumulate. See docs/nn-math.md for the derivations.
"""

import numpy as np

from .init import XavierUniform, Zeros
from .module import Module, check_finite, make_rng


def _positive_int(value, owner, what):
    if not (isinstance(value, (int, np.integer)) and value > 0):
        raise ValueError(f"{owner}: {what} must be a positive int, got {value!r}")
    return int(value)


def _pair(value, owner, what):
    """An int or a pair of ints -> a (height, width) pair of positive ints."""
    pair = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(pair) != 2:
        raise ValueError(f"{owner}: {what} must be an int or a pair of ints, got {value!r}")
    return tuple(_positive_int(v, owner, what) for v in pair)


def _padding_mode(padding, stride, owner):
    mode = str(padding).upper()
    if mode not in ("SAME", "VALID"):
        raise ValueError(f"{owner}: padding must be 'SAME' or 'VALID', got {padding!r}")
    if mode == "SAME" and stride != (1, 1):
        raise ValueError(
            f"{owner}: padding 'SAME' needs stride (1, 1), got stride {stride}; "
            "use padding 'VALID' with a larger stride"
        )
    return mode


def _pad_amounts(size, kernel, stride, mode):
    """(before, after) zero padding of one spatial dim. SAME pads
    p = s (n - 1) + k - n in total, p // 2 before and the rest after (so the output
    has n entries); VALID pads nothing."""
    if mode == "VALID":
        return 0, 0
    total = stride * (size - 1) + kernel - size
    return total // 2, total - total // 2


def _pad(x, pads):
    """Zero-pad the two spatial dims of an NCHW array by ((top, bottom), (left, right))."""
    (top, bottom), (left, right) = pads
    if top == bottom == left == right == 0:
        return x
    batch, channels, height, width = x.shape
    padded = np.zeros((batch, channels, top + height + bottom, left + width + right), x.dtype)
    padded[:, :, top:top + height, left:left + width] = x
    return padded


def _crop(padded, pads, height, width):
    """Inverse of _pad: the unpadded (height, width) region."""
    (top, _), (left, _) = pads
    return np.ascontiguousarray(padded[:, :, top:top + height, left:left + width])


def _window_slices(i, j, stride, out_hw):
    """Input rows/columns that kernel offset (i, j) reads for all outputs."""
    (s_h, s_w), (out_h, out_w) = stride, out_hw
    return slice(i, i + s_h * (out_h - 1) + 1, s_h), slice(j, j + s_w * (out_w - 1) + 1, s_w)


def _gather_windows(padded, kernel_hw, stride, out_hw):
    """(B, C, Hp, Wp) -> windows (B, C, k_h, k_w, H_out, W_out)."""
    batch, channels = padded.shape[:2]
    windows = np.empty((batch, channels, *kernel_hw, *out_hw), padded.dtype)
    for i in range(kernel_hw[0]):
        for j in range(kernel_hw[1]):
            rows, cols = _window_slices(i, j, stride, out_hw)
            windows[:, :, i, j] = padded[:, :, rows, cols]
    return windows


def _scatter_windows(windows, padded_shape, stride):
    """Adjoint of _gather_windows: (B, C, k_h, k_w, H_out, W_out) -> (B, C, Hp, Wp),
    summing where windows overlap."""
    padded = np.zeros(padded_shape, windows.dtype)
    kernel_h, kernel_w, out_h, out_w = windows.shape[2:]
    for i in range(kernel_h):
        for j in range(kernel_w):
            rows, cols = _window_slices(i, j, stride, (out_h, out_w))
            padded[:, :, rows, cols] += windows[:, :, i, j]
    return padded


def _window_geometry(owner, x, kernel_hw, stride, mode):
    """Padding and output size for NCHW input ``x``; raises ValueError when the
    kernel does not fit in the padded input."""
    pads = tuple(_pad_amounts(n, k, s, mode) for n, k, s in zip(x.shape[2:], kernel_hw, stride))
    padded_hw = tuple(n + before + after for n, (before, after) in zip(x.shape[2:], pads))
    if any(k > n for k, n in zip(kernel_hw, padded_hw)):
        raise ValueError(
            f"{owner!r}: window {kernel_hw} is larger than the padded input {padded_hw} "
            f"(input shape {x.shape}, padding {mode})"
        )
    out_hw = tuple((n - k) // s + 1 for n, k, s in zip(padded_hw, kernel_hw, stride))
    return pads, out_hw


def _check_nchw(owner, x):
    if x.ndim != 4:
        raise ValueError(
            f"{owner!r}: expected NCHW input (batch, channels, height, width), "
            f"got shape {x.shape} ({x.ndim}-D)"
        )


class Linear(Module):
    """y = x @ W + b with weight W (d_in, d_out) and bias b (d_out,).

    Input: unbatched (d_in,) or any leading batch dims (..., d_in); output has the
    same leading dims and d_out last. ``d_in=None`` is inferred at the first
    forward. ``rng``: Generator, int seed or None, used by the initializers.
    """

    def __init__(self, d_in, d_out, w_init=XavierUniform(), b_init=Zeros(), rng=None):
        super().__init__()
        self.d_in = None if d_in is None else _positive_int(d_in, "Linear", "d_in")
        self.d_out = _positive_int(d_out, "Linear", "d_out")
        self.w_init, self.b_init, self.rng = w_init, b_init, make_rng(rng)
        if self.d_in is not None:
            self._build(self.d_in)

    def __repr__(self):
        return f"Linear({self.d_in}, {self.d_out})"

    @property
    def is_init(self):
        return "weight" in self.params

    def _build(self, d_in):
        self.d_in = d_in
        self.params["weight"] = self.w_init((d_in, self.d_out), self.rng)
        self.params["bias"] = self.b_init((self.d_out,), self.rng)
        self.zero_grad()

    def _forward(self, x):
        if x.ndim == 0:
            raise ValueError(f"{self!r}: expected input (d_in,) or (..., d_in), got a scalar")
        if not self.is_init:
            self._build(x.shape[-1])
        weight, bias = self.params["weight"], self.params["bias"]
        if x.shape[-1] != weight.shape[0]:
            raise ValueError(
                f"{self!r}: input shape {x.shape} must end in d_in={weight.shape[0]} "
                f"(weight shape {weight.shape})"
            )
        check_finite(x, self)
        y = x @ weight.astype(x.dtype, copy=False) + bias.astype(x.dtype, copy=False)
        return y, x

    def _backward(self, grad, x):
        """grad: dL/dy (..., d_out); x: the forward input (..., d_in).

        y[n, k] = sum_i x[n, i] W[i, k] + b[k] over every batch position n, so
            dL/dW = sum_n x[n]^T grad[n]   = X^T G       (d_in, d_out)
            dL/db = sum_n grad[n]                         (d_out,)
            dL/dx = grad @ W^T                            (..., d_in)
        with X, G the inputs/grads flattened to (N, d_in), (N, d_out). For an
        unbatched x, N = 1: dL/dW = outer(x, grad), dL/db = grad.
        """
        weight = self.params["weight"]
        flat_x = x.reshape(-1, x.shape[-1])
        flat_grad = grad.reshape(-1, grad.shape[-1])
        self.grads["weight"] = (flat_x.T @ flat_grad).astype(weight.dtype, copy=False)
        self.grads["bias"] = flat_grad.sum(axis=0).astype(self.params["bias"].dtype, copy=False)
        return grad @ weight.T.astype(grad.dtype, copy=False)


class Conv2D(Module):
    """2-D cross-correlation of NCHW input with weight (in_c, k_h, k_w, out_c):

        y[b, o, p, q] = bias[o] + sum_{c,i,j} x_pad[b, c, p s_h + i, q s_w + j] W[c, i, j, o]

    kernel = (in_c, k_h, k_w, out_c), in_c may be None (inferred at the first
    forward). padding "SAME" (stride (1, 1) only; output H x W) or "VALID"; output
    size per dim (padded - k) // s + 1.

    Computed as one matrix product ("im2col"): the windows array (B, K, H_out W_out),
    K = in_c k_h k_w, times the weight as a (out_c, K) matrix.
    """

    def __init__(self, kernel, stride=(1, 1), padding="SAME", w_init=XavierUniform(),
                 b_init=Zeros(), rng=None):
        super().__init__()
        kernel = tuple(kernel)
        if len(kernel) != 4:
            raise ValueError(f"Conv2D: kernel must be (in_c, k_h, k_w, out_c), got {kernel!r}")
        in_c, k_h, k_w, out_c = kernel
        self.in_c = None if in_c is None else _positive_int(in_c, "Conv2D", "kernel in_c")
        self.kernel_hw = (_positive_int(k_h, "Conv2D", "kernel k_h"), _positive_int(k_w, "Conv2D", "kernel k_w"))
        self.out_c = _positive_int(out_c, "Conv2D", "kernel out_c")
        self.stride = _pair(stride, "Conv2D", "stride")
        self.padding = _padding_mode(padding, self.stride, "Conv2D")
        self.w_init, self.b_init, self.rng = w_init, b_init, make_rng(rng)
        if self.in_c is not None:
            self._build(self.in_c)

    def __repr__(self):
        kernel = (self.in_c, *self.kernel_hw, self.out_c)
        return f"Conv2D(kernel={kernel}, stride={self.stride}, padding={self.padding!r})"

    @property
    def is_init(self):
        return "weight" in self.params

    def _build(self, in_c):
        self.in_c = in_c
        self.params["weight"] = self.w_init((in_c, *self.kernel_hw, self.out_c), self.rng)
        self.params["bias"] = self.b_init((self.out_c,), self.rng)
        self.zero_grad()

    def _forward(self, x):
        _check_nchw(self, x)
        if not self.is_init:
            self._build(x.shape[1])
        weight = self.params["weight"]
        if x.shape[1] != weight.shape[0]:
            raise ValueError(
                f"{self!r}: input has {x.shape[1]} channels (shape {x.shape}) but the "
                f"weight {weight.shape} expects {weight.shape[0]}"
            )
        check_finite(x, self)
        pads, out_hw = _window_geometry(self, x, weight.shape[1:3], self.stride, self.padding)
        padded = _pad(x, pads)
        windows = _gather_windows(padded, weight.shape[1:3], self.stride, out_hw)
        batch, out_c = x.shape[0], weight.shape[3]
        columns = windows.reshape(batch, -1, out_hw[0] * out_hw[1])  # (B, K, HW)
        weight_rows = weight.reshape(-1, out_c).T.astype(x.dtype, copy=False)  # (O, K)
        y = weight_rows @ columns
        y += self.params["bias"].astype(x.dtype, copy=False)[:, None]
        return y.reshape(batch, out_c, *out_hw), (x.shape, padded.shape, pads, columns)

    def _backward(self, grad, cache):
        """grad: dL/dy (B, O, H_out, W_out). With the forward as Y_b = W_r C_b + b
        per image (W_r (O, K), windows C_b (K, HW), Y_b (O, HW)):

            dL/dW_r = sum_b G_b C_b^T       -> reshaped to (in_c, k_h, k_w, O)
            dL/dbias = sum over b, p, q of G
            dL/dC_b = W_r^T G_b             (K, HW), then scattered back onto the
                                            padded input and cropped: dL/dx (B, C, H, W)
        """
        x_shape, padded_shape, pads, columns = cache
        weight = self.params["weight"]
        batch, out_c = grad.shape[:2]
        flat_grad = grad.reshape(batch, out_c, -1)  # (B, O, HW)
        weight_rows = weight.reshape(-1, out_c).T.astype(grad.dtype, copy=False)
        grad_weight_rows = (flat_grad @ columns.transpose(0, 2, 1)).sum(axis=0)  # (O, K)
        self.grads["weight"] = grad_weight_rows.T.reshape(weight.shape).astype(weight.dtype, copy=False)
        self.grads["bias"] = flat_grad.sum(axis=(0, 2)).astype(self.params["bias"].dtype, copy=False)
        grad_columns = weight_rows.T @ flat_grad  # (B, K, HW)
        grad_windows = grad_columns.reshape(batch, weight.shape[0], *weight.shape[1:3], *grad.shape[2:])
        grad_padded = _scatter_windows(grad_windows, padded_shape, self.stride)
        return _crop(grad_padded, pads, *x_shape[2:])


class MaxPool2D(Module):
    """Max over each pool_size window of NCHW input (zero padding for "SAME",
    stride (1, 1) only). stride defaults to pool_size.

        y[b, c, p, q] = max_{i,j} x_pad[b, c, p s_h + i, q s_w + j]
    """

    def __init__(self, pool_size, stride=None, padding="VALID"):
        super().__init__()
        self.pool_size = _pair(pool_size, "MaxPool2D", "pool_size")
        self.stride = self.pool_size if stride is None else _pair(stride, "MaxPool2D", "stride")
        self.padding = _padding_mode(padding, self.stride, "MaxPool2D")

    def __repr__(self):
        return f"MaxPool2D(pool_size={self.pool_size}, stride={self.stride}, padding={self.padding!r})"

    def _forward(self, x):
        _check_nchw(self, x)
        pads, out_hw = _window_geometry(self, x, self.pool_size, self.stride, self.padding)
        padded = _pad(x, pads)
        windows = _gather_windows(padded, self.pool_size, self.stride, out_hw)
        windows = windows.reshape(*x.shape[:2], -1, *out_hw)  # (B, C, k_h k_w, H_out, W_out)
        y = windows.max(axis=2)
        # One-hot mask of each window's first maximum, built with a loop over the
        # k_h k_w offsets (argmax along a short middle axis is ~10x slower).
        is_winner = windows == y[:, :, None]
        found = is_winner[:, :, 0].copy()
        for offset in range(1, is_winner.shape[2]):
            is_winner[:, :, offset] &= ~found
            found |= is_winner[:, :, offset]
        return y, (x.shape, padded.shape, pads, is_winner)

    def _backward(self, grad, cache):
        """y = x at the window's first maximum, so dL/dx gets grad there and 0
        elsewhere in that window; overlapping windows add up (via scatter)."""
        x_shape, padded_shape, pads, is_winner = cache
        grad_windows = is_winner * grad[:, :, None]  # (B, C, k_h k_w, H_out, W_out)
        grad_windows = grad_windows.reshape(*grad.shape[:2], *self.pool_size, *grad.shape[2:])
        grad_padded = _scatter_windows(grad_windows, padded_shape, self.stride)
        return _crop(grad_padded, pads, *x_shape[2:])


class Reshape(Module):
    """(b, ...) -> (b, *shape), keeping the batch dim; one entry may be -1
    (inferred), so ``Reshape(-1)`` flattens each example."""

    def __init__(self, *shape):
        super().__init__()
        if not shape or not all(isinstance(n, (int, np.integer)) and (n > 0 or n == -1) for n in shape) \
                or shape.count(-1) > 1:
            raise ValueError(f"Reshape: shape must be positive ints with at most one -1, got {shape}")
        self.shape = tuple(int(n) for n in shape)

    def __repr__(self):
        return f"Reshape{self.shape}"

    def _forward(self, x):
        if x.ndim == 0:
            raise ValueError(f"{self!r}: expected input (batch, ...), got a scalar")
        per_example = int(np.prod(x.shape[1:]))
        known = int(np.prod([n for n in self.shape if n != -1]))
        fits = per_example % known == 0 if -1 in self.shape else per_example == known
        if not fits:
            raise ValueError(
                f"{self!r}: cannot reshape input {x.shape} to (batch, *{self.shape}): "
                f"{per_example} values per example"
            )
        return x.reshape(x.shape[0], *self.shape), x.shape

    def _backward(self, grad, x_shape):
        """Reshaping moves no values, so the gradient is reshaped back."""
        return grad.reshape(x_shape)
