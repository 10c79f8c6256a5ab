from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

from unlearnkit.checks import assert_same_model, check_unlearner, make_check_data
from unlearnkit.errors import (
    DataValidationError,
    EmptiesClassError,
    InvalidParameterError,
    UnknownIdError,
)
from unlearnkit.exact import KNeighborsClassifierUnlearner, KNeighborsRegressorUnlearner
from unlearnkit.registry import methods
from unlearnkit.requests import ForgetRequest

CONFIGS = [
    {},
    {"weights": "distance"},
    {"metric": "manhattan", "algorithm": "ball_tree"},
    {"p": 3, "algorithm": "brute"},
    {"metric": "chebyshev", "algorithm": "kd_tree", "n_neighbors": 3},
    {"compact_threshold": 0.0},
    {"compact_threshold": 1.0, "weights": "distance"},
]


def sk_params(model):
    """The scikit-learn parameters of an unlearner, with a tree search (exact distances)."""
    params = model.get_params()
    params.pop("compact_threshold")
    params["algorithm"] = "kd_tree"
    return params


def grid_data(rng, n, d=2, levels=3, n_classes=3):
    """Points on a small integer grid: many duplicates and equal distances."""
    X = rng.integers(0, levels, size=(n, d)).astype(float)
    y = rng.permutation(np.arange(n) % n_classes)
    return X, y


def grid_queries(rng, n, d=2, levels=3):
    return rng.integers(0, levels, size=(n, d)) + rng.choice([0.0, 0.5], size=(n, d))


def dup_data(rng, n, d=2, n_distinct=60, n_classes=3):
    """Random points, each repeated several times: equal distances from every query."""
    base = rng.normal(size=(n_distinct, d))
    X = base[rng.integers(0, n_distinct, size=n)]
    y = rng.permutation(np.arange(n) % n_classes)
    return X, y


def dup_queries(rng, X, n):
    """Half training points (distance-zero ties), half fresh points."""
    return np.concatenate(
        [X[rng.integers(0, len(X), n // 2)], rng.normal(size=(n - n // 2, X.shape[1]))]
    )


def untied(model, Q, k):
    """Queries whose k-th and (k+1)-th nearest retained rows lie at different distances.

    Only there is the set of k nearest rows unique; where rows tie at the k-th distance,
    scikit-learn keeps whichever its search visits first, which is no documented rule.
    """
    if k >= model.n_samples_fit_:
        return np.ones(len(Q), dtype=bool)
    dist = model.kneighbors(Q, n_neighbors=k + 1)[0]
    return dist[:, k] > dist[:, k - 1]


def assert_matches_sklearn(model, reference, Q, require_untied=True):
    """Same neighbour distances as a scikit-learn model; the same neighbours, predictions
    and probabilities wherever the k nearest rows are unique."""
    k = model.n_neighbors
    dist, ind = model.kneighbors(Q)
    ref_dist, ref_ind = reference.kneighbors(Q)
    np.testing.assert_allclose(dist, ref_dist, rtol=1e-9, atol=1e-9)
    unique = untied(model, Q, k)
    assert unique.any() or not require_untied
    np.testing.assert_array_equal(np.sort(ind[unique], axis=1), np.sort(ref_ind[unique], axis=1))
    pred, ref_pred = model.predict(Q)[unique], reference.predict(Q)[unique]
    if pred.dtype.kind == "f":  # regression: sums taken in another order
        np.testing.assert_allclose(pred, ref_pred, rtol=1e-12, atol=1e-12)
    else:
        np.testing.assert_array_equal(pred, ref_pred)
    if hasattr(reference, "predict_proba"):
        np.testing.assert_allclose(
            model.predict_proba(Q)[unique], reference.predict_proba(Q)[unique]
        )


# -- the public checks ---------------------------------------------------------------------
@pytest.mark.parametrize("params", CONFIGS)
@pytest.mark.parametrize("cls", [KNeighborsClassifierUnlearner, KNeighborsRegressorUnlearner])
def test_checks_pass(cls, params):
    check_unlearner(cls(**params))


@settings(max_examples=10, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(40, 120),
    d=st.integers(1, 4),
    levels=st.integers(4, 7),
    k=st.integers(1, 6),
    weights=st.sampled_from(["uniform", "distance"]),
)
def test_checks_pass_on_generated_tied_data(seed, n, d, levels, k, weights):
    rng = np.random.default_rng(seed)
    X, y = grid_data(rng, n, d, levels)
    threshold = np.quantile(X[:, 0], 0.1)
    # the group step of the checks forgets x0 <= its 10% quantile: every class must survive it
    assume(all(np.sum((y == c) & (X[:, 0] > threshold)) >= 3 for c in range(3)))
    check_unlearner(KNeighborsClassifierUnlearner(n_neighbors=k, weights=weights), X, y)
    check_unlearner(
        KNeighborsRegressorUnlearner(n_neighbors=k, weights=weights), X, X @ np.arange(1.0, d + 1)
    )


def test_registered_with_their_request_kinds():
    clf, reg = methods.get("knn_classifier"), methods.get("knn_regressor")
    assert clf.cls is KNeighborsClassifierUnlearner
    assert reg.cls is KNeighborsRegressorUnlearner
    assert clf.task == "classification"
    assert reg.task == "regression"
    assert clf.request_kinds == {"items", "group", "classes", "features", "relabel"}
    assert reg.request_kinds == {"items", "group", "features", "relabel"}
    assert "compact_threshold" in clf.params


# -- equality with scikit-learn refits -----------------------------------------------------
@pytest.mark.parametrize("params", CONFIGS)
def test_classifier_matches_sklearn_and_a_retrain_on_tied_data(params):
    rng = np.random.default_rng(1)
    X, y = dup_data(rng, 400)
    Q = dup_queries(rng, X, 120)
    model = KNeighborsClassifierUnlearner(**{"n_neighbors": 7, **params}).fit(X, y)
    gone = np.zeros(len(X), dtype=bool)
    for _ in range(4):
        forget = rng.choice(np.flatnonzero(~gone), size=40, replace=False)
        model.unlearn(forget.tolist())
        gone[forget] = True
        reference = KNeighborsClassifier(**sk_params(model)).fit(X[~gone], y[~gone])
        assert_matches_sklearn(model, reference, Q)
        retrained = clone(model).fit(X[~gone], y[~gone], sample_ids=np.flatnonzero(~gone))
        assert_same_model(model, retrained, Q)
        assert model.n_samples_fit_ == reference.n_samples_fit_
        np.testing.assert_array_equal(model.classes_, reference.classes_)
        assert model.effective_metric_ == reference.effective_metric_
        assert model.effective_metric_params_ == reference.effective_metric_params_
        assert model.outputs_2d_ == reference.outputs_2d_


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(10, 80),
    levels=st.integers(2, 5),
    k=st.integers(1, 9),
    weights=st.sampled_from(["uniform", "distance"]),
    metric=st.sampled_from(["euclidean", "manhattan", "chebyshev"]),
    threshold=st.sampled_from([0.0, 0.3, 1.0]),
)
def test_regressor_matches_sklearn_on_generated_tied_data(
    seed, n, levels, k, weights, metric, threshold
):
    rng = np.random.default_rng(seed)
    X, _ = grid_data(rng, n, 2, levels)
    y = rng.normal(size=n)
    forget = rng.choice(n, size=rng.integers(1, n - k + 1), replace=False)
    keep = np.setdiff1d(np.arange(n), forget)
    model = KNeighborsRegressorUnlearner(
        n_neighbors=k, weights=weights, metric=metric, compact_threshold=threshold
    ).fit(X, y)
    model.unlearn(forget.tolist())
    reference = KNeighborsRegressor(**sk_params(model)).fit(X[keep], y[keep])
    assert_matches_sklearn(model, reference, grid_queries(rng, 30, 2, levels), False)
    assert_same_model(model, clone(model).fit(X[keep], y[keep], sample_ids=keep), X)


def test_continuous_data_matches_tree_based_sklearn():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(3000, 6)) * [1, 10, 100, 0.1, 1, 1] + 50.0
    Y = rng.normal(size=(3000, 2))
    model = KNeighborsRegressorUnlearner(n_neighbors=5, weights="distance").fit(X, Y)
    gone = np.zeros(len(X), dtype=bool)
    for _ in range(8):
        forget = rng.choice(np.flatnonzero(~gone), size=150, replace=False)
        model.unlearn(forget.tolist())
        gone[forget] = True
    reference = KNeighborsRegressor(n_neighbors=5, weights="distance").fit(X[~gone], Y[~gone])
    np.testing.assert_allclose(model.predict(X), reference.predict(X), rtol=1e-10)
    assert model.predict(X).shape == (3000, 2)


def test_kneighbors_of_the_training_rows_skip_each_row_itself():
    rng = np.random.default_rng(3)
    X, y = dup_data(rng, 150, n_distinct=80)
    model = KNeighborsClassifierUnlearner(n_neighbors=4).fit(X, y)
    model.unlearn(list(range(0, 150, 5)))
    keep = np.arange(150) % 5 != 0
    reference = KNeighborsClassifier(n_neighbors=4, algorithm="kd_tree").fit(X[keep], y[keep])
    dist, ind = model.kneighbors()
    ref_dist, ref_ind = reference.kneighbors()
    np.testing.assert_allclose(dist, ref_dist)
    assert not np.any(ind == np.arange(len(ind))[:, None])  # no row is its own neighbour
    five = model.kneighbors(n_neighbors=5)[0]
    unique = five[:, 4] > five[:, 3]
    np.testing.assert_array_equal(np.sort(ind[unique], 1), np.sort(ref_ind[unique], 1))
    # the same rows, each its own nearest neighbour, when passed explicitly
    np.testing.assert_array_equal(model.kneighbors(X[keep], 1)[0], np.zeros((120, 1)))


def test_ties_go_to_the_earlier_training_row():
    X = np.array([[1.0], [-1.0], [1.0], [-1.0]])
    y = np.array(["a", "b", "c", "d"])
    model = KNeighborsClassifierUnlearner(n_neighbors=1).fit(X, y)
    # every training point is at distance 1 from the origin: the first row wins
    assert model.predict([[0.0]]).tolist() == ["a"]
    model.unlearn(ForgetRequest.classes(["a"]))
    assert model.predict([[0.0]]).tolist() == ["b"]
    assert model.classes_.tolist() == ["b", "c", "d"]
    assert model.predict_proba([[0.0]]).tolist() == [[1.0, 0.0, 0.0]]


def test_voting_ties_go_to_the_smallest_class():
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    model = KNeighborsClassifierUnlearner(n_neighbors=2).fit(X, [2, 1, 1, 2])
    assert model.predict([[0.4]]).tolist() == [1]
    np.testing.assert_allclose(model.predict_proba([[0.4]]), [[0.5, 0.5]])


def test_a_zero_distance_neighbour_outvotes_the_others_with_distance_weights():
    X = np.array([[0.0], [0.0], [1.0], [1.0], [1.0]])
    model = KNeighborsClassifierUnlearner(n_neighbors=5, weights="distance")
    model.fit(X, [0, 0, 1, 1, 1])
    np.testing.assert_allclose(model.predict_proba([[0.0]]), [[1.0, 0.0]])


def test_callable_weights_as_in_sklearn():
    rng = np.random.default_rng(4)
    X, y = rng.normal(size=(200, 3)), rng.integers(0, 3, size=200)

    def gaussian(dist):
        return np.exp(-(dist**2))

    model = KNeighborsClassifierUnlearner(n_neighbors=6, weights=gaussian).fit(X, y)
    model.unlearn(list(range(30)))
    reference = KNeighborsClassifier(n_neighbors=6, weights=gaussian).fit(X[30:], y[30:])
    np.testing.assert_allclose(model.predict_proba(X), reference.predict_proba(X))


# -- the index: tombstones and compaction --------------------------------------------------
def test_forgetting_only_tombstones_until_the_threshold_then_reindexes():
    rng = np.random.default_rng(5)
    X, y = rng.normal(size=(1000, 4)), rng.normal(size=1000)
    model = KNeighborsRegressorUnlearner(compact_threshold=0.1).fit(X, y)
    fractions = []
    for start in range(0, 300, 30):
        result = model.unlearn(list(range(start, start + 30)))
        fractions.append(result.retrained_fraction)
        if result.retrained_fraction == 0.0:
            assert result.evidence == {"rows_tombstoned": 30, "rows_reindexed": 0}
        else:
            assert result.retrained_fraction == 1.0
            assert result.evidence["rows_reindexed"] == model.n_samples_fit_
        reference = KNeighborsRegressor().fit(X[start + 30 :], y[start + 30 :])
        np.testing.assert_allclose(model.predict(X[:50]), reference.predict(X[:50]))
    # 1000 rows, 10% threshold: rebuilt after the 4th batch (120 dead > 100), then after the
    # 8th (4 x 30 = 120 dead of 880 > 88)
    assert fractions == [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0]


def test_zero_threshold_rebuilds_on_every_request():
    X, y = make_check_data("classification")
    model = KNeighborsClassifierUnlearner(compact_threshold=0.0).fit(X, y)
    assert model.unlearn([1]).retrained_fraction == 1.0


def test_a_crowd_of_forgotten_duplicates_around_the_query_is_stepped_over():
    # 300 copies of one point, all forgotten; the live rows are farther away
    rng = np.random.default_rng(6)
    X = np.concatenate([np.zeros((300, 2)), rng.normal(3.0, 1.0, size=(100, 2))])
    y = np.arange(400) % 4
    model = KNeighborsClassifierUnlearner(n_neighbors=5, compact_threshold=1.0).fit(X, y)
    result = model.unlearn(list(range(300)))
    assert result.retrained_fraction == 0.0
    reference = KNeighborsClassifier(n_neighbors=5, algorithm="kd_tree").fit(X[300:], y[300:])
    assert_matches_sklearn(model, reference, np.zeros((3, 2)))


def test_fingerprint_equals_a_retrain_and_tracks_the_retained_rows():
    X, y = make_check_data("classification")
    ids = np.arange(len(X)) + 100
    model = KNeighborsClassifierUnlearner().fit(X, y, sample_ids=ids)
    before = model.fingerprint()
    result = model.unlearn([100, 101])
    assert result.fingerprint_before == before != result.fingerprint_after
    retrained = KNeighborsClassifierUnlearner().fit(X[2:], y[2:], sample_ids=ids[2:])
    assert model.fingerprint() == retrained.fingerprint()
    other = KNeighborsClassifierUnlearner().fit(X[2:], y[2:], sample_ids=ids[2:] + 1000)
    assert other.fingerprint() != retrained.fingerprint()  # ids are part of the state


# -- other request kinds -------------------------------------------------------------------
def test_relabel_changes_votes_without_reindexing():
    X = np.array([[0.0], [0.1], [0.2], [5.0], [5.1], [9.0]])
    y = np.array([0, 0, 1, 1, 1, 0])
    model = KNeighborsClassifierUnlearner(n_neighbors=3).fit(X, y)
    assert model.predict([[0.05]]).tolist() == [0]
    result = model.unlearn(ForgetRequest.relabel({0: 1, 1: 1}, reason="poison"))
    assert result.retrained_fraction == 0.0
    assert result.changed
    assert result.relabeled_ids == (0, 1)
    assert model.predict([[0.05]]).tolist() == [1]
    retrained = KNeighborsClassifierUnlearner(n_neighbors=3).fit(X, [1, 1, 1, 1, 1, 0])
    assert model.fingerprint() == retrained.fingerprint()
    assert_same_model(model, retrained, X)


def test_features_removal_by_name_recomputes_distances_on_the_rest():
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(rng.normal(size=(200, 3)), columns=["age", "zip", "income"])
    y = rng.integers(0, 2, size=200)
    model = KNeighborsClassifierUnlearner(n_neighbors=5).fit(frame, y)
    result = model.unlearn(ForgetRequest.features(["zip"]))
    assert result.retrained_fraction == 1.0
    reduced = frame.drop(columns=["zip"])
    reference = KNeighborsClassifier(n_neighbors=5).fit(reduced, y)
    np.testing.assert_array_equal(model.predict(reduced), reference.predict(reduced))
    assert list(model.feature_names_in_) == ["age", "income"]
    model.unlearn([3, 4])
    keep = np.setdiff1d(np.arange(200), [3, 4])
    reference = KNeighborsClassifier(n_neighbors=5).fit(reduced.iloc[keep], y[keep])
    np.testing.assert_allclose(model.predict_proba(reduced), reference.predict_proba(reduced))


def test_a_sequence_of_mixed_requests_matches_a_retrain_at_every_step():
    rng = np.random.default_rng(8)
    X, y = dup_data(rng, 300, d=3, n_distinct=100, n_classes=4)
    X[:, 0] = np.round(X[:, 0])  # a column with few values for the group request
    ids = np.array([f"s{i:03d}" for i in range(300)], dtype=object)
    model = KNeighborsClassifierUnlearner(n_neighbors=6, compact_threshold=0.2).fit(
        X, y, sample_ids=ids
    )
    labels, columns, alive = y.copy(), [0, 1, 2], np.ones(300, dtype=bool)

    def agree():
        retrained = KNeighborsClassifierUnlearner(n_neighbors=6).fit(
            X[alive][:, columns], labels[alive], sample_ids=ids[alive]
        )
        assert_same_model(model, retrained, X[:, columns])
        reference = KNeighborsClassifier(n_neighbors=6, algorithm="kd_tree")
        reference.fit(X[alive][:, columns], labels[alive])
        assert_matches_sklearn(model, reference, dup_queries(rng, X[:, columns], 40))

    model.unlearn(ids[:25].tolist())
    alive[:25] = False
    agree()
    model.unlearn(ForgetRequest.relabel({"s100": 3, "s101": 3}))
    labels[[100, 101]] = 3
    agree()
    model.unlearn(ForgetRequest.group({"x0": 0.0}))
    alive &= X[:, 0] != 0.0
    agree()
    model.unlearn(ForgetRequest.classes([2]))
    alive &= labels != 2
    agree()
    model.unlearn(ForgetRequest.features([1]))
    columns = [0, 2]
    agree()
    model.unlearn(ids[alive][:30].tolist())
    alive[np.flatnonzero(alive)[:30]] = False
    agree()


# -- partial_fit ---------------------------------------------------------------------------
def test_partial_fit_equals_fitting_everything_at_once():
    rng = np.random.default_rng(9)
    X, y = dup_data(rng, 500, d=2, n_distinct=150)
    model = KNeighborsClassifierUnlearner(n_neighbors=5, compact_threshold=0.3)
    model.partial_fit(X[:300], y[:300])
    model.unlearn(list(range(0, 300, 10)))
    model.partial_fit(X[300:340], y[300:340])  # a small second index
    model.partial_fit(X[340:380], y[340:380], sample_ids=np.arange(340, 380))
    model.unlearn([345, 301, 7])  # forgetting from both indexes
    model.partial_fit(X[380:], y[380:])  # large: everything is merged into one index
    alive = np.ones(500, dtype=bool)
    alive[[*range(0, 300, 10), 345, 301, 7]] = False
    ids = np.flatnonzero(alive)
    retrained = KNeighborsClassifierUnlearner(n_neighbors=5).fit(X[alive], y[alive], sample_ids=ids)
    assert_same_model(model, retrained, X)
    reference = KNeighborsClassifier(n_neighbors=5, algorithm="kd_tree").fit(X[alive], y[alive])
    assert_matches_sklearn(model, reference, dup_queries(rng, X, 50))


def test_partial_fit_refuses_weights_unknown_classes_and_mismatched_classes():
    X, y = make_check_data("classification")
    model = KNeighborsClassifierUnlearner().fit(X, y)
    state = model.fingerprint()
    with pytest.raises(DataValidationError, match="sample_weight"):
        model.partial_fit(X[:3], y[:3], sample_weight=np.ones(3))
    with pytest.raises(DataValidationError, match="not seen in fit"):
        model.partial_fit(X[:3], [0, 1, 7])
    with pytest.raises(DataValidationError, match="differs from the model's classes_"):
        model.partial_fit(X[:3], y[:3], classes=[0, 1])
    assert model.fingerprint() == state
    assert model.n_samples_fit_ == len(X)
    model.partial_fit(X[:3], y[:3], classes=[0, 1, 2])
    assert model.n_samples_fit_ == len(X) + 3


# -- persistence and errors ----------------------------------------------------------------
def test_save_and_load_keep_tombstones_and_the_index(tmp_path):
    rng = np.random.default_rng(10)
    X, y = rng.normal(size=(400, 3)), rng.normal(size=400)
    model = KNeighborsRegressorUnlearner(n_neighbors=4).fit(X, y)
    model.unlearn(list(range(40)))
    loaded = KNeighborsRegressorUnlearner.load(model.save(tmp_path / "knn.ukit"))
    assert loaded.fingerprint() == model.fingerprint()
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    loaded.unlearn(list(range(40, 60)))
    reference = KNeighborsRegressor(n_neighbors=4).fit(X[60:], y[60:])
    np.testing.assert_allclose(loaded.predict(X), reference.predict(X))
    with pytest.raises(UnknownIdError):
        loaded.unlearn([5])  # forgotten before saving


def test_too_few_samples_for_n_neighbors_is_a_typed_error():
    X, y = np.arange(12.0).reshape(6, 2), np.arange(6.0)
    model = KNeighborsRegressorUnlearner(n_neighbors=4).fit(X, y)
    model.unlearn([0, 1, 2])
    with pytest.raises(InvalidParameterError, match="n_neighbors=4 is more than the 3"):
        model.predict(X)
    np.testing.assert_allclose(model.set_params(n_neighbors=3).predict(X[:1]), [4.0])


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"metric": "cosine"}, "metric"),
        ({"p": 0.5}, "p"),
        ({"compact_threshold": 1.5}, "compact_threshold"),
        ({"n_neighbors": 0}, "n_neighbors"),
        ({"weights": "gaussian"}, "weights"),
    ],
)
def test_invalid_parameters_are_named(params, match):
    X, y = make_check_data("classification")
    with pytest.raises(InvalidParameterError, match=match):
        KNeighborsClassifierUnlearner(**params).fit(X, y)


def test_bad_targets_and_bad_weights_are_typed_errors():
    X, y = make_check_data("classification")
    with pytest.raises(DataValidationError, match="Unknown label type"):
        KNeighborsClassifierUnlearner().fit(X, X[:, 0])
    model = KNeighborsClassifierUnlearner(weights=lambda d: d[:, :1]).fit(X, y)
    with pytest.raises(InvalidParameterError, match="one weight per distance"):
        model.predict(X)
    model = KNeighborsClassifierUnlearner(weights=np.zeros_like).fit(X, y)
    with pytest.raises(InvalidParameterError, match="zero weight"):
        model.predict(X)
    with pytest.raises(InvalidParameterError, match="positive integer"):
        KNeighborsClassifierUnlearner().fit(X, y).kneighbors(X, n_neighbors=0)


def test_emptying_a_class_by_items_is_refused_and_changes_nothing():
    X, y = make_check_data("classification")
    model = KNeighborsClassifierUnlearner().fit(X, y)
    state = model.fingerprint()
    with pytest.raises(EmptiesClassError):
        model.unlearn(np.flatnonzero(y == 1).tolist())
    assert model.fingerprint() == state
    np.testing.assert_array_equal(model.predict(X), KNeighborsClassifier().fit(X, y).predict(X))
