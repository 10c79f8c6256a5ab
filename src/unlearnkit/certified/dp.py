"""Differentially private training (DP-SGD with Opacus) and the removals it already covers.

DP-SGD (Abadi et al., "Deep Learning with Differential Privacy", CCS 2016) clips every
per-sample gradient to norm ``max_grad_norm``, adds Gaussian noise of standard deviation
``noise_multiplier * max_grad_norm`` to their sum and samples each batch by Poisson sampling
(every row independently, with probability ``sample_rate``). Opacus's ``PrivacyEngine`` does
the mechanics and its accountants (``"rdp"``: Renyi DP, Mironov 2017 / Mironov, Talwar & Zhang
2019; ``"prv"``: privacy random variables, Gopi, Lee & Wutschitz 2021; ``"gdp"``: Gaussian DP,
Dong, Roth & Su 2019) turn the noise, the sample rate and the number of steps into the
``(epsilon, delta)`` spent. :class:`DPTrainer` trains a PyTorch classifier this way from a
target ``(epsilon, delta)`` (the noise multiplier is searched) or from a noise multiplier, and
reports what was spent in a :class:`DPTrainingReport`.

**Removals covered by group privacy.** An ``(epsilon, delta)``-DP mechanism ``M`` satisfies,
for datasets ``D`` and ``D'`` that differ in ``k`` rows (``D' = D`` without ``k`` rows: ``k``
add/remove steps, the neighbouring relation Opacus's accountants bound),

    P[M(D) in S] <= e^(k eps) P[M(D') in S] + delta * sum_{i<k} e^(i eps)
                 <= e^(k eps) P[M(D') in S] + k e^((k-1) eps) delta,

by applying the definition along a chain of ``k`` neighbouring datasets (group privacy; Dwork &
Roth, "The Algorithmic Foundations of Differential Privacy", 2014, Theorem 2.2 for the pure
case; the same chain gives the ``delta`` term, e.g. Vadhan, "The Complexity of Differential
Privacy", 2017, Section 2). :func:`group_privacy` returns ``(k eps, k e^((k-1) eps) delta)``
and :func:`covered_removals` the largest ``k`` for which both stay within a target.

**What a "certified" removal from a DP model means.** The model is left as it is; it is
``(k eps, k e^((k-1) eps) delta)``-indistinguishable from a model the same DP-SGD mechanism
(same noise multiplier, sample rate and number of steps) would have produced without the ``k``
removed rows. It is *not* equal to such a model, and the removed rows did influence its
weights -- by an amount that privacy bounds. Group privacy degrades fast (``delta`` grows
like ``e^(k eps)``), so only a few removals are covered; :class:`DPClassifier` retrains with
DP-SGD on the retained rows when a request would go beyond.

As with any pseudo-random generator, the guarantee assumes the seeds are not known to the
adversary; Opacus's ``secure_mode`` (a cryptographic generator, not seedable) is not used, so
that ``random_state`` makes training reproducible.
"""

from __future__ import annotations

import copy
import functools
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any, ClassVar, Self

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets

from unlearnkit.base import Change, Unlearner
from unlearnkit.certified.head import forward_numpy, module_device_dtype
from unlearnkit.errors import DataValidationError, InvalidParameterError, preview
from unlearnkit.guarantees import Guarantee
from unlearnkit.registry import register_method
from unlearnkit.requests import RequestKind

if TYPE_CHECKING:
    import torch

__all__ = [
    "ACCOUNTANTS",
    "GRAD_SAMPLE_MODES",
    "DPClassifier",
    "DPTrainer",
    "DPTrainingReport",
    "covered_removals",
    "group_privacy",
    "mlp",
]

#: Opacus's accountant names.
ACCOUNTANTS = ("rdp", "prv", "gdp")
#: Opacus's ways of computing per-sample gradient norms that DPTrainer offers.
GRAD_SAMPLE_MODES = ("ghost", "hooks")
#: Renyi orders for the ``"rdp"`` accountant: Opacus's defaults extended to larger orders, which
#: the few-step, high-sample-rate runs of small data sets need for a tight bound.
RDP_ORDERS: tuple[float, ...] = (
    *(1 + x / 10.0 for x in range(1, 100)),
    *range(12, 64),
    *(64, 80, 96, 128, 160, 192, 256, 320, 384, 512, 768, 1024),
)
#: Attributes Opacus leaves on parameters (per-sample and summed clipped gradients: not noised,
#: so they must not stay on a released model).
_OPACUS_PARAM_ATTRS = (
    "grad_sample",
    "_forward_counter",
    "_current_grad_sample",
    "_norm_sample",
    "summed_grad",
)


def _import_deep() -> tuple[Any, Any]:
    try:
        import opacus
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ImportError(
            f"DP-SGD training needs PyTorch and Opacus ({exc}). Install them with "
            "`pip install 'unlearnkit[deep]'`."
        ) from None
    return torch, opacus


# -- group privacy ---------------------------------------------------------------------------------
def _check_dp(epsilon: Any, delta: Any, what: str = "") -> tuple[float, float]:
    try:
        eps, dlt = float(epsilon), float(delta)
    except (TypeError, ValueError):
        raise InvalidParameterError(
            f"{what}epsilon and delta must be numbers, got {epsilon!r} and {delta!r}."
        ) from None
    if not (math.isfinite(eps) and eps > 0):
        raise InvalidParameterError(f"{what}epsilon must be a finite number > 0, got {epsilon!r}.")
    if not 0 <= dlt < 1:
        raise InvalidParameterError(f"{what}delta must be in [0, 1), got {delta!r}.")
    return eps, dlt


def _check_count(k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, Integral) or k < 0:
        raise InvalidParameterError(f"k must be an integer >= 0, got {k!r}.")
    return int(k)


def group_privacy(epsilon: float, delta: float, k: int) -> tuple[float, float]:
    """``(k epsilon, k e^((k-1) epsilon) delta)``: the privacy of an ``(epsilon, delta)``-DP
    mechanism for groups of ``k`` rows (see the module documentation for the derivation).

    ``k = 0`` gives ``(0, 0)``; the delta may exceed 1 (then it promises nothing).

    Examples
    --------
    >>> from unlearnkit.certified import group_privacy
    >>> eps, delta = group_privacy(0.5, 1e-6, 3)
    >>> eps, round(delta / 1e-6, 6)          # 3 * e^(2 * 0.5)
    (1.5, 8.154845)
    """
    eps, dlt = _check_dp(epsilon, delta)
    k = _check_count(k)
    if k == 0:
        return 0.0, 0.0
    exponent = (k - 1) * eps
    group_delta = k * math.exp(exponent) * dlt if exponent < 700 else math.inf
    if dlt == 0:
        group_delta = 0.0
    return k * eps, group_delta


def covered_removals(
    epsilon: float, delta: float, target_epsilon: float, target_delta: float
) -> int:
    """The largest ``k`` with ``k epsilon <= target_epsilon`` and
    ``k e^((k-1) epsilon) delta <= target_delta``: how many removals an ``(epsilon, delta)``-DP
    model covers at the target (0 when not even one).

    Examples
    --------
    >>> from unlearnkit.certified import covered_removals
    >>> covered_removals(1.0, 1e-5, target_epsilon=4.0, target_delta=1e-3)   # 4 e^3 1e-5 = 8e-4
    4
    >>> covered_removals(1.0, 1e-5, target_epsilon=10.0, target_delta=1e-3)  # 5 e^4 1e-5 > 1e-3
    4
    """
    eps, dlt = _check_dp(epsilon, delta)
    t_eps, t_dlt = _check_dp(target_epsilon, target_delta, "target_")
    k_eps = math.floor(t_eps / eps)
    while k_eps > 0 and k_eps * eps > t_eps:
        k_eps -= 1
    while (k_eps + 1) * eps <= t_eps:
        k_eps += 1
    if dlt == 0:
        return k_eps
    if t_dlt == 0:  # a positive delta never fits in a zero target
        return 0

    def fits(k: int) -> bool:
        return math.log(k) + (k - 1) * eps + math.log(dlt) <= math.log(t_dlt) if k else True

    lo, hi = 0, k_eps  # fits(lo) holds; find the largest k in [lo, hi] that fits
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid - 1
    # the log test and the direct product can differ in the last bit: trust the product
    while lo > 0 and group_privacy(eps, dlt, lo)[1] > t_dlt:
        lo -= 1
    return lo


# -- DP-SGD ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DPTrainingReport:
    """What one DP-SGD training spent and how.

    Attributes
    ----------
    epsilon : float
        The epsilon spent, from the accountant, at ``delta``.
    delta : float
    noise_multiplier : float
        Noise standard deviation over ``max_grad_norm``.
    sample_rate : float
        Poisson sampling probability of each row per step (``1 / batches per epoch``).
    steps : int
        Noisy steps taken.
    epochs : int
    accountant : str
        ``"rdp"``, ``"prv"`` or ``"gdp"``.
    max_grad_norm : float
        Per-sample gradient clipping norm.
    target_epsilon : float or None
        The epsilon asked for (None when a noise multiplier was given).
    n_samples : int
        Rows trained on.
    losses : tuple of float
        Mean training loss of each epoch (over the rows sampled).
    """

    epsilon: float
    delta: float
    noise_multiplier: float
    sample_rate: float
    steps: int
    epochs: int
    accountant: str
    max_grad_norm: float
    target_epsilon: float | None
    n_samples: int
    losses: tuple[float, ...] = field(default=())

    def group(self, k: int) -> tuple[float, float]:
        """``(epsilon, delta)`` for groups of ``k`` rows (:func:`group_privacy`)."""
        return group_privacy(self.epsilon, self.delta, k)

    def covered_removals(self, target_epsilon: float, target_delta: float) -> int:
        """How many removals this training covers at ``(target_epsilon, target_delta)``
        (:func:`covered_removals`)."""
        return covered_removals(self.epsilon, self.delta, target_epsilon, target_delta)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["losses"] = list(self.losses)
        return out


@functools.lru_cache(maxsize=256)
def _noise_for(
    epsilon: float, delta: float, sample_rate: float, steps: int, accountant: str
) -> float:
    """The noise multiplier that spends at most ``epsilon`` (Opacus's search; cached, as it is a
    function of its arguments only)."""
    from opacus.accountants.utils import get_noise_multiplier

    kwargs: dict[str, Any] = {"alphas": list(RDP_ORDERS)} if accountant == "rdp" else {}
    try:
        with warnings.catch_warnings():
            # the search visits very large noise levels, whose bound is loose: not reported
            warnings.filterwarnings("ignore", message="Optimal order is the largest alpha")
            noise = get_noise_multiplier(
                target_epsilon=epsilon,
                target_delta=delta,
                sample_rate=sample_rate,
                steps=steps,
                accountant=accountant,
                **kwargs,
            )
        return float(noise)
    except ValueError as exc:
        raise InvalidParameterError(
            f"No noise multiplier reaches epsilon={epsilon:g} at delta={delta:g} over {steps} "
            f"steps at sample rate {sample_rate:.4g} ({exc}). Raise epsilon, train fewer "
            "epochs or use larger batches."
        ) from None


def _spent(accountant: Any, delta: float) -> float:
    with warnings.catch_warnings():
        # PRV sizes its domain with an RDP bound, which may warn that its largest order was
        # best; the epsilon returned is an upper bound either way.
        warnings.filterwarnings("ignore", message="Optimal order is the largest alpha")
        if accountant.mechanism() == "rdp":
            return float(accountant.get_epsilon(delta, alphas=list(RDP_ORDERS)))
        return float(accountant.get_epsilon(delta))


def _scrub(module: torch.nn.Module) -> None:
    """Remove what Opacus and the optimiser leave on the parameters (un-noised gradients)."""
    for p in module.parameters():
        p.grad = None
        for attr in _OPACUS_PARAM_ATTRS:
            if attr in p.__dict__:
                delattr(p, attr)


@dataclass(frozen=True)
class DPTrainer:
    """Train a PyTorch classifier with DP-SGD (Opacus) and report the privacy spent.

    Give a target ``epsilon`` (the noise multiplier is searched so that the accountant's
    epsilon after ``epochs`` is at most the target) or a ``noise_multiplier`` (then set
    ``epsilon=None``). The module is trained in place with SGD on the cross-entropy of its
    logits; batches are drawn by Poisson sampling with expected size ``batch_size``.

    Parameters
    ----------
    epsilon : float or None, default=1.0
        Target epsilon; None when ``noise_multiplier`` is given.
    delta : float, default=1e-5
        The delta the epsilon is computed at; below ``1 / n_samples`` is customary.
    noise_multiplier : float or None, default=None
        Noise standard deviation over ``max_grad_norm``; with it, ``epsilon`` must be None.
    accountant : {"rdp", "prv", "gdp"}, default="prv"
        Opacus's accountant. ``"gdp"`` is a central-limit approximation that Opacus warns can
        underestimate epsilon; use ``"rdp"`` or ``"prv"`` for a guarantee.
    max_grad_norm : float, default=1.0
        Per-sample gradient clipping norm.
    epochs : int, default=5
    batch_size : int, default=64
        Expected batch size (at most the number of rows).
    lr : float, default=0.5
        SGD learning rate.
    momentum : float, default=0.0
        SGD momentum.
    random_state : int or None, default=None
        Seeds the Poisson sampling and the noise (the module's initial weights are the
        caller's).
    device : str or None, default=None
        Where to train; None means the module's device.
    grad_sample_mode : {"ghost", "hooks"}, default="ghost"
        How Opacus gets the per-sample gradient norms. ``"ghost"`` (ghost clipping, Li et al.
        2022; Bu et al. 2023) computes them without materialising per-sample gradients where
        it can (linear, convolution, normalisation and embedding layers), which is several
        times faster for wide layers; ``"hooks"`` materialises them. Both clip every
        per-sample gradient to ``max_grad_norm`` exactly, so the privacy is the same.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from unlearnkit.certified import DPTrainer, mlp
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 4)).astype(np.float32); y = (X[:, 0] > 0).astype(np.int64)
    >>> _ = torch.manual_seed(0); net = mlp(4, 2, hidden=(8,))
    >>> report = DPTrainer(epsilon=2.0, accountant="rdp", epochs=2, random_state=0).train(net, X, y)
    >>> report.epsilon <= 2.0, report.steps
    (True, 10)
    """

    epsilon: float | None = 1.0
    delta: float = 1e-5
    noise_multiplier: float | None = None
    accountant: str = "prv"
    max_grad_norm: float = 1.0
    epochs: int = 5
    batch_size: int = 64
    lr: float = 0.5
    momentum: float = 0.0
    random_state: int | None = None
    device: str | None = None
    grad_sample_mode: str = "ghost"

    def __post_init__(self) -> None:
        if (self.epsilon is None) == (self.noise_multiplier is None):
            raise InvalidParameterError(
                f"Pass exactly one of epsilon (a target) and noise_multiplier, got "
                f"epsilon={self.epsilon!r}, noise_multiplier={self.noise_multiplier!r}; set "
                "epsilon=None to train with a given noise multiplier."
            )
        if self.epsilon is not None:
            _check_dp(self.epsilon, self.delta)
        elif not (
            isinstance(self.noise_multiplier, Real)
            and math.isfinite(self.noise_multiplier)
            and self.noise_multiplier > 0
        ):
            raise InvalidParameterError(
                f"noise_multiplier must be a finite number > 0, got {self.noise_multiplier!r}."
            )
        if not 0 < float(self.delta) < 1:
            raise InvalidParameterError(f"delta must be in (0, 1), got {self.delta!r}.")
        if self.accountant not in ACCOUNTANTS:
            raise InvalidParameterError(
                f"accountant={self.accountant!r} is not one of Opacus's {list(ACCOUNTANTS)}."
            )
        if self.grad_sample_mode not in GRAD_SAMPLE_MODES:
            raise InvalidParameterError(
                f"grad_sample_mode={self.grad_sample_mode!r} is not one of "
                f"{list(GRAD_SAMPLE_MODES)}."
            )
        for name in ("max_grad_norm", "lr"):
            value = getattr(self, name)
            if not (isinstance(value, Real) and math.isfinite(value) and float(value) > 0):
                raise InvalidParameterError(f"{name} must be a finite number > 0, got {value!r}.")
        if not (isinstance(self.momentum, Real) and 0 <= float(self.momentum) < 1):
            raise InvalidParameterError(f"momentum must be in [0, 1), got {self.momentum!r}.")
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
                raise InvalidParameterError(f"{name} must be an integer >= 1, got {value!r}.")
        if self.random_state is not None and (
            isinstance(self.random_state, bool) or not isinstance(self.random_state, Integral)
        ):
            raise InvalidParameterError(
                f"random_state must be an integer or None, got {self.random_state!r}."
            )

    def train(self, module: torch.nn.Module, X: Any, y: Any) -> DPTrainingReport:
        """Train ``module`` in place on ``(X, y)`` with DP-SGD.

        Parameters
        ----------
        module : torch.nn.Module
            Maps a batch of ``X`` to class logits of shape ``(batch, n_classes)``. Layers must
            be ones Opacus computes per-sample gradients for (no BatchNorm: use GroupNorm).
        X : array-like or tensor of shape (n_samples, ...)
            Inputs (cast to the module's floating dtype).
        y : array-like or tensor of shape (n_samples,)
            Class indices ``0 .. n_classes - 1``.

        Returns
        -------
        DPTrainingReport

        Raises
        ------
        InvalidParameterError
            A module Opacus cannot train privately, logits of the wrong shape, or a target
            epsilon no noise reaches.
        DataValidationError
            Malformed ``X`` or ``y``.
        """
        torch, opacus = _import_deep()
        if not isinstance(module, torch.nn.Module):
            raise InvalidParameterError(
                f"module must be a torch.nn.Module, got {type(module).__name__}."
            )
        device = torch.device(self.device) if self.device is not None else None
        if device is not None:
            module.to(device)
        device, dtype = module_device_dtype(module)
        Xt, yt = _as_tensors(torch, X, y, dtype)
        _check_logits(torch, module, Xt, yt)
        n = len(Xt)
        seeds = np.random.default_rng(self.random_state).integers(0, 2**62, size=2)
        loader = torch.utils.data.DataLoader(
            torch.utils.data.TensorDataset(Xt, yt),
            batch_size=min(int(self.batch_size), n),
            generator=torch.Generator().manual_seed(int(seeds[0])),
        )
        sample_rate = 1.0 / len(loader)
        steps = int(self.epochs) * len(loader)
        if self.noise_multiplier is not None:
            noise = float(self.noise_multiplier)
        else:
            assert self.epsilon is not None
            noise = _noise_for(
                float(self.epsilon), float(self.delta), sample_rate, steps, self.accountant
            )
        optimizer = torch.optim.SGD(
            module.parameters(), lr=float(self.lr), momentum=float(self.momentum)
        )
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Secure RNG turned off")
            engine = opacus.PrivacyEngine(accountant=self.accountant)
        noise_generator = torch.Generator(device=device).manual_seed(int(seeds[1]))
        was_training = module.training
        module.train()  # Opacus checks the module's mode
        criterion: Any = torch.nn.CrossEntropyLoss()
        try:
            private = engine.make_private(
                module=module,
                optimizer=optimizer,
                criterion=criterion,
                data_loader=loader,
                noise_multiplier=noise,
                max_grad_norm=float(self.max_grad_norm),
                noise_generator=noise_generator,
                grad_sample_mode=self.grad_sample_mode,
                wrap_model=False,
            )
        except (opacus.validators.errors.UnsupportedModuleError, NotImplementedError) as exc:
            _scrub(module)
            module.train(was_training)
            raise InvalidParameterError(
                f"Opacus cannot train this {type(module).__name__} with per-sample gradients: "
                f"{exc} Replace the offending layers (opacus.validators.ModuleValidator.fix "
                "swaps BatchNorm for GroupNorm)."
            ) from None
        if self.grad_sample_mode == "ghost":  # the loss wrapper runs the two backward passes
            hooks, dp_optimizer, criterion, dp_loader = private
        else:
            hooks, dp_optimizer, dp_loader = private
        losses: list[float] = []
        try:
            with warnings.catch_warnings():
                # Opacus's hooks see inputs that need no gradient: harmless, said every step.
                warnings.filterwarnings("ignore", message="Full backward hook is firing")
                for _ in range(int(self.epochs)):
                    total, count = 0.0, 0
                    for xb, yb in dp_loader:
                        xb, yb = xb.to(device), yb.to(device)
                        dp_optimizer.zero_grad(set_to_none=True)
                        loss = criterion(module(xb), yb)
                        loss.backward()
                        dp_optimizer.step()  # empty Poisson batches still add noise and count
                        if len(yb):
                            total += float(loss.item()) * len(yb)
                            count += len(yb)
                    losses.append(total / count if count else math.nan)
            history = engine.accountant.history
            taken = int(sum(entry[-1] for entry in history))
            spent = _spent(engine.accountant, float(self.delta))
        finally:
            hooks.cleanup()
            _scrub(module)
            module.train(was_training)
        return DPTrainingReport(
            epsilon=spent,
            delta=float(self.delta),
            noise_multiplier=noise,
            sample_rate=sample_rate,
            steps=taken,
            epochs=int(self.epochs),
            accountant=self.accountant,
            max_grad_norm=float(self.max_grad_norm),
            target_epsilon=None if self.epsilon is None else float(self.epsilon),
            n_samples=n,
            losses=tuple(losses),
        )


def _as_tensors(torch: Any, X: Any, y: Any, dtype: Any) -> tuple[Any, Any]:
    try:
        Xt = torch.as_tensor(np.asarray(X) if not isinstance(X, torch.Tensor) else X)
        yt = torch.as_tensor(np.asarray(y) if not isinstance(y, torch.Tensor) else y)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise DataValidationError(f"X and y must be numeric arrays: {exc}") from None
    if Xt.ndim < 2 or len(Xt) == 0:
        raise DataValidationError(
            f"X must have shape (n_samples, ...) with at least one row, got {tuple(Xt.shape)}."
        )
    if yt.ndim != 1 or len(yt) != len(Xt):
        raise DataValidationError(
            f"y must hold one class index per row of X: shape ({len(Xt)},), got {tuple(yt.shape)}."
        )
    if yt.is_floating_point() or yt.is_complex() or yt.dtype == torch.bool:
        raise DataValidationError(f"y must hold integer class indices, got dtype {yt.dtype}.")
    if int(yt.min()) < 0:
        raise DataValidationError("y must hold class indices >= 0.")
    Xt = Xt.to(dtype)
    if not bool(torch.isfinite(Xt).all()):
        raise DataValidationError("X contains NaN or infinite values; fix the input.")
    return Xt, yt.to(torch.int64)


def _check_logits(torch: Any, module: Any, Xt: Any, yt: Any) -> None:
    """One forward pass on two rows: the module must return ``(batch, n_classes)`` logits."""
    device, _ = module_device_dtype(module)
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            out = module(Xt[:2].to(device))
    except (RuntimeError, ValueError, TypeError, IndexError) as exc:
        raise InvalidParameterError(
            f"The module failed on input of shape {tuple(Xt[:2].shape)}: {exc}"
        ) from None
    finally:
        module.train(was_training)
    n_classes = int(yt.max()) + 1
    if not isinstance(out, torch.Tensor) or out.ndim != 2 or out.shape[0] != len(Xt[:2]):
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise InvalidParameterError(
            f"The module must map a batch to logits of shape (batch, n_classes); for a batch "
            f"of {len(Xt[:2])} rows it returned {shape}."
        )
    if out.shape[1] < n_classes:
        raise InvalidParameterError(
            f"The module returns {out.shape[1]} logits per row but y has class index "
            f"{n_classes - 1}; it needs at least {n_classes} outputs."
        )


def mlp(n_features: int, n_classes: int, hidden: Sequence[int] = (64,)) -> torch.nn.Module:
    """A multi-layer perceptron ``Linear -> ReLU -> ... -> Linear`` giving class logits.

    The default module of :class:`DPClassifier`; pass
    ``functools.partial(mlp, hidden=(128, 64))`` as ``module_factory`` for another shape.
    """
    torch, _ = _import_deep()
    layers: list[Any] = []
    width = int(n_features)
    for h in hidden:
        layers += [torch.nn.Linear(width, int(h)), torch.nn.ReLU()]
        width = int(h)
    layers.append(torch.nn.Linear(width, int(n_classes)))
    return torch.nn.Sequential(*layers)


# -- the unlearner ---------------------------------------------------------------------------------
@register_method("dp_sgd_classifier", task="classification")
class DPClassifier(ClassifierMixin, Unlearner):
    """A PyTorch classifier trained with DP-SGD, whose privacy covers the first removals.

    ``fit`` builds ``module_factory(n_features, n_classes)`` (seeded by ``random_state``) and
    trains it with :class:`DPTrainer` on ``X`` (float32) and the class indices of ``y``. The
    trained model is ``(epsilon, delta)``-DP; by group privacy it is
    ``(k epsilon, k e^((k-1) epsilon) delta)``-indistinguishable from the same mechanism run
    without any ``k`` of its rows. :attr:`covered_removals_` is the largest ``k`` within
    ``(removal_epsilon, removal_delta)``.

    ``unlearn``: while the rows removed since the last training (this request included) number
    at most ``covered_removals_``, the model is **left unchanged** (bit for bit) and the result's
    guarantee is ``certified`` at the group-privacy epsilon and delta of that cumulative count.
    A request that would go beyond retrains the model from scratch with DP-SGD on the retained
    rows (fresh seeds drawn from ``random_state``; ``retrained_fraction=1.0``,
    ``evidence["retrained"]``) and the count restarts at zero.

    "Certified" here means indistinguishability at the reported epsilon from a model trained
    without the removed rows, not equality with it: the removed rows did shape the weights, by
    an amount the privacy guarantee bounds. See :mod:`unlearnkit.certified.dp`.

    Parameters
    ----------
    module_factory : callable or None, default=None
        ``module_factory(n_features, n_classes) -> torch.nn.Module`` returning class logits;
        None means :func:`mlp` (one hidden layer of 64 units). Must be picklable (a top-level
        function or class, or a ``functools.partial`` of one) for :meth:`save`.
    epsilon : float or None, default=1.0
        Training target epsilon; None when ``noise_multiplier`` is given.
    delta : float, default=1e-5
        Training delta.
    noise_multiplier : float or None, default=None
        Train with this noise multiplier instead of a target epsilon (then ``epsilon=None``).
    accountant : {"prv", "rdp"}, default="prv"
        Opacus accountant. ``"gdp"`` is refused here: Opacus warns it can underestimate
        epsilon, and a certificate needs an upper bound.
    max_grad_norm : float, default=1.0
    epochs : int, default=5
    batch_size : int, default=64
    lr : float, default=0.5
    momentum : float, default=0.0
    removal_epsilon : float, default=4.0
        Removals are served without retraining while their group epsilon stays within this.
    removal_delta : float, default=1e-3
        ... and their group delta within this.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, the Poisson sampling and the noise of every (re)training.
    device : str, default="cpu"
        Torch device for training and prediction.
    grad_sample_mode : {"ghost", "hooks"}, default="ghost"
        How Opacus computes per-sample gradient norms (see :class:`DPTrainer`).

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained network (eval mode; no gradients or per-sample traces left on it).
    classes_ : ndarray of shape (n_classes,)
    privacy_ : DPTrainingReport
        Epsilon spent, noise multiplier, sample rate and steps of the last (re)training.
    covered_removals_ : int
        Removals the last (re)training covers at ``(removal_epsilon, removal_delta)``.
    removals_since_training_ : int
        Rows removed since the last (re)training (all still in the module's training data).
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from unlearnkit.certified import DPClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 4)); y = (X[:, 0] > 0).astype(int)
    >>> model = DPClassifier(epsilon=1.0, accountant="rdp", epochs=2, random_state=0).fit(X, y)
    >>> model.privacy_.epsilon <= 1.0, model.covered_removals_
    (True, 4)
    >>> result = model.unlearn([5, 6])
    >>> result.changed, result.evidence["retrained"], result.guarantee.epsilon <= 2.0
    (False, False, True)
    """

    supported_requests: ClassVar[frozenset[RequestKind]] = frozenset({"items", "group"})
    check_data_kind = "classification"
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "module_factory": [callable, None],
        "epsilon": [Interval(Real, 0, None, closed="neither"), None],
        "delta": [Interval(Real, 0, 1, closed="neither")],
        "noise_multiplier": [Interval(Real, 0, None, closed="neither"), None],
        "accountant": [StrOptions({"prv", "rdp"})],
        "max_grad_norm": [Interval(Real, 0, None, closed="neither")],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "removal_epsilon": [Interval(Real, 0, None, closed="neither")],
        "removal_delta": [Interval(Real, 0, 1, closed="neither")],
        "random_state": ["random_state"],
        "device": [str],
        "grad_sample_mode": [StrOptions(set(GRAD_SAMPLE_MODES))],
    }

    classes_: np.ndarray
    module_: torch.nn.Module
    privacy_: DPTrainingReport
    covered_removals_: int
    _codes: np.ndarray
    _rng: np.random.Generator
    _removed_since_training: int

    def __init__(
        self,
        module_factory: Callable[[int, int], torch.nn.Module] | None = None,
        *,
        epsilon: float | None = 1.0,
        delta: float = 1e-5,
        noise_multiplier: float | None = None,
        accountant: str = "prv",
        max_grad_norm: float = 1.0,
        epochs: int = 5,
        batch_size: int = 64,
        lr: float = 0.5,
        momentum: float = 0.0,
        removal_epsilon: float = 4.0,
        removal_delta: float = 1e-3,
        random_state: Any = None,
        device: str = "cpu",
        grad_sample_mode: str = "ghost",
    ) -> None:
        self.module_factory = module_factory
        self.epsilon = epsilon
        self.delta = delta
        self.noise_multiplier = noise_multiplier
        self.accountant = accountant
        self.max_grad_norm = max_grad_norm
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.momentum = momentum
        self.removal_epsilon = removal_epsilon
        self.removal_delta = removal_delta
        self.random_state = random_state
        self.device = device
        self.grad_sample_mode = grad_sample_mode

    # -- the guarantee ------------------------------------------------------------------------
    @property
    def guarantee(self) -> Guarantee:  # type: ignore[override]
        """What the model promises now.

        Before ``fit``: ``certified(removal_epsilon, removal_delta)``, the level every removal
        is served at. After: the group privacy of the rows removed since the last training
        (``k = removals_since_training_``), or, with none removed yet, the training's own
        ``(epsilon, delta)`` -- the level at which any one row is already protected.
        """
        if not self._is_fitted():
            return Guarantee.certified(self.removal_epsilon, self.removal_delta)
        eps, dlt = self.privacy_.group(max(self._removed_since_training, 1))
        return Guarantee.certified(eps, dlt)

    @property
    def removals_since_training_(self) -> int:
        """Rows removed since the last (re)training."""
        self._require_fitted("count its removals")
        return self._removed_since_training

    # -- fit ------------------------------------------------------------------------------------
    def fit(self, X: Any, y: Any, *, sample_ids: Any = None, sample_weight: Any = None) -> Self:
        """Train the module with DP-SGD on ``X, y``; rows are addressed by ``sample_ids``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Class labels, at least two classes.
        sample_ids : array-like of shape (n_samples,), optional
            Unique integer or string ids (``0..n-1`` by default).
        sample_weight : None
            Not supported (DP-SGD bounds each row's contribution alike).

        Returns
        -------
        self

        Raises
        ------
        InvalidParameterError
            Bad parameters or a module that cannot be trained privately.
        DataValidationError
            Malformed data. A model that fails to refit stays the model it was.
        """
        self._validate_params()
        self._check_combination()
        if sample_weight is not None:
            raise DataValidationError(
                "DPClassifier does not take sample_weight: DP-SGD bounds every row's "
                "contribution alike. Repeat rows or drop sample_weight."
            )
        snapshot = dict(self.__dict__)
        try:
            _, yv, _ = self._start_fit(X, y, sample_ids, None)
            assert yv is not None
            try:
                check_classification_targets(yv)
            except ValueError as exc:
                raise DataValidationError(
                    f"{exc}. DPClassifier needs class labels (integers or strings)."
                ) from None
            self.classes_, codes = np.unique(yv, return_inverse=True)
            if len(self.classes_) < 2:
                raise DataValidationError(
                    f"y holds a single class {preview(self.classes_.tolist())}; a classifier "
                    "needs at least two."
                )
            self._codes = np.asarray(codes, dtype=np.int64)
            self._rng = self._new_rng()
            self.__dict__.update(self._train(self._store.retained(), self._rng))
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(snapshot)
            raise
        return self

    def _check_combination(self) -> None:
        if (self.epsilon is None) == (self.noise_multiplier is None):
            raise InvalidParameterError(
                f"Pass exactly one of epsilon (a target) and noise_multiplier, got "
                f"epsilon={self.epsilon!r}, noise_multiplier={self.noise_multiplier!r}; set "
                "epsilon=None to train with a given noise multiplier."
            )

    def _new_rng(self) -> np.random.Generator:
        state = self.random_state
        if state is None or isinstance(state, Integral):
            return np.random.default_rng(None if state is None else int(state))
        seed = check_random_state(state).randint(np.iinfo(np.int32).max)
        return np.random.default_rng(seed)

    def _train(self, rows: np.ndarray, rng: np.random.Generator) -> dict[str, Any]:
        """A model trained from scratch on stored rows ``rows`` (advances ``rng``)."""
        torch, _ = _import_deep()
        init_seed, train_seed = (int(s) for s in rng.integers(0, 2**62, size=2))
        factory = mlp if self.module_factory is None else self.module_factory
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(init_seed)
            module = factory(int(self.n_features_in_), len(self.classes_))
        if not isinstance(module, torch.nn.Module):
            raise InvalidParameterError(
                f"module_factory returned a {type(module).__name__}, not a torch.nn.Module."
            )
        module.to(torch.device(self.device))
        X = np.asarray(self._store.X[rows], dtype=np.float32)
        _check_module_output(torch, module, X[:2], len(self.classes_), int(self.n_features_in_))
        trainer = DPTrainer(
            epsilon=self.epsilon,
            delta=float(self.delta),
            noise_multiplier=self.noise_multiplier,
            accountant=self.accountant,
            max_grad_norm=float(self.max_grad_norm),
            epochs=int(self.epochs),
            batch_size=int(self.batch_size),
            lr=float(self.lr),
            momentum=float(self.momentum),
            random_state=train_seed,
            device=self.device,
            grad_sample_mode=self.grad_sample_mode,
        )
        report = trainer.train(module, X, self._codes[rows])
        module.eval()
        return {
            "module_": module,
            "privacy_": report,
            "covered_removals_": report.covered_removals(
                float(self.removal_epsilon), float(self.removal_delta)
            ),
            "_removed_since_training": 0,
        }

    # -- predictions ------------------------------------------------------------------------------
    def predict_proba(self, X: Any) -> np.ndarray:
        """Softmax of the module's logits, columns in the order of ``classes_``."""
        torch, _ = _import_deep()
        logits = forward_numpy(self.module_, self._check_X(X), batch_size=1024, what="module")
        return np.asarray(torch.softmax(torch.as_tensor(logits), dim=1).numpy())

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Log-softmax of the module's logits."""
        torch, _ = _import_deep()
        logits = forward_numpy(self.module_, self._check_X(X), batch_size=1024, what="module")
        return np.asarray(torch.log_softmax(torch.as_tensor(logits), dim=1).numpy())

    def predict(self, X: Any) -> np.ndarray:
        """The class with the largest logit for each row of ``X``."""
        logits = forward_numpy(self.module_, self._check_X(X), batch_size=1024, what="module")
        return np.asarray(self.classes_[np.argmax(logits, axis=1)])

    # -- state -----------------------------------------------------------------------------
    def _learned_state(self) -> dict[str, Any]:
        state = super()._learned_state()
        module = state.pop("module_", None)
        if module is not None:
            state["module_"] = {
                name: _tensor_to_numpy(tensor) for name, tensor in module.state_dict().items()
            }
        return state

    # -- removal ---------------------------------------------------------------------------
    def _forget_rows(self, rows: np.ndarray) -> Change:
        k = self._removed_since_training + len(rows)
        before = self.privacy_
        common = {
            "rows_removed": len(rows),
            "covered_removals": self.covered_removals_,
            "removal_epsilon": float(self.removal_epsilon),
            "removal_delta": float(self.removal_delta),
        }
        if k <= self.covered_removals_:
            self._removed_since_training = k
            eps, dlt = before.group(k)
            return Change(
                0.0,
                {
                    **common,
                    "retrained": False,
                    "removals_since_training": k,
                    "group_epsilon": eps,
                    "group_delta": dlt,
                    "training_epsilon": before.epsilon,
                    "training_delta": before.delta,
                },
            )
        rng = copy.deepcopy(self._rng)
        state = self._train(self._store.retained(excluding=rows), rng)
        self.__dict__.update(state)
        self._rng = rng
        report: DPTrainingReport = state["privacy_"]
        return Change(
            1.0,
            {
                **common,
                "retrained": True,
                "removals_beyond_coverage": k,
                "removals_since_training": 0,
                "covered_removals_after": report.covered_removals(
                    float(self.removal_epsilon), float(self.removal_delta)
                ),
                "training_epsilon": report.epsilon,
                "training_delta": report.delta,
                "training": report.to_dict(),
            },
        )


def _check_module_output(
    torch: Any, module: Any, X: np.ndarray, n_classes: int, n_features: int
) -> None:
    """The factory's module must map ``(batch, n_features)`` to ``(batch, n_classes)``."""
    built = f"module_factory({n_features}, {n_classes}) built a {type(module).__name__} that"
    try:
        out = forward_numpy(module, X, batch_size=len(X), what="module")
    except DataValidationError as exc:
        raise InvalidParameterError(f"{built} does not give logits: {exc}") from None
    if out.shape[1] != n_classes:
        raise InvalidParameterError(
            f"{built} returns {out.shape[1]} outputs per row; it must return one logit per "
            f"class ({n_classes})."
        )


def _tensor_to_numpy(tensor: Any) -> np.ndarray:
    t = tensor.detach().cpu()
    try:
        return np.asarray(t.numpy())
    except TypeError:  # dtypes NumPy lacks (bfloat16)
        return np.asarray(t.double().numpy())
