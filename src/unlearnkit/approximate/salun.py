"""SalUn: random-label unlearning restricted to the weights salient for the forget set.

The saliency of a weight is the magnitude of the gradient of the forget loss with respect to
it; the mask keeps the ``mask_fraction`` most salient weights (one threshold over the whole
model). Random-label training (:mod:`unlearnkit.approximate.random_label`) then updates only
those weights, leaving the rest of the model as it was (Fan, Liu, Zhang, Wei, Wong & Liu,
"SalUn: Empowering Machine Unlearning via Gradient-based Weight Saliency", ICLR 2024).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch.nn import functional as nnf

from unlearnkit.approximate._registry import ApproximateMethod, methods
from unlearnkit.approximate._run import UnlearnRun, check_fraction, check_positive
from unlearnkit.approximate.random_label import random_label_steps

__all__ = ["SalUnConfig", "saliency_mask"]


@dataclass(frozen=True)
class SalUnConfig:
    """Hyper-parameters of SalUn.

    Parameters
    ----------
    mask_fraction : float
        Share of the weights updated (SalUn's default threshold is the median: 0.5).
    epochs : int
        Passes over the forget set.
    lr : float
        SGD learning rate (momentum 0.9).
    retain_batches : int
        Retain batches per forget batch.

    Examples
    --------
    >>> SalUnConfig().mask_fraction
    0.5
    """

    mask_fraction: float = 0.5
    epochs: int = 3
    lr: float = 0.003
    retain_batches: int = 2

    def __post_init__(self) -> None:
        check_fraction(self, "mask_fraction", self.mask_fraction)
        check_positive(self, "epochs", self.epochs, integer=True)
        check_positive(self, "lr", self.lr)
        check_positive(self, "retain_batches", self.retain_batches, integer=True)


def saliency_mask(run: UnlearnRun, fraction: float) -> dict[str, torch.Tensor]:
    """0/1 masks keeping the ``fraction`` of weights with the largest forget-loss gradient."""
    named = [(k, p) for k, p in run.model.named_parameters() if p.requires_grad]
    total = {k: torch.zeros_like(p) for k, p in named}
    run.model.eval()
    for batch in run.batches(run.forget):
        x, y = run.fetch(batch, corrected=False)
        run.model.zero_grad(set_to_none=True)
        nnf.cross_entropy(run.model(x), y, reduction="sum").backward()
        for k, p in named:
            if p.grad is not None:
                total[k] += p.grad.detach()
        run.step(len(batch))
    run.model.zero_grad(set_to_none=True)
    flat = torch.cat([g.abs().flatten() for g in total.values()])
    keep = max(1, round(fraction * flat.numel()))
    threshold = torch.topk(flat, keep, sorted=False).values.min()
    return {k: (g.abs() >= threshold).to(g.dtype) for k, g in total.items()}


def apply(run: UnlearnRun, cfg: SalUnConfig) -> dict[str, Any]:
    with run.essential("computing the weight saliency"):
        mask = saliency_mask(run, cfg.mask_fraction)
    kept = sum(float(m.sum()) for m in mask.values())
    run.evidence["masked_weights"] = int(kept)
    run.evidence["mask_share"] = kept / sum(m.numel() for m in mask.values())
    random_label_steps(
        run,
        epochs=cfg.epochs,
        lr=cfg.lr,
        retain_batches=cfg.retain_batches,
        mask=mask,
        name="SalUn",
    )
    return run.evidence


methods.add(
    "salun",
    ApproximateMethod(
        name="salun",
        config=SalUnConfig,
        apply=apply,
        request_kinds=frozenset({"items", "group", "classes"}),
        summary="Random labels on the weights most salient for the forget loss.",
        reference="Fan et al., ICLR 2024",
    ),
)
