"""Evaluation tests: PyTorch on one thread, and a pretend unlearner the audit must fail."""

from __future__ import annotations

import os

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.tree import DecisionTreeClassifier

os.environ.setdefault("OMP_NUM_THREADS", "1")

try:
    import torch
except ImportError:  # the 'deep' extra is optional
    torch = None
else:
    torch.set_num_threads(1)


class NoOpTree(ClassifierMixin, BaseEstimator):
    """An overfit decision tree whose ``unlearn`` forgets ``keep_share`` of nothing.

    ``forget_share`` is the share of each request that is really removed (by refitting without
    it); 0 is a pure no-op, 0.1 is "almost nothing".
    """

    def __init__(self, forget_share: float = 0.0, random_state: int | None = None) -> None:
        self.forget_share = forget_share
        self.random_state = random_state

    def fit(self, X, y, sample_ids=None):
        self.X_ = np.asarray(X)
        self.y_ = np.asarray(y)
        self.ids_ = np.arange(len(self.y_)) if sample_ids is None else np.asarray(sample_ids)
        self._refit()
        return self

    def _refit(self):
        self.tree_ = DecisionTreeClassifier(random_state=self.random_state).fit(self.X_, self.y_)
        self.classes_ = self.tree_.classes_

    def predict_proba(self, X):
        return self.tree_.predict_proba(X)

    def unlearn(self, ids):
        ids = list(ids)
        drop = ids[: int(len(ids) * self.forget_share)]
        if drop:
            keep = ~np.isin(self.ids_, drop)
            self.X_, self.y_, self.ids_ = self.X_[keep], self.y_[keep], self.ids_[keep]
            self._refit()
        return self


@pytest.fixture(name="NoOpTree")
def noop_tree_class():
    """The class of a pretend unlearner (an overfit tree that keeps its data)."""
    return NoOpTree
