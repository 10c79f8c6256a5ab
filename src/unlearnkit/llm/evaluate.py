"""Evaluate a causal LM on a TOFU-style benchmark: forgetting, utility and leakage.

:func:`score_model` computes everything that depends on one model (per-question truth ratios,
probabilities, ROUGE-L recall, memorisation, membership scores); :func:`compare` turns the
scores of an unlearned model and of the retain-only reference into forget quality and
PrivLeak.

Examples
--------
>>> import torch
>>> from unlearnkit.llm.tofu import TofuConfig, make_tofu
>>> from unlearnkit.llm.model import TinyLMConfig, build_tiny_lm, train_tokenizer
>>> from unlearnkit.llm.evaluate import score_model
>>> torch.set_num_threads(1)
>>> data = make_tofu(TofuConfig(n_people=10, n_holdout=1, n_authors=4, n_countries=2))
>>> tok = train_tokenizer(list(data.corpus()), vocab_size=200)
>>> model = build_tiny_lm(tok, TinyLMConfig(n_embd=16, n_layer=1, n_head=2))
>>> s = score_model(model, tok, data, "forget10", n_retain=20, n_generate=4)
>>> 0 <= s.model_utility <= 1, len(s.forget.truth_ratios)
(True, 20)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from unlearnkit.llm.attacks import ATTACKS, attack_auc, membership_scores, privleak
from unlearnkit.llm.corpus import TextExample
from unlearnkit.llm.metrics import (
    exact_memorization,
    extraction_strength,
    forget_quality,
    harmonic_mean,
    normalized_probability,
    option_probability,
    rouge_l_recall,
    truth_ratio,
    truth_ratio_score,
)
from unlearnkit.llm.text import context_length, format_prompt, token_stats
from unlearnkit.llm.tofu import TofuData

__all__ = ["SetScores", "ModelScores", "compare", "generate_answers", "score_model", "score_set"]


@torch.no_grad()
def generate_answers(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[str],
    max_new_tokens: int = 24,
    batch_size: int = 64,
) -> list[str]:
    """Greedy answers to ``prompts`` (left-padded batches; stops at end-of-sequence)."""
    model.eval()
    out: list[str] = []
    pad, eos = tokenizer.pad_token_id, tokenizer.eos_token_id
    limit = context_length(model)
    for start in range(0, len(prompts), batch_size):
        chunk = prompts[start : start + batch_size]
        ids = [tokenizer(format_prompt(p), add_special_tokens=False)["input_ids"] for p in chunk]
        width = max(len(i) for i in ids)
        x = torch.full((len(ids), width), pad, dtype=torch.long)
        mask = torch.zeros_like(x)
        for r, i in enumerate(ids):
            x[r, width - len(i) :] = torch.tensor(i)
            mask[r, width - len(i) :] = 1
        new = min(max_new_tokens, limit - width)
        gen = model.generate(
            input_ids=x.to(model.device),
            attention_mask=mask.to(model.device),
            max_new_tokens=max(1, new),
            do_sample=False,
            pad_token_id=pad,
            eos_token_id=eos,
        )
        for row in gen[:, width:]:
            toks = row.tolist()
            if eos in toks:
                toks = toks[: toks.index(eos)]
            out.append(tokenizer.decode(toks, skip_special_tokens=True).strip())
    return out


@dataclass
class SetScores:
    """Scores of one model on one question set (per-question arrays and their means)."""

    probability: np.ndarray
    option_probability: np.ndarray
    truth_ratios: np.ndarray
    rouge: np.ndarray
    exact_memorization: np.ndarray
    extraction_strength: np.ndarray
    membership: dict[str, np.ndarray] = field(default_factory=dict)

    def summary(self) -> dict[str, float]:
        return {
            "probability": float(self.probability.mean()),
            "option_probability": float(self.option_probability.mean()),
            "truth_ratio": float(np.mean(self.truth_ratios)),
            "truth_ratio_score": truth_ratio_score(self.truth_ratios),
            "rouge_l_recall": float(self.rouge.mean()) if self.rouge.size else float("nan"),
            "exact_memorization": float(self.exact_memorization.mean()),
            "extraction_strength": float(self.extraction_strength.mean()),
        }


def score_set(
    model: Any,
    tokenizer: Any,
    examples: Sequence[TextExample],
    *,
    n_generate: int | None = None,
    batch_size: int = 64,
) -> SetScores:
    """Per-question scores of ``model`` on ``examples`` (which need paraphrase and perturbed).

    ROUGE-L recall is measured on greedy answers to the first ``n_generate`` questions (all
    when ``None``).
    """
    answers = token_stats(model, tokenizer, [(e.prompt, e.answer) for e in examples], batch_size)
    paras = token_stats(
        model, tokenizer, [(e.prompt, e.paraphrase or e.answer) for e in examples], batch_size
    )
    k = len(examples[0].perturbed)
    flat = [(e.prompt, p) for e in examples for p in e.perturbed]
    pert = token_stats(model, tokenizer, flat, batch_size)
    groups = [pert[i * k : (i + 1) * k] for i in range(len(examples))]
    n_gen = len(examples) if n_generate is None else min(n_generate, len(examples))
    prompts = [e.prompt for e in examples[:n_gen]]
    gen = generate_answers(model, tokenizer, prompts) if prompts else []
    texts = [e.answer for e in examples]
    return SetScores(
        probability=np.array([normalized_probability(s.logp) for s in answers]),
        option_probability=np.array(
            [
                option_probability(p.logp, [g.logp for g in gs])
                for p, gs in zip(paras, groups, strict=True)
            ]
        ),
        truth_ratios=np.array(
            [truth_ratio(p.logp, [g.logp for g in gs]) for p, gs in zip(paras, groups, strict=True)]
        ),
        rouge=np.array([rouge_l_recall(g, e.answer) for g, e in zip(gen, examples, strict=False)]),
        exact_memorization=np.array([exact_memorization(s.correct) for s in answers]),
        extraction_strength=np.array([extraction_strength(s.correct) for s in answers]),
        membership={a: membership_scores(answers, texts, a) for a in ATTACKS},
    )


@dataclass
class ModelScores:
    """One model's scores on a benchmark split."""

    forget: SetScores
    retain: SetScores
    holdout: SetScores
    authors: SetScores
    world: SetScores

    @property
    def utility_parts(self) -> dict[str, float]:
        parts = {}
        for name in ("retain", "authors", "world"):
            s: SetScores = getattr(self, name)
            prob = s.probability if name == "retain" else s.option_probability
            parts[f"{name}_probability"] = float(prob.mean())
            parts[f"{name}_rouge"] = float(s.rouge.mean())
            parts[f"{name}_truth_ratio"] = truth_ratio_score(s.truth_ratios)
        return parts

    @property
    def model_utility(self) -> float:
        """Harmonic mean of the nine utility parts (see :mod:`unlearnkit.llm.metrics`)."""
        return harmonic_mean(list(self.utility_parts.values()))

    def mia_auc(self) -> dict[str, float]:
        """AUC of each attack: forget (members) against holdout (non-members)."""
        return {
            a: attack_auc(self.forget.membership[a], self.holdout.membership[a]) for a in ATTACKS
        }


def score_model(
    model: Any,
    tokenizer: Any,
    data: TofuData,
    split: str,
    *,
    n_retain: int | None = 200,
    n_generate: int | None = 50,
) -> ModelScores:
    """Score ``model`` on the forget, retain (first ``n_retain``), holdout and general sets."""
    retain = data.retain(split)
    if n_retain is not None:
        step = max(1, len(retain) // n_retain)
        retain = retain[::step][:n_retain]
    kw: dict[str, Any] = {"n_generate": n_generate}
    return ModelScores(
        forget=score_set(model, tokenizer, data.forget(split), **kw),
        retain=score_set(model, tokenizer, retain, **kw),
        holdout=score_set(model, tokenizer, data.holdout(), n_generate=0),
        authors=score_set(model, tokenizer, data.authors, **kw),
        world=score_set(model, tokenizer, data.world, **kw),
    )


def compare(
    scores: ModelScores, reference: ModelScores, *, attack: str = "min_k_pp"
) -> dict[str, Any]:
    """Headline numbers of ``scores`` against the retain-only ``reference``.

    ``forget_quality`` (KS p-value of forget truth ratios), ``model_utility``, forget-set
    probability / ROUGE / ES / EM, ``privleak`` (with ``attack``) and every attack's AUC.
    """
    auc = scores.mia_auc()
    ref_auc = reference.mia_auc()
    f = scores.forget.summary()
    return {
        "forget_quality": forget_quality(scores.forget.truth_ratios, reference.forget.truth_ratios),
        "model_utility": scores.model_utility,
        "forget_probability": f["probability"],
        "forget_rouge": f["rouge_l_recall"],
        "forget_truth_ratio": f["truth_ratio"],
        "forget_extraction_strength": f["extraction_strength"],
        "forget_exact_memorization": f["exact_memorization"],
        "privleak": privleak(auc[attack], ref_auc[attack]),
        "mia_auc": auc,
        "utility_parts": scores.utility_parts,
    }
