"""Every exact unlearner passes scikit-learn's own estimator checks."""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from unlearnkit.registry import methods

ESTIMATORS = [info.cls() for _, info in methods if info.guarantee.kind == "exact"]


def test_every_exact_method_is_checked():
    assert {type(e).__name__ for e in ESTIMATORS} >= {"RidgeUnlearner", "LinearRegressionUnlearner"}


@parametrize_with_checks(
    ESTIMATORS,
    expected_failed_checks=lambda e: getattr(e, "_sklearn_expected_failed_checks", {}),
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
