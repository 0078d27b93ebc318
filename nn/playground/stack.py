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
    train = stacked(r._train_set for r in runs)
    batches = Batches(train[0], train[1], first.cfg.batchSize)
    # The loss passes each run makes, stacked. A pass over the training set is the `train` arrays
    # themselves, so that with one full batch the next epoch reuses it as its forward pass.
    passes = [(*(train if purpose == "train" else stacked(r._loss_passes[k][:3] for r in runs)), purpose, n_train)
              for k, (*_, purpose, n_train) in enumerate(first._loss_passes)]
    # Losses go into one table and reach the histories at the end: per-run bookkeeping every epoch
    # would cost as much as the stacked training itself.
    losses = np.full((epochs, S, 4), np.nan)
    clock = np.zeros(epochs)
    last_epoch = np.full(S, epochs)  # how many epochs each run trains (fewer if it diverges)
    active = np.array([not run.diverged for run in runs])
    last_epoch[~active] = 0
    elapsed = 0.0
    with np.errstate(all="ignore"):
        for e in range(epochs):
            if not active.any():
                break
            start = time.perf_counter()
            net.train_epoch(batches, hyper)
            losses[e] = net.losses(passes)
            elapsed += time.perf_counter() - start
            clock[e] = elapsed
            diverged = active & ~(np.isfinite(losses[e, :, 0]) & np.isfinite(net.params.sum(axis=1)))
            for s in np.flatnonzero(diverged):
                last_epoch[s] = e + 1
                runs[s].diverged, runs[s].diverged_epoch = True, runs[s].epoch + e + 1
                _copy_back(net, s, runs[s])
            active &= ~diverged
    for s, run in enumerate(runs):
        for e in range(last_epoch[s]):
            run.history.append(run.epoch + e + 1, *losses[e, s].tolist(), clock[e])
        run.epoch += int(last_epoch[s])
        run._elapsed = elapsed  # the stack's wall time: these runs trained together
        if active[s]:
            _copy_back(net, s, run)


def stacked(per_run) -> list[np.ndarray]:
    """[(a, b, ...) per run] -> [a stacked over runs, b stacked over runs, ...]."""
    return [np.stack(arrays) for arrays in zip(*per_run)]


def _copy_back(net: Network, s: int, run: Run):
    run._net.params[0] = net.params[s]
    run._net.dead[0] = net.dead[s]
    run._net._alive[0] = net._alive[s]
    run._net.version += 1
    run._hyper.any_dead = bool(run._net.dead.any())
