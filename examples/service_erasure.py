"""A data protection officer's erasure, through the REST API: submit, wait, download the signed
certificate and check it; then ask which models a customer's data reached.

The service runs in-process here (FastAPI's TestClient); in production run
``unlearnkit serve`` and send the same HTTP requests to it.

Run: python examples/service_erasure.py
"""

from __future__ import annotations

import tempfile
import time

import numpy as np
from fastapi.testclient import TestClient

from unlearnkit.exact import RidgeUnlearner
from unlearnkit.ledger import ExecutorConfig, Ledger, verify_document
from unlearnkit.service import create_app


def main() -> None:
    books = Ledger.open(f"sqlite:///{tempfile.mkdtemp()}/ledger.db")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5_000, 8))
    y = X @ rng.normal(size=8) + rng.normal(size=5_000)
    customers = [f"cust-{i // 2}" for i in range(5_000)]  # two rows per customer
    books.register_dataset("loans", "2024-q4", sample_ids=range(5_000), subjects=customers)
    books.register_model("risk-score", RidgeUnlearner(alpha=1.0).fit(X, y), dataset="loans")
    dpo, _ = books.create_token("requester", name="dpo")
    auditor, _ = books.create_token("auditor", name="auditor")

    app = create_app(books, run_worker=True, worker_config=ExecutorConfig(lease_seconds=5))
    with TestClient(app) as api:
        headers = {"Authorization": f"Bearer {dpo}", "Idempotency-Key": "ticket-4711"}
        body = {"kind": "erase_subject", "subject": "cust-42", "reason": "privacy"}
        request = api.post("/v1/requests", json=body, headers=headers).json()
        again = api.post("/v1/requests", json=body, headers=headers)
        print(
            f"submitted {request['id']}; resubmission returned the same request: "
            f"{again.json()['id'] == request['id']} (HTTP {again.status_code})"
        )
        while request["status"] not in ("done", "failed"):
            time.sleep(0.1)
            request = api.get(f"/v1/requests/{request['id']}", headers=headers).json()
        history = api.get(f"/v1/requests/{request['id']}/history", headers=headers).json()
        print("timeline:", " -> ".join(e["status"] for e in history))
        document = api.get(f"/v1/requests/{request['id']}/certificate", headers=headers).json()
        (key,) = api.get("/v1/keys", headers=headers).json()
        body = verify_document(document, key["public_key_pem"])
        model = body["models"][0]
        print(
            f"certificate {body['certificate_id']}: signature valid; samples {body['samples']} "
            f"left {model['model']} v{model['version_before']['version']} -> "
            f"v{model['version_after']['version']}, guarantee {body['guarantee_label']}"
        )
        report = api.get("/v1/subjects/cust-42", headers={"Authorization": f"Bearer {auditor}"})
        for entry in report.json()["models"]:
            print(
                f"{entry['model']}: still holds {entry['held']}, removed "
                f"{[r['sample_id'] for r in entry['removed']]}"
            )
        chain = api.get("/v1/audit/verify", headers={"Authorization": f"Bearer {auditor}"}).json()
        print(f"audit log: {chain['entries']} entries, intact: {chain['ok']}")
    books.close()


if __name__ == "__main__":
    main()
