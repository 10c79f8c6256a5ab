"""Certified removal for L2-regularised linear models (Guo, Goldstein, Hannun & van der Maaten,
"Certified Data Removal from Machine Learning Models", ICML 2020).

Training minimises a *perturbed* objective, which in the paper's scaling reads

    L_b(w; D) = sum_i loss(w . z_i, y_i) + lam * n / 2 * ||w||^2 + b . w,    b ~ N(0, sigma^2 I)

(the optimiser works on ``L_b / n = mean loss + lam/2 ||w||^2 + b.w / n``, which has the same
minimiser). ``z_i`` is the row ``x_i``, followed by the constant ``intercept_scaling`` when
``fit_intercept`` (the intercept is penalised like every other weight, which the analysis
needs). Removing rows takes one Newton step on the objective of the retained rows,
``w- = w + H^{-1} Delta``, and adds the paper's data-dependent bound on the new gradient residual
``||grad L_b(w-; D')||`` to a :class:`~unlearnkit.certified.RemovalAccountant`. While the total
stays within ``sigma * epsilon / c`` (``c = sqrt(2 log(1.5 / delta))``) the model is
``(epsilon, delta)``-indistinguishable from a retrain on the retained rows (Theorem 3); a removal
that would exceed it retrains with fresh noise instead, or raises
:class:`~unlearnkit.errors.BudgetExhaustedError` when ``on_budget_exhausted="raise"``. The
retrain minimises the new perturbed objective to the same tolerance as ``fit``; it starts from
the current weights (the objective is strongly convex, so it has one minimiser and the start
changes only how fast it is reached), and its final gradient norm restarts the bound.

The noise vector ``b`` is part of the secret: the certificate holds for an observer who sees the
model's weights but not ``b``. It is never exposed as a public attribute; a saved model file
holds it (and the training rows), so keep model files as private as the data.
"""

from __future__ import annotations

import copy
import warnings
from numbers import Integral, Real
from typing import Any, ClassVar, Self

import numpy as np
from scipy.special import expit
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets

from unlearnkit.base import Change, Unlearner
from unlearnkit.certified import _newton
from unlearnkit.certified.accountant import RemovalAccountant, noise_for_budget
from unlearnkit.errors import (
    BudgetExhaustedError,
    DataValidationError,
    InvalidParameterError,
    preview,
)
from unlearnkit.guarantees import Guarantee
from unlearnkit.registry import register_method
from unlearnkit.requests import RequestKind

__all__ = ["DEFAULT_RESIDUAL_BUDGET", "CertifiedLogisticRegression", "CertifiedRidge"]

#: Gradient-residual budget used to set ``sigma`` when neither ``sigma`` nor
#: ``residual_budget`` is given.
DEFAULT_RESIDUAL_BUDGET = 1.0
#: Rows may exceed norm 1 by this much (rounding of a division by the largest norm).
_NORM_SLACK = 1e-9

_COMMON_CONSTRAINTS: dict[str, list[Any]] = {
    "lam": [Interval(Real, 0, None, closed="neither")],
    "epsilon": [Interval(Real, 0, None, closed="neither")],
    "delta": [Interval(Real, 0, 1, closed="neither")],
    "sigma": [Interval(Real, 0, None, closed="neither"), None],
    "residual_budget": [Interval(Real, 0, None, closed="neither"), None],
    "fit_intercept": ["boolean"],
    "intercept_scaling": [Interval(Real, 0, None, closed="neither")],
    "random_state": ["random_state"],
    "on_budget_exhausted": [StrOptions({"retrain", "raise"})],
}


class _CertifiedLinear(Unlearner):
    """Shared machinery: noise, accountant, budget decisions, evidence."""

    supported_requests: ClassVar[frozenset[RequestKind]] = frozenset({"items", "group"})

    lam: float
    epsilon: float
    delta: float
    sigma: float | None
    residual_budget: float | None
    fit_intercept: bool
    intercept_scaling: float
    random_state: Any
    on_budget_exhausted: str

    _accountant: RemovalAccountant
    _rng: np.random.Generator
    _noise: np.ndarray
    _Z: np.ndarray
    _fit_work: float
    _retrain_work: float
    _fit_grad_norm: float
    _fit_bound: float
    _sigma: float

    @property
    def guarantee(self) -> Guarantee:  # type: ignore[override]
        """``certified(epsilon, delta)`` for this model's ``epsilon`` and ``delta``."""
        return Guarantee.certified(self.epsilon, self.delta)

    @property
    def accountant_(self) -> RemovalAccountant:
        """A copy of the model's :class:`RemovalAccountant` (bound, budget, counts)."""
        self._require_fitted("report its removal budget")
        return self._accountant.copy()

    @property
    def remaining_budget_(self) -> float:
        """Gradient-residual norm further removals may add before the model retrains."""
        self._require_fitted("report its removal budget")
        return self._accountant.remaining_budget

    @property
    def fit_gradient_norm_(self) -> float:
        """``||grad L_b||`` (paper scale) where the last (re)training stopped."""
        self._require_fitted("report its fit")
        return self._fit_grad_norm

    # -- parameters -------------------------------------------------------------------------
    def _resolve_sigma(self) -> float:
        """``sigma``, or ``c * residual_budget / epsilon`` when ``sigma`` is None."""
        if self.sigma is not None:
            if self.residual_budget is not None:
                raise InvalidParameterError(
                    f"Pass sigma or residual_budget, not both (got sigma={self.sigma!r}, "
                    f"residual_budget={self.residual_budget!r}): with sigma given the budget "
                    "is sigma * epsilon / c."
                )
            return float(self.sigma)
        budget = DEFAULT_RESIDUAL_BUDGET if self.residual_budget is None else self.residual_budget
        return noise_for_budget(float(budget), float(self.epsilon), float(self.delta))

    def _new_rng(self) -> np.random.Generator:
        state = self.random_state
        if state is None or isinstance(state, Integral):
            return np.random.default_rng(None if state is None else int(state))
        seed = check_random_state(state).randint(np.iinfo(np.int32).max)
        return np.random.default_rng(seed)

    def _draw_noise(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        return self._sigma * rng.standard_normal(shape)

    def _design(self, X: np.ndarray) -> np.ndarray:
        return _newton.design(
            X,
            fit_intercept=bool(self.fit_intercept),
            intercept_scaling=float(self.intercept_scaling),
        )

    def _check_fit_inputs(self, sample_weight: Any) -> float:
        self._validate_params()
        if sample_weight is not None:
            raise DataValidationError(
                f"{type(self).__name__} does not take sample_weight: the certificate assumes "
                "every row adds one loss term. Repeat rows or drop sample_weight."
            )
        return self._resolve_sigma()

    def _abort_fit(self) -> None:
        for name in [k for k in self.__dict__ if k.endswith("_") or k.startswith("_")]:
            if name != "_sklearn_output_config":
                del self.__dict__[name]

    def _start_accounting(self, sigma: float, grad_norm: float) -> None:
        self._accountant = RemovalAccountant(
            epsilon=float(self.epsilon), delta=float(self.delta), sigma=sigma
        )
        self._check_fit_residual(grad_norm, self._accountant)
        self._accountant.bound = grad_norm

    def _check_fit_residual(self, grad_norm: float, acc: RemovalAccountant) -> None:
        if grad_norm > acc.budget:
            raise BudgetExhaustedError(
                f"The optimiser stopped at gradient norm {grad_norm:.3g} (paper scale), above "
                f"the whole removal budget sigma*epsilon/c = {acc.budget:.3g}, so not even the "
                "trained model is certified. Increase max_iter, lower tol, or raise sigma."
            )

    # -- the removal decision ----------------------------------------------------------------
    def _decide(self, rows: np.ndarray, increment: float) -> tuple[RemovalAccountant, bool]:
        """A copy of the accountant charged with ``increment``, or restarted after a retrain
        (``True``) when the increment does not fit in the budget."""
        acc = self._accountant.copy()
        if acc.can_remove(increment):
            acc.charge(increment, removed=len(rows))
            return acc, False
        if self.on_budget_exhausted == "raise":
            raise BudgetExhaustedError(
                f"Removing these {len(rows)} row(s) would add {increment:.4g} to the "
                f"gradient-residual bound {acc.bound:.4g}, above the budget {acc.budget:.4g} "
                f"(sigma={acc.sigma:.4g}, epsilon={acc.epsilon:g}, delta={acc.delta:g}). "
                "Nothing was removed. Retrain with fresh noise (on_budget_exhausted='retrain' "
                "or fit on the retained rows), or use a larger sigma or epsilon."
            )
        return acc, True

    def _evidence(
        self,
        rows: np.ndarray,
        before: RemovalAccountant,
        after: RemovalAccountant,
        increment: float,
        retrained: bool,
        extra: dict[str, Any],
    ) -> dict[str, Any]:
        return {
            "rows_removed": len(rows),
            "retrained": retrained,
            "bound_before": before.bound,
            "bound_increment": increment,
            "bound_after": after.bound,
            "budget": after.budget,
            "remaining_budget": after.remaining_budget,
            "epsilon_spent": after.epsilon_spent,
            "epsilon": after.epsilon,
            "delta": after.delta,
            "sigma": after.sigma,
            "removals_since_retrain": after.removals_since_retrain,
            "retrains": after.retrains,
            "fit_gradient_norm": self._fit_grad_norm,
            **extra,
        }


@register_method("certified_logistic", task="classification")
class CertifiedLogisticRegression(ClassifierMixin, _CertifiedLinear):
    """L2-regularised logistic regression with (epsilon, delta)-certified removal.

    Guo et al. (ICML 2020). ``fit`` minimises the perturbed objective ``mean_i log(1 + exp(-t_i
    w.z_i)) + lam/2 ||w||^2 + b.w / n`` with ``b ~ N(0, sigma^2 I)`` (the paper's ``sum_i loss_i +
    lam n/2 ||w||^2 + b.w`` divided by ``n``), by L-BFGS and then Newton steps until the gradient
    norm is below ``tol``. ``unlearn`` removes rows with one Newton step ``w- = w + u``, ``H u =
    Delta``, on the retained rows and adds a bound on the new gradient residual to its
    :class:`~unlearnkit.certified.RemovalAccountant`: a bound on the Taylor remainder -- the paper's
    Corollary 1, ``gamma * R * ||Z'||_2 * ||u|| * ||Z' u||`` (``Z'`` the retained rows, ``R`` their
    largest norm), with the integral remainder's factor 1/2 and the smallest Lipschitz constant of
    the loss's second derivative, ``gamma = 1 / (6 sqrt 3)`` instead of the paper's 1/4, or, when
    the step passes over the rows, the same bound taken row by row with the third derivative of each
    row's own margin -- together with ``||H u - Delta||``: to avoid forming ``H`` (``O(n d^2)``) at
    every removal, ``u`` is first solved with a Hessian cached from an earlier point, whose error is
    bounded through the Lipschitz second derivative (row by row, from each row's curvature, when the
    step passes over the rows) and charged when that is cheaper than computing the exact residual
    and refining ``u`` by conjugate gradients. That error bound comes either from the Gram matrix of
    the retained rows alone (``O(d^2)`` per removal, looser) or from one pass over the rows (``O(n
    d)``, read from a single-precision copy of the rows that the model keeps, its rounding bounded
    and charged), whichever costs less for the removal at hand (``evidence["row_pass"]`` says
    which); the cache is refreshed (``H`` at the current ``w``: the paper's exact step) when its age
    costs more than a refresh. Floating-point error is bounded and charged too. The bound starts at
    the final gradient norm of the fit. When a removal would take it above ``sigma * epsilon / c``,
    ``c = sqrt(2 log(1.5/delta))``, the model retrains on the retained rows with fresh noise and the
    bound restarts at the retrain's final gradient norm. The retrain stops under the same ``tol`` as
    a fit from zero, but starts from the weights after the Newton step, with Newton steps that reuse
    the cached Hessian factor (``evidence ["warm_steps"]`` counts them) before L-BFGS: the objective
    is strongly convex, so both reach its one minimiser, to within ``2 tol / lam`` of each other.
    ``evidence`` of each result gives the bound before and after, its parts, the remaining budget
    and whether the model retrained; ``retrained_fraction`` is 1.0 for a retrain and otherwise the
    step's share of the multiply-adds of a fit from zero.

    Two classes give one logistic head (the positive class is ``classes_[1]``); more give one
    head per class, one-vs-rest. **How epsilon composes over heads:** the ``K`` heads are one
    model whose parameter is the concatenation of theirs, trained on the sum of their objectives
    with ``b ~ N(0, sigma^2 I)`` over all ``K (d + 1)`` coordinates. Its gradient residual is the
    concatenation of the heads' residuals, whose norm is at most the sum of their norms; each
    removal charges that sum (as the authors' code does). So ``(epsilon, delta)`` is the
    guarantee for the whole multi-class model, not per head; no ``K``-fold composition is left.

    Parameters
    ----------
    lam : float, default=1e-3
        L2 strength ``lambda`` of the paper (per row: the penalty is ``lam n/2 ||w||^2`` in the
        summed objective). Must be > 0: the analysis needs a strongly convex objective.
    epsilon : float, default=1.0
        Certified-removal epsilon (> 0).
    delta : float, default=1e-4
        Certified-removal delta, in (0, 1).
    sigma : float or None, default=None
        Standard deviation of each coordinate of ``b``. None: ``sigma = c * residual_budget /
        epsilon``, so that the model may accumulate a gradient residual of ``residual_budget``
        before it retrains. Larger sigma: more removals between retrains, noisier model.
    residual_budget : float or None, default=None
        The gradient-residual norm ``eps'`` (paper scale) that sets ``sigma`` when ``sigma`` is
        None; None means 1.0. Passing both ``sigma`` and ``residual_budget`` is an error.
    fit_intercept : bool, default=True
        Append the constant feature ``intercept_scaling``; its weight (the intercept) is
        penalised like the others.
    intercept_scaling : float, default=1.0
        Value of the constant feature. Rows then have norm up to ``sqrt(1 + s^2)``, which the
        bound uses as ``R``.
    feature_norm : {"clip", "raise"}, default="clip"
        The certificate needs ``||x_i|| <= 1``. ``"clip"`` scales every row above norm 1 to norm
        1, in ``fit`` and in prediction alike (a fixed per-row map, so retraining with it is
        still the algorithm that is certified); a ``UserWarning`` says how many rows were
        scaled. ``"raise"`` refuses such rows with a ``DataValidationError``. Scaling your
        features yourself (e.g. dividing by the largest row norm) is usually better than
        clipping.
    max_iter : int, default=1000
        Most L-BFGS iterations per head (Newton steps then polish the solution).
    tol : float, default=1e-10
        Target norm of the gradient of ``L_b / n``. The norm actually reached (times ``n``)
        starts the accountant's bound, so an inexact fit is charged, never ignored.
    random_state : int, RandomState instance or None, default=None
        Seeds the noise ``b`` of the fit and of every retrain after it.
    on_budget_exhausted : {"retrain", "raise"}, default="retrain"
        What a removal that would exceed the budget does: retrain on the retained rows with
        fresh noise, or raise ``BudgetExhaustedError`` and leave the model unchanged.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
    n_features_in_ : int
    feature_names_in_ : ndarray of str, present when fitted on a DataFrame
    accountant_ : RemovalAccountant
        A copy of the removal accountant.
    remaining_budget_ : float
        What further removals may add to the gradient-residual bound before a retrain.
    fit_gradient_norm_ : float
        Gradient norm (paper scale) at which the last (re)training stopped.

    Examples
    --------
    >>> import numpy as np
    >>> from unlearnkit.certified import CertifiedLogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 5)); y = (X[:, 0] + 0.3 * rng.normal(size=400) > 0).astype(int)
    >>> X /= np.linalg.norm(X, axis=1).max()          # rows of norm <= 1
    >>> model = CertifiedLogisticRegression(lam=1e-2, sigma=1.0, random_state=0).fit(X, y)
    >>> result = model.unlearn([3, 17])
    >>> str(result.guarantee), result.evidence["retrained"]
    ('certified(epsilon=1, delta=0.0001)', False)
    >>> result.evidence["bound_after"] <= result.evidence["budget"]
    True
    """

    check_data_kind = "classification"
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **_COMMON_CONSTRAINTS,
        "feature_norm": [StrOptions({"clip", "raise"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="neither")],
    }

    classes_: np.ndarray
    coef_: np.ndarray
    intercept_: np.ndarray
    _T: np.ndarray
    _W: np.ndarray
    _row_norms: np.ndarray
    _Z32: np.ndarray
    _dead: np.ndarray
    _cache: _newton.HessianCache
    _z_norm: float
    _row_norm: float

    def __init__(
        self,
        lam: float = 1e-3,
        *,
        epsilon: float = 1.0,
        delta: float = 1e-4,
        sigma: float | None = None,
        residual_budget: float | None = None,
        fit_intercept: bool = True,
        intercept_scaling: float = 1.0,
        feature_norm: str = "clip",
        max_iter: int = 1000,
        tol: float = 1e-10,
        random_state: Any = None,
        on_budget_exhausted: str = "retrain",
    ) -> None:
        self.lam = lam
        self.epsilon = epsilon
        self.delta = delta
        self.sigma = sigma
        self.residual_budget = residual_budget
        self.fit_intercept = fit_intercept
        self.intercept_scaling = intercept_scaling
        self.feature_norm = feature_norm
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.on_budget_exhausted = on_budget_exhausted

    # -- public API -------------------------------------------------------------------------
    def fit(self, X: Any, y: Any, *, sample_ids: Any = None, sample_weight: Any = None) -> Self:
        """Fit on ``X, y`` with fresh noise; rows are addressed by ``sample_ids``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows of Euclidean norm at most 1 (see ``feature_norm``).
        y : array-like of shape (n_samples,)
            Class labels, at least two classes.
        sample_ids : array-like of shape (n_samples,), optional
            Unique integer or string ids (``0..n-1`` by default), the handle for forgetting.
        sample_weight : None
            Not supported; passing weights raises ``DataValidationError``.

        Returns
        -------
        self
        """
        sigma = self._check_fit_inputs(sample_weight)
        Xv, yv, _ = self._start_fit(X, y, sample_ids, None)
        assert yv is not None
        try:
            self.classes_, self._T = _targets(yv)
            self._Z = self._design(self._bounded(Xv, fitting=True))
            self._row_norms = np.linalg.norm(self._Z, axis=1)
            self._Z32 = self._Z.astype(np.float32)
            self._rng = self._new_rng()
            self._sigma = sigma
            noise = self._draw_noise(self._rng, (self._T.shape[1], self._Z.shape[1]))
            self.__dict__.update(self._train(np.arange(len(Xv)), noise))
            self._start_accounting(sigma, self._fit_bound)
        except BaseException:
            self._abort_fit()
            raise
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """``w . z`` per head: shape (n,) for two classes, (n, n_classes) otherwise."""
        scores = self._design(self._bounded(self._check_X(X), fitting=False)) @ self._W.T
        return np.asarray(scores[:, 0] if len(self.classes_) == 2 else scores)

    def predict(self, X: Any) -> np.ndarray:
        """The predicted class of each row of ``X``."""
        scores = self.decision_function(X)
        if len(self.classes_) == 2:
            return np.asarray(self.classes_[(scores > 0).astype(int)])
        return np.asarray(self.classes_[np.argmax(scores, axis=1)])

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_`` (one-vs-rest heads are
        normalised to sum to one, as scikit-learn does)."""
        scores = self.decision_function(X)
        if len(self.classes_) == 2:
            p = expit(scores)
            return np.column_stack([1.0 - p, p])
        p = expit(scores)
        return np.asarray(p / p.sum(axis=1, keepdims=True))

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Logarithm of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    # -- internals ---------------------------------------------------------------------------
    def _bounded(self, X: np.ndarray, *, fitting: bool) -> np.ndarray:
        """Apply the ``feature_norm`` policy to raw rows."""
        norms = np.linalg.norm(X, axis=1)
        over = norms > 1.0 + _NORM_SLACK
        if not np.any(over):
            return X
        if self.feature_norm == "raise":
            if not fitting:
                return X
            positions = np.flatnonzero(over)
            raise DataValidationError(
                f"{len(positions)} row(s) of X have Euclidean norm above 1 (largest "
                f"{norms.max():.4g}, rows {preview(positions.tolist())}); the certificate needs "
                "||x|| <= 1. Divide X by its largest row norm (and do the same at prediction), "
                "or pass feature_norm='clip' to scale those rows to norm 1."
            )
        if fitting:
            warnings.warn(
                f"{int(over.sum())} of {len(X)} rows have norm above 1 and were scaled to norm "
                "1 (feature_norm='clip'), as they will be at prediction. Scale the features so "
                "that every row has norm <= 1 to keep their magnitudes.",
                UserWarning,
                stacklevel=3,
            )
        out = X.copy()
        out[over] /= norms[over, None]
        return out

    def _train(
        self,
        rows: np.ndarray,
        noise: np.ndarray,
        warm: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> dict[str, Any]:
        """Attributes of a model trained on stored rows ``rows`` with ``noise``: from zero, or
        (:meth:`_warm_train`) from the weights ``warm[1]`` after removing the rows
        ``warm[0]``."""
        if warm is not None:
            return self._warm_train(rows, noise, *warm)
        Z = self._Z[rows]
        W, info = _newton.fit_logistic(
            Z, self._T[rows], noise, float(self.lam), float(self.tol), int(self.max_iter)
        )
        self._warn_unconverged(info, len(rows))
        gram = Z.T @ Z
        z_norm, norm_work = _newton.spectral_norm(Z, gram)
        row_norm = float(self._row_norms[rows].max())
        dead = np.setdiff1d(np.arange(len(self._Z)), rows)
        # the Gram matrix is downdated by at most every row it sums: twice their squared norms
        magnitude = 2.0 * float(self._row_norms[rows] @ self._row_norms[rows])
        cache = _newton.hessian_cache(
            self._Z, W, dead, float(self.lam), row_norm, gram, len(rows), magnitude
        )
        cache_work = cache.cost * self._Z.size
        return {
            "_noise": noise,
            "_W": W,
            "_cache": cache,
            "_dead": dead,
            "_z_norm": z_norm,
            "_row_norm": row_norm,
            "_fit_grad_norm": info.grad_norm,
            "_fit_bound": info.grad_norm + info.rounding,
            "_fit_work": info.work + norm_work + cache_work,
            "_retrain_work": info.work + norm_work + cache_work,
            **self._public(W),
        }

    def _warm_train(
        self, rows: np.ndarray, noise: np.ndarray, gone: np.ndarray, start: np.ndarray
    ) -> dict[str, Any]:
        """A retrain on ``rows`` with ``noise`` that starts from the weights ``start`` and takes
        Newton steps with the cached Hessian factor first (:func:`_newton.fit_logistic`). It
        stops under the same ``tol`` as a fit from zero, and the objective has one minimiser,
        so it is that fit up to the tolerance both reach; its final gradient norm restarts the
        bound as a fit's does. What does not depend on the weights is carried over instead of
        recomputed: the Gram matrix of the rows (downdated by the rows removed since the last
        refresh and by ``gone``), and the bounds on ``||Z||_2`` and on the row norms, both
        taken over a superset of ``rows``."""
        cache = self._cache
        W, info = _newton.fit_logistic(
            self._Z[rows],
            self._T[rows],
            noise,
            float(self.lam),
            float(self.tol),
            int(self.max_iter),
            start=start,
            chols=cache.chols,
        )
        self._warn_unconverged(info, len(rows))
        gram, terms = cache.gram, cache.gram_terms
        if gram is not None:
            Zd = self._Z[np.concatenate([cache.since, gone]).astype(np.intp)]
            gram = gram - Zd.T @ Zd
            terms += len(Zd)
        dead = np.setdiff1d(np.arange(len(self._Z)), rows)
        cache = _newton.hessian_cache(
            self._Z, W, dead, float(self.lam), self._row_norm, gram, terms, cache.gram_magnitude
        )
        return {
            "_noise": noise,
            "_W": W,
            "_cache": cache,
            "_dead": dead,
            "_fit_grad_norm": info.grad_norm,
            "_fit_bound": info.grad_norm + info.rounding,
            "_retrain_work": info.work + cache.cost * self._Z.size,
            "_warm_steps": info.warm_steps,
            **self._public(W),
        }

    def _warn_unconverged(self, info: _newton.FitInfo, n_rows: int) -> None:
        worst = max(info.head_grad_norms) / n_rows
        if worst > float(self.tol):
            warnings.warn(
                f"The fit stopped at gradient norm {worst:.3g} of the "
                f"mean objective, above tol={self.tol:g}; the residual is charged to the "
                "removal budget. Increase max_iter to converge further.",
                ConvergenceWarning,
                stacklevel=4,
            )

    def _public(self, W: np.ndarray) -> dict[str, Any]:
        if self.fit_intercept:
            return {"coef_": W[:, :-1].copy(), "intercept_": W[:, -1] * self.intercept_scaling}
        return {"coef_": W.copy(), "intercept_": np.zeros(len(W))}

    def _forget_rows(self, rows: np.ndarray) -> Change:
        dead = np.concatenate([self._dead, rows])
        before = self._accountant
        step = _newton.logistic_removal(
            self._Z,
            self._T,
            self._W,
            dead,
            rows,
            float(self.lam),
            self._cache,
            self._z_norm,
            self._row_norm,
            self._row_norms,
            self._retrain_work / self._Z.size / self._accountant.budget,
            self._Z32,
        )
        acc, retrain = self._decide(rows, step.increment)
        extra: dict[str, Any] = {
            "taylor_term": float(sum(step.taylor_terms)),
            "solve_term": float(sum(step.solve_terms)),
            "rounding_allowance": step.rounding,
            "solve_iterations": int(sum(step.solve_iterations)),
            "exact_residual": bool(any(step.exact_residual)),
            "row_pass": bool(any(step.row_pass)),
            "hessian_refreshed": step.refreshed,
            "heads": len(self._W),
            "warm_steps": 0,
        }
        if retrain:
            keep_rows = self._store.retained(excluding=rows)
            rng = copy.deepcopy(self._rng)
            noise = self._draw_noise(rng, self._noise.shape)
            state = self._train(keep_rows, noise, warm=(rows, step.W))
            self._check_fit_residual(state["_fit_bound"], acc)
            acc.restart(state["_fit_bound"], removed=len(rows))
            extra["warm_steps"] = state.pop("_warm_steps")
            self.__dict__.update(state)
            self._rng = rng
            fraction = 1.0
        else:
            self._W = step.W
            self._cache = step.cache
            self._dead = dead
            self.__dict__.update(self._public(step.W))
            fraction = min(1.0, step.work / self._fit_work)
        self._accountant = acc
        evidence = self._evidence(rows, before, acc, step.increment, retrain, extra)
        evidence["newton_work_share"] = step.work / self._fit_work
        return Change(fraction, evidence)


@register_method("certified_ridge", task="regression")
class CertifiedRidge(RegressorMixin, _CertifiedLinear):
    """Ridge regression on a perturbed objective, with certified (here: exact) removal.

    The same construction as :class:`CertifiedLogisticRegression` for the squared loss:
    ``fit`` minimises ``mean_i (w.z_i - y_i)^2 / 2 + lam/2 ||w||^2 + b.w / n`` (the paper's
    scaling divided by ``n``) with ``b ~ N(0, sigma^2 I)``, in closed form. Because the loss is
    quadratic its Hessian does not depend on ``w``, so the paper's Newton step
    ``w + H^{-1} Delta`` lands exactly on the minimiser for the retained rows with the same
    noise: the Taylor term of the residual bound is zero and no feature-norm condition is
    needed. What is charged to the accountant is the floating-point gradient residual, measured
    from the sufficient statistics after each removal; it stays at rounding level, so the budget
    is in practice never spent and the model never retrains. The ``(epsilon, delta)``
    guarantee therefore holds a fortiori; the noise makes the trained model itself
    ``b``-perturbed as the certificate defines it.

    Removal downdates ``Z^T Z`` and ``Z^T y`` and solves one ``(d+1) x (d+1)`` system:
    ``O(k d^2 + d^3)`` work, independent of the number of rows kept.

    Parameters
    ----------
    lam : float, default=1e-3
        L2 strength ``lambda`` of the paper (per row), > 0.
    epsilon : float, default=1.0
        Certified-removal epsilon (> 0).
    delta : float, default=1e-4
        Certified-removal delta, in (0, 1).
    sigma : float or None, default=None
        Standard deviation of each coordinate of ``b``; None: ``c * residual_budget / epsilon``.
    residual_budget : float or None, default=None
        Sets ``sigma`` when it is None (None means 1.0); not together with ``sigma``.
    fit_intercept : bool, default=True
        Append the constant feature ``intercept_scaling``; the intercept is penalised.
    intercept_scaling : float, default=1.0
        Value of the constant feature.
    random_state : int, RandomState instance or None, default=None
        Seeds the noise ``b``.
    on_budget_exhausted : {"retrain", "raise"}, default="retrain"
        As in :class:`CertifiedLogisticRegression` (only rounding could ever trigger it).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    n_features_in_ : int
    feature_names_in_ : ndarray of str, present when fitted on a DataFrame
    accountant_ : RemovalAccountant
    remaining_budget_ : float
    fit_gradient_norm_ : float

    Examples
    --------
    >>> import numpy as np
    >>> from unlearnkit.certified import CertifiedRidge
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3)); y = X @ [1.0, -2.0, 0.5] + 0.1 * rng.normal(size=200)
    >>> model = CertifiedRidge(lam=1e-2, sigma=1.0, random_state=0).fit(X, y)
    >>> result = model.unlearn([0, 1, 2])
    >>> result.evidence["bound_after"] < 1e-9, result.evidence["retrained"]
    (True, False)
    """

    check_data_kind = "regression"
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = dict(_COMMON_CONSTRAINTS)

    coef_: np.ndarray
    intercept_: float
    _w: np.ndarray
    _y: np.ndarray
    _gram: np.ndarray
    _moment: np.ndarray
    _magnitude: tuple[float, float]
    _terms: int

    def __init__(
        self,
        lam: float = 1e-3,
        *,
        epsilon: float = 1.0,
        delta: float = 1e-4,
        sigma: float | None = None,
        residual_budget: float | None = None,
        fit_intercept: bool = True,
        intercept_scaling: float = 1.0,
        random_state: Any = None,
        on_budget_exhausted: str = "retrain",
    ) -> None:
        self.lam = lam
        self.epsilon = epsilon
        self.delta = delta
        self.sigma = sigma
        self.residual_budget = residual_budget
        self.fit_intercept = fit_intercept
        self.intercept_scaling = intercept_scaling
        self.random_state = random_state
        self.on_budget_exhausted = on_budget_exhausted

    def fit(self, X: Any, y: Any, *, sample_ids: Any = None, sample_weight: Any = None) -> Self:
        """Fit on ``X, y`` with fresh noise; rows are addressed by ``sample_ids``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            One numeric target per row.
        sample_ids : array-like of shape (n_samples,), optional
            Unique integer or string ids (``0..n-1`` by default).
        sample_weight : None
            Not supported; passing weights raises ``DataValidationError``.

        Returns
        -------
        self
        """
        sigma = self._check_fit_inputs(sample_weight)
        Xv, yv, _ = self._start_fit(X, y, sample_ids, None)
        assert yv is not None
        try:
            if yv.ndim != 1:
                raise DataValidationError(
                    f"y must hold one target per row (shape (n,)), got shape {yv.shape}; "
                    "fit one model per target."
                )
            self._y = np.asarray(yv, dtype=np.float64)
            self._Z = self._design(Xv)
            self._rng = self._new_rng()
            self._sigma = sigma
            noise = self._draw_noise(self._rng, (self._Z.shape[1],))
            self.__dict__.update(self._train(np.arange(len(Xv)), noise))
            self._start_accounting(sigma, self._fit_bound)
        except BaseException:
            self._abort_fit()
            raise
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predict targets for ``X``."""
        return np.asarray(self._design(self._check_X(X)) @ self._w)

    def _train(self, rows: np.ndarray, noise: np.ndarray) -> dict[str, Any]:
        Z, y = self._Z[rows], self._y[rows]
        w, gram, moment = _newton.fit_ridge(Z, y, noise, float(self.lam))
        n, p = Z.shape
        residual = _newton.ridge_residual(gram, moment, noise, float(self.lam), n, w)
        state: dict[str, Any] = {
            "_noise": noise,
            "_w": w,
            "_gram": gram,
            "_moment": moment,
            # what the statistics have summed so far, for their rounding allowance
            "_magnitude": _ridge_magnitude(Z, y),
            "_terms": n + p,
            "_fit_grad_norm": residual,
            "_fit_work": _newton.GEMM_SHARE * (n * p * (p + 1) / 2 + p**3 / 3) + n * p,
            **self._public(w),
        }
        state["_fit_bound"] = residual + self._rounding(state, n, w, noise)
        return state

    def _rounding(self, state: dict[str, Any], n: float, w: np.ndarray, b: np.ndarray) -> float:
        """How far the residual computed from the statistics can be from the exact one."""
        gram_mag, moment_mag = state["_magnitude"]
        w_norm = float(np.linalg.norm(w))
        magnitude = gram_mag * w_norm + moment_mag + float(self.lam) * n * w_norm
        return _newton.rounding_allowance(state["_terms"], magnitude + float(np.linalg.norm(b)))

    def _public(self, w: np.ndarray) -> dict[str, Any]:
        if self.fit_intercept:
            return {"coef_": w[:-1].copy(), "intercept_": float(w[-1] * self.intercept_scaling)}
        return {"coef_": w.copy(), "intercept_": 0.0}

    def _forget_rows(self, rows: np.ndarray) -> Change:
        keep_rows = self._store.retained(excluding=rows)
        before = self._accountant
        lam = float(self.lam)
        n_keep = len(keep_rows)
        w, gram, moment = _newton.ridge_removal(
            self._w, self._gram, self._moment, lam, n_keep, self._Z[rows], self._y[rows]
        )
        residual = _newton.ridge_residual(gram, moment, self._noise, lam, n_keep, w)
        gone_mag = _ridge_magnitude(self._Z[rows], self._y[rows])
        counts = {
            "_magnitude": (
                self._magnitude[0] + gone_mag[0],
                self._magnitude[1] + gone_mag[1],
            ),
            "_terms": self._terms + len(rows),
        }
        rounding = self._rounding(counts, n_keep, w, self._noise)
        # The Taylor term is zero for a quadratic loss: only rounding is charged, as the excess
        # of the measured residual (plus its rounding allowance) over the bound carried so far.
        increment = max(0.0, residual + rounding - before.bound)
        acc, retrain = self._decide(rows, increment)
        if retrain:
            rng = copy.deepcopy(self._rng)
            state = self._train(keep_rows, self._draw_noise(rng, self._noise.shape))
            self._check_fit_residual(state["_fit_bound"], acc)
            acc.restart(state["_fit_bound"], removed=len(rows))
            self.__dict__.update(state)
            self._rng = rng
            fraction = 1.0
        else:
            self._w, self._gram, self._moment = w, gram, moment
            self.__dict__.update(counts)
            self.__dict__.update(self._public(w))
            p = len(w)
            gemm = _newton.GEMM_SHARE * (len(rows) * p * (p + 1) / 2 + p**3 / 3)
            fraction = (gemm + 2 * len(rows) * p + 3 * p * p) / self._fit_work
        self._accountant = acc
        evidence = self._evidence(
            rows,
            before,
            acc,
            increment,
            retrain,
            {"measured_residual": residual, "rounding_allowance": rounding},
        )
        return Change(min(1.0, fraction), evidence)


def _ridge_magnitude(Z: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Sums of |terms| that ``Z^T Z`` and ``Z^T y`` take in (norm-wise)."""
    norms = np.linalg.norm(Z, axis=1)
    return float(norms @ norms), float(norms @ np.abs(y))


def _targets(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Classes and the +-1 targets of each head (one head for two classes)."""
    try:
        check_classification_targets(y)
    except ValueError as exc:
        raise DataValidationError(
            f"{exc}. CertifiedLogisticRegression needs class labels (integers or strings), "
            "not continuous targets; use CertifiedRidge for regression."
        ) from None
    classes = np.unique(y)
    if len(classes) < 2:
        raise DataValidationError(
            f"y holds a single class {preview(classes.tolist())}; logistic regression needs at "
            "least two classes."
        )
    if len(classes) == 2:
        T = np.where(y == classes[1], 1.0, -1.0)[:, None]
    else:
        T = np.where(y[:, None] == classes[None, :], 1.0, -1.0)
    return classes, np.ascontiguousarray(T)
