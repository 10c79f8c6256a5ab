"""Audit an erasure: did the credit model really forget 150 applicants?

Two models are asked to forget the same applicants of the German Credit data: an exact
unlearner (1-nearest neighbour, equal to retraining) and a pretender that keeps the data.
``unlearnkit.evaluate.audit`` attacks both with membership inference (LOSS, MIA-efficacy,
LiRA, U-LiRA) against a retrained reference and gives its verdict; the HTML report goes to a
temporary folder.

Run: python examples/audit_erasure.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from unlearnkit.data import Samples
from unlearnkit.datasets import load_german_credit
from unlearnkit.evaluate import AuditConfig, audit
from unlearnkit.exact import KNeighborsClassifierUnlearner


class KeepsEverything(ClassifierMixin, BaseEstimator):
    """Answers erasure requests without changing anything."""

    def fit(self, X, y, sample_ids=None):
        self.model_ = KNeighborsClassifierUnlearner(n_neighbors=1).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)

    def unlearn(self, ids):
        return self


def main() -> None:
    credit = load_german_credit(download=False)
    X = (credit.X / credit.X.std().replace(0, 1)).to_numpy()
    order = np.random.default_rng(0).permutation(len(credit))
    data = Samples(X[order[:700]], credit.y[order[:700]], ids=credit.ids[order[:700]])
    test = Samples(X[order[700:]], credit.y[order[700:]])
    erased = np.random.default_rng(1).choice(data.ids, 150, replace=False).tolist()
    config = AuditConfig(n_pairs=4, n_bootstrap=200)
    out = Path(tempfile.mkdtemp(prefix="unlearnkit-audit-"))
    for name, model in (
        ("exact 1-NN unlearner", KNeighborsClassifierUnlearner(n_neighbors=1)),
        ("pretender", KeepsEverything()),
    ):
        model.fit(data.X, data.y, sample_ids=data.ids)
        model.unlearn(erased)
        report = audit(
            model,
            data=data,
            forget_ids=erased,
            test=test,
            n_shadow=8,
            config=config,
            attacks=("loss", "mia_efficacy", "lira", "ulira"),
        )
        print(f"{name}: {report.verdict} (confidence {report.confidence:.3f})")
        print(f"  {report.reason}")
        print(
            f"  LiRA AUC {report.metrics['lira-online.auc']:.3f}, reference "
            f"{report.metrics['reference.lira-online.auc']:.3f}; U-LiRA AUC "
            f"{report.metrics['u-lira.auc']:.3f}"
        )
        page = out / f"{name.split()[0]}.html"
        report.to_html(page)
        print(f"  report: {page}")


if __name__ == "__main__":
    main()
