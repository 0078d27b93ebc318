"""Studies: hyperparameter sweeps whose every run lands in the run log.

    spec = StudySpec.from_options(base, {"learningRate": ["0.01,0.03"], "networkShape": ["4", "8,8"]},
                                  seeds=3, epochs=500)
    result = run_study(spec, RunLog(path), workers=2)          # or scheduler="tcp://host:8786" (Dask)

Rules:
- A factor is one swept Config field with its levels, in the order given (list them from small to large:
  the report reads trends in that order). A field given one value is simply fixed.
- "regularization" levels are "none", "L1", "L2" or "L1:rate" / "L2:rate": each sets regularization and
  regularizationRate together ("none" sets the rate to 0).
- Seeds are the replicates, not a factor: `seeds=N` uses "s0" .. "s<N-1>" (the same N seeds at every
  level, so levels are compared on the same data and initial draws); or give the seed strings.
- The study is identified by its canonical spec: running the same study again reuses it and skips every
  task already in the log (same settings URL, seed included, and same epochs, or diverged before them).
- Tasks train in chunks of one architecture, stacked (nn.playground.stack.train_group), on a process pool
  (`workers` > 1), in this process (`workers` <= 1) or on a Dask cluster (`scheduler`). The parent
  process saves each finished run to the log. Ctrl-C stops the study; what finished is kept.
"""
from __future__ import annotations

import concurrent.futures
import hashlib
import json
import math
import os
import time
from dataclasses import dataclass

from nn.playground import Config
from nn.playground.runlog import RunLog, config_dict, snapshot
from nn.playground.stack import train_group

#: Fields parsed as one value per level even with commas inside ("8,8" is one network shape).
LIST_FIELDS = ("networkShape", "layerActivations", "hide")
#: Runs trained together in one worker call at most (memory and progress granularity).
MAX_STACK = 64


@dataclass(frozen=True)
class Level:
    """One level of a factor: its label (as the user wrote it) and the settings it makes, as URL key/value
    texts (Config.from_url is the one parser of setting texts)."""
    label: str
    settings: tuple  # ((url key, value text), ...)


@dataclass(frozen=True)
class Factor:
    name: str  # the Config field swept ("regularization" also sets regularizationRate)
    levels: tuple  # (Level, ...)


@dataclass(frozen=True)
class Task:
    config: Config
    labels: dict  # {factor name: level label}


@dataclass(frozen=True)
class StudySpec:
    """A study: base settings, swept factors, seeds (replicates) and epochs per run."""
    base: Config
    factors: tuple
    seeds: tuple
    epochs: int

    def __post_init__(self):
        if isinstance(self.epochs, bool) or not isinstance(self.epochs, int) or not 1 <= self.epochs <= 1_000_000:
            raise ValueError(f"epochs: {self.epochs!r} is not allowed; allowed: an integer in 1..1000000")
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"seeds: {list(self.seeds)!r} is not allowed; allowed: one or more distinct seeds")
        # Every run gets one of the seeds, so the base's own seed plays no part (and must not make a
        # repeated study look new: Config() draws a fresh one).
        object.__setattr__(self, "base", self.base.replace(seed=self.seeds[0]))
        names = [factor.name for factor in self.factors]
        if len(set(names)) != len(names) or "seed" in names:
            raise ValueError(f"factors: {names!r} is not allowed; each field is swept at most once "
                             "(seeds are given with --seeds)")
        self.tasks()  # every combination must make a valid Config: fail now, naming the field

    @classmethod
    def from_options(cls, base: Config, options: dict, seeds=1, epochs: int = 1000) -> "StudySpec":
        """A spec from CLI-style text: options maps Config field -> list of value texts (each may be a comma
        list, except for LIST_FIELDS); one value fixes the field, several sweep it. `seeds` is a count or
        a list of seed strings."""
        fixed, factors = (), []
        for field, texts in options.items():
            values = [part for text in texts
                      for part in ([text] if field in LIST_FIELDS else text.split(","))]
            levels = tuple(parse_level(field, value.strip()) for value in values)
            labels = [level.label for level in levels]
            if len(set(labels)) != len(labels):
                raise ValueError(f"{field}: levels {labels!r} repeat a value; allowed: distinct values")
            if field == "seed":  # several --seed values: these are the seeds
                seeds = labels
            elif len(levels) == 1:
                fixed += levels[0].settings
            else:
                factors.append(Factor(field, levels))
        return cls(with_settings(base, fixed), tuple(factors), seed_list(seeds), epochs)

    def tasks(self) -> list:
        """Every (levels x seeds) combination as a Task, in a fixed order."""
        combos = [((), {})]
        for factor in self.factors:
            combos = [(settings + level.settings, {**labels, factor.name: level.label})
                      for settings, labels in combos for level in factor.levels]
        return [Task(with_settings(self.base, settings + (("seed", seed),)), labels)
                for settings, labels in combos for seed in self.seeds]

    def to_dict(self) -> dict:
        return {"base": config_dict(self.base), "url": self.base.to_url(),
                "factors": [{"name": f.name, "levels": [level.label for level in f.levels]} for f in self.factors],
                "seeds": list(self.seeds), "epochs": self.epochs}

    @classmethod
    def from_dict(cls, spec: dict) -> "StudySpec":
        base = Config.from_dict(spec["base"])
        factors = tuple(Factor(f["name"], tuple(parse_level(f["name"], label) for label in f["levels"]))
                        for f in spec["factors"])
        return cls(base, factors, tuple(spec["seeds"]), spec["epochs"])

    @property
    def key(self) -> str:
        """The study's identity: a hash of its canonical spec."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:16]


def seed_list(seeds) -> tuple:
    """The seeds of a study: a count N gives "s0".."s<N-1>"; a list is used as it is."""
    if isinstance(seeds, bool):
        raise ValueError(f"seeds: {seeds!r} is not allowed; allowed: a count 1..1000 or a list of seeds")
    if isinstance(seeds, int):
        if not 1 <= seeds <= 1000:
            raise ValueError(f"seeds: {seeds!r} is not allowed; allowed: a count 1..1000 or a list of seeds")
        return tuple(f"s{i}" for i in range(seeds))
    return tuple(str(seed) for seed in seeds)


def parse_level(field: str, text: str) -> Level:
    """A level from its text, e.g. ("learningRate", "0.03"), ("networkShape", "8,8"),
    ("regularization", "L2:0.001"), ("hide", "dataset,noise"). Checked when a Config is made from it."""
    if field not in Config.__dataclass_fields__:
        raise ValueError(f"{field}: unknown setting; allowed: {sorted(Config.__dataclass_fields__)}")
    if field == "regularization":
        kind, _, rate = text.partition(":")
        if kind.lower() == "none" and not rate:
            return Level("none", (("regularization", "none"), ("regularizationRate", "0")))
        if kind not in ("L1", "L2"):
            raise ValueError(f"regularization: {text!r} is not allowed; allowed: none, L1, L2, L1:rate, L2:rate")
        return Level(text, (("regularization", kind),) + ((("regularizationRate", rate),) if rate else ()))
    if field == "hide":
        return Level(text, tuple((f"{control}_hide", "true") for control in text.split(",") if control))
    return Level(text, ((field, text),))


def with_settings(base: Config, settings) -> Config:
    """`base` with settings given as (URL key, value text) pairs, parsed as a playground link would be
    (later pairs win). Raises ValueError naming the key for a bad value."""
    for key, text in settings:
        if any(c in text for c in "&#=") or any(c.isspace() for c in text):
            raise ValueError(f"{key}: {text!r} is not allowed; a value has no spaces, '&', '#' or '='")
    return Config.from_url("&".join([base.to_url(), *(f"{key}={text}" for key, text in settings)]))


# ---------------------------------------------------------------- running

def train_chunk(configs: list, epochs: int) -> list:
    """Train these configs (stacked where they share an architecture); their run records, in order.
    Runs in a worker process or on a Dask worker: takes and returns plain picklable data."""
    return [snapshot(run) for run in train_group(list(configs), epochs)]


def architecture(cfg: Config) -> tuple:
    """Configs with equal architecture() can stack (train_group checks exactly; this only orders chunks)."""
    return (cfg.networkShape, tuple(cfg.layer_activations), tuple(cfg.input_names), cfg.problem, cfg.classes,
            cfg.loss, cfg.batchSize, cfg.percTrainData, cfg.optimizer, cfg.momentum, cfg.reshuffle)


def chunk_tasks(tasks: list, workers: int, max_stack: int = MAX_STACK) -> list:
    """Tasks in chunks of one architecture each, small enough that every worker gets a share."""
    groups = {}
    for task in tasks:
        groups.setdefault(architecture(task.config), []).append(task)
    chunks = []
    for group in groups.values():
        size = max(1, min(max_stack, math.ceil(len(group) / max(1, workers))))
        chunks += [group[i:i + size] for i in range(0, len(group), size)]
    return chunks


def fixed_settings(spec: dict) -> str:
    """A study's base link (StudySpec.to_dict) without the settings it swept and the seed, so it reads as
    what stayed fixed."""
    swept = {"seed", *(factor["name"] for factor in spec["factors"])}
    if "regularization" in swept:
        swept.add("regularizationRate")  # a level such as L2:0.01 sets both
    return "&".join(pair for pair in spec["url"].split("&") if pair.split("=", 1)[0] not in swept)


def run_study(spec: StudySpec, log: RunLog, workers: int = 2, scheduler=None, on_progress=None,
              max_stack: int = MAX_STACK) -> dict:
    """Run every task of `spec` not yet in `log`, saving each finished run there as part of the study.

    on_progress(progress) is called after each finished chunk with a dict: study_id, total, done (finished
    or skipped), skipped, failed (finished but not saved), elapsed and eta (seconds, None until known).
    Returns that dict plus interrupted (Ctrl-C stopped it) and errors (why runs were not saved).
    """
    study_id = log.study(spec.key, spec.to_dict())
    tasks = spec.tasks()
    pending = []
    skipped = 0
    for task in tasks:
        run_id = log.find_run(task.config.to_url(), spec.epochs)
        if run_id is None:
            pending.append(task)
        else:
            log.add_to_study(study_id, run_id, task.labels)
            skipped += 1
    progress = {"study_id": study_id, "total": len(tasks), "done": skipped, "skipped": skipped, "failed": 0,
                "elapsed": 0.0, "eta": None, "interrupted": False, "errors": []}
    start = time.monotonic()
    log.job_started(study_id, os.getpid(), skipped)
    ending = "failed"  # unless it gets to the end or is interrupted

    def finished(chunk, records):
        for task, record in zip(chunk, records):
            if log.save(record, source="study", study_id=study_id, labels=task.labels) is None:
                progress["failed"] += 1
                progress["errors"].append(log.last_error)
        progress["done"] += len(chunk)
        progress["elapsed"] = time.monotonic() - start
        trained = progress["done"] - skipped
        progress["eta"] = progress["elapsed"] / trained * (len(tasks) - progress["done"]) if trained else None
        if on_progress is not None:
            on_progress(dict(progress))

    if on_progress is not None:
        on_progress(dict(progress))
    chunks = chunk_tasks(pending, workers, max_stack)
    try:
        if scheduler is None and workers <= 1:
            for chunk in chunks:
                finished(chunk, train_chunk([t.config for t in chunk], spec.epochs))
        else:
            _run_chunks(chunks, spec.epochs, workers, scheduler, finished)
        ending = "failed" if progress["failed"] else "finished"
    except KeyboardInterrupt:
        progress["interrupted"] = True
        ending = "interrupted"
    finally:
        log.job_ended(study_id, os.getpid(), ending)
    progress["elapsed"] = time.monotonic() - start
    return progress


def study_progress(log: RunLog, study_id: int) -> dict:
    """Where a study stands, read from the run log alone, so any process can tell (every server worker,
    whichever started it): study_id, total, done, skipped (in the log before its last start), eta
    (seconds, while running) and state:
    running      its sweep process is alive;
    finished     every run is in the log;
    interrupted  Ctrl-C stopped it;  failed: it stopped early otherwise (an error, or killed);
    incomplete   runs are missing and none is being trained (e.g. some were deleted since).
    Starting a study that is not finished again trains only what is missing.
    """
    total = len(StudySpec.from_dict(log.get_study(study_id)["spec"]).tasks())
    done = len(log.study_labels(study_id))
    jobs = log.study_jobs(study_id)
    job = jobs[0] if jobs else None
    progress = {"study_id": study_id, "total": total, "done": done,
                "skipped": job["done_before"] if job else 0, "eta": None}
    if job is not None and job["state"] == "running" and _alive(job):
        trained = done - job["done_before"]
        if trained > 0:
            progress["eta"] = (time.time() - job["started"]) / trained * (total - done)
        return {**progress, "state": "running"}
    if done >= total:
        return {**progress, "state": "finished"}
    if job is None or job["state"] == "finished":
        return {**progress, "state": "incomplete"}
    # A job still marked running whose process is gone was killed before it could say so.
    return {**progress, "state": "failed" if job["state"] == "running" else job["state"]}


def running_study(log: RunLog) -> dict | None:
    """The progress of a study whose sweep process is alive, or None."""
    for job in log.study_jobs():
        if job["state"] == "running" and _alive(job):
            return study_progress(log, job["study_id"])
    return None


def _alive(job: dict) -> bool:
    """Whether the job's sweep process is still there (on this machine: sweeps write the run log they share
    a disk with). A process with its PID that started after the job did is another one that reuses the PID
    of a sweep killed without a word (Linux tells when a process started; elsewhere the PID must do)."""
    pid = job["pid"]
    try:
        os.kill(pid, 0)  # signal 0 checks, sends nothing
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        pass
    started = _process_start(pid)
    return started is None or started <= job["started"] + 2.0  # (boot time is known to the second)


def _process_start(pid: int) -> float | None:
    """When process `pid` started, in seconds since the epoch, or None where /proc cannot tell."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()  # after the command name, which may hold spaces
        with open("/proc/stat", "rb") as system:
            boot = next(float(line.split()[1]) for line in system if line.startswith(b"btime "))
        return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22 of stat: start time in ticks
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def _run_chunks(chunks, epochs, workers, scheduler, finished):
    """Train the chunks on a process pool, or on the Dask cluster at `scheduler`; call finished(chunk, records)
    in this process as each one completes."""
    client = None
    if scheduler is None:
        executor = concurrent.futures.ProcessPoolExecutor(max_workers=workers)
    else:
        from distributed import Client  # the cluster extra: pip install '.[cluster]'

        client = Client(scheduler)
        executor = client.get_executor(pure=False)
    futures = {}
    try:
        futures = {executor.submit(train_chunk, [t.config for t in chunk], epochs): chunk for chunk in chunks}
        for future in concurrent.futures.as_completed(futures):
            finished(futures[future], future.result())
    finally:
        # On Ctrl-C or an error: drop what has not started; what finished is already saved.
        for future in futures:
            future.cancel()
        executor.shutdown(wait=False)
        if client is not None:
            client.close()
