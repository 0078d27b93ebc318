"""`Sequential` chains modules; `mlp` builds the playground's fully connected nets."""

from .activations import get_activation
from .init import XavierUniform, Zeros
from .layers import Linear
from .module import Module, make_rng


class Sequential(Module):
    """y = layer_n(... layer_1(x)). backward runs the layers in reverse, each
    turning dL/d(its output) into dL/d(its input). Holds no parameters of its
    own: ``parameters()`` lists its layers'."""

    def __init__(self, *layers):
        super().__init__()
        for position, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise ValueError(f"Sequential: layer {position} must be a Module, got {type(layer).__name__}")
        self.layers = list(layers)

    def __repr__(self):
        return "Sequential(" + ", ".join(repr(layer) for layer in self.layers) + ")"

    def __getitem__(self, index):
        return self.layers[index]

    def __len__(self):
        return len(self.layers)

    @property
    def is_init(self):
        return all(layer.is_init for layer in self.layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def predict(self, x):
        for layer in self.layers:
            x = layer.predict(x)
        return x

    def backward(self, grad):
        for layer in reversed(self.layers):
            grad = layer.backward(grad)
        return grad

    def parameters(self):
        return [pair for layer in self.layers for pair in layer.parameters()]

    def zero_grad(self):
        for layer in self.layers:
            layer.zero_grad()


def mlp(sizes, activation="tanh", output="tanh", w_init=XavierUniform(), b_init=Zeros(), rng=None):
    """Fully connected net: Linear(sizes[0], sizes[1]), activation, ...,
    Linear(sizes[-2], sizes[-1]), output. Activations by playground name
    ("relu", "tanh", "sigmoid", "linear", ...); ``rng`` (Generator, seed or None)
    is shared by all layers, so one seed fixes every weight."""
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError(f"mlp: sizes must list at least input and output sizes, got {sizes}")
    rng = make_rng(rng)
    layers = []
    for position, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        is_last = position == len(sizes) - 2
        layers += [Linear(d_in, d_out, w_init, b_init, rng), get_activation(output if is_last else activation)]
    return Sequential(*layers)
