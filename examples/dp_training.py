"""Differentially private training (DP-SGD with Opacus) and the removals it already covers.

A small network is trained on scikit-learn's handwritten digits with DP-SGD at epsilon = 1.
By group privacy, an (epsilon, delta)-DP model is (k epsilon, k e^((k-1) epsilon) delta)-
indistinguishable from one trained without any k of its rows, so the first few erasure requests
need no retraining: the model is left as it is and the result reports the group epsilon. When a
request would go beyond what the training covers, the model retrains with DP-SGD on the rows it
keeps. "Certified" here means indistinguishable at the reported epsilon, not equal.

Run: ``python examples/dp_training.py`` (needs the 'deep' extra: torch and opacus).
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from unlearnkit.certified import DPClassifier


def main() -> None:
    torch.set_num_threads(1)  # a network this small trains fastest on one CPU thread
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X / 16.0, y, test_size=0.25, random_state=0, stratify=y
    )
    ids = np.arange(len(X_train)) + 1000

    model = DPClassifier(
        epsilon=1.0,
        delta=1e-5,
        accountant="rdp",
        epochs=10,
        batch_size=64,
        lr=1.0,
        removal_epsilon=4.0,
        removal_delta=1e-3,
        random_state=0,
    ).fit(X_train, y_train, sample_ids=ids)
    spent = model.privacy_
    print(
        f"DP-SGD on {spent.n_samples} digits: test accuracy {model.score(X_test, y_test):.3f}, "
        f"epsilon spent {spent.epsilon:.3f} at delta {spent.delta:g} "
        f"(noise multiplier {spent.noise_multiplier:.2f}, {spent.steps} steps, "
        f"{spent.accountant} accountant)"
    )
    print(
        f"group privacy covers {model.covered_removals_} removal(s) within "
        f"(epsilon={model.removal_epsilon:g}, delta={model.removal_delta:g})"
    )

    print("\nerasure requests, one image each:")
    for sample_id in ids[:6]:
        result = model.unlearn([int(sample_id)])
        ev = result.evidence
        action = "retrained with DP-SGD" if ev["retrained"] else "model unchanged"
        print(f"  id {sample_id}: {action:22s} guarantee {result.guarantee}")

    print(
        f"\ntest accuracy now {model.score(X_test, y_test):.3f}; "
        f"{model.removals_since_training_} removal(s) since the last training"
    )


if __name__ == "__main__":
    main()
