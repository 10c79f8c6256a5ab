"""unlearn: every method on every request kind it supports, with the contract's promises."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset

from unlearnkit import ForgetRequest, Samples
from unlearnkit.approximate import (
    Budget,
    BudgetTooSmallError,
    FinetuneConfig,
    MethodRequestError,
    NotAClassifierError,
    SCRUBConfig,
    methods,
    model_fingerprint,
    train,
    unlearn,
)
from unlearnkit.errors import (
    DataValidationError,
    DuplicateIdError,
    InvalidParameterError,
    InvalidRequestError,
    UnknownIdError,
    UnsupportedRequestError,
)

ALL = [
    "bad_teacher",
    "boundary",
    "erase_repair",
    "finetune",
    "fisher",
    "influence_first_order",
    "influence_second_order",
    "l1_sparse",
    "neggrad",
    "neggrad_plus",
    "random_label",
    "salun",
    "scrub",
    "ssd",
]
FAST = {"fisher": {"max_samples": 60}, "influence_second_order": {"depth": 10}}


def requests(data, n_classes=3):
    ids = data.ids
    return {
        "items": ForgetRequest.items(ids[:30]),
        "group": ForgetRequest.of_subject("s3"),
        "classes": ForgetRequest.classes([2]),
        "relabel": ForgetRequest.relabel(
            {int(i): int((y + 1) % n_classes) for i, y in zip(ids[:10], data.y[:10], strict=True)}
        ),
    }


def test_registry_lists_every_method_with_config_and_kinds():
    assert methods.names() == sorted(ALL)
    for name, info in methods:
        assert info.name == name
        assert str(info.guarantee) == "approximate"
        assert info.request_kinds <= {"items", "group", "classes", "relabel", "features"}
        assert info.config().__class__ is info.config  # defaults are valid
    assert methods.get("boundary").request_kinds == {"classes"}
    assert "relabel" in methods.get("influence_second_order").request_kinds


CASES = [
    (m, k)
    for m in ALL
    for k in ("items", "group", "classes", "relabel")
    if k in methods.get(m).request_kinds
]


@pytest.mark.parametrize(("method", "kind"), CASES)
def test_every_method_returns_a_changed_copy_and_leaves_the_original(data, trained, method, kind):
    net, report = trained
    before = model_fingerprint(net)
    request = requests(data)[kind]
    new, result = unlearn(
        net,
        data,
        request,
        method=method,
        config=FAST.get(method),
        training=report,
        device="cpu",
        seed=1,
    )
    assert model_fingerprint(net) == before
    assert new is not net
    assert result.fingerprint_before == before
    assert result.fingerprint_after == model_fingerprint(new)
    # SSD leaves the model as it is when no weight is specific enough to the forget set
    assert result.changed == (method != "ssd" or result.evidence["dampened_weights"] > 0)
    assert result.guarantee.kind == "approximate"
    assert result.method == method
    assert result.kind == kind
    assert result.evidence["gradient_steps"] > 0
    assert result.retrained_fraction == pytest.approx(
        result.evidence["sample_gradients"] / report.sample_gradients
    )
    expected = (
        set(data.resolve(request)) if kind != "classes" else set(data.ids[data.y == 2].tolist())
    )
    if kind == "relabel":
        assert set(result.relabeled_ids) == expected
        assert result.removed_ids == ()
    else:
        assert set(result.removed_ids) == expected
    assert result.to_json()


@pytest.mark.parametrize("method", ["scrub", "salun", "fisher", "bad_teacher"])
def test_same_seed_same_model_other_seed_other_model(data, trained, method):
    net, _ = trained
    req = ForgetRequest.items(data.ids[:30])
    cfg = FAST.get(method)
    a = unlearn(net, data, req, method=method, config=cfg, seed=3, device="cpu").model
    b = unlearn(net, data, req, method=method, config=cfg, seed=3, device="cpu").model
    c = unlearn(net, data, req, method=method, config=cfg, seed=4, device="cpu").model
    assert model_fingerprint(a) == model_fingerprint(b) != model_fingerprint(c)


def test_the_global_random_state_is_left_alone(data, trained):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    unlearn(
        trained[0], data, ForgetRequest.items(data.ids[:30]), method="random_label", device="cpu"
    )
    assert torch.equal(torch.rand(3), expected)


CLASS_REMOVAL = {
    "boundary": {"lr": 0.01},
    "salun": {"epochs": 10, "lr": 0.01},
    "random_label": {"epochs": 10, "lr": 0.01},
    "erase_repair": {"epochs": 10, "retain_fraction": 1.0},
}


@pytest.mark.parametrize("method", sorted(CLASS_REMOVAL))
def test_class_removal_drops_forget_accuracy_and_keeps_the_rest(data, trained, method, tiny):
    net, _ = trained
    gone, kept = data.y == 2, data.y != 2
    assert tiny.accuracy(net, data.X[gone], data.y[gone]) > 0.8
    new, _ = unlearn(
        net,
        data,
        ForgetRequest.classes([2]),
        method=method,
        config=CLASS_REMOVAL[method],
        device="cpu",
    )
    assert tiny.accuracy(new, data.X[gone], data.y[gone]) < 0.35
    assert tiny.accuracy(new, data.X[kept], data.y[kept]) > 0.9


def test_ssd_dampens_weights_specific_to_a_class(data, trained, tiny):
    net, _ = trained
    gone = data.y == 2
    new, result = unlearn(
        net, data, ForgetRequest.classes([2]), method="ssd", config={"alpha": 1.0}, device="cpu"
    )
    assert result.evidence["dampened_weights"] > 0
    drop = tiny.accuracy(net, data.X[gone], data.y[gone]) - tiny.accuracy(
        new, data.X[gone], data.y[gone]
    )
    assert drop > 0.15


def _mislabeled(tiny):
    """Data whose first 40 labels are wrong, a model trained on it, and the corrections."""
    clean = tiny.make_data(1)
    wrong = clean.y.copy()
    wrong[:40] = (wrong[:40] + 1) % tiny.C
    dirty = Samples(clean.X, y=wrong, ids=clean.ids)
    net = tiny.make_net(1)
    train(net, dirty, seed=0, device="cpu")
    fix = ForgetRequest.relabel(
        {int(i): int(y) for i, y in zip(clean.ids[:40], clean.y[:40], strict=True)}
    )
    return clean, dirty, net, fix


@pytest.mark.parametrize(
    ("method", "config"),
    [
        ("finetune", {"epochs": 3}),
        ("influence_first_order", {"tau": 3.0}),
        ("influence_second_order", {"depth": 30, "scale": 10.0}),
    ],
)
def test_relabel_moves_predictions_toward_the_corrected_labels(method, config, tiny):
    clean, dirty, net, fix = _mislabeled(tiny)
    X40, y40 = clean.X[:40], clean.y[:40]
    x = torch.as_tensor(X40)
    with torch.no_grad():
        before = nn.functional.cross_entropy(net(x), torch.as_tensor(y40)).item()
    new, result = unlearn(net, dirty, fix, method=method, config=config, device="cpu")
    with torch.no_grad():
        after = nn.functional.cross_entropy(new(x), torch.as_tensor(y40)).item()
    assert after < before
    assert result.relabeled_ids == tuple(clean.ids[:40].tolist())


def test_influence_removal_raises_the_loss_of_the_removed_samples(data, trained):
    net, _ = trained
    rows = np.arange(30)
    x, y = torch.as_tensor(data.X[rows]), torch.as_tensor(data.y[rows])
    with torch.no_grad():
        before = nn.functional.cross_entropy(net(x), y).item()
    for method, cfg in [
        ("influence_first_order", {"tau": 3.0}),
        ("influence_second_order", {"depth": 30, "scale": 10.0}),
    ]:
        new, _ = unlearn(
            net, data, ForgetRequest.items(data.ids[rows]), method=method, config=cfg, device="cpu"
        )
        with torch.no_grad():
            assert nn.functional.cross_entropy(new(x), y).item() > before


@pytest.mark.parametrize(
    ("method", "config"),
    [("influence_first_order", {"tau": 3.0}), ("influence_second_order", {"scale": 10.0})],
)
def test_feature_unlearning_fits_the_model_to_the_blanked_column(data, trained, method, config):
    net, _ = trained
    X0 = data.X.copy()
    X0[:, 0] = 0
    x0, y = torch.as_tensor(X0), torch.as_tensor(data.y)
    with torch.no_grad():
        before = nn.functional.cross_entropy(net(x0), y).item()
    new, result = unlearn(net, data, ForgetRequest.features(["x0"]), method=method,
                          config=config, device="cpu")  # fmt: skip
    with torch.no_grad():
        assert nn.functional.cross_entropy(new(x0), y).item() < before
    assert result.removed_features == (0,)
    assert result.removed_ids == ()
    with pytest.raises(InvalidRequestError, match="not a column"):
        unlearn(net, data, ForgetRequest.features([8]), method=method, device="cpu")


# -- data forms ---------------------------------------------------------------------------
class _Items(Dataset):
    def __init__(self, data: Samples) -> None:
        self.data = data

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, k: int):
        return torch.as_tensor(self.data.X[k]), int(self.data.y[k]), f"row-{k}"


def test_dataloader_and_dataset_forms_give_the_same_model_as_samples(data, trained):
    net, _ = trained
    ids = torch.as_tensor(data.ids)
    loader = DataLoader(
        TensorDataset(torch.as_tensor(data.X), torch.as_tensor(data.y), ids), batch_size=64
    )
    req = ForgetRequest.items(data.ids[:30])
    a = unlearn(net, data, req, method="finetune", device="cpu").model
    b = unlearn(net, loader, req, method="finetune", device="cpu").model
    c = unlearn(
        net,
        _Items(data),
        ForgetRequest.items([f"row-{k}" for k in range(30)]),
        method="finetune",
        device="cpu",
    ).model
    assert model_fingerprint(a) == model_fingerprint(b) == model_fingerprint(c)


def test_group_requests_need_samples(data, trained):
    with pytest.raises(InvalidRequestError, match="Samples"):
        unlearn(
            trained[0],
            _Items(data),
            ForgetRequest.of_subject("s3"),
            method="finetune",
            device="cpu",
        )


# -- budgets ------------------------------------------------------------------------------
def test_step_budget_stops_early(data, trained):
    _, result = unlearn(
        trained[0],
        data,
        ForgetRequest.items(data.ids[:30]),
        method="finetune",
        config=FinetuneConfig(epochs=5),
        budget=Budget(max_steps=3),
        device="cpu",
    )
    assert result.evidence["gradient_steps"] == 3
    assert result.evidence["stopped_early"] is True


def test_time_budget_stops_early(data, trained):
    _, result = unlearn(
        trained[0],
        data,
        ForgetRequest.items(data.ids[:30]),
        method="scrub",
        config=SCRUBConfig(epochs=50, max_epochs=50),
        budget=Budget(max_seconds=0.05),
        device="cpu",
    )
    assert result.evidence["stopped_early"] is True
    assert 0 < result.evidence["gradient_steps"] < 50 * 3


def test_budget_too_small(data, trained):
    net, _ = trained
    before = model_fingerprint(net)
    with pytest.raises(BudgetTooSmallError):
        Budget(max_steps=0)
    with pytest.raises(BudgetTooSmallError):
        Budget(max_seconds=0.0)
    for method in ("ssd", "fisher", "salun", "influence_second_order", "boundary"):
        req = (
            ForgetRequest.classes([2])
            if method == "boundary"
            else ForgetRequest.items(data.ids[:100])
        )
        with pytest.raises(BudgetTooSmallError, match="budget"):
            unlearn(net, data, req, method=method, budget=Budget(max_steps=1), device="cpu")
    assert model_fingerprint(net) == before


# -- bad input ----------------------------------------------------------------------------
def test_bad_requests_raise_typed_errors_and_leave_the_model(data, trained):
    net, _ = trained
    before = model_fingerprint(net)
    with pytest.raises(InvalidRequestError):
        ForgetRequest.items([])
    with pytest.raises(InvalidRequestError, match="no training sample"):
        unlearn(net, data, ForgetRequest.of_subject("nobody"), method="finetune", device="cpu")
    with pytest.raises(InvalidRequestError, match="all 300"):
        unlearn(net, data, ForgetRequest.items(data.ids), method="finetune", device="cpu")
    with pytest.raises(InvalidRequestError, match="all 300"):
        unlearn(net, data, ForgetRequest.classes([0, 1, 2]), method="finetune", device="cpu")
    with pytest.raises(UnknownIdError, match="999999"):
        unlearn(net, data, [data.ids[0], 999999], method="finetune", device="cpu")
    with pytest.raises(InvalidRequestError, match="Class 7"):
        unlearn(net, data, ForgetRequest.classes([7]), method="finetune", device="cpu")
    with pytest.raises(InvalidRequestError, match="not a class index"):
        unlearn(
            net, data, ForgetRequest.relabel({int(data.ids[0]): 9}), method="finetune", device="cpu"
        )
    assert model_fingerprint(net) == before


@pytest.mark.parametrize(
    ("method", "kind"),
    [("boundary", "items"), ("scrub", "relabel"), ("influence_first_order", "classes")],
)
def test_unsupported_kinds_are_refused(data, trained, method, kind):
    with pytest.raises(MethodRequestError, match=method) as err:
        unlearn(trained[0], data, requests(data)[kind], method=method, device="cpu")
    assert isinstance(err.value, UnsupportedRequestError)
    with pytest.raises(MethodRequestError):
        unlearn(trained[0], data, ForgetRequest.features([0]), method="finetune", device="cpu")


class _Tuple(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(8, 3)

    def forward(self, x):
        return self.lin(x), x


@pytest.mark.parametrize(
    "model", [object(), nn.Linear(8, 1), _Tuple(), nn.Sequential(nn.Linear(8, 3), nn.Flatten(0))]
)
def test_models_that_are_not_classifiers_are_refused(data, model):
    with pytest.raises(NotAClassifierError):
        unlearn(model, data, ForgetRequest.items(data.ids[:5]), method="finetune", device="cpu")


def test_other_bad_arguments(data, trained):
    net, _ = trained
    req = ForgetRequest.items(data.ids[:5])
    with pytest.raises(InvalidParameterError, match="no-such"):
        unlearn(net, data, req, method="no-such", device="cpu")
    with pytest.raises(InvalidParameterError, match="SCRUBConfig"):
        unlearn(net, data, req, method="finetune", config=SCRUBConfig(), device="cpu")
    with pytest.raises(InvalidParameterError, match="epochs"):
        FinetuneConfig(epochs=0)
    with pytest.raises(InvalidParameterError, match="fields"):
        unlearn(net, data, req, method="finetune", config={"nope": 1}, device="cpu")
    with pytest.raises(InvalidParameterError, match="device"):
        unlearn(net, data, req, method="finetune", device="tpu-9")
    with pytest.raises(DataValidationError, match="logits"):
        unlearn(nn.Sequential(nn.Linear(8, 2)), data, req, method="finetune", device="cpu")
    with pytest.raises(DuplicateIdError):
        unlearn(net, Samples(data.X[:4], y=data.y[:4], ids=[1, 1, 2, 3]), [1], device="cpu")
    with pytest.raises(DataValidationError, match="sample_id"):
        unlearn(
            net, TensorDataset(torch.as_tensor(data.X), torch.as_tensor(data.y)), [1], device="cpu"
        )


def test_batchnorm_buffers_of_the_original_are_untouched(data):
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, 3)
    )
    train(net, data, seed=0, device="cpu")
    before = model_fingerprint(net)
    new, _ = unlearn(net, data, ForgetRequest.items(data.ids[:30]), method="scrub", device="cpu")
    assert model_fingerprint(net) == before
    assert not torch.equal(new[1].running_mean, net[1].running_mean)


def test_cost_is_nan_without_the_training_record(data, trained):
    _, result = unlearn(trained[0], data, [int(data.ids[0])], method="neggrad", device="cpu")
    assert math.isnan(result.retrained_fraction)
    _, result = unlearn(
        trained[0],
        data,
        [int(data.ids[0])],
        method="neggrad",
        training=100,
        batch_size=10,
        device="cpu",
    )
    assert result.retrained_fraction == pytest.approx(1 / 1000)


def test_random_labels_are_never_the_true_label_nor_a_forgotten_class(data, trained):
    from unlearnkit.approximate._data import as_indexed, resolve
    from unlearnkit.approximate._run import Budget as _Budget
    from unlearnkit.approximate._run import UnlearnRun

    indexed = as_indexed(data)
    for request in (ForgetRequest.classes([1]), ForgetRequest.items(data.ids[:5])):
        split = resolve(indexed, request, 3)
        run = UnlearnRun(trained[0], indexed, split, n_classes=3, seed=0,
                         device=torch.device("cpu"), budget=_Budget(), batch_size=64)  # fmt: skip
        y = torch.as_tensor(np.tile([0, 1, 2], 400))
        drawn = run.random_labels(y)
        assert not torch.any(drawn == y)
        if request.kind == "classes":
            assert not torch.any(drawn == 1)
            assert set(drawn[y == 1].tolist()) == {0, 2}
        else:
            assert set(drawn[y == 0].tolist()) == {1, 2}


def test_default_device_and_progress_bar(data, trained):
    model, result = unlearn(trained[0], data, [int(data.ids[0])], method="neggrad",
                            progress=True)  # fmt: skip
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert result.evidence["device"].startswith(expected)
    assert next(model.parameters()).device.type == expected
