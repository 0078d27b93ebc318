"""Speed reference only: configuration C2 trained with PyTorch CPU eager (autograd), one thread.

Never imported by the project. bench/bench_engine.py runs it with a throwaway venv's Python
(TORCH_PYTHON, default /tmp/torchvenv/bin/python; `python -m venv /tmp/torchvenv &&
/tmp/torchvenv/bin/pip install torch==2.13.0 numpy`) and prints its epochs/s beside ours.
Same work per epoch as the engine: 250 training points in minibatches of 10 (forward, backward,
SGD with L2 0.001 as weight decay on the weights), then the loss over the train and test sets.
"""
import json
import sys
import time

import torch

torch.set_num_threads(1)
torch.manual_seed(0)
epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 200
x_train, y_train = torch.randn(250, 2, dtype=torch.float64) * 3, torch.sign(torch.randn(250, 1, dtype=torch.float64))
x_test, y_test = torch.randn(250, 2, dtype=torch.float64) * 3, torch.sign(torch.randn(250, 1, dtype=torch.float64))
layers = []
sizes = [2, 8, 8, 8, 8, 8, 8]
for n_in, n_out in zip(sizes, sizes[1:]):
    layers += [torch.nn.Linear(n_in, n_out, dtype=torch.float64), torch.nn.Tanh()]
layers += [torch.nn.Linear(8, 1, dtype=torch.float64), torch.nn.Tanh()]
model = torch.nn.Sequential(*layers)
weights = [p for n, p in model.named_parameters() if n.endswith("weight")]
biases = [p for n, p in model.named_parameters() if n.endswith("bias")]
opt = torch.optim.SGD([{"params": weights, "weight_decay": 0.001}, {"params": biases}], lr=0.03)


def epoch():
    for k in range(25):
        xb, yb = x_train[10 * k:10 * k + 10], y_train[10 * k:10 * k + 10]
        opt.zero_grad()
        loss = 0.5 * ((model(xb) - yb) ** 2).mean()
        loss.backward()
        opt.step()
    with torch.no_grad():
        return (0.5 * ((model(x_train) - y_train) ** 2).mean().item(),
                0.5 * ((model(x_test) - y_test) ** 2).mean().item())


epoch()
start = time.perf_counter()
for _ in range(epochs):
    epoch()
print(json.dumps({"epochs_per_s": epochs / (time.perf_counter() - start), "torch": torch.__version__}))
