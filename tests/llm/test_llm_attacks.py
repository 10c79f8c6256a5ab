"""Membership scores, AUC and PrivLeak on hand-computed cases."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from unlearnkit.errors import InvalidParameterError
from unlearnkit.llm.attacks import (
    attack_auc,
    loss,
    membership_scores,
    min_k,
    min_k_pp,
    privleak,
    zlib_score,
)
from unlearnkit.llm.text import TokenStats


def test_scores_hand_computed():
    lp = np.log([0.5, 0.1, 0.9, 0.2, 0.4])
    assert loss(lp) == pytest.approx(np.mean(lp))
    # 20% of 5 tokens = 1 token, the lowest one (0.1)
    assert min_k(lp, 0.2) == pytest.approx(np.log(0.1))
    # 50% of 5 rounds up to 3: 0.1, 0.2, 0.4
    assert min_k(lp, 0.5) == pytest.approx(np.mean(np.log([0.1, 0.2, 0.4])))
    text = "Ada was born in Rome."
    assert zlib_score(lp, text) == pytest.approx(lp.sum() / len(zlib.compress(text.encode())))
    mu, sigma = np.full(5, -1.0), np.full(5, 2.0)
    assert min_k_pp(lp, mu, sigma, 0.2) == pytest.approx((np.log(0.1) + 1) / 2)
    with pytest.raises(InvalidParameterError):
        min_k(lp, 0.0)


def test_membership_scores_dispatch():
    stats = [TokenStats(np.log([0.5, 0.25]), np.zeros(2), np.ones(2), np.ones(2, bool))]
    assert membership_scores(stats, ["ab"], "loss")[0] == pytest.approx(np.log(0.5 * 0.25) / 2)
    assert membership_scores(stats, ["ab"], "min_k_pp", k=0.5)[0] == pytest.approx(np.log(0.25))
    with pytest.raises(InvalidParameterError):
        membership_scores(stats, ["ab"], "lira")  # type: ignore[arg-type]


def test_auc_and_privleak_hand_computed():
    assert attack_auc(np.array([3.0, 4.0]), np.array([1.0, 2.0])) == 1.0
    # pairs (member > non-member): (2>1), (2<3), (4>1), (4>3) -> 3 of 4
    assert attack_auc(np.array([2.0, 4.0]), np.array([1.0, 3.0])) == 0.75
    assert privleak(0.75, 0.5) == pytest.approx(50.0)
    assert privleak(0.5, 0.5) == 0.0
