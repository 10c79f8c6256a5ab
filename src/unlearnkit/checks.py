"""Public checks that an unlearner keeps the contract, like scikit-learn's ``check_estimator``.

Third-party unlearners can test themselves with these; each raises ``AssertionError`` with
what differed.

Examples
--------
>>> from unlearnkit.checks import check_unlearner
>>> from unlearnkit.exact import RidgeUnlearner
>>> check_unlearner(RidgeUnlearner(alpha=0.5))
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.base import clone, is_classifier

from unlearnkit.base import Unlearner
from unlearnkit.errors import (
    AlreadyForgottenError,
    DataValidationError,
    DuplicateIdError,
    EmptiesClassError,
    InvalidRequestError,
    NotFittedError,
    UnknownIdError,
    UnlearnError,
    UnsupportedRequestError,
)
from unlearnkit.requests import REQUEST_KINDS, ForgetRequest

__all__ = [
    "assert_same_model",
    "check_unlearner",
    "check_unlearning_atomic",
    "check_unlearning_equivalence",
    "check_unlearning_input_validation",
    "make_check_data",
]

_OUTPUTS = ("predict", "predict_proba", "predict_log_proba", "decision_function", "transform")


def make_check_data(
    kind: str, random_state: int = 0, n: int = 80, d: int = 4
) -> tuple[np.ndarray, np.ndarray | None]:
    """Synthetic data suited to a family: ``regression``, ``classification``, ``counts``,
    ``binary``, ``categorical`` or ``clustering``."""
    rng = np.random.default_rng(random_state)
    if kind == "regression":
        X = rng.normal(size=(n, d)) * rng.uniform(0.5, 3, size=d) + rng.normal(size=d)
        return X, X @ rng.normal(size=d) + rng.normal(scale=0.3, size=n)
    labels = np.arange(n) % 3
    rng.shuffle(labels)
    if kind == "classification":
        centers = rng.normal(scale=2.0, size=(3, d))
        return centers[labels] + rng.normal(size=(n, d)), labels
    if kind == "counts":
        rates = rng.uniform(0.5, 4, size=(3, d))
        return rng.poisson(rates[labels]).astype(float), labels
    if kind == "binary":
        probs = rng.uniform(0.1, 0.9, size=(3, d))
        return (rng.uniform(size=(n, d)) < probs[labels]).astype(float), labels
    if kind == "categorical":
        return rng.integers(0, 4, size=(n, d)).astype(float), labels
    if kind == "clustering":
        centers = rng.normal(scale=5.0, size=(3, d))
        return centers[labels] + rng.normal(size=(n, d)), None
    raise ValueError(f"Unknown check data kind {kind!r}.")


def _ids(n: int, rng: np.random.Generator) -> np.ndarray:
    """Non-contiguous, shuffled ids so that id and row position never coincide."""
    return rng.permutation(n).astype(np.int64) * 7 + 1000


def _fit(est: Unlearner, X: np.ndarray, y: np.ndarray | None, ids: Any) -> Unlearner:
    return est.fit(X, y, sample_ids=ids)


def _compare(name: str, a: Any, b: Any, rtol: float, atol: float) -> str | None:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape:
            return f"{name}: shape {a.shape} != {b.shape}"
        if a.dtype.kind in "fc" or b.dtype.kind in "fc":
            if not np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True):
                diff = np.max(np.abs(a.astype(float) - b.astype(float)))
                return f"{name}: max abs difference {diff:.3g} exceeds rtol={rtol}, atol={atol}"
        elif not np.array_equal(a, b):
            return f"{name}: values differ"
        return None
    if isinstance(a, float) or isinstance(b, float):
        if not np.isclose(a, b, rtol=rtol, atol=atol):
            return f"{name}: {a!r} != {b!r}"
        return None
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b):
        for i, (u, v) in enumerate(zip(a, b, strict=True)):
            problem = _compare(f"{name}[{i}]", u, v, rtol, atol)
            if problem:
                return problem
        return None
    if a != b:
        return f"{name}: {a!r} != {b!r}"
    return None


def assert_same_model(
    unlearned: Unlearner,
    retrained: Unlearner,
    X_eval: np.ndarray,
    *,
    rtol: float = 1e-8,
    atol: float = 1e-10,
) -> None:
    """Assert two fitted unlearners have the same learned state and the same outputs."""
    a, b = unlearned._learned_state(), retrained._learned_state()
    problems = []
    if set(a) != set(b):
        problems.append(f"learned attributes differ: {sorted(set(a) ^ set(b))}")
    for key in sorted(set(a) & set(b)):
        problem = _compare(key, a[key], b[key], rtol, atol)
        if problem:
            problems.append(problem)
    problem = _compare(
        "sample_ids_", np.sort(unlearned.sample_ids_), np.sort(retrained.sample_ids_), 0, 0
    )
    if problem:
        problems.append(problem)
    for method in _OUTPUTS:
        if hasattr(retrained, method):
            problem = _compare(
                f"{method}(X)",
                getattr(unlearned, method)(X_eval),
                getattr(retrained, method)(X_eval),
                rtol,
                atol,
            )
            if problem:
                problems.append(problem)
    if problems:
        raise AssertionError(
            f"{type(unlearned).__name__} after unlearn differs from a retrain:\n  "
            + "\n  ".join(problems)
        )


def _forget_set(
    y: np.ndarray | None, ids: np.ndarray, k: int, rng: np.random.Generator
) -> np.ndarray:
    """``k`` random ids whose removal leaves every class at least two samples."""
    if y is None:
        return rng.choice(ids, size=k, replace=False)
    chosen: list[int] = []
    remaining = {lab: int(np.sum(y == lab)) for lab in np.unique(y)}
    for row in rng.permutation(len(ids)):
        if len(chosen) == k:
            break
        if remaining[y[row]] > 2:
            remaining[y[row]] -= 1
            chosen.append(int(ids[row]))
    return np.asarray(chosen)


def check_unlearning_equivalence(
    estimator: Unlearner,
    X: np.ndarray | None = None,
    y: np.ndarray | None = None,
    *,
    n_forget: int | None = None,
    random_state: int = 0,
    rtol: float = 1e-8,
    atol: float = 1e-10,
) -> None:
    """``fit(all).unlearn(F)`` must equal ``fit(all minus F)`` for every supported request kind.

    Checks, as the estimator supports them: one ``items`` request, a second one in sequence,
    a ``group`` request, a ``classes`` request, a ``relabel`` request and a ``features``
    request, each against a fresh fit on the data that remains.
    """
    if X is None:
        X, y = make_check_data(estimator.check_data_kind, random_state)
    rng = np.random.default_rng(random_state)
    n = len(X)
    ids = _ids(n, rng)
    kinds = estimator.supported_requests
    k = n_forget or max(1, n // 10)

    def retrain(keep: np.ndarray, Xr: np.ndarray = X, yr: Any = y) -> Unlearner:
        return _fit(clone(estimator), Xr[keep], None if yr is None else yr[keep], ids[keep])

    model = _fit(clone(estimator), X, y, ids)
    gone = np.zeros(n, dtype=bool)
    for step in range(2):
        labels = y[~gone] if y is not None and is_classifier(estimator) else None
        forget = _forget_set(labels, ids[~gone], k, rng)
        result = model.unlearn(ForgetRequest.items(forget))
        removed = result.removed_ids
        assert len(removed) == len(forget), f"{len(removed)} ids removed, {len(forget)} asked"
        assert set(removed) == set(forget.tolist()), (
            f"result.removed_ids {result.removed_ids} != requested {forget.tolist()}"
        )
        assert result.guarantee == estimator.guarantee
        assert 0.0 <= result.retrained_fraction <= 2.0, result.retrained_fraction
        gone |= np.isin(ids, forget)
        assert_same_model(model, retrain(~gone), X, rtol=rtol, atol=atol)
        if step == 0 and result.fingerprint_before == result.fingerprint_after:
            raise AssertionError("unlearn removed samples but the fingerprint did not change")

    if "group" in kinds:
        model = _fit(clone(estimator), X, y, ids)
        column = "x0"
        threshold = float(np.quantile(X[:, 0], 0.1))
        model.unlearn(ForgetRequest.group(lambda t: (t[column] <= threshold).to_numpy()))
        assert_same_model(model, retrain(X[:, 0] > threshold), X, rtol=rtol, atol=atol)

    if "classes" in kinds and y is not None and is_classifier(estimator):
        model = _fit(clone(estimator), X, y, ids)
        label = np.unique(y)[0]
        model.unlearn(ForgetRequest.classes([label]))
        assert_same_model(model, retrain(y != label), X, rtol=rtol, atol=atol)

    if "relabel" in kinds and y is not None:
        model = _fit(clone(estimator), X, y, ids)
        rows = _forget_set(y if is_classifier(estimator) else None, np.arange(n), k, rng)
        new_y = y.copy()
        if is_classifier(estimator):
            labels = np.unique(y)
            counts = {lab: int(np.sum(y == lab)) for lab in labels}
            for r in rows:  # move to another class while keeping every class non-empty
                target = labels[(np.searchsorted(labels, y[r]) + 1) % len(labels)]
                if counts[y[r]] > 1:
                    counts[y[r]] -= 1
                    counts[target] += 1
                    new_y[r] = target
        else:
            new_y[rows] = y[rows] + rng.normal(scale=3.0, size=len(rows))
        changed = rows[new_y[rows] != y[rows]]
        model.unlearn(
            ForgetRequest.relabel(
                dict(zip(ids[changed].tolist(), new_y[changed].tolist(), strict=True))
            )
        )
        assert_same_model(model, retrain(np.ones(n, dtype=bool), X, new_y), X, rtol=rtol, atol=atol)

    if "features" in kinds and X.shape[1] > 1:
        model = _fit(clone(estimator), X, y, ids)
        model.unlearn(ForgetRequest.features([1]))
        Xd = np.delete(X, 1, axis=1)
        assert_same_model(model, retrain(np.ones(n, dtype=bool), Xd), Xd, rtol=rtol, atol=atol)


def _state_digest(est: Unlearner) -> str:
    return hashlib.sha256(pickle.dumps(est.__dict__, protocol=pickle.HIGHEST_PROTOCOL)).hexdigest()


def _expect(
    est: Unlearner,
    errors: type[Exception] | tuple[type[Exception], ...],
    action: Callable[[], Any],
    what: str,
) -> None:
    before = _state_digest(est)
    try:
        action()
    except errors:
        pass
    except Exception as exc:  # pragma: no cover - reported as a failure
        raise AssertionError(
            f"{what}: raised {type(exc).__name__} ({exc}), expected {errors}"
        ) from exc
    else:
        raise AssertionError(f"{what}: no error was raised")
    if _state_digest(est) != before:
        raise AssertionError(f"{what}: the failed request changed the model")


def check_unlearning_atomic(
    estimator: Unlearner, X: np.ndarray | None = None, y: np.ndarray | None = None
) -> None:
    """A bad request raises a typed :class:`UnlearnError`; the model stays bit-for-bit the same."""
    if X is None:
        X, y = make_check_data(estimator.check_data_kind)
    n = len(X)
    ids = np.arange(n) + 500
    model = _fit(clone(estimator), X, y, ids)
    model.unlearn([int(ids[0])])
    _expect(model, UnknownIdError, lambda: model.unlearn([10**9]), "unknown id")
    _expect(
        model, UnknownIdError, lambda: model.unlearn([int(ids[1]), 10**9]), "known + unknown ids"
    )
    _expect(
        model, AlreadyForgottenError, lambda: model.unlearn([int(ids[0])]), "already forgotten id"
    )
    _expect(
        model, DuplicateIdError, lambda: model.unlearn([int(ids[2]), int(ids[2])]), "duplicate ids"
    )
    _expect(
        model,
        InvalidRequestError,
        lambda: model.unlearn(ids[1:].tolist()),
        "forgetting every sample",
    )
    if "group" in estimator.supported_requests:
        _expect(
            model,
            InvalidRequestError,
            lambda: model.unlearn(ForgetRequest.group({"no_such_column": 1})),
            "group on a missing column",
        )
    for kind in sorted(set(REQUEST_KINDS) - set(estimator.supported_requests)):
        request = {
            "items": lambda: ForgetRequest.items([int(ids[1])]),
            "group": lambda: ForgetRequest.group({"x0": 0.0}),
            "classes": lambda: ForgetRequest.classes([0]),
            "features": lambda: ForgetRequest.features([0]),
            "relabel": lambda: ForgetRequest.relabel({int(ids[1]): 0}),
        }[kind]()
        _expect(
            model,
            UnsupportedRequestError,
            lambda r=request: model.unlearn(r),  # type: ignore[misc]
            f"unsupported {kind!r}",
        )
    if "features" in estimator.supported_requests:
        _expect(
            model,
            InvalidRequestError,
            lambda: model.unlearn(ForgetRequest.features([99])),
            "unknown feature",
        )
        _expect(
            model,
            InvalidRequestError,
            lambda: model.unlearn(ForgetRequest.features(list(range(X.shape[1])))),
            "removing every feature",
        )
    if y is not None and is_classifier(estimator):
        label = y[1]
        rows = [int(i) for i, lab in zip(ids[1:], y[1:], strict=True) if lab == label]
        _expect(model, EmptiesClassError, lambda: model.unlearn(rows), "emptying a class by items")
        if "relabel" in estimator.supported_requests:
            _expect(
                model,
                InvalidRequestError,
                lambda: model.unlearn(ForgetRequest.relabel({int(ids[1]): "no-such-class"})),
                "relabel to an unknown class",
            )
        if "classes" in estimator.supported_requests:
            _expect(
                model,
                InvalidRequestError,
                lambda: model.unlearn(ForgetRequest.classes([-12345])),
                "unknown class",
            )


def _raises(
    errors: type[Exception] | tuple[type[Exception], ...], action: Callable[[], Any], what: str
) -> None:
    try:
        action()
    except errors:
        return
    except Exception as exc:
        raise AssertionError(
            f"{what}: raised {type(exc).__name__} ({exc}), expected {errors}"
        ) from exc
    raise AssertionError(f"{what}: no error was raised")


def check_unlearning_input_validation(
    estimator: Unlearner, X: np.ndarray | None = None, y: np.ndarray | None = None
) -> None:
    """Malformed input raises a typed error: unfitted use, NaN/inf, shapes, ids."""
    if X is None:
        X, y = make_check_data(estimator.check_data_kind)
    n = len(X)
    fresh = clone(estimator)
    _raises(NotFittedError, lambda: fresh.unlearn([0]), "unlearn before fit")
    for bad_value in (np.nan, np.inf):
        Xb = X.copy()
        Xb[3, 0] = bad_value
        _raises(
            DataValidationError,
            lambda Xb=Xb: clone(estimator).fit(Xb, y),  # type: ignore[misc]
            f"X containing {bad_value}",
        )
    _raises(DataValidationError, lambda: clone(estimator).fit(X[:, 0], y), "1-D X")
    _raises(
        DuplicateIdError,
        lambda: clone(estimator).fit(X, y, sample_ids=[0] * n),
        "duplicate sample_ids",
    )
    _raises(
        DataValidationError,
        lambda: clone(estimator).fit(X, y, sample_ids=np.arange(n - 1)),
        "too few sample_ids",
    )
    if y is not None:
        _raises(DataValidationError, lambda: clone(estimator).fit(X, y[:-1]), "y shorter than X")
    model = _fit(clone(estimator), X, y, None)
    predict = getattr(model, "predict", None) or model.transform
    _raises(DataValidationError, lambda: predict(X[:, :-1]), "predict with missing columns")
    Xb = X[:5].copy()
    Xb[0, 0] = np.nan
    _raises(DataValidationError, lambda: predict(Xb), "predict on NaN")
    _raises(UnlearnError, lambda: model.unlearn("abc"), "a string instead of a list of ids")


def check_unlearner(estimator: Unlearner, X: Any = None, y: Any = None) -> None:
    """Run every check; exact unlearners must also pass :func:`check_unlearning_equivalence`."""
    if estimator.guarantee.kind == "exact":
        check_unlearning_equivalence(estimator, X, y)
    check_unlearning_atomic(estimator, X, y)
    check_unlearning_input_validation(estimator, X, y)
