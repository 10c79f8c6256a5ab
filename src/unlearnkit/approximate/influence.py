"""First- and second-order influence updates for removing or correcting samples.

Training minimised ``L(theta) = sum_i loss(z_i, theta)``. Replacing the affected samples ``Z``
by ``Z~`` (their corrected versions for a ``relabel`` request; every sample with the named
input columns set to 0 for a ``features`` request; nothing for a removal) moves the optimum, to
first order in the change, by

    delta = H^-1 (sum_{z in Z} grad loss(z) - sum_{z~ in Z~} grad loss(z~)),

where ``H`` is the Hessian of ``L``. The *second-order* update computes ``H^-1 v`` with
Hessian-vector products (LiSSA: Agarwal, Bullins & Hazan 2017, as used by Koh & Liang 2017) on
the average loss of the data after the change, damped by ``damping * I``; the *first-order*
update replaces ``H^-1`` by ``tau * I / n`` (a gradient step of size ``tau / n``). Warnecke,
Pirch, Wressnegger & Rieck, "Machine Unlearning of Features and Labels", NDSS 2023.

After a ``features`` request the model is meant to be used with those columns set to 0 (the
feature unlearning of Warnecke et al.: the model approximates one trained on the blanked data).

Both are one closed-form step with no pass over the retain set for the first-order update and
``depth`` mini-batch Hessian-vector products for the second-order one. Deep networks are not
convex, so the step is an approximation whose quality is measured, not bounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.nn import functional as nnf

from unlearnkit.approximate._registry import ApproximateMethod, methods
from unlearnkit.approximate._run import UnlearnRun, check_fraction, check_positive
from unlearnkit.errors import UnlearnError

__all__ = [
    "FirstOrderConfig",
    "InfluenceDivergedError",
    "SecondOrderConfig",
    "influence_gradient",
]


class InfluenceDivergedError(UnlearnError, ArithmeticError):
    """The inverse-Hessian-vector recursion diverged (its ``scale`` is below the curvature)."""


@dataclass(frozen=True)
class FirstOrderConfig:
    """Hyper-parameters of the first-order influence update.

    Parameters
    ----------
    tau : float
        Step size: ``theta += tau / n * v`` for ``n`` training samples.

    Examples
    --------
    >>> FirstOrderConfig().tau
    1.0
    """

    tau: float = 1.0

    def __post_init__(self) -> None:
        check_positive(self, "tau", self.tau)


@dataclass(frozen=True)
class SecondOrderConfig:
    """Hyper-parameters of the second-order influence update (LiSSA).

    Parameters
    ----------
    damping : float
        ``lambda`` in ``(H + lambda I)^-1``; keeps the step finite where ``H`` is flat or not
        positive definite.
    scale : float
        Must exceed the largest eigenvalue of the damped average Hessian for the recursion to
        converge.
    depth : int
        Recursion steps (one mini-batch Hessian-vector product each).
    step_fraction : float
        Share of the estimated Newton step applied.

    Examples
    --------
    >>> SecondOrderConfig().depth
    50
    """

    damping: float = 0.01
    scale: float = 25.0
    depth: int = 50
    step_fraction: float = 1.0

    def __post_init__(self) -> None:
        check_positive(self, "damping", self.damping)
        check_positive(self, "scale", self.scale)
        check_positive(self, "depth", self.depth, integer=True)
        check_fraction(self, "step_fraction", self.step_fraction)


def _params(run: UnlearnRun) -> list[torch.nn.Parameter]:
    return [p for p in run.model.parameters() if p.requires_grad]


def influence_gradient(run: UnlearnRun) -> list[torch.Tensor]:
    """``v``: the summed loss gradient of the affected samples minus that of their corrections."""
    params = _params(run)
    total = [torch.zeros_like(p) for p in params]
    changed = run.split.kind in ("relabel", "features")
    run.model.eval()
    for start in range(0, len(run.forget), run.batch_size):
        rows = run.forget[start : start + run.batch_size]
        x, y_old = run.fetch(rows, corrected=False)
        loss = nnf.cross_entropy(run.model(x), y_old, reduction="sum")
        if changed:
            x_new, y_new = run.fetch(rows)
            loss = loss - nnf.cross_entropy(run.model(x_new), y_new, reduction="sum")
        grads = torch.autograd.grad(loss, params)
        for t, g in zip(total, grads, strict=True):
            t += g
        run.step(len(rows))
    return total


def _after_rows(run: UnlearnRun) -> np.ndarray:
    """The training rows after the change (corrected rows included for a relabel)."""
    if run.split.kind in ("relabel", "features"):
        return np.arange(len(run.data))
    return run.retain


def _hvp(run: UnlearnRun, rows: np.ndarray, vec: list[torch.Tensor]) -> list[torch.Tensor]:
    params = _params(run)
    x, y = run.fetch(rows)
    loss = nnf.cross_entropy(run.model(x), y)
    grads = torch.autograd.grad(loss, params, create_graph=True)
    dot = torch.stack([(g * v).sum() for g, v in zip(grads, vec, strict=True)]).sum()
    out = torch.autograd.grad(dot, params)
    run.step(len(rows), weight=2)
    return [o.detach() for o in out]


def _norm(vec: list[torch.Tensor]) -> float:
    return float(torch.sqrt(sum((v**2).sum() for v in vec)))  # type: ignore[arg-type]


def _update(run: UnlearnRun, delta: list[torch.Tensor]) -> None:
    with torch.no_grad():
        for p, d in zip(_params(run), delta, strict=True):
            p.add_(d)
    run.evidence["update_norm"] = _norm(delta)


def apply_first(run: UnlearnRun, cfg: FirstOrderConfig) -> dict[str, Any]:
    run.plan(run.n_batches(len(run.forget)), "first-order influence")
    with run.essential("computing the influence gradient"):
        v = influence_gradient(run)
    _update(run, [cfg.tau / len(run.data) * g for g in v])
    return run.evidence


def apply_second(run: UnlearnRun, cfg: SecondOrderConfig) -> dict[str, Any]:
    run.plan(run.n_batches(len(run.forget)) + 2 * cfg.depth, "second-order influence")
    rows = _after_rows(run)
    with run.essential("computing the inverse-Hessian-vector product"):
        v = influence_gradient(run)
        limit = 1e6 * max(_norm(v), 1e-12)
        h = [g.clone() for g in v]
        batches = run.cycle(rows)
        for _ in range(cfg.depth):
            hv = _hvp(run, next(batches), h)
            h = [
                vi + (1 - cfg.damping / cfg.scale) * hi - hvi / cfg.scale
                for vi, hi, hvi in zip(v, h, hv, strict=True)
            ]
            size = _norm(h)
            if not np.isfinite(size) or size > limit:
                raise InfluenceDivergedError(
                    f"The LiSSA recursion diverged (norm {size:.3g}) with scale={cfg.scale:g}: "
                    "the Hessian's curvature exceeds the scale. Raise SecondOrderConfig.scale "
                    "(or damping)."
                )
    n = len(rows)
    _update(run, [cfg.step_fraction * hi / (cfg.scale * n) for hi in h])
    return run.evidence


_KINDS = frozenset({"items", "group", "relabel", "features"})
methods.add(
    "influence_first_order",
    ApproximateMethod(
        name="influence_first_order",
        config=FirstOrderConfig,
        apply=apply_first,
        request_kinds=_KINDS,
        summary="One gradient step along the affected samples' influence (labels fixable).",
        reference="Warnecke et al., NDSS 2023",
    ),
)
methods.add(
    "influence_second_order",
    ApproximateMethod(
        name="influence_second_order",
        config=SecondOrderConfig,
        apply=apply_second,
        request_kinds=_KINDS,
        summary="One Newton step (LiSSA inverse-Hessian) along the affected samples' influence.",
        reference="Warnecke et al., NDSS 2023; Koh & Liang, ICML 2017",
    ),
)
