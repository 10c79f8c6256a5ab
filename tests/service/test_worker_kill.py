"""A worker killed with SIGKILL in the middle of unlearning loses nothing and repeats nothing."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from sqlalchemy import select

from unlearnkit.exact import RidgeUnlearner
from unlearnkit.ledger import Ledger, RequestSpec
from unlearnkit.ledger.schema import Model
from unlearnkit.persistence import load

N_REQUESTS = 6


def _start_worker(url: str, home: str) -> subprocess.Popen:
    env = {**os.environ, "UNLEARNKIT_HOME": home, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "unlearnkit._cli_service",
            "worker",
            "--db",
            url,
            "--lease-seconds",
            "1",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _model_locked(books: Ledger) -> bool:
    with books.reading() as s:
        return s.scalar(select(Model.lock_owner)) is not None


def _wait(predicate, timeout: float, what: str, proc=None) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"worker exited early: {proc.stderr.read().decode()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


def test_sigkill_during_unlearning_then_restart_completes_everything(db_url, tmp_path, monkeypatch):
    home = str(tmp_path / "home")
    monkeypatch.setenv("UNLEARNKIT_HOME", home)
    books = Ledger.open(db_url)
    rng = np.random.default_rng(1)
    n, d = 4_000, 20
    X = rng.normal(size=(n, d))
    y = X @ rng.normal(size=d) + rng.normal(size=n)
    books.register_dataset("big", "v1", sample_ids=range(n), subjects=[f"p{i}" for i in range(n)])
    books.register_model("big-ridge", RidgeUnlearner(alpha=1.0).fit(X, y), dataset="big")
    ids = [
        books.submit(RequestSpec(kind="erase_subject", subject=f"p{i}"), idempotency_key=f"k{i}")[
            0
        ]["id"]
        for i in range(N_REQUESTS)
    ]
    # two kills at different moments on SQLite; one on PostgreSQL keeps the suite short
    for kills in range(2 if db_url.startswith("sqlite") else 1):
        worker = _start_worker(db_url, home)
        try:
            # wait for a request to be mid-way: a model locked by the worker while it unlearns
            _wait(lambda: _model_locked(books), 60, "the worker to start unlearning", worker)
            time.sleep(float(np.random.default_rng(kills).uniform(0, 0.05)))
        finally:
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
        assert worker.returncode == -signal.SIGKILL
    statuses = [books.get_request(i)["status"] for i in ids]
    assert statuses.count("done") < N_REQUESTS  # the kills interrupted the work
    worker = _start_worker(db_url, home)
    try:
        _wait(
            lambda: all(books.get_request(i)["status"] in ("done", "failed") for i in ids),
            90,
            "the restarted worker to finish",
            worker,
        )
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
    assert worker.returncode == 0  # SIGTERM stops a worker cleanly
    # every request done, with exactly one certificate
    for rid in ids:
        req = books.get_request(rid)
        assert req["status"] == "done", req["error"]
        assert req["certificate_id"] is not None
    assert books.list_certificates().total == N_REQUESTS
    # the version chain is linear: v1 -> v2 -> ... -> v(N+1), one in service, nothing left over
    versions = sorted(books.list_model_versions(limit=100).items, key=lambda v: v["version"])
    assert [v["version"] for v in versions] == list(range(1, N_REQUESTS + 2))
    for parent, child in itertools.pairwise(versions):
        assert child["parent_id"] == parent["id"]
        assert parent["status"] == "superseded"
    assert versions[-1]["status"] == "active"
    # every superseded artifact was deleted exactly once, the one in service never
    assert [v["artifact_state"] for v in versions] == ["purged"] * N_REQUESTS + ["present"]
    assert not any(os.path.exists(v["artifact_path"]) for v in versions[:-1])
    head = load(versions[-1]["artifact_path"])
    assert head.n_samples_ == n - N_REQUESTS
    assert not set(range(N_REQUESTS)) & set(head.sample_ids_.tolist())
    # the audit log verifies, and each model step was recorded exactly once
    assert books.verify_audit().ok
    actions = [e["action"] for e in books.audit_log(limit=500).items]
    assert actions.count("model.verified") == N_REQUESTS
    assert actions.count("model.unlearned") == N_REQUESTS
    assert actions.count("request.done") == N_REQUESTS
    assert actions.count("artifact.purged") == N_REQUESTS
    books.close()


pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")
