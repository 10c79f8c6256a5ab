"""Many-model runs: shadow models, retrained references and unlearned copies.

Shadow-model attacks (LiRA, U-LiRA, RMIA) and the NeurIPS-2023 forgetting score need the outputs
of many models, each trained on a known subset of a pool of samples. :class:`ShadowRunner`
trains them as independent jobs on a :mod:`unlearnkit.backends` backend (local processes or
Ray) and returns only what the attacks read: every model's class probabilities on the whole
pool, and which rows each model was trained on (and which it then unlearned). Trained models can
be kept in a cache folder so that a second audit of the same data reuses them.

A training function is ``train(X, y) -> fitted classifier``; when it accepts a ``random_state``
keyword, each job passes its own seed. An unlearning function is
``unlearn(model, X, y, forget) -> model``, where ``X, y`` are the rows the model was trained on
and ``forget`` the positions of the rows to forget. For unlearnkit's unlearners
:func:`unlearn_by_position` is that function.

Examples
--------
>>> import numpy as np
>>> from sklearn.naive_bayes import GaussianNB
>>> from unlearnkit.evaluate.shadow import ShadowRunner, fit_clone
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(40, 2)); y = (X[:, 0] > 0).astype(int)
>>> runner = ShadowRunner(fit_clone(GaussianNB()), X, y)
>>> out = runner.train_random_halves(4, seed=0)
>>> out.proba.shape, out.trained.shape
((4, 40, 2), (4, 40))
"""

from __future__ import annotations

import hashlib
import inspect
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from sklearn.base import clone

from unlearnkit.backends import Backend, resolve_backend
from unlearnkit.errors import InvalidParameterError
from unlearnkit.evaluate.adapters import as_classifier
from unlearnkit.evaluate.errors import ClassMismatchError, InsufficientDataError

__all__ = [
    "ModelOutputs",
    "ShadowRunner",
    "TrainFn",
    "UnlearnFn",
    "fit_clone",
    "take_rows",
    "unlearn_by_position",
]

TrainFn = Callable[..., Any]
UnlearnFn = Callable[[Any, Any, np.ndarray, np.ndarray], Any]


class fit_clone:  # noqa: N801 - used like a function
    """A training function that fits a fresh clone of a scikit-learn estimator.

    ``random_state`` (when the estimator has that parameter) is set from the job's seed.

    Parameters
    ----------
    estimator : estimator
        The template; it is never fitted itself.

    Examples
    --------
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> train = fit_clone(DecisionTreeClassifier())
    >>> train([[0], [1]], [0, 1], random_state=3).random_state
    3
    """

    def __init__(self, estimator: Any) -> None:
        self.estimator = estimator

    def __call__(self, X: Any, y: Any, random_state: int | None = None) -> Any:
        model = clone(self.estimator)
        if random_state is not None and "random_state" in model.get_params():
            model.set_params(random_state=random_state)
        return model.fit(X, y)

    def __repr__(self) -> str:
        return f"fit_clone({self.estimator!r})"


def unlearn_by_position(model: Any, X: Any, y: Any, forget: np.ndarray) -> Any:
    """Unlearn rows of an unlearnkit unlearner fitted without sample ids (ids are positions)."""
    if not hasattr(model, "unlearn"):
        raise InvalidParameterError(
            f"{type(model).__name__} has no unlearn method; pass unlearn=callable(model, X, y, "
            "forget_positions) returning the unlearned model."
        )
    model.unlearn([int(i) for i in forget])
    return model


@dataclass(frozen=True)
class ModelOutputs:
    """Class probabilities of several models on one pool of samples.

    Attributes
    ----------
    proba : ndarray of shape (n_models, n_pool, n_classes)
    trained : ndarray of bool, shape (n_models, n_pool)
        Rows each model was trained on (before any unlearning).
    forgotten : ndarray of bool, shape (n_models, n_pool)
        Rows each model then unlearned (all False for plain training).
    seeds : ndarray of int, shape (n_models,)

    Examples
    --------
    >>> import numpy as np
    >>> out = ModelOutputs(proba=np.full((2, 3, 2), 0.5), trained=np.eye(2, 3, dtype=bool),
    ...                    forgotten=np.zeros((2, 3), dtype=bool), seeds=np.arange(2))
    >>> len(out), out.members.sum(axis=1).tolist()
    (2, [1, 1])
    """

    proba: np.ndarray
    trained: np.ndarray
    forgotten: np.ndarray
    seeds: np.ndarray

    @property
    def members(self) -> np.ndarray:
        """Rows whose information each model should hold: trained on and not forgotten."""
        return self.trained & ~self.forgotten

    def __len__(self) -> int:
        return len(self.proba)


@dataclass(frozen=True)
class _Job:
    train_rows: np.ndarray
    forget_rows: np.ndarray
    seed: int


def _accepts_seed(fn: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return "random_state" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def take_rows(X: Any, rows: np.ndarray) -> Any:
    """Rows of an array or DataFrame by position."""
    return X.iloc[rows] if isinstance(X, pd.DataFrame) else X[rows]


def _digest(*parts: Any) -> str:
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, pd.DataFrame):
            h.update(pd.util.hash_pandas_object(part, index=False).to_numpy().tobytes())
            h.update(repr(list(part.columns)).encode())
        elif isinstance(part, np.ndarray):
            h.update(np.ascontiguousarray(part).tobytes())
            h.update(str(part.dtype).encode())
        else:
            h.update(repr(part).encode())
    return h.hexdigest()


class _Worker:
    """What each job runs: train (and unlearn), then score the pool. Pickled to workers."""

    def __init__(
        self,
        train: TrainFn,
        unlearn: UnlearnFn | None,
        X: Any,
        y: np.ndarray,
        classes: np.ndarray,
        cache: Path | None,
        key: str,
    ) -> None:
        self.train = train
        self.unlearn = unlearn
        self.X = X
        self.y = y
        self.classes = classes
        self.cache = cache
        self.key = key
        self.seeded = _accepts_seed(train)

    def _fit(self, job: _Job) -> Any:
        rows = job.train_rows
        X, y = take_rows(self.X, rows), self.y[rows]
        model = self.train(X, y, random_state=job.seed) if self.seeded else self.train(X, y)
        if len(job.forget_rows):
            if self.unlearn is None:
                raise InvalidParameterError("This job unlearns rows but no unlearn function.")
            positions = np.flatnonzero(np.isin(rows, job.forget_rows))
            model = self.unlearn(model, X, y, positions)
        return model

    def __call__(self, job: _Job) -> np.ndarray:
        path = None
        if self.cache is not None:
            name = _digest(self.key, job.train_rows, job.forget_rows, job.seed)
            path = self.cache / f"{name}.joblib"
        model = joblib.load(path) if path is not None and path.exists() else None
        if model is None:
            model = self._fit(job)
            if path is not None:
                tmp = path.with_suffix(f".{os.getpid()}.tmp")
                joblib.dump(model, tmp)
                os.replace(tmp, path)
        clf = as_classifier(model)
        proba = clf.predict_proba(self.X)
        if list(clf.classes_) != list(self.classes):
            # A model trained on a subset may lack a rare class: put its columns in place.
            full = np.zeros((len(self.X), len(self.classes)))
            index = {c: k for k, c in enumerate(self.classes.tolist())}
            unknown = [c for c in clf.classes_.tolist() if c not in index]
            if unknown:
                raise ClassMismatchError(f"A shadow model predicts unknown classes {unknown}.")
            for j, c in enumerate(clf.classes_.tolist()):
                full[:, index[c]] = proba[:, j]
            proba = full
        return np.asarray(proba, dtype=np.float32)


class ShadowRunner:
    """Train many models on subsets of one pool and collect their outputs on the whole pool.

    Parameters
    ----------
    train : callable
        ``train(X, y[, random_state=seed]) -> fitted classifier``.
    X, y : array-like
        The pool: every sample any model may train on or be scored on.
    unlearn : callable, optional
        ``unlearn(model, X, y, forget_positions) -> model``, for unlearned copies.
    backend : str or Backend
        ``"local"``, ``"ray"`` or a :class:`~unlearnkit.backends.Backend`.
    n_jobs : int, optional
        Workers of a backend created from a name.
    cache : path, optional
        Folder in which trained models are kept (joblib files keyed by the training function,
        the pool, the rows, the forgotten rows and the seed) and reused.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.naive_bayes import GaussianNB
    >>> X = np.arange(16.0).reshape(8, 2); y = np.array([0, 1] * 4)
    >>> ShadowRunner(fit_clone(GaussianNB()), X, y).train_random_halves(2).trained.sum(axis=1)
    array([4, 4])
    """

    def __init__(
        self,
        train: TrainFn,
        X: Any,
        y: Any,
        *,
        unlearn: UnlearnFn | None = None,
        backend: str | Backend = "local",
        n_jobs: int | None = None,
        cache: str | os.PathLike[str] | None = None,
    ) -> None:
        if not callable(train):
            raise InvalidParameterError(
                f"train must be a callable train(X, y) -> fitted model, got {train!r}."
            )
        if unlearn is not None and not callable(unlearn):
            raise InvalidParameterError(f"unlearn must be callable, got {unlearn!r}.")
        self.train = train
        self.unlearn = unlearn
        self.X = X.reset_index(drop=True) if isinstance(X, pd.DataFrame) else np.asarray(X)
        self.y = np.asarray(y)
        self.classes = np.unique(self.y)
        self.backend = backend
        self.n_jobs = n_jobs
        self.cache = None if cache is None else Path(cache)
        if self.cache is not None:
            self.cache.mkdir(parents=True, exist_ok=True)

    def _key(self) -> str:
        try:
            fn = joblib.hash((self.train, self.unlearn))
        except Exception:  # an unpicklable function (a lambda) is keyed by its name only
            fn = repr((getattr(self.train, "__qualname__", self.train), self.unlearn))
        return _digest(fn, self.X, self.y)

    def run(self, jobs: list[_Job], *, desc: str) -> ModelOutputs:
        """Run the jobs and stack their outputs."""
        worker = _Worker(
            self.train,
            self.unlearn,
            self.X,
            self.y,
            self.classes,
            self.cache,
            self._key() if self.cache is not None else "",
        )
        backend = resolve_backend(self.backend, n_jobs=self.n_jobs)
        try:
            probas = backend.map(worker, jobs, desc=desc)
        finally:
            if backend is not self.backend:
                backend.close()
        n = len(self.y)
        trained = np.zeros((len(jobs), n), dtype=bool)
        forgotten = np.zeros((len(jobs), n), dtype=bool)
        for k, job in enumerate(jobs):
            trained[k, job.train_rows] = True
            forgotten[k, job.forget_rows] = True
        return ModelOutputs(
            proba=np.stack(probas),
            trained=trained,
            forgotten=forgotten,
            seeds=np.array([j.seed for j in jobs], dtype=np.int64),
        )

    def _halves(self, n_models: int, rng: np.random.Generator, candidates: np.ndarray) -> list[Any]:
        """Balanced random halves: each candidate row is in exactly half of the models."""
        if n_models < 2 or n_models % 2:
            raise InsufficientDataError(
                f"Shadow models come in pairs (each sample in half of them); n_models must be "
                f"an even number >= 2, got {n_models}."
            )
        order = np.argsort(rng.random((n_models, len(candidates))), axis=0)
        member = order < n_models // 2
        return [candidates[member[k]] for k in range(n_models)]

    def train_random_halves(
        self,
        n_models: int,
        *,
        seed: int = 0,
        rows: Any = None,
        always: Any = None,
    ) -> ModelOutputs:
        """Models each trained on a random half of ``rows`` (default: the whole pool).

        Every candidate row is a member of exactly half of the models, so each has ``n/2`` IN
        and ``n/2`` OUT models. Rows in ``always`` are in every model's training set.
        """
        rng = np.random.default_rng(seed)
        candidates = np.arange(len(self.y)) if rows is None else np.asarray(rows, dtype=np.intp)
        forced = np.zeros(0, np.intp) if always is None else np.asarray(always, dtype=np.intp)
        candidates = np.setdiff1d(candidates, forced)
        halves = self._halves(n_models, rng, candidates)
        seeds = rng.integers(0, 2**31 - 1, n_models)
        jobs = [
            _Job(np.sort(np.r_[h, forced]).astype(np.intp), np.zeros(0, np.intp), int(s))
            for h, s in zip(halves, seeds, strict=True)
        ]
        return self.run(jobs, desc=f"training {n_models} shadow models")

    def train_pairs(
        self,
        n_pairs: int,
        *,
        forget: Any,
        rows: Any,
        seed: int = 0,
        subsample: bool = True,
    ) -> tuple[ModelOutputs, ModelOutputs]:
        """Pairs of (trained then unlearned, retrained without ``forget``) models.

        Pair ``j`` trains on ``S_j + forget`` and unlearns ``forget``; its partner trains on
        ``S_j`` with the same seed. ``S_j`` is a random half of ``rows`` when ``subsample``,
        else all of ``rows`` (then only the seeds differ between pairs).
        """
        if self.unlearn is None:
            raise InvalidParameterError(
                "Unlearned copies need an unlearn function; pass unlearn=... (for unlearnkit's "
                "unlearners, unlearn_by_position)."
            )
        rng = np.random.default_rng(seed)
        forget = np.asarray(forget, dtype=np.intp)
        candidates = np.setdiff1d(np.asarray(rows, dtype=np.intp), forget)
        if subsample:
            subsets = self._halves(2 * ((n_pairs + 1) // 2), rng, candidates)[:n_pairs]
        else:
            subsets = [candidates] * n_pairs
        seeds = rng.integers(0, 2**31 - 1, n_pairs)
        unlearned = [
            _Job(np.sort(np.r_[s, forget]).astype(np.intp), forget, int(k))
            for s, k in zip(subsets, seeds, strict=True)
        ]
        retrained = [
            _Job(np.sort(s).astype(np.intp), np.zeros(0, np.intp), int(k))
            for s, k in zip(subsets, seeds, strict=True)
        ]
        outs = self.run(unlearned + retrained, desc=f"training {n_pairs} unlearned/retrained pairs")
        first = slice(0, n_pairs)
        second = slice(n_pairs, 2 * n_pairs)
        return _take(outs, first), _take(outs, second)


def _take(outs: ModelOutputs, part: slice) -> ModelOutputs:
    return ModelOutputs(
        proba=outs.proba[part],
        trained=outs.trained[part],
        forgotten=outs.forgotten[part],
        seeds=outs.seeds[part],
    )
