"""Forget requests: what a model must forget, and why.

A :class:`ForgetRequest` is built with one of its constructors, one per request kind of the field:

=============  ==============================================================
``items``      named sample ids (an erasure list, poisoned rows)
``group``      every sample matching a condition (a subject, a column value)
``classes``    every sample of some labels; the labels leave the model
``features``   whole input columns; the model becomes one trained without them
``relabel``    samples whose label was wrong get their corrected label
=============  ==============================================================

Examples
--------
>>> from unlearnkit.requests import ForgetRequest
>>> r = ForgetRequest.items([3, 7], reason="privacy", subject="customer-42")
>>> r.kind, r.ids, r.reason.value
('items', (3, 7), 'privacy')
>>> ForgetRequest.group({"region": "north"}).where
{'region': 'north'}
"""

from __future__ import annotations

import enum
import uuid
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

import numpy as np

from unlearnkit.errors import DuplicateIdError, InvalidRequestError, preview

__all__ = ["ForgetRequest", "Reason", "RequestKind", "as_request"]

RequestKind: TypeAlias = Literal["items", "group", "classes", "features", "relabel"]
REQUEST_KINDS: tuple[RequestKind, ...] = ("items", "group", "classes", "features", "relabel")

#: A group condition: ``{column: value}`` (or ``{column: [values]}``) on the sample table, or a
#: callable that takes the sample table (a pandas DataFrame) and returns a boolean mask.
Predicate: TypeAlias = Mapping[str, Any] | Callable[[Any], Any]


class Reason(enum.StrEnum):
    """Why something must be forgotten. Recorded with every request and result."""

    PRIVACY = "privacy"
    COPYRIGHT = "copyright"
    BIAS = "bias"
    POISON = "poison"
    USABILITY = "usability"
    OTHER = "other"


def _scalar_id(value: Any) -> Hashable:
    """Return ``value`` as a plain hashable Python scalar (numpy scalars unwrapped)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, str, float, bytes)):
        raise InvalidRequestError(
            f"Sample id {value!r} of type {type(value).__name__} is not allowed: "
            "ids must be integers or strings."
        )
    if isinstance(value, float):
        if not value.is_integer():
            raise InvalidRequestError(
                f"Sample id {value!r} is a non-integer float: ids must be integers or strings."
            )
        value = int(value)
    return value


def normalize_ids(ids: Iterable[Any], where: str = "the request") -> tuple[Hashable, ...]:
    """Turn ``ids`` into a tuple of unique Python scalars, rejecting duplicates."""
    if isinstance(ids, (str, bytes)) or not isinstance(ids, Iterable):
        raise InvalidRequestError(
            f"Expected a list of sample ids, got {ids!r}. Wrap a single id in a list: [{ids!r}]."
        )
    if type(ids) in (list, tuple) and all(type(v) in (int, str) for v in ids):
        out = tuple(ids)
    else:
        out = tuple(_scalar_id(v) for v in np.asarray(list(ids), dtype=object).ravel())
    if len(set(out)) != len(out):
        dupes = [v for v, c in Counter(out).items() if c > 1]
        raise DuplicateIdError(dupes, where=where)
    return out


@dataclass(frozen=True)
class ForgetRequest:
    """One request to forget data. Build it with a constructor such as :meth:`items`.

    Parameters
    ----------
    kind : {"items", "group", "classes", "features", "relabel"}
        What is to be forgotten.
    ids : tuple
        Sample ids (``items``); the ids being relabelled (``relabel``).
    where : mapping or callable, optional
        The group condition (``group``).
    labels : tuple
        Class labels to remove (``classes``).
    columns : tuple
        Feature columns to remove, by name or position (``features``).
    new_labels : mapping
        ``{sample id: corrected label}`` (``relabel``).
    reason : Reason
        Why; recorded in results and the ledger.
    subject : str, optional
        The data subject who asked, if any.
    request_id : str
        A unique id, generated if not given.

    Examples
    --------
    >>> ForgetRequest.classes([2]).labels
    (2,)
    >>> ForgetRequest.relabel({10: 1}, reason="poison").new_labels
    {10: 1}
    """

    kind: RequestKind
    ids: tuple[Hashable, ...] = ()
    where: Predicate | None = None
    labels: tuple[Any, ...] = ()
    columns: tuple[Any, ...] = ()
    new_labels: Mapping[Hashable, Any] = field(default_factory=dict)
    reason: Reason = Reason.PRIVACY
    subject: str | None = None
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def __post_init__(self) -> None:
        if self.kind not in REQUEST_KINDS:
            raise InvalidRequestError(
                f"Unknown request kind {self.kind!r}; use one of {', '.join(REQUEST_KINDS)}."
            )
        object.__setattr__(self, "reason", _reason(self.reason))
        if self.subject is not None and not isinstance(self.subject, str):
            object.__setattr__(self, "subject", str(self.subject))
        checks: dict[str, Callable[[], bool]] = {
            "items": lambda: len(self.ids) > 0,
            "group": lambda: self.where is not None,
            "classes": lambda: len(self.labels) > 0,
            "features": lambda: len(self.columns) > 0,
            "relabel": lambda: len(self.new_labels) > 0,
        }
        if not checks[self.kind]():
            raise InvalidRequestError(
                f"An empty {self.kind!r} request forgets nothing; "
                "name at least one thing to forget."
            )

    # -- constructors ---------------------------------------------------------------------
    @classmethod
    def items(
        cls,
        ids: Iterable[Any],
        *,
        reason: Reason | str = Reason.PRIVACY,
        subject: str | None = None,
        request_id: str | None = None,
    ) -> ForgetRequest:
        """Forget the samples with these ids."""
        return cls(
            kind="items",
            ids=normalize_ids(ids),
            reason=_reason(reason),
            subject=subject,
            request_id=_rid(request_id),
        )

    @classmethod
    def group(
        cls,
        where: Predicate,
        *,
        reason: Reason | str = Reason.PRIVACY,
        subject: str | None = None,
        request_id: str | None = None,
    ) -> ForgetRequest:
        """Forget every sample matching ``where``.

        ``where`` is ``{column: value}`` / ``{column: [values]}`` (all conditions must hold), or
        a callable taking the sample table and returning a boolean mask. The table has the
        feature columns, ``subject`` and any group columns of the data.
        """
        if isinstance(where, Mapping):
            if not where:
                raise InvalidRequestError(
                    "An empty group condition would match every sample; name at least one column."
                )
            where = dict(where)
        elif not callable(where):
            raise InvalidRequestError(
                f"A group condition must be a mapping {{column: value}} or a callable, "
                f"got {type(where).__name__}."
            )
        return cls(
            kind="group",
            where=where,
            reason=_reason(reason),
            subject=subject,
            request_id=_rid(request_id),
        )

    @classmethod
    def of_subject(
        cls,
        subject: Any,
        *,
        reason: Reason | str = Reason.PRIVACY,
        request_id: str | None = None,
    ) -> ForgetRequest:
        """Forget every sample of one data subject (a GDPR Art. 17 erasure)."""
        return cls(
            kind="group",
            where={"subject": subject},
            reason=_reason(reason),
            subject=str(subject),
            request_id=_rid(request_id),
        )

    @classmethod
    def classes(
        cls,
        labels: Iterable[Any],
        *,
        reason: Reason | str = Reason.USABILITY,
        subject: str | None = None,
        request_id: str | None = None,
    ) -> ForgetRequest:
        """Forget every sample of these class labels; the labels leave the model."""
        labels = _unique(labels, "labels")
        return cls(
            kind="classes",
            labels=labels,
            reason=_reason(reason),
            subject=subject,
            request_id=_rid(request_id),
        )

    @classmethod
    def features(
        cls,
        columns: Iterable[Any],
        *,
        reason: Reason | str = Reason.PRIVACY,
        subject: str | None = None,
        request_id: str | None = None,
    ) -> ForgetRequest:
        """Forget whole input columns, by name (DataFrame input) or position."""
        columns = _unique(columns, "columns")
        return cls(
            kind="features",
            columns=columns,
            reason=_reason(reason),
            subject=subject,
            request_id=_rid(request_id),
        )

    @classmethod
    def relabel(
        cls,
        new_labels: Mapping[Any, Any],
        *,
        reason: Reason | str = Reason.POISON,
        subject: str | None = None,
        request_id: str | None = None,
    ) -> ForgetRequest:
        """Replace wrong labels: ``{sample id: corrected label}``."""
        if not isinstance(new_labels, Mapping):
            raise InvalidRequestError(
                "relabel expects a mapping {sample id: new label}, "
                f"got {type(new_labels).__name__}."
            )
        ids = normalize_ids(new_labels.keys())
        labels = {i: _plain(v) for i, v in zip(ids, new_labels.values(), strict=True)}
        return cls(
            kind="relabel",
            ids=ids,
            new_labels=labels,
            reason=_reason(reason),
            subject=subject,
            request_id=_rid(request_id),
        )

    # -- (de)serialisation ----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; a callable group condition cannot be serialised and raises."""
        if self.kind == "group" and not isinstance(self.where, Mapping):
            raise InvalidRequestError(
                "A group request with a callable condition cannot be serialised; "
                "use a {column: value} condition instead."
            )
        return {
            "request_id": self.request_id,
            "kind": self.kind,
            "reason": self.reason.value,
            "subject": self.subject,
            "ids": list(self.ids) if self.kind == "items" else [],
            "where": dict(self.where) if isinstance(self.where, Mapping) else None,
            "labels": list(self.labels),
            "columns": list(self.columns),
            "new_labels": [[k, v] for k, v in self.new_labels.items()],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ForgetRequest:
        """Rebuild a request from :meth:`to_dict` output, validating it again."""
        try:
            kind = data["kind"]
        except (KeyError, TypeError):
            raise InvalidRequestError(
                "A request dict needs a 'kind' (items, group, classes, features or relabel)."
            ) from None
        common: dict[str, Any] = {
            "reason": data.get("reason", Reason.PRIVACY.value),
            "request_id": data.get("request_id"),
        }
        if kind == "items":
            return cls.items(data.get("ids", []), subject=data.get("subject"), **common)
        if kind == "group":
            return cls.group(data.get("where") or {}, subject=data.get("subject"), **common)
        if kind == "classes":
            return cls.classes(data.get("labels", []), subject=data.get("subject"), **common)
        if kind == "features":
            return cls.features(data.get("columns", []), subject=data.get("subject"), **common)
        if kind == "relabel":
            pairs = data.get("new_labels", [])
            mapping = dict(pairs.items() if isinstance(pairs, Mapping) else map(tuple, pairs))
            return cls.relabel(mapping, subject=data.get("subject"), **common)
        raise InvalidRequestError(
            f"Unknown request kind {kind!r}; use one of {', '.join(REQUEST_KINDS)}."
        )


def _reason(reason: Reason | str) -> Reason:
    try:
        return Reason(reason)
    except ValueError:
        allowed = ", ".join(r.value for r in Reason)
        raise InvalidRequestError(f"Unknown reason {reason!r}; use one of {allowed}.") from None


def _rid(request_id: str | None) -> str:
    return uuid.uuid4().hex if request_id is None else str(request_id)


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _unique(values: Iterable[Any], name: str) -> tuple[Any, ...]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        values = [values]
    out = tuple(_plain(v) for v in values)
    if len(set(out)) != len(out):
        dupes = [v for v, c in Counter(out).items() if c > 1]
        raise InvalidRequestError(f"Duplicate {name} in the request: {preview(dupes)}.")
    return out


def as_request(request: ForgetRequest | Iterable[Any]) -> ForgetRequest:
    """Accept a :class:`ForgetRequest` or a plain list of sample ids (an ``items`` request)."""
    if isinstance(request, ForgetRequest):
        return request
    return ForgetRequest.items(request)
