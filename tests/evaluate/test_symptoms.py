"""Backdoor success, fairness gaps and the utility curve under accumulating deletions."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from sklearn.tree import DecisionTreeClassifier

from unlearnkit.data import Samples
from unlearnkit.errors import DataValidationError, InvalidParameterError
from unlearnkit.evaluate import symptoms
from unlearnkit.evaluate.adapters import ClassifierAdapter
from unlearnkit.evaluate.symptoms import backdoor_success_rate, deletion_curve, fairness_gaps
from unlearnkit.exact import GaussianNBUnlearner


class _Fixed(ClassifierAdapter):
    """Predicts the label stored in column 0 of X."""

    def __init__(self):
        self.model = None
        self.classes_ = np.array([0, 1])

    def predict_proba(self, X):
        hit = np.asarray(X)[:, 0].astype(int)
        return np.column_stack([1 - hit, hit]).astype(float)


def test_fairness_gaps_by_hand():
    pred = np.array([1, 1, 0, 0, 1, 0, 0, 0])
    y = np.array([1, 0, 1, 0, 1, 1, 0, 0])
    g = np.array(["a"] * 4 + ["b"] * 4)
    gaps = fairness_gaps(_Fixed(), pred.reshape(-1, 1), y, g)
    # selection: a 2/4, b 1/4; TPR: a 1/2, b 1/2; FPR: a 1/2, b 0/2.
    assert gaps["demographic_parity_difference"] == pytest.approx(0.25)
    assert gaps["equalized_odds_difference"] == pytest.approx(0.5)
    assert gaps["tpr"] == {"a": 0.5, "b": 0.5}
    with pytest.raises(DataValidationError, match="two groups"):
        fairness_gaps(_Fixed(), pred.reshape(-1, 1), y, ["a"] * 8)
    with pytest.raises(DataValidationError, match="must match"):
        fairness_gaps(_Fixed(), pred.reshape(-1, 1), y, ["a"] * 7)


def test_backdoor_success_falls_after_removing_the_poison():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 4))
    y = (X[:, 0] > 0).astype(int)
    poison = np.arange(40)
    X[poison, 3] = 6.0  # the trigger
    y[poison] = 1
    triggered = rng.normal(size=(200, 4))
    triggered[:, 3] = 6.0
    truth = (triggered[:, 0] > 0).astype(int)
    poisoned = DecisionTreeClassifier(random_state=0).fit(X, y)
    keep = np.setdiff1d(np.arange(400), poison)
    clean = DecisionTreeClassifier(random_state=0).fit(X[keep], y[keep])
    before = backdoor_success_rate(poisoned, triggered, 1, y_true=truth)
    after = backdoor_success_rate(clean, triggered, 1, y_true=truth)
    assert before > 0.9
    assert after < 0.5
    with pytest.raises(DataValidationError, match="not a class"):
        backdoor_success_rate(clean, triggered, 7)


def test_deletion_curve_of_an_exact_method_tracks_retraining():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(260, 3))
    y = (X[:, 0] + rng.normal(size=260) > 0).astype(int)
    data, test = Samples(X[:200], y[:200]), Samples(X[200:], y[200:])
    curve = deletion_curve(
        GaussianNBUnlearner(),
        data,
        test,
        checkpoints=(1, 10, 100, 1000),
        retrain=lambda X, y: GaussianNBUnlearner().fit(X, y),
    )
    assert curve.n_deleted.tolist() == [1, 10, 100]
    np.testing.assert_allclose(curve.test_accuracy, curve.reference_test_accuracy)
    assert np.all(np.diff(curve.seconds) >= 0)
    assert len(curve.rows()) == 3
    with pytest.raises(InvalidParameterError, match="checkpoint"):
        deletion_curve(GaussianNBUnlearner(), data, test, checkpoints=(500,))
    with pytest.raises(InvalidParameterError, match="no unlearn"):
        deletion_curve(DecisionTreeClassifier(), data, test)


def test_module_doctests():
    assert doctest.testmod(symptoms, optionflags=doctest.ELLIPSIS).failed == 0
