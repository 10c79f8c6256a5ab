"""RMIA (Zarifzadeh et al. 2024, "Low-cost high-power membership inference attacks").

For a sample ``x`` the attack compares how much more likely the target makes ``x`` than the
reference (shadow) models do, ``r(x) = p(y_x | x, target) / p(y_x | x)``, with the same ratio on
population samples ``z`` known not to be members, and scores ``x`` by the share of ``z`` it
dominates: ``score(x) = Pr_z[r(x) / r(z) > gamma]``.

``p(y_x | x)`` is the mean over reference models. *Online*, every reference model counts; the
*offline* attack uses only models that did not train on the sample and corrects for their
missing IN half with ``p(x) = ((1 + a) p_OUT(x) + (1 - a)) / 2`` (the paper's linear
approximation, ``a`` = ``offline_a``).

Examples
--------
>>> import numpy as np
>>> from sklearn.tree import DecisionTreeClassifier
>>> from unlearnkit.evaluate.shadow import ShadowRunner, fit_clone
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(120, 4)); y = rng.integers(0, 2, 120)
>>> shadows = ShadowRunner(fit_clone(DecisionTreeClassifier(max_depth=4)), X, y
...                        ).train_random_halves(4)
>>> target = DecisionTreeClassifier(random_state=0).fit(X[:60], y[:60])
>>> r = rmia_attack(target, X=X, y=y, shadows=shadows, members=np.arange(60),
...                 nonmembers=np.arange(60, 120))
>>> r.auc > 0.7
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from unlearnkit.errors import InvalidParameterError
from unlearnkit.evaluate.adapters import PROB_FLOOR, as_classifier
from unlearnkit.evaluate.errors import InsufficientDataError
from unlearnkit.evaluate.lira import _check_rows, _label_index
from unlearnkit.evaluate.roc import AttackResult
from unlearnkit.evaluate.shadow import ModelOutputs

__all__ = ["rmia_attack"]


def _true_proba(proba: np.ndarray, idx: np.ndarray) -> np.ndarray:
    return np.asarray(proba[..., np.arange(proba.shape[-2]), idx], dtype=np.float64)


def rmia_attack(
    model: Any,
    *,
    X: Any,
    y: Any,
    shadows: ModelOutputs,
    members: Any,
    nonmembers: Any,
    population: Any = None,
    online: bool = True,
    gamma: float = 1.0,
    offline_a: float = 0.3,
) -> AttackResult:
    """RMIA against ``model`` on rows of the shadow pool.

    Parameters
    ----------
    model : classifier
        The target.
    X, y : array-like
        The pool the shadow models were scored on.
    shadows : ModelOutputs
        Reference models' outputs on the pool.
    members, nonmembers : array-like of int
        Pool rows to score as positives and negatives.
    population : array-like of int, optional
        Pool rows used as ``z`` (non-members of the target); default ``nonmembers``.
    online : bool
        Use IN and OUT reference models (True) or OUT models only.
    gamma : float
        The likelihood-ratio threshold, >= 1.
    offline_a : float
        The offline correction in ``[0, 1]``.
    """
    if not gamma >= 1.0:
        raise InvalidParameterError(f"gamma must be >= 1, got {gamma!r}.")
    if not 0.0 <= offline_a <= 1.0:
        raise InvalidParameterError(f"offline_a must lie in [0, 1], got {offline_a!r}.")
    y = np.asarray(y)
    n = len(y)
    m_rows = _check_rows(members, n, "members")
    n_rows = _check_rows(nonmembers, n, "nonmembers")
    z_rows = n_rows if population is None else _check_rows(population, n, "population")
    if len(z_rows) < 2:
        raise InsufficientDataError(f"RMIA needs population samples; got {len(z_rows)}.")
    classes = np.unique(y)
    clf = as_classifier(model)

    def ratio(rows: np.ndarray) -> np.ndarray:
        idx = _label_index(classes, y[rows])
        Xr = X.iloc[rows] if hasattr(X, "iloc") else np.asarray(X)[rows]
        target = _true_proba(clf.predict_proba(Xr), clf.label_index(y[rows]))
        refs = _true_proba(shadows.proba[:, rows, :], idx)
        if online:
            prior = refs.mean(axis=0)
        else:
            out = ~shadows.members[:, rows]
            if out.sum(axis=0).min() < 1:
                raise InsufficientDataError(
                    "Offline RMIA needs a reference model that did not train on each sample."
                )
            p_out = (refs * out).sum(axis=0) / out.sum(axis=0)
            prior = 0.5 * ((1 + offline_a) * p_out + (1 - offline_a))
        return np.asarray(np.clip(target, PROB_FLOOR, None) / np.clip(prior, PROB_FLOOR, None))

    rows = np.r_[m_rows, n_rows]
    r_x = ratio(rows)
    r_z = np.sort(ratio(z_rows))
    # Share of z with r(x) / r(z) > gamma, i.e. r(z) < r(x) / gamma. A sample in z is compared
    # with itself too (never a win for gamma >= 1), so every sample has the same denominator:
    # with it a different one, tied ratios of members and non-members would no longer tie.
    score = np.searchsorted(r_z, r_x / gamma, side="left") / len(z_rows)
    k = len(m_rows)
    return AttackResult.from_scores(
        f"rmia-{'online' if online else 'offline'}",
        score[:k],
        score[k:],
        details={"n_reference": len(shadows), "gamma": gamma, "online": online},
    )
