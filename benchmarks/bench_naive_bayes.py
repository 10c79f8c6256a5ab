"""Naive Bayes: exact unlearning by per-class sums vs scikit-learn refit on the retained rows.

For each family (Gaussian, multinomial, Bernoulli, categorical), n in {1e4, 1e5, 1e6}, d = 50
and k in {1, 100} forgotten rows: the best time of one ``unlearn`` against the best time of
fitting the scikit-learn estimator on the rows that remain. In the same run the unlearned model
is checked against that refit: identical predictions, probabilities and fitted attributes to
1e-8 relative. Goal: unlearning cost independent of n, so the speed-up grows with n.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.naive_bayes import BernoulliNB, CategoricalNB, GaussianNB, MultinomialNB

from benchmarks._common import best_time, quick, write_results
from unlearnkit.exact import (
    BernoulliNBUnlearner,
    CategoricalNBUnlearner,
    GaussianNBUnlearner,
    MultinomialNBUnlearner,
)

N_CLASSES = 5
D = 50
FAMILIES: dict[str, tuple[type, type, tuple[str, ...]]] = {
    "gaussian": (GaussianNBUnlearner, GaussianNB, ("theta_", "var_", "class_prior_")),
    "multinomial": (MultinomialNBUnlearner, MultinomialNB, ("feature_log_prob_",)),
    "bernoulli": (BernoulliNBUnlearner, BernoulliNB, ("feature_log_prob_",)),
    "categorical": (CategoricalNBUnlearner, CategoricalNB, ("feature_log_prob_",)),
}


def make_data(family: str, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    y = rng.integers(0, N_CLASSES, size=n)
    if family == "gaussian":
        centers = rng.normal(scale=2.0, size=(N_CLASSES, D))
        return centers[y] + rng.normal(size=(n, D)), y
    if family == "multinomial":
        rates = rng.uniform(0.2, 5.0, size=(N_CLASSES, D))
        return rng.poisson(rates[y]).astype(np.float64), y
    if family == "bernoulli":
        probs = rng.uniform(0.05, 0.95, size=(N_CLASSES, D))
        return (rng.uniform(size=(n, D)) < probs[y]).astype(np.float64), y
    return rng.integers(0, 8, size=(n, D)).astype(np.float64), y


def max_rel_diff(model: Any, reference: Any, names: tuple[str, ...]) -> float:
    """Largest ``|ours - theirs| / (|theirs| + 1e-12)`` over the named fitted attributes."""

    def flat(value: Any) -> np.ndarray:
        parts = value if isinstance(value, list) else [value]
        return np.concatenate([np.ravel(p) for p in parts])

    worst = 0.0
    for name in names:
        ours, theirs = flat(getattr(model, name)), flat(getattr(reference, name))
        worst = max(worst, float(np.max(np.abs(ours - theirs) / (np.abs(theirs) + 1e-12))))
    return worst


def time_unlearn(model: Any, batches: list[np.ndarray]) -> float:
    """Best time of one ``unlearn`` call, each repeat forgetting the next batch of rows."""
    pending = iter(batches)
    return best_time(lambda: model.unlearn(next(pending).tolist()), repeat=len(batches))


def time_refit(sk_cls: type, X: np.ndarray, y: np.ndarray, repeat: int) -> tuple[float, Any]:
    """Best time of fitting the scikit-learn estimator on ``X, y``, and the fitted estimator."""
    fitted: list[Any] = []
    seconds = best_time(lambda: fitted.append(sk_cls().fit(X, y)), repeat=repeat)
    return seconds, fitted[-1]


def run_case(family: str, n: int, ks: tuple[int, ...], rng: np.random.Generator) -> list[dict]:
    cls, sk_cls, names = FAMILIES[family]
    X, y = make_data(family, n, rng)
    model = cls().fit(X, y)
    X_eval = X[rng.choice(n, size=min(n, 2000), replace=False)]
    rows = []
    next_row = 0
    repeats = 2 if quick() else 10
    for k in ks:
        batches = [np.arange(next_row + i * k, next_row + (i + 1) * k) for i in range(repeats)]
        next_row += repeats * k
        unlearn_s = time_unlearn(model, batches)
        repeat = 1 if quick() else 2 if n >= 10**6 else 3
        refit_s, ref = time_refit(sk_cls, X[next_row:], y[next_row:], repeat)
        same_predictions = bool(np.array_equal(model.predict(X_eval), ref.predict(X_eval)))
        proba_diff = float(np.max(np.abs(model.predict_proba(X_eval) - ref.predict_proba(X_eval))))
        rel = max_rel_diff(model, ref, names)
        rows.append(
            {
                "family": family,
                "n": n,
                "d": D,
                "k": k,
                "unlearn_s": unlearn_s,
                "refit_s": refit_s,
                "speedup": refit_s / unlearn_s,
                "same_predictions": same_predictions,
                "max_abs_proba_diff": proba_diff,
                "max_rel_attr_diff": rel,
                "equal": same_predictions and proba_diff < 1e-8 and rel < 1e-8,
            }
        )
    return rows


def main() -> None:
    rng = np.random.default_rng(0)
    ns = (1_000, 4_000) if quick() else (10**4, 10**5, 10**6)
    rows: list[dict] = []
    for family in FAMILIES:
        for n in ns:
            rows.extend(run_case(family, n, (1, 100), rng))
    flat = {}
    for family in FAMILIES:
        for k in (1, 100):
            times = {r["n"]: r["unlearn_s"] for r in rows if r["family"] == family and r["k"] == k}
            flat[f"{family},k={k}"] = times[max(ns)] / times[min(ns)]
    write_results(
        "naive_bayes",
        rows,
        goal="naive Bayes unlearn vs sklearn refit on retained rows (d=50): equal models, "
        "unlearn cost flat in n",
        columns=[
            "family",
            "n",
            "k",
            "unlearn_s",
            "refit_s",
            "speedup",
            "same_predictions",
            "max_rel_attr_diff",
            "equal",
        ],
        unlearn_time_ratio_largest_to_smallest_n=flat,
        all_equal=all(r["equal"] for r in rows),
    )


if __name__ == "__main__":
    main()
