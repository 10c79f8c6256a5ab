"""The books' commands: ledger verify, tokens create, certificate verify."""

from __future__ import annotations

import json

from sqlalchemy import text
from typer.testing import CliRunner

from unlearnkit._cli_service import main
from unlearnkit.ledger import Executor, Ledger, RequestSpec

runner = CliRunner()


def _run(*args: str):
    return runner.invoke(main, list(args))


def test_ledger_verify_names_the_first_tampered_entry(toy, db_url):
    toy.submit(RequestSpec(kind="erase_subject", subject="s1"))
    Executor(toy).run_until_idle()
    ok = _run("ledger", "verify", "--db", db_url)
    assert ok.exit_code == 0, ok.output
    assert "intact" in ok.output
    with toy.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE seq = 5"))
    bad = _run("ledger", "verify", "--db", db_url)
    assert bad.exit_code == 3
    assert "entry 5 was tampered with" in bad.output


def test_tokens_create_prints_the_token_last(toy, db_url):
    result = _run("tokens", "create", "--role", "auditor", "--db", db_url)
    assert result.exit_code == 0, result.output
    token = result.output.split()[-1]
    assert toy.authenticate(token)["role"] == "auditor"
    bad = _run("tokens", "create", "--role", "boss", "--db", db_url)
    assert bad.exit_code == 3
    assert "requester, operator, auditor, admin" in bad.output


def test_certificate_verify(toy, db_url, tmp_path):
    req, _ = toy.submit(RequestSpec(kind="erase_subject", subject="s2"))
    Executor(toy).run_until_idle()
    path = tmp_path / "cert.json"
    doc = toy.certificate(request_id=req["id"])
    path.write_text(json.dumps(doc))
    result = _run("certificate", "verify", str(path), "--db", db_url)
    assert result.exit_code == 0, result.output
    assert "is valid" in result.output
    assert "s2" in result.output
    key = tmp_path / "public.pem"
    key.write_text(toy.signer.public_key_pem)
    assert _run("certificate", "verify", str(path), "--public-key", str(key)).exit_code == 0
    doc["certificate"]["subject"] = "someone-else"
    path.write_text(json.dumps(doc))
    forged = _run("certificate", "verify", str(path), "--db", db_url)
    assert forged.exit_code == 3
    assert "altered" in forged.output
    assert _run("certificate", "verify", str(tmp_path / "none.json")).exit_code == 4


def test_default_books_are_the_embedded_sqlite_file(tmp_path, monkeypatch):
    monkeypatch.setenv("UNLEARNKIT_HOME", str(tmp_path / "home"))
    result = _run("tokens", "create", "--role", "admin")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "home" / "ledger.db").is_file()
    books = Ledger.open()
    assert books.authenticate(result.output.split()[-1])["role"] == "admin"


def test_attach_an_audit_report_from_files(toy, db_url, tmp_path):
    report = tmp_path / "audit.json"
    report.write_text(json.dumps({"verdict": "forgotten", "confidence": 0.97, "reason": "ok"}))
    page = tmp_path / "audit.html"
    page.write_text("<html>plots</html>")
    result = _run(
        "ledger",
        "attach-audit",
        str(report),
        "--model",
        "ridge",
        "--version",
        "1",
        "--html",
        str(page),
        "--db",
        db_url,
    )
    assert result.exit_code == 0, result.output
    (item,) = toy.list_audit_reports(model="ridge").items
    assert (item["verdict"], item["has_html"]) == ("forgotten", True)
    assert toy.audit_report_html(item["id"]) == "<html>plots</html>"
    wrong = _run(
        "ledger", "attach-audit", str(report), "--model", "ridge", "--version", "7", "--db", db_url
    )
    assert wrong.exit_code == 3
    assert "no version 7" in wrong.output


def test_ledger_artifact_gives_the_version_in_service_and_refuses_a_purged_one(
    toy, db_url, tmp_path
):
    req, _ = toy.submit(RequestSpec(kind="erase_subject", subject="s1"))
    Executor(toy).run_until_idle()
    current = _run("ledger", "artifact", "ridge", "--out", str(tmp_path / "m.ukit"), "--db", db_url)
    assert current.exit_code == 0, current.output
    assert (
        Ledger.open(db_url).load_model("ridge").fingerprint()
        == type(toy.load_model("ridge")).load(tmp_path / "m.ukit").fingerprint()
    )
    purged = _run("ledger", "artifact", "ridge", "--version", "1", "--db", db_url)
    assert purged.exit_code == 4
    assert "purged" in purged.output
    assert req["id"] in purged.output


def test_worker_and_serve_pass_the_retrain_check_setting(monkeypatch, db_url):
    import uvicorn

    import unlearnkit.service as service
    import unlearnkit.service.worker as worker_module

    seen = []
    monkeypatch.setattr(worker_module, "run_worker", lambda books, config: seen.append(config))
    monkeypatch.setattr(
        service, "create_app", lambda books, **kw: seen.append(kw["worker_config"]) or object()
    )
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: None)
    assert _run("worker", "--db", db_url, "--no-retrain-check", "--name", "w1").exit_code == 0
    assert _run("worker", "--db", db_url).exit_code == 0
    assert _run("serve", "--db", db_url, "--no-retrain-check").exit_code == 0
    checks = [c.verification.retrain_check for c in seen]
    assert checks == [False, True, False]
    assert seen[0].worker_id == "w1"
