"""The playground engine: the TensorFlow Neural Network Playground's data and training, headless.

    from nn.playground import Config, Run
"""
from nn.playground.config import Config
from nn.playground.run import Run

__all__ = ["Config", "Run"]
