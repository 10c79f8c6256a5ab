from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import Ridge

from unlearnkit import persistence
from unlearnkit.base import fingerprint
from unlearnkit.data import Samples
from unlearnkit.errors import (
    AlreadyForgottenError,
    DataValidationError,
    DuplicateIdError,
    IncompatibleVersionError,
    InvalidParameterError,
    InvalidRequestError,
    NotFittedError,
    UnlearnError,
)
from unlearnkit.exact import LinearRegressionUnlearner, RidgeUnlearner
from unlearnkit.guarantees import Guarantee
from unlearnkit.registry import methods
from unlearnkit.requests import ForgetRequest


@pytest.fixture
def data():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 3))
    return X, X @ [1.0, 2.0, -1.0] + rng.normal(scale=0.1, size=60)


def test_guarantee_validation_and_labels():
    assert str(Guarantee.certified(0.5, 1e-6)) == "certified(epsilon=0.5, delta=1e-06)"
    assert Guarantee.from_dict(Guarantee.certified(1, 0).to_dict()) == Guarantee.certified(1, 0)
    with pytest.raises(InvalidParameterError):
        Guarantee("certified", 0.0, 1e-5)
    with pytest.raises(InvalidParameterError):
        Guarantee("exact", 1.0, None)
    with pytest.raises(InvalidParameterError):
        Guarantee("probably")


def test_result_is_json_ready(data):
    X, y = data
    result = RidgeUnlearner().fit(X, y).unlearn(ForgetRequest.items([1, 2], subject="s-9"))
    payload = json.loads(result.to_json())
    assert payload["removed_ids"] == [1, 2]
    assert payload["guarantee"] == {"kind": "exact", "epsilon": None, "delta": None}
    assert payload["subject"] == "s-9"
    assert payload["reason"] == "privacy"
    assert result.changed
    assert 0 < result.retrained_fraction < 1


def test_fingerprint_is_order_independent_and_sensitive():
    a = fingerprint({"coef_": np.array([1.0, 2.0]), "n_": 3})
    b = fingerprint({"n_": 3, "coef_": np.array([1.0, 2.0])})
    c = fingerprint({"n_": 3, "coef_": np.array([1.0, 2.0 + 1e-12])})
    assert a == b != c


def test_sample_id_bookkeeping(data):
    X, y = data
    model = RidgeUnlearner().fit(X, y, sample_ids=[f"row-{i}" for i in range(60)])
    model.unlearn(["row-3", "row-5"])
    assert model.n_samples_ == 58
    assert model.forgotten_ids_ == {"row-3", "row-5"}
    assert "row-3" not in set(model.sample_ids_)
    with pytest.raises(AlreadyForgottenError, match="row-3"):
        model.unlearn(["row-3"])


def test_group_request_on_the_models_own_table(data):
    X, y = data
    frame = pd.DataFrame(X, columns=["age", "income", "debt"])
    model = RidgeUnlearner().fit(frame, y)
    result = model.unlearn(ForgetRequest.group(lambda t: (t["age"] > 1.0).to_numpy()))
    keep = X[:, 0] <= 1.0
    assert set(result.removed_ids) == set(np.flatnonzero(~keep).tolist())
    np.testing.assert_allclose(model.coef_, Ridge().fit(frame[keep], y[keep]).coef_, rtol=1e-10)
    with pytest.raises(InvalidRequestError, match="matches no sample"):
        model.unlearn(ForgetRequest.group({"age": 1234.5}))


def test_subject_erasure_resolved_through_samples(data):
    X, y = data
    subjects = np.array([f"p{i % 20}" for i in range(60)])
    samples = Samples(X, y, ids=np.arange(100, 160), subjects=subjects)
    model = RidgeUnlearner().fit(samples.X, samples.y, sample_ids=samples.ids)
    result = model.unlearn(ForgetRequest.of_subject("p7"), data=samples)
    assert result.removed_ids == (107, 127, 147)
    assert result.subject == "p7"
    keep = subjects != "p7"
    np.testing.assert_allclose(model.coef_, Ridge().fit(X[keep], y[keep]).coef_, rtol=1e-10)


def test_partial_fit_then_unlearn_equals_refit(data):
    X, y = data
    model = RidgeUnlearner(alpha=0.3).partial_fit(X[:40], y[:40])
    model.partial_fit(X[40:], y[40:])
    assert model.sample_ids_.tolist() == list(range(60))
    model.unlearn([0, 45])
    keep = np.ones(60, dtype=bool)
    keep[[0, 45]] = False
    np.testing.assert_allclose(model.coef_, Ridge(alpha=0.3).fit(X[keep], y[keep]).coef_, rtol=1e-9)
    with pytest.raises(DuplicateIdError, match="already used"):
        model.partial_fit(X[:2], y[:2], sample_ids=[0, 1])


def test_failed_hook_restores_the_model_exactly(data):
    X, y = data

    class Flaky(RidgeUnlearner):
        def _forget_rows(self, rows):
            super()._forget_rows(rows)  # rebinds coef_ and the statistics, then fails
            raise RuntimeError("disk full")

    model = Flaky().fit(X, y)
    before = (model.fingerprint(), model.coef_.copy(), model.n_samples_)
    with pytest.raises(RuntimeError):
        model.unlearn([1, 2])
    assert (model.fingerprint(), model.n_samples_) == (before[0], before[2])
    np.testing.assert_array_equal(model.coef_, before[1])
    assert not model.forgotten_ids_


def test_not_fitted_is_also_sklearns_not_fitted():
    from sklearn.exceptions import NotFittedError as SkNotFitted

    with pytest.raises(SkNotFitted):
        RidgeUnlearner().unlearn([0])
    with pytest.raises(NotFittedError, match="fit"):
        RidgeUnlearner().predict(np.zeros((1, 2)))


def test_parameters_are_validated_declaratively(data):
    X, y = data
    with pytest.raises(InvalidParameterError, match="alpha"):
        RidgeUnlearner(alpha=-1).fit(X, y)
    with pytest.raises(InvalidParameterError, match="fit_intercept"):
        LinearRegressionUnlearner(fit_intercept="yes").fit(X, y)


def test_negative_weights_rejected(data):
    X, y = data
    with pytest.raises(DataValidationError, match="non-negative"):
        RidgeUnlearner().fit(X, y, sample_weight=-np.ones(60))


def test_save_load_round_trip_and_version_errors(tmp_path, data):
    X, y = data
    model = RidgeUnlearner(alpha=2.0).fit(X, y, sample_ids=np.arange(60) * 3)
    model.unlearn([3])
    path = model.save(tmp_path / "m.ukit")
    again = RidgeUnlearner.load(path)
    assert again.fingerprint() == model.fingerprint()
    assert again.get_params() == model.get_params()
    assert persistence.read_header(path)["class"].endswith("RidgeUnlearner")
    again.unlearn([6])  # the loaded model keeps its rows and can still forget
    with pytest.raises(AlreadyForgottenError):
        again.unlearn([3])
    with pytest.raises(IncompatibleVersionError, match="not a LinearRegressionUnlearner"):
        LinearRegressionUnlearner.load(path)
    current = f'"format_version": {persistence.FORMAT_VERSION}'.encode()
    raw = path.read_bytes().replace(current, b'"format_version": 99')
    (tmp_path / "future.ukit").write_bytes(raw)
    with pytest.raises(IncompatibleVersionError, match="format 99"):
        persistence.load(tmp_path / "future.ukit")
    (tmp_path / "junk.ukit").write_bytes(b"hello")
    with pytest.raises(IncompatibleVersionError, match="not an unlearnkit model"):
        persistence.load(tmp_path / "junk.ukit")


def test_sklearn_clone_and_params():
    model = RidgeUnlearner(alpha=3.0, fit_intercept=False)
    twin = clone(model)
    assert twin.get_params() == {"alpha": 3.0, "fit_intercept": False}
    assert twin is not model


def test_registry_lists_methods_with_their_contract():
    info = methods.get("ridge")
    assert info.cls is RidgeUnlearner
    assert info.guarantee == Guarantee.exact()
    assert {"items", "group", "features", "relabel"} <= info.request_kinds
    assert info.params == {"alpha": 1.0, "fit_intercept": True}
    assert isinstance(info.create(alpha=2.0), RidgeUnlearner)
    with pytest.raises(InvalidParameterError, match="no parameter"):
        info.create(gamma=1)
    with pytest.raises(InvalidParameterError, match="known methods"):
        methods.get("magic")
    assert "linear_regression" in methods


def test_all_errors_share_one_base():
    for error in (AlreadyForgottenError([1]), DuplicateIdError([1]), NotFittedError(object())):
        assert isinstance(error, UnlearnError)


def test_refit_on_bad_input_keeps_the_fitted_model(data):
    X, y = data
    model = RidgeUnlearner().fit(X, y)
    before = model.fingerprint()
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(DataValidationError):
        model.fit(bad, y)
    assert model.fingerprint() == before
    assert model.n_samples_ == 60
