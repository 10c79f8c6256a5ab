"""``audit``: did a model really forget? One call, one verdict, with the evidence.

The question every attack answers is the same: *can it tell the forget set from data the model
never saw, better than it can for a model retrained without the forget set?* Each attack is run
twice, on the unlearned model and on the retrained reference, with the forget set as positives
and held-out data as negatives, and the two AUCs are compared:

* ``not_forgotten`` when some attack's AUC on the unlearned model exceeds the reference's by at
  least ``margin`` and the excess is significant (one-sided z-test, Bonferroni over attacks);
* ``forgotten`` when every attack's AUC difference lies within ``+-margin`` with the same
  confidence (two one-sided tests) and U-LiRA, when run, cannot tell the method from retraining;
* ``inconclusive`` otherwise, with the reason: too few samples (intervals too wide), a reference
  that itself separates the forget set (trained on it, or a forget set unlike the test data),
  or disagreeing attacks.

Without a reference (no ``reference``, ``retrain`` or cloneable model), AUCs are compared with
0.5, which assumes that the forget set and the test set come from the same distribution.

Examples
--------
>>> import numpy as np
>>> from unlearnkit.data import Samples
>>> from unlearnkit.exact import GaussianNBUnlearner
>>> from unlearnkit.evaluate import audit
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(600, 4)); y = (X[:, 0] + rng.normal(size=600) > 0).astype(int)
>>> data, test = Samples(X[:400], y[:400]), Samples(X[400:], y[400:])
>>> model = GaussianNBUnlearner().fit(data.X, data.y, sample_ids=data.ids)
>>> _ = model.unlearn(list(range(100)))
>>> report = audit(model, data=data, forget_ids=range(100), test=test,
...                attacks=("loss", "mia_efficacy"))
>>> report.verdict
'forgotten'
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm
from sklearn.base import BaseEstimator

from unlearnkit.backends import Backend
from unlearnkit.data import Samples
from unlearnkit.errors import DataValidationError, InvalidParameterError, UnlearnError, preview
from unlearnkit.evaluate.adapters import as_classifier
from unlearnkit.evaluate.attacks import EfficacyResult, loss_threshold_attack, mia_efficacy
from unlearnkit.evaluate.errors import ClassMismatchError, InsufficientDataError, ModelMismatchError
from unlearnkit.evaluate.forgetting import forgetting_score
from unlearnkit.evaluate.lira import lira_attack, ulira_attack
from unlearnkit.evaluate.metrics import (
    DEFAULT_GAP_KEYS,
    average_gap,
    js_divergence,
    kl_divergence,
    output_agreement,
    parameter_distance,
    utility_splits,
)
from unlearnkit.evaluate.report import AuditReport
from unlearnkit.evaluate.rmia import rmia_attack
from unlearnkit.evaluate.roc import AttackResult, bootstrap_aucs
from unlearnkit.evaluate.shadow import ShadowRunner, UnlearnFn, fit_clone, unlearn_by_position
from unlearnkit.evaluate.symptoms import backdoor_success_rate, deletion_curve, fairness_gaps

__all__ = ["ATTACKS", "AuditConfig", "audit"]

#: Checks ``audit`` can run. ``deletions`` is opt-in (it needs an unlearnkit unlearner).
ATTACKS: tuple[str, ...] = (
    "loss",
    "mia_efficacy",
    "lira",
    "rmia",
    "ulira",
    "neurips",
    "deletions",
)
DEFAULT_ATTACKS: tuple[str, ...] = ATTACKS[:-1]


@dataclass(frozen=True)
class AuditConfig:
    """Thresholds of the verdict.

    Parameters
    ----------
    margin : float
        AUC difference to the reference that counts as a real difference (and within which two
        AUCs count as equivalent).
    alpha : float
        Family-wise error level of the verdict's tests.
    min_forget, min_test : int
        Fewer forget or held-out samples than this give an ``inconclusive`` verdict.
    n_pairs : int
        Unlearned/retrained pairs for U-LiRA.
    n_models : int, optional
        Models per side for the NeurIPS score (default ``n_pairs``). With ``N`` models its
        per-example epsilon cannot exceed about ``log(N / 3)`` (the competition used 512).
    n_bootstrap : int
        Resamples of the paired bootstrap of AUC differences.

    Examples
    --------
    >>> AuditConfig(margin=0.03).min_forget
    20
    """

    margin: float = 0.05
    alpha: float = 0.05
    min_forget: int = 20
    min_test: int = 20
    n_pairs: int = 8
    n_models: int | None = None
    n_bootstrap: int = 400

    def __post_init__(self) -> None:
        if not 0 < self.margin < 0.5:
            raise InvalidParameterError(f"margin must lie in (0, 0.5), got {self.margin!r}.")
        if not 0 < self.alpha < 1:
            raise InvalidParameterError(f"alpha must lie in (0, 1), got {self.alpha!r}.")
        if self.min_forget < 2 or self.min_test < 2:
            raise InvalidParameterError("min_forget and min_test must be at least 2.")
        if self.n_bootstrap < 50:
            raise InvalidParameterError(
                f"n_bootstrap must be at least 50, got {self.n_bootstrap!r}."
            )
        if self.n_models is not None and self.n_models < 2:
            raise InvalidParameterError(f"n_models must be at least 2, got {self.n_models!r}.")
        if self.n_pairs < 3:
            raise InvalidParameterError(f"n_pairs must be at least 3, got {self.n_pairs!r}.")


def _concat(a: Any, b: Any) -> Any:
    if isinstance(a, pd.DataFrame) or isinstance(b, pd.DataFrame):
        if not (isinstance(a, pd.DataFrame) and isinstance(b, pd.DataFrame)):
            raise DataValidationError("data and test must both be DataFrames or both arrays.")
        if list(a.columns) != list(b.columns):
            raise DataValidationError(
                f"data and test have different columns: {preview(a.columns)} vs "
                f"{preview(b.columns)}."
            )
        return pd.concat([a, b], ignore_index=True)
    a, b = np.asarray(a), np.asarray(b)
    if a.shape[1:] != b.shape[1:]:
        raise DataValidationError(
            f"data and test have different feature shapes: {a.shape[1:]} vs {b.shape[1:]}."
        )
    return np.concatenate([a, b])


def _se(result: AttackResult) -> float:
    lo, hi = result.auc_ci
    return max((hi - lo) / (2 * 1.959963984540054), 1e-9)


def _compare(
    name: str, u: AttackResult, r: AttackResult | None, rng: np.random.Generator, n_boot: int
) -> dict[str, Any]:
    """AUC difference to the reference, with a paired bootstrap standard error.

    Both attacks score the same samples, so their AUCs are correlated; resampling the samples
    jointly measures the spread of the difference itself (zero for identical models).
    """
    if r is None:
        base, se = 0.5, _se(u)
    else:
        base = r.auc
        pos = rng.integers(0, u.n_members, (n_boot, u.n_members))
        neg = rng.integers(0, u.n_nonmembers, (n_boot, u.n_nonmembers))
        diff = bootstrap_aucs(u.member_scores, u.nonmember_scores, pos, neg) - bootstrap_aucs(
            r.member_scores, r.nonmember_scores, pos, neg
        )
        se = max(float(diff.std(ddof=1)), 1e-9)
    return {
        "attack": name,
        "auc_unlearned": u.auc,
        "auc_reference": base,
        "difference": u.auc - base,
        "se": se,
    }


def _verdict(
    rows: list[dict[str, Any]],
    ulira: AttackResult | None,
    cfg: AuditConfig,
) -> tuple[str, str, float]:
    tests = list(rows)
    if ulira is not None:
        tests.append(_compare("u-lira", ulira, None, np.random.default_rng(0), 0))
    k = len(tests)
    for row in tests:
        d, se = row["difference"], row["se"]
        row["p_excess"] = float(norm.sf(d / se))
        # Equivalence: both one-sided tests against -margin and +margin.
        row["p_equivalent"] = float(
            max(norm.sf((d + cfg.margin) / se), norm.cdf((d - cfg.margin) / se))
        )
    level = cfg.alpha / k
    excess = [t for t in tests if t["difference"] >= cfg.margin and t["p_excess"] < level]
    if excess:
        worst = min(excess, key=lambda t: t["p_excess"])
        confidence = 1.0 - min(1.0, worst["p_excess"] * k)
        what = (
            "the method's unlearned models from retrained ones on the forget set"
            if worst["attack"] == "u-lira"
            else "the forget set from held-out data"
        )
        against = "chance" if worst["attack"] == "u-lira" else "the reference"
        return (
            "not_forgotten",
            f"The {worst['attack']} attack tells {what} with AUC {worst['auc_unlearned']:.3f}, "
            f"against {worst['auc_reference']:.3f} for {against} (difference "
            f"{worst['difference']:+.3f}, adjusted p = {min(1.0, worst['p_excess'] * k):.2g}).",
            confidence,
        )
    if all(t["p_equivalent"] < level for t in tests):
        p = max(t["p_equivalent"] for t in tests)
        return (
            "forgotten",
            f"All {k} attacks separate the forget set from held-out data as well as they do for "
            f"the reference, within +-{cfg.margin} AUC "
            f"(largest adjusted p = {min(1.0, p * k):.2g}).",
            1.0 - min(1.0, p * k),
        )
    wide = max(tests, key=lambda t: t["se"])
    below = [t for t in tests if t["difference"] <= -cfg.margin and t["p_excess"] > 1 - level]
    if below:
        return (
            "inconclusive",
            f"The {below[0]['attack']} attack finds the forget set *less* member-like than "
            "held-out data (over-unlearning), which itself sets the model apart from a retrained "
            "one.",
            0.0,
        )
    return (
        "inconclusive",
        f"The evidence is too weak either way: the {wide['attack']} AUC difference is "
        f"{wide['difference']:+.3f} +- {1.96 * wide['se']:.3f}. Audit more forget and held-out "
        "samples, or more shadow models.",
        0.0,
    )


def audit(
    unlearned: Any,
    *,
    data: Samples,
    forget_ids: Iterable[Any],
    original: Any = None,
    reference: Any = None,
    retrain: Callable[..., Any] | None = None,
    test: Samples | None = None,
    attacks: Sequence[str] = DEFAULT_ATTACKS,
    n_shadow: int = 16,
    unlearn: UnlearnFn | None = None,
    backend: str | Backend = "local",
    n_jobs: int | None = None,
    cache: Any = None,
    config: AuditConfig | None = None,
    random_state: int = 0,
    sensitive: str | None = None,
    backdoor: tuple[Any, Any] | None = None,
) -> AuditReport:
    """Audit whether ``unlearned`` forgot ``forget_ids``.

    Parameters
    ----------
    unlearned : classifier
        The model under test (scikit-learn estimator, unlearner or PyTorch module).
    data : Samples
        The original training data, with labels and sample ids.
    forget_ids : iterable
        Ids (in ``data``) of the samples the model should have forgotten.
    original : classifier, optional
        The model before unlearning; its utility is reported alongside.
    reference : classifier, optional
        A model retrained without the forget set.
    retrain : callable, optional
        ``retrain(X, y[, random_state=])`` returning a fitted model. Trains the reference when
        none is given, and the shadow models. By default a clone of ``unlearned`` when it is a
        scikit-learn estimator.
    test : Samples, optional
        Held-out data never trained on. Without it only utility is measured.
    attacks : sequence of str
        Which of :data:`ATTACKS` to run.
    n_shadow : int
        Shadow models for LiRA and RMIA (even).
    unlearn : callable, optional
        ``unlearn(model, X, y, forget_positions) -> model``: the method, for U-LiRA and the
        NeurIPS score. Defaults to calling ``unlearn`` on unlearnkit unlearners.
    backend, n_jobs, cache
        Where shadow models train (see :class:`~unlearnkit.evaluate.shadow.ShadowRunner`).
    config : AuditConfig, optional
        Verdict thresholds.
    random_state : int
        Seeds shadow subsets and attack classifiers.
    sensitive : str, optional
        A column of ``test`` (a group column or feature) whose groups the fairness gaps
        (demographic parity, equalised odds) are measured between, for every model given.
    backdoor : (X_triggered, target_label), optional
        Inputs carrying a trigger and the attacker's label: the attack success rate is
        reported for every model given (it should fall to the reference's).

    Raises
    ------
    UnknownIdError
        If a forget id is not in ``data``.
    ClassMismatchError
        If the models disagree on the classes, or the data has labels a model does not know.
    """
    cfg = config or AuditConfig()
    unknown = sorted(set(attacks) - set(ATTACKS))
    if unknown:
        raise InvalidParameterError(f"Unknown attacks {unknown}; choose from {list(ATTACKS)}.")
    if not isinstance(data, Samples) or data.y is None:
        raise DataValidationError("data must be a Samples with labels (y).")
    if test is not None and (not isinstance(test, Samples) or test.y is None):
        raise DataValidationError("test must be a Samples with labels (y).")
    forget_list = list(forget_ids)
    forget_rows = data.rows(forget_list)
    if len(forget_rows) == 0:
        raise DataValidationError("forget_ids is empty; name the samples that were forgotten.")
    keep = np.ones(len(data), dtype=bool)
    keep[forget_rows] = False
    forget = data.select(forget_list)
    retain = data.drop(forget_list)
    notes: list[str] = []

    model = as_classifier(unlearned)
    if retrain is None and isinstance(unlearned, BaseEstimator):
        retrain = fit_clone(unlearned)
        notes.append("Shadow and reference models are clones of the unlearned model's estimator.")
    if reference is None and retrain is not None:
        reference = retrain(retain.X, retain.y)
        notes.append("The reference was retrained on the retained samples.")
    ref = None if reference is None else as_classifier(reference)
    labels = np.unique(np.r_[data.y, test.y] if test is not None else data.y)
    for name, clf in (("unlearned model", model), ("reference", ref)):
        if clf is None:
            continue
        clf.predict_proba(forget.X[:1] if not hasattr(forget.X, "iloc") else forget.X.iloc[:1])
        missing = sorted(set(labels.tolist()) - set(clf.classes_.tolist()), key=repr)
        if missing:
            raise ClassMismatchError(
                f"The {name} does not know labels {preview(missing)} that occur in the data; "
                "evaluate models trained on the same classes as the data."
            )
    if ref is not None and list(ref.classes_) != list(model.classes_):
        raise ClassMismatchError(
            f"The unlearned model has classes {preview(model.classes_.tolist(), 12)} but the "
            f"reference has {preview(ref.classes_.tolist(), 12)}; they must match."
        )

    metrics: dict[str, float] = {}
    per_sample: dict[str, dict[Any, float]] = {}
    forget_keys = [i.item() if hasattr(i, "item") else i for i in forget.ids]

    def keyed(values: np.ndarray) -> dict[Any, float]:
        return {k: float(v) for k, v in zip(forget_keys, values, strict=True)}

    per_sample["loss_unlearned"] = keyed(model.loss(forget.X, forget.y))
    if ref is not None:
        per_sample["loss_reference"] = keyed(ref.loss(forget.X, forget.y))
    if test is None:
        u = utility_splits(model, forget=forget, retain=retain, test=(retain.X[:0], retain.y[:0]))
        metrics.update({k: v for k, v in u.items() if k != "TA"})
        return AuditReport(
            verdict="inconclusive",
            reason="No held-out data (test) was given, so no attack can compare the forget set "
            "with data the model never saw.",
            confidence=0.0,
            metrics=metrics,
            per_sample=per_sample,
            notes=notes,
        )

    metrics.update(utility_splits(model, forget=forget, retain=retain, test=test))
    if original is not None:
        for k, v in utility_splits(original, forget=forget, retain=retain, test=test).items():
            metrics[f"original.{k}"] = v
    if ref is not None:
        for k, v in utility_splits(ref, forget=forget, retain=retain, test=test).items():
            metrics[f"reference.{k}"] = v
        for split_name, split in (("forget", forget), ("test", test)):
            p, q = model.predict_proba(split.X), ref.predict_proba(split.X)
            metrics[f"agreement.{split_name}"] = output_agreement(p, q)
            metrics[f"kl.{split_name}"] = kl_divergence(p, q)
            metrics[f"js.{split_name}"] = js_divergence(p, q)
        try:
            metrics["parameter_distance"] = parameter_distance(
                _parameters(unlearned), _parameters(reference)
            )
        except ModelMismatchError as err:
            notes.append(f"No parameter distance: {err}")

    small = []
    if len(forget) < cfg.min_forget:
        small.append(f"{len(forget)} forget samples (need {cfg.min_forget})")
    if len(test) < cfg.min_test:
        small.append(f"{len(test)} held-out samples (need {cfg.min_test})")

    results: dict[str, dict[str, AttackResult]] = {}

    seconds: dict[str, float] = {}

    def run_attack(name: str, fn: Callable[[Any], AttackResult]) -> None:
        start = time.perf_counter()
        try:
            results[name] = {"unlearned": fn(unlearned)}
            if reference is not None:
                results[name]["reference"] = fn(reference)
        except InsufficientDataError as err:
            results.pop(name, None)
            notes.append(f"{name} skipped: {err}")
        seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - start

    if "loss" in attacks:
        run_attack("loss", lambda m: loss_threshold_attack(m, members=forget, nonmembers=test))
    if "mia_efficacy" in attacks:
        run_attack(
            "mia_efficacy",
            lambda m: mia_efficacy(
                m,
                forget=forget,
                retain=retain,
                test=test,
                random_state=random_state,
                min_samples=min(10, cfg.min_forget),
            ),
        )
        if "mia_efficacy" in results:
            sides = results["mia_efficacy"]
            for side, res in sides.items():
                if isinstance(res, EfficacyResult):
                    key = "MIA-efficacy" if side == "unlearned" else f"{side}.MIA-efficacy"
                    metrics[key] = res.efficacy

    pool_X = _concat(data.X, test.X)
    pool_y = np.r_[data.y, test.y]
    n_data = len(data)
    test_rows = np.arange(n_data, n_data + len(test))
    retain_rows = np.flatnonzero(keep)
    shadow_attacks = {"lira", "rmia"} & set(attacks)
    pair_attacks = {"ulira", "neurips"} & set(attacks)
    if (shadow_attacks or pair_attacks) and retrain is None:
        notes.append(
            f"{sorted(shadow_attacks | pair_attacks)} skipped: they train models; pass retrain=."
        )
        shadow_attacks, pair_attacks = set(), set()
    if unlearn is None and pair_attacks:
        if hasattr(unlearned, "unlearn"):
            unlearn = unlearn_by_position
        else:
            notes.append(f"{sorted(pair_attacks)} skipped: they need the method; pass unlearn=.")
            pair_attacks = set()
    runner = None
    if (shadow_attacks or pair_attacks) and retrain is not None:
        runner = ShadowRunner(
            retrain, pool_X, pool_y, unlearn=unlearn, backend=backend, n_jobs=n_jobs, cache=cache
        )
    if shadow_attacks and runner is not None:
        try:
            start = time.perf_counter()
            shadows = runner.train_random_halves(n_shadow, seed=random_state)
            seconds["shadow_training"] = time.perf_counter() - start
        except InsufficientDataError as err:
            notes.append(f"LiRA/RMIA skipped: {err}")
        else:
            common = {"X": pool_X, "y": pool_y, "shadows": shadows}
            if "lira" in shadow_attacks:
                for online in (True, False):
                    run_attack(
                        "lira-online" if online else "lira-offline",
                        partial(
                            _lira,
                            members=forget_rows,
                            nonmembers=test_rows,
                            online=online,
                            **common,
                        ),
                    )
                if "lira-online" in results:
                    per_sample["lira_online"] = keyed(
                        results["lira-online"]["unlearned"].member_scores
                    )
            if "rmia" in shadow_attacks:
                run_attack(
                    "rmia",
                    lambda m: rmia_attack(m, members=forget_rows, nonmembers=test_rows, **common),
                )
                if "rmia" in results:
                    per_sample["rmia"] = keyed(results["rmia"]["unlearned"].member_scores)

    ulira = None
    forgetting = None
    if "ulira" in pair_attacks and runner is not None:
        try:
            start = time.perf_counter()
            u_out, r_out = runner.train_pairs(
                cfg.n_pairs, forget=forget_rows, rows=retain_rows, seed=random_state + 1
            )
            ulira = ulira_attack(
                y=pool_y,
                unlearned=u_out,
                retrained=r_out,
                forget=forget_rows,
                model=unlearned,
                X=pool_X,
            )
        except (InsufficientDataError, UnlearnError) as err:
            notes.append(f"U-LiRA skipped: {err}")
        else:
            seconds["u-lira"] = time.perf_counter() - start
            results["u-lira"] = {"method vs retrain": ulira}
            metrics["u-lira.auc"] = ulira.auc
            metrics["u-lira.accuracy"] = ulira.accuracy
            target = ulira.target_scores
            if target is not None:
                per_sample["ulira"] = keyed(target)
    if "neurips" in pair_attacks and runner is not None:
        try:
            start = time.perf_counter()
            u_out, r_out = runner.train_pairs(
                cfg.n_models or cfg.n_pairs,
                forget=forget_rows,
                rows=retain_rows,
                seed=random_state + 2,
                subsample=False,
            )
            forgetting = forgetting_score(
                y=pool_y,
                unlearned=u_out,
                retrained=r_out,
                forget=forget_rows,
                retain=retain_rows,
                test=test_rows,
            )
        except (InsufficientDataError, UnlearnError) as err:
            notes.append(f"NeurIPS score skipped: {err}")
        else:
            seconds["neurips"] = time.perf_counter() - start
            metrics["neurips.score"] = forgetting.score
            metrics["neurips.forgetting_quality"] = forgetting.forgetting_quality
            per_sample["epsilon"] = keyed(forgetting.epsilon)

    models = {"": unlearned, "original.": original, "reference.": reference}
    for prefix, candidate in models.items():
        if candidate is None:
            continue
        if backdoor is not None:
            triggered, target_label = backdoor
            metrics[f"{prefix}backdoor_success"] = backdoor_success_rate(
                candidate, triggered, target_label
            )
        if sensitive is not None:
            groups = test.column(sensitive)
            if groups is None:
                raise DataValidationError(
                    f"sensitive={sensitive!r} is not a column of the test samples; they have "
                    f"{preview(test.column_names(), 12)}."
                )
            gaps = fairness_gaps(candidate, test.X, test.y, groups)
            metrics[f"{prefix}demographic_parity_difference"] = gaps[
                "demographic_parity_difference"
            ]
            metrics[f"{prefix}equalized_odds_difference"] = gaps["equalized_odds_difference"]

    deletions = None
    if "deletions" in attacks:
        if hasattr(unlearned, "unlearn") and isinstance(unlearned, BaseEstimator):
            start = time.perf_counter()
            deletions = deletion_curve(
                unlearned, data, test, retrain=retrain, random_state=random_state
            )
            seconds["deletions"] = time.perf_counter() - start
        else:
            notes.append("deletions skipped: it needs an unlearnkit unlearner.")

    for name, sides in results.items():
        for side, res in sides.items():
            prefix = name if side in ("unlearned", "method vs retrain") else f"{side}.{name}"
            metrics[f"{prefix}.auc"] = res.auc
            metrics[f"{prefix}.tpr@0.1%"] = res.tpr_at_0_1pct
            metrics[f"{prefix}.tpr@1%"] = res.tpr_at_1pct
    if "reference.MIA-efficacy" in metrics:
        metrics["avg_gap"] = average_gap(
            metrics, {k: metrics[f"reference.{k}"] for k in DEFAULT_GAP_KEYS}
        )

    boot_rng = np.random.default_rng(random_state)
    rows = [
        _compare(name, sides["unlearned"], sides.get("reference"), boot_rng, cfg.n_bootstrap)
        for name, sides in results.items()
        if "unlearned" in sides
    ]
    report = AuditReport(
        verdict="inconclusive",
        reason="",
        confidence=0.0,
        metrics=metrics,
        per_sample=per_sample,
        attacks=results,
        forgetting=forgetting,
        deletions=deletions,
        notes=notes,
        seconds=seconds,
    )
    if small:
        report.reason = (
            f"Too little evidence for a verdict: {' and '.join(small)}. Audit a larger forget "
            "set or more held-out data."
        )
        report.evidence = rows
        return report
    if not rows and ulira is None:
        report.reason = "No attack could run; see the notes."
        return report
    leaks = [
        (name, sides["reference"])
        for name, sides in results.items()
        if "reference" in sides and sides["reference"].auc_ci[0] > 0.5 + cfg.margin
    ]
    if leaks:
        name, r_leak = leaks[0]
        report.reason = (
            f"The reference itself separates the forget set from held-out data ({name} AUC "
            f"{r_leak.auc:.3f}, 95% CI from {r_leak.auc_ci[0]:.3f}): it may have been trained "
            "on the forget set, or the forget set differs in distribution from the test data. "
            "Check the reference, or audit with test data like the forget set."
        )
        report.evidence = rows
        return report
    verdict, reason, confidence = _verdict(rows, ulira, cfg)
    report.verdict = verdict  # type: ignore[assignment]
    report.reason = reason
    report.confidence = confidence
    report.evidence = rows
    return report


def _lira(model: Any, **kwargs: Any) -> AttackResult:
    return lira_attack(model, **kwargs)


def _parameters(model: Any) -> Any:
    """What parameter_distance compares: torch modules as they are, else fitted coefficients."""
    import sys

    torch = sys.modules.get("torch")
    if torch is not None and isinstance(model, torch.nn.Module):
        return model
    names = [
        n
        for n in ("coef_", "intercept_", "theta_", "var_", "feature_log_prob_")
        if hasattr(model, n)
    ]
    if not names:
        raise ModelMismatchError(
            f"{type(model).__name__} exposes no parameter arrays (coef_, theta_, ...)."
        )
    return {n: np.asarray(getattr(model, n), dtype=np.float64) for n in names}
