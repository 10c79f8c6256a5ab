"""NegGrad: gradient ascent on the forget set.

The model takes SGD steps that *increase* the cross-entropy of the forget samples, undoing the
descent that learned them (Golatkar et al., CVPR 2020; Thudi et al., EuroS&P 2022). Nothing
holds the rest of the model in place, so utility falls quickly: keep the learning rate and the
number of epochs small, or use NegGrad+ (:mod:`unlearnkit.approximate.neggrad_plus`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torch.nn import functional as nnf

from unlearnkit.approximate._registry import ApproximateMethod, methods
from unlearnkit.approximate._run import UnlearnRun, check_positive

__all__ = ["NegGradConfig"]


@dataclass(frozen=True)
class NegGradConfig:
    """Hyper-parameters of gradient ascent.

    Parameters
    ----------
    epochs : int
        Passes over the forget set.
    lr : float
        SGD learning rate (momentum 0.9).
    max_loss : float
        Stop ascending on a batch once its forget loss exceeds this (ascent is unbounded).

    Examples
    --------
    >>> NegGradConfig().epochs
    1
    """

    epochs: int = 1
    lr: float = 0.002
    max_loss: float = 5.0

    def __post_init__(self) -> None:
        check_positive(self, "epochs", self.epochs, integer=True)
        check_positive(self, "lr", self.lr)
        check_positive(self, "max_loss", self.max_loss)


def apply(run: UnlearnRun, cfg: NegGradConfig) -> dict[str, Any]:
    opt = run.sgd(lr=cfg.lr)
    run.plan(cfg.epochs * run.n_batches(len(run.forget)), "NegGrad")
    run.model.train()
    skipped = 0
    run.evidence["batches_over_max_loss"] = 0
    for batch in run.batches(run.forget, epochs=cfg.epochs):
        x, y = run.fetch(batch, corrected=False)
        loss = nnf.cross_entropy(run.model(x), y)
        if loss.item() > cfg.max_loss:
            skipped += 1
            run.evidence["batches_over_max_loss"] = skipped
            continue
        opt.zero_grad(set_to_none=True)
        (-loss).backward()
        opt.step()
        run.step(len(batch))
    return run.evidence


methods.add(
    "neggrad",
    ApproximateMethod(
        name="neggrad",
        config=NegGradConfig,
        apply=apply,
        request_kinds=frozenset({"items", "group", "classes"}),
        summary="Gradient ascent on the forget set.",
        reference="Golatkar et al., CVPR 2020; Thudi et al., EuroS&P 2022",
    ),
)
