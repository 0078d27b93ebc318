"""The run log: every attempt the page, the CLI or a study trains, kept in one SQLite file.

    log = RunLog()                  # <user data dir>/runs.sqlite; RunLog(path) to choose
    run_id = log.save(run)          # insert or update (keyed by run.uid); None if the database refused
    log.list_runs(sort="test_loss") # summaries, newest first by default
    log.get(run_id)                 # the full record: config, URL, history, final weights and boundary
    run = log.load_run(run_id)      # a Run with that config, data and final weights, ready to continue

Rules:
- One connection per RunLog; several processes (gunicorn workers, study workers) may each open their own:
  WAL mode, a busy timeout, and every write in one short IMMEDIATE transaction.
- The schema is versioned (table schema_version); opening a log applies the missing MIGRATIONS in order,
  and refuses a database newer than this program.
- `save` never raises for a database problem (disk full, read-only file, locked too long): it returns None and
  `log.last_error` says why, so training goes on. Other methods raise RunLogError (a ValueError).
- Everything read back is checked: a corrupted row gives RunLogError naming the run and the column; in
  `list_runs` such a row comes back with an "error" entry instead of taking the listing down.
- Arrays are stored as .npy/.npz BLOBs read with allow_pickle=False: history float64, weights float64,
  the final boundary 50x50 float16 (a thumbnail and a picture for reports; the exact one can be recomputed
  from the weights). Data points are stored only for user data ("custom"); generated data comes back
  from the seed.
"""
from __future__ import annotations

import io
import json
import math
import sqlite3
import threading
import time
from pathlib import Path

import numpy as np

from nn.playground import Config, Run
from nn.playground.history import COLUMNS as HISTORY_TABLE_ORDER, History

DEFAULT_FILENAME = "runs.sqlite"
BOUNDARY_DENSITY = 50
HISTORY_COLUMNS = ("epoch", "wall_time", "train_loss", "test_loss", "train_accuracy", "test_accuracy")
FINAL_COLUMNS = ("train_loss", "test_loss", "train_accuracy", "test_accuracy")
SOURCES = ("page", "cli", "study")
SORT_COLUMNS = ("id", "created", "updated", "epochs", "name", *FINAL_COLUMNS)
MAX_NAME, MAX_TAG, MAX_TAGS, MAX_NOTES = 200, 50, 20, 10_000
BUSY_TIMEOUT_S = 30.0

# Migration i brings the schema from version i to i + 1. Append only; never edit a released one.
MIGRATIONS = (
    (  # 1: runs
        """CREATE TABLE runs (
            id INTEGER PRIMARY KEY, uid TEXT NOT NULL UNIQUE, created REAL NOT NULL, updated REAL NOT NULL,
            source TEXT NOT NULL, config TEXT NOT NULL, url TEXT NOT NULL, seed TEXT NOT NULL,
            epochs INTEGER NOT NULL, diverged INTEGER NOT NULL, diverged_epoch INTEGER,
            train_loss REAL, test_loss REAL, train_accuracy REAL, test_accuracy REAL,
            history BLOB NOT NULL, weights BLOB NOT NULL, boundary BLOB NOT NULL, data BLOB)""",
        "CREATE INDEX runs_by_url ON runs (url, epochs)",
    ),
    (  # 2: what the student writes about a run
        "ALTER TABLE runs ADD COLUMN name TEXT",
        "ALTER TABLE runs ADD COLUMN tags TEXT NOT NULL DEFAULT '[]'",
        "ALTER TABLE runs ADD COLUMN notes TEXT NOT NULL DEFAULT ''",
    ),
    (  # 3: studies and their runs (labels: the study's factor levels of that run, JSON)
        """CREATE TABLE studies (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, spec TEXT NOT NULL,
            created REAL NOT NULL)""",
        """CREATE TABLE study_runs (
            study_id INTEGER NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
            run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
            labels TEXT NOT NULL, PRIMARY KEY (study_id, run_id))""",
    ),
    (  # 4: the sweep process training a study, so that any process (every server worker) can follow it
        """CREATE TABLE study_jobs (
            study_id INTEGER PRIMARY KEY REFERENCES studies (id) ON DELETE CASCADE,
            pid INTEGER NOT NULL, started REAL NOT NULL, done_before INTEGER NOT NULL,
            state TEXT NOT NULL, ended REAL)""",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)
JOB_ENDS = ("finished", "interrupted", "failed")  # how a study's sweep process can end
JOB_COLUMNS = ("study_id", "pid", "started", "done_before", "state", "ended")


class RunLogError(ValueError):
    """A run log problem: a missing or corrupted run, bad metadata, or a database that cannot be used."""


def default_path() -> Path:
    """<user data dir>/backprop-playground/runs.sqlite."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("backprop-playground")) / DEFAULT_FILENAME


# ---------------------------------------------------------------- records

def uses_custom_data(config: Config) -> bool:
    return (config.dataset if config.problem == "classification" else config.regDataset) == "custom"


def snapshot(run: Run, boundary_density: int = BOUNDARY_DENSITY) -> dict:
    """The run record of a Run, as the run log stores it and the exports read it.

    Keys: uid, config (dict), url (playground hash without '#'), seed, epochs, diverged, diverged_epoch,
    history ({column: float64 array}, accuracies None for regression), final ({metric: float|None}),
    weights ([(W, b)]), dead ([bool array]), boundary, data (the user's points as loaded for "custom" data,
    else None: generated data comes back from the seed);
    and the log's own: id, name, tags, notes, source, created, updated (None / empty until saved)."""
    cfg = run.cfg
    history = {name: run.history.column(name) for name in HISTORY_COLUMNS}
    if cfg.problem == "regression":
        history["train_accuracy"] = history["test_accuracy"] = None
    custom = uses_custom_data(cfg)
    return {
        "id": None, "uid": run.uid, "name": None, "tags": [], "notes": "", "source": None,
        "created": None, "updated": None,
        "config": config_dict(cfg), "url": cfg.to_url(), "seed": cfg.seed,
        "epochs": int(run.epoch), "diverged": bool(run.diverged), "diverged_epoch": run.diverged_epoch,
        "history": history, "final": _final(history),
        "weights": run.weights(), "dead": run.dead_links(),
        "boundary": np.asarray(run.boundary(boundary_density), dtype=np.float16).astype(np.float64),
        # Run splits user points with its seed, so the points as given (not the split) rebuild it exactly.
        "data": run.custom_data if custom else None,
    }


def config_dict(cfg: Config) -> dict:
    """A Config as a JSON-ready dict (tuples and sets as lists)."""
    return json.loads(json.dumps(cfg.to_dict(), default=lambda v: sorted(v) if isinstance(v, (set, frozenset))
                                 else v.item() if isinstance(v, np.generic) else str(v)))


def _final(history: dict) -> dict:
    def last(column):
        if column is None or not len(column):
            return None
        value = float(column[-1])
        return value if math.isfinite(value) else None
    return {name: last(history[name]) for name in FINAL_COLUMNS}


def rebuild_run(record: dict) -> Run:
    """A fresh Run (epoch 0) with the record's config and the same data (stored user points, else the seed's)."""
    config = Config.from_dict(record["config"])
    return Run(config, data=record.get("data"))


def _pack(arrays: dict) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _unpack(blob, run_id, column) -> dict:
    try:
        with np.load(io.BytesIO(blob), allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except Exception as error:  # any failure to decode is corruption of that cell
        raise RunLogError(f"run {run_id}, column {column}: unreadable ({error})") from None


def _encode_history(history: dict) -> bytes:
    return _pack({name: np.asarray(column, dtype=np.float64)
                  for name, column in history.items() if column is not None})


def _decode_history(blob, run_id, epochs) -> dict:
    arrays = _unpack(blob, run_id, "history")
    required = ("epoch", "wall_time", "train_loss", "test_loss")
    lengths = {len(arrays.get(name, ())) for name in required}
    if any(name not in arrays for name in required) or len(lengths) != 1 \
            or any(arrays[name].ndim != 1 or arrays[name].dtype != np.float64 for name in arrays):
        raise RunLogError(f"run {run_id}, column history: expected float64 columns {required} of one length")
    (length,) = lengths
    if length != epochs + 1 and not (length and arrays["epoch"][-1] == epochs):
        raise RunLogError(f"run {run_id}, column history: {length} rows do not match {epochs} epochs")
    return {name: arrays.get(name) for name in HISTORY_COLUMNS}


def _encode_weights(weights, dead) -> bytes:
    arrays = {}
    for layer, ((W, b), mask) in enumerate(zip(weights, dead)):
        arrays[f"W{layer}"], arrays[f"b{layer}"] = np.asarray(W, np.float64), np.asarray(b, np.float64)
        arrays[f"dead{layer}"] = np.asarray(mask, bool)
    return _pack(arrays)


def _decode_weights(blob, run_id):
    arrays = _unpack(blob, run_id, "weights")
    weights, dead = [], []
    for layer in range(len(arrays) // 3):
        try:
            W, b, mask = arrays[f"W{layer}"], arrays[f"b{layer}"], arrays[f"dead{layer}"]
        except KeyError as missing:
            raise RunLogError(f"run {run_id}, column weights: layer {layer} lacks {missing}") from None
        fits_previous = layer == 0 or W.shape[0] == weights[-1][0].shape[1]
        if W.ndim != 2 or b.shape != (W.shape[1],) or mask.shape != W.shape or not fits_previous:
            raise RunLogError(f"run {run_id}, column weights: layer {layer} shapes W{W.shape} b{b.shape} "
                              f"dead{mask.shape} do not fit together")
        weights.append((W, b))
        dead.append(mask)
    if not weights or 3 * len(weights) != len(arrays):
        raise RunLogError(f"run {run_id}, column weights: expected W, b, dead for each layer")
    return weights, dead


def _encode_array(array) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _decode_array(blob, run_id, column) -> np.ndarray:
    try:
        return np.load(io.BytesIO(blob), allow_pickle=False)
    except Exception as error:  # any failure to decode is corruption of that cell
        raise RunLogError(f"run {run_id}, column {column}: unreadable ({error})") from None


def _decode_points(blob, run_id) -> np.ndarray:
    points = _decode_array(blob, run_id, "data")
    if points.ndim != 2 or points.shape[1] != 3 or points.dtype != np.float64:
        raise RunLogError(f"run {run_id}, column data: shape {points.shape} is not (n, 3) points x, y, label")
    return points


def _decode_boundary(blob, run_id) -> np.ndarray:
    boundary = _decode_array(blob, run_id, "boundary")
    if boundary.ndim not in (2, 3) or boundary.shape[-1] != boundary.shape[-2] or boundary.shape[-1] < 2:
        raise RunLogError(f"run {run_id}, column boundary: shape {boundary.shape} is not a square grid")
    return boundary.astype(np.float64)


def _check_metadata(name, tags, notes):
    if name is not None and (not isinstance(name, str) or len(name) > MAX_NAME):
        raise RunLogError(f"name: {name!r} is not allowed; allowed: text of at most {MAX_NAME} characters")
    if tags is not None and (not isinstance(tags, (list, tuple)) or len(tags) > MAX_TAGS
                             or not all(isinstance(t, str) and 0 < len(t.strip()) <= MAX_TAG for t in tags)):
        raise RunLogError(f"tags: {tags!r} is not allowed; allowed: a list of at most {MAX_TAGS} non-empty "
                          f"texts of at most {MAX_TAG} characters")
    if notes is not None and (not isinstance(notes, str) or len(notes) > MAX_NOTES):
        raise RunLogError(f"notes: {notes!r:.80} is not allowed; allowed: text of at most {MAX_NOTES} characters")


# ---------------------------------------------------------------- the log

SUMMARY_COLUMNS = ("id", "uid", "created", "updated", "source", "config", "url", "seed", "epochs", "diverged",
                   "diverged_epoch", *FINAL_COLUMNS, "name", "tags", "notes")


class RunLog:
    """One SQLite run log file (see the module docstring for the rules)."""

    def __init__(self, path=None, read_only: bool = False):
        self.path = Path(path) if path is not None else default_path()
        self.read_only = read_only
        self.last_error: str | None = None
        self._lock = threading.Lock()  # one connection, possibly shared by a web worker's threads
        try:
            if read_only:
                self._conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True,
                                             timeout=BUSY_TIMEOUT_S, isolation_level=None,
                                             check_same_thread=False)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                                             check_same_thread=False)
                self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except (sqlite3.Error, OSError) as error:
            raise RunLogError(f"run log {str(self.path)!r}: cannot open ({error})") from None

    def close(self):
        self._conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- schema --------------------------------------------------------------------------------------

    def schema_version(self) -> int:
        if not self._conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'schema_version'").fetchone():
            return 0
        row = self._conn.execute("SELECT version FROM schema_version").fetchone()
        return row[0] if row else 0

    def _migrate(self, target: int = SCHEMA_VERSION):
        version = self.schema_version()
        if version > SCHEMA_VERSION:
            raise RunLogError(f"run log {str(self.path)!r}: schema version {version} is newer than this program "
                              f"knows ({SCHEMA_VERSION}); update backprop-playground")
        if version >= target:
            return
        with self._write():
            self._conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            version = self.schema_version()  # again, inside the lock: another process may have migrated
            if not self._conn.execute("SELECT 1 FROM schema_version").fetchone():
                self._conn.execute("INSERT INTO schema_version VALUES (0)")
            for statements in MIGRATIONS[version:target]:
                for statement in statements:
                    self._conn.execute(statement)
            self._conn.execute("UPDATE schema_version SET version = ?", (max(version, target),))

    class _Transaction:
        def __init__(self, log):
            self.log = log

        def __enter__(self):
            self.log._lock.acquire()
            try:
                self.log._conn.execute("BEGIN IMMEDIATE")
            except BaseException:
                self.log._lock.release()
                raise
            return self.log._conn

        def __exit__(self, kind, error, trace):
            try:
                self.log._conn.execute("COMMIT" if kind is None else "ROLLBACK")
            finally:
                self.log._lock.release()

    def _write(self):
        """A write transaction: taken at once (IMMEDIATE), committed on success, rolled back on error."""
        return RunLog._Transaction(self)

    def _read(self, sql, params=()):
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.Error as error:
                raise RunLogError(f"run log {str(self.path)!r}: {error}") from None

    # ---- saving --------------------------------------------------------------------------------------

    def save(self, run, name=None, source: str = "page", study_id=None, labels=None):
        """Insert or update the run (a Run or a record) keyed by its uid; returns its id.

        Returns None if the database refused (disk full, read-only, locked): `last_error` says why.
        With `study_id`, the run joins that study with `labels` (its factor levels)."""
        if source not in SOURCES:
            raise ValueError(f"source: {source!r} is not allowed; allowed: {', '.join(SOURCES)}")
        _check_metadata(name, None, None)
        record = run if isinstance(run, dict) else snapshot(run)
        now = time.time()
        final = record["final"]
        data = None if record.get("data") is None else _encode_array(np.asarray(record["data"], np.float64))
        values = {
            "uid": record["uid"], "created": now, "updated": now, "source": source,
            "config": json.dumps(record["config"]), "url": record["url"], "seed": str(record["seed"]),
            "epochs": record["epochs"], "diverged": int(record["diverged"]),
            "diverged_epoch": record["diverged_epoch"], **{k: final[k] for k in FINAL_COLUMNS},
            "history": _encode_history(record["history"]),
            "weights": _encode_weights(record["weights"], record["dead"]),
            "boundary": _encode_array(np.asarray(record["boundary"], dtype=np.float16)), "data": data,
            "name": name,
        }
        columns = ", ".join(values)
        keep = {"uid", "created", "source", "name"}  # first save's; the name only changes when given
        updates = ", ".join(f"{c} = excluded.{c}" for c in values if c not in keep)
        try:
            with self._write() as conn:
                (run_id,) = conn.execute(
                    f"INSERT INTO runs ({columns}) VALUES ({', '.join('?' * len(values))}) "
                    f"ON CONFLICT (uid) DO UPDATE SET {updates}, name = coalesce(excluded.name, runs.name) "
                    "RETURNING id", tuple(values.values())).fetchone()
                if study_id is not None:
                    conn.execute("INSERT OR REPLACE INTO study_runs (study_id, run_id, labels) VALUES (?, ?, ?)",
                                 (study_id, run_id, json.dumps(labels or {})))
        except sqlite3.Error as error:
            self.last_error = f"run log {str(self.path)!r}: run not saved ({error})"
            return None
        self.last_error = None
        return run_id

    def update_meta(self, run_id: int, name=None, tags=None, notes=None):
        """Set a run's name, tags (list of texts) and/or notes; None leaves that one as it is."""
        _check_metadata(name, tags, notes)
        changes = {"name": name, "tags": None if tags is None else json.dumps([t.strip() for t in tags]),
                   "notes": notes}
        changes = {k: v for k, v in changes.items() if v is not None}
        if not changes:
            return
        try:
            with self._write() as conn:
                cursor = conn.execute(f"UPDATE runs SET {', '.join(f'{k} = ?' for k in changes)} WHERE id = ?",
                                      (*changes.values(), run_id))
        except sqlite3.Error as error:
            raise RunLogError(f"run log {str(self.path)!r}: run {run_id} not updated ({error})") from None
        if cursor.rowcount == 0:
            raise RunLogError(f"run {run_id}: no such run")

    def delete(self, run_ids) -> int:
        """Delete these runs (and their study memberships); returns how many were deleted."""
        run_ids = [int(i) for i in run_ids]
        try:
            with self._write() as conn:
                return conn.execute(f"DELETE FROM runs WHERE id IN ({', '.join('?' * len(run_ids))})",
                                    run_ids).rowcount
        except sqlite3.Error as error:
            raise RunLogError(f"run log {str(self.path)!r}: runs not deleted ({error})") from None

    # ---- reading -------------------------------------------------------------------------------------

    def list_runs(self, sort: str = "updated", descending: bool = True, source=None, study_id=None, tag=None,
                  text=None, limit=None) -> list[dict]:
        """Run summaries (no arrays): the SUMMARY_COLUMNS with config as a dict and tags as a list.

        Filters: source ("page"/"cli"/"study"), study_id, tag (exact), text (in name, notes or settings).
        Sort by any of SORT_COLUMNS; runs without that value (e.g. no accuracy) come last."""
        if sort not in SORT_COLUMNS:
            raise ValueError(f"sort: {sort!r} is not allowed; allowed: {', '.join(SORT_COLUMNS)}")
        where, params = [], []
        if source is not None:
            where.append("source = ?"); params.append(source)
        if study_id is not None:
            where.append("id IN (SELECT run_id FROM study_runs WHERE study_id = ?)"); params.append(study_id)
        if text:
            where.append("(name LIKE ? OR notes LIKE ? OR url LIKE ?)"); params += [f"%{text}%"] * 3
        sql = (f"SELECT {', '.join(SUMMARY_COLUMNS)} FROM runs {'WHERE ' + ' AND '.join(where) if where else ''} "
               f"ORDER BY {sort} IS NULL, {sort} {'DESC' if descending else 'ASC'}, id "
               f"{'LIMIT ' + str(int(limit)) if limit is not None else ''}")
        summaries = [self._summary(row) for row in self._read(sql, params)]
        if tag is not None:
            summaries = [s for s in summaries if tag in s.get("tags", ())]
        return summaries

    def _summary(self, row) -> dict:
        summary = dict(zip(SUMMARY_COLUMNS, row))
        try:
            _check_summary(summary)
        except RunLogError as error:
            summary["error"] = str(error)
        return summary

    def get(self, run_id: int) -> dict:
        """The full record of one run (see `snapshot`), with its id, name, tags, notes, source and dates."""
        rows = self._read(f"SELECT {', '.join(SUMMARY_COLUMNS)}, history, weights, boundary, data "
                          "FROM runs WHERE id = ?", (run_id,))
        if not rows:
            raise RunLogError(f"run {run_id}: no such run")
        summary = dict(zip(SUMMARY_COLUMNS, rows[0]))
        history_blob, weights_blob, boundary_blob, data_blob = rows[0][len(SUMMARY_COLUMNS):]
        _check_summary(summary)
        record = {**summary, "history": _decode_history(history_blob, run_id, summary["epochs"])}
        record["final"] = {name: record.pop(name) for name in FINAL_COLUMNS}
        record["weights"], record["dead"] = _decode_weights(weights_blob, run_id)
        record["boundary"] = _decode_boundary(boundary_blob, run_id)
        record["data"] = None if data_blob is None else _decode_points(data_blob, run_id)
        return record

    def history(self, run_id: int) -> dict:
        """The run's per-epoch history: {column: float64 array} (accuracies None for regression)."""
        rows = self._read("SELECT history, epochs FROM runs WHERE id = ?", (run_id,))
        if not rows:
            raise RunLogError(f"run {run_id}: no such run")
        return _decode_history(rows[0][0], run_id, rows[0][1])

    def load_run(self, run_id: int) -> Run:
        """The run back as a Run: its config, its data, its final weights and dead links, and its history."""
        record = self.get(run_id)
        try:
            run = rebuild_run(record)
            run.load_weights(record["weights"], record["dead"])
        except (ValueError, TypeError) as error:
            raise RunLogError(f"run {run_id}, column weights: does not fit its config ({error})") from None
        history = record["history"]
        table = np.column_stack([history[name] if history[name] is not None else np.full(len(history["epoch"]), np.nan)
                                 for name in HISTORY_TABLE_ORDER])
        run.restore(History.from_array(table), record["diverged_epoch"] if record["diverged"] else None)
        return run

    def find_run(self, url: str, epochs: int):
        """The id of a finished run with these settings (URL, seed included): trained `epochs` epochs, or
        diverged before; None if there is none. Studies use it to skip what is already done."""
        rows = self._read("SELECT id FROM runs WHERE url = ? AND (epochs = ? OR (diverged AND epochs <= ?)) "
                          "ORDER BY id LIMIT 1", (url, epochs, epochs))
        return rows[0][0] if rows else None

    # ---- studies -------------------------------------------------------------------------------------

    def study(self, key: str, spec: dict) -> int:
        """The id of the study with this key (its canonical spec), created if new."""
        with self._write() as conn:
            conn.execute("INSERT OR IGNORE INTO studies (key, spec, created) VALUES (?, ?, ?)",
                         (key, json.dumps(spec), time.time()))
            return conn.execute("SELECT id FROM studies WHERE key = ?", (key,)).fetchone()[0]

    def add_to_study(self, study_id: int, run_id: int, labels: dict):
        with self._write() as conn:
            conn.execute("INSERT OR REPLACE INTO study_runs (study_id, run_id, labels) VALUES (?, ?, ?)",
                         (study_id, run_id, json.dumps(labels)))

    def studies(self) -> list[dict]:
        """Every study: id, spec (dict), created, runs (how many are in the log)."""
        rows = self._read("SELECT id, spec, created, (SELECT count(*) FROM study_runs WHERE study_id = id) "
                          "FROM studies ORDER BY id")
        return [{"id": i, "spec": _json(spec, f"study {i}", "spec"), "created": created, "runs": n}
                for i, spec, created, n in rows]

    def get_study(self, study_id: int) -> dict:
        rows = self._read("SELECT id, spec, created FROM studies WHERE id = ?", (study_id,))
        if not rows:
            raise RunLogError(f"study {study_id}: no such study")
        return {"id": study_id, "spec": _json(rows[0][1], f"study {study_id}", "spec"), "created": rows[0][2]}

    def job_started(self, study_id: int, pid: int, done_before: int) -> bool:
        """Record that process `pid` is training the study (replacing any earlier job of it); done_before:
        how many of its runs were in the log already. Like save, False (and last_error) if the database
        refused: training goes on, only others cannot follow it."""
        return self._record_job("INSERT OR REPLACE INTO study_jobs (study_id, pid, started, done_before, state) "
                                "VALUES (?, ?, ?, ?, 'running')", (study_id, pid, time.time(), done_before))

    def job_ended(self, study_id: int, pid: int, state: str) -> bool:
        """Record how process `pid`'s job on the study ended: one of JOB_ENDS (False if refused)."""
        if state not in JOB_ENDS:
            raise ValueError(f"state: {state!r} is not one of {JOB_ENDS}")
        return self._record_job("UPDATE study_jobs SET state = ?, ended = ? WHERE study_id = ? AND pid = ?",
                                (state, time.time(), study_id, pid))

    def _record_job(self, sql, params) -> bool:
        try:
            with self._write() as conn:
                conn.execute(sql, params)
        except sqlite3.Error as error:
            self.last_error = f"run log {str(self.path)!r}: the study's progress not recorded ({error})"
            return False
        return True

    def study_jobs(self, study_id: int | None = None) -> list[dict]:
        """The jobs recorded (of one study, or of all): study_id, pid, started, done_before, state, ended."""
        sql = f"SELECT {', '.join(JOB_COLUMNS)} FROM study_jobs"
        rows = self._read(sql + " WHERE study_id = ?", (study_id,)) if study_id is not None else self._read(sql)
        return [dict(zip(JOB_COLUMNS, row)) for row in rows]

    def study_labels(self, study_id: int) -> dict:
        """{run_id: labels} of the study's runs (labels: {factor: level} as the study names them)."""
        rows = self._read("SELECT run_id, labels FROM study_runs WHERE study_id = ?", (study_id,))
        return {run_id: _json(labels, f"run {run_id}", "study labels") for run_id, labels in rows}


def _json(text, owner, column):
    try:
        return json.loads(text)
    except (TypeError, ValueError) as error:
        raise RunLogError(f"{owner}, column {column}: not valid JSON ({error})") from None


def _check_summary(summary: dict):
    """Parse and validate the summary columns in place (config -> dict, tags -> list, diverged -> bool)."""
    run_id = summary["id"]
    config = _json(summary["config"], f"run {run_id}", "config")
    try:
        Config.from_dict(config)
    except (ValueError, TypeError) as error:
        raise RunLogError(f"run {run_id}, column config: {error}") from None
    summary["config"] = config
    tags = _json(summary["tags"], f"run {run_id}", "tags")
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise RunLogError(f"run {run_id}, column tags: {tags!r} is not a list of texts")
    summary["tags"] = tags
    for column in FINAL_COLUMNS:
        value = summary[column]
        if value is not None and not isinstance(value, float):
            raise RunLogError(f"run {run_id}, column {column}: {value!r} is not a number")
    if not isinstance(summary["epochs"], int) or summary["epochs"] < 0:
        raise RunLogError(f"run {run_id}, column epochs: {summary['epochs']!r} is not a count of epochs")
    summary["diverged"] = bool(summary["diverged"])
