"""The removal budget of a certified model, kept apart from the mechanism that spends it.

Guo et al. (2020, Theorem 3): if the objective was perturbed by ``b . w`` with
``b ~ N(0, sigma^2 I)`` and the model after removal has a gradient residual
``||grad L_b(w-; D')|| <= eps'``, the removal is ``(epsilon, delta)``-certified as long as

    eps' <= sigma * epsilon / c,        c = sqrt(2 log(1.5 / delta)).

:class:`RemovalAccountant` keeps the running bound on that residual (the bounds of sequential
Newton removals add up), the budget ``sigma * epsilon / c``, and the counts of removals and
retrains. A mechanism asks :meth:`~RemovalAccountant.can_remove` before it commits a removal and
:meth:`~RemovalAccountant.charge` after; when the budget would be exceeded it retrains on the
retained data with fresh noise and calls :meth:`~RemovalAccountant.restart`. Like a PyTorch
module's, its state goes in and out as a plain dict (:meth:`~RemovalAccountant.state_dict`,
:meth:`~RemovalAccountant.load_state_dict`). The accountant
knows nothing about models, as Opacus's privacy accountants know nothing about optimisers.

Examples
--------
>>> from unlearnkit.certified import RemovalAccountant
>>> acc = RemovalAccountant(epsilon=1.0, delta=1e-4, sigma=10.0)
>>> round(acc.budget, 4)
2.2803
>>> acc.can_remove(0.5)
True
>>> acc.charge(0.5, removed=1)
>>> round(acc.remaining_budget, 4), acc.removals
(1.7803, 1)
>>> fresh = RemovalAccountant(epsilon=1.0, delta=1e-4, sigma=10.0)
>>> fresh.load_state_dict(acc.state_dict())
>>> fresh == acc
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from numbers import Real
from typing import Any, Self

from unlearnkit.errors import IncompatibleVersionError, InvalidParameterError

__all__ = ["STATE_VERSION", "RemovalAccountant", "gaussian_constant", "noise_for_budget"]

#: Version of :meth:`RemovalAccountant.state_dict`; bumped when its meaning changes.
STATE_VERSION = 1


def _check_privacy(epsilon: Any, delta: Any) -> tuple[float, float]:
    try:
        eps, dlt = float(epsilon), float(delta)
    except (TypeError, ValueError):
        raise InvalidParameterError(
            f"epsilon and delta must be numbers, got epsilon={epsilon!r}, delta={delta!r}."
        ) from None
    if not (math.isfinite(eps) and eps > 0):
        raise InvalidParameterError(f"epsilon must be a finite number > 0, got {epsilon!r}.")
    if not 0 < dlt < 1:
        raise InvalidParameterError(
            f"delta must be in the open interval (0, 1), got {delta!r}; typical values are "
            "1e-4 to 1e-6, below 1 / (number of training rows)."
        )
    return eps, dlt


def gaussian_constant(delta: float) -> float:
    """``c = sqrt(2 log(1.5 / delta))`` of the paper's Theorem 3."""
    _check_privacy(1.0, delta)
    return math.sqrt(2.0 * math.log(1.5 / delta))


def noise_for_budget(residual_budget: float, epsilon: float, delta: float) -> float:
    """The ``sigma`` whose budget ``sigma * epsilon / c`` equals ``residual_budget``.

    Examples
    --------
    >>> from unlearnkit.certified import noise_for_budget
    >>> round(noise_for_budget(1.0, epsilon=1.0, delta=1e-4), 4)
    4.3854
    """
    eps, dlt = _check_privacy(epsilon, delta)
    if not (math.isfinite(residual_budget) and residual_budget > 0):
        raise InvalidParameterError(
            f"residual_budget must be a finite number > 0, got {residual_budget!r}."
        )
    return gaussian_constant(dlt) * float(residual_budget) / eps


@dataclass
class RemovalAccountant:
    """Tracks the gradient-residual bound a certified model has accumulated, and its budget.

    A model works on a :meth:`copy` and swaps it in only once its own update has succeeded, so a
    failed request leaves the model's accountant as it was.

    Parameters
    ----------
    epsilon, delta : float
        The certificate promised after every removal: ``(epsilon, delta)``-certified removal.
    sigma : float
        Standard deviation of each coordinate of the objective's noise vector ``b``.
    bound : float, default=0.0
        Upper bound on the gradient residual norm of the current model (paper scale); a fit
        starts it at the optimiser's final gradient norm.
    removals : int, default=0
        Rows removed since the model was first fitted.
    removals_since_retrain : int, default=0
        Rows removed by Newton steps since the last (re)training.
    retrains : int, default=0
        Retrains forced by the budget.

    Attributes
    ----------
    budget : float
        ``sigma * epsilon / c`` with ``c = sqrt(2 log(1.5 / delta))``.
    remaining_budget : float
        ``budget - bound``.

    Examples
    --------
    >>> from unlearnkit.certified import RemovalAccountant
    >>> acc = RemovalAccountant(epsilon=1.0, delta=1e-4, sigma=1.0, bound=1e-12)
    >>> acc.can_remove(0.3)
    False
    >>> acc.restart(bound=0.0)
    >>> acc.retrains, acc.bound
    (1, 0.0)
    """

    epsilon: float
    delta: float
    sigma: float
    bound: float = 0.0
    removals: int = 0
    removals_since_retrain: int = 0
    retrains: int = 0

    def __post_init__(self) -> None:
        self._validate()

    def _validate(self) -> None:
        eps, dlt = _check_privacy(self.epsilon, self.delta)
        self.epsilon, self.delta = eps, dlt
        for name in ("sigma", "bound"):
            value = getattr(self, name)
            try:
                number = float(value)
            except (TypeError, ValueError):
                number = math.nan
            ok = number > 0 if name == "sigma" else number >= 0
            if not (math.isfinite(number) and ok):
                limit = "> 0" if name == "sigma" else ">= 0"
                raise InvalidParameterError(
                    f"{name} must be a finite number {limit}, got {value!r}."
                )
            setattr(self, name, number)
        for name in ("removals", "removals_since_retrain", "retrains"):
            value = getattr(self, name)
            count = float(value) if isinstance(value, Real) and not isinstance(value, bool) else -1
            if not (math.isfinite(count) and count >= 0 and count == int(count)):
                raise InvalidParameterError(f"{name} must be an integer >= 0, got {value!r}.")
            setattr(self, name, int(count))

    def copy(self) -> RemovalAccountant:
        """An independent copy."""
        return replace(self)

    # -- questions ---------------------------------------------------------------------------
    @property
    def c(self) -> float:
        """``sqrt(2 log(1.5 / delta))``."""
        return gaussian_constant(self.delta)

    @property
    def budget(self) -> float:
        """Largest gradient residual norm the certificate allows: ``sigma * epsilon / c``."""
        return self.sigma * self.epsilon / self.c

    @property
    def remaining_budget(self) -> float:
        """``budget - bound``: what further removals may add before a retrain."""
        return self.budget - self.bound

    @property
    def epsilon_spent(self) -> float:
        """The smallest epsilon the current bound certifies (``c * bound / sigma``)."""
        return self.c * self.bound / self.sigma

    def can_remove(self, bound_increment: float) -> bool:
        """Whether a removal adding ``bound_increment`` to the bound stays within budget."""
        increment = float(bound_increment)
        if not increment >= 0:  # also catches NaN
            raise InvalidParameterError(
                f"bound_increment must be a number >= 0, got {bound_increment!r}."
            )
        return self.bound + increment <= self.budget

    # -- updates ------------------------------------------------------------------------------
    def charge(self, bound_increment: float, removed: int) -> None:
        """Record a Newton removal of ``removed`` rows that adds ``bound_increment``."""
        if not self.can_remove(bound_increment):
            raise InvalidParameterError(
                f"Charging {bound_increment:.6g} would take the bound to "
                f"{self.bound + bound_increment:.6g}, above the budget {self.budget:.6g}; "
                "retrain instead (restart) or check can_remove first."
            )
        self.bound += float(bound_increment)
        self.removals += int(removed)
        self.removals_since_retrain += int(removed)

    def restart(self, bound: float, removed: int = 0) -> None:
        """Record a retrain with fresh noise that removed ``removed`` rows; the bound restarts
        at the new fit's final gradient norm ``bound``."""
        new = replace(
            self,
            bound=bound,
            removals=self.removals + int(removed),
            removals_since_retrain=0,
            retrains=self.retrains + 1,
        )
        self.__dict__.update(new.__dict__)

    # -- persistence ------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """A plain JSON-able dict (with a ``version``) that :meth:`load_state_dict` reads."""
        return {
            "version": STATE_VERSION,
            "epsilon": self.epsilon,
            "delta": self.delta,
            "sigma": self.sigma,
            "bound": self.bound,
            "removals": self.removals,
            "removals_since_retrain": self.removals_since_retrain,
            "retrains": self.retrains,
            "budget": self.budget,
            "remaining_budget": self.remaining_budget,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Replace this accountant's state by ``state`` (from :meth:`state_dict`), in place."""
        self.__dict__.update(type(self).from_state_dict(state).__dict__)

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> Self:
        """Rebuild an accountant from :meth:`state_dict`; derived fields are checked."""
        if not isinstance(state, dict):
            raise InvalidParameterError(f"A state dict must be a dict, got {type(state).__name__}.")
        version = state.get("version")
        if version != STATE_VERSION:
            raise IncompatibleVersionError(
                f"Accountant state version {version!r} is not the supported version "
                f"{STATE_VERSION}; write it again with state_dict() of this unlearnkit."
            )
        keys = (
            "epsilon",
            "delta",
            "sigma",
            "bound",
            "removals",
            "removals_since_retrain",
            "retrains",
        )
        missing = [k for k in keys if k not in state]
        if missing:
            raise InvalidParameterError(f"Accountant state lacks the key(s) {missing}.")
        acc = cls(
            epsilon=state["epsilon"],
            delta=state["delta"],
            sigma=state["sigma"],
            bound=state["bound"],
            removals=state["removals"],
            removals_since_retrain=state["removals_since_retrain"],
            retrains=state["retrains"],
        )
        if "budget" in state and not math.isclose(state["budget"], acc.budget, rel_tol=1e-12):
            raise InvalidParameterError(
                f"Accountant state says budget={state['budget']!r} but its sigma, epsilon and "
                f"delta give {acc.budget!r}; the state was altered."
            )
        return acc
