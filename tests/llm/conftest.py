"""A tiny trained causal LM shared by the LLM tests (built once per session, in seconds)."""

from __future__ import annotations

import pytest
import torch

from unlearnkit.llm import (
    TextCorpus,
    TinyLMConfig,
    TofuConfig,
    TrainConfig,
    build_tiny_lm,
    make_tofu,
    train_lm,
    train_tokenizer,
)

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny():
    """Ten fictitious people, a BPE tokenizer and a 1-block GPT-2 trained on them."""
    data = make_tofu(TofuConfig(n_people=10, n_holdout=2, n_authors=4, n_countries=3))
    corpus = data.corpus()
    tok = train_tokenizer(list(corpus) + data.holdout(), vocab_size=300)
    model = build_tiny_lm(tok, TinyLMConfig(n_layer=1, n_embd=32, n_head=2))
    report = train_lm(
        model,
        tok,
        list(corpus),
        TrainConfig(epochs=8, batch_size=32, learning_rate=5e-3, warmup_steps=2),
    )
    return {"data": data, "corpus": corpus, "tok": tok, "model": model, "report": report}


@pytest.fixture
def small_corpus(tiny) -> TextCorpus:
    """Two people of the tiny corpus (40 questions): enough for unlearning runs."""
    data = tiny["data"]
    names = [p.name for p in data.people[-2:]]
    return TextCorpus([q for n in names for q in data.questions[n]])
