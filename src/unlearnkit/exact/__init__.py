"""Exact unlearners: after ``unlearn`` the model equals a retrain on the retained data."""

from unlearnkit.exact.linear import LinearRegressionUnlearner, RidgeUnlearner

__all__ = ["LinearRegressionUnlearner", "RidgeUnlearner"]
