"""Utility and fidelity metrics: definitions, edge cases and typed errors."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import entropy
from sklearn.linear_model import LogisticRegression

from unlearnkit.data import Samples
from unlearnkit.errors import DataValidationError
from unlearnkit.evaluate import metrics
from unlearnkit.evaluate.errors import ModelMismatchError
from unlearnkit.evaluate.metrics import (
    accuracy,
    average_gap,
    js_divergence,
    kl_divergence,
    output_agreement,
    parameter_distance,
    utility_splits,
)


@pytest.fixture
def fitted():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 2))
    y = (X[:, 0] + 0.5 * rng.normal(size=120) > 0).astype(int)
    return LogisticRegression().fit(X[40:], y[40:]), X, y


def test_utility_splits_follow_the_literature(fitted):
    model, X, y = fitted
    u = utility_splits(
        model, forget=(X[:20], y[:20]), retain=Samples(X[40:], y[40:]), test=(X[20:40], y[20:40])
    )
    assert u["UA"] == pytest.approx(1 - np.mean(model.predict(X[:20]) == y[:20]))
    assert u["RA"] == pytest.approx(model.score(X[40:], y[40:]))
    assert u["TA"] == pytest.approx(model.score(X[20:40], y[20:40]))


def test_accuracy_of_empty_split_is_nan(fitted):
    model, X, y = fitted
    assert np.isnan(accuracy(model, X[:0], y[:0]))


def test_split_errors_are_typed(fitted):
    model, X, y = fitted
    with pytest.raises(DataValidationError, match="no labels"):
        utility_splits(model, forget=Samples(X[:5]), retain=(X, y), test=(X, y))
    with pytest.raises(DataValidationError, match="must match"):
        utility_splits(model, forget=(X[:5], y[:4]), retain=(X, y), test=(X, y))
    with pytest.raises(DataValidationError, match="Samples or an"):
        utility_splits(model, forget=X, retain=(X, y), test=(X, y))


def test_divergences_match_scipy():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(4), size=30)
    q = rng.dirichlet(np.ones(4), size=30)
    assert kl_divergence(p, q) == pytest.approx(np.mean(entropy(p, q, axis=1)))
    assert js_divergence(p, q) == pytest.approx(np.mean(jensenshannon(p, q, axis=1) ** 2))
    assert kl_divergence(p, p) == pytest.approx(0.0, abs=1e-12)
    assert 0 <= js_divergence(p, 1 - p / p.sum(1, keepdims=True)) <= np.log(2)
    assert kl_divergence(p, q, reduction="none").shape == (30,)


def test_agreement_by_argmax_or_labels():
    p = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    q = np.array([[0.7, 0.3], [0.6, 0.4], [0.5, 0.5]])
    assert output_agreement(p, q) == pytest.approx(2 / 3)
    assert output_agreement([1, 2, 3], [1, 2, 4]) == pytest.approx(2 / 3)
    with pytest.raises(DataValidationError, match="equal shapes"):
        output_agreement(p, q[:2])
    with pytest.raises(DataValidationError, match="non-negative"):
        kl_divergence(-p, q)


def test_parameter_distance_arrays_and_torch():
    assert parameter_distance([np.zeros(3), np.ones(2)], [np.ones(3), np.ones(2)]) == (
        pytest.approx(np.sqrt(3))
    )
    with pytest.raises(ModelMismatchError, match="shape"):
        parameter_distance(np.zeros(3), np.zeros(4))
    with pytest.raises(ModelMismatchError, match="torch modules"):
        parameter_distance(object(), object())
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    a, b = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    expected = torch.sqrt(
        ((a.weight - b.weight) ** 2).sum() + ((a.bias - b.bias) ** 2).sum()
    ).item()
    assert parameter_distance(a, b) == pytest.approx(expected)
    assert parameter_distance(a, a) == 0.0
    with pytest.raises(ModelMismatchError, match="same architecture"):
        parameter_distance(a, torch.nn.Linear(3, 3))
    with pytest.raises(ModelMismatchError, match="in one only"):
        parameter_distance(a, torch.nn.Sequential(torch.nn.Linear(3, 2)))


def test_average_gap_in_percentage_points():
    m = {"UA": 0.10, "RA": 0.99, "TA": 0.90, "MIA-efficacy": 0.20}
    r = {"UA": 0.12, "RA": 0.95, "TA": 0.91, "MIA-efficacy": 0.25}
    assert average_gap(m, r) == pytest.approx((2 + 4 + 1 + 5) / 4)
    assert average_gap(m, r, keys=["TA"]) == pytest.approx(1.0)
    with pytest.raises(DataValidationError, match="MIA-efficacy"):
        average_gap({"UA": 0.1, "RA": 1, "TA": 1}, r)
    with pytest.raises(DataValidationError, match="non-finite"):
        average_gap({"UA": np.nan}, {"UA": 0.1}, keys=["UA"])


def test_module_doctests():
    assert doctest.testmod(metrics, optionflags=doctest.ELLIPSIS).failed == 0
