"""The training rows an unlearner keeps so that it can forget them by id."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any

import numpy as np

from unlearnkit.errors import (
    AlreadyForgottenError,
    DataValidationError,
    DuplicateIdError,
    UnknownIdError,
)
from unlearnkit.requests import normalize_ids


def make_ids(sample_ids: Any, n: int) -> np.ndarray:
    """Validate ``sample_ids`` for ``n`` rows (``0..n-1`` when None) as an id array."""
    if sample_ids is None:
        return np.arange(n, dtype=np.int64)
    ids = normalize_ids(sample_ids, where="sample_ids")
    if len(ids) != n:
        raise DataValidationError(
            f"sample_ids has {len(ids)} entries but X has {n} rows; pass one id per row."
        )
    kinds = {type(i) for i in ids}
    if len(kinds) > 1:
        raise DataValidationError(
            f"sample_ids mixes types {sorted(k.__name__ for k in kinds)}; use all integers or "
            "all strings."
        )
    if kinds == {int}:
        return np.asarray(ids, dtype=np.int64)
    out = np.empty(len(ids), dtype=object)
    out[:] = ids
    return out


class RowStore:
    """Rows seen in training, addressed by sample id; removed rows become tombstones.

    Removing rows only flips a mask and drops dictionary entries, so the cost of forgetting
    ``k`` rows does not depend on how many rows are kept. ``X`` is never modified in place.
    """

    def __init__(
        self, X: np.ndarray, y: np.ndarray | None, weights: np.ndarray | None, ids: np.ndarray
    ) -> None:
        self.X = X
        self.y = y
        self.weights = weights
        self.ids = ids
        self.alive = np.ones(len(ids), dtype=bool)
        self.index: dict[Hashable, int] = {i: r for r, i in enumerate(ids.tolist())}
        self.forgotten: set[Hashable] = set()

    @property
    def n_alive(self) -> int:
        return len(self.index)

    def locate(self, ids: Iterable[Any]) -> np.ndarray:
        """Row positions of live ids; unknown, forgotten or repeated ids raise."""
        ids = normalize_ids(ids)
        forgotten = [i for i in ids if i in self.forgotten]
        if forgotten:
            raise AlreadyForgottenError(forgotten)
        unknown = [i for i in ids if i not in self.index]
        if unknown:
            raise UnknownIdError(unknown)
        return np.fromiter((self.index[i] for i in ids), dtype=np.intp, count=len(ids))

    def retained(self, excluding: np.ndarray | None = None) -> np.ndarray:
        """Positions of live rows (minus ``excluding``), in training order."""
        if excluding is None or len(excluding) == 0:
            return np.flatnonzero(self.alive)
        mask = self.alive.copy()
        mask[excluding] = False
        return np.flatnonzero(mask)

    def check_new_ids(self, ids: np.ndarray) -> None:
        """Raise if any of ``ids`` is live or was forgotten (ids are never reused)."""
        taken = [i for i in ids.tolist() if i in self.index or i in self.forgotten]
        if taken:
            raise DuplicateIdError(taken, where="the new sample_ids (already used by this model)")

    def remove(self, rows: np.ndarray) -> None:
        """Tombstone ``rows``. Call only after every other part of an update has succeeded."""
        self.alive[rows] = False
        for i in self.ids[rows].tolist():
            del self.index[i]
            self.forgotten.add(i)

    def append(
        self, X: np.ndarray, y: np.ndarray | None, weights: np.ndarray | None, ids: np.ndarray
    ) -> None:
        """Add new rows (ids already checked with :meth:`check_new_ids`)."""
        start = len(self.ids)
        self.X = np.concatenate([self.X, X])
        if self.y is not None and y is not None:
            self.y = np.concatenate([self.y, y])
        if self.weights is not None or weights is not None:
            old = self.weights if self.weights is not None else np.ones(start)
            new = weights if weights is not None else np.ones(len(ids))
            self.weights = np.concatenate([old, new])
        self.ids = np.concatenate([self.ids, ids])
        self.alive = np.concatenate([self.alive, np.ones(len(ids), dtype=bool)])
        for r, i in enumerate(ids.tolist(), start=start):
            self.index[i] = r

    def set_labels(self, rows: np.ndarray, labels: np.ndarray) -> None:
        """Replace the labels of ``rows`` (a copy of ``y`` is made, never an in-place write)."""
        assert self.y is not None
        dtype = np.result_type(self.y, labels) if labels.dtype != object else object
        y = self.y.astype(dtype, copy=True)
        y[rows] = labels
        self.y = y

    def copy(self) -> RowStore:
        """An independent copy (arrays that are never written in place are shared)."""
        new = RowStore.__new__(RowStore)
        new.X, new.y, new.weights, new.ids = self.X, self.y, self.weights, self.ids
        new.alive = self.alive.copy()
        new.index = dict(self.index)
        new.forgotten = set(self.forgotten)
        return new
