"""Measure whether a model really forgot: utility, fidelity to a retrained reference, and
membership-inference attacks from the loss threshold to LiRA, U-LiRA and RMIA.

Models are seen through :func:`~unlearnkit.evaluate.adapters.as_classifier`, so scikit-learn
estimators, unlearnkit's unlearners and PyTorch classifiers are evaluated the same way.
"""

from unlearnkit.evaluate.adapters import ClassifierAdapter, as_classifier
from unlearnkit.evaluate.attacks import (
    AttackResult,
    EfficacyResult,
    loss_threshold_attack,
    mia_efficacy,
    threshold_attack,
)
from unlearnkit.evaluate.errors import ClassMismatchError, InsufficientDataError, ModelMismatchError
from unlearnkit.evaluate.metrics import (
    accuracy,
    average_gap,
    js_divergence,
    kl_divergence,
    output_agreement,
    parameter_distance,
    utility_splits,
)

__all__ = [
    "AttackResult",
    "ClassMismatchError",
    "ClassifierAdapter",
    "EfficacyResult",
    "InsufficientDataError",
    "ModelMismatchError",
    "accuracy",
    "as_classifier",
    "average_gap",
    "js_divergence",
    "kl_divergence",
    "loss_threshold_attack",
    "mia_efficacy",
    "output_agreement",
    "parameter_distance",
    "threshold_attack",
    "utility_splits",
]
