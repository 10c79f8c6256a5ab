"""NegGrad+: ascent on the forget set balanced by descent on the retain set.

Each step pairs a forget batch with a retain batch and minimises
``w * CE(retain) - (1 - w) * CE(forget)`` (Kurmanji, Triantafillou, Hayes & Triantafillou,
"Towards Unbounded Machine Unlearning", NeurIPS 2023, the NegGrad+ baseline).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from torch.nn import functional as nnf

from unlearnkit.approximate._registry import ApproximateMethod, methods
from unlearnkit.approximate._run import UnlearnRun, check_fraction, check_positive

__all__ = ["NegGradPlusConfig"]


@dataclass(frozen=True)
class NegGradPlusConfig:
    """Hyper-parameters of NegGrad+.

    Parameters
    ----------
    epochs : int
        Passes over the forget set (each forget batch is paired with a retain batch).
    lr : float
        SGD learning rate (momentum 0.9).
    retain_weight : float
        ``w``: the weight of the retain loss; the forget loss gets ``1 - w``.
    retain_batches : int
        Retain batches per forget batch.

    Examples
    --------
    >>> NegGradPlusConfig().retain_weight
    0.9
    """

    epochs: int = 3
    lr: float = 0.003
    retain_weight: float = 0.9
    retain_batches: int = 2

    def __post_init__(self) -> None:
        check_positive(self, "epochs", self.epochs, integer=True)
        check_positive(self, "lr", self.lr)
        check_fraction(self, "retain_weight", self.retain_weight)
        check_positive(self, "retain_batches", self.retain_batches, integer=True)


def apply(run: UnlearnRun, cfg: NegGradPlusConfig) -> dict[str, Any]:
    opt = run.sgd(lr=cfg.lr)
    retain = run.cycle(run.retain)
    run.plan(cfg.epochs * run.n_batches(len(run.forget)), "NegGrad+")
    run.model.train()
    w = cfg.retain_weight
    for batch in run.batches(run.forget, epochs=cfg.epochs):
        xf, yf = run.fetch(batch, corrected=False)
        xr, yr = run.fetch(np.concatenate([next(retain) for _ in range(cfg.retain_batches)]))
        opt.zero_grad(set_to_none=True)
        loss = w * nnf.cross_entropy(run.model(xr), yr) - (1 - w) * nnf.cross_entropy(
            run.model(xf), yf
        )
        loss.backward()
        opt.step()
        run.step(len(batch) + len(yr))
    return run.evidence


methods.add(
    "neggrad_plus",
    ApproximateMethod(
        name="neggrad_plus",
        config=NegGradPlusConfig,
        apply=apply,
        request_kinds=frozenset({"items", "group", "classes"}),
        summary="Ascent on the forget set, descent on the retain set.",
        reference="Kurmanji et al., NeurIPS 2023 (NegGrad+)",
    ),
)
