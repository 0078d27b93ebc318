"""Web playground speed, side by side with the original, in one run.

    python bench/bench_web.py [--seconds 5] [--port 0]

Starts the README's classroom server (gunicorn -k gthread -w 4 --threads 32 'app:create_app()') on
127.0.0.1, then measures with WebSocket clients that behave like the page (each frame answered "drawn"):
  1. epochs/s trained while 30 frames/s stream to the client, for C1/C2/C3 at speed "max";
  2. latency from "set learningRate" to the first frame that shows it (median, p90);
  3. sessions at once, each at the original's speed (1 epoch a frame), and their slowest frame rate;
  4. frame sizes in bytes;
  5. the browser's time to draw one frame, in headless Chromium (Debian's, through Playwright).
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import websocket

ROOT = Path(__file__).resolve().parent.parent
SPIRAL = "dataset=spiral&learningRate=0.03&batchSize=10&x=true&y=true&seed=0.5&noise=0&percTrainData=50"
CONFIGS = {
    "C1": f"#{SPIRAL}&networkShape=4,2&activation=tanh",
    "C2": f"#{SPIRAL}&networkShape=8,8,8,8,8,8&activation=tanh&regularization=L2&regularizationRate=0.001",
    "C3": "#dataset=spiral&learningRate=0.03&batchSize=1&x=true&y=true&seed=0.5&networkShape=8,8,8,8,8,8"
          "&activation=relu&regularization=L2&regularizationRate=0.001",
}
ORIGINAL_IN_BROWSER = {"C1": 60, "C2": 25, "C3": 28}  # epochs/s: one epoch per animation frame (PLAYGROUND.md)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


class Client:
    """Talks to /ws like the page: commands with ids, every frame answered with "drawn"."""

    def __init__(self, url):
        self.ws = websocket.create_connection(url, timeout=30)
        self.next_id = 0

    def send(self, command):
        self.next_id += 1
        self.ws.send(json.dumps({**command, "id": self.next_id}))
        return self.next_id

    def frame(self, after=None):
        """(header, size in bytes) of the next frame; with `after`, the first showing that command."""
        while True:
            message = self.ws.recv()
            if isinstance(message, str):
                reply = json.loads(message)
                if reply.get("type") == "error":
                    raise RuntimeError(reply["error"])
                continue
            self.ws.send('{"cmd":"drawn"}')
            length = int.from_bytes(message[:4], "little")
            header = json.loads(message[4:4 + length])
            if after is None or (header["ack"] or 0) >= after:
                return header, len(message)

    def start(self, config_hash, speed):
        self.frame()
        self.send({"cmd": "load", "url": config_hash})
        self.send({"cmd": "speed", "value": speed})
        return self.frame(after=self.send({"cmd": "play"}))

    def close(self):
        self.ws.close()


def stream(url, config_hash, speed, seconds):
    """Play for `seconds`; returns epochs/s, frames/s, mean frame size."""
    client = Client(url)
    header, _ = client.start(config_hash, speed)
    first_epoch, frames, sizes = header["epoch"], 0, []
    began = time.monotonic()
    while time.monotonic() - began < seconds:
        header, size = client.frame()
        frames += 1
        sizes.append(size)
    elapsed = time.monotonic() - began
    client.close()
    return (header["epoch"] - first_epoch) / elapsed, frames / elapsed, statistics.mean(sizes)


def latency(url, config_hash, speed, samples=40):
    """Milliseconds from sending "set learningRate" to receiving the first frame that shows it."""
    client = Client(url)
    client.start(config_hash, speed)
    times = []
    for i in range(samples):
        time.sleep(0.05)
        sent = time.perf_counter()
        client.frame(after=client.send({"cmd": "set", "field": "learningRate", "value": (0.1, 0.03)[i % 2]}))
        times.append((time.perf_counter() - sent) * 1000)
    client.close()
    times.sort()
    return statistics.median(times), times[int(0.9 * len(times))]


def sessions_at_once(url, config_hash, count, seconds):
    """Frame rates of `count` sessions playing at the original's speed together."""
    rates = [0.0] * count
    ready = threading.Barrier(count)

    def one(index):
        client = Client(url)
        client.start(config_hash, 1)
        ready.wait()
        frames, began = 0, time.monotonic()
        while time.monotonic() - began < seconds:
            client.frame()
            frames += 1
        rates[index] = frames / (time.monotonic() - began)
        client.close()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return min(rates), statistics.median(rates)


def browser_draw_time(http_url, config_hash, seconds):
    """Per-frame drawing time in Chromium (the page's own measurement around its frame handler)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(f"{http_url}/{config_hash}")
        page.wait_for_function("window.playground && window.playground.frame && window.playground.waitingFor === null")
        page.select_option("#speed", "max")
        page.get_by_role("button", name="Play/Pause").click()
        page.wait_for_function("window.playground.frame.header.state === 'playing'")
        start = page.evaluate("window.playground.stats.frames")
        time.sleep(seconds)
        stats = page.evaluate("({frames: window.playground.stats.frames, draw: window.playground.stats.drawMs})")
        browser.close()
    draw = sorted(stats["draw"])
    return statistics.median(draw), draw[int(0.9 * len(draw))], (stats["frames"] - start) / seconds


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(port):
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-k", "gthread", "-w", "4", "--threads", "32", "--graceful-timeout", "3",
         "-b", f"127.0.0.1:{port}", "app:create_app()"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.2)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each measurement")
    parser.add_argument("--port", type=int, default=0, help="port for the server (default: a free one)")
    args = parser.parse_args(argv)
    port = args.port or free_port()
    server = start_server(port)
    url, http_url = f"ws://127.0.0.1:{port}/ws", f"http://127.0.0.1:{port}"
    try:
        print(f"Web playground, {os.cpu_count()} cores, gunicorn -k gthread -w 4 --threads 32, "
              f"{args.seconds:g} s per figure\n")
        print("1. Training while streaming frames (speed: as fast as possible)")
        print(f"   {'config':<7}{'ours epochs/s':>14}{'frames/s':>10}{'frame bytes':>13}{'original in browser':>21}")
        for name, config_hash in CONFIGS.items():
            epochs, fps, size = stream(url, config_hash, "max", args.seconds)
            print(f"   {name:<7}{epochs:>14,.0f}{fps:>10.1f}{size:>13,.0f}{ORIGINAL_IN_BROWSER[name]:>18} /s")

        print("\n2. Latency: 'set learningRate' -> first frame showing it (target: median <= 50 ms)")
        for name, speed in (("C1", 1), ("C2", "max")):
            median, p90 = latency(url, CONFIGS[name], speed)
            print(f"   {name} at speed {speed!s:<4} median {median:6.1f} ms   p90 {p90:6.1f} ms")

        print("\n3. Sessions at once, each at the original's speed (1 epoch/frame; target: >= 8 at >= 15 frames/s)")
        for name in ("C1", "C2"):
            for count in (4, 8, 12, 16):
                slowest, median = sessions_at_once(url, CONFIGS[name], count, args.seconds)
                verdict = "ok" if slowest >= 15 else "below 15"
                print(f"   {name} x {count:>2} sessions: slowest {slowest:5.1f} frames/s, median {median:5.1f}  {verdict}")

        print("\n4. Frame size: see the 'frame bytes' column above (steady state; the first frame also "
              "carries the data points)")

        print("\n5. Browser draw time per frame (headless Chromium, software rendering)")
        if os.path.exists(CHROMIUM):
            for name in ("C1", "C2"):
                median, p90, drawn = browser_draw_time(http_url, CONFIGS[name], args.seconds)
                print(f"   {name}: median {median:5.2f} ms   p90 {p90:5.2f} ms   {drawn:5.1f} frames drawn/s")
        else:
            print(f"   skipped: {CHROMIUM} is missing (apt-get install chromium)")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
