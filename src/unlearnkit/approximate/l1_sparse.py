"""l1-sparse unlearning: prune and/or fine-tune with a decaying l1 penalty.

Sparser models forget more easily (Jia, Liu, Ram, Yao, Liu, Liu, Sharma & Liu, "Model Sparsity
Can Simplify Machine Unlearning", NeurIPS 2023). The method optionally prunes the smallest
weights by global magnitude (``prune_ratio``, PyTorch's ``torch.nn.utils.prune``; the pruned
weights stay zero) and fine-tunes on the retain set with the loss
``CE + gamma_t * ||theta||_1``, where ``gamma_t`` decays linearly from ``gamma`` to 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as nnf
from torch.nn.utils import prune

from unlearnkit.approximate._registry import ApproximateMethod, methods
from unlearnkit.approximate._run import UnlearnRun, check_fraction, check_positive
from unlearnkit.approximate.finetune import subsample
from unlearnkit.errors import InvalidParameterError

__all__ = ["L1SparseConfig"]

_PRUNABLE = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)


@dataclass(frozen=True)
class L1SparseConfig:
    """Hyper-parameters of l1-sparse unlearning.

    Parameters
    ----------
    gamma : float
        Initial l1 weight (decays linearly to 0 over the fine-tuning).
    prune_ratio : float
        Share of the weights of linear and convolutional layers pruned first (0: none).
    epochs : int
        Passes over the retain set.
    lr : float
        SGD learning rate (momentum 0.9).
    retain_fraction : float
        Share of the retain set used.

    Examples
    --------
    >>> L1SparseConfig().prune_ratio
    0.0
    """

    gamma: float = 5e-4
    prune_ratio: float = 0.0
    epochs: int = 1
    lr: float = 0.01
    retain_fraction: float = 1.0

    def __post_init__(self) -> None:
        check_positive(self, "gamma", self.gamma)
        check_fraction(self, "prune_ratio", self.prune_ratio, closed_low=True)
        if self.prune_ratio == 1:
            raise InvalidParameterError(
                "L1SparseConfig.prune_ratio=1 would prune every weight; use a value in [0, 1)."
            )
        check_positive(self, "epochs", self.epochs, integer=True)
        check_positive(self, "lr", self.lr)
        check_fraction(self, "retain_fraction", self.retain_fraction)


def apply(run: UnlearnRun, cfg: L1SparseConfig) -> dict[str, Any]:
    layers = [(m, "weight") for m in run.model.modules() if isinstance(m, _PRUNABLE)]
    if cfg.prune_ratio > 0 and layers:
        prune.global_unstructured(
            layers, pruning_method=prune.L1Unstructured, amount=cfg.prune_ratio
        )
    try:
        _finetune(run, cfg)
    finally:
        if cfg.prune_ratio > 0 and layers:
            for module, name in layers:
                prune.remove(module, name)
    zeros = sum(int((m.weight == 0).sum()) for m, _ in layers)
    run.evidence["zero_weight_share"] = zeros / max(1, sum(m.weight.numel() for m, _ in layers))
    return run.evidence


def _finetune(run: UnlearnRun, cfg: L1SparseConfig) -> None:
    rows = subsample(run, run.retain, cfg.retain_fraction)
    params = [p for p in run.model.parameters() if p.requires_grad]
    opt = run.sgd(params, lr=cfg.lr)
    total = cfg.epochs * run.n_batches(len(rows))
    run.plan(total, "l1-sparse")
    run.model.train()
    for t, batch in enumerate(run.batches(rows, epochs=cfg.epochs)):
        x, y = run.fetch(batch)
        gamma = cfg.gamma * (1 - t / total)
        l1 = torch.stack([p.abs().sum() for p in params]).sum()
        opt.zero_grad(set_to_none=True)
        (nnf.cross_entropy(run.model(x), y) + gamma * l1).backward()
        opt.step()
        run.step(len(batch))


methods.add(
    "l1_sparse",
    ApproximateMethod(
        name="l1_sparse",
        config=L1SparseConfig,
        apply=apply,
        request_kinds=frozenset({"items", "group", "classes"}),
        summary="Prune and/or fine-tune on the retain set with a decaying l1 penalty.",
        reference="Jia et al., NeurIPS 2023",
    ),
)
