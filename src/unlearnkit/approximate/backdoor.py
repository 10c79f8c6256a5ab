"""Poisoned-data removal: plant a backdoor trigger, then measure whether unlearning removes it.

A backdoor (Gu, Dolan-Gavitt & Garg, "BadNets", 2017) is a fixed input pattern, the trigger,
added to a fraction of the training samples whose label is set to a target class; the trained
model then sends any input carrying the trigger to that class. Corrective unlearning (Goel,
Prabhu, Torr, Kumaraguru & Sanyal, "Corrective Machine Unlearning", 2024) asks whether
unlearning the poisoned samples that were *found* -- often only part of them -- removes the
behaviour. :class:`Trigger` applies a pattern, :func:`poison` builds the poisoned training
set, and :func:`unlearnkit.evaluate.symptoms.backdoor_success_rate` measures the backdoor on
triggered test inputs.

Examples
--------
>>> import numpy as np
>>> from unlearnkit import Samples
>>> from unlearnkit.approximate.backdoor import Trigger, poison
>>> data = Samples(np.zeros((100, 16), dtype=np.float32), y=np.arange(100) % 4)
>>> trigger = Trigger.patch((4, 4), size=2)
>>> poisoned, ids = poison(data, trigger, fraction=0.1, target=0, seed=0)
>>> len(ids), int(poisoned.y[poisoned.rows(ids)].max()), float(poisoned.X[poisoned.rows(ids)].sum())
(8, 0, 32.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from unlearnkit.data import Samples
from unlearnkit.errors import DataValidationError, InvalidParameterError

__all__ = ["Trigger", "poison"]


@dataclass(frozen=True)
class Trigger:
    """A backdoor pattern: fixed values written into fixed positions of the flattened input.

    Parameters
    ----------
    indices : tuple of int
        Positions in the flattened input (row-major for images).
    values : tuple of float
        The value written at each position.

    Examples
    --------
    >>> Trigger.patch((28, 28), size=2).indices
    (754, 755, 782, 783)
    """

    indices: tuple[int, ...]
    values: tuple[float, ...]

    def __post_init__(self) -> None:
        if not self.indices or len(self.indices) != len(self.values):
            raise InvalidParameterError(
                f"A trigger needs as many values as indices (at least one), got "
                f"{len(self.indices)} indices and {len(self.values)} values."
            )

    @classmethod
    def patch(cls, image_shape: tuple[int, int], size: int = 3, value: float = 1.0) -> Trigger:
        """A ``size`` x ``size`` square of ``value`` in the bottom-right corner of an image."""
        h, w = image_shape
        if not 0 < size <= min(h, w):
            raise InvalidParameterError(f"Patch size {size} does not fit images of {h}x{w}.")
        idx = [r * w + c for r in range(h - size, h) for c in range(w - size, w)]
        return cls(tuple(idx), tuple([float(value)] * len(idx)))

    @classmethod
    def features(cls, columns: Sequence[int], values: Sequence[float]) -> Trigger:
        """Set tabular feature ``columns`` to ``values``."""
        return cls(tuple(int(c) for c in columns), tuple(float(v) for v in values))

    def apply(self, X: Any) -> np.ndarray:
        """A copy of ``X`` (shape ``(n, d)``) with the trigger written into every row."""
        out = np.array(X, dtype=np.float32, copy=True)
        if out.ndim != 2 or max(self.indices) >= out.shape[1]:
            raise DataValidationError(
                f"The trigger writes column {max(self.indices)} but X has shape {out.shape}; "
                "pass flattened rows of shape (n, d)."
            )
        out[:, list(self.indices)] = np.asarray(self.values, dtype=np.float32)
        return out


def poison(
    samples: Samples, trigger: Trigger, *, fraction: float, target: int, seed: int = 0
) -> tuple[Samples, np.ndarray]:
    """Add ``trigger`` to a random ``fraction`` of the samples not of class ``target`` (a share
    of those samples, not of all) and set their label to ``target``.

    Returns
    -------
    poisoned : Samples
        The same ids, with the chosen rows changed.
    poison_ids : ndarray
        Ids of the poisoned rows.
    """
    if (
        isinstance(fraction, bool)
        or not isinstance(fraction, (int, float))
        or not 0 < fraction <= 1
    ):
        raise InvalidParameterError(f"poison fraction must be in (0, 1], got {fraction!r}.")
    if samples.y is None:
        raise DataValidationError("Poisoning needs labelled samples; these have no y.")
    X = samples.X.to_numpy() if hasattr(samples.X, "to_numpy") else np.asarray(samples.X)
    y = np.asarray(samples.y).copy()
    candidates = np.flatnonzero(y != target)
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(candidates, size=round(fraction * len(candidates)), replace=False))
    Xp = np.array(X, dtype=np.float32, copy=True)
    Xp[rows] = trigger.apply(X[rows])
    y[rows] = target
    out = Samples(Xp, y=y, ids=samples.ids, subjects=samples.subjects, name=samples.name)
    return out, np.asarray(samples.ids)[rows]
