"""Exact unlearning for least squares and ridge regression by sufficient statistics.

The model keeps the weighted Gram matrix and moments of its training rows, taken around a fixed
shift point for numerical stability. Forgetting ``k`` rows subtracts their rank-``k``
contribution and solves one ``d x d`` system: ``O(k d^2 + d^3)`` work, independent of the
number of rows kept. The coefficients then equal scikit-learn's ``Ridge`` / ``LinearRegression``
fitted on the retained rows (same centering and ``sample_weight`` handling).
"""

from __future__ import annotations

from numbers import Real
from typing import Any, ClassVar, Self

import numpy as np
import scipy.linalg
from sklearn.base import MultiOutputMixin, RegressorMixin
from sklearn.utils._param_validation import Interval

from unlearnkit.base import Change, Unlearner
from unlearnkit.registry import register_method
from unlearnkit.requests import RequestKind

__all__ = ["LinearRegressionUnlearner", "RidgeUnlearner"]

#: Relative eigenvalue cut-off of the Gram matrix that defines the rank of an unpenalised fit.
#: Designs with a condition number above about 1e5 are beyond what the normal equations can
#: resolve; fit those with ``RidgeUnlearner`` and a small ``alpha``.
RANK_RTOL = 1e-10


class _LeastSquaresUnlearner(MultiOutputMixin, RegressorMixin, Unlearner):
    """Shared sufficient-statistics machinery of the linear models."""

    supported_requests: ClassVar[frozenset[RequestKind]] = frozenset(
        {"items", "group", "features", "relabel"}
    )
    check_data_kind = "regression"

    _alpha: float

    def fit(self, X: Any, y: Any, *, sample_ids: Any = None, sample_weight: Any = None) -> Self:
        """Fit on ``X, y``; rows are addressed by ``sample_ids`` (``0..n-1`` by default)."""
        Xv, yv, w = self._start_fit(X, y, sample_ids, sample_weight)
        assert yv is not None
        self._y_1d = yv.ndim == 1
        Y = yv.reshape(len(yv), -1)
        weights = np.ones(len(Xv)) if w is None else w
        total = weights.sum()
        if self.fit_intercept and total > 0:
            self._shift_x = weights @ Xv / total
            self._shift_y = weights @ Y / total
        else:
            self._shift_x = np.zeros(Xv.shape[1])
            self._shift_y = np.zeros(Y.shape[1])
        self._stats = self._moments(Xv, Y, weights)
        self._solve()
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predict targets for ``X``."""
        Xv = self._check_X(X)
        return np.asarray(Xv @ self.coef_.T + self.intercept_)

    # -- statistics -----------------------------------------------------------------------
    def _moments(
        self, X: np.ndarray, Y: np.ndarray, w: np.ndarray
    ) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Weighted count, sums and cross-products of shifted rows."""
        Xs = X - self._shift_x
        Ys = Y - self._shift_y
        Xw = Xs * w[:, None]
        return float(w.sum()), Xw.sum(axis=0), w @ Ys, Xw.T @ Xs, Xw.T @ Ys

    def _rows(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        store = self._store
        assert store.y is not None
        w = np.ones(len(rows)) if store.weights is None else store.weights[rows]
        return store.X[rows], store.y[rows].reshape(len(rows), -1), w

    def _update(self, X: np.ndarray, Y: np.ndarray, w: np.ndarray, sign: float) -> None:
        sw, sx, sy, Sxx, Sxy = self._stats
        dw, dx, dy, dXX, dXY = self._moments(X, Y, w)
        self._stats = (
            sw + sign * dw,
            sx + sign * dx,
            sy + sign * dy,
            Sxx + sign * dXX,
            Sxy + sign * dXY,
        )
        self._solve()

    def _solve(self) -> None:
        sw, sx, sy, Sxx, Sxy = self._stats
        d = Sxx.shape[0]
        if self.fit_intercept and sw > 0:
            mx, my = sx / sw, sy / sw
            G = Sxx - sw * np.outer(mx, mx)
            b = Sxy - sw * np.outer(mx, my)
        else:
            mx, my = np.zeros(d), np.zeros(len(sy))
            G, b = Sxx, Sxy
        A = G.copy()
        A.flat[:: d + 1] += self._alpha
        info = 1
        if self._alpha > 0:
            _, coef, info = scipy.linalg.lapack.dposv(A, b)  # Cholesky solve
        if info != 0:
            # Minimum-norm least squares: eigenvalues below RANK_RTOL times the largest are
            # rounding noise of a rank-deficient design and count as zero.
            coef = scipy.linalg.pinvh(A, rtol=RANK_RTOL, check_finite=False) @ b
        coef = coef.T  # (n_targets, d)
        if self.fit_intercept:
            intercept = (self._shift_y + my) - coef @ (self._shift_x + mx)
        else:
            intercept = np.zeros(len(sy))
        if self._y_1d:
            self.coef_, self.intercept_ = coef[0], float(intercept[0])
        else:
            self.coef_, self.intercept_ = coef, intercept

    def _work(self, k: int) -> float:
        d = len(self._shift_x)
        n = self._store.n_alive
        return (k * d * d + d**3 / 3) / (n * d * d + d**3 / 3)

    # -- hooks ----------------------------------------------------------------------------
    def _forget_rows(self, rows: np.ndarray) -> Change:
        X, Y, w = self._rows(rows)
        self._update(X, Y, w, -1.0)
        return Change(self._work(len(rows)), {"rows_downdated": len(rows)})

    def _add_rows(
        self, X: np.ndarray, y: np.ndarray | None, w: np.ndarray | None, ids: np.ndarray
    ) -> None:
        assert y is not None
        self._update(X, y.reshape(len(X), -1), np.ones(len(X)) if w is None else w, +1.0)

    def _relabel_rows(self, rows: np.ndarray, new_y: np.ndarray) -> Change:
        X, Y, w = self._rows(rows)
        sw, sx, sy, Sxx, Sxy = self._stats
        Xw = (X - self._shift_x) * w[:, None]
        dY = new_y.reshape(len(rows), -1) - Y
        self._stats = (sw, sx, sy + w @ dY, Sxx, Sxy + Xw.T @ dY)
        self._solve()
        return Change(self._work(len(rows)), {"rows_relabeled": len(rows)})

    def _forget_features(self, cols: np.ndarray) -> Change:
        keep = np.setdiff1d(np.arange(len(self._shift_x)), cols)
        sw, sx, sy, Sxx, Sxy = self._stats
        self._shift_x = self._shift_x[keep]
        self._stats = (sw, sx[keep], sy, Sxx[np.ix_(keep, keep)], Sxy[keep])
        self._solve()
        d = len(keep)
        return Change(
            d**3 / 3 / (self._store.n_alive * d * d + d**3 / 3), {"features_removed": len(cols)}
        )


@register_method("linear_regression", task="regression")
class LinearRegressionUnlearner(_LeastSquaresUnlearner):
    """Ordinary least squares with exact, constant-time removal of training rows.

    Equivalent to :class:`sklearn.linear_model.LinearRegression` fitted on the retained rows
    (the minimum-norm solution when the design is rank deficient).

    Parameters
    ----------
    fit_intercept : bool, default=True
        Whether to fit an intercept (rows are centred by their weighted mean, as scikit-learn).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
    intercept_ : float or ndarray of shape (n_targets,)
    n_features_in_ : int
    feature_names_in_ : ndarray of str, present when fitted on a DataFrame

    Examples
    --------
    >>> import numpy as np
    >>> from unlearnkit.exact import LinearRegressionUnlearner
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(100, 3)); y = X @ [1.0, -2.0, 0.5] + 0.1 * rng.normal(size=100)
    >>> model = LinearRegressionUnlearner().fit(X, y, sample_ids=np.arange(1000, 1100))
    >>> result = model.unlearn([1003, 1050])
    >>> result.removed_ids, str(result.guarantee)
    ((1003, 1050), 'exact')
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {"fit_intercept": ["boolean"]}

    def __init__(self, *, fit_intercept: bool = True) -> None:
        self.fit_intercept = fit_intercept

    @property
    def _alpha(self) -> float:  # type: ignore[override]
        return 0.0


@register_method("ridge", task="regression")
class RidgeUnlearner(_LeastSquaresUnlearner):
    """Ridge regression with exact, constant-time removal of training rows.

    After ``unlearn``, ``coef_`` and ``intercept_`` equal those of
    :class:`sklearn.linear_model.Ridge` ``(alpha).fit`` on the retained rows, to floating-point
    precision. Supports ``items``, ``group``, ``features`` and ``relabel`` requests and
    ``partial_fit``.

    Parameters
    ----------
    alpha : float, default=1.0
        L2 penalty, as in scikit-learn (not scaled by the number of rows).
    fit_intercept : bool, default=True
        Whether to fit an intercept.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
    intercept_ : float or ndarray of shape (n_targets,)
    n_features_in_ : int
    feature_names_in_ : ndarray of str, present when fitted on a DataFrame

    Examples
    --------
    >>> import numpy as np
    >>> from unlearnkit.exact import RidgeUnlearner
    >>> from sklearn.linear_model import Ridge
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(200, 4)), rng.normal(size=200)
    >>> model = RidgeUnlearner(alpha=1.0).fit(X, y)
    >>> result = model.unlearn([0, 1, 2])
    >>> np.allclose(model.coef_, Ridge(alpha=1.0).fit(X[3:], y[3:]).coef_)
    True
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "alpha": [Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
    }

    def __init__(self, alpha: float = 1.0, *, fit_intercept: bool = True) -> None:
        self.alpha = alpha
        self.fit_intercept = fit_intercept

    @property
    def _alpha(self) -> float:  # type: ignore[override]
        return float(self.alpha)
