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
it is ``r + (H u - Delta) + E`` with ``u`` the solved step and, for a loss whose second
derivative is ``gamma``-Lipschitz (logistic: ``gamma = 1/4``), ``||E|| <= gamma * R * ||Z'||_2 *
||u|| * ||Z' u||`` (Corollary 1 of the paper; ``R`` bounds the row norms, 1 in the paper). The
bounds therefore add up over sequential removals.

How ``H u = Delta`` is solved. Forming ``H`` at every removal would cost ``O(n d^2)``, as much
as a good part of a retrain. The model therefore keeps the Cholesky factor of a Hessian ``M``
taken at an earlier point ``w_M`` (the last *refresh*) and uses ``u = M^{-1} Delta``. Then
``H u - Delta = (H - M) u`` with

    (H - M) u = Z'^T diag(loss''(Z' w) - loss''(Z' w_M)) Z' u  -  (rows of M removed since) u,

and because ``loss''`` is Lipschitz in the margin (with the exact constant ``1 / (6 sqrt 3)``),
the first part has norm at most ``||Z'||_2 / (6 sqrt 3) * ||(Z'(w - w_M)) * (Z' u)||``
(element-wise product) -- computable from the
margins the model keeps, with the one pass ``Z u`` the Taylor term needs anyway; the second part
is bounded row by row (``sum_j loss''_j ||z_j|| |z_j . u|`` over the few rows concerned, plus
the change of the ``lam * n`` term). Charging that bound spends budget, and spent
budget means earlier retrains. With ``budget_value`` the passes over the rows a unit of budget
is worth (a retrain's passes divided by the budget), the bound is charged and the step done in
one pass when the budget it burns beyond an exact solve is worth fewer than ``EXACT_PASSES``
passes. (Either way the model's gradient residual stays below the budget, which is what bounds
its distance from the exact minimiser.) Otherwise the exact residual
``H u - Delta`` is computed with the Hessian at ``w`` and the step is refined by preconditioned
conjugate gradients until the residual is below ``SOLVE_SHARE`` of the Taylor term; the
residual reached is charged. The cached Hessian is refreshed -- recomputed at the current
weights on the retained rows, which makes that removal exactly the paper's step with ``H`` at
``w`` -- as soon as what its age has cost since the last refresh (extra passes, and budget in
pass units) exceeds what a refresh costs. Every charged quantity also carries a bound on its
floating-point error (:func:`rounding_allowance`), margins kept across removals included.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import scipy.linalg
import scipy.optimize
from scipy.linalg.lapack import dpotrs
from scipy.special import expit

__all__ = [
    "CURVATURE_LIPSCHITZ",
    "GAMMA_LOGISTIC",
    "FitInfo",
    "HessianCache",
    "RemovalStep",
    "design",
    "fit_logistic",
    "fit_ridge",
    "hessian_cache",
    "logistic_gradients",
    "logistic_removal",
    "ridge_removal",
    "ridge_residual",
    "rounding_allowance",
    "spectral_norm",
]

#: Lipschitz constant of the logistic loss's second derivative as the paper uses it. (The
#: smallest one is ``1 / (6 sqrt 3) ~ 0.096``; the paper's 1/4 is larger, hence safe.)
GAMMA_LOGISTIC = 0.25
#: The smallest Lipschitz constant of the logistic loss's second derivative,
#: ``max |s (1 - s) (1 - 2 s)| = 1 / (6 sqrt 3)`` over ``s = sigmoid(m)``. It bounds how far the
#: cached Hessian's curvature can be from the current one; the Taylor term keeps the paper's 1/4.
CURVATURE_LIPSCHITZ = 1.0 / (6.0 * np.sqrt(3.0))
#: Newton iterations that polish the L-BFGS solution to the requested gradient norm.
POLISH_STEPS = 25
#: The conjugate-gradient solve stops once its residual is below this share of the Taylor term.
SOLVE_SHARE = 1e-2
#: Passes over the rows the exact residual and one refinement cost, against which the budget
#: a cached-Hessian step burns is weighed.
EXACT_PASSES = 3.0
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


def spectral_norm(Z: np.ndarray) -> tuple[float, float]:
    """An upper bound on ``||Z||_2`` (the largest singular value, from the eigenvalues of
    ``Z^T Z`` plus their rounding error) and the multiply-adds spent computing it."""
    n, p = Z.shape
    gram = Z.T @ Z
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


def _fit_head(
    Z: np.ndarray, t: np.ndarray, b: np.ndarray, lam: float, tol: float, max_iter: int
) -> tuple[np.ndarray, float, float, int, int, int, float]:
    n, p = Z.shape
    res = scipy.optimize.minimize(
        _head_objective,
        np.zeros(p),
        args=(Z, t, b, lam),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": max_iter, "gtol": tol / np.sqrt(p), "ftol": 0.0, "maxcor": 20},
    )
    w = np.asarray(res.x, dtype=np.float64)
    nfev = int(res.nfev)
    work = 2.0 * n * p * nfev
    f, g = _head_objective(w, Z, t, b, lam)
    steps = 0
    for _ in range(POLISH_STEPS):
        gnorm = float(np.linalg.norm(g))
        if gnorm <= tol:
            break
        chol = scipy.linalg.cho_factor(_head_hessian(w, Z, t, lam))
        work += GEMM_SHARE * (n * p * (p + 1) / 2 + p**3 / 3) + n * p
        step = -_cho_solve(chol, g)
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
    return w, gnorm, rounding, int(res.nit), nfev, steps, work


def fit_logistic(
    Z: np.ndarray, T: np.ndarray, B: np.ndarray, lam: float, tol: float, max_iter: int
) -> tuple[np.ndarray, FitInfo]:
    """Minimise ``L_b(w; D)`` for each head: L-BFGS, then Newton steps to ``||grad|| <= tol``.

    ``Z`` (n, p) is the design, ``T`` (n, heads) the +-1 targets, ``B`` (heads, p) the noise.
    Returns the weights (heads, p) and a :class:`FitInfo` whose ``grad_norm`` is the norm of
    the joint gradient of all heads in the paper's scale.
    """
    heads = T.shape[1]
    W = np.empty((heads, Z.shape[1]))
    norms: list[float] = []
    rounding = 0.0
    iters = nfev = steps = 0
    work = 0.0
    for k in range(heads):
        W[k], gnorm, rnd, it, fe, st, wk = _fit_head(Z, T[:, k], B[k], lam, tol, max_iter)
        norms.append(gnorm)
        rounding += rnd
        iters, nfev, steps, work = iters + it, nfev + fe, steps + st, work + wk
    info = FitInfo(
        grad_norm=float(np.sqrt(np.sum(np.square(norms)))),
        rounding=rounding,
        lbfgs_iterations=iters,
        function_evaluations=nfev,
        newton_steps=steps,
        work=work,
        head_grad_norms=norms,
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
    weights ``weights`` (heads, p), whose margins are ``margins`` (heads, n), summed over the
    ``n_rows`` rows retained at the refresh;
    ``curvature`` is ``loss''`` at those margins; ``since`` lists the rows the Hessian still
    contains that were removed after the refresh. ``debt`` counts the passes over the rows
    spent beyond one per removal since the refresh, ``cost`` what a refresh costs (both in
    units of ``n * p`` multiply-adds).
    """

    chols: tuple[Any, ...]
    weights: np.ndarray
    margins: np.ndarray
    curvature: np.ndarray
    margin_error: float
    n_rows: int
    since: np.ndarray
    debt: float
    cost: float


def hessian_cache(
    Z: np.ndarray, W: np.ndarray, dead: np.ndarray, lam: float, row_norm: float
) -> HessianCache:
    """Refresh: the Hessian of every head at ``W`` over the rows not in ``dead``."""
    n, p = Z.shape
    keep = np.ones(n, dtype=bool)
    keep[dead] = False
    rows = np.flatnonzero(keep)
    margins = W @ Z.T
    curvature = expit(margins)
    curvature *= 1.0 - curvature
    Zk = Z[rows]
    chols = []
    for k in range(W.shape[0]):
        Zs = Zk * np.sqrt(curvature[k, rows])[:, None]
        H = Zs.T @ Zs
        H.flat[:: p + 1] += lam * len(rows)
        chols.append(scipy.linalg.cho_factor(H))
    w_norm = float(np.linalg.norm(W, axis=1).max())
    heads = W.shape[0]
    return HessianCache(
        chols=tuple(chols),
        weights=W.copy(),
        margins=margins,
        curvature=curvature,
        margin_error=rounding_allowance(p, row_norm * w_norm),
        n_rows=len(rows),
        since=np.empty(0, dtype=np.intp),
        debt=0.0,
        cost=heads * (GEMM_SHARE * ((p + 1) / 2 + p * p / (3 * n)) + 2),
    )


@dataclass
class RemovalStep:
    """One Newton removal: the new weights and margins, the bound on the residual it adds,
    and the updated Hessian cache.

    ``increment`` is the sum over heads of the Taylor term, the solve term (the bound on, or
    the computed value of, ``||H u - Delta||``) and the rounding allowance.
    """

    W: np.ndarray
    margins: np.ndarray
    margin_error: float
    cache: HessianCache
    increment: float
    taylor_terms: list[float]
    solve_terms: list[float]
    rounding: float
    solve_iterations: list[int]
    exact_residual: list[bool]
    refreshed: bool
    work: float


def logistic_removal(
    Z: np.ndarray,
    T: np.ndarray,
    W: np.ndarray,
    margins: np.ndarray,
    margin_error: float,
    dead: np.ndarray,
    gone: np.ndarray,
    lam: float,
    cache: HessianCache,
    z_norm: float,
    row_norm: float,
    row_norms: np.ndarray,
    budget_value: float,
) -> RemovalStep:
    """Newton removal of rows ``gone`` for every head, with the paper's residual bound.

    ``Z`` holds every stored row and ``T`` (n, heads) their +-1 targets; ``margins`` (heads, n)
    is ``W @ Z.T`` as kept across removals, each entry within ``margin_error`` of the exact
    value. ``dead`` lists the positions of every row not retained after this removal (earlier
    removals and ``gone``, the rows removed now): sums over the retained rows are taken as
    totals minus these, plus the rounding that cancellation can cost. ``z_norm`` bounds
    ``||Z'||_2`` and ``row_norm`` the norms of the retained rows (both computed on a superset of
    them); ``row_norms`` are the norms of every stored row.
    ``budget_value`` is what a unit of budget is worth in passes over the rows.
    """
    n, p = Z.shape
    heads = W.shape[0]
    work = 0.0
    refreshed = bool(cache.debt >= cache.cost)
    if refreshed:
        cache = hessian_cache(Z, W, dead, lam, row_norm)
        margins, margin_error = cache.margins, cache.margin_error
        work += cache.cost * n * p
        since = cache.since
    else:
        since = np.concatenate([cache.since, gone]).astype(np.intp)
    n_keep = float(n - len(dead))

    def kept_sq(v: np.ndarray) -> float:
        """Upper bound on ``sum of v_i^2`` over the kept rows (total minus removed rows)."""
        vd = v[dead]
        total, removed = float(v @ v), float(vd @ vd)
        return max(0.0, total - removed) + rounding_allowance(n, total + removed)

    Zg = Z[gone]
    gone_norms = float(row_norms[gone].sum())
    W_new = np.empty_like(W)
    margins_new = np.empty_like(margins)
    new_error = 0.0
    taylors: list[float] = []
    solves: list[float] = []
    iterations: list[int] = []
    exact: list[bool] = []
    rounding = 0.0
    extra_passes = 0.0
    for k in range(heads):
        t = T[:, k]
        m = margins[k]
        tg = t[gone]
        slope = expit(-tg * m[gone])
        delta = Zg.T @ (-tg * slope) + lam * len(gone) * W[k]
        chol = cache.chols[k]
        x = _cho_solve(chol, delta)
        Zx = Z @ x
        zx_keep = np.sqrt(kept_sq(Zx))
        x_norm = float(np.linalg.norm(x))
        taylor = GAMMA_LOGISTIC * row_norm * z_norm * x_norm * zx_keep
        # Bound on ||(H - M) x||: curvature drift since the refresh, then removed rows.
        D = m - cache.margins[k]
        # |z.(w - w_M)| <= R ||w - w_M||, up to the rounding of both margins
        d_max = row_norm * float(np.linalg.norm(W[k] - cache.weights[k]))
        d_max += margin_error + cache.margin_error
        D *= Zx
        drift = CURVATURE_LIPSCHITZ * z_norm * np.sqrt(kept_sq(D))
        # rows the cached Hessian still holds: ||sum_j c_j z_j (z_j.x)|| <= sum_j c_j |z_j| |z_j.x|
        removed = float(cache.curvature[k, since] @ (row_norms[since] * np.abs(Zx[since])))
        removed += lam * abs(cache.n_rows - n_keep) * x_norm
        stale = drift + removed
        magnitude = float(slope @ row_norms[gone]) + lam * len(gone) * float(np.linalg.norm(W[k]))
        it = 0
        burnt = max(0.0, stale - SOLVE_SHARE * taylor) * budget_value
        if burnt <= EXACT_PASSES:
            solve = stale
            extra_passes += burnt
            magnitude += removed
            checked = False
        else:
            checked = True
            weights = expit(m)
            weights *= 1.0 - weights
            weights[dead] = 0.0

            def hvp(v: np.ndarray, weights: np.ndarray = weights) -> tuple[np.ndarray, np.ndarray]:
                Zv = Z @ v
                return Z.T @ (weights * Zv) + lam * n_keep * v, Zv

            Hx = Z.T @ (weights * Zx) + lam * n_keep * x
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
                x_norm = float(np.linalg.norm(x))
                zx_keep = np.sqrt(kept_sq(Zx))
                taylor = GAMMA_LOGISTIC * row_norm * z_norm * x_norm * zx_keep
            solve = float(np.linalg.norm(r))
            magnitude += float(weights @ (row_norms * np.abs(Zx))) + lam * n_keep * x_norm
        # Floating point: the computed sums, the margins the curvature and slopes were read
        # at, and the entries of Z x that enter the norms.
        zx_error = rounding_allowance(p + it, row_norm * x_norm)
        rnd = rounding_allowance(n + p + 2 * it, magnitude)
        rnd += margin_error * (0.25 * gone_norms + GAMMA_LOGISTIC * z_norm * zx_keep)
        if checked:
            rnd += margin_error * GAMMA_LOGISTIC * z_norm * zx_keep
        else:
            rnd += (margin_error + cache.margin_error) * GAMMA_LOGISTIC * z_norm * zx_keep
            rnd += GAMMA_LOGISTIC * z_norm * d_max * np.sqrt(n_keep) * zx_error
        rnd += GAMMA_LOGISTIC * row_norm * z_norm * x_norm * np.sqrt(n_keep) * zx_error
        taylors.append(taylor)
        solves.append(solve)
        iterations.append(it)
        exact.append(checked)
        rounding += rnd
        W_new[k] = W[k] + x
        margins_new[k] = m + Zx
        w_norm = float(np.linalg.norm(W_new[k]))
        new_error = max(new_error, margin_error + zx_error + 2 * _EPS * row_norm * w_norm)
    passes = heads + extra_passes
    work += passes * n * p + heads * (12.0 * n + 2 * len(gone) * p + 2 * p * p)
    new_cache = replace(cache, since=since, debt=cache.debt + extra_passes)
    increment = float(sum(taylors) + sum(solves) + rounding)
    return RemovalStep(
        W=W_new,
        margins=margins_new,
        margin_error=new_error,
        cache=new_cache,
        increment=increment,
        taylor_terms=taylors,
        solve_terms=solves,
        rounding=rounding,
        solve_iterations=iterations,
        exact_residual=exact,
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
