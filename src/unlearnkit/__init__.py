"""unlearnkit: make trained models forget data, with evidence and books.

Three kinds of unlearning share one contract (:class:`unlearnkit.base.Unlearner`): ``exact``
(the model equals a retrain without the data), ``certified`` (indistinguishable up to
epsilon, delta) and ``approximate`` (measured against a retrained reference).
"""

__version__ = "0.1.0"

from unlearnkit.data import Samples
from unlearnkit.guarantees import Guarantee
from unlearnkit.requests import ForgetRequest, Reason

__all__ = ["ForgetRequest", "Guarantee", "Reason", "Samples", "__version__"]
