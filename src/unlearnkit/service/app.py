"""The erasure service: REST API under ``/v1``, the worker, and the web dashboard.

:func:`create_app` builds the FastAPI application on a :class:`~unlearnkit.ledger.Ledger`. With
``run_worker=True`` a worker thread carries requests through their lifecycle in the same
process (what ``unlearnkit serve`` does by default); otherwise run ``unlearnkit worker``
processes against the same database.

Errors are ``application/problem+json`` (RFC 9457) with a ``detail`` that says what to do.

Examples
--------
>>> import tempfile
>>> from fastapi.testclient import TestClient
>>> from unlearnkit.ledger import Ledger
>>> books = Ledger.open(f"sqlite:///{tempfile.mkdtemp()}/ledger.db")
>>> token, _ = books.create_token("auditor")
>>> client = TestClient(create_app(books))
>>> client.get("/healthz").json()["status"]
'ok'
>>> client.get("/v1/me", headers={"Authorization": f"Bearer {token}"}).json()["role"]
'auditor'
>>> client.post("/v1/requests", json={"kind": "erase_subject", "subject": "a"},
...             headers={"Authorization": f"Bearer {token}"}).status_code
403
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Query, Request, Response
from fastapi import Path as Path_
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from unlearnkit import __version__
from unlearnkit.errors import UnlearnError
from unlearnkit.ledger import (
    AlreadyExistsError,
    ArtifactPurgedError,
    Executor,
    ExecutorConfig,
    IdempotencyConflictError,
    Ledger,
    NotFoundError,
    RequestSpec,
)
from unlearnkit.ledger import Page as LedgerPage
from unlearnkit.service import schemas as api
from unlearnkit.service.auth import Principal, authenticate, require

__all__ = ["create_app"]

PROBLEM = "application/problem+json"
STATIC = Path(__file__).with_name("static")
_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    410: "Gone",
    422: "Invalid request",
    500: "Internal server error",
}


def _problem_response(status: int, detail: str, request: Request, **extra: Any) -> JSONResponse:
    body = {
        "type": "about:blank",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "instance": str(request.url.path),
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def _responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {
        code: {
            "description": _TITLES[code],
            "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for code in codes
    }


def _page(page: LedgerPage, request: Request) -> dict[str, Any]:
    following = page.offset + page.limit
    nxt = None
    if following < page.total:
        nxt = str(request.url.include_query_params(offset=following, limit=page.limit))
    return {
        "items": page.items,
        "total": page.total,
        "limit": page.limit,
        "offset": page.offset,
        "next": nxt,
    }


#: Identifiers in paths: anything but NUL, which no database column can hold.
NO_NUL = r"^[^\x00]+$"
Key = Annotated[str, Path_(min_length=1, max_length=300, pattern=NO_NUL)]
Limit = Annotated[int, Query(ge=1, le=500, description="Page size.")]
Offset = Annotated[int, Query(ge=0, le=10**9, description="Items to skip.")]
ANY = ("requester", "operator", "auditor", "admin")
READERS = ("operator", "auditor", "admin")
WRITERS = ("operator", "admin")


def _books(request: Request) -> Ledger:
    ledger: Ledger = request.app.state.ledger
    return ledger


Books = Annotated[Ledger, Depends(_books)]


def _router() -> APIRouter:
    r = APIRouter(prefix="/v1", responses=_responses(400, 401, 403, 422))

    @r.get("/me", response_model=api.Me, tags=["auth"])
    def me(who: Annotated[Principal, Depends(authenticate)]) -> dict[str, Any]:
        """The calling token's id, name and role."""
        return {"token_id": who.token_id, "name": who.name, "role": who.role}

    # -- requests -------------------------------------------------------------------------
    @r.post(
        "/requests",
        response_model=api.RequestOut,
        status_code=201,
        tags=["requests"],
        responses={
            200: {
                "description": "Resubmission: the request first made with this key",
                "model": api.RequestOut,
            },
            **_responses(409),
        },
    )
    def submit(
        body: api.RequestIn,
        request: Request,
        response: Response,
        ledger: Books,
        who: Annotated[Principal, Depends(require("requester", "operator", "admin"))],
        idempotency_key: Annotated[
            str | None,
            Header(
                min_length=1,
                max_length=200,
                pattern=r"^[\x21-\x7e]+$",
                description="Makes a resubmission a no-op: the same key returns the same request.",
            ),
        ] = None,
    ) -> dict[str, Any]:
        """Submit a forget request; it is written before any work starts."""
        try:
            spec = RequestSpec.from_dict(body.model_dump())
            out, created = ledger.submit(
                spec, owner=who.token_id, idempotency_key=idempotency_key, actor=who.name
            )
        except IdempotencyConflictError as exc:
            raise HTTPException(409, str(exc)) from None
        if not created:
            response.status_code = 200
        response.headers["Location"] = f"/v1/requests/{out['id']}"
        return out

    @r.get("/requests", response_model=api.Page[api.RequestOut], tags=["requests"])
    def list_requests(
        request: Request,
        ledger: Books,
        who: Annotated[Principal, Depends(require(*ANY))],
        status: Annotated[
            api.Status | None, Query(description="Only requests in this state.")
        ] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        """Requests, newest first (a requester sees only its own)."""
        owner = None if who.sees_all_requests else who.token_id
        page = ledger.list_requests(owner=owner, status=status, limit=limit, offset=offset)
        return _page(page, request)

    def _owner(who: Principal) -> str | None:
        return None if who.sees_all_requests else who.token_id

    @r.get(
        "/requests/{request_id}",
        response_model=api.RequestOut,
        tags=["requests"],
        responses=_responses(404),
    )
    def get_request(
        request_id: Key, ledger: Books, who: Annotated[Principal, Depends(require(*ANY))]
    ) -> dict[str, Any]:
        """A request with its tasks (one per affected model) and certificate id."""
        return ledger.get_request(request_id, owner=_owner(who))

    @r.get(
        "/requests/{request_id}/history",
        response_model=list[api.EventOut],
        tags=["requests"],
        responses=_responses(404),
    )
    def history(
        request_id: Key, ledger: Books, who: Annotated[Principal, Depends(require(*ANY))]
    ) -> list[dict[str, Any]]:
        """The request's timeline: one entry per state change."""
        return ledger.request_history(request_id, owner=_owner(who))

    @r.get(
        "/requests/{request_id}/certificate",
        response_model=api.CertificateDocument,
        tags=["certificates"],
        responses=_responses(404),
    )
    def request_certificate(
        request_id: Key, ledger: Books, who: Annotated[Principal, Depends(require(*ANY))]
    ) -> dict[str, Any]:
        """The signed certificate of a finished request."""
        ledger.get_request(request_id, owner=_owner(who))
        return ledger.certificate(request_id=request_id)

    @r.get("/stats", response_model=dict[str, int], tags=["requests"])
    def stats(
        ledger: Books, who: Annotated[Principal, Depends(require(*READERS))]
    ) -> dict[str, int]:
        """Number of requests in each state (the queue)."""
        return ledger.status_counts()

    # -- certificates ---------------------------------------------------------------------
    @r.get("/certificates", response_model=api.Page[api.CertificateSummary], tags=["certificates"])
    def certificates(
        request: Request,
        ledger: Books,
        who: Annotated[Principal, Depends(require(*READERS))],
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        """Issued certificates, newest first."""
        return _page(ledger.list_certificates(limit=limit, offset=offset), request)

    @r.get(
        "/certificates/{certificate_id}",
        response_model=api.CertificateDocument,
        tags=["certificates"],
        responses=_responses(404),
    )
    def certificate(
        certificate_id: Key, ledger: Books, who: Annotated[Principal, Depends(require(*READERS))]
    ) -> dict[str, Any]:
        """One signed certificate."""
        return ledger.certificate(certificate_id=certificate_id)

    @r.get("/keys", response_model=list[api.PublicKey], tags=["certificates"])
    def keys(
        ledger: Books, who: Annotated[Principal, Depends(require(*ANY))]
    ) -> list[dict[str, str]]:
        """The public keys certificates are signed with."""
        ledger.signer  # noqa: B018  (records the key on first use)
        return [
            {"key_id": kid, "algorithm": "Ed25519", "public_key_pem": pem}
            for kid, pem in ledger.public_keys().items()
        ]

    # -- datasets and models --------------------------------------------------------------
    @r.post(
        "/datasets",
        response_model=api.DatasetOut,
        status_code=201,
        tags=["lineage"],
        responses=_responses(409),
    )
    def register_dataset(
        body: api.DatasetIn, ledger: Books, who: Annotated[Principal, Depends(require(*WRITERS))]
    ) -> dict[str, Any]:
        """Register a dataset version: sample ids and the subject of each."""
        return ledger.register_dataset(
            body.name,
            body.version,
            sample_ids=body.sample_ids,
            subjects=body.subjects,
            subject_column=body.subject_column,
            description=body.description,
            actor=who.name,
        )

    @r.get("/datasets", response_model=api.Page[api.DatasetOut], tags=["lineage"])
    def datasets(
        request: Request,
        ledger: Books,
        who: Annotated[Principal, Depends(require(*READERS))],
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        """Dataset versions, newest first."""
        return _page(ledger.list_datasets(limit=limit, offset=offset), request)

    @r.post(
        "/models",
        response_model=api.ModelVersionOut,
        status_code=201,
        tags=["lineage"],
        responses=_responses(404, 409),
    )
    def register_model(
        body: api.ModelIn, ledger: Books, who: Annotated[Principal, Depends(require(*WRITERS))]
    ) -> dict[str, Any]:
        """Register a saved model (a file on the server) as version 1 of a new model."""
        return ledger.register_model(
            body.name,
            Path(body.artifact_path),
            dataset=body.dataset,
            dataset_version=body.dataset_version,
            actor=who.name,
        )

    @r.get("/models", response_model=api.Page[api.ModelOut], tags=["lineage"])
    def models(
        request: Request,
        ledger: Books,
        who: Annotated[Principal, Depends(require(*READERS))],
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        """Models and the version of each in service."""
        return _page(ledger.list_models(limit=limit, offset=offset), request)

    @r.get(
        "/model-versions",
        response_model=api.Page[api.ModelVersionOut],
        tags=["lineage"],
        responses=_responses(404),
    )
    def model_versions(
        request: Request,
        ledger: Books,
        who: Annotated[Principal, Depends(require(*READERS))],
        model: Annotated[
            str | None,
            Query(max_length=200, pattern=NO_NUL, description="Only this model's lineage."),
        ] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        """Model versions, newest first, with their parents."""
        page = ledger.list_model_versions(model=model, limit=limit, offset=offset)
        return _page(page, request)

    @r.get(
        "/models/{model}/versions/{version}/artifact",
        response_class=FileResponse,
        tags=["lineage"],
        responses={
            **_responses(404, 410),
            200: {
                "description": "The model file, as written by ``model.save``.",
                "content": {"application/octet-stream": {}},
            },
        },
    )
    def model_artifact(
        model: Annotated[str, Path_(min_length=1, max_length=200, pattern=api.NAME_PATTERN)],
        version: Annotated[int, Path_(ge=1, le=2**31 - 1)],
        ledger: Books,
        who: Annotated[Principal, Depends(require(*READERS))],
    ) -> FileResponse:
        """Download a model version's artifact (load it with ``unlearnkit.persistence.load``).

        A superseded version whose artifact was deleted after an erasure request answers 410
        with the request's id.
        """
        path = ledger.model_artifact(model, version)
        return FileResponse(
            path, media_type="application/octet-stream", filename=f"{model}-v{version}.ukit"
        )

    @r.get("/subjects/{subject}", response_model=api.SubjectReport, tags=["lineage"])
    def subject(
        subject: Key, ledger: Books, who: Annotated[Principal, Depends(require(*READERS))]
    ) -> dict[str, Any]:
        """Which models a subject's data reached, and whether it was removed from each."""
        return ledger.subject_report(subject)

    # -- audit ----------------------------------------------------------------------------
    @r.get("/audit", response_model=api.Page[api.AuditEntryOut], tags=["audit"])
    def audit_log(
        request: Request,
        ledger: Books,
        who: Annotated[Principal, Depends(require(*READERS))],
        entity: Annotated[str | None, Query(description="Only entries about this entity.")] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        """The audit log, oldest first."""
        return _page(ledger.audit_log(limit=limit, offset=offset, entity=entity), request)

    @r.get("/audit/verify", response_model=api.ChainOut, tags=["audit"])
    def audit_verify(
        ledger: Books, who: Annotated[Principal, Depends(require(*READERS))]
    ) -> dict[str, Any]:
        """Recompute the audit log's hash chain; names the first entry that does not fit."""
        return ledger.verify_audit().to_dict()

    # -- audit reports --------------------------------------------------------------------
    @r.post(
        "/audit-reports",
        response_model=api.AuditReportOut,
        status_code=201,
        tags=["audit"],
        responses=_responses(404),
    )
    def attach_audit_report(
        body: api.AuditReportIn,
        ledger: Books,
        who: Annotated[Principal, Depends(require(*WRITERS))],
    ) -> dict[str, Any]:
        """Attach an audit report (``unlearnkit audit`` output) to a model version."""
        return ledger.attach_audit_report(
            body.model, body.version, body.report.model_dump(), html=body.html, actor=who.name
        )

    @r.get("/audit-reports", response_model=api.Page[api.AuditReportOut], tags=["audit"])
    def audit_reports(
        request: Request,
        ledger: Books,
        who: Annotated[Principal, Depends(require(*READERS))],
        model: Annotated[
            str | None,
            Query(max_length=200, pattern=NO_NUL, description="Only this model's reports."),
        ] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        """Attached audit reports, newest first."""
        page = ledger.list_audit_reports(model=model, limit=limit, offset=offset)
        return _page(page, request)

    @r.get(
        "/audit-reports/{report_id}/html",
        response_class=HTMLResponse,
        tags=["audit"],
        responses={**_responses(404), 200: {"content": {"text/html": {}}}},
    )
    def audit_report_html(
        report_id: Key, ledger: Books, who: Annotated[Principal, Depends(require(*READERS))]
    ) -> HTMLResponse:
        """The audit report's page, with its plots."""
        return HTMLResponse(ledger.audit_report_html(report_id))

    # -- tokens ---------------------------------------------------------------------------
    @r.post("/tokens", response_model=api.TokenOut, status_code=201, tags=["auth"])
    def create_token(
        body: api.TokenIn, ledger: Books, who: Annotated[Principal, Depends(require("admin"))]
    ) -> dict[str, Any]:
        """Create an API token; the secret is in the response only."""
        import datetime as dt

        expires = (
            None
            if body.expires_in_seconds is None
            else dt.timedelta(seconds=body.expires_in_seconds)
        )
        secret, record = ledger.create_token(
            body.role, name=body.name, expires_in=expires, actor=who.name
        )
        return {**record, "token": secret}

    @r.get("/tokens", response_model=api.Page[api.TokenRecord], tags=["auth"])
    def tokens(
        request: Request,
        ledger: Books,
        who: Annotated[Principal, Depends(require("admin"))],
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        """API tokens (never their secrets)."""
        return _page(ledger.list_tokens(limit=limit, offset=offset), request)

    @r.delete(
        "/tokens/{token_id}",
        response_model=api.TokenRecord,
        tags=["auth"],
        responses=_responses(404),
    )
    def revoke_token(
        token_id: Key, ledger: Books, who: Annotated[Principal, Depends(require("admin"))]
    ) -> dict[str, Any]:
        """Revoke a token; it is refused from then on."""
        return ledger.revoke_token(token_id, actor=who.name)

    return r


def create_app(
    ledger: Ledger,
    *,
    run_worker: bool = False,
    worker_config: ExecutorConfig | None = None,
) -> FastAPI:
    """The FastAPI application of the service on ``ledger``.

    Parameters
    ----------
    ledger : Ledger
        The books.
    run_worker : bool, default=False
        Run a worker thread in this process while the app is up.
    worker_config : ExecutorConfig, optional
        Settings of that worker.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = threading.Event()
        thread = None
        if run_worker:
            executor = Executor(ledger, worker_config)
            thread = threading.Thread(
                target=executor.run_forever, args=(stop,), name="unlearnkit-worker", daemon=True
            )
            thread.start()
        try:
            yield
        finally:
            stop.set()
            if thread is not None:
                thread.join(timeout=30)

    app = FastAPI(
        title="unlearnkit erasure service",
        version=__version__,
        summary="Erasure requests, model lineage, certificates and the audit log.",
        lifespan=lifespan,
    )
    app.state.ledger = ledger
    app.include_router(_router())

    @app.get("/healthz", response_model=api.Health, tags=["health"])
    def healthz() -> dict[str, Any]:
        """Liveness and database check (no token needed)."""
        return {
            "status": "ok",
            "database": ledger.engine.dialect.name,
            "requests": ledger.status_counts(),
        }

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            from fastapi.openapi.utils import get_openapi

            schema = get_openapi(
                title=app.title, version=app.version, summary=app.summary, routes=app.routes
            )
            schemas = schema.setdefault("components", {}).setdefault("schemas", {})
            schemas["Problem"] = api.Problem.model_json_schema()
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/dashboard/")

    app.mount("/dashboard", StaticFiles(directory=STATIC, html=True), name="dashboard")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        response = _problem_response(exc.status_code, str(exc.detail), request)
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        return response

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"loc": [], "msg": "invalid"}
        detail = f"{'.'.join(first['loc'])}: {first['msg']}"
        return _problem_response(422, detail, request, errors=errors)

    @app.exception_handler(ArtifactPurgedError)
    async def purged(request: Request, exc: ArtifactPurgedError) -> JSONResponse:
        return _problem_response(
            410,
            str(exc),
            request,
            model=exc.model,
            version=exc.version,
            request_id=exc.request_id,
            purged_at=exc.purged_at,
        )

    @app.exception_handler(NotFoundError)
    async def not_found(request: Request, exc: NotFoundError) -> JSONResponse:
        return _problem_response(404, str(exc), request)

    @app.exception_handler(AlreadyExistsError)
    async def conflict(request: Request, exc: AlreadyExistsError) -> JSONResponse:
        return _problem_response(409, str(exc), request)

    @app.exception_handler(UnlearnError)
    async def unlearn_error(request: Request, exc: UnlearnError) -> JSONResponse:
        return _problem_response(422, str(exc), request)

    @app.exception_handler(FileNotFoundError)
    async def missing_file(request: Request, exc: FileNotFoundError) -> JSONResponse:
        return _problem_response(404, str(exc), request)

    return app
