"""Training data with sample ids, as the approximate methods read it.

The methods draw mini-batches by row position from the retain and forget sets many times, so
the data is put behind one accessor, :class:`IndexedData`, built from a
:class:`~unlearnkit.data.Samples`, a ``torch.utils.data.Dataset`` whose items are
``(x, y, sample_id)``, or a ``DataLoader`` over such a dataset (whose batch size is then used).
Tensor data (``Samples`` and ``TensorDataset``) is indexed directly; any other dataset is read
item by item and collated with PyTorch's ``default_collate``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, TensorDataset, default_collate

from unlearnkit.data import Samples
from unlearnkit.errors import (
    DataValidationError,
    DuplicateIdError,
    InvalidRequestError,
    UnknownIdError,
    preview,
)
from unlearnkit.requests import ForgetRequest, normalize_ids

__all__ = ["DEFAULT_BATCH_SIZE", "IndexedData", "Resolved", "as_indexed"]

#: Batch size used when the data does not say (a Samples or a Dataset).
DEFAULT_BATCH_SIZE = 64


@dataclass
class IndexedData:
    """Rows addressable by position, with their sample ids and integer class labels.

    Parameters
    ----------
    ids : ndarray of shape (n,)
        Unique sample ids, in row order.
    labels : ndarray of int64, shape (n,)
        Class labels ``0..n_classes-1``.
    batch_size : int
        The batch size of the original training (from the DataLoader) or a default.
    X : Tensor, optional
        All inputs, when the data is tensors; otherwise ``dataset`` is read item by item.
    dataset : Dataset, optional
        A dataset whose items are ``(x, y, sample_id)``.
    samples : Samples, optional
        The original samples, kept to resolve ``group`` requests.
    """

    ids: np.ndarray
    labels: np.ndarray
    batch_size: int
    X: torch.Tensor | None = None
    dataset: Dataset[Any] | None = None
    samples: Samples | None = None

    def __post_init__(self) -> None:
        self._index: dict[Hashable, int] = {i: k for k, i in enumerate(self.ids.tolist())}
        if len(self._index) != len(self.ids):
            counts = Counter(self.ids.tolist())
            dupes = [i for i, c in counts.items() if c > 1]
            raise DuplicateIdError(dupes, where="the training data")

    def __len__(self) -> int:
        return len(self.ids)

    def inputs(self, rows: np.ndarray) -> torch.Tensor:
        """The inputs of these rows, stacked into one tensor (on the CPU)."""
        if self.X is not None:
            return self.X[torch.as_tensor(rows, dtype=torch.long)]
        assert self.dataset is not None
        batch: torch.Tensor = default_collate([self.dataset[int(r)][0] for r in rows])
        return batch

    def rows_of(self, ids: Any) -> np.ndarray:
        """Row positions of sample ids; unknown ids raise :class:`UnknownIdError`."""
        ids = normalize_ids(ids)
        unknown = [i for i in ids if i not in self._index]
        if unknown:
            raise UnknownIdError(
                unknown,
                f"Sample ids {preview(unknown)} are not in the training data given to unlearn. "
                "Pass the data the model was trained on, with the same sample ids.",
            )
        return np.fromiter((self._index[i] for i in ids), dtype=np.intp, count=len(ids))


@dataclass(frozen=True)
class Resolved:
    """The rows a request touches, split into forget and retain.

    ``targets`` holds the training labels after the request: the corrected labels of a
    ``relabel`` request, the original labels otherwise. ``columns`` are the flattened input
    positions a ``features`` request blanks (set to 0 in every row, which all rows then are
    affected by).
    """

    kind: str
    forget: np.ndarray
    retain: np.ndarray
    targets: np.ndarray
    forget_classes: tuple[int, ...] = ()
    columns: tuple[int, ...] = ()


def _labels(y: Any, where: str) -> np.ndarray:
    arr = np.asarray(y.cpu().numpy() if isinstance(y, torch.Tensor) else y)
    if arr.ndim != 1:
        raise DataValidationError(
            f"Labels in {where} must be 1-dimensional, got shape {arr.shape}."
        )
    if arr.dtype.kind not in "iu" and not (
        arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr))
    ):
        raise DataValidationError(
            f"Labels in {where} must be integer class indices 0..n_classes-1, got dtype "
            f"{arr.dtype}. Encode them, for example with sklearn.preprocessing.LabelEncoder."
        )
    out = arr.astype(np.int64)
    if len(out) and out.min() < 0:
        raise DataValidationError(
            f"Labels in {where} must be class indices >= 0, got {int(out.min())}."
        )
    return out


def _from_samples(samples: Samples, batch_size: int) -> IndexedData:
    if samples.y is None:
        raise DataValidationError("The Samples have no y; unlearning a classifier needs labels.")
    X = samples.X.to_numpy() if hasattr(samples.X, "to_numpy") else np.asarray(samples.X)
    try:
        tensor = torch.as_tensor(np.asarray(X, dtype=np.float32))
    except (TypeError, ValueError) as exc:
        raise DataValidationError(
            f"The features of the Samples are not numeric ({exc}); encode them first."
        ) from None
    return IndexedData(
        ids=np.asarray(samples.ids),
        labels=_labels(samples.y, "the Samples"),
        batch_size=batch_size,
        X=tensor,
        samples=samples,
    )


def _from_dataset(dataset: Dataset[Any], batch_size: int) -> IndexedData:
    if isinstance(dataset, TensorDataset):
        if len(dataset.tensors) != 3:
            raise DataValidationError(
                f"A TensorDataset for unlearning needs three tensors (x, y, sample_id), got "
                f"{len(dataset.tensors)}. Add a tensor of sample ids, e.g. torch.arange(n)."
            )
        X, y, id_tensor = dataset.tensors
        return IndexedData(
            ids=np.asarray(normalize_ids(id_tensor.tolist(), where="the training data")),
            labels=_labels(y, "the TensorDataset"),
            batch_size=batch_size,
            X=X,
        )
    try:
        n = len(dataset)  # type: ignore[arg-type]
    except TypeError:
        raise DataValidationError(
            f"The dataset {type(dataset).__name__} has no length; unlearning needs a map-style "
            "dataset whose items are (x, y, sample_id)."
        ) from None
    labels: list[int] = []
    ids: list[Any] = []
    for k in range(n):
        item = dataset[k]
        if not isinstance(item, (tuple, list)) or len(item) != 3:
            raise DataValidationError(
                f"Item {k} of {type(dataset).__name__} is not (x, y, sample_id); unlearning "
                "needs the sample id of every training row. Return it as the third element."
            )
        label, sample_id = item[1], item[2]
        labels.append(int(label.item() if isinstance(label, torch.Tensor) else label))
        ids.append(sample_id.item() if isinstance(sample_id, torch.Tensor) else sample_id)
    return IndexedData(
        ids=np.asarray(normalize_ids(ids, where="the training data"), dtype=object)
        if any(isinstance(i, str) for i in ids)
        else np.asarray(ids, dtype=np.int64),
        labels=_labels(np.asarray(labels), type(dataset).__name__),
        batch_size=batch_size,
        dataset=dataset,
    )


def as_indexed(data: Any, batch_size: int | None = None) -> IndexedData:
    """Wrap ``data`` (Samples, Dataset of ``(x, y, id)`` or DataLoader over one)."""
    if isinstance(data, IndexedData):
        return data
    if isinstance(data, Samples):
        return _from_samples(data, batch_size or DEFAULT_BATCH_SIZE)
    if isinstance(data, DataLoader):
        return _from_dataset(data.dataset, batch_size or data.batch_size or DEFAULT_BATCH_SIZE)
    if isinstance(data, Dataset):
        return _from_dataset(data, batch_size or DEFAULT_BATCH_SIZE)
    raise DataValidationError(
        f"Training data of type {type(data).__name__} is not supported: pass a "
        "unlearnkit.Samples, a torch Dataset whose items are (x, y, sample_id), or a DataLoader "
        "over one."
    )


def resolve(data: IndexedData, request: ForgetRequest, n_classes: int) -> Resolved:
    """The forget and retain rows of ``request``; raises when it names nothing or everything."""
    targets = data.labels.copy()
    classes: tuple[int, ...] = ()
    if request.kind == "features":
        every = np.arange(len(data))
        return Resolved(
            kind="features",
            forget=every,
            retain=every,
            targets=targets,
            columns=_columns(data, request.columns),
        )
    if request.kind in ("items", "relabel"):
        forget = data.rows_of(request.ids)
    elif request.kind == "group":
        if data.samples is None:
            raise InvalidRequestError(
                "A group request (such as ForgetRequest.of_subject) is resolved on the columns "
                "of the training data; pass the data as a unlearnkit.Samples with its subjects "
                "and group columns, or send the sample ids as an items request."
            )
        forget = data.rows_of(data.samples.resolve(request))
    elif request.kind == "classes":
        wanted = []
        for label in request.labels:
            if isinstance(label, bool) or not isinstance(label, (int, np.integer)):
                raise InvalidRequestError(
                    f"Class label {label!r} is not an integer class index 0..{n_classes - 1}."
                )
            if not np.any(data.labels == label):
                raise InvalidRequestError(
                    f"Class {label!r} has no training samples; known classes are "
                    f"{preview(np.unique(data.labels).tolist(), 12)}."
                )
            wanted.append(int(label))
        classes = tuple(sorted(wanted))
        forget = np.flatnonzero(np.isin(data.labels, classes))
    else:
        raise InvalidRequestError(
            f"{request.kind!r} requests are not resolved to samples by the approximate methods."
        )
    if len(forget) == 0:
        raise InvalidRequestError(
            "The request matches no training sample, so there is nothing to forget; check "
            "the condition or the ids."
        )
    keep = np.ones(len(data), dtype=bool)
    keep[forget] = False
    if request.kind == "relabel":
        new = _new_labels(request.new_labels, request.ids, n_classes)
        targets[forget] = new
    if not keep.any():
        raise InvalidRequestError(
            f"The request covers all {len(data)} training samples, so nothing would be left "
            "to learn from; train a new model instead of unlearning."
        )
    return Resolved(
        kind=request.kind,
        forget=np.sort(forget) if request.kind != "relabel" else forget,
        retain=np.flatnonzero(keep),
        targets=targets,
        forget_classes=classes,
    )


def _columns(data: IndexedData, columns: tuple[Any, ...]) -> tuple[int, ...]:
    width = int(np.prod(data.inputs(np.arange(1)).shape[1:]))
    names = data.samples.feature_names if data.samples is not None else []
    out = []
    for column in columns:
        if isinstance(column, str) and column in names:
            out.append(names.index(column))
        elif (
            isinstance(column, (int, np.integer))
            and not isinstance(column, bool)
            and (0 <= int(column) < width)
        ):
            out.append(int(column))
        else:
            raise InvalidRequestError(
                f"Feature {column!r} is not a column of the inputs: name one of "
                f"{preview(names, 8)} or give a position 0..{width - 1} of the flattened input."
            )
    return tuple(sorted(set(out)))


def _new_labels(mapping: Mapping[Hashable, Any], ids: tuple[Hashable, ...], c: int) -> np.ndarray:
    out = []
    for i in ids:
        label = mapping[i]
        if (
            isinstance(label, bool)
            or not isinstance(label, (int, np.integer))
            or not (0 <= int(label) < c)
        ):
            raise InvalidRequestError(
                f"The corrected label {label!r} of sample {i!r} is not a class index "
                f"0..{c - 1} of the model."
            )
        out.append(int(label))
    return np.asarray(out, dtype=np.int64)
