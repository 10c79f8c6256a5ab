"""Adapters give every classifier the same view: probabilities, labels and per-sample loss."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from unlearnkit.errors import DataValidationError, InvalidParameterError
from unlearnkit.evaluate import adapters
from unlearnkit.evaluate.adapters import SklearnAdapter, TorchAdapter, as_classifier
from unlearnkit.evaluate.errors import ClassMismatchError
from unlearnkit.exact import GaussianNBUnlearner

torch = pytest.importorskip("torch")


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    y = np.where(X[:, 0] + 0.3 * rng.normal(size=80) > 0, "yes", "no")
    return X, y


def test_sklearn_predict_proba_is_used_and_loss_matches_log_loss(data):
    X, y = data
    model = LogisticRegression().fit(X, y)
    a = as_classifier(model)
    assert isinstance(a, SklearnAdapter)
    np.testing.assert_allclose(a.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(a.predict(X), model.predict(X))
    col = np.searchsorted(model.classes_, y)
    expected = -np.log(model.predict_proba(X)[np.arange(len(y)), col])
    np.testing.assert_allclose(a.loss(X, y), expected)


def test_binary_decision_function_becomes_sigmoid(data):
    X, y = data
    svc = LinearSVC().fit(X, y)
    p = as_classifier(svc).predict_proba(X)
    np.testing.assert_allclose(p[:, 1], 1 / (1 + np.exp(-svc.decision_function(X))))
    np.testing.assert_array_equal(as_classifier(svc).predict(X), svc.predict(X))


def test_multiclass_decision_function_becomes_softmax():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(90, 2))
    y = rng.integers(0, 3, 90)
    svc = LinearSVC().fit(X, y)
    p = as_classifier(svc).predict_proba(X)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_array_equal(p.argmax(axis=1), svc.decision_function(X).argmax(axis=1))


def test_unlearners_are_adapted(data):
    X, y = data
    nb = GaussianNBUnlearner().fit(X, y)
    np.testing.assert_allclose(as_classifier(nb).predict_proba(X), nb.predict_proba(X))


def test_torch_module_eval_mode_no_grad_batches_and_restores_training():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Dropout(0.5), torch.nn.Linear(8, 3))
    net.train()
    X = np.random.default_rng(0).normal(size=(37, 4)).astype(np.float32)
    a = as_classifier(net, batch_size=5)
    assert isinstance(a, TorchAdapter)
    p1 = a.predict_proba(X)
    p2 = a.predict_proba(X)
    np.testing.assert_array_equal(p1, p2)  # dropout off: deterministic
    assert net.training  # the module's mode is restored
    with torch.no_grad():
        net.eval()
        expected = torch.softmax(net(torch.from_numpy(X)), dim=1).double().numpy()
    np.testing.assert_allclose(p1, expected, rtol=1e-5)
    assert a.classes_.tolist() == [0, 1, 2]
    y = np.array([0, 1, 2] * 12 + [0])
    np.testing.assert_allclose(a.loss(X, y), -np.log(p1[np.arange(37), y]), rtol=1e-6)


def test_torch_predict_works_on_a_fresh_adapter_without_classes():
    torch.manual_seed(0)
    net = torch.nn.Linear(4, 3)
    X = np.random.default_rng(1).normal(size=(6, 4)).astype(np.float32)
    predicted = as_classifier(net).predict(X)
    with torch.no_grad():
        expected = net(torch.from_numpy(X)).argmax(dim=1).numpy()
    np.testing.assert_array_equal(predicted, expected)


def test_torch_input_shape_and_classes():
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Flatten(), torch.nn.Linear(8, 2))
    a = as_classifier(net, input_shape=(1, 4, 4), classes=["cat", "dog"])
    X = np.zeros((3, 16))
    assert a.predict_proba(X).shape == (3, 2)
    assert set(a.predict(X)) <= {"cat", "dog"}


def test_torch_classes_count_mismatch_is_typed():
    a = as_classifier(torch.nn.Linear(2, 3), classes=[0, 1])
    with pytest.raises(ClassMismatchError, match="3 logits but 2 classes"):
        a.predict_proba(np.zeros((2, 2)))


def test_bad_models_and_labels_are_typed_errors(data):
    X, y = data
    with pytest.raises(InvalidParameterError, match="neither predict_proba"):
        as_classifier(object())
    with pytest.raises(InvalidParameterError, match="fit the classifier"):
        as_classifier(LogisticRegression())
    with pytest.raises(InvalidParameterError, match="PyTorch modules only"):
        as_classifier(LogisticRegression().fit(X, y), batch_size=3)
    a = as_classifier(LogisticRegression().fit(X, y))
    with pytest.raises(ClassMismatchError, match="'maybe'"):
        a.loss(X[:2], np.array(["yes", "maybe"]))
    with pytest.raises(DataValidationError, match="must match"):
        a.loss(X[:3], y[:2])
    with pytest.raises(InvalidParameterError, match="first forward"):
        _ = TorchAdapter(torch.nn.Linear(2, 2)).classes_


def test_module_doctests():
    assert doctest.testmod(adapters, optionflags=doctest.ELLIPSIS).failed == 0
