"""Exact unlearning for k-nearest-neighbour classification and regression.

A k-nearest-neighbour model is its training rows, so forgetting is removing rows from the search
index. Rebuilding the index after every request would be a full refit; instead the model keeps a
scikit-learn :class:`~sklearn.neighbors.NearestNeighbors` index over the rows it held when the
index was built, marks forgotten rows as dead (a tombstone) and asks the index for enough extra
neighbours to step over them. An index is rebuilt only when its dead rows pass
``compact_threshold`` of its size, so most requests redo no training work at all.

Neighbours are ranked by distance and then by training order: of two rows at the same distance
the one trained earlier wins. Candidates found through the index are re-ranked with distances
computed pair by pair (independently of which other rows are indexed), so the neighbours, and
hence every prediction, are exactly those of a model fitted on the retained rows in their
original order. scikit-learn has no such rule: where several rows tie at the k-th neighbour's
distance it keeps whichever its search visits first, and its brute-force Euclidean search
computes distances through ``|x|^2 - 2 x.y + |y|^2``, which can put a duplicate of the query
at a distance of about 1e-8 instead of 0. Predictions therefore equal those of scikit-learn's
tree-based ``KNeighborsClassifier`` / ``KNeighborsRegressor`` on the retained rows wherever the
k nearest rows are unique, and differ at most in which of several equidistant rows is kept.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Callable
from numbers import Integral, Real
from typing import Any, ClassVar, Self

import numpy as np
from sklearn.base import ClassifierMixin, MultiOutputMixin, RegressorMixin
from sklearn.neighbors import NearestNeighbors
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets

from unlearnkit._hashing import mix64, stable_id_hash
from unlearnkit.base import Change, Unlearner
from unlearnkit.errors import DataValidationError, InvalidParameterError
from unlearnkit.registry import register_method
from unlearnkit.requests import RequestKind

__all__ = ["KNeighborsClassifierUnlearner", "KNeighborsRegressorUnlearner"]

#: Minkowski order of each supported metric (``None``: the ``p`` parameter).
_METRIC_P: dict[str, float | None] = {
    "minkowski": None,
    "euclidean": 2.0,
    "l2": 2.0,
    "manhattan": 1.0,
    "cityblock": 1.0,
    "l1": 1.0,
    "chebyshev": math.inf,
    "infinity": math.inf,
}
#: Relative slack between the index's distances and the pairwise ones. The index may compute
#: Euclidean distances through ``|x|^2 - 2 x.y + |y|^2``, whose error is about
#: ``sqrt(d * eps)`` times the norms; candidates are taken this far past the k-th neighbour.
_SLACK = 1e-5
#: Query rows times candidates handled per block (bounds the memory of a query).
_BLOCK = 1 << 16


@dataclasses.dataclass(frozen=True)
class _Segment:
    """One search index over a fixed set of training rows (store positions, ascending)."""

    rows: np.ndarray
    index: NearestNeighbors
    center: np.ndarray
    radius: float
    n_dead: int = 0

    @property
    def n_live(self) -> int:
        return len(self.rows) - self.n_dead


def _pair_distances(A: np.ndarray, B: np.ndarray, p: float) -> np.ndarray:
    """Minkowski distance between ``A[i]`` and ``B[i]`` for every ``i``.

    Coordinates are accumulated one at a time in column order, so a pair's distance does not
    depend on the other pairs computed with it.
    """
    D = np.ascontiguousarray(np.abs(A - B).T)
    if p == math.inf:
        return np.asarray(D.max(axis=0)) if len(D) else np.zeros(A.shape[0])
    if p == 1.0:
        acc = D[0].copy()
        for row in D[1:]:
            acc += row
        return acc
    if p == 2.0:
        acc = D[0] * D[0]
        for row in D[1:]:
            acc += row * row
        return np.sqrt(acc)
    acc = D[0] ** p
    for row in D[1:]:
        acc += row**p
    return np.asarray(acc ** (1.0 / p))


def _row_hashes(X: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """A 64-bit hash of every (sample id, feature row) pair."""
    h = stable_id_hash(ids)
    for j in range(X.shape[1]):
        h = mix64(h ^ (X[:, j] + 0.0).view(np.uint64))  # + 0.0 turns -0.0 into 0.0
    return h


class _KNeighborsUnlearner(Unlearner):
    """Shared index, tombstones and neighbour search of the k-NN unlearners."""

    accepts_sample_weight = False

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "weights": [StrOptions({"uniform", "distance"}), callable],
        "algorithm": [StrOptions({"auto", "ball_tree", "kd_tree", "brute"})],
        "leaf_size": [Interval(Integral, 1, None, closed="left")],
        "p": [Interval(Real, 1, None, closed="left")],
        "metric": [StrOptions(set(_METRIC_P))],
        "compact_threshold": [Interval(Real, 0, 1, closed="both")],
        "n_jobs": [None, Integral],
    }

    _segments: tuple[_Segment, ...]
    _row_hash: np.ndarray
    _digest: str
    _p: float

    def __init__(
        self,
        n_neighbors: int = 5,
        *,
        weights: str | Callable[[np.ndarray], np.ndarray] = "uniform",
        algorithm: str = "auto",
        leaf_size: int = 30,
        p: float = 2,
        metric: str = "minkowski",
        compact_threshold: float = 0.25,
        n_jobs: int | None = None,
    ) -> None:
        self.n_neighbors = n_neighbors
        self.weights = weights
        self.algorithm = algorithm
        self.leaf_size = leaf_size
        self.p = p
        self.metric = metric
        self.compact_threshold = compact_threshold
        self.n_jobs = n_jobs

    # -- fitting ---------------------------------------------------------------------------
    def fit(self, X: Any, y: Any, *, sample_ids: Any = None) -> Self:
        """Index ``X, y``; rows are addressed by ``sample_ids`` (``0..n-1`` by default)."""
        Xv, yv, _ = self._start_fit(X, y, sample_ids, None)
        try:
            assert yv is not None
            self._set_metric()
            self._init_targets(yv)
            self._row_hash = _row_hashes(Xv, self._store.ids)
            rows = np.arange(len(Xv))
            self._segments = (self._build(Xv, rows),)
            self._refresh(rows)
        except BaseException:
            self.__dict__.pop("_store", None)
            raise
        return self

    def _set_metric(self) -> None:
        """``effective_metric_`` and its parameters, exactly as scikit-learn sets them."""
        metric = str(self.metric)
        order = _METRIC_P[metric]
        params: dict[str, Any] = {}
        if metric == "minkowski":
            order = float(self.p)
            names = {1.0: "manhattan", 2.0: "euclidean", math.inf: "chebyshev"}
            metric = names.get(order, "minkowski")
            if metric == "minkowski":
                params.update(p=self.p, w=None)
        assert order is not None
        self.effective_metric_ = metric
        self.effective_metric_params_ = params
        self._p = order

    def _build(self, X: np.ndarray, rows: np.ndarray) -> _Segment:
        """An index over the rows ``rows`` of ``X`` (centred, for accurate distances)."""
        Xr = X[rows]
        center = Xr.mean(axis=0)
        Xc = Xr - center
        index = NearestNeighbors(
            n_neighbors=min(int(self.n_neighbors), len(rows)),
            algorithm=self.algorithm,
            leaf_size=int(self.leaf_size),
            metric=self.metric,
            p=self.p,
            n_jobs=self.n_jobs,
        ).fit(Xc)
        radius = float(np.abs(Xc).sum(axis=1).max())
        return _Segment(rows=rows, index=index, center=center, radius=radius)

    def _learned_state(self) -> dict[str, Any]:
        """Public fitted attributes plus a SHA-256 of the retained rows, ids and labels.

        The rows themselves are not hashed on every request: each row's hash is computed once
        when it is added, and the digest covers the hashes of the retained rows in order.
        """
        state = super()._learned_state()
        state["retained_rows_sha256"] = self._digest
        return state

    # -- search ----------------------------------------------------------------------------
    def _neighbors(self, Xq: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Distances and store positions of the ``k`` nearest retained rows of every query.

        Ranked by distance, then training order.
        """
        n_live = self._store.n_alive
        if k > n_live:
            raise InvalidParameterError(
                f"n_neighbors={k} is more than the {n_live} samples the model holds; "
                "pass a smaller n_neighbors."
            )
        parts = [self._search(seg, Xq, k) for seg in self._segments if seg.n_live > 0]
        dist = np.concatenate([d for d, _ in parts], axis=1)
        pos = np.concatenate([p for _, p in parts], axis=1)
        if len(parts) > 1:
            order = np.lexsort((pos, dist), axis=1)[:, :k]
            dist = np.take_along_axis(dist, order, axis=1)
            pos = np.take_along_axis(pos, order, axis=1)
        return dist[:, :k], pos[:, :k]

    def _search(self, seg: _Segment, Xq: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``min(k, live rows)`` nearest live rows of one segment, padded to ``k``.

        The index is asked for ``m`` candidates. A query is settled once at least ``need`` of
        them are alive and the farthest candidate lies beyond the ``need``-th live one by more
        than the distance slack: then no row outside the candidates can be among the nearest,
        whatever the rounding of the index. Unsettled queries ask again with ``2 m``.
        """
        alive = self._store.alive
        size = len(seg.rows)
        need = min(k, seg.n_live)
        out_d = np.full((len(Xq), k), np.inf)
        out_p = np.full((len(Xq), k), len(alive), dtype=np.intp)
        Xc = Xq - seg.center
        slack = _SLACK * (np.abs(Xc).sum(axis=1) + seg.radius)
        m = min(size, math.ceil((need + 1) * size / seg.n_live * 1.25) + 1)
        todo = np.arange(len(Xq))
        while len(todo):
            retry = []
            step = max(1, _BLOCK // m)
            for start in range(0, len(todo), step):
                block = todo[start : start + step]
                dist, ind = seg.index.kneighbors(Xc[block], n_neighbors=m)
                pos = seg.rows[ind]
                live = alive[pos]
                if m >= size:
                    settled = np.ones(len(block), dtype=bool)
                else:
                    count = np.cumsum(live, axis=1)
                    kth = dist[np.arange(len(block)), np.argmax(count >= need, axis=1)]
                    settled = (count[:, -1] >= need) & (dist[:, -1] > kth + slack[block])
                if settled.any():
                    d, p = self._rank(Xq[block[settled]], pos[settled], live[settled], need)
                    out_d[block[settled], :need] = d
                    out_p[block[settled], :need] = p
                retry.append(block[~settled])
            todo = np.concatenate(retry)
            m = min(size, 2 * m)
        return out_d, out_p

    def _rank(
        self, Xq: np.ndarray, pos: np.ndarray, live: np.ndarray, need: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Exact distances to the live candidates; the first ``need`` by (distance, row)."""
        qi, ci = np.nonzero(live)
        dist = np.full(pos.shape, np.inf)
        dist[qi, ci] = _pair_distances(Xq[qi], self._store.X[pos[qi, ci]], self._p)
        cand = np.where(live, pos, len(self._store.alive))
        order = np.lexsort((cand, dist), axis=1)[:, :need]
        return np.take_along_axis(dist, order, axis=1), np.take_along_axis(cand, order, axis=1)

    def _weights(self, dist: np.ndarray) -> np.ndarray | None:
        """Neighbour weights as scikit-learn's ``_get_weights`` (None when uniform)."""
        if self.weights == "uniform":
            return None
        if self.weights == "distance":
            with np.errstate(divide="ignore"):
                w = 1.0 / dist
            inf_mask = np.isinf(w)
            inf_row = np.any(inf_mask, axis=1)
            w[inf_row] = inf_mask[inf_row]
            return w
        assert callable(self.weights)
        w = np.asarray(self.weights(dist), dtype=np.float64)
        if w.shape != dist.shape:
            raise InvalidParameterError(
                f"weights callable returned shape {w.shape} for distances of shape "
                f"{dist.shape}; it must return one weight per distance."
            )
        if np.any(np.all(w == 0, axis=1)):
            raise InvalidParameterError(
                "All neighbors of some sample get zero weight from the weights callable; "
                "return a positive weight for at least one neighbour."
            )
        return w

    def kneighbors(
        self, X: Any = None, n_neighbors: int | None = None, return_distance: bool = True
    ) -> Any:
        """The nearest retained training rows of every row of ``X``, as scikit-learn's.

        Indices count the retained rows in training order (those of a model fitted on them).
        With ``X=None`` the queries are the retained rows, each not its own neighbour.
        """
        self._require_fitted("find neighbours")
        k = int(self.n_neighbors) if n_neighbors is None else n_neighbors
        if not isinstance(k, Integral) or isinstance(k, bool) or k < 1:
            raise InvalidParameterError(f"n_neighbors must be a positive integer, got {k!r}.")
        store = self._store
        rank = np.cumsum(store.alive) - 1
        if X is None:
            kept = store.retained()
            dist, pos = self._neighbors(store.X[kept], int(k) + 1)
            not_self = pos != kept[:, None]
            not_self[np.all(not_self, axis=1), 0] = False  # self hidden by duplicates
            dist = dist[not_self].reshape(len(kept), int(k))
            pos = pos[not_self].reshape(len(kept), int(k))
        else:
            dist, pos = self._neighbors(self._check_X(X), int(k))
        ind = rank[pos]
        return (dist, ind) if return_distance else ind

    # -- hooks -------------------------------------------------------------------------------
    def _forget_rows(self, rows: np.ndarray) -> Change:
        store = self._store
        rows = np.sort(rows)
        alive_after = store.alive.copy()
        alive_after[rows] = False
        kept = np.flatnonzero(alive_after)
        reindexed = 0
        segments = []
        for seg in self._segments:
            at = np.minimum(np.searchsorted(seg.rows, rows), len(seg.rows) - 1)
            hits = int(np.count_nonzero(seg.rows[at] == rows))
            seg = dataclasses.replace(seg, n_dead=seg.n_dead + hits)
            if hits and seg.n_dead > self.compact_threshold * len(seg.rows):
                live = seg.rows[alive_after[seg.rows]]
                reindexed += len(live)
                if len(live) == 0:
                    continue
                seg = self._build(store.X, live)
            segments.append(seg)
        self._segments = tuple(segments)
        self._drop_rows(kept)
        self._refresh(kept)
        return Change(
            reindexed / len(kept), {"rows_tombstoned": len(rows), "rows_reindexed": reindexed}
        )

    def _relabel_rows(self, rows: np.ndarray, new_y: np.ndarray) -> Change:
        labels = self._relabeled(rows, new_y)
        self._refresh(self._store.retained(), labels)
        return Change(0.0, {"rows_relabeled": len(rows)})

    def _add_rows(
        self, X: np.ndarray, y: np.ndarray | None, w: np.ndarray | None, ids: np.ndarray
    ) -> None:
        assert y is not None
        store = self._store
        start = len(store.ids)
        new_rows = np.arange(start, start + len(X))
        self._row_hash = np.concatenate([self._row_hash, _row_hashes(X, ids)])
        labels = self._appended(y)
        X_all = np.concatenate([store.X, X])
        main, *rest = self._segments
        small = new_rows
        if rest:  # the rows of the small index are re-indexed with the new ones
            old = rest[0].rows
            small = np.concatenate([old[store.alive[old]], new_rows])
        if len(small) > self.compact_threshold * main.n_live:
            live = np.concatenate([main.rows[store.alive[main.rows]], small])
            self._segments = (self._build(X_all, live),)
        else:
            self._segments = (main, self._build(X_all, small))
        self._refresh(np.concatenate([store.retained(), new_rows]), labels)

    def _forget_features(self, cols: np.ndarray) -> Change:
        store = self._store
        X = np.delete(store.X, cols, axis=1)
        self._row_hash = _row_hashes(X, store.ids)
        kept = store.retained()
        self._segments = (self._build(X, kept),)
        self._refresh(kept)
        return Change(1.0, {"features_removed": len(cols), "rows_reindexed": len(kept)})

    # -- targets (regression here; the classifier overrides) --------------------------------
    def _init_targets(self, y: np.ndarray) -> None:
        """Validate the targets of ``fit`` and set the target attributes."""

    def _labels(self) -> np.ndarray:
        """The target of every stored row, as the digest hashes it."""
        assert self._store.y is not None
        return np.asarray(self._store.y, dtype=np.float64)

    def _appended(self, y: np.ndarray) -> np.ndarray:
        """Targets of the stored rows followed by ``y`` (``partial_fit``)."""
        return np.concatenate([self._labels(), np.asarray(y, dtype=np.float64)])

    def _relabeled(self, rows: np.ndarray, new_y: np.ndarray) -> np.ndarray:
        """Targets of the stored rows with ``rows`` given ``new_y``."""
        labels = self._labels().copy()
        labels[rows] = np.asarray(new_y, dtype=np.float64).reshape(labels[rows].shape)
        return labels

    def _drop_rows(self, kept: np.ndarray) -> None:
        """Update the target attributes when only ``kept`` remain."""

    def _refresh(self, kept: np.ndarray, labels: np.ndarray | None = None) -> None:
        """Set ``n_samples_fit_`` and the digest of the retained rows ``kept``."""
        self.n_samples_fit_ = len(kept)
        h = hashlib.sha256()
        h.update(self._row_hash[kept].tobytes())
        values = (self._labels() if labels is None else labels)[kept]
        h.update(np.ascontiguousarray(values).tobytes())
        self._digest = h.hexdigest()


@register_method("knn_classifier", task="classification")
class KNeighborsClassifierUnlearner(ClassifierMixin, _KNeighborsUnlearner):
    """k-nearest-neighbour classification with exact removal of training rows from its index.

    After ``unlearn`` the model predicts exactly as
    :class:`sklearn.neighbors.KNeighborsClassifier` fitted on the retained rows. Forgotten rows
    are tombstoned in the search index and stepped over at query time; the index is rebuilt
    only when more than ``compact_threshold`` of its rows are dead, so most requests redo no
    training work (``retrained_fraction`` 0). Neighbours at equal distance are ranked by
    training order (the earlier row wins), so that equality with a retrain holds on data with
    duplicate points too; voting ties go to the smallest class, as in scikit-learn. Supports
    ``items``, ``group``, ``classes``, ``relabel`` and ``features`` requests and
    ``partial_fit``.

    Parameters
    ----------
    n_neighbors : int, default=5
        Number of neighbours that vote.
    weights : {"uniform", "distance"} or callable, default="uniform"
        Vote weights, as in scikit-learn (``"distance"``: inverse distance; a neighbour at
        distance zero outvotes all others).
    algorithm : {"auto", "ball_tree", "kd_tree", "brute"}, default="auto"
        Search structure of the index; it affects speed only, never the neighbours found.
    leaf_size : int, default=30
        Leaf size of the tree indexes.
    p : float, default=2
        Order of the Minkowski metric (``p >= 1``; 1 is Manhattan, 2 Euclidean).
    metric : str, default="minkowski"
        One of "minkowski", "euclidean", "l2", "manhattan", "cityblock", "l1", "chebyshev",
        "infinity".
    compact_threshold : float in [0, 1], default=0.25
        Rebuild an index when more than this share of its rows are forgotten (0 rebuilds on
        every request). Higher values mean fewer rebuilds and slower queries.
    n_jobs : int, default=None
        Parallel jobs of the index search.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    effective_metric_ : str
    effective_metric_params_ : dict
    n_samples_fit_ : int
        Number of retained training rows.
    outputs_2d_ : bool
        Always False (one label per row).
    n_features_in_ : int
    feature_names_in_ : ndarray of str, present when fitted on a DataFrame

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.neighbors import KNeighborsClassifier
    >>> from unlearnkit.exact import KNeighborsClassifierUnlearner
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(300, 4)), rng.integers(0, 3, size=300)
    >>> model = KNeighborsClassifierUnlearner(n_neighbors=5).fit(X, y)
    >>> result = model.unlearn(list(range(20)))
    >>> result.retrained_fraction
    0.0
    >>> reference = KNeighborsClassifier(n_neighbors=5).fit(X[20:], y[20:])
    >>> bool(np.array_equal(model.predict(X), reference.predict(X)))
    True
    """

    supported_requests: ClassVar[frozenset[RequestKind]] = frozenset(
        {"items", "group", "classes", "features", "relabel"}
    )
    check_data_kind = "classification"

    _codes: np.ndarray

    def predict(self, X: Any) -> np.ndarray:
        """Majority (or weighted) class of the nearest retained rows of every row of ``X``."""
        votes = self._votes(self._check_X(X))
        return np.asarray(self.classes_[np.argmax(votes, axis=1)])

    def predict_proba(self, X: Any) -> np.ndarray:
        """Share of the (weighted) neighbour votes for every class, classes in ``classes_``."""
        votes = self._votes(self._check_X(X))
        normalizer = votes.sum(axis=1)[:, np.newaxis]
        normalizer[normalizer == 0.0] = 1.0
        return votes / normalizer

    def _votes(self, Xq: np.ndarray) -> np.ndarray:
        dist, pos = self._neighbors(Xq, int(self.n_neighbors))
        codes = self._codes[pos]
        w = self._weights(dist)
        if w is None:
            w = np.ones(pos.shape)
        votes = np.zeros((len(Xq), len(self.classes_)))
        rows = np.arange(len(Xq))
        for i in range(pos.shape[1]):  # neighbour by neighbour, as scikit-learn sums them
            votes[rows, codes[:, i]] += w[:, i]
        return votes

    def _init_targets(self, y: np.ndarray) -> None:
        try:
            check_classification_targets(y)
        except ValueError as exc:
            raise DataValidationError(f"{exc} Pass class labels as y.") from None
        self.classes_, codes = np.unique(y, return_inverse=True)
        self._codes = codes.astype(np.intp).reshape(-1)
        self.outputs_2d_ = False

    def _labels(self) -> np.ndarray:
        return self._codes

    def _encode(self, y: np.ndarray) -> np.ndarray:
        lookup = {label: code for code, label in enumerate(self.classes_.tolist())}
        return np.fromiter((lookup[v] for v in np.asarray(y).tolist()), np.intp, count=len(y))

    def _appended(self, y: np.ndarray) -> np.ndarray:
        self._codes = np.concatenate([self._codes, self._encode(y)])
        return self._codes

    def _relabeled(self, rows: np.ndarray, new_y: np.ndarray) -> np.ndarray:
        codes = self._codes.copy()
        codes[rows] = self._encode(new_y)
        self._codes = codes
        return codes

    def _drop_rows(self, kept: np.ndarray) -> None:
        present = np.bincount(self._codes[kept], minlength=len(self.classes_)) > 0
        if not present.all():  # a ``classes`` request: the class leaves the model
            remap = np.cumsum(present) - 1
            self.classes_ = self.classes_[present]
            self._codes = remap[self._codes]


@register_method("knn_regressor", task="regression")
class KNeighborsRegressorUnlearner(MultiOutputMixin, RegressorMixin, _KNeighborsUnlearner):
    """k-nearest-neighbour regression with exact removal of training rows from its index.

    After ``unlearn`` the model predicts exactly as
    :class:`sklearn.neighbors.KNeighborsRegressor` fitted on the retained rows: forgotten rows
    are tombstoned in the search index and the index is rebuilt only when more than
    ``compact_threshold`` of its rows are dead. Neighbours at equal distance are ranked by
    training order (the earlier row wins). Supports ``items``, ``group``, ``relabel`` and
    ``features`` requests, multi-output targets and ``partial_fit``.

    Parameters
    ----------
    n_neighbors : int, default=5
        Number of neighbours averaged.
    weights : {"uniform", "distance"} or callable, default="uniform"
        Averaging weights, as in scikit-learn.
    algorithm : {"auto", "ball_tree", "kd_tree", "brute"}, default="auto"
        Search structure of the index; it affects speed only, never the neighbours found.
    leaf_size : int, default=30
        Leaf size of the tree indexes.
    p : float, default=2
        Order of the Minkowski metric (``p >= 1``).
    metric : str, default="minkowski"
        One of "minkowski", "euclidean", "l2", "manhattan", "cityblock", "l1", "chebyshev",
        "infinity".
    compact_threshold : float in [0, 1], default=0.25
        Rebuild an index when more than this share of its rows are forgotten.
    n_jobs : int, default=None
        Parallel jobs of the index search.

    Attributes
    ----------
    effective_metric_ : str
    effective_metric_params_ : dict
    n_samples_fit_ : int
        Number of retained training rows.
    n_features_in_ : int
    feature_names_in_ : ndarray of str, present when fitted on a DataFrame

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.neighbors import KNeighborsRegressor
    >>> from unlearnkit.exact import KNeighborsRegressorUnlearner
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 3)); y = X.sum(axis=1)
    >>> model = KNeighborsRegressorUnlearner(n_neighbors=4, weights="distance").fit(X, y)
    >>> _ = model.unlearn([5, 6, 7])
    >>> keep = np.setdiff1d(np.arange(300), [5, 6, 7])
    >>> reference = KNeighborsRegressor(n_neighbors=4, weights="distance").fit(X[keep], y[keep])
    >>> bool(np.allclose(model.predict(X), reference.predict(X)))
    True
    """

    supported_requests: ClassVar[frozenset[RequestKind]] = frozenset(
        {"items", "group", "features", "relabel"}
    )
    check_data_kind = "regression"

    def predict(self, X: Any) -> np.ndarray:
        """Mean (or weighted mean) target of the nearest retained rows of every row of ``X``."""
        dist, pos = self._neighbors(self._check_X(X), int(self.n_neighbors))
        assert self._store.y is not None
        y = self._store.y
        Y = y[pos] if y.ndim == 2 else y[pos][:, :, np.newaxis]
        w = self._weights(dist)
        if w is None:
            pred = np.mean(Y, axis=1)
        else:
            denom = np.sum(w, axis=1)
            pred = np.empty((len(pos), Y.shape[2]))
            for j in range(Y.shape[2]):
                pred[:, j] = np.sum(Y[:, :, j] * w, axis=1) / denom
        return np.asarray(pred.ravel() if y.ndim == 1 else pred)
