"""SISA: exact unlearning for any model by sharding, isolation, slicing and aggregation.

Bourtoule et al., "Machine Unlearning" (IEEE S&P 2021). The training samples are split into
``n_shards`` disjoint shards, and one copy of the base model is trained on each shard in
isolation; predictions aggregate the shard models. Forgetting a sample retrains only the model
of its shard. Within a shard the samples are further split into ``n_slices`` slices; a model
that learns incrementally (``partial_fit``, PyTorch models) is trained slice by slice with a
checkpoint after each, so forgetting restarts from the checkpoint before the sample's slice.

A sample's shard and slice are a function of its id and ``random_state`` only, and each shard
model is trained on its rows in training order with a seed derived from ``random_state`` and
the shard index. ``fit(all).unlearn(F)`` therefore gives the very models that
``fit(all minus F)`` gives, for deterministic base learners.
"""

from __future__ import annotations

import os
import warnings
from numbers import Integral, Real
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
from sklearn.base import ClassifierMixin, MultiOutputMixin, RegressorMixin, clone, is_classifier
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_random_state

from unlearnkit.backends import Backend, resolve_backend
from unlearnkit.base import Change, Unlearner
from unlearnkit.errors import DataValidationError, InvalidParameterError
from unlearnkit.exact.sisa._assign import assign
from unlearnkit.exact.sisa._checkpoints import (
    Checkpoint,
    CheckpointStore,
    remove,
)
from unlearnkit.exact.sisa._train import ShardJob, ShardResult, digest, train_shard
from unlearnkit.exact.sisa.torch_models import TorchClassifier, TorchRegressor
from unlearnkit.registry import register_method
from unlearnkit.requests import RequestKind

__all__ = ["NondeterministicModelWarning", "SISAClassifier", "SISARegressor"]


class NondeterministicModelWarning(UserWarning):
    """The base model does not train deterministically; exactness holds in distribution only."""


def _seed_of(random_state: Any) -> int:
    if isinstance(random_state, Integral) and not isinstance(random_state, bool):
        return int(random_state)
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def _derived_seed(seed: int, shard: int) -> int:
    sequence = np.random.SeedSequence(seed & 0xFFFFFFFFFFFFFFFF, spawn_key=(shard,))
    return int(sequence.generate_state(1, dtype=np.uint32)[0])


class _SISABase(Unlearner):
    """Shared machinery of :class:`SISAClassifier` and :class:`SISARegressor`."""

    supported_requests: ClassVar[frozenset[RequestKind]] = frozenset({"items", "group"})
    accepts_sample_weight = False
    _aggregations: ClassVar[frozenset[str]] = frozenset()
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "estimator": [None, HasMethods(["fit", "predict"]), callable],
        "n_shards": [Interval(Integral, 1, None, closed="left")],
        "n_slices": [Interval(Integral, 1, None, closed="left")],
        "aggregation": [StrOptions({"vote", "mean", "weighted"})],
        "epochs": [None, Interval(Integral, 1, None, closed="left")],
        "hot_shards": [Interval(Integral, 1, None, closed="left")],
        "hot_threshold": [Interval(Real, 0, 1, closed="right")],
        "random_state": ["random_state"],
        "backend": [StrOptions({"local", "ray"}), Backend],
        "n_jobs": [None, Integral],
        "checkpoint_dir": [None, str, os.PathLike],
    }

    # fitted state (private; the public learned state is shard_sizes_ / shard_fingerprints_)
    _seed: int
    _shard_of_row: np.ndarray
    _slice_of_row: np.ndarray
    _models: tuple[Any, ...]
    _checkpoints: tuple[tuple[Checkpoint, ...], ...]
    _superseded: tuple[Checkpoint, ...]
    _saved: bool
    _incremental: bool
    _passes: int
    _deterministic: bool
    _template: Any
    _shard_estimators: tuple[Any, ...]
    _run: str
    _hot_split: bool

    def __init__(
        self,
        estimator: Any = None,
        *,
        n_shards: int = 5,
        n_slices: int = 1,
        aggregation: str = "mean",
        epochs: int | None = None,
        hot_shards: int = 1,
        hot_threshold: float = 0.5,
        random_state: Any = 0,
        backend: str | Backend = "local",
        n_jobs: int | None = None,
        checkpoint_dir: Any = None,
    ) -> None:
        self.estimator = estimator
        self.n_shards = n_shards
        self.n_slices = n_slices
        self.aggregation = aggregation
        self.epochs = epochs
        self.hot_shards = hot_shards
        self.hot_threshold = hot_threshold
        self.random_state = random_state
        self.backend = backend
        self.n_jobs = n_jobs
        self.checkpoint_dir = checkpoint_dir

    # -- configuration ------------------------------------------------------------------------
    #: The base model when ``estimator`` is None.
    _default: ClassVar[type]

    def _base_estimator(self) -> Any:
        est = self.estimator
        if est is None:
            return self._default()
        if not hasattr(est, "get_params") and callable(est):
            torch_cls = TorchClassifier if is_classifier(self) else TorchRegressor
            est = torch_cls(est)
        try:
            return clone(est)
        except Exception as exc:
            raise InvalidParameterError(
                f"estimator={est!r} cannot be cloned ({exc}). Pass a scikit-learn estimator "
                "(with get_params), or a PyTorch module factory."
            ) from None

    def _check_config(self, template: Any) -> None:
        if self.aggregation not in self._aggregations:
            raise InvalidParameterError(
                f"aggregation={self.aggregation!r} is not available for "
                f"{type(self).__name__}; use one of {sorted(self._aggregations)}."
            )
        if is_classifier(self) and not is_classifier(template):
            raise InvalidParameterError(
                f"{type(self).__name__} needs a classifier; estimator={template!r} is not one. "
                "Use SISARegressor for regressors."
            )
        if not is_classifier(self) and is_classifier(template):
            raise InvalidParameterError(
                f"SISARegressor needs a regressor; estimator={template!r} is a classifier. "
                "Use SISAClassifier."
            )
        if (
            self.aggregation in ("mean", "weighted")
            and is_classifier(self)
            and not hasattr(template, "predict_proba")
        ):
            raise InvalidParameterError(
                f"aggregation={self.aggregation!r} averages probabilities, but "
                f"{type(template).__name__} has no predict_proba; use aggregation='vote'."
            )

    def _seeded(self, template: Any, shard: int) -> Any:
        """The base model of ``shard``: its own seed unless the user fixed one."""
        params = template.get_params(deep=False)
        if "random_state" in params and params["random_state"] is None:
            return clone(template).set_params(random_state=_derived_seed(self._seed, shard))
        return template

    # -- fitting ------------------------------------------------------------------------------
    def fit(
        self,
        X: Any,
        y: Any,
        *,
        sample_ids: Any = None,
        deletion_probability: Any = None,
    ) -> Self:
        """Train one model per shard; rows are addressed by ``sample_ids`` (``0..n-1``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_ids : array-like of shape (n_samples,), optional
            Unique integer or string ids.
        deletion_probability : array-like of shape (n_samples,), optional
            Each sample's probability of a future deletion request. Samples with at least
            ``hot_threshold`` go to the first ``hot_shards`` shards, the others to the rest,
            so likely deletions retrain small, separate shards.
        """
        self._validate_params()
        template = self._base_estimator()
        self._check_config(template)
        store = CheckpointStore(self.checkpoint_dir)
        store.check_writable()
        if deletion_probability is not None and self.hot_shards >= self.n_shards:
            raise InvalidParameterError(
                f"hot_shards={self.hot_shards} leaves no shard for the other samples with "
                f"n_shards={self.n_shards}; use hot_shards < n_shards."
            )
        previous = dict(self.__dict__)
        Xv, yv, _ = self._start_fit(X, y, sample_ids, None)
        try:
            n = len(Xv)
            if self.n_shards > n:
                raise DataValidationError(
                    f"n_shards={self.n_shards} is more than the training samples "
                    f"(n_samples={n}); every shard needs samples. Lower n_shards or pass more "
                    "samples."
                )
            assert yv is not None
            if is_classifier(self):
                try:
                    check_classification_targets(yv)
                except ValueError as exc:
                    raise DataValidationError(
                        f"{exc} SISAClassifier needs class labels; use SISARegressor for "
                        "continuous targets."
                    ) from None
                self.classes_ = np.unique(yv)
            self._seed = _seed_of(self.random_state)
            self._shard_of_row, self._slice_of_row = assign(
                self._store.ids,
                n_shards=int(self.n_shards),
                n_slices=int(self.n_slices),
                seed=self._seed,
                deletion_probability=deletion_probability,
                hot_shards=int(self.hot_shards),
                hot_threshold=float(self.hot_threshold),
            )
            self._template = template
            self._shard_estimators = tuple(
                self._seeded(template, shard) for shard in range(int(self.n_shards))
            )
            self._hot_split = deletion_probability is not None
            self._incremental = hasattr(template, "partial_fit") and int(self.n_slices) > 1
            self._passes = self._slice_passes(template)
            self._deterministic = self._check_determinism(template, Xv, yv)
            self._run = store.run
            self._models = (None,) * int(self.n_shards)
            self._checkpoints = ((),) * int(self.n_shards)
            # Checkpoints of an earlier fit go once no saved file can need them any more.
            self._superseded = tuple(c for shard in previous.get("_checkpoints", ()) for c in shard)
            self._saved = bool(previous.get("_saved", False))
            shards = range(int(self.n_shards))
            self._retrain(dict.fromkeys(shards, 0), self._store.alive, store)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(previous)
            raise
        return self

    def _slice_passes(self, template: Any) -> int:
        """``partial_fit`` passes per slice: the paper's ``2 e / (R + 1)`` for ``e`` epochs."""
        if self.epochs is not None:
            epochs = int(self.epochs)
        else:
            training = getattr(template, "training", None)
            epochs = int(getattr(training, "epochs", 1)) if training is not None else 1
            if isinstance(template, (TorchClassifier, TorchRegressor)) and training is None:
                epochs = 10
        return max(1, round(2 * epochs / (int(self.n_slices) + 1)))

    def _check_determinism(self, template: Any, X: np.ndarray, y: np.ndarray) -> bool:
        check = getattr(template, "is_deterministic", None)
        if not callable(check):
            return True
        outputs = len(np.unique(y)) if is_classifier(self) else (1 if y.ndim == 1 else y.shape[1])
        if check(X.shape[1], outputs):
            return True
        warnings.warn(
            f"{type(template).__name__}'s module factory builds different weights under the "
            "same seed; unlearning then equals retraining in distribution only, not bit for "
            "bit. Build the module with torch's default generator (no external seeding) to "
            "make it exact.",
            NondeterministicModelWarning,
            stacklevel=3,
        )
        return False

    # -- shard training -----------------------------------------------------------------------
    def _jobs(self, starts: dict[int, int], alive: np.ndarray) -> list[ShardJob]:
        store = self._store
        assert store.y is not None
        jobs = []
        classes = getattr(self, "classes_", None)
        for shard, start in sorted(starts.items()):
            rows = np.flatnonzero(alive & (self._shard_of_row == shard))
            resume = None
            if self._incremental and start > 0:
                resume = self._checkpoints[shard][start - 1].read()
            jobs.append(
                ShardJob(
                    shard=shard,
                    estimator=self._shard_estimators[shard],
                    X=store.X[rows],
                    y=store.y[rows],
                    slices=self._slice_of_row[rows],
                    n_slices=int(self.n_slices),
                    start=start if self._incremental else 0,
                    resume=resume,
                    incremental=self._incremental,
                    passes=self._passes,
                    classes=classes,
                )
            )
        return jobs

    def _retrain(
        self, starts: dict[int, int], alive: np.ndarray, store: CheckpointStore
    ) -> dict[str, Any]:
        """Retrain shards ``{shard: first slice}`` on the rows ``alive``; rebind the state.

        New checkpoints are written before anything is rebound; if anything fails they are
        deleted again and the model is as it was.
        """
        jobs = self._jobs(starts, alive)
        backend = resolve_backend(self.backend, n_jobs=self.n_jobs)
        try:
            results: list[ShardResult] = backend.map(
                train_shard, jobs, desc=f"Training {len(jobs)} shard(s)"
            )
        finally:
            if backend is not self.backend:
                backend.close()
        models = list(self._models)
        checkpoints = list(self._checkpoints)
        superseded: list[Checkpoint] = []
        try:
            for job, result in zip(jobs, results, strict=True):
                models[job.shard] = result.model
                if not self._incremental:
                    continue
                keep = checkpoints[job.shard][: job.start]
                new = []
                for offset, blob in enumerate(result.checkpoints):
                    ckpt = store.put(blob, job.shard, job.start + offset)
                    new.append(ckpt)
                superseded.extend(checkpoints[job.shard][job.start :])
                checkpoints[job.shard] = (*keep, *new)
        except BaseException:
            store.discard_created()
            raise
        sizes = np.bincount(self._shard_of_row[alive], minlength=int(self.n_shards)).astype(
            np.int64
        )
        self._models = tuple(models)
        self._checkpoints = tuple(checkpoints)
        self.shard_sizes_ = sizes
        fingerprints = list(getattr(self, "shard_fingerprints_", ("",) * len(models)))
        for job in jobs:
            fingerprints[job.shard] = digest(models[job.shard])
        self.shard_fingerprints_ = tuple(fingerprints)
        live = {c.path for shard in self._checkpoints for c in shard}
        self._superseded = (*self._superseded, *(c for c in superseded if c.path not in live))
        if not self._saved:
            self._drop_superseded()
        done = [r for r in results if r.model is not None]
        return {
            "shards_retrained": sorted(int(j.shard) for j in jobs),
            "first_slice": {int(j.shard): int(j.start) for j in jobs},
            "shard_seconds": {int(r.shard): float(r.seconds) for r in done},
            "rows_retrained": int(sum(len(j.X) for j in jobs)),
            "deterministic": self._deterministic,
        }

    def _slice_counts(self, alive: np.ndarray) -> np.ndarray:
        """Retained rows per (shard, slice), shape ``(n_shards, n_slices)``."""
        S, R = int(self.n_shards), int(self.n_slices)
        cells = self._shard_of_row[alive] * R + self._slice_of_row[alive]
        return np.bincount(cells, minlength=S * R).reshape(S, R)

    def _work(self, counts: np.ndarray, starts: dict[int, int]) -> int:
        """Rows processed when retraining shards ``{shard: first slice}`` (see ``work``)."""
        total = 0
        for shard, start in starts.items():
            if not self._incremental:
                total += int(counts[shard].sum())
            else:
                total += self._passes * int(counts[shard].cumsum()[start:].sum())
        return total

    def _drop_superseded(self) -> None:
        remove(list(self._superseded))
        self._superseded = ()

    # -- unlearning hooks ---------------------------------------------------------------------
    def _forget_rows(self, rows: np.ndarray) -> Change:
        store = self._store
        alive = store.alive.copy()
        alive[rows] = False
        starts: dict[int, int] = {}
        for shard, slice_ in zip(
            self._shard_of_row[rows].tolist(), self._slice_of_row[rows].tolist(), strict=True
        ):
            starts[shard] = min(slice_, starts.get(shard, slice_))
        if is_classifier(self):
            assert store.y is not None
            kept = np.unique(store.y[alive])
            if len(kept) != len(self.classes_):
                self.classes_ = kept  # a class left: every shard model changes its outputs
                starts = dict.fromkeys(range(int(self.n_shards)), 0)
        counts = self._slice_counts(alive)
        total = self._work(counts, dict.fromkeys(range(int(self.n_shards)), 0))
        redone = self._work(counts, starts)
        evidence = self._retrain(starts, alive, self._writer())
        evidence["n_shards"] = int(self.n_shards)
        evidence["n_slices"] = int(self.n_slices)
        return Change(redone / total if total else 1.0, evidence)

    def _add_rows(
        self, X: np.ndarray, y: np.ndarray | None, w: np.ndarray | None, ids: np.ndarray
    ) -> None:
        """Place new rows by their ids (as cold rows when fitted with deletion probabilities)
        and retrain their shards from the earliest slice they join."""
        store = self._store
        assert y is not None
        shard, slice_ = assign(
            ids,
            n_shards=int(self.n_shards),
            n_slices=int(self.n_slices),
            seed=self._seed,
            deletion_probability=np.zeros(len(ids)) if self._hot_split else None,
            hot_shards=int(self.hot_shards),
            hot_threshold=float(self.hot_threshold),
        )
        starts: dict[int, int] = {}
        for s, r in zip(shard.tolist(), slice_.tolist(), strict=True):
            starts[s] = min(r, starts.get(s, r))
        # Train on an extended copy; the base class appends the rows to the store afterwards.
        extended = store.copy()
        extended.append(X, y, w, ids)
        self._store = extended
        self._shard_of_row = np.concatenate([self._shard_of_row, shard])
        self._slice_of_row = np.concatenate([self._slice_of_row, slice_])
        self._retrain(starts, extended.alive, self._writer())
        self._store = store

    def _writer(self) -> CheckpointStore:
        store = CheckpointStore(self.checkpoint_dir)
        store.run = self._run
        return store

    # -- persistence --------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the ensemble to ``path`` atomically, then delete checkpoints it no longer uses.

        Checkpoints replaced by an unlearning are kept until the model is saved again, so a
        file saved earlier stays loadable (with intact checkpoints) if the process dies before
        this save completes.
        """
        saved = super().save(path)
        self._saved = True
        self._drop_superseded()
        return saved

    def verify_checkpoints(self) -> None:
        """Check every slice checkpoint against its SHA-256.

        Raises
        ------
        CheckpointCorruptedError
            Naming the first checkpoint that is missing or altered.
        """
        self._require_fitted("verify its checkpoints")
        for shard in self._checkpoints:
            for ckpt in shard:
                ckpt.verify()

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if "_checkpoints" in state:
            self.verify_checkpoints()

    # -- aggregation --------------------------------------------------------------------------
    @property
    def estimators_(self) -> list[Any]:
        """The trained model of every shard (None for a shard with no samples left)."""
        self._require_fitted("list its shard models")
        return list(self._models)

    def _active(self) -> tuple[list[Any], np.ndarray]:
        self._require_fitted("predict")
        models = [m for m in self._models if m is not None]
        sizes = np.asarray(
            [s for m, s in zip(self._models, self.shard_sizes_, strict=True) if m is not None],
            dtype=np.float64,
        )
        weights = sizes / sizes.sum() if self.aggregation == "weighted" else None
        if weights is None:
            weights = np.full(len(models), 1.0 / len(models))
        return models, weights


@register_method("sisa_classifier", task="classification")
class SISAClassifier(ClassifierMixin, _SISABase):
    """SISA ensemble classifier: exact unlearning for any classifier by retraining one shard.

    The training samples are split into ``n_shards`` shards by a stable hash of
    ``(sample id, random_state)``; each shard trains its own copy of ``estimator``. Forgetting
    samples retrains only the shards that held them, so ``fit(all).unlearn(F)`` equals
    ``fit(all minus F)`` with the same ``random_state`` for deterministic base models. Models
    with ``partial_fit`` (and PyTorch models) train slice by slice with a checkpoint after each
    slice when ``n_slices > 1``; forgetting then resumes from the checkpoint before the
    earliest affected slice. Shards run in parallel on the ``backend``.

    Parameters
    ----------
    estimator : estimator or callable, default=LogisticRegression()
        A scikit-learn classifier, a :class:`~unlearnkit.exact.sisa.TorchClassifier`, or a
        PyTorch module factory ``f(n_features, n_classes) -> nn.Module`` (wrapped in a
        ``TorchClassifier`` with default training). A ``random_state=None`` parameter is set
        to a seed derived from ``random_state`` and the shard index.
    n_shards : int, default=5
        Number of shards (``S``); at most the number of training samples.
    n_slices : int, default=1
        Slices per shard (``R``); used by models with ``partial_fit``.
    aggregation : {"vote", "mean", "weighted"}, default="mean"
        ``vote``: majority of the shard labels; ``mean``: mean of the shard probabilities;
        ``weighted``: probabilities weighted by the number of samples each shard holds.
        Shards left without samples drop out.
    epochs : int, optional
        Passes over the data a monolithic model would make; each slice gets
        ``round(2 * epochs / (n_slices + 1))`` ``partial_fit`` passes over the slices up to it
        (the paper's schedule, so that slicing costs about as much as one fit). Default: the
        ``TorchTraining.epochs`` of a PyTorch model, else 1.
    hot_shards : int, default=1
        With ``fit(..., deletion_probability=p)``: shards reserved for samples with
        ``p >= hot_threshold``.
    hot_threshold : float, default=0.5
        Deletion probability from which a sample counts as likely to be deleted.
    random_state : int, RandomState or None, default=0
        Fixes every sample's shard and slice and the shard models' seeds.
    backend : {"local", "ray"} or Backend, default="local"
        Where shards train (see :mod:`unlearnkit.backends`).
    n_jobs : int, optional
        Local processes (None: in this process) or CPUs of a local Ray.
    checkpoint_dir : str or path, optional
        Directory for slice checkpoints (SHA-256 checked when read); in memory when None.

    Attributes
    ----------
    classes_ : ndarray
    shard_sizes_ : ndarray of shape (n_shards,)
        Samples each shard holds.
    shard_fingerprints_ : tuple of str
        SHA-256 of each shard model ("" for an empty shard).
    estimators_ : list
        The shard models.

    Examples
    --------
    >>> import numpy as np
    >>> from unlearnkit.exact import SISAClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 4)); y = (X[:, 0] + X[:, 1] > 0).astype(int)
    >>> model = SISAClassifier(n_shards=4, random_state=0).fit(X, y)
    >>> result = model.unlearn([0, 1, 2])
    >>> retrained = SISAClassifier(n_shards=4, random_state=0).fit(
    ...     X[3:], y[3:], sample_ids=np.arange(3, 300))
    >>> bool(np.array_equal(model.predict_proba(X), retrained.predict_proba(X)))
    True
    >>> len(result.evidence["shards_retrained"]) <= 3
    True
    """

    check_data_kind = "classification"
    supported_requests: ClassVar[frozenset[RequestKind]] = frozenset({"items", "group", "classes"})
    _aggregations = frozenset({"vote", "mean", "weighted"})

    _default = LogisticRegression

    def predict_proba(self, X: Any) -> np.ndarray:
        """Aggregated class probabilities (vote shares for ``aggregation='vote'``)."""
        Xv = self._check_X(X)
        models, weights = self._active()
        out = np.zeros((len(Xv), len(self.classes_)))
        for model, weight in zip(models, weights, strict=True):
            if self.aggregation == "vote":
                column = np.searchsorted(self.classes_, model.predict(Xv))
                out[np.arange(len(Xv)), column] += weight
            else:
                columns = np.searchsorted(self.classes_, model.classes_)
                out[:, columns] += weight * model.predict_proba(Xv)
        return out

    def predict(self, X: Any) -> np.ndarray:
        """The class of highest aggregated probability (the first one on ties)."""
        proba = self.predict_proba(X)
        return np.asarray(self.classes_[np.argmax(proba, axis=1)])


@register_method("sisa_regressor", task="regression")
class SISARegressor(MultiOutputMixin, RegressorMixin, _SISABase):
    """SISA ensemble regressor: exact unlearning for any regressor by retraining one shard.

    As :class:`SISAClassifier`, with the shard predictions averaged (``aggregation="mean"``)
    or weighted by shard size (``"weighted"``). The default base model is ``Ridge()``.

    Examples
    --------
    >>> import numpy as np
    >>> from unlearnkit.exact import SISARegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3)); y = X @ [1.0, 2.0, -1.0]
    >>> model = SISARegressor(n_shards=4).fit(X, y)
    >>> model.unlearn([5, 6]).retrained_fraction <= 0.5
    True
    """

    check_data_kind = "regression"
    _aggregations = frozenset({"mean", "weighted"})

    _default = Ridge

    def predict(self, X: Any) -> np.ndarray:
        """Mean (or size-weighted mean) of the shard predictions."""
        Xv = self._check_X(X)
        models, weights = self._active()
        return np.asarray(
            sum(w * np.asarray(m.predict(Xv)) for m, w in zip(models, weights, strict=True))
        )
