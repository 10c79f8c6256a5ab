"""Shadow-model attacks: LiRA, U-LiRA, RMIA and the NeurIPS-2023 forgetting score."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.tree import DecisionTreeClassifier

from unlearnkit.errors import InvalidParameterError, UnlearnError
from unlearnkit.evaluate import forgetting, lira, rmia, shadow
from unlearnkit.evaluate.errors import InsufficientDataError
from unlearnkit.evaluate.forgetting import bin_score, forgetting_score, per_example_epsilon
from unlearnkit.evaluate.lira import lira_attack, ulira_attack
from unlearnkit.evaluate.rmia import rmia_attack
from unlearnkit.evaluate.shadow import ShadowRunner, fit_clone, unlearn_by_position
from unlearnkit.exact import GaussianNBUnlearner


def _pool(n=240, seed=0, noise=1.5):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    y = (X[:, 0] + noise * rng.normal(size=n) > 0).astype(int)
    return X, y


def test_random_halves_are_balanced_and_forced_rows_always_in():
    X, y = _pool(60)
    out = ShadowRunner(fit_clone(GaussianNB()), X, y).train_random_halves(
        6, rows=np.arange(50), always=np.arange(50, 55)
    )
    assert (out.trained[:, :50].sum(axis=0) == 3).all()
    assert out.trained[:, 50:55].all()
    assert not out.trained[:, 55:].any()
    np.testing.assert_allclose(out.proba.sum(axis=2), 1.0, rtol=1e-5)
    with pytest.raises(InsufficientDataError, match="even"):
        ShadowRunner(fit_clone(GaussianNB()), X, y).train_random_halves(3)


def test_cache_reuses_trained_models(tmp_path):
    X, y = _pool(80)
    calls = []

    def train(X, y):
        calls.append(1)
        return GaussianNB().fit(X, y)

    first = ShadowRunner(train, X, y, cache=tmp_path).train_random_halves(4, seed=1)
    assert len(calls) == 4
    assert len(list(tmp_path.glob("*.joblib"))) == 4
    second = ShadowRunner(train, X, y, cache=tmp_path).train_random_halves(4, seed=1)
    assert len(calls) == 4
    np.testing.assert_array_equal(first.proba, second.proba)


def test_models_missing_a_rare_class_get_zero_columns():
    X, y = _pool(40)
    y = y.copy()
    y[0] = 2  # one sample of class 2: absent from half of the models
    out = ShadowRunner(fit_clone(GaussianNB()), X, y).train_random_halves(4)
    assert out.proba.shape == (4, 40, 3)
    lacking = ~out.trained[:, 0]
    assert np.all(out.proba[lacking][:, :, 2] == 0)


@pytest.mark.parametrize("online", [True, False])
def test_lira_separates_an_overfit_models_members_only(online):
    X, y = _pool()
    runner = ShadowRunner(fit_clone(DecisionTreeClassifier()), X, y)
    shadows = runner.train_random_halves(8, seed=0)
    members, nonmembers = np.arange(120), np.arange(120, 240)
    tree = DecisionTreeClassifier(random_state=0).fit(X[members], y[members])
    r = lira_attack(
        tree, X=X, y=y, shadows=shadows, members=members, nonmembers=nonmembers, online=online
    )
    assert r.auc > 0.7
    assert r.details["fixed_variance"] is True
    lin_shadows = ShadowRunner(fit_clone(LogisticRegression()), X, y).train_random_halves(8)
    lin = LogisticRegression().fit(X[members], y[members])
    r2 = lira_attack(
        lin, X=X, y=y, shadows=lin_shadows, members=members, nonmembers=nonmembers, online=online
    )
    assert r2.auc < r.auc - 0.1


def test_lira_needs_out_models():
    X, y = _pool(40)
    shadows = ShadowRunner(fit_clone(GaussianNB()), X, y).train_random_halves(
        2, rows=np.arange(20, 40), always=np.arange(20)
    )
    with pytest.raises(InsufficientDataError, match="did not train"):
        lira_attack(
            GaussianNB().fit(X, y),
            X=X,
            y=y,
            shadows=shadows,
            members=np.arange(10),
            nonmembers=np.arange(30, 40),
        )


def test_rmia_separates_members_and_validates_parameters():
    X, y = _pool()
    shadows = ShadowRunner(fit_clone(DecisionTreeClassifier()), X, y).train_random_halves(8)
    tree = DecisionTreeClassifier(random_state=0).fit(X[:120], y[:120])
    for online in (True, False):
        r = rmia_attack(
            tree,
            X=X,
            y=y,
            shadows=shadows,
            members=np.arange(120),
            nonmembers=np.arange(120, 240),
            online=online,
        )
        assert r.auc > 0.62
        assert r.auc_ci[0] > 0.55
    with pytest.raises(InvalidParameterError, match="gamma"):
        rmia_attack(tree, X=X, y=y, shadows=shadows, members=[0], nonmembers=[1], gamma=0.5)


def _pairs(model_factory, unlearn, X, y, forget, subsample=True, n=4):
    runner = ShadowRunner(model_factory, X, y, unlearn=unlearn)
    rest = np.setdiff1d(np.arange(len(y)), forget)
    return runner.train_pairs(n, forget=forget, rows=rest, subsample=subsample)


def test_ulira_cannot_tell_exact_unlearning_from_retraining_but_catches_a_no_op(NoOpTree):
    X, y = _pool(200)
    forget = np.arange(40)
    u, r = _pairs(fit_clone(GaussianNBUnlearner()), unlearn_by_position, X, y, forget)
    exact = ulira_attack(y=y, unlearned=u, retrained=r, forget=forget)
    assert exact.auc == pytest.approx(0.5)
    assert exact.accuracy == pytest.approx(0.5)
    u, r = _pairs(fit_clone(NoOpTree()), unlearn_by_position, X, y, forget)
    noop = ulira_attack(
        y=y, unlearned=u, retrained=r, forget=forget, model=NoOpTree().fit(X, y), X=X
    )
    assert noop.auc > 0.7
    assert noop.auc_ci[0] > 0.6
    assert noop.target_scores.shape == (40,)
    # The no-op model (trained on the forget set) looks "unlearned-by-the-method" to U-LiRA.
    assert np.mean(noop.target_scores > 0) > 0.6
    with pytest.raises(InsufficientDataError, match="3"):
        ulira_attack(y=y, unlearned=_first(u, 2), retrained=_first(r, 2), forget=forget)


def _first(outs, k):
    return shadow.ModelOutputs(outs.proba[:k], outs.trained[:k], outs.forgotten[:k], outs.seeds[:k])


def test_pairs_need_an_unlearn_function():
    X, y = _pool(40)
    with pytest.raises(InvalidParameterError, match="unlearn"):
        ShadowRunner(fit_clone(GaussianNB()), X, y).train_pairs(3, forget=[0], rows=range(40))
    with pytest.raises(UnlearnError, match="no unlearn method"):
        _pairs(fit_clone(GaussianNB()), unlearn_by_position, X, y, np.arange(5), n=3)


def test_epsilon_and_bins():
    rng = np.random.default_rng(0)
    same = per_example_epsilon(rng.normal(size=(16, 20)), rng.normal(size=(16, 20)))
    assert same.max() < 1.0
    apart = per_example_epsilon(np.zeros((16, 3)) + 1, np.zeros((16, 3)))
    # Perfectly separable with 16 models: bounded by what 16 models can show.
    cp_bound = np.log((1 - (1 - 0.05 ** (1 / 16))) / (1 - 0.05 ** (1 / 16)))
    np.testing.assert_allclose(apart, cp_bound, rtol=1e-6)
    point = per_example_epsilon(np.ones((16, 3)), np.zeros((16, 3)), rates="point")
    np.testing.assert_allclose(point, np.log(31))  # rates floored at 1/(2N)
    # Equal up to rounding noise counts as equal.
    assert per_example_epsilon(np.ones((4, 2)) + 1e-12, np.ones((4, 2))).max() == 0.0
    np.testing.assert_allclose(bin_score([0.0, 0.49, 0.5, 1.2]), [1.0, 1.0, 0.5, 0.25])
    with pytest.raises(InsufficientDataError):
        per_example_epsilon(np.ones((1, 2)), np.ones((1, 2)))
    with pytest.raises(InvalidParameterError, match="delta"):
        per_example_epsilon(np.ones((2, 2)), np.ones((2, 2)), delta=1.0)


def _keep_everything(model, X, y, forget):
    return model


def test_forgetting_score_exact_is_perfect_noop_is_poor():
    X, y = _pool(200)
    forget, test = np.arange(30), np.arange(150, 200)
    retain = np.arange(30, 150)
    rows = np.r_[forget, retain]
    runner = ShadowRunner(fit_clone(GaussianNBUnlearner()), X, y, unlearn=unlearn_by_position)
    u, r = runner.train_pairs(4, forget=forget, rows=rows, subsample=False)
    exact = forgetting_score(y=y, unlearned=u, retrained=r, forget=forget, retain=retain, test=test)
    assert exact.score == pytest.approx(1.0)
    assert exact.epsilon.max() == 0.0
    # A deterministic model that keeps the forget set is told apart on every forget example;
    # with 16 models per side epsilon is at least 1.58 (bin 4: score 1/8).
    runner = ShadowRunner(fit_clone(GaussianNB()), X, y, unlearn=_keep_everything)
    u, r = runner.train_pairs(16, forget=forget, rows=rows, subsample=False)
    noop = forgetting_score(y=y, unlearned=u, retrained=r, forget=forget, retain=retain, test=test)
    assert noop.forgetting_quality == pytest.approx(0.125)
    assert noop.summary()["n_models"] == 16


def test_module_doctests():
    for module in (shadow, lira, rmia, forgetting):
        assert doctest.testmod(module, optionflags=doctest.ELLIPSIS).failed == 0


def test_rmia_scores_rank_like_the_likelihood_ratio_even_with_ties():
    # A 1-NN model gives probabilities 0 or 1, so many ratios tie. With the held-out set as the
    # population, RMIA's score must be a monotone function of r(x) = p(x | target) / p(x) that
    # keeps ties tied, so forget and held-out samples rank as their ratios do.
    from sklearn.metrics import roc_auc_score
    from sklearn.neighbors import KNeighborsClassifier

    X, y = _pool(900, seed=3, noise=1.0)
    shadows = ShadowRunner(fit_clone(KNeighborsClassifier(1)), X, y).train_random_halves(8)
    target = KNeighborsClassifier(1).fit(X[100:600], y[100:600])
    forget, held = np.arange(100), np.arange(600, 900)
    r = rmia_attack(target, X=X, y=y, shadows=shadows, members=forget, nonmembers=held)
    rows = np.r_[forget, held]
    p_target = target.predict_proba(X[rows])[np.arange(len(rows)), y[rows]]
    prior = shadows.proba[:, rows, y[rows]].mean(axis=0)
    ratio = np.clip(p_target, 1e-12, None) / np.clip(prior, 1e-12, None)
    expected = roc_auc_score(np.r_[np.ones(100), np.zeros(300)], ratio)
    assert r.auc == pytest.approx(expected, abs=0.02)


@pytest.mark.ray
def test_ray_backend_gives_the_same_outputs():
    pytest.importorskip("ray")
    X, y = _pool(60)
    train = fit_clone(GaussianNB())
    here = ShadowRunner(train, X, y).train_random_halves(4, seed=2)
    remote = ShadowRunner(train, X, y, backend="ray", n_jobs=1).train_random_halves(4, seed=2)
    np.testing.assert_array_equal(here.proba, remote.proba)
