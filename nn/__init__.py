"""nn: a small NumPy neural-network library with hand-derived backward passes.

Every layer is a `Module`: ``forward(x)`` keeps what ``backward(grad)`` needs,
``backward`` fills ``grads`` and returns dL/dx, ``predict(x)`` keeps nothing.
The playground engine lives in ``nn.playground`` and is not imported here.
"""

from .activations import (ACTIVATIONS, ELU, Activation, Identity, LeakyReLU, ReLU, Sigmoid,
                          Softplus, Swish, Tanh, get_activation, sigmoid)
from .init import (Constant, HeNormal, HeUniform, Initializer, Normal, Uniform, XavierUniform,
                   Zeros, fans)
from .layers import Conv2D, Linear, MaxPool2D, Reshape
from .losses import BinaryCrossEntropy, HalfSquaredError, Loss, SoftmaxCrossEntropy
from .models import Sequential, mlp
from .module import Module
from .optim import SGD, Adam, Optimizer
from .regularizers import L1, L2, Regularizer

__all__ = [
    "ACTIVATIONS", "Activation", "Adam", "BinaryCrossEntropy", "Constant", "Conv2D", "ELU",
    "HalfSquaredError", "HeNormal", "HeUniform", "Identity", "Initializer", "L1", "L2",
    "LeakyReLU", "Linear", "Loss", "MaxPool2D", "Module", "Normal", "Optimizer", "ReLU",
    "Regularizer", "Reshape", "SGD", "Sequential", "Sigmoid", "SoftmaxCrossEntropy", "Softplus",
    "Swish", "Tanh", "Uniform", "XavierUniform", "Zeros", "fans", "get_activation", "mlp",
    "sigmoid",
]
