"""The REST API: auth and roles, the request lifecycle, pagination, problem+json errors."""

from __future__ import annotations

import datetime as dt
import hashlib
import time

import pytest
from fastapi.testclient import TestClient
from service_helpers import auth

from unlearnkit.ledger import Executor, verify_document
from unlearnkit.service import create_app


@pytest.fixture
def client(books):
    with TestClient(create_app(books)) as c:
        yield c


def test_no_bad_or_expired_token_is_401(client, books):
    for headers in ({}, auth("ukt_not-a-token"), {"Authorization": "Basic abc"}):
        r = client.get("/v1/requests", headers=headers)
        assert r.status_code == 401
        assert r.headers["content-type"] == "application/problem+json"
        assert r.headers["www-authenticate"] == "Bearer"
        assert r.json()["detail"]
    expired, _ = books.create_token("operator", expires_in=dt.timedelta(seconds=0.2))
    assert client.get("/v1/me", headers=auth(expired)).status_code == 200
    time.sleep(0.3)
    r = client.get("/v1/me", headers=auth(expired))
    assert r.status_code == 401
    assert "expired" in r.json()["detail"]


def test_roles(client, tokens):
    erase = {"kind": "erase_subject", "subject": "c1"}
    assert (
        client.post("/v1/requests", json=erase, headers=auth(tokens["auditor"])).status_code == 403
    )
    for role in ("requester", "operator", "admin"):
        r = client.post("/v1/requests", json=erase, headers=auth(tokens[role]))
        assert r.status_code == 201, r.text
    # an auditor reads the audit log and certificates, a requester does not
    assert client.get("/v1/audit", headers=auth(tokens["auditor"])).status_code == 200
    assert client.get("/v1/audit", headers=auth(tokens["requester"])).status_code == 403
    assert client.get("/v1/certificates", headers=auth(tokens["requester"])).status_code == 403
    # tokens are for admins only
    body = {"role": "requester"}
    assert client.post("/v1/tokens", json=body, headers=auth(tokens["operator"])).status_code == 403
    r = client.post("/v1/tokens", json=body, headers=auth(tokens["admin"]))
    assert r.status_code == 201
    new = r.json()["token"]
    assert client.get("/v1/me", headers=auth(new)).json()["role"] == "requester"
    listed = client.get("/v1/tokens", headers=auth(tokens["admin"])).json()["items"]
    assert all("token" not in t for t in listed)
    r = client.delete(f"/v1/tokens/{r.json()['id']}", headers=auth(tokens["admin"]))
    assert r.json()["revoked"] is True
    revoked = client.get("/v1/me", headers=auth(new))
    assert revoked.status_code == 401
    assert "revoked" in revoked.json()["detail"]
    assert (
        client.post(
            "/v1/datasets",
            json={"name": "x", "version": "1", "sample_ids": [1]},
            headers=auth(tokens["requester"]),
        ).status_code
        == 403
    )


def test_requester_cannot_read_another_requesters_requests(client, tokens):
    mine = client.post(
        "/v1/requests",
        json={"kind": "erase_subject", "subject": "c2"},
        headers=auth(tokens["requester"]),
    ).json()
    other = auth(tokens["requester2"])
    for path in ("", "/history", "/certificate"):
        r = client.get(f"/v1/requests/{mine['id']}{path}", headers=other)
        assert r.status_code == 404
        assert r.headers["content-type"] == "application/problem+json"
    assert client.get("/v1/requests", headers=other).json()["total"] == 0
    assert client.get("/v1/requests", headers=auth(tokens["requester"])).json()["total"] == 1
    assert (
        client.get(f"/v1/requests/{mine['id']}", headers=auth(tokens["auditor"])).status_code == 200
    )


def test_erasure_through_the_api_ends_with_a_valid_certificate(client, books, tokens):
    h = auth(tokens["requester"])
    r = client.post(
        "/v1/requests",
        json={"kind": "erase_subject", "subject": "c7"},
        headers={**h, "Idempotency-Key": "req-c7"},
    )
    assert r.status_code == 201
    assert r.headers["location"] == f"/v1/requests/{r.json()['id']}"
    again = client.post(
        "/v1/requests",
        json={"kind": "erase_subject", "subject": "c7"},
        headers={**h, "Idempotency-Key": "req-c7"},
    )
    assert again.status_code == 200
    assert again.json()["id"] == r.json()["id"]
    clash = client.post(
        "/v1/requests",
        json={"kind": "erase_subject", "subject": "c8"},
        headers={**h, "Idempotency-Key": "req-c7"},
    )
    assert clash.status_code == 409
    assert "req-c7" in clash.json()["detail"]
    Executor(books).run_until_idle()
    rid = r.json()["id"]
    done = client.get(f"/v1/requests/{rid}", headers=h).json()
    assert done["status"] == "done"
    assert done["tasks"][0]["model"] == "scorer"
    history = client.get(f"/v1/requests/{rid}/history", headers=h).json()
    assert [e["status"] for e in history] == ["received", "planned", "running", "verified", "done"]
    doc = client.get(f"/v1/requests/{rid}/certificate", headers=h).json()
    (key,) = client.get("/v1/keys", headers=h).json()
    assert verify_document(doc, key["public_key_pem"])["samples"] == ["7"]
    aud = auth(tokens["auditor"])
    cert_id = doc["certificate"]["certificate_id"]
    assert client.get(f"/v1/certificates/{cert_id}", headers=aud).json() == doc
    versions = client.get("/v1/model-versions?model=scorer", headers=aud).json()
    assert [v["version"] for v in versions["items"]] == [2, 1]
    report = client.get("/v1/subjects/c7", headers=aud).json()
    assert report["models"][0]["removed"][0]["request_id"] == rid
    assert client.get("/v1/audit/verify", headers=aud).json()["ok"] is True
    # the superseded version's artifact is gone: downloading it is a 410 naming the request
    assert [v["artifact_state"] for v in versions["items"]] == ["present", "purged"]
    gone = client.get("/v1/models/scorer/versions/1/artifact", headers=aud)
    assert gone.status_code == 410
    assert gone.headers["content-type"] == "application/problem+json"
    assert gone.json()["request_id"] == rid
    assert f"after erasure request {rid}" in gone.json()["detail"]
    current = client.get("/v1/models/scorer/versions/2/artifact", headers=aud)
    assert current.status_code == 200
    assert hashlib.sha256(current.content).hexdigest() == versions["items"][0]["artifact_sha256"]
    assert client.get("/v1/models/scorer/versions/9/artifact", headers=aud).status_code == 404
    assert client.get("/v1/models/scorer/versions/2/artifact", headers=h).status_code == 403


def test_pagination(client, tokens):
    h = auth(tokens["operator"])
    for i in range(7):
        client.post("/v1/requests", json={"kind": "erase_subject", "subject": f"c{i}"}, headers=h)
    first = client.get("/v1/requests?limit=3", headers=h).json()
    assert first["total"] == 7
    assert len(first["items"]) == 3
    seen = [x["id"] for x in first["items"]]
    nxt = first["next"]
    while nxt:
        page = client.get(nxt, headers=h).json()
        seen += [x["id"] for x in page["items"]]
        nxt = page["next"]
    assert len(seen) == len(set(seen)) == 7
    r = client.get("/v1/requests?limit=0", headers=h)
    assert r.status_code == 422
    assert r.json()["title"] == "Invalid request"
    assert "limit" in r.json()["detail"]


def test_errors_are_problem_json_with_a_clear_message(client, tokens):
    h = auth(tokens["operator"])
    r = client.post("/v1/requests", json={"kind": "items", "ids": [1]}, headers=h)
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert "dataset" in r.json()["detail"]
    r = client.post(
        "/v1/models",
        json={"name": "m", "artifact_path": "/nonexistent.ukit", "dataset": "credit"},
        headers=h,
    )
    assert r.status_code == 404
    assert "/nonexistent.ukit" in r.json()["detail"]
    r = client.get("/v1/model-versions?model=nope", headers=h)
    assert r.status_code == 404
    assert "nope" in r.json()["detail"]


def test_register_dataset_and_model_through_the_api(client, books, tokens, tmp_path):
    from unlearnkit.exact import RidgeUnlearner

    h = auth(tokens["operator"])
    r = client.post(
        "/v1/datasets",
        json={
            "name": "small",
            "version": "2024",
            "sample_ids": [10, 11, 12],
            "subjects": ["a", "b", "a"],
        },
        headers=h,
    )
    assert r.status_code == 201, r.text
    path = (
        RidgeUnlearner()
        .fit([[0.0], [1.0], [2.0]], [0.0, 1.0, 2.5], sample_ids=[10, 11, 12])
        .save(tmp_path / "m.ukit")
    )
    r = client.post(
        "/v1/models",
        json={"name": "small-m", "artifact_path": str(path), "dataset": "small"},
        headers=h,
    )
    assert r.status_code == 201, r.text
    assert r.json()["version"] == 1
    assert client.get("/v1/datasets", headers=h).json()["total"] == 2
    assert client.get("/healthz").json()["requests"]["received"] == 0


def test_openapi_schema_lists_the_api(client):
    schema = client.get("/openapi.json").json()
    assert {
        "/v1/requests",
        "/v1/requests/{request_id}/certificate",
        "/v1/audit",
        "/healthz",
    } <= set(schema["paths"])
    assert "Problem" in schema["components"]["schemas"]


def test_audit_reports_attach_to_model_versions(client, tokens):
    op, aud = auth(tokens["operator"]), auth(tokens["auditor"])
    body = {
        "model": "scorer",
        "version": 1,
        "report": {"verdict": "inconclusive", "confidence": 0.5, "reason": "too few samples"},
        "html": "<html><body><h1>Unlearning audit</h1></body></html>",
    }
    assert client.post("/v1/audit-reports", json=body, headers=aud).status_code == 403
    r = client.post("/v1/audit-reports", json=body, headers=op)
    assert r.status_code == 201, r.text
    report_id = r.json()["id"]
    listed = client.get("/v1/audit-reports?model=scorer", headers=aud).json()
    assert [a["verdict"] for a in listed["items"]] == ["inconclusive"]
    page = client.get(f"/v1/audit-reports/{report_id}/html", headers=aud)
    assert page.headers["content-type"].startswith("text/html")
    assert "Unlearning audit" in page.text
    missing = client.post("/v1/audit-reports", json={**body, "version": 9}, headers=op)
    assert missing.status_code == 404
    bad = client.post("/v1/audit-reports", json={**body, "report": {"verdict": "fine"}}, headers=op)
    assert bad.status_code == 422
    assert "verdict" in bad.json()["detail"]
    audit_log = client.get("/v1/audit?entity=model:scorer@1", headers=aud).json()["items"]
    assert [e["action"] for e in audit_log] == ["model.registered", "audit.attached"]


@pytest.mark.parametrize(
    "path",
    [
        "/v1/subjects/a%00b",
        "/v1/requests/a%00b",
        "/v1/certificates/a%00b",
        "/v1/model-versions?model=a%00b",
        "/v1/audit-reports/a%00b/html",
        "/v1/models/a%00b/versions/1/artifact",
    ],
)
def test_nul_in_an_identifier_is_refused_not_a_server_error(client, tokens, path):
    r = client.get(path, headers=auth(tokens["admin"]))
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
