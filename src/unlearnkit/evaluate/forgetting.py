"""The forgetting score of the NeurIPS 2023 machine-unlearning competition.

Triantafillou et al. (2024), "Are we making progress in unlearning? Findings from the first
NeurIPS unlearning competition": ``N`` models unlearned by the method and ``N`` models retrained
without the forget set are compared *per forget example*. Threshold attacks on one output of the
models (here the logit-scaled confidence of the true class) give false-positive and
false-negative rates, and each example's epsilon is the largest
``max(log((1 - delta - FPR) / FNR), log((1 - delta - FNR) / FPR))`` over thresholds and both
directions. Epsilons are binned in steps of 0.5 and bin ``k`` (from 1) scores ``2 / 2**k``; the
forgetting quality ``F`` is the mean over examples (1 is perfect), and the final score is
``F * (RA_unlearned / RA_retrained) * (TA_unlearned / TA_retrained)``.

With few models, point estimates of FPR and FNR overstate epsilon (two identical distributions
of 8 models each often look a factor 4 apart). By default the rates are therefore replaced by
their one-sided 95% Clopper-Pearson upper bounds, which makes epsilon a lower confidence bound,
as in differential-privacy auditing; ``rates="point"`` uses the plain rates, floored at
``1 / (2N)``. Outputs equal to 8 decimals are treated as equal, so an exact unlearner whose
arithmetic differs from retraining only by rounding scores as indistinguishable.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> same = per_example_epsilon(rng.normal(size=(32, 5)), rng.normal(size=(32, 5)))
>>> apart = per_example_epsilon(rng.normal(size=(32, 5)) + 10, rng.normal(size=(32, 5)))
>>> bool(same.max() < 1.0), bool(apart.min() > 2.0)
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from scipy.stats import beta

from unlearnkit.errors import InvalidParameterError
from unlearnkit.evaluate.errors import InsufficientDataError
from unlearnkit.evaluate.lira import _check_rows, _label_index, logit_confidence
from unlearnkit.evaluate.shadow import ModelOutputs

__all__ = ["ForgettingScore", "bin_score", "forgetting_score", "per_example_epsilon"]

#: Width of the epsilon bins.
BIN_WIDTH = 0.5
_DECIMALS = 8


def _upper(k: np.ndarray, n: int, alpha: float) -> np.ndarray:
    """One-sided Clopper-Pearson upper bound of a rate ``k / n``."""
    return np.where(k >= n, 1.0, beta.ppf(1 - alpha, k + 1, np.maximum(n - k, 1)))


def per_example_epsilon(
    unlearned: np.ndarray,
    retrained: np.ndarray,
    *,
    delta: float = 0.0,
    rates: Literal["clopper-pearson", "point"] = "clopper-pearson",
    alpha: float = 0.05,
) -> np.ndarray:
    """Epsilon of each example from the outputs of two model populations.

    Parameters
    ----------
    unlearned, retrained : ndarray of shape (n_models, n_examples)
        One output per model and example (the same number of models on both sides).
    delta : float
        The competition's delta in ``[0, 1)``.
    rates : {"clopper-pearson", "point"}
        Upper confidence bounds (default) or point estimates of FPR and FNR.
    alpha : float
        One-sided level of the Clopper-Pearson bounds.
    """
    u = np.round(np.asarray(unlearned, dtype=np.float64), _DECIMALS)
    r = np.round(np.asarray(retrained, dtype=np.float64), _DECIMALS)
    if u.shape != r.shape or u.ndim != 2:
        raise InvalidParameterError(
            f"Outputs must both have shape (n_models, n_examples); got {u.shape} and {r.shape}."
        )
    if not 0.0 <= delta < 1.0:
        raise InvalidParameterError(f"delta must lie in [0, 1), got {delta!r}.")
    if rates not in ("clopper-pearson", "point"):
        raise InvalidParameterError(f"rates must be 'clopper-pearson' or 'point', got {rates!r}.")
    n = u.shape[0]
    if n < 2:
        raise InsufficientDataError(f"Epsilon needs at least 2 models per side; got {n}.")
    eps = np.zeros(u.shape[1])
    for j in range(u.shape[1]):
        cuts = np.unique(np.r_[u[:, j], r[:, j]])
        # Decision "unlearned if output >= t": at t = each distinct value, plus above the max.
        t = np.r_[cuts, np.inf]
        u_hi = (u[:, j][None, :] >= t[:, None]).sum(axis=1)
        r_hi = (r[:, j][None, :] >= t[:, None]).sum(axis=1)
        best = 0.0
        # Both directions: "unlearned if high" and "unlearned if low".
        for fp, fn in ((r_hi, n - u_hi), (n - r_hi, u_hi)):
            if rates == "point":
                floor = 1.0 / (2 * n)
                fpr = np.maximum(fp / n, floor)
                fnr = np.maximum(fn / n, floor)
            else:
                fpr = _upper(fp, n, alpha)
                fnr = _upper(fn, n, alpha)
            with np.errstate(divide="ignore", invalid="ignore"):
                a = np.log(np.clip(1 - delta - fpr, 1e-300, None) / fnr)
                b = np.log(np.clip(1 - delta - fnr, 1e-300, None) / fpr)
            best = max(best, float(np.nanmax(np.r_[a, b])))
        eps[j] = best
    return eps


def bin_score(eps: np.ndarray, width: float = BIN_WIDTH) -> np.ndarray:
    """Per-example score ``2 / 2**k`` of the epsilon bin ``k = floor(eps / width) + 1``."""
    k = np.floor(np.asarray(eps, dtype=np.float64) / width) + 1
    return np.asarray(2.0 / 2.0**k)


@dataclass(frozen=True)
class ForgettingScore:
    """The competition's figures.

    Attributes
    ----------
    score : float
        ``forgetting_quality * ra_ratio * ta_ratio``.
    forgetting_quality : float
        Mean per-example bin score (1 best).
    ra_ratio, ta_ratio : float
        Mean retain / test accuracy of the unlearned models over that of the retrained ones.
    epsilon : ndarray
        Per forget example.
    n_models : int
        Models per side.

    Examples
    --------
    >>> import numpy as np
    >>> s = ForgettingScore(score=0.9, forgetting_quality=1.0, ra_ratio=0.9, ta_ratio=1.0,
    ...                     epsilon=np.zeros(3), n_models=8)
    >>> s.summary()["epsilon_max"]
    0.0
    """

    score: float
    forgetting_quality: float
    ra_ratio: float
    ta_ratio: float
    epsilon: np.ndarray = field(repr=False)
    n_models: int
    details: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """Scalars, JSON-ready."""
        return {
            "score": self.score,
            "forgetting_quality": self.forgetting_quality,
            "ra_ratio": self.ra_ratio,
            "ta_ratio": self.ta_ratio,
            "epsilon_mean": float(self.epsilon.mean()),
            "epsilon_max": float(self.epsilon.max()),
            "n_models": self.n_models,
            **self.details,
        }


def _accuracy(outs: ModelOutputs, y: np.ndarray, rows: np.ndarray) -> float:
    classes = np.unique(y)
    pred = classes[outs.proba[:, rows, :].argmax(axis=2)]
    return float(np.mean(pred == y[rows][None, :]))


def forgetting_score(
    *,
    y: Any,
    unlearned: ModelOutputs,
    retrained: ModelOutputs,
    forget: Any,
    retain: Any,
    test: Any,
    delta: float = 0.0,
    rates: Literal["clopper-pearson", "point"] = "clopper-pearson",
) -> ForgettingScore:
    """The NeurIPS-2023 forgetting score from unlearned and retrained model outputs.

    Parameters
    ----------
    y : array-like
        Labels of the pool the outputs are on.
    unlearned, retrained : ModelOutputs
        ``N`` models each (for example from
        :meth:`~unlearnkit.evaluate.shadow.ShadowRunner.train_pairs` with ``subsample=False``).
    forget, retain, test : array-like of int
        Pool rows of the three splits.
    delta, rates
        See :func:`per_example_epsilon`.
    """
    y = np.asarray(y)
    f = _check_rows(forget, len(y), "forget")
    r = _check_rows(retain, len(y), "retain")
    t = _check_rows(test, len(y), "test")
    if len(f) == 0:
        raise InsufficientDataError("The forgetting score needs at least one forget sample.")
    idx = _label_index(np.unique(y), y[f])
    eps = per_example_epsilon(
        logit_confidence(unlearned.proba[:, f, :], idx),
        logit_confidence(retrained.proba[:, f, :], idx),
        delta=delta,
        rates=rates,
    )
    quality = float(bin_score(eps).mean())
    ra_r, ta_r = _accuracy(retrained, y, r), _accuracy(retrained, y, t)
    ra_ratio = _accuracy(unlearned, y, r) / ra_r if ra_r > 0 else float("nan")
    ta_ratio = _accuracy(unlearned, y, t) / ta_r if ta_r > 0 else float("nan")
    return ForgettingScore(
        score=quality * ra_ratio * ta_ratio,
        forgetting_quality=quality,
        ra_ratio=ra_ratio,
        ta_ratio=ta_ratio,
        epsilon=eps,
        n_models=len(unlearned),
        details={"delta": delta, "rates": rates},
    )
