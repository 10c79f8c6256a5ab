"""Bad-teacher distillation: learn the forget set from an incompetent teacher and the rest
from the competent one.

The competent teacher is a frozen copy of the model; the incompetent teacher has the same
architecture with freshly initialised weights. The student (the model) minimises the KL
divergence to the incompetent teacher's outputs on forget samples and to the competent
teacher's on a random share of the retain samples (Chundawat, Tarun, Mandal & Kankanhalli,
"Can Bad Teaching Induce Forgetting? Unlearning in Deep Networks Using an Incompetent
Teacher", AAAI 2023).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from unlearnkit.approximate._registry import ApproximateMethod, methods
from unlearnkit.approximate._run import (
    UnlearnRun,
    check_fraction,
    check_positive,
    frozen_copy,
    kl_to_teacher,
    reset_parameters,
)
from unlearnkit.approximate.finetune import subsample

__all__ = ["BadTeacherConfig"]


@dataclass(frozen=True)
class BadTeacherConfig:
    """Hyper-parameters of bad-teacher distillation.

    Parameters
    ----------
    epochs : int
        Passes over the mixed forget + retain-share data.
    lr : float
        SGD learning rate (momentum 0.9).
    retain_fraction : float
        Share of the retain set mixed in (the paper uses 30%).
    temperature : float
        Distillation temperature.

    Examples
    --------
    >>> BadTeacherConfig().retain_fraction
    0.3
    """

    epochs: int = 1
    lr: float = 0.01
    retain_fraction: float = 0.3
    temperature: float = 1.0

    def __post_init__(self) -> None:
        check_positive(self, "epochs", self.epochs, integer=True)
        check_positive(self, "lr", self.lr)
        check_fraction(self, "retain_fraction", self.retain_fraction)
        check_positive(self, "temperature", self.temperature)


def apply(run: UnlearnRun, cfg: BadTeacherConfig) -> dict[str, Any]:
    good = run.teacher
    bad = copy.deepcopy(good)
    reset_parameters(bad, run.generator)
    bad = frozen_copy(bad)
    retain = subsample(run, run.retain, cfg.retain_fraction)
    rows = np.concatenate([run.forget, retain])
    is_forget = np.zeros(len(run.data), dtype=bool)
    is_forget[run.forget] = True
    opt = run.sgd(lr=cfg.lr)
    run.plan(cfg.epochs * run.n_batches(len(rows)), "bad teacher")
    run.model.train()
    for batch in run.batches(rows, epochs=cfg.epochs):
        x, _ = run.fetch(batch, corrected=False)
        flag = torch.as_tensor(is_forget[batch], device=run.device).unsqueeze(1)
        with torch.no_grad():
            target = torch.where(flag, bad(x), good(x))
        opt.zero_grad(set_to_none=True)
        kl_to_teacher(run.model(x), target, cfg.temperature).backward()
        opt.step()
        run.step(len(batch))
    return run.evidence


methods.add(
    "bad_teacher",
    ApproximateMethod(
        name="bad_teacher",
        config=BadTeacherConfig,
        apply=apply,
        request_kinds=frozenset({"items", "group", "classes"}),
        summary="Distil from a random teacher on the forget set, the original on the rest.",
        reference="Chundawat et al., AAAI 2023",
    ),
)
