"""Bounded load on loopback: 20 concurrent clients, 200 submissions, duplicates by key.

Every distinct request must end ``done`` exactly once: one request per idempotency key, one
certificate and one new model version each, nothing lost.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
from service_helpers import LiveServer, auth

CLIENTS = 20
SUBMISSIONS = 200
DISTINCT = 100


def test_concurrent_clients_with_duplicate_keys(books):
    requesters = [books.create_token("requester", name=f"client-{i}")[0] for i in range(4)]
    # submission j uses key j % DISTINCT: every key is sent twice, from the same requester
    plan = [(j % DISTINCT) for j in range(SUBMISSIONS)]
    with LiveServer(books) as live:

        def submit(key: int) -> tuple[int, str, int]:
            token = requesters[key % len(requesters)]
            with httpx.Client(base_url=live.url, timeout=60) as client:
                r = client.post(
                    "/v1/requests",
                    json={"kind": "erase_subject", "subject": f"c{key}"},
                    headers={**auth(token), "Idempotency-Key": f"erase-c{key}"},
                )
            assert r.status_code in (200, 201), r.text
            return key, r.json()["id"], r.status_code

        with ThreadPoolExecutor(CLIENTS) as pool:
            results = list(pool.map(submit, plan))
        by_key: dict[int, set[str]] = {}
        for key, rid, _ in results:
            by_key.setdefault(key, set()).add(rid)
        assert all(len(ids) == 1 for ids in by_key.values())
        assert len(by_key) == DISTINCT
        assert sum(code == 201 for *_, code in results) == DISTINCT
        ids = {next(iter(v)) for v in by_key.values()}
        admin = books.create_token("admin")[0]
        deadline = time.monotonic() + 300
        with httpx.Client(base_url=live.url, timeout=60, headers=auth(admin)) as client:
            while True:
                counts = client.get("/v1/stats").json()
                if counts["done"] + counts["failed"] == DISTINCT:
                    break
                assert time.monotonic() < deadline, f"not finished: {counts}"
                time.sleep(0.2)
            assert counts["done"] == DISTINCT, counts
            listed = []
            url = "/v1/requests?limit=100"
            while url:
                page = client.get(url).json()
                listed += page["items"]
                url = page["next"]
    assert {r["id"] for r in listed} == ids
    assert books.list_certificates().total == DISTINCT
    versions = books.list_model_versions(model="scorer", limit=500)
    assert versions.total == DISTINCT + 1
    assert sum(v["status"] == "active" for v in versions.items) == 1
    actions = [e["action"] for e in books.audit_log(limit=5000).items]
    assert actions.count("request.received") == DISTINCT
    assert actions.count("model.verified") == DISTINCT
    assert actions.count("request.done") == DISTINCT
    assert books.verify_audit().ok
