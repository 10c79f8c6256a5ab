"""Registries: one per extension point, so the CLI, API and docs find what exists.

A method is a class plus a registry entry; :func:`register_method` is the decorator.

Examples
--------
>>> from unlearnkit.registry import methods
>>> info = methods.get("ridge")
>>> info.cls.__name__, str(info.guarantee), "features" in info.request_kinds
('RidgeUnlearner', 'exact', True)
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from unlearnkit.errors import InvalidParameterError
from unlearnkit.guarantees import Guarantee

__all__ = ["MethodInfo", "Registry", "datasets", "methods", "register_method"]

T = TypeVar("T")


class Registry(Generic[T]):
    """Name -> entry, filled by the modules listed in ``modules`` on first use."""

    def __init__(self, what: str, modules: tuple[str, ...] = ()) -> None:
        self.what = what
        self._modules = modules
        self._entries: dict[str, T] = {}
        self._loaded = False

    def _load(self) -> None:
        if not self._loaded:
            self._loaded = True
            for module in self._modules:
                importlib.import_module(module)

    def add(self, name: str, entry: T) -> T:
        if name in self._entries:
            raise InvalidParameterError(f"A {self.what} named {name!r} is already registered.")
        self._entries[name] = entry
        return entry

    def get(self, name: str) -> T:
        self._load()
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(sorted(self._entries))
            raise InvalidParameterError(
                f"No {self.what} named {name!r}; known {self.what}s: {known}."
            ) from None

    def names(self) -> list[str]:
        self._load()
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        self._load()
        return name in self._entries

    def __iter__(self) -> Iterator[tuple[str, T]]:
        self._load()
        return iter(sorted(self._entries.items()))

    def __len__(self) -> int:
        self._load()
        return len(self._entries)


@dataclass(frozen=True)
class MethodInfo:
    """A registered unlearning method."""

    name: str
    cls: type
    guarantee: Guarantee
    request_kinds: frozenset[str]
    task: str
    summary: str
    params: dict[str, Any] = field(default_factory=dict)

    def create(self, **params: Any) -> Any:
        """Instantiate the method with ``params`` (validated at fit time)."""
        unknown = sorted(set(params) - set(self.params))
        if unknown:
            raise InvalidParameterError(
                f"{self.cls.__name__} has no parameter(s) {unknown}; "
                f"it takes {sorted(self.params)}."
            )
        return self.cls(**params)


methods: Registry[MethodInfo] = Registry(
    "method", modules=("unlearnkit.exact", "unlearnkit.certified")
)
datasets: Registry[Callable[..., Any]] = Registry("dataset", modules=("unlearnkit.datasets",))


def register_method(name: str, *, task: str) -> Callable[[type[T]], type[T]]:
    """Class decorator adding an unlearner to :data:`methods`.

    ``task`` is ``"regression"``, ``"classification"`` or ``"clustering"``. The guarantee
    listed is that of the class with default parameters (certified methods may expose it as a
    property of their epsilon and delta).
    """

    def decorate(cls: type[T]) -> type[T]:
        params = {
            p.name: p.default
            for p in inspect.signature(cls.__init__).parameters.values()
            if p.name != "self" and p.kind is not p.VAR_KEYWORD
        }
        doc = (cls.__doc__ or "").strip().splitlines()
        methods.add(
            name,
            MethodInfo(
                name=name,
                cls=cls,
                guarantee=cls().guarantee,  # type: ignore[attr-defined]
                request_kinds=frozenset(cls.supported_requests),  # type: ignore[attr-defined]
                task=task,
                summary=doc[0] if doc else "",
                params=params,
            ),
        )
        return cls

    return decorate
