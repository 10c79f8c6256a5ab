"""int8 quantisation error bounds and the relearning attack's recovery figure."""

from __future__ import annotations

import math

import pytest
import torch

from unlearnkit.errors import DataValidationError
from unlearnkit.llm import NPOConfig, model_checksum, unlearn_examples
from unlearnkit.llm.robustness import RelearnResult, quantize_int8, relearn


def test_quantize_int8_rounds_each_row_to_255_levels_and_keeps_the_original(tiny):
    model = tiny["model"]
    before = model_checksum(model)
    q = quantize_int8(model)
    assert model_checksum(model) == before
    w = model.lm_head.weight  # tied with the token embedding: one scale per token row
    wq = q.lm_head.weight
    scale = w.abs().amax(dim=1, keepdim=True) / 127
    assert torch.all((wq - w).abs() <= scale / 2 + 1e-7)
    levels = torch.round(wq / scale)
    assert torch.allclose(levels * scale, wq, atol=1e-6)
    assert levels.abs().max() <= 127
    # transformers' Conv1D keeps (in, out): one scale per output column
    c = model.transformer.h[0].mlp.c_fc.weight
    cq = q.transformer.h[0].mlp.c_fc.weight
    cscale = c.abs().amax(dim=0, keepdim=True) / 127
    assert torch.all((cq - c).abs() <= cscale / 2 + 1e-7)
    assert not torch.equal(cq, c)


def test_recovery_formula():
    assert RelearnResult(0.9, 0.1, 0.5, 3).recovery == pytest.approx(0.5)
    assert RelearnResult(0.9, 0.1, 0.1, 3).recovery == 0.0
    assert math.isnan(RelearnResult(0.5, 0.5, 0.7, 3).recovery)


def test_relearning_brings_back_some_probability_and_leaves_inputs_alone(tiny, small_corpus):
    model, tok = tiny["model"], tiny["tok"]
    forget, retain = list(small_corpus[:20]), list(small_corpus[20:])
    unlearned, _ = unlearn_examples(
        model, tok, forget, retain, "npo", NPOConfig(epochs=3, batch_size=10, learning_rate=5e-3)
    )
    before = model_checksum(unlearned)
    res = relearn(unlearned, model, tok, forget)
    assert model_checksum(unlearned) == before
    assert res.steps > 0
    assert res.unlearned < res.original
    assert res.relearned > res.unlearned
    with pytest.raises(DataValidationError):
        relearn(unlearned, model, tok, forget[:1])
