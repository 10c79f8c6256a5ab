"""Exact unlearning for naive Bayes classifiers by per-class sufficient statistics.

Naive Bayes learns from sums: per class, the (weighted) number of rows and, per feature, the
weighted sum of the values (and, for the Gaussian model, of their squares, taken around a fixed
shift point for numerical stability). Forgetting ``k`` rows subtracts their contribution, which
is ``O(k d)`` work, and recomputes the derived attributes in ``O(classes x d)``; nothing depends
on the number of rows kept. After ``unlearn`` every fitted attribute equals that of the
scikit-learn estimator (:class:`~sklearn.naive_bayes.GaussianNB`,
:class:`~sklearn.naive_bayes.MultinomialNB`, :class:`~sklearn.naive_bayes.BernoulliNB`,
:class:`~sklearn.naive_bayes.CategoricalNB`) fitted on the retained rows with the same
``sample_weight``, to floating-point precision.

Running sums lose digits when most of their mass is subtracted again (forgetting nearly all of a
class, or far outliers). Each sum carries a bound on its rounding error (a multiple of machine
epsilon times the total magnitude ever added or removed); when the bound could reach ``1e-10``
of the value, the statistics of the classes concerned are recomputed from their retained rows.
Statistics whose every contributing term is gone are set to exactly zero. So precision never
drifts, however many requests arrive; ``result.evidence`` reports any such recomputation.
"""

from __future__ import annotations

import warnings
from abc import ABCMeta, abstractmethod
from collections.abc import Callable
from numbers import Integral, Real
from typing import Any, ClassVar, Self

import numpy as np
from scipy.special import logsumexp
from sklearn.base import ClassifierMixin
from sklearn.utils._param_validation import Interval
from sklearn.utils.multiclass import check_classification_targets

from unlearnkit.base import Change, Unlearner
from unlearnkit.errors import DataValidationError, InvalidParameterError, InvalidRequestError
from unlearnkit.errors import preview as _preview
from unlearnkit.registry import register_method
from unlearnkit.requests import RequestKind

__all__ = [
    "BernoulliNBUnlearner",
    "CategoricalNBUnlearner",
    "GaussianNBUnlearner",
    "MultinomialNBUnlearner",
]

_EPS = float(np.finfo(np.float64).eps)
#: A running sum's rounding error is bounded by ``_ROUND * eps * (sum of |terms| ever applied)``.
_ROUND = 16.0
#: Largest relative rounding error a statistic may carry before it is recomputed from the rows.
_TOL = 1e-10
#: Sums of integers below this are exact in float64.
_EXACT_INT = 2.0**53
#: scikit-learn's lower bound on ``alpha`` when ``force_alpha=False``.
_ALPHA_LOWER_BOUND = 1e-10

_Data = tuple[np.ndarray, np.ndarray, np.ndarray]  # X, class index, weights


def _integral(a: np.ndarray) -> bool:
    return bool(np.all(a == np.trunc(a)))


def _first_where(mask: np.ndarray) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argwhere(mask)[0])


def _where_rows(mask: np.ndarray, new: np.ndarray, old: np.ndarray) -> np.ndarray:
    """``new`` on the classes (axis 0) selected by ``mask``, ``old`` elsewhere."""
    shape = (len(mask),) + (1,) * (old.ndim - 1)
    return np.where(mask.reshape(shape), new, old)


class _NaiveBayesUnlearner(ClassifierMixin, Unlearner, metaclass=ABCMeta):
    """Shared machinery: per-class running sums, their error bounds, and the request hooks.

    A family defines the per-class statistics of a batch of rows (``_class_delta``), optional
    class-independent statistics (``_global_delta``), which statistics carry an error bound
    (``_guarded``), which have no feature axis (``_no_feature_axis``), which sums are snapped
    to zero when no contributing term is left (``_support``), and ``_derive``, which sets the
    public attributes from the statistics.
    """

    supported_requests: ClassVar[frozenset[RequestKind]] = frozenset(
        {"items", "group", "classes", "features", "relabel"}
    )
    _guarded: ClassVar[tuple[str, ...]] = ()
    _no_feature_axis: ClassVar[frozenset[str]] = frozenset()
    _support: ClassVar[dict[str, str]] = {}

    classes_: np.ndarray
    _stats: dict[str, np.ndarray]
    _mags: dict[str, np.ndarray]
    _globals: dict[str, np.ndarray]
    _nrows: np.ndarray
    _exact_weights: bool

    # -- public API -----------------------------------------------------------------------
    def fit(self, X: Any, y: Any, *, sample_ids: Any = None, sample_weight: Any = None) -> Self:
        """Fit on ``X, y``; rows are addressed by ``sample_ids`` (``0..n-1`` by default).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Class labels.
        sample_ids : array-like of shape (n_samples,), optional
            Unique integer or string ids, the handle for forgetting.
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weights, used as scikit-learn's naive Bayes estimators use them.

        Returns
        -------
        self
        """
        Xv, yv, w = self._start_fit(X, y, sample_ids, sample_weight)
        assert yv is not None
        try:
            self.classes_ = np.unique(yv)
            self._setup(Xv)
            weights = np.ones(len(Xv)) if w is None else w
            k = self._class_index(yv)
            self._exact_weights = _integral(weights)
            self._prepare(Xv, k, weights)
            delta = self._class_delta(Xv, k, weights)
            self._stats = {**self._stats, **self._sums_only(delta)}
            self._mags = {key: self._mag_of(delta, key) for key in self._guarded}
            self._nrows = np.bincount(k, minlength=len(self.classes_)).astype(np.int64)
            self._globals = self._global_delta(Xv, None)
            self._derive_quietly()
        except BaseException:
            for name in [a for a in self.__dict__ if a.endswith("_") or a == "_store"]:
                del self.__dict__[name]
            raise
        return self

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row of ``X``."""
        jll = self._joint_log_likelihood(self._check_X(X))
        return np.asarray(self.classes_[np.argmax(jll, axis=1)])

    def predict_joint_log_proba(self, X: Any) -> np.ndarray:
        """Joint log-probabilities ``log P(x, c)`` of each row and class (unnormalised)."""
        return self._joint_log_likelihood(self._check_X(X))

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Log-probability of each class, columns in the order of ``classes_``."""
        jll = self._joint_log_likelihood(self._check_X(X))
        return np.asarray(jll - np.atleast_2d(logsumexp(jll, axis=1)).T)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probability of each class, columns in the order of ``classes_``."""
        return np.exp(self.predict_log_proba(X))

    # -- family hooks (overridden) --------------------------------------------------------
    def _setup(self, X: np.ndarray) -> None:
        """Validate parameters against the data and cache their effective values."""

    def _prepare(self, X: np.ndarray, k: np.ndarray, w: np.ndarray) -> None:
        """Set the non-sum parts of the statistics (shift points, widths) before counting."""
        self._stats = {}

    @abstractmethod
    def _class_delta(self, X: np.ndarray, k: np.ndarray, w: np.ndarray) -> dict[str, np.ndarray]:
        """Per-class sums of the rows ``X`` with class indices ``k`` and weights ``w``."""

    def _global_delta(self, X: np.ndarray, base: dict[str, np.ndarray] | None) -> dict[str, Any]:
        """Class-independent statistics after adding ``X`` to ``base`` (fresh when None)."""
        return {}

    def _remove_global(self, X: np.ndarray) -> dict[str, Any]:
        return {}

    @abstractmethod
    def _derive(self) -> None:
        """Set the public fitted attributes from the statistics."""

    @abstractmethod
    def _joint_log_likelihood(self, X: np.ndarray) -> np.ndarray:
        """Unnormalised log posterior of each row of validated ``X`` for each class."""

    def _derive_quietly(self) -> None:
        # log(0) = -inf is the intended result for a zero count with alpha=0 or a zero prior
        with np.errstate(divide="ignore"):
            self._derive()

    def _stale_classes(self) -> np.ndarray:
        """Classes whose statistics may carry more rounding error than ``_TOL`` allows."""
        return np.zeros(len(self.classes_), dtype=bool)

    def _stale_globals(self) -> bool:
        return False

    def _refresh_globals(self, X: np.ndarray) -> None:
        """Recompute the class-independent statistics from the retained rows ``X``."""

    def _check_can_drop_classes(self) -> None:
        """Raise if a parameter ties the model to its current set of classes."""

    def _check_can_drop_features(self) -> None:
        """Raise if a parameter ties the model to its current set of features."""

    # -- statistics -------------------------------------------------------------------------
    def _class_index(self, labels: np.ndarray) -> np.ndarray:
        return np.asarray(np.searchsorted(self.classes_, labels), dtype=np.intp)

    def _sums_only(self, delta: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {k: v for k, v in delta.items() if not k.startswith("mag_")}

    @staticmethod
    def _mag_of(delta: dict[str, np.ndarray], key: str) -> np.ndarray:
        return delta.get(f"mag_{key}", delta[key])

    def _add_delta(self, delta: dict[str, np.ndarray], sign: float) -> None:
        """Add (``sign=+1``) or subtract (``-1``) per-class sums; rebinds, never in place."""
        stats = dict(self._stats)
        for key, value in self._sums_only(delta).items():
            stats[key] = stats[key] + sign * value
        for key, support in self._support.items():
            stats[key] = np.where(stats[support] == 0, 0.0, stats[key])
        self._stats = stats
        self._mags = {key: self._mags[key] + self._mag_of(delta, key) for key in self._guarded}

    def _rows_data(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        store = self._store
        assert store.y is not None
        w = np.ones(len(rows)) if store.weights is None else store.weights[rows]
        return store.X[rows], store.y[rows], w

    def _retained(
        self,
        exclude: np.ndarray | None = None,
        relabel: tuple[np.ndarray, np.ndarray] | None = None,
        extra: _Data | None = None,
        keep: np.ndarray | None = None,
    ) -> _Data:
        """The rows the model holds after the change being applied (for recomputation)."""
        store = self._store
        assert store.y is not None
        alive = store.retained(exclude)
        X = store.X[alive]
        k = self._class_index(store.y[alive])
        w = np.ones(len(alive)) if store.weights is None else store.weights[alive]
        if relabel is not None:
            rows, new_k = relabel
            k = k.copy()
            k[np.searchsorted(alive, rows)] = new_k
        if keep is not None:
            X = X[:, keep]
        if extra is not None:
            X = np.concatenate([X, extra[0]])
            k = np.concatenate([k, extra[1]])
            w = np.concatenate([w, extra[2]])
        return X, k, w

    def _settle(self, data: Callable[[], _Data]) -> dict[str, Any]:
        """Recompute any statistic whose error bound became too loose, then derive."""
        cache: list[_Data] = []

        def get() -> _Data:
            if not cache:
                cache.append(data())
            return cache[0]

        info: dict[str, Any] = {"rows_recomputed": 0}
        if self._stale_globals():
            X, _, _ = get()
            self._refresh_globals(X)
            info["rows_recomputed"] = len(X)
            info["global_statistics_recomputed"] = True
        stale = self._stale_classes()
        if stale.any():
            X, k, w = get()
            sel = stale[k]
            self._refresh_classes(stale, X[sel], k[sel], w[sel])
            info["rows_recomputed"] = max(info["rows_recomputed"], int(sel.sum()))
            info["classes_recomputed"] = self.classes_[stale].tolist()
        self._derive_quietly()
        return info

    def _refresh_classes(
        self, stale: np.ndarray, X: np.ndarray, k: np.ndarray, w: np.ndarray
    ) -> None:
        fresh = self._class_delta(X, k, w)
        stats = dict(self._stats)
        for key, value in self._sums_only(fresh).items():
            stats[key] = _where_rows(stale, value, stats[key])
        self._stats = stats
        self._mags = {
            key: _where_rows(stale, self._mag_of(fresh, key), self._mags[key])
            for key in self._guarded
        }

    def _drop_classes(self, gone: np.ndarray) -> None:
        self.classes_ = np.delete(self.classes_, gone)
        self._stats = {k: np.delete(v, gone, axis=0) for k, v in self._stats.items()}
        self._mags = {k: np.delete(v, gone, axis=0) for k, v in self._mags.items()}
        self._nrows = np.delete(self._nrows, gone)

    def _work(self, touched: int, info: dict[str, Any]) -> float:
        """Share of a full fit's row work redone (derived attributes count as one row each)."""
        n = self._store.n_alive
        c = len(self.classes_)
        return min(1.0, (touched + info["rows_recomputed"] + c) / (n + c))

    # -- request hooks ------------------------------------------------------------------------
    def _forget_rows(self, rows: np.ndarray) -> Change:
        X, y, w = self._rows_data(rows)
        k = self._class_index(y)
        self._add_delta(self._class_delta(X, k, w), -1.0)
        self._globals = self._remove_global(X)
        nrows = self._nrows - np.bincount(k, minlength=len(self.classes_))
        self._nrows = nrows
        gone = np.flatnonzero(nrows == 0)
        evidence: dict[str, Any] = {"rows_downdated": len(rows)}
        if len(gone):
            self._check_can_drop_classes()
            evidence["classes_removed"] = self.classes_[gone].tolist()
            self._drop_classes(gone)
        info = self._settle(lambda: self._retained(exclude=rows))
        return Change(self._work(len(rows), info), {**evidence, **info})

    def _add_rows(
        self, X: np.ndarray, y: np.ndarray | None, w: np.ndarray | None, ids: np.ndarray
    ) -> None:
        assert y is not None
        weights = np.ones(len(X)) if w is None else w
        self._exact_weights = self._exact_weights and _integral(weights)
        self._grow(X)
        k = self._class_index(y)
        self._add_delta(self._class_delta(X, k, weights), +1.0)
        self._globals = self._global_delta(X, self._globals)
        self._nrows = self._nrows + np.bincount(k, minlength=len(self.classes_))
        self._settle(lambda: self._retained(extra=(X, k, weights)))

    def _grow(self, X: np.ndarray) -> None:
        """Make room for values not seen before (categorical codes)."""

    def _relabel_rows(self, rows: np.ndarray, new_y: np.ndarray) -> Change:
        X, y, w = self._rows_data(rows)
        k_old, k_new = self._class_index(y), self._class_index(new_y)
        self._add_delta(self._class_delta(X, k_old, w), -1.0)
        self._add_delta(self._class_delta(X, k_new, w), +1.0)
        c = len(self.classes_)
        self._nrows = (
            self._nrows - np.bincount(k_old, minlength=c) + np.bincount(k_new, minlength=c)
        )
        info = self._settle(lambda: self._retained(relabel=(rows, k_new)))
        return Change(self._work(2 * len(rows), info), {"rows_relabeled": len(rows), **info})

    def _forget_features(self, cols: np.ndarray) -> Change:
        self._check_can_drop_features()
        d = int(self.n_features_in_)
        keep = np.setdiff1d(np.arange(d), cols)

        def cut(key: str, value: np.ndarray) -> np.ndarray:
            return value if key in self._no_feature_axis else value[:, keep]

        self._stats = {k: cut(k, v) for k, v in self._stats.items()}
        self._mags = {k: cut(k, v) for k, v in self._mags.items()}
        self._globals = {k: v[keep] if np.ndim(v) else v for k, v in self._globals.items()}
        info = self._settle(lambda: self._retained(keep=keep))
        return Change(self._work(0, info), {"features_removed": len(cols), **info})

    # -- input checks -------------------------------------------------------------------------
    def _check_rows(self, X: Any, y: Any, *, reset: bool) -> tuple[np.ndarray, np.ndarray | None]:
        Xv, yv = super()._check_rows(X, y, reset=reset)
        if yv is not None:
            try:
                check_classification_targets(yv)
            except ValueError as exc:
                raise DataValidationError(
                    f"{exc}. {type(self).__name__} is a classifier: pass discrete class labels "
                    "as y (use a regressor for continuous targets)."
                ) from None
        self._check_values(Xv, "X")
        return Xv, yv

    def _check_values(self, X: np.ndarray, where: str) -> None:
        """Family-specific checks on the values of training rows."""

    def _negative_error(self, X: np.ndarray, where: str, what: str) -> DataValidationError:
        i, j = _first_where(X < 0)
        return DataValidationError(
            f"Negative values in data passed to {type(self).__name__} ({where}[{i}, {j}] = "
            f"{X[i, j]:g}). {what}"
        )


# ---------------------------------------------------------------------------------------------
@register_method("gaussian_nb", task="classification")
class GaussianNBUnlearner(_NaiveBayesUnlearner):
    """Gaussian naive Bayes with exact removal of training rows in ``O(k d)``.

    Keeps, per class, the weighted count, sum and sum of squares of every feature (around the
    class's fit-time mean), and the unweighted sums of all rows for ``epsilon_``. After
    ``unlearn`` every fitted attribute equals :class:`sklearn.naive_bayes.GaussianNB` fitted on
    the retained rows. Supports ``items``, ``group``, ``classes``, ``features`` and ``relabel``
    requests and ``partial_fit``.

    Parameters
    ----------
    priors : array-like of shape (n_classes,), default=None
        Prior probabilities of the classes (in the order of ``classes_``); when None they are
        the (weighted) class frequencies. Fixed priors rule out ``classes`` requests, which
        would change the number of classes.
    var_smoothing : float, default=1e-9
        Share of the largest feature variance (over all rows) added to every variance.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    class_count_ : ndarray of shape (n_classes,)
        Weighted number of training rows per class.
    class_prior_ : ndarray of shape (n_classes,)
    theta_ : ndarray of shape (n_classes, n_features)
        Per-class mean of each feature.
    var_ : ndarray of shape (n_classes, n_features)
        Per-class variance of each feature, plus ``epsilon_``.
    epsilon_ : float
        ``var_smoothing`` times the largest variance of a feature over all retained rows.
    n_features_in_ : int
    feature_names_in_ : ndarray of str, present when fitted on a DataFrame

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.naive_bayes import GaussianNB
    >>> from unlearnkit.exact import GaussianNBUnlearner
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(200, 3)), rng.integers(0, 2, size=200)
    >>> model = GaussianNBUnlearner().fit(X, y)
    >>> str(model.unlearn([0, 1, 2]).guarantee)
    'exact'
    >>> reference = GaussianNB().fit(X[3:], y[3:])
    >>> np.allclose(model.var_, reference.var_), np.allclose(model.theta_, reference.theta_)
    (True, True)
    """

    check_data_kind = "classification"
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "priors": ["array-like", None],
        "var_smoothing": [Interval(Real, 0, None, closed="left")],
    }
    _guarded = ("S0", "S1", "S2")
    _no_feature_axis = frozenset({"S0", "n_w"})
    _support: ClassVar[dict[str, str]] = {"S0": "n_w"}

    _priors: np.ndarray | None

    def __init__(self, *, priors: Any = None, var_smoothing: float = 1e-9) -> None:
        self.priors = priors
        self.var_smoothing = var_smoothing

    def _setup(self, X: np.ndarray) -> None:
        self._priors = None
        if self.priors is None:
            return
        p = np.asarray(self.priors, dtype=np.float64)
        n = len(self.classes_)
        if p.ndim != 1 or len(p) != n:
            raise InvalidParameterError(
                f"priors has {p.size} entries but y has {n} classes "
                f"{_preview(self.classes_.tolist())}; pass one prior per class, in the order "
                "of the sorted labels."
            )
        if np.any(p < 0):
            raise InvalidParameterError(f"priors must be non-negative, got {p.tolist()}.")
        if not np.isclose(p.sum(), 1.0):
            raise InvalidParameterError(f"The priors must sum to 1; they sum to {p.sum():g}.")
        self._priors = p

    def _prepare(self, X: np.ndarray, k: np.ndarray, w: np.ndarray) -> None:
        shift = np.zeros((len(self.classes_), X.shape[1]))
        for c in range(len(self.classes_)):
            shift[c] = X[k == c].mean(axis=0)
        self._stats = {"shift": shift}

    def _class_delta(self, X: np.ndarray, k: np.ndarray, w: np.ndarray) -> dict[str, np.ndarray]:
        n_classes, d = len(self.classes_), X.shape[1]
        S0, n_w = np.zeros(n_classes), np.zeros(n_classes)
        S1, S2, M1 = np.zeros((n_classes, d)), np.zeros((n_classes, d)), np.zeros((n_classes, d))
        shift = self._stats["shift"]
        for c in np.unique(k):
            sel = k == c
            wc = w[sel]
            Z = X[sel] - shift[c]
            S0[c] = wc.sum()
            n_w[c] = np.count_nonzero(wc)
            S1[c] = wc @ Z
            S2[c] = wc @ (Z * Z)
            M1[c] = wc @ np.abs(Z)
        return {"S0": S0, "S1": S1, "S2": S2, "n_w": n_w, "mag_S1": M1}

    def _global_delta(self, X: np.ndarray, base: dict[str, np.ndarray] | None) -> dict[str, Any]:
        if base is None:
            zero = np.zeros(X.shape[1])
            base = {"shift": X.mean(axis=0), "G0": np.asarray(0.0), "G1": zero, "G2": zero}
            base["mag"] = zero
        Z = X - base["shift"]
        G2 = np.einsum("ij,ij->j", Z, Z)
        return {
            "shift": base["shift"],
            "G0": base["G0"] + len(X),
            "G1": base["G1"] + Z.sum(axis=0),
            "G2": base["G2"] + G2,
            "mag": base["mag"] + G2,
        }

    def _remove_global(self, X: np.ndarray) -> dict[str, Any]:
        g = self._globals
        Z = X - g["shift"]
        G2 = np.einsum("ij,ij->j", Z, Z)
        return {
            "shift": g["shift"],
            "G0": g["G0"] - len(X),
            "G1": g["G1"] - Z.sum(axis=0),
            "G2": np.maximum(g["G2"] - G2, 0.0),
            "mag": g["mag"] + G2,
        }

    def _refresh_globals(self, X: np.ndarray) -> None:
        self._globals = self._global_delta(X, None)

    def _global_moments(self) -> tuple[np.ndarray, np.ndarray]:
        g = self._globals
        n = float(g["G0"])
        mean = g["G1"] / n
        return mean, np.maximum(g["G2"] / n - mean * mean, 0.0)

    def _class_moments(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        S0 = self._stats["S0"]
        empty = np.abs(S0) <= 1e-8  # scikit-learn's np.isclose(weight, 0.0)
        safe = np.where(empty, 1.0, S0)[:, None]
        mean = self._stats["S1"] / safe
        var = np.maximum(self._stats["S2"] / safe - mean * mean, 0.0)
        return empty, mean, var

    def _epsilon(self) -> float:
        return float(self.var_smoothing * np.max(self._global_moments()[1]))

    def _stale_globals(self) -> bool:
        if self.var_smoothing == 0:
            return False
        g = self._globals
        n = float(g["G0"])
        mean, var = self._global_moments()
        floor = n * (8 * _EPS * (np.abs(g["shift"]) + np.abs(mean))) ** 2
        return bool(np.any(_ROUND * _EPS * g["mag"] > _TOL * (n * var.max() + floor)))

    def _stale_classes(self) -> np.ndarray:
        empty, mean, var = self._class_moments()
        S0 = self._stats["S0"][:, None]
        floor = S0 * (8 * _EPS * (np.abs(self._stats["shift"]) + np.abs(mean))) ** 2
        spread = var + self._epsilon()
        scale = S0 * spread + floor
        stale = np.any(_ROUND * _EPS * self._mags["S2"] > _TOL * scale, axis=1)
        # the mean: error of S1 / S0 against the class's location and spread
        location = np.abs(self._stats["shift"] + mean) + np.sqrt(spread)
        stale |= np.any(_ROUND * _EPS * self._mags["S1"] > _TOL * S0 * location, axis=1)
        if not self._exact_weights:
            stale |= _ROUND * _EPS * self._mags["S0"] > _TOL * self._stats["S0"]
        return np.asarray(stale & ~empty & (self._stats["n_w"] > 0))

    def _refresh_classes(
        self, stale: np.ndarray, X: np.ndarray, k: np.ndarray, w: np.ndarray
    ) -> None:
        empty, mean, _ = self._class_moments()
        shift = self._stats["shift"]
        recentre = stale & ~empty
        self._stats = {**self._stats, "shift": _where_rows(recentre, shift + mean, shift)}
        super()._refresh_classes(stale, X, k, w)

    def _check_can_drop_classes(self) -> None:
        if self.priors is not None:
            raise InvalidRequestError(
                "This GaussianNBUnlearner has fixed priors, one per class, so it cannot drop a "
                "class: refit with priors for the remaining classes (or priors=None) instead."
            )

    def _derive(self) -> None:
        empty, mean, var = self._class_moments()
        epsilon = self._epsilon()
        self.epsilon_ = epsilon
        self.theta_ = np.where(empty[:, None], 0.0, self._stats["shift"] + mean)
        self.var_ = np.where(empty[:, None], 0.0, var) + epsilon
        self.class_count_ = self._stats["S0"].copy()
        if self._priors is not None:
            self.class_prior_ = self._priors.copy()
        else:
            self.class_prior_ = self.class_count_ / self.class_count_.sum()

    def _joint_log_likelihood(self, X: np.ndarray) -> np.ndarray:
        jll = []
        for i in range(len(self.classes_)):
            prior = np.log(self.class_prior_[i])
            n_ij = -0.5 * np.sum(np.log(2.0 * np.pi * self.var_[i, :]))
            n_ij = n_ij - 0.5 * np.sum(((X - self.theta_[i, :]) ** 2) / (self.var_[i, :]), axis=1)
            jll.append(prior + n_ij)
        return np.asarray(np.stack(jll).T)


# ---------------------------------------------------------------------------------------------
class _DiscreteNBUnlearner(_NaiveBayesUnlearner):
    """Shared parts of the count-based models (multinomial, Bernoulli, categorical)."""

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "alpha": [Interval(Real, 0, None, closed="left"), "array-like"],
        "fit_prior": ["boolean"],
        "class_prior": ["array-like", None],
        "force_alpha": ["boolean"],
    }
    _guarded = ("cc", "fc")
    _no_feature_axis = frozenset({"cc", "n_cc"})
    _support: ClassVar[dict[str, str]] = {"cc": "n_cc", "fc": "n_fc"}

    alpha: Any
    force_alpha: bool
    fit_prior: bool
    class_prior: Any
    _alpha: Any
    _class_prior: np.ndarray | None
    _exact_values: bool

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.poor_score = True
        return tags

    def _setup(self, X: np.ndarray) -> None:
        self._class_prior = None
        if self.class_prior is not None:
            p = np.asarray(self.class_prior, dtype=np.float64)
            if p.ndim != 1 or len(p) != len(self.classes_):
                raise InvalidParameterError(
                    f"class_prior has {p.size} entries but y has {len(self.classes_)} classes "
                    f"{_preview(self.classes_.tolist())}; pass one prior per class, in the "
                    "order of the sorted labels."
                )
            self._class_prior = p
        self._alpha = self._effective_alpha(X.shape[1])
        self._exact_values = True

    def _effective_alpha(self, n_features: int) -> Any:
        """``alpha`` as scikit-learn's ``_check_alpha`` gives it (warning when clipped)."""
        if isinstance(self.alpha, Real):
            alpha: Any = float(self.alpha)
        else:
            alpha = np.asarray(self.alpha, dtype=np.float64)
            if alpha.ndim != 1 or alpha.shape[0] != n_features:
                raise InvalidParameterError(
                    f"alpha has {alpha.size} values but X has {n_features} features; pass one "
                    "alpha per feature, or a single number."
                )
            if np.min(alpha) < 0:
                raise InvalidParameterError("All values in alpha must be non-negative.")
        if np.min(alpha) < _ALPHA_LOWER_BOUND and not self.force_alpha:
            warnings.warn(
                "alpha too small will result in numeric errors, setting alpha = "
                f"{_ALPHA_LOWER_BOUND:.1e}. Use `force_alpha=True` to keep alpha unchanged.",
                UserWarning,
                stacklevel=3,
            )
            return np.maximum(alpha, _ALPHA_LOWER_BOUND)
        return alpha

    def _transform(self, X: np.ndarray) -> np.ndarray:
        return X

    def _class_delta(self, X: np.ndarray, k: np.ndarray, w: np.ndarray) -> dict[str, np.ndarray]:
        Xt = self._transform(X)
        self._exact_values = self._exact_values and _integral(Xt)
        n_classes, d = len(self.classes_), Xt.shape[1]
        cc, n_cc = np.zeros(n_classes), np.zeros(n_classes)
        fc, n_fc = np.zeros((n_classes, d)), np.zeros((n_classes, d))
        negative = bool(np.any(Xt < 0))
        mag = np.zeros((n_classes, d)) if negative else None
        for c in np.unique(k):
            sel = k == c
            wc, Xc = w[sel], Xt[sel]
            cc[c] = wc.sum()
            n_cc[c] = np.count_nonzero(wc)
            fc[c] = wc @ Xc
            n_fc[c] = np.count_nonzero((Xc != 0) & (wc != 0)[:, None], axis=0)
            if mag is not None:
                mag[c] = wc @ np.abs(Xc)
        out = {"cc": cc, "n_cc": n_cc, "fc": fc, "n_fc": n_fc}
        if mag is not None:
            out["mag_fc"] = mag
        return out

    def _exact(self) -> bool:
        """Whether every sum so far is of integers small enough to be exact in float64."""
        return (
            self._exact_weights
            and self._exact_values
            and all(float(np.max(m, initial=0.0)) < _EXACT_INT for m in self._mags.values())
        )

    def _stale_classes(self) -> np.ndarray:
        n_classes = len(self.classes_)
        if self._exact():
            return np.zeros(n_classes, dtype=bool)
        st = self._stats
        bad_fc = (_ROUND * _EPS * self._mags["fc"] > _TOL * (np.abs(st["fc"]) + self._alpha)) & (
            st["n_fc"] > 0
        )
        bad_cc = (_ROUND * _EPS * self._mags["cc"] > _TOL * np.abs(st["cc"])) & (st["n_cc"] > 0)
        return np.asarray(bad_fc.reshape(n_classes, -1).any(axis=1) | bad_cc)

    def _check_can_drop_classes(self) -> None:
        if self.class_prior is not None:
            raise InvalidRequestError(
                f"This {type(self).__name__} has a fixed class_prior, one per class, so it "
                "cannot drop a class: refit with class_prior for the remaining classes (or "
                "class_prior=None) instead."
            )

    def _check_can_drop_features(self) -> None:
        if not isinstance(self.alpha, Real):
            raise InvalidRequestError(
                f"This {type(self).__name__} has one alpha per feature, so it cannot drop a "
                "feature: refit with alpha for the remaining features (or a single alpha)."
            )

    def _class_log_prior(self, class_count: np.ndarray) -> np.ndarray:
        n_classes = len(self.classes_)
        if self._class_prior is not None:
            return np.log(self._class_prior)
        if self.fit_prior:
            with np.errstate(divide="ignore"):
                return np.asarray(np.log(class_count) - np.log(class_count.sum()))
        return np.full(n_classes, -np.log(n_classes))


@register_method("multinomial_nb", task="classification")
class MultinomialNBUnlearner(_DiscreteNBUnlearner):
    """Multinomial naive Bayes (counts, frequencies) with exact removal of rows in ``O(k d)``.

    Keeps the weighted per-class row counts and feature totals. After ``unlearn`` every fitted
    attribute equals :class:`sklearn.naive_bayes.MultinomialNB` fitted on the retained rows.
    Supports ``items``, ``group``, ``classes``, ``features`` and ``relabel`` requests and
    ``partial_fit``. ``X`` must be non-negative.

    Parameters
    ----------
    alpha : float or array-like of shape (n_features,), default=1.0
        Additive (Laplace/Lidstone) smoothing; 0 for none (with ``force_alpha=True``). One value
        per feature rules out ``features`` requests.
    force_alpha : bool, default=True
        When False, an ``alpha`` below 1e-10 is raised to 1e-10 (with a warning).
    fit_prior : bool, default=True
        Learn class priors from the data; when False, use a uniform prior.
    class_prior : array-like of shape (n_classes,), default=None
        Fixed class priors; rules out ``classes`` requests.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    class_count_ : ndarray of shape (n_classes,)
    class_log_prior_ : ndarray of shape (n_classes,)
    feature_count_ : ndarray of shape (n_classes, n_features)
    feature_log_prob_ : ndarray of shape (n_classes, n_features)
    n_features_in_ : int
    feature_names_in_ : ndarray of str, present when fitted on a DataFrame

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.naive_bayes import MultinomialNB
    >>> from unlearnkit.exact import MultinomialNBUnlearner
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.poisson(3.0, size=(100, 5)), rng.integers(0, 3, size=100)
    >>> model = MultinomialNBUnlearner(alpha=0.5).fit(X, y)
    >>> _ = model.unlearn([10, 20])
    >>> keep = np.setdiff1d(np.arange(100), [10, 20])
    >>> reference = MultinomialNB(alpha=0.5).fit(X[keep], y[keep])
    >>> np.allclose(model.feature_log_prob_, reference.feature_log_prob_)
    True
    """

    check_data_kind = "counts"

    def __init__(
        self,
        *,
        alpha: Any = 1.0,
        force_alpha: bool = True,
        fit_prior: bool = True,
        class_prior: Any = None,
    ) -> None:
        self.alpha = alpha
        self.force_alpha = force_alpha
        self.fit_prior = fit_prior
        self.class_prior = class_prior

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        return tags

    def _check_values(self, X: np.ndarray, where: str) -> None:
        if np.any(X < 0):
            raise self._negative_error(
                X,
                where,
                "Multinomial naive Bayes models counts or frequencies: pass non-negative "
                "values (e.g. word counts or tf-idf), or use GaussianNBUnlearner for "
                "real-valued features.",
            )

    def _derive(self) -> None:
        fc, cc = self._stats["fc"], self._stats["cc"]
        smoothed_fc = fc + self._alpha
        smoothed_cc = smoothed_fc.sum(axis=1)
        self.class_count_ = cc.copy()
        self.feature_count_ = fc.copy()
        self.feature_log_prob_ = np.log(smoothed_fc) - np.log(smoothed_cc.reshape(-1, 1))
        self.class_log_prior_ = self._class_log_prior(cc)

    def _joint_log_likelihood(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(X @ self.feature_log_prob_.T + self.class_log_prior_)


@register_method("bernoulli_nb", task="classification")
class BernoulliNBUnlearner(_DiscreteNBUnlearner):
    """Bernoulli naive Bayes (binary features) with exact removal of rows in ``O(k d)``.

    Keeps the weighted per-class row counts and counts of each feature being on. After
    ``unlearn`` every fitted attribute equals :class:`sklearn.naive_bayes.BernoulliNB` fitted on
    the retained rows. Supports ``items``, ``group``, ``classes``, ``features`` and ``relabel``
    requests and ``partial_fit``.

    Parameters
    ----------
    alpha : float or array-like of shape (n_features,), default=1.0
        Additive smoothing; one value per feature rules out ``features`` requests.
    force_alpha : bool, default=True
        When False, an ``alpha`` below 1e-10 is raised to 1e-10 (with a warning).
    binarize : float or None, default=0.0
        Threshold above which a value counts as 1; None when ``X`` is already binary.
    fit_prior : bool, default=True
        Learn class priors from the data; when False, use a uniform prior.
    class_prior : array-like of shape (n_classes,), default=None
        Fixed class priors; rules out ``classes`` requests.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    class_count_ : ndarray of shape (n_classes,)
    class_log_prior_ : ndarray of shape (n_classes,)
    feature_count_ : ndarray of shape (n_classes, n_features)
    feature_log_prob_ : ndarray of shape (n_classes, n_features)
    n_features_in_ : int
    feature_names_in_ : ndarray of str, present when fitted on a DataFrame

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.naive_bayes import BernoulliNB
    >>> from unlearnkit.exact import BernoulliNBUnlearner
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.integers(0, 2, size=(100, 6)), rng.integers(0, 2, size=100)
    >>> model = BernoulliNBUnlearner().fit(X, y, sample_ids=[f"s{i}" for i in range(100)])
    >>> _ = model.unlearn(["s0", "s1"])
    >>> np.allclose(model.predict_proba(X), BernoulliNB().fit(X[2:], y[2:]).predict_proba(X))
    True
    """

    check_data_kind = "binary"
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **_DiscreteNBUnlearner._parameter_constraints,
        "binarize": [None, Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        *,
        alpha: Any = 1.0,
        force_alpha: bool = True,
        binarize: float | None = 0.0,
        fit_prior: bool = True,
        class_prior: Any = None,
    ) -> None:
        self.alpha = alpha
        self.force_alpha = force_alpha
        self.binarize = binarize
        self.fit_prior = fit_prior
        self.class_prior = class_prior

    _binarize: float | None

    def _setup(self, X: np.ndarray) -> None:
        super()._setup(X)
        self._binarize = None if self.binarize is None else float(self.binarize)

    def _transform(self, X: np.ndarray) -> np.ndarray:
        if self._binarize is None:
            return X
        return np.greater(X, self._binarize).astype(np.float64)

    def _check_X(self, X: Any) -> np.ndarray:
        return self._transform(super()._check_X(X))

    def _derive(self) -> None:
        fc, cc = self._stats["fc"], self._stats["cc"]
        smoothed_fc = fc + self._alpha
        smoothed_cc = cc + self._alpha * 2
        self.class_count_ = cc.copy()
        self.feature_count_ = fc.copy()
        self.feature_log_prob_ = np.log(smoothed_fc) - np.log(smoothed_cc.reshape(-1, 1))
        self.class_log_prior_ = self._class_log_prior(cc)

    def _joint_log_likelihood(self, X: np.ndarray) -> np.ndarray:
        neg_prob = np.log(1 - np.exp(self.feature_log_prob_))
        jll = X @ (self.feature_log_prob_ - neg_prob).T
        jll += self.class_log_prior_ + neg_prob.sum(axis=1)
        return np.asarray(jll)


@register_method("categorical_nb", task="classification")
class CategoricalNBUnlearner(_DiscreteNBUnlearner):
    """Categorical naive Bayes with exact removal of training rows in ``O(k d)``.

    Features are category codes ``0, 1, 2, ...`` (for example from
    :class:`sklearn.preprocessing.OrdinalEncoder`). Keeps the weighted per-class count of every
    category of every feature, and how many rows hold each category, so that ``n_categories_``
    shrinks when the last row of a feature's highest category is forgotten. After ``unlearn``
    every fitted attribute equals :class:`sklearn.naive_bayes.CategoricalNB` fitted on the
    retained rows. Supports ``items``, ``group``, ``classes``, ``features`` and ``relabel``
    requests and ``partial_fit``.

    Parameters
    ----------
    alpha : float, default=1.0
        Additive smoothing; 0 for none (with ``force_alpha=True``).
    force_alpha : bool, default=True
        When False, an ``alpha`` below 1e-10 is raised to 1e-10 (with a warning).
    fit_prior : bool, default=True
        Learn class priors from the data; when False, use a uniform prior.
    class_prior : array-like of shape (n_classes,), default=None
        Fixed class priors; rules out ``classes`` requests.
    min_categories : int or array-like of shape (n_features,), default=None
        Least number of categories per feature; one value per feature rules out ``features``
        requests.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    class_count_ : ndarray of shape (n_classes,)
    class_log_prior_ : ndarray of shape (n_classes,)
    category_count_ : list of ndarray of shape (n_classes, n_categories_[i])
    feature_log_prob_ : list of ndarray of shape (n_classes, n_categories_[i])
    n_categories_ : ndarray of shape (n_features,), dtype int64
    n_features_in_ : int
    feature_names_in_ : ndarray of str, present when fitted on a DataFrame

    Examples
    --------
    >>> import numpy as np
    >>> from unlearnkit.exact import CategoricalNBUnlearner
    >>> X = np.array([[0, 1], [1, 0], [2, 1], [0, 0], [1, 1], [0, 1]])
    >>> y = np.array([0, 1, 1, 0, 1, 0])
    >>> model = CategoricalNBUnlearner().fit(X, y)
    >>> model.n_categories_.tolist()
    [3, 2]
    >>> _ = model.unlearn([2])  # the only row with category 2 of feature 0
    >>> model.n_categories_.tolist()
    [2, 2]
    """

    check_data_kind = "categorical"
    #: scikit-learn estimator checks that feed this model fractional category codes, which it
    #: rejects (scikit-learn's CategoricalNB silently truncates them). For
    #: ``parametrize_with_checks(..., expected_failed_checks=...)``.
    _sklearn_expected_failed_checks: ClassVar[dict[str, str]] = {
        "check_sample_weight_equivalence_on_dense_data": (
            "fits on fractional X; category codes must be integers"
        ),
        "check_classifiers_one_label_sample_weights": (
            "fits on fractional X; category codes must be integers"
        ),
    }
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **_DiscreteNBUnlearner._parameter_constraints,
        "alpha": [Interval(Real, 0, None, closed="left")],
        "min_categories": [None, "array-like", Interval(Integral, 1, None, closed="left")],
    }

    _min_categories: np.ndarray | None
    _width: int

    def __init__(
        self,
        *,
        alpha: float = 1.0,
        force_alpha: bool = True,
        fit_prior: bool = True,
        class_prior: Any = None,
        min_categories: Any = None,
    ) -> None:
        self.alpha = alpha
        self.force_alpha = force_alpha
        self.fit_prior = fit_prior
        self.class_prior = class_prior
        self.min_categories = min_categories

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.categorical = True
        tags.input_tags.positive_only = True
        return tags

    def _check_values(self, X: np.ndarray, where: str) -> None:
        fractional = np.not_equal(X, np.trunc(X))
        if np.any(fractional):
            i, j = _first_where(fractional)
            raise DataValidationError(
                f"{type(self).__name__} needs integer category codes 0, 1, 2, ... in {where}; "
                f"{where}[{i}, {j}] = {X[i, j]:g}. Encode the categories first, for example "
                "with sklearn.preprocessing.OrdinalEncoder."
            )
        if np.any(X < 0):
            raise self._negative_error(
                X,
                where,
                "Category codes start at 0; encode the categories with "
                "sklearn.preprocessing.OrdinalEncoder.",
            )

    def _check_X(self, X: Any) -> np.ndarray:
        Xv = super()._check_X(X)
        self._check_values(Xv, "X")
        unseen = Xv >= self.n_categories_
        if np.any(unseen):
            i, j = _first_where(unseen)
            raise DataValidationError(
                f"X[{i}, {j}] = {Xv[i, j]:g} is not a category of feature {j} seen in training "
                f"(codes 0..{self.n_categories_[j] - 1}). Encode new categories as a known "
                "code, or fit with min_categories large enough."
            )
        return Xv.astype(np.int64)

    def _setup(self, X: np.ndarray) -> None:
        super()._setup(X)
        self._min_categories = None
        if self.min_categories is not None:
            m = np.asarray(self.min_categories)
            if not np.issubdtype(m.dtype, np.signedinteger) and not np.issubdtype(
                m.dtype, np.unsignedinteger
            ):
                raise InvalidParameterError(
                    f"min_categories must be an integer or integers, got dtype {m.dtype}."
                )
            if m.ndim not in (0, 1) or (m.ndim == 1 and m.shape != (X.shape[1],)):
                raise InvalidParameterError(
                    f"min_categories has shape {m.shape}; pass one value per feature "
                    f"(shape ({X.shape[1]},)) or a single integer."
                )
            self._min_categories = m.astype(np.int64)

    def _check_can_drop_features(self) -> None:
        if self._min_categories is not None and self._min_categories.ndim == 1:
            raise InvalidRequestError(
                "This CategoricalNBUnlearner has one min_categories value per feature, so it "
                "cannot drop a feature: refit with min_categories for the remaining features "
                "(or a single integer)."
            )

    def _prepare(self, X: np.ndarray, k: np.ndarray, w: np.ndarray) -> None:
        width = int(X.max()) + 1 if X.size else 1
        if self._min_categories is not None:
            width = max(width, int(np.max(self._min_categories)))
        self._width = width
        self._stats = {}

    def _grow(self, X: np.ndarray) -> None:
        need = int(X.max()) + 1
        extra = need - self._width
        if extra <= 0:
            return

        def pad(key: str, value: np.ndarray) -> np.ndarray:
            if value.ndim < 2 or key in self._no_feature_axis:
                return value
            return np.pad(value, [(0, 0)] * (value.ndim - 1) + [(0, extra)])

        self._stats = {k: pad(k, v) for k, v in self._stats.items()}
        self._mags = {k: pad(k, v) for k, v in self._mags.items()}
        self._globals = {"rows": np.pad(self._globals["rows"], [(0, 0), (0, extra)])}
        self._width = need

    def _flat(self, X: np.ndarray) -> np.ndarray:
        d = X.shape[1]
        return np.asarray((X.astype(np.int64) + np.arange(d) * self._width).ravel())

    def _class_delta(self, X: np.ndarray, k: np.ndarray, w: np.ndarray) -> dict[str, np.ndarray]:
        n_classes, d, width = len(self.classes_), X.shape[1], self._width
        cc, n_cc = np.zeros(n_classes), np.zeros(n_classes)
        fc, n_fc = np.zeros((n_classes, d, width)), np.zeros((n_classes, d, width))
        for c in np.unique(k):
            sel = k == c
            wc = w[sel]
            flat = self._flat(X[sel])
            cc[c] = wc.sum()
            n_cc[c] = np.count_nonzero(wc)
            fc[c] = np.bincount(flat, weights=np.repeat(wc, d), minlength=d * width).reshape(
                d, width
            )
            n_fc[c] = np.bincount(flat[np.repeat(wc != 0, d)], minlength=d * width).reshape(
                d, width
            )
        return {"cc": cc, "n_cc": n_cc, "fc": fc, "n_fc": n_fc}

    def _row_counts(self, X: np.ndarray) -> np.ndarray:
        d = X.shape[1]
        counts = np.bincount(self._flat(X), minlength=d * self._width)
        return np.asarray(counts.reshape(d, self._width).astype(np.int64))

    def _global_delta(self, X: np.ndarray, base: dict[str, np.ndarray] | None) -> dict[str, Any]:
        rows = self._row_counts(X)
        return {"rows": rows if base is None else base["rows"] + rows}

    def _remove_global(self, X: np.ndarray) -> dict[str, Any]:
        return {"rows": self._globals["rows"] - self._row_counts(X)}

    def _derive(self) -> None:
        rows = self._globals["rows"]
        seen = (self._width - np.argmax(rows[:, ::-1] > 0, axis=1)).astype(np.int64)
        if self._min_categories is None:
            n_categories = seen
        else:
            n_categories = np.maximum(seen, self._min_categories, dtype=np.int64)
        fc, cc = self._stats["fc"], self._stats["cc"]
        counts = [fc[:, j, : n_categories[j]].copy() for j in range(fc.shape[1])]
        log_probs = []
        for count in counts:
            smoothed = count + self._alpha
            log_probs.append(np.log(smoothed) - np.log(smoothed.sum(axis=1).reshape(-1, 1)))
        self.class_count_ = cc.copy()
        self.n_categories_ = n_categories
        self.category_count_ = counts
        self.feature_log_prob_ = log_probs
        self.class_log_prior_ = self._class_log_prior(cc)

    def _joint_log_likelihood(self, X: np.ndarray) -> np.ndarray:
        jll = np.zeros((X.shape[0], len(self.classes_)))
        for i in range(X.shape[1]):
            jll += self.feature_log_prob_[i][:, X[:, i]].T
        return np.asarray(jll + self.class_log_prior_)
