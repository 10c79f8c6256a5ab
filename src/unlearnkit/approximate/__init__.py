"""Approximate unlearning for deep networks: the established methods, behind one entry point.

For a network trained by stochastic gradient descent there is no cheap exact update, so these
methods steer a copy of the model toward what retraining without the forgotten data would
give; the result carries the guarantee ``approximate`` and its forgetting is measured against
a retrained reference (:mod:`unlearnkit.evaluate`, ``benchmarks/bench_approximate.py``).

=========================  ===========================================  ========================
method                     what it does                                  request kinds
=========================  ===========================================  ========================
``finetune``               fine-tune on the retain set                   items, group, classes,
                                                                         relabel
``neggrad``                gradient ascent on the forget set             items, group, classes
``neggrad_plus``           ascent on forget + descent on retain          items, group, classes
``random_label``           random labels on the forget set               items, group, classes
``boundary``               boundary shrinking (class removal)            classes
``l1_sparse``              prune / l1-regularised fine-tuning            items, group, classes
``scrub``                  teacher-student max/min steps                 items, group, classes
``salun``                  saliency-masked random labels                 items, group, classes
``ssd``                    selective synaptic dampening                  items, group, classes
``bad_teacher``            incompetent-teacher distillation              items, group, classes
``fisher``                 Fisher-shaped noise                           items, group, classes
``influence_first_order``  gradient step along the influence             items, group,
                                                                         relabel, features
``influence_second_order`` Newton step (LiSSA) along the influence       items, group,
                                                                         relabel, features
``erase_repair``           re-initialise layers, distil on retain        items, group, classes
=========================  ===========================================  ========================

Examples
--------
>>> import torch
>>> from torch import nn
>>> from unlearnkit import ForgetRequest, Samples
>>> from unlearnkit.approximate import SCRUBConfig, methods, unlearn
>>> from unlearnkit.approximate.training import TrainConfig, train
>>> X = torch.randn(300, 5).numpy()
>>> data = Samples(X, y=(X[:, 0] > 0).astype(int))
>>> net = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 2))
>>> _ = train(net, data, config=TrainConfig(epochs=3), seed=0, device="cpu")
>>> new, result = unlearn(net, data, ForgetRequest.items(range(30)), method="scrub",
...                       config=SCRUBConfig(epochs=2), seed=0, device="cpu")
>>> result.method, str(result.guarantee), "relabel" in methods.get("scrub").request_kinds
('scrub', 'approximate', False)
"""

try:
    import torch  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ImportError(
        f"unlearnkit.approximate needs PyTorch ({exc}). Install it with "
        "`pip install 'unlearnkit[deep]'`."
    ) from None

from unlearnkit.approximate._registry import ApproximateMethod, methods
from unlearnkit.approximate._run import (
    Budget,
    BudgetTooSmallError,
    MethodRequestError,
    NotAClassifierError,
)
from unlearnkit.approximate.api import Unlearned, model_fingerprint, unlearn
from unlearnkit.approximate.bad_teacher import BadTeacherConfig
from unlearnkit.approximate.boundary import BoundaryConfig
from unlearnkit.approximate.erase_repair import EraseRepairConfig
from unlearnkit.approximate.finetune import FinetuneConfig
from unlearnkit.approximate.fisher import FisherConfig
from unlearnkit.approximate.influence import (
    FirstOrderConfig,
    InfluenceDivergedError,
    SecondOrderConfig,
)
from unlearnkit.approximate.l1_sparse import L1SparseConfig
from unlearnkit.approximate.neggrad import NegGradConfig
from unlearnkit.approximate.neggrad_plus import NegGradPlusConfig
from unlearnkit.approximate.random_label import RandomLabelConfig
from unlearnkit.approximate.salun import SalUnConfig
from unlearnkit.approximate.scrub import SCRUBConfig
from unlearnkit.approximate.ssd import SSDConfig
from unlearnkit.approximate.training import TrainConfig, TrainingReport, train

__all__ = [
    "ApproximateMethod",
    "BadTeacherConfig",
    "BoundaryConfig",
    "Budget",
    "BudgetTooSmallError",
    "EraseRepairConfig",
    "FinetuneConfig",
    "FirstOrderConfig",
    "FisherConfig",
    "InfluenceDivergedError",
    "L1SparseConfig",
    "MethodRequestError",
    "NegGradConfig",
    "NegGradPlusConfig",
    "NotAClassifierError",
    "RandomLabelConfig",
    "SCRUBConfig",
    "SSDConfig",
    "SalUnConfig",
    "SecondOrderConfig",
    "TrainConfig",
    "TrainingReport",
    "Unlearned",
    "methods",
    "model_fingerprint",
    "train",
    "unlearn",
]
