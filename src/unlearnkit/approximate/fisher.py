"""Fisher forgetting: add noise shaped by the Fisher information of the retain set.

Weights that the retain set pins down (large Fisher information) get little noise; weights it
barely constrains, which is where what only the forget set taught is stored, get much. Each
weight ``w`` becomes ``w + sqrt(v) * N(0, 1)`` with ``v = min(alpha / F_w, cap)``: the noise
variance is averaged per output unit of a layer and raised tenfold on the output layer and on
one-dimensional parameters. For a ``classes`` request the output-layer rows of the forgotten
classes are set to zero (Golatkar, Achille & Soatto, "Eternal Sunshine of the Spotless Net:
Selective Forgetting in Deep Networks", CVPR 2020, Fisher forgetting).

The diagonal Fisher is the exact expectation over the model's predictive distribution,
``F = E_x sum_c p(c | x) (d log p(c | x) / dw)^2``, computed with per-sample gradients
(``torch.func``) on a random subset of the retain set.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, grad, vmap
from torch.nn import functional as nnf

from unlearnkit.approximate._registry import ApproximateMethod, methods
from unlearnkit.approximate._run import UnlearnRun, check_positive
from unlearnkit.approximate.finetune import subsample

__all__ = ["FisherConfig", "fisher_diagonal", "output_layer"]


@dataclass(frozen=True)
class FisherConfig:
    """Hyper-parameters of Fisher forgetting.

    Parameters
    ----------
    alpha : float
        Noise scale: the variance is ``alpha / (Fisher + 1e-8)`` (capped). The paper's code
        uses 1e-6 with a cap of 1e3 for ResNets on CIFAR; on small networks that noise destroys
        the model, and the defaults here were chosen on the Fashion-MNIST CNN of
        ``benchmarks/bench_approximate.py``.
    max_samples : int
        Retain samples drawn to estimate the Fisher information.
    cap : float
        Largest variance before the output-layer and 1-D multipliers (the output layer is
        capped at a tenth of it).

    Examples
    --------
    >>> FisherConfig().max_samples
    300
    """

    alpha: float = 1e-8
    max_samples: int = 300
    cap: float = 1e-3

    def __post_init__(self) -> None:
        check_positive(self, "alpha", self.alpha)
        check_positive(self, "max_samples", self.max_samples, integer=True)
        check_positive(self, "cap", self.cap)


def output_layer(model: nn.Module, n_classes: int) -> str | None:
    """Name of the last ``nn.Linear`` with ``n_classes`` outputs (None if there is none)."""
    found = None
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear) and module.out_features == n_classes:
            found = name
    return found


def fisher_diagonal(run: UnlearnRun, rows: np.ndarray) -> dict[str, torch.Tensor]:
    """Diagonal of the Fisher information of the model on ``rows`` (mean over samples)."""
    model = run.model.eval()
    params = {k: p.detach() for k, p in model.named_parameters() if p.requires_grad}
    buffers = {k: b.detach() for k, b in model.named_buffers()}

    def loss(p: dict[str, torch.Tensor], x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        out = functional_call(model, (p, buffers), (x.unsqueeze(0),))
        return nnf.cross_entropy(out, c.unsqueeze(0))

    per_sample = vmap(grad(loss), in_dims=(None, 0, 0))
    fisher = {k: torch.zeros_like(p) for k, p in params.items()}
    for batch in run.batches(rows):
        x, _ = run.fetch(batch, corrected=False)
        with torch.no_grad():
            prob = nnf.softmax(model(x), dim=1)
        for c in range(run.n_classes):
            target = torch.full((len(x),), c, dtype=torch.long, device=run.device)
            grads = per_sample(params, x, target)
            for k, g in grads.items():
                weight = prob[:, c].reshape(-1, *([1] * (g.ndim - 1)))
                fisher[k] += (weight * g.detach() ** 2).sum(0)
        run.step(len(batch), weight=run.n_classes)
    return {k: v / len(rows) for k, v in fisher.items()}


def apply(run: UnlearnRun, cfg: FisherConfig) -> dict[str, Any]:
    rows = subsample(run, run.retain, min(1.0, cfg.max_samples / len(run.retain)))
    run.plan(run.n_batches(len(rows)) * run.n_classes, "Fisher information")
    with run.essential("estimating the Fisher information"):
        fisher = fisher_diagonal(run, rows)
    head = output_layer(run.model, run.n_classes)
    head_params = {f"{head}.weight", f"{head}.bias"} if head is not None else set()
    classes = list(run.split.forget_classes)
    noise_sq = 0.0
    with torch.no_grad():
        for k, p in run.model.named_parameters():
            if k not in fisher:
                continue
            var = (cfg.alpha / (fisher[k] + 1e-8)).clamp(max=cfg.cap)
            if k in head_params:
                var = var.clamp(max=cfg.cap / 10)
            if p.ndim > 1:
                var = var.mean(dim=1, keepdim=True).expand_as(p).clone()
            if k in head_params or p.ndim == 1:
                var = var * 10
            mean = p.detach().clone()
            if classes and k in head_params:
                mean[classes] = 0
                var[classes] = 1e-4
            noise = torch.randn(p.shape, generator=run.generator).to(p.device, p.dtype)
            step = mean + var.sqrt() * noise - p
            p.add_(step)
            noise_sq += float((step**2).sum())
    run.evidence.update(fisher_samples=len(rows), perturbation_norm=noise_sq**0.5)
    return run.evidence


methods.add(
    "fisher",
    ApproximateMethod(
        name="fisher",
        config=FisherConfig,
        apply=apply,
        request_kinds=frozenset({"items", "group", "classes"}),
        summary="Noise shaped by the retain set's Fisher information.",
        reference="Golatkar et al., CVPR 2020",
    ),
)
