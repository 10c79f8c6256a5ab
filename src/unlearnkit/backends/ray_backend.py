"""Jobs on a Ray cluster: an existing one (``address`` or ``RAY_ADDRESS``) or a local one."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from unlearnkit.backends._base import Backend, BackendError, _Call

__all__ = ["RayBackend"]


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise BackendError(
            "backend='ray' needs the ray package; install it with `pip install "
            "'unlearnkit[ray]'`, or use backend='local'."
        ) from None
    return ray


def _call_remote(call: _Call, item: Any) -> Any:
    return call(item)


class RayBackend(Backend):
    """Run jobs as Ray tasks, one CPU each.

    If Ray is already initialised in this process, that session is used and left running.
    Otherwise the backend connects to ``address``, else to ``$RAY_ADDRESS``, else starts a
    local Ray with ``n_jobs`` CPUs (all cores when None); :meth:`close` then shuts down
    the session it opened, and only that.

    Parameters
    ----------
    address : str, optional
        A Ray cluster address such as ``"ray://head:10001"`` or ``"auto"``.
    n_jobs : int, optional
        CPUs of a locally started Ray (ignored when connecting to a cluster).

    Examples
    --------
    >>> from unlearnkit.backends import RayBackend
    >>> with RayBackend(n_jobs=1) as backend:  # doctest: +SKIP
    ...     backend.map(abs, [-1, 2])
    [1, 2]
    """

    name = "ray"

    def __init__(self, address: str | None = None, n_jobs: int | None = None) -> None:
        if n_jobs is not None and (
            isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs < 1
        ):
            raise BackendError(
                f"n_jobs={n_jobs!r} is not a number of CPUs for a local Ray; pass a positive "
                "integer or None for every core."
            )
        self.address = address or os.environ.get("RAY_ADDRESS") or None
        self.n_jobs = n_jobs
        self._started = False
        self._ray: Any = None
        self._connect()

    def _connect(self) -> Any:
        """Join or start Ray unless this backend already did."""
        if self._ray is not None:
            return self._ray
        ray = _import_ray()
        if not ray.is_initialized():
            try:
                if self.address is not None:
                    ray.init(address=self.address, logging_level="warning")
                else:
                    ray.init(
                        num_cpus=self.n_jobs,
                        include_dashboard=False,
                        logging_level="warning",
                        log_to_driver=False,
                    )
            except Exception as exc:
                where = self.address or "a local Ray instance"
                raise BackendError(
                    f"Could not start or reach Ray at {where}: {exc}. Check the address "
                    "(RAY_ADDRESS) or use backend='local'."
                ) from exc
            self._started = True
        self._ray = ray
        self._remote = ray.remote(num_cpus=1, max_retries=0)(_call_remote)
        return ray

    def __getstate__(self) -> dict[str, Any]:
        """Only the settings: a copy (a saved model's backend) connects again when used."""
        return {"address": self.address, "n_jobs": self.n_jobs}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.address = state["address"]
        self.n_jobs = state["n_jobs"]
        self._started = False
        self._ray = None

    @property
    def n_workers(self) -> int:
        return max(1, int(self._connect().cluster_resources().get("CPU", 1)))

    def _run(self, call: _Call, items: Sequence[Any], advance: Callable[[], None]) -> list[Any]:
        ray = self._connect()
        call_ref = ray.put(call)
        refs = [self._remote.remote(call_ref, item) for item in items]
        pending = list(refs)
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for _ in done:
                advance()
        return list(ray.get(refs))

    def close(self) -> None:
        """Shut down the Ray session this backend opened (none if it joined one)."""
        if self._started and self._ray is not None and self._ray.is_initialized():
            self._ray.shutdown()
        self._started = False
        self._ray = None
