"""Samples: a training set with stable sample ids, subjects and group columns.

Sample ids are the only handle for forgetting, so they travel with the data from loading to
fitting to erasure. :meth:`Samples.resolve` turns any :class:`~unlearnkit.requests.ForgetRequest`
that removes samples into the ids it names.

Examples
--------
>>> import numpy as np
>>> from unlearnkit.data import Samples
>>> from unlearnkit.requests import ForgetRequest
>>> s = Samples(np.eye(4), y=[0, 1, 0, 1], ids=[10, 11, 12, 13], subjects=["a", "a", "b", "c"])
>>> s.resolve(ForgetRequest.of_subject("a"))
(10, 11)
>>> len(s.drop([10, 11]))
2
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from unlearnkit.errors import DataValidationError, InvalidRequestError, UnknownIdError, preview
from unlearnkit.requests import ForgetRequest, normalize_ids

__all__ = ["ConditionSource", "Samples", "evaluate_condition"]


@dataclass
class Samples:
    """A dataset whose rows carry stable ids.

    Parameters
    ----------
    X : array-like or DataFrame of shape (n_samples, n_features)
        Features. A DataFrame keeps its column names.
    y : array-like of shape (n_samples,) or (n_samples, n_targets), optional
        Targets.
    ids : array-like of shape (n_samples,), optional
        Unique integer or string ids; ``0..n-1`` when omitted.
    subjects : array-like of shape (n_samples,), optional
        The data subject each row belongs to (for erasure of a person's data).
    groups : DataFrame, optional
        Extra columns (not features) that group conditions may use, e.g. ``sex`` or ``source``.
    name : str
        A label for reports.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"id": [5, 6, 7], "age": [30, 40, 50], "sex": ["f", "m", "f"],
    ...                    "y": [0, 1, 1]})
    >>> s = Samples.from_frame(df, target="y", id_column="id", group_columns=["sex"])
    >>> s.resolve(ForgetRequest.group({"sex": "f"}))
    (5, 7)
    """

    X: Any
    y: Any = None
    ids: Any = None
    subjects: Any = None
    groups: pd.DataFrame | None = None
    name: str = "samples"
    _index: dict[Hashable, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.X, pd.DataFrame):
            self.X = self.X.reset_index(drop=True)
        else:
            self.X = np.asarray(self.X)
            if self.X.ndim == 1:
                self.X = self.X.reshape(-1, 1)
            if self.X.ndim != 2:
                raise DataValidationError(
                    f"X must be 2-dimensional (n_samples, n_features), got shape {self.X.shape}."
                )
        n = len(self.X)
        if self.y is not None:
            self.y = np.asarray(self.y)
            _check_len("y", len(self.y), n)
        self.ids = (
            np.arange(n)
            if self.ids is None
            else np.asarray(normalize_ids(self.ids, where="Samples ids"), dtype=object)
        )
        if self.ids.dtype == object and all(isinstance(i, int) for i in self.ids):
            self.ids = self.ids.astype(np.int64)
        _check_len("ids", len(self.ids), n)
        if self.subjects is not None:
            self.subjects = np.asarray(self.subjects, dtype=object)
            _check_len("subjects", len(self.subjects), n)
        if self.groups is not None:
            self.groups = pd.DataFrame(self.groups).reset_index(drop=True)
            _check_len("groups", len(self.groups), n)
        self._index = {i: k for k, i in enumerate(self.ids.tolist())}

    @classmethod
    def from_frame(
        cls,
        df: pd.DataFrame,
        *,
        target: str | None = None,
        id_column: str | None = None,
        subject_column: str | None = None,
        group_columns: Sequence[str] = (),
        feature_columns: Sequence[str] | None = None,
        name: str = "samples",
    ) -> Samples:
        """Split a DataFrame into features, target, ids, subjects and groups.

        Feature columns default to every column not named as target, id, subject or group.
        """
        named = [c for c in (target, id_column, subject_column, *group_columns) if c is not None]
        missing = [c for c in named + list(feature_columns or []) if c not in df.columns]
        if missing:
            raise DataValidationError(
                f"Columns {preview(missing)} are not in the table; "
                f"it has {preview(df.columns, 12)}."
            )
        features = (
            list(feature_columns)
            if feature_columns is not None
            else [c for c in df.columns if c not in named]
        )
        return cls(
            X=df[features],
            y=None if target is None else df[target].to_numpy(),
            ids=None if id_column is None else df[id_column].to_numpy(),
            subjects=None if subject_column is None else df[subject_column].to_numpy(),
            groups=df[list(group_columns)] if group_columns else None,
            name=name,
        )

    def __len__(self) -> int:
        return len(self.X)

    @property
    def feature_names(self) -> list[str]:
        """Column names of X (``x0, x1, ...`` for arrays)."""
        if isinstance(self.X, pd.DataFrame):
            return [str(c) for c in self.X.columns]
        return [f"x{j}" for j in range(self.X.shape[1])]

    def table(self) -> pd.DataFrame:
        """The table group conditions are evaluated on: features, ``subject``, groups, ``y``."""
        frame = (
            self.X.copy()
            if isinstance(self.X, pd.DataFrame)
            else pd.DataFrame(self.X, columns=self.feature_names)
        )
        if self.y is not None and self.y.ndim == 1:
            frame["y"] = self.y
        if self.subjects is not None:
            frame["subject"] = self.subjects
        if self.groups is not None:
            for col in self.groups.columns:
                frame[col] = self.groups[col].to_numpy()
        frame.index = pd.Index(self.ids, name="id")
        return frame

    def column(self, name: str) -> np.ndarray | None:
        """One column of :meth:`table` without building the table (None if absent)."""
        if name == "subject" and self.subjects is not None:
            return np.asarray(self.subjects)
        if self.groups is not None and name in self.groups.columns:
            return self.groups[name].to_numpy()
        if name == "y" and self.y is not None and self.y.ndim == 1:
            return np.asarray(self.y)
        names = self.feature_names
        if name in names:
            j = names.index(name)
            return (
                self.X.iloc[:, j].to_numpy()
                if isinstance(self.X, pd.DataFrame)
                else np.asarray(self.X[:, j])
            )
        return None

    def column_names(self) -> list[str]:
        """The columns group conditions may name."""
        return [str(c) for c in self.table().columns]

    def rows(self, ids: Iterable[Any]) -> np.ndarray:
        """Row positions of ``ids``; unknown ids raise :class:`UnknownIdError`."""
        ids = normalize_ids(ids)
        unknown = [i for i in ids if i not in self._index]
        if unknown:
            raise UnknownIdError(unknown)
        return np.fromiter((self._index[i] for i in ids), dtype=np.intp, count=len(ids))

    def select(self, ids: Iterable[Any]) -> Samples:
        """The samples with these ids, in the order given."""
        return self._take(self.rows(ids))

    def drop(self, ids: Iterable[Any]) -> Samples:
        """Every sample except those with these ids, in the original order."""
        keep = np.ones(len(self), dtype=bool)
        keep[self.rows(ids)] = False
        return self._take(np.flatnonzero(keep))

    def _take(self, rows: np.ndarray) -> Samples:
        X = self.X.iloc[rows] if isinstance(self.X, pd.DataFrame) else self.X[rows]
        return Samples(
            X=X,
            y=None if self.y is None else self.y[rows],
            ids=self.ids[rows],
            subjects=None if self.subjects is None else self.subjects[rows],
            groups=None if self.groups is None else self.groups.iloc[rows],
            name=self.name,
        )

    def resolve(self, request: ForgetRequest) -> tuple[Hashable, ...]:
        """The ids of the samples a request removes (or relabels), in row order.

        ``features`` requests remove no samples and resolve to an empty tuple.
        """
        if request.kind in ("items", "relabel"):
            self.rows(request.ids)
            return request.ids
        if request.kind == "features":
            return ()
        if request.kind == "classes":
            if self.y is None:
                raise InvalidRequestError(
                    "A classes request needs labels, but these samples have no y."
                )
            mask = np.isin(self.y, np.asarray(request.labels, dtype=self.y.dtype))
            absent = [lab for lab in request.labels if not np.any(self.y == lab)]
            if absent:
                raise InvalidRequestError(
                    f"Class labels {preview(absent)} do not occur in the data; "
                    f"known labels are {preview(np.unique(self.y), 12)}."
                )
        else:
            mask = evaluate_condition(request.where, self)
        return tuple(self.ids[mask].tolist())


class ConditionSource(Protocol):
    """What a group condition is evaluated on: named columns, or the whole table."""

    def column(self, name: str) -> np.ndarray | None:
        """The values of one column, or None when there is no such column."""

    def column_names(self) -> list[str]:
        """Every column a condition may name."""

    def table(self) -> pd.DataFrame:
        """The whole table, for callable conditions."""


def evaluate_condition(where: Any, source: ConditionSource) -> np.ndarray:
    """Evaluate a group condition, returning a boolean mask over the source's rows.

    A ``{column: value}`` condition reads only the columns it names; a callable receives the
    whole table.
    """
    if isinstance(where, Mapping):
        mask: np.ndarray | None = None
        for column, wanted in where.items():
            values = source.column(column)
            if values is None:
                raise InvalidRequestError(
                    f"The group condition names column {column!r}, which the data does not have; "
                    f"available columns are {preview(source.column_names(), 12)}."
                )
            allowed = (
                list(wanted)
                if isinstance(wanted, (list, tuple, set, frozenset, np.ndarray))
                else [wanted]
            )
            hit = pd.Series(values).isin(allowed).to_numpy()
            mask = hit if mask is None else mask & hit
        assert mask is not None
        return mask
    table = source.table()
    result = np.asarray(where(table))
    if result.dtype != bool or result.shape != (len(table),):
        raise InvalidRequestError(
            "A callable group condition must return a boolean mask with one entry per sample, "
            f"got dtype {result.dtype} and shape {result.shape}."
        )
    return result


def _check_len(name: str, got: int, n: int) -> None:
    if got != n:
        raise DataValidationError(f"{name} has {got} entries but X has {n} rows; they must match.")
