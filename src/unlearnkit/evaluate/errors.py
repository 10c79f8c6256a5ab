"""Typed errors of the evaluation package.

Each derives from the :mod:`unlearnkit.errors` class a caller would catch for the same kind of
problem, so ``except DataValidationError`` keeps working.
"""

from __future__ import annotations

from unlearnkit.errors import DataValidationError, UnlearnError

__all__ = ["ClassMismatchError", "InsufficientDataError", "ModelMismatchError"]


class ClassMismatchError(DataValidationError):
    """Two models, or a model and its labels, disagree on the set of classes."""


class ModelMismatchError(DataValidationError):
    """Two models cannot be compared parameter by parameter (different names or shapes)."""


class InsufficientDataError(UnlearnError, ValueError):
    """Too few samples (or shadow models) for the requested measurement to mean anything."""
