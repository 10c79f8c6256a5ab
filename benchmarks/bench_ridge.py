"""Ridge: exact unlearning by sufficient statistics vs scikit-learn refit on the retained rows.

Goal: at n = 1e6, d = 100, k = 1 unlearning is at least 1000x faster than a refit with equal
coefficients, and its cost stays flat as n grows.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

import numpy as np
from sklearn.linear_model import Ridge

from benchmarks._common import best_time, quick, write_results
from unlearnkit.exact import RidgeUnlearner

REPEATS = 10


def _unlearn_next(model: RidgeUnlearner, batches: Iterator[list[int]]) -> None:
    model.unlearn(next(batches))


def _refit(X: np.ndarray, y: np.ndarray, out: list[Ridge]) -> None:
    out.append(Ridge(alpha=1.0).fit(X, y))


def run_case(n: int, d: int, ks: tuple[int, ...], rng: np.random.Generator) -> list[dict]:
    X = rng.normal(size=(n, d))
    y = X @ rng.normal(size=d) + rng.normal(size=n)
    model = RidgeUnlearner(alpha=1.0).fit(X, y)
    rows = []
    next_row = 0
    for k in ks:
        batches = iter(
            [np.arange(next_row + i * k, next_row + (i + 1) * k).tolist() for i in range(REPEATS)]
        )
        next_row += REPEATS * k
        unlearn_s = best_time(partial(_unlearn_next, model, batches), repeat=REPEATS)
        keep = np.ones(n, dtype=bool)
        keep[:next_row] = False
        reference: list[Ridge] = []
        refit = partial(_refit, X[keep], y[keep], reference)
        refit_s = best_time(refit, repeat=2 if n >= 10**6 else 3)
        ref = reference[-1]
        max_rel = float(np.max(np.abs(model.coef_ - ref.coef_)) / np.max(np.abs(ref.coef_)))
        rows.append(
            {
                "n": n,
                "d": d,
                "k": k,
                "unlearn_s": unlearn_s,
                "refit_s": refit_s,
                "speedup": refit_s / unlearn_s,
                "max_rel_coef_diff": max_rel,
                "equal": max_rel < 1e-8,
            }
        )
    return rows


def main() -> None:
    rng = np.random.default_rng(0)
    ns = (5_000, 20_000) if quick() else (10**4, 10**5, 10**6)
    rows = []
    for d in (10, 100):
        for n in ns:
            rows.extend(run_case(n, d, (1, 100), rng))
    flat = {}
    for d in (10, 100):
        for k in (1, 100):
            times = {r["n"]: r["unlearn_s"] for r in rows if r["d"] == d and r["k"] == k}
            flat[f"d={d},k={k}"] = times[max(ns)] / times[min(ns)]
    target = next((r for r in rows if r["n"] == 10**6 and r["d"] == 100 and r["k"] == 1), None)
    write_results(
        "ridge",
        rows,
        goal="ridge unlearn vs sklearn Ridge refit on retained rows (>=1000x at n=1e6, d=100, k=1)",
        columns=["n", "d", "k", "unlearn_s", "refit_s", "speedup", "max_rel_coef_diff", "equal"],
        unlearn_time_ratio_largest_to_smallest_n=flat,
        goal_met=None if target is None else bool(target["speedup"] >= 1000 and target["equal"]),
    )


if __name__ == "__main__":
    main()
