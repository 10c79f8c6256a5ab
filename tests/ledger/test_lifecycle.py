"""Requests move through their lifecycle, once, with lineage, evidence and certificates."""

from __future__ import annotations

import json
import os
import time

import numpy as np
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from ledger_helpers import toy_model
from sqlalchemy import text

from unlearnkit.errors import InvalidRequestError
from unlearnkit.ledger import (
    ArtifactPurgedError,
    CertificateError,
    Executor,
    ExecutorConfig,
    IdempotencyConflictError,
    RequestSpec,
    verify_document,
)
from unlearnkit.ledger.schema import Base
from unlearnkit.persistence import load


def test_migrations_create_exactly_the_schema_of_the_models(books):
    with books.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_erasure_goes_through_every_state_and_is_certified(toy):
    req, created = toy.submit(RequestSpec(kind="erase_subject", subject="s3"), owner="alice")
    assert created
    assert req["status"] == "received"
    assert Executor(toy).run_until_idle() == 1
    done = toy.get_request(req["id"])
    assert done["status"] == "done", done["error"]
    states = [e["status"] for e in toy.request_history(req["id"])]
    assert states == ["received", "planned", "running", "verified", "done"]
    # lineage: version 2 of the model, child of version 1, in service; version 1 superseded
    versions = {v["version"]: v for v in toy.list_model_versions(model="ridge").items}
    assert versions[2]["parent_id"] == versions[1]["id"]
    assert (versions[1]["status"], versions[2]["status"]) == ("superseded", "active")
    assert toy.list_models().items[0]["head"]["version"] == 2
    model = load(versions[2]["artifact_path"])
    assert not {3, 23, 43} & set(model.sample_ids_.tolist())
    assert model.n_samples_ == 57
    # the superseded artifact, which held the subject's rows, is deleted and recorded
    assert not os.path.exists(versions[1]["artifact_path"])
    assert os.path.exists(versions[2]["artifact_path"])
    assert versions[1]["artifact_state"] == "purged"
    assert versions[1]["purged_by_request_id"] == req["id"]
    assert versions[2]["artifact_state"] == "present"
    with pytest.raises(ArtifactPurgedError, match=req["id"]) as purged:
        toy.load_model("ridge", 1)
    assert (purged.value.version, purged.value.request_id) == (1, req["id"])
    assert toy.load_model("ridge").n_samples_ == 57
    report = toy.subject_report("s3")["models"][0]
    assert report["held"] == []
    assert sorted(r["sample_id"] for r in report["removed"]) == ["23", "3", "43"]
    lineage = {v["version"]: v["artifact_state"] for v in report["versions"]}
    assert lineage == {1: "purged", 2: "present"}
    (entry,) = [e for e in toy.audit_log(limit=100).items if e["action"] == "artifact.purged"]
    assert entry["entity"] == "model:ridge@1"
    payload = json.loads(entry["payload"])
    assert payload["artifact_path"] == versions[1]["artifact_path"]
    assert payload["artifact_sha256"] == versions[1]["artifact_sha256"]
    assert (payload["request_id"], payload["file_found"]) == (req["id"], True)
    # the certificate names everything, states the purge, and its signature holds
    doc = toy.certificate(request_id=req["id"])
    body = verify_document(doc, toy.signer.public_key_pem)
    assert body["subject"] == "s3"
    assert body["samples"] == ["23", "3", "43"]
    assert body["verification"]["superseded_artifacts"] == 1
    assert body["verification"]["superseded_artifacts_purged"] is True
    assert body["models"][0]["superseded_artifact"]["purged"] is True
    assert body["audit_anchor"]["seq"] > entry["seq"]  # issued after the purge was recorded
    assert body["guarantee"]["kind"] == "exact"
    (entry,) = body["models"]
    assert entry["version_before"]["version"] == 1
    assert entry["version_after"]["version"] == 2
    checks = {c["name"]: c["passed"] for c in entry["verification"]["checks"]}
    assert checks == {
        "forgotten_ids_absent": True,
        "fingerprint_changed": True,
        "matches_retrain": True,
    }
    assert toy.verify_audit().ok


def test_altered_certificate_fails_verification(toy):
    req, _ = toy.submit(RequestSpec(kind="erase_subject", subject="s1"))
    Executor(toy).run_until_idle()
    doc = toy.certificate(request_id=req["id"])
    forged = json.loads(json.dumps(doc))
    forged["certificate"]["samples"] = ["999"]
    with pytest.raises(CertificateError, match="altered"):
        verify_document(forged, toy.signer.public_key_pem)
    from unlearnkit.ledger import Signer

    other = Signer.load_or_create(toy.home / "other-key.pem")
    with pytest.raises(CertificateError, match="signed by key"):
        verify_document(doc, other.public_key_pem)


def test_idempotency_key_makes_a_resubmission_a_no_op(toy):
    spec = RequestSpec(kind="erase_subject", subject="s5")
    first, created = toy.submit(spec, owner="alice", idempotency_key="abc")
    again, created_again = toy.submit(spec, owner="alice", idempotency_key="abc")
    assert created
    assert not created_again
    assert again["id"] == first["id"]
    # the same key from another owner is another request
    other, created_other = toy.submit(spec, owner="bob", idempotency_key="abc")
    assert created_other
    assert other["id"] != first["id"]
    with pytest.raises(IdempotencyConflictError, match="abc"):
        toy.submit(
            RequestSpec(kind="erase_subject", subject="s6"), owner="alice", idempotency_key="abc"
        )
    assert toy.list_requests().total == 2


def test_planning_finds_every_model_holding_the_subject(toy):
    # a second model trained on half of the dataset: s3's rows 3, 23, 43 -> only 3 and 23
    toy.register_model("ridge-half", toy_model(n=30, ids=range(30)), dataset="toy")
    req, _ = toy.submit(RequestSpec(kind="erase_subject", subject="s3"))
    Executor(toy).run_until_idle()
    body = toy.certificate(request_id=req["id"])["certificate"]
    removed = {m["model"]: m["removed_samples"] for m in body["models"]}
    assert removed == {"ridge": 3, "ridge-half": 2}
    # the subject of rows 40..59 only is in the full model alone
    req2, _ = toy.submit(RequestSpec(kind="items", dataset="toy", ids=(45,)))
    Executor(toy).run_until_idle()
    body2 = toy.certificate(request_id=req2["id"])["certificate"]
    assert [m["model"] for m in body2["models"]] == ["ridge"]


def test_subject_without_data_gets_a_certificate_naming_no_model(toy):
    req, _ = toy.submit(RequestSpec(kind="erase_subject", subject="nobody"))
    Executor(toy).run_until_idle()
    assert toy.get_request(req["id"])["status"] == "done"
    body = toy.certificate(request_id=req["id"])["certificate"]
    assert body["models"] == []
    assert body["guarantee"] is None


def test_erasing_twice_changes_nothing_the_second_time(toy):
    spec = RequestSpec(kind="erase_subject", subject="s2")
    toy.submit(spec)
    toy.submit(spec)
    assert Executor(toy).run_until_idle() == 2
    assert toy.list_model_versions(model="ridge").total == 2


def test_unknown_ids_fail_the_request_with_a_clear_message(toy):
    req, _ = toy.submit(RequestSpec(kind="items", dataset="toy", ids=(5, 1000)))
    Executor(toy).run_until_idle()
    failed = toy.get_request(req["id"])
    assert failed["status"] == "failed"
    assert "'1000'" in failed["error"]
    assert toy.list_models().items[0]["head"]["version"] == 1


def test_unlearning_error_fails_the_request_and_keeps_the_model(toy):
    # removing every sample of one dataset through a 'classes' request is not supported by ridge
    req, _ = toy.submit(RequestSpec(kind="classes", dataset="toy", labels=(1,)))
    Executor(toy).run_until_idle()
    failed = toy.get_request(req["id"])
    assert failed["status"] == "failed"
    assert "classes" in failed["error"]
    assert toy.list_models().items[0]["head"]["version"] == 1
    assert toy.verify_audit().ok


def test_tampered_artifact_is_refused(toy):
    head = toy.list_models().items[0]["head"]
    with open(head["artifact_path"], "ab") as fh:
        fh.write(b"x")
    req, _ = toy.submit(RequestSpec(kind="erase_subject", subject="s4"))
    Executor(toy).run_until_idle()
    failed = toy.get_request(req["id"])
    assert failed["status"] == "failed"
    assert "no longer matches" in failed["error"]


def test_feature_and_group_requests_make_new_versions(toy):
    req, _ = toy.submit(RequestSpec(kind="features", dataset="toy", columns=(1,)))
    Executor(toy).run_until_idle()
    assert toy.get_request(req["id"])["status"] == "done"
    model = load(toy.list_models().items[0]["head"]["artifact_path"])
    assert model.n_features_in_ == 3
    req2, _ = toy.submit(RequestSpec(kind="group", dataset="toy", where={"y": 1e9}))
    Executor(toy).run_until_idle()
    assert toy.get_request(req2["id"])["status"] == "failed"  # nothing matches: clear error


def test_crash_after_writing_the_artifact_is_resumed_without_doing_it_twice(toy, monkeypatch):
    from unlearnkit.ledger import executor as ex

    req, _ = toy.submit(RequestSpec(kind="erase_subject", subject="s7"))
    real = ex.sha256_file
    calls = {"n": 0}

    def dies_once(path):
        calls["n"] += 1
        if calls["n"] == 2:  # the first hash checks the source, the second the new artifact
            raise KeyboardInterrupt("simulated crash")
        return real(path)

    monkeypatch.setattr(ex, "sha256_file", dies_once)
    with pytest.raises(KeyboardInterrupt):
        Executor(toy, ExecutorConfig(worker_id="w1", lease_seconds=0.5)).run_until_idle()
    assert toy.get_request(req["id"])["status"] == "running"
    monkeypatch.setattr(ex, "sha256_file", real)
    # the dead worker's model lock holds until it expires
    assert Executor(toy, ExecutorConfig(worker_id="w2")).run_until_idle() == 0
    time.sleep(0.6)
    assert Executor(toy, ExecutorConfig(worker_id="w2")).run_until_idle() == 1
    assert toy.get_request(req["id"])["status"] == "done"
    assert toy.list_model_versions(model="ridge").total == 2
    assert toy.verify_audit().ok


def test_request_spec_validation():
    with pytest.raises(InvalidRequestError, match="subject"):
        RequestSpec(kind="erase_subject")
    with pytest.raises(InvalidRequestError, match="dataset"):
        RequestSpec(kind="items", ids=(1,))
    with pytest.raises(InvalidRequestError, match="reason"):
        RequestSpec(kind="erase_subject", subject="a", reason="whim")
    with pytest.raises(InvalidRequestError, match="Unknown request field"):
        RequestSpec.from_dict({"kind": "erase_subject", "subject": "a", "colour": 1})


def test_audit_log_names_the_first_tampered_entry(toy, db_url):
    toy.submit(RequestSpec(kind="erase_subject", subject="s8"))
    Executor(toy).run_until_idle()
    assert toy.verify_audit().ok
    n = toy.audit_log().total
    assert n >= 8
    with toy.engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_log SET payload = :p WHERE seq = 4"), {"p": '{"forged":true}'}
        )
    report = toy.verify_audit()
    assert not report.ok
    assert report.first_bad_seq == 4
    assert "altered" in report.problem


def test_deleting_an_audit_entry_is_detected(toy):
    toy.submit(RequestSpec(kind="erase_subject", subject="s9"))
    with toy.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq = 2"))
    report = toy.verify_audit()
    assert report.first_bad_seq == 3
    assert "deleted" in report.problem


def test_model_must_be_trained_on_the_registered_dataset(books):
    books.register_dataset("d", "v1", sample_ids=range(10))
    with pytest.raises(InvalidRequestError, match="does not have"):
        books.register_model("m", toy_model(n=20), dataset="d")
    assert books.list_models().total == 0
    assert np.isfinite(books.list_datasets().total)


def test_deleting_the_end_of_the_audit_log_is_caught_by_certificate_anchors(toy):
    req, _ = toy.submit(RequestSpec(kind="erase_subject", subject="s10"))
    Executor(toy).run_until_idle()
    anchor = toy.certificate(request_id=req["id"])["certificate"]["audit_anchor"]
    assert toy.verify_audit().ok
    with toy.engine.begin() as conn:  # drop everything from the anchor on: the chain still fits
        conn.execute(text("DELETE FROM audit_log WHERE seq >= :s"), {"s": anchor["seq"]})
    report = toy.verify_audit()
    assert not report.ok
    assert report.first_bad_seq == anchor["seq"]
    assert "deleted from its end" in report.problem
