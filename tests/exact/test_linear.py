from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.linear_model import LinearRegression, Ridge

from unlearnkit.checks import check_unlearner
from unlearnkit.errors import InvalidRequestError, UnsupportedRequestError
from unlearnkit.exact import LinearRegressionUnlearner, RidgeUnlearner
from unlearnkit.requests import ForgetRequest

RTOL = 1e-8


def assert_coef_equal(model, reference, rtol=RTOL):
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=rtol, atol=1e-10)
    np.testing.assert_allclose(model.intercept_, reference.intercept_, rtol=rtol, atol=1e-10)


@pytest.mark.parametrize(
    "estimator",
    [
        RidgeUnlearner(),
        RidgeUnlearner(alpha=10.0, fit_intercept=False),
        LinearRegressionUnlearner(),
        LinearRegressionUnlearner(fit_intercept=False),
    ],
)
def test_checks_pass(estimator):
    check_unlearner(estimator)


@given(
    X=arrays(
        np.float64,
        st.tuples(st.integers(12, 40), st.integers(1, 5)),
        elements=st.floats(-100, 100, allow_nan=False, width=32),
    ),
    seed=st.integers(0, 2**16),
    alpha=st.floats(0.01, 100),
)
def test_ridge_equivalence_on_generated_data(X, seed, alpha):
    rng = np.random.default_rng(seed)
    y = X @ rng.normal(size=X.shape[1]) + rng.normal(size=len(X))
    model = RidgeUnlearner(alpha=alpha).fit(X, y)
    forget = rng.choice(len(X), size=rng.integers(1, len(X) // 2), replace=False)
    model.unlearn(forget.tolist())
    keep = np.setdiff1d(np.arange(len(X)), forget)
    reference = Ridge(alpha=alpha).fit(X[keep], y[keep])
    scale = max(1.0, np.abs(reference.coef_).max())
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-7, atol=1e-9 * scale)
    np.testing.assert_allclose(model.predict(X), reference.predict(X), rtol=1e-7, atol=1e-7 * scale)


def test_weighted_multioutput_ridge_matches_sklearn():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 6)) * 4 + 10
    Y = X @ rng.normal(size=(6, 3)) + rng.normal(size=(300, 3))
    w = rng.uniform(0.1, 3, size=300)
    model = RidgeUnlearner(alpha=0.7).fit(X, Y, sample_weight=w)
    model.unlearn(list(range(0, 300, 7)))
    keep = np.arange(300) % 7 != 0
    assert_coef_equal(model, Ridge(alpha=0.7).fit(X[keep], Y[keep], sample_weight=w[keep]))
    assert model.coef_.shape == (3, 6)


def test_many_single_deletions_do_not_drift():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(2000, 8)) * rng.uniform(0.1, 50, size=8) + rng.normal(scale=100, size=8)
    y = X @ rng.normal(size=8) + rng.normal(size=2000)
    model = RidgeUnlearner(alpha=1.0).fit(X, y)
    for i in range(0, 1500):
        model.unlearn([i])
    assert_coef_equal(model, Ridge(alpha=1.0).fit(X[1500:], y[1500:]))


def test_rank_deficient_least_squares_gives_the_minimum_norm_solution():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(50, 3))
    X = np.column_stack([X, X[:, 0] + X[:, 1]])  # a column that is a sum of two others
    y = rng.normal(size=50)
    model = LinearRegressionUnlearner().fit(X, y)
    model.unlearn([0, 1, 2])
    reference = LinearRegression().fit(X[3:], y[3:])
    np.testing.assert_allclose(model.predict(X), reference.predict(X), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-6, atol=1e-8)


def test_feature_removal_by_name_matches_training_without_the_column():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(rng.normal(size=(100, 4)), columns=["age", "zip", "income", "debt"])
    y = frame.to_numpy() @ [1.0, 0.5, -2.0, 3.0] + rng.normal(size=100)
    model = RidgeUnlearner().fit(frame, y)
    result = model.unlearn(ForgetRequest.features(["zip"], reason="privacy"))
    assert result.removed_features == ("zip",)
    reduced = frame.drop(columns=["zip"])
    assert_coef_equal(model, Ridge().fit(reduced, y))
    assert list(model.feature_names_in_) == ["age", "income", "debt"]
    np.testing.assert_allclose(model.predict(reduced), Ridge().fit(reduced, y).predict(reduced))
    model.unlearn([4, 9])  # rows can still be forgotten after a column went
    assert_coef_equal(model, Ridge().fit(reduced.drop(index=[4, 9]), np.delete(y, [4, 9])))


def test_relabel_corrects_targets():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(80, 3))
    y = X @ [1.0, 1.0, 1.0]
    y_poisoned = y.copy()
    y_poisoned[:5] = 100.0
    model = LinearRegressionUnlearner().fit(X, y_poisoned)
    result = model.unlearn(ForgetRequest.relabel({i: float(y[i]) for i in range(5)}))
    assert result.relabeled_ids == (0, 1, 2, 3, 4)
    np.testing.assert_allclose(model.coef_, [1.0, 1.0, 1.0], atol=1e-10)
    with pytest.raises(InvalidRequestError, match="not numbers"):
        model.unlearn(ForgetRequest.relabel({6: "high"}))


def test_classes_requests_are_refused_with_a_pointer():
    X, y = np.eye(5), np.arange(5.0)
    model = RidgeUnlearner().fit(X, y)
    with pytest.raises(UnsupportedRequestError, match="unlearnkit methods"):
        model.unlearn(ForgetRequest.classes([1.0]))
