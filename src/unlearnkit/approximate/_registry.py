"""The registry of approximate unlearning methods."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from unlearnkit.guarantees import Guarantee
from unlearnkit.registry import Registry

__all__ = ["MODULES", "ApproximateMethod", "methods"]

#: The modules that register a method when imported, one per method.
MODULES = (
    "unlearnkit.approximate.finetune",
    "unlearnkit.approximate.neggrad",
    "unlearnkit.approximate.neggrad_plus",
    "unlearnkit.approximate.random_label",
    "unlearnkit.approximate.boundary",
    "unlearnkit.approximate.l1_sparse",
    "unlearnkit.approximate.scrub",
    "unlearnkit.approximate.salun",
    "unlearnkit.approximate.ssd",
    "unlearnkit.approximate.bad_teacher",
    "unlearnkit.approximate.fisher",
    "unlearnkit.approximate.influence",
    "unlearnkit.approximate.erase_repair",
)


@dataclass(frozen=True)
class ApproximateMethod:
    """A registered approximate method.

    Attributes
    ----------
    name : str
        The name :func:`unlearnkit.approximate.unlearn` takes as ``method``.
    config : type
        Its typed config dataclass (defaults are the method's defaults).
    apply : callable
        ``apply(run, config) -> evidence dict``; changes ``run.model`` in place.
    request_kinds : frozenset of str
        The request kinds it supports.
    summary : str
        One line on what it does.
    reference : str
        Where the method was published.
    """

    name: str
    config: type
    apply: Callable[[Any, Any], dict[str, Any]]
    request_kinds: frozenset[str]
    summary: str
    reference: str
    guarantee: Guarantee = field(default_factory=Guarantee.approximate)


methods: Registry[ApproximateMethod] = Registry("approximate method", modules=MODULES)
