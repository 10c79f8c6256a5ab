"""One view of every classifier: class probabilities, predictions and per-sample losses.

Evaluation code never asks which library a model comes from; it calls :func:`as_classifier`
and works with the :class:`ClassifierAdapter` it returns:

* scikit-learn estimators (and unlearnkit's unlearners) through :class:`SklearnAdapter`, which
  uses ``predict_proba`` when the model has it and otherwise turns ``decision_function`` into
  probabilities (a sigmoid for one score column, a softmax for several);
* PyTorch ``nn.Module`` classifiers through :class:`TorchAdapter`, which feeds batches to the
  module in eval mode without gradients on the module's device and applies a softmax to the
  logits (the module's training flag is restored afterwards).

Examples
--------
>>> import numpy as np
>>> from sklearn.linear_model import LogisticRegression
>>> from unlearnkit.evaluate.adapters import as_classifier
>>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array([0, 0, 1, 1])
>>> clf = as_classifier(LogisticRegression().fit(X, y))
>>> clf.predict_proba(X).shape, clf.classes_.tolist()
((4, 2), [0, 1])
>>> bool(np.all(clf.loss(X, y) > 0))
True
"""

from __future__ import annotations

import sys
from abc import ABC, abstractmethod
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit, softmax

from unlearnkit.errors import DataValidationError, InvalidParameterError, preview
from unlearnkit.evaluate.errors import ClassMismatchError

__all__ = ["ClassifierAdapter", "SklearnAdapter", "TorchAdapter", "as_classifier"]

#: Probabilities are clipped to this floor before taking logarithms.
PROB_FLOOR = 1e-12


class ClassifierAdapter(ABC):
    """A classifier seen through its class probabilities.

    Attributes
    ----------
    model : object
        The wrapped model.
    classes_ : ndarray of shape (n_classes,)
        Labels in the order of the probability columns.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.naive_bayes import GaussianNB
    >>> clf = as_classifier(GaussianNB().fit([[0.0], [1.0], [5.0], [6.0]], ["a", "a", "b", "b"]))
    >>> isinstance(clf, ClassifierAdapter), clf.predict([[5.5]]).tolist()
    (True, ['b'])
    """

    model: Any
    classes_: np.ndarray

    @abstractmethod
    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape ``(n_samples, n_classes)``, columns as ``classes_``."""

    def predict(self, X: Any) -> np.ndarray:
        """The most probable label of each sample."""
        proba = self.predict_proba(X)  # first: a torch module's classes are known after it
        return np.asarray(self.classes_[np.argmax(proba, axis=1)])

    def label_index(self, y: Any) -> np.ndarray:
        """Column index of each label in ``classes_``.

        Raises
        ------
        ClassMismatchError
            If a label is not one of ``classes_``.
        """
        y = np.asarray(y)
        if y.ndim != 1:
            raise DataValidationError(f"Labels must be 1-dimensional, got shape {y.shape}.")
        lookup = {c: k for k, c in enumerate(self.classes_.tolist())}
        unknown = sorted({v for v in y.tolist() if v not in lookup}, key=repr)
        if unknown:
            raise ClassMismatchError(
                f"Labels {preview(unknown)} are not classes of the model; it knows "
                f"{preview(self.classes_.tolist(), 12)}. Evaluate on data with the model's "
                "classes, or pass classes= to as_classifier for a PyTorch module."
            )
        return np.fromiter((lookup[v] for v in y.tolist()), dtype=np.intp, count=len(y))

    def loss(self, X: Any, y: Any) -> np.ndarray:
        """Per-sample cross-entropy ``-log p(y | x)`` (natural log, probabilities floored)."""
        proba = self.predict_proba(X)
        k = self.label_index(y)
        if len(k) != len(proba):
            raise DataValidationError(
                f"X has {len(proba)} rows but y has {len(k)} labels; they must match."
            )
        picked = proba[np.arange(len(k)), k]
        return np.asarray(-np.log(np.clip(picked, PROB_FLOOR, 1.0)))


class SklearnAdapter(ClassifierAdapter):
    """Adapter for scikit-learn style classifiers.

    Parameters
    ----------
    model : estimator
        A fitted classifier with ``classes_`` and ``predict_proba`` or ``decision_function``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.svm import LinearSVC
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array(["a", "a", "b", "b"])
    >>> a = SklearnAdapter(LinearSVC().fit(X, y))
    >>> a.predict_proba(X).sum(axis=1).round(6).tolist()
    [1.0, 1.0, 1.0, 1.0]
    """

    def __init__(self, model: Any) -> None:
        if not hasattr(model, "predict_proba") and not hasattr(model, "decision_function"):
            raise InvalidParameterError(
                f"{type(model).__name__} has neither predict_proba nor decision_function; "
                "evaluation needs a classifier that scores its classes."
            )
        classes = getattr(model, "classes_", None)
        if classes is None:
            raise InvalidParameterError(
                f"{type(model).__name__} has no classes_; fit the classifier before evaluating it."
            )
        self.model = model
        self.classes_ = np.asarray(classes)

    def predict_proba(self, X: Any) -> np.ndarray:
        if hasattr(self.model, "predict_proba"):
            proba = np.asarray(self.model.predict_proba(X), dtype=np.float64)
        else:
            scores = np.asarray(self.model.decision_function(X), dtype=np.float64)
            if scores.ndim == 1 or scores.shape[1] == 1:
                pos = expit(scores.reshape(-1))
                proba = np.column_stack([1.0 - pos, pos])
            else:
                proba = softmax(scores, axis=1)
        if proba.ndim != 2 or proba.shape[1] != len(self.classes_):
            raise ClassMismatchError(
                f"{type(self.model).__name__} returned scores of shape {proba.shape} for "
                f"{len(self.classes_)} classes."
            )
        return proba


class TorchAdapter(ClassifierAdapter):
    """Adapter for PyTorch classifiers that return logits.

    Parameters
    ----------
    module : torch.nn.Module
        Maps a float tensor of inputs to logits of shape ``(batch, n_classes)``.
    classes : array-like, optional
        The label of each logit column; ``0..n_classes-1`` when omitted.
    batch_size : int
        Rows per forward pass.
    input_shape : tuple of int, optional
        Each row of ``X`` is reshaped to this shape before the forward pass (``(1, 28, 28)``
        for flattened images fed to a convolutional network).

    Examples
    --------
    >>> import numpy as np, torch
    >>> net = torch.nn.Linear(3, 4)
    >>> a = TorchAdapter(net)
    >>> a.predict_proba(np.zeros((5, 3))).shape, a.classes_.tolist()
    ((5, 4), [0, 1, 2, 3])
    """

    def __init__(
        self,
        module: Any,
        *,
        classes: Any = None,
        batch_size: int = 1024,
        input_shape: tuple[int, ...] | None = None,
    ) -> None:
        if int(batch_size) < 1:
            raise InvalidParameterError(f"batch_size must be >= 1, got {batch_size!r}.")
        self.model = module
        self.batch_size = int(batch_size)
        self.input_shape = None if input_shape is None else tuple(int(s) for s in input_shape)
        self._classes = None if classes is None else np.asarray(classes)
        self._n_out: int | None = None

    @property
    def classes_(self) -> np.ndarray:  # type: ignore[override]
        if self._classes is not None:
            return self._classes
        if self._n_out is None:
            raise InvalidParameterError(
                "The number of classes of a PyTorch module is known after its first forward "
                "pass; call predict_proba first or pass classes= to as_classifier."
            )
        return np.arange(self._n_out)

    def _device(self) -> Any:
        import torch

        for tensor in self.model.parameters():
            return tensor.device
        for tensor in self.model.buffers():
            return tensor.device
        return torch.device("cpu")

    def logits(self, X: Any) -> np.ndarray:
        """Raw outputs of the module, shape ``(n_samples, n_classes)``."""
        import torch

        if isinstance(X, pd.DataFrame):
            X = X.to_numpy()
        arr = np.asarray(X, dtype=np.float32)
        if arr.ndim == 1:
            arr = arr.reshape(-1, 1)
        device = self._device()
        was_training = bool(self.model.training)
        self.model.eval()
        out = []
        try:
            with torch.no_grad():
                for start in range(0, len(arr), self.batch_size):
                    batch = torch.from_numpy(arr[start : start + self.batch_size]).to(device)
                    if self.input_shape is not None:
                        batch = batch.reshape(-1, *self.input_shape)
                    out.append(self.model(batch).detach().to("cpu", torch.float64).numpy())
        finally:
            self.model.train(was_training)
        logits = np.concatenate(out) if out else np.zeros((0, len(self.classes_)))
        if logits.ndim != 2:
            raise ClassMismatchError(
                f"The module returned outputs of shape {logits.shape}; a classifier must return "
                "logits of shape (batch, n_classes)."
            )
        if self._classes is not None and logits.shape[1] != len(self._classes):
            raise ClassMismatchError(
                f"The module returns {logits.shape[1]} logits but {len(self._classes)} classes "
                "were given."
            )
        self._n_out = int(logits.shape[1])
        return logits

    def predict_proba(self, X: Any) -> np.ndarray:
        return np.asarray(softmax(self.logits(X), axis=1))


def _is_torch_module(model: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(model, torch.nn.Module)


def as_classifier(model: Any, **options: Any) -> ClassifierAdapter:
    """Wrap ``model`` in the adapter of its library.

    Parameters
    ----------
    model : estimator, torch.nn.Module or ClassifierAdapter
        An adapter is returned as it is.
    **options
        Passed to :class:`TorchAdapter` (``classes``, ``batch_size``, ``input_shape``).

    Raises
    ------
    InvalidParameterError
        If the model is neither a fitted scikit-learn classifier nor a PyTorch module, or
        options are given for a scikit-learn model.
    """
    if isinstance(model, ClassifierAdapter):
        return model
    if _is_torch_module(model):
        return TorchAdapter(model, **options)
    if options:
        raise InvalidParameterError(
            f"Options {sorted(options)} apply to PyTorch modules only, not to "
            f"{type(model).__name__}."
        )
    return SklearnAdapter(model)
