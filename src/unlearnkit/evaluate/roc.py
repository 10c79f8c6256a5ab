"""The result every membership-inference attack returns: scores, AUC and low-FPR power.

Scores are oriented so that a *higher* score means "more likely a member" (trained on). The
true-positive rate at a false-positive rate ``f`` is read off the empirical ROC curve at the
largest threshold whose FPR does not exceed ``f``; it is reported only when there are at least
``1 / f`` non-members (otherwise the empirical curve cannot resolve that FPR and the value is
NaN). The AUC's 95% interval uses the Hanley-McNeil (1982) standard error.

Examples
--------
>>> import numpy as np
>>> r = AttackResult.from_scores("demo", members=np.arange(100.0) + 50, nonmembers=np.arange(100.0))
>>> round(r.auc, 3), r.tpr_at_1pct, bool(np.isnan(r.tpr_at_0_1pct))
(0.875, 0.5, True)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Self

import numpy as np
from scipy.stats import norm, rankdata
from sklearn.metrics import roc_auc_score, roc_curve

from unlearnkit.errors import DataValidationError
from unlearnkit.evaluate.errors import InsufficientDataError

__all__ = ["LOW_FPRS", "AttackResult", "auc_interval", "bootstrap_aucs", "tpr_at_fpr"]

#: The false-positive rates at which attacks report their true-positive rate.
LOW_FPRS: tuple[float, ...] = (0.001, 0.01)


def tpr_at_fpr(members: np.ndarray, nonmembers: np.ndarray, fpr: float) -> float:
    """TPR at false-positive rate ``fpr`` (NaN when there are fewer than ``1/fpr`` non-members)."""
    if len(nonmembers) < int(np.ceil(1.0 / fpr - 1e-9)) or len(members) == 0:
        return float("nan")
    labels = np.r_[np.ones(len(members)), np.zeros(len(nonmembers))]
    fprs, tprs, _ = roc_curve(labels, np.r_[members, nonmembers])
    ok = fprs <= fpr + 1e-12
    return float(tprs[ok].max())


def auc_interval(auc: float, n_pos: int, n_neg: int, level: float = 0.95) -> tuple[float, float]:
    """Hanley-McNeil confidence interval of an AUC, clipped to ``[0, 1]``."""
    q1 = auc / (2.0 - auc)
    q2 = 2.0 * auc**2 / (1.0 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc**2) + (n_neg - 1) * (q2 - auc**2)) / (
        n_pos * n_neg
    )
    # The variance vanishes at AUC 0 or 1; a floor of one pair's weight keeps the interval honest.
    se = float(np.sqrt(max(var, 1.0 / (4.0 * n_pos * n_neg))))
    z = float(norm.ppf(0.5 + level / 2.0))
    return max(0.0, auc - z * se), min(1.0, auc + z * se)


def bootstrap_aucs(
    members: np.ndarray, nonmembers: np.ndarray, pos_idx: np.ndarray, neg_idx: np.ndarray
) -> np.ndarray:
    """AUCs of resampled scores: row ``b`` uses ``members[pos_idx[b]]``, ``nonmembers[neg_idx[b]]``.

    Giving two attacks the same index arrays gives a *paired* bootstrap of their difference.
    """
    pos = np.asarray(members)[pos_idx]
    neg = np.asarray(nonmembers)[neg_idx]
    n1, n0 = pos.shape[1], neg.shape[1]
    ranks = rankdata(np.concatenate([pos, neg], axis=1), axis=1)
    return np.asarray((ranks[:, :n1].sum(axis=1) - n1 * (n1 + 1) / 2) / (n1 * n0))


@dataclass(frozen=True, kw_only=True)
class AttackResult:
    """Outcome of one membership-inference attack.

    Attributes
    ----------
    name : str
        The attack.
    auc : float
        Area under the ROC curve of members (positives) against non-members.
    auc_ci : tuple of float
        95% confidence interval of the AUC.
    tpr_at_0_1pct, tpr_at_1pct : float
        True-positive rate at 0.1% and 1% false-positive rate (NaN where not resolvable).
    member_scores, nonmember_scores : ndarray
        Per-sample scores, higher meaning "member".
    details : dict
        Attack-specific facts (number of shadow models, the signal used, ...).

    Examples
    --------
    >>> r = AttackResult.from_scores("demo", members=[0.9, 0.8, 0.4], nonmembers=[0.1, 0.5])
    >>> round(r.auc, 3), r.n_members, r.summary()["tpr_at_1%_fpr"] is None
    (0.833, 3, True)
    """

    name: str
    auc: float
    auc_ci: tuple[float, float]
    tpr_at_0_1pct: float
    tpr_at_1pct: float
    member_scores: np.ndarray = field(repr=False)
    nonmember_scores: np.ndarray = field(repr=False)
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_scores(
        cls,
        name: str,
        members: Any,
        nonmembers: Any,
        *,
        details: dict[str, Any] | None = None,
        min_samples: int = 2,
        **extra: Any,
    ) -> Self:
        """Build a result from member and non-member scores.

        Raises
        ------
        InsufficientDataError
            If either side has fewer than ``min_samples`` scores.
        DataValidationError
            If a score is NaN.
        """
        m = np.asarray(members, dtype=np.float64).reshape(-1)
        n = np.asarray(nonmembers, dtype=np.float64).reshape(-1)
        if len(m) < min_samples or len(n) < min_samples:
            raise InsufficientDataError(
                f"The {name} attack needs at least {min_samples} member and {min_samples} "
                f"non-member samples; got {len(m)} and {len(n)}. Pass more samples."
            )
        if np.isnan(m).any() or np.isnan(n).any():
            raise DataValidationError(f"The {name} attack produced NaN scores.")
        labels = np.r_[np.ones(len(m)), np.zeros(len(n))]
        auc = float(roc_auc_score(labels, np.r_[m, n]))
        return cls(
            name=name,
            auc=auc,
            auc_ci=auc_interval(auc, len(m), len(n)),
            tpr_at_0_1pct=tpr_at_fpr(m, n, LOW_FPRS[0]),
            tpr_at_1pct=tpr_at_fpr(m, n, LOW_FPRS[1]),
            member_scores=m,
            nonmember_scores=n,
            details=dict(details or {}),
            **extra,
        )

    @property
    def n_members(self) -> int:
        return len(self.member_scores)

    @property
    def n_nonmembers(self) -> int:
        return len(self.nonmember_scores)

    def roc_curve(self) -> tuple[np.ndarray, np.ndarray]:
        """False- and true-positive rates of the empirical ROC curve."""
        labels = np.r_[np.ones(self.n_members), np.zeros(self.n_nonmembers)]
        fpr, tpr, _ = roc_curve(labels, np.r_[self.member_scores, self.nonmember_scores])
        return fpr, tpr

    def summary(self) -> dict[str, Any]:
        """Scalar results (no per-sample scores), JSON-ready with NaN as None."""
        out: dict[str, Any] = {
            "auc": self.auc,
            "auc_ci_low": self.auc_ci[0],
            "auc_ci_high": self.auc_ci[1],
            "tpr_at_0.1%_fpr": self.tpr_at_0_1pct,
            "tpr_at_1%_fpr": self.tpr_at_1pct,
            "n_members": self.n_members,
            "n_nonmembers": self.n_nonmembers,
        }
        for key in self._extra_fields():
            out[key] = getattr(self, key)
        out["details"] = self.details
        return {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in out.items()}

    def _extra_fields(self) -> tuple[str, ...]:
        return ()
