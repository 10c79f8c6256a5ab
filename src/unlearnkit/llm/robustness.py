"""Robustness checks of unlearning: relearning attacks and int8 weight quantisation.

* :func:`relearn` fine-tunes a copy of a model for a few steps on *part* of the forget set
  and measures, on the *other* part, how much of the forgotten knowledge comes back:
  ``recovery = (P_after - P_unlearned) / (P_original - P_unlearned)`` with ``P`` the mean
  normalised answer probability on the held-out forget questions (0: nothing recovered, 1:
  back to the original model).
* :func:`quantize_int8` rounds every weight matrix of a copy of a model to int8 with one
  symmetric scale per output row (``w_q = round(w / s) * s``, ``s = max|w_row| / 127``) and
  returns the de-quantised model, the setting in which Zhang et al. (2025) found unlearned
  knowledge to resurface.

Examples
--------
>>> import torch
>>> from unlearnkit.llm.robustness import quantize_int8
>>> net = torch.nn.Linear(3, 2)
>>> q = quantize_int8(net)
>>> bool(torch.allclose(q.weight, net.weight, atol=net.weight.abs().max().item() / 127))
True
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from unlearnkit.errors import DataValidationError
from unlearnkit.llm.corpus import TextExample
from unlearnkit.llm.metrics import normalized_probability
from unlearnkit.llm.model import TrainConfig, train_lm
from unlearnkit.llm.text import token_stats

__all__ = ["RelearnResult", "mean_probability", "quantize_int8", "relearn"]


def mean_probability(model: Any, tokenizer: Any, examples: Sequence[TextExample]) -> float:
    """Mean normalised answer probability of ``examples`` under ``model``."""
    stats = token_stats(model, tokenizer, [(e.prompt, e.answer) for e in examples])
    return float(np.mean([normalized_probability(s.logp) for s in stats]))


@dataclass(frozen=True)
class RelearnResult:
    """Probabilities on the held-out forget questions before and after relearning."""

    original: float
    unlearned: float
    relearned: float
    steps: int

    @property
    def recovery(self) -> float:
        gap = self.original - self.unlearned
        return float("nan") if abs(gap) < 1e-12 else (self.relearned - self.unlearned) / gap


def relearn(
    model: Any,
    original: Any,
    tokenizer: Any,
    forget: Sequence[TextExample],
    *,
    share: float = 0.5,
    config: TrainConfig | None = None,
) -> RelearnResult:
    """Fine-tune a copy of ``model`` on every other question of ``forget`` and measure recovery
    on the rest (the first ``share`` of each subject's questions, in order, are trained on)."""
    if not 0 < share < 1 or len(forget) < 2:
        raise DataValidationError("relearn needs at least two forget examples and 0 < share < 1.")
    cut = max(1, min(len(forget) - 1, round(share * len(forget))))
    order = sorted(range(len(forget)), key=lambda i: (i % 2, i))
    train = [forget[i] for i in order[:cut]]
    held = [forget[i] for i in order[cut:]]
    config = config or TrainConfig(epochs=2, batch_size=8, learning_rate=1e-3, warmup_steps=1)
    copy_ = copy.deepcopy(model)
    report = train_lm(copy_, tokenizer, train, config)
    return RelearnResult(
        original=mean_probability(original, tokenizer, held),
        unlearned=mean_probability(model, tokenizer, held),
        relearned=mean_probability(copy_, tokenizer, held),
        steps=report.steps,
    )


@torch.no_grad()
def quantize_int8(model: Any) -> Any:
    """A copy of ``model`` with every 2-D weight rounded to int8 per output row."""
    out = copy.deepcopy(model)
    for module in out.modules():
        w = getattr(module, "weight", None)
        if isinstance(w, torch.nn.Parameter) and w.dim() == 2 and w.is_floating_point():
            # rows of nn.Linear/Embedding weights; transformers' Conv1D stores (in, out)
            axis = 0 if type(module).__name__ == "Conv1D" else 1
            scale = w.abs().amax(dim=axis, keepdim=True).clamp(min=1e-12) / 127.0
            w.copy_(torch.round(w / scale).clamp(-127, 127) * scale)
    return out
