"""Where independent jobs run: local processes or a Ray cluster.

SISA shards, shadow models and reference retrains are independent jobs. They are handed to a
:class:`Backend` as ``backend.map(fn, items)``; the result list keeps the order of ``items``
whatever the order in which jobs finish.

``"local"``
    A joblib (loky) process pool; ``n_jobs=1`` (the default) runs in this process.
``"ray"``
    Ray tasks on the cluster at ``address`` or ``$RAY_ADDRESS``, else on a local Ray started
    with ``n_jobs`` CPUs (and shut down again by :meth:`Backend.close`).

Public APIs that run jobs take ``backend=`` as a name or a :class:`Backend` and turn it into
one with :func:`resolve_backend`.

Examples
--------
>>> from unlearnkit.backends import get_backend
>>> with get_backend("local", n_jobs=1) as backend:
...     backend.map(str.upper, ["a", "b"], desc="upper-casing")
['A', 'B']
"""

from __future__ import annotations

from collections.abc import Callable

from unlearnkit.backends._base import Backend, BackendError, JobError
from unlearnkit.backends.local import LocalBackend
from unlearnkit.backends.ray_backend import RayBackend
from unlearnkit.errors import InvalidParameterError
from unlearnkit.registry import Registry

__all__ = [
    "Backend",
    "BackendError",
    "JobError",
    "LocalBackend",
    "RayBackend",
    "backends",
    "get_backend",
    "resolve_backend",
]


def _ray(*, n_jobs: int | None, address: str | None) -> Backend:
    return RayBackend(address=address, n_jobs=n_jobs)


def _local(*, n_jobs: int | None, address: str | None) -> Backend:
    if address is not None:
        raise InvalidParameterError(
            f"address={address!r} applies to backend='ray' only; drop it for backend='local'."
        )
    return LocalBackend(n_jobs=n_jobs)


#: Backend factories by name.
backends: Registry[Callable[..., Backend]] = Registry("backend")
backends.add("local", _local)
backends.add("ray", _ray)


def get_backend(
    name: str = "local", *, n_jobs: int | None = None, address: str | None = None
) -> Backend:
    """A new backend by name.

    Parameters
    ----------
    name : {"local", "ray"}
        Which backend (see :data:`backends`).
    n_jobs : int, optional
        Local worker processes (``"local"``; None is one, in this process) or the CPUs of a
        locally started Ray (``"ray"``; None is every core).
    address : str, optional
        Ray cluster address (``"ray"`` only); ``$RAY_ADDRESS`` when not given.

    Raises
    ------
    InvalidParameterError
        An unknown name.
    BackendError
        The backend cannot start (Ray not installed or unreachable, bad ``n_jobs``).
    """
    if not isinstance(name, str):
        raise InvalidParameterError(
            f"backend must be a name ({', '.join(backends.names())}) or a Backend instance, "
            f"got {name!r}."
        )
    return backends.get(name)(n_jobs=n_jobs, address=address)


def resolve_backend(backend: str | Backend, *, n_jobs: int | None = None) -> Backend:
    """``backend`` itself when it is a :class:`Backend`, else ``get_backend(backend, n_jobs)``.

    The caller closes a backend it got from a name, and leaves an instance it was given open:
    ``created = resolve_backend(b) is not b``.
    """
    if isinstance(backend, Backend):
        return backend
    return get_backend(backend, n_jobs=n_jobs)
