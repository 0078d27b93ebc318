"""Study throughput: 20 runs of C2 trained stacked (one vectorized model) against one at a time.

C2 = spiral, [8,8,8,8,8,8] tanh, learning rate 0.03, batch 10, L2 0.001 (PLAYGROUND.md). Both ways train
the same 20 seeds for the same epochs in this one process; the figures are from this run, side by side.

    python bench/bench_study.py [--runs 20] [--epochs 50]
"""
import os

os.environ["OPENBLAS_NUM_THREADS"] = "1"  # before numpy loads: threads only add overhead at these sizes

import argparse  # noqa: E402
import sys  # noqa: E402
import time
from pathlib import Path

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

    gap = max(abs(a.history.last()["test_loss"] - b.history.last()["test_loss"]) for a, b in zip(alone, stacked))
    print(f"{args.runs} runs of C2, {args.epochs} epochs each")
    print(f"{'':<15}{'seconds':>10}{'runs/s':>10}{'epochs/s':>12}")
    for name, seconds in (("one at a time", one_at_a_time), ("stacked", together)):
        print(f"{name:<15}{seconds:>10.2f}{args.runs / seconds:>10.2f}{args.runs * args.epochs / seconds:>12.0f}")
    print(f"speed-up {one_at_a_time / together:.1f}x (target >= 10x); largest final test-loss difference "
          f"{gap:.1e}")


if __name__ == "__main__":
    main()
