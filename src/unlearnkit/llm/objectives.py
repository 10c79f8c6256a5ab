"""Unlearning objectives for causal LMs and their typed configs, one registry entry each.

Notation: ``F`` a batch of forget examples ``(x, y)``, ``R`` a batch of retain examples,
``log p(y|x)`` the summed log-probability of the answer tokens, ``NLL`` the mean per-token
negative log-likelihood, ``ref`` the model before unlearning (frozen), ``sigma`` the logistic
function.

=============  ================================================================================
GradAscent     ``L = -NLL_theta(F)``
GradDiff       ``L = -gamma NLL_theta(F) + alpha NLL_theta(R)``
KL-GradDiff    ``L = -gamma NLL_theta(F) + alpha KL(p_ref || p_theta)(R)`` (per answer token)
DPO (IdkPO)    ``L = -(2/beta) log sigma(beta [log p_theta(y_w|x) - log p_ref(y_w|x)]
               - beta [log p_theta(y|x) - log p_ref(y|x)]) + alpha NLL_theta(R)``, with ``y_w``
               a refusal or an alternative (wrong) answer (``target``)
NPO            ``L = -(2/beta) log sigma(-beta [log p_theta(y|x) - log p_ref(y|x)])
               + alpha NLL_theta(R)``
SimNPO         ``L = -(2/beta) log sigma(-(beta/|y|) log p_theta(y|x) - delta)
               + alpha NLL_theta(R)``
RMU            ``L = mean ||h_theta(F) - c u||^2 + alpha mean ||h_theta(R) - h_ref(R)||^2``: the
               hidden state after block ``layer`` is steered to a fixed random direction ``u``
               (unit norm, scaled by ``steering``) on forget text and kept on retain text; only
               block ``layer`` is trained (or the LoRA adapters)
=============  ================================================================================
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import torch
from torch.nn import functional as F  # noqa: N812

from unlearnkit.errors import InvalidParameterError
from unlearnkit.llm.text import IGNORE, context_length, encode, sequence_logprob
from unlearnkit.registry import Registry

__all__ = [
    "DEFAULT_REFUSALS",
    "DPOConfig",
    "GradAscentConfig",
    "GradDiffConfig",
    "KLGradDiffConfig",
    "LLMMethodInfo",
    "LoRAOptions",
    "NPOConfig",
    "RMUConfig",
    "SimNPOConfig",
    "UnlearnConfig",
    "llm_methods",
]

DEFAULT_REFUSALS: tuple[str, ...] = (
    "I do not know the answer to that.",
    "I have no information about that.",
    "I am not able to answer that question.",
    "That is something I cannot tell you.",
)


@dataclass(frozen=True, kw_only=True)
class LoRAOptions:
    """Train low-rank adapters (``peft.LoraConfig``) instead of every weight.

    The adapters are merged into the returned model when ``merge`` is true.
    ``target_modules=None`` lets PEFT choose the modules for known architectures.
    """

    r: int = 8
    alpha: int = 16
    dropout: float = 0.0
    target_modules: tuple[str, ...] | None = None
    merge: bool = True

    def __post_init__(self) -> None:
        if self.r < 1 or self.alpha <= 0 or not 0 <= self.dropout < 1:
            raise InvalidParameterError(
                f"LoRAOptions(r={self.r}, alpha={self.alpha}, dropout={self.dropout}) is out "
                "of range: r >= 1, alpha > 0, 0 <= dropout < 1."
            )


@dataclass(frozen=True, kw_only=True)
class UnlearnConfig:
    """Settings every method shares.

    Parameters
    ----------
    epochs : int
        Passes over the forget set.
    batch_size : int
        Forget examples per step (and as many retain examples).
    learning_rate : float
        AdamW learning rate (constant).
    max_grad_norm : float
        Gradient clipping.
    max_length : int
        Tokens kept per example.
    seed : int
        Seeds shuffling, the RMU direction and torch.
    lora : LoRAOptions, optional
        Train LoRA adapters instead of the full weights.
    """

    epochs: int = 5
    batch_size: int = 16
    learning_rate: float = 1e-3
    max_grad_norm: float = 1.0
    max_length: int = 64
    seed: int = 0
    lora: LoRAOptions | None = None

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "max_length"):
            if getattr(self, name) < 1:
                raise InvalidParameterError(
                    f"{name}={getattr(self, name)!r} must be a positive integer."
                )
        if not self.learning_rate > 0 or not self.max_grad_norm > 0:
            raise InvalidParameterError(
                f"learning_rate={self.learning_rate!r} and max_grad_norm="
                f"{self.max_grad_norm!r} must be positive."
            )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, kw_only=True)
class GradAscentConfig(UnlearnConfig):
    """Gradient ascent on the forget set (no retain term)."""


@dataclass(frozen=True, kw_only=True)
class GradDiffConfig(UnlearnConfig):
    """``gamma``: weight of the forget term; ``alpha``: weight of the retain term."""

    gamma: float = 1.0
    alpha: float = 1.0


@dataclass(frozen=True, kw_only=True)
class KLGradDiffConfig(GradDiffConfig):
    """GradDiff with a KL-to-the-original retain term."""


@dataclass(frozen=True, kw_only=True)
class DPOConfig(UnlearnConfig):
    """Preference optimisation towards ``target`` answers (refusals or wrong alternatives)."""

    beta: float = 0.1
    alpha: float = 1.0
    target: Literal["refusal", "alternative"] = "refusal"
    refusals: tuple[str, ...] = DEFAULT_REFUSALS

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.target not in ("refusal", "alternative"):
            raise InvalidParameterError(
                f"target={self.target!r} must be 'refusal' or 'alternative'."
            )
        if not self.refusals:
            raise InvalidParameterError("refusals must hold at least one refusal text.")


@dataclass(frozen=True, kw_only=True)
class NPOConfig(UnlearnConfig):
    """Negative preference optimisation; ``beta`` its temperature."""

    beta: float = 0.1
    alpha: float = 1.0


@dataclass(frozen=True, kw_only=True)
class SimNPOConfig(UnlearnConfig):
    """Reference-free, length-normalised NPO with margin ``delta``."""

    beta: float = 2.5
    delta: float = 0.0
    alpha: float = 1.0


@dataclass(frozen=True, kw_only=True)
class RMUConfig(UnlearnConfig):
    """Representation misdirection: ``layer`` (block index, negative counts from the end),
    ``steering`` (norm of the random target) and ``alpha`` (retain weight)."""

    layer: int = 0
    steering: float = 20.0
    alpha: float = 10.0


@dataclass
class StepContext:
    """What an objective sees: the model being trained, the frozen reference and counters."""

    model: Any
    reference: Any
    tokenizer: Any
    config: Any
    train_tokens: int = 0
    reference_tokens: int = 0
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def limit(self) -> int:
        return context_length(self.model)

    def encode(self, pairs: list[tuple[str, str]]) -> dict[str, torch.Tensor]:
        return encode(
            self.tokenizer, pairs, min(self.config.max_length, self.limit), self.model.device
        )

    def logprob(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        self.train_tokens += int(batch["attention_mask"].sum())
        return sequence_logprob(self.model, batch)

    @torch.no_grad()
    def ref_logprob(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        self.reference_tokens += int(batch["attention_mask"].sum())
        return sequence_logprob(self.reference, batch)[0]

    def nll(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        lp, n = self.logprob(batch)
        return -lp.sum() / n.sum().clamp(min=1)


Batch = list[Any]  # TextExample
Objective = Callable[[StepContext, Batch, Batch | None], torch.Tensor]


def _pairs(examples: Batch) -> list[tuple[str, str]]:
    return [(e.prompt, e.answer) for e in examples]


def _grad_ascent(ctx: StepContext, forget: Batch, retain: Batch | None) -> torch.Tensor:
    return -ctx.nll(ctx.encode(_pairs(forget)))


def _grad_diff(ctx: StepContext, forget: Batch, retain: Batch | None) -> torch.Tensor:
    assert retain is not None
    cfg = ctx.config
    return -cfg.gamma * ctx.nll(ctx.encode(_pairs(forget))) + cfg.alpha * ctx.nll(
        ctx.encode(_pairs(retain))
    )


def _kl_grad_diff(ctx: StepContext, forget: Batch, retain: Batch | None) -> torch.Tensor:
    assert retain is not None
    cfg = ctx.config
    b = ctx.encode(_pairs(retain))
    mask = b["labels"][:, 1:] != IGNORE
    ctx.train_tokens += int(b["attention_mask"].sum())
    ctx.reference_tokens += int(b["attention_mask"].sum())
    logq = torch.log_softmax(
        ctx.model(input_ids=b["input_ids"], attention_mask=b["attention_mask"]).logits[:, :-1],
        -1,
    )
    with torch.no_grad():
        logp = torch.log_softmax(
            ctx.reference(input_ids=b["input_ids"], attention_mask=b["attention_mask"]).logits[
                :, :-1
            ],
            -1,
        )
    kl = (logp.exp() * (logp - logq)).sum(-1)
    kl = (kl * mask).sum() / mask.sum().clamp(min=1)
    return -cfg.gamma * ctx.nll(ctx.encode(_pairs(forget))) + cfg.alpha * kl


def _preferred(cfg: DPOConfig, example: Any) -> str:
    key = sum(str(example.id).encode())
    if cfg.target == "alternative" and example.perturbed:
        return str(example.perturbed[key % len(example.perturbed)])
    return cfg.refusals[key % len(cfg.refusals)]


def _dpo(ctx: StepContext, forget: Batch, retain: Batch | None) -> torch.Tensor:
    assert retain is not None
    cfg = ctx.config
    lose = ctx.encode(_pairs(forget))
    win = ctx.encode([(e.prompt, _preferred(cfg, e)) for e in forget])
    margin = (ctx.logprob(win)[0] - ctx.ref_logprob(win)) - (
        ctx.logprob(lose)[0] - ctx.ref_logprob(lose)
    )
    loss = -(2.0 / cfg.beta) * F.logsigmoid(cfg.beta * margin).mean()
    return loss + cfg.alpha * ctx.nll(ctx.encode(_pairs(retain)))


def _npo(ctx: StepContext, forget: Batch, retain: Batch | None) -> torch.Tensor:
    assert retain is not None
    cfg = ctx.config
    b = ctx.encode(_pairs(forget))
    ratio = ctx.logprob(b)[0] - ctx.ref_logprob(b)
    loss = -(2.0 / cfg.beta) * F.logsigmoid(-cfg.beta * ratio).mean()
    return loss + cfg.alpha * ctx.nll(ctx.encode(_pairs(retain)))


def _simnpo(ctx: StepContext, forget: Batch, retain: Batch | None) -> torch.Tensor:
    assert retain is not None
    cfg = ctx.config
    lp, n = ctx.logprob(ctx.encode(_pairs(forget)))
    loss = -(2.0 / cfg.beta) * F.logsigmoid(-cfg.beta * lp / n.clamp(min=1) - cfg.delta).mean()
    return loss + cfg.alpha * ctx.nll(ctx.encode(_pairs(retain)))


def _hidden(model: Any, batch: dict[str, torch.Tensor], layer: int) -> torch.Tensor:
    out = model(
        input_ids=batch["input_ids"],
        attention_mask=batch["attention_mask"],
        output_hidden_states=True,
    )
    return out.hidden_states[layer + 1]


def _rmu(ctx: StepContext, forget: Batch, retain: Batch | None) -> torch.Tensor:
    assert retain is not None
    cfg = ctx.config
    layer = ctx.state["layer"]
    f = ctx.encode(_pairs(forget))
    r = ctx.encode(_pairs(retain))
    ctx.train_tokens += int(f["attention_mask"].sum() + r["attention_mask"].sum())
    ctx.reference_tokens += int(r["attention_mask"].sum())
    hf = _hidden(ctx.model, f, layer)
    target = ctx.state["control"].to(hf.device, hf.dtype)
    fm = f["attention_mask"].unsqueeze(-1).to(hf.dtype)
    forget_loss = ((hf - target).square() * fm).sum() / (fm.sum() * hf.shape[-1])
    hr = _hidden(ctx.model, r, layer)
    with torch.no_grad():
        href = _hidden(ctx.reference, r, layer)
    rm = r["attention_mask"].unsqueeze(-1).to(hr.dtype)
    retain_loss = ((hr - href).square() * rm).sum() / (rm.sum() * hr.shape[-1])
    return forget_loss + cfg.alpha * retain_loss


@dataclass(frozen=True)
class LLMMethodInfo:
    """A registered LLM unlearning objective."""

    name: str
    config_cls: type[UnlearnConfig]
    objective: Objective
    needs_retain: bool
    needs_reference: bool
    summary: str


llm_methods: Registry[LLMMethodInfo] = Registry("LLM unlearning method")

for _info in (
    LLMMethodInfo(
        "grad_ascent",
        GradAscentConfig,
        _grad_ascent,
        False,
        False,
        "Gradient ascent on the forget set.",
    ),
    LLMMethodInfo(
        "grad_diff", GradDiffConfig, _grad_diff, True, False, "Ascent on forget, descent on retain."
    ),
    LLMMethodInfo(
        "kl_grad_diff",
        KLGradDiffConfig,
        _kl_grad_diff,
        True,
        True,
        "Ascent on forget, KL to the original on retain.",
    ),
    LLMMethodInfo(
        "dpo",
        DPOConfig,
        _dpo,
        True,
        True,
        "Prefer refusals (IdkPO) or alternative answers over the true ones.",
    ),
    LLMMethodInfo(
        "npo", NPOConfig, _npo, True, True, "Negative preference optimisation with a retain term."
    ),
    LLMMethodInfo(
        "simnpo", SimNPOConfig, _simnpo, True, False, "Reference-free, length-normalised NPO."
    ),
    LLMMethodInfo(
        "rmu", RMUConfig, _rmu, True, True, "Steer one block's activations on forget text to noise."
    ),
):
    llm_methods.add(_info.name, _info)
