"""Speed of nn.Conv2D and nn.MaxPool2D, forward + backward, measured side by side.

    python bench/bench_layers.py [--dtype float32|float64] [--repeats 30]

For each case it prints ms per forward+backward call (median) of
- the nn layer,
- two baselines written here with Python loops, computing the same forward and
  backward: "naive", the textbook version (one iteration per image, output
  channel and output pixel, like CS231n's conv_forward_naive), and "per-pixel"
  (one iteration per image and output pixel, channels vectorized); target: the
  layer >= 100x faster than the naive loops,
- for Conv2D, the bare matrix multiplies the convolution reduces to, timed alone
  on ready-made contiguous matrices: Y = W_r C, dW_r = G C^T, dC = W_r^T G with
  W_r (out_c, K), C (K, N), G (out_c, N), K = in_c k_h k_w, N = batch H_out W_out;
  target: the layer within 2x of them.

OPENBLAS_NUM_THREADS=1 is set before numpy is imported, so every figure is
single-threaded and the comparison is like for like (the machine has 2 cores,
shared with other work). Figures are wall-clock medians: expect some noise.
"""

import os

os.environ["OPENBLAS_NUM_THREADS"] = "1"  # must precede the numpy import

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout
import nn  # noqa: E402


def median_ms(run, repeats):
    """Median wall time of ``run()`` in ms, after one warm-up call."""
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


# ---- baselines written with Python loops -------------------------------------------
# "naive": the textbook version (as in CS231n's conv_forward_naive), one iteration
#          per (image, output channel, output pixel), a multiply-sum over the window.
# "per-pixel": one iteration per (image, output pixel), vectorized over channels.
# Both compute forward and backward in the same loop, stride 1 for Conv2D.

def naive_conv2d(x, weight, bias, grad, pads):
    """Returns (y, dx, dweight)."""
    padded = np.pad(x, ((0, 0), (0, 0), *pads))
    _, k_h, k_w, out_c = weight.shape
    batch, _, out_h, out_w = grad.shape
    y = np.empty(grad.shape, x.dtype)
    grad_padded, grad_weight = np.zeros_like(padded), np.zeros_like(weight)
    for b in range(batch):
        for o in range(out_c):
            for p in range(out_h):
                for q in range(out_w):
                    window = padded[b, :, p:p + k_h, q:q + k_w]
                    y[b, o, p, q] = np.sum(window * weight[..., o]) + bias[o]
                    grad_weight[..., o] += window * grad[b, o, p, q]
                    grad_padded[b, :, p:p + k_h, q:q + k_w] += weight[..., o] * grad[b, o, p, q]
    (top, _), (left, _) = pads
    return y, grad_padded[:, :, top:top + x.shape[2], left:left + x.shape[3]], grad_weight


def per_pixel_conv2d(x, weight, bias, grad, pads):
    """Returns (y, dx, dweight)."""
    padded = np.pad(x, ((0, 0), (0, 0), *pads))
    in_c, k_h, k_w, out_c = weight.shape
    batch, _, out_h, out_w = grad.shape
    weight_matrix = weight.reshape(-1, out_c)
    y = np.empty(grad.shape, x.dtype)
    grad_padded, grad_weight = np.zeros_like(padded), np.zeros_like(weight_matrix)
    for b in range(batch):
        for p in range(out_h):
            for q in range(out_w):
                patch = padded[b, :, p:p + k_h, q:q + k_w].ravel()
                y[b, :, p, q] = patch @ weight_matrix + bias
                grad_weight += np.outer(patch, grad[b, :, p, q])
                grad_padded[b, :, p:p + k_h, q:q + k_w] += (weight_matrix @ grad[b, :, p, q]).reshape(in_c, k_h, k_w)
    (top, _), (left, _) = pads
    return y, grad_padded[:, :, top:top + x.shape[2], left:left + x.shape[3]], grad_weight.reshape(weight.shape)


def naive_maxpool2d(x, pool, stride, grad):
    """VALID max pooling, gradient to the first maximum. Returns (y, dx)."""
    batch, channels, out_h, out_w = grad.shape
    y, dx = np.empty(grad.shape, x.dtype), np.zeros_like(x)
    for b in range(batch):
        for c in range(channels):
            for p in range(out_h):
                for q in range(out_w):
                    window = x[b, c, p * stride:p * stride + pool, q * stride:q * stride + pool]
                    i, j = np.unravel_index(window.argmax(), window.shape)
                    y[b, c, p, q] = window[i, j]
                    dx[b, c, p * stride + i, q * stride + j] += grad[b, c, p, q]
    return y, dx


def per_pixel_maxpool2d(x, pool, stride, grad):
    """Returns (y, dx)."""
    batch, channels, out_h, out_w = grad.shape
    y, dx = np.empty(grad.shape, x.dtype), np.zeros_like(x)
    channel = np.arange(channels)
    for b in range(batch):
        for p in range(out_h):
            for q in range(out_w):
                window = x[b, :, p * stride:p * stride + pool, q * stride:q * stride + pool].reshape(channels, -1)
                first_max = window.argmax(axis=1)
                y[b, :, p, q] = window[channel, first_max]
                i, j = np.divmod(first_max, pool)
                dx[b, channel, p * stride + i, q * stride + j] += grad[b, :, p, q]
    return y, dx


def once_ms(run):
    """Wall time of one call in ms, and its result."""
    start = time.perf_counter()
    result = run()
    return 1e3 * (time.perf_counter() - start), result


# ---- cases ---------------------------------------------------------------

def bench_conv(shape, out_c, dtype, repeats):
    rng = np.random.default_rng(0)
    x = rng.normal(size=shape).astype(dtype)
    layer = nn.Conv2D((shape[1], 3, 3, out_c), padding="SAME", b_init=nn.Normal(), rng=rng)
    y = layer.forward(x)
    grad = rng.normal(size=y.shape).astype(dtype)
    expected = (y, layer.backward(grad), layer.grads["weight"])
    weight, bias = layer.params["weight"].astype(dtype), layer.params["bias"].astype(dtype)

    def layer_step():
        layer.forward(x)
        layer.backward(grad)

    k, n = shape[1] * 9, shape[0] * y.shape[2] * y.shape[3]
    weight_rows, columns, grad_rows = (rng.normal(size=s).astype(dtype) for s in [(out_c, k), (k, n), (out_c, n)])

    def gemms():
        weight_rows @ columns
        grad_rows @ columns.T
        weight_rows.T @ grad_rows

    tolerance = 1e-3 if dtype == np.float32 else 1e-9
    figures = dict(layer=median_ms(layer_step, repeats), gemm=median_ms(gemms, repeats), agree=True)
    for name, baseline in [("naive", naive_conv2d), ("per_pixel", per_pixel_conv2d)]:
        figures[name], results = once_ms(lambda: baseline(x, weight, bias, grad, ((1, 1), (1, 1))))
        figures["agree"] &= all(np.allclose(a, b, rtol=tolerance, atol=tolerance) for a, b in zip(results, expected))
    return figures


def bench_pool(shape, dtype, repeats):
    rng = np.random.default_rng(0)
    x = rng.normal(size=shape).astype(dtype)
    layer = nn.MaxPool2D(2)
    y = layer.forward(x)
    grad = rng.normal(size=y.shape).astype(dtype)
    expected = (y, layer.backward(grad))

    def layer_step():
        layer.forward(x)
        layer.backward(grad)

    figures = dict(layer=median_ms(layer_step, repeats), gemm=None, agree=True)
    for name, baseline in [("naive", naive_maxpool2d), ("per_pixel", per_pixel_maxpool2d)]:
        figures[name], results = once_ms(lambda: baseline(x, 2, 2, grad))
        figures["agree"] &= all(np.array_equal(a, b) for a, b in zip(results, expected))
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--repeats", type=int, default=30, help="timed calls per layer/GEMM figure")
    args = parser.parse_args()
    dtype = np.dtype(args.dtype).type

    cases = [
        ("Conv2D (32, 3, 32, 32), 16 3x3 SAME", lambda: bench_conv((32, 3, 32, 32), 16, dtype, args.repeats)),
        ("Conv2D (32, 16, 16, 16), 32 3x3 SAME", lambda: bench_conv((32, 16, 16, 16), 32, dtype, args.repeats)),
        ("MaxPool2D 2x2 on (32, 16, 32, 32)", lambda: bench_pool((32, 16, 32, 32), dtype, args.repeats)),
    ]
    print(f"forward+backward, {args.dtype}, OPENBLAS_NUM_THREADS=1, ms per call "
          f"(layer and GEMMs: median of {args.repeats}; loop baselines: 1 call)")
    header = (f"{'case':38s} {'layer':>7s} {'naive':>8s} {'x':>6s} {'per-pixel':>9s} {'x':>5s} "
              f"{'GEMMs':>6s} {'layer/GEMMs':>11s}  same result")
    print(header)
    print("-" * len(header))
    for name, run in cases:
        r = run()
        gemm = f"{r['gemm']:6.2f} {r['layer'] / r['gemm']:10.2f}x" if r["gemm"] else f"{'-':>6s} {'-':>11s}"
        print(f"{name:38s} {r['layer']:7.2f} {r['naive']:8.0f} {r['naive'] / r['layer']:5.0f}x "
              f"{r['per_pixel']:9.0f} {r['per_pixel'] / r['layer']:4.0f}x {gemm}  {'yes' if r['agree'] else 'NO'}")
    print("naive: loop over image, output channel, pixel; per-pixel: loop over image, pixel (channels vectorized)")
    print("targets: layer >= 100x faster than the naive loops; Conv2D layer within 2x of its GEMMs")


if __name__ == "__main__":
    main()
