"""Metric definitions checked on cases computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from unlearnkit.errors import DataValidationError
from unlearnkit.llm.metrics import (
    exact_memorization,
    extraction_strength,
    forget_quality,
    harmonic_mean,
    normalized_probability,
    option_probability,
    rouge_l_recall,
    truth_ratio,
    truth_ratio_score,
)


def test_normalized_probability_is_the_geometric_mean_of_token_probabilities():
    assert normalized_probability(np.log([0.5, 0.125])) == pytest.approx(0.25)


def test_truth_ratio_hand_computed():
    # paraphrase: tokens 0.8 and 0.2 -> geometric mean 0.4
    # perturbed: 0.1 (one token) and 0.4, 0.1 (geo mean 0.2) -> geometric mean of 0.1, 0.2
    para = np.log([0.8, 0.2])
    pert = [np.log([0.1]), np.log([0.4, 0.1])]
    expected = math.sqrt(0.1 * 0.2) / 0.4
    assert truth_ratio(para, pert) == pytest.approx(expected)
    assert truth_ratio_score(np.array([expected, 2.0, 0.25])) == pytest.approx(
        ((1 - expected) + 0 + 0.75) / 3
    )


def test_option_probability_hand_computed():
    assert option_probability(np.log([0.5]), [np.log([0.25]), np.log([0.25])]) == 0.5


def test_forget_quality_is_the_ks_p_value():
    same = np.array([0.1, 0.5, 0.9, 1.3, 2.0])
    assert forget_quality(same, same) == pytest.approx(1.0)
    # completely separated samples of 5 and 5: exact two-sided p = 2 / C(10, 5)
    low, high = np.arange(5) / 10, 1 + np.arange(5) / 10
    assert forget_quality(low, high) == pytest.approx(2 / math.comb(10, 5))


def test_harmonic_mean_hand_computed_and_zero_when_any_is_zero():
    assert harmonic_mean([1.0, 0.5, 0.25]) == pytest.approx(3 / 7)
    assert harmonic_mean([0.5, 0.0]) == 0.0
    with pytest.raises(DataValidationError):
        harmonic_mean([-1.0])


def test_rouge_l_recall_hand_computed():
    ref = "Ada was born in Rome."
    assert rouge_l_recall("Ada was born in Rome.", ref) == 1.0
    # LCS of "ada born in paris" with "ada was born in rome" is "ada born in" = 3 of 5
    assert rouge_l_recall("Ada born in Paris", ref) == pytest.approx(3 / 5)
    assert rouge_l_recall("", ref) == 0.0
    assert rouge_l_recall("rome in born was ada", ref) == pytest.approx(1 / 5)
    with pytest.raises(DataValidationError):
        rouge_l_recall("x", "")


def test_exact_memorization_and_extraction_strength_hand_computed():
    c = np.array([True, False, True, True])
    assert exact_memorization(c) == 0.75
    # the last wrong token is at position 1: a prefix of 2 tokens extracts the rest
    assert extraction_strength(c) == pytest.approx(1 - 2 / 4)
    assert extraction_strength(np.ones(5, bool)) == 1.0
    assert extraction_strength(np.array([True, True, False])) == 0.0
    with pytest.raises(DataValidationError):
        extraction_strength(np.array([], bool))


def test_truth_ratio_needs_perturbed_answers():
    with pytest.raises(DataValidationError):
        truth_ratio(np.log([0.5]), [])
