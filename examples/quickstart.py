"""Erase customers from a ridge model and prove the result equals a retrain.

Run: python examples/quickstart.py
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import Ridge

from unlearnkit import ForgetRequest
from unlearnkit.exact import RidgeUnlearner


def main() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50_000, 20))
    y = X @ rng.normal(size=20) + rng.normal(size=50_000)
    customer_row_ids = np.arange(1_000_000, 1_050_000)

    model = RidgeUnlearner(alpha=1.0).fit(X, y, sample_ids=customer_row_ids)
    erased = [1_000_017, 1_020_000, 1_049_999]
    result = model.unlearn(ForgetRequest.items(erased, reason="privacy", subject="ticket-4711"))

    keep = ~np.isin(customer_row_ids, erased)
    retrained = Ridge(alpha=1.0).fit(X[keep], y[keep])
    gap = np.max(np.abs(model.coef_ - retrained.coef_))
    print(f"forgot {len(result.removed_ids)} rows in {result.seconds * 1e6:.0f} microseconds")
    print(f"guarantee: {result.guarantee}; largest coefficient gap to a retrain: {gap:.1e}")


if __name__ == "__main__":
    main()
