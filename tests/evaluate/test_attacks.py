"""Attacks that read only the model: they separate members when the model memorised them."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from unlearnkit.errors import InvalidParameterError
from unlearnkit.evaluate import attacks, roc
from unlearnkit.evaluate.attacks import (
    loss_threshold_attack,
    membership_signal,
    mia_efficacy,
    threshold_attack,
)
from unlearnkit.evaluate.errors import InsufficientDataError
from unlearnkit.evaluate.roc import AttackResult, auc_interval, tpr_at_fpr


def _noisy(n, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6))
    y = (X[:, 0] + 1.5 * rng.normal(size=n) > 0).astype(int)
    return X, y


def test_tpr_at_fpr_and_when_it_is_not_resolvable():
    members = np.r_[np.full(10, 5.0), np.zeros(90)]
    nonmembers = np.r_[np.linspace(-1, 0.5, 999), 10.0]
    # One non-member (0.1% of 1000) outranks everyone: at 0.1% FPR all 10 high members pass.
    assert tpr_at_fpr(members, nonmembers, 0.001) == pytest.approx(0.10)
    assert np.isnan(tpr_at_fpr(members, nonmembers[:500], 0.001))
    lo, hi = auc_interval(0.5, 1000, 1000)
    assert lo < 0.5 < hi
    assert hi - lo < 0.06


def test_attack_result_validates_sizes_and_summarises():
    with pytest.raises(InsufficientDataError, match="at least 2"):
        AttackResult.from_scores("x", [1.0], [0.0, 1.0])
    r = AttackResult.from_scores("x", [1.0, 2.0, 3.0], [0.0, 1.5])
    s = r.summary()
    assert s["auc"] == pytest.approx(5 / 6)
    assert s["tpr_at_1%_fpr"] is None
    fpr, tpr = r.roc_curve()
    assert fpr[-1] == tpr[-1] == 1.0


def test_loss_attack_separates_an_overfit_trees_members_not_a_calibrated_models():
    X, y = _noisy(400, 0)
    tree = DecisionTreeClassifier(random_state=0).fit(X[:200], y[:200])
    r = loss_threshold_attack(tree, members=(X[:200], y[:200]), nonmembers=(X[200:], y[200:]))
    assert r.auc > 0.6
    assert r.auc_ci[0] > 0.55
    lin = LogisticRegression().fit(X[:200], y[:200])
    r2 = loss_threshold_attack(lin, members=(X[:200], y[:200]), nonmembers=(X[200:], y[200:]))
    assert r2.auc_ci[0] < 0.5 + 0.1
    assert abs(r2.auc - 0.5) < 0.1


@pytest.mark.parametrize("signal", attacks.SIGNALS)
def test_signals_rank_a_perfect_fit_above_a_wrong_guess(signal):
    proba = np.array([[0.99, 0.01], [0.4, 0.6]])
    values = membership_signal(proba, np.array([0, 0]), signal)
    assert values[0] > values[1]


def test_unknown_signal_is_refused():
    with pytest.raises(InvalidParameterError, match="signal"):
        threshold_attack(None, members=None, nonmembers=None, signal="bogus")


def test_mia_efficacy_tells_memorised_forget_set_from_a_forgotten_one():
    X, y = _noisy(600, 1)
    forget, retain, test = (X[:100], y[:100]), (X[100:400], y[100:400]), (X[400:], y[400:])
    kept = DecisionTreeClassifier(min_samples_leaf=1, random_state=0).fit(X[:400], y[:400])
    retrained = DecisionTreeClassifier(min_samples_leaf=1, random_state=0).fit(
        X[100:400], y[100:400]
    )
    noop = mia_efficacy(kept, forget=forget, retain=retain, test=test)
    exact = mia_efficacy(retrained, forget=forget, retain=retain, test=test)
    # The forget set still looks like training data to the attack on the unchanged model ...
    assert noop.efficacy < 0.3
    assert noop.auc > 0.65
    # ... and like test data on the retrained one.
    assert exact.efficacy > noop.efficacy + 0.2
    assert abs(exact.auc - 0.5) < 0.1
    assert noop.summary()["efficacy"] == noop.efficacy


def test_mia_efficacy_refuses_tiny_splits():
    X, y = _noisy(50, 2)
    model = LogisticRegression().fit(X, y)
    with pytest.raises(InsufficientDataError, match="forget"):
        mia_efficacy(model, forget=(X[:3], y[:3]), retain=(X, y), test=(X, y))


def test_module_doctests():
    for module in (attacks, roc):
        assert doctest.testmod(module, optionflags=doctest.ELLIPSIS).failed == 0
