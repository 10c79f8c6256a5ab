"""Removing a backdoor by unlearning the poisoned samples that were found (corrective
unlearning, Goel et al. 2024).

2,000 Fashion-MNIST images are used for training; 5 % of those outside class 0 get a small
white square in a corner and the label 0 ("T-shirt/top"), so the trained network sends any
image carrying the square to class 0. Then only part of the poison is identified (25 %, then
all of it) and unlearned with fine-tuning and with selective synaptic dampening (SSD). The
attack success rate (triggered test images of other classes predicted as 0) and the clean test
accuracy are printed before and after.

Run: ``python examples/approximate_backdoor.py`` (Fashion-MNIST from ``$UNLEARNKIT_DATA``).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from unlearnkit import ForgetRequest
from unlearnkit.approximate import TrainConfig, train, unlearn
from unlearnkit.approximate.backdoor import Trigger, poison
from unlearnkit.datasets import load_fashion_mnist
from unlearnkit.evaluate import accuracy
from unlearnkit.evaluate.adapters import TorchAdapter
from unlearnkit.evaluate.symptoms import backdoor_success_rate

TARGET = 0


def main() -> None:
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    full, test = load_fashion_mnist("train"), load_fashion_mnist("test")
    clean = full.select(np.sort(rng.choice(full.ids, 2000, replace=False)))
    rows = rng.choice(len(test), 1000, replace=False)
    X_test, y_test = test.X[rows], test.y[rows]
    trigger = Trigger.patch((28, 28), size=3)
    data, poison_ids = poison(clean, trigger, fraction=0.05, target=TARGET, seed=0)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    training = train(model, data, config=TrainConfig(epochs=8, batch_size=64), seed=0,
                     device="cpu")  # fmt: skip

    def show(name: str, net: nn.Module) -> None:
        clf = TorchAdapter(net, classes=np.arange(10))
        asr = backdoor_success_rate(clf, trigger.apply(X_test), TARGET, y_true=y_test)
        print(f"  {name:28s} attack success {asr:6.1%}   clean test accuracy "
              f"{accuracy(clf, X_test, y_test):6.1%}")  # fmt: skip

    print(f"{len(poison_ids)} poisoned training images")
    show("poisoned model", model)
    for share in (0.25, 1.0):
        found = rng.permutation(poison_ids)[: round(share * len(poison_ids))]
        request = ForgetRequest.items(found, reason="poison")
        print(f"{len(found)} of them identified ({share:.0%}):")
        for method in ("finetune", "ssd"):
            new, result = unlearn(model, data, request, method=method, training=training,
                                  seed=0, device="cpu")  # fmt: skip
            show(f"{method} ({result.retrained_fraction:.0%} of training)", new)


if __name__ == "__main__":
    main()
