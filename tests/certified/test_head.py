"""CertifiedHead: a certified linear head on a fixed extractor (Guo et al. 2020, deep models).

The head's gradient residual is recomputed here from scratch on the retained rows' features,
which are extracted independently of the model, and checked against the head's accountant.
"""

from __future__ import annotations

import doctest
import hashlib
import pickle

import numpy as np
import pytest
import torch
from scipy.special import expit
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.decomposition import PCA
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from torch import nn

from unlearnkit.certified import (
    CertifiedHead,
    CertifiedLogisticRegression,
    CertifiedRidge,
    extract_features,
    public_feature_scale,
)
from unlearnkit.checks import check_unlearning_atomic, check_unlearning_input_validation
from unlearnkit.errors import DataValidationError, InvalidParameterError, NotFittedError
from unlearnkit.guarantees import Guarantee
from unlearnkit.requests import ForgetRequest

torch.set_num_threads(1)


# -- extractors and data ---------------------------------------------------------------------------
def torch_extractor(seed: int = 0, d_in: int = 6, d_out: int = 5) -> nn.Module:
    """A small network standing in for one pre-trained on public data (dropout included, so
    that running it in training mode would give random features)."""
    gen = torch.Generator().manual_seed(seed)
    net = nn.Sequential(nn.Linear(d_in, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, d_out))
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(0.5 * torch.randn(p.shape, generator=gen))
    return net


class RowSum(nn.Module):
    """Returns one number per row: a 1-D output, which is not a feature matrix."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.sum(dim=1)


class LogOf(nn.Module):
    """log(x): NaN features for rows with negative entries."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.log(x)


def private_data(seed: int = 0, n: int = 240, d: int = 6) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = (X[:, 0] - 0.5 * X[:, 1] + 0.3 * rng.normal(size=n) > 0).astype(int)
    return X, y


def features_by_hand(net: nn.Module, X: np.ndarray) -> np.ndarray:
    """Unit-norm features computed independently of the model."""
    net.eval()
    with torch.no_grad():
        out = net(torch.as_tensor(X, dtype=torch.float32)).double().numpy()
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def weights(head) -> np.ndarray:
    coef = np.atleast_2d(head.coef_)
    icpt = np.atleast_1d(head.intercept_) / head.intercept_scaling
    return np.hstack([coef, icpt[:, None]])


def logistic_residual(head, F: np.ndarray, y: np.ndarray) -> float:
    """||grad L_b(w; D)|| (paper scale) of a binary head from its public weights and noise."""
    Z = np.hstack([F, np.full((len(F), 1), head.intercept_scaling)])
    t = np.where(y == head.classes_[1], 1.0, -1.0)
    w = weights(head)[0]
    g = Z.T @ (-t * expit(-t * (Z @ w))) + head.lam * len(Z) * w + head._noise[0]
    return float(np.linalg.norm(g))


def digest(model) -> str:
    return hashlib.sha256(pickle.dumps(model.__dict__, protocol=5)).hexdigest()


# -- the head is the certified model on the scaled features ----------------------------------------
def test_torch_extractor_head_follows_the_certified_heads_own_removals_and_bound():
    X, y = private_data(0)
    ids = np.arange(len(X)) * 3 + 7
    net = torch_extractor(0)
    head = CertifiedLogisticRegression(lam=1e-3, residual_budget=0.3, random_state=0)
    model = CertifiedHead(net, head).fit(X, y, sample_ids=ids)
    F = features_by_hand(net, X)
    reference = clone(head).fit(F, y, sample_ids=ids)  # the head's own semantics, on features
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(model.features(X), F, rtol=1e-12, atol=1e-15)
    assert model.n_extracted_features_ == 5
    assert logistic_residual(model.head_, F, y) <= model.accountant_.bound

    rng = np.random.default_rng(0)
    requests = [[int(i)] for i in rng.permutation(ids)[:30]]
    requests.append(ForgetRequest.items([int(i) for i in ids if i not in np.ravel(requests)][:5]))
    retrains = newton_steps = 0
    for request in requests:
        result = model.unlearn(request)
        expected = reference.unlearn(request)
        assert result.removed_ids == expected.removed_ids
        assert result.guarantee == expected.guarantee == Guarantee.certified(1.0, 1e-4)
        assert result.evidence["bound_after"] == expected.evidence["bound_after"]
        assert result.retrained_fraction == expected.retrained_fraction
        np.testing.assert_array_equal(model.coef_, reference.coef_)
        keep = np.isin(ids, model.sample_ids_)
        assert model.head_.sample_ids_.tolist() == model.sample_ids_.tolist()
        actual = logistic_residual(model.head_, F[keep], y[keep])
        assert actual <= model.accountant_.bound <= model.accountant_.budget
        retrains += result.evidence["retrained"]
        newton_steps += not result.evidence["retrained"]
        assert result.evidence["head"] == "CertifiedLogisticRegression"
    assert retrains >= 1
    assert newton_steps >= 10
    np.testing.assert_array_equal(model.predict(X), reference.predict(F))
    np.testing.assert_allclose(model.predict_proba(X), reference.predict_proba(F))


def test_pca_extractor_with_a_ridge_head_removes_exactly_like_the_same_noise_refit():
    rng = np.random.default_rng(1)
    public = rng.normal(size=(300, 8)) @ rng.normal(size=(8, 8))
    X = rng.normal(size=(200, 8)) @ rng.normal(size=(8, 8))
    y = X @ rng.normal(size=8) + 0.1 * rng.normal(size=200)
    pca = FrozenEstimator(PCA(n_components=3, random_state=0).fit(public))
    scale = public_feature_scale(pca, public)
    model = CertifiedHead(
        pca, CertifiedRidge(lam=1e-2, sigma=1.0, random_state=0), feature_scale=scale
    )
    model.fit(X, y)
    assert is_regressor(model)
    assert not is_classifier(model)
    assert not hasattr(model, "predict_proba")
    F = pca.transform(X) / scale
    np.testing.assert_allclose(model.features(X), F, rtol=1e-12)
    for request in ([0], [5, 6, 7], ForgetRequest.group(lambda t: (t["x0"] > 2).to_numpy())):
        result = model.unlearn(request)
        keep = np.isin(np.arange(200), model.sample_ids_)
        Z = np.hstack([F[keep], np.ones((keep.sum(), 1))])
        A = Z.T @ Z + model.head_.lam * len(Z) * np.eye(4)
        w = np.linalg.solve(A, Z.T @ y[keep] - model.head_._noise)
        np.testing.assert_allclose(np.append(model.coef_, model.intercept_), w, rtol=1e-8)
        assert result.guarantee == Guarantee.certified(1.0, 1e-4)
        assert not result.evidence["retrained"]
    assert model.score(X, y) == pytest.approx(model.head_.score(F, y))


def test_group_requests_are_resolved_on_the_raw_columns_and_forwarded_by_id():
    rng = np.random.default_rng(2)
    public = rng.normal(size=(200, 4))
    X = rng.normal(size=(180, 4))
    y = np.arange(180) % 3
    X[:, :2] += np.array([[2.0, 0.0], [0.0, 2.0], [-2.0, -2.0]])[y]
    ids = [f"row{i}" for i in range(180)]
    pca = FrozenEstimator(PCA(n_components=3).fit(public))
    head = CertifiedLogisticRegression(lam=1e-2, sigma=10.0, random_state=0)
    model = CertifiedHead(pca, head).fit(X, y, sample_ids=ids)
    result = model.unlearn(ForgetRequest.group(lambda t: (t["x3"] > 1.5).to_numpy()))
    expected = [i for i, row in zip(ids, X, strict=True) if row[3] > 1.5]
    assert list(result.removed_ids) == expected
    assert not set(expected) & set(model.head_.sample_ids_.tolist())
    assert model.coef_.shape == (3, 3)
    assert model.classes_.tolist() == [0, 1, 2]
    assert model.score(X, y) > 0.7


# -- feature scaling does not depend on the private data ------------------------------------------
@pytest.mark.parametrize("feature_scale", ["normalize", 12.0])
def test_the_features_of_a_row_do_not_depend_on_the_other_private_rows(feature_scale):
    X, y = private_data(3, n=100)
    net = torch_extractor(1)
    head = CertifiedLogisticRegression(lam=1e-2, sigma=10.0, random_state=0)
    a = CertifiedHead(net, head, feature_scale=feature_scale).fit(X, y)
    X_big = np.vstack([X, 50 * X[:1]])  # one extreme row joins the private data
    b = CertifiedHead(net, head, feature_scale=feature_scale)
    if feature_scale == "normalize":
        b.fit(X_big, np.append(y, y[0]))
        assert np.linalg.norm(b.features(X_big), axis=1).max() == pytest.approx(1.0)
    else:  # the extreme row exceeds norm 1 after the fixed scale: the head clips it, and says so
        with pytest.warns(UserWarning, match="scaled to norm 1"):
            b.fit(X_big, np.append(y, y[0]))
    np.testing.assert_array_equal(a.features(X), b.features(X))
    if feature_scale != "normalize":
        raw = extract_features(net, X)
        np.testing.assert_allclose(a.features(X), raw / 12.0, rtol=1e-12)


def test_public_feature_scale_is_a_quantile_of_public_norms():
    rng = np.random.default_rng(4)
    public = rng.normal(size=(500, 6))
    net = torch_extractor(2)
    norms = np.linalg.norm(extract_features(net, public), axis=1)
    assert public_feature_scale(net, public) == pytest.approx(norms.max())
    assert public_feature_scale(net, public, quantile=0.5) == pytest.approx(np.median(norms))
    for bad in (0.0, 1.5, -1):
        with pytest.raises(InvalidParameterError, match="quantile"):
            public_feature_scale(net, public, quantile=bad)


def test_the_extractor_runs_in_eval_mode_without_gradients_and_keeps_its_mode():
    X, y = private_data(5, n=80)
    net = torch_extractor(3)
    net.train()
    head = CertifiedLogisticRegression(lam=1e-2, sigma=10.0, random_state=0)
    model = CertifiedHead(net, head, batch_size=7).fit(X, y)  # many batches
    assert net.training  # restored
    assert all(p.grad is None for p in net.parameters())
    # dropout is off during extraction: the features are a fixed function of the row
    np.testing.assert_allclose(model.features(X), features_by_hand(net, X), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(model.features(X), model.features(X))


# -- bad input ------------------------------------------------------------------------------------
def test_an_unfitted_scikit_learn_extractor_is_refused_and_the_model_kept():
    X, y = private_data(6, n=80)
    public = np.random.default_rng(6).normal(size=(50, 6))
    head = CertifiedLogisticRegression(lam=1e-2, sigma=10.0, random_state=0)
    model = CertifiedHead(FrozenEstimator(PCA(3).fit(public)), head).fit(X, y)
    state, good = digest(model), model.extractor
    model.set_params(extractor=PCA(3))
    with pytest.raises(InvalidParameterError, match=r"not fitted.*FrozenEstimator"):
        model.fit(X, y)
    model.set_params(extractor=good)
    assert digest(model) == state
    # a fitted PCA that is not frozen works, but loses its fit when the model is cloned
    raw = CertifiedHead(PCA(3).fit(public), head).fit(X, y)
    np.testing.assert_array_equal(raw.coef_, model.coef_)
    with pytest.raises(InvalidParameterError, match="FrozenEstimator"):
        clone(raw).fit(X, y)
    assert clone(model).fit(X, y).fingerprint() == model.fingerprint()


@pytest.mark.parametrize("extractor", [None, "pca", 3.0, LogisticRegression])
def test_something_that_is_not_an_extractor_is_refused(extractor):
    X, y = private_data(7, n=60)
    model = CertifiedHead(extractor)
    with pytest.raises(InvalidParameterError, match="extractor"):
        model.fit(X, y)
    assert not model._is_fitted()


@pytest.mark.parametrize(
    "params",
    [
        {"head": LogisticRegression()},
        {"feature_scale": 0.0},
        {"feature_scale": -2.0},
        {"feature_scale": "max"},
        {"batch_size": 0},
    ],
)
def test_bad_parameters_raise_typed_errors(params):
    X, y = private_data(8, n=60)
    model = CertifiedHead(torch_extractor(), **params)
    with pytest.raises(InvalidParameterError):
        model.fit(X, y)
    assert not model._is_fitted()
    if "head" in params:
        with pytest.raises(InvalidParameterError, match="certified linear model"):
            _ = model.guarantee


@pytest.mark.parametrize(
    ("extractor", "match"),
    [
        (nn.Sequential(nn.Linear(6, 6), nn.Unflatten(1, (2, 3))), r"shape \(60, 2, 3\).*Flatten"),
        (RowSum(), r"shape \(60,\)"),
        (nn.Linear(7, 3), "failed on input rows"),
        (LogOf(), "NaN or infinite features"),
    ],
)
def test_extractor_outputs_that_are_not_finite_feature_matrices_raise(extractor, match):
    X, y = private_data(9, n=60)
    head = CertifiedLogisticRegression(lam=1e-2, sigma=10.0, random_state=0)
    model = CertifiedHead(torch_extractor(), head).fit(X, y)
    state, good = digest(model), model.extractor
    model.set_params(extractor=extractor)
    with pytest.raises(DataValidationError, match=match):
        model.fit(X, y)
    with pytest.raises(DataValidationError, match=match):
        model.predict(X)
    model.set_params(extractor=good)
    assert digest(model) == state  # the failed refit and predictions changed nothing


def test_an_extractor_with_another_output_width_is_refused_at_prediction():
    X, y = private_data(10, n=60)
    head = CertifiedLogisticRegression(lam=1e-2, sigma=10.0, random_state=0)
    model = CertifiedHead(torch_extractor(d_out=5), head).fit(X, y)
    model.set_params(extractor=torch_extractor(d_out=4))
    with pytest.raises(DataValidationError, match=r"now returns 4 features.*fitted on 5"):
        model.predict(X)


def test_nan_inputs_weights_and_unfitted_use_raise_typed_errors():
    X, y = private_data(11, n=60)
    head = CertifiedLogisticRegression(lam=1e-2, sigma=10.0, random_state=0)
    model = CertifiedHead(torch_extractor(), head)
    with pytest.raises(NotFittedError):
        model.predict(X)
    with pytest.raises(NotFittedError):
        model.unlearn([0])
    X_nan = X.copy()
    X_nan[4, 2] = np.nan
    with pytest.raises(DataValidationError):
        model.fit(X_nan, y)
    with pytest.raises(DataValidationError, match="sample_weight"):
        model.fit(X, y, sample_weight=np.ones(60))
    model.fit(X, y)
    state = digest(model)
    with pytest.raises(DataValidationError):
        model.predict(X_nan)
    with pytest.raises(DataValidationError):
        model.fit(X_nan, y)
    assert digest(model) == state


@pytest.mark.parametrize("kind", ["torch", "pca"])
def test_failed_requests_and_bad_input_follow_the_contract(kind):
    X, y = private_data(12, n=80)
    extractor = (
        torch_extractor(4)
        if kind == "torch"
        else FrozenEstimator(PCA(4).fit(np.random.default_rng(0).normal(size=(50, 6))))
    )
    model = CertifiedHead(extractor, CertifiedLogisticRegression(sigma=10.0, random_state=0))
    check_unlearning_atomic(model, X, y)
    check_unlearning_input_validation(model, X, y)


# -- persistence and scikit-learn conventions ----------------------------------------------------
def test_save_and_load_keep_the_extractor_the_head_and_the_future(tmp_path):
    X, y = private_data(13)
    head = CertifiedLogisticRegression(lam=1e-3, residual_budget=0.05, random_state=3)
    model = CertifiedHead(torch_extractor(5), head).fit(X, y)
    for i in range(5):
        model.unlearn([i])
    loaded = CertifiedHead.load(model.save(tmp_path / "head.ukit"))
    assert isinstance(loaded.extractor, nn.Module)
    for a, b in zip(
        model.extractor.state_dict().values(), loaded.extractor.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b)
    assert loaded.fingerprint() == model.fingerprint()
    assert loaded.accountant_ == model.accountant_
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    retrained = 0
    for i in range(5, 40):
        a, b = model.unlearn([i]), loaded.unlearn([i])
        assert a.fingerprint_after == b.fingerprint_after
        assert a.evidence == b.evidence
        retrained += a.evidence["retrained"]
    assert retrained >= 1


def test_parameters_clone_and_guarantee_follow_scikit_learn_conventions():
    net = torch_extractor()
    model = CertifiedHead(net, CertifiedLogisticRegression(epsilon=0.5, delta=1e-6))
    params = model.get_params()
    assert params["head__epsilon"] == 0.5
    assert params["feature_scale"] == "normalize"
    model.set_params(head__lam=0.1)
    assert model.head.lam == 0.1
    copy = clone(model)
    assert copy.get_params()["head__lam"] == 0.1
    assert copy.extractor is not net  # the module is copied, weights and all
    assert torch.equal(copy.extractor[0].weight, net[0].weight)
    assert model.guarantee == Guarantee.certified(0.5, 1e-6)
    assert CertifiedHead(net).guarantee == Guarantee.certified(1.0, 1e-4)
    assert is_classifier(CertifiedHead(net))
    X, y = private_data(14, n=80)
    fitted = clone(model).fit(X, y)
    assert fitted.guarantee == Guarantee.certified(0.5, 1e-6)
    assert fitted.head_ is not model.head  # the head parameter is cloned, never fitted in place
    assert not hasattr(model.head, "coef_")


def test_docstring_examples_run():
    import unlearnkit.certified.head as head_module

    result = doctest.testmod(head_module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
