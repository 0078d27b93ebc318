"""Per-epoch record of a run: one row per epoch, epoch 0 being the state before training."""
from __future__ import annotations

import math

import numpy as np

COLUMNS = ("epoch", "train_loss", "test_loss", "train_accuracy", "test_accuracy", "wall_time")


class History:
    """A growing table of floats, stored column-wise in one array that doubles when full.

    wall_time is seconds of training since the attempt began. Accuracy is NaN in storage for
    regression; `rows()` and `last()` give None for it (and for any non-finite value), so what they
    return is always JSON-safe.
    """

    def __init__(self, capacity: int = 256):
        self._data = np.empty((capacity, len(COLUMNS)))
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def append(self, epoch, train_loss, test_loss, train_accuracy, test_accuracy, wall_time):
        if self._size == len(self._data):
            self._data = np.concatenate([self._data, np.empty_like(self._data)])
        self._data[self._size] = (epoch, train_loss, test_loss, train_accuracy, test_accuracy, wall_time)
        self._size += 1

    def clear(self):
        self._size = 0

    def truncate(self, size: int):
        self._size = min(self._size, size)

    def column(self, name: str) -> np.ndarray:
        """A copy of one column over all epochs (NaN where undefined)."""
        if name not in COLUMNS:
            raise ValueError(f"history column: {name!r} is not one of {COLUMNS}")
        return self._data[:self._size, COLUMNS.index(name)].copy()

    def array(self) -> np.ndarray:
        """A copy of the whole table, shape (epochs + 1, len(COLUMNS))."""
        return self._data[:self._size].copy()

    @classmethod
    def from_array(cls, table) -> "History":
        table = np.asarray(table, dtype=float)
        if table.ndim != 2 or table.shape[1] != len(COLUMNS):
            raise ValueError(f"history: expected shape (n, {len(COLUMNS)}), got {table.shape}")
        history = cls(max(256, len(table)))
        history._data[:len(table)] = table
        history._size = len(table)
        return history

    def rows(self, start: int = 0) -> list[dict]:
        return [self._row(i) for i in range(max(0, start), self._size)]

    def last(self) -> dict | None:
        return self._row(self._size - 1) if self._size else None

    def _row(self, i: int) -> dict:
        row = {}
        for name, value in zip(COLUMNS, self._data[i].tolist()):
            row[name] = value if math.isfinite(value) else None
        row["epoch"] = int(self._data[i, 0])
        return row
