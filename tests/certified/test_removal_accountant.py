"""RemovalAccountant: the budget of Theorem 3, charging, restarts and its state dict."""

from __future__ import annotations

import json
import math

import pytest

from unlearnkit.certified import RemovalAccountant, gaussian_constant, noise_for_budget
from unlearnkit.certified.accountant import STATE_VERSION
from unlearnkit.errors import IncompatibleVersionError, InvalidParameterError, UnlearnError


def test_budget_is_sigma_epsilon_over_c():
    acc = RemovalAccountant(epsilon=0.5, delta=1e-5, sigma=3.0)
    c = math.sqrt(2 * math.log(1.5 / 1e-5))
    assert acc.c == pytest.approx(c, rel=1e-15)
    assert gaussian_constant(1e-5) == pytest.approx(c, rel=1e-15)
    assert acc.budget == pytest.approx(3.0 * 0.5 / c, rel=1e-15)
    assert acc.remaining_budget == acc.budget
    # noise_for_budget inverts the relation
    sigma = noise_for_budget(acc.budget, epsilon=0.5, delta=1e-5)
    assert sigma == pytest.approx(3.0, rel=1e-12)


def test_charge_accumulates_and_can_remove_answers_at_the_edge():
    acc = RemovalAccountant(epsilon=1.0, delta=1e-4, sigma=2.0, bound=1e-9)
    start = acc.bound
    acc.charge(0.1, removed=1)
    acc.charge(0.2, removed=3)
    assert acc.bound == pytest.approx(start + 0.3, abs=1e-15)
    assert (acc.removals, acc.removals_since_retrain, acc.retrains) == (4, 4, 0)
    assert acc.remaining_budget == pytest.approx(acc.budget - acc.bound, abs=1e-15)
    assert acc.epsilon_spent == pytest.approx(acc.c * acc.bound / acc.sigma)
    exact = acc.remaining_budget
    assert acc.can_remove(exact * (1 - 1e-12))
    assert not acc.can_remove(exact * (1 + 1e-9))
    with pytest.raises(InvalidParameterError, match="above the budget"):
        acc.charge(exact * 2, removed=1)
    assert acc.bound == pytest.approx(start + 0.3, abs=1e-15)  # a refused charge changes nothing


def test_restart_resets_the_bound_and_counts_the_retrain():
    acc = RemovalAccountant(epsilon=1.0, delta=1e-4, sigma=2.0)
    acc.charge(0.3, removed=2)
    acc.restart(bound=1e-10, removed=5)
    assert acc.bound == 1e-10
    assert (acc.removals, acc.removals_since_retrain, acc.retrains) == (7, 0, 1)


def test_copy_is_independent():
    acc = RemovalAccountant(epsilon=1.0, delta=1e-4, sigma=2.0)
    other = acc.copy()
    other.charge(0.1, removed=1)
    assert acc.bound == 0.0
    assert acc.removals == 0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"epsilon": 0.0}, "epsilon"),
        ({"epsilon": -1.0}, "epsilon"),
        ({"epsilon": math.inf}, "epsilon"),
        ({"delta": 0.0}, "delta"),
        ({"delta": 1.0}, "delta"),
        ({"delta": 1.5}, "delta"),
        ({"sigma": 0.0}, "sigma"),
        ({"sigma": math.nan}, "sigma"),
        ({"bound": -1e-3}, "bound"),
        ({"removals": -1}, "removals"),
        ({"retrains": 1.5}, "retrains"),
    ],
)
def test_invalid_values_raise_typed_errors(kwargs, match):
    params = {"epsilon": 1.0, "delta": 1e-4, "sigma": 1.0, **kwargs}
    with pytest.raises(InvalidParameterError, match=match):
        RemovalAccountant(**params)


def test_negative_or_nan_increments_are_refused():
    acc = RemovalAccountant(epsilon=1.0, delta=1e-4, sigma=1.0)
    for bad in (-0.1, math.nan):
        with pytest.raises(InvalidParameterError, match="bound_increment"):
            acc.can_remove(bad)


def test_state_dict_round_trips_through_json():
    acc = RemovalAccountant(epsilon=0.7, delta=1e-6, sigma=5.0)
    acc.charge(0.25, removed=3)
    acc.restart(bound=2e-9, removed=1)
    acc.charge(0.125, removed=2)
    state = json.loads(json.dumps(acc.state_dict()))
    assert state["version"] == STATE_VERSION
    assert state["remaining_budget"] == pytest.approx(acc.remaining_budget)
    assert RemovalAccountant.from_state_dict(state) == acc
    fresh = RemovalAccountant(epsilon=1.0, delta=1e-4, sigma=1.0)
    assert fresh.load_state_dict(state) is None
    assert fresh == acc


def test_state_dict_from_another_version_or_altered_is_refused():
    acc = RemovalAccountant(epsilon=1.0, delta=1e-4, sigma=1.0)
    state = acc.state_dict()
    with pytest.raises(IncompatibleVersionError, match="version"):
        RemovalAccountant.from_state_dict({**state, "version": STATE_VERSION + 1})
    with pytest.raises(InvalidParameterError, match="altered"):
        RemovalAccountant.from_state_dict({**state, "budget": state["budget"] * 2})
    missing = {k: v for k, v in state.items() if k != "bound"}
    with pytest.raises(InvalidParameterError, match="bound"):
        RemovalAccountant.from_state_dict(missing)
    with pytest.raises(UnlearnError):
        acc.load_state_dict({**state, "delta": 2.0})
    assert acc == RemovalAccountant(epsilon=1.0, delta=1e-4, sigma=1.0)
