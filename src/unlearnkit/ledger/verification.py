"""The checks run on an unlearned model before its new version goes into service.

Every model gets two checks: none of the forgotten ids is still held, and the learned state
changed. Models that promise an ``exact`` guarantee also get the main test of exactness: a
model of the same class and parameters fitted from scratch on the retained rows must match the
unlearned one (learned state and outputs on a sample of rows, to ``rtol``/``atol``).

Examples
--------
>>> import numpy as np
>>> from unlearnkit.exact import RidgeUnlearner
>>> rng = np.random.default_rng(0)
>>> X, y = rng.normal(size=(50, 3)), rng.normal(size=50)
>>> before = RidgeUnlearner().fit(X, y)
>>> after = RidgeUnlearner().fit(X, y)
>>> _ = after.unlearn([3, 4])
>>> verify_unlearning(before, after, [3, 4], kind="items")["passed"]
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from sklearn.base import clone

from unlearnkit.base import Unlearner
from unlearnkit.checks import assert_same_model

__all__ = ["VerificationConfig", "verify_unlearning"]


@dataclass(frozen=True)
class VerificationConfig:
    """How unlearned models are checked.

    Parameters
    ----------
    retrain_check : bool, default=True
        Compare ``exact`` models with a from-scratch fit on the retained rows.
    max_eval_rows : int, default=2000
        Rows (a seeded sample of the retained ones) on which outputs are compared.
    rtol, atol : float
        Tolerances of the comparison.
    """

    retrain_check: bool = True
    max_eval_rows: int = 2000
    rtol: float = 1e-6
    atol: float = 1e-8

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _check(name: str, passed: bool, detail: str) -> dict[str, Any]:
    return {"name": name, "passed": bool(passed), "detail": detail}


def verify_unlearning(
    before: Unlearner | str,
    after: Unlearner,
    removed_ids: Sequence[Any],
    *,
    kind: str,
    config: VerificationConfig | None = None,
) -> dict[str, Any]:
    """Run the checks; returns ``{"passed", "checks": [{name, passed, detail}], "config"}``.

    ``before`` is the model before unlearning, or its fingerprint.
    """
    config = config or VerificationConfig()
    checks = []
    held = {str(v) for v in np.asarray(after.sample_ids_).tolist()}
    still = [i for i in removed_ids if str(i) in held]
    checks.append(
        _check(
            "forgotten_ids_absent",
            not still,
            f"{len(removed_ids)} ids removed; {len(still)} still held"
            + (f" (first: {still[:5]})" if still else ""),
        )
    )
    old = before if isinstance(before, str) else before.fingerprint()
    new = after.fingerprint()
    checks.append(_check("fingerprint_changed", old != new, f"{old[:16]}... -> {new[:16]}..."))
    if after.guarantee.kind == "exact" and config.retrain_check and kind != "features":
        checks.append(_retrain_check(after, config))
    return {
        "passed": all(c["passed"] for c in checks),
        "checks": checks,
        "config": config.to_dict(),
    }


def _retrain_check(after: Unlearner, config: VerificationConfig) -> dict[str, Any]:
    store = after._store
    rows = np.flatnonzero(store.alive)
    X = store.X[rows]
    y = None if store.y is None else store.y[rows]
    kwargs: dict[str, Any] = {"sample_ids": store.ids[rows]}
    if store.weights is not None and type(after).accepts_sample_weight:
        kwargs["sample_weight"] = store.weights[rows]
    reference = clone(after)
    reference.fit(X, y, **kwargs) if y is not None else reference.fit(X, **kwargs)
    rng = np.random.default_rng(0)
    take = rng.choice(len(X), size=min(len(X), config.max_eval_rows), replace=False)
    try:
        assert_same_model(after, reference, X[np.sort(take)], rtol=config.rtol, atol=config.atol)
    except AssertionError as exc:
        return _check("matches_retrain", False, str(exc))
    return _check(
        "matches_retrain",
        True,
        f"equal to a fit on the {len(X)} retained rows (rtol={config.rtol:g}, "
        f"atol={config.atol:g}, outputs on {len(take)} rows)",
    )
