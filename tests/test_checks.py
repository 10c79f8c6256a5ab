"""The public checks must fail unlearners that only pretend to keep the contract."""

from __future__ import annotations

import numpy as np
import pytest

from unlearnkit.base import Change
from unlearnkit.checks import (
    check_unlearner,
    check_unlearning_atomic,
    check_unlearning_equivalence,
    check_unlearning_input_validation,
    make_check_data,
)
from unlearnkit.exact import RidgeUnlearner


class ForgetsNothing(RidgeUnlearner):
    """Drops the ids from its books but leaves the coefficients as they were."""

    def _forget_rows(self, rows):
        return Change(0.0)


class LeaksOnFailure(RidgeUnlearner):
    """Downdates before it validates, so a bad request still changes the model."""

    def unlearn(self, request, *, data=None):
        self.coef_ = self.coef_ * 0.5
        return super().unlearn(request, data=data)


class AcceptsNaN(RidgeUnlearner):
    def _check_rows(self, X, y, *, reset):
        X = np.nan_to_num(np.asarray(X, dtype=float))
        return super()._check_rows(X, y, reset=reset)


def test_equivalence_check_fails_a_model_that_does_not_forget():
    with pytest.raises(AssertionError, match="differs from a retrain"):
        check_unlearning_equivalence(ForgetsNothing())


def test_atomic_check_fails_a_model_changed_by_bad_requests():
    with pytest.raises(AssertionError, match="changed the model"):
        check_unlearning_atomic(LeaksOnFailure())


def test_input_validation_check_fails_a_model_that_swallows_nan():
    with pytest.raises(AssertionError, match="nan"):
        check_unlearning_input_validation(AcceptsNaN())


def test_honest_model_passes_all_checks():
    check_unlearner(RidgeUnlearner(alpha=0.1))


@pytest.mark.parametrize(
    "kind", ["regression", "classification", "counts", "binary", "categorical", "clustering"]
)
def test_check_data_matches_its_family(kind):
    X, y = make_check_data(kind, random_state=3)
    assert X.shape == (80, 4)
    assert np.all(np.isfinite(X))
    if kind in ("counts", "categorical"):
        assert np.all(X >= 0)
        assert np.all(np.round(X) == X)
    if kind == "binary":
        assert set(np.unique(X)) <= {0.0, 1.0}
    if kind == "clustering":
        assert y is None
    elif kind != "regression":
        assert set(np.unique(y)) == {0, 1, 2}
