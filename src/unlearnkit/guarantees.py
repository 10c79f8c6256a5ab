"""What an unlearner promises about the model after ``unlearn``.

Examples
--------
>>> from unlearnkit.guarantees import Guarantee
>>> str(Guarantee.exact()), str(Guarantee.certified(1.0, 1e-5))
('exact', 'certified(epsilon=1, delta=1e-05)')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from unlearnkit.errors import InvalidParameterError

__all__ = ["Guarantee", "GuaranteeKind"]

GuaranteeKind = Literal["exact", "certified", "approximate"]


@dataclass(frozen=True)
class Guarantee:
    """One of ``exact``, ``certified(epsilon, delta)`` or ``approximate``.

    ``exact``: the model equals the one retraining on the retained data gives.
    ``certified``: it is (epsilon, delta)-indistinguishable from retraining.
    ``approximate``: no formal bound; forgetting is measured against a retrained reference.
    """

    kind: GuaranteeKind
    epsilon: float | None = None
    delta: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("exact", "certified", "approximate"):
            raise InvalidParameterError(
                f"Guarantee kind {self.kind!r} is not one of exact, certified, approximate."
            )
        if self.kind == "certified":
            if self.epsilon is None or self.delta is None or self.epsilon <= 0:
                raise InvalidParameterError(
                    "A certified guarantee needs epsilon > 0 and delta in [0, 1), "
                    f"got epsilon={self.epsilon!r}, delta={self.delta!r}."
                )
            if not 0 <= self.delta < 1:
                raise InvalidParameterError(f"delta must be in [0, 1), got {self.delta!r}.")
        elif self.epsilon is not None or self.delta is not None:
            raise InvalidParameterError(f"An {self.kind} guarantee takes no epsilon or delta.")

    @classmethod
    def exact(cls) -> Guarantee:
        return cls("exact")

    @classmethod
    def certified(cls, epsilon: float, delta: float) -> Guarantee:
        return cls("certified", float(epsilon), float(delta))

    @classmethod
    def approximate(cls) -> Guarantee:
        return cls("approximate")

    def __str__(self) -> str:
        if self.kind == "certified":
            return f"certified(epsilon={self.epsilon:g}, delta={self.delta:g})"
        return self.kind

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "epsilon": self.epsilon, "delta": self.delta}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Guarantee:
        return cls(data["kind"], data.get("epsilon"), data.get("delta"))
