"""The engine reproduces the original playground's training from a link, to float rounding.

A user who pastes a playground.tensorflow.org link expects the same run as the original: the same data,
the same initial weights, the same loss after every epoch, the same final weights and dead links. The
engine (vectorized) is compared with tests/playground_reference.py, a slow per-node, per-example oracle
written from the original's nn.ts / playground.ts rules. A few checks at the end need neither: they
compute what the rules say by hand with numpy (closed-form updates, numerical gradients).

The links were chosen so that float rounding cannot grow past the tolerance within their epochs (nudging
every initial weight by one ulp moves no loss by more than ~1e-15 in the reference). A chaotic link (e.g.
the 6-layer one at learning rate 0.1) amplifies rounding differences to 1e-3 within 100 epochs, which
would make a 1e-9 comparison meaningless.
"""
import functools
import math

import numpy as np
import pytest

from nn.playground import Config, Run
from playground_reference import ReferenceRun

TOL = dict(rtol=1e-9, atol=1e-9)

# name -> (link hash, epochs). Every dataset, both problems, every activation, None/L1/L2, batch sizes
# that leave leftovers (250 % 7, 250 % 30, 150 % 20, 360 % 25, 600 % 11), noise, feature sets, initZero,
# no hidden layer and six.
LINKS = {
    "circle-tanh-default": (
        "activation=tanh&batchSize=10&dataset=circle&regDataset=reg-plane&learningRate=0.03&"
        "regularizationRate=0&noise=0&networkShape=4,2&seed=0.12345&showTestData=false&discretize=false&"
        "percTrainData=50&x=true&y=true&xTimesY=false&xSquared=false&ySquared=false&cosX=false&sinX=false&"
        "cosY=false&sinY=false&collectStats=false&problem=classification&initZero=false&hideText=false",
        200),
    "xor-relu-L1-batch7": (
        "activation=relu&regularization=L1&batchSize=7&dataset=xor&learningRate=0.1&regularizationRate=0.01&"
        "noise=10&networkShape=4,2&seed=0.71828&percTrainData=50&x=true&y=true&xTimesY=true&"
        "problem=classification",
        200),
    "gauss-sigmoid-L2-batch30": (
        "activation=sigmoid&regularization=L2&batchSize=30&dataset=gauss&learningRate=0.3&"
        "regularizationRate=0.01&noise=20&networkShape=3&seed=0.31415&percTrainData=50&x=true&y=true&"
        "problem=classification",
        200),
    "circle-linear-squares-batch1": (
        "activation=linear&regularization=L2&batchSize=1&dataset=circle&learningRate=0.01&"
        "regularizationRate=0.003&noise=5&networkShape=4&seed=0.2468&percTrainData=50&x=false&y=false&"
        "xSquared=true&ySquared=true&problem=classification",
        200),
    "spiral-six-layers-all-features": (
        "activation=tanh&regularization=L2&batchSize=20&dataset=spiral&learningRate=0.03&"
        "regularizationRate=0.001&noise=5&networkShape=8,6,5,4,3,2&seed=0.27182&percTrainData=30&x=true&"
        "y=true&xSquared=true&ySquared=true&xTimesY=true&sinX=true&sinY=true&problem=classification",
        100),
    "reg-plane-no-hidden-layer": (
        "activation=linear&batchSize=7&regDataset=reg-plane&learningRate=0.01&regularizationRate=0&noise=10&"
        "networkShape=&seed=0.11111&percTrainData=30&x=true&y=true&problem=regression",
        200),
    "reg-gauss-relu-L1": (
        "activation=relu&regularization=L1&batchSize=25&regDataset=reg-gauss&learningRate=0.03&"
        "regularizationRate=0.003&noise=15&networkShape=5,3&seed=0.42424&percTrainData=30&x=true&y=true&"
        "xSquared=true&ySquared=true&problem=regression",
        200),
    "circle-initzero-relu": (
        "activation=relu&batchSize=10&dataset=circle&learningRate=0.03&regularizationRate=0&noise=0&"
        "networkShape=3,2&seed=0.5&percTrainData=50&x=true&y=true&problem=classification&initZero=true",
        200),
    "reg-plane-initzero-L1-no-hidden-sines": (
        "activation=tanh&regularization=L1&batchSize=11&regDataset=reg-plane&learningRate=0.01&"
        "regularizationRate=0.03&noise=0&networkShape=&seed=0.9&percTrainData=50&x=true&y=true&sinX=true&"
        "sinY=true&problem=regression&initZero=true",
        200),
}


@functools.lru_cache(maxsize=None)
def reference_result(name):
    """The oracle's run of a link: computed once, shared by the tests of that link."""
    link, epochs = LINKS[name]
    ref = ReferenceRun(Config.from_url(link))
    initial_weights = ref.weights()
    losses = [ref.initial_losses()] + ref.train(epochs)
    return dict(train_data=ref.train_data, test_data=ref.test_data, initial_weights=initial_weights,
                losses=np.array(losses), weights=ref.weights(), dead=ref.dead_links())


@functools.lru_cache(maxsize=None)
def engine_result(name):
    link, epochs = LINKS[name]
    run = Run(Config.from_url(link))
    initial_weights = run.weights()
    run.train(epochs)
    losses = np.column_stack([run.history.column("train_loss"), run.history.column("test_loss")])
    return dict(train_data=run.train_data, test_data=run.test_data, initial_weights=initial_weights,
                losses=losses, weights=run.weights(), dead=run.dead_links())


def assert_weights_close(actual, expected, what):
    assert len(actual) == len(expected), f"{what}: {len(actual)} layers, expected {len(expected)}"
    for layer, ((w, b), (w_ref, b_ref)) in enumerate(zip(actual, expected)):
        np.testing.assert_allclose(w, w_ref, **TOL, err_msg=f"{what}: weights of layer {layer}")
        np.testing.assert_allclose(b, b_ref, **TOL, err_msg=f"{what}: biases of layer {layer}")


def twins(link, epochs=0):
    """The engine and the reference on one link, each trained `epochs` epochs."""
    run, ref = Run(Config.from_url(link)), ReferenceRun(Config.from_url(link))
    run.train(epochs)
    ref.train(epochs)
    return run, ref


def assert_history_matches(run, ref_losses, columns=("train_loss", "test_loss")):
    """The engine's last len(ref_losses) epochs of history against the reference's (train, test) losses."""
    ref_losses = np.array(ref_losses)
    for k, column in enumerate(columns):
        np.testing.assert_allclose(run.history.column(column)[-len(ref_losses):], ref_losses[:, k], **TOL)


def test_links_cover_every_option_of_the_original():
    cfgs = [Config.from_url(link) for link, _ in LINKS.values()]
    assert {c.dataset for c in cfgs if c.problem == "classification"} == {"circle", "xor", "gauss", "spiral"}
    assert {c.regDataset for c in cfgs if c.problem == "regression"} == {"reg-plane", "reg-gauss"}
    assert {c.activation for c in cfgs if c.networkShape} == {"relu", "tanh", "sigmoid", "linear"}
    assert {c.regularization for c in cfgs if c.regularizationRate > 0} == {"L1", "L2"}
    assert any(c.regularization is None for c in cfgs)
    assert {len(c.networkShape) for c in cfgs} >= {0, 1, 2, 6}
    assert any(c.initZero for c in cfgs) and any(c.noise > 0 for c in cfgs)
    n_train = [math.floor((500 if c.problem == "classification" else 1200) * c.percTrainData / 100)
               for c in cfgs]
    assert sum(n % c.batchSize != 0 for n, c in zip(n_train, cfgs)) >= 5
    assert len({tuple(c.input_names) for c in cfgs}) >= 4


@pytest.mark.parametrize("name", LINKS)
def test_data_and_initial_weights_match_the_original(name):
    ref, eng = reference_result(name), engine_result(name)
    np.testing.assert_array_equal(eng["train_data"], ref["train_data"])
    np.testing.assert_array_equal(eng["test_data"], ref["test_data"])
    assert_weights_close(eng["initial_weights"], ref["initial_weights"], f"{name}, epoch 0")


@pytest.mark.parametrize("name", LINKS)
def test_every_epochs_losses_match_the_original(name):
    ref, eng = reference_result(name), engine_result(name)
    epochs = LINKS[name][1]
    assert eng["losses"].shape == (epochs + 1, 2), "one history row per epoch, row 0 before training"
    for column, label in enumerate(("train", "test")):
        actual, expected = eng["losses"][:, column], ref["losses"][:, column]
        bad = np.flatnonzero(~np.isclose(actual, expected, **TOL))
        assert not len(bad), (f"{name}: {label} loss differs first at epoch {bad[0]}: "
                              f"{actual[bad[0]]!r}, the original gives {expected[bad[0]]!r}")


@pytest.mark.parametrize("name", LINKS)
def test_final_weights_and_dead_links_match_the_original(name):
    ref, eng = reference_result(name), engine_result(name)
    assert_weights_close(eng["weights"], ref["weights"], f"{name}, epoch {LINKS[name][1]}")
    for layer, (dead, dead_ref) in enumerate(zip(eng["dead"], ref["dead"])):
        np.testing.assert_array_equal(dead, dead_ref, err_msg=f"{name}: dead links of layer {layer}")


@pytest.mark.parametrize("name", ["xor-relu-L1-batch7", "reg-gauss-relu-L1",
                                  "reg-plane-initzero-L1-no-hidden-sines"])
def test_l1_cuts_some_links_for_good(name):
    """These L1 links do kill links (so the dead-link comparison above means something), a dead link's
    weight is exactly 0, and a link once dead stays dead."""
    link, epochs = LINKS[name]
    run = Run(Config.from_url(link))
    previous = [np.zeros_like(d) for d in run.dead_links()]
    for _ in range(0, epochs, 20):
        run.train(20)
        dead = run.dead_links()
        for was, now, (w, _) in zip(previous, dead, run.weights()):
            assert not (was & ~now).any(), "a dead link came back to life"
            assert (w[now] == 0).all(), "a dead link has a nonzero weight"
        previous = dead
    n_dead = sum(int(d.sum()) for d in previous)
    n_links = sum(d.size for d in previous)
    assert 0 < n_dead < n_links


def test_init_zero_network_only_learns_its_output_bias():
    """With every weight and bias 0, each hidden unit outputs relu(0) = 0 through outgoing weights of 0, so
    no derivative reaches any weight: only the output bias learns (initZero biases are 0, not 0.1)."""
    link, epochs = LINKS["circle-initzero-relu"]
    run = Run(Config.from_url(link))
    run.train(epochs)
    weights = run.weights()
    for w, b in weights[:-1]:
        assert (w == 0).all() and (b == 0).all()
    w_out, b_out = weights[-1]
    assert (w_out == 0).all() and b_out[0] != 0


def test_relu_derivative_is_zero_at_zero():
    """The original's ReLU derivative is 0 where the total input is exactly 0. A hidden unit whose incoming
    weights and bias are all 0 sits at 0 for every example, so it never gets a gradient and stays at 0
    although its outgoing weight is not 0 (a derivative of 1 there would move it on the first update)."""
    link = ("activation=relu&batchSize=10&dataset=circle&learningRate=0.03&noise=0&networkShape=2&"
            "seed=0.5&percTrainData=50&x=true&y=true&problem=classification")
    run, ref = twins(link)
    (w1, b1), (w2, b2) = run.weights()
    w1[:, 0], b1[0], w2[:, 0] = 0.0, 0.0, [0.5, -0.4]
    run.load_weights([(w1, b1), (w2, b2)])
    ref.load_weights([(w1, b1), (w2, b2)])
    run.train(5)
    (w1_after, b1_after), _ = run.weights()
    assert (w1_after[:, 0] == 0).all() and b1_after[0] == 0
    assert (w1_after[:, 1] != w1[:, 1]).all(), "the other unit does learn"
    ref.train(5)
    assert_weights_close(run.weights(), ref.weights(), "after 5 epochs")


def test_editing_a_dead_links_weight_does_not_revive_it():
    """Typing a new weight on a link in the original sets only link.weight: a link L1 has cut keeps its
    dead flag, so it carries the new value forward and is never trained again."""
    run, ref = twins(*LINKS["xor-relu-L1-batch7"])
    layer, (i, j) = next((layer, tuple(np.argwhere(dead)[0])) for layer, dead in enumerate(run.dead_links())
                         if dead.any())
    run.set_weight(layer, int(i), int(j), 0.25)
    ref.set_weight(layer, int(i), int(j), 0.25)
    run.train(10)
    ref.train(10)
    assert run.weights()[layer][0][i, j] == 0.25
    assert run.dead_links()[layer][i, j]
    assert_weights_close(run.weights(), ref.weights(), "10 epochs after the edit")


@pytest.mark.parametrize("leftovers", ["drop", "apply"])
def test_leftover_rule_is_what_the_comparison_checks(leftovers):
    """250 training points in batches of 30 leave 10 over every epoch. The original carries them into the
    next epoch's first batch; dropping them or applying them as a short batch gives another run, far
    beyond the tolerance, so the fidelity tests above do pin the carry-over rule."""
    link, epochs = LINKS["gauss-sigmoid-L2-batch30"]
    variant = ReferenceRun(Config.from_url(link), leftovers=leftovers)
    variant_losses = np.array([variant.initial_losses()] + variant.train(epochs))
    eng = engine_result("gauss-sigmoid-L2-batch30")
    assert np.abs(eng["losses"] - variant_losses).max() > 1e-6
    np.testing.assert_allclose(eng["losses"], reference_result("gauss-sigmoid-L2-batch30")["losses"], **TOL)


def test_reset_draws_new_weights_from_the_continuing_stream():
    """Reset keeps the data and builds a new network from where the seeded stream left off."""
    run, ref = twins(LINKS["xor-relu-L1-batch7"][0], 3)
    run.reset()
    ref.reset()
    assert_weights_close(run.weights(), ref.weights(), "after Reset")
    run.train(30)
    assert len(run.history) == 31  # Reset cleared the history: all of it is compared
    assert_history_matches(run, [ref.initial_losses()] + ref.train(30))


def test_regenerate_keeps_the_network_and_its_pending_derivatives():
    """Regenerate swaps the data under a training network: the weights stay, and the derivatives of the
    examples left over from the last epoch (250 % 7 = 5 here) still join the next first batch."""
    run, ref = twins(LINKS["xor-relu-L1-batch7"][0], 5)
    run.regenerate()
    ref.regenerate()
    assert run.cfg.seed == ref.cfg.seed
    np.testing.assert_array_equal(run.train_data, ref.train_data)
    run.train(10)
    assert_history_matches(run, ref.train(10))
    assert_weights_close(run.weights(), ref.weights(), "10 epochs after Regenerate")


def test_learning_rate_change_applies_live_to_the_running_network():
    """Changing the learning rate neither resets the network nor drops the pending leftovers."""
    run, ref = twins(LINKS["gauss-sigmoid-L2-batch30"][0], 5)
    assert run.update(learningRate=0.03) == "live"
    ref.cfg = ref.cfg.replace(learningRate=0.03)
    run.train(10)
    assert_history_matches(run, ref.train(10), columns=("train_loss",))
    assert_weights_close(run.weights(), ref.weights(), "10 epochs after the change")


@pytest.mark.parametrize("init_zero", [False, True])
def test_regenerate_takes_the_new_seed_from_the_continuing_stream(init_zero):
    """Regenerate sets seed = random().toFixed(5) from the stream after the data and the weights. With
    initZero the original still draws one number per link (its Link sets weight = Math.random() - 0.5 in a
    field initializer, before the constructor zeroes it), so the next number is the same as without."""
    run, ref = twins(LINKS["circle-tanh-default"][0] + f"&initZero={str(init_zero).lower()}")
    run.regenerate()
    assert run.cfg.seed == f"{ref.rng.random():.5f}"


# ---- checks computed by hand, independent of both implementations ---------------------------------

@pytest.mark.parametrize("regularization", [None, "L2", "L1"])
def test_one_full_batch_update_is_the_mean_gradient_step(regularization):
    """0 hidden layers, linear output, one batch of all 120 training points: one update,
    w1 = w0 - lr mean((x.w0 + b0 - t) x) - lr rate R'(w0), b1 = b0 - lr mean(x.w0 + b0 - t) (biases are
    never regularised); under L1 a weight the penalty pushes across 0 is set to exactly 0 and dies."""
    lr, rate = 0.1, {None: 0, "L2": 0.3, "L1": 3}[regularization]
    reg = f"&regularization={regularization}" if regularization else ""
    cfg = Config.from_url(
        f"activation=tanh{reg}&batchSize=120&regDataset=reg-plane&learningRate={lr}&"
        f"regularizationRate={rate}&"
        "noise=20&networkShape=&seed=0.777&percTrainData=10&x=true&y=true&sinX=true&sinY=true&"
        "problem=regression")
    run = Run(cfg)
    (w0, b0), = run.weights()
    w0, b0 = w0[:, 0], b0[0]
    data = run.train_data
    assert len(data) == 120
    x = np.column_stack([data[:, 0], data[:, 1], np.sin(data[:, 0]), np.sin(data[:, 1])])
    err = x @ w0 + b0 - data[:, 2]
    stepped = w0 - lr * (x.T @ err) / len(err)
    regul_der = {None: np.zeros_like(w0), "L2": w0, "L1": np.sign(w0)}[regularization]
    expected_w = stepped - lr * rate * regul_der
    expected_dead = np.zeros(len(w0), dtype=bool)
    if regularization == "L1":
        expected_dead = stepped * expected_w < 0
        expected_w[expected_dead] = 0.0
        assert 0 < expected_dead.sum() < len(w0), "the L1 case should kill some links and not others"
    run.train(1)
    (w1, b1), = run.weights()
    np.testing.assert_allclose(w1[:, 0], expected_w, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(b1[0], b0 - lr * err.mean(), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(run.dead_links()[0][:, 0], expected_dead)


def test_leftovers_join_the_first_batch_of_the_next_epoch():
    """250 training points, batches of 30: epoch 1 makes 8 updates and keeps examples 240..249 back, so
    the first update of epoch 2 averages the derivatives of 10 + 30 = 40 examples, all taken at epoch 1's
    final weights. Computed by hand for a net without hidden layers (out = tanh(x.w + b))."""
    lr = 0.3
    cfg = Config.from_url(f"activation=tanh&batchSize=30&dataset=gauss&learningRate={lr}&noise=30&"
                          "networkShape=&seed=0.4242&percTrainData=50&x=true&y=true&problem=classification")
    run = Run(cfg)
    data = run.train_data
    assert len(data) == 250
    inputs, targets = data[:, :2], data[:, 2]

    def update(w, b, rows):
        """One update: the mean of the per-example derivatives of 1/2 (tanh(x.w + b) - t)^2 over rows."""
        out = np.tanh(inputs[rows] @ w + b)
        delta = (out - targets[rows]) * (1 - out * out)
        return w - lr * (inputs[rows].T @ delta) / len(rows), b - lr * delta.mean()

    def batch(k):
        return np.arange(30 * k, 30 * (k + 1))

    (w, b), = run.weights()
    w, b = w[:, 0], b[0]
    for k in range(8):
        w, b = update(w, b, batch(k))
    run.train(1)
    (w1, b1), = run.weights()
    np.testing.assert_allclose(w1[:, 0], w, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(b1[0], b, rtol=1e-12, atol=1e-12)

    carried = update(w, b, np.r_[240:250, 0:30])  # the 40-example batch
    dropped = update(w, b, batch(0))
    for k in range(1, 8):
        carried = update(*carried, batch(k))
        dropped = update(*dropped, batch(k))
    assert np.abs(carried[0] - dropped[0]).max() > 1e-4, "the two rules should be told apart"
    run.train(1)
    (w2, b2), = run.weights()
    np.testing.assert_allclose(w2[:, 0], carried[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(b2[0], carried[1], rtol=1e-12, atol=1e-12)


def test_full_batch_update_follows_the_numerical_gradient():
    """One update over the whole training set moves every parameter by -lr times the gradient of the
    mean training loss 1/2 (out - label)^2, checked by central differences on a 2-3-2-1 tanh net."""
    lr = 1e-3
    cfg = Config.from_url(f"activation=tanh&batchSize=50&dataset=circle&learningRate={lr}&noise=0&"
                          "networkShape=3,2&seed=0.1357&percTrainData=10&x=true&y=true&"
                          "problem=classification")
    run = Run(cfg)
    before = run.weights()
    data = run.train_data
    assert len(data) == 50

    def mean_loss(params):
        out = data[:, :2]
        for w, b in params:
            out = np.tanh(out @ w + b)
        return np.mean(0.5 * (out[:, 0] - data[:, 2]) ** 2)

    assert mean_loss(before) == pytest.approx(run.history.column("train_loss")[0], rel=1e-12)
    run.train(1)
    after = run.weights()
    eps = 1e-6
    for layer, (w, b) in enumerate(before):
        for kind, array in ((0, w), (1, b)):
            for index in np.ndindex(array.shape):
                plus = [(w_.copy(), b_.copy()) for w_, b_ in before]
                minus = [(w_.copy(), b_.copy()) for w_, b_ in before]
                plus[layer][kind][index] += eps
                minus[layer][kind][index] -= eps
                gradient = (mean_loss(plus) - mean_loss(minus)) / (2 * eps)
                moved = (before[layer][kind][index] - after[layer][kind][index]) / lr
                assert moved == pytest.approx(gradient, rel=1e-5, abs=1e-8), (layer, kind, index)
