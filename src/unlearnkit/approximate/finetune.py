"""Fine-tuning on the retain set: the catastrophic-forgetting baseline.

The model keeps training with cross-entropy on the retained samples only (for a ``relabel``
request: on all samples with the corrected labels), so that what only the forget set taught it
fades (Golatkar, Achille & Soatto, CVPR 2020, "Fine-tune" baseline; Warnecke et al., NDSS 2023).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from torch.nn import functional as nnf

from unlearnkit.approximate._registry import ApproximateMethod, methods
from unlearnkit.approximate._run import UnlearnRun, check_fraction, check_positive

__all__ = ["FinetuneConfig"]


@dataclass(frozen=True)
class FinetuneConfig:
    """Hyper-parameters of fine-tuning.

    Parameters
    ----------
    epochs : int
        Passes over the retain set.
    lr : float
        SGD learning rate (momentum 0.9).
    retain_fraction : float
        Share of the retain set drawn (at random, once) for the passes.
    weight_decay : float
        L2 penalty.

    Examples
    --------
    >>> FinetuneConfig(epochs=2).lr
    0.01
    """

    epochs: int = 1
    lr: float = 0.01
    retain_fraction: float = 1.0
    weight_decay: float = 5e-4

    def __post_init__(self) -> None:
        check_positive(self, "epochs", self.epochs, integer=True)
        check_positive(self, "lr", self.lr)
        check_fraction(self, "retain_fraction", self.retain_fraction)
        check_fraction(self, "weight_decay", self.weight_decay, closed_low=True)


def subsample(run: UnlearnRun, rows: np.ndarray, fraction: float) -> np.ndarray:
    """A random ``fraction`` of ``rows`` (at least one row), drawn from the run's generator."""
    if fraction >= 1:
        return rows
    keep = max(1, round(len(rows) * fraction))
    return np.sort(run.shuffled(rows)[:keep])


def apply(run: UnlearnRun, cfg: FinetuneConfig) -> dict[str, Any]:
    rows = subsample(run, run.retain, cfg.retain_fraction)
    if run.split.kind == "relabel":
        rows = np.concatenate([rows, run.forget])
    run.evidence["trained_rows"] = len(rows)
    opt = run.sgd(lr=cfg.lr, weight_decay=cfg.weight_decay)
    run.plan(cfg.epochs * run.n_batches(len(rows)), "fine-tune")
    run.model.train()
    for batch in run.batches(rows, epochs=cfg.epochs):
        x, y = run.fetch(batch)
        opt.zero_grad(set_to_none=True)
        nnf.cross_entropy(run.model(x), y).backward()
        opt.step()
        run.step(len(batch))
    return run.evidence


methods.add(
    "finetune",
    ApproximateMethod(
        name="finetune",
        config=FinetuneConfig,
        apply=apply,
        request_kinds=frozenset({"items", "group", "classes", "relabel"}),
        summary="Fine-tune on the retain set (catastrophic forgetting baseline).",
        reference="Golatkar, Achille & Soatto, CVPR 2020 (baseline)",
    ),
)
