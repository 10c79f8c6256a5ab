"""Membership-inference attacks that need only the model under test.

* :func:`threshold_attack` / :func:`loss_threshold_attack`: score each sample by a signal of the
  model's output (low loss, high confidence, low entropy means "member"; Yeom et al. 2018).
* :func:`mia_efficacy`: the classifier attack reported as "MIA-efficacy" by Jia et al. (2023)
  and SalUn (Fan et al. 2024): an RBF support-vector classifier learns to tell retained
  training samples (members) from test samples (non-members) by one output signal, and the
  efficacy is the share of forget samples it calls non-members. Higher efficacy means more
  forgetting; a retrained model's efficacy is the target, not 1.

Stronger attacks that train shadow models live in :mod:`unlearnkit.evaluate.lira` and
:mod:`unlearnkit.evaluate.rmia`; they are re-exported here.

Every attack returns an :class:`~unlearnkit.evaluate.roc.AttackResult` with the AUC of members
against non-members and the TPR at 0.1% and 1% FPR. To ask "did the model forget?", pass the
forget set as members and never-seen data as non-members: an AUC near 0.5 (as for a retrained
reference) means the attack cannot tell them apart.

Examples
--------
>>> import numpy as np
>>> from sklearn.tree import DecisionTreeClassifier
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(200, 5)); y = rng.integers(0, 2, 200)
>>> tree = DecisionTreeClassifier(random_state=0).fit(X[:100], y[:100])
>>> r = loss_threshold_attack(tree, members=(X[:100], y[:100]), nonmembers=(X[100:], y[100:]))
>>> r.auc > 0.7
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from sklearn.svm import SVC

from unlearnkit.errors import InvalidParameterError
from unlearnkit.evaluate.adapters import PROB_FLOOR, as_classifier
from unlearnkit.evaluate.errors import InsufficientDataError
from unlearnkit.evaluate.metrics import as_xy
from unlearnkit.evaluate.roc import AttackResult

__all__ = [
    "SIGNALS",
    "AttackResult",
    "EfficacyResult",
    "loss_threshold_attack",
    "membership_signal",
    "mia_efficacy",
    "threshold_attack",
]

Signal = Literal["loss", "confidence", "entropy", "m_entropy", "correctness"]
#: Output signals an attack can read, each oriented so that higher means "member".
SIGNALS: tuple[str, ...] = ("loss", "confidence", "entropy", "m_entropy", "correctness")


def membership_signal(proba: np.ndarray, label_index: np.ndarray, signal: str) -> np.ndarray:
    """One membership signal per sample from class probabilities, higher meaning "member".

    ``loss`` is the negative cross-entropy, ``confidence`` the probability of the true class,
    ``entropy`` the negative prediction entropy, ``m_entropy`` the negative modified entropy of
    Song & Mittal (2021), ``correctness`` 1 when the prediction is right.
    """
    _check_signal(signal)
    p = np.clip(np.asarray(proba, dtype=np.float64), PROB_FLOOR, 1.0)
    rows = np.arange(len(p))
    true = p[rows, label_index]
    if signal == "loss":
        return np.asarray(np.log(true))
    if signal == "confidence":
        return true
    if signal == "entropy":
        return np.asarray(np.sum(p * np.log(p), axis=1))
    if signal == "correctness":
        return (np.argmax(p, axis=1) == label_index).astype(np.float64)
    # Modified entropy: -(1 - p_y) log p_y - sum_{j != y} p_j log(1 - p_j).
    log_1m = np.log(np.clip(1.0 - p, PROB_FLOOR, 1.0))
    other = np.sum(p * log_1m, axis=1) - true * log_1m[rows, label_index]
    m_ent = -(1.0 - true) * np.log(true) - other
    return np.asarray(-m_ent)


def _check_signal(signal: str) -> None:
    if signal not in SIGNALS:
        raise InvalidParameterError(f"signal must be one of {list(SIGNALS)}, got {signal!r}.")


def _signal_of(model: Any, split: Any, signal: str, name: str) -> np.ndarray:
    clf = as_classifier(model)
    X, y = as_xy(split, name=name)
    if len(y) == 0:
        return np.zeros(0)
    proba = clf.predict_proba(X)
    return membership_signal(proba, clf.label_index(y), signal)


def threshold_attack(
    model: Any, *, members: Any, nonmembers: Any, signal: Signal = "loss"
) -> AttackResult:
    """Threshold attack on one output signal (no shadow models).

    Parameters
    ----------
    model : classifier
        Anything :func:`~unlearnkit.evaluate.adapters.as_classifier` accepts.
    members, nonmembers : Samples or (X, y)
        Samples to score as positives and negatives (to audit forgetting: the forget set and
        held-out data).
    signal : {"loss", "confidence", "entropy", "m_entropy", "correctness"}
    """
    _check_signal(signal)
    m = _signal_of(model, members, signal, "members")
    n = _signal_of(model, nonmembers, signal, "nonmembers")
    return AttackResult.from_scores(f"{signal}-threshold", m, n, details={"signal": signal})


def loss_threshold_attack(model: Any, *, members: Any, nonmembers: Any) -> AttackResult:
    """The LOSS attack (Yeom et al. 2018): a lower loss means "member"."""
    return threshold_attack(model, members=members, nonmembers=nonmembers, signal="loss")


@dataclass(frozen=True, kw_only=True)
class EfficacyResult(AttackResult):
    """:class:`~unlearnkit.evaluate.roc.AttackResult` plus the MIA-efficacy figure.

    Attributes
    ----------
    efficacy : float
        Share of forget samples the attack classifier labels as non-members.

    Examples
    --------
    >>> r = EfficacyResult.from_scores("demo", [0.2, 0.4], [0.1, 0.3], efficacy=0.5)
    >>> r.summary()["efficacy"], r.auc
    (0.5, 0.75)
    """

    efficacy: float

    def _extra_fields(self) -> tuple[str, ...]:
        return ("efficacy",)


def _svc() -> SVC:
    return SVC(C=3.0, gamma="auto", kernel="rbf")


def _features(values: np.ndarray) -> np.ndarray:
    return values.reshape(-1, 1)


def mia_efficacy(
    model: Any,
    *,
    forget: Any,
    retain: Any,
    test: Any,
    signal: Signal = "confidence",
    max_samples: int = 5000,
    min_samples: int = 10,
    random_state: int | None = 0,
) -> EfficacyResult:
    """MIA-efficacy of Jia et al. (2023) and SalUn, with the attack's AUC on forget vs test.

    An ``SVC(C=3, gamma="auto")`` is trained on the chosen signal of a retain subset (members)
    and of the test set (non-members), equal in size (at most ``max_samples`` each). The
    efficacy is the share of forget samples it predicts to be non-members. The AUC of forget
    (positives) against test samples uses the classifier's decision values, with test samples
    scored by a classifier that did not see them (two-fold cross-fitting).

    Parameters
    ----------
    model : classifier
    forget, retain, test : Samples or (X, y)
    signal : {"confidence", "entropy", "m_entropy", "loss", "correctness"}
        The literature's default is the confidence (probability of the true class).
    max_samples : int
        Cap on the size of each side of the attack's training set.
    min_samples : int
        Fewer forget, retain or test samples than this raise :class:`InsufficientDataError`.
    random_state : int or None
        Seeds the choice of the retain subset and the folds.
    """
    _check_signal(signal)
    if min_samples < 4:
        raise InvalidParameterError(f"min_samples must be >= 4, got {min_samples!r}.")
    sig_f = _signal_of(model, forget, signal, "forget")
    sig_r = _signal_of(model, retain, signal, "retain")
    sig_t = _signal_of(model, test, signal, "test")
    sizes = {"forget": len(sig_f), "retain": len(sig_r), "test": len(sig_t)}
    small = {k: v for k, v in sizes.items() if v < min_samples}
    if small:
        raise InsufficientDataError(
            f"MIA-efficacy needs at least {min_samples} samples in each split; got {small}. "
            "Pass more data or lower min_samples."
        )
    rng = np.random.default_rng(random_state)
    n = min(len(sig_t), len(sig_r), int(max_samples))
    tr = sig_r[rng.choice(len(sig_r), n, replace=False)]
    te = sig_t[rng.choice(len(sig_t), n, replace=False)]
    clf = _svc().fit(_features(np.r_[tr, te]), np.r_[np.ones(n), np.zeros(n)])
    efficacy = float(1.0 - clf.predict(_features(sig_f)).mean())

    # Cross-fitted decision values for the AUC of forget vs test.
    folds = rng.permutation(n) % 2
    forget_scores = np.zeros(len(sig_f))
    test_scores = np.zeros(n)
    for k in (0, 1):
        fit_rows = folds != k
        model_k = _svc().fit(
            _features(np.r_[tr[fit_rows], te[fit_rows]]),
            np.r_[np.ones(fit_rows.sum()), np.zeros(fit_rows.sum())],
        )
        test_scores[~fit_rows] = model_k.decision_function(_features(te[~fit_rows]))
        forget_scores += model_k.decision_function(_features(sig_f)) / 2.0
    return EfficacyResult.from_scores(
        f"mia-efficacy ({signal})",
        forget_scores,
        test_scores,
        details={"signal": signal, "attack_train_per_side": n},
        efficacy=efficacy,
    )
