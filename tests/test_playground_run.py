"""The Run contract (docs/engine-api.md): what the web app, CLI, run log and studies rely on."""
import numpy as np
import pytest

from nn.playground import Config, Run
from nn.playground.datasets import make_data
from nn.playground.network import Batches, Network
from nn.playground.seedrandom import SeedRandom
from nn.playground.stack import train_group

SPIRAL = "dataset=spiral&networkShape=4,2&seed=0.5&learningRate=0.03"


def spiral(**changes):
    return Config.from_url(SPIRAL).replace(**changes)


def draw_network(rng, sizes):
    """The original's initial weights from a stream: per layer, destination then source node."""
    return [(np.array([rng.random() - 0.5 for _ in range(n_in * n_out)]).reshape(n_out, n_in).T, np.full(n_out, 0.1))
            for n_in, n_out in zip(sizes, sizes[1:])]


def assert_weights_equal(actual, expected):
    assert len(actual) == len(expected)
    for (w, b), (w2, b2) in zip(actual, expected):
        np.testing.assert_array_equal(w, w2)
        np.testing.assert_array_equal(b, b2)


def test_data_then_weights_come_from_one_stream():
    cfg = spiral()
    run = Run(cfg)
    rng = SeedRandom(cfg.seed)
    train, test = make_data(cfg, rng)
    np.testing.assert_array_equal(run.train_data, train)
    np.testing.assert_array_equal(run.test_data, test)
    assert_weights_equal(run.weights(), draw_network(rng, [2, 4, 2, 1]))


def test_reset_draws_the_next_weights_of_the_stream_and_clears_history():
    cfg = spiral()
    run = Run(cfg).train(5)
    first_uid = run.uid
    rng = SeedRandom(cfg.seed)
    make_data(cfg, rng)
    draw_network(rng, [2, 4, 2, 1])
    run.reset()
    assert_weights_equal(run.weights(), draw_network(rng, [2, 4, 2, 1]))
    assert run.epoch == 0 and len(run.history) == 1 and run.uid != first_uid


def test_same_init_on_reset_restores_the_initial_weights():
    run = Run(spiral(sameInitOnReset=True))
    initial = run.weights()
    run.train(10)
    run.reset()
    assert_weights_equal(run.weights(), initial)


def test_training_after_reset_moves_the_new_weights():
    # The batches outlive a Reset (the data is kept) while the network is new: each training step
    # must work on the new network's buffers, not replay the old network's.
    run = Run(spiral(sameInitOnReset=True)).train(10)
    losses, weights = run.history.column("train_loss"), run.weights()
    run.reset()
    run.train(10)
    np.testing.assert_array_equal(run.history.column("train_loss"), losses)
    assert_weights_equal(run.weights(), weights)


def test_links_restored_dead_stay_put_in_training_without_l1():
    # A run reopened from the log may carry dead links while its regularisation is no longer L1:
    # the plain update must then skip them, as nn.ts does, though it trained without any before.
    run = Run(spiral()).train(3)
    weights = run.weights()
    dead = [np.zeros_like(w, dtype=bool) for w, _ in weights]
    dead[1][0, 1] = True
    run.load_weights(weights, dead)
    run.train(3)
    assert run.weights()[1][0][0, 1] == weights[1][0][0, 1]
    assert run.weights()[1][0][1, 1] != weights[1][0][1, 1]


def test_learning_rate_applies_live_without_reset():
    run = Run(spiral()).train(5)
    weights, uid = run.weights(), run.uid
    assert run.update(learningRate=0.3) == "live"
    assert run.epoch == 5 and run.uid == uid
    assert_weights_equal(run.weights(), weights)
    run.train(1)
    # The step really used the new rate: compare with a twin that switched too.
    twin = Run(spiral()).train(5)
    twin.update(learningRate=0.3)
    twin.train(1)
    assert_weights_equal(run.weights(), twin.weights())


@pytest.mark.parametrize("change", [{"activation": "relu"}, {"regularization": "L2"}, {"batchSize": 7},
                                    {"networkShape": (3,)}, {"xSquared": True}, {"regularizationRate": 0.01}])
def test_network_settings_reset(change):
    run = Run(spiral()).train(3)
    assert run.update(**change) == "reset"
    assert run.epoch == 0 and len(run.history) == 1
    assert run.cfg.seed == "0.5"


@pytest.mark.parametrize("change", [{"dataset": "xor"}, {"noise": 10}, {"percTrainData": 70}])
def test_data_settings_draw_a_new_seed_like_the_original(change):
    run = Run(spiral())
    rng = SeedRandom("0.5")
    make_data(run.cfg, rng)
    draw_network(rng, [2, 4, 2, 1])
    expected_seed = f"{rng.random():.5f}"
    assert run.update(**change) == "regenerate"
    assert run.cfg.seed == expected_seed
    fresh = Run(run.cfg)
    np.testing.assert_array_equal(run.train_data, fresh.train_data)
    assert_weights_equal(run.weights(), fresh.weights())


def test_regenerate_keeps_the_network_and_epoch():
    run = Run(spiral()).train(4)
    weights, old_data = run.weights(), run.train_data.copy()
    run.regenerate()
    assert run.epoch == 4 and run.cfg.seed != "0.5"
    assert not np.array_equal(run.train_data, old_data)
    assert_weights_equal(run.weights(), weights)
    run.train(1)
    assert run.epoch == 5


def test_bad_update_names_the_field_and_leaves_the_run_intact():
    run = Run(spiral()).train(2)
    cfg, weights = run.cfg, run.weights()
    with pytest.raises(ValueError, match="learningRate"):
        run.update(learningRate=-1)
    with pytest.raises(ValueError, match="bogus"):
        run.update(bogus=1)
    assert run.cfg == cfg and run.epoch == 2
    assert_weights_equal(run.weights(), weights)


def test_set_weight_and_bias_apply_live_and_reject_bad_indices():
    run = Run(spiral())
    run.set_weight(0, 1, 3, 0.75)
    run.set_bias(2, 0, -0.25)
    assert run.weights()[0][0][1, 3] == 0.75
    assert run.weights()[2][1][0] == -0.25
    for args in [(3, 0, 0, 1.0), (0, 2, 0, 1.0), (0, 0, 4, 1.0), (0, 0, 0, float("nan"))]:
        with pytest.raises(ValueError):
            run.set_weight(*args)
    with pytest.raises(ValueError, match="j"):
        run.set_bias(0, 9, 1.0)


def test_boundary_orientation_row0_is_top_column0_is_left():
    run = Run(Config.from_url("dataset=spiral&networkShape=&x=false&y=true&seed=1"))
    run.load_weights([(np.array([[1.0]]), np.array([0.0]))])
    grid = run.boundary(5)
    np.testing.assert_allclose(grid[:, 0], np.tanh([6, 3, 0, -3, -6]))
    run.load_weights([(np.array([[0.0]]), np.array([0.0]))])
    run2 = Run(Config.from_url("dataset=spiral&networkShape=&x=true&y=false&seed=1"))
    run2.load_weights([(np.array([[1.0]]), np.array([0.0]))])
    np.testing.assert_allclose(run2.boundary(5)[0], np.tanh([-6, -3, 0, 3, 6]))


def test_neuron_maps_come_from_one_pass_and_match_boundary():
    run = Run(spiral(xSquared=True)).train(3)
    maps = run.neuron_maps(20)
    assert [m.shape for m in maps] == [(3, 20, 20), (4, 20, 20), (2, 20, 20), (1, 20, 20)]
    np.testing.assert_allclose(maps[-1][0], run.boundary(20))
    np.testing.assert_allclose(maps[0][2], maps[0][0] ** 2)  # the x^2 feature map
    run.train(1)
    assert not np.allclose(run.boundary(20), maps[-1][0])  # the cache follows the weights


def test_divergence_is_caught_and_training_stops():
    run = Run(Config.from_url("problem=regression&regDataset=reg-plane&learningRate=10&networkShape=8,8&seed=2"))
    run.train(200)
    assert run.diverged and run.diverged_epoch == run.epoch < 200
    row = run.history.last()
    assert row["train_loss"] is None  # non-finite values come out as None: rows stay JSON-safe
    assert all(v is None or np.isfinite(v) for v in row.values())
    run.reset()
    assert not run.diverged
    run.update(learningRate=0.03)
    run.train(5)
    assert not run.diverged


def test_history_rows_are_json_safe_and_complete():
    run = Run(spiral()).train(3)
    rows = run.history.rows()
    assert [r["epoch"] for r in rows] == [0, 1, 2, 3]
    assert set(rows[0]) == {"epoch", "train_loss", "test_loss", "train_accuracy", "test_accuracy", "wall_time"}
    reg = Run(Config.from_url("problem=regression&seed=1")).train(1)
    assert reg.history.last()["train_accuracy"] is None


def test_stacked_training_matches_training_alone():
    cfgs = [spiral(seed=f"s{i}", learningRate=lr, regularization=reg, regularizationRate=0.01)
            for i in range(2) for lr in (0.03, 0.3) for reg in ("L1", "L2")]
    stacked = train_group(cfgs, 30)
    for cfg, run in zip(cfgs, stacked):
        alone = Run(cfg).train(30)
        np.testing.assert_allclose(run.history.column("test_loss"), alone.history.column("test_loss"), rtol=1e-12)
        for (w, b), (w2, b2) in zip(run.weights(), alone.weights()):
            np.testing.assert_allclose(w, w2, rtol=1e-12, atol=1e-15)
        for d, d2 in zip(run.dead_links(), alone.dead_links()):
            np.testing.assert_array_equal(d, d2)


def test_three_class_spiral_learns_with_softmax():
    run = Run(Config.from_url("dataset=spiral&classes=3&networkShape=16,16&activation=relu&learningRate=0.01"
                              "&optimizer=adam&seed=3&batchSize=10"))
    assert run.boundary(10).shape == (3, 10, 10)
    start = run.history.last()["train_loss"]
    run.train(300)
    assert run.history.last()["train_loss"] < start / 10
    assert run.history.last()["test_accuracy"] > 0.85


@pytest.mark.parametrize("extra", ["optimizer=adam&learningRate=0.01", "momentum=0.9&learningRate=0.01",
                                   "loss=crossentropy", "init=xavier", "init=he&activation=relu",
                                   "activation=swish", "layerActivations=elu,softplus"])
def test_our_options_train_circle_well(extra):
    run = Run(Config.from_url(f"dataset=circle&networkShape=6,4&seed=4&{extra}")).train(60)
    assert run.history.last()["test_accuracy"] > 0.9


def test_reshuffle_is_deterministic_per_seed_and_differs_from_fixed_order():
    a = Run(spiral(reshuffle=True)).train(5)
    b = Run(spiral(reshuffle=True)).train(5)
    c = Run(spiral()).train(5)
    np.testing.assert_array_equal(a.history.column("train_loss"), b.history.column("train_loss"))
    assert not np.array_equal(a.history.column("train_loss"), c.history.column("train_loss"))


def test_reshuffled_batches_refilled_in_place_train_as_if_made_anew():
    refilled = Run(spiral(reshuffle=True, batchSize=7))  # 250 = 35 * 7 + 5: a leftover too
    made_anew = Run(spiral(reshuffle=True, batchSize=7))
    refilled.train(4)
    for _ in range(4):
        made_anew._shuffled = None
        made_anew.train(1)
    np.testing.assert_array_equal(refilled.history.column("train_loss"), made_anew.history.column("train_loss"))
    assert_weights_equal(refilled.weights(), made_anew.weights())


@pytest.mark.parametrize("size", [7, 10, 30, 40])
def test_batches_hold_every_column_once_in_order_and_refill_takes_a_new_order(size):
    n = 30
    inputs, targets = np.arange(3.0 * n).reshape(3, n), -np.arange(1.0 * n)[None]

    def columns(batches):
        parts = batches.full + ([batches.leftover] if batches.leftover is not None else [])
        assert all(x.flags.c_contiguous and x.shape[-1] == size for x, _ in batches.full)
        return [np.concatenate([part[k] for part in parts], axis=-1) for k in (0, 1)]

    batches = Batches(inputs.copy(), targets.copy(), size)
    assert len(batches.full) == n // size
    np.testing.assert_array_equal(columns(batches)[0], inputs)
    np.testing.assert_array_equal(columns(batches)[1], targets)
    order = np.random.default_rng(0).permutation(n)
    batches.refill(inputs[:, order], targets[:, order])
    np.testing.assert_array_equal(columns(batches)[0], inputs[:, order])
    np.testing.assert_array_equal(columns(batches)[1], targets[:, order])


def test_custom_data():
    rng = np.random.default_rng(0)
    xy = rng.uniform(-5, 5, (200, 2))
    data = np.column_stack([xy, np.where(xy[:, 0] > 0, 1.0, -1.0)])
    run = Run(Config.from_url("dataset=custom&networkShape=2&seed=1&learningRate=0.1"), data=data).train(30)
    assert len(run.train_data) == 100 and run.history.last()["test_accuracy"] > 0.9
    with pytest.raises(ValueError, match="data"):
        Run(Config.from_url("dataset=custom"))


def test_grid_passes_never_disturb_training():
    # 400 training points in one batch of 400: the loss pass doubles as the next epoch's forward
    # pass; a 20 x 20 grid pass has the same 400 columns and must not overwrite it.
    cfg = Config(dataset="circle", percTrainData=80, batchSize=400, learningRate=0.1)
    watched, plain = Run(cfg), Run(cfg)
    for _ in range(3):
        watched.train(2)
        watched.boundary(20)
        watched.neuron_maps(20)
        plain.train(2)
    assert np.array_equal(watched.history.array()[:, :5], plain.history.array()[:, :5])
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(watched.weights(), plain.weights()))


def test_pictures_returned_earlier_stay_as_they_were():
    run = Run(Config(dataset="spiral"))
    boundary, maps = run.boundary(20), run.neuron_maps(20)
    kept = boundary.copy(), [m.copy() for m in maps]
    run.train(5)
    run.boundary(20)
    run.neuron_maps(20)
    assert np.array_equal(boundary, kept[0])
    assert all(np.array_equal(m, k) for m, k in zip(maps, kept[1]))


def test_per_layer_activations_follow_the_network_shape_and_the_activation():
    run = Run(Config(networkShape=(4, 3), activation="tanh", layerActivations=("relu", "sigmoid")))
    assert run.update(networkShape=[4, 3, 2]) == "reset"
    assert run.cfg.layerActivations == ("relu", "sigmoid", "tanh")  # the new layer gets `activation`
    run.update(networkShape=(4,))
    assert run.cfg.layerActivations == ("relu",)
    run.update(activation="elu")  # the top bar's Activation sets every layer
    assert run.cfg.layerActivations == () and run.cfg.layer_activations == ["elu"]
    with pytest.raises(ValueError, match="networkShape"):
        Run(Config(layerActivations=("relu", "relu"))).update(networkShape="4,2")


def test_an_output_of_exactly_zero_counts_as_the_positive_class():
    # With every weight zero the output is tanh(0) = 0 everywhere, which the original paints as +1.
    run = Run(spiral(initZero=True))
    row = run.history.last()
    assert row["train_accuracy"] == np.mean(run.train_data[:, 2] > 0)
    assert row["test_accuracy"] == np.mean(run.test_data[:, 2] > 0)
    assert row["train_loss"] == 0.5 and row["test_loss"] == 0.5  # (0 - (+-1))^2 / 2


def test_an_empty_set_has_no_mean_loss_or_accuracy():
    net = Network([2, 3, 1], ["tanh"], "tanh")
    net.params[:] = np.linspace(-1, 1, net.params.size)
    inputs = np.vstack([np.random.default_rng(0).normal(size=(2, 6)), np.ones(6)])
    targets, labels = np.ones((1, 6)), np.ones(6)
    only_train = net.losses([(inputs, targets, labels, "eval", 6)])[0]
    assert np.isfinite(only_train[[0, 2]]).all() and np.isnan(only_train[[1, 3]]).all()
    only_test = net.losses([(inputs, targets, labels, "eval", 0)])[0]
    assert np.isnan(only_test[[0, 2]]).all() and np.isfinite(only_test[[1, 3]]).all()
    assert only_train[0] == only_test[1]  # the same examples, counted as the other set
