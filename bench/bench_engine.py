"""Engine speed: epochs/s for C1-C4, the grid pass, and PyTorch eager on C2, side by side in one run.

    python bench/bench_engine.py [--seconds 2]

BLAS is pinned to one thread (these matrices are tiny: threads only add overhead). An epoch
includes the per-epoch train and test loss, as the original's. It also prints how long C4's matrix
products alone take an epoch, measured in the same run: a ceiling no NumPy engine can pass on this
machine. The original's own nn.ts in Node 20 on this kind of machine: C1 8295, C2 803, C3 695
epochs/s; grid 34 ms for C2 (PLAYGROUND.md).
"""
import os

os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ["OMP_NUM_THREADS"] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from nn.playground import Config, Run  # noqa: E402

CONFIGS = {
    "C1": "dataset=spiral&networkShape=4,2&activation=tanh&learningRate=0.03&batchSize=10&seed=0.1",
    "C2": "dataset=spiral&networkShape=8,8,8,8,8,8&activation=tanh&learningRate=0.03&batchSize=10"
          "&regularization=L2&regularizationRate=0.001&seed=0.1",
    "C3": "dataset=spiral&networkShape=8,8,8,8,8,8&activation=relu&learningRate=0.03&batchSize=1"
          "&regularization=L2&regularizationRate=0.001&seed=0.1",
    "C4": "dataset=spiral&networkShape=64,64&activation=relu&learningRate=0.1&batchSize=250&seed=0.1",
}
ORIGINAL = {"C1": 8295, "C2": 803, "C3": 695}
TARGET = {"C1": 5000, "C2": 2000, "C3": 240, "C4": 5000}


def epochs_per_second(run, seconds):
    run.train(5)
    epochs, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        run.train(20)
        epochs += 20
    return epochs / (time.perf_counter() - start)


def grid_ms(run, repeats=50):
    start = time.perf_counter()
    for _ in range(repeats):
        run._net.version += 1  # defeat the cache: time a real pass each time
        run.boundary(100)
        run.neuron_maps(100)
    return (time.perf_counter() - start) / repeats * 1e3


def c4_products_us(repeats=200):
    """Microseconds an epoch of C4 spends in its matrix products alone (float64, one BLAS thread): the
    forward pass over the 250 training and 250 test points, then the backward pass over the 250 training
    points. No engine, however lean, trains C4 faster than this allows."""
    rng = np.random.default_rng(0)

    def product(rows, inner, cols):
        left, right, out = rng.random((rows, inner)), rng.random((inner, cols)), np.empty((rows, cols))
        return lambda: left.dot(right, out)

    products = [product(64, 3, 500), product(64, 65, 500), product(1, 65, 500),  # forward, train + test
                product(65, 250, 1), product(64, 1, 250), product(65, 250, 64), product(64, 64, 250),
                product(3, 250, 64)]  # backward: gradient and back-propagation of each layer
    start = time.perf_counter()
    for _ in range(repeats):
        for call in products:
            call()
    return (time.perf_counter() - start) / repeats * 1e6


def torch_epochs_per_second(python):
    if not Path(python).exists():
        return None
    script = Path(__file__).with_name("torch_c2.py")
    out = subprocess.run([python, str(script), "300"], capture_output=True, text=True,
                         env={**os.environ, "OMP_NUM_THREADS": "1"})
    if out.returncode:
        print(out.stderr, file=sys.stderr)
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])["epochs_per_s"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--torch-python", default=os.environ.get("TORCH_PYTHON", "/tmp/torchvenv/bin/python"))
    args = parser.parse_args()
    try:
        from threadpoolctl import threadpool_info
        blas = [(i["internal_api"], i["num_threads"], i.get("architecture")) for i in threadpool_info()]
    except ImportError:
        blas = "threadpoolctl not installed"
    print(f"BLAS: {blas}")
    print(f"{'config':<6} {'epochs/s':>10} {'target':>8} {'original':>9} {'x original':>10}")
    rates = {}
    for name, url in CONFIGS.items():
        rates[name] = rate = epochs_per_second(Run(Config.from_url(url)), args.seconds)
        orig = ORIGINAL.get(name)
        ratio = f"{rate / orig:10.2f}" if orig else f"{'-':>10}"
        print(f"{name:<6} {rate:10.0f} {TARGET[name]:8d} {orig or '-':>9} {ratio}")
    floor = c4_products_us()
    print(f"C4's matrix products alone take {floor:.0f} us an epoch here: at most {1e6 / floor:,.0f} epochs/s")
    print(f"grid: boundary(100) + neuron_maps(100) for C2: {grid_ms(Run(Config.from_url(CONFIGS['C2']))):.2f} ms"
          " (target <= 2 ms; original 34 ms)")
    torch_rate = torch_epochs_per_second(args.torch_python)
    if torch_rate is None:
        print(f"PyTorch: not measured (no {args.torch_python}; see bench/torch_c2.py)")
    else:
        print(f"PyTorch eager C2: {torch_rate:.0f} epochs/s; engine / PyTorch = {rates['C2'] / torch_rate:.1f}x"
              " (target >= 10x)")


if __name__ == "__main__":
    main()
