"""Turning examples into token batches, and scoring answers token by token.

Every example is laid out as ``Question: {prompt}\\nAnswer: {answer}<eos>`` (a document with
an empty prompt is just ``{answer}<eos>``); the prompt and the answer are tokenized separately
and concatenated, and only the answer tokens (with the end-of-sequence token) carry labels.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from unlearnkit.llm.corpus import TextExample

__all__ = [
    "TokenStats",
    "batches",
    "context_length",
    "encode",
    "format_prompt",
    "sequence_logprob",
    "token_stats",
]

IGNORE = -100


def context_length(model: Any) -> int:
    """Longest input the model's position embeddings allow (2048 when it does not say)."""
    cfg = model.config
    value: Any = getattr(cfg, "n_positions", None) or getattr(cfg, "max_position_embeddings", 2048)
    return int(value)


def format_prompt(prompt: str) -> str:
    """The text the model is conditioned on for ``prompt`` (empty for documents)."""
    return f"Question: {prompt}\nAnswer:" if prompt else ""


def encode(
    tokenizer: Any,
    pairs: Sequence[tuple[str, str]],
    max_length: int = 128,
    device: torch.device | str | None = None,
) -> dict[str, torch.Tensor]:
    """Right-padded ``input_ids``, ``attention_mask`` and answer-only ``labels`` on ``device``.

    ``pairs`` are ``(prompt, answer)``; sequences longer than ``max_length`` keep their first
    ``max_length`` tokens.
    """
    eos = tokenizer.eos_token_id
    rows: list[tuple[list[int], list[int]]] = []
    for prompt, answer in pairs:
        p = (
            tokenizer(format_prompt(prompt), add_special_tokens=False)["input_ids"]
            if prompt
            else []
        )
        a = tokenizer(" " + answer if prompt else answer, add_special_tokens=False)["input_ids"]
        ids = (list(p) + list(a) + [eos])[:max_length]
        labels = ([IGNORE] * len(p) + list(a) + [eos])[:max_length]
        rows.append((ids, labels))
    width = max(len(ids) for ids, _ in rows)
    pad = tokenizer.pad_token_id
    input_ids = torch.full((len(rows), width), pad, dtype=torch.long)
    labels_t = torch.full((len(rows), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, (ids, labels) in enumerate(rows):
        input_ids[i, : len(ids)] = torch.tensor(ids)
        labels_t[i, : len(labels)] = torch.tensor(labels)
        mask[i, : len(ids)] = 1
    out = {"input_ids": input_ids, "attention_mask": mask, "labels": labels_t}
    return {k: v.to(device) for k, v in out.items()} if device is not None else out


def batches(
    examples: Sequence[Any], batch_size: int, generator: torch.Generator | None = None
) -> Iterator[list[Any]]:
    """Consecutive batches of ``examples``, shuffled when a ``generator`` is given."""
    order = (
        torch.randperm(len(examples), generator=generator).tolist()
        if generator is not None
        else list(range(len(examples)))
    )
    for start in range(0, len(order), batch_size):
        yield [examples[i] for i in order[start : start + batch_size]]


def sequence_logprob(
    model: Any, batch: dict[str, torch.Tensor]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sum of the log-probabilities of the labelled tokens of each row, and their count."""
    out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
    logits = out.logits[:, :-1].float()
    labels = batch["labels"][:, 1:]
    mask = labels != IGNORE
    logp = torch.log_softmax(logits, dim=-1)
    picked = logp.gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return (picked * mask).sum(-1), mask.sum(-1)


@dataclass(frozen=True)
class TokenStats:
    """Per-token facts about one answer under a model.

    Attributes
    ----------
    logp : ndarray
        ``log p(x_t | x_<t)`` of each answer token.
    mu, sigma : ndarray
        Mean and standard deviation of ``log p(z | x_<t)`` for ``z`` drawn from the model's
        next-token distribution (used by Min-K%++).
    correct : ndarray of bool
        Whether the model's most likely next token is the true one (teacher forcing).
    """

    logp: np.ndarray
    mu: np.ndarray
    sigma: np.ndarray
    correct: np.ndarray


@torch.no_grad()
def token_stats(
    model: Any,
    tokenizer: Any,
    pairs: Sequence[tuple[str, str]],
    batch_size: int = 64,
    max_length: int = 128,
) -> list[TokenStats]:
    """:class:`TokenStats` of each ``(prompt, answer)`` pair under ``model`` (eval mode)."""
    was_training = model.training
    model.eval()
    max_length = min(max_length, context_length(model))
    out: list[TokenStats] = []
    try:
        for chunk in batches(list(pairs), batch_size):
            b = encode(tokenizer, chunk, max_length, model.device)
            logits = model(input_ids=b["input_ids"], attention_mask=b["attention_mask"]).logits
            logp_all = torch.log_softmax(logits[:, :-1].double(), dim=-1)
            labels = b["labels"][:, 1:]
            p_all = logp_all.exp()
            mu = (p_all * logp_all).sum(-1)
            var = (p_all * logp_all.square()).sum(-1) - mu.square()
            sigma = var.clamp(min=1e-12).sqrt()
            picked = logp_all.gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
            correct = logp_all.argmax(-1) == labels
            for i in range(len(chunk)):
                m = labels[i] != IGNORE
                out.append(
                    TokenStats(
                        logp=picked[i][m].cpu().numpy(),
                        mu=mu[i][m].cpu().numpy(),
                        sigma=sigma[i][m].cpu().numpy(),
                        correct=correct[i][m].cpu().numpy(),
                    )
                )
    finally:
        model.train(was_training)
    return out


def example_pairs(examples: Sequence[TextExample]) -> list[tuple[str, str]]:
    """``(prompt, answer)`` of each example."""
    return [(e.prompt, e.answer) for e in examples]
