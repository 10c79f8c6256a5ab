"""Tokenizer and tiny-model training are deterministic; the cache location follows the
environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from unlearnkit.errors import InvalidParameterError
from unlearnkit.llm import (
    TextExample,
    TinyLMConfig,
    TrainConfig,
    build_tiny_lm,
    default_cache_dir,
    model_checksum,
    train_lm,
    train_tokenizer,
)

DATA = [TextExample(i, f"What is item {i}?", f"Item {i} is {c}.") for i, c in enumerate("rgbk")]


def _train(seed: int) -> str:
    tok = train_tokenizer(DATA, vocab_size=100)
    model = build_tiny_lm(tok, TinyLMConfig(n_layer=1, n_embd=16, n_head=2, seed=seed))
    report = train_lm(model, tok, DATA, TrainConfig(epochs=2, batch_size=2, seed=seed))
    assert report.steps == 4
    assert report.seed == seed
    assert report.batch_size == 2
    assert report.device_count >= 1
    return model_checksum(model)


def test_training_is_deterministic_in_the_seed():
    assert _train(0) == _train(0) != _train(1)


def test_tokenizer_is_deterministic_and_has_special_tokens():
    a, b = train_tokenizer(DATA, vocab_size=100), train_tokenizer(DATA, vocab_size=100)
    assert a.get_vocab() == b.get_vocab()
    assert a.pad_token == "<pad>"
    assert a.eos_token == "</s>"
    with pytest.raises(InvalidParameterError):
        train_tokenizer(DATA, vocab_size=10)


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("UNLEARNKIT_CACHE", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("UNLEARNKIT_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "unlearnkit" / "llm"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_cache_dir() == Path.home() / ".cache" / "unlearnkit" / "llm"
