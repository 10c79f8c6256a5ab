"""Approximate unlearning of a PyTorch classifier on Fashion-MNIST, checked against retraining.

A small network is trained on 1,500 Fashion-MNIST images. Then 150 of them are forgotten with
SCRUB, and a whole class ("Sandal") is removed with NegGrad, each time from a copy of the
model; the original is never changed. Each result is compared with a model retrained without
the forgotten images: accuracy on the forgotten images (lower is more forgetting), on the
retained ones and on test images, and the cost as a share of the original training.

Run: ``python examples/approximate_unlearning.py`` (Fashion-MNIST from ``$UNLEARNKIT_DATA``).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from unlearnkit import ForgetRequest
from unlearnkit.approximate import (
    NegGradConfig,
    SCRUBConfig,
    TrainConfig,
    model_fingerprint,
    train,
    unlearn,
)
from unlearnkit.datasets import FASHION_MNIST_CLASSES, load_fashion_mnist
from unlearnkit.evaluate import utility_splits
from unlearnkit.evaluate.adapters import TorchAdapter


def network() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))


def report(name: str, model: nn.Module, data, forget_ids, test) -> None:
    forget = data.select(forget_ids)
    retain = data.drop(forget_ids)
    clf = TorchAdapter(model, classes=np.arange(10))
    u = utility_splits(clf, forget=(forget.X, forget.y), retain=(retain.X, retain.y), test=test)
    print(f"  {name:10s} forget acc {1 - u['UA']:.3f}  retain acc {u['RA']:.3f}  "
          f"test acc {u['TA']:.3f}")  # fmt: skip


def main() -> None:
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    full, test_all = load_fashion_mnist("train"), load_fashion_mnist("test")
    data = full.select(np.sort(rng.choice(full.ids, 1500, replace=False)))
    test_rows = rng.choice(len(test_all), 1000, replace=False)
    recipe = TrainConfig(epochs=8, batch_size=64)
    model = network()
    training = train(model, data, config=recipe, seed=0, device="cpu")
    before = model_fingerprint(model)

    forget_ids = data.ids[rng.choice(len(data), 150, replace=False)]
    new, result = unlearn(model, data, ForgetRequest.items(forget_ids), method="scrub",
                          config=SCRUBConfig(epochs=3), training=training, seed=0,
                          device="cpu")  # fmt: skip
    retrained = network()
    train(retrained, data, config=recipe, seed=0, device="cpu", exclude=forget_ids)
    test = (test_all.X[test_rows], test_all.y[test_rows])
    print(f"SCRUB forgot {len(result.removed_ids)} images in {result.seconds:.2f} s, "
          f"{result.retrained_fraction:.1%} of the training's gradient work "
          f"(guarantee: {result.guarantee})")  # fmt: skip
    for name, m in (("original", model), ("SCRUB", new), ("retrained", retrained)):
        report(name, m, data, forget_ids, test)

    sandal = FASHION_MNIST_CLASSES.index("Sandal")
    gone, result = unlearn(model, data, ForgetRequest.classes([sandal]), method="neggrad",
                           config=NegGradConfig(epochs=5),
                           training=training, seed=0, device="cpu")  # fmt: skip
    keep = test_all.y[test_rows] != sandal
    class_ids = data.ids[data.y == sandal]
    print(
        f"NegGrad removed class {FASHION_MNIST_CLASSES[sandal]!r} "
        f"({len(class_ids)} images) in {result.evidence['gradient_steps']} gradient steps"
    )
    report("NegGrad", gone, data, class_ids, (test_all.X[test_rows][keep],
                                              test_all.y[test_rows][keep]))  # fmt: skip
    assert model_fingerprint(model) == before, "the original model is never modified"
    print("original model unchanged:", model_fingerprint(model) == before)


if __name__ == "__main__":
    main()
