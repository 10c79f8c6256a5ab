"""Certified removal (Guo et al., ICML 2020) on scikit-learn's handwritten digits, 3 versus 8.

A logistic regression is trained on a noise-perturbed objective. Each removal is one Newton
step whose effect is bounded; the bounds add up in the model's removal accountant, and when the
next removal would exceed the budget ``sigma * epsilon / c`` the model retrains from scratch
with fresh noise. After every request the model is (epsilon, delta)-indistinguishable from one
trained without the removed images.

Run: ``python examples/certified_removal.py``
"""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from unlearnkit import ForgetRequest
from unlearnkit.certified import CertifiedLogisticRegression


def main() -> None:
    X, y = load_digits(return_X_y=True)
    mask = (y == 3) | (y == 8)
    X_train, X_test, y_train, y_test = train_test_split(
        X[mask], y[mask], test_size=0.25, random_state=0, stratify=y[mask]
    )
    scale = np.linalg.norm(X_train, axis=1).max()  # the certificate needs rows of norm <= 1
    X_train, X_test = X_train / scale, X_test / scale
    ids = np.arange(len(X_train)) + 1000

    model = CertifiedLogisticRegression(
        lam=1e-2, epsilon=1.0, delta=1e-4, sigma=5.0, random_state=0
    ).fit(X_train, y_train, sample_ids=ids)
    acc = model.accountant_
    print(f"trained on {len(X_train)} images: test accuracy {model.score(X_test, y_test):.3f}")
    print(
        f"guarantee {model.guarantee}, noise sigma={acc.sigma:g}, "
        f"budget sigma*epsilon/c = {acc.budget:.3f}"
    )

    print("\nremoving 30 images one by one:")
    print(" id    bound increment  bound after  remaining  retrained")
    for sample_id in np.random.default_rng(0).permutation(ids)[:30]:
        request = ForgetRequest.items([int(sample_id)], reason="privacy")
        ev = model.unlearn(request).evidence
        print(
            f"{sample_id:5d}  {ev['bound_increment']:15.4f}  {ev['bound_after']:11.4f}  "
            f"{ev['remaining_budget']:9.4f}  {ev['retrained']}"
        )

    acc = model.accountant_
    kept = np.isin(ids, model.sample_ids_)
    retrained = CertifiedLogisticRegression(lam=1e-2, sigma=5.0, random_state=1)
    retrained.fit(X_train[kept], y_train[kept])
    print(
        f"\n{acc.removals} removals, {acc.retrains} retrain(s) forced by the budget; "
        f"epsilon spent since the last retrain: {acc.epsilon_spent:.3f}"
    )
    print(
        f"test accuracy after the removals {model.score(X_test, y_test):.3f}, "
        f"a certified model retrained without them {retrained.score(X_test, y_test):.3f}"
    )
    print("accountant state:", {k: round(v, 4) for k, v in acc.state_dict().items()})


if __name__ == "__main__":
    main()
