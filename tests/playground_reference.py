"""A slow, plain oracle of the original playground's network and training, for the fidelity tests.

It is written from the rules of the original (tensorflow/playground src/nn.ts and src/playground.ts,
summarised in /work/shared/PLAYGROUND.md), not from our engine, and it keeps the original's structure on
purpose: one object per node and per link, one example at a time, the same float operations in the same
order. That makes it slow (a few milliseconds an epoch for a small net) but easy to check line by line
against the original, so the fast vectorized engine can be checked against it.

Only the data (generation, shuffle, split) and the random stream come from the project
(`nn.playground.datasets.make_data`, `nn.playground.seedrandom.SeedRandom`); everything after the data is
here.

    ref = ReferenceRun(Config.from_url(link))
    ref.initial_losses()  -> (train_loss, test_loss) of the freshly built network (epoch 0)
    ref.train_epoch()     -> (train_loss, test_loss) after one more epoch
    ref.weights()         -> [(W (n_in, n_out), b (n_out,)), ...] first hidden layer to output
    ref.dead_links()      -> [bool array shaped like W, ...]
    ref.reset(), ref.regenerate()            the Reset and Regenerate buttons
    ref.set_weight(layer, i, j, v), ref.set_bias(layer, j, v), ref.load_weights(weights)   user edits
    ref.rng               the seeded stream, positioned where the original's would be
"""
import math

import numpy as np

from nn.playground import jsmath
from nn.playground.datasets import make_data
from nn.playground.seedrandom import SeedRandom

# The input features in the order the original's INPUTS table lists them: the network's input nodes
# follow this order, whatever order the URL names them in.
FEATURES = (
    ("x", lambda x, y: x),
    ("y", lambda x, y: y),
    ("xSquared", lambda x, y: x * x),
    ("ySquared", lambda x, y: y * y),
    ("xTimesY", lambda x, y: x * y),
    # Math.sin as V8 computes it (fdlibm), which differs from the C library's in the last bit at times.
    ("sinX", lambda x, y: jsmath.sin(x)),
    ("sinY", lambda x, y: jsmath.sin(y)),
)


# --- activations: output and derivative, both functions of the node's total input --------------------

def _tanh_der(x):
    out = math.tanh(x)
    return 1 - out * out


def _sigmoid(x):
    # math.exp overflows to an exception where JavaScript gives Infinity; 1 / (1 + inf) is 0 there.
    try:
        return 1 / (1 + math.exp(-x))
    except OverflowError:
        return 0.0


def _sigmoid_der(x):
    out = _sigmoid(x)
    return out * (1 - out)


ACTIVATIONS = {
    "tanh": (math.tanh, _tanh_der),
    # The original's ReLU derivative is 0 at exactly 0 (x <= 0), not 1.
    # NaN passes through as in JavaScript's Math.max(0, NaN) (Python's max would give 0).
    "relu": (lambda x: x if (x > 0 or x != x) else 0.0, lambda x: 0.0 if x <= 0 else 1.0),
    "sigmoid": (_sigmoid, _sigmoid_der),
    "linear": (lambda x: x, lambda x: 1.0),
}


def _l1_der(w):
    # sign(w), with 0 at exactly 0 (an initZero weight is not pushed by L1 on its first update).
    return -1.0 if w < 0 else (1.0 if w > 0 else 0.0)


REGULARIZATION_DERS = {
    None: None,
    "L1": _l1_der,
    "L2": lambda w: w,
}


class Node:
    """A neuron with the original's per-node state."""

    def __init__(self, activation, init_zero):
        self.output_fn, self.der_fn = activation if activation else (None, None)
        self.bias = 0.0 if init_zero else 0.1
        self.input_links = []
        self.outputs = []  # links leaving this node, in the order their destinations were built
        self.total_input = 0.0
        self.output = 0.0
        self.output_der = 0.0
        self.input_der = 0.0
        self.acc_input_der = 0.0
        self.num_accumulated_ders = 0

    def update_output(self):
        # The sum starts from the bias and adds the links in order, as the original does.
        total = self.bias
        for link in self.input_links:
            total += link.weight * link.source.output
        self.total_input = total
        self.output = self.output_fn(total)
        return self.output


class Link:
    """A weight with the original's per-link state."""

    def __init__(self, source, dest, weight):
        self.source = source
        self.dest = dest
        self.weight = weight
        self.is_dead = False
        self.error_der = 0.0
        self.acc_error_der = 0.0
        self.num_accumulated_ders = 0


def build_network(shape, activation, output_activation, rng, init_zero):
    """Layers of nodes, links drawn layer by layer, destination node, then source node.

    Every link draws `random() - 0.5` even with initZero: the original's Link sets its weight from
    Math.random() in a field initializer before the constructor zeroes it. Nothing in training draws
    afterwards, so this only matters to whoever draws next from the same stream.
    """
    network = [[Node(None, init_zero) for _ in range(shape[0])]]
    for layer_idx in range(1, len(shape)):
        is_output = layer_idx == len(shape) - 1
        layer = []
        for _ in range(shape[layer_idx]):
            node = Node(output_activation if is_output else activation, init_zero)
            for prev in network[layer_idx - 1]:
                weight = rng.random() - 0.5
                link = Link(prev, node, 0.0 if init_zero else weight)
                prev.outputs.append(link)
                node.input_links.append(link)
            layer.append(node)
        network.append(layer)
    return network


def forward_prop(network, inputs):
    for node, value in zip(network[0], inputs):
        node.output = value
    for layer in network[1:]:
        for node in layer:
            node.update_output()
    return network[-1][0].output


def back_prop(network, target):
    """Accumulate this example's derivatives (square error) at the current, unchanged weights."""
    output_node = network[-1][0]
    output_node.output_der = output_node.output - target
    for layer_idx in range(len(network) - 1, 0, -1):
        layer = network[layer_idx]
        for node in layer:
            node.input_der = node.output_der * node.der_fn(node.total_input)
            node.acc_input_der += node.input_der
            node.num_accumulated_ders += 1
        for node in layer:
            for link in node.input_links:
                if link.is_dead:
                    continue  # a dead link gathers nothing, so it is never updated again
                link.error_der = node.input_der * link.source.output
                link.acc_error_der += link.error_der
                link.num_accumulated_ders += 1
        if layer_idx == 1:
            continue  # inputs need no derivative
        for node in network[layer_idx - 1]:
            der = 0.0
            for link in node.outputs:
                der += link.weight * link.dest.input_der
            node.output_der = der


def update_weights(network, learning_rate, regularization_rate, regularization):
    """Apply the mean of the accumulated derivatives, in the original's operation order."""
    reg_der = REGULARIZATION_DERS[regularization]
    for layer in network[1:]:
        for node in layer:
            if node.num_accumulated_ders > 0:
                # Biases are never regularised.
                node.bias -= learning_rate * node.acc_input_der / node.num_accumulated_ders
                node.acc_input_der = 0.0
                node.num_accumulated_ders = 0
            for link in node.input_links:
                if link.is_dead:
                    continue
                # The regularization derivative is taken from the weight before the gradient step.
                regul_der = reg_der(link.weight) if reg_der else 0.0
                if link.num_accumulated_ders > 0:
                    link.weight = link.weight - (
                        learning_rate / link.num_accumulated_ders) * link.acc_error_der
                    new_weight = link.weight - (learning_rate * regularization_rate) * regul_der
                    if regularization == "L1" and link.weight * new_weight < 0:
                        # The regularization step crossed zero: the link is cut for good.
                        link.weight = 0.0
                        link.is_dead = True
                    else:
                        link.weight = new_weight
                    link.acc_error_der = 0.0
                    link.num_accumulated_ders = 0


def clear_accumulators(network):
    for layer in network[1:]:
        for node in layer:
            node.acc_input_der = 0.0
            node.num_accumulated_ders = 0
            for link in node.input_links:
                link.acc_error_der = 0.0
                link.num_accumulated_ders = 0


class ReferenceRun:
    """The original's run for one config: data, then weights from the same stream, then epochs.

    `leftovers` exists only to show the carry-over rule matters: "carry" is the original (examples left
    after the last full batch of an epoch join the first batch of the next epoch); "drop" throws them
    away at the end of the epoch; "apply" updates with them as a short last batch.
    """

    def __init__(self, cfg, leftovers="carry"):
        if leftovers not in ("carry", "drop", "apply"):
            raise ValueError(f"leftovers: {leftovers!r}")
        # Our own extensions have no counterpart in the original, so the oracle cannot judge them.
        extensions = {"optimizer": "sgd", "momentum": 0.0, "loss": "square", "init": "uniform",
                      "layerActivations": (), "classes": 2, "reshuffle": False}
        for name, original in extensions.items():
            if getattr(cfg, name, original) != original:
                raise ValueError(f"{name}: {getattr(cfg, name)!r} has no counterpart in the original")
        self.cfg = cfg
        self.leftovers = leftovers
        rng = SeedRandom(cfg.seed)
        self._set_data(*make_data(cfg, rng))
        # A feature hidden by `<name>_hide=true` is deleted from the original's INPUTS, so it is no input.
        hidden = getattr(cfg, "hide", frozenset())
        enabled = [(name, f) for name, f in FEATURES if getattr(cfg, name) and name not in hidden]
        self.input_names = [name for name, _ in enabled]
        self._features = [f for _, f in enabled]
        # The stream goes on after the data: the weights, then whatever the user does next (Reset,
        # Regenerate) draw from it.
        self.rng = rng
        self.reset()

    def _set_data(self, train, test):
        self.train_data = np.array(train, dtype=np.float64)
        self.test_data = np.array(test, dtype=np.float64)
        # Plain Python floats: the per-example loop is faster on them than on numpy scalars.
        self._train = [(float(x), float(y), float(label)) for x, y, label in self.train_data]
        self._test = [(float(x), float(y), float(label)) for x, y, label in self.test_data]

    def reset(self):
        """The Reset button: a new network drawn from the continuing stream, epoch 0, same data."""
        cfg = self.cfg
        shape = [len(self._features), *cfg.networkShape, 1]
        output_activation = ACTIVATIONS["linear" if cfg.problem == "regression" else "tanh"]
        self.network = build_network(shape, ACTIVATIONS[cfg.activation], output_activation, self.rng,
                                     cfg.initZero)
        self.epoch = 0
        self._initial = (self.loss(self._train), self.loss(self._test))

    def regenerate(self):
        """The Regenerate button: seed = random().toFixed(5) from the continuing stream, new data from that
        seed; the network and its pending (carried-over) derivatives are kept."""
        seed = f"{self.rng.random():.5f}"  # toFixed(5); an exact tie between roundings never occurs
        self.cfg = self.cfg.replace(seed=seed)
        self.rng = SeedRandom(seed)
        self._set_data(*make_data(self.cfg, self.rng))

    def construct_input(self, x, y):
        return [f(x, y) for f in self._features]

    def loss(self, points):
        """Mean of 1/2 (output - label)^2 over the points, summed in order (the original's getLoss)."""
        total = 0.0
        for x, y, label in points:
            out = forward_prop(self.network, self.construct_input(x, y))
            diff = out - label
            total += 0.5 * (diff * diff)  # ** 2 would raise OverflowError where JavaScript gives Infinity
        return total / len(points)

    def initial_losses(self):
        return self._initial

    def train_epoch(self):
        """One pass over the training set in its fixed order (the original's oneStep)."""
        cfg = self.cfg
        reg_rate = cfg.regularizationRate
        for i, (x, y, label) in enumerate(self._train):
            forward_prop(self.network, self.construct_input(x, y))
            back_prop(self.network, label)
            # i counts within this epoch, so a partial batch at the end waits for the next epoch.
            if (i + 1) % cfg.batchSize == 0:
                update_weights(self.network, cfg.learningRate, reg_rate, cfg.regularization)
        if len(self._train) % cfg.batchSize:
            if self.leftovers == "apply":
                update_weights(self.network, cfg.learningRate, reg_rate, cfg.regularization)
            elif self.leftovers == "drop":
                clear_accumulators(self.network)
        self.epoch += 1
        return self.loss(self._train), self.loss(self._test)

    def train(self, epochs):
        """Train `epochs` epochs; the losses after each, as a list of (train, test)."""
        return [self.train_epoch() for _ in range(epochs)]

    def _links_into(self, layer):
        """The nodes of hidden/output layer `layer` (0 = first hidden layer)."""
        return self.network[layer + 1]

    def set_weight(self, layer, i, j, value):
        """The original's click-to-edit of a link (source node i of layer `layer`, 0 = the inputs, to node
        j of the next): only the weight changes. A dead link stays dead: it now carries `value` forward
        but is still never trained."""
        self._links_into(layer)[j].input_links[i].weight = float(value)

    def set_bias(self, layer, j, value):
        self._links_into(layer)[j].bias = float(value)

    def load_weights(self, weights):
        """Set every weight and bias from [(W (n_in, n_out), b (n_out,)), ...]; dead flags are kept."""
        for layer, (w, b) in enumerate(weights):
            for j, node in enumerate(self._links_into(layer)):
                node.bias = float(b[j])
                for i, link in enumerate(node.input_links):
                    link.weight = float(w[i, j])

    def weights(self):
        result = []
        for layer_idx in range(1, len(self.network)):
            prev, layer = self.network[layer_idx - 1], self.network[layer_idx]
            w = np.zeros((len(prev), len(layer)))
            for j, node in enumerate(layer):
                for i, link in enumerate(node.input_links):
                    w[i, j] = link.weight
            b = np.array([node.bias for node in layer], dtype=np.float64)
            result.append((w, b))
        return result

    def dead_links(self):
        result = []
        for layer_idx in range(1, len(self.network)):
            prev, layer = self.network[layer_idx - 1], self.network[layer_idx]
            dead = np.zeros((len(prev), len(layer)), dtype=bool)
            for j, node in enumerate(layer):
                for i, link in enumerate(node.input_links):
                    dead[i, j] = link.is_dead
            result.append(dead)
        return result
