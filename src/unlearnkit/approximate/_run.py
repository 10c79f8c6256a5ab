"""The working state of one approximate unlearning: model copies, data, budget, randomness.

Every method receives an :class:`UnlearnRun` and works on ``run.model`` (a deep copy of the
user's model on ``run.device``); the original model is never touched. Gradient work is counted
with :meth:`UnlearnRun.step`, which also enforces the :class:`Budget`: when the budget runs out
the method stops where it is (an early stop), unless the step was part of a phase the method
cannot do without (:meth:`UnlearnRun.essential`), which raises :class:`BudgetTooSmallError`.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from rich.progress import Progress, TaskID
from torch import nn
from torch.nn import functional as nnf

from unlearnkit.approximate._data import IndexedData, Resolved
from unlearnkit.errors import InvalidParameterError, UnlearnError, UnsupportedRequestError

__all__ = [
    "Budget",
    "BudgetTooSmallError",
    "MethodRequestError",
    "NotAClassifierError",
    "UnlearnRun",
    "check_positive",
    "check_fraction",
]


class NotAClassifierError(UnlearnError, TypeError):
    """The model is not a PyTorch classifier returning one logit per class."""


class BudgetTooSmallError(UnlearnError, ValueError):
    """The step or time budget does not allow the method to change the model at all."""


class MethodRequestError(UnsupportedRequestError):
    """An approximate method was asked for a request kind it does not support."""

    def __init__(self, method: str, kind: str, supported: Iterable[str]) -> None:
        allowed = ", ".join(sorted(supported))
        ValueError.__init__(
            self,
            f"The approximate method {method!r} does not support {kind!r} requests; it "
            f"supports: {allowed}. unlearnkit.approximate.methods lists each method's kinds.",
        )
        self.kind = kind


def check_positive(owner: object, name: str, value: Any, *, integer: bool = False) -> None:
    """Raise :class:`InvalidParameterError` unless ``value`` is a finite number > 0."""
    kind = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind) or not math.isfinite(value):
        what = "an integer" if integer else "a number"
        raise InvalidParameterError(
            f"{type(owner).__name__}.{name} must be {what} > 0, got {value!r}."
        )
    if value <= 0:
        raise InvalidParameterError(f"{type(owner).__name__}.{name} must be > 0, got {value!r}.")


def check_fraction(owner: object, name: str, value: Any, *, closed_low: bool = False) -> None:
    """Raise :class:`InvalidParameterError` unless ``value`` is in (0, 1] (or [0, 1])."""
    ok = (
        not isinstance(value, bool)
        and isinstance(value, (int, float))
        and (0 <= value <= 1 if closed_low else 0 < value <= 1)
    )
    if not ok:
        interval = "[0, 1]" if closed_low else "(0, 1]"
        raise InvalidParameterError(
            f"{type(owner).__name__}.{name} must be in {interval}, got {value!r}."
        )


@dataclass(frozen=True)
class Budget:
    """Limits on the work of one unlearning: gradient steps and/or wall-clock seconds.

    When a limit is reached the method stops early and the model is returned as it is then;
    the result's evidence says ``stopped_early``. A budget that stops the method before it has
    changed the model raises :class:`BudgetTooSmallError`.

    Parameters
    ----------
    max_steps : int, optional
        Most gradient evaluations (backward passes over a batch; a Hessian-vector product
        counts as two).
    max_seconds : float, optional
        Most wall-clock seconds, checked after every step.

    Examples
    --------
    >>> Budget(max_steps=100).max_steps
    100
    """

    max_steps: int | None = None
    max_seconds: float | None = None

    def __post_init__(self) -> None:
        if self.max_steps is not None and (
            isinstance(self.max_steps, bool) or not isinstance(self.max_steps, int)
        ):
            raise InvalidParameterError(
                f"Budget.max_steps must be an integer or None, got {self.max_steps!r}."
            )
        if self.max_seconds is not None and (
            isinstance(self.max_seconds, bool)
            or not isinstance(self.max_seconds, (int, float))
            or math.isnan(self.max_seconds)
        ):
            raise InvalidParameterError(
                f"Budget.max_seconds must be a number or None, got {self.max_seconds!r}."
            )
        if (self.max_steps is not None and self.max_steps < 1) or (
            self.max_seconds is not None and self.max_seconds <= 0
        ):
            raise BudgetTooSmallError(
                f"A budget of max_steps={self.max_steps!r}, max_seconds={self.max_seconds!r} "
                "allows no work at all; give at least one step and a positive time."
            )


class _BudgetReachedError(Exception):
    """Raised inside a method when the budget runs out; ends the method early."""


class UnlearnRun:
    """What a method works with: the model copy, the original, the data split and counters.

    Attributes
    ----------
    model : nn.Module
        The copy being unlearned, on :attr:`device`.
    data : IndexedData
        The training data.
    split : Resolved
        Forget rows, retain rows and the labels after the request.
    n_classes : int
        Number of logits the model returns.
    generator : torch.Generator
        The seeded source of every random choice of the method (on the CPU).
    """

    def __init__(
        self,
        model: nn.Module,
        data: IndexedData,
        split: Resolved,
        *,
        n_classes: int,
        seed: int,
        device: torch.device,
        budget: Budget,
        batch_size: int,
        progress: Progress | None = None,
    ) -> None:
        self.model = model
        self.data = data
        self.split = split
        self.n_classes = n_classes
        self.device = device
        self.budget = budget
        self.batch_size = batch_size
        self.generator = torch.Generator().manual_seed(seed)
        self.steps = 0
        self.sample_gradients = 0
        self.stopped_early = False
        self._start = time.perf_counter()
        self._progress = progress
        self._task: TaskID | None = None
        self._teacher: nn.Module | None = None
        #: Method-specific facts, kept here so that an early stop still reports them.
        self.evidence: dict[str, Any] = {}

    # -- models ----------------------------------------------------------------------------
    @property
    def teacher(self) -> nn.Module:
        """A frozen copy of the original model (eval mode, no gradients)."""
        if self._teacher is None:
            self._teacher = frozen_copy(self.model)
        return self._teacher

    def keep_teacher(self) -> None:
        """Copy the model as it is now as :attr:`teacher` (call before changing it)."""
        self._teacher = frozen_copy(self.model)

    # -- data ------------------------------------------------------------------------------
    @property
    def forget(self) -> np.ndarray:
        return self.split.forget

    @property
    def retain(self) -> np.ndarray:
        return self.split.retain

    def fetch(
        self, rows: np.ndarray, *, corrected: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Inputs and labels of ``rows`` on the device; ``corrected`` applies the request's
        changes (corrected labels, blanked feature columns)."""
        x = self.data.inputs(rows).to(self.device)
        if corrected and self.split.columns:
            x = x.clone()
            x.view(len(x), -1)[:, list(self.split.columns)] = 0
        labels = self.split.targets if corrected else self.data.labels
        y = torch.as_tensor(labels[rows], dtype=torch.long, device=self.device)
        return x, y

    def shuffled(self, rows: np.ndarray) -> np.ndarray:
        """``rows`` in a random order drawn from :attr:`generator`."""
        perm = torch.randperm(len(rows), generator=self.generator).numpy()
        return rows[perm]

    def batches(
        self, rows: np.ndarray, *, epochs: int = 1, batch_size: int | None = None
    ) -> Iterator[np.ndarray]:
        """Shuffled mini-batches of ``rows`` for ``epochs`` passes."""
        size = batch_size or self.batch_size
        for _ in range(epochs):
            order = self.shuffled(rows)
            for start in range(0, len(order), size):
                yield order[start : start + size]

    def cycle(self, rows: np.ndarray, batch_size: int | None = None) -> Iterator[np.ndarray]:
        """Endless shuffled mini-batches of ``rows`` (reshuffled after every pass)."""
        while True:
            yield from self.batches(rows, batch_size=batch_size)

    def n_batches(self, n_rows: int, batch_size: int | None = None) -> int:
        size = batch_size or self.batch_size
        return -(-n_rows // size)

    def random_labels(self, y: torch.Tensor) -> torch.Tensor:
        """A random label for each entry of ``y``, never the true one nor a forgotten class."""
        allowed = [c for c in range(self.n_classes) if c not in self.split.forget_classes]
        pool = torch.as_tensor(allowed, dtype=torch.long)
        y_cpu = y.cpu()
        # position of each true label in the pool (len(pool) when it is not in it)
        position = (pool.unsqueeze(0) < y_cpu.unsqueeze(1)).sum(dim=1)
        inside = torch.isin(y_cpu, pool)
        span = len(pool) - inside.long()
        draw = (torch.rand(len(y_cpu), generator=self.generator) * span).long()
        draw = draw + (inside & (draw >= position)).long()
        return pool[draw].to(self.device)

    # -- optimisation ----------------------------------------------------------------------
    def sgd(
        self,
        params: Iterable[nn.Parameter] | None = None,
        *,
        lr: float,
        momentum: float = 0.9,
        weight_decay: float = 0.0,
    ) -> torch.optim.SGD:
        return torch.optim.SGD(
            list(self.model.parameters()) if params is None else list(params),
            lr=lr,
            momentum=momentum,
            weight_decay=weight_decay,
        )

    def plan(self, total: int, description: str) -> None:
        """Show a progress bar of ``total`` steps (capped by the step budget)."""
        if self.budget.max_steps is not None:
            total = min(total, self.budget.max_steps)
        if self._progress is not None:
            if self._task is not None:
                self._progress.remove_task(self._task)
            self._task = self._progress.add_task(description, total=total)

    def step(self, n_samples: int, weight: int = 1) -> None:
        """Count ``weight`` gradient evaluations over ``n_samples`` samples; stop on budget."""
        self.steps += weight
        self.sample_gradients += n_samples * weight
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task, weight)
        if self.over_budget():
            self.stopped_early = True
            raise _BudgetReachedError

    def over_budget(self) -> bool:
        b = self.budget
        return (b.max_steps is not None and self.steps >= b.max_steps) or (
            b.max_seconds is not None and self.elapsed() >= b.max_seconds
        )

    def elapsed(self) -> float:
        return time.perf_counter() - self._start

    @contextmanager
    def essential(self, what: str) -> Iterator[None]:
        """A phase that must complete; a budget that ends it raises BudgetTooSmallError."""
        try:
            yield
        except _BudgetReachedError:
            raise BudgetTooSmallError(
                f"The budget ({_describe(self.budget)}) ran out while {what}, before the model "
                f"was changed ({self.steps} gradient steps, {self.elapsed():.3g} s). Give a "
                "larger budget or lower the method's sample counts in its config."
            ) from None
        if self.over_budget():
            raise BudgetTooSmallError(
                f"The budget ({_describe(self.budget)}) was spent by {what}, so the model "
                "could not be changed. Give a larger budget."
            )


def _describe(budget: Budget) -> str:
    parts = []
    if budget.max_steps is not None:
        parts.append(f"max_steps={budget.max_steps}")
    if budget.max_seconds is not None:
        parts.append(f"max_seconds={budget.max_seconds:g}")
    return ", ".join(parts)


def frozen_copy(model: nn.Module) -> nn.Module:
    """A deep copy in eval mode with gradients off."""
    out = copy.deepcopy(model).eval()
    for p in out.parameters():
        p.requires_grad_(False)
    return out


def kl_to_teacher(
    student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float = 1.0
) -> torch.Tensor:
    """KL(teacher || student) of the temperature-softened outputs, times T^2 (Hinton et al.)."""
    t = temperature
    return (
        nnf.kl_div(
            nnf.log_softmax(student_logits / t, dim=1),
            nnf.log_softmax(teacher_logits / t, dim=1),
            reduction="batchmean",
            log_target=True,
        )
        * t
        * t
    )


def reset_parameters(module: nn.Module, generator: torch.Generator) -> None:
    """Re-initialise every submodule that has ``reset_parameters``, reproducibly."""
    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for m in module.modules():
            reset = getattr(m, "reset_parameters", None)
            if callable(reset):
                reset()
