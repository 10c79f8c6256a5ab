"""Corpora, JSONL examples, request resolution and answer-only labels."""

from __future__ import annotations

import json

import pytest
import torch

from unlearnkit.errors import DataValidationError, DuplicateIdError, InvalidRequestError
from unlearnkit.llm import ForgetSetNotInCorpusError, TextCorpus, TextExample, read_examples
from unlearnkit.llm.text import IGNORE, encode, sequence_logprob, token_stats
from unlearnkit.requests import ForgetRequest


def corpus() -> TextCorpus:
    return TextCorpus(
        [
            TextExample("a1", "Where was Ada born?", "Ada was born in Rome.", subject="Ada"),
            TextExample("a2", "What does Ada do?", "Ada is a baker.", subject="Ada"),
            TextExample("b1", "Where was Ben born?", "Ben was born in Oslo.", subject="Ben"),
        ]
    )


def test_requests_resolve_by_ids_and_by_subject():
    c = corpus()
    forget, retain = c.split(["a2"])
    assert [e.id for e in forget] == ["a2"]
    assert [e.id for e in retain] == ["a1", "b1"]
    forget, _ = c.split(ForgetRequest.group({"subject": ["Ada", "Ben"]}))
    assert len(forget) == 3
    with pytest.raises(ForgetSetNotInCorpusError, match="'zz'"):
        c.split(["zz"])
    with pytest.raises(ForgetSetNotInCorpusError, match="Cleo"):
        c.split(ForgetRequest.group({"subject": "Cleo"}))
    with pytest.raises(InvalidRequestError, match="subject"):
        c.split(ForgetRequest.classes([1]))


def test_duplicate_ids_are_refused():
    e = TextExample(1, "", "text")
    with pytest.raises(DuplicateIdError):
        TextCorpus([e, e])
    with pytest.raises(DataValidationError):
        TextCorpus(["not an example"])  # type: ignore[list-item]


def test_jsonl_round_trip_and_bad_lines(tmp_path):
    path = corpus().to_jsonl(tmp_path / "c.jsonl")
    assert read_examples(path) == list(corpus())
    docs = tmp_path / "d.jsonl"
    docs.write_text(json.dumps({"text": "A whole document."}) + "\n")
    (doc,) = read_examples(docs)
    assert (doc.id, doc.prompt, doc.answer) == (1, "", "A whole document.")
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json}\n")
    with pytest.raises(DataValidationError, match=":1"):
        read_examples(bad)
    bad.write_text(json.dumps({"question": "q?"}) + "\n")
    with pytest.raises(DataValidationError, match="answer"):
        read_examples(bad)


def test_labels_cover_the_answer_and_eos_only(tiny):
    tok = tiny["tok"]
    b = encode(tok, [("Where was Ada born?", "Ada was born in Rome."), ("", "A document.")])
    prompt_len = len(tok("Question: Where was Ada born?\nAnswer:")["input_ids"])
    answer = tok(" Ada was born in Rome.")["input_ids"] + [tok.eos_token_id]
    row = b["labels"][0]
    assert torch.all(row[:prompt_len] == IGNORE)
    assert row[prompt_len : prompt_len + len(answer)].tolist() == answer
    assert b["attention_mask"][1].sum() == len(tok("A document.")["input_ids"]) + 1
    assert (b["labels"][1] != IGNORE).sum() == b["attention_mask"][1].sum()


def test_sequence_logprob_matches_token_stats(tiny):
    model, tok = tiny["model"], tiny["tok"]
    pairs = [("Where was Ada born?", "Ada was born in Rome."), ("", "A document.")]
    with torch.no_grad():
        lp, n = sequence_logprob(model, encode(tok, pairs))
    stats = token_stats(model, tok, pairs)
    for i, s in enumerate(stats):
        assert len(s.logp) == int(n[i])
        assert float(lp[i]) == pytest.approx(float(s.logp.sum()), rel=1e-5)
        # the model's own distribution: sigma >= 0, mu is an expected log-probability <= 0
        assert (s.sigma >= 0).all()
        assert (s.mu <= 0).all()
