"""Helpers of the service tests: a populated ledger, auth headers, a live server."""

from __future__ import annotations

import socket
import threading
import time

import numpy as np

from unlearnkit.exact import RidgeUnlearner
from unlearnkit.ledger import ExecutorConfig, Ledger


def populate(books: Ledger, n: int = 200, d: int = 4, seed: int = 0) -> None:
    """A dataset of ``n`` samples, one subject per sample (``c0``..), and a ridge model."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = X @ rng.normal(size=d) + 0.1 * rng.normal(size=n)
    books.register_dataset(
        "credit", "v1", sample_ids=range(n), subjects=[f"c{i}" for i in range(n)]
    )
    books.register_model("scorer", RidgeUnlearner(alpha=1.0).fit(X, y), dataset="credit")


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """The app served by uvicorn on a loopback port, in a thread, worker included."""

    def __init__(self, books: Ledger, *, worker: bool = True) -> None:
        import uvicorn

        from unlearnkit.service import create_app

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        app = create_app(books, run_worker=worker, worker_config=ExecutorConfig(lease_seconds=10))
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start in 20 s")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
