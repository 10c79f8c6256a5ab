"""Training records, the backdoor scenario's pieces, and the documented examples."""

from __future__ import annotations

import doctest
import importlib

import numpy as np
import pytest
import torch

from unlearnkit import ForgetRequest, Samples
from unlearnkit.approximate import TrainConfig, methods, train, unlearn
from unlearnkit.approximate.backdoor import Trigger, poison
from unlearnkit.errors import DataValidationError, InvalidParameterError, InvalidRequestError

MODULES = [
    "unlearnkit.approximate",
    "unlearnkit.approximate.api",
    "unlearnkit.approximate.backdoor",
    "unlearnkit.approximate.training",
    "unlearnkit.approximate._run",
    *(
        f"unlearnkit.approximate.{name}"
        for name in (
            "bad_teacher",
            "boundary",
            "erase_repair",
            "finetune",
            "fisher",
            "influence",
            "l1_sparse",
            "neggrad",
            "neggrad_plus",
            "random_label",
            "salun",
            "scrub",
            "ssd",
        )
    ),
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_every_config_has_a_documented_example():
    for _, info in methods:
        assert ">>>" in (info.config.__doc__ or ""), info.config.__name__


def test_train_counts_steps_and_honours_exclude_and_relabel(data, tiny):
    a, b = tiny.make_net(), tiny.make_net()
    cfg = TrainConfig(epochs=2, batch_size=50)
    report = train(a, data, config=cfg, seed=0, device="cpu")
    assert (report.steps, report.sample_gradients, report.batch_size) == (12, 600, 50)
    report = train(
        b,
        data,
        config=cfg,
        seed=0,
        device="cpu",
        exclude=data.ids[:100],
        relabel={int(data.ids[150]): 0},
    )
    assert (report.steps, report.sample_gradients) == (8, 400)
    c = tiny.make_net()
    train(c, data, config=cfg, seed=0, device="cpu")
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters(), strict=True))
    with pytest.raises(InvalidRequestError):
        train(tiny.make_net(), data, exclude=data.ids, device="cpu")
    with pytest.raises(InvalidParameterError, match="momentum"):
        TrainConfig(momentum=1.0)


def attack_success_rate(model, X, y, trigger, target):
    """Share of the non-target inputs sent to ``target`` once the trigger is added."""
    keep = y != target
    with torch.no_grad():
        pred = model(torch.as_tensor(trigger.apply(X[keep]))).argmax(1).numpy()
    return float((pred == target).mean())


def test_trigger_and_poison():
    X = np.zeros((40, 9), dtype=np.float32)
    data = Samples(X, y=np.arange(40) % 2, ids=np.arange(100, 140))
    trig = Trigger.patch((3, 3), size=2, value=0.5)
    assert trig.indices == (4, 5, 7, 8)
    poisoned, ids = poison(data, trig, fraction=0.5, target=0, seed=0)
    rows = poisoned.rows(ids)
    assert len(ids) == 10
    assert set(data.y[rows]) == {1}
    assert set(poisoned.y[rows]) == {0}
    np.testing.assert_array_equal(poisoned.X[rows][:, [4, 5, 7, 8]], 0.5)
    others = np.setdiff1d(np.arange(40), rows)
    np.testing.assert_array_equal(poisoned.X[others], 0)
    np.testing.assert_array_equal(data.X, 0)
    with pytest.raises(InvalidParameterError):
        poison(data, trig, fraction=0.0, target=0)
    with pytest.raises(DataValidationError):
        Trigger.features([20], [1.0]).apply(X)
    with pytest.raises(InvalidParameterError):
        Trigger.patch((3, 3), size=4)


def test_ssd_on_all_of_the_poison_removes_a_backdoor_finetuning_does_not(tiny):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 8)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    clean = Samples(X, y=y)
    trig = Trigger.features([7], [6.0])
    dirty, poison_ids = poison(clean, trig, fraction=0.2, target=0, seed=0)
    net = tiny.make_net()
    net[-1] = torch.nn.Linear(32, 2)
    train(net, dirty, config=TrainConfig(epochs=20, batch_size=32), seed=0, device="cpu")
    X_test = rng.normal(size=(400, 8)).astype(np.float32)
    y_test = (X_test[:, 0] > 0).astype(int)
    before = attack_success_rate(net, X_test, y_test, trig, target=0)
    assert before > 0.8
    # fine-tuning on the retain set never sees the trigger, so the backdoor survives it
    tuned, _ = unlearn(net, dirty, ForgetRequest.items(poison_ids), method="finetune", device="cpu")
    assert attack_success_rate(tuned, X_test, y_test, trig, target=0) > 0.8
    # SSD dampens the weights that matter to the poisoned samples only: the trigger's
    new, _ = unlearn(net, dirty, ForgetRequest.items(poison_ids), method="ssd", device="cpu")
    assert attack_success_rate(new, X_test, y_test, trig, target=0) < 0.2
    assert tiny.accuracy(new, X_test, y_test) > 0.85
