"""Exact unlearning for k-means by divide-and-conquer clustering (DC-k-means).

Ginart, Guan, Valiant and Zou, "Making AI Forget You: Data Deletion in Machine Learning"
(NeurIPS 2019) split the data into leaves, cluster every leaf with k-means and cluster the
weighted leaf centroids at the root. A sample's leaf is fixed by a stable hash of its sample id
and the random state, never by its row position, and each leaf is clustered with a seed derived
from the random state and the leaf index only. Deleting samples therefore changes only the
leaves that held them: re-solving those leaves and the root gives exactly the model that
training on the remaining samples with the same ``random_state`` gives.
"""

from __future__ import annotations

import functools
import warnings
from numbers import Integral, Real
from typing import Any, ClassVar, Self

import numpy as np
from sklearn.base import ClassNamePrefixFeaturesOutMixin, ClusterMixin, TransformerMixin
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics.pairwise import euclidean_distances
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_random_state
from threadpoolctl import ThreadpoolController

from unlearnkit._hashing import stable_id_hash
from unlearnkit.base import Change, Unlearner
from unlearnkit.errors import DataValidationError, InvalidRequestError
from unlearnkit.registry import register_method
from unlearnkit.requests import RequestKind

__all__ = ["KMeansUnlearner"]

#: Rows per block when assigning samples to their nearest centre.
_ASSIGN_BLOCK = 4096


@functools.cache
def _controller() -> ThreadpoolController:
    return ThreadpoolController()


def _one_thread() -> Any:
    """Run k-means and its BLAS calls on one thread.

    Many small k-means problems gain nothing from threads, whose start-up and spin-waiting
    dominate on a busy machine; and single-threaded sums make the result independent of the
    number of cores, so a model fitted on one machine unlearns identically on another.
    """
    return _controller().limit(limits=1)


def _seed_of(random_state: Any) -> int:
    """The integer seed all leaf and root seeds are derived from."""
    if isinstance(random_state, Integral) and not isinstance(random_state, bool):
        return int(random_state)
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def _derived_seed(seed: int, *key: int) -> int:
    """A 32-bit seed from ``seed`` and ``key`` (leaf index, or the root's key) only."""
    sequence = np.random.SeedSequence(seed & 0xFFFFFFFFFFFFFFFF, spawn_key=key)
    return int(sequence.generate_state(1, dtype=np.uint32)[0])


#: One leaf's summary: its centroids and how many samples each stands for.
_Leaf = tuple[np.ndarray, np.ndarray] | None


@register_method("kmeans", task="clustering")
class KMeansUnlearner(ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin, Unlearner):
    """k-means with exact deletion by divide-and-conquer clustering (DC-k-means).

    Following Ginart et al. (NeurIPS 2019), samples are spread over ``n_leaves`` leaves by a
    stable hash of ``(sample id, random_state)``; every leaf is clustered with
    :class:`sklearn.cluster.KMeans` (seeded from ``random_state`` and the leaf index only, rows
    in training order), and the root clusters the leaf centroids weighted by the number of
    samples each represents. ``unlearn`` re-solves only the leaves that held the forgotten
    samples, then the root, so ``fit(all).unlearn(F)`` equals ``fit(all minus F)`` with the same
    ``random_state``: the same leaves see the same rows and the same seeds.

    The price is clustering quality: the root sees leaf centroids rather than the samples, so
    the inertia is usually a little above that of plain k-means on the same data (the
    ``kmeans`` benchmark reports the ratio). ``n_leaves=1`` is plain k-means, equal to
    ``KMeans(random_state=random_state)``, and then every deletion is a full refit. A deletion
    costs about ``1 / n_leaves`` of a fit per leaf it touches, plus one pass over the retained
    samples to recompute ``labels_`` and ``inertia_``; a request naming many random samples
    touches most leaves and costs about a full fit. Samples are unweighted (no
    ``sample_weight``). Every k-means run is single-threaded, so the result does not depend
    on the number of cores of the machine that fits or unlearns.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters.
    n_leaves : int, default=16
        Number of leaves the samples are spread over.
    n_init : int or "auto", default="auto"
        k-means++ restarts in every leaf and at the root (``"auto"`` is 1, as scikit-learn).
    max_iter : int, default=300
        Lloyd iterations per k-means run.
    tol : float, default=1e-4
        Convergence tolerance of each k-means run (scikit-learn's definition).
    random_state : int, RandomState or None, default=0
        Fixes the leaf of every sample and every k-means seed. With an integer, unlearning is
        exactly a retrain with that integer; with ``None`` a seed is drawn at ``fit`` and kept,
        so unlearning equals a retrain with that drawn seed.

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
    labels_ : ndarray of shape (n_samples,)
        Cluster of every retained sample, in training order.
    inertia_ : float
        Sum of squared distances of the retained samples to their closest centre.
    n_iter_ : int
        Lloyd iterations of the root clustering (of the single k-means when ``n_leaves=1``).
    n_features_in_ : int
    feature_names_in_ : ndarray of str, present when fitted on a DataFrame

    Examples
    --------
    >>> import numpy as np
    >>> from unlearnkit.exact import KMeansUnlearner
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(c, 0.5, size=(100, 2)) for c in (-5, 0, 5)])
    >>> model = KMeansUnlearner(n_clusters=3, n_leaves=4, random_state=0).fit(X)
    >>> result = model.unlearn([0, 1, 2])
    >>> retrained = KMeansUnlearner(n_clusters=3, n_leaves=4, random_state=0).fit(
    ...     X[3:], sample_ids=np.arange(3, 300))
    >>> bool(np.allclose(model.cluster_centers_, retrained.cluster_centers_))
    True
    >>> result.evidence["leaves_resolved"] <= 3
    True
    """

    supported_requests: ClassVar[frozenset[RequestKind]] = frozenset({"items", "group", "features"})
    check_data_kind = "clustering"
    accepts_sample_weight = False
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "n_leaves": [Interval(Integral, 1, None, closed="left")],
        "n_init": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
    }

    _seed: int
    _leaf_of_row: np.ndarray
    _leaves: tuple[_Leaf, ...]

    def __init__(
        self,
        n_clusters: int = 8,
        *,
        n_leaves: int = 16,
        n_init: int | str = "auto",
        max_iter: int = 300,
        tol: float = 1e-4,
        random_state: Any = 0,
    ) -> None:
        self.n_clusters = n_clusters
        self.n_leaves = n_leaves
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    # -- fitting ---------------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None, *, sample_ids: Any = None) -> Self:
        """Cluster ``X``; rows are addressed by ``sample_ids`` (``0..n-1`` by default).

        ``y`` is ignored (present for scikit-learn's API).
        """
        Xv, _, _ = self._start_fit(X, None, sample_ids, None)
        try:
            n, k = len(Xv), int(self.n_clusters)
            if n < k:
                raise DataValidationError(
                    f"n_samples={n} should be >= n_clusters={k}; lower n_clusters or pass more "
                    "samples."
                )
            self._seed = _seed_of(self.random_state)
            self._leaf_of_row = self._leaf_ids(self._store.ids)
            rows = np.arange(n)
            self._solve(Xv, rows, range(int(self.n_leaves)), (None,) * int(self.n_leaves))
        except BaseException:
            self.__dict__.pop("_store", None)
            raise
        return self

    # -- prediction ------------------------------------------------------------------------
    def predict(self, X: Any) -> np.ndarray:
        """Index of the closest cluster centre of every row of ``X``."""
        self._require_fitted("predict")
        return self._assign(self._check_X(X))[0]

    def transform(self, X: Any) -> np.ndarray:
        """Euclidean distance of every row of ``X`` to every cluster centre."""
        self._require_fitted("transform")
        return np.asarray(euclidean_distances(self._check_X(X), self.cluster_centers_))

    def score(self, X: Any, y: Any = None) -> float:
        """Opposite of the inertia of ``X`` under the fitted centres (higher is better)."""
        self._require_fitted("score")
        return -self._assign(self._check_X(X))[1]

    @property
    def _n_features_out(self) -> int:
        return int(self.cluster_centers_.shape[0])

    # -- the DC-k-means tree ------------------------------------------------------------------
    def _leaf_ids(self, ids: np.ndarray) -> np.ndarray:
        return (stable_id_hash(ids, self._seed) % np.uint64(self.n_leaves)).astype(np.intp)

    def _n_init(self) -> int:
        return 1 if self.n_init == "auto" else int(self.n_init)

    def _kmeans(self, seed: int) -> KMeans:
        return KMeans(
            n_clusters=int(self.n_clusters),
            n_init=self._n_init(),
            max_iter=int(self.max_iter),
            tol=float(self.tol),
            random_state=seed,
        )

    def _solve_leaf(self, leaf: int, X: np.ndarray) -> _Leaf:
        """Cluster one leaf's rows; a leaf with at most ``n_clusters`` rows keeps its rows."""
        if len(X) == 0:
            return None
        if len(X) <= self.n_clusters:
            return X.copy(), np.ones(len(X))
        with warnings.catch_warnings():
            # Leaves with fewer distinct points than clusters are expected; the root warns
            # when the whole data has too few distinct points.
            warnings.simplefilter("ignore", ConvergenceWarning)
            km = self._kmeans(_derived_seed(self._seed, 0, leaf)).fit(X)
        # Every centre is kept, an empty one with weight 0, so that the root always has at
        # least n_clusters points, even on data with fewer distinct points than clusters.
        counts = np.bincount(km.labels_, minlength=int(self.n_clusters)).astype(np.float64)
        return np.asarray(km.cluster_centers_), counts

    def _solve(
        self,
        X: np.ndarray,
        rows: np.ndarray,
        leaves_to_solve: Any,
        leaves: tuple[_Leaf, ...],
    ) -> int:
        """Re-solve ``leaves_to_solve`` on ``X[rows]`` (the retained rows), then the root.

        Rebinds the fitted attributes; returns how many rows were re-clustered in leaves.
        """
        with _one_thread():
            return self._solve_unthreaded(X, rows, leaves_to_solve, leaves)

    def _solve_unthreaded(
        self,
        X: np.ndarray,
        rows: np.ndarray,
        leaves_to_solve: Any,
        leaves: tuple[_Leaf, ...],
    ) -> int:
        X_kept = X[rows]
        leaf_of = self._leaf_of_row[rows]
        todo = np.asarray(list(leaves_to_solve), dtype=np.intp)
        if int(self.n_leaves) == 1:
            km = self._kmeans(self._seed).fit(X_kept)
            self._leaves = (None,)
            self._set_centers(np.asarray(km.cluster_centers_), int(km.n_iter_), X_kept)
            return len(X_kept)
        new = list(leaves)
        if len(todo) > 8:
            order = np.argsort(leaf_of, kind="stable")
            bounds = np.searchsorted(leaf_of[order], np.arange(int(self.n_leaves) + 1))
            members = {int(leaf): order[bounds[leaf] : bounds[leaf + 1]] for leaf in todo.tolist()}
        else:
            members = {int(leaf): np.flatnonzero(leaf_of == leaf) for leaf in todo.tolist()}
        resolved = 0
        for leaf, where in members.items():  # rows of a leaf stay in training order
            new[leaf] = self._solve_leaf(leaf, X_kept[where])
            resolved += len(where)
        self._leaves = tuple(new)
        present = [leaf for leaf in self._leaves if leaf is not None]
        centroids = np.concatenate([c for c, _ in present])
        weights = np.concatenate([w for _, w in present])
        root = self._kmeans(_derived_seed(self._seed, 1)).fit(centroids, sample_weight=weights)
        self._set_centers(np.asarray(root.cluster_centers_), int(root.n_iter_), X_kept)
        return resolved

    def _set_centers(self, centers: np.ndarray, n_iter: int, X_kept: np.ndarray) -> None:
        self.cluster_centers_ = centers
        self.n_iter_ = n_iter
        self.labels_, self.inertia_ = self._assign(X_kept)

    def _assign(self, X: np.ndarray) -> tuple[np.ndarray, float]:
        """Closest centre of every row and the inertia, in fixed blocks of rows."""
        centers = self.cluster_centers_
        half_sq = 0.5 * np.einsum("ij,ij->i", centers, centers)
        labels = np.empty(len(X), dtype=np.int32)
        with _one_thread():
            for start in range(0, len(X), _ASSIGN_BLOCK):
                block = X[start : start + _ASSIGN_BLOCK]
                nearest = np.argmin(half_sq - block @ centers.T, axis=1)
                labels[start : start + len(block)] = nearest
        diff = X - centers[labels]
        inertia = float(np.sum(np.einsum("ij,ij->i", diff, diff)))
        return labels, inertia

    def _work(self, resolved: int, n_kept: int) -> float:
        """Share of a fit redone: rows re-clustered in leaves plus the root's centroids."""
        root = sum(len(leaf[1]) for leaf in self._leaves if leaf is not None)
        if int(self.n_leaves) == 1:
            return 1.0
        return min(1.0, (resolved + root) / (n_kept + root))

    # -- hooks -------------------------------------------------------------------------------
    def _forget_rows(self, rows: np.ndarray) -> Change:
        store = self._store
        kept = store.retained(excluding=rows)
        if len(kept) < self.n_clusters:
            raise InvalidRequestError(
                f"This request would leave {len(kept)} samples, fewer than "
                f"n_clusters={self.n_clusters}; k-means needs at least one sample per cluster. "
                "Forget fewer samples or refit with a smaller n_clusters."
            )
        affected = np.unique(self._leaf_of_row[rows])
        resolved = self._solve(store.X, kept, affected.tolist(), self._leaves)
        return Change(
            self._work(resolved, len(kept)),
            {
                "leaves_resolved": len(affected) if self.n_leaves > 1 else 1,
                "n_leaves": int(self.n_leaves),
                "rows_reclustered": resolved,
            },
        )

    def _add_rows(
        self, X: np.ndarray, y: np.ndarray | None, w: np.ndarray | None, ids: np.ndarray
    ) -> None:
        store = self._store
        new_leaves = self._leaf_ids(ids)
        self._leaf_of_row = np.concatenate([self._leaf_of_row, new_leaves])
        X_all = np.concatenate([store.X, X])
        rows = np.concatenate([store.retained(), np.arange(len(store.X), len(X_all))])
        self._solve(X_all, rows, np.unique(new_leaves).tolist(), self._leaves)

    def _forget_features(self, cols: np.ndarray) -> Change:
        store = self._store
        X = np.delete(store.X, cols, axis=1)
        n_leaves = int(self.n_leaves)
        self._solve(X, store.retained(), range(n_leaves), (None,) * n_leaves)
        return Change(1.0, {"features_removed": len(cols), "leaves_resolved": n_leaves})
