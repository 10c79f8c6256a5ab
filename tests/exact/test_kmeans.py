from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score

from unlearnkit._hashing import stable_id_hash
from unlearnkit.checks import assert_same_model, check_unlearner, make_check_data
from unlearnkit.errors import (
    DataValidationError,
    InvalidParameterError,
    InvalidRequestError,
    UnsupportedRequestError,
)
from unlearnkit.exact import KMeansUnlearner
from unlearnkit.registry import methods
from unlearnkit.requests import ForgetRequest


def blobs(rng, n, d=3, centers=4, spread=0.6, scale=6.0):
    where = rng.normal(scale=scale, size=(centers, d))
    truth = rng.integers(0, centers, size=n)
    return where[truth] + rng.normal(scale=spread, size=(n, d)), truth


def retrain(model, X, ids, keep):
    return clone(model).fit(X[keep], sample_ids=ids[keep])


# -- the public checks ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "estimator",
    [
        KMeansUnlearner(),
        KMeansUnlearner(n_clusters=3, n_leaves=4),
        KMeansUnlearner(n_clusters=3, n_leaves=1),
        KMeansUnlearner(n_clusters=2, n_leaves=3, n_init=3, random_state=7),
        KMeansUnlearner(n_clusters=5, n_leaves=20, max_iter=5, tol=0.0),
    ],
)
def test_checks_pass(estimator):
    check_unlearner(estimator)


@settings(max_examples=6, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(30, 150),
    d=st.integers(1, 5),
    n_clusters=st.integers(1, 6),
    n_leaves=st.integers(1, 9),
)
def test_checks_pass_on_generated_data(seed, n, d, n_clusters, n_leaves):
    X, _ = blobs(np.random.default_rng(seed), n, d)
    check_unlearner(KMeansUnlearner(n_clusters=n_clusters, n_leaves=n_leaves, random_state=seed), X)


def test_registered_as_clustering():
    info = methods.get("kmeans")
    assert info.cls is KMeansUnlearner
    assert info.task == "clustering"
    assert info.request_kinds == {"items", "group", "features"}
    assert {"n_clusters", "n_leaves", "n_init", "max_iter", "tol", "random_state"} <= set(
        info.params
    )


# -- equality with a retrain ---------------------------------------------------------------
@settings(max_examples=8, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(20, 400),
    n_clusters=st.integers(1, 5),
    n_leaves=st.integers(1, 12),
    n_steps=st.integers(1, 4),
    string_ids=st.booleans(),
)
def test_deleting_equals_refitting_without_the_rows(
    seed, n, n_clusters, n_leaves, n_steps, string_ids
):
    rng = np.random.default_rng(seed)
    X, _ = blobs(rng, n)
    ids = np.array([f"id-{i}" for i in rng.permutation(n)], dtype=object)
    if not string_ids:
        ids = rng.permutation(n) * 3 + 11
    model = KMeansUnlearner(n_clusters=n_clusters, n_leaves=n_leaves, random_state=seed % 1000)
    model.fit(X, sample_ids=ids)
    alive = np.ones(n, dtype=bool)
    for _ in range(n_steps):
        room = int(alive.sum()) - n_clusters
        if room < 1:
            break
        forget = rng.choice(np.flatnonzero(alive), size=rng.integers(1, min(room, 30) + 1))
        forget = np.unique(forget)
        result = model.unlearn(ids[forget].tolist())
        alive[forget] = False
        assert_same_model(model, retrain(model, X, ids, alive), X)
        assert result.changed
        assert 0.0 < result.retrained_fraction <= 1.0


def test_one_leaf_is_plain_sklearn_kmeans():
    rng = np.random.default_rng(0)
    X, _ = blobs(rng, 500, d=4, centers=5)
    model = KMeansUnlearner(n_clusters=5, n_leaves=1, n_init=2, random_state=3).fit(X)
    reference = KMeans(n_clusters=5, n_init=2, random_state=3).fit(X)
    np.testing.assert_allclose(model.cluster_centers_, reference.cluster_centers_, rtol=1e-10)
    np.testing.assert_array_equal(model.labels_, reference.labels_)
    np.testing.assert_allclose(model.inertia_, reference.inertia_, rtol=1e-10)
    assert model.n_iter_ == reference.n_iter_
    result = model.unlearn(list(range(50)))
    assert result.retrained_fraction == 1.0
    reference = KMeans(n_clusters=5, n_init=2, random_state=3).fit(X[50:])
    np.testing.assert_allclose(model.cluster_centers_, reference.cluster_centers_, rtol=1e-10)
    np.testing.assert_allclose(model.inertia_, reference.inertia_, rtol=1e-10)


def test_a_deletion_resolves_only_the_leaves_of_the_deleted_samples():
    rng = np.random.default_rng(1)
    X, _ = blobs(rng, 2000)
    ids = np.arange(2000) + 10**6
    model = KMeansUnlearner(n_clusters=4, n_leaves=16, random_state=0).fit(X, sample_ids=ids)
    leaves = stable_id_hash(ids, 0) % np.uint64(16)
    for forget in ([ids[5]], ids[[7, 8, 9]], ids[100:140]):
        touched = len(np.unique(leaves[np.isin(ids, forget)]))
        result = model.unlearn(list(forget))
        assert result.evidence["leaves_resolved"] == touched
        assert result.evidence["n_leaves"] == 16
        assert result.retrained_fraction < 1.0
    single = model.unlearn([int(ids[500])])
    assert single.evidence["rows_reclustered"] < 2 * 2000 / 16
    keep = ~np.isin(ids, [ids[5], *ids[[7, 8, 9]], *ids[100:140], ids[500]])
    assert_same_model(model, retrain(model, X, ids, keep), X)


def test_leaves_follow_sample_ids_not_row_positions():
    rng = np.random.default_rng(2)
    X, _ = blobs(rng, 300)
    ids = np.arange(300)
    order = rng.permutation(300)
    a = KMeansUnlearner(n_clusters=3, n_leaves=5).fit(X, sample_ids=ids)
    b = KMeansUnlearner(n_clusters=3, n_leaves=5).fit(X[order], sample_ids=ids[order])
    # the same id lands in the same leaf wherever its row is
    a_leaf = dict(zip(ids.tolist(), a._leaf_of_row.tolist(), strict=True))
    b_leaf = dict(zip(ids[order].tolist(), b._leaf_of_row.tolist(), strict=True))
    assert a_leaf == b_leaf
    # and the leaves change with random_state
    c = KMeansUnlearner(n_clusters=3, n_leaves=5, random_state=1).fit(X, sample_ids=ids)
    assert not np.array_equal(a._leaf_of_row, c._leaf_of_row)


def test_random_state_none_draws_a_seed_that_unlearning_keeps():
    rng = np.random.default_rng(3)
    X, _ = blobs(rng, 400)
    model = KMeansUnlearner(n_clusters=3, n_leaves=4, random_state=None).fit(X)
    model.unlearn(list(range(40)))
    reference = KMeansUnlearner(n_clusters=3, n_leaves=4, random_state=model._seed)
    reference.fit(X[40:], sample_ids=np.arange(40, 400))
    assert_same_model(model, reference, X)


# -- behaviour as scikit-learn's KMeans ----------------------------------------------------
def test_predict_transform_score_and_fit_predict():
    rng = np.random.default_rng(4)
    X, truth = blobs(rng, 600, d=2, centers=3, spread=0.3, scale=10.0)
    model = KMeansUnlearner(n_clusters=3, n_leaves=6, random_state=0)
    labels = model.fit_predict(X)
    np.testing.assert_array_equal(labels, model.labels_)
    np.testing.assert_array_equal(model.predict(X), model.labels_)
    assert adjusted_rand_score(truth, labels) == 1.0  # well-separated blobs are recovered
    distances = model.transform(X)
    assert distances.shape == (600, 3)
    np.testing.assert_array_equal(np.argmin(distances, axis=1), labels)
    np.testing.assert_allclose(model.score(X), -model.inertia_, rtol=1e-12)
    np.testing.assert_allclose(model.inertia_, np.sum(np.min(distances, axis=1) ** 2), rtol=1e-9)
    assert model.get_feature_names_out().tolist() == [
        "kmeansunlearner0",
        "kmeansunlearner1",
        "kmeansunlearner2",
    ]


def test_inertia_stays_close_to_plain_kmeans_on_clustered_data():
    rng = np.random.default_rng(5)
    X, _ = blobs(rng, 4000, d=5, centers=6, spread=1.0, scale=5.0)
    dc = KMeansUnlearner(n_clusters=6, n_leaves=16, random_state=0).fit(X)
    plain = KMeans(n_clusters=6, n_init=1, random_state=0).fit(X)
    best = min(plain.inertia_, dc.inertia_)
    # the root sees leaf centroids only: the quality cost is small but the test allows 10%
    assert dc.inertia_ <= 1.1 * best


# -- other requests, partial_fit -----------------------------------------------------------
def test_group_and_feature_requests_match_a_retrain():
    rng = np.random.default_rng(6)
    X, _ = blobs(rng, 500, d=3)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    model = KMeansUnlearner(n_clusters=4, n_leaves=5).fit(frame)
    model.unlearn(ForgetRequest.group(lambda t: (t["a"] > 2.0).to_numpy()))
    keep = X[:, 0] <= 2.0
    reference = KMeansUnlearner(n_clusters=4, n_leaves=5)
    reference.fit(frame[keep], sample_ids=np.flatnonzero(keep))
    assert_same_model(model, reference, frame)
    result = model.unlearn(ForgetRequest.features(["b"]))
    assert result.retrained_fraction == 1.0
    reduced = frame.drop(columns=["b"])
    reference = KMeansUnlearner(n_clusters=4, n_leaves=5)
    reference.fit(reduced[keep], sample_ids=np.flatnonzero(keep))
    assert_same_model(model, reference, reduced)
    assert list(model.feature_names_in_) == ["a", "c"]


def test_partial_fit_equals_fitting_everything_at_once():
    rng = np.random.default_rng(7)
    X, _ = blobs(rng, 900)
    model = KMeansUnlearner(n_clusters=4, n_leaves=6, random_state=2)
    model.partial_fit(X[:500])
    model.unlearn(list(range(0, 500, 9)))
    model.partial_fit(X[500:700])
    model.partial_fit(X[700:], sample_ids=np.arange(700, 900))
    model.unlearn([701, 3])
    alive = np.ones(900, dtype=bool)
    alive[[*range(0, 500, 9), 701, 3]] = False
    reference = KMeansUnlearner(n_clusters=4, n_leaves=6, random_state=2)
    reference.fit(X[alive], sample_ids=np.flatnonzero(alive))
    assert_same_model(model, reference, X)


def test_partial_fit_with_string_ids_continues_with_string_ids():
    rng = np.random.default_rng(8)
    X, _ = blobs(rng, 200)
    ids = np.array([f"u{i}" for i in range(200)], dtype=object)
    model = KMeansUnlearner(n_clusters=3, n_leaves=4).fit(X[:150], sample_ids=ids[:150])
    with pytest.raises(DataValidationError, match="string sample ids"):
        model.partial_fit(X[150:])
    model.partial_fit(X[150:], sample_ids=ids[150:])
    assert_same_model(model, KMeansUnlearner(n_clusters=3, n_leaves=4).fit(X, sample_ids=ids), X)


# -- persistence and errors ----------------------------------------------------------------
def test_save_and_load_then_keep_unlearning(tmp_path):
    rng = np.random.default_rng(9)
    X, _ = blobs(rng, 400)
    model = KMeansUnlearner(n_clusters=3, n_leaves=4).fit(X)
    model.unlearn([1, 2, 3])
    loaded = KMeansUnlearner.load(model.save(tmp_path / "kmeans.ukit"))
    assert loaded.fingerprint() == model.fingerprint()
    loaded.unlearn([10, 11])
    keep = np.ones(400, dtype=bool)
    keep[[1, 2, 3, 10, 11]] = False
    assert_same_model(loaded, retrain(loaded, X, np.arange(400), keep), X)


def test_too_few_samples_for_the_clusters_are_refused():
    X, _ = make_check_data("clustering", n=12)
    with pytest.raises(DataValidationError, match="n_samples=12 should be >= n_clusters=20"):
        KMeansUnlearner(n_clusters=20).fit(X)
    model = KMeansUnlearner(n_clusters=10, n_leaves=2).fit(X)
    before = model.fingerprint()
    with pytest.raises(InvalidRequestError, match="fewer than n_clusters=10"):
        model.unlearn([0, 1, 2])
    assert model.fingerprint() == before
    assert model.n_samples_ == 12
    model.unlearn([0, 1])  # exactly n_clusters samples remain
    assert model.inertia_ == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize(
    "params",
    [{"n_clusters": 0}, {"n_leaves": 0}, {"n_init": "many"}, {"tol": -1.0}, {"max_iter": 0}],
)
def test_invalid_parameters_are_named(params):
    X, _ = make_check_data("clustering")
    with pytest.raises(InvalidParameterError, match=next(iter(params))):
        KMeansUnlearner(**params).fit(X)


def test_unsupported_requests_and_weights_are_refused():
    X, _ = make_check_data("clustering")
    model = KMeansUnlearner(n_clusters=3).fit(X)
    with pytest.raises(UnsupportedRequestError, match="'classes'"):
        model.unlearn(ForgetRequest.classes([0]))
    with pytest.raises(DataValidationError, match="sample_weight"):
        model.partial_fit(X[:2], sample_weight=[1.0, 2.0])
    with pytest.raises(DataValidationError, match="not a classifier"):
        model.partial_fit(X[:2], None, [0, 1])
    assert model.n_samples_ == len(X)


def test_fewer_distinct_points_than_clusters_warns_as_sklearn_and_stays_exact():
    X = np.ones((100, 2))
    X[:3] += 1.0
    with pytest.warns(ConvergenceWarning, match="distinct clusters"):
        model = KMeansUnlearner(n_clusters=3, n_leaves=2).fit(X)
    with pytest.warns(ConvergenceWarning, match="distinct clusters"):
        model.unlearn([0, 1])
    reference = KMeansUnlearner(n_clusters=3, n_leaves=2)
    with pytest.warns(ConvergenceWarning, match="distinct clusters"):
        reference.fit(X[2:], sample_ids=range(2, 100))
    assert_same_model(model, reference, X)
    assert model.inertia_ == 0.0
