"""PyTorch models as scikit-learn estimators with ``partial_fit``, so SISA can slice them.

A model is given as a *factory* ``module(n_features, n_outputs) -> torch.nn.Module`` plus a
:class:`TorchTraining` config. Training is deterministic for a fixed ``random_state``: the
module is built, the mini-batches are shuffled and every epoch's random numbers (dropout) are
drawn from generators seeded by ``random_state`` and the epoch number only, on one CPU thread.
Pickling the estimator keeps the module *and* the optimizer state, so a pickled copy is a
checkpoint training can resume from.
"""

from __future__ import annotations

import abc
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from numbers import Integral
from typing import Any, ClassVar, Literal, Self

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from unlearnkit.errors import DataValidationError, InvalidParameterError

__all__ = ["MLP", "TorchClassifier", "TorchRegressor", "TorchTraining"]

ModuleFactory = Callable[[int, int], Any]


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        raise InvalidParameterError(
            "PyTorch models need the torch package; install it with `pip install "
            "'unlearnkit[deep]'`."
        ) from None
    return torch


@dataclass(frozen=True)
class TorchTraining:
    """How a PyTorch model is trained.

    Parameters
    ----------
    epochs : int, default=10
        Passes over the data in ``fit`` (SISA spreads them over the slices).
    batch_size : int, default=128
        Rows per mini-batch.
    lr : float, default=1e-3
        Learning rate.
    optimizer : {"adam", "sgd"}, default="adam"
        Optimizer (SGD uses momentum 0.9).
    weight_decay : float, default=0.0
        L2 penalty of the optimizer.
    """

    epochs: int = 10
    batch_size: int = 128
    lr: float = 1e-3
    optimizer: Literal["adam", "sgd"] = "adam"
    weight_decay: float = 0.0

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
                raise InvalidParameterError(
                    f"TorchTraining.{name}={value!r}; pass a positive integer."
                )
        if not self.lr > 0:
            raise InvalidParameterError(f"TorchTraining.lr={self.lr!r}; pass a positive number.")
        if self.optimizer not in ("adam", "sgd"):
            raise InvalidParameterError(
                f"TorchTraining.optimizer={self.optimizer!r}; use 'adam' or 'sgd'."
            )
        if self.weight_decay < 0:
            raise InvalidParameterError(
                f"TorchTraining.weight_decay={self.weight_decay!r}; pass a number >= 0."
            )


@dataclass(frozen=True)
class MLP:
    """A picklable factory of multi-layer perceptrons: ``MLP((64,))(n_in, n_out)``.

    Parameters
    ----------
    hidden : tuple of int, default=(64,)
        Widths of the hidden layers (ReLU after each).
    dropout : float, default=0.0
        Dropout after every hidden layer.
    """

    hidden: tuple[int, ...] = (64,)
    dropout: float = 0.0

    def __call__(self, n_features: int, n_outputs: int) -> Any:
        nn = _torch().nn
        layers: list[Any] = []
        width = n_features
        for h in self.hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            if self.dropout > 0:
                layers.append(nn.Dropout(self.dropout))
            width = h
        layers.append(nn.Linear(width, n_outputs))
        return nn.Sequential(*layers)


def _seed(random_state: Any, *key: int) -> int:
    base = 0 if random_state is None else int(random_state)
    seq = np.random.SeedSequence(base & 0xFFFFFFFFFFFFFFFF, spawn_key=key)
    return int(seq.generate_state(1, dtype=np.uint32)[0])


@contextmanager
def _seeded(seed: int) -> Iterator[None]:
    """Seed torch's global generator for the block, on one thread, restoring both after."""
    torch = _torch()
    threads = torch.get_num_threads()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(threads)


class _TorchEstimator(BaseEstimator, abc.ABC):
    """Shared training loop; subclasses define the target encoding and the loss."""

    _is_classifier: ClassVar[bool] = False
    module_: Any
    optimizer_: Any
    n_epochs_: int

    def __init__(
        self,
        module: ModuleFactory | None = None,
        *,
        training: TorchTraining | None = None,
        random_state: int | None = None,
    ) -> None:
        self.module = module
        self.training = training
        self.random_state = random_state

    # -- configuration ------------------------------------------------------------------------
    def _config(self) -> TorchTraining:
        if self.training is None:
            return TorchTraining()
        if not isinstance(self.training, TorchTraining):
            raise InvalidParameterError(
                f"training={self.training!r}; pass a TorchTraining(...) or None."
            )
        return self.training

    def _factory(self) -> ModuleFactory:
        factory = self.module if self.module is not None else MLP()
        if not callable(factory):
            raise InvalidParameterError(
                f"module={factory!r} is not callable; pass a function "
                "(n_features, n_outputs) -> torch.nn.Module, such as MLP((64,))."
            )
        return factory

    def build(self, n_features: int, n_outputs: int) -> Any:
        """The untrained module this estimator starts from (built under its seed)."""
        torch = _torch()
        with _seeded(_seed(self.random_state, 0)):
            module = self._factory()(n_features, n_outputs)
        if not isinstance(module, torch.nn.Module):
            raise InvalidParameterError(
                f"The module factory returned a {type(module).__name__}, not a torch.nn.Module."
            )
        return module

    def is_deterministic(self, n_features: int, n_outputs: int) -> bool:
        """Whether two builds under the same seed give the same initial weights."""
        a = self.build(n_features, n_outputs).state_dict()
        b = self.build(n_features, n_outputs).state_dict()
        return a.keys() == b.keys() and all(bool((a[k] == b[k]).all()) for k in a)

    # -- training -----------------------------------------------------------------------------
    def fit(self, X: Any, y: Any) -> Self:
        """Train a fresh module for ``training.epochs`` epochs."""
        for key in [k for k in vars(self) if k.endswith("_")]:
            delattr(self, key)
        for _ in range(self._config().epochs):
            self.partial_fit(X, y)
        return self

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> Self:
        """One epoch of mini-batch training on ``X, y`` (building the module on first call)."""
        torch = _torch()
        first = not hasattr(self, "module_")
        try:
            Xv, yv = validate_data(
                self,
                X,
                y,
                reset=first,
                dtype=np.float32,
                y_numeric=not self._is_classifier,
                multi_output=not self._is_classifier,
            )
        except ValueError as exc:
            raise DataValidationError(f"{exc} Fix the input and call again.") from None
        if first:
            self._start(yv, classes)
        target = self._encode(yv)
        config = self._config()
        Xt = torch.from_numpy(np.ascontiguousarray(Xv))
        epoch = self.n_epochs_
        with _seeded(_seed(self.random_state, 1, epoch)):
            order = torch.randperm(len(Xt))
            self.module_.train()
            for start in range(0, len(Xt), config.batch_size):
                batch = order[start : start + config.batch_size]
                self.optimizer_.zero_grad()
                loss = self._loss(self.module_(Xt[batch]), target[batch])
                loss.backward()
                self.optimizer_.step()
        self.n_epochs_ = epoch + 1
        return self

    def _start(self, y: np.ndarray, classes: Any) -> None:
        torch = _torch()
        self.n_epochs_ = 0
        self._set_outputs(y, classes)
        self.module_ = self.build(self.n_features_in_, self._n_outputs)
        config = self._config()
        params = self.module_.parameters()
        if config.optimizer == "adam":
            self.optimizer_ = torch.optim.Adam(
                params, lr=config.lr, weight_decay=config.weight_decay
            )
        else:
            self.optimizer_ = torch.optim.SGD(
                params, lr=config.lr, momentum=0.9, weight_decay=config.weight_decay
            )

    def _forward(self, X: Any) -> np.ndarray:
        torch = _torch()
        check_is_fitted(self, "module_")
        try:
            Xv = validate_data(self, X, reset=False, dtype=np.float32)
        except ValueError as exc:
            raise DataValidationError(f"{exc} Pass rows with the columns seen in fit.") from None
        self.module_.eval()
        with torch.no_grad(), _seeded(0):
            return np.asarray(self.module_(torch.from_numpy(np.ascontiguousarray(Xv))).numpy())

    def digest(self) -> str:
        """SHA-256 of the trained weights (names, shapes and bytes of the state dict)."""
        check_is_fitted(self, "module_")
        h = hashlib.sha256()
        for name, tensor in self.module_.state_dict().items():
            arr = tensor.detach().cpu().numpy()
            h.update(f"{name}{arr.dtype.str}{arr.shape}".encode())
            h.update(np.ascontiguousarray(arr).tobytes())
        return h.hexdigest()

    # -- subclass hooks -----------------------------------------------------------------------
    _n_outputs: int

    @abc.abstractmethod
    def _set_outputs(self, y: np.ndarray, classes: Any) -> None:
        """Record the output layout (classes or number of targets) from the first ``y``."""

    @abc.abstractmethod
    def _encode(self, y: np.ndarray) -> Any:
        """``y`` as the tensor the loss expects."""

    @abc.abstractmethod
    def _loss(self, output: Any, target: Any) -> Any:
        """The training loss of a batch."""


class TorchClassifier(ClassifierMixin, _TorchEstimator):
    """A PyTorch classifier (cross-entropy) with scikit-learn's ``fit`` / ``partial_fit``.

    Parameters
    ----------
    module : callable, default=MLP((64,))
        ``module(n_features, n_classes) -> torch.nn.Module`` returning logits. It must be
        picklable (a module-level function or a dataclass such as :class:`MLP`) to run in
        worker processes.
    training : TorchTraining, optional
        Epochs, batch size, learning rate and optimizer.
    random_state : int, optional
        Seeds the initial weights, the batch order and dropout (None is 0).

    Attributes
    ----------
    classes_ : ndarray
    module_ : torch.nn.Module
    optimizer_ : torch.optim.Optimizer
    n_epochs_ : int
        Epochs trained so far.

    Examples
    --------
    >>> import numpy as np
    >>> from unlearnkit.exact.sisa import MLP, TorchClassifier, TorchTraining
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 4)); y = (X[:, 0] > 0).astype(int)
    >>> clf = TorchClassifier(MLP((16,)), training=TorchTraining(epochs=20, lr=1e-2)).fit(X, y)
    >>> bool(clf.score(X, y) > 0.9)
    True
    """

    _is_classifier = True

    def _set_outputs(self, y: np.ndarray, classes: Any) -> None:
        self.classes_ = np.unique(y) if classes is None else np.unique(np.asarray(classes))
        missing = np.setdiff1d(np.unique(y), self.classes_)
        if len(missing):
            raise DataValidationError(
                f"Labels {missing.tolist()[:5]} are not in classes={self.classes_.tolist()[:12]}."
            )
        self._n_outputs = len(self.classes_)

    def _encode(self, y: np.ndarray) -> Any:
        torch = _torch()
        index = np.searchsorted(self.classes_, y)
        if np.any(index >= len(self.classes_)) or np.any(self.classes_[index] != y):
            raise DataValidationError("y has labels that were not seen in the first fit.")
        return torch.from_numpy(index.astype(np.int64))

    def _loss(self, output: Any, target: Any) -> Any:
        return _torch().nn.functional.cross_entropy(output, target)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Softmax of the logits, columns in ``classes_`` order."""
        logits = self._forward(X).astype(np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return np.asarray(p / p.sum(axis=1, keepdims=True))

    def predict(self, X: Any) -> np.ndarray:
        """The class of highest probability."""
        return np.asarray(self.classes_[np.argmax(self._forward(X), axis=1)])


class TorchRegressor(RegressorMixin, _TorchEstimator):
    """A PyTorch regressor (mean squared error) with scikit-learn's ``fit`` / ``partial_fit``.

    Parameters are those of :class:`TorchClassifier`; ``module(n_features, n_targets)``
    returns the predictions.

    Examples
    --------
    >>> import numpy as np
    >>> from unlearnkit.exact.sisa import MLP, TorchRegressor, TorchTraining
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3)); y = X @ [1.0, -1.0, 0.5]
    >>> reg = TorchRegressor(MLP(()), training=TorchTraining(epochs=50, lr=5e-2)).fit(X, y)
    >>> bool(reg.score(X, y) > 0.95)
    True
    """

    def _set_outputs(self, y: np.ndarray, classes: Any) -> None:
        self._y_1d = y.ndim == 1
        self._n_outputs = 1 if y.ndim == 1 else int(y.shape[1])

    def _encode(self, y: np.ndarray) -> Any:
        return _torch().from_numpy(np.asarray(y, dtype=np.float32).reshape(len(y), -1))

    def _loss(self, output: Any, target: Any) -> Any:
        return _torch().nn.functional.mse_loss(output, target)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted targets."""
        out = self._forward(X).astype(np.float64)
        return np.asarray(out[:, 0] if self._y_1d else out)
