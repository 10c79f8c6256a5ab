"""Certified removal for deep models: a certified linear head on a fixed feature extractor.

Guo, Goldstein, Hannun & van der Maaten ("Certified Data Removal from Machine Learning
Models", ICML 2020, Section 4) extend certified removal to deep networks by splitting them in
two: a feature extractor that never sees the private data (pre-trained on public data) and a
linear model on its features, trained on the private data with the certified, noise-perturbed
objective. Removing private rows then only touches the linear head, whose Newton-step removal
and budget are those of :class:`~unlearnkit.certified.CertifiedLogisticRegression` (or
:class:`~unlearnkit.certified.CertifiedRidge` for regression); the extractor is a fixed map,
like the row scaling of the linear models, so the certificate carries over unchanged.

**The extractor must not have seen the private data.** If it was trained on them, removing a
row from the head leaves its trace in the extractor and nothing is certified. Pre-train it on
public data (or train it with differential privacy, whose guarantee then composes with the
head's).

**Feature scaling.** The certified logistic head needs features of Euclidean norm at most 1.
The map from inputs to head features must itself not depend on the private data, or removing a
row would change the features of the others. :class:`CertifiedHead` offers two such maps,
chosen by ``feature_scale``:

- ``"normalize"`` (default): every feature vector is divided by its own norm (projected onto
  the unit sphere; an all-zero vector stays zero). A fixed per-row map.
- a number ``s > 0``: every feature vector is divided by ``s``. Choose ``s`` without the private
  data: a bound you know (e.g. the extractor ends in a bounded activation), or the largest
  feature norm on *public* data, which :func:`public_feature_scale` computes. Rows whose scaled
  norm still exceeds 1 are handled by the head's ``feature_norm`` policy (clipped to norm 1 with
  a warning by default, or refused).

No statistic of the private data (maximum norm, mean, variance) is ever used.
"""

from __future__ import annotations

import sys
from collections.abc import Hashable
from itertools import chain
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any, ClassVar, Self

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.exceptions import NotFittedError as _SkNotFittedError
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from unlearnkit.base import Change, Unlearner
from unlearnkit.certified.accountant import RemovalAccountant
from unlearnkit.certified.linear import CertifiedLogisticRegression, CertifiedRidge
from unlearnkit.errors import DataValidationError, InvalidParameterError, preview
from unlearnkit.guarantees import Guarantee
from unlearnkit.requests import RequestKind

if TYPE_CHECKING:
    import torch

__all__ = ["CertifiedHead", "extract_features", "public_feature_scale"]

_HEADS = (CertifiedLogisticRegression, CertifiedRidge)


# -- running an extractor -------------------------------------------------------------------------
def _is_torch_module(obj: Any) -> bool:
    """Whether ``obj`` is a ``torch.nn.Module`` (without importing torch: an object can only be
    one if torch is already imported)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(obj, torch.nn.Module)


def module_device_dtype(module: torch.nn.Module) -> tuple[torch.device, torch.dtype]:
    """The device of ``module``'s first parameter or buffer (CPU if it has none) and the
    floating dtype its inputs should have (that of its first floating parameter, else
    float32)."""
    import torch

    tensors = list(chain(module.parameters(), module.buffers()))
    device = tensors[0].device if tensors else torch.device("cpu")
    floating = [t for t in tensors if t.is_floating_point()]
    dtype = floating[0].dtype if floating else torch.float32
    return device, dtype


def forward_numpy(
    module: torch.nn.Module, X: np.ndarray, batch_size: int, *, what: str = "extractor"
) -> np.ndarray:
    """``module(X)`` as float64 NumPy, in eval mode, without gradients, in batches on the
    module's device. The module's train/eval mode is restored afterwards; ``what`` names the
    module in error messages."""
    import torch

    name = f"The {what} {type(module).__name__}"
    device, dtype = module_device_dtype(module)
    was_training = module.training
    module.eval()
    chunks = []
    try:
        with torch.no_grad():
            for start in range(0, len(X), batch_size):
                batch = X[start : start + batch_size]
                try:
                    out = module(torch.as_tensor(batch, dtype=dtype, device=device))
                except (RuntimeError, ValueError, TypeError, IndexError) as exc:
                    raise DataValidationError(
                        f"{name} failed on input rows of shape "
                        f"{batch.shape}: {exc} Pass rows in the layout the module expects "
                        "(flattened; start the module with torch.nn.Unflatten for images)."
                    ) from None
                if not isinstance(out, torch.Tensor):
                    raise DataValidationError(
                        f"{name} returned a "
                        f"{type(out).__name__}, not a tensor; it must map a batch to a tensor "
                        "of shape (batch, n_features)."
                    )
                if out.ndim != 2 or out.shape[0] != len(batch):
                    raise DataValidationError(
                        f"{name} mapped a batch of {len(batch)} "
                        f"rows to a tensor of shape {tuple(out.shape)}; it must return shape "
                        f"({len(batch)}, n_features). End the module with torch.nn.Flatten() "
                        "if it returns feature maps."
                    )
                chunks.append(out.detach().to(device="cpu", dtype=torch.float64).numpy())
    finally:
        module.train(was_training)
    return np.concatenate(chunks) if chunks else np.empty((0, 0))


def _check_extractor(extractor: Any) -> str:
    """``"torch"`` or ``"sklearn"``; raise if ``extractor`` is neither or is not fitted."""
    if _is_torch_module(extractor):
        return "torch"
    if hasattr(extractor, "transform") and hasattr(extractor, "fit"):
        try:
            check_is_fitted(extractor)
        except _SkNotFittedError:
            name = type(extractor).__name__
            raise InvalidParameterError(
                f"extractor={name}(...) is not fitted. Fit it on public data first; and since "
                "clone() returns an unfitted copy of a scikit-learn estimator, wrap it as "
                f"sklearn.frozen.FrozenEstimator({name}(...).fit(X_public)) so that it stays "
                "fitted when the model is cloned."
            ) from None
        return "sklearn"
    raise InvalidParameterError(
        f"extractor={extractor!r} is neither a torch.nn.Module nor a fitted scikit-learn "
        "transformer (an object with fit and transform). Pass a module pre-trained on public "
        "data, or e.g. a PCA fitted on public data."
    )


def extract_features(extractor: Any, X: Any, *, batch_size: int = 256) -> np.ndarray:
    """The raw (unscaled) features ``extractor`` gives for the rows of ``X``, as float64.

    Parameters
    ----------
    extractor : torch.nn.Module or fitted scikit-learn transformer
        A module is run in eval mode, without gradients, in batches of ``batch_size`` on its
        own device (its mode is restored afterwards); a transformer through ``transform``.
    X : array-like of shape (n_samples, n_inputs)
    batch_size : int, default=256

    Returns
    -------
    ndarray of shape (n_samples, n_features)

    Raises
    ------
    InvalidParameterError
        The extractor is of another kind or not fitted.
    DataValidationError
        The extractor fails on ``X``, returns another shape than ``(n_samples, n_features)``,
        or returns NaN or infinite values.
    """
    kind = _check_extractor(extractor)
    Xv = np.asarray(X)
    if Xv.ndim != 2:
        raise DataValidationError(
            f"X must be 2-D (n_samples, n_inputs), got shape {Xv.shape}; flatten images and "
            "start the module with torch.nn.Unflatten."
        )
    if kind == "torch":
        Phi = forward_numpy(extractor, np.asarray(Xv, dtype=np.float64), int(batch_size))
    else:
        try:
            out = extractor.transform(Xv)
        except ValueError as exc:
            raise DataValidationError(
                f"The extractor {type(extractor).__name__} could not transform X: {exc}"
            ) from None
        Phi = np.asarray(out.toarray() if hasattr(out, "toarray") else out, dtype=np.float64)
        if Phi.ndim != 2 or len(Phi) != len(Xv):
            raise DataValidationError(
                f"The extractor {type(extractor).__name__} mapped {len(Xv)} rows to an array of "
                f"shape {Phi.shape}; it must return shape ({len(Xv)}, n_features)."
            )
    bad = ~np.all(np.isfinite(Phi), axis=1)
    if np.any(bad):
        rows = np.flatnonzero(bad)
        raise DataValidationError(
            f"The extractor returned NaN or infinite features for {len(rows)} row(s) "
            f"{preview(rows.tolist())}. Check those inputs and the extractor."
        )
    return Phi


def public_feature_scale(
    extractor: Any, X_public: Any, *, quantile: float = 1.0, batch_size: int = 256
) -> float:
    """A ``feature_scale`` for :class:`CertifiedHead` measured on **public** data.

    The ``quantile`` of the Euclidean norms of the extractor's features of ``X_public``
    (the largest norm by default). Never call it on the private training data: the scale must
    not depend on them (see the module documentation).

    Parameters
    ----------
    extractor : torch.nn.Module or fitted scikit-learn transformer
    X_public : array-like of shape (n_samples, n_inputs)
        Data the private model is not trained on.
    quantile : float in (0, 1], default=1.0
        With ``quantile < 1`` the rarer larger rows of the private data are clipped to norm 1
        by the head (``feature_norm="clip"``), which keeps the typical rows larger.
    batch_size : int, default=256

    Returns
    -------
    float
        A positive scale.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.decomposition import PCA
    >>> from unlearnkit.certified import public_feature_scale
    >>> public = np.random.default_rng(0).normal(size=(100, 6))
    >>> pca = PCA(n_components=3).fit(public)
    >>> scale = public_feature_scale(pca, public)
    >>> bool(np.linalg.norm(pca.transform(public), axis=1).max() <= scale)
    True
    """
    q = float(quantile)
    if not 0 < q <= 1:
        raise InvalidParameterError(f"quantile must be in (0, 1], got {quantile!r}.")
    norms = np.linalg.norm(extract_features(extractor, X_public, batch_size=batch_size), axis=1)
    scale = float(np.quantile(norms, q))
    if not (np.isfinite(scale) and scale > 0):
        raise DataValidationError(
            f"The features of X_public have norm {scale!r} at quantile {q}; a scale must be a "
            "positive number. Use more (or other) public rows."
        )
    return scale


def _head_has(name: str) -> Any:
    """For ``available_if``: whether the (fitted or configured) head has method ``name``."""
    return lambda self: hasattr(self._head_template(), name)


# -- the unlearner --------------------------------------------------------------------------------
class CertifiedHead(Unlearner):
    """A certified linear head on a fixed feature extractor (Guo et al. 2020's recipe for deep
    models).

    ``fit`` runs the extractor on the private rows, scales the features into the unit ball
    (``feature_scale``, independent of the private data) and fits the certified ``head`` on them
    with the same sample ids. ``unlearn`` resolves the request on the model's own rows and
    delegates the removal to the head: one Newton step charged to the head's removal
    accountant, or a retrain of the head with fresh noise when the budget is spent. The
    result's evidence is the head's, ``retrained_fraction`` is the head's share of its own
    training work (the extractor is never retrained), and the guarantee is the head's
    ``certified(epsilon, delta)``: the head, and so the whole model, is
    ``(epsilon, delta)``-indistinguishable from one fitted without the removed rows. That holds
    only if the extractor never saw the private data (see the module documentation).

    Parameters
    ----------
    extractor : torch.nn.Module or fitted scikit-learn transformer
        Maps rows of ``X`` to features; trained on public data only. A module is run in eval
        mode without gradients, in batches on its own device; it takes rows of ``X`` (2-D:
        flatten images and start the module with ``torch.nn.Unflatten``) and must return
        ``(batch, n_features)``. A scikit-learn transformer (e.g. a PCA fitted on public data)
        must be fitted; wrap it in ``sklearn.frozen.FrozenEstimator`` so that ``clone`` keeps it
        fitted.
    head : CertifiedLogisticRegression or CertifiedRidge, default=None
        The certified model (cloned at fit); None means ``CertifiedLogisticRegression()``. Its
        parameters are reachable as ``head__lam`` etc. A ridge head makes this a regressor.
    feature_scale : "normalize" or float, default="normalize"
        ``"normalize"``: divide each feature vector by its norm. A number ``s > 0``: divide by
        ``s`` (fixed, or from :func:`public_feature_scale` on public data); rows still above
        norm 1 follow the head's ``feature_norm``.
    batch_size : int, default=256
        Rows per forward pass of a torch extractor.

    Attributes
    ----------
    head_ : CertifiedLogisticRegression or CertifiedRidge
        The fitted head (trained on the scaled features).
    classes_ : ndarray of shape (n_classes,)
        Classifier heads only.
    coef_, intercept_ : ndarray
        The head's weights, on the scaled features.
    n_features_in_ : int
        Columns of ``X``.
    n_extracted_features_ : int
        Features the extractor returns.
    accountant_ : RemovalAccountant
        A copy of the head's removal accountant.
    remaining_budget_ : float

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.decomposition import PCA
    >>> from sklearn.frozen import FrozenEstimator
    >>> from unlearnkit.certified import CertifiedHead, CertifiedLogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> public = rng.normal(size=(300, 10))                 # never used for the private model
    >>> X = rng.normal(size=(400, 10)); y = (X[:, 0] + X[:, 1] > 0).astype(int)
    >>> extractor = FrozenEstimator(PCA(n_components=4, random_state=0).fit(public))
    >>> head = CertifiedLogisticRegression(lam=1e-2, sigma=1.0, random_state=0)
    >>> model = CertifiedHead(extractor, head).fit(X, y)
    >>> result = model.unlearn([3, 17])
    >>> str(result.guarantee), result.evidence["retrained"]
    ('certified(epsilon=1, delta=0.0001)', False)
    >>> model.head_.sample_ids_.tolist() == model.sample_ids_.tolist()
    True
    """

    supported_requests: ClassVar[frozenset[RequestKind]] = frozenset({"items", "group"})
    check_data_kind = "classification"
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "extractor": [object],  # checked at fit: a torch module or a fitted transformer
        "head": [HasMethods(["fit", "unlearn"]), None],
        "feature_scale": [Interval(Real, 0, None, closed="neither"), StrOptions({"normalize"})],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
    }

    n_extracted_features_: int
    _head: CertifiedLogisticRegression | CertifiedRidge

    def __init__(
        self,
        extractor: Any = None,
        head: CertifiedLogisticRegression | CertifiedRidge | None = None,
        *,
        feature_scale: float | str = "normalize",
        batch_size: int = 256,
    ) -> None:
        self.extractor = extractor
        self.head = head
        self.feature_scale = feature_scale
        self.batch_size = batch_size

    # -- what kind of model this is ----------------------------------------------------------
    def _head_template(self) -> CertifiedLogisticRegression | CertifiedRidge:
        if "_head" in self.__dict__:
            return self._head
        return CertifiedLogisticRegression() if self.head is None else self.head

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        head = self._head_template()
        if isinstance(head, _HEADS):
            head_tags = head.__sklearn_tags__()
            tags.estimator_type = head_tags.estimator_type
            tags.classifier_tags = head_tags.classifier_tags
            tags.regressor_tags = head_tags.regressor_tags
            tags.target_tags.required = True
        return tags

    @property
    def guarantee(self) -> Guarantee:  # type: ignore[override]
        """The head's ``certified(epsilon, delta)``."""
        head = self._head_template()
        if not isinstance(head, _HEADS):
            raise InvalidParameterError(_bad_head(head))
        return head.guarantee

    @property
    def head_(self) -> CertifiedLogisticRegression | CertifiedRidge:
        """The fitted head."""
        self._require_fitted("return its head")
        return self._head

    @property
    def accountant_(self) -> RemovalAccountant:
        """A copy of the head's removal accountant."""
        self._require_fitted("report its removal budget")
        return self._head.accountant_

    @property
    def remaining_budget_(self) -> float:
        """Gradient-residual norm further removals may add before the head retrains."""
        self._require_fitted("report its removal budget")
        return self._head.remaining_budget_

    # -- fit ---------------------------------------------------------------------------------
    def fit(self, X: Any, y: Any, *, sample_ids: Any = None, sample_weight: Any = None) -> Self:
        """Extract and scale the features of ``X`` and fit the certified head on them.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_inputs)
            Private rows, as the extractor takes them (2-D).
        y : array-like of shape (n_samples,)
            Class labels (logistic head) or targets (ridge head).
        sample_ids : array-like of shape (n_samples,), optional
            Unique ids (``0..n-1`` by default); the head uses the same ids.
        sample_weight : None
            Not supported (the certificate counts every row once).

        Returns
        -------
        self

        Raises
        ------
        InvalidParameterError
            Bad parameters, an unfitted or unsupported extractor, a head that is not certified.
        DataValidationError
            Malformed ``X``/``y``, or an extractor output of the wrong shape or with NaN/inf.
            A model that fails to refit stays the model it was.
        """
        self._validate_params()
        head = self._new_head()
        _check_extractor(self.extractor)
        if sample_weight is not None:
            raise DataValidationError(
                "CertifiedHead does not take sample_weight: the certificate assumes every row "
                "adds one loss term. Repeat rows or drop sample_weight."
            )
        snapshot = dict(self.__dict__)
        try:
            Xv, yv, _ = self._start_fit(X, y, sample_ids, None)
            features = self._scaled_features(Xv, expected=None)
            head.fit(features, yv, sample_ids=self._store.ids)
            self._head = head
            self.n_extracted_features_ = int(features.shape[1])
            self.__dict__.update(self._public())
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(snapshot)
            raise
        return self

    def _new_head(self) -> CertifiedLogisticRegression | CertifiedRidge:
        if self.head is None:
            return CertifiedLogisticRegression()
        if not isinstance(self.head, _HEADS):
            raise InvalidParameterError(_bad_head(self.head))
        return clone(self.head)

    def _scaled_features(self, X: np.ndarray, expected: int | None) -> np.ndarray:
        Phi = extract_features(self.extractor, X, batch_size=int(self.batch_size))
        if expected is not None and Phi.shape[1] != expected:
            raise DataValidationError(
                f"The extractor now returns {Phi.shape[1]} features per row, but the head was "
                f"fitted on {expected}. Use the extractor the model was fitted with, or refit."
            )
        if isinstance(self.feature_scale, str):  # "normalize"
            norms = np.linalg.norm(Phi, axis=1, keepdims=True)
            return np.asarray(Phi / np.where(norms > 0, norms, 1.0))
        return np.asarray(Phi / float(self.feature_scale))

    def _public(self) -> dict[str, Any]:
        head = self._head
        out: dict[str, Any] = {"coef_": head.coef_, "intercept_": head.intercept_}
        if isinstance(head, CertifiedLogisticRegression):
            out["classes_"] = head.classes_
        return out

    # -- predictions -------------------------------------------------------------------------
    def features(self, X: Any) -> np.ndarray:
        """The scaled features the head sees for ``X``."""
        return self._scaled_features(self._check_X(X), expected=self.n_extracted_features_)

    def predict(self, X: Any) -> np.ndarray:
        """The head's predictions for ``X``."""
        features = self.features(X)
        return np.asarray(self._head.predict(features))

    @available_if(_head_has("predict_proba"))
    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities (logistic head), columns in the order of ``classes_``."""
        features = self.features(X)
        return np.asarray(self._head.predict_proba(features))

    @available_if(_head_has("predict_log_proba"))
    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Logarithm of :meth:`predict_proba`."""
        features = self.features(X)
        return np.asarray(self._head.predict_log_proba(features))

    @available_if(_head_has("decision_function"))
    def decision_function(self, X: Any) -> np.ndarray:
        """The head's decision function (logistic head)."""
        features = self.features(X)
        return np.asarray(self._head.decision_function(features))

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Accuracy (classifier head) or R^2 (ridge head) on ``X, y``."""
        from sklearn.metrics import accuracy_score, r2_score

        pred = self.predict(X)
        if is_classifier(self):
            return float(accuracy_score(y, pred, sample_weight=sample_weight))
        return float(r2_score(y, pred, sample_weight=sample_weight))

    # -- removal -------------------------------------------------------------------------------
    def _forget_rows(self, rows: np.ndarray) -> Change:
        ids: list[Hashable] = self._store.ids[rows].tolist()
        result = self._head.unlearn(ids)  # all-or-nothing in the head
        self.__dict__.update(self._public())
        evidence = dict(result.evidence)
        evidence["head"] = type(self._head).__name__
        return Change(result.retrained_fraction, evidence)


def _bad_head(head: Any) -> str:
    return (
        f"head={head!r} is not a certified linear model; pass CertifiedLogisticRegression(...) "
        "(classification) or CertifiedRidge(...) (regression), or None for the default "
        "CertifiedLogisticRegression()."
    )
