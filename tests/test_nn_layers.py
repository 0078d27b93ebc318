"""Behaviour of the nn layers a user relies on: forward values against plain
reference formulas, padding conventions, the Module contract (params, grads,
lazy shapes, predict vs forward), dtypes, and clear errors on bad input."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

import nn


def reference_conv2d(x, weight, bias, stride, pads):
    """Loop-over-pixels cross-correlation: the definition, written plainly."""
    (s_h, s_w), ((top, bottom), (left, right)) = stride, pads
    padded = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    _, k_h, k_w, out_c = weight.shape
    out_h = (padded.shape[2] - k_h) // s_h + 1
    out_w = (padded.shape[3] - k_w) // s_w + 1
    y = np.zeros((x.shape[0], out_c, out_h, out_w))
    for b in range(x.shape[0]):
        for p in range(out_h):
            for q in range(out_w):
                patch = padded[b, :, p * s_h:p * s_h + k_h, q * s_w:q * s_w + k_w]
                y[b, :, p, q] = np.tensordot(patch, weight, axes=3) + bias
    return y


def reference_maxpool2d(x, pool, stride, pads):
    (s_h, s_w), ((top, bottom), (left, right)) = stride, pads
    padded = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    out_h = (padded.shape[2] - pool[0]) // s_h + 1
    out_w = (padded.shape[3] - pool[1]) // s_w + 1
    y = np.zeros(x.shape[:2] + (out_h, out_w))
    for p in range(out_h):
        for q in range(out_w):
            y[:, :, p, q] = padded[:, :, p * s_h:p * s_h + pool[0], q * s_w:q * s_w + pool[1]].max(axis=(2, 3))
    return y


seeded = np.random.default_rng


def small_cnn():
    """Conv2D -> ReLU -> MaxPool2D -> Reshape(-1) -> Linear -> Tanh, seeded."""
    generator = seeded(0)
    return nn.Sequential(
        nn.Conv2D((2, 3, 3, 3), rng=generator), nn.ReLU(), nn.MaxPool2D(2), nn.Reshape(-1),
        nn.Linear(None, 4, rng=generator), nn.Tanh(),
    )


# ---- forward values ---------------------------------------------------------------

def test_linear_forward_is_x_at_w_plus_b_for_any_leading_dims():
    layer = nn.Linear(3, 2, b_init=nn.Normal(), rng=0)
    x = seeded(1).normal(size=(2, 4, 3))
    expected = np.einsum("abi,ik->abk", x, layer.params["weight"]) + layer.params["bias"]
    assert_allclose(layer.forward(x), expected)
    assert_allclose(layer.forward(x[0, 0]), expected[0, 0])


@pytest.mark.parametrize("k_h, k_w, stride, padding, pads", [
    (3, 3, (1, 1), "SAME", ((1, 1), (1, 1))),
    (2, 2, (1, 1), "SAME", ((0, 1), (0, 1))),   # even kernel: the extra zero goes after
    (4, 1, (1, 1), "SAME", ((1, 2), (0, 0))),
    (3, 2, (2, 2), "VALID", ((0, 0), (0, 0))),
    (2, 3, (3, 1), "VALID", ((0, 0), (0, 0))),
])
def test_conv2d_matches_loop_reference_with_documented_padding(k_h, k_w, stride, padding, pads):
    layer = nn.Conv2D((3, k_h, k_w, 4), stride, padding, b_init=nn.Normal(), rng=0)
    x = seeded(1).normal(size=(2, 3, 7, 5))
    expected = reference_conv2d(x, layer.params["weight"], layer.params["bias"], stride, pads)
    assert_allclose(layer.forward(x), expected, atol=1e-12)


def test_conv2d_same_keeps_spatial_size_and_valid_shrinks_it():
    x = np.zeros((1, 1, 6, 9))
    assert nn.Conv2D((1, 4, 3, 2), padding="SAME", rng=0).forward(x).shape == (1, 2, 6, 9)
    assert nn.Conv2D((1, 4, 3, 2), padding="VALID", rng=0).forward(x).shape == (1, 2, 3, 7)
    assert nn.Conv2D((1, 2, 2, 2), (2, 3), "VALID", rng=0).forward(x).shape == (1, 2, 3, 3)


@pytest.mark.parametrize("pool, stride, padding, pads", [
    ((2, 2), (2, 2), "VALID", ((0, 0), (0, 0))),
    ((3, 3), (1, 1), "VALID", ((0, 0), (0, 0))),
    ((3, 3), (2, 2), "VALID", ((0, 0), (0, 0))),
    ((2, 3), (1, 1), "SAME", ((0, 1), (1, 1))),
])
def test_maxpool2d_matches_loop_reference(pool, stride, padding, pads):
    x = seeded(0).normal(size=(2, 3, 7, 6))
    assert_allclose(nn.MaxPool2D(pool, stride, padding).forward(x), reference_maxpool2d(x, pool, stride, pads))


def test_maxpool2d_same_pads_with_zeros():
    x = -np.ones((1, 1, 3, 3))
    y = nn.MaxPool2D(2, 1, "SAME").forward(x)
    assert_allclose(y[0, 0, -1, :], 0.0)  # windows reaching the zero padding
    assert_allclose(y[0, 0, 0, 0], -1.0)


def test_maxpool2d_gradient_goes_to_the_first_maximum():
    layer = nn.MaxPool2D(2)
    layer.forward(np.ones((1, 1, 2, 2)))
    assert_allclose(layer.backward(np.full((1, 1, 1, 1), 5.0))[0, 0], [[5.0, 0.0], [0.0, 0.0]])


def test_maxpool2d_gradient_accumulates_where_windows_overlap():
    x = np.zeros((1, 1, 5, 5))
    x[0, 0, 2, 2] = 1.0  # the maximum of all nine 3x3 windows
    layer = nn.MaxPool2D(3, 1)
    layer.forward(x)
    grad_x = layer.backward(np.ones((1, 1, 3, 3)))
    assert grad_x[0, 0, 2, 2] == 9.0
    assert grad_x.sum() == 9.0


def test_reshape_keeps_batch_dim_and_flattens():
    x = np.arange(24.0).reshape(2, 3, 4)
    assert nn.Reshape(-1).forward(x).shape == (2, 12)
    assert nn.Reshape(4, 3).forward(x).shape == (2, 4, 3)
    layer = nn.Reshape(-1)
    layer.forward(x)
    assert_allclose(layer.backward(np.arange(24.0).reshape(2, 12)), x)


# ---- Module contract ------------------------------------------------------------

def test_params_and_grads_are_dicts_with_matching_shapes():
    layer = nn.Conv2D((2, 3, 3, 4), rng=0)
    assert layer.param_names == ["weight", "bias"]
    assert layer.params["weight"].shape == (2, 3, 3, 4) and layer.params["bias"].shape == (4,)
    layer.forward(np.ones((1, 2, 5, 5)))
    layer.backward(np.ones((1, 4, 5, 5)))
    assert {k: v.shape for k, v in layer.grads.items()} == {k: v.shape for k, v in layer.params.items()}


def test_assigning_a_param_replaces_it():
    layer = nn.Linear(2, 1, rng=0)
    layer.params["weight"] = np.array([[2.0], [3.0]])
    layer.params["bias"] = np.array([1.0])
    assert_allclose(layer.forward(np.array([1.0, 1.0])), [6.0])


def test_lazy_linear_and_conv_learn_input_size_at_first_forward():
    linear, conv = nn.Linear(None, 3, rng=0), nn.Conv2D((None, 3, 3, 2), rng=0)
    assert not linear.is_init and not conv.is_init and linear.params == {}
    linear.forward(np.ones((5, 7)))
    conv.forward(np.ones((1, 4, 6, 6)))
    assert linear.is_init and linear.params["weight"].shape == (7, 3)
    assert conv.is_init and conv.params["weight"].shape == (4, 3, 3, 2)


def test_same_seed_gives_same_model():
    x = seeded(0).normal(size=(4, 2))
    first = nn.mlp([2, 5, 1], rng=42).forward(x)
    assert_allclose(nn.mlp([2, 5, 1], rng=42).forward(x), first)
    assert not np.allclose(nn.mlp([2, 5, 1], rng=43).forward(x), first)


def test_predict_between_forward_and_backward_does_not_corrupt_gradients():
    x, upstream = seeded(0).normal(size=(2, 2, 6, 4)), seeded(1).normal(size=(2, 4))
    reference = small_cnn()
    reference.forward(x)
    reference.backward(upstream)

    model = small_cnn()
    model.forward(x)
    grid = seeded(2).normal(size=(100, 2, 6, 4))
    assert model.predict(grid).shape == (100, 4)  # e.g. a heatmap, mid-step
    model.backward(upstream)
    for (owner, name), (ref_owner, _) in zip(model.parameters(), reference.parameters()):
        assert_allclose(owner.grads[name], ref_owner.grads[name])


def test_predict_equals_forward():
    model, x = small_cnn(), seeded(0).normal(size=(3, 2, 6, 4))
    assert_allclose(model.predict(x), model.forward(x))


def test_zero_grad_and_backward_overwrites():
    model = nn.mlp([2, 3, 1], rng=0)
    x = np.ones((4, 2))
    model.forward(x)
    model.backward(np.ones((4, 1)))
    once = [owner.grads[name].copy() for owner, name in model.parameters()]
    model.forward(x)
    model.backward(np.ones((4, 1)))
    for (owner, name), grad in zip(model.parameters(), once):
        assert_allclose(owner.grads[name], grad)  # the same, not doubled
    model.zero_grad()
    assert all(not owner.grads[name].any() for owner, name in model.parameters())


def test_mlp_builds_playground_network():
    model = nn.mlp([2, 8, 8, 1], activation="relu", output="tanh", rng=0)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Linear", "ReLU", "Linear", "ReLU", "Linear", "Tanh"]
    assert [model[i].params["weight"].shape for i in (0, 2, 4)] == [(2, 8), (8, 8), (8, 1)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_output_and_gradient_dtype_follow_the_input(dtype):
    model = small_cnn()
    x = seeded(0).normal(size=(2, 2, 6, 4)).astype(dtype)
    y = model.forward(x)
    assert y.dtype == dtype
    assert model.backward(np.ones(y.shape, dtype)).dtype == dtype
    assert model.predict(x).dtype == dtype


def test_integer_input_is_treated_as_float64():
    assert nn.Linear(2, 1, rng=0).forward(np.array([1, 2])).dtype == np.float64


# ---- initializers ---------------------------------------------------------------

def test_fans_for_linear_and_conv_weights():
    assert nn.fans((3, 5)) == (3, 5)
    assert nn.fans((3, 4, 2, 8)) == (3 * 4 * 2, 8 * 4 * 2)


@pytest.mark.parametrize("init, variance", [
    (nn.XavierUniform(), 2.0 / (300 + 200)),
    (nn.HeUniform(), 2.0 / 300),
    (nn.HeNormal(), 2.0 / 300),
    (nn.Normal(0.0, 0.5), 0.25),
    (nn.Uniform(-0.5, 0.5), 1.0 / 12),
], ids=repr)
def test_initializer_variance(init, variance):
    weights = init((300, 200), seeded(0))
    assert weights.shape == (300, 200)
    assert abs(weights.mean()) < 0.02 * np.sqrt(variance)  # ~5 standard errors
    assert weights.var() == pytest.approx(variance, rel=0.03)


def test_constant_and_zeros():
    assert_allclose(nn.Constant(0.1)((2, 3), seeded(0)), 0.1)
    assert_allclose(nn.Zeros()((4,), seeded(0)), 0.0)


def test_initializer_draws_only_from_the_given_generator():
    assert_allclose(nn.HeNormal()((4, 4), seeded(7)), nn.HeNormal()((4, 4), seeded(7)))


# ---- bad input ---------------------------------------------------------------

@pytest.mark.parametrize("make_layer, x, message", [
    (lambda: nn.Conv2D((3, 3, 3, 2), rng=0), np.ones((3, 8, 8)), r"Conv2D.*NCHW.*\(3, 8, 8\)"),
    (lambda: nn.Conv2D((3, 3, 3, 2), rng=0), np.ones((1, 4, 8, 8)), r"Conv2D.*4 channels.*\(3, 3, 3, 2\)"),
    (lambda: nn.Conv2D((1, 5, 5, 2), padding="VALID", rng=0), np.ones((1, 1, 4, 8)),
     r"Conv2D.*\(5, 5\).*larger than the padded input \(4, 8\)"),
    (lambda: nn.MaxPool2D(3), np.ones((1, 1, 2, 5)), r"MaxPool2D.*\(3, 3\).*larger.*\(2, 5\)"),
    (lambda: nn.MaxPool2D(2), np.ones((4, 4)), r"MaxPool2D.*NCHW.*\(4, 4\)"),
    (lambda: nn.Linear(3, 2, rng=0), np.ones((5, 4)), r"Linear\(3, 2\).*\(5, 4\).*d_in=3"),
    (lambda: nn.Linear(3, 2, rng=0), np.float64(1.0), r"Linear\(3, 2\).*scalar"),
    (lambda: nn.Linear(2, 2, rng=0), np.array([[1.0, np.nan]]), r"Linear\(2, 2\).*non-finite.*\(0, 1\)"),
    (lambda: nn.Conv2D((1, 1, 1, 1), rng=0), np.full((1, 1, 2, 2), np.inf), r"Conv2D.*non-finite"),
    (lambda: nn.Reshape(5), np.ones((2, 6)), r"Reshape\(5,\).*\(2, 6\)"),
    (lambda: nn.Linear(2, 2, rng=0), np.array(["a", "b"]), r"Linear.*real number.*dtype"),
])
def test_bad_forward_input_raises_value_error_naming_layer_and_shapes(make_layer, x, message):
    with pytest.raises(ValueError, match=message):
        make_layer().forward(x)


@pytest.mark.parametrize("make, message", [
    (lambda: nn.Conv2D((1, 3, 3, 1), stride=(2, 2), padding="SAME"), r"Conv2D.*SAME.*stride \(1, 1\).*\(2, 2\)"),
    (lambda: nn.MaxPool2D(2, padding="SAME"), r"MaxPool2D.*SAME.*\(2, 2\)"),
    (lambda: nn.Conv2D((1, 3, 3, 1), padding="FULL"), r"Conv2D.*'SAME' or 'VALID'.*FULL"),
    (lambda: nn.Conv2D((1, 3, 3)), r"Conv2D.*\(in_c, k_h, k_w, out_c\)"),
    (lambda: nn.Conv2D((1, 0, 3, 1)), r"Conv2D.*k_h.*0"),
    (lambda: nn.Linear(2, 0), r"Linear.*d_out.*0"),
    (lambda: nn.Reshape(-1, -1), r"Reshape.*at most one -1"),
    (lambda: nn.Uniform(1.0, -1.0), r"Uniform.*lo < hi"),
    (lambda: nn.Normal(0.0, np.nan), r"Normal.*std.*finite"),
    (lambda: nn.XavierUniform()((3, 0), seeded(0)), r"XavierUniform.*positive ints.*\(3, 0\)"),
    (lambda: nn.HeNormal()((3, 3), 0), r"HeNormal.*np.random.Generator"),
    (lambda: nn.get_activation("gelu"), r"gelu.*relu, tanh, sigmoid, linear"),
    (lambda: nn.LeakyReLU(1.5), r"LeakyReLU.*\[0, 1\).*1.5"),
    (lambda: nn.mlp([3]), r"mlp.*\[3\]"),
    (lambda: nn.Sequential(nn.ReLU(), "tanh"), r"Sequential.*layer 1.*str"),
])
def test_bad_construction_raises_value_error(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_backward_grad_must_have_the_output_shape():
    layer = nn.Linear(3, 2, rng=0)
    layer.forward(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"Linear\(3, 2\).*\(4,\).*\(4, 2\)"):
        layer.backward(np.ones(4))  # would broadcast silently otherwise


def test_backward_before_forward_is_an_error():
    with pytest.raises(RuntimeError, match="Tanh.*before forward"):
        nn.Tanh().backward(np.ones(3))


def test_import_nn_does_not_import_the_playground():
    import subprocess
    import sys
    from pathlib import Path

    code = "import sys, nn; print('nn.playground' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=Path(__file__).resolve().parents[1])
    assert result.stdout.strip() == "False"
