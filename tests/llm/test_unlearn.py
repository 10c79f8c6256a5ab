"""LMUnlearner and unlearn_examples: every method forgets, originals stay intact, bad input is
refused with typed errors and leaves the unlearner as it was."""

from __future__ import annotations

import copy
import doctest

import pytest
import torch
from transformers import GPT2Config, GPT2Model

import unlearnkit.llm.unlearn
from unlearnkit.errors import InvalidParameterError, NotFittedError
from unlearnkit.guarantees import Guarantee
from unlearnkit.llm import (
    DPOConfig,
    EmptyRetainError,
    ForgetSetNotInCorpusError,
    LMUnlearner,
    LoRAOptions,
    LoRAUnsupportedError,
    MissingPadTokenError,
    NotACausalLMError,
    NPOConfig,
    RMUConfig,
    llm_methods,
    model_checksum,
    unlearn_examples,
)
from unlearnkit.llm.objectives import _preferred
from unlearnkit.llm.robustness import mean_probability
from unlearnkit.requests import ForgetRequest

FAST = {"epochs": 2, "batch_size": 10, "learning_rate": 5e-3}


def _config(method: str, **extra):
    return llm_methods.get(method).config_cls(**FAST, **extra)


@pytest.mark.parametrize("method", llm_methods.names())
def test_every_method_forgets_on_a_copy(tiny, small_corpus, method):
    model, tok = tiny["model"], tiny["tok"]
    before = model_checksum(model)
    forget = [e for e in small_corpus if e.subject == small_corpus[0].subject]
    retain = [e for e in small_corpus if e.subject != small_corpus[0].subject]
    cfg = _config(method, **({"steering": 5.0} if method == "rmu" else {}))
    new, ev = unlearn_examples(model, tok, forget, retain, method, cfg)
    assert model_checksum(model) == before, "the original weights changed"
    assert model_checksum(new) != before
    assert ev["steps"] == 2 * 2
    assert ev["tokens"] > 0
    assert ev["seed"] == 0
    assert ev["batch_size"] == 10
    assert ev["device_count"] >= 1
    assert ev["compute_units"] == 3 * ev["tokens"] + ev["reference_tokens"]
    assert (ev["reference_tokens"] > 0) == llm_methods.get(method).needs_reference
    assert mean_probability(new, tok, forget) < mean_probability(model, tok, forget)


def test_same_seed_gives_the_same_weights_other_seed_others(tiny, small_corpus):
    model, tok = tiny["model"], tiny["tok"]
    forget, retain = list(small_corpus[:20]), list(small_corpus[20:])
    runs = [
        unlearn_examples(model, tok, forget, retain, "npo", NPOConfig(**FAST, seed=s))[0]
        for s in (1, 1, 2)
    ]
    sums = [model_checksum(m) for m in runs]
    assert sums[0] == sums[1] != sums[2]


def test_lora_trains_adapters_and_merges_them(tiny, small_corpus):
    model, tok = tiny["model"], tiny["tok"]
    before = model_checksum(model)
    forget, retain = list(small_corpus[:20]), list(small_corpus[20:])
    cfg = NPOConfig(**FAST, lora=LoRAOptions(r=4, alpha=8))
    new, ev = unlearn_examples(model, tok, forget, retain, "npo", cfg)
    assert ev["lora"] is True
    assert type(new) is type(model)
    assert set(new.state_dict()) == set(model.state_dict())
    assert model_checksum(model) == before
    # only the adapted attention projections change
    changed = {k for k, v in new.state_dict().items() if not torch.equal(v, model.state_dict()[k])}
    assert changed
    assert all("c_attn" in k for k in changed)
    assert mean_probability(new, tok, forget) < mean_probability(model, tok, forget)


def test_unlearner_contract_subject_request_and_repeated_requests(tiny):
    model, tok, corpus, data = tiny["model"], tiny["tok"], tiny["corpus"], tiny["data"]
    before = model_checksum(model)
    name = data.people[-1].name
    unl = LMUnlearner("grad_diff", _config("grad_diff")).fit(
        model, tok, corpus, training_compute=3 * tiny["report"].tokens
    )
    res = unl.unlearn(ForgetRequest.group({"subject": name}, subject=name))
    assert res.guarantee == Guarantee.approximate()
    assert set(res.removed_ids) == {q.id for q in data.questions[name]}
    assert res.fingerprint_before == before != res.fingerprint_after
    assert res.fingerprint_after == model_checksum(unl.model_)
    assert 0 < res.retrained_fraction < 1
    assert res.evidence["tokens"] > 0
    assert res.evidence["steps"] == 4
    assert res.subject == name
    assert res.kind == "group"
    assert model_checksum(model) == before
    # a second request builds on the first; the forgotten ids accumulate
    other = data.people[-2].name
    ids = [q.id for q in data.questions[other]][:5]
    res2 = unl.unlearn(ids)
    assert res2.fingerprint_before == res.fingerprint_after
    assert unl.forgotten_ids_ == set(res.removed_ids) | set(ids)
    # forgotten examples are no longer in the corpus
    with pytest.raises(ForgetSetNotInCorpusError):
        unl.unlearn(ids[:1])
    assert model_checksum(model) == before
    assert res.to_dict()["guarantee_label"] == "approximate"


def test_failed_requests_leave_the_unlearner_as_it_was(tiny):
    model, tok, corpus = tiny["model"], tiny["tok"], tiny["corpus"]
    unl = LMUnlearner("npo", NPOConfig(**FAST)).fit(model, tok, corpus)
    state = (unl.model_, unl.forgotten_ids_)
    with pytest.raises(ForgetSetNotInCorpusError, match="not in the training corpus"):
        unl.unlearn(["no/such/question"])
    with pytest.raises(ForgetSetNotInCorpusError, match="Nobody"):
        unl.unlearn(ForgetRequest.group({"subject": "Nobody Atall"}))
    assert (unl.model_, unl.forgotten_ids_) == state
    with pytest.raises(NotFittedError):
        LMUnlearner("npo").unlearn([1])


def test_methods_needing_retain_data_refuse_an_empty_retain_set(tiny, small_corpus):
    model, tok = tiny["model"], tiny["tok"]
    everything = list(small_corpus)
    for method in ("grad_diff", "npo", "rmu", "dpo"):
        with pytest.raises(EmptyRetainError, match="grad_ascent"):
            unlearn_examples(model, tok, everything, [], method, _config(method))
    new, _ = unlearn_examples(model, tok, everything, [], "grad_ascent", _config("grad_ascent"))
    assert model_checksum(new) != model_checksum(model)


def test_model_without_causal_lm_head_is_refused(tiny, small_corpus):
    tok = tiny["tok"]
    body = GPT2Model(GPT2Config(vocab_size=len(tok), n_embd=16, n_layer=1, n_head=2))
    for bad in (body, torch.nn.Linear(2, 2)):
        with pytest.raises(NotACausalLMError, match="AutoModelForCausalLM"):
            LMUnlearner("npo").fit(bad, tok, small_corpus)


def test_tokenizer_without_pad_token_is_refused(tiny, small_corpus):
    tok = copy.deepcopy(tiny["tok"])
    tok.pad_token = None
    with pytest.raises(MissingPadTokenError, match="pad_token"):
        LMUnlearner("npo").fit(tiny["model"], tok, small_corpus)


def test_lora_on_modules_peft_cannot_wrap_is_refused(tiny, small_corpus):
    model, tok = tiny["model"], tiny["tok"]
    before = model_checksum(model)
    cfg = NPOConfig(**FAST, lora=LoRAOptions(target_modules=("no_such_module",)))
    with pytest.raises(LoRAUnsupportedError, match="target_modules"):
        unlearn_examples(model, tok, list(small_corpus[:5]), list(small_corpus[5:]), "npo", cfg)
    assert model_checksum(model) == before


def test_config_and_method_mismatches_are_refused(tiny, small_corpus):
    with pytest.raises(InvalidParameterError, match="NPOConfig"):
        LMUnlearner("npo", DPOConfig()).fit(tiny["model"], tiny["tok"], small_corpus)
    with pytest.raises(InvalidParameterError, match="known"):
        LMUnlearner("forget_everything").fit(tiny["model"], tiny["tok"], small_corpus)
    with pytest.raises(InvalidParameterError):
        NPOConfig(epochs=0)
    with pytest.raises(InvalidParameterError):
        DPOConfig(target="nonsense")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError):
        LoRAOptions(r=0)
    with pytest.raises(InvalidParameterError, match="outside"):
        unlearn_examples(
            tiny["model"],
            tiny["tok"],
            list(small_corpus[:5]),
            list(small_corpus[5:]),
            "rmu",
            RMUConfig(**FAST, layer=5),
        )


def test_dpo_targets_refusals_or_alternative_answers(tiny):
    q = tiny["data"].forget("forget10")[0]
    assert _preferred(DPOConfig(), q) in DPOConfig().refusals
    assert _preferred(DPOConfig(target="alternative"), q) in q.perturbed


def test_rmu_trains_only_its_block(tiny, small_corpus):
    model, tok = tiny["model"], tiny["tok"]
    new, _ = unlearn_examples(
        model, tok, list(small_corpus[:20]), list(small_corpus[20:]), "rmu", _config("rmu")
    )
    changed = {k for k, v in new.state_dict().items() if not torch.equal(v, model.state_dict()[k])}
    assert changed
    assert all(k.startswith("transformer.h.0.") for k in changed)


def test_module_docstring_example_runs():
    assert doctest.testmod(unlearnkit.llm.unlearn).failed == 0
