"""Measure whether a model really forgot.

:func:`audit` answers with a verdict (forgotten / not_forgotten / inconclusive), its reason and
the evidence: utility (UA, RA, TA), fidelity to a retrained reference, membership-inference
attacks from the loss threshold to LiRA, U-LiRA and RMIA, the NeurIPS-2023 forgetting score,
and utility as deletions accumulate. Models are seen through
:func:`~unlearnkit.evaluate.adapters.as_classifier`, so scikit-learn estimators, unlearnkit's
unlearners and PyTorch classifiers are evaluated the same way.
"""

from unlearnkit.evaluate.adapters import ClassifierAdapter, as_classifier
from unlearnkit.evaluate.attacks import (
    AttackResult,
    EfficacyResult,
    loss_threshold_attack,
    mia_efficacy,
    threshold_attack,
)
from unlearnkit.evaluate.audit import ATTACKS, AuditConfig, audit
from unlearnkit.evaluate.errors import ClassMismatchError, InsufficientDataError, ModelMismatchError
from unlearnkit.evaluate.forgetting import ForgettingScore, forgetting_score, per_example_epsilon
from unlearnkit.evaluate.lira import ULiraResult, lira_attack, ulira_attack
from unlearnkit.evaluate.metrics import (
    accuracy,
    average_gap,
    js_divergence,
    kl_divergence,
    output_agreement,
    parameter_distance,
    utility_splits,
)
from unlearnkit.evaluate.report import AuditReport
from unlearnkit.evaluate.rmia import rmia_attack
from unlearnkit.evaluate.shadow import ModelOutputs, ShadowRunner, fit_clone, unlearn_by_position
from unlearnkit.evaluate.symptoms import (
    DeletionCurve,
    backdoor_success_rate,
    deletion_curve,
    fairness_gaps,
)

__all__ = [
    "ATTACKS",
    "AttackResult",
    "AuditConfig",
    "AuditReport",
    "ClassMismatchError",
    "ClassifierAdapter",
    "DeletionCurve",
    "EfficacyResult",
    "ForgettingScore",
    "InsufficientDataError",
    "ModelMismatchError",
    "ModelOutputs",
    "ShadowRunner",
    "ULiraResult",
    "accuracy",
    "as_classifier",
    "audit",
    "average_gap",
    "backdoor_success_rate",
    "deletion_curve",
    "fairness_gaps",
    "fit_clone",
    "forgetting_score",
    "js_divergence",
    "kl_divergence",
    "lira_attack",
    "loss_threshold_attack",
    "mia_efficacy",
    "output_agreement",
    "parameter_distance",
    "per_example_epsilon",
    "rmia_attack",
    "threshold_attack",
    "ulira_attack",
    "unlearn_by_position",
    "utility_splits",
]
