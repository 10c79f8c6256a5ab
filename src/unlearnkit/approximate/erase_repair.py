"""Erase, then repair: re-initialise chosen layers, then distil the original model's behaviour
on the retain set back into them.

Re-initialising layers destroys what they stored, forget set included; the repair phase trains
the model with ``kd_weight * KL(original || model) + (1 - kd_weight) * CE`` on retain samples
only, so what comes back is what the retain set supports. For a ``classes`` request the
original's logits of the forgotten classes are suppressed in the distillation targets. This is
the recipe shared by the strongest entries of the NeurIPS 2023 Machine Unlearning Competition
(Triantafillou et al., "Are we making progress in unlearning? Findings from the first NeurIPS
unlearning competition", 2024): re-initialise part of the network, then fine-tune or distil on
the retained data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as nnf

from unlearnkit.approximate._registry import ApproximateMethod, methods
from unlearnkit.approximate._run import (
    UnlearnRun,
    check_fraction,
    check_positive,
    kl_to_teacher,
    reset_parameters,
)
from unlearnkit.approximate.finetune import subsample
from unlearnkit.errors import InvalidParameterError

__all__ = ["EraseRepairConfig", "parametrised_layers"]


@dataclass(frozen=True)
class EraseRepairConfig:
    """Hyper-parameters of erase-then-repair.

    Parameters
    ----------
    layers : tuple of str
        Names (as in ``model.named_modules()``) of the layers to re-initialise; when empty,
        the last ``last_layers`` layers that have parameters.
    last_layers : int
        How many layers to re-initialise when ``layers`` is empty.
    epochs : int
        Repair passes over the retain share.
    lr : float
        SGD learning rate (momentum 0.9).
    retain_fraction : float
        Share of the retain set used for the repair.
    kd_weight : float
        Weight of the distillation term (the cross-entropy gets ``1 - kd_weight``).
    temperature : float
        Distillation temperature.

    Examples
    --------
    >>> EraseRepairConfig().last_layers
    1
    """

    layers: tuple[str, ...] = ()
    last_layers: int = 1
    epochs: int = 1
    lr: float = 0.01
    retain_fraction: float = 0.5
    kd_weight: float = 0.5
    temperature: float = 2.0

    def __post_init__(self) -> None:
        if isinstance(self.layers, str):
            object.__setattr__(self, "layers", (self.layers,))
        object.__setattr__(self, "layers", tuple(self.layers))
        check_positive(self, "last_layers", self.last_layers, integer=True)
        check_positive(self, "epochs", self.epochs, integer=True)
        check_positive(self, "lr", self.lr)
        check_fraction(self, "retain_fraction", self.retain_fraction)
        check_fraction(self, "kd_weight", self.kd_weight, closed_low=True)
        check_positive(self, "temperature", self.temperature)


def parametrised_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """Leaf modules that own parameters and can re-initialise them, in definition order."""
    return [
        (name, m)
        for name, m in model.named_modules()
        if callable(getattr(m, "reset_parameters", None))
        and any(True for _ in m.parameters(recurse=False))
    ]


def _chosen(model: nn.Module, cfg: EraseRepairConfig) -> list[tuple[str, nn.Module]]:
    layers = parametrised_layers(model)
    if not cfg.layers:
        return layers[-cfg.last_layers :]
    by_name = dict(layers)
    unknown = [n for n in cfg.layers if n not in by_name]
    if unknown:
        raise InvalidParameterError(
            f"EraseRepairConfig.layers names {unknown}, which are not layers with parameters "
            f"of the model; choose among {[n for n, _ in layers]}."
        )
    return [(n, by_name[n]) for n in cfg.layers]


def apply(run: UnlearnRun, cfg: EraseRepairConfig) -> dict[str, Any]:
    teacher = run.teacher
    chosen = _chosen(run.model, cfg)
    for _, module in chosen:
        reset_parameters(module, run.generator)
    run.evidence["reinitialised"] = [n for n, _ in chosen]
    rows = subsample(run, run.retain, cfg.retain_fraction)
    classes = list(run.split.forget_classes)
    opt = run.sgd(lr=cfg.lr, weight_decay=5e-4)
    run.plan(cfg.epochs * run.n_batches(len(rows)), "erase, then repair")
    run.model.train()
    for batch in run.batches(rows, epochs=cfg.epochs):
        x, y = run.fetch(batch)
        with torch.no_grad():
            target = teacher(x)
            if classes:
                target[:, classes] = target.min() - 1e4
        out = run.model(x)
        loss = cfg.kd_weight * kl_to_teacher(out, target, cfg.temperature)
        opt.zero_grad(set_to_none=True)
        (loss + (1 - cfg.kd_weight) * nnf.cross_entropy(out, y)).backward()
        opt.step()
        run.step(len(batch))
    return run.evidence


methods.add(
    "erase_repair",
    ApproximateMethod(
        name="erase_repair",
        config=EraseRepairConfig,
        apply=apply,
        request_kinds=frozenset({"items", "group", "classes"}),
        summary="Re-initialise layers, then distil the original on the retain set.",
        reference="Triantafillou et al., NeurIPS 2023 competition findings (2024)",
    ),
)
