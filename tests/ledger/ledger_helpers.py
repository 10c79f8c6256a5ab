"""Small fitted models for the ledger tests."""

from __future__ import annotations

import numpy as np

from unlearnkit.exact import RidgeUnlearner


def toy_model(n=60, d=4, seed=0, ids=None):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = X @ rng.normal(size=d) + 0.1 * rng.normal(size=n)
    return RidgeUnlearner(alpha=0.5).fit(X, y, sample_ids=ids)
