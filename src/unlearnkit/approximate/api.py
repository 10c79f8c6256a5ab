"""One entry point for every approximate method: :func:`unlearn`."""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

import numpy as np
import torch
from rich.progress import Progress
from torch import nn

from unlearnkit.approximate._data import as_indexed, resolve
from unlearnkit.approximate._registry import ApproximateMethod, methods
from unlearnkit.approximate._run import (
    Budget,
    MethodRequestError,
    NotAClassifierError,
    UnlearnRun,
    _BudgetReachedError,
)
from unlearnkit.approximate.training import TrainingReport, resolve_device
from unlearnkit.base import UnlearningResult, fingerprint
from unlearnkit.errors import DataValidationError, InvalidParameterError
from unlearnkit.requests import ForgetRequest, as_request

__all__ = ["Unlearned", "model_fingerprint", "unlearn"]


class Unlearned(NamedTuple):
    """What :func:`unlearn` returns: the unlearned copy and the record of what was done."""

    model: nn.Module
    result: UnlearningResult


def model_fingerprint(model: nn.Module) -> str:
    """SHA-256 of a module's parameters and buffers (its ``state_dict``)."""
    return fingerprint({k: v.detach().cpu().numpy() for k, v in model.state_dict().items()})


def _config(info: ApproximateMethod, config: Any) -> Any:
    if config is None:
        return info.config()
    if isinstance(config, Mapping):
        try:
            return info.config(**config)
        except TypeError as exc:
            fields = [f.name for f in dataclasses.fields(info.config)]
            raise InvalidParameterError(
                f"Invalid config for {info.name!r}: {exc}. Its fields are {fields}."
            ) from None
    if not isinstance(config, info.config):
        raise InvalidParameterError(
            f"Method {info.name!r} takes a {info.config.__name__}, got {type(config).__name__}."
        )
    return config


def _n_classes(model: nn.Module, x: torch.Tensor) -> int:
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(x)
    except (RuntimeError, ValueError, TypeError, IndexError) as exc:
        raise DataValidationError(
            f"{type(model).__name__} failed on a training batch of shape {tuple(x.shape)}: "
            f"{exc} Pass the data in the layout the model was trained on."
        ) from None
    finally:
        model.train(was_training)
    if not isinstance(out, torch.Tensor) or out.ndim != 2 or not out.is_floating_point():
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise NotAClassifierError(
            f"{type(model).__name__} returned {shape} for a batch of {len(x)} inputs; a "
            "classifier must return a floating tensor of logits of shape (batch, n_classes). "
            "Wrap the model so that forward returns the logits."
        )
    if out.shape[0] != len(x) or out.shape[1] < 2:
        raise NotAClassifierError(
            f"{type(model).__name__} returned logits of shape {tuple(out.shape)} for {len(x)} "
            "inputs; a classifier needs one row per input and at least two classes."
        )
    return int(out.shape[1])


def unlearn(
    model: nn.Module,
    data: Any,
    request: ForgetRequest | Iterable[Any],
    method: str = "scrub",
    config: Any = None,
    *,
    seed: int = 0,
    budget: Budget | None = None,
    device: str | torch.device | None = None,
    batch_size: int | None = None,
    training: TrainingReport | int | None = None,
    progress: bool = False,
) -> Unlearned:
    """Return a copy of ``model`` that has approximately forgotten what ``request`` names.

    Parameters
    ----------
    model : nn.Module
        A trained classifier returning logits of shape ``(batch, n_classes)``. It is copied;
        the original is never modified.
    data : Samples, Dataset of ``(x, y, sample_id)`` or DataLoader over one
        The data the model was trained on, with its sample ids and integer labels.
    request : ForgetRequest or list of sample ids
        ``items``, ``group`` (for example :meth:`ForgetRequest.of_subject`; needs ``Samples``),
        ``classes``, ``relabel`` or ``features`` (columns by name or flattened position, set to
        0 from then on), as the method supports (see :data:`methods`).
    method : str
        A name in :data:`unlearnkit.approximate.methods`.
    config : dataclass or mapping, optional
        The method's config (for example :class:`SCRUBConfig`); its defaults when omitted.
    seed : int
        Seeds every random choice (batch order, random labels, noise, re-initialisation).
    budget : Budget, optional
        Step and/or time limit; the method stops early when it is reached.
    device : str or torch.device, optional
        Where to work; CUDA when available, else the CPU. The returned copy lives there.
    batch_size : int, optional
        Mini-batch size; defaults to the DataLoader's, else 64.
    training : TrainingReport or int, optional
        The original training (or its number of steps at ``batch_size``), to report the cost
        as a share of it (``retrained_fraction``; NaN when unknown).
    progress : bool
        Show a Rich progress bar.

    Returns
    -------
    Unlearned
        ``(model, result)``: the unlearned copy (in the original's train/eval mode) and an
        :class:`~unlearnkit.base.UnlearningResult` with guarantee ``approximate``, seconds,
        gradient steps and ``retrained_fraction``.

    Raises
    ------
    NotAClassifierError
        ``model`` is not an ``nn.Module`` returning ``(batch, n_classes)`` logits.
    MethodRequestError
        The method does not support the request's kind.
    UnknownIdError, InvalidRequestError
        Ids not in the data; a request matching no sample or every sample.
    BudgetTooSmallError
        The budget ends the method before it changed the model.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from unlearnkit import ForgetRequest, Samples
    >>> from unlearnkit.approximate import unlearn
    >>> from unlearnkit.approximate.training import TrainConfig, train
    >>> X = torch.randn(300, 5).numpy()
    >>> data = Samples(X, y=(X[:, 0] > 0).astype(int))
    >>> net = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 2))
    >>> report = train(net, data, config=TrainConfig(epochs=3), seed=0, device="cpu")
    >>> new, result = unlearn(net, data, ForgetRequest.items(range(30)), method="finetune",
    ...                       training=report, device="cpu")
    >>> str(result.guarantee), result.removed_ids[:3], new is net
    ('approximate', (0, 1, 2), False)
    """
    start = time.perf_counter()
    if not isinstance(model, nn.Module):
        raise NotAClassifierError(
            f"model must be a torch.nn.Module classifier, got {type(model).__name__}. Wrap "
            "other models in an nn.Module whose forward returns logits."
        )
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise InvalidParameterError(f"seed must be an integer, got {seed!r}.")
    if budget is not None and not isinstance(budget, Budget):
        raise InvalidParameterError(
            f"budget must be a unlearnkit.approximate.Budget, got {type(budget).__name__}."
        )
    if batch_size is not None and (
        isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1
    ):
        raise InvalidParameterError(f"batch_size must be a positive integer, got {batch_size!r}.")
    info = methods.get(method)
    cfg = _config(info, config)
    req = as_request(request)
    if req.kind not in info.request_kinds:
        raise MethodRequestError(method, req.kind, info.request_kinds)
    dev = resolve_device(device)
    indexed = as_indexed(data, batch_size)
    size = batch_size or indexed.batch_size
    before = model_fingerprint(model)
    was_training = model.training
    student = copy.deepcopy(model).to(dev)
    probe = indexed.inputs(np.arange(min(len(indexed), 8))).to(dev)
    n_classes = _n_classes(student, probe)
    if indexed.labels.max() >= n_classes:
        raise DataValidationError(
            f"The data has label {int(indexed.labels.max())} but the model returns "
            f"{n_classes} logits; labels must be 0..{n_classes - 1}."
        )
    split = resolve(indexed, req, n_classes)
    train_samples = _training_samples(training, size)
    with (
        torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else []),
        Progress(disable=not progress, transient=True) as bar,
    ):
        torch.manual_seed(int(seed))
        run = UnlearnRun(
            student,
            indexed,
            split,
            n_classes=n_classes,
            seed=int(seed),
            device=dev,
            budget=budget or Budget(),
            batch_size=size,
            progress=bar,
        )
        try:
            evidence = info.apply(run, cfg)
        except _BudgetReachedError:
            evidence = run.evidence
    student.train(was_training)
    seconds = time.perf_counter() - start
    ids = [] if req.kind == "features" else indexed.ids[split.forget].tolist()
    relabel = req.kind == "relabel"
    return Unlearned(
        student,
        UnlearningResult(
            request_id=req.request_id,
            removed_ids=() if relabel else tuple(ids),
            guarantee=info.guarantee,
            seconds=seconds,
            retrained_fraction=run.sample_gradients / train_samples if train_samples else math.nan,
            fingerprint_before=before,
            fingerprint_after=model_fingerprint(student),
            evidence={
                "method": info.name,
                "config": dataclasses.asdict(cfg),
                "seed": int(seed),
                "device": str(dev),
                "gradient_steps": run.steps,
                "sample_gradients": run.sample_gradients,
                "training_sample_gradients": train_samples,
                "stopped_early": run.stopped_early,
                "n_forget": len(ids),
                "n_retain": len(split.retain),
                "forgotten_classes": list(split.forget_classes),
                **evidence,
            },
            method=info.name,
            kind=req.kind,
            relabeled_ids=tuple(ids) if relabel else (),
            removed_features=split.columns,
            reason=req.reason.value,
            subject=req.subject,
        ),
    )


def _training_samples(training: TrainingReport | int | None, batch_size: int) -> int | None:
    if training is None:
        return None
    if isinstance(training, TrainingReport):
        return training.sample_gradients
    if isinstance(training, bool) or not isinstance(training, int) or training < 1:
        raise InvalidParameterError(
            f"training must be a TrainingReport or the original number of steps (> 0), got "
            f"{training!r}."
        )
    return training * batch_size
