"""Boundary shrinking: class removal by relabelling to the nearest other class.

For every sample of a forgotten class, a small projected-gradient attack on the original model
finds the nearest decision boundary; the class on its other side (the most probable class
other than the true one at the adversarial point) becomes the sample's new label, and the model
is fine-tuned on the forget samples with these labels. The forgotten class's region is thereby
split among its neighbours, as a model trained without it would do (Chen, Gao, Zhou, Hu, Zhang &
Jin, "Boundary Unlearning", CVPR 2023, boundary shrinking).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch.nn import functional as nnf

from unlearnkit.approximate._registry import ApproximateMethod, methods
from unlearnkit.approximate._run import UnlearnRun, check_positive

__all__ = ["BoundaryConfig", "nearest_other_class"]


@dataclass(frozen=True)
class BoundaryConfig:
    """Hyper-parameters of boundary shrinking.

    Parameters
    ----------
    attack_eps : float
        L-infinity radius of the attack, in input units.
    attack_steps : int
        Projected-gradient steps of the attack.
    epochs : int
        Passes over the forget set with the neighbour labels.
    lr : float
        SGD learning rate (momentum 0.9).

    Examples
    --------
    >>> BoundaryConfig().attack_steps
    5
    """

    attack_eps: float = 0.1
    attack_steps: int = 5
    epochs: int = 5
    lr: float = 0.003

    def __post_init__(self) -> None:
        check_positive(self, "attack_eps", self.attack_eps)
        check_positive(self, "attack_steps", self.attack_steps, integer=True)
        check_positive(self, "epochs", self.epochs, integer=True)
        check_positive(self, "lr", self.lr)


def nearest_other_class(
    run: UnlearnRun, x: torch.Tensor, y: torch.Tensor, eps: float, steps: int
) -> torch.Tensor:
    """The most probable class other than ``y`` after an L-inf PGD attack on the original."""
    teacher = run.teacher
    step = 2.5 * eps / steps
    adv = x.clone()
    for _ in range(steps):
        adv.requires_grad_(True)
        loss = nnf.cross_entropy(teacher(adv), y)
        (grad,) = torch.autograd.grad(loss, adv)
        adv = (adv.detach() + step * grad.sign()).clamp(x - eps, x + eps)
        run.step(len(x))
    with torch.no_grad():
        logits = teacher(adv)
        logits[torch.arange(len(y)), y] = -torch.inf
        return logits.argmax(dim=1)


def apply(run: UnlearnRun, cfg: BoundaryConfig) -> dict[str, Any]:
    batches = run.n_batches(len(run.forget))
    run.plan(batches * (cfg.attack_steps + cfg.epochs), "boundary shrinking")
    new = torch.empty(len(run.forget), dtype=torch.long, device=run.device)
    position = {int(r): k for k, r in enumerate(run.forget)}
    with run.essential("finding the nearest classes"):
        for start in range(0, len(run.forget), run.batch_size):
            rows = run.forget[start : start + run.batch_size]
            x, y = run.fetch(rows, corrected=False)
            new[start : start + len(rows)] = nearest_other_class(
                run, x, y, cfg.attack_eps, cfg.attack_steps
            )
    run.evidence["neighbour_labels"] = torch.bincount(new, minlength=run.n_classes).tolist()
    opt = run.sgd(lr=cfg.lr)
    run.model.train()
    for batch in run.batches(run.forget, epochs=cfg.epochs):
        x, _ = run.fetch(batch, corrected=False)
        target = new[torch.as_tensor([position[int(r)] for r in batch], device=run.device)]
        opt.zero_grad(set_to_none=True)
        nnf.cross_entropy(run.model(x), target).backward()
        opt.step()
        run.step(len(batch))
    return run.evidence


methods.add(
    "boundary",
    ApproximateMethod(
        name="boundary",
        config=BoundaryConfig,
        apply=apply,
        request_kinds=frozenset({"classes"}),
        summary="Boundary shrinking: relabel a class's samples to their nearest other class.",
        reference="Chen et al., CVPR 2023",
    ),
)
