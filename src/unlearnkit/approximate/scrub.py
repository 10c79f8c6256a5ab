"""SCRUB: a student that moves away from its teacher on the forget set and stays close to it
on the retain set.

The student starts as the model and the teacher is a frozen copy of it. Each epoch begins, in
the first ``max_epochs`` epochs, with *max-steps* that increase the KL divergence between
teacher and student on forget batches, and continues with *min-steps* that decrease
``alpha * KL + gamma * CE`` on retain batches (Kurmanji, Triantafillou, Hayes &
Triantafillou, "Towards Unbounded Machine Unlearning", NeurIPS 2023).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch.nn import functional as nnf

from unlearnkit.approximate._registry import ApproximateMethod, methods
from unlearnkit.approximate._run import (
    UnlearnRun,
    check_fraction,
    check_positive,
    kl_to_teacher,
)
from unlearnkit.errors import InvalidParameterError

__all__ = ["SCRUBConfig"]


@dataclass(frozen=True)
class SCRUBConfig:
    """Hyper-parameters of SCRUB.

    Parameters
    ----------
    epochs : int
        Epochs of min-steps.
    max_epochs : int
        The first epochs that also take max-steps (at most ``epochs``).
    lr : float
        SGD learning rate (momentum 0.9).
    alpha : float
        Weight of the KL term of the min-steps.
    gamma : float
        Weight of the cross-entropy term of the min-steps.
    temperature : float
        Softmax temperature of the distillation.
    retain_ratio : float
        Retain batches per forget batch in each epoch's min-steps.

    Examples
    --------
    >>> SCRUBConfig().max_epochs
    2
    """

    epochs: int = 3
    max_epochs: int = 2
    lr: float = 0.003
    alpha: float = 1.0
    gamma: float = 1.0
    temperature: float = 4.0
    retain_ratio: float = 2.0

    def __post_init__(self) -> None:
        check_positive(self, "epochs", self.epochs, integer=True)
        check_positive(self, "max_epochs", self.max_epochs, integer=True)
        if self.max_epochs > self.epochs:
            raise InvalidParameterError(
                f"SCRUBConfig.max_epochs={self.max_epochs} exceeds epochs={self.epochs}; "
                "max-steps are taken in the first max_epochs of the epochs."
            )
        check_positive(self, "lr", self.lr)
        check_fraction(self, "alpha", self.alpha, closed_low=True)
        check_positive(self, "gamma", self.gamma)
        check_positive(self, "temperature", self.temperature)
        check_positive(self, "retain_ratio", self.retain_ratio)


def apply(run: UnlearnRun, cfg: SCRUBConfig) -> dict[str, Any]:
    teacher = run.teacher
    opt = run.sgd(lr=cfg.lr)
    forget_batches = run.n_batches(len(run.forget))
    retain_batches = max(1, round(cfg.retain_ratio * forget_batches))
    run.plan(cfg.max_epochs * forget_batches + cfg.epochs * retain_batches, "SCRUB")
    retain = run.cycle(run.retain)
    run.model.train()
    for epoch in range(cfg.epochs):
        if epoch < cfg.max_epochs:
            for batch in run.batches(run.forget):
                x, _ = run.fetch(batch, corrected=False)
                with torch.no_grad():
                    target = teacher(x)
                opt.zero_grad(set_to_none=True)
                (-kl_to_teacher(run.model(x), target, cfg.temperature)).backward()
                opt.step()
                run.step(len(batch))
        for _ in range(retain_batches):
            batch = next(retain)
            x, y = run.fetch(batch)
            with torch.no_grad():
                target = teacher(x)
            out = run.model(x)
            loss = cfg.alpha * kl_to_teacher(out, target, cfg.temperature)
            opt.zero_grad(set_to_none=True)
            (loss + cfg.gamma * nnf.cross_entropy(out, y)).backward()
            opt.step()
            run.step(len(batch))
    return run.evidence


methods.add(
    "scrub",
    ApproximateMethod(
        name="scrub",
        config=SCRUBConfig,
        apply=apply,
        request_kinds=frozenset({"items", "group", "classes"}),
        summary="Teacher-student: diverge on the forget set, agree on the retain set.",
        reference="Kurmanji et al., NeurIPS 2023",
    ),
)
