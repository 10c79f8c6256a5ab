"""The audit's verdict can fail: exact unlearning passes, pretending does not, over seeds."""

from __future__ import annotations

import doctest
import importlib
import json

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.tree import DecisionTreeClassifier

from unlearnkit.data import Samples
from unlearnkit.errors import DataValidationError, InvalidParameterError, UnknownIdError
from unlearnkit.evaluate import report as report_module
from unlearnkit.evaluate.audit import AuditConfig, audit
from unlearnkit.evaluate.errors import ClassMismatchError
from unlearnkit.evaluate.shadow import fit_clone
from unlearnkit.exact import GaussianNBUnlearner, KNeighborsClassifierUnlearner

SEEDS = (0, 1, 2)
FAST = {"n_shadow": 8, "config": AuditConfig(n_pairs=4, n_bootstrap=100)}


def _task(seed, n=600, n_train=400, n_forget=100):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6))
    y = (X[:, 0] + X[:, 1] + 1.5 * rng.normal(size=n) > 0).astype(int)
    ids = np.arange(1000, 1000 + n_train)
    data = Samples(X[:n_train], y[:n_train], ids=ids)
    test = Samples(X[n_train:], y[n_train:])
    forget = rng.choice(ids, n_forget, replace=False).tolist()
    return data, test, forget


def _exact(cls, data, forget, **params):
    model = cls(**params).fit(data.X, data.y, sample_ids=data.ids)
    model.unlearn(forget)
    return model


@pytest.mark.parametrize("seed", SEEDS)
def test_exact_unlearning_of_a_memorising_model_passes(seed):
    data, test, forget = _task(seed)
    model = _exact(KNeighborsClassifierUnlearner, data, forget, n_neighbors=1)
    report = audit(model, data=data, forget_ids=forget, test=test, random_state=seed, **FAST)
    assert report.verdict == "forgotten", report.reason
    assert report.confidence > 0.9
    assert report.metrics["u-lira.auc"] == pytest.approx(0.5)
    assert report.metrics["neurips.forgetting_quality"] == pytest.approx(1.0)
    assert report.metrics["avg_gap"] == pytest.approx(0.0)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("forget_share", [0.0, 0.1])
def test_pretending_on_an_overfit_model_fails(seed, forget_share, NoOpTree):
    data, test, forget = _task(seed)
    model = NoOpTree(forget_share=forget_share, random_state=seed).fit(
        data.X, data.y, sample_ids=data.ids
    )
    model.unlearn(forget)
    report = audit(model, data=data, forget_ids=forget, test=test, random_state=seed, **FAST)
    assert report.verdict == "not_forgotten", report.reason
    assert report.confidence > 0.95
    assert report.metrics["loss.auc"] > report.metrics["reference.loss.auc"] + 0.1


def test_without_shadow_models_the_simple_attacks_still_decide(NoOpTree):
    data, test, forget = _task(0)
    attacks = ("loss", "mia_efficacy")
    exact = _exact(GaussianNBUnlearner, data, forget)
    assert audit(exact, data=data, forget_ids=forget, test=test, attacks=attacks).passed
    noop = NoOpTree().fit(data.X, data.y)
    verdict = audit(
        noop,
        data=data,
        forget_ids=forget,
        test=test,
        attacks=attacks,
        retrain=fit_clone(DecisionTreeClassifier()),
    ).verdict
    assert verdict == "not_forgotten"


def test_no_reference_compares_with_chance_and_says_so(NoOpTree):
    data, test, forget = _task(3)
    noop = NoOpTree().fit(data.X, data.y)
    report = audit(noop, data=data, forget_ids=forget, test=test, attacks=("loss",), retrain=None)
    # NoOpTree is a scikit-learn estimator, so the audit clones it for a reference:
    assert any("clones" in n for n in report.notes)
    model = _TorchLike(noop)
    report = audit(model, data=data, forget_ids=forget, test=test, attacks=("loss", "lira"))
    assert report.verdict == "not_forgotten"
    assert report.evidence[0]["auc_reference"] == 0.5
    assert any("retrain" in n for n in report.notes)


class _TorchLike:
    """A classifier the audit cannot clone (as a PyTorch module or a remote model)."""

    def __init__(self, model):
        self.model = model
        self.classes_ = model.classes_

    def predict_proba(self, X):
        return self.model.predict_proba(X)


def test_too_few_samples_is_inconclusive_never_confident():
    data, test, forget = _task(0, n_forget=8)
    model = DecisionTreeClassifier(random_state=0).fit(data.X, data.y)
    report = audit(model, data=data, forget_ids=forget, test=test, attacks=("loss",))
    assert report.verdict == "inconclusive"
    assert "8 forget samples" in report.reason
    assert report.confidence == 0.0
    data, test, forget = _task(0, n=410)
    report = audit(model, data=data, forget_ids=forget, test=test, attacks=("loss",))
    assert report.verdict == "inconclusive"
    assert "10 held-out samples" in report.reason


def test_small_but_sufficient_data_gives_inconclusive_when_intervals_are_wide():
    # A different model family as the reference, on little data: the AUC difference is noisy.
    data, test, forget = _task(4, n=260, n_train=200, n_forget=25)
    model = LogisticRegression().fit(data.drop(forget).X, data.drop(forget).y)
    report = audit(
        model,
        data=data,
        forget_ids=forget,
        test=test,
        attacks=("loss",),
        reference=DecisionTreeClassifier(max_depth=3, random_state=1).fit(
            data.drop(forget).X, data.drop(forget).y
        ),
    )
    assert report.verdict == "inconclusive"
    assert "too weak" in report.reason


def test_reference_trained_on_the_forget_set_is_detected():
    data, test, forget = _task(5)
    overfit = _exact(KNeighborsClassifierUnlearner, data, forget, n_neighbors=1)
    leaked = KNeighborsClassifierUnlearner(n_neighbors=1).fit(data.X, data.y)
    report = audit(
        overfit, data=data, forget_ids=forget, test=test, reference=leaked, attacks=("loss",)
    )
    assert report.verdict == "inconclusive"
    assert "reference itself separates" in report.reason


def test_bad_input_is_typed():
    data, test, forget = _task(0)
    model = GaussianNB().fit(data.X, data.y)
    with pytest.raises(UnknownIdError, match="5"):
        audit(model, data=data, forget_ids=[5], test=test)
    with pytest.raises(InvalidParameterError, match="Unknown attacks"):
        audit(model, data=data, forget_ids=forget, test=test, attacks=("loss", "magic"))
    with pytest.raises(DataValidationError, match="empty"):
        audit(model, data=data, forget_ids=[], test=test)
    with pytest.raises(DataValidationError, match="labels"):
        audit(model, data=Samples(data.X), forget_ids=forget, test=test)
    three = GaussianNB().fit(data.X, np.r_[data.y[:-1], 2])
    with pytest.raises(ClassMismatchError, match="classes"):
        audit(model, data=data, forget_ids=forget, test=test, reference=three)
    one_class = GaussianNB().fit(data.X, np.zeros(len(data), dtype=int))
    with pytest.raises(ClassMismatchError, match=r"does not know labels \[1\]"):
        audit(one_class, data=data, forget_ids=forget, test=test, attacks=("loss",))
    with pytest.raises(InvalidParameterError, match="margin"):
        AuditConfig(margin=0.7)
    with pytest.raises(InvalidParameterError, match="n_models"):
        AuditConfig(n_models=1)


def test_no_test_data_is_inconclusive_with_utility_only():
    data, _, forget = _task(0)
    model = _exact(GaussianNBUnlearner, data, forget)
    report = audit(model, data=data, forget_ids=forget)
    assert report.verdict == "inconclusive"
    assert "held-out" in report.reason
    assert set(report.metrics) == {"UA", "RA"}


def test_report_json_html_and_per_sample_ids(tmp_path, NoOpTree):
    data, test, forget = _task(0)
    data = Samples(data.X, data.y, ids=[f"s{i}" for i in range(len(data))])
    forget = [f"s{i}" for i in range(60)]
    model = NoOpTree().fit(data.X, data.y)
    report = audit(
        model,
        data=data,
        forget_ids=forget,
        test=test,
        original=model,
        attacks=("loss", "mia_efficacy", "lira", "neurips", "deletions"),
        n_shadow=4,
        config=AuditConfig(n_pairs=4, n_models=6, n_bootstrap=100),
    )
    payload = json.loads(report.to_json(tmp_path / "a.json"))
    assert payload["verdict"] == report.verdict == "not_forgotten"
    assert set(payload["per_sample"]["loss_unlearned"]) == set(forget)
    assert set(report.per_sample["epsilon"]) == set(forget)
    assert payload["forgetting_score"]["n_models"] == 6
    assert "original.TA" in report.metrics
    assert report.deletions is not None
    html = report.to_html(tmp_path / "a.html")
    assert html.count("<img") == 3  # ROC curves, epsilon histogram, utility vs deletions
    assert "not_forgotten" in (tmp_path / "a.html").read_text()


def test_deletion_curve_in_the_report():
    data, test, forget = _task(0)
    model = _exact(GaussianNBUnlearner, data, forget)
    report = audit(model, data=data, forget_ids=forget, test=test, attacks=("loss", "deletions"))
    assert report.deletions is not None
    assert report.deletions.n_deleted.tolist() == [1, 10, 100]
    np.testing.assert_allclose(
        report.deletions.test_accuracy, report.deletions.reference_test_accuracy
    )
    assert report.to_html().count("<img") == 2


def test_module_doctests():
    audit_module = importlib.import_module("unlearnkit.evaluate.audit")
    for module in (audit_module, report_module):
        assert doctest.testmod(module, optionflags=doctest.ELLIPSIS).failed == 0


def _torch_train(X, y, random_state=None):
    import torch

    torch.manual_seed(0 if random_state is None else int(random_state) % 2**31)
    net = torch.nn.Sequential(torch.nn.Linear(6, 48), torch.nn.ReLU(), torch.nn.Linear(48, 2))
    opt = torch.optim.Adam(net.parameters(), lr=0.05)
    Xt = torch.as_tensor(np.asarray(X), dtype=torch.float32)
    yt = torch.as_tensor(np.asarray(y), dtype=torch.long)
    for _ in range(120):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(Xt), yt).backward()
        opt.step()
    return net


def test_audit_of_pytorch_classifiers():
    pytest.importorskip("torch")
    data, test, forget = _task(6, n=500, n_train=300, n_forget=60)
    kept = data.drop(forget)
    exact = _torch_train(kept.X, kept.y)
    report = audit(
        exact,
        data=data,
        forget_ids=forget,
        test=test,
        retrain=_torch_train,
        attacks=("loss", "mia_efficacy", "lira"),
        n_shadow=2,
    )
    assert report.verdict == "forgotten", report.reason
    assert report.metrics["parameter_distance"] == 0.0
    noop = _torch_train(data.X, data.y)
    report = audit(
        noop,
        data=data,
        forget_ids=forget,
        test=test,
        retrain=_torch_train,
        attacks=("loss", "mia_efficacy", "lira"),
        n_shadow=2,
    )
    assert report.verdict == "not_forgotten", report.reason
    assert report.metrics["parameter_distance"] > 0.0


def test_fairness_and_backdoor_metrics_for_each_model():
    data, test, forget = _task(0)
    test = Samples(test.X, test.y, groups={"sex": np.arange(len(test)) % 2})
    model = _exact(GaussianNBUnlearner, data, forget)
    triggered = np.zeros((30, 6)) + 3.0
    report = audit(
        model,
        data=data,
        forget_ids=forget,
        test=test,
        original=model,
        attacks=("loss",),
        sensitive="sex",
        backdoor=(triggered, 1),
    )
    for prefix in ("", "original.", "reference."):
        assert 0 <= report.metrics[f"{prefix}demographic_parity_difference"] <= 1
        assert f"{prefix}equalized_odds_difference" in report.metrics
    assert report.metrics["backdoor_success"] == report.metrics["reference.backdoor_success"]
    with pytest.raises(DataValidationError, match="nope"):
        audit(model, data=data, forget_ids=forget, test=test, attacks=("loss",), sensitive="nope")
