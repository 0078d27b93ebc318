"""Losses (values, stability, strict shapes), regularizers and optimizers."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

import nn


# ---- losses ---------------------------------------------------------------

def test_half_squared_error_is_the_mean_of_half_squares():
    assert nn.HalfSquaredError().forward(np.array([1.0, 3.0]), np.array([0.0, 1.0])) == pytest.approx((0.5 + 2.0) / 2)


def test_binary_cross_entropy_matches_the_probability_formula():
    logits, target = np.array([-2.0, 0.5, 3.0]), np.array([0.0, 1.0, 0.3])
    p = 1 / (1 + np.exp(-logits))
    expected = np.mean(-target * np.log(p) - (1 - target) * np.log(1 - p))
    assert nn.BinaryCrossEntropy().forward(logits, target) == pytest.approx(expected, rel=1e-12)


def test_binary_cross_entropy_is_stable_for_huge_logits():
    loss = nn.BinaryCrossEntropy()
    value = loss.forward(np.array([1000.0, -1000.0]), np.array([0.0, 1.0]))
    assert value == pytest.approx(1000.0)  # each term is |z|
    assert_allclose(loss.backward(), [0.5, -0.5])


def test_softmax_cross_entropy_matches_the_probability_formula_and_is_stable():
    logits, labels = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]]), np.array([1, 0])
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    expected = -np.mean(np.log(p[[0, 1], labels]))
    loss = nn.SoftmaxCrossEntropy()
    assert loss.forward(logits, labels) == pytest.approx(expected, rel=1e-12)
    assert loss.forward(logits + 1e4, labels) == pytest.approx(expected, rel=1e-9)  # no overflow
    assert_allclose(loss.backward().sum(axis=1), 0.0, atol=1e-15)


@pytest.mark.parametrize("loss, pred, target, message", [
    (nn.HalfSquaredError(), np.ones((4, 1)), np.ones(4), r"HalfSquaredError.*\(4, 1\).*\(4,\)"),
    (nn.HalfSquaredError(), np.array([np.nan]), np.ones(1), r"HalfSquaredError.*pred.*non-finite"),
    (nn.BinaryCrossEntropy(), np.ones(2), np.array([0.0, 2.0]), r"BinaryCrossEntropy.*\[0, 1\]"),
    (nn.SoftmaxCrossEntropy(), np.ones((3, 4)), np.array([0, 1, 4]), r"SoftmaxCrossEntropy.*\[0, 4\)"),
    (nn.SoftmaxCrossEntropy(), np.ones((3, 4)), np.array([0.0, 1.0, 2.0]), r"SoftmaxCrossEntropy.*integer"),
    (nn.SoftmaxCrossEntropy(), np.ones((3, 4)), np.zeros((3, 1), int), r"SoftmaxCrossEntropy.*\(3, 1\).*\(3,\)"),
    (nn.SoftmaxCrossEntropy(), np.ones(4), np.zeros(1, int), r"SoftmaxCrossEntropy.*\(N, C\).*\(4,\)"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_bad_loss_input_raises_value_error(loss, pred, target, message):
    with pytest.raises(ValueError, match=message):
        loss.forward(pred, target)


def test_loss_gradient_dtype_follows_pred():
    loss = nn.HalfSquaredError()
    loss.forward(np.ones(3, np.float32), np.zeros(3))
    assert loss.backward().dtype == np.float32


# ---- regularizers ---------------------------------------------------------------

def test_regularizer_penalties_cover_weights_only():
    model = nn.Linear(2, 2, b_init=nn.Constant(5.0), rng=0)
    model.params["weight"] = np.array([[1.0, -2.0], [0.0, 3.0]])
    assert nn.L1(0.1).penalty(model) == pytest.approx(0.6)
    assert nn.L2(0.1).penalty(model) == pytest.approx(0.05 * 14)


def test_bad_regularizer_rate():
    with pytest.raises(ValueError, match=r"L2: rate.*-1"):
        nn.L2(-1)


# ---- optimizers ---------------------------------------------------------------

def one_parameter(value, grad):
    layer = nn.Linear(1, 1, rng=0)
    layer.params = {"weight": np.array([[value]])}
    layer.grads = {"weight": np.array([[grad]])}
    return layer


def test_sgd_step_is_minus_lr_times_grad():
    layer = one_parameter(1.0, 2.0)
    nn.SGD(0.1).step(layer)
    assert layer.params["weight"][0, 0] == pytest.approx(0.8)


def test_sgd_momentum_accumulates_velocity():
    layer = one_parameter(0.0, 1.0)
    optimizer = nn.SGD(0.1, momentum=0.9)
    optimizer.step(layer)
    optimizer.step(layer)  # velocity 1, then 0.9 * 1 + 1
    assert layer.params["weight"][0, 0] == pytest.approx(-0.1 - 0.19)


def test_adam_first_step_moves_each_parameter_by_lr():
    layer = one_parameter(0.0, -123.0)
    nn.Adam(lr=0.01).step(layer)
    assert layer.params["weight"][0, 0] == pytest.approx(0.01, rel=1e-6)


@pytest.mark.parametrize("optimizer", [nn.SGD(0.1), nn.SGD(0.05, momentum=0.9), nn.Adam(0.1)], ids=repr)
def test_optimizers_minimise_a_quadratic(optimizer):
    layer = nn.Linear(3, 2, rng=0)
    target = np.random.default_rng(1).normal(size=(3, 2))
    for _ in range(300):
        layer.grads = {"weight": layer.params["weight"] - target, "bias": layer.params["bias"].copy()}
        optimizer.step(layer)
    assert_allclose(layer.params["weight"], target, atol=1e-2)
    assert_allclose(layer.params["bias"], 0.0, atol=1e-2)


@pytest.mark.parametrize("make, message", [
    (lambda: nn.SGD(0.0), r"SGD: lr.*> 0.*0.0"),
    (lambda: nn.SGD(np.inf), r"SGD: lr.*inf"),
    (lambda: nn.SGD(0.1, momentum=1.0), r"SGD: momentum.*\[0.0, 1.0\).*1.0"),
    (lambda: nn.Adam(beta2=1.5), r"Adam: beta2.*1.5"),
])
def test_bad_optimizer_settings(make, message):
    with pytest.raises(ValueError, match=message):
        make()
