"""A playground run: the data, the network and its training history, built as the original builds them.

The original seeds one generator (seedrandom's ARC4) with the run's seed string and draws from it, in
this order: the data points, the shuffle, then the initial weights. Reset draws new weights from the
same continuing stream; Regenerate (and any change of dataset, noise or split) draws a new seed from the
stream, `random().toFixed(5)`, and reseeds. Everything here follows that, so `Run(Config.from_url(link))`
replays the run the link shows in the original. The stable API is listed in docs/engine-api.md.
"""
from __future__ import annotations

import math
import time
import uuid

import numpy as np

from nn.playground.config import Config
from nn.playground.datasets import make_data, split_custom
from nn.playground.features import feature_matrix
from nn.playground.history import History
from nn.playground.network import Batches, Hyper, Network
from nn.playground.seedrandom import SeedRandom

#: x and y of the heatmaps run over [-GRID_EXTENT, GRID_EXTENT], as in the original.
GRID_EXTENT = 6.0

#: How each setting takes effect when changed on a live run (the original's rules, PLAYGROUND.md).
LIVE_FIELDS = frozenset({"learningRate", "momentum", "showTestData", "discretize", "hide", "hideText",
                         "collectStats", "tutorial", "reshuffle", "sameInitOnReset"})
REGENERATE_FIELDS = frozenset({"dataset", "regDataset", "noise", "percTrainData", "problem", "classes"})


def output_kind(cfg: Config) -> str:
    """The output unit (see nn.playground.network.OUTPUTS) a config trains with."""
    if cfg.problem == "regression":
        return "linear"
    if cfg.classes > 2:
        return "softmax"
    return "logistic" if cfg.loss == "crossentropy" else "tanh"


def layer_sizes(cfg: Config) -> list[int]:
    outputs = cfg.classes if output_kind(cfg) == "softmax" else 1
    return [len(cfg.input_names), *cfg.networkShape, outputs]


def grid_points(density: int) -> np.ndarray:
    """(density^2, 2) points x, y of the heatmap grid: row-major with row 0 at y = +6 and
    column 0 at x = -6 (the original's xScale/yScale)."""
    axis = np.linspace(-GRID_EXTENT, GRID_EXTENT, density)
    xs, ys = np.meshgrid(axis, axis[::-1])
    return np.column_stack([xs.ravel(), ys.ravel()])


def with_ones(features: np.ndarray) -> np.ndarray:
    """[features^T; 1] of shape (F + 1, n): examples as columns, and the row of ones that carries the
    bias through the matrix product (see nn.playground.network)."""
    out = np.ones((features.shape[1] + 1, len(features)))
    out[:-1] = features.T
    return out


class Run:
    """One attempt: data, network, history. See docs/engine-api.md for the contract."""

    def __init__(self, cfg: Config, data: np.ndarray | None = None):
        if not isinstance(cfg, Config):
            raise ValueError(f"Run: cfg must be a Config, got {type(cfg).__name__}")
        if (cfg.problem == "classification" and cfg.dataset == "custom") or \
                (cfg.problem == "regression" and cfg.regDataset == "custom"):
            if data is None:
                raise ValueError("data: dataset 'custom' needs the points, e.g. from datasets.load_csv")
        self._custom = None if data is None else np.array(data, dtype=float)
        self._grid_features = {}  # (density, feature names) -> (features, [features^T; 1])
        self._grid_cache = None  # (key, (features, layer outputs)) of the last grid pass
        self.cfg = cfg
        self._rng = SeedRandom(cfg.seed)
        self._make_data()
        self._build_network()

    # ------------------------------------------------------------------ data
    def _make_data(self):
        cfg = self.cfg
        if self._is_custom():
            self.train_data, self.test_data = split_custom(self._custom, cfg.percTrainData, self._rng)
        else:
            self.train_data, self.test_data = make_data(cfg, self._rng)
        self._prepare_inputs()

    def _is_custom(self) -> bool:
        cfg = self.cfg
        name = cfg.dataset if cfg.problem == "classification" else cfg.regDataset
        return name == "custom"

    def _prepare_inputs(self):
        """For the training and the test set: inputs [features; 1] (F + 1, N), targets (n_out, N) and
        classes (N,) (see Network.losses); examples are columns (see nn.playground.network)."""
        cfg = self.cfg
        softmax = output_kind(cfg) == "softmax"

        def prepare(points):
            labels = points[:, 2]
            targets = np.eye(cfg.classes)[labels.astype(int)].T if softmax else labels[None]
            features = with_ones(feature_matrix(points[:, :2], cfg.input_names))
            classes = labels if softmax else (labels > 0).astype(float)
            return features, np.ascontiguousarray(targets), classes

        self._train_set, self._test_set = prepare(self.train_data), prepare(self.test_data)
        n_train = len(self.train_data)
        if cfg.batchSize >= n_train:  # one batch per epoch: its loss pass is the next epoch's forward pass
            self._loss_passes = [(*self._train_set, "train", n_train), (*self._test_set, "test", 0)]
        else:
            both = prepare(np.concatenate([self.train_data, self.test_data]))
            self._loss_passes = [(*both, "eval", n_train)]
        self._batches = self._shuffled = None  # minibatches in the fixed order, and reshuffled
        self._train_order = None

    # --------------------------------------------------------------- network
    def _build_network(self):
        cfg = self.cfg
        self.uid = uuid.uuid4().hex
        self.epoch = 0
        self.diverged = False
        self.diverged_epoch = None
        self._elapsed = 0.0
        self.history = History()
        sizes = layer_sizes(cfg)
        self._net = Network(sizes, cfg.layer_activations, output_kind(cfg))
        if cfg.sameInitOnReset and getattr(self, "_initial", None) and self._initial[0] == sizes:
            self.load_weights(self._initial[1])
        else:
            self._draw_weights(sizes)
            self._initial = (sizes, self._net.weights())
        self._set_hyper()
        self._record()

    def _draw_weights(self, sizes):
        """nn.ts's buildNetwork: one draw per link, layer by layer, destination node then source
        node: weight = random() - 0.5, bias 0.1. initZero sets both to 0, but the draws still
        happen (nn.ts's Link draws its weight in a field initialiser before the constructor zeroes
        it), so the stream moves on exactly as the original's does.
        init "xavier"/"he" (ours) scale the same draws to U(-a, a), a = sqrt(6 / (fan_in + fan_out))
        or sqrt(6 / fan_in)."""
        cfg = self.cfg
        for l in range(1, len(sizes)):
            n_in, n_out = sizes[l - 1], sizes[l]
            weights = (self._rng.randoms(n_in * n_out) - 0.5).reshape(n_out, n_in).T
            if cfg.initZero:
                self._net.set_layer(0, l, np.zeros((n_in, n_out)), np.zeros(n_out))
                continue
            if cfg.init == "xavier":
                weights = weights * 2 * np.sqrt(6.0 / (n_in + n_out))
            elif cfg.init == "he":
                weights = weights * 2 * np.sqrt(6.0 / n_in)
            self._net.set_layer(0, l, weights, np.full(n_out, 0.1))

    def _set_hyper(self):
        cfg = self.cfg
        rate = cfg.regularizationRate
        self._hyper = Hyper(self._net, cfg.learningRate,
                            l1_rate=rate if cfg.regularization == "L1" else 0.0,
                            l2_rate=rate if cfg.regularization == "L2" else 0.0,
                            optimizer=cfg.optimizer, momentum=cfg.momentum)

    # -------------------------------------------------------------- training
    def train(self, epochs: int = 1) -> "Run":
        """Train `epochs` epochs (fewer if the run diverges: training stops at once)."""
        if not isinstance(epochs, (int, np.integer)) or epochs < 0:
            raise ValueError(f"epochs: {epochs!r} must be a whole number >= 0")
        net, hyper = self._net, self._hyper
        with np.errstate(all="ignore"):  # overflow is expected on the way to divergence, caught below
            for _ in range(epochs):
                if self.diverged:
                    break
                start = time.perf_counter()
                net.train_epoch(self._training_batches(), hyper)
                self._elapsed += time.perf_counter() - start
                self.epoch += 1
                self._record()
        return self

    def _training_batches(self):
        """The training set split into minibatches in its fixed order (a new order every epoch
        with cfg.reshuffle: ours, drawn from a generator seeded by the run's seed, not from the
        original's stream, so data and weights still match the original's)."""
        inputs, targets, _ = self._train_set
        size = self.cfg.batchSize
        if self.cfg.reshuffle:
            if self._train_order is None:
                self._train_order = np.random.default_rng(list(self.cfg.seed.encode()) or [0])
            order = self._train_order.permutation(inputs.shape[-1])
            if self._shuffled is None or self._shuffled.size != size:
                self._shuffled = Batches(inputs[:, order], targets[:, order], size)  # arrays of its own
            else:  # the same batches, so their training steps stay bound (Batches.steps)
                self._shuffled.refill(inputs[:, order], targets[:, order])
            return self._shuffled
        if self._batches is None or self._batches.size != size:
            self._batches = Batches(inputs, targets, size)
        return self._batches

    def _record(self):
        """Append the losses over the full train and test sets (the original's getLoss) to the
        history, and notice divergence: any non-finite loss or parameter."""
        train_loss, test_loss, train_acc, test_acc = self._net.losses(self._loss_passes)[0].tolist()
        self.history.append(self.epoch, train_loss, test_loss, train_acc, test_acc, self._elapsed)
        finite = math.isfinite(train_loss) and (math.isfinite(test_loss) or not len(self.test_data))
        if not finite or not math.isfinite(self._net.params.sum()):
            self.diverged = True
            self.diverged_epoch = self.epoch

    # --------------------------------------------------------------- changes
    def update(self, **changes) -> str:
        """Apply config changes with the original's rules; returns "live", "reset" or "regenerate".

        A bad value raises ValueError (from Config) and leaves the run as it was. A new seed
        replays that seed from scratch (data and weights), like opening its link. Per-layer
        activations (layerActivations) follow the network: a new shape keeps each remaining layer's
        and gives new layers `activation`; a new `activation` sets every layer.
        """
        new_cfg = self.cfg.replace(**self._with_layer_activations(changes))
        changed = {k for k in changes if getattr(new_cfg, k) != getattr(self.cfg, k)}
        if not changed:
            return "live"
        old_sizes = layer_sizes(self.cfg)
        self.cfg = new_cfg
        if "seed" in changed:
            self._rng = SeedRandom(new_cfg.seed)
            self._make_data()
            self._build_network()
            return "regenerate"
        if changed & REGENERATE_FIELDS:
            self._new_seed()
            self._make_data()
            self._build_network()
            return "regenerate"
        if changed - LIVE_FIELDS:
            if layer_sizes(new_cfg) != old_sizes:
                self._initial = None
            self._prepare_inputs()  # the features or the output coding may have changed
            self._build_network()
            return "reset"
        self._set_hyper()
        return "live"

    def _with_layer_activations(self, changes: dict) -> dict:
        """`changes`, plus the layerActivations they imply (see update)."""
        per_layer = self.cfg.layerActivations
        if not per_layer or "layerActivations" in changes:
            return changes
        if "activation" in changes:
            return {**changes, "layerActivations": ()}
        shape = changes.get("networkShape")
        if isinstance(shape, (list, tuple)):  # anything else: Config says what is wrong with it
            kept, added = tuple(per_layer[:len(shape)]), max(0, len(shape) - len(per_layer))
            return {**changes, "layerActivations": kept + (self.cfg.activation,) * added}
        return changes

    def _new_seed(self):
        """The original's generateData: seed = random().toFixed(5) from the current stream, then
        reseed with it."""
        seed = f"{self._rng.random():.5f}"
        self.cfg = self.cfg.replace(seed=seed)
        self._rng = SeedRandom(seed)

    def reset(self):
        """The Reset button: new weights from the continuing stream (or the same initial weights
        when cfg.sameInitOnReset), epoch 0, history cleared; the data is kept."""
        self._build_network()

    def regenerate(self):
        """The Regenerate button: a new seed and new data; the network keeps training on it."""
        self._new_seed()
        self._make_data()
        # The weights are unchanged, but the last loss pass was over the old data: a new version keeps
        # Network.train_epoch from taking it for a pass over the new arrays (which may reuse old ids).
        self._net.version += 1

    @property
    def custom_data(self) -> np.ndarray | None:
        """The user's own points (n, 3) for dataset "custom", as given; None otherwise."""
        return None if self._custom is None else self._custom.copy()

    def restore(self, history: History, diverged_epoch: int | None = None):
        """Continue a saved attempt: its per-epoch history (the epoch and the training clock follow
        from its last row). Pair with load_weights for its final weights."""
        if not isinstance(history, History) or not len(history):
            raise ValueError("history: a History with at least the row of epoch 0 is needed")
        last = history.last()
        self.history = history
        self.epoch = last["epoch"]
        self._elapsed = last["wall_time"] or 0.0
        self.diverged = diverged_epoch is not None
        self.diverged_epoch = diverged_epoch

    # ----------------------------------------------------------- parameters
    def weights(self):
        """[(W (n_in, n_out), b (n_out,))] per layer, first hidden layer to output, as copies."""
        return self._net.weights()

    def dead_links(self):
        return self._net.dead_links()

    def _check_layer(self, layer):
        if not isinstance(layer, (int, np.integer)) or not 0 <= layer < self._net.num_layers:
            raise ValueError(f"layer: {layer!r} must be an integer in 0..{self._net.num_layers - 1}")

    @staticmethod
    def _check_value(name, value):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) \
                or not np.isfinite(value):
            raise ValueError(f"{name}: {value!r} must be a finite number")
        return float(value)

    def set_weight(self, layer: int, i: int, j: int, value: float):
        """Set the weight of the link from node i of layer `layer` to node j of the next layer
        (layer 0 = the inputs). Applied live, as the original's click-to-edit: a dead link keeps
        the new weight in its forward and backward passes but stays dead (never trained again)."""
        self._check_layer(layer)
        value = self._check_value("value", value)
        n_in, n_out = self._net.sizes[layer], self._net.sizes[layer + 1]
        for name, index, size in (("i", i, n_in), ("j", j, n_out)):
            if not isinstance(index, (int, np.integer)) or not 0 <= index < size:
                raise ValueError(f"{name}: {index!r} must be an integer in 0..{size - 1}")
        weight, bias = self._net.weights()[layer]
        weight[i, j] = value
        self._net.set_layer(0, layer + 1, weight, bias)

    def set_bias(self, layer: int, j: int, value: float):
        """Set the bias of node j in hidden/output layer `layer` (0 = first hidden layer)."""
        self._check_layer(layer)
        value = self._check_value("value", value)
        n_out = self._net.sizes[layer + 1]
        if not isinstance(j, (int, np.integer)) or not 0 <= j < n_out:
            raise ValueError(f"j: {j!r} must be an integer in 0..{n_out - 1}")
        weight, bias = self._net.weights()[layer]
        bias[j] = value
        self._net.set_layer(0, layer + 1, weight, bias)

    def load_weights(self, weights, dead=None):
        """Restore [(W, b)] per layer (and optionally dead links), e.g. from the run log."""
        sizes = self._net.sizes
        if len(weights) != len(sizes) - 1:
            raise ValueError(f"weights: {len(weights)} layers given, the network has {len(sizes) - 1}")
        for l, (w, b) in enumerate(weights, start=1):
            w, b = np.asarray(w, dtype=float), np.asarray(b, dtype=float)
            if w.shape != (sizes[l - 1], sizes[l]) or b.shape != (sizes[l],):
                raise ValueError(f"weights: layer {l - 1} has W {w.shape} and b {b.shape}, "
                                 f"expected {(sizes[l - 1], sizes[l])} and {(sizes[l],)}")
            if not (np.isfinite(w).all() and np.isfinite(b).all()):
                raise ValueError(f"weights: layer {l - 1} has non-finite values")
            self._net.set_layer(0, l, w, b, None if dead is None else dead[l - 1])
        if hasattr(self, "_hyper"):
            self._hyper.any_dead = bool(self._net.dead.any())

    # ------------------------------------------------------------- pictures
    @property
    def layer_sizes(self) -> list[int]:
        return list(self._net.sizes)

    @property
    def input_names(self) -> list[str]:
        return list(self.cfg.input_names)

    def _grid_pass(self, density: int):
        """Features and every layer's output over the density x density grid. The features are
        cached per grid and feature set; the pass until the parameters change (so boundary and
        neuron maps share one forward pass)."""
        if not isinstance(density, (int, np.integer)) or not 2 <= density <= 1000:
            raise ValueError(f"density: {density!r} must be an integer in 2..1000")
        names = tuple(self.cfg.input_names)
        features = self._grid_features.get((density, names))
        if features is None:
            features = feature_matrix(grid_points(density), names)
            self._grid_features[(density, names)] = features = (features, with_ones(features))
        key = (density, names, self._net.version, id(self._net))
        if self._grid_cache is None or self._grid_cache[0] != key:
            outputs = self._net.layer_outputs(features[1])  # (n_l, d * d) each
            self._grid_cache = (key, (features[0], outputs))
        return self._grid_cache[1]

    def boundary(self, density: int = 100) -> np.ndarray:
        """The output over the grid: (density, density), row 0 at y = +6, column 0 at x = -6;
        for classes > 2, (K, density, density) class probabilities."""
        out = self._grid_pass(density)[1][-1]
        return out.reshape(density, density) if len(out) == 1 else out.reshape(-1, density, density)

    def neuron_maps(self, density: int = 10) -> list[np.ndarray]:
        """Every input feature's and neuron's output over the grid, from one forward pass:
        [inputs (F, d, d), hidden 1 (n_1, d, d), ..., output (n_out, d, d)]."""
        features, outputs = self._grid_pass(density)
        return [m.reshape(-1, density, density) for m in [features.T, *outputs]]

    def predict(self, points) -> np.ndarray:
        """Network output for (n, 2) points x, y: (n,) or (n, K) for classes > 2."""
        points = np.asarray(points, dtype=float)
        if points.ndim != 2 or points.shape[1] != 2:
            raise ValueError(f"points: expected shape (n, 2), got {points.shape}")
        out = self._net.layer_outputs(with_ones(feature_matrix(points, self.cfg.input_names)))[-1]
        return out[0].copy() if len(out) == 1 else out.T.copy()
