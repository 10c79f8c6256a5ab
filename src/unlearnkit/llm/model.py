"""Tokenizers and tiny GPT-style models trained from scratch, and checks on foreign models.

Examples
--------
>>> import torch
>>> from unlearnkit.llm.model import TinyLMConfig, TrainConfig, build_tiny_lm, train_lm
>>> from unlearnkit.llm.model import train_tokenizer
>>> from unlearnkit.llm.corpus import TextExample
>>> torch.set_num_threads(1)
>>> data = [TextExample(i, f"What is item {i}?", f"Item {i} is red.") for i in range(8)]
>>> tok = train_tokenizer(data, vocab_size=120)
>>> model = build_tiny_lm(tok, TinyLMConfig(n_embd=16, n_layer=1, n_head=2))
>>> report = train_lm(model, tok, data, TrainConfig(epochs=2, batch_size=4))
>>> report.steps, report.tokens > 0
(4, True)
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from unlearnkit.errors import InvalidParameterError
from unlearnkit.llm.corpus import TextExample
from unlearnkit.llm.errors import MissingPadTokenError, NotACausalLMError
from unlearnkit.llm.text import batches, context_length, encode, format_prompt, sequence_logprob

__all__ = [
    "TinyLMConfig",
    "TrainConfig",
    "TrainReport",
    "build_tiny_lm",
    "check_causal_lm",
    "check_tokenizer",
    "default_cache_dir",
    "device_count",
    "model_checksum",
    "train_lm",
    "train_tokenizer",
]

SPECIAL_TOKENS = {
    "bos_token": "<s>",
    "eos_token": "</s>",
    "pad_token": "<pad>",
    "unk_token": "<unk>",
}


def default_cache_dir() -> Path:
    """``$UNLEARNKIT_CACHE``, else ``$XDG_CACHE_HOME/unlearnkit/llm``, else
    ``~/.cache/unlearnkit/llm``."""
    if env := os.environ.get("UNLEARNKIT_CACHE"):
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "unlearnkit" / "llm"


def device_count() -> int:
    """Accelerators visible to torch (CUDA), or 1 for the CPU."""
    return torch.cuda.device_count() if torch.cuda.is_available() else 1


def train_tokenizer(examples: Sequence[TextExample], vocab_size: int = 1024) -> Any:
    """A byte-level BPE tokenizer trained on the examples' text, as a fast HF tokenizer.

    It has ``<s>``, ``</s>``, ``<pad>`` and ``<unk>`` special tokens; training is
    deterministic for the same examples and ``vocab_size``.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    if vocab_size < 64:
        raise InvalidParameterError(f"vocab_size={vocab_size} is too small; use at least 64.")
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS.values()),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    texts = []
    for e in examples:
        prefix = format_prompt(e.prompt)
        texts.append(f"{prefix} {e.answer}" if prefix else e.answer)
        texts.extend([e.paraphrase or "", *e.perturbed])
    tok.train_from_iterator([t for t in texts if t], trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, **SPECIAL_TOKENS)


@dataclass(frozen=True)
class TinyLMConfig:
    """Shape of a tiny GPT-2 model (``transformers.GPT2LMHeadModel``)."""

    n_layer: int = 2
    n_embd: int = 96
    n_head: int = 4
    n_positions: int = 128
    seed: int = 0


def build_tiny_lm(tokenizer: Any, config: TinyLMConfig | None = None) -> Any:
    """A freshly initialised GPT-2 causal LM sized for ``tokenizer`` (seeded)."""
    from transformers import GPT2Config, GPT2LMHeadModel

    config = config or TinyLMConfig()
    torch.manual_seed(config.seed)
    cfg = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=config.n_positions,
        n_embd=config.n_embd,
        n_layer=config.n_layer,
        n_head=config.n_head,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
    )
    return GPT2LMHeadModel(cfg)


@dataclass(frozen=True)
class TrainConfig:
    """How :func:`train_lm` trains (AdamW with linear warm-up and decay)."""

    epochs: int = 40
    batch_size: int = 32
    learning_rate: float = 3e-3
    weight_decay: float = 0.0
    warmup_steps: int = 20
    max_length: int = 64
    seed: int = 0


@dataclass(frozen=True)
class TrainReport:
    """What training cost: optimizer steps, labelled tokens processed, seconds, final loss."""

    steps: int
    tokens: int
    seconds: float
    final_loss: float
    batch_size: int
    seed: int
    device_count: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def train_lm(
    model: Any, tokenizer: Any, examples: Sequence[TextExample], config: TrainConfig | None = None
) -> TrainReport:
    """Train ``model`` in place on the answers of ``examples`` (next-token cross-entropy).

    ``tokens`` in the report counts every non-padding token that went through a forward and
    backward pass, the unit :mod:`unlearnkit.llm.unlearn` reports its own cost in.
    """
    config = config or TrainConfig()
    check_causal_lm(model)
    check_tokenizer(tokenizer)
    if not examples:
        raise InvalidParameterError("train_lm needs at least one example.")
    torch.manual_seed(config.seed)
    gen = torch.Generator().manual_seed(config.seed)
    opt = torch.optim.AdamW(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    per_epoch = -(-len(examples) // config.batch_size)
    total = per_epoch * config.epochs
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt,
        lambda s: (
            min(1.0, (s + 1) / max(1, config.warmup_steps)) * max(0.0, 1.0 - s / max(1, total))
        ),
    )
    model.train()
    steps = tokens = 0
    loss_value = float("nan")
    start = time.perf_counter()
    pairs = [(e.prompt, e.answer) for e in examples]
    max_length = min(config.max_length, context_length(model))
    for _ in range(config.epochs):
        for chunk in batches(pairs, config.batch_size, gen):
            b = encode(tokenizer, chunk, max_length, model.device)
            lp, n = sequence_logprob(model, b)
            loss = -lp.sum() / n.sum()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            steps += 1
            tokens += int(b["attention_mask"].sum())
            loss_value = float(loss.detach())
    model.eval()
    return TrainReport(
        steps=steps,
        tokens=tokens,
        seconds=time.perf_counter() - start,
        final_loss=loss_value,
        batch_size=config.batch_size,
        seed=config.seed,
        device_count=device_count(),
    )


def check_causal_lm(model: Any) -> None:
    """Raise :class:`NotACausalLMError` unless ``model`` is a transformers causal LM."""
    from transformers import PreTrainedModel

    if not isinstance(model, PreTrainedModel):
        raise NotACausalLMError(
            f"Expected a transformers PreTrainedModel with a causal-LM head, got "
            f"{type(model).__name__}. Load it with AutoModelForCausalLM.from_pretrained(...)."
        )
    head = model.get_output_embeddings()
    if head is None or (
        not type(model).__name__.endswith("LMHeadModel")
        and not type(model).__name__.endswith("ForCausalLM")
    ):
        raise NotACausalLMError(
            f"{type(model).__name__} has no causal language-modelling head. Load the model "
            "with AutoModelForCausalLM.from_pretrained(...) instead of AutoModel."
        )


def check_tokenizer(tokenizer: Any) -> None:
    """Raise :class:`MissingPadTokenError` unless the tokenizer has pad and eos tokens."""
    if getattr(tokenizer, "pad_token_id", None) is None:
        raise MissingPadTokenError(
            f"{type(tokenizer).__name__} has no pad token, so batches cannot be padded. Set "
            "one first, e.g. tokenizer.pad_token = tokenizer.eos_token."
        )
    if getattr(tokenizer, "eos_token_id", None) is None:
        raise MissingPadTokenError(
            f"{type(tokenizer).__name__} has no end-of-sequence token; set tokenizer.eos_token."
        )


def model_checksum(model: Any) -> str:
    """SHA-256 of every tensor of ``model.state_dict()`` (names, dtypes, shapes, bytes)."""
    h = hashlib.sha256()
    for name, t in sorted(model.state_dict().items()):
        t = t.detach().cpu().contiguous()
        h.update(f"{name}{t.dtype}{tuple(t.shape)}".encode())
        h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()
