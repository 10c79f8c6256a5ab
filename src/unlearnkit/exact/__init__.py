"""Exact unlearners: after ``unlearn`` the model equals a retrain on the retained data."""

from unlearnkit.exact.linear import LinearRegressionUnlearner, RidgeUnlearner
from unlearnkit.exact.naive_bayes import (
    BernoulliNBUnlearner,
    CategoricalNBUnlearner,
    GaussianNBUnlearner,
    MultinomialNBUnlearner,
)

__all__ = [
    "BernoulliNBUnlearner",
    "CategoricalNBUnlearner",
    "GaussianNBUnlearner",
    "LinearRegressionUnlearner",
    "MultinomialNBUnlearner",
    "RidgeUnlearner",
]
