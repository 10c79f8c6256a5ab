"""Commands of the books and the service: ``ledger``, ``tokens``, ``certificate``, ``serve``,
``worker``.

Every command that touches the books takes ``--db URL`` (default: the embedded SQLite file,
``$UNLEARNKIT_HOME/ledger.db``, ``~/.unlearnkit/ledger.db`` when unset).

Exit codes: 0 success; 1 unexpected error; 2 usage error; 3 a check failed (tampered audit log,
invalid certificate) or invalid input; 4 a file was not found.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from unlearnkit.errors import UnlearnError

if TYPE_CHECKING:
    from unlearnkit.ledger import Ledger, VerificationConfig

__all__ = ["certificate_app", "ledger_app", "main", "register", "serve", "tokens_app", "worker"]

EXIT_CHECK_FAILED = 3
EXIT_NOT_FOUND = 4

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL: sqlite:///PATH or postgresql+psycopg://USER@HOST/DB "
        "(default: the embedded SQLite file under $UNLEARNKIT_HOME or ~/.unlearnkit).",
        show_default=False,
    ),
]

ledger_app = typer.Typer(help="Inspect and check the books.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens of the service.", no_args_is_help=True)
certificate_app = typer.Typer(help="Erasure certificates.", no_args_is_help=True)


def _out() -> Console:
    return Console(highlight=False)


def _err() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def _fail(message: str, code: int) -> typer.Exit:
    _err().print(f"[bold red]error:[/bold red] [red]{escape(' '.join(message.split()))}[/red]")
    return typer.Exit(code)


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except (typer.Exit, typer.Abort):
        raise
    except FileNotFoundError as exc:
        raise _fail(str(exc), EXIT_NOT_FOUND) from None
    except UnlearnError as exc:
        raise _fail(str(exc), EXIT_CHECK_FAILED) from None


def _ledger(db: str | None) -> Ledger:
    from unlearnkit.ledger import Ledger

    return Ledger.open(db)


@ledger_app.command("verify")
def ledger_verify(db: DbOption = None) -> None:
    """Recompute the audit log's hash chain; name the first entry that was tampered with."""
    with _errors():
        books = _ledger(db)
        report = books.verify_audit()
        if not report.ok:
            raise _fail(
                f"audit log entry {report.first_bad_seq} was tampered with: {report.problem}. "
                f"Entries before it ({(report.first_bad_seq or 1) - 1}) verify.",
                EXIT_CHECK_FAILED,
            )
        _out().print(f"audit log intact: {report.entries} entries, head {report.head}")


@ledger_app.command("status")
def ledger_status(db: DbOption = None) -> None:
    """Requests per state, models and certificates in the books."""
    with _errors():
        books = _ledger(db)
        counts = books.status_counts()
        out = _out()
        out.print("requests: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        out.print(f"models: {books.list_models().total}")
        out.print(f"certificates: {books.list_certificates().total}")


@ledger_app.command("attach-audit")
def ledger_attach_audit(
    report: Annotated[
        Path, typer.Argument(metavar="REPORT.json", help="JSON written by `unlearnkit audit`.")
    ],
    model: Annotated[str, typer.Option("--model", help="Model name in the books.")],
    version: Annotated[int, typer.Option("--version", min=1, help="Model version audited.")],
    html: Annotated[
        Path | None, typer.Option("--html", help="The audit's HTML page (shown with its plots).")
    ] = None,
    db: DbOption = None,
) -> None:
    """Attach an audit report to a model version; the dashboard shows it with its plots."""
    with _errors():
        for path in (report, html):
            if path is not None and not path.is_file():
                raise FileNotFoundError(f"File {str(path)!r} does not exist.")
        try:
            body = json.loads(report.read_text())
        except ValueError as exc:
            raise UnlearnError(f"{report} is not valid JSON: {exc}.") from None
        record = _ledger(db).attach_audit_report(
            model,
            version,
            body,
            html=None if html is None else html.read_text(),
            actor="cli",
        )
        _out().print(f"attached audit {record['id']} ({record['verdict']}) to {model} v{version}")


@ledger_app.command("artifact")
def ledger_artifact(
    model: Annotated[str, typer.Argument(help="Model name in the books.")],
    version: Annotated[
        int | None, typer.Option("--version", min=1, help="Default: the version in service.")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Copy the model file here.")] = None,
    db: DbOption = None,
) -> None:
    """Print (or copy) a model version's file, its SHA-256 checked. A version whose file was
    purged after an erasure exits 4 and names the request."""
    import shutil

    from unlearnkit.ledger import NotFoundError

    with _errors():
        try:
            path = _ledger(db).model_artifact(model, version)
        except NotFoundError as exc:
            raise _fail(str(exc), EXIT_NOT_FOUND) from None
        if out is not None:
            shutil.copyfile(path, out)
        _out().print(str(out or path))


@tokens_app.command("create")
def tokens_create(
    role: Annotated[str, typer.Option("--role", help="requester, operator, auditor or admin.")],
    name: Annotated[str, typer.Option("--name", help="A label for the token.")] = "",
    expires_in: Annotated[
        float | None,
        typer.Option("--expires-in", help="Lifetime in hours (default: no expiry).", min=0.0),
    ] = None,
    db: DbOption = None,
) -> None:
    """Create an API token; the token is the last word printed."""
    with _errors():
        books = _ledger(db)
        lifetime = None if expires_in is None else dt.timedelta(hours=expires_in)
        secret, record = books.create_token(role, name=name, expires_in=lifetime, actor="cli")
        expiry = record["expires_at"] or "never"
        typer.echo(
            f"Created {record['role']} token {record['id']} ({record['name']}), expires "
            f"{expiry}. Store it now; it is not shown again: {secret}"
        )


@certificate_app.command("verify")
def certificate_verify(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A certificate JSON file.")],
    public_key: Annotated[
        Path | None,
        typer.Option(
            "--public-key",
            help="PEM public key to check against (default: the keys "
            "recorded in the books at --db).",
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Check a certificate's Ed25519 signature against the service's public key."""
    from unlearnkit.ledger import CertificateError, verify_document

    with _errors():
        if not file.is_file():
            raise FileNotFoundError(f"Certificate file {str(file)!r} does not exist.")
        document = json.loads(file.read_text())
        if public_key is not None:
            pem = public_key.read_text()
        else:
            kid = (document.get("signature") or {}).get("key_id", "")
            keys = _ledger(db).public_keys()
            if kid not in keys:
                raise CertificateError(
                    f"The books hold no public key {kid[:16]}...: the certificate was not issued "
                    "by this service. Pass the issuer's key with --public-key."
                )
            pem = keys[kid]
        body = verify_document(document, pem)
        models = ", ".join(
            f"{m['model']} v{m['version_before']['version']}->v{m['version_after']['version']}"
            for m in body.get("models", [])
        )
        _out().print(
            f"certificate {body.get('certificate_id')} is valid: subject "
            f"{body.get('subject')}, {len(body.get('samples', []))} samples, "
            f"guarantee {body.get('guarantee_label')}, models: {models or 'none'}"
        )


RetrainCheckOption = Annotated[
    bool,
    typer.Option(
        "--retrain-check/--no-retrain-check",
        help="Before an exact model's new version goes into service, compare it with a fit "
        "from scratch on the retained rows (off: only the held-ids and changed-state checks).",
    ),
]


def _verification(retrain_check: bool) -> VerificationConfig:
    from unlearnkit.ledger import VerificationConfig

    return VerificationConfig(retrain_check=retrain_check)


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    db: DbOption = None,
    worker: Annotated[
        bool,
        typer.Option("--worker/--no-worker", help="Run a worker in this process as well."),
    ] = True,
    retrain_check: RetrainCheckOption = True,
) -> None:
    """Run the REST API, a worker and the dashboard in one process."""
    import uvicorn

    from unlearnkit.ledger import ExecutorConfig
    from unlearnkit.service import create_app

    with _errors():
        books = _ledger(db)
        config = ExecutorConfig(verification=_verification(retrain_check))
        app = create_app(books, run_worker=worker, worker_config=config)
        _out().print(
            f"books: {escape(books.engine.url.render_as_string(hide_password=True))}\n"
            f"dashboard: http://{host}:{port}/dashboard/  API: http://{host}:{port}/v1  "
            f"schema: http://{host}:{port}/openapi.json"
        )
        uvicorn.run(app, host=host, port=port, log_level="warning")


def worker(
    db: DbOption = None,
    lease_seconds: Annotated[
        float,
        typer.Option(
            "--lease-seconds",
            min=0.1,
            help="How long a claim lasts without renewal (a killed worker's requests are taken "
            "over after this long).",
        ),
    ] = 30.0,
    name: Annotated[
        str | None, typer.Option("--name", help="Worker name written into leases.")
    ] = None,
    retrain_check: RetrainCheckOption = True,
) -> None:
    """Run a worker: claim requests from the books and carry them to done."""
    from unlearnkit.ledger import ExecutorConfig
    from unlearnkit.service.worker import run_worker

    with _errors():
        books = _ledger(db)
        config = ExecutorConfig(
            lease_seconds=lease_seconds, verification=_verification(retrain_check)
        )
        if name is not None:
            config = replace(config, worker_id=name)
        _out().print(f"worker {config.worker_id} on {books.engine.url.render_as_string()}")
        run_worker(books, config)


def register(app: typer.Typer) -> None:
    """Add the books and service commands to the ``unlearnkit`` command."""
    app.add_typer(ledger_app, name="ledger")
    app.add_typer(tokens_app, name="tokens")
    app.add_typer(certificate_app, name="certificate")
    app.command("serve")(serve)
    app.command("worker")(worker)


main = typer.Typer(help="The books and the erasure service.", no_args_is_help=True)
register(main)

if __name__ == "__main__":
    main()
