"""Numerical core of certified removal (Guo, Goldstein, Hannun & van der Maaten, ICML 2020).

Scaling
-------
The paper writes the perturbed objective of a training set ``D`` of ``n`` rows ``z_i`` as

    L_b(w; D) = sum_i loss(w . z_i, y_i) + lam * n / 2 * ||w||^2 + b . w

Every quantity that enters the certificate here -- gradients, gradient residuals, Hessians,
the removal direction ``Delta`` and the residual bounds -- is in this *sum* scale, so that the
noise standard deviation ``sigma`` and the budget ``sigma * epsilon / c`` mean what they mean in
the paper. The optimiser minimises ``L_b / n`` instead (the same minimiser, numbers of order
one).

Removal of the rows ``R`` from a model ``w`` (Algorithm 1 of the paper) takes one Newton step on
the objective of the retained rows ``D'``::

    Delta = sum_{j in R} (grad loss_j(w) + lam * w)
    H     = Hessian of L_b(.; D') at w  =  Z'^T diag(loss'') Z' + lam * n' * I
    w-    = w + H^{-1} Delta

With ``r = grad L_b(w; D)`` the residual the model had before the removal, the residual after
it is ``r + (H u - Delta) + E`` with ``u`` the solved step and ``E = Z'^T e`` the Taylor
remainder, ``e_i = int_0^1 (loss''(m_i + t a_i) - loss''(m_i)) a_i dt`` (``m_i`` the margin,
``a_i = z_i . u``). The bounds therefore add up over sequential removals. Corollary 1 of the
paper bounds ``||E||`` by ``gamma * R * ||Z'||_2 * ||u|| * ||Z' u||`` (``gamma = 1/4`` a
Lipschitz constant of ``loss''``, ``R`` the largest row norm). The same argument with the
integral remainder (a factor 1/2) and the smallest Lipschitz constant ``1 / (6 sqrt 3)``
gives ``||E|| <= ||Z'||_2 * ||e||`` with ``|e_i| <= a_i^2 / 2 * max |loss'''|`` over the
segment from ``m_i`` to ``m_i + a_i``: that row-by-row bound (:func:`taylor_bound`) is charged
when the step passes over the rows, and ``1 / (12 sqrt 3) * R * ||Z'||_2 * ||u|| * ||Z' u||``
(Corollary 1, 5.2 times smaller) when it does not. Both are upper bounds on ``||E||``, never
estimates; well-classified rows, whose third derivative is small, add almost nothing to the
first.

How ``H u = Delta`` is solved. Forming ``H`` at every removal would cost ``O(n d^2)``, as much
as a good part of a retrain. The model therefore keeps the Cholesky factor of a Hessian ``M``
taken at an earlier point ``w_M`` (the last *refresh*) and uses ``u = M^{-1} Delta``. Then
``H u - Delta = (H - M) u`` with

    (H - M) u = Z'^T diag(loss''(Z' w) - loss''(Z_M w_M)) Z' u  -  (rows of M removed since) u,

and the first part has norm at most ``||Z'||_2 * ||d * (Z' u)||`` (element-wise product) with
``d_i`` bounding ``|loss''(z_i . w) - loss''(z_i . w_M)|``; the second part is bounded row by
row (``sum_j loss''_j ||z_j|| |z_j . u|`` over the few rows concerned, plus the change of the
``lam * n`` term). That *drift* bound is charged in one of two ways, whichever is cheaper for
the call:

* **Gram path** (``O(p^2 + k p)``, ``k`` the rows removed since the refresh): the model keeps
  the Gram matrix ``G`` of the rows retained at the refresh (downdated by the removed rows at
  each refresh), so ``||Z' u||^2 = u^T G u - sum_j (z_j . u)^2`` over those ``k`` rows, and
  bounds every row's drift at once through the Lipschitz constant, ``d_i <= R ||w - w_M|| /
  (6 sqrt 3)``. No pass over the rows; the drift and Taylor bounds are looser.
* **Row pass** (``O(n p)``): one product ``Z u`` and the margins the model keeps give ``Z' u``
  and the curvature of every row at ``w``, hence ``d_i`` itself (the computed curvature gap
  plus its rounding, :func:`curvature_drift`) and the row-by-row Taylor bound. The product is
  read from a single-precision copy of ``Z`` when the model keeps one (half the memory
  traffic, which is what a pass over many rows waits for), and its proven error bound
  (:func:`single_product`, about ``p * 6e-8`` of ``R ||u||`` per entry) enters every bound
  that uses it. Margins left behind by Gram steps are recomputed first (one more pass, in
  double precision, once after each run of Gram steps).

Charging a bound spends budget, and spent budget means earlier retrains. With
``budget_value`` the passes over the rows a unit of budget is worth (the last retrain's
passes, or the fit's before any retrain, divided by the budget), the Gram path is taken when
the budget it burns beyond an exact solve is worth at most ``ROW_PASSES`` (one) pass -- what
the row pass would cost -- and otherwise the row pass is done. It pays where the drift stays
small between refreshes and refreshes are cheap (few features: on the Taiwan credit data,
``p = 24``, every removal took it); with many features (Fashion-MNIST, ``p = 785``) a refresh
costs dozens of passes and the looser bound outgrows one pass a few removals after each
refresh, so most removals pass over the rows. When even the row pass's bound burns budget
worth more than ``EXACT_PASSES`` passes, the exact residual ``H u - Delta`` is computed with
the Hessian at ``w`` and the step is refined by preconditioned conjugate gradients until the
residual is below ``SOLVE_SHARE`` of the Taylor term; the residual reached is charged. (Either
way the model's gradient residual stays below the budget, which is what bounds its distance
from the exact minimiser.) The cached Hessian is refreshed -- recomputed at the current
weights on the retained rows, which makes that removal exactly the paper's step with ``H`` at
``w`` -- as soon as what its age has cost since the last refresh (budget burnt, in passes, and
passes beyond one per removal) exceeds what a refresh costs.

Every charged quantity also carries a bound on its floating-point error
(:func:`rounding_allowance`): the computed ``Delta`` and the margins it is read at, the entries of
``Z u`` (in single precision, :func:`single_product`), the Gram matrix (a sum of at most ``2 n`` row
products, whatever the order of downdates), the margins kept across removals, the computed
curvatures (``CURVATURE_ROUNDING``), the formation and Cholesky solve of the cached Hessian (below
eps-multiples of its trace), the rounding of ``w + u`` and of the sum of the parts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import scipy.linalg
import scipy.optimize
from scipy.linalg.lapack import dpotrs
from scipy.special import expit

__all__ = [
    "CURVATURE_LIPSCHITZ",
    "FOURTH_DERIVATIVE_MAX",
    "FitInfo",
    "HessianCache",
    "RemovalStep",
    "curvature_drift",
    "design",
    "fit_logistic",
    "fit_ridge",
    "hessian_cache",
    "logistic_gradients",
    "logistic_removal",
    "ridge_removal",
    "ridge_residual",
    "rounding_allowance",
    "single_product",
    "spectral_norm",
    "taylor_bound",
]

#: The smallest Lipschitz constant of the logistic loss's second derivative,
#: ``max |s (1 - s) (1 - 2 s)| = 1 / (6 sqrt 3) ~ 0.096`` over ``s = sigmoid(m)`` (the paper's
#: ``gamma = 1/4`` is a larger one): the largest third derivative of the loss.
CURVATURE_LIPSCHITZ = 1.0 / (6.0 * np.sqrt(3.0))
#: The largest fourth derivative of the logistic loss, ``max |c (1 - 6 c)| = 1/8`` over the
#: curvature ``c = s (1 - s)`` in ``(0, 1/4]``: a Lipschitz constant of its third derivative.
FOURTH_DERIVATIVE_MAX = 0.125
#: Unit roundoff and smallest subnormal of single precision (the row pass's products).
_U32 = float(np.finfo(np.float32).eps) / 2.0
_TINY32 = float(np.finfo(np.float32).smallest_subnormal)
#: Newton iterations that polish the L-BFGS solution to the requested gradient norm.
POLISH_STEPS = 25
#: Most Newton steps a warm fit takes with a cached Hessian factor (each must halve the
#: gradient norm) before L-BFGS takes over.
WARM_STEPS = 30
#: The conjugate-gradient solve stops once its residual is below this share of the Taylor term.
SOLVE_SHARE = 1e-2
#: Passes over the rows the exact residual and one refinement cost, against which the budget
#: a cached-Hessian step burns is weighed.
EXACT_PASSES = 3.0
#: Passes over the rows the per-row drift bound costs (one product ``Z [u, w - w_M]``): the
#: Gram path's looser drift bound is taken when the budget it burns beyond a solve is worth
#: at most this many passes.
ROW_PASSES = 1.0
#: Bound on the absolute rounding error of a computed curvature ``s (1 - s)``,
#: ``s = expit(m)`` (an error of a few ulps in ``s`` and in ``1 - s``).
CURVATURE_ROUNDING = 16.0 * float(np.finfo(np.float64).eps)
#: Most conjugate-gradient iterations per removal and head (the rest is charged to the bound).
MAX_SOLVE_ITER = 50
#: Work is counted in multiply-adds, those of matrix-matrix products and factorisations (Gram
#: and Hessian matrices, Cholesky) at this fraction of those of matrix-vector products: BLAS runs
#: them about that much faster. The counts decide when to refresh the cached Hessian and give
#: ``retrained_fraction``; they never enter a bound.
GEMM_SHARE = 1.0 / 6.0


def _cho_solve(chol: tuple[np.ndarray, bool], b: np.ndarray) -> np.ndarray:
    """``scipy.linalg.cho_solve`` without its input checks: the factor is ours and ``b`` is
    finite float64, and a removal solves many small systems."""
    x, info = dpotrs(chol[0], b, lower=chol[1])
    if info != 0:
        raise np.linalg.LinAlgError(f"LAPACK dpotrs failed (info = {info}).")
    return np.asarray(x)


def design(X: np.ndarray, *, fit_intercept: bool, intercept_scaling: float) -> np.ndarray:
    """The rows the model sees: ``x``, then the constant ``intercept_scaling`` when
    ``fit_intercept``."""
    Z = np.asarray(X, dtype=np.float64)
    if fit_intercept:
        Z = np.hstack([Z, np.full((len(Z), 1), float(intercept_scaling))])
    return np.ascontiguousarray(Z)


_EPS = float(np.finfo(np.float64).eps)


def spectral_norm(Z: np.ndarray, gram: np.ndarray) -> tuple[float, float]:
    """An upper bound on ``||Z||_2`` (the largest singular value, from the eigenvalues of
    ``gram``, the computed ``Z^T Z``, plus their rounding error) and the multiply-adds spent
    computing both."""
    n, p = Z.shape
    top = float(scipy.linalg.eigvalsh(gram, subset_by_index=[p - 1, p - 1])[0])
    top += rounding_allowance(n + p, float(np.trace(gram)))
    return float(np.sqrt(max(top, 0.0))), GEMM_SHARE * (n * p * (p + 1) / 2 + 4 * p**3)


def rounding_allowance(n_terms: int, magnitude: float) -> float:
    """Worst-case floating-point error of a computed sum of ``n_terms`` terms whose absolute
    values add up to ``magnitude`` (``2 (n_terms + 2) eps magnitude``). Added to every computed
    residual that enters the bound, so that rounding is never what makes it hold."""
    return 2.0 * (n_terms + 2) * _EPS * float(magnitude)


# -- logistic regression ---------------------------------------------------------------------


@dataclass
class FitInfo:
    """What a fit did: the final gradient norm (paper scale) and the work spent.

    ``warm_steps`` counts the Newton steps a warm fit took with the cached Hessian factor.

    ``grad_norm`` is the norm of the computed joint gradient of all heads; ``rounding`` bounds
    how far the exact gradient norm can be from it. The accountant starts at their sum.
    """

    grad_norm: float
    rounding: float
    lbfgs_iterations: int
    function_evaluations: int
    newton_steps: int
    work: float
    head_grad_norms: list[float] = field(default_factory=list)
    warm_steps: int = 0


def _head_objective(
    w: np.ndarray, Z: np.ndarray, t: np.ndarray, b: np.ndarray, lam: float
) -> tuple[float, np.ndarray]:
    """``L_b / n`` and its gradient for one binary head (targets ``t`` in {-1, +1})."""
    n = len(Z)
    m = t * (Z @ w)
    f = (np.logaddexp(0.0, -m).sum() + b @ w) / n + 0.5 * lam * (w @ w)
    g = (Z.T @ (-t * expit(-m)) + b) / n + lam * w
    return float(f), g


def _head_hessian(w: np.ndarray, Z: np.ndarray, t: np.ndarray, lam: float) -> np.ndarray:
    """Hessian of ``L_b / n`` at ``w``."""
    m = t * (Z @ w)
    Zs = Z * np.sqrt(expit(m) * expit(-m))[:, None]
    H = Zs.T @ Zs / len(Z)
    H.flat[:: H.shape[0] + 1] += lam
    return H


def _head_rounding(
    w: np.ndarray, Z: np.ndarray, t: np.ndarray, b: np.ndarray, lam: float, norms: np.ndarray
) -> float:
    """Bound on the rounding error of the computed paper-scale gradient of one head."""
    n, p = Z.shape
    m = t * (Z @ w)
    magnitude = float(expit(-m) @ norms) + lam * n * float(np.linalg.norm(w))
    magnitude += float(np.linalg.norm(b))
    # margins themselves carry p-term rounding; the loss derivative is 1/4-Lipschitz in them
    margin_error = rounding_allowance(p, float(norms.max()) * float(np.linalg.norm(w)))
    return rounding_allowance(n + p, magnitude) + 0.25 * margin_error * float(norms.sum())


def _warm_steps(
    w: np.ndarray,
    Z: np.ndarray,
    t: np.ndarray,
    b: np.ndarray,
    lam: float,
    tol: float,
    chol: tuple[np.ndarray, bool],
) -> tuple[np.ndarray, int, int, float]:
    """Newton steps from ``w`` with a fixed Hessian factor ``chol`` (paper scale) while each at
    least halves the gradient norm: the weights reached, the steps taken, the objective
    evaluations and the work."""
    n, p = Z.shape
    _, g = _head_objective(w, Z, t, b, lam)
    nfev, steps, work = 1, 0, 2.0 * n * p
    for _ in range(WARM_STEPS):
        gnorm = float(np.linalg.norm(g))
        if gnorm <= tol:
            break
        # the factor is of the summed objective, n times the Hessian of the mean one
        trial = w - n * _cho_solve(chol, g)
        _, g_new = _head_objective(trial, Z, t, b, lam)
        nfev += 1
        work += 2.0 * n * p + 2.0 * p * p
        if float(np.linalg.norm(g_new)) > 0.5 * gnorm:
            break
        w, g = trial, g_new
        steps += 1
    return w, steps, nfev, work


def _fit_head(
    Z: np.ndarray,
    t: np.ndarray,
    b: np.ndarray,
    lam: float,
    tol: float,
    max_iter: int,
    start: np.ndarray | None = None,
    chol: tuple[np.ndarray, bool] | None = None,
) -> tuple[np.ndarray, float, float, int, int, int, int, float]:
    n, p = Z.shape
    w = np.zeros(p) if start is None else np.array(start, dtype=np.float64)
    nfev = warm = nit = 0
    work = 0.0
    g = None
    if chol is not None:
        w, warm, nfev, work = _warm_steps(w, Z, t, b, lam, tol, chol)
        _, g = _head_objective(w, Z, t, b, lam)
        nfev += 1
        work += 2.0 * n * p
    if g is None or float(np.linalg.norm(g)) > tol:
        res = scipy.optimize.minimize(
            _head_objective,
            w,
            args=(Z, t, b, lam),
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": max_iter, "gtol": tol / np.sqrt(p), "ftol": 0.0, "maxcor": 20},
        )
        w = np.asarray(res.x, dtype=np.float64)
        nit = int(res.nit)
        nfev += int(res.nfev)
        work += 2.0 * n * p * int(res.nfev)
    f, g = _head_objective(w, Z, t, b, lam)
    steps = 0
    for _ in range(POLISH_STEPS):
        gnorm = float(np.linalg.norm(g))
        if gnorm <= tol:
            break
        chol_w = scipy.linalg.cho_factor(_head_hessian(w, Z, t, lam))
        work += GEMM_SHARE * (n * p * (p + 1) / 2 + p**3 / 3) + n * p
        step = -_cho_solve(chol_w, g)
        scale = 1.0
        while True:
            f_new, g_new = _head_objective(w + scale * step, Z, t, b, lam)
            nfev += 1
            work += 2.0 * n * p
            # Armijo far from the optimum; near it, where f no longer resolves the decrease,
            # a smaller gradient is the progress that counts.
            decrease = f_new <= f + 1e-4 * scale * float(g @ step)
            if decrease or np.linalg.norm(g_new) < gnorm or scale < 1e-8:
                break
            scale *= 0.5
        if np.linalg.norm(g_new) >= gnorm and f_new >= f:
            break  # no progress is possible at this precision
        w, f, g = w + scale * step, f_new, g_new
        steps += 1
    rounding = _head_rounding(w, Z, t, b, lam, np.linalg.norm(Z, axis=1))
    gnorm = float(np.linalg.norm(g)) * n
    return w, gnorm, rounding, nit, nfev, steps, warm, work


def fit_logistic(
    Z: np.ndarray,
    T: np.ndarray,
    B: np.ndarray,
    lam: float,
    tol: float,
    max_iter: int,
    *,
    start: np.ndarray | None = None,
    chols: tuple[Any, ...] | None = None,
) -> tuple[np.ndarray, FitInfo]:
    """Minimise ``L_b(w; D)`` for each head: L-BFGS, then Newton steps to ``||grad|| <= tol``.

    ``Z`` (n, p) is the design, ``T`` (n, heads) the +-1 targets, ``B`` (heads, p) the noise.
    Returns the weights (heads, p) and a :class:`FitInfo` whose ``grad_norm`` is the norm of
    the joint gradient of all heads in the paper's scale.

    A *warm* fit starts from ``start`` (heads, p) instead of zero and, with ``chols`` (a
    Cholesky factor per head of a Hessian of the summed objective near the solution), first
    takes Newton steps with that fixed factor for as long as each halves the gradient norm.
    L-BFGS and the Newton polish then go on from there only if the gradient is still above
    ``tol``. The objective is strongly convex, so its minimiser is unique and a warm fit stops
    under the same ``||grad|| <= tol`` as a fit from zero: the two are within ``2 tol / lam``
    of each other (in the mean scale), whatever the start.
    """
    heads = T.shape[1]
    W = np.empty((heads, Z.shape[1]))
    norms: list[float] = []
    rounding = 0.0
    iters = nfev = steps = warm = 0
    work = 0.0
    for k in range(heads):
        W[k], gnorm, rnd, it, fe, st, ws, wk = _fit_head(
            Z,
            T[:, k],
            B[k],
            lam,
            tol,
            max_iter,
            None if start is None else start[k],
            None if chols is None else chols[k],
        )
        norms.append(gnorm)
        rounding += rnd
        iters, nfev, steps, work = iters + it, nfev + fe, steps + st, work + wk
        warm += ws
    info = FitInfo(
        grad_norm=float(np.sqrt(np.sum(np.square(norms)))),
        rounding=rounding,
        lbfgs_iterations=iters,
        function_evaluations=nfev,
        newton_steps=steps,
        work=work,
        head_grad_norms=norms,
        warm_steps=warm,
    )
    return W, info


def logistic_gradients(
    Z: np.ndarray, T: np.ndarray, W: np.ndarray, B: np.ndarray, lam: float
) -> np.ndarray:
    """``grad L_b(w_k; D)`` of every head in the paper's (sum) scale, computed from scratch."""
    M = T * (Z @ W.T)
    return np.asarray((Z.T @ (-T * expit(-M))).T + lam * len(Z) * W + B)


@dataclass(frozen=True)
class HessianCache:
    """The Hessian a removal reuses, and what its staleness is measured against.

    ``chols`` are the Cholesky factors (paper scale, one per head) of the Hessian at the
    weights ``weights`` (heads, p), summed over the ``n_rows`` rows retained at the refresh;
    ``curvature`` (heads, n) is ``loss''`` at the computed margins of ``weights``, each within
    ``margin_error`` of the exact one; ``trace`` bounds the trace of
    each factored matrix. ``margins`` are kept by the steps that pass over the rows: within
    ``tracked_error`` of ``Z @ margin_weights.T``, which the current weights have left by the
    steps taken without a pass. ``gram`` is the Gram matrix ``Z_R^T Z_R`` of the rows
    retained at the refresh (None when ``p`` is not below their number: a pass over the rows
    is then cheaper), kept by downdating and summed from ``gram_terms`` products of rows whose
    squared norms add up to at most ``gram_magnitude``. ``since`` lists the rows the Hessian
    still contains that were removed after the refresh. ``debt`` counts what the Hessian's age
    has cost since the refresh -- budget burnt by the drift bound, in passes, and passes beyond
    one per removal -- and ``cost`` what a refresh costs (both in units of ``n * p``
    multiply-adds). ``declined`` marks the heads for which the Gram path was found too loose
    since the refresh: the drift it bounds only grows, so they pass over the rows until the
    next refresh.
    """

    chols: tuple[Any, ...]
    weights: np.ndarray
    curvature: np.ndarray
    margin_error: float
    margins: np.ndarray
    margin_weights: np.ndarray
    tracked_error: float
    trace: tuple[float, ...]
    gram: np.ndarray | None
    gram_terms: int
    gram_magnitude: float
    n_rows: int
    since: np.ndarray
    debt: float
    cost: float
    declined: tuple[bool, ...]


def hessian_cache(
    Z: np.ndarray,
    W: np.ndarray,
    dead: np.ndarray,
    lam: float,
    row_norm: float,
    gram: np.ndarray | None,
    gram_terms: int,
    gram_magnitude: float,
) -> HessianCache:
    """Refresh: the Hessian of every head at ``W`` over the rows not in ``dead``.

    ``gram`` is ``Z_R^T Z_R`` over those same rows (or None), as :class:`HessianCache` keeps it.
    """
    n, p = Z.shape
    keep = np.ones(n, dtype=bool)
    keep[dead] = False
    rows = np.flatnonzero(keep)
    margins = W @ Z.T
    curvature = expit(margins)
    curvature *= 1.0 - curvature
    chols = []
    traces = []
    for k in range(W.shape[0]):
        # rows not retained get weight zero: an exact zero term, and no copy of the kept rows
        scale = np.sqrt(curvature[k])
        scale[dead] = 0.0
        Zs = Z * scale[:, None]
        H = Zs.T @ Zs
        H.flat[:: p + 1] += lam * len(rows)
        traces.append(_up(float(np.trace(H)), p))
        chols.append(scipy.linalg.cho_factor(H))
    w_norm = _up(float(np.linalg.norm(W, axis=1).max()), p)
    heads = W.shape[0]
    margin_error = rounding_allowance(p, row_norm * w_norm)
    return HessianCache(
        chols=tuple(chols),
        weights=W.copy(),
        curvature=curvature,
        margin_error=margin_error,
        margins=margins,
        margin_weights=W.copy(),
        tracked_error=margin_error,
        trace=tuple(traces),
        gram=gram if p < len(rows) else None,
        gram_terms=gram_terms,
        gram_magnitude=gram_magnitude,
        n_rows=len(rows),
        since=np.empty(0, dtype=np.intp),
        debt=0.0,
        cost=heads * (GEMM_SHARE * ((p + 1) / 2 + p * p / (3 * n)) + 2),
        declined=(False,) * heads,
    )


@dataclass
class RemovalStep:
    """One Newton removal: the new weights, the bound on the residual it adds, and the updated
    Hessian cache.

    ``increment`` is the sum over heads of the Taylor term, the solve term (the bound on, or
    the computed value of, ``||H u - Delta||``) and the rounding allowance. ``row_pass`` says,
    per head, whether the step read every stored row (per-row drift bound or exact residual)
    rather than only the Gram matrix and the rows removed since the refresh.
    """

    W: np.ndarray
    cache: HessianCache
    increment: float
    taylor_terms: list[float]
    solve_terms: list[float]
    rounding: float
    solve_iterations: list[int]
    exact_residual: list[bool]
    row_pass: list[bool]
    refreshed: bool
    work: float


def _up(value: float, terms: int) -> float:
    """``value`` raised by the relative rounding error of a computed norm or sum of
    ``terms`` terms, so that a computed norm becomes an upper bound on the exact one."""
    return float(value) * (1.0 + 2.0 * (terms + 2) * _EPS)


def single_product(Z32: np.ndarray, x: np.ndarray, row_norm: float) -> tuple[np.ndarray, float]:
    """``Z x`` from the single-precision copy ``Z32`` of ``Z`` (half the memory traffic of the
    double-precision product, which is what a pass over many rows waits for), and a bound on
    each entry's distance from the exact ``z_i . x`` for every row of norm at most
    ``row_norm``: rounding ``z_i`` and ``x`` to single precision moves each term by at most
    ``2 u + u^2`` of its size, and a ``p``-term sum in single precision (any order, with or
    without fused multiply-adds) by at most ``gamma_p = p u / (1 - p u)`` of the sum of their
    sizes, ``u = 2^-24``, with ``sum_j |z_ij x_j| <= ||z_i|| ||x||``; gradual underflow adds
    at most the smallest subnormal per term and per rounded entry."""
    p = Z32.shape[1]
    zx = np.asarray(Z32 @ x.astype(np.float32), dtype=np.float64)
    gamma = p * _U32 / (1.0 - p * _U32)
    relative = gamma * (1.0 + _U32) ** 2 + 2.0 * _U32 + _U32 * _U32
    size = _up(float(row_norm) * _up(float(np.linalg.norm(x)), p), 1)
    return zx, _up(relative * size + 3.0 * p * _TINY32 * (1.0 + size), 4)


def taylor_bound(
    s: np.ndarray,
    zx: np.ndarray,
    m_error: float,
    zx_error: float,
    z_norm: float,
    kept_sq: Callable[[np.ndarray], float],
) -> float:
    """Upper bound on ``||E||``, the Taylor remainder of the retained rows' gradient along the
    step ``x``: ``grad L(w + x) - grad L(w) - H x = Z'^T e`` with, row by row,

        e_i = int_0^1 (loss''(m_i + t a_i) - loss''(m_i)) a_i dt,   a_i = z_i . x,

    so ``|e_i| <= a_i^2 / 2`` times the largest third derivative on the segment from ``m_i``
    to ``m_i + a_i``, and ``||E|| <= ||Z'||_2 ||e||``. The third derivative's modulus,
    ``g(m) = s (1 - s) |1 - 2 s|`` (``s = sigmoid(m)``), is ``FOURTH_DERIVATIVE_MAX``-Lipschitz,
    so on the segment it is at most ``g(m_i) + FOURTH_DERIVATIVE_MAX (|a_i| + e_m)`` from the
    computed margin, ``e_m`` that margin's error. ``s`` is the sigmoid of the computed margins
    at ``w`` (within ``m_error``; ``g`` computed from it is within ``8 eps``), ``zx`` the computed
    ``Z x`` (within ``zx_error``). ``kept_sq(v)`` bounds the sum of ``v_i^2`` over the retained
    rows. (Corollary 1 of the paper bounds the same remainder by ``gamma R ||Z'||_2 ||x|| ||Z'
    x||`` with ``gamma = 1/4``, at least ``2 gamma / CURVATURE_LIPSCHITZ ~ 5.2`` times this up
    to the error terms.)
    """
    a = np.abs(zx)
    a += zx_error
    e = 1.0 - s
    e *= s
    e *= np.abs(1.0 - 2.0 * s)
    e += FOURTH_DERIVATIVE_MAX * a
    e += FOURTH_DERIVATIVE_MAX * m_error + 16.0 * _EPS
    np.minimum(e, CURVATURE_LIPSCHITZ * (1.0 + 16.0 * _EPS), out=e)
    e *= a
    e *= a
    e *= 0.5
    return _up(z_norm * np.sqrt(kept_sq(e)), 8)


def curvature_drift(
    s: np.ndarray,
    cached: np.ndarray,
    zx: np.ndarray,
    m_error: float,
    zx_error: float,
    z_norm: float,
    kept_sq: Callable[[np.ndarray], float],
) -> float:
    """Upper bound on ``||Z'^T diag(loss''(Z' w) - c) Z' x||``, the retained rows' part of
    ``(H - M) x``, ``c`` the curvatures (``cached``) the cached Hessian ``M`` was formed with.

    Row by row, ``|loss''(z_i . w) - c_i| <= |c(m_i) - c_i| + CURVATURE_LIPSCHITZ m_error +
    CURVATURE_ROUNDING``, ``c(m_i)`` the curvature computed as the cache computes it, at the
    margin ``m_i`` (within ``m_error`` of ``z_i . w``) from ``s = sigmoid(m_i)``; and
    ``|z_i . x| <= |zx_i| + zx_error``.
    """
    curvature = 1.0 - s
    curvature *= s
    gap = np.abs(curvature - cached)
    gap *= 1.0 + 2.0 * _EPS
    gap += CURVATURE_LIPSCHITZ * m_error + CURVATURE_ROUNDING
    gap *= np.abs(zx) + zx_error
    return _up(z_norm * np.sqrt(kept_sq(gap)), 8)


def logistic_removal(
    Z: np.ndarray,
    T: np.ndarray,
    W: np.ndarray,
    dead: np.ndarray,
    gone: np.ndarray,
    lam: float,
    cache: HessianCache,
    z_norm: float,
    row_norm: float,
    row_norms: np.ndarray,
    budget_value: float,
    Z32: np.ndarray | None = None,
) -> RemovalStep:
    """Newton removal of rows ``gone`` for every head, with the paper's residual bound.

    ``Z`` holds every stored row and ``T`` (n, heads) their +-1 targets. ``dead`` lists the
    positions of every row not retained after this removal (earlier removals and ``gone``, the
    rows removed now): sums over the retained rows are taken as totals minus these, plus the
    rounding that cancellation can cost. ``z_norm`` bounds ``||Z'||_2`` and ``row_norm`` the
    norms of the retained rows (both computed on a superset of them); ``row_norms`` are the
    norms of every stored row. ``budget_value`` is what a unit of budget is worth in passes
    over the rows. With ``Z32``, a single-precision copy of ``Z``, the row pass takes ``Z x``
    from it (:func:`single_product`) and charges its larger error bound.
    """
    n, p = Z.shape
    heads = W.shape[0]
    work = 0.0
    refreshed = bool(cache.debt >= cache.cost)
    if refreshed:
        gram, terms = cache.gram, cache.gram_terms
        downdate = np.concatenate([cache.since, gone]).astype(np.intp)
        if gram is not None:
            Zd = Z[downdate]
            gram = gram - Zd.T @ Zd
            terms += len(downdate)
            work += GEMM_SHARE * len(downdate) * p * (p + 1) / 2
        cache = hessian_cache(Z, W, dead, lam, row_norm, gram, terms, cache.gram_magnitude)
        work += cache.cost * n * p
        since = cache.since
    else:
        since = np.concatenate([cache.since, gone]).astype(np.intp)
    n_keep = float(n - len(dead))
    # the Gram path reads p^2 + |since| p numbers instead of the n p of a pass over the rows
    gram_path = cache.gram is not None and p + len(since) < n

    def kept_sq(v: np.ndarray) -> float:
        """Upper bound on ``sum of v_i^2`` over the kept rows (total minus removed rows)."""
        vd = v[dead]
        total, removed = float(v @ v), float(vd @ vd)
        return max(0.0, total - removed) + rounding_allowance(n, total + removed)

    Zg = Z[gone]
    since_norms = row_norms[since]
    gone_norms = float(row_norms[gone].sum())
    W_new = np.empty_like(W)
    taylors: list[float] = []
    solves: list[float] = []
    iterations: list[int] = []
    exact: list[bool] = []
    passes: list[bool] = []
    rounding = 0.0
    extra_passes = 0.0
    own_passes = 0
    # copied when a step first updates them (the cache itself is never changed in place)
    margins, margin_weights = cache.margins, cache.margin_weights
    tracked_error = cache.tracked_error
    declined = list(cache.declined)
    for k in range(heads):
        t = T[:, k]
        tg = t[gone]
        w = W[k]
        w_norm = _up(float(np.linalg.norm(w)), p)
        # margins of the removed rows, within margin_error of the exact ones
        margin_error = rounding_allowance(p, row_norm * w_norm)
        slope = expit(-tg * (Zg @ w))
        delta = Zg.T @ (-tg * slope) + lam * len(gone) * w
        chol = cache.chols[k]
        x = _cho_solve(chol, delta)
        x_norm = _up(float(np.linalg.norm(x)), p)
        dw_norm = _up(float(np.linalg.norm(w - cache.weights[k])), p + 1)
        # entries z.x are computed within this of the exact ones
        zx_error = rounding_allowance(p, row_norm * x_norm)
        # Solving with the computed factor instead of the cached Hessian itself: the error of
        # forming it and of the Cholesky solve, both below eps-multiples of its trace.
        factor_error = rounding_allowance(n + 3 * p + 4, 2.0 * cache.trace[k]) * x_norm
        # The curvature of the retained rows at w is within drift_rate |z.(w - w_M) + e| of
        # the cached one, e the rounding of the cached margins and CURVATURE_ROUNDING that of
        # the cached curvature itself.
        curv_since = cache.curvature[k, since]
        magnitude = float(slope @ row_norms[gone]) + lam * len(gone) * w_norm
        lam_term = lam * abs(cache.n_rows - n_keep) * x_norm
        it = 0
        rnd = 0.0
        checked = False
        row_pass = True
        zx_keep = taylor = stale = 0.0
        if gram_path and not declined[k]:
            assert cache.gram is not None
            # ||Z' x||^2 = x^T G_R x - sum over the rows removed since the refresh of (z.x)^2
            zx_s = Z[since] @ x
            low = np.maximum(np.abs(zx_s) - zx_error, 0.0)
            removed_sq = float(low @ low)
            removed_sq -= rounding_allowance(len(since), removed_sq)
            quad = float(x @ (cache.gram @ x))
            quad += rounding_allowance(
                cache.gram_terms + 2 * p, cache.gram_magnitude * x_norm * x_norm
            )
            zx_keep = _up(np.sqrt(max(quad - removed_sq, 0.0)), 1)
            # |z.x| <= R ||x|| for every row: ||a o a|| <= R ||x|| ||Z' x||
            taylor = 0.5 * CURVATURE_LIPSCHITZ * row_norm * z_norm * x_norm * zx_keep
            # |z.(w - w_M)| <= R ||w - w_M||: the drift bound of every retained row at once
            rate = CURVATURE_LIPSCHITZ * (row_norm * dw_norm + cache.margin_error)
            drift = (rate + CURVATURE_ROUNDING) * z_norm * zx_keep
            removed = float(curv_since @ (since_norms * (np.abs(zx_s) + zx_error)))
            removed = _up(removed, len(since)) + lam_term
            stale = drift + removed + factor_error
            burnt = max(0.0, stale - SOLVE_SHARE * taylor) * budget_value
            if burnt <= min(ROW_PASSES, EXACT_PASSES):
                row_pass = False
                extra_passes += burnt
            else:
                declined[k] = True
        if row_pass:
            if Z32 is None:
                Zx = Z @ x
            else:
                Zx, zx_error = single_product(Z32, x, row_norm)
            zx_keep = np.sqrt(kept_sq(Zx)) + np.sqrt(n_keep) * zx_error
            # m: the margins at w, the kept ones or fresh ones when steps without a pass have
            # left them behind
            if np.array_equal(w, cache.margin_weights[k]):
                m, m_error = cache.margins[k], cache.tracked_error
            else:
                m, m_error = Z @ w, rounding_allowance(p, row_norm * w_norm)
                extra_passes += 1
            sig = expit(m)
            taylor = taylor_bound(sig, Zx, m_error, zx_error, z_norm, kept_sq)
            # Bound on ||(H - M) x||: the curvature at w against the cached one, row by row,
            # then the rows removed since the refresh
            drift = curvature_drift(sig, cache.curvature[k], Zx, m_error, zx_error, z_norm, kept_sq)
            # rows the cached Hessian still holds:
            # ||sum_j c_j z_j (z_j.x)|| <= sum_j c_j |z_j| |z_j.x|
            removed = float(curv_since @ (since_norms * (np.abs(Zx[since]) + zx_error)))
            removed = _up(removed, len(since)) + lam_term
            stale = drift + removed + factor_error
            burnt = max(0.0, stale - SOLVE_SHARE * taylor) * budget_value
            checked = burnt > EXACT_PASSES
            if not checked:
                extra_passes += burnt
                own_passes += 1
        if not checked:
            solve = stale
            if row_pass:
                if margins is cache.margins:
                    margins, margin_weights = margins.copy(), margin_weights.copy()
                margins[k] = m + Zx
                margin_weights[k] = w + x
                step_error = zx_error + 2 * _EPS * row_norm * _up(
                    float(np.linalg.norm(margin_weights[k])), p
                )
                tracked_error = max(tracked_error, m_error + step_error)
        else:
            if Z32 is not None:  # the refinement works in double precision throughout
                Zx, zx_error = Z @ x, rounding_allowance(p, row_norm * x_norm)
                extra_passes += 1
            weights = 1.0 - sig
            weights *= sig
            weights[dead] = 0.0

            def hvp(v: np.ndarray, weights: np.ndarray = weights) -> tuple[np.ndarray, np.ndarray]:
                Zv = Z @ v
                return Z.T @ (weights * Zv) + lam * n_keep * v, Zv

            Hx = Z.T @ (weights * Zx) + lam * n_keep * x
            own_passes += 1
            extra_passes += 1
            r = delta - Hx
            z = _cho_solve(chol, r)
            direction = z.copy()
            rz = float(r @ z)
            floor = 64 * _EPS * float(np.linalg.norm(delta))
            while it < MAX_SOLVE_ITER:
                if float(np.linalg.norm(r)) <= max(SOLVE_SHARE * taylor, floor):
                    break
                Hd, Zd = hvp(direction)
                extra_passes += 2
                curv = float(direction @ Hd)
                if curv <= 0:
                    break
                alpha = rz / curv
                x = x + alpha * direction
                Zx = Zx + alpha * Zd
                Hx = Hx + alpha * Hd
                r = delta - Hx
                z = _cho_solve(chol, r)
                rz_new = float(r @ z)
                direction = z + (rz_new / rz) * direction
                rz = rz_new
                it += 1
                x_norm = _up(float(np.linalg.norm(x)), p)
                taylor = taylor_bound(sig, Zx, m_error, zx_error, z_norm, kept_sq)
            solve = _up(float(np.linalg.norm(r)), p)
            magnitude += float(weights @ (row_norms * np.abs(Zx))) + lam * n_keep * x_norm
            # H was formed at the computed margins and curvatures, not the exact ones
            zx_error = rounding_allowance(p + it, row_norm * x_norm)
            taylor = taylor_bound(sig, Zx, m_error, zx_error, z_norm, kept_sq)
            zx_keep = np.sqrt(kept_sq(Zx)) + np.sqrt(n_keep) * zx_error
            rnd += (CURVATURE_LIPSCHITZ * m_error + CURVATURE_ROUNDING) * z_norm * zx_keep
            if margins is cache.margins:
                margins, margin_weights = margins.copy(), margin_weights.copy()
            margins[k] = m + Zx
            margin_weights[k] = w + x
            step_error = m_error + zx_error
            step_error += 2 * _EPS * row_norm * _up(float(np.linalg.norm(w + x)), p)
            tracked_error = max(tracked_error, step_error)
        # Floating point: the computed Delta, and the margins its slopes were read at.
        rnd += rounding_allowance(n + p + 2 * it, magnitude) + margin_error * 0.25 * gone_norms
        taylors.append(taylor)
        solves.append(solve)
        iterations.append(it)
        exact.append(checked)
        passes.append(row_pass)
        W_new[k] = w + x
        # w + u is rounded: the gradient moves by at most ||H|| times that rounding
        hess_norm = 0.25 * z_norm * z_norm + lam * n_keep
        rnd += hess_norm * _EPS * _up(float(np.linalg.norm(W_new[k])), p)
        rounding += rnd
    work += (own_passes + extra_passes) * n * p
    work += heads * (4.0 * len(gone) * p + 4 * p * p + 2 * len(since) * p)
    new_cache = replace(
        cache,
        margins=margins,
        margin_weights=margin_weights,
        tracked_error=tracked_error,
        since=since,
        debt=cache.debt + extra_passes,
        declined=tuple(declined),
    )
    # the sum itself is computed, too
    increment = _up(float(sum(taylors) + sum(solves) + rounding), 3 * heads)
    return RemovalStep(
        W=W_new,
        cache=new_cache,
        increment=increment,
        taylor_terms=taylors,
        solve_terms=solves,
        rounding=rounding,
        solve_iterations=iterations,
        exact_residual=exact,
        row_pass=passes,
        refreshed=refreshed,
        work=work,
    )


# -- ridge regression ------------------------------------------------------------------------
def fit_ridge(
    Z: np.ndarray, y: np.ndarray, b: np.ndarray, lam: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact minimiser of ``sum (w.z - y)^2 / 2 + lam n/2 ||w||^2 + b.w``; also the sufficient
    statistics ``Z^T Z`` and ``Z^T y`` that removals downdate."""
    gram = Z.T @ Z
    moment = Z.T @ y
    return _ridge_solve(gram, moment, b, lam, len(Z)), gram, moment


def _ridge_solve(
    gram: np.ndarray, moment: np.ndarray, rhs_shift: np.ndarray, lam: float, n: float
) -> np.ndarray:
    A = gram.copy()
    A.flat[:: A.shape[0] + 1] += lam * n
    return np.asarray(_cho_solve(scipy.linalg.cho_factor(A), moment - rhs_shift))


def ridge_residual(
    gram: np.ndarray, moment: np.ndarray, b: np.ndarray, lam: float, n: float, w: np.ndarray
) -> float:
    """``||grad L_b(w; D)||`` for the quadratic loss, from the sufficient statistics."""
    return float(np.linalg.norm(gram @ w - moment + lam * n * w + b))


def ridge_removal(
    w: np.ndarray,
    gram: np.ndarray,
    moment: np.ndarray,
    lam: float,
    n_keep: float,
    Zg: np.ndarray,
    yg: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The paper's Newton step for the quadratic loss: ``w + H^{-1} Delta``.

    The Hessian does not depend on ``w``, so the Taylor term ``E`` is zero and the step lands
    exactly where a refit with the same noise lands. Returns the new weights and the downdated
    statistics.
    """
    gram_new = gram - Zg.T @ Zg
    moment_new = moment - Zg.T @ yg
    delta = Zg.T @ (Zg @ w - yg) + lam * len(Zg) * w
    H = gram_new.copy()
    H.flat[:: H.shape[0] + 1] += lam * n_keep
    u = _cho_solve(scipy.linalg.cho_factor(H), delta)
    return w + u, gram_new, moment_new
