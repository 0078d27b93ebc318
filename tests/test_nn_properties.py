"""Property tests: for random valid shapes, strides and paddings, outputs have the
shapes the formulas give and gradients the shapes of what they differentiate."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import nn

SETTINGS = settings(max_examples=60, deadline=None)


def expected_size(n, k, s, padding):
    """SAME: n (stride 1); VALID: (n - k) // s + 1."""
    return n if padding == "SAME" else (n - k) // s + 1


@st.composite
def window_case(draw):
    padding = draw(st.sampled_from(["SAME", "VALID"]))
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (1, 1) if padding == "SAME" else (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    height = draw(st.integers(kernel[0], kernel[0] + 6))
    width = draw(st.integers(kernel[1], kernel[1] + 6))
    batch, channels = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    return padding, kernel, stride, (batch, channels, height, width)


def check_shapes(module, x, expected_shape):
    y = module.forward(x)
    assert y.shape == expected_shape
    assert module.predict(x).shape == expected_shape
    assert module.backward(np.ones_like(y)).shape == x.shape
    for owner, name in module.parameters():
        assert owner.grads[name].shape == owner.params[name].shape


@SETTINGS
@given(window_case(), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_conv2d_shapes(case, out_c, seed):
    padding, kernel, stride, x_shape = case
    layer = nn.Conv2D((None, *kernel, out_c), stride, padding, rng=seed)
    x = np.random.default_rng(seed).normal(size=x_shape)
    out_hw = tuple(expected_size(n, k, s, padding) for n, k, s in zip(x_shape[2:], kernel, stride))
    check_shapes(layer, x, (x_shape[0], out_c, *out_hw))


@SETTINGS
@given(window_case(), st.integers(0, 2**32 - 1))
def test_maxpool2d_shapes(case, seed):
    padding, pool, stride, x_shape = case
    x = np.random.default_rng(seed).normal(size=x_shape)
    out_hw = tuple(expected_size(n, k, s, padding) for n, k, s in zip(x_shape[2:], pool, stride))
    check_shapes(nn.MaxPool2D(pool, stride, padding), x, (*x_shape[:2], *out_hw))


@SETTINGS
@given(st.lists(st.integers(1, 4), max_size=3), st.integers(1, 5), st.integers(1, 5))
def test_linear_shapes(leading_dims, d_in, d_out):
    x = np.ones((*leading_dims, d_in))
    check_shapes(nn.Linear(d_in, d_out, rng=0), x, (*leading_dims, d_out))


@SETTINGS
@given(st.integers(1, 4), st.lists(st.integers(1, 4), min_size=1, max_size=3), st.data())
def test_reshape_shapes(batch, example_shape, data):
    size = int(np.prod(example_shape))
    divisor = data.draw(st.sampled_from([d for d in range(1, size + 1) if size % d == 0]))
    x = np.ones((batch, *example_shape))
    check_shapes(nn.Reshape(-1), x, (batch, size))
    check_shapes(nn.Reshape(divisor, -1), x, (batch, divisor, size // divisor))


@SETTINGS
@given(st.sampled_from(sorted(nn.ACTIVATIONS)), st.lists(st.integers(1, 4), max_size=3))
def test_activation_shapes(name, shape):
    x = np.linspace(-3, 3, int(np.prod(shape))).reshape(shape)
    check_shapes(nn.get_activation(name), x, tuple(shape))
