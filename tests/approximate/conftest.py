"""Tiny synthetic task shared by the approximate-unlearning tests."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

from unlearnkit import Samples
from unlearnkit.approximate import TrainConfig, train

torch.set_num_threads(1)

N, D, C = 300, 8, 3


def make_data(seed: int = 0) -> Samples:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, D)).astype(np.float32)
    W = rng.normal(size=(D, C))
    y = (X @ W + 0.3 * rng.normal(size=(N, C))).argmax(axis=1)
    subjects = np.array([f"s{i % 50}" for i in range(N)])
    return Samples(X, y=y, ids=np.arange(1000, 1000 + N), subjects=subjects)


def make_net(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(D, 32), nn.ReLU(), nn.Linear(32, C))


@pytest.fixture(scope="session")
def data() -> Samples:
    return make_data()


@pytest.fixture(scope="session")
def trained(data):
    net = make_net()
    report = train(net, data, config=TrainConfig(epochs=15, batch_size=32), seed=0, device="cpu")
    return net, report


def accuracy(model: nn.Module, X: np.ndarray, y: np.ndarray) -> float:
    model.eval()
    with torch.no_grad():
        pred = model(torch.as_tensor(X, dtype=torch.float32)).argmax(1).numpy()
    return float((pred == y).mean())


@pytest.fixture(scope="session")
def tiny() -> SimpleNamespace:
    """The helpers: make_data(seed), make_net(seed), accuracy(model, X, y), C."""
    return SimpleNamespace(make_data=make_data, make_net=make_net, accuracy=accuracy, C=C)
