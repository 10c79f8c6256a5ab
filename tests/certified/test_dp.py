"""DP-SGD with Opacus (DPTrainer), group privacy, and DPClassifier's covered removals.

The epsilons are recomputed with Opacus's accountants from the reported noise, sample rate and
steps; the group-privacy figures by hand.
"""

from __future__ import annotations

import doctest
import hashlib
import math
import pickle

import numpy as np
import pytest
import torch
from opacus.accountants import create_accountant
from torch import nn

from unlearnkit.certified import (
    DPClassifier,
    DPTrainer,
    covered_removals,
    group_privacy,
    mlp,
)
from unlearnkit.certified.dp import RDP_ORDERS
from unlearnkit.checks import check_unlearning_atomic, check_unlearning_input_validation
from unlearnkit.errors import DataValidationError, InvalidParameterError
from unlearnkit.guarantees import Guarantee
from unlearnkit.registry import methods
from unlearnkit.requests import ForgetRequest

torch.set_num_threads(1)


def blobs(seed: int = 0, n: int = 200, d: int = 5, classes: int = 2, spread: float = 2.0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % classes
    centers = rng.normal(scale=spread, size=(classes, d))
    return (centers[y] + rng.normal(size=(n, d))).astype(np.float64), y


def small_net(n_features: int, n_classes: int) -> nn.Module:
    return nn.Sequential(nn.Linear(n_features, 8), nn.ReLU(), nn.Linear(8, n_classes))


def wide_net(n_features: int, n_classes: int) -> nn.Module:
    return nn.Linear(n_features, n_classes + 1)  # one logit too many


def not_a_net(n_features: int, n_classes: int) -> object:
    return object()


def batchnorm_net(n_features: int, n_classes: int) -> nn.Module:
    return nn.Sequential(nn.Linear(n_features, 8), nn.BatchNorm1d(8), nn.Linear(8, n_classes))


def weights_of(module: nn.Module) -> list[torch.Tensor]:
    return [t.clone() for t in module.state_dict().values()]


def same_weights(a: nn.Module, b: nn.Module) -> bool:
    return all(torch.equal(x, z) for x, z in zip(weights_of(a), weights_of(b), strict=True))


def digest(model) -> str:
    return hashlib.sha256(pickle.dumps(model.__dict__, protocol=5)).hexdigest()


def recomputed_epsilon(report) -> float:
    """The epsilon Opacus's accountant gives for the reported noise, sample rate and steps."""
    acc = create_accountant(report.accountant)
    acc.history = [(report.noise_multiplier, report.sample_rate, report.steps)]
    if report.accountant == "rdp":
        return float(acc.get_epsilon(report.delta, alphas=list(RDP_ORDERS)))
    return float(acc.get_epsilon(report.delta))


# -- group privacy ---------------------------------------------------------------------------------
def test_group_privacy_matches_hand_computed_values():
    assert group_privacy(1.0, 1e-5, 1) == (1.0, 1e-5)
    eps, delta = group_privacy(1.0, 1e-5, 3)
    assert eps == 3.0
    assert delta == pytest.approx(3 * 7.38905609893065 * 1e-5, rel=1e-12)  # 3 e^2 delta
    eps, delta = group_privacy(0.25, 2e-6, 5)
    assert eps == 1.25
    assert delta == pytest.approx(5 * 2.718281828459045 * 2e-6, rel=1e-12)  # 5 e^1 delta
    assert group_privacy(0.7, 1e-5, 0) == (0.0, 0.0)
    assert group_privacy(0.5, 0.0, 4) == (2.0, 0.0)
    assert group_privacy(1.0, 1e-5, 2000)[1] == math.inf
    for args in [
        (1.0, 1e-5, -1),
        (1.0, 1e-5, 1.5),
        (0.0, 1e-5, 1),
        (1.0, 1.0, 1),
        (1.0, 1e-5, True),
    ]:
        with pytest.raises(InvalidParameterError):
            group_privacy(*args)


def test_covered_removals_matches_hand_computed_values():
    # k eps <= 4 stops at 4; 4 e^3 1e-5 = 8.0e-4 <= 1e-3
    assert covered_removals(1.0, 1e-5, 4.0, 1e-3) == 4
    # 5 e^4 1e-5 = 2.7e-3 > 1e-3: delta stops at 4 although epsilon would allow 10
    assert covered_removals(1.0, 1e-5, 10.0, 1e-3) == 4
    # 6 e^5 1e-5 = 8.9e-3 <= 1e-2 < 7 e^6 1e-5 = 2.8e-2
    assert covered_removals(1.0, 1e-5, 10.0, 1e-2) == 6
    assert covered_removals(0.5, 1e-6, 2.0, 0.5) == 4
    assert covered_removals(2.0, 1e-5, 1.0, 1e-3) == 0  # not even one removal
    assert covered_removals(0.5, 0.0, 2.6, 1e-9) == 5  # pure DP: epsilon alone decides
    # never rounds in its own favour: 3 * 0.1 is 0.30000000000000004 in floating point
    assert covered_removals(0.1, 1e-9, 0.3, 1e-3) == 2
    assert covered_removals(1.0, 1e-5, 4.0, 0.0) == 0
    with pytest.raises(InvalidParameterError, match="target_delta"):
        covered_removals(1.0, 1e-5, 4.0, 1.0)
    with pytest.raises(InvalidParameterError, match="target_epsilon"):
        covered_removals(1.0, 1e-5, -4.0, 1e-3)


@pytest.mark.parametrize(
    ("epsilon", "delta"), [(0.3, 1e-5), (1.0, 1e-6), (2.0, 1e-7), (0.05, 1e-5)]
)
def test_covered_removals_is_the_largest_group_within_the_target_and_monotone(epsilon, delta):
    previous = 0
    for target in np.linspace(0.05, 30.0, 240):
        k = covered_removals(epsilon, delta, float(target), 1e-2)
        assert k >= previous  # monotone in the target epsilon
        previous = k
        if k:
            eps_k, delta_k = group_privacy(epsilon, delta, k)
            assert eps_k <= target
            assert delta_k <= 1e-2
        eps_next, delta_next = group_privacy(epsilon, delta, k + 1)
        assert eps_next > target or delta_next > 1e-2
    for target_delta in (1e-6, 1e-4, 1e-2, 0.4):  # monotone in the target delta too
        ks = [covered_removals(epsilon, delta, 8.0, td) for td in (target_delta, 2 * target_delta)]
        assert ks[0] <= ks[1]


# -- DPTrainer -------------------------------------------------------------------------------------
@pytest.mark.parametrize("accountant", ["rdp", "prv"])
def test_trainer_spends_at_most_the_target_epsilon_and_reports_how(accountant):
    X, y = blobs(0)
    torch.manual_seed(0)
    net = small_net(5, 2)
    trainer = DPTrainer(epsilon=1.0, accountant=accountant, epochs=2, batch_size=40, random_state=0)
    report = trainer.train(net, X, y)
    assert report.epsilon <= 1.0
    assert report.epsilon > 0.95  # the noise is not far larger than needed
    assert report.target_epsilon == 1.0
    assert report.delta == 1e-5
    assert report.sample_rate == pytest.approx(40 / 200)
    assert report.steps == 2 * 5
    assert report.n_samples == 200
    assert len(report.losses) == 2
    assert report.epsilon == pytest.approx(recomputed_epsilon(report), rel=1e-9)
    assert report.to_dict()["accountant"] == accountant


def test_trainer_with_a_noise_multiplier_reports_the_accountants_epsilon():
    X, y = blobs(1)
    torch.manual_seed(0)
    report = DPTrainer(
        epsilon=None, noise_multiplier=1.3, accountant="rdp", epochs=3, random_state=0
    ).train(small_net(5, 2), X, y)
    assert report.target_epsilon is None
    assert report.noise_multiplier == 1.3
    assert report.steps == 3 * 4  # ceil(200 / 64) = 4 batches an epoch
    assert report.epsilon == pytest.approx(recomputed_epsilon(report), rel=1e-12)
    more = DPTrainer(
        epsilon=None, noise_multiplier=2.6, accountant="rdp", epochs=3, random_state=0
    ).train(small_net(5, 2), X, y)
    assert more.epsilon < report.epsilon  # more noise, less privacy spent


def test_gdp_accountant_is_available_with_opacus_warning():
    X, y = blobs(2)
    torch.manual_seed(0)
    with pytest.warns(UserWarning, match="GDP accounting is experimental"):
        report = DPTrainer(epsilon=2.0, accountant="gdp", epochs=1, random_state=0).train(
            small_net(5, 2), X, y
        )
    assert report.epsilon <= 2.0
    assert report.accountant == "gdp"


@pytest.mark.parametrize("mode", ["ghost", "hooks"])
def test_trainer_is_deterministic_given_a_seed_and_leaves_no_gradient_traces(mode):
    X, y = blobs(3)

    def trained(init: int, seed: int) -> nn.Module:
        torch.manual_seed(init)
        net = small_net(5, 2)
        net.eval()
        DPTrainer(
            epsilon=None, noise_multiplier=1.0, epochs=2, random_state=seed, grad_sample_mode=mode
        ).train(net, X, y)
        return net

    a, b, c = trained(0, 7), trained(0, 7), trained(0, 8)
    assert same_weights(a, b)
    assert not same_weights(a, c)  # other Poisson batches and noise
    assert not a.training  # its mode is restored
    for p in a.parameters():
        assert p.grad is None
        assert not {"grad_sample", "summed_grad", "_forward_counter"} & set(p.__dict__)
    assert not a._forward_hooks
    assert not a[0]._forward_hooks
    assert not a[0]._backward_hooks
    # the trained module pickles as a plain module
    assert same_weights(pickle.loads(pickle.dumps(a)), a)


def test_ghost_clipping_and_materialised_per_sample_gradients_give_the_same_training():
    """Both clip each per-sample gradient exactly; with the same batches and noise the
    weights agree up to floating-point rounding."""
    X, y = blobs(15)
    nets = []
    for mode in ("ghost", "hooks"):
        torch.manual_seed(0)
        net = small_net(5, 2)
        trainer = DPTrainer(
            epsilon=None, noise_multiplier=0.8, epochs=3, random_state=1, grad_sample_mode=mode
        )
        trainer.train(net, X, y)
        nets.append(net)
    for a, b in zip(weights_of(nets[0]), weights_of(nets[1]), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    "params",
    [
        {"grad_sample_mode": "functorch"},
        {"epsilon": None},
        {"epsilon": 1.0, "noise_multiplier": 1.0},
        {"epsilon": 0.0},
        {"epsilon": None, "noise_multiplier": -1.0},
        {"delta": 1.0},
        {"accountant": "moments"},
        {"lr": 0.0},
        {"max_grad_norm": math.inf},
        {"momentum": 1.0},
        {"epochs": 0},
        {"batch_size": 2.5},
        {"random_state": "seed"},
    ],
)
def test_trainer_refuses_bad_parameters(params):
    with pytest.raises(InvalidParameterError):
        DPTrainer(**params)


def test_trainer_refuses_bad_data_and_modules():
    X, y = blobs(4, n=60)
    trainer = DPTrainer(epsilon=None, noise_multiplier=1.0, epochs=1, random_state=0)
    X_nan = X.copy()
    X_nan[3, 1] = np.nan
    with pytest.raises(DataValidationError, match="NaN"):
        trainer.train(small_net(5, 2), X_nan, y)
    with pytest.raises(DataValidationError, match="integer class indices"):
        trainer.train(small_net(5, 2), X, y.astype(float))
    with pytest.raises(DataValidationError, match="one class index per row"):
        trainer.train(small_net(5, 2), X, y[:-1])
    with pytest.raises(InvalidParameterError, match="at least 3 outputs"):
        trainer.train(small_net(5, 2), X, np.arange(60) % 3)
    with pytest.raises(InvalidParameterError, match="Opacus cannot train"):
        trainer.train(batchnorm_net(5, 2), X, y)
    with pytest.raises(InvalidParameterError, match=r"torch\.nn\.Module"):
        trainer.train(lambda x: x, X, y)
    with pytest.raises(InvalidParameterError, match="No noise multiplier"):
        DPTrainer(epsilon=1e-6, delta=1e-12, epochs=50, batch_size=60, accountant="rdp").train(
            small_net(5, 2), X, y
        )


# -- DPClassifier ----------------------------------------------------------------------------------
def classifier(**params) -> DPClassifier:
    base = {
        "module_factory": small_net,
        "epsilon": 0.5,
        "accountant": "rdp",
        "epochs": 1,
        "batch_size": 40,
        "removal_epsilon": 2.0,
        "removal_delta": 1e-3,
        "random_state": 0,
    }
    return DPClassifier(**{**base, **params})


def test_removals_within_coverage_leave_the_model_bit_identical_with_the_group_epsilon():
    X, y = blobs(5)
    ids = np.arange(200) + 1000
    model = classifier().fit(X, y, sample_ids=ids)
    privacy = model.privacy_
    assert privacy.epsilon <= 0.5
    covered = model.covered_removals_
    assert covered == covered_removals(privacy.epsilon, privacy.delta, 2.0, 1e-3)
    assert covered == 4  # floor(2.0 / 0.49...) with delta 4 e^1.5 1e-5 = 1.8e-4 <= 1e-3
    assert model.guarantee == Guarantee.certified(privacy.epsilon, privacy.delta)
    before = weights_of(model.module_)
    fingerprint = model.fingerprint()
    removed = 0
    for request in ([1003], [1010, 1011], [1020]):
        result = model.unlearn(request)
        removed += len(request)
        eps, delta = group_privacy(privacy.epsilon, privacy.delta, removed)
        assert eps == pytest.approx(removed * privacy.epsilon, rel=1e-15)
        assert delta == pytest.approx(
            removed * math.exp((removed - 1) * privacy.epsilon) * privacy.delta, rel=1e-12
        )
        assert result.guarantee == Guarantee.certified(eps, delta)
        assert model.guarantee == result.guarantee
        assert not result.changed
        assert result.retrained_fraction == 0.0
        ev = result.evidence
        assert not ev["retrained"]
        assert ev["removals_since_training"] == removed == model.removals_since_training_
        assert (ev["group_epsilon"], ev["group_delta"]) == (eps, delta)
        assert model.fingerprint() == fingerprint
        assert all(
            torch.equal(a, b) for a, b in zip(before, weights_of(model.module_), strict=True)
        )
        assert model.privacy_ is privacy
    assert removed == covered
    assert not {1003, 1010, 1011, 1020} & set(model.sample_ids_.tolist())


def test_the_retrain_happens_exactly_past_coverage_and_the_count_restarts():
    X, y = blobs(6)
    model = classifier().fit(X, y)
    covered = model.covered_removals_
    assert covered >= 2
    for i in range(covered):
        assert not model.unlearn([i]).evidence["retrained"]
    old = weights_of(model.module_)
    result = model.unlearn([covered])  # one past coverage
    ev = result.evidence
    assert ev["retrained"]
    assert ev["removals_beyond_coverage"] == covered + 1
    assert result.retrained_fraction == 1.0
    assert result.changed
    assert not all(torch.equal(a, b) for a, b in zip(old, weights_of(model.module_), strict=True))
    assert model.removals_since_training_ == 0
    assert model.privacy_.n_samples == 200 - (covered + 1) == model.n_samples_
    assert model.privacy_.epsilon <= 0.5
    assert ev["training"] == model.privacy_.to_dict()
    assert result.guarantee == Guarantee.certified(model.privacy_.epsilon, model.privacy_.delta)
    # coverage restarts on the retrained model
    assert model.covered_removals_ == ev["covered_removals_after"]
    nxt = model.unlearn([covered + 1])
    assert not nxt.evidence["retrained"]
    assert not nxt.changed
    # a request larger than the coverage retrains at once
    big = model.unlearn(list(range(covered + 2, 2 * covered + 3)))
    assert big.evidence["retrained"]
    assert big.evidence["removals_beyond_coverage"] == covered + 2


def test_the_retrain_is_dp_sgd_on_the_retained_rows_only():
    X, y = blobs(7)
    model = classifier(removal_epsilon=0.1).fit(X, y)  # covers nothing: every removal retrains
    assert model.covered_removals_ == 0
    result = model.unlearn(ForgetRequest.group(lambda t: (t["x0"] > 1.0).to_numpy()))
    assert result.evidence["retrained"]
    keep = np.isin(np.arange(200), model.sample_ids_)
    assert model.privacy_.n_samples == keep.sum() == 200 - len(result.removed_ids)
    # by hand: the second pair of seeds random_state gives (the first went to fit), a fresh
    # module, and DPTrainer on the retained rows
    seeds = np.random.default_rng(0).integers(0, 2**62, size=(2, 2))
    torch.manual_seed(int(seeds[1, 0]))
    net = small_net(5, 2)
    trainer = DPTrainer(
        epsilon=0.5, accountant="rdp", epochs=1, batch_size=40, random_state=int(seeds[1, 1])
    )
    report = trainer.train(net, X[keep].astype(np.float32), y[keep])
    assert same_weights(net, model.module_)
    assert report == model.privacy_


def test_fit_is_deterministic_given_random_state():
    X, y = blobs(8, classes=3)
    a, b = classifier(random_state=3).fit(X, y), classifier(random_state=3).fit(X, y)
    c = classifier(random_state=4).fit(X, y)
    assert same_weights(a.module_, b.module_)
    assert a.fingerprint() == b.fingerprint()
    assert not same_weights(a.module_, c.module_)
    assert a.fingerprint() != c.fingerprint()
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def test_save_and_load_keep_the_model_coverage_and_the_future(tmp_path):
    X, y = blobs(9)
    model = classifier(random_state=5).fit(X, y)
    model.unlearn([0])
    loaded = DPClassifier.load(model.save(tmp_path / "dp.ukit"))
    assert loaded.fingerprint() == model.fingerprint()
    assert loaded.privacy_ == model.privacy_
    assert loaded.removals_since_training_ == 1
    assert loaded.guarantee == model.guarantee
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    request = list(range(1, model.covered_removals_ + 1))  # one beyond coverage: a retrain
    a, b = model.unlearn(request), loaded.unlearn(request)
    assert a.evidence["retrained"]
    assert b.evidence["retrained"]
    assert a.fingerprint_after == b.fingerprint_after
    assert a.evidence == b.evidence


def test_predictions_labels_and_learning():
    X, y = blobs(10, n=240, classes=3, spread=4.0)
    labels = np.array(["ant", "bee", "cat"])[y]
    model = classifier(epsilon=8.0, epochs=5, lr=0.5).fit(X, labels)
    assert model.classes_.tolist() == ["ant", "bee", "cat"]
    proba = model.predict_proba(X[:9])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(np.exp(model.predict_log_proba(X[:9])), proba, rtol=1e-5)
    np.testing.assert_array_equal(model.classes_[np.argmax(proba, axis=1)], model.predict(X[:9]))
    assert model.score(X, labels) > 0.9
    assert not model.module_.training


def test_default_module_is_an_mlp():
    X, y = blobs(11, n=100)
    model = DPClassifier(
        epsilon=None, noise_multiplier=1.0, accountant="rdp", epochs=1, random_state=0
    ).fit(X, y)
    layers = list(model.module_)
    assert [type(m) for m in layers] == [nn.Linear, nn.ReLU, nn.Linear]
    assert (layers[0].in_features, layers[0].out_features, layers[2].out_features) == (5, 64, 2)
    net = mlp(4, 3, hidden=(6, 5))
    assert [m.out_features for m in net if isinstance(m, nn.Linear)] == [6, 5, 3]


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"accountant": "gdp"}, "accountant"),
        ({"noise_multiplier": 1.0}, "exactly one"),
        ({"epsilon": None}, "exactly one"),
        ({"module_factory": not_a_net}, "not a torch.nn.Module"),
        ({"module_factory": wide_net}, "one logit per class"),
        ({"module_factory": batchnorm_net}, "Opacus cannot train"),
        ({"removal_delta": 0.0}, "removal_delta"),
        ({"lr": -1.0}, "lr"),
    ],
)
def test_bad_parameters_raise_typed_errors_and_keep_a_fitted_model(params, match):
    X, y = blobs(12, n=80)
    model = classifier().fit(X, y)
    state, good = digest(model), model.get_params()
    model.set_params(**params)
    with pytest.raises(InvalidParameterError, match=match):
        model.fit(X, y)
    model.set_params(**good)
    assert digest(model) == state  # the failed refit left the fitted model as it was


def test_bad_data_raises_typed_errors():
    X, y = blobs(13, n=80)
    model = classifier()
    with pytest.raises(DataValidationError, match="sample_weight"):
        model.fit(X, y, sample_weight=np.ones(80))
    with pytest.raises(DataValidationError, match="single class"):
        model.fit(X, np.zeros(80, dtype=int))
    with pytest.raises(DataValidationError, match="class labels"):
        model.fit(X, np.linspace(0, 1, 80))
    assert not model._is_fitted()


def test_failed_requests_and_bad_input_follow_the_contract():
    X, y = blobs(14, n=80, classes=3)
    model = classifier(epsilon=None, noise_multiplier=1.0)
    check_unlearning_atomic(model, X, y)
    check_unlearning_input_validation(model, X, y)


def test_registry_entry_and_guarantee_before_fit():
    info = methods.get("dp_sgd_classifier")
    assert info.cls is DPClassifier
    assert info.task == "classification"
    assert info.guarantee == Guarantee.certified(4.0, 1e-3)
    assert info.request_kinds == frozenset({"items", "group"})
    assert DPClassifier(removal_epsilon=2.0, removal_delta=1e-4).guarantee == (
        Guarantee.certified(2.0, 1e-4)
    )


def test_docstring_examples_run():
    import unlearnkit.certified.dp as dp_module

    result = doctest.testmod(dp_module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
