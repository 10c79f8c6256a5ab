"""``LMUnlearner``: make a Hugging Face causal LM forget examples of its training corpus.

Examples
--------
>>> import torch
>>> from unlearnkit.llm import (LMUnlearner, NPOConfig, TextCorpus, TextExample,
...     TinyLMConfig, TrainConfig, build_tiny_lm, train_lm, train_tokenizer)
>>> from unlearnkit.requests import ForgetRequest
>>> torch.set_num_threads(1)
>>> data = TextCorpus([TextExample(i, f"Who is {n}?", f"{n} is a {j}.", subject=n)
...     for i, (n, j) in enumerate([("Ada", "baker"), ("Ben", "pilot"), ("Cy", "judge")])])
>>> tok = train_tokenizer(list(data), vocab_size=100)
>>> model = build_tiny_lm(tok, TinyLMConfig(n_embd=16, n_layer=1, n_head=2))
>>> _ = train_lm(model, tok, list(data), TrainConfig(epochs=3, batch_size=3))
>>> unl = LMUnlearner("npo", NPOConfig(epochs=2, batch_size=2)).fit(model, tok, data)
>>> result = unl.unlearn(ForgetRequest.group({"subject": "Ada"}))
>>> result.removed_ids, str(result.guarantee), result.evidence["steps"]
((0,), 'approximate', 2)
>>> unl.model_ is model
False
"""

from __future__ import annotations

import copy
import time
from collections.abc import Hashable, Iterable, Iterator, Sequence
from dataclasses import replace
from typing import Any, Self

import torch

from unlearnkit.base import UnlearningResult
from unlearnkit.errors import InvalidParameterError, NotFittedError
from unlearnkit.guarantees import Guarantee
from unlearnkit.llm.corpus import TextCorpus, TextExample
from unlearnkit.llm.errors import EmptyRetainError, LoRAUnsupportedError
from unlearnkit.llm.model import check_causal_lm, check_tokenizer, device_count, model_checksum
from unlearnkit.llm.objectives import (
    LLMMethodInfo,
    LoRAOptions,
    RMUConfig,
    StepContext,
    UnlearnConfig,
    llm_methods,
)
from unlearnkit.llm.text import batches
from unlearnkit.requests import ForgetRequest, as_request

__all__ = ["LMUnlearner", "unlearn_examples"]


def _wrap_lora(model: Any, options: LoRAOptions) -> Any:
    from peft import LoraConfig, get_peft_model

    fan_in_fan_out = getattr(model.config, "model_type", "") == "gpt2"
    cfg = LoraConfig(
        r=options.r,
        lora_alpha=options.alpha,
        lora_dropout=options.dropout,
        target_modules=list(options.target_modules) if options.target_modules else None,
        fan_in_fan_out=fan_in_fan_out,
        task_type="CAUSAL_LM",
    )
    try:
        return get_peft_model(model, cfg)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise LoRAUnsupportedError(
            f"PEFT cannot wrap {type(model).__name__} with LoRA on "
            f"target_modules={options.target_modules!r}: {exc} Name the linear layers to adapt "
            "in LoRAOptions(target_modules=(...)) or unlearn without LoRA."
        ) from None


def _block_params(model: Any, layer: int) -> list[tuple[str, torch.nn.Parameter]]:
    marks = (f".h.{layer}.", f".layers.{layer}.")
    return [(n, p) for n, p in model.named_parameters() if any(m in n for m in marks)]


def _n_layers(model: Any) -> int:
    cfg = model.config
    return int(getattr(cfg, "n_layer", None) or cfg.num_hidden_layers)


def unlearn_examples(
    model: Any,
    tokenizer: Any,
    forget: Sequence[TextExample],
    retain: Sequence[TextExample],
    method: str = "npo",
    config: UnlearnConfig | None = None,
) -> tuple[Any, dict[str, Any]]:
    """Return an unlearned copy of ``model`` and the evidence; ``model`` is never modified.

    Parameters
    ----------
    model : transformers causal LM
    tokenizer : transformers tokenizer with a pad token
    forget, retain : sequences of TextExample
    method : str
        A name from :data:`~unlearnkit.llm.objectives.llm_methods`.
    config : UnlearnConfig, optional
        The method's config class (``llm_methods.get(method).config_cls``); its defaults when
        omitted.

    Returns
    -------
    model, evidence : the new model (eval mode) and a dict with ``steps``, ``tokens`` (tokens
        through forward and backward passes of the trained model), ``reference_tokens``
        (forward-only tokens of the frozen reference), ``compute_units`` (``3 * tokens +
        reference_tokens``), the config, ``seed``, ``batch_size``, ``device_count`` and
        ``losses``.
    """
    info: LLMMethodInfo = llm_methods.get(method)
    config = config if config is not None else info.config_cls()
    if not isinstance(config, info.config_cls):
        raise InvalidParameterError(
            f"Method {method!r} takes a {info.config_cls.__name__}, got {type(config).__name__}."
        )
    check_causal_lm(model)
    check_tokenizer(tokenizer)
    if not forget:
        raise InvalidParameterError("The forget set is empty; name at least one example.")
    if info.needs_retain and not retain:
        raise EmptyRetainError(
            f"Method {method!r} needs retain data and none is left. Pass retain examples or "
            "use 'grad_ascent', which needs none."
        )
    torch.manual_seed(config.seed)
    gen = torch.Generator().manual_seed(config.seed)
    student = copy.deepcopy(model)
    reference = model if info.needs_reference else None
    was_training = model.training
    model.eval()
    state: dict[str, Any] = {}
    if isinstance(config, RMUConfig):
        n = _n_layers(model)
        layer = config.layer % n
        if not -n <= config.layer < n:
            raise InvalidParameterError(f"layer={config.layer} is outside the {n} blocks.")
        state["layer"] = layer
        width = int(model.config.hidden_size)
        u = torch.rand(width, generator=gen)
        state["control"] = config.steering * u / u.norm()
    if config.lora is not None:
        student = _wrap_lora(student, config.lora)
        params = [p for p in student.parameters() if p.requires_grad]
    elif isinstance(config, RMUConfig):
        named = _block_params(student, state["layer"])
        if not named:
            raise InvalidParameterError(
                f"Cannot find the parameters of block {state['layer']} (named '.h.N.' or "
                "'.layers.N.'); use RMU with LoRA options instead."
            )
        for p in student.parameters():
            p.requires_grad_(False)
        params = [p for _, p in named]
        for p in params:
            p.requires_grad_(True)
    else:
        params = list(student.parameters())
    ctx = StepContext(student, reference, tokenizer, config, state=state)
    opt = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=0.0)
    student.train()
    losses: list[float] = []
    retain_iter: Iterator[list[TextExample]] = iter(())
    steps = 0
    start = time.perf_counter()
    try:
        for _ in range(config.epochs):
            for fb in batches(list(forget), config.batch_size, gen):
                rb: list[TextExample] | None = None
                if info.needs_retain:
                    rb = next(retain_iter, None)
                    if rb is None:
                        retain_iter = batches(list(retain), config.batch_size, gen)
                        rb = next(retain_iter)
                loss = info.objective(ctx, fb, rb)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, config.max_grad_norm)
                opt.step()
                steps += 1
                losses.append(float(loss.detach()))
    finally:
        model.train(was_training)
    if config.lora is not None and config.lora.merge:
        student = student.merge_and_unload()
    for p in student.parameters():
        p.requires_grad_(True)
    student.eval()
    evidence = {
        "method": method,
        "config": config.to_dict(),
        "steps": steps,
        "tokens": ctx.train_tokens,
        "reference_tokens": ctx.reference_tokens,
        "compute_units": 3 * ctx.train_tokens + ctx.reference_tokens,
        "seconds": time.perf_counter() - start,
        "seed": config.seed,
        "batch_size": config.batch_size,
        "device_count": device_count(),
        "losses": losses,
        "forget_examples": len(forget),
        "retain_examples": len(retain),
        "lora": config.lora is not None,
    }
    return student, evidence


class LMUnlearner:
    """Unlearning for any ``transformers`` causal LM, by one of the registered objectives.

    ``fit`` takes a trained model, its tokenizer and the corpus it was trained on; ``unlearn``
    resolves a request against the corpus and trains a *copy* of the current model with the
    method's objective. The model passed to ``fit`` is never changed; the unlearned model is
    ``model_``. A failed ``unlearn`` leaves ``model_`` and the forgotten ids as they were.

    Parameters
    ----------
    method : str
        ``grad_ascent``, ``grad_diff``, ``kl_grad_diff``, ``dpo``, ``npo``, ``simnpo`` or
        ``rmu`` (see :mod:`unlearnkit.llm.objectives`).
    config : UnlearnConfig, optional
        The method's config dataclass; its defaults when omitted.

    Attributes
    ----------
    model_ : the current (unlearned) model
    forgotten_ids_ : frozenset of example ids removed so far
    original_checksum_ : SHA-256 of the weights passed to ``fit``

    Examples
    --------
    See the module docstring.
    """

    guarantee = Guarantee.approximate()

    def __init__(self, method: str = "npo", config: UnlearnConfig | None = None) -> None:
        self.method = method
        self.config = config

    def fit(
        self,
        model: Any,
        tokenizer: Any,
        corpus: TextCorpus | Iterable[TextExample],
        *,
        training_compute: int | None = None,
    ) -> Self:
        """Attach the trained ``model``, its ``tokenizer`` and training ``corpus``.

        ``training_compute`` (compute units of training on the whole corpus, ``3 *
        TrainReport.tokens``) lets results report ``retrained_fraction``.
        """
        info = llm_methods.get(self.method)
        if self.config is not None and not isinstance(self.config, info.config_cls):
            raise InvalidParameterError(
                f"Method {self.method!r} takes a {info.config_cls.__name__}, got "
                f"{type(self.config).__name__}."
            )
        check_causal_lm(model)
        check_tokenizer(tokenizer)
        self.corpus_ = corpus if isinstance(corpus, TextCorpus) else TextCorpus(corpus)
        self.tokenizer_ = tokenizer
        self.model_ = model
        self.original_checksum_ = model_checksum(model)
        self.forgotten_ids_: frozenset[Hashable] = frozenset()
        self.training_compute_ = training_compute
        return self

    def unlearn(self, request: ForgetRequest | Iterable[Any]) -> UnlearningResult:
        """Forget the examples ``request`` names (ids, or ``{"subject": name}``)."""
        if "model_" not in self.__dict__:
            raise NotFittedError(self, "unlearn")
        req = as_request(request)
        live = self.corpus_.without(self.forgotten_ids_)
        forget, retain = live.split(req)
        before = model_checksum(self.model_)
        start = time.perf_counter()
        config = self.config or llm_methods.get(self.method).config_cls()
        new_model, evidence = unlearn_examples(
            self.model_, self.tokenizer_, forget, retain, self.method, config
        )
        removed = tuple(e.id for e in forget)
        retrained = (
            evidence["compute_units"] / self.training_compute_
            if self.training_compute_
            else float("nan")
        )
        self.model_ = new_model
        self.forgotten_ids_ = self.forgotten_ids_ | frozenset(removed)
        return UnlearningResult(
            request_id=req.request_id,
            removed_ids=removed,
            guarantee=self.guarantee,
            seconds=time.perf_counter() - start,
            retrained_fraction=retrained,
            fingerprint_before=before,
            fingerprint_after=model_checksum(new_model),
            evidence={k: v for k, v in evidence.items() if k != "losses"}
            | {"final_loss": evidence["losses"][-1]},
            method=f"LMUnlearner[{self.method}]",
            kind=req.kind,
            reason=str(req.reason),
            subject=req.subject,
        )

    def with_config(self, **changes: Any) -> LMUnlearner:
        """A new unfitted unlearner with some config fields changed."""
        config = self.config or llm_methods.get(self.method).config_cls()
        return LMUnlearner(self.method, replace(config, **changes))
