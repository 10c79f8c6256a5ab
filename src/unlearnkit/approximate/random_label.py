"""Random-label unlearning: fine-tune with the forget samples relabelled at random.

Every forget sample gets a random wrong label (never its own class, nor a forgotten one),
drawn afresh at every step, and the model trains on those next to retain batches with their
true labels, which erases what it had learned about the forget samples (Golatkar et al., CVPR
2020; Graves, Nagisetty & Ganesh, AAAI 2021, "Amnesiac Machine Learning"; the "RL" baseline of
Fan et al., ICLR 2024).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.nn import functional as nnf

from unlearnkit.approximate._registry import ApproximateMethod, methods
from unlearnkit.approximate._run import UnlearnRun, check_positive

__all__ = ["RandomLabelConfig", "random_label_steps"]


@dataclass(frozen=True)
class RandomLabelConfig:
    """Hyper-parameters of random-label unlearning.

    Parameters
    ----------
    epochs : int
        Passes over the forget set.
    lr : float
        SGD learning rate (momentum 0.9).
    retain_batches : int
        Retain batches (true labels) per forget batch.

    Examples
    --------
    >>> RandomLabelConfig().retain_batches
    2
    """

    epochs: int = 3
    lr: float = 0.003
    retain_batches: int = 2

    def __post_init__(self) -> None:
        check_positive(self, "epochs", self.epochs, integer=True)
        check_positive(self, "lr", self.lr)
        check_positive(self, "retain_batches", self.retain_batches, integer=True)


def random_label_steps(
    run: UnlearnRun,
    *,
    epochs: int,
    lr: float,
    retain_batches: int,
    mask: dict[str, torch.Tensor] | None = None,
    name: str = "random labels",
) -> None:
    """Train on forget batches with random labels beside retain batches with true labels.

    With ``mask`` (parameter name -> 0/1 tensor), only the masked weights are updated.
    """
    params = dict(run.model.named_parameters())
    opt = run.sgd(lr=lr)
    retain = run.cycle(run.retain)
    run.plan(epochs * run.n_batches(len(run.forget)), name)
    run.model.train()
    for batch in run.batches(run.forget, epochs=epochs):
        xf, yf = run.fetch(batch, corrected=False)
        rows = np.concatenate([next(retain) for _ in range(retain_batches)])
        xr, yr = run.fetch(rows)
        x = torch.cat([xf, xr])
        y = torch.cat([run.random_labels(yf), yr])
        opt.zero_grad(set_to_none=True)
        nnf.cross_entropy(run.model(x), y).backward()
        if mask is not None:
            for key, m in mask.items():
                grad = params[key].grad
                if grad is not None:
                    grad.mul_(m)
        opt.step()
        run.step(len(y))


def apply(run: UnlearnRun, cfg: RandomLabelConfig) -> dict[str, Any]:
    random_label_steps(run, epochs=cfg.epochs, lr=cfg.lr, retain_batches=cfg.retain_batches)
    return run.evidence


methods.add(
    "random_label",
    ApproximateMethod(
        name="random_label",
        config=RandomLabelConfig,
        apply=apply,
        request_kinds=frozenset({"items", "group", "classes"}),
        summary="Fine-tune with the forget samples relabelled at random.",
        reference="Golatkar et al., CVPR 2020; Graves et al., AAAI 2021",
    ),
)
