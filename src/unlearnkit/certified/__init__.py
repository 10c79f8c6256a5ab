"""Certified unlearners: after ``unlearn`` the model is (epsilon, delta)-indistinguishable from
a retrain on the retained data, with the removal budget kept by a :class:`RemovalAccountant`."""

from unlearnkit.certified.accountant import (
    RemovalAccountant,
    gaussian_constant,
    noise_for_budget,
)

# dp and head import torch and Opacus only when a model is fitted or used, so that importing
# this package stays fast and works without the 'deep' extra.
from unlearnkit.certified.dp import (
    DPClassifier,
    DPTrainer,
    DPTrainingReport,
    covered_removals,
    group_privacy,
    mlp,
)
from unlearnkit.certified.head import CertifiedHead, extract_features, public_feature_scale
from unlearnkit.certified.linear import CertifiedLogisticRegression, CertifiedRidge

__all__ = [
    "CertifiedHead",
    "CertifiedLogisticRegression",
    "CertifiedRidge",
    "DPClassifier",
    "DPTrainer",
    "DPTrainingReport",
    "covered_removals",
    "extract_features",
    "group_privacy",
    "mlp",
    "public_feature_scale",
    "RemovalAccountant",
    "gaussian_constant",
    "noise_for_budget",
]
