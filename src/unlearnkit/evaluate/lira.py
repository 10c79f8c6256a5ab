"""Likelihood-ratio attacks with shadow models: LiRA and its unlearning variant U-LiRA.

**LiRA** (Carlini et al. 2022, "Membership inference attacks from first principles"): for each
sample, the logit-scaled confidence ``phi = log p_y - log(1 - p_y)`` of shadow models trained
with (IN) and without (OUT) the sample is modelled as two Gaussians. The *online* attack scores
the target's ``phi`` by the log-likelihood ratio of IN against OUT; the *offline* attack, which
needs only OUT models, by the one-sided Gaussian CDF under OUT. With few shadow models the
variances are pooled over samples ("fixed variance"), as the paper recommends.

**U-LiRA** (Hayes et al. 2024, "Inexact unlearning needs more careful evaluations to avoid a
false sense of privacy"): the per-example test for unlearning. For each forget sample, shadow
*pairs* give ``phi`` under models trained with it and then unlearned by the method, and under
models retrained without it. The attack asks of a model: was it unlearned by the method, or
retrained? Its power is measured leave-one-pair-out: each pair's two models are scored with
Gaussians fitted on the other pairs. An AUC near 0.5 means the method's output cannot be told
from retraining on the forget set; the exact unlearners of this package reach it.

Examples
--------
>>> import numpy as np
>>> from sklearn.tree import DecisionTreeClassifier
>>> from unlearnkit.evaluate.shadow import ShadowRunner, fit_clone
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(120, 4)); y = rng.integers(0, 2, 120)
>>> runner = ShadowRunner(fit_clone(DecisionTreeClassifier(random_state=0)), X, y)
>>> shadows = runner.train_random_halves(8, rows=np.arange(120))
>>> target = DecisionTreeClassifier(random_state=0).fit(X[:60], y[:60])
>>> r = lira_attack(target, X=X, y=y, shadows=shadows, members=np.arange(60),
...                 nonmembers=np.arange(60, 120))
>>> r.auc > 0.8
True
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from scipy.stats import norm

from unlearnkit.errors import DataValidationError
from unlearnkit.evaluate.adapters import PROB_FLOOR, as_classifier
from unlearnkit.evaluate.errors import InsufficientDataError
from unlearnkit.evaluate.roc import AttackResult, bootstrap_aucs
from unlearnkit.evaluate.shadow import ModelOutputs

__all__ = ["ULiraResult", "lira_attack", "logit_confidence", "ulira_attack"]

#: Below this many models per side, variances are pooled over samples.
FIXED_VARIANCE_BELOW = 16
_MIN_STD = 1e-6


def logit_confidence(proba: np.ndarray, label_index: np.ndarray) -> np.ndarray:
    """``log p_y - log(1 - p_y)`` along the last axis (probabilities floored at 1e-12).

    ``proba`` has shape ``(..., n_samples, n_classes)``; the result ``(..., n_samples)``.
    """
    p = np.asarray(proba, dtype=np.float64)
    rows = np.arange(p.shape[-2])
    true = p[..., rows, label_index]
    other = np.clip(p.sum(axis=-1) - true, PROB_FLOOR, None)
    return np.asarray(np.log(np.clip(true, PROB_FLOOR, None)) - np.log(other))


def _label_index(classes: np.ndarray, y: np.ndarray) -> np.ndarray:
    lookup = {c: k for k, c in enumerate(classes.tolist())}
    return np.fromiter((lookup[v] for v in y.tolist()), dtype=np.intp, count=len(y))


def _target_phi(model: Any, X: Any, y: np.ndarray, rows: np.ndarray) -> np.ndarray:
    clf = as_classifier(model)
    Xr = X[rows] if not hasattr(X, "iloc") else X.iloc[rows]
    proba = clf.predict_proba(Xr)
    return logit_confidence(proba, clf.label_index(y[rows]))


def _gauss(
    phi: np.ndarray, mask: np.ndarray, fixed: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-sample mean and std of ``phi`` (models x samples) over models where ``mask``."""
    count = mask.sum(axis=0)
    mean = np.where(count > 0, (phi * mask).sum(axis=0) / np.maximum(count, 1), np.nan)
    resid = np.where(mask, phi - mean, 0.0)
    if fixed:
        pooled = np.sqrt((resid**2).sum() / max(int(mask.sum()) - 1, 1))
        std = np.full(phi.shape[1], max(float(pooled), _MIN_STD))
    else:
        std = np.sqrt((resid**2).sum(axis=0) / np.maximum(count - 1, 1))
        std = np.maximum(std, _MIN_STD)
    return mean, std, count


def _use_fixed(fix_variance: bool | None, per_side: int) -> bool:
    return per_side < FIXED_VARIANCE_BELOW if fix_variance is None else bool(fix_variance)


def _check_rows(rows: Any, n: int, name: str) -> np.ndarray:
    r = np.asarray(rows, dtype=np.intp).reshape(-1)
    if len(r) and (r.min() < 0 or r.max() >= n):
        raise DataValidationError(f"{name} row positions must lie in [0, {n}); got {r.max()}.")
    return r


def lira_attack(
    model: Any,
    *,
    X: Any,
    y: Any,
    shadows: ModelOutputs,
    members: Any,
    nonmembers: Any,
    online: bool = True,
    fix_variance: bool | None = None,
) -> AttackResult:
    """LiRA against ``model`` on rows of the shadow pool.

    Parameters
    ----------
    model : classifier
        The target.
    X, y : array-like
        The pool the shadow models were trained and scored on.
    shadows : ModelOutputs
        From :meth:`~unlearnkit.evaluate.shadow.ShadowRunner.train_random_halves`.
    members, nonmembers : array-like of int
        Pool rows to score as positives and negatives (to audit forgetting: the forget set and
        held-out rows).
    online : bool
        The online attack uses IN and OUT models, the offline one OUT models only.
    fix_variance : bool, optional
        Pool variances over samples; by default when fewer than 16 models per side.

    Raises
    ------
    InsufficientDataError
        If a scored row has no OUT model (or no IN model, online).
    """
    y = np.asarray(y)
    n = len(y)
    m_rows = _check_rows(members, n, "members")
    n_rows = _check_rows(nonmembers, n, "nonmembers")
    rows = np.r_[m_rows, n_rows]
    classes = np.unique(y)
    phi = logit_confidence(shadows.proba[:, rows, :], _label_index(classes, y[rows]))
    inside = shadows.members[:, rows]
    per_side = int(min(inside.sum(axis=0).min(), (~inside).sum(axis=0).min()))
    fixed = _use_fixed(fix_variance, per_side)
    mu_out, sd_out, n_out = _gauss(phi, ~inside, fixed)
    if n_out.min() < 1:
        raise InsufficientDataError(
            "LiRA needs at least one shadow model that did not train on each scored sample; "
            "train more shadow models."
        )
    target = _target_phi(model, X, y, rows)
    if online:
        mu_in, sd_in, n_in = _gauss(phi, inside, fixed)
        if n_in.min() < 1:
            raise InsufficientDataError(
                "Online LiRA needs at least one shadow model trained on each scored sample; "
                "train more shadow models or use online=False."
            )
        score = norm.logpdf(target, mu_in, sd_in) - norm.logpdf(target, mu_out, sd_out)
    else:
        score = norm.logcdf(target, mu_out, sd_out)
    k = len(m_rows)
    return AttackResult.from_scores(
        f"lira-{'online' if online else 'offline'}",
        score[:k],
        score[k:],
        details={"n_shadow": len(shadows), "fixed_variance": fixed, "online": online},
    )


@dataclass(frozen=True, kw_only=True)
class ULiraResult(AttackResult):
    """U-LiRA's distinguishing power, plus per-sample scores of the model under test.

    ``member_scores`` are leave-one-pair-out scores of the unlearned shadow models and
    ``nonmember_scores`` those of their retrained partners (forget samples x pairs).

    Attributes
    ----------
    accuracy : float
        Balanced accuracy of the decision "unlearned if the log-likelihood ratio > 0".
    target_scores : ndarray
        Per forget sample, the log-likelihood ratio (unlearned vs retrained) of the model under
        test, when one was given.

    Examples
    --------
    >>> r = ULiraResult.from_scores("u-lira", [1.0, 2.0], [-1.0, 0.5], accuracy=1.0)
    >>> r.auc, r.summary()["accuracy"], r.target_scores is None
    (1.0, 1.0, True)
    """

    accuracy: float
    target_scores: np.ndarray | None = field(default=None, repr=False)

    def _extra_fields(self) -> tuple[str, ...]:
        return ("accuracy",)


def ulira_attack(
    *,
    y: Any,
    unlearned: ModelOutputs,
    retrained: ModelOutputs,
    forget: Any,
    model: Any = None,
    X: Any = None,
    fix_variance: bool | None = None,
    n_bootstrap: int = 400,
    random_state: int | None = 0,
) -> ULiraResult:
    """U-LiRA: how well can the method's unlearned models be told from retrained ones?

    Parameters
    ----------
    y : array-like
        Labels of the pool.
    unlearned, retrained : ModelOutputs
        Paired outputs from :meth:`~unlearnkit.evaluate.shadow.ShadowRunner.train_pairs`.
    forget : array-like of int
        Pool rows of the forget set.
    model : classifier, optional
        The model under test, scored per forget sample (needs ``X``).
    fix_variance : bool, optional
        Pool variances over samples; by default when fewer than 16 pairs.
    n_bootstrap, random_state
        The AUC's 95% interval is a bootstrap over forget samples (each sample's scores in all
        pairs move together, as they are correlated).

    Raises
    ------
    InsufficientDataError
        With fewer than 3 pairs (leave-one-out needs two to fit on).
    """
    y = np.asarray(y)
    rows = _check_rows(forget, len(y), "forget")
    n_pairs = len(unlearned)
    if n_pairs < 3 or len(retrained) != n_pairs:
        raise InsufficientDataError(
            f"U-LiRA needs at least 3 unlearned/retrained pairs; got {n_pairs} unlearned and "
            f"{len(retrained)} retrained models."
        )
    idx = _label_index(np.unique(y), y[rows])
    phi_u = logit_confidence(unlearned.proba[:, rows, :], idx)
    phi_r = logit_confidence(retrained.proba[:, rows, :], idx)
    fixed = _use_fixed(fix_variance, n_pairs - 1)
    score_u = np.empty_like(phi_u)
    score_r = np.empty_like(phi_r)
    for j in range(n_pairs):
        keep = np.ones(n_pairs, dtype=bool)
        keep[j] = False
        mu_u, sd_u, _ = _gauss(phi_u[keep], np.ones_like(phi_u[keep], dtype=bool), fixed)
        mu_r, sd_r, _ = _gauss(phi_r[keep], np.ones_like(phi_r[keep], dtype=bool), fixed)
        score_u[j] = norm.logpdf(phi_u[j], mu_u, sd_u) - norm.logpdf(phi_u[j], mu_r, sd_r)
        score_r[j] = norm.logpdf(phi_r[j], mu_u, sd_u) - norm.logpdf(phi_r[j], mu_r, sd_r)
    accuracy = 0.5 * (float(np.mean(score_u > 0)) + float(np.mean(score_r <= 0)))
    target_scores = None
    if model is not None:
        if X is None:
            raise DataValidationError("Scoring a model with U-LiRA needs the pool's X.")
        everything = np.ones_like(phi_u, dtype=bool)
        mu_u, sd_u, _ = _gauss(phi_u, everything, _use_fixed(fix_variance, n_pairs))
        mu_r, sd_r, _ = _gauss(phi_r, everything, _use_fixed(fix_variance, n_pairs))
        t = _target_phi(model, X, y, rows)
        target_scores = norm.logpdf(t, mu_u, sd_u) - norm.logpdf(t, mu_r, sd_r)
    result = ULiraResult.from_scores(
        "u-lira",
        score_u.reshape(-1),
        score_r.reshape(-1),
        details={"n_pairs": n_pairs, "fixed_variance": fixed, "n_forget": len(rows)},
        accuracy=accuracy,
        target_scores=target_scores,
    )
    # Scores of one forget sample are correlated across pairs: the interval resamples samples.
    rng = np.random.default_rng(random_state)
    cols = rng.integers(0, len(rows), (n_bootstrap, len(rows)))
    flat = (np.arange(n_pairs)[None, :, None] * len(rows) + cols[:, None, :]).reshape(
        n_bootstrap, -1
    )
    aucs = bootstrap_aucs(result.member_scores, result.nonmember_scores, flat, flat)
    lo, hi = np.quantile(aucs, [0.025, 0.975])
    return replace(result, auc_ci=(float(min(lo, result.auc)), float(max(hi, result.auc))))
