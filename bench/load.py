"""Classroom load: N students at once on one gunicorn server, each playing at the original's pace.

    python bench/load.py [--sessions 8,20,40] [--workers 2] [--threads 32] [--seconds 60] [--url '#...']

Starts `gunicorn -k gthread -w W --threads T 'app:create_app()'` on 127.0.0.1 (a free port), then opens N
WebSocket sessions that behave like the page: each loads the setup, plays at speed 1 (one epoch per frame, as
the original), answers every frame with "drawn", and every 2 s sets the learning rate (as a student moving the
slider). For each N it reports, over --seconds after a 3 s warm-up:
  frames/s per session (min, median), p95 command latency (sending "set learningRate" -> the first frame
  whose "ack" shows it), errors (error replies, disconnects, timeouts: must be 0), the server's CPU use and
  resident memory (all its processes).
The clients run on the same machine, so they take some of its CPU: the figures are a lower bound.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import websocket

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "#dataset=spiral&networkShape=4,2&activation=tanh&learningRate=0.03&batchSize=10&seed=0.5&x=true&y=true"
RATES = (0.03, 0.01)
COMMAND_EVERY_S = 2.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def header_of(frame: bytes) -> dict:
    (length,) = struct.unpack_from("<I", frame)
    return json.loads(frame[4:4 + length])


class Student(threading.Thread):
    """One tab: plays, answers frames, moves the learning rate every few seconds; records what it saw."""

    def __init__(self, url: str, setup: str, start_at: float, stop_at: float):
        super().__init__(daemon=True)
        self.url, self.setup, self.start_at, self.stop_at = url, setup, start_at, stop_at
        self.frames = 0           # frames received inside the measurement window
        self.latencies = []       # seconds from a command to the first frame showing it
        self.errors = []

    def run(self):
        try:
            self._play()
        except Exception as error:  # any failure of a session is an error of the run
            self.errors.append(f"{type(error).__name__}: {error}")

    def _play(self):
        ws = websocket.create_connection(self.url, timeout=30, origin=self.url.replace("ws://", "http://")
                                         .removesuffix("/ws"))
        next_id = 0

        def send(command):
            nonlocal next_id
            next_id += 1
            ws.send(json.dumps({**command, "id": next_id}))
            return next_id

        send({"cmd": "load", "url": self.setup})
        send({"cmd": "speed", "value": 1})
        send({"cmd": "play"})
        pending = None  # (id, sent at) of the command whose frame we wait for
        next_command = time.monotonic() + COMMAND_EVERY_S * (hash(self.name) % 100) / 100
        rate = 0
        while time.monotonic() < self.stop_at:
            now = time.monotonic()
            if pending is None and now >= next_command:
                rate += 1
                pending = (send({"cmd": "set", "field": "learningRate", "value": RATES[rate % 2]}), now)
                next_command = now + COMMAND_EVERY_S
            message = ws.recv()
            if isinstance(message, str):
                reply = json.loads(message)
                if reply.get("type") == "error":
                    self.errors.append(reply.get("error"))
                continue
            ws.send('{"cmd":"drawn"}')
            header = header_of(message)
            received = time.monotonic()
            if self.start_at <= received < self.stop_at:
                self.frames += 1
            if received >= self.start_at and header.get("state") != "playing":
                self.errors.append(f"state {header.get('state')!r} at epoch {header.get('epoch')}")
            if pending is not None and (header.get("ack") or 0) >= pending[0]:
                if received >= self.start_at:
                    self.latencies.append(received - pending[1])
                pending = None
        ws.close()


def process_tree_stats(pid: int) -> tuple[float, float]:
    """(CPU seconds, resident MB) of a process and its children (gunicorn's master and workers)."""
    pids = [pid] + [int(p) for p in subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
                    .stdout.split()]
    cpu, rss = 0.0, 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            cpu += (int(fields[11]) + int(fields[12])) / ticks
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss += int(line.split()[1]) / 1024
        except (FileNotFoundError, IndexError):
            pass
    return cpu, rss


def start_gunicorn(port: int, workers: int, threads: int, max_sessions: int) -> subprocess.Popen:
    env = {**os.environ, "PLAYGROUND_MAX_SESSIONS": str(max_sessions), "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-k", "gthread", "-w", str(workers), "--threads", str(threads),
         "-b", f"127.0.0.1:{port}", "--log-level", "warning", "app:create_app()"],
        cwd=ROOT, env=env)
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            time.sleep(1)  # let every worker boot
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("gunicorn did not start")


def measure(url: str, setup: str, sessions: int, seconds: float, server_pid: int) -> dict:
    warm_up = 3.0
    start_at = time.monotonic() + warm_up
    stop_at = start_at + seconds
    students = [Student(url, setup, start_at, stop_at) for _ in range(sessions)]
    for student in students:
        student.start()
    time.sleep(max(0.0, start_at - time.monotonic()))
    cpu_before, _ = process_tree_stats(server_pid)
    for student in students:
        student.join(timeout=seconds + warm_up + 60)
    cpu_after, rss = process_tree_stats(server_pid)
    rates = sorted(student.frames / seconds for student in students)
    latencies = sorted(latency for student in students for latency in student.latencies)
    errors = [error for student in students for error in student.errors]
    errors += ["session did not finish"] * sum(student.is_alive() for student in students)
    return {
        "sessions": sessions,
        "fps_min": rates[0], "fps_median": statistics.median(rates),
        "latency_p50_ms": 1000 * statistics.median(latencies) if latencies else None,
        "latency_p95_ms": 1000 * latencies[int(0.95 * (len(latencies) - 1))] if latencies else None,
        "commands": len(latencies), "errors": len(errors), "error_examples": sorted(set(errors))[:3],
        "server_cpu_percent": 100 * (cpu_after - cpu_before) / seconds, "server_rss_mb": rss,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", default="8,20,40", help="session counts to try, e.g. 8,20,40")
    parser.add_argument("--workers", default="2", help="gunicorn worker counts to try, e.g. 1,2,4")
    parser.add_argument("--threads", type=int, default=32, help="threads per worker (one per open session)")
    parser.add_argument("--max-sessions", type=int, default=None,
                        help="PLAYGROUND_MAX_SESSIONS per worker (default: the threads minus 4, for page loads)")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--url", default=DEFAULT_URL, help="the setup every student plays")
    args = parser.parse_args(argv)

    print(f"setup: {args.url}; {args.seconds:g} s per measurement; {os.cpu_count()} cores")
    print(f"{'workers':>7} {'sessions':>8} {'fps min':>8} {'fps med':>8} {'p50 ms':>7} {'p95 ms':>7} "
          f"{'cmds':>5} {'errors':>6} {'cpu %':>6} {'rss MB':>7}", flush=True)
    results = []
    for workers in map(int, args.workers.split(",")):
        port = free_port()
        server = start_gunicorn(port, workers, args.threads, args.max_sessions or args.threads - 4)
        try:
            for sessions in map(int, args.sessions.split(",")):
                result = measure(f"ws://127.0.0.1:{port}/ws", args.url, sessions, args.seconds, server.pid)
                result["workers"] = workers
                results.append(result)
                p50, p95 = result["latency_p50_ms"], result["latency_p95_ms"]
                print(f"{workers:>7} {sessions:>8} {result['fps_min']:>8.1f} {result['fps_median']:>8.1f} "
                      f"{p50 if p50 is None else round(p50):>7} {p95 if p95 is None else round(p95):>7} "
                      f"{result['commands']:>5} {result['errors']:>6} {result['server_cpu_percent']:>6.0f} "
                      f"{result['server_rss_mb']:>7.0f}", flush=True)
                for example in result["error_examples"]:
                    print(f"        error: {example}", flush=True)
                time.sleep(2)  # let the sessions close before the next measurement
        finally:
            server.terminate()
            server.wait(timeout=30)
    return results


if __name__ == "__main__":
    main()
