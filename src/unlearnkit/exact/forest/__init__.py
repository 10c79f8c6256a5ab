"""Random forests with fast exact deletion (DaRE, Brophy and Lowd, ICML 2021)."""

from unlearnkit.exact.forest.forest import DaREForestClassifier, DaREForestRegressor, DaRETree

__all__ = ["DaREForestClassifier", "DaREForestRegressor", "DaRETree"]
