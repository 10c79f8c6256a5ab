"""Typed errors of :mod:`unlearnkit.llm`; each derives from the matching core error."""

from __future__ import annotations

from unlearnkit.errors import InvalidParameterError, InvalidRequestError

__all__ = [
    "EmptyRetainError",
    "ForgetSetNotInCorpusError",
    "LoRAUnsupportedError",
    "MissingPadTokenError",
    "NotACausalLMError",
]


class NotACausalLMError(InvalidParameterError):
    """The model has no causal language-modelling head (``...ForCausalLM``)."""


class MissingPadTokenError(InvalidParameterError):
    """The tokenizer has no pad token, so batches of unequal length cannot be formed."""


class LoRAUnsupportedError(InvalidParameterError):
    """PEFT cannot wrap this model with LoRA adapters on the requested modules."""


class ForgetSetNotInCorpusError(InvalidRequestError):
    """The forget set names documents or subjects that are not in the training corpus."""


class EmptyRetainError(InvalidRequestError):
    """The method needs retain data, and none is left after removing the forget set."""
