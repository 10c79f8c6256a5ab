"""Utility and fidelity metrics: how well a model works, and how close it is to a reference.

Accuracies are fractions in ``[0, 1]``. Following the unlearning literature (Jia et al. 2023,
"Model sparsity can simplify machine unlearning"; Fan et al. 2024, "SalUn"):

* ``UA`` (unlearning accuracy) is ``1 - accuracy`` on the forget set,
* ``RA`` is the accuracy on the retained training data,
* ``TA`` is the accuracy on held-out test data,

and :func:`average_gap` is SalUn's "Avg. Gap": the mean absolute difference to the retrained
reference over UA, RA, TA and MIA-efficacy, in percentage points.

Examples
--------
>>> import numpy as np
>>> from sklearn.linear_model import LogisticRegression
>>> from unlearnkit.evaluate.metrics import average_gap, utility_splits
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(60, 2)); y = (X[:, 0] > 0).astype(int)
>>> model = LogisticRegression().fit(X[20:], y[20:])
>>> u = utility_splits(model, forget=(X[:10], y[:10]), retain=(X[20:], y[20:]),
...                    test=(X[10:20], y[10:20]))
>>> sorted(u)
['RA', 'TA', 'UA']
>>> average_gap(u, u, keys=("UA", "RA", "TA"))
0.0
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy.special import rel_entr

from unlearnkit.data import Samples
from unlearnkit.errors import DataValidationError, preview
from unlearnkit.evaluate.adapters import PROB_FLOOR, as_classifier
from unlearnkit.evaluate.errors import ModelMismatchError

__all__ = [
    "DEFAULT_GAP_KEYS",
    "accuracy",
    "as_xy",
    "average_gap",
    "js_divergence",
    "kl_divergence",
    "output_agreement",
    "parameter_distance",
    "utility_splits",
]

#: The metrics SalUn averages in its "Avg. Gap" column.
DEFAULT_GAP_KEYS: tuple[str, ...] = ("UA", "RA", "TA", "MIA-efficacy")


def as_xy(split: Any, *, name: str = "split") -> tuple[Any, np.ndarray]:
    """``(X, y)`` of a :class:`~unlearnkit.data.Samples` or of an ``(X, y)`` pair."""
    if isinstance(split, Samples):
        if split.y is None:
            raise DataValidationError(
                f"The {name} samples have no labels (y); evaluation needs them."
            )
        return split.X, np.asarray(split.y)
    if isinstance(split, (tuple, list)) and len(split) == 2:
        X, y = split
        y = np.asarray(y)
        if len(X) != len(y):
            raise DataValidationError(
                f"The {name} split has {len(X)} rows in X but {len(y)} labels; they must match."
            )
        return X, y
    raise DataValidationError(
        f"The {name} split must be a Samples or an (X, y) pair, got {type(split).__name__}."
    )


def accuracy(model: Any, X: Any, y: Any) -> float:
    """Share of samples whose predicted label equals ``y`` (NaN for no samples)."""
    y = np.asarray(y)
    if len(y) == 0:
        return float("nan")
    return float(np.mean(as_classifier(model).predict(X) == y))


def utility_splits(model: Any, *, forget: Any, retain: Any, test: Any) -> dict[str, float]:
    """UA, RA and TA of ``model`` (see the module docstring for their definitions).

    Parameters
    ----------
    model : classifier
        Anything :func:`~unlearnkit.evaluate.adapters.as_classifier` accepts.
    forget, retain, test : Samples or (X, y)
        The three splits.
    """
    clf = as_classifier(model)
    out = {}
    for key, split, name in (
        ("UA", forget, "forget"),
        ("RA", retain, "retain"),
        ("TA", test, "test"),
    ):
        X, y = as_xy(split, name=name)
        acc = accuracy(clf, X, y)
        out[key] = 1.0 - acc if key == "UA" else acc
    return out


def _distributions(p: Any, q: Any) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    if p.shape != q.shape or p.ndim != 2:
        raise DataValidationError(
            f"Probability arrays must both have shape (n_samples, n_classes); got {p.shape} "
            f"and {q.shape}."
        )
    if np.any(p < 0) or np.any(q < 0) or not (np.isfinite(p).all() and np.isfinite(q).all()):
        raise DataValidationError("Probabilities must be finite and non-negative.")
    p = np.clip(p, PROB_FLOOR, None)
    q = np.clip(q, PROB_FLOOR, None)
    return p / p.sum(axis=1, keepdims=True), q / q.sum(axis=1, keepdims=True)


def output_agreement(p: Any, q: Any) -> float:
    """Share of samples on which two models predict the same class.

    ``p`` and ``q`` are probability arrays of shape ``(n, k)`` (compared by arg-max) or label
    arrays of shape ``(n,)``.
    """
    p = np.asarray(p)
    q = np.asarray(q)
    if p.shape != q.shape or p.ndim not in (1, 2):
        raise DataValidationError(
            f"Outputs to compare must have equal shapes, (n,) or (n, k); got {p.shape} and "
            f"{q.shape}."
        )
    if len(p) == 0:
        return float("nan")
    if p.ndim == 2:
        p, q = p.argmax(axis=1), q.argmax(axis=1)
    return float(np.mean(p == q))


def kl_divergence(p: Any, q: Any, *, reduction: str = "mean") -> Any:
    """KL(p || q) in nats per sample, averaged (``reduction="mean"``) or not (``"none"``)."""
    pp, qq = _distributions(p, q)
    per = rel_entr(pp, qq).sum(axis=1)
    return _reduce(np.maximum(per, 0.0), reduction)


def js_divergence(p: Any, q: Any, *, reduction: str = "mean") -> Any:
    """Jensen-Shannon divergence in nats per sample (between 0 and ln 2)."""
    pp, qq = _distributions(p, q)
    m = 0.5 * (pp + qq)
    per = 0.5 * rel_entr(pp, m).sum(axis=1) + 0.5 * rel_entr(qq, m).sum(axis=1)
    return _reduce(np.maximum(per, 0.0), reduction)


def _reduce(per: np.ndarray, reduction: str) -> Any:
    if reduction == "none":
        return per
    if reduction == "mean":
        return float(per.mean()) if len(per) else float("nan")
    raise DataValidationError(f"reduction must be 'mean' or 'none', got {reduction!r}.")


def _named_arrays(model: Any) -> dict[str, np.ndarray]:
    import sys

    torch = sys.modules.get("torch")
    if torch is not None and isinstance(model, torch.nn.Module):
        return {
            k: v.detach().cpu().double().numpy()
            for k, v in model.state_dict().items()
            if v.is_floating_point()
        }
    if isinstance(model, Mapping):
        return {str(k): _as_array(v) for k, v in model.items()}
    if isinstance(model, np.ndarray) or np.isscalar(model):
        return {"": np.asarray(model, dtype=np.float64)}
    if isinstance(model, Sequence) and not isinstance(model, str):
        return {str(i): _as_array(v) for i, v in enumerate(model)}
    raise ModelMismatchError(
        f"Cannot read parameters from {type(model).__name__}; pass torch modules, arrays, "
        "or lists/dicts of arrays."
    )


def _as_array(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().cpu().double().numpy()
    return np.asarray(value, dtype=np.float64)


def parameter_distance(a: Any, b: Any) -> float:
    """Euclidean (L2) distance between all parameters of two models of the same architecture.

    Parameters
    ----------
    a, b : torch.nn.Module, ndarray, or list / dict of arrays
        Torch modules are compared over the floating-point entries of their state dicts.

    Raises
    ------
    ModelMismatchError
        If the parameter names or shapes differ.
    """
    pa, pb = _named_arrays(a), _named_arrays(b)
    if list(pa) != list(pb):
        missing = sorted(set(pa) ^ set(pb))
        raise ModelMismatchError(
            f"The models have different parameters ({preview(missing)} are in one only); "
            "parameter distance needs the same architecture."
        )
    bad = [k for k in pa if pa[k].shape != pb[k].shape]
    if bad:
        k = bad[0]
        raise ModelMismatchError(
            f"Parameter {k!r} has shape {pa[k].shape} in one model and {pb[k].shape} in the "
            "other; parameter distance needs the same architecture."
        )
    total = sum(float(np.sum((pa[k] - pb[k]) ** 2)) for k in pa)
    return float(np.sqrt(total))


def average_gap(
    metrics: Mapping[str, float],
    reference: Mapping[str, float],
    keys: Sequence[str] = DEFAULT_GAP_KEYS,
) -> float:
    """Mean absolute difference to the reference over ``keys``, in percentage points.

    Values are fractions in ``[0, 1]`` (as :func:`utility_splits` and
    :func:`~unlearnkit.evaluate.attacks.mia_efficacy` return them); the gap is multiplied by
    100, as SalUn's "Avg. Gap" is.

    Raises
    ------
    DataValidationError
        If a key is missing from either mapping or a value is not finite.
    """
    keys = list(keys)
    if not keys:
        raise DataValidationError("average_gap needs at least one metric key.")
    missing = [k for k in keys if k not in metrics or k not in reference]
    if missing:
        raise DataValidationError(
            f"Metrics {preview(missing)} are missing from the model's or the reference's "
            "results; compute them for both, or pass keys= with the metrics you have."
        )
    diffs = np.array([float(metrics[k]) - float(reference[k]) for k in keys])
    if not np.isfinite(diffs).all():
        raise DataValidationError(f"average_gap got non-finite values for keys {keys}.")
    return float(100.0 * np.mean(np.abs(diffs)))
