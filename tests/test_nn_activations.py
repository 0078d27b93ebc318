"""Activations: values against textbook formulas, the ``out=`` contract the
playground engine relies on, and numerical stability at extreme inputs."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose

import nn

X = np.linspace(-6.0, 6.0, 49)

REFERENCE = {  # name: (f(x), f'(x)), written from the definitions
    "relu": (lambda x: np.where(x > 0, x, 0.0), lambda x: np.where(x > 0, 1.0, 0.0)),
    "tanh": (np.tanh, lambda x: 1.0 / np.cosh(x) ** 2),
    "sigmoid": (lambda x: 1 / (1 + np.exp(-x)), lambda x: np.exp(-x) / (1 + np.exp(-x)) ** 2),
    "linear": (lambda x: x, lambda x: np.ones_like(x)),
    "leakyrelu": (lambda x: np.where(x > 0, x, 0.01 * x), lambda x: np.where(x > 0, 1.0, 0.01)),
    "elu": (lambda x: np.where(x > 0, x, np.exp(x) - 1), lambda x: np.where(x > 0, 1.0, np.exp(x))),
    "softplus": (lambda x: np.log1p(np.exp(x)), lambda x: 1 / (1 + np.exp(-x))),
    "swish": (lambda x: x / (1 + np.exp(-x)),
              lambda x: 1 / (1 + np.exp(-x)) + x * np.exp(-x) / (1 + np.exp(-x)) ** 2),
}


def test_registry_has_the_playground_names():
    assert set(nn.ACTIVATIONS) == set(REFERENCE)
    assert all(issubclass(cls, nn.Activation) for cls in nn.ACTIVATIONS.values())
    assert isinstance(nn.get_activation("linear"), nn.Identity)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_function_and_derivative_match_the_definition(name):
    activation = nn.get_activation(name)
    function, derivative = REFERENCE[name]
    y = activation.function(X)
    assert_allclose(y, function(X), rtol=1e-12, atol=1e-14)
    assert_allclose(activation.derivative(X, y), derivative(X), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_a_bound_call_writes_f_into_its_buffer_each_time_it_runs(name):
    activation = nn.get_activation(name)
    x, out = X.copy(), np.full_like(X, np.nan)
    call = activation.bind(x, out)
    call()
    assert_allclose(out, REFERENCE[name][0](X), rtol=1e-12, atol=1e-14)
    x *= -0.5  # the playground's training writes new inputs into the same buffer and calls again
    call()
    assert_allclose(out, REFERENCE[name][0](-0.5 * X), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_a_bound_derivative_writes_f_prime_into_its_buffer_each_time_it_runs(name):
    activation = nn.get_activation(name)
    x, y, out = X.copy(), activation.function(X), np.full_like(X, np.nan)
    call = activation.bind_derivative(x, y, out)
    call()
    assert_allclose(out, REFERENCE[name][1](X), rtol=1e-10, atol=1e-14)
    x *= -0.5
    activation.function(x, out=y)
    call()
    assert_allclose(out, REFERENCE[name][1](-0.5 * X), rtol=1e-10, atol=1e-14)


def test_relu_derivative_is_zero_at_zero_like_the_playground():
    assert nn.ReLU().derivative(np.array([0.0]), np.array([0.0]))[0] == 0.0


@pytest.mark.parametrize("name", sorted(REFERENCE))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_out_is_written_and_returned(name, dtype):
    activation = nn.get_activation(name)
    x = X.astype(dtype)
    out = np.full_like(x, np.nan)
    y = activation.function(x, out=out)
    assert y is out and y.dtype == dtype
    assert_allclose(y, activation.function(x), rtol=1e-6)
    slope_out = np.full_like(x, np.nan)
    slope = activation.derivative(x, y, out=slope_out)
    assert slope is slope_out
    assert_allclose(slope, activation.derivative(x, y), rtol=1e-6)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_function_does_not_modify_or_alias_its_input(name):
    x = X.copy()
    y = nn.get_activation(name).function(x)
    assert not np.shares_memory(x, y)
    assert_allclose(x, X)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_extreme_inputs_give_finite_values_without_warnings(name):
    activation = nn.get_activation(name)
    x = np.array([-1e4, -800.0, -50.0, 50.0, 800.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = activation.function(x)
        slope = activation.derivative(x, y)
    assert np.isfinite(y).all() and np.isfinite(slope).all()


def test_module_backward_is_grad_times_derivative():
    activation = nn.Sigmoid()
    y = activation.forward(X)
    grad = np.linspace(1, 2, X.size)
    assert_allclose(activation.backward(grad), grad * y * (1 - y))
