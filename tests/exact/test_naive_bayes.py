from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.naive_bayes import BernoulliNB, CategoricalNB, GaussianNB, MultinomialNB

from unlearnkit.checks import check_unlearner
from unlearnkit.errors import (
    DataValidationError,
    EmptiesClassError,
    InvalidParameterError,
    InvalidRequestError,
)
from unlearnkit.exact import (
    BernoulliNBUnlearner,
    CategoricalNBUnlearner,
    GaussianNBUnlearner,
    MultinomialNBUnlearner,
)
from unlearnkit.registry import methods
from unlearnkit.requests import ForgetRequest

RTOL, ATOL = 1e-8, 1e-10

ATTRIBUTES = {
    GaussianNB: ["classes_", "class_count_", "class_prior_", "theta_", "var_", "epsilon_"],
    MultinomialNB: [
        "classes_",
        "class_count_",
        "class_log_prior_",
        "feature_count_",
        "feature_log_prob_",
    ],
    BernoulliNB: [
        "classes_",
        "class_count_",
        "class_log_prior_",
        "feature_count_",
        "feature_log_prob_",
    ],
    CategoricalNB: [
        "classes_",
        "class_count_",
        "class_log_prior_",
        "category_count_",
        "feature_log_prob_",
        "n_categories_",
    ],
}

# (unlearner, scikit-learn estimator, kind of data)
FAMILIES = [
    pytest.param(GaussianNBUnlearner, GaussianNB, "real", id="gaussian"),
    pytest.param(MultinomialNBUnlearner, MultinomialNB, "counts", id="multinomial"),
    pytest.param(BernoulliNBUnlearner, BernoulliNB, "signed", id="bernoulli"),
    pytest.param(CategoricalNBUnlearner, CategoricalNB, "categorical", id="categorical"),
]


def make_data(kind, rng, n, d, n_classes=3):
    """Data of ``kind`` where every class and every category keeps plenty of rows."""
    y = rng.permutation(np.arange(n) % n_classes)
    if kind in ("real", "signed"):
        centers = rng.normal(scale=3.0, size=(n_classes, d))
        X = centers[y] + rng.normal(size=(n, d)) * rng.uniform(0.2, 5.0, size=d)
        return (X + rng.normal(scale=50.0, size=d) if kind == "real" else X), y
    # Column 0 is spread evenly over the classes so that a group on x0 <= its 10% quantile
    # (one of the contract checks) never empties a class.
    if kind == "counts":
        X = rng.poisson(rng.uniform(0.5, 5.0, size=(n_classes, d))[y]).astype(float)
        X[:, 0] = rng.permutation(np.arange(n) % 10)
        return X, y
    if kind == "binary":
        p = rng.uniform(0.1, 0.9, size=(n_classes, d))
        X = (rng.uniform(size=(n, d)) < p[y]).astype(float)
        X[:, 0] = rng.permutation(np.arange(n) % 5 != 0)
        return X, y
    if kind == "categorical":
        cats = rng.integers(2, 6, size=d)
        cats[0] = max(cats[0], 4)
        X = np.column_stack([rng.permutation(np.arange(n) % c) for c in cats])
        return X.astype(float), y
    raise AssertionError(kind)


def assert_matches(model, reference, X_eval):
    """Every fitted attribute and every output of ``model`` equals scikit-learn's."""
    for name in [*ATTRIBUTES[type(reference)], "n_features_in_"]:
        ours, theirs = getattr(model, name), getattr(reference, name)
        if isinstance(theirs, list):
            assert len(ours) == len(theirs), name
            for a, b in zip(ours, theirs, strict=True):
                np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL, err_msg=name)
        elif np.asarray(theirs).dtype.kind in "fc":
            np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL, err_msg=name)
        else:
            np.testing.assert_array_equal(ours, theirs, err_msg=name)
    np.testing.assert_array_equal(model.predict(X_eval), reference.predict(X_eval))
    for method in ("predict_proba", "predict_log_proba", "predict_joint_log_proba"):
        np.testing.assert_allclose(
            getattr(model, method)(X_eval),
            getattr(reference, method)(X_eval),
            rtol=RTOL,
            atol=ATOL,
            err_msg=method,
        )


def refit(estimator_cls, params, X, y, w=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return estimator_cls(**params).fit(X, y, sample_weight=w)


# -- the public contract checks -----------------------------------------------------------------
@pytest.mark.parametrize(
    "estimator",
    [
        GaussianNBUnlearner(),
        GaussianNBUnlearner(var_smoothing=1e-2),
        MultinomialNBUnlearner(),
        MultinomialNBUnlearner(alpha=0.3, fit_prior=False),
        BernoulliNBUnlearner(),
        BernoulliNBUnlearner(alpha=2.0, binarize=None),
        CategoricalNBUnlearner(),
        CategoricalNBUnlearner(alpha=0.5, min_categories=6),
    ],
    ids=repr,
)
def test_checks_pass(estimator):
    check_unlearner(estimator)


@settings(max_examples=20, deadline=None)
@given(
    family=st.sampled_from(
        [
            (GaussianNBUnlearner, "real"),
            (MultinomialNBUnlearner, "counts"),
            (BernoulliNBUnlearner, "binary"),
            (CategoricalNBUnlearner, "categorical"),
        ]
    ),
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(30, 60),
    d=st.integers(2, 5),
)
def test_checks_pass_on_generated_data(family, seed, n, d):
    cls, kind = family
    X, y = make_data(kind, np.random.default_rng(seed), n, d)
    check_unlearner(cls(), X, y)


def test_registered_as_classifiers():
    for name, cls in [
        ("gaussian_nb", GaussianNBUnlearner),
        ("multinomial_nb", MultinomialNBUnlearner),
        ("bernoulli_nb", BernoulliNBUnlearner),
        ("categorical_nb", CategoricalNBUnlearner),
    ]:
        info = methods.get(name)
        assert info.cls is cls
        assert info.task == "classification"
        assert str(info.guarantee) == "exact"
        assert info.request_kinds == {"items", "group", "classes", "features", "relabel"}


# -- direct comparisons with scikit-learn ---------------------------------------------------------
@pytest.mark.parametrize(("cls", "sk", "kind"), FAMILIES)
def test_weighted_sequence_of_requests_matches_sklearn(cls, sk, kind):
    rng = np.random.default_rng(1)
    n, d = 240, 5
    X, y = make_data(kind, rng, n, d, n_classes=4)
    w = rng.uniform(0.0, 3.0, size=n)
    w[:10] = 0.0  # zero weights count in epsilon_ / n_categories_ but not in the sums
    ids = np.arange(n) * 3 + 7
    model = cls().fit(X, y, sample_ids=ids, sample_weight=w)
    keep = np.ones(n, dtype=bool)
    y_now = y.copy()

    def held(A):  # forgotten rows may hold categories the model no longer knows
        return A[keep] if kind == "categorical" else A

    forget = rng.choice(n, size=17, replace=False)
    result = model.unlearn(ids[forget].tolist())
    keep[forget] = False
    assert result.changed
    assert result.evidence["rows_downdated"] == 17
    assert_matches(model, refit(sk, {}, X[keep], y_now[keep], w[keep]), held(X))

    model.unlearn(ForgetRequest.group(lambda t: (t["x1"] >= np.quantile(X[:, 1], 0.9)).to_numpy()))
    keep &= X[:, 1] < np.quantile(X[:, 1], 0.9)
    assert_matches(model, refit(sk, {}, X[keep], y_now[keep], w[keep]), held(X))

    rows = rng.choice(np.flatnonzero(keep), size=12, replace=False)
    new = (y_now[rows] + 1) % 4
    model.unlearn(ForgetRequest.relabel(dict(zip(ids[rows].tolist(), new.tolist(), strict=True))))
    y_now[rows] = new
    assert_matches(model, refit(sk, {}, X[keep], y_now[keep], w[keep]), held(X))

    model.unlearn(ForgetRequest.classes([2]))
    keep &= y_now != 2
    assert model.classes_.tolist() == [0, 1, 3]
    assert_matches(model, refit(sk, {}, X[keep], y_now[keep], w[keep]), held(X))

    model.unlearn(ForgetRequest.features([3]))
    Xd = np.delete(X, 3, axis=1)
    assert model.n_features_in_ == d - 1
    assert_matches(model, refit(sk, {}, Xd[keep], y_now[keep], w[keep]), held(Xd))


@pytest.mark.parametrize(("cls", "sk", "kind"), FAMILIES)
def test_partial_fit_then_unlearn_matches_sklearn(cls, sk, kind):
    rng = np.random.default_rng(2)
    X, y = make_data(kind, rng, 300, 4)
    w = np.ones(300)
    w[200:250] = rng.uniform(0.5, 2, size=50)
    model = cls().fit(X[:200], y[:200])
    model.partial_fit(X[200:250], y[200:250], sample_weight=w[200:250])
    model.partial_fit(X[250:], y[250:], classes=[0, 1, 2], sample_ids=np.arange(1000, 1050))
    assert_matches(model, refit(sk, {}, X, y, w), X)
    forget = [3, 210, 1010, 1049]
    rows = np.array([3, 210, 260, 299])
    model.unlearn(forget)
    keep = np.setdiff1d(np.arange(300), rows)
    assert_matches(model, refit(sk, {}, X[keep], y[keep], w[keep]), X)


@pytest.mark.parametrize(
    ("cls", "sk", "kind", "params"),
    [
        (GaussianNBUnlearner, GaussianNB, "real", {"var_smoothing": 0.1}),
        (GaussianNBUnlearner, GaussianNB, "real", {"priors": [0.2, 0.3, 0.5]}),
        (MultinomialNBUnlearner, MultinomialNB, "counts", {"alpha": 0.0}),
        (MultinomialNBUnlearner, MultinomialNB, "counts", {"alpha": [0.1, 1.0, 2.0, 0.5]}),
        (MultinomialNBUnlearner, MultinomialNB, "counts", {"class_prior": [0.5, 0.25, 0.25]}),
        (BernoulliNBUnlearner, BernoulliNB, "signed", {"binarize": 1.5, "fit_prior": False}),
        (BernoulliNBUnlearner, BernoulliNB, "binary", {"binarize": None, "alpha": 0.01}),
        (CategoricalNBUnlearner, CategoricalNB, "categorical", {"min_categories": [2, 7, 3, 9]}),
        (CategoricalNBUnlearner, CategoricalNB, "categorical", {"alpha": 0.0}),
    ],
)
def test_parameters_are_honoured_after_unlearning(cls, sk, kind, params):
    rng = np.random.default_rng(3)
    X, y = make_data(kind, rng, 150, 4)
    w = rng.uniform(0.1, 2.0, size=150)
    model = cls(**params).fit(X, y, sample_weight=w)
    model.unlearn(list(range(0, 150, 5)))
    keep = np.arange(150) % 5 != 0
    assert_matches(model, refit(sk, params, X[keep], y[keep], w[keep]), X)


@settings(max_examples=20, deadline=None)
@given(
    family=st.sampled_from([(f.values[0], f.values[1], f.values[2]) for f in FAMILIES]),
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(20, 50),
    d=st.integers(1, 4),
    n_forget=st.integers(1, 12),
    zero_weights=st.booleans(),
)
def test_weighted_unlearning_matches_sklearn_on_generated_data(
    family, seed, n, d, n_forget, zero_weights
):
    cls, sk, kind = family
    rng = np.random.default_rng(seed)
    X, y = make_data(kind, rng, n, d)
    w = rng.uniform(0.0, 4.0, size=n)
    if zero_weights:
        w[rng.choice(n, size=n // 4, replace=False)] = 0.0
    model = cls().fit(X, y, sample_weight=w)
    left = {c: int(np.sum(y == c)) for c in np.unique(y)}
    forget = []
    for r in rng.permutation(n)[:n_forget]:
        if left[y[r]] > 1:  # keep every class
            left[y[r]] -= 1
            forget.append(int(r))
    model.unlearn(forget)
    keep = np.setdiff1d(np.arange(n), forget)
    reference = refit(sk, {}, X[keep], y[keep], w[keep])
    X_eval = X[keep] if kind == "categorical" else X
    assert_matches(model, reference, X_eval)


def test_gaussian_epsilon_uses_all_retained_rows_and_columns():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(100, 3)) * [1.0, 10.0, 2.0]
    y = np.arange(100) % 2
    w = np.where(np.arange(100) < 50, 0.0, 1.0)  # rows of zero weight still count in epsilon_
    model = GaussianNBUnlearner().fit(X, y, sample_weight=w)
    reference = GaussianNB().fit(X, y, sample_weight=w)
    assert model.epsilon_ == pytest.approx(reference.epsilon_, rel=1e-12)
    model.unlearn(ForgetRequest.features([1]))  # the column with the largest variance
    Xd = X[:, [0, 2]]
    assert_matches(model, GaussianNB().fit(Xd, y, sample_weight=w), Xd)
    assert model.epsilon_ < reference.epsilon_ / 10


def test_categorical_n_categories_follows_the_retained_rows():
    X = np.array([[0, 0], [1, 1], [2, 0], [0, 1], [1, 0], [3, 1], [0, 0], [1, 1]], dtype=float)
    y = np.array([0, 1, 0, 1, 0, 1, 0, 1])
    model = CategoricalNBUnlearner().fit(X, y)
    assert model.n_categories_.tolist() == [4, 2]
    model.unlearn([5])  # the only row with category 3 of feature 0
    assert model.n_categories_.tolist() == [3, 2]
    assert model.category_count_[0].shape == (2, 3)
    assert_matches(model, CategoricalNB().fit(np.delete(X, 5, axis=0), np.delete(y, 5)), X[:5])
    model.partial_fit([[5, 1]], [1], sample_ids=[8])  # a new, higher category grows the tables
    assert model.n_categories_.tolist() == [6, 2]
    X2, y2 = np.vstack([np.delete(X, 5, axis=0), [[5, 1]]]), np.append(np.delete(y, 5), 1)
    assert_matches(model, CategoricalNB().fit(X2, y2), X2)
    floor = CategoricalNBUnlearner(min_categories=5).fit(X, y)
    floor.unlearn([5])
    assert floor.n_categories_.tolist() == [5, 5]


def test_relabel_through_a_momentarily_empty_class():
    rng = np.random.default_rng(5)
    X, y = make_data("real", rng, 60, 3, n_classes=2)
    model = GaussianNBUnlearner().fit(X, y)
    swapped = 1 - y  # every row changes class; each class is empty halfway through a remove+add
    model.unlearn(ForgetRequest.relabel(dict(enumerate(swapped.tolist()))))
    assert_matches(model, GaussianNB().fit(X, swapped), X)


def test_classes_request_drops_the_class_everywhere():
    rng = np.random.default_rng(6)
    X, y = make_data("counts", rng, 90, 4)
    labels = np.array(["ant", "bee", "cat"])[y]
    model = MultinomialNBUnlearner().fit(X, labels)
    result = model.unlearn(ForgetRequest.classes(["bee"]))
    assert result.evidence["classes_removed"] == ["bee"]
    assert model.classes_.tolist() == ["ant", "cat"]
    assert model.feature_count_.shape == (2, 4)
    assert model.predict_proba(X).shape == (90, 2)
    keep = labels != "bee"
    assert_matches(model, MultinomialNB().fit(X[keep], labels[keep]), X)
    result.to_json()  # the evidence is JSON-serialisable


def test_features_by_name_on_a_dataframe():
    rng = np.random.default_rng(7)
    X, y = make_data("binary", rng, 80, 4)
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    model = BernoulliNBUnlearner().fit(frame, y)
    model.unlearn(ForgetRequest.features(["c"]))
    assert model.feature_names_in_.tolist() == ["a", "b", "d"]
    reference = BernoulliNB().fit(frame[["a", "b", "d"]], y)
    assert_matches(model, reference, frame[["a", "b", "d"]])


def test_cancellation_is_detected_and_recomputed():
    rng = np.random.default_rng(8)
    X = rng.normal(size=(1010, 3))
    y = np.repeat([0, 1], 505)
    X[:10] += 1e6  # far outliers: subtracting them from the running sums cancels digits
    model = GaussianNBUnlearner().fit(X, y)
    result = model.unlearn(list(range(10)))
    assert result.evidence["classes_recomputed"] == [0]
    assert result.evidence["global_statistics_recomputed"] is True
    assert_matches(model, GaussianNB().fit(X[10:], y[10:]), X[10:])

    w = np.full(1010, 0.3)
    w[:5] = 1e9  # heavy rows dominate the weighted sums
    Xc = rng.poisson(3.0, size=(1010, 4)).astype(float)
    model = MultinomialNBUnlearner(alpha=1e-3).fit(Xc, y, sample_weight=w)
    result = model.unlearn(list(range(5)))
    assert result.evidence["classes_recomputed"] == [0]
    reference = MultinomialNB(alpha=1e-3).fit(Xc[5:], y[5:], sample_weight=w[5:])
    assert_matches(model, reference, Xc)


def test_small_requests_touch_few_rows_and_many_do_not_drift():
    rng = np.random.default_rng(9)
    X = rng.normal(size=(3000, 6)) * rng.uniform(0.1, 50, size=6) + rng.normal(scale=100, size=6)
    y = rng.integers(0, 3, size=3000)
    model = GaussianNBUnlearner().fit(X, y)
    result = model.unlearn([0])
    assert result.evidence["rows_recomputed"] == 0
    assert result.retrained_fraction < 0.01
    for i in range(1, 1500):
        model.unlearn([i])
    assert_matches(model, GaussianNB().fit(X[1500:], y[1500:]), X)


def test_save_and_load_round_trip(tmp_path):
    rng = np.random.default_rng(10)
    X, y = make_data("categorical", rng, 120, 3)
    model = CategoricalNBUnlearner(alpha=0.5).fit(X, y, sample_ids=[f"r{i}" for i in range(120)])
    model.unlearn(["r0", "r1"])
    loaded = CategoricalNBUnlearner.load(model.save(tmp_path / "nb.ukit"))
    assert loaded.fingerprint() == model.fingerprint()
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    loaded.unlearn(["r5", "r6"])
    reference = CategoricalNB(alpha=0.5).fit(X[np.r_[2:5, 7:120]], y[np.r_[2:5, 7:120]])
    assert_matches(loaded, reference, X)


# -- bad input ------------------------------------------------------------------------------
def test_multinomial_rejects_negative_counts():
    X = np.array([[1.0, 2.0], [0.0, -1.5], [3.0, 1.0]])
    with pytest.raises(
        DataValidationError, match=r"Negative values.*X\[1, 1\] = -1.5.*non-negative"
    ):
        MultinomialNBUnlearner().fit(X, [0, 1, 0])
    model = MultinomialNBUnlearner().fit(np.abs(X), [0, 1, 0])
    before = model.fingerprint()
    with pytest.raises(DataValidationError, match="Negative values"):
        model.partial_fit([[1.0, -2.0]], [1])
    assert model.fingerprint() == before
    assert model.n_samples_ == 3


def test_categorical_rejects_codes_that_are_not_categories():
    y = [0, 1, 0]
    with pytest.raises(DataValidationError, match=r"integer category codes.*OrdinalEncoder"):
        CategoricalNBUnlearner().fit([[0.0, 1.5], [1.0, 0.0], [2.0, 1.0]], y)
    with pytest.raises(DataValidationError, match=r"Negative values.*start at 0"):
        CategoricalNBUnlearner().fit([[0, -1], [1, 0], [2, 1]], y)
    model = CategoricalNBUnlearner().fit([[0, 1], [1, 0], [2, 1]], y)
    with pytest.raises(DataValidationError, match="not a category of feature 0"):
        model.predict([[3, 0]])
    with pytest.raises(DataValidationError, match="integer category codes"):
        model.predict([[0.5, 0]])


def test_continuous_targets_are_rejected():
    with pytest.raises(DataValidationError, match="Unknown label type"):
        GaussianNBUnlearner().fit(np.eye(4), [0.1, 0.7, 1.3, 2.2])


@pytest.mark.parametrize(
    ("estimator", "match"),
    [
        (GaussianNBUnlearner(priors=[0.5, 0.5]), "priors has 2 entries but y has 3 classes"),
        (GaussianNBUnlearner(priors=[0.5, 0.3, 0.3]), "sum to 1"),
        (GaussianNBUnlearner(priors=[1.2, -0.1, -0.1]), "non-negative"),
        (GaussianNBUnlearner(var_smoothing=-1.0), "var_smoothing"),
        (MultinomialNBUnlearner(class_prior=[1.0]), "class_prior has 1 entries"),
        (MultinomialNBUnlearner(alpha=[1.0, 1.0]), "one alpha per feature"),
        (BernoulliNBUnlearner(alpha=[1.0, -1.0, 1.0]), "non-negative"),
        (CategoricalNBUnlearner(min_categories=[2, 2]), "one value per feature"),
        (CategoricalNBUnlearner(min_categories=[2.5, 2.0, 1.0]), "integer"),
    ],
)
def test_bad_parameters_raise_and_leave_the_model_unfitted(estimator, match):
    X, y = make_data("categorical", np.random.default_rng(11), 30, 3)
    with pytest.raises(InvalidParameterError, match=match):
        estimator.fit(X, y)
    assert not hasattr(estimator, "classes_")


@pytest.mark.parametrize(
    ("estimator", "request_", "match"),
    [
        (GaussianNBUnlearner(priors=[0.2, 0.3, 0.5]), ForgetRequest.classes([1]), "priors"),
        (MultinomialNBUnlearner(class_prior=[0.2, 0.3, 0.5]), ForgetRequest.classes([1]), "prior"),
        (MultinomialNBUnlearner(alpha=[1.0, 2.0, 1.0]), ForgetRequest.features([0]), "alpha"),
        (
            CategoricalNBUnlearner(min_categories=[4, 4, 4]),
            ForgetRequest.features([0]),
            "min_categories",
        ),
    ],
)
def test_requests_a_parameter_rules_out_leave_the_model_unchanged(estimator, request_, match):
    X, y = make_data("categorical", np.random.default_rng(12), 30, 3)
    model = estimator.fit(X, y)
    before = model.fingerprint()
    with pytest.raises(InvalidRequestError, match=match):
        model.unlearn(request_)
    assert model.fingerprint() == before
    assert model.n_samples_ == 30


def test_items_request_cannot_empty_a_class():
    X, y = make_data("counts", np.random.default_rng(13), 30, 3)
    model = MultinomialNBUnlearner().fit(X, y)
    with pytest.raises(EmptiesClassError):
        model.unlearn(np.flatnonzero(y == 1).tolist())
    assert model.classes_.tolist() == [0, 1, 2]


def test_partial_fit_label_checks():
    X, y = make_data("real", np.random.default_rng(14), 30, 2)
    model = GaussianNBUnlearner().fit(X, y)
    with pytest.raises(DataValidationError, match="not seen in fit"):
        model.partial_fit(X[:2], [0, 7])
    with pytest.raises(DataValidationError, match="differs from the model's classes_"):
        model.partial_fit(X[:2], [0, 1], classes=[0, 1, 2, 3])
    with pytest.raises(DataValidationError, match="every class needs a training row"):
        GaussianNBUnlearner().partial_fit(X, y, classes=[0, 1, 2, 3])


def test_force_alpha_false_clips_like_sklearn():
    X, y = make_data("counts", np.random.default_rng(15), 60, 3)
    with pytest.warns(UserWarning, match="alpha too small"):
        model = MultinomialNBUnlearner(alpha=0.0, force_alpha=False).fit(X, y)
    model.unlearn([0, 1])
    with pytest.warns(UserWarning, match="alpha too small"):
        reference = MultinomialNB(alpha=0.0, force_alpha=False).fit(X[2:], y[2:])
    assert_matches(model, reference, X)
