"""The :class:`Backend` interface and the error a failed job raises."""

from __future__ import annotations

import abc
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Self, TypeVar

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from unlearnkit.errors import UnlearnError

__all__ = ["Backend", "BackendError", "JobError"]

T = TypeVar("T")
R = TypeVar("R")


class BackendError(UnlearnError, RuntimeError):
    """A backend cannot start or connect (Ray missing, unreachable address, bad ``n_jobs``)."""


class JobError(UnlearnError, RuntimeError):
    """One job of :meth:`Backend.map` raised; the original exception is ``__cause__``.

    Attributes
    ----------
    index : int
        Position of the failing item in the items passed to ``map``.
    item : str
        ``repr`` of the failing item (shortened).
    error : BaseException
        The exception the job raised.
    """

    def __init__(self, index: int, item: Any, error: BaseException, details: str = "") -> None:
        self.index = index
        self.item = _short_repr(item)
        self.error = error
        self.details = details
        super().__init__(
            f"Job {index} ({self.item}) failed with {type(error).__name__}: {error}. "
            "The other jobs' results were discarded; fix the cause and run again."
        )


def _short_repr(value: Any, limit: int = 120) -> str:
    try:
        text = repr(value)
    except Exception:  # a broken __repr__ must not hide the real error
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True)
class _Failure:
    """What a job returns instead of raising, so the parent can name the item that failed."""

    error: BaseException
    details: str


class _Call:
    """``fn(item)`` that returns a :class:`_Failure` instead of raising (picklable)."""

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        self.fn = fn

    def __call__(self, item: Any) -> Any:
        try:
            return self.fn(item)
        except Exception as exc:
            import traceback

            return _Failure(exc, "".join(traceback.format_exception(exc)))


def _unwrap(results: Iterable[Any], items: Sequence[Any]) -> list[Any]:
    out = []
    for index, value in enumerate(results):
        if isinstance(value, _Failure):
            raise JobError(index, items[index], value.error, value.details) from value.error
        out.append(value)
    return out


class Backend(abc.ABC):
    """Where independent jobs run: ``map(fn, items)`` returns ``[fn(i) for i in items]``.

    Implementations run the calls in parallel (processes or a Ray cluster) but always return
    the results in the order of ``items``. ``fn`` and the items must be picklable (functions
    defined at module level, not lambdas, for process pools). A job that raises stops the
    map with a :class:`JobError` naming the item.

    A backend is a context manager; :meth:`close` releases only what the backend itself
    started (a local Ray instance it launched, for example).
    """

    #: The registry name (``"local"``, ``"ray"``).
    name: str = ""

    @property
    @abc.abstractmethod
    def n_workers(self) -> int:
        """How many jobs can run at once."""

    @abc.abstractmethod
    def _run(self, call: _Call, items: Sequence[Any], advance: Callable[[], None]) -> list[Any]:
        """Run ``call`` on every item, in order, calling ``advance`` as each one finishes."""

    def map(self, fn: Callable[[T], R], items: Iterable[T], *, desc: str | None = None) -> list[R]:
        """``[fn(item) for item in items]``, run in parallel, results in the order of ``items``.

        Parameters
        ----------
        fn : callable
            A picklable function of one item.
        items : iterable
            The job inputs.
        desc : str, optional
            Label of a Rich progress bar, shown on standard error when it is a terminal.

        Raises
        ------
        JobError
            When a job raises; names the item and chains the original exception.
        """
        items = list(items)
        if not items:
            return []
        call = _Call(fn)
        with _progress(desc, len(items)) as advance:
            results = self._run(call, items, advance)
        return _unwrap(results, items)

    def close(self) -> None:  # noqa: B027 - optional hook, most backends hold nothing
        """Release what this backend started; it must not be used afterwards."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n_workers={self.n_workers})"


@contextmanager
def _progress(desc: str | None, total: int) -> Iterator[Callable[[], None]]:
    if desc is None or not sys.stderr.isatty():
        yield lambda: None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(desc, total=total)
        yield lambda: progress.advance(task)
