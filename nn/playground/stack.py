"""Train many runs of one architecture as one stacked model (for studies).

Runs that share the layer sizes, activations, output, batch size and data sizes differ only in
numbers: their data (seeds), initial weights, learning rates and regularisation rates. Stacking their
parameters along a leading axis (nn.playground.network, stack=S) trains all S with the same NumPy
calls one run makes, so a study pays the per-call overhead once per group instead of once per run.
Each model follows exactly the original's rules; the results match training each run alone up to
float rounding (batched and single matrix products may round differently).
"""
from __future__ import annotations

import time
from collections import defaultdict

import numpy as np

from nn.playground.config import Config
from nn.playground.network import Batches, Hyper, Network
from nn.playground.run import Run, output_kind


def stack_key(run: Run) -> tuple:
    """What runs must share to train in one stack."""
    cfg = run.cfg
    return (tuple(run.layer_sizes), tuple(cfg.layer_activations), output_kind(cfg), cfg.batchSize,
            len(run.train_data), len(run.test_data), cfg.optimizer, cfg.momentum)


def train_group(cfgs: list[Config], epochs: int) -> list[Run]:
    """Build a Run per config, train each `epochs` epochs (stacked where they share a stack_key),
    and return the finished runs in the order of `cfgs`."""
    runs = [Run(cfg) for cfg in cfgs]
    groups = defaultdict(list)
    for run in runs:
        # Reshuffled runs draw their own order every epoch, so they train alone.
        groups[stack_key(run) if not run.cfg.reshuffle else run.uid].append(run)
    for members in groups.values():
        if len(members) == 1:
            members[0].train(epochs)
        else:
            train_stacked(members, epochs)
    return runs


def train_stacked(runs: list[Run], epochs: int):
    """Train runs of one stack_key together; each run ends as if trained alone."""
    first = runs[0]
    S = len(runs)
    net = Network(first.layer_sizes, first.cfg.layer_activations, output_kind(first.cfg), stack=S)
    for s, run in enumerate(runs):
        net.params[s] = run._net.params[0]
        net.dead[s] = run._net.dead[0]
    net._alive[:] = ~net.dead
    rate = [r.cfg.regularizationRate for r in runs]
    hyper = Hyper(net, [r.cfg.learningRate for r in runs],
                  l1_rate=[x if r.cfg.regularization == "L1" else 0.0 for x, r in zip(rate, runs)],
                  l2_rate=[x if r.cfg.regularization == "L2" else 0.0 for x, r in zip(rate, runs)],
                  optimizer=first.cfg.optimizer, momentum=first.cfg.momentum)
    train, test = ([np.stack(arrays) for arrays in zip(*(getattr(r, part) for r in runs))]
                   for part in ("_train_set", "_test_set"))
    batches = Batches(train[0], train[1], first.cfg.batchSize)
    active = [s for s, run in enumerate(runs) if not run.diverged]
    elapsed = 0.0
    with np.errstate(all="ignore"):
        for _ in range(epochs):
            if not active:
                break
            start = time.perf_counter()
            net.train_epoch(batches, hyper)
            elapsed += time.perf_counter() - start
            losses = net.losses(train, test)
            finite = np.isfinite(net.params.sum(axis=1))
            still = []
            for s in active:
                run = runs[s]
                run.epoch += 1
                run._elapsed = elapsed  # the stack's wall time: these runs trained together
                run.history.append(run.epoch, *losses[s].tolist(), elapsed)
                if not (np.isfinite(losses[s, 0]) and finite[s]):
                    run.diverged, run.diverged_epoch = True, run.epoch
                    _copy_back(net, s, run)
                else:
                    still.append(s)
            active = still
    for s in active:
        _copy_back(net, s, runs[s])


def _copy_back(net: Network, s: int, run: Run):
    run._net.params[0] = net.params[s]
    run._net.dead[0] = net.dead[s]
    run._net._alive[0] = net._alive[s]
    run._net.version += 1
    run._hyper.any_dead = bool(run._net.dead.any())
