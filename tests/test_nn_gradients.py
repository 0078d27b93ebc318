"""Finite-difference gradient checks (central differences, float64) of every layer,
activation, loss and regularizer, w.r.t. the input and every parameter."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

import nn

EPS = 1e-6


def numerical_gradient(scalar_fn, array):
    """d scalar_fn() / d array by central differences, perturbing ``array`` in place."""
    grad = np.zeros_like(array)
    for index in np.ndindex(array.shape):
        saved = array[index]
        array[index] = saved + EPS
        plus = scalar_fn()
        array[index] = saved - EPS
        minus = scalar_fn()
        array[index] = saved
        grad[index] = (plus - minus) / (2 * EPS)
    return grad


def check_gradients(module, x, seed=0):
    """Compare backward's dL/dx and every dL/dparam with finite differences of
    L = sum(R * module(x)) for a fixed random R (so dL/dy = R)."""
    x = np.array(x, dtype=np.float64)
    y = module.forward(x)
    upstream = np.random.default_rng(seed).normal(size=y.shape)
    grad_x = module.backward(upstream)
    assert grad_x.shape == x.shape

    def loss():
        return float(np.sum(upstream * module.predict(x)))

    assert_allclose(grad_x, numerical_gradient(loss, x), rtol=1e-5, atol=1e-8)
    for owner, name in module.parameters():
        assert owner.grads[name].shape == owner.params[name].shape
        assert_allclose(owner.grads[name], numerical_gradient(loss, owner.params[name]),
                        rtol=1e-5, atol=1e-8, err_msg=f"{owner!r} {name}")


def normal(*shape, seed=1):
    return np.random.default_rng(seed).normal(size=shape)


def distinct(*shape, seed=1):
    """Values at least 0.05 apart and from 0, so max-pooling has no near-ties
    (a finite difference across a tie or a kink would be meaningless)."""
    rng = np.random.default_rng(seed)
    size = int(np.prod(shape))
    values = (np.arange(size) + 1.0) * 0.05 * rng.choice([-1.0, 1.0], size=size)
    return rng.permutation(values).reshape(shape)


# ---- Linear ---------------------------------------------------------------

@pytest.mark.parametrize("x_shape", [(4,), (3, 4), (2, 5, 4)], ids=["unbatched", "batched", "2x5 leading dims"])
def test_linear_gradients(x_shape):
    check_gradients(nn.Linear(4, 3, b_init=nn.Normal(), rng=0), normal(*x_shape))


def test_linear_on_a_2_4_5_input():
    check_gradients(nn.Linear(5, 2, b_init=nn.Normal(), rng=0), normal(2, 4, 5))


def test_linear_unbatched_weight_grad_is_outer_product():
    layer = nn.Linear(3, 2, rng=0)
    x, g = np.array([1.0, 2.0, -1.0]), np.array([0.5, -3.0])
    layer.forward(x)
    layer.backward(g)
    assert_allclose(layer.grads["weight"], np.outer(x, g))
    assert_allclose(layer.grads["bias"], g)


# ---- Conv2D ---------------------------------------------------------------

CONV_CASES = {
    "stride 2x2 VALID": dict(kernel=(2, 3, 3, 3), stride=(2, 2), padding="VALID", x=(2, 2, 7, 8)),
    "stride 3x1 VALID": dict(kernel=(2, 2, 3, 2), stride=(3, 1), padding="VALID", x=(2, 2, 8, 5)),
    "odd 3x3 SAME": dict(kernel=(3, 3, 3, 2), stride=(1, 1), padding="SAME", x=(2, 3, 5, 4)),
    "even 2x2 SAME (asymmetric pad)": dict(kernel=(2, 2, 2, 3), stride=(1, 1), padding="SAME", x=(2, 2, 4, 5)),
    "even 4x2 SAME, non-square": dict(kernel=(3, 4, 2, 2), stride=(1, 1), padding="SAME", x=(1, 3, 6, 3)),
    "1x1 kernel, several channels": dict(kernel=(4, 1, 1, 5), stride=(1, 1), padding="VALID", x=(2, 4, 3, 2)),
}


@pytest.mark.parametrize("case", CONV_CASES.values(), ids=CONV_CASES.keys())
def test_conv2d_gradients(case):
    layer = nn.Conv2D(case["kernel"], case["stride"], case["padding"], b_init=nn.Normal(), rng=0)
    check_gradients(layer, normal(*case["x"]))


# ---- MaxPool2D --------------------------------------------------------------

POOL_CASES = {
    "2x2 stride 2": dict(pool_size=2, stride=None, padding="VALID", x=(2, 2, 4, 6)),
    "3x3 stride 1 (overlapping)": dict(pool_size=3, stride=1, padding="VALID", x=(2, 2, 5, 6)),
    "3x3 stride 2 (overlapping)": dict(pool_size=3, stride=2, padding="VALID", x=(1, 3, 7, 6)),
    "2x3 SAME": dict(pool_size=(2, 3), stride=1, padding="SAME", x=(2, 2, 4, 5)),
    "3x3 SAME": dict(pool_size=3, stride=1, padding="SAME", x=(1, 2, 5, 4)),
}


@pytest.mark.parametrize("case", POOL_CASES.values(), ids=POOL_CASES.keys())
def test_maxpool2d_gradients(case):
    layer = nn.MaxPool2D(case["pool_size"], case["stride"], case["padding"])
    check_gradients(layer, distinct(*case["x"]))


# ---- Reshape, activations, small CNN -------------------------------------------

@pytest.mark.parametrize("shape", [(-1,), (3, 4), (2, -1)])
def test_reshape_gradients(shape):
    check_gradients(nn.Reshape(*shape), normal(2, 3, 2, 2))


@pytest.mark.parametrize("name", sorted(nn.ACTIVATIONS))
def test_activation_gradients(name):
    # distinct() keeps inputs off the kinks of ReLU/LeakyReLU/ELU at 0.
    check_gradients(nn.get_activation(name), distinct(3, 7) * 0.8)


@pytest.mark.parametrize("activation", [nn.LeakyReLU(0.2), nn.ELU(0.5)], ids=repr)
def test_parametrised_activation_gradients(activation):
    check_gradients(activation, distinct(4, 5))


def small_cnn(rng=0):
    rng = np.random.default_rng(rng)
    return nn.Sequential(
        nn.Conv2D((2, 3, 3, 3), padding="SAME", b_init=nn.Normal(0, 0.1), rng=rng),
        nn.ReLU(),
        nn.MaxPool2D(2),
        nn.Reshape(-1),
        nn.Linear(None, 4, rng=rng),
        nn.Tanh(),
    )


def test_small_cnn_end_to_end_gradients():
    model = small_cnn()
    check_gradients(model, normal(2, 2, 6, 4))
    assert len(model.parameters()) == 4


# ---- losses and regularizers -----------------------------------------------------

def check_loss_gradient(loss, pred, target):
    pred = np.array(pred, dtype=np.float64)
    loss.forward(pred, target)
    grad = loss.backward()
    assert grad.shape == pred.shape
    assert_allclose(grad, numerical_gradient(lambda: loss.forward(pred, target), pred), rtol=1e-5, atol=1e-9)


def test_half_squared_error_gradient():
    check_loss_gradient(nn.HalfSquaredError(), normal(5, 2), normal(5, 2, seed=2))


def test_binary_cross_entropy_gradient():
    target = np.random.default_rng(2).uniform(size=(6, 1))
    target[:3] = np.round(target[:3])
    check_loss_gradient(nn.BinaryCrossEntropy(), 3 * normal(6, 1), target)


def test_softmax_cross_entropy_gradient():
    check_loss_gradient(nn.SoftmaxCrossEntropy(), 2 * normal(5, 4), np.array([0, 3, 1, 1, 2]))


@pytest.mark.parametrize("regularizer", [nn.L1(0.3), nn.L2(0.3)], ids=repr)
def test_regularizer_gradient_is_derivative_of_penalty(regularizer):
    model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.Tanh(), nn.Linear(4, 2, rng=1))
    model.zero_grad()
    regularizer.add_gradients(model)
    for owner, name in model.parameters():
        expected = numerical_gradient(lambda: regularizer.penalty(model), owner.params[name])
        assert_allclose(owner.grads[name], expected, rtol=1e-5, atol=1e-9)
    assert_allclose(model[0].grads["bias"], 0.0)  # biases are not regularized
