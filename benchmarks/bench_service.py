"""The erasure service: requests per second from submission to certificate, and the latency of
one erasure end to end, on SQLite and on PostgreSQL, for closed-form models.

Side by side in one run, per database and model: the bare ``model.unlearn`` call (no books),
a from-scratch refit on the retained rows (what a service without unlearning would do), and the
service's full path (request written, planned, model loaded, unlearned, saved, verified against
a retrain, version chain updated, certificate signed, every step in the audit log).

Goal: measure what the books cost. The service's path includes, by design, one refit from
scratch per model (the verification of exact models) plus writing the new model version (the
artifact holds the training rows) and a dozen small transactions, so one erasure end to end
costs more than a bare refit: ``refit_over_p95`` below 1 says by how much. The figure
``service.png`` beside the JSON plots p50 and p95 against the refit.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import clone

from benchmarks._common import best_time, quick, results_dir, write_results
from unlearnkit.exact import GaussianNBUnlearner, RidgeUnlearner
from unlearnkit.ledger import Executor, Ledger, RequestSpec
from unlearnkit.ledger.testing import TemporaryPostgres, skip_reason


def _data(kind: str, n: int, d: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    X = rng.normal(size=(n, d))
    score = X @ rng.normal(size=d) + rng.normal(size=n)
    return (X, score) if kind == "regression" else (X, (score > 0).astype(np.int64))


MODELS: dict[str, tuple[Any, str]] = {
    "ridge": (RidgeUnlearner(alpha=1.0), "regression"),
    "gaussian_nb": (GaussianNBUnlearner(), "classification"),
}


def _case(
    url: str, home: Path, name: str, n: int, d: int, requests: int, latency_runs: int
) -> dict:
    estimator, kind = MODELS[name]
    rng = np.random.default_rng(0)
    X, y = _data(kind, n, d, rng)
    model = clone(estimator).fit(X, y)
    books = Ledger.open(url, home=home)
    try:
        books.register_dataset("bench", "v1", sample_ids=range(n), subjects=range(n))
        books.register_model("m", model, dataset="bench")
        worker = Executor(books)
        # throughput: a queue of `requests` erasures, each of a different subject
        for i in range(requests):
            books.submit(RequestSpec(kind="erase_subject", subject=str(i)))
        start = time.perf_counter()
        done = worker.run_until_idle()
        seconds = time.perf_counter() - start
        assert done == requests
        assert books.list_certificates().total == requests
        # latency: one request at a time, submission to certificate
        latencies = []
        for i in range(requests, requests + latency_runs):
            start = time.perf_counter()
            req, _ = books.submit(RequestSpec(kind="erase_subject", subject=str(i)))
            worker.run_until_idle()
            latencies.append(time.perf_counter() - start)
            assert books.get_request(req["id"])["certificate_id"] is not None
        assert books.verify_audit().ok
    finally:
        books.close()
    forgotten = requests + latency_runs
    bare = clone(estimator).fit(X, y)
    ids = iter(range(forgotten, n))
    unlearn_s = best_time(lambda: bare.unlearn([next(ids)]), repeat=20)
    keep = np.arange(forgotten, n)
    refit_s = best_time(lambda: clone(estimator).fit(X[keep], y[keep]), repeat=3)
    p50, p95 = (float(v) for v in np.percentile(latencies, [50, 95]))
    return {
        "model": name,
        "n": n,
        "d": d,
        "requests": requests,
        "requests_per_s": requests / seconds,
        "p50_s": p50,
        "p95_s": p95,
        "bare_unlearn_s": unlearn_s,
        "refit_s": refit_s,
        "overhead_x": p50 / unlearn_s,
        "refit_over_p95": refit_s / p95,
    }


def plot(rows: list[dict], path: Path) -> None:
    """p50 / p95 of one erasure end to end beside the bare unlearn call and a refit."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 4.2))
    labels = [f"{r['db']}\n{r['model']}\nn={r['n']:,}" for r in rows]
    x = np.arange(len(rows))
    width = 0.2
    for i, (key, name) in enumerate(
        (
            ("bare_unlearn_s", "model.unlearn (no books)"),
            ("refit_s", "refit from scratch"),
            ("p50_s", "service p50 (submit -> certificate)"),
            ("p95_s", "service p95"),
        )
    ):
        ax.bar(x + (i - 1.5) * width, [r[key] for r in rows], width, label=name)
    ax.set_yscale("log")
    ax.set_ylabel("seconds per erasure")
    ax.set_xticks(x, labels, fontsize=7)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("One erasure through the books, and what it costs without them")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run(quick: bool) -> dict:
    sizes = [(2_000, 10)] if quick else [(10_000, 20), (100_000, 20)]
    requests = 5 if quick else 40
    latency_runs = 3 if quick else 25
    databases: list[tuple[str, Any]] = [("sqlite", None)]
    # quick runs (the smoke test) stay on SQLite; full runs add PostgreSQL where installed
    reason = "quick run" if quick else skip_reason()
    if reason is None:
        databases.append(("postgresql", TemporaryPostgres().start()))
    rows = []
    try:
        for db, server in databases:
            for name in MODELS:
                for n, d in sizes:
                    with tempfile.TemporaryDirectory() as tmp:
                        url = (
                            f"sqlite:///{tmp}/ledger.db"
                            if server is None
                            else server.new_database()
                        )
                        row = _case(url, Path(tmp), name, n, d, requests, latency_runs)
                    rows.append({"db": db, **row})
    finally:
        for _, server in databases:
            if server is not None:
                server.stop()
    columns = [
        "db",
        "model",
        "n",
        "d",
        "requests_per_s",
        "p50_s",
        "p95_s",
        "bare_unlearn_s",
        "refit_s",
        "overhead_x",
        "refit_over_p95",
    ]
    extra: dict[str, Any] = {"load_average_1min": os.getloadavg()[0]}
    if reason is not None:
        extra["postgresql_skipped"] = reason
    plot(rows, results_dir() / f"service{'-quick' if quick else ''}.png")
    write_results(
        "service",
        rows,
        goal="requests/s submission -> certificate; p50/p95 of one erasure vs unlearn and refit",
        columns=columns,
        **extra,
    )
    return {"rows": rows}


def main() -> None:
    run(quick())


if __name__ == "__main__":
    main()
