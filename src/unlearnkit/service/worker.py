"""The worker process: claims requests from the books and carries them to ``done``.

``unlearnkit worker --db URL`` runs :func:`run_worker` until SIGINT or SIGTERM; several
workers can share one PostgreSQL database (claims are leases, see
:class:`~unlearnkit.ledger.Executor`). A worker killed outright is safe too: its requests are
taken over when its leases expire and resume from their last committed step.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

from unlearnkit.ledger import Executor, ExecutorConfig, Ledger

__all__ = ["run_worker"]


def run_worker(
    ledger: Ledger,
    config: ExecutorConfig | None = None,
    *,
    poll_seconds: float = 0.2,
    stop: threading.Event | None = None,
) -> None:
    """Process requests until ``stop`` is set or the process gets SIGINT / SIGTERM."""
    stop = stop or threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _stop)
        signal.signal(signal.SIGTERM, _stop)
    Executor(ledger, config).run_forever(stop, poll_seconds=poll_seconds)
