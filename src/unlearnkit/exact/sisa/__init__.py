"""SISA (sharded, isolated, sliced, aggregated) training: exact unlearning for any model.

Bourtoule et al., "Machine Unlearning", IEEE S&P 2021. See :class:`SISAClassifier`.
"""

from unlearnkit.exact.sisa._checkpoints import CheckpointCorruptedError, CheckpointError
from unlearnkit.exact.sisa.ensemble import (
    NondeterministicModelWarning,
    SISAClassifier,
    SISARegressor,
)
from unlearnkit.exact.sisa.torch_models import MLP, TorchClassifier, TorchRegressor, TorchTraining

__all__ = [
    "MLP",
    "CheckpointCorruptedError",
    "CheckpointError",
    "NondeterministicModelWarning",
    "SISAClassifier",
    "SISARegressor",
    "TorchClassifier",
    "TorchRegressor",
    "TorchTraining",
]
