"""One live playground session: a Run plus what its viewer is watching, driven by commands, reported in frames.

Transport-agnostic (no Flask here): the web app's /ws handler feeds `handle()` the page's commands, calls
`tick()` to train between frames and sends `frame()`; a test or a benchmark can drive it the same way.

Commands are dicts with a "cmd" key (docs/web.md lists them all):
    play, pause, step, reset, regenerate, history,
    set {field, value}            any Config field; the Run decides live / reset / regenerate
    load {url} | load {config}    replace the whole setup (a playground link, its hash, or a config dict)
    data {csv}                    train on the user's own points
    set_weight {layer, source, dest, value}, set_bias {layer, node, value}
    speed {value}                 epochs per frame (1 = the original), or "max"
    focus {layer, node} | focus {layer: null}   which neuron the big map shows (default: the output)
Bad commands get an error reply naming the field, the value and what is allowed; the session keeps its state.
A command may carry an "id" (any JSON value): replies echo it and every later frame reports it as "ack", so a
client knows which of its commands a frame already shows.

A frame is bytes:  uint32 little-endian header length | JSON header (space-padded to 4 bytes) | blocks.
The header lists its blocks as {name, dtype, shape, offset, [range]}; offsets count from the first block and
are 4-byte aligned so the page can view them as typed arrays without copying. Maps are uint8: q = 0..255
stands for range[0] + q / 255 * (range[1] - range[0]); NaN is sent as the middle (grey, as the original shows
it). The header never holds NaN or Infinity: such numbers become null, and a diverged run says state
"diverged" with the epoch.
"""
from __future__ import annotations

import json
import logging
import math
import re
import struct
import time
from typing import Callable

import numpy as np

from nn.playground import Config, Run
from nn.playground.run import LIVE_FIELDS

logger = logging.getLogger(__name__)

#: Epochs trained per frame; 1 is the original's one epoch per animation frame, "max" trains flat out.
SPEEDS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, "max")

#: The big map's resolution (the original's 100x100 grid) and the thumbnails' (averaged down 10x).
BOUNDARY_DENSITY = 100
THUMBNAIL_DENSITY = 10


HISTORY_COLUMNS = ("epoch", "wall_time", "train_loss", "test_loss", "train_accuracy", "test_accuracy")

#: The keys each command may carry besides "cmd" and "id"; any other key is refused, naming it, so a typo
#: ("feild") or a guess ("epochs" on step) never passes silently. A new command must be listed here.
COMMAND_FIELDS = {
    "play": (), "pause": (), "step": (), "reset": (), "regenerate": (), "history": (),
    "set": ("field", "value"), "load": ("url", "config"), "data": ("csv",),
    "set_weight": ("layer", "source", "dest", "value"), "set_bias": ("layer", "node", "value"),
    "speed": ("value",), "focus": ("layer", "node"), "load_run": ("run",),
}
MAX_ID_LENGTH = 100  # a command id is echoed in every frame: keep it short


class CommandError(ValueError):
    """A command the session refuses; `field` names the offending part of it."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def finite_or_none(value):
    """JSON has no NaN or Infinity: report them as null."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def quantize(values: np.ndarray, low: float = -1.0, high: float = 1.0) -> np.ndarray:
    """Map [low, high] to 0..255 (clamped, like the original's colour scale); NaN goes to the middle."""
    scaled = (np.asarray(values, dtype=np.float64) - low) * (255.0 / (high - low))
    scaled = np.nan_to_num(scaled, nan=127.5, posinf=255.0, neginf=0.0)
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def shrink(maps: np.ndarray, factor: int) -> np.ndarray:
    """Average (n, d, d) maps down by `factor` in each direction, as the original's thumbnails are.

    As two matrix products with a block-averaging matrix: ~3x faster than a reshaped mean, and frames
    are built 30 times a second.
    """
    d = maps.shape[-1]
    averaging = np.kron(np.eye(d // factor), np.full((1, factor), 1.0 / factor))
    return averaging @ maps @ averaging.T


class FrameWriter:
    """Collects a frame's binary blocks and their descriptions for the header."""

    def __init__(self):
        self.blocks: list[dict] = []
        self._chunks: list[bytes] = []
        self._size = 0

    def add(self, name: str, array: np.ndarray, **extra):
        array = np.ascontiguousarray(array)
        data = array.tobytes()
        self.blocks.append({"name": name, "dtype": str(array.dtype), "shape": list(array.shape),
                            "offset": self._size, **extra})
        padding = -len(data) % 4
        self._chunks.append(data + b"\0" * padding)
        self._size += len(data) + padding

    def pack(self, header: dict) -> bytes:
        header = dict(header, blocks=self.blocks)
        text = json.dumps(header, allow_nan=False, separators=(",", ":")).encode()
        text += b" " * (-len(text) % 4)
        return struct.pack("<I", len(text)) + text + b"".join(self._chunks)


def parse_frame(frame: bytes) -> tuple[dict, dict[str, np.ndarray]]:
    """Decode a frame back into its header and named arrays (for tests, benchmarks and Python clients)."""
    (length,) = struct.unpack_from("<I", frame)
    header = json.loads(frame[4:4 + length])
    start = 4 + length
    arrays = {}
    for block in header["blocks"]:
        dtype = np.dtype(block["dtype"])
        count = int(np.prod(block["shape"], dtype=np.int64))
        arrays[block["name"]] = np.frombuffer(frame, dtype=dtype, count=count,
                                              offset=start + block["offset"]).reshape(block["shape"])
    return header, arrays


class Session:
    """A Run with its viewer's state: playing or paused, the speed, the neuron in focus, what was sent."""

    def __init__(self, config: Config | None = None, *, on_save: Callable[[Run], None] | None = None,
                 save_interval: float = 5.0, clock: Callable[[], float] = time.monotonic,
                 max_upload_rows: int = 10_000, max_upload_bytes: int = 1_000_000,
                 load_run: Callable[[int], Run] | None = None):
        self.run = Run(config if config is not None else Config())
        self._load_run = load_run  # run id -> the saved Run, ready to continue (the run log's load_run)
        self.playing = False
        self.save_warning: str | None = None  # why the run log refused the last save, shown by the page
        self._max_upload_rows = max_upload_rows
        self._max_upload_bytes = max_upload_bytes
        self.speed: int | str = 1
        self.focus: tuple[int, int] | None = None
        self._on_save = on_save
        self._save_interval = save_interval
        self._clock = clock
        self._last_save = clock()
        self._epochs_owed = 0          # epochs still to train before the next frame, at a numeric speed
        self._seconds_per_epoch = 1e-3  # running estimate, to size training chunks to a time budget
        # What the viewer already has, so frames carry only what changed.
        self._sent_uid = None
        self._sent_rows = 0
        self._sent_config = None
        self._sent_data = None
        self._last_command_id = None

    # ---- state -------------------------------------------------------------------------------------------

    @property
    def state(self) -> str:
        if self.run.diverged:
            return "diverged"
        return "playing" if self.playing else "paused"

    @property
    def wants_training(self) -> bool:
        """True while the current frame's share of epochs is not trained yet."""
        return self.playing and not self.run.diverged and (self.speed == "max" or self._epochs_owed > 0)

    # ---- commands ----------------------------------------------------------------------------------------

    def handle(self, command) -> dict | None:
        """Apply one command; returns a reply for the viewer (an error, or data it asked for) or None."""
        try:
            if not isinstance(command, dict):
                raise CommandError(f"a command must be a JSON object like {{\"cmd\": \"play\"}}, "
                                   f"got {command!r:.80}", "cmd")
            name = command.get("cmd")
            handler = getattr(self, f"_cmd_{name}", None) if isinstance(name, str) else None
            if handler is None:
                raise CommandError(f"unknown command cmd={name!r:.80}; allowed: {', '.join(self.commands())}",
                                   "cmd")
            _check_id(command)
            _check_keys(name, command)
            reply = handler(command)
        except CommandError as error:
            cmd = command.get("cmd") if isinstance(command, dict) else None
            reply = {"type": "error", "error": str(error), "field": error.field,
                     "cmd": cmd if isinstance(cmd, str) and len(cmd) <= MAX_ID_LENGTH else None}
            if error.field == "id":
                return reply  # an id JSON cannot carry is neither echoed nor acknowledged
        # Commands may carry an "id": frames report the last one applied ("ack"), replies echo it.
        if isinstance(command, dict) and "id" in command and _valid_id(command["id"]):
            self._last_command_id = command["id"]
            if reply is not None:
                reply["id"] = command["id"]
        return reply

    @classmethod
    def commands(cls) -> list[str]:
        return sorted(name[len("_cmd_"):] for name in dir(cls) if name.startswith("_cmd_"))

    def _cmd_play(self, command):
        if self.run.diverged:
            raise CommandError(f"the run diverged at epoch {self.run.diverged_epoch}; "
                               "press Reset (or lower the learning rate and Reset) to start again", "cmd")
        self.playing = True
        self._epochs_owed = self._epochs_per_frame()

    def _cmd_pause(self, command):
        self.playing = False

    def _cmd_step(self, command):
        # Step is one whole epoch and pauses, as in the original.
        self.playing = False
        self.run.train(1)

    def _cmd_reset(self, command):
        self._save()
        self.playing = False
        self.run.reset()

    def _cmd_regenerate(self, command):
        # New seed and data; the network keeps training, so nothing is discarded.
        self.run.regenerate()

    def _cmd_set(self, command):
        field = command.get("field")
        if not isinstance(field, str) or field not in Config.__dataclass_fields__:
            raise CommandError(f"unknown config field field={field!r}; allowed: "
                               f"{', '.join(sorted(Config.__dataclass_fields__))}", "field")
        if "value" not in command:
            raise CommandError(f"set {field}: missing 'value'", field)
        value = command["value"]
        if field == "hide" and isinstance(value, list):
            value = frozenset(value)
        elif isinstance(value, list):
            value = tuple(value)
        if field not in LIVE_FIELDS:  # the change may discard the attempt: save it first
            self._save()
        try:
            outcome = self.run.update(**{field: value})
        except (ValueError, TypeError) as error:
            message = str(error) if field in str(error) else f"{field}={value!r} is not allowed: {error}"
            raise CommandError(message, field) from None
        if outcome != "live":
            self.playing = False
            self._fix_focus()

    def _cmd_load(self, command):
        if "url" in command:
            text = command["url"]
            if not isinstance(text, str):
                raise CommandError(f"url={text!r} must be a string: a playground link or its hash", "url")
            parse, source = Config.from_url, text
        elif "config" in command:
            if not isinstance(command["config"], dict):
                raise CommandError(f"config={command['config']!r} must be an object of config fields", "config")
            parse, source = Config.from_dict, command["config"]
        else:
            raise CommandError("load needs 'url' (a playground link or hash) or 'config' (an object)", "url")
        try:
            config = parse(source)
        except (ValueError, TypeError) as error:
            raise CommandError(str(error), field_named_in(error, "url" if "url" in command else "config")) \
                from None
        self._replace_run(config)

    def _cmd_data(self, command):
        from nn.playground.datasets import load_csv

        text = command.get("csv")
        if not isinstance(text, str):
            raise CommandError(f"csv={text!r} must be the text of a CSV file (x, y, label per line)", "csv")
        problem = self.run.cfg.problem
        try:
            points = load_csv(text, problem, classes=self.run.cfg.classes, max_rows=self._max_upload_rows,
                              max_bytes=self._max_upload_bytes)
        except (ValueError, TypeError) as error:
            raise CommandError(f"csv: {error}", "csv") from None
        dataset_field = "dataset" if problem == "classification" else "regDataset"
        self._replace_run(self.run.cfg.replace(**{dataset_field: "custom"}), data=points)

    def _cmd_set_weight(self, command):
        sizes = self.run.layer_sizes
        layer = _index(command, "layer", len(sizes) - 1)
        source = _index(command, "source", sizes[layer])
        dest = _index(command, "dest", sizes[layer + 1])
        self.run.set_weight(layer, source, dest, _number(command, "value"))

    def _cmd_set_bias(self, command):
        sizes = self.run.layer_sizes
        layer = _index(command, "layer", len(sizes) - 1)
        node = _index(command, "node", sizes[layer + 1])
        self.run.set_bias(layer, node, _number(command, "value"))

    def _cmd_speed(self, command):
        value = command.get("value")
        if value not in SPEEDS or isinstance(value, bool):
            raise CommandError(f"speed value={value!r} is not allowed; allowed: "
                               f"{', '.join(map(str, SPEEDS))}", "value")
        self.speed = value
        self._epochs_owed = min(self._epochs_owed, self._epochs_per_frame())

    def _cmd_focus(self, command):
        if command.get("layer") is None:
            self.focus = None
            return
        sizes = self.run.layer_sizes
        layer = _index(command, "layer", len(sizes))
        self.focus = (layer, _index(command, "node", sizes[layer]))

    def _cmd_load_run(self, command):
        """Continue a saved run (the Runs page's "Open"): its settings, data, weights and history."""
        run_id = command.get("run")
        if isinstance(run_id, bool) or not isinstance(run_id, int) or not 1 <= run_id < 2**63:
            raise CommandError(f"run={run_id!r:.80} is not allowed; allowed: a saved run's id, a whole number "
                               "from 1", "run")
        if self._load_run is None:
            raise CommandError("this server keeps no run log to load runs from", "run")
        try:
            run = self._load_run(run_id)
        except ValueError as error:  # no such run, or one stored unreadable: this session carries on as it was
            raise CommandError(str(error), "run") from None
        self._save()
        self.run = run
        self.playing = False
        self._fix_focus()

    def _cmd_history(self, command):
        rows = self.run.history.rows()
        return {"type": "history", "uid": self.run.uid, "columns": list(HISTORY_COLUMNS),
                "rows": [[json_value(row.get(column)) for column in HISTORY_COLUMNS] for row in rows]}

    # ---- training ----------------------------------------------------------------------------------------

    def tick(self, budget: float = 0.01) -> int:
        """Train this frame's share of epochs, stopping after about `budget` seconds; returns epochs trained.

        At a numeric speed a frame's share is `speed` epochs; at "max" it is whatever fits the budget. At
        least one epoch is trained per call while any is owed, so even a slow network makes progress.
        """
        trained = 0
        start = self._clock()
        while self.wants_training:
            remaining = budget - (self._clock() - start)
            if trained and remaining <= 0:
                break
            chunk = max(1, int(remaining / self._seconds_per_epoch)) if remaining > 0 else 1
            if self.speed != "max":
                chunk = min(chunk, self._epochs_owed)
            before, began = self.run.epoch, self._clock()
            self.run.train(chunk)
            done = self.run.epoch - before
            if done:
                self._seconds_per_epoch = 0.7 * self._seconds_per_epoch + 0.3 * (self._clock() - began) / done
            trained += done
            if self.speed != "max":
                self._epochs_owed -= chunk
            if self.run.diverged or not done:
                self.playing = False
                break
        if trained and self._clock() - self._last_save >= self._save_interval:
            self._save()
        return trained

    # ---- frames ------------------------------------------------------------------------------------------

    def frame(self) -> bytes:
        """Everything the page draws, as one binary message; also starts the next frame's share of epochs."""
        run = self.run
        self._epochs_owed = self._epochs_per_frame()
        self._fix_focus()
        if run.uid != self._sent_uid:
            self._sent_uid, self._sent_rows = run.uid, 0
        start = min(self._sent_rows, len(run.history))
        new_rows = run.history.rows(start)
        self._sent_rows = start + len(new_rows)
        last = run.history.last()

        writer = FrameWriter()
        maps = run.neuron_maps(density=BOUNDARY_DENSITY)
        if self.focus is None:
            boundary = run.boundary(density=BOUNDARY_DENSITY)
        else:
            layer, node = self.focus
            boundary = maps[layer][node]
        probabilities = boundary.ndim == 3  # more than two classes: one probability map per class
        value_range = [0.0, 1.0] if probabilities else [-1.0, 1.0]
        writer.add("boundary", quantize(boundary, *value_range), range=value_range)
        thumbnails = np.concatenate([shrink(np.asarray(m, dtype=np.float64), BOUNDARY_DENSITY // THUMBNAIL_DENSITY)
                                     for m in maps])
        writer.add("thumbnails", quantize(thumbnails), range=[-1.0, 1.0])
        for layer, (weights, biases) in enumerate(run.weights()):
            with np.errstate(over="ignore"):  # a diverged weight beyond float32 is sent as +-Infinity
                writer.add(f"weights{layer}", weights.astype(np.float32))
                writer.add(f"biases{layer}", biases.astype(np.float32))
        for layer, dead in enumerate(run.dead_links()):
            writer.add(f"dead{layer}", np.asarray(dead, dtype=np.uint8))

        header = {
            "type": "frame",
            "uid": run.uid,
            "epoch": run.epoch,
            "state": self.state,
            "diverged_epoch": run.diverged_epoch,
            "speed": self.speed,
            "ack": self._last_command_id,
            "focus": list(self.focus) if self.focus else None,
            "train_loss": finite_or_none(last.get("train_loss")),
            "test_loss": finite_or_none(last.get("test_loss")),
            "train_accuracy": finite_or_none(last.get("train_accuracy")),
            "test_accuracy": finite_or_none(last.get("test_accuracy")),
            "layer_sizes": list(run.layer_sizes),
            "input_names": list(run.input_names),
            "warning": self.save_warning,
            # For the chart: 6 significant digits keep frames small; exports ask "history" for full precision.
            "history": {"start": start, **{column: [chart_value(row.get(column)) for row in new_rows]
                                          for column in HISTORY_COLUMNS if column != "wall_time"}},
        }
        if run.cfg != self._sent_config:
            self._sent_config = run.cfg
            header["config"] = {key: json_value(value) for key, value in run.cfg.to_dict().items()}
            header["url"] = run.cfg.to_url()
        data = (run.train_data, run.test_data)
        if self._sent_data is None or any(a is not b for a, b in zip(data, self._sent_data)):
            self._sent_data = data
            writer.add("train", np.asarray(run.train_data, dtype=np.float32))
            writer.add("test", np.asarray(run.test_data, dtype=np.float32))
        return writer.pack(header)

    def close(self):
        """The viewer left: offer the run to `on_save` one last time."""
        self.playing = False
        self._save()

    # ---- helpers -----------------------------------------------------------------------------------------

    def _epochs_per_frame(self) -> int:
        return 0 if self.speed == "max" else self.speed

    def _replace_run(self, config: Config, data=None):
        self._save()
        try:
            run = Run(config, data=data)
        except (ValueError, TypeError) as error:
            raise CommandError(str(error), field_named_in(error, "config")) from None
        self.run = run
        self.playing = False
        self._fix_focus()

    def _fix_focus(self):
        """Forget the focused neuron once the network no longer has it."""
        if self.focus is not None:
            layer, node = self.focus
            sizes = self.run.layer_sizes
            if layer >= len(sizes) or node >= sizes[layer]:
                self.focus = None

    def _save(self):
        self._last_save = self._clock()
        if self._on_save is not None:
            try:
                self._on_save(self.run)
            except Exception as error:  # a failing run log must not take the student's session down with it
                logger.warning("on_save failed for run %s: %s", self.run.uid, error)
                self.save_warning = str(error)
            else:
                self.save_warning = None


def _valid_id(value) -> bool:
    """An id the page can get back in JSON: null, a whole number, a finite number or a short text."""
    if value is None or isinstance(value, str):
        return value is None or len(value) <= MAX_ID_LENGTH
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_id(command: dict):
    if "id" in command and not _valid_id(command["id"]):
        raise CommandError(f"id={command['id']!r:.80} is not allowed; allowed: a number or a text of at most "
                           f"{MAX_ID_LENGTH} characters", "id")


def _check_keys(name: str, command: dict):
    allowed = COMMAND_FIELDS.get(name)
    unknown = sorted(map(str, set(command) - {"cmd", "id", *allowed})) if allowed is not None else []
    if unknown:
        raise CommandError(f"{unknown[0]!s:.80}: unknown key for {name}; allowed: "
                           f"{', '.join(('cmd', 'id', *allowed))}", unknown[0][:80])


def _index(command: dict, field: str, size: int) -> int:
    value = command.get(field)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < size:
        raise CommandError(f"{field}={value!r} is not allowed; allowed: an integer 0..{size - 1}", field)
    return value


def _number(command: dict, field: str) -> float:
    value = command.get(field)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise CommandError(f"{field}={value!r} is not allowed; allowed: a finite number", field)
    return float(value)


def json_value(value):
    """Config and history values as JSON: tuples and sets as lists, non-finite floats as null."""
    if isinstance(value, (tuple, list)):
        return [json_value(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if isinstance(value, (float, np.floating)):
        return finite_or_none(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def chart_value(value):
    value = json_value(value)
    return float(f"{value:.6g}") if isinstance(value, float) else value


def field_named_in(error: Exception, default: str) -> str:
    """The field an engine error names (its messages start "field: ..."), else `default`."""
    match = re.match(r"\s*([A-Za-z_]\w*)\s*[:=]", str(error))
    return match.group(1) if match else default
