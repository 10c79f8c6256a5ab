"""Typed exceptions raised by unlearnkit.

Every error derives from :class:`UnlearnError`, so callers can catch one type. Each also derives
from the built-in exception a Python or scikit-learn user would expect (``ValueError``,
``LookupError``, scikit-learn's ``NotFittedError``), and each message names the offending value
and says how to fix the call.

An :class:`UnlearnError` raised by ``unlearn`` means nothing happened: the model is exactly as it
was before the call.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sklearn.exceptions import NotFittedError as _SklearnNotFittedError

__all__ = [
    "AlreadyForgottenError",
    "BudgetExhaustedError",
    "ChecksumMismatchError",
    "DataValidationError",
    "DatasetNotFoundError",
    "DuplicateIdError",
    "EmptiesClassError",
    "IncompatibleVersionError",
    "InvalidParameterError",
    "InvalidRequestError",
    "NotFittedError",
    "SupersededStateError",
    "UnknownIdError",
    "UnlearnError",
    "UnsupportedRequestError",
]


def preview(values: Iterable[Any], limit: int = 5) -> str:
    """Format the first ``limit`` values of ``values`` for an error message."""
    items = list(values)
    shown = ", ".join(repr(v) for v in items[:limit])
    more = f", ... ({len(items) - limit} more)" if len(items) > limit else ""
    return f"[{shown}{more}]"


class UnlearnError(Exception):
    """Base class of every error unlearnkit raises on purpose."""


class NotFittedError(UnlearnError, _SklearnNotFittedError):
    """The model was used before ``fit``."""

    def __init__(self, estimator: object, action: str = "unlearn") -> None:
        name = type(estimator).__name__
        super().__init__(
            f"This {name} is not fitted yet, so it cannot {action}. "
            f"Call {name}.fit(X, y, sample_ids=...) first."
        )


class InvalidParameterError(UnlearnError, ValueError, TypeError):
    """A constructor parameter has a value outside what the estimator allows."""


class DataValidationError(UnlearnError, ValueError):
    """Input arrays are malformed: NaN/inf, wrong shape, wrong columns or mismatched lengths."""


class DuplicateIdError(UnlearnError, ValueError):
    """The same sample id appears twice where ids must be unique."""

    def __init__(self, ids: Iterable[Any], where: str = "sample_ids") -> None:
        self.ids = list(ids)
        super().__init__(
            f"Duplicate sample ids in {where}: {preview(self.ids)}. "
            "Sample ids are the handle for forgetting and must be unique; "
            "pass each id once."
        )


class UnknownIdError(UnlearnError, LookupError):
    """A request names sample ids the model was never trained on."""

    def __init__(self, ids: Iterable[Any], message: str | None = None) -> None:
        self.ids = list(ids)
        super().__init__(
            message
            or (
                f"Unknown sample ids {preview(self.ids)}: the model was not trained on them. "
                "Check the ids against those passed to fit(..., sample_ids=...)."
            )
        )

    def __str__(self) -> str:  # LookupError would quote the message like a key
        return str(self.args[0])


class AlreadyForgottenError(UnknownIdError):
    """A request names sample ids that an earlier request already removed."""

    def __init__(self, ids: Iterable[Any]) -> None:
        ids = list(ids)
        super().__init__(
            ids,
            f"Sample ids {preview(ids)} were already forgotten by an earlier request. "
            "Drop them from this request; forgetting is not repeated.",
        )


class InvalidRequestError(UnlearnError, ValueError):
    """A forget request is malformed, or would leave the model with nothing to learn from."""


class EmptiesClassError(InvalidRequestError):
    """Removing these samples would remove every sample of a class.

    A retrained model would no longer know the class at all, which changes its output shape.
    Ask for that explicitly with ``ForgetRequest.classes([...])``.
    """

    def __init__(self, labels: Iterable[Any]) -> None:
        self.labels = list(labels)
        super().__init__(
            f"This request removes every training sample of class(es) {preview(self.labels)}. "
            "To drop a class from the model, send a 'classes' request for it instead; "
            "otherwise keep at least one sample of each class."
        )


class UnsupportedRequestError(UnlearnError, ValueError):
    """The model family cannot honour this kind of request with its guarantee."""

    def __init__(self, estimator: object, kind: str, supported: Iterable[str]) -> None:
        name = type(estimator).__name__
        allowed = ", ".join(sorted(supported))
        super().__init__(
            f"{name} cannot honour a {kind!r} request with its guarantee. "
            f"It supports: {allowed}. Run `unlearnkit methods` to find a method that supports "
            f"{kind!r} requests."
        )
        self.kind = kind


class BudgetExhaustedError(UnlearnError):
    """A certified model's removal budget is spent and retraining is not allowed."""


class SupersededStateError(UnlearnError):
    """A model shares storage with a copy that has been updated too often since to read it."""


class IncompatibleVersionError(UnlearnError):
    """A saved model was written by an incompatible version of unlearnkit."""


class DatasetNotFoundError(UnlearnError, FileNotFoundError):
    """A dataset file is not on this machine and could not be downloaded."""


class ChecksumMismatchError(UnlearnError):
    """A dataset file's SHA-256 differs from the published one."""
