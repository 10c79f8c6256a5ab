"""Certified unlearners: after ``unlearn`` the model is (epsilon, delta)-indistinguishable from
a retrain on the retained data, with the removal budget kept by a :class:`RemovalAccountant`."""

from unlearnkit.certified.accountant import (
    RemovalAccountant,
    gaussian_constant,
    noise_for_budget,
)
from unlearnkit.certified.linear import CertifiedLogisticRegression, CertifiedRidge

__all__ = [
    "CertifiedLogisticRegression",
    "CertifiedRidge",
    "RemovalAccountant",
    "gaussian_constant",
    "noise_for_budget",
]
