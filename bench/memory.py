"""Resident memory of a long run: how much a 100,000-epoch history costs a session.

    python bench/memory.py [--epochs 100000] [--url '#networkShape=4,2&...']

Trains one Run (the page's default network unless --url) for --epochs epochs in this process and reports
the process's resident set size (RSS, from /proc/self/status) before and after, the history table's own
bytes, and what one frame and one run-log save of that run weigh. Run it on its own: RSS is per process.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, installed or not

from nn.playground import Config  # noqa: E402
from nn.playground.runlog import snapshot  # noqa: E402
from nn.playground.session import Session  # noqa: E402


def status_mb(field: str) -> float:
    """A memory figure of this process in MB from /proc/self/status (VmRSS: resident, VmHWM: peak)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def rss_mb() -> float:
    return status_mb("VmRSS")


def peak_mb() -> float:
    return status_mb("VmHWM")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=100_000)
    parser.add_argument("--url", default="#dataset=spiral&networkShape=4,2&seed=memory&learningRate=0.03")
    args = parser.parse_args(argv)

    session = Session(Config.from_url(args.url))
    session.frame()
    baseline = rss_mb()
    run = session.run
    began = time.monotonic()
    chunk = 1000
    while run.epoch < args.epochs and not run.diverged:
        run.train(min(chunk, args.epochs - run.epoch))
    seconds = time.monotonic() - began
    after_training = rss_mb()
    frame = session.frame()  # the first frame after training carries every new history row
    steady_frame = session.frame()
    record = snapshot(run)
    history_bytes = run.history.array().nbytes
    table_bytes = run.history._data.nbytes  # what the table holds, capacity included (it doubles when full)

    print(f"run               {args.url}")
    print(f"epochs            {run.epoch} in {seconds:.1f} s ({run.epoch / seconds:.0f} epochs/s)")
    print(f"RSS before        {baseline:.1f} MB (Python, numpy, the engine, a fresh session)")
    print(f"RSS after         {after_training:.1f} MB (+{after_training - baseline:.1f} MB for the run)")
    print(f"RSS peak          {peak_mb():.1f} MB (after a frame and a run-log snapshot)")
    print(f"history           {history_bytes / 1e6:.2f} MB of rows, {table_bytes / 1e6:.2f} MB allocated "
          f"({history_bytes / run.epoch:.0f} bytes per epoch)")
    print(f"frame             {len(frame) / 1e6:.2f} MB with all new rows; {len(steady_frame) / 1e3:.1f} kB after")
    print(f"run-log record    {sum(c.nbytes for c in record['history'].values() if c is not None) / 1e6:.2f} MB "
          "of history")


if __name__ == "__main__":
    main()
