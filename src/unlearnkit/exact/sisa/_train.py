"""Training one shard, slice by slice: the job SISA hands to a backend."""

from __future__ import annotations

import functools
import hashlib
import pickle
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.base import clone
from threadpoolctl import ThreadpoolController

__all__ = ["ConstantClassifier", "ShardJob", "ShardResult", "digest", "train_shard"]


class ConstantClassifier:
    """The model of a shard whose retained rows all have one label: it predicts that label.

    Estimators such as logistic regression refuse one-class data; a shard of a small or
    skewed data set can still end up with one class, and voting with that label is what a
    model trained on it would do.
    """

    def __init__(self, label: Any) -> None:
        self.classes_ = np.asarray([label])

    def predict(self, X: Any) -> np.ndarray:
        return np.full(len(X), self.classes_[0], dtype=self.classes_.dtype)

    def predict_proba(self, X: Any) -> np.ndarray:
        return np.ones((len(X), 1))


@dataclass
class ShardJob:
    """Retrain ``shard`` on its rows ``X, y`` from slice ``start`` (0: from scratch).

    ``slices`` gives each row's slice; rows are in training order. ``resume`` is the pickled
    model after slice ``start - 1``. ``passes`` is the number of ``partial_fit`` calls per
    slice, on all rows of the slices up to it (the paper's schedule).
    """

    shard: int
    estimator: Any
    X: np.ndarray
    y: np.ndarray
    slices: np.ndarray
    n_slices: int
    start: int
    resume: bytes | None
    incremental: bool
    passes: int
    classes: np.ndarray | None

    def __repr__(self) -> str:
        return f"ShardJob(shard={self.shard}, rows={len(self.X)}, start_slice={self.start})"


@dataclass
class ShardResult:
    """A trained shard: its final model and the checkpoints of slices ``start..n_slices-1``."""

    shard: int
    model: Any
    checkpoints: list[bytes] = field(default_factory=list)
    seconds: float = 0.0


@functools.cache
def _controller() -> ThreadpoolController:
    return ThreadpoolController()


def train_shard(job: ShardJob) -> ShardResult:
    """Train one shard on one BLAS thread.

    Shards are many small problems that run in parallel on the backend; threads inside one
    only spin. One thread also makes the sums, and so the model, the same on every machine,
    whatever its number of cores, which exact unlearning on a cluster relies on.
    """
    with _controller().limit(limits=1):
        return _train(job)


def _train(job: ShardJob) -> ShardResult:
    start_time = time.perf_counter()
    if len(job.X) == 0:
        return ShardResult(job.shard, None)
    if not job.incremental:
        labels = np.unique(job.y) if job.classes is not None else None
        if labels is not None and len(labels) == 1:
            model: Any = ConstantClassifier(labels[0])
        else:
            model = clone(job.estimator).fit(job.X, job.y)
        return ShardResult(job.shard, model, [], time.perf_counter() - start_time)
    if job.classes is not None and len(job.classes) == 1:
        blob = pickle.dumps(ConstantClassifier(job.classes[0]), protocol=pickle.HIGHEST_PROTOCOL)
        checkpoints = [blob] * (job.n_slices - job.start)
        return ShardResult(job.shard, pickle.loads(blob), checkpoints, 0.0)
    model = pickle.loads(job.resume) if job.resume is not None else clone(job.estimator)
    checkpoints = []
    for r in range(job.start, job.n_slices):
        mask = job.slices <= r
        if mask.any():
            Xr, yr = job.X[mask], job.y[mask]
            for _ in range(job.passes):
                if job.classes is not None:
                    model.partial_fit(Xr, yr, classes=job.classes)
                else:
                    model.partial_fit(Xr, yr)
        checkpoints.append(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
    return ShardResult(job.shard, model, checkpoints, time.perf_counter() - start_time)


def _feed(h: Any, value: Any, depth: int = 0) -> None:
    """Hash ``value`` by content: arrays by their bytes, containers and objects by their parts.

    Pickle bytes are not a content hash: two equal models can pickle differently (shared
    versus copied arrays, memo order).
    """
    if depth > 20:
        h.update(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    elif isinstance(value, np.ndarray):
        h.update(f"nd{value.dtype.str}{value.shape}".encode())
        if value.dtype == object:
            for item in value.ravel().tolist():
                _feed(h, item, depth + 1)
        else:
            h.update(np.ascontiguousarray(value).tobytes())
    elif value is None or isinstance(value, (bool, int, float, complex, str, bytes, np.generic)):
        h.update(f"{type(value).__name__}:{value!r}".encode())
    elif isinstance(value, dict):
        h.update(b"{")
        for key in sorted(value, key=repr):
            h.update(repr(key).encode())
            _feed(h, value[key], depth + 1)
        h.update(b"}")
    elif isinstance(value, (list, tuple)):
        h.update(b"[")
        for item in value:
            _feed(h, item, depth + 1)
        h.update(b"]")
    else:
        state = value.__getstate__() if hasattr(value, "__getstate__") else None
        h.update(type(value).__qualname__.encode())
        if isinstance(state, dict):
            _feed(h, state, depth + 1)
        else:
            h.update(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))


def digest(model: Any) -> str:
    """SHA-256 of a trained model's content (its weights for PyTorch models)."""
    if model is None:
        return ""
    own = getattr(model, "digest", None)
    if callable(own):
        return str(own())
    h = hashlib.sha256()
    _feed(h, model)
    return h.hexdigest()
