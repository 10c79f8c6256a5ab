"""Other symptoms a user checks after unlearning: backdoors, fairness, and utility decay.

* :func:`backdoor_success_rate`: the share of triggered inputs sent to the attacker's label;
  after unlearning the poisoned samples it should fall to what a clean model gives.
* :func:`fairness_gaps`: demographic-parity and equalised-odds differences between groups.
* :func:`deletion_curve`: accuracy as sequential deletion requests accumulate (the symptom of
  "catastrophic unlearning"), with a retrained reference at each point when asked.

Examples
--------
>>> import numpy as np
>>> from sklearn.linear_model import LogisticRegression
>>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array([0, 0, 1, 1])
>>> model = LogisticRegression().fit(X, y)
>>> gaps = fairness_gaps(model, X, y, groups=["a", "a", "b", "b"])
>>> gaps["demographic_parity_difference"]
1.0
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import clone

from unlearnkit.data import Samples
from unlearnkit.errors import DataValidationError, InvalidParameterError, preview
from unlearnkit.evaluate.adapters import as_classifier
from unlearnkit.evaluate.metrics import accuracy, as_xy

__all__ = ["DeletionCurve", "backdoor_success_rate", "deletion_curve", "fairness_gaps"]


def backdoor_success_rate(
    model: Any, X_triggered: Any, target_label: Any, y_true: Any = None
) -> float:
    """Share of triggered inputs the model assigns to ``target_label``.

    Parameters
    ----------
    model : classifier
    X_triggered : array-like
        Inputs carrying the trigger.
    target_label : label
        The class the attacker wants.
    y_true : array-like, optional
        The inputs' real labels; those already of the target class are left out, as usual.
    """
    clf = as_classifier(model)
    if target_label not in set(clf.classes_.tolist()):
        raise DataValidationError(
            f"target_label {target_label!r} is not a class of the model; it knows "
            f"{preview(clf.classes_.tolist(), 12)}."
        )
    pred = clf.predict(X_triggered)
    if y_true is not None:
        keep = np.asarray(y_true) != target_label
        pred = pred[keep]
    if len(pred) == 0:
        raise DataValidationError("No triggered input outside the target class to measure on.")
    return float(np.mean(pred == target_label))


def fairness_gaps(
    model: Any, X: Any, y: Any, groups: Any, *, pos_label: Any = None
) -> dict[str, Any]:
    """Demographic-parity and equalised-odds differences of a binary classifier.

    Parameters
    ----------
    model : classifier
    X, y : array-like
        Evaluation data and true labels.
    groups : array-like
        The sensitive attribute of each row.
    pos_label : label, optional
        The favourable outcome; the model's last class by default.

    Returns
    -------
    dict
        ``demographic_parity_difference`` (largest minus smallest positive rate over groups),
        ``equalized_odds_difference`` (the larger of the TPR and FPR spreads) and
        ``selection_rate`` / ``tpr`` / ``fpr`` by group.
    """
    clf = as_classifier(model)
    y = np.asarray(y)
    g = np.asarray(groups, dtype=object)
    if len(g) != len(y):
        raise DataValidationError(
            f"groups has {len(g)} entries but y has {len(y)}; they must match."
        )
    pos = clf.classes_[-1] if pos_label is None else pos_label
    if pos not in set(clf.classes_.tolist()):
        raise DataValidationError(f"pos_label {pos!r} is not a class of the model.")
    hit = clf.predict(X) == pos
    truth = y == pos
    names = sorted(set(g.tolist()), key=repr)
    if len(names) < 2:
        raise DataValidationError(f"Fairness gaps need at least two groups; got {names}.")
    sel, tpr, fpr = {}, {}, {}
    for name in names:
        m = g == name
        sel[name] = float(hit[m].mean())
        tpr[name] = float(hit[m & truth].mean()) if (m & truth).any() else float("nan")
        fpr[name] = float(hit[m & ~truth].mean()) if (m & ~truth).any() else float("nan")

    def spread(values: dict[Any, float]) -> float:
        v = np.array([x for x in values.values() if not np.isnan(x)])
        return float(v.max() - v.min()) if len(v) >= 2 else float("nan")

    spreads = [v for v in (spread(tpr), spread(fpr)) if not np.isnan(v)]
    return {
        "demographic_parity_difference": spread(sel),
        "equalized_odds_difference": max(spreads) if spreads else float("nan"),
        "selection_rate": {str(k): v for k, v in sel.items()},
        "tpr": {str(k): v for k, v in tpr.items()},
        "fpr": {str(k): v for k, v in fpr.items()},
    }


@dataclass(frozen=True)
class DeletionCurve:
    """Accuracy after each number of sequential deletions.

    Attributes
    ----------
    n_deleted : ndarray of int
    test_accuracy, retain_accuracy : ndarray
        Of the model after that many deletions.
    reference_test_accuracy : ndarray
        Of a model retrained on the same retained rows (NaN when no reference was asked for).
    seconds : ndarray
        Cumulative time spent unlearning.

    Examples
    --------
    >>> import numpy as np
    >>> from unlearnkit.data import Samples
    >>> from unlearnkit.exact import GaussianNBUnlearner
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(50, 2)); y = (X[:, 0] > 0).astype(int)
    >>> curve = deletion_curve(GaussianNBUnlearner(), Samples(X[:40], y[:40]),
    ...                        (X[40:], y[40:]), checkpoints=(1, 10))
    >>> curve.n_deleted.tolist(), len(curve.rows())
    ([1, 10], 2)
    """

    n_deleted: np.ndarray
    test_accuracy: np.ndarray
    retain_accuracy: np.ndarray
    reference_test_accuracy: np.ndarray
    seconds: np.ndarray

    def rows(self) -> list[dict[str, float]]:
        """One dict per checkpoint."""
        return [
            {
                "n_deleted": int(n),
                "test_accuracy": float(t),
                "retain_accuracy": float(r),
                "reference_test_accuracy": float(ref),
                "seconds": float(s),
            }
            for n, t, r, ref, s in zip(
                self.n_deleted,
                self.test_accuracy,
                self.retain_accuracy,
                self.reference_test_accuracy,
                self.seconds,
                strict=True,
            )
        ]


def deletion_curve(
    unlearner: Any,
    data: Samples,
    test: Any,
    *,
    checkpoints: Sequence[int] = (1, 10, 100, 1000),
    retrain: Callable[[Any, Any], Any] | None = None,
    random_state: int | None = 0,
) -> DeletionCurve:
    """Accuracy of ``unlearner`` as one-sample deletion requests accumulate.

    The unlearner is cloned and fitted on ``data`` (with its sample ids); then random samples
    are forgotten one request at a time, and test and retain accuracy are measured after
    ``checkpoints`` requests.

    Parameters
    ----------
    unlearner : Unlearner
        An (unfitted) unlearnkit unlearner, or any estimator with ``fit(X, y, sample_ids=)``
        and ``unlearn(ids)``.
    data : Samples
        Training data.
    test : Samples or (X, y)
        Held-out data.
    checkpoints : sequence of int
        Numbers of requests after which to measure; those above ``len(data) - 1`` are dropped.
    retrain : callable, optional
        ``retrain(X, y) -> model``: fits a reference on the retained rows at each checkpoint.
    random_state : int or None
        Order of the deletions.
    """
    if not hasattr(unlearner, "unlearn"):
        raise InvalidParameterError(f"{type(unlearner).__name__} has no unlearn method.")
    if data.y is None:
        raise DataValidationError("deletion_curve needs labelled data (Samples with y).")
    marks = sorted({int(c) for c in checkpoints if 0 < int(c) < len(data)})
    if not marks:
        raise InvalidParameterError(
            f"No checkpoint in {list(checkpoints)} is between 1 and {len(data) - 1} "
            "(the number of samples that can be deleted)."
        )
    Xt, yt = as_xy(test, name="test")
    model = clone(unlearner).fit(data.X, data.y, sample_ids=data.ids)
    order = np.random.default_rng(random_state).permutation(len(data))[: marks[-1]]
    ids = data.ids[order]
    out: dict[str, list[float]] = {k: [] for k in ("test", "retain", "ref", "sec")}
    spent = 0.0
    done = 0
    for mark in marks:
        for i in ids[done:mark]:
            start = time.perf_counter()
            model.unlearn([i.item() if hasattr(i, "item") else i])
            spent += time.perf_counter() - start
        done = mark
        kept = data.drop(ids[:mark].tolist())
        out["test"].append(accuracy(model, Xt, yt))
        out["retain"].append(accuracy(model, kept.X, kept.y))
        out["sec"].append(spent)
        if retrain is None:
            out["ref"].append(float("nan"))
        else:
            out["ref"].append(accuracy(retrain(kept.X, kept.y), Xt, yt))
    return DeletionCurve(
        n_deleted=np.array(marks),
        test_accuracy=np.array(out["test"]),
        retain_accuracy=np.array(out["retain"]),
        reference_test_accuracy=np.array(out["ref"]),
        seconds=np.array(out["sec"]),
    )
