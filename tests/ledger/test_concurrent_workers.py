"""Several workers on one database: every request is done once and each model's versions
form one chain, whatever the interleaving."""

from __future__ import annotations

import itertools
import threading

from ledger_helpers import toy_model

from unlearnkit.ledger import Executor, ExecutorConfig, RequestSpec


def test_three_workers_share_the_queue_without_doing_anything_twice(toy):
    toy.register_model("ridge-b", toy_model(seed=1), dataset="toy")
    ids = [
        toy.submit(RequestSpec(kind="erase_subject", subject=f"s{i}"))[0]["id"] for i in range(12)
    ]
    stop = threading.Event()
    workers = [
        threading.Thread(
            target=Executor(toy, ExecutorConfig(worker_id=f"w{k}", lease_seconds=5)).run_forever,
            args=(stop,),
            kwargs={"poll_seconds": 0.02},
        )
        for k in range(3)
    ]
    for w in workers:
        w.start()
    try:
        while toy.status_counts()["done"] + toy.status_counts()["failed"] < len(ids):
            stop.wait(0.05)
    finally:
        stop.set()
        for w in workers:
            w.join(timeout=30)
    assert toy.status_counts()["done"] == len(ids)
    assert toy.list_certificates().total == len(ids)
    for name in ("ridge", "ridge-b"):
        versions = sorted(
            toy.list_model_versions(model=name, limit=100).items, key=lambda v: v["version"]
        )
        assert [v["version"] for v in versions] == list(range(1, len(ids) + 2))
        for parent, child in itertools.pairwise(versions):
            assert child["parent_id"] == parent["id"]
        assert [v["status"] for v in versions].count("active") == 1
    actions = [e["action"] for e in toy.audit_log(limit=1000).items]
    assert actions.count("model.verified") == 2 * len(ids)
    assert actions.count("request.done") == len(ids)
    assert toy.verify_audit().ok
