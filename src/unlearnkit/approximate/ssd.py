"""SSD, selective synaptic dampening: shrink the weights that matter far more to the forget
set than to the training data, without any retraining.

The importance of a weight on a set of samples is the mean over mini-batches of its squared
loss gradient (a diagonal Fisher estimate). A weight whose forget-set importance exceeds
``alpha`` times its training-set importance is multiplied by
``min(dampening * importance_D / importance_forget, 1)`` (Foster, Schoepf & Brintrup, "Fast
Machine Unlearning Without Retraining Through Selective Synaptic Dampening", AAAI 2024).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.nn import functional as nnf

from unlearnkit.approximate._registry import ApproximateMethod, methods
from unlearnkit.approximate._run import UnlearnRun, check_positive
from unlearnkit.approximate.finetune import subsample

__all__ = ["SSDConfig", "importance"]


@dataclass(frozen=True)
class SSDConfig:
    """Hyper-parameters of selective synaptic dampening.

    Parameters
    ----------
    alpha : float
        Selection threshold: weights with forget importance above ``alpha`` times the
        training importance are dampened.
    dampening : float
        ``lambda``, the dampening constant.
    max_samples : int, optional
        Training samples drawn (at random) to estimate the training importance; all when None.

    Examples
    --------
    >>> SSDConfig().alpha
    10.0
    """

    alpha: float = 10.0
    dampening: float = 1.0
    max_samples: int | None = None

    def __post_init__(self) -> None:
        check_positive(self, "alpha", self.alpha)
        check_positive(self, "dampening", self.dampening)
        if self.max_samples is not None:
            check_positive(self, "max_samples", self.max_samples, integer=True)


def importance(run: UnlearnRun, rows: np.ndarray) -> dict[str, torch.Tensor]:
    """Mean over mini-batches of ``rows`` of the squared gradient of the batch loss."""
    named = [(k, p) for k, p in run.model.named_parameters() if p.requires_grad]
    out = {k: torch.zeros_like(p) for k, p in named}
    batches = 0
    run.model.eval()
    for batch in run.batches(rows):
        x, y = run.fetch(batch, corrected=False)
        run.model.zero_grad(set_to_none=True)
        nnf.cross_entropy(run.model(x), y).backward()
        for k, p in named:
            if p.grad is not None:
                out[k] += p.grad.detach() ** 2
        batches += 1
        run.step(len(batch))
    run.model.zero_grad(set_to_none=True)
    return {k: v / batches for k, v in out.items()}


def apply(run: UnlearnRun, cfg: SSDConfig) -> dict[str, Any]:
    every = np.arange(len(run.data))
    if cfg.max_samples is not None and cfg.max_samples < len(every):
        every = subsample(run, every, cfg.max_samples / len(every))
    run.plan(run.n_batches(len(every)) + run.n_batches(len(run.forget)), "SSD importances")
    with run.essential("estimating the importances"):
        imp_all = importance(run, every)
        imp_forget = importance(run, run.forget)
    dampened = total = 0
    with torch.no_grad():
        for k, p in run.model.named_parameters():
            if k not in imp_all:
                continue
            selected = imp_forget[k] > cfg.alpha * imp_all[k]
            factor = (cfg.dampening * imp_all[k] / imp_forget[k].clamp_min(1e-30)).clamp(max=1.0)
            p[selected] *= factor[selected]
            dampened += int(selected.sum())
            total += p.numel()
    run.evidence.update(dampened_weights=dampened, dampened_share=dampened / max(total, 1))
    return run.evidence


methods.add(
    "ssd",
    ApproximateMethod(
        name="ssd",
        config=SSDConfig,
        apply=apply,
        request_kinds=frozenset({"items", "group", "classes"}),
        summary="Dampen weights far more important to the forget set (no retraining).",
        reference="Foster et al., AAAI 2024",
    ),
)
