r"""Membership-inference attacks on language models, and MUSE's PrivLeak.

Each attack turns an example's token log-probabilities into a *membership score* (higher:
more likely a training member):

* **LOSS** (Yeom et al. 2018): ``mean_t l_t`` (the negative loss).
* **zlib** (Carlini et al. 2021): ``sum_t l_t / zlib_bytes(answer)``, the log-likelihood over
  the length of the zlib-compressed answer text.
* **Min-K%** (Shi et al. 2024): mean of the ``k`` share (rounded up) of lowest ``l_t``.
* **Min-K%++** (Zhang et al. 2025): the same on ``z_t = (l_t - mu_t) / sigma_t``, with
  ``mu_t``, ``sigma_t`` the mean and standard deviation of ``log p(z)`` under the model's
  next-token distribution.

The attack's AUC separates forget examples (members of the original training set) from
holdout examples (never trained on). **PrivLeak** (Shi et al. 2024, MUSE) is
``100 * (AUC_unlearned - AUC_retain) / AUC_retain``: 0 means the unlearned model leaks as
much as the retain-only model, positive means it still shows the forget set as members.

Examples
--------
>>> import numpy as np
>>> from unlearnkit.llm.attacks import min_k
>>> bool(min_k(np.log([0.5, 0.1, 0.9, 0.2]), k=0.5) == np.mean(np.log([0.1, 0.2])))
True
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from typing import Literal

import numpy as np
from sklearn.metrics import roc_auc_score

from unlearnkit.errors import DataValidationError, InvalidParameterError
from unlearnkit.llm.text import TokenStats

__all__ = [
    "ATTACKS",
    "attack_auc",
    "loss",
    "membership_scores",
    "min_k",
    "min_k_pp",
    "privleak",
    "zlib_score",
]

Attack = Literal["loss", "zlib", "min_k", "min_k_pp"]
ATTACKS: tuple[Attack, ...] = ("loss", "zlib", "min_k", "min_k_pp")


def loss(logp: np.ndarray) -> float:
    return float(np.mean(logp))


def zlib_score(logp: np.ndarray, text: str) -> float:
    return float(np.sum(logp) / len(zlib.compress(text.encode("utf-8"))))


def _lowest(values: np.ndarray, k: float) -> float:
    if not 0 < k <= 1:
        raise InvalidParameterError(f"k={k!r} must be in (0, 1].")
    v = np.sort(np.asarray(values, dtype=np.float64))
    if v.size == 0:
        raise DataValidationError("A membership score needs at least one token.")
    return float(v[: max(1, math.ceil(k * v.size))].mean())


def min_k(logp: np.ndarray, k: float = 0.2) -> float:
    return _lowest(logp, k)


def min_k_pp(logp: np.ndarray, mu: np.ndarray, sigma: np.ndarray, k: float = 0.2) -> float:
    return _lowest((np.asarray(logp) - np.asarray(mu)) / np.asarray(sigma), k)


def membership_scores(
    stats: Sequence[TokenStats], texts: Sequence[str], attack: Attack = "min_k_pp", k: float = 0.2
) -> np.ndarray:
    """Membership score of each example under ``attack``."""
    if attack == "loss":
        return np.array([loss(s.logp) for s in stats])
    if attack == "zlib":
        return np.array([zlib_score(s.logp, t) for s, t in zip(stats, texts, strict=True)])
    if attack == "min_k":
        return np.array([min_k(s.logp, k) for s in stats])
    if attack == "min_k_pp":
        return np.array([min_k_pp(s.logp, s.mu, s.sigma, k) for s in stats])
    raise InvalidParameterError(f"attack={attack!r} is not one of {list(ATTACKS)}.")


def attack_auc(member_scores: np.ndarray, nonmember_scores: np.ndarray) -> float:
    """ROC AUC of telling members (label 1) from non-members by score."""
    m, n = np.asarray(member_scores), np.asarray(nonmember_scores)
    if m.size == 0 or n.size == 0:
        raise DataValidationError("attack_auc needs member and non-member scores.")
    y = np.r_[np.ones(m.size), np.zeros(n.size)]
    return float(roc_auc_score(y, np.r_[m, n]))


def privleak(auc_unlearned: float, auc_retain: float) -> float:
    """``100 * (AUC_unlearned - AUC_retain) / AUC_retain`` (MUSE)."""
    if auc_retain <= 0:
        raise DataValidationError(f"auc_retain={auc_retain!r} must be positive.")
    return 100.0 * (auc_unlearned - auc_retain) / auc_retain
