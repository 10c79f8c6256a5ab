"""The ``Unlearner`` contract and the result every unlearning returns.

An unlearner is a scikit-learn estimator that also keeps its training rows by sample id and can
``unlearn`` them. Subclasses implement the family's mathematics in a handful of hooks
(``_forget_rows``, ``_add_rows``, ``_relabel_rows``, ``_forget_features``); this base class does
the rest: request resolution, validation, all-or-nothing application, timing, fingerprints and
the :class:`UnlearningResult`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, is_classifier
from sklearn.utils._param_validation import InvalidParameterError as _SkInvalidParameterError
from sklearn.utils._param_validation import validate_parameter_constraints
from sklearn.utils.validation import _check_sample_weight, validate_data

from unlearnkit._rows import RowStore, make_ids
from unlearnkit.data import Samples, evaluate_condition
from unlearnkit.errors import (
    DataValidationError,
    EmptiesClassError,
    InvalidParameterError,
    InvalidRequestError,
    NotFittedError,
    UnsupportedRequestError,
    preview,
)
from unlearnkit.guarantees import Guarantee
from unlearnkit.requests import ForgetRequest, RequestKind, as_request

__all__ = ["Change", "Unlearner", "UnlearningResult", "fingerprint"]


@dataclass(frozen=True)
class UnlearningResult:
    """What one ``unlearn`` call did, with the evidence for it.

    Attributes
    ----------
    request_id : str
        The id of the request that was carried out.
    removed_ids : tuple
        Sample ids the model no longer holds.
    guarantee : Guarantee
        What is promised about the model now (exact / certified / approximate).
    seconds : float
        Wall-clock time of the call: reading the request, the update and both
        fingerprints.
    retrained_fraction : float
        Share of the training work that was redone (1.0 is a full retrain).
    fingerprint_before, fingerprint_after : str
        SHA-256 of the model's learned state before and after.
    evidence : dict
        Method-specific facts (for example the number of rows downdated).
    method : str
        The unlearner class.
    kind : str
        The request kind.
    relabeled_ids : tuple
        Sample ids whose label was corrected (``relabel`` requests).
    removed_features : tuple
        Feature columns removed (``features`` requests).
    reason, subject : str or None
        Copied from the request.
    """

    request_id: str
    removed_ids: tuple[Hashable, ...]
    guarantee: Guarantee
    seconds: float
    retrained_fraction: float
    fingerprint_before: str
    fingerprint_after: str
    evidence: dict[str, Any] = field(default_factory=dict)
    method: str = ""
    kind: str = "items"
    relabeled_ids: tuple[Hashable, ...] = ()
    removed_features: tuple[Any, ...] = ()
    reason: str | None = None
    subject: str | None = None

    @property
    def changed(self) -> bool:
        """Whether the model's learned state changed."""
        return self.fingerprint_before != self.fingerprint_after

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["guarantee"] = self.guarantee.to_dict()
        out["guarantee_label"] = str(self.guarantee)
        for key in ("removed_ids", "relabeled_ids", "removed_features"):
            out[key] = list(out[key])
        return _jsonable(out)

    def to_json(self, path: str | Path | None = None, indent: int = 2) -> str:
        """Serialise as JSON; also write it to ``path`` when given."""
        text = json.dumps(self.to_dict(), indent=indent)
        if path is not None:
            Path(path).write_text(text + "\n")
        return text


@dataclass(frozen=True)
class Change:
    """What a family hook reports back to :meth:`Unlearner.unlearn`."""

    retrained_fraction: float
    evidence: dict[str, Any] = field(default_factory=dict)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    return value


#: Types digested by their ``repr`` without the checks for containers and arrays.
_PLAIN = frozenset({int, float, str, bool, type(None)})


@functools.lru_cache(maxsize=1024)
def _array_header(dtype: np.dtype, shape: tuple[int, ...]) -> bytes:
    return f"nd{dtype.str}{shape}".encode()


def _digest_into(h: Any, value: Any) -> None:
    if type(value) in _PLAIN:
        h.update(repr(value).encode())
    elif isinstance(value, np.ndarray):
        arr = np.ascontiguousarray(value)
        h.update(_array_header(arr.dtype, arr.shape))
        if arr.dtype == object:
            h.update(repr(arr.tolist()).encode())
        else:
            h.update(arr.tobytes())
    elif isinstance(value, (dict, Mapping)):
        h.update(b"{")
        for k in sorted(value, key=repr):
            h.update(repr(k).encode())
            _digest_into(h, value[k])
        h.update(b"}")
    elif isinstance(value, (list, tuple)):
        h.update(b"[")
        for v in value:
            _digest_into(h, v)
        h.update(b"]")
    else:
        h.update(repr(value).encode())


def fingerprint(state: Mapping[str, Any]) -> str:
    """SHA-256 of a mapping of arrays and scalars (stable across processes)."""
    h = hashlib.sha256()
    _digest_into(h, state)
    return h.hexdigest()


class Unlearner(BaseEstimator):
    """Base class of every unlearner: a scikit-learn estimator that can forget by sample id.

    Subclasses set :attr:`guarantee` and :attr:`supported_requests`, write ``fit`` (calling
    :meth:`_start_fit`) and the hooks of the request kinds they support.

    ``unlearn`` is all-or-nothing: if anything goes wrong, the model is exactly as it was.
    """

    guarantee: ClassVar[Guarantee] = Guarantee.exact()
    supported_requests: ClassVar[frozenset[RequestKind]] = frozenset({"items", "group"})
    #: Which synthetic data :mod:`unlearnkit.checks` should fit this family on.
    check_data_kind: ClassVar[str] = "regression"
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {}
    #: False for families whose scikit-learn counterpart takes no sample weights.
    accepts_sample_weight: ClassVar[bool] = True

    _store: RowStore
    _label_counts: dict[Hashable, int]

    # -- public contract ------------------------------------------------------------------
    def unlearn(
        self, request: ForgetRequest | Iterable[Any], *, data: Samples | None = None
    ) -> UnlearningResult:
        """Forget what ``request`` names and return what was done.

        Parameters
        ----------
        request : ForgetRequest or list of sample ids
            A plain list is an ``items`` request.
        data : Samples, optional
            The training samples, used to resolve ``group`` requests on columns the model does
            not have (subjects, group columns). Without it, group conditions are evaluated on
            the model's own training table (features and ``y``).

        Raises
        ------
        UnlearnError
            A typed subclass naming what is wrong; the model is left unchanged.
        """
        self._require_fitted("unlearn")
        start = time.perf_counter()
        req = as_request(request)
        if req.kind not in self.supported_requests:
            raise UnsupportedRequestError(self, req.kind, self.supported_requests)
        before = self.fingerprint()
        snapshot = dict(self.__dict__)
        try:
            removed, relabeled, features, change = self._apply(req, data)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(snapshot)
            raise
        after = self.fingerprint()
        seconds = time.perf_counter() - start
        return UnlearningResult(
            request_id=req.request_id,
            removed_ids=removed,
            guarantee=self.guarantee,
            seconds=seconds,
            retrained_fraction=float(change.retrained_fraction),
            fingerprint_before=before,
            fingerprint_after=after,
            evidence=change.evidence,
            method=type(self).__name__,
            kind=req.kind,
            relabeled_ids=relabeled,
            removed_features=features,
            reason=req.reason.value,
            subject=req.subject,
        )

    def partial_fit(
        self,
        X: Any,
        y: Any = None,
        classes: Any = None,
        *,
        sample_ids: Any = None,
        sample_weight: Any = None,
    ) -> Self:
        """Add samples without retraining; the first call is :meth:`fit`.

        Parameters
        ----------
        X, y, sample_ids, sample_weight
            As in ``fit``. New ids must not have been used before; when omitted, integer ids
            continue after the largest one in use.
        classes : array-like, optional
            Classifiers only, accepted as in scikit-learn. The model's classes are those with
            training rows, so ``classes`` must name exactly the labels of ``y`` on the first
            call and exactly ``classes_`` afterwards.
        """
        if classes is not None:
            self._check_partial_fit_classes(classes, y)
        if not self._is_fitted():
            weights = {} if sample_weight is None else {"sample_weight": sample_weight}
            return self.fit(X, y, sample_ids=sample_ids, **weights)
        Xv, yv = self._check_rows(X, y, reset=False)
        if sample_ids is None:
            if self._store.ids.dtype == object:
                raise DataValidationError(
                    "This model uses string sample ids; pass sample_ids for the new rows."
                )
            first = int(self._store.ids.max()) + 1
            ids = np.arange(first, first + len(Xv), dtype=np.int64)
        else:
            ids = make_ids(sample_ids, len(Xv))
            if ids.dtype != self._store.ids.dtype:
                raise DataValidationError(
                    "New sample_ids must have the same type (integer or string) as the ids "
                    "used in fit."
                )
        self._store.check_new_ids(ids)
        w = self._check_weights(sample_weight, Xv)
        if yv is not None and is_classifier(self):
            unseen = sorted({v for v in yv.tolist() if v not in self._label_counts}, key=repr)
            if unseen:
                raise DataValidationError(
                    f"Labels {preview(unseen)} were not seen in fit; "
                    "refit the model to add a class."
                )
        snapshot = dict(self.__dict__)
        try:
            self._add_rows(Xv, yv, w, ids)
            if yv is not None and is_classifier(self):
                self._label_counts = _add_counts(self._label_counts, yv, +1)
            self._store.append(Xv, yv, w, ids)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(snapshot)
            raise
        return self

    def _check_partial_fit_classes(self, classes: Any, y: Any) -> None:
        if not is_classifier(self):
            raise DataValidationError(
                f"{type(self).__name__} is not a classifier; call partial_fit without classes."
            )
        wanted = np.unique(np.asarray(classes))
        if self._is_fitted():
            have, where = np.asarray(self.classes_), "the model's classes_"
        else:
            have = np.unique(np.asarray(y))
            where = "the labels of y (every class needs a training row)"
        if len(wanted) != len(have) or not np.all(wanted == have):
            raise DataValidationError(
                f"classes={preview(wanted.tolist(), 12)} differs from {where}, "
                f"{preview(have.tolist(), 12)}. Pass classes=None or the same labels; to add a "
                "class, refit the model."
            )

    @property
    def sample_ids_(self) -> np.ndarray:
        """Ids of the samples the model currently holds, in training order."""
        self._require_fitted("list its sample ids")
        return self._store.ids[self._store.alive]

    @property
    def forgotten_ids_(self) -> frozenset[Hashable]:
        """Ids removed by earlier requests."""
        self._require_fitted("list forgotten ids")
        return frozenset(self._store.forgotten)

    @property
    def n_samples_(self) -> int:
        """Number of samples the model currently holds."""
        self._require_fitted("count its samples")
        return self._store.n_alive

    def fingerprint(self) -> str:
        """SHA-256 of the learned state (the public attributes ending in ``_``)."""
        return fingerprint(self._learned_state())

    def save(self, path: str | Path) -> Path:
        """Write the model, training rows included, to ``path`` (atomically, versioned)."""
        from unlearnkit.persistence import save

        return save(self, path)

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """Read a model written by :meth:`save`; raises if it is of another class or version."""
        from unlearnkit.persistence import load

        return load(path, expected=cls)

    # -- helpers for subclasses ----------------------------------------------------------
    def _validate_params(self) -> None:
        try:
            validate_parameter_constraints(
                self._parameter_constraints,
                self.get_params(deep=False),
                caller_name=type(self).__name__,
            )
        except _SkInvalidParameterError as exc:
            raise InvalidParameterError(str(exc)) from None

    def _check_rows(self, X: Any, y: Any, *, reset: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """Validate training rows (finite, 2-D, matching the fitted columns)."""
        needs_y = self.check_data_kind != "clustering"
        if needs_y and y is None:
            raise DataValidationError(
                f"{type(self).__name__} requires y to be passed, but the target y is None: "
                "pass y with one target per row."
            )
        try:
            if needs_y:
                Xv, yv = validate_data(
                    self,
                    X,
                    y,
                    reset=reset,
                    dtype=np.float64,
                    multi_output=not is_classifier(self),
                    y_numeric=not is_classifier(self),
                )
            else:
                Xv, yv = validate_data(self, X, reset=reset, dtype=np.float64), None
        except ValueError as exc:
            raise DataValidationError(f"{exc} Fix the input and call again.") from None
        if yv is not None and is_classifier(self):
            yv = np.asarray(yv)
            if yv.ndim != 1:
                raise DataValidationError(
                    f"y must be 1-dimensional class labels, got shape {yv.shape}."
                )
        return Xv, yv

    def _check_X(self, X: Any) -> np.ndarray:
        """Validate prediction input against the fitted columns."""
        self._require_fitted("predict")
        try:
            return np.asarray(validate_data(self, X, reset=False, dtype=np.float64))
        except ValueError as exc:
            raise DataValidationError(f"{exc} Pass rows with the columns seen in fit.") from None

    def _check_weights(self, sample_weight: Any, X: np.ndarray) -> np.ndarray | None:
        if sample_weight is None:
            return None
        if not self.accepts_sample_weight:
            raise DataValidationError(
                f"{type(self).__name__} does not use sample_weight; call it without sample_weight."
            )
        try:
            w = _check_sample_weight(sample_weight, X, dtype=np.float64)
        except ValueError as exc:
            raise DataValidationError(f"sample_weight: {exc}") from None
        if np.any(w < 0):
            raise DataValidationError("sample_weight must be non-negative.")
        return np.asarray(w)

    def _start_fit(
        self, X: Any, y: Any, sample_ids: Any, sample_weight: Any
    ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """Validate parameters and data, reset fitted state and store the training rows.

        Invalid parameters or data raise before anything changes: a fitted model that is
        refitted on bad input stays the model it was.
        """
        self._validate_params()
        snapshot = dict(self.__dict__)
        for key in [k for k in self.__dict__ if k.endswith("_") and not k.startswith("__")]:
            del self.__dict__[key]
        try:
            Xv, yv = self._check_rows(X, y, reset=True)
            ids = make_ids(sample_ids, len(Xv))
            w = self._check_weights(sample_weight, Xv)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(snapshot)
            raise
        self._store = RowStore(Xv, yv, w, ids)
        if yv is not None and is_classifier(self):
            self._label_counts = _add_counts({}, yv, +1)
        return Xv, yv, w

    def _is_fitted(self) -> bool:
        return "_store" in self.__dict__

    def _require_fitted(self, action: str) -> None:
        if not self._is_fitted():
            raise NotFittedError(self, action)

    def __sklearn_is_fitted__(self) -> bool:
        return self._is_fitted()

    def _learned_state(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k.endswith("_") and not k.startswith("_")}

    def _feature_positions(self, columns: Iterable[Any]) -> np.ndarray:
        names = list(getattr(self, "feature_names_in_", []))
        n = int(self.n_features_in_)
        positions = []
        for c in columns:
            if names and c in names:
                positions.append(names.index(c))
            elif isinstance(c, (int, np.integer)) and not isinstance(c, bool) and 0 <= c < n:
                positions.append(int(c))
            else:
                known = names or list(range(n))
                raise InvalidRequestError(
                    f"Feature {c!r} is not a column of this model; its columns are "
                    f"{preview(known, 12)}."
                )
        if len(positions) >= n:
            raise InvalidRequestError(
                "This request removes every feature; a model needs at least one input column."
            )
        return np.asarray(positions, dtype=np.intp)

    def _drop_feature_metadata(self, cols: np.ndarray) -> None:
        """Update ``n_features_in_`` / ``feature_names_in_`` after dropping ``cols``."""
        state = self.__dict__
        state["n_features_in_"] = int(state["n_features_in_"]) - len(cols)
        if "feature_names_in_" in state:
            state["feature_names_in_"] = np.delete(state["feature_names_in_"], cols)

    # -- request application ---------------------------------------------------------------
    def _apply(
        self, req: ForgetRequest, data: Samples | None
    ) -> tuple[tuple[Hashable, ...], tuple[Hashable, ...], tuple[Any, ...], Change]:
        store = self._store
        if req.kind == "features":
            cols = self._feature_positions(req.columns)
            change = self._forget_features(cols)
            self._drop_feature_metadata(cols)
            store.X = np.delete(store.X, cols, axis=1)
            return (), (), req.columns, change
        if req.kind == "relabel":
            rows = store.locate(req.ids)
            new_y = self._check_new_labels(req.new_labels, req.ids)
            if is_classifier(self):
                assert store.y is not None
                counts = _add_counts(_add_counts(self._label_counts, store.y[rows], -1), new_y, +1)
                emptied = [lab for lab, c in counts.items() if c == 0]
                if emptied:
                    raise EmptiesClassError(emptied)
            change = self._relabel_rows(rows, new_y)
            store.set_labels(rows, new_y)
            if is_classifier(self):
                self._label_counts = counts
            return (), req.ids, (), change
        if req.kind == "classes":
            rows = self._rows_of_classes(req.labels)
        elif req.kind == "group":
            if data is not None:
                ids = data.resolve(req)
            else:
                source = _TrainingColumns(self)
                ids = tuple(source.ids[evaluate_condition(req.where, source)].tolist())
            if not ids:
                raise InvalidRequestError(
                    "The group condition matches no sample the model holds; nothing to forget."
                )
            rows = store.locate(ids)
        else:
            rows = store.locate(req.ids)
        if len(rows) >= store.n_alive:
            raise InvalidRequestError(
                f"This request would remove all {store.n_alive} samples the model holds. "
                "Delete the model instead of unlearning everything."
            )
        if is_classifier(self):
            assert store.y is not None
            counts = _add_counts(self._label_counts, store.y[rows], -1)
            emptied = [lab for lab, c in counts.items() if c == 0]
            if emptied and req.kind != "classes":
                raise EmptiesClassError(emptied)
            if len(counts) - len(emptied) < 1:
                raise InvalidRequestError("This request would leave the model with no class.")
            change = self._forget_rows(rows)
            self._label_counts = {k: v for k, v in counts.items() if v > 0}
        else:
            change = self._forget_rows(rows)
        removed = tuple(store.ids[rows].tolist())
        store.remove(rows)
        return removed, (), (), change

    def _rows_of_classes(self, labels: Iterable[Any]) -> np.ndarray:
        unknown = [lab for lab in labels if lab not in self._label_counts]
        if unknown:
            raise InvalidRequestError(
                f"Class labels {preview(unknown)} are not classes of this model; its classes are "
                f"{preview(sorted(self._label_counts, key=repr), 12)}."
            )
        rows = self._store.retained()
        assert self._store.y is not None
        return rows[np.isin(self._store.y[rows], np.asarray(list(labels)))]

    def _check_new_labels(
        self, new_labels: Mapping[Hashable, Any], ids: Iterable[Any]
    ) -> np.ndarray:
        values = [new_labels[i] for i in ids]
        if is_classifier(self):
            unknown = sorted({v for v in values if v not in self._label_counts}, key=repr)
            if unknown:
                raise InvalidRequestError(
                    f"New labels {preview(unknown)} are not classes of this model (classes: "
                    f"{preview(sorted(self._label_counts, key=repr), 12)}); "
                    "relabel to a known class."
                )
            return np.asarray(values)
        try:
            out = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            raise InvalidRequestError(
                f"New targets {preview(values)} are not numbers; a regressor needs numeric targets."
            ) from None
        if not np.all(np.isfinite(out)):
            raise InvalidRequestError("New targets must be finite numbers.")
        assert self._store.y is not None
        if self._store.y.ndim == 2:
            out = out.reshape(len(values), -1)
            if out.shape[1] != self._store.y.shape[1]:
                raise InvalidRequestError(
                    f"Each new target needs {self._store.y.shape[1]} values (one per output)."
                )
        return out

    # -- family hooks ------------------------------------------------------------------------
    def _forget_rows(self, rows: np.ndarray) -> Change:
        """Remove training rows ``rows`` from the learned state (rebinding, never in place)."""
        raise UnsupportedRequestError(self, "items", self.supported_requests)

    def _relabel_rows(self, rows: np.ndarray, new_y: np.ndarray) -> Change:
        """Replace the targets of ``rows``; default: remove, then add back with new targets."""
        store = self._store
        w = None if store.weights is None else store.weights[rows]
        removed = self._forget_rows(rows)
        self._add_rows(store.X[rows], new_y, w, store.ids[rows])
        return Change(2 * removed.retrained_fraction, {"relabeled": len(rows)})

    def _add_rows(
        self, X: np.ndarray, y: np.ndarray | None, w: np.ndarray | None, ids: np.ndarray
    ) -> None:
        """Add rows (with their validated new sample ids) to the learned state."""
        raise UnsupportedRequestError(self, "partial_fit", self.supported_requests)

    def _forget_features(self, cols: np.ndarray) -> Change:
        """Remove input columns ``cols``; the model becomes one trained without them."""
        raise UnsupportedRequestError(self, "features", self.supported_requests)


class _TrainingColumns:
    """The retained training rows of an unlearner as a :class:`~unlearnkit.data.ConditionSource`.

    Columns are the features (by name, or ``x0, x1, ...``) and ``y``.
    """

    def __init__(self, model: Unlearner) -> None:
        store = model._store
        self.rows = store.retained()
        self.ids = store.ids[self.rows]
        self._X = store.X
        self._y = store.y if store.y is not None and store.y.ndim == 1 else None
        names = getattr(model, "feature_names_in_", None)
        self._names = (
            [str(c) for c in names]
            if names is not None
            else [f"x{j}" for j in range(store.X.shape[1])]
        )

    def column(self, name: str) -> np.ndarray | None:
        if name == "y" and self._y is not None:
            return np.asarray(self._y[self.rows])
        if name in self._names:
            return np.asarray(self._X[self.rows, self._names.index(name)])
        return None

    def column_names(self) -> list[str]:
        return self._names + (["y"] if self._y is not None else [])

    def table(self) -> pd.DataFrame:
        frame = pd.DataFrame(self._X[self.rows], columns=self._names)
        if self._y is not None:
            frame["y"] = self._y[self.rows]
        frame.index = pd.Index(self.ids, name="id")
        return frame


def _add_counts(
    counts: Mapping[Hashable, int], labels: np.ndarray, sign: int
) -> dict[Hashable, int]:
    out = dict(counts)
    for lab, c in Counter(np.asarray(labels).tolist()).items():
        out[lab] = out.get(lab, 0) + sign * c
    return out
