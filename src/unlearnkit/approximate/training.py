"""Train a PyTorch classifier on data with sample ids, and count the work it took.

The approximate methods report their cost against the original training's; :func:`train`
trains a model (or retrains one without the forgotten samples, the reference every approximate
method is measured against) and returns a :class:`TrainingReport` with the steps taken.

Examples
--------
>>> import torch
>>> from torch import nn
>>> from unlearnkit import Samples
>>> from unlearnkit.approximate.training import TrainConfig, train
>>> X = torch.randn(200, 4).numpy()
>>> data = Samples(X, y=(X[:, 0] > 0).astype(int))
>>> net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
>>> report = train(net, data, config=TrainConfig(epochs=2, batch_size=50), seed=0, device="cpu")
>>> report.steps, report.sample_gradients
(8, 400)
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from rich.progress import Progress
from torch import nn
from torch.nn import functional as nnf

from unlearnkit.approximate._data import IndexedData, as_indexed
from unlearnkit.approximate._run import check_positive
from unlearnkit.errors import InvalidParameterError, InvalidRequestError

__all__ = ["TrainConfig", "TrainingReport", "resolve_device", "train"]


@dataclass(frozen=True)
class TrainConfig:
    """Mini-batch SGD with momentum and cosine learning-rate decay.

    Parameters
    ----------
    epochs : int
        Passes over the training data.
    lr : float
        Initial learning rate.
    momentum : float
        SGD momentum.
    weight_decay : float
        L2 penalty.
    batch_size : int, optional
        Defaults to the data's batch size (that of a DataLoader, else 64).
    """

    epochs: int = 10
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 5e-4
    batch_size: int | None = None

    def __post_init__(self) -> None:
        check_positive(self, "epochs", self.epochs, integer=True)
        check_positive(self, "lr", self.lr)
        if not 0 <= self.momentum < 1:
            raise InvalidParameterError(
                f"TrainConfig.momentum must be in [0, 1), got {self.momentum!r}."
            )
        if self.weight_decay < 0:
            raise InvalidParameterError(
                f"TrainConfig.weight_decay must be >= 0, got {self.weight_decay!r}."
            )
        if self.batch_size is not None:
            check_positive(self, "batch_size", self.batch_size, integer=True)


@dataclass(frozen=True)
class TrainingReport:
    """The work one training took.

    Attributes
    ----------
    steps : int
        Optimiser steps (one backward pass over a mini-batch each).
    sample_gradients : int
        Per-sample gradient evaluations (the sum of the batch sizes).
    seconds : float
        Wall-clock time.
    epochs : int
        Passes over the data.
    batch_size : int
        The mini-batch size.
    """

    steps: int
    sample_gradients: int
    seconds: float
    epochs: int
    batch_size: int


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``device``, or CUDA when it is available and ``device`` is None, else the CPU."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(device)
    except (RuntimeError, TypeError):
        raise InvalidParameterError(
            f"device={device!r} is not a torch device; use 'cpu', 'cuda' or 'cuda:0'."
        ) from None


def train(
    model: nn.Module,
    data: Any,
    *,
    config: TrainConfig | None = None,
    seed: int = 0,
    device: str | torch.device | None = None,
    exclude: Iterable[Any] = (),
    relabel: Mapping[Any, int] | None = None,
    progress: bool = False,
) -> TrainingReport:
    """Train ``model`` in place with cross-entropy on ``data`` and return what it took.

    Parameters
    ----------
    model : nn.Module
        A classifier returning one logit per class; moved to ``device``.
    data : Samples, Dataset of ``(x, y, sample_id)`` or DataLoader over one
        The training data.
    config : TrainConfig, optional
        The recipe; the defaults when omitted.
    seed : int
        Seeds the initial shuffle order and every random choice of training.
    device : str or torch.device, optional
        Defaults to CUDA when available, else the CPU.
    exclude : iterable of sample ids
        Rows left out (retraining without a forget set).
    relabel : mapping, optional
        ``{sample id: label}`` used instead of the data's labels.
    progress : bool
        Show a progress bar.
    """
    cfg = config or TrainConfig()
    dev = resolve_device(device)
    indexed: IndexedData = as_indexed(data, cfg.batch_size)
    batch_size = cfg.batch_size or indexed.batch_size
    keep = np.ones(len(indexed), dtype=bool)
    excluded = list(exclude)
    if excluded:
        keep[indexed.rows_of(excluded)] = False
    rows = np.flatnonzero(keep)
    if len(rows) == 0:
        raise InvalidRequestError("Every training sample is excluded; nothing is left to train on.")
    labels = indexed.labels.copy()
    if relabel:
        labels[indexed.rows_of(list(relabel))] = np.asarray(list(relabel.values()), dtype=np.int64)
    model.to(dev).train()
    optimizer = torch.optim.SGD(
        model.parameters(), lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay
    )
    per_epoch = -(-len(rows) // batch_size)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=cfg.epochs * per_epoch)
    generator = torch.Generator().manual_seed(seed)
    steps = samples = 0
    start = time.perf_counter()
    with torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else []):
        torch.manual_seed(seed)
        with Progress(disable=not progress, transient=True) as bar:
            task = bar.add_task("training", total=cfg.epochs * per_epoch)
            for _ in range(cfg.epochs):
                order = rows[torch.randperm(len(rows), generator=generator).numpy()]
                for begin in range(0, len(order), batch_size):
                    batch = order[begin : begin + batch_size]
                    x = indexed.inputs(batch).to(dev)
                    y = torch.as_tensor(labels[batch], device=dev)
                    optimizer.zero_grad(set_to_none=True)
                    nnf.cross_entropy(model(x), y).backward()
                    optimizer.step()
                    scheduler.step()
                    steps += 1
                    samples += len(batch)
                    bar.advance(task)
    model.eval()
    return TrainingReport(
        steps=steps,
        sample_gradients=samples,
        seconds=time.perf_counter() - start,
        epochs=cfg.epochs,
        batch_size=batch_size,
    )
