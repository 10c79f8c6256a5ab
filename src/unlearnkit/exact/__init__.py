"""Exact unlearners: after ``unlearn`` the model equals a retrain on the retained data."""

from unlearnkit.exact.forest import DaREForestClassifier, DaREForestRegressor
from unlearnkit.exact.kmeans import KMeansUnlearner
from unlearnkit.exact.linear import LinearRegressionUnlearner, RidgeUnlearner
from unlearnkit.exact.naive_bayes import (
    BernoulliNBUnlearner,
    CategoricalNBUnlearner,
    GaussianNBUnlearner,
    MultinomialNBUnlearner,
)
from unlearnkit.exact.neighbors import (
    KNeighborsClassifierUnlearner,
    KNeighborsRegressorUnlearner,
)
from unlearnkit.exact.sisa import SISAClassifier, SISARegressor

__all__ = [
    "BernoulliNBUnlearner",
    "CategoricalNBUnlearner",
    "DaREForestClassifier",
    "DaREForestRegressor",
    "GaussianNBUnlearner",
    "KMeansUnlearner",
    "KNeighborsClassifierUnlearner",
    "KNeighborsRegressorUnlearner",
    "LinearRegressionUnlearner",
    "MultinomialNBUnlearner",
    "RidgeUnlearner",
    "SISAClassifier",
    "SISARegressor",
]
