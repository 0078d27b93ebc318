"""Study throughput: 20 runs of C2 trained stacked (one vectorized model) against one at a time.

C2 = spiral, [8,8,8,8,8,8] tanh, learning rate 0.03, batch 10, L2 0.001 (PLAYGROUND.md). Both ways train
the same 20 seeds for the same epochs in this one process; the figures are from this run, side by side.

It also prints a ceiling for any stacking, from two costs measured here that no stacking avoids:
- every epoch ends with a loss pass that takes tanh of every neuron over all 500 points (the original's
  per-epoch train and test loss), and NumPy's float64 tanh costs the same per element however the runs
  are stacked;
- every minibatch step makes 3L - 1 matrix products per run (L layers: L forward, L gradients, L - 1
  back), and np.matmul over a stack still makes one BLAS call per run's small matrix.
One run's epoch time divided by these two alone bounds what stacking can gain.

    python bench/bench_study.py [--runs 20] [--epochs 50]
"""
import os

os.environ["OPENBLAS_NUM_THREADS"] = "1"  # before numpy loads: threads only add overhead at these sizes

import argparse  # noqa: E402
import sys  # noqa: E402
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing
from nn.playground import Config, Run
from nn.playground.stack import train_group

C2 = Config(dataset="spiral", networkShape=(8, 8, 8, 8, 8, 8), activation="tanh", learningRate=0.03,
            batchSize=10, regularization="L2", regularizationRate=0.001)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=200)
    args = parser.parse_args()
    configs = [C2.replace(seed=f"s{i}") for i in range(args.runs)]

    start = time.perf_counter()
    alone = []
    for cfg in configs:
        run = Run(cfg)
        run.train(args.epochs)
        alone.append(run)
    one_at_a_time = time.perf_counter() - start

    start = time.perf_counter()
    stacked = train_group(configs, args.epochs)
    together = time.perf_counter() - start

    # The ceiling: what a stacked epoch costs per run even if nothing but these two were done.
    run = alone[0]
    repeats = 200
    activations = np.random.default_rng(0).standard_normal(
        (sum(run.layer_sizes[1:]), len(run.train_data) + len(run.test_data)))
    start = time.perf_counter()
    for _ in range(repeats):
        np.tanh(activations, out=activations)
    tanh_seconds = (time.perf_counter() - start) / repeats
    width, batch = C2.networkShape[0], C2.batchSize
    weights, inputs = np.ones((args.runs, width, width + 1)), np.ones((args.runs, width + 1, batch))
    products = np.empty((args.runs, width, batch))
    start = time.perf_counter()
    for _ in range(repeats):
        np.matmul(weights, inputs, out=products)
    layers = len(run.layer_sizes) - 1
    steps = len(run.train_data) // batch
    matmul_seconds = (time.perf_counter() - start) / repeats * (3 * layers - 1) * steps / args.runs
    epoch_alone = one_at_a_time / (args.runs * args.epochs)

    gap = max(abs(a.history.last()["test_loss"] - b.history.last()["test_loss"]) for a, b in zip(alone, stacked))
    print(f"{args.runs} runs of C2, {args.epochs} epochs each")
    print(f"{'':<15}{'seconds':>10}{'runs/s':>10}{'epochs/s':>12}")
    for name, seconds in (("one at a time", one_at_a_time), ("stacked", together)):
        print(f"{name:<15}{seconds:>10.2f}{args.runs / seconds:>10.2f}{args.runs * args.epochs / seconds:>12.0f}")
    print(f"speed-up {one_at_a_time / together:.1f}x (target >= 10x); largest final test-loss difference "
          f"{gap:.1e}")
    print(f"ceiling: an epoch alone takes {epoch_alone * 1e6:.0f} us; stacked, each run still costs "
          f"{tanh_seconds * 1e6:.0f} us of tanh in its loss pass ({activations.size:,} activations)")
    print(f"and {matmul_seconds * 1e6:.0f} us of per-matrix BLAS calls in its steps: at most "
          f"{epoch_alone / (tanh_seconds + matmul_seconds):.1f}x")


if __name__ == "__main__":
    main()
