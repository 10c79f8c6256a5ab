"""Jobs in local worker processes (joblib's loky pool), or in this process for ``n_jobs=1``."""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Sequence
from typing import Any

from joblib import Parallel, delayed

from unlearnkit.backends._base import Backend, BackendError, _Call

__all__ = ["LocalBackend"]


def _effective_jobs(n_jobs: int | None) -> int:
    """joblib's reading of ``n_jobs``: None is 1, -1 all cores, -2 all but one, ..."""
    cpus = os.cpu_count() or 1
    if n_jobs is None:
        return 1
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0:
        raise BackendError(
            f"n_jobs={n_jobs!r} is not allowed; pass a positive number of processes, -1 for "
            "every core, or None for one."
        )
    if n_jobs < 0:
        return max(1, cpus + 1 + n_jobs)
    return n_jobs


class LocalBackend(Backend):
    """Run jobs in a pool of local processes (joblib with the loky backend).

    Parameters
    ----------
    n_jobs : int or None, default=None
        Worker processes, as in scikit-learn: None or 1 runs every job in this process
        (no pickling, easiest to debug), -1 uses every core.

    Examples
    --------
    >>> from unlearnkit.backends import LocalBackend
    >>> LocalBackend(n_jobs=1).map(abs, [-1, 2, -3])
    [1, 2, 3]
    """

    name = "local"

    def __init__(self, n_jobs: int | None = None) -> None:
        self.n_jobs = n_jobs
        self._workers = _effective_jobs(n_jobs)

    @property
    def n_workers(self) -> int:
        return self._workers

    def _run(self, call: _Call, items: Sequence[Any], advance: Callable[[], None]) -> list[Any]:
        if self._workers == 1 or len(items) == 1:
            out = []
            for item in items:
                out.append(call(item))
                advance()
            return out
        parallel = Parallel(
            n_jobs=min(self._workers, len(items)), backend="loky", return_as="generator"
        )
        out = []
        try:
            for value in parallel(delayed(call)(item) for item in items):
                out.append(value)
                advance()
        except pickle.PicklingError as exc:
            raise BackendError(
                f"Could not send the jobs to worker processes ({exc}); the function and "
                "the items must be picklable. Use n_jobs=1 to run the jobs in this process."
            ) from exc
        return out
