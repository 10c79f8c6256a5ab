"""Random forests with fast exact deletion (DaRE: Brophy and Lowd, ICML 2021).

Each tree is trained on all the data (no bootstrap). Its top ``topd`` levels are *random*
nodes (an attribute and a threshold drawn uniformly between the attribute's minimum and maximum
at the node); the levels below are *greedy* nodes, which examine attributes in a random order
until ``max_features`` of them have a valid threshold (as in DaRE, attributes without one do
not count) and split on the best candidate threshold (Gini index, entropy or squared error).
A greedy node keeps, for every attribute it examined, the statistics that score its candidate
thresholds (class counts left of each threshold and of the two value groups around it; counts
and target sums for regression), and every leaf keeps the training rows that reached it.

Forgetting rows walks each tree once per request: the statistics of the nodes the rows went
through are updated; a subtree is retrained only where the best split changed (or a random
node's threshold left its attribute's range), and leaves update their values. Adding rows
(``partial_fit``) and correcting labels (``relabel``) take the same route.

**Valid thresholds** (as in DaRE): between two adjacent distinct values ``v1 < v2`` of an
attribute at a node, at the midpoint, when both sides keep ``min_samples_leaf`` samples and,
for classification, the samples valued ``v1`` and those valued ``v2`` are not all of one and the
same class (an optimal Gini or entropy split never lies inside such a run). For regression
every adjacent pair that keeps ``min_samples_leaf`` samples on both sides is valid.

**Sampled thresholds** (``k`` set): the candidates of an attribute are the valid thresholds
``(v, next value)`` among the ``k`` non-maximal distinct values ``v`` with the smallest keys
``h(node seed, attribute, v)``, a uniformly random choice of ``k`` values for a random seed. The
reference implementation draws ``k`` thresholds among the valid ones and redraws those a
deletion invalidates, which is exact only in distribution; here the candidates are a function
of the node's rows and seed, and a deletion changes them only when a cached value or its
neighbour disappears (which the cached counts reveal; the attribute is then re-examined), so
sampled thresholds keep the update exact.

**Randomness** never comes from a global stream: node seeds derive from ``(random_state, tree,
path from the root)``, the attribute order from the node seed, sampled thresholds from the
keyed hashes above and random thresholds from ``h(node seed, attribute, draw)``. With
``topd=0`` training is a deterministic function of the training set and the seed, for any
``k``; ties between candidates go to the lowest attribute index, then the lowest threshold.
This is what makes the updated forest equal to a retrain, bit for bit.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections import Counter
from dataclasses import dataclass
from numbers import Integral
from typing import Any, ClassVar, Self

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils._param_validation import Interval, RealNotInt, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_random_state, column_or_1d

from unlearnkit.base import Change, Unlearner
from unlearnkit.errors import DataValidationError, InvalidParameterError
from unlearnkit.exact.forest import _tree as kern
from unlearnkit.exact.forest._store import ForestStore, build_forest
from unlearnkit.registry import register_method
from unlearnkit.requests import RequestKind

__all__ = ["DaREForestClassifier", "DaREForestRegressor", "DaRETree"]

#: A request touching more than this share of the samples is served by retraining the forest
#: from the retained rows (the same seed, so the result is the same): past this point the
#: subtree retraining it triggers costs about as much as training.
REFIT_FRACTION = 0.25
#: Where a node keeps its two digest words.
_DIGEST_WORDS = np.array([kern.HASH1, kern.HASH2], dtype=np.int64)
#: The heaps are compacted when one of them holds this many times the words the trees use.
COMPACT_RATIO = 4.0


@dataclass(frozen=True)
class DaRETree:
    """One tree of a fitted forest, in preorder (node 0 is the root).

    ``feature`` is -2 and ``threshold`` -2.0 at leaves; ``children_left`` / ``children_right`` are
    -1 there. A sample goes left when ``x[feature] <= threshold``. ``value`` holds the class
    frequencies (classifier) or the mean target (regressor) of the training samples at each
    node, ``random_split`` marks the nodes of the random top levels.
    """

    feature: np.ndarray
    threshold: np.ndarray
    children_left: np.ndarray
    children_right: np.ndarray
    n_node_samples: np.ndarray
    value: np.ndarray
    depth: np.ndarray
    random_split: np.ndarray

    @property
    def node_count(self) -> int:
        return len(self.feature)

    @property
    def max_depth(self) -> int:
        return int(self.depth.max())


def _seed_of(random_state: Any) -> int:
    if isinstance(random_state, Integral) and not isinstance(random_state, bool):
        return int(random_state) & 0xFFFFFFFFFFFFFFFF
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def _canonical(X: np.ndarray) -> np.ndarray:
    """Attribute-major float64 copy with -0.0 written as 0.0 (values are hashed by their bits)."""
    Xt = np.array(X.T, dtype=np.float64, order="C", copy=True)
    Xt[Xt == 0.0] = 0.0
    return Xt


#: The parameters that shape the trees: fixed at ``fit`` for the life of the fitted forest.
_STRUCTURE = (
    "n_estimators",
    "max_depth",
    "min_samples_split",
    "min_samples_leaf",
    "max_features",
    "criterion",
    "topd",
    "k",
)


class _DaREForest(Unlearner, ABC):
    """Shared machinery of the DaRE classifier and regressor."""

    supported_requests: ClassVar[frozenset[RequestKind]] = frozenset(
        {"items", "group", "relabel", "features"}
    )
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "max_depth": [Interval(Integral, 1, None, closed="left"), None],
        "min_samples_split": [Interval(Integral, 2, None, closed="left")],
        "min_samples_leaf": [Interval(Integral, 1, None, closed="left")],
        "max_features": [
            StrOptions({"sqrt", "log2"}),
            Interval(Integral, 1, None, closed="left"),
            Interval(RealNotInt, 0, 1, closed="right"),
            None,
        ],
        "topd": [Interval(Integral, 0, None, closed="left")],
        "k": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
    }
    _is_regressor: ClassVar[bool] = False

    n_estimators: int
    max_depth: int | None
    min_samples_split: int
    min_samples_leaf: int
    max_features: Any
    criterion: str
    topd: int
    k: int | None
    random_state: Any
    n_jobs: int | None

    _forest: ForestStore
    _Xt: np.ndarray
    _Y: np.ndarray
    _R: np.ndarray
    _seed: int
    _fit_work: int

    # -- fitting ---------------------------------------------------------------------------
    def fit(self, X: Any, y: Any, *, sample_ids: Any = None) -> Self:
        """Train the forest on ``X, y``; rows are addressed by ``sample_ids`` (``0..n-1``)."""
        Xv, yv, _ = self._start_fit(X, y, sample_ids, None)
        try:
            assert yv is not None
            if self.max_depth is not None and self.topd > self.max_depth:
                raise InvalidParameterError(
                    f"The 'topd' parameter of {type(self).__name__} must be at most max_depth="
                    f"{self.max_depth}, got {self.topd}; lower topd or raise max_depth."
                )
            self._fitted = {name: getattr(self, name) for name in _STRUCTURE}
            self._set_targets(yv)
            self._Xt = _canonical(Xv)
            self._seed = _seed_of(self.random_state)
            self._train(np.arange(len(Xv), dtype=np.int64))
        except BaseException:
            self.__dict__.pop("_store", None)
            raise
        return self

    def partial_fit(
        self,
        X: Any,
        y: Any = None,
        classes: Any = None,
        *,
        sample_ids: Any = None,
        sample_weight: Any = None,
    ) -> Self:
        """Add samples; the forest then equals one trained on all samples, old and new.

        Cached statistics are updated along the paths the new samples take and subtrees are
        retrained only where the best split changes. The first call is :meth:`fit`.

        Parameters
        ----------
        X, y, sample_ids
            As in :meth:`fit`; new ids must not have been used before.
        classes : array-like, optional
            Classifier only, accepted as in scikit-learn: it must name exactly the labels of
            ``y`` on the first call and exactly ``classes_`` afterwards.
        sample_weight : None
            Not used.

        Returns
        -------
        self
        """
        if sample_weight is not None:
            raise DataValidationError(
                f"{type(self).__name__} does not use sample_weight; call it without one."
            )
        return super().partial_fit(X, y, classes, sample_ids=sample_ids)

    @abstractmethod
    def _set_targets(self, y: np.ndarray) -> None:
        """Encode the targets into ``_Y`` (class codes) or ``_R`` (values), two equal rows."""

    @abstractmethod
    def _n_stats(self) -> tuple[int, int]:
        """Integer and float width of a statistics block."""

    @abstractmethod
    def _append_targets(self, y: np.ndarray) -> None:
        """Append the targets of added rows."""

    @abstractmethod
    def _new_targets(self, rows: np.ndarray, new_y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Targets before (row 0) and after (row 1) relabelling ``rows``."""

    def _hyper(self, name: str) -> Any:
        """A parameter as it was at ``fit``: ``set_params`` changes the next fit, not the
        trees that exist."""
        fitted = self.__dict__.get("_fitted")
        return getattr(self, name) if fitted is None else fitted[name]

    def _max_features(self, p: int) -> int:
        mf = self._hyper("max_features")
        if mf is None:
            return p
        if mf == "sqrt":
            return max(1, int(np.sqrt(p)))
        if mf == "log2":
            return max(1, int(np.log2(p)))
        if isinstance(mf, Integral):
            return min(int(mf), p)
        return max(1, int(float(mf) * p))

    def _params(self, n_classes: int | None = None) -> np.ndarray:
        """The kernels' parameter vector; ``n_classes`` overrides the width of a statistics
        block (the layout of trees that still count classes being dropped).

        Kept until the layout changes (attributes, classes) or the next fit."""
        p = self._Xt.shape[0]
        wi, wf = self._n_stats()
        if n_classes is not None:
            wi = n_classes
        key = (p, wi, wf)
        fitted = self.__dict__.get("_fitted")
        kept = self.__dict__.get("_kernel_params")
        if kept is not None and kept[0] == key and kept[1] is fitted:
            return kept[2]
        P = self._new_params(p, wi, wf)
        self._kernel_params = (key, fitted, P)
        return P

    def _new_params(self, p: int, wi: int, wf: int) -> np.ndarray:
        k = self._hyper("k")
        sampled = k is not None
        P = np.zeros(kern.N_P, np.int64)
        P[kern.P_P] = p
        P[kern.P_WI] = wi
        P[kern.P_WF] = wf
        P[kern.P_REG] = int(self._is_regressor)
        P[kern.P_CRIT] = {
            "gini": kern.GINI,
            "entropy": kern.ENTROPY,
            "squared_error": kern.SQUARED,
        }[self._hyper("criterion")]
        max_depth = self._hyper("max_depth")
        P[kern.P_MAXD] = -1 if max_depth is None else int(max_depth)
        P[kern.P_MSS] = int(self._hyper("min_samples_split"))
        P[kern.P_MSL] = int(self._hyper("min_samples_leaf"))
        P[kern.P_MF] = self._max_features(p)
        P[kern.P_K] = -1 if k is None else int(k)
        P[kern.P_TOPD] = int(self._hyper("topd"))
        P[kern.P_NIW] = kern.NI_HEAD + wi
        P[kern.P_NFW] = kern.NF_HEAD + wf
        P[kern.P_EIW] = (3 if sampled else 1) * wi
        P[kern.P_EFW] = (2 + 3 * wf) if sampled else (1 + wf)
        return P

    def _data(
        self, Y: np.ndarray | None = None, R: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Attribute-major rows and the targets before (row 0) and after (row 1) an update."""
        return self._Xt, self._Y if Y is None else Y, self._R if R is None else R

    def _n_threads(self) -> int:
        if self.n_jobs is None:
            return 1
        cpus = os.cpu_count() or 1
        return max(1, cpus + 1 + self.n_jobs if self.n_jobs < 0 else self.n_jobs)

    def _train(self, rows: np.ndarray) -> None:
        """Train every tree on ``rows`` (store positions) with the model's seed."""
        seeds = np.asarray(kern.tree_seeds(np.uint64(self._seed), int(self._hyper("n_estimators"))))
        self._forest, self._fit_work = build_forest(
            self._data(), self._params(), rows, seeds, self._n_threads()
        )
        self._publish()

    def _publish(self) -> None:
        """Refresh the public learned state from the trees."""
        ib, roots = self._forest.heaps[0], self._forest.roots
        self.tree_digests_ = ib[roots[:, None] + _DIGEST_WORDS].view(np.uint64)

    def _commit(self, forest: ForestStore) -> None:
        if forest.garbage_ratio() > COMPACT_RATIO:
            forest = forest.compacted(self._params())
        self._forest = forest
        self._publish()

    # -- prediction ------------------------------------------------------------------------
    def _tree_sum(self, X: Any) -> np.ndarray:
        Xv = np.ascontiguousarray(self._check_X(X), dtype=np.float64)
        ib, fb = self._forest.heaps
        return np.asarray(kern.predict_trees(ib, fb, self._params(), self._forest.roots, Xv))

    @property
    def estimators_(self) -> list[DaRETree]:
        """The trees, each as a :class:`DaRETree` (computed on access)."""
        self._require_fitted("list its trees")
        P = self._params()
        ib, fb = self._forest.heaps
        out = []
        for root in self._forest.roots:
            f, t, left, right, count, value, depth, kind = kern.export_tree(ib, fb, P, int(root))
            out.append(DaRETree(f, t, left, right, count, value, depth, kind == kern.RANDOM))
        return out

    @property
    def feature_importances_(self) -> np.ndarray:
        """Impurity-based importance of every feature (mean over trees, summing to 1)."""
        self._require_fitted("compute feature importances")
        ib, fb = self._forest.heaps
        per_tree = np.asarray(kern.importances(ib, fb, self._params(), self._forest.roots))
        totals = per_tree.sum(axis=1, keepdims=True)
        per_tree = np.divide(per_tree, totals, out=np.zeros_like(per_tree), where=totals > 0)
        mean = per_tree.mean(axis=0)
        total = mean.sum()
        return np.asarray(mean / total if total > 0 else mean)

    def memory_usage(self) -> dict[str, int]:
        """Bytes the model uses, by part.

        ``cached_statistics`` is what deletion needs beyond the trees themselves: per node
        below the random levels, one header per attribute it examined (at most
        ``n_features``) and, per examined attribute, at most ``k`` candidate entries (with
        ``k=None``: one entry per distinct value of the attribute at the node), plus the
        trials of random nodes. An entry holds two values and three statistics blocks (``k``
        set) or one value and one block (``k=None``); a block is ``n_classes`` integers
        (classifier) or a count and a two-float sum (regressor). A node thus caches at most
        ``n_features * k`` entries, and about ``max_features * k`` when most attributes it
        examines have a valid threshold (attributes without one are examined too, and
        constant ones cost nothing). ``allocated`` is what the heaps hold: the trees and the
        space left by earlier updates (and subtrees parked for a split's return) until the
        next compaction; ``reserved`` is their capacity, address space that takes memory only
        once updates write into it (room for about 4.5 times the trees after a fit or a
        compaction, so that the heaps rarely need copying to grow); ``journal`` holds what
        the last few updates wrote over (updates change the trees in place), which keeps
        earlier states readable for a model restored after a failed request or a shallow
        copy.
        """
        self._require_fitted("report its memory")
        sizes = self._forest.sizes(self._params())
        return {
            "tree_nodes": int(sizes[0] + sizes[4]) * 8,
            "cached_statistics": int(sizes[1] + sizes[2] + sizes[5] + sizes[6]) * 8,
            "leaf_samples": int(sizes[3]) * 8,
            "training_data": int(self._Xt.nbytes + self._Y.nbytes + self._R.nbytes),
            "allocated": int(self._forest.lens[kern.L_I] + self._forest.lens[kern.L_F]) * 8,
            "reserved": int(sum(h.nbytes for h in self._forest.heaps)),
            "journal": self._forest.journal_bytes(),
        }

    # -- unlearning hooks ------------------------------------------------------------------
    def _refit_needed(self, n_rows: int) -> bool:
        return n_rows > REFIT_FRACTION * self._store.n_alive

    def _evidence(self, work: np.ndarray, **extra: Any) -> dict[str, Any]:
        return {
            "trees": int(self._hyper("n_estimators")),
            "subtrees_retrained": int(work[kern.W_SUBTREES]),
            "nodes_rescanned": int(work[kern.W_RESCANS]),
            "nodes_retrained": int(work[kern.W_NODES]),
            "subtree_pairs_reused": int(work[kern.W_REUSED]),
            **extra,
        }

    def _fraction(self, work: np.ndarray) -> float:
        return float(min(1.0, work[kern.W_WORK] / max(self._fit_work, 1)))

    def _refit(self, keep: np.ndarray, why: str, **extra: Any) -> Change:
        self._train(keep)
        return Change(1.0, {"trees": int(self._hyper("n_estimators")), "retrained": why, **extra})

    def _depth_bound(self) -> int:
        """How deep a tree can be: ``max_depth``, or the number of rows held."""
        max_depth = self._hyper("max_depth")
        if max_depth is not None:
            return int(max_depth)
        return int(self._Xt.shape[1])

    def _update(self, rows: np.ndarray, mode: int, data: tuple) -> np.ndarray:
        batch = np.sort(np.asarray(rows, dtype=np.int64))
        forest, work = self._forest.run(
            kern.forest_op,
            *data,
            self._params(),
            kern.OP_UPDATE,
            self._forest.roots,
            batch,
            mode,
            depth=self._depth_bound(),
        )
        self._commit(forest)
        return work

    def _forget_rows(self, rows: np.ndarray) -> Change:
        emptied = self._emptied_classes(rows)
        if self._refit_needed(len(rows)):
            keep = self._store.retained(excluding=rows)
            if emptied:
                self._drop_class_codes(emptied)
            return self._refit(keep, "forest (large request)", rows_removed=len(rows))
        work = self._update(rows, kern.DELETE, self._data())
        if emptied:
            self._drop_class_codes(emptied)
            self._drop_class_columns(emptied)
        return Change(self._fraction(work), self._evidence(work, rows_removed=len(rows)))

    def _add_rows(
        self, X: np.ndarray, y: np.ndarray | None, w: np.ndarray | None, ids: np.ndarray
    ) -> None:
        assert y is not None
        start = self._Xt.shape[1]
        rows = np.arange(start, start + len(X), dtype=np.int64)
        self._Xt = np.ascontiguousarray(np.concatenate([self._Xt, _canonical(X)], axis=1))
        self._append_targets(y)
        if self._refit_needed(len(X)):
            self._train(np.concatenate([self._store.retained(), rows]))
        else:
            self._update(rows, kern.ADD, self._data())

    def _relabel_rows(self, rows: np.ndarray, new_y: np.ndarray) -> Change:
        Y, R = self._new_targets(rows, new_y)
        if self._refit_needed(len(rows)):
            self._Y, self._R = self._settled(Y), self._settled(R)
            return self._refit(self._store.retained(), "forest (large request)")
        work = self._update(rows, kern.RELABEL, self._data(Y, R))
        self._Y, self._R = self._settled(Y), self._settled(R)
        return Change(self._fraction(work), self._evidence(work, rows_relabeled=len(rows)))

    @staticmethod
    def _settled(T: np.ndarray) -> np.ndarray:
        """Targets after an update in both rows."""
        return np.ascontiguousarray(np.stack([T[1], T[1]]))

    def _forget_features(self, cols: np.ndarray) -> Change:
        p = self._Xt.shape[0]
        keep_cols = np.setdiff1d(np.arange(p), cols)
        q = len(keep_cols)
        incremental = (
            self._hyper("topd") == 0
            and self._hyper("k") is None
            and self._max_features(p) >= p
            and self._max_features(q) >= q
        )
        old = self._forest
        self._Xt = np.ascontiguousarray(self._Xt[keep_cols])
        if not incremental:
            return self._refit(self._store.retained(), "forest (attribute order changes)")
        newidx = np.full(p, -1, np.int64)
        newidx[keep_cols] = np.arange(q)
        forest, work = old.run(
            kern.forest_op,
            *self._data(),
            self._params(),
            kern.OP_DROP,
            old.roots,
            newidx,
            0,
            depth=self._depth_bound(),
        )
        self._commit(forest)
        return Change(self._fraction(work), self._evidence(work, features_removed=len(cols)))

    def _emptied_classes(self, rows: np.ndarray) -> list[int]:
        """Class codes left without rows once ``rows`` go (none without classes)."""
        return []

    def _drop_class_codes(self, codes: list[int]) -> None:
        """Forget emptied classes' codes; without classes there is nothing to forget."""

    def _drop_class_columns(self, codes: list[int]) -> None:
        """Drop emptied classes from the statistics; without classes there are none."""


_COMMON_DOC = """
    Parameters
    ----------
    n_estimators : int, default=100
        Number of trees. Every tree is trained on all samples (no bootstrap).
    max_depth : int or None, default=10
        Maximum depth of a tree; None grows until leaves are pure or too small.
    min_samples_split : int, default=2
        A node with fewer samples is a leaf.
    min_samples_leaf : int, default=1
        A threshold is valid only if both sides keep at least this many samples.
    max_features : {{"sqrt", "log2"}}, int, float or None, default={mf}
        Attributes with a valid threshold that a greedy node examines ("sqrt" of the number of
        features, a count, a fraction, or None for all).
    criterion : {crit}
        Split quality.
    topd : int, default=0
        Number of random levels at the top of each tree (at most ``max_depth``). Random nodes
        make deletion cheaper; they make the guarantee exact in distribution (see Notes).
    k : int or None, default=25
        Candidate thresholds sampled per examined attribute at a greedy node; None uses every
        valid threshold. It bounds the statistics cached per node (see
        :meth:`memory_usage`).
    random_state : int, RandomState or None, default=0
        Seeds every random choice. With an integer, unlearning is exactly a retrain with that
        integer; with None a seed is drawn at ``fit`` and kept.
    n_jobs : int or None, default=None
        Threads used to train trees (-1: all processors).
"""

_NOTES = """
    Notes
    -----
    The guarantee is ``exact``. With ``topd=0`` (the default) the forest after ``unlearn`` or
    ``partial_fit`` is the forest a retrain on the retained samples with the same
    ``random_state`` gives: the same splits, the same leaf values, bit for bit, for any ``k``.
    Sampled thresholds (``k`` set) are the valid ones among the ``k`` non-maximal distinct
    values with the smallest keys ``h(node seed, attribute, value)``; a deletion changes that set
    only when a cached value (or its neighbour) disappears, which the cached counts reveal, and
    then that attribute is re-examined on the node's rows.

    When a greedy node's best split changes, the subtrees it had are parked at the node
    (until the next compaction) and new ones are trained. When the split later returns to the
    parked one (near-tied attributes trade places as samples go), the parked subtrees are
    taken back and brought up to date by removing and adding the samples that left or joined
    them since; a subtree is a deterministic function of its node seed and its samples, and
    updates keep it equal to a retrain, so this is exact too. A relabel or feature removal
    passing through the node discards what it parked.

    With ``topd > 0`` the guarantee is exact in distribution, as in DaRE. A random node tries
    attributes in its (seeded) order, draws a threshold uniformly on ``[min, max)`` of each
    non-constant one and accepts the first draw that leaves ``min_samples_leaf`` samples on
    both sides. After a deletion a draw still inside its attribute's new range is, conditioned
    on that, uniform on the new range, so it is kept; a draw outside is redrawn uniformly on
    the new range. After additions a draw is kept with probability ``old range / new range``
    and otherwise moved uniformly into the added part. Either way every draw is uniform on its
    attribute's current range and independent of the others, the accepted attribute follows
    from the draws as in training, and the greedy levels below are a deterministic function of
    their rows: the updated forest has the distribution of a forest retrained on the current
    samples, though its random draws are not those a retrain with the same seed would make.

    Removing features retrains only the subtrees that split on them when every node examines
    every attribute (``max_features`` covering all features), ``k=None`` and ``topd=0``;
    otherwise the attribute order of every node changes and the forest is retrained. Requests
    touching more than a quarter of the samples also retrain the forest from the kept rows.
"""


@register_method("dare_forest_classifier", task="classification")
class DaREForestClassifier(ClassifierMixin, _DaREForest):
    """Random forest classifier with fast exact deletion of training samples (DaRE).

    Brophy and Lowd, "Machine Unlearning for Random Forests" (ICML 2021). Trees cache the
    statistics that score their candidate splits, so forgetting samples updates counts along
    the paths they took and retrains only the subtrees whose best split changes. Supports
    ``items``, ``group``, ``relabel``, ``features`` and ``classes`` requests and
    ``partial_fit``.
    {common}
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    n_classes_ : int
    tree_digests_ : ndarray of shape (n_estimators, 2), dtype uint64
        A 128-bit structural digest of every tree (a Merkle hash of its splits, thresholds,
        sample counts and class counts): equal digests mean equal trees.
    estimators_ : list of DaRETree
    feature_importances_ : ndarray of shape (n_features,)
    n_features_in_ : int
    feature_names_in_ : ndarray of str, present when fitted on a DataFrame
    {notes}
    Examples
    --------
    >>> import numpy as np
    >>> from unlearnkit.exact import DaREForestClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 4)); y = (X[:, 0] + X[:, 1] > 0).astype(int)
    >>> model = DaREForestClassifier(n_estimators=10, random_state=0).fit(X, y)
    >>> result = model.unlearn([0, 1, 2])
    >>> retrained = DaREForestClassifier(n_estimators=10, random_state=0).fit(
    ...     X[3:], y[3:], sample_ids=np.arange(3, 300))
    >>> bool((model.tree_digests_ == retrained.tree_digests_).all())
    True
    >>> str(result.guarantee)
    'exact'
    """

    supported_requests: ClassVar[frozenset[RequestKind]] = frozenset(
        {"items", "group", "relabel", "features", "classes"}
    )
    check_data_kind = "classification"
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **_DaREForest._parameter_constraints,
        "criterion": [StrOptions({"gini", "entropy"})],
    }

    classes_: np.ndarray
    n_classes_: int

    def __init__(
        self,
        n_estimators: int = 100,
        *,
        max_depth: int | None = 10,
        min_samples_split: int = 2,
        min_samples_leaf: int = 1,
        max_features: Any = "sqrt",
        criterion: str = "gini",
        topd: int = 0,
        k: int | None = 25,
        random_state: Any = 0,
        n_jobs: int | None = None,
    ) -> None:
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.min_samples_split = min_samples_split
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features
        self.criterion = criterion
        self.topd = topd
        self.k = k
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _set_targets(self, y: np.ndarray) -> None:
        try:
            check_classification_targets(y)
        except ValueError as exc:
            raise DataValidationError(f"{exc} Pass class labels as y.") from None
        self.classes_, codes = np.unique(y, return_inverse=True)
        self.n_classes_ = len(self.classes_)
        codes = np.asarray(codes, dtype=np.int64).reshape(-1)
        self._Y = np.ascontiguousarray(np.stack([codes, codes]))
        self._R = np.zeros((2, 1))

    def _n_stats(self) -> tuple[int, int]:
        return len(self.classes_), 0

    def _encode(self, labels: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.classes_, np.asarray(labels)).astype(np.int64)

    def _append_targets(self, y: np.ndarray) -> None:
        codes = self._encode(y)
        self._Y = np.ascontiguousarray(np.concatenate([self._Y, np.stack([codes, codes])], axis=1))

    def _new_targets(self, rows: np.ndarray, new_y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        Y = self._Y.copy()
        Y[1, rows] = self._encode(new_y)
        return Y, self._R

    def _emptied_classes(self, rows: np.ndarray) -> list[int]:
        held = self._label_counts
        if len(rows) < min(held.values()):  # every class keeps some of its rows
            return []
        removed = Counter(self._Y[0, rows].tolist())
        labels: Any = self.classes_
        return sorted(c for c, k in removed.items() if held.get(labels[c], 0) <= k)

    def _drop_class_codes(self, codes: list[int]) -> None:
        keep = np.setdiff1d(np.arange(self.n_classes_), codes)
        remap = np.zeros(self.n_classes_, np.int64)
        remap[keep] = np.arange(len(keep))
        self._Y = np.ascontiguousarray(remap[self._Y])
        self.classes_ = self.classes_[keep]
        self.n_classes_ = len(keep)

    def _drop_class_columns(self, codes: list[int]) -> None:
        before = self.n_classes_ + len(codes)
        old = self._params(n_classes=before)
        keep = np.setdiff1d(np.arange(before), codes).astype(np.int64)
        forest = self._forest.compacted(old, keep)
        ib, fb = forest.heaps
        kern.rehash(ib, fb, self._params(), forest.roots)
        self._forest = forest
        self._publish()

    def predict_proba(self, X: Any) -> np.ndarray:
        """Mean over trees of the class frequencies in the leaf each row reaches."""
        return self._tree_sum(X) / len(self._forest.roots)

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of every row of ``X``."""
        proba = self.predict_proba(X)
        return np.asarray(self.classes_[np.argmax(proba, axis=1)])


@register_method("dare_forest_regressor", task="regression")
class DaREForestRegressor(RegressorMixin, _DaREForest):
    """Random forest regressor with fast exact deletion of training samples (DaRE).

    The regression version of :class:`DaREForestClassifier`: nodes cache sample counts and
    target sums (kept as double-double sums, so that they do not depend on the order in which
    samples came and went) and split on the squared error. Every adjacent pair of distinct
    values is a valid threshold when both sides keep ``min_samples_leaf`` samples; a split
    whose children's means differ by no more than rounding error is not made. Supports
    ``items``, ``group``, ``relabel`` and ``features`` requests and ``partial_fit``.
    {common}
    Attributes
    ----------
    tree_digests_ : ndarray of shape (n_estimators, 2), dtype uint64
        A 128-bit structural digest of every tree: equal digests mean equal trees.
    estimators_ : list of DaRETree
    feature_importances_ : ndarray of shape (n_features,)
    n_features_in_ : int
    feature_names_in_ : ndarray of str, present when fitted on a DataFrame
    {notes}
    Examples
    --------
    >>> import numpy as np
    >>> from unlearnkit.exact import DaREForestRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 3)); y = X[:, 0] - 2 * X[:, 1] + 0.1 * rng.normal(size=300)
    >>> model = DaREForestRegressor(n_estimators=10, random_state=0).fit(X, y)
    >>> _ = model.unlearn([5, 6])
    >>> keep = np.setdiff1d(np.arange(300), [5, 6])
    >>> retrained = DaREForestRegressor(n_estimators=10, random_state=0).fit(
    ...     X[keep], y[keep], sample_ids=keep)
    >>> bool(np.array_equal(model.predict(X), retrained.predict(X)))
    True
    """

    check_data_kind = "regression"
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **_DaREForest._parameter_constraints,
        "criterion": [StrOptions({"squared_error"})],
    }
    _is_regressor = True

    def __init__(
        self,
        n_estimators: int = 100,
        *,
        max_depth: int | None = 10,
        min_samples_split: int = 2,
        min_samples_leaf: int = 1,
        max_features: Any = 1.0,
        criterion: str = "squared_error",
        topd: int = 0,
        k: int | None = 25,
        random_state: Any = 0,
        n_jobs: int | None = None,
    ) -> None:
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.min_samples_split = min_samples_split
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features
        self.criterion = criterion
        self.topd = topd
        self.k = k
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _set_targets(self, y: np.ndarray) -> None:
        if y.ndim == 2:
            try:
                y = column_or_1d(y, warn=True)
            except ValueError:
                raise DataValidationError(
                    f"{type(self).__name__} predicts one target; y has shape {y.shape}. "
                    "Pass a 1-dimensional y."
                ) from None
            self._store.y = y
        self._R = self._values(y, y)
        self._Y = np.zeros((2, 1), np.int64)

    @staticmethod
    def _values(before: np.ndarray, after: np.ndarray) -> np.ndarray:
        rows = [np.asarray(v, dtype=np.float64).reshape(-1) for v in (before, after)]
        return np.ascontiguousarray(np.where(np.stack(rows) == 0.0, 0.0, np.stack(rows)))

    def _n_stats(self) -> tuple[int, int]:
        return 1, 2

    def _append_targets(self, y: np.ndarray) -> None:
        self._R = np.ascontiguousarray(np.concatenate([self._R, self._values(y, y)], axis=1))

    def _new_targets(self, rows: np.ndarray, new_y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        R = self._R.copy()
        R[1, rows] = self._values(new_y, new_y)[0]
        return self._Y, R

    def predict(self, X: Any) -> np.ndarray:
        """Mean over trees of the mean target in the leaf each row reaches."""
        return self._tree_sum(X)[:, 0] / len(self._forest.roots)


for _cls, _mf, _crit in (
    (DaREForestClassifier, '"sqrt"', '{"gini", "entropy"}, default="gini"'),
    (DaREForestRegressor, "1.0", '{"squared_error"}, default="squared_error"'),
):
    _cls.__doc__ = (_cls.__doc__ or "").format(
        common=_COMMON_DOC.format(mf=_mf, crit=_crit), notes=_NOTES
    )
