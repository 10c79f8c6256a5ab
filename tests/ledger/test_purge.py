"""Superseded artifacts are deleted once their successor is in service, exactly once, and
never an artifact that is still in service or whose successor was not verified."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from ledger_helpers import toy_model

from unlearnkit.ledger import ArtifactPurgedError, Executor, ExecutorConfig, RequestSpec
from unlearnkit.ledger import executor as ex


def _versions(books):
    return {v["version"]: v for v in books.list_model_versions(model="ridge").items}


def _purge_entries(books):
    return [
        json.loads(e["payload"]) | {"entity": e["entity"]}
        for e in books.audit_log(limit=500).items
        if e["action"] == "artifact.purged"
    ]


def _assert_in_service_present(books):
    for v in books.list_model_versions(limit=500).items:
        if v["status"] in ("active", "candidate", "rejected"):
            assert v["artifact_state"] == "present"
            assert os.path.exists(v["artifact_path"]), v
        if v["artifact_state"] == "purged":
            assert not os.path.exists(v["artifact_path"]), v


def test_each_erasure_purges_the_version_it_replaced(toy):
    ids = [toy.submit(RequestSpec(kind="erase_subject", subject=f"s{i}"))[0]["id"] for i in (1, 2)]
    assert Executor(toy).run_until_idle() == 2
    versions = _versions(toy)
    assert [versions[v]["artifact_state"] for v in (1, 2, 3)] == ["purged", "purged", "present"]
    assert [versions[v]["purged_by_request_id"] for v in (1, 2)] == ids
    assert toy.load_model("ridge").n_samples_ == 54
    entries = _purge_entries(toy)
    assert [e["entity"] for e in entries] == ["model:ridge@1", "model:ridge@2"]
    assert [e["artifact_sha256"] for e in entries] == [
        versions[1]["artifact_sha256"],
        versions[2]["artifact_sha256"],
    ]
    for rid in ids:
        body = toy.certificate(request_id=rid)["certificate"]
        assert body["verification"]["superseded_artifacts_purged"] is True
    _assert_in_service_present(toy)
    assert toy.verify_audit().ok
    # a repeated sweep finds nothing left to do and writes nothing
    assert Executor(toy).purge_superseded() == 0
    assert len(_purge_entries(toy)) == 2


def test_failed_request_keeps_the_version_in_service_and_its_artifact(toy):
    req, _ = toy.submit(RequestSpec(kind="classes", dataset="toy", labels=(1,)))
    Executor(toy).run_until_idle()
    assert toy.get_request(req["id"])["status"] == "failed"
    assert Executor(toy).purge_superseded() == 0
    (v1,) = _versions(toy).values()
    assert (v1["status"], v1["artifact_state"]) == ("active", "present")
    assert os.path.exists(v1["artifact_path"])
    assert _purge_entries(toy) == []


def test_failed_request_purges_only_what_it_already_replaced(toy):
    toy.register_model("ridge2", toy_model(seed=1), dataset="toy")
    head2 = toy.list_model_versions(model="ridge2").items[0]
    with open(head2["artifact_path"], "ab") as fh:
        fh.write(b"x")  # the second model cannot be unlearned: the request fails on it
    req, _ = toy.submit(RequestSpec(kind="erase_subject", subject="s4"))
    Executor(toy).run_until_idle()
    assert toy.get_request(req["id"])["status"] == "failed"
    v1, v2 = _versions(toy)[1], _versions(toy)[2]
    assert (v1["artifact_state"], v2["status"]) == ("purged", "active")
    (other,) = toy.list_model_versions(model="ridge2").items
    assert (other["status"], other["artifact_state"]) == ("active", "present")
    assert os.path.exists(other["artifact_path"])
    _assert_in_service_present(toy)
    assert toy.verify_audit().ok


def test_nothing_is_purged_before_the_successor_is_verified(toy, monkeypatch):
    req, _ = toy.submit(RequestSpec(kind="erase_subject", subject="s5"))

    def dies(*args, **kwargs):
        raise KeyboardInterrupt("simulated crash before verification")

    monkeypatch.setattr(ex, "verify_unlearning", dies)
    with pytest.raises(KeyboardInterrupt):
        Executor(toy, ExecutorConfig(worker_id="w1", lease_seconds=0.3)).run_until_idle()
    monkeypatch.undo()
    versions = _versions(toy)
    assert (versions[1]["status"], versions[2]["status"]) == ("active", "candidate")
    assert Executor(toy).purge_superseded() == 0
    _assert_in_service_present(toy)
    time.sleep(0.4)  # the dead worker's model lock expires; the request then completes
    assert Executor(toy).run_until_idle() == 1
    assert toy.get_request(req["id"])["status"] == "done"
    assert _versions(toy)[1]["artifact_state"] == "purged"
    _assert_in_service_present(toy)


def test_crash_between_commit_and_delete_is_finished_by_the_next_worker(toy, monkeypatch):
    req, _ = toy.submit(RequestSpec(kind="erase_subject", subject="s6"))

    def dies(path):
        raise KeyboardInterrupt("simulated crash after the new version went into service")

    monkeypatch.setattr(ex, "_remove_file", dies)
    with pytest.raises(KeyboardInterrupt):
        Executor(toy, ExecutorConfig(worker_id="w1")).run_until_idle()
    monkeypatch.undo()
    versions = _versions(toy)
    assert (versions[1]["status"], versions[2]["status"]) == ("superseded", "active")
    assert versions[1]["artifact_state"] == "present"
    assert os.path.exists(versions[1]["artifact_path"])
    assert toy.get_request(req["id"])["status"] == "running"  # no certificate yet
    # the next worker's start-up sweep deletes it, then the request gets its certificate
    Executor(toy, ExecutorConfig(worker_id="w2")).run_until_idle()
    versions = _versions(toy)
    assert versions[1]["artifact_state"] == "purged"
    assert not os.path.exists(versions[1]["artifact_path"])
    body = toy.certificate(request_id=req["id"])["certificate"]
    assert body["verification"]["superseded_artifacts_purged"] is True
    assert len(_purge_entries(toy)) == 1
    _assert_in_service_present(toy)
    assert toy.verify_audit().ok


def test_crash_between_delete_and_record_is_recorded_by_the_next_worker(toy, monkeypatch):
    req, _ = toy.submit(RequestSpec(kind="erase_subject", subject="s8"))

    def dies(self, *args):
        raise KeyboardInterrupt("simulated crash after deleting the file")

    monkeypatch.setattr(ex.Executor, "_record_purge", dies)
    with pytest.raises(KeyboardInterrupt):
        Executor(toy, ExecutorConfig(worker_id="w1")).run_until_idle()
    monkeypatch.undo()
    v1 = _versions(toy)[1]
    assert not os.path.exists(v1["artifact_path"])
    assert v1["artifact_state"] == "present"  # not yet recorded
    assert Executor(toy, ExecutorConfig(worker_id="w2")).purge_superseded() == 1
    (entry,) = _purge_entries(toy)
    assert (entry["request_id"], entry["file_found"]) == (req["id"], False)
    Executor(toy, ExecutorConfig(worker_id="w2")).run_until_idle()
    assert toy.get_request(req["id"])["status"] == "done"
    assert toy.verify_audit().ok


def test_sigkill_between_commit_and_delete_is_cleaned_up(toy, db_url, tmp_path):
    req, _ = toy.submit(RequestSpec(kind="erase_subject", subject="s9"))
    script = textwrap.dedent(
        f"""
        import os, signal
        from unlearnkit.ledger import Executor, ExecutorConfig, Ledger
        from unlearnkit.ledger import executor as ex

        def kill(path):
            os.kill(os.getpid(), signal.SIGKILL)

        ex._remove_file = kill
        books = Ledger.open({db_url!r}, home={str(toy.home)!r})
        Executor(books, ExecutorConfig(worker_id="doomed", lease_seconds=0.5)).run_until_idle()
        """
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-c", script], env=env, timeout=120)
    assert proc.returncode == -signal.SIGKILL
    versions = _versions(toy)
    assert (versions[1]["status"], versions[2]["status"]) == ("superseded", "active")
    assert os.path.exists(versions[1]["artifact_path"])
    # the killed worker's request lease still holds, but the start-up sweep needs no lease
    assert Executor(toy, ExecutorConfig(worker_id="next")).purge_superseded() == 1
    assert not os.path.exists(versions[1]["artifact_path"])
    time.sleep(0.6)
    assert Executor(toy, ExecutorConfig(worker_id="next")).run_until_idle() == 1
    assert toy.get_request(req["id"])["status"] == "done"
    body = toy.certificate(request_id=req["id"])["certificate"]
    assert body["models"][0]["superseded_artifact"]["purged"] is True
    _assert_in_service_present(toy)
    assert toy.verify_audit().ok


def test_loading_a_purged_version_names_the_request(toy):
    req, _ = toy.submit(RequestSpec(kind="erase_subject", subject="s0"))
    Executor(toy).run_until_idle()
    with pytest.raises(ArtifactPurgedError, match=f"after erasure request {req['id']}"):
        toy.model_artifact("ridge", 1)
    assert toy.model_artifact("ridge", 2).exists()
    assert toy.model_artifact("ridge") == toy.model_artifact("ridge", 2)
