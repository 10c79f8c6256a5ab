"""Request and response bodies of the REST API (they make up its OpenAPI schema)."""

from __future__ import annotations

from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CertificateDocument",
    "CertificateSummary",
    "ChainOut",
    "DatasetIn",
    "DatasetOut",
    "ModelIn",
    "ModelOut",
    "ModelVersionOut",
    "Page",
    "Problem",
    "RequestIn",
    "RequestOut",
    "TokenIn",
    "TokenOut",
]

T = TypeVar("T")

#: Names of datasets, versions, models and subjects, and string sample ids.
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._:@/+-]+$")]
SampleId = int | Name
Status = Literal["received", "planned", "running", "verified", "done", "failed"]
Reason = Literal["privacy", "copyright", "bias", "poison", "usability", "other"]


class Problem(BaseModel):
    """An error, as RFC 9457 problem details (``application/problem+json``)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[dict[str, Any]] | None = None


class Page(BaseModel, Generic[T]):
    """One page of a list; follow ``next`` for the following page."""

    items: list[T]
    total: int
    limit: int
    offset: int
    next: str | None = None


class RequestIn(BaseModel):
    """A forget request.

    ``erase_subject`` removes every sample of ``subject`` from every model holding it; the other
    kinds act on the models trained on ``dataset``.
    """

    model_config = ConfigDict(extra="forbid")

    kind: Literal["erase_subject", "items", "group", "classes", "features", "relabel"]
    subject: Name | None = None
    dataset: Name | None = None
    ids: list[SampleId] = Field(default_factory=list, max_length=100_000)
    where: dict[Name, int | float | Name] = Field(default_factory=dict)
    labels: list[int | Name] = Field(default_factory=list)
    columns: list[int | Name] = Field(default_factory=list)
    new_labels: dict[Name, int | float | Name] = Field(default_factory=dict)
    reason: Reason = "privacy"


class TaskOut(BaseModel):
    model: str
    status: str
    from_version_id: int | None
    to_version_id: int | None
    attempts: int
    result: dict[str, Any]
    verification: dict[str, Any]


class RequestOut(BaseModel):
    id: str
    kind: str
    status: Status
    subject: str | None
    dataset: str | None
    reason: str
    owner: str
    idempotency_key: str | None
    spec: dict[str, Any]
    error: str | None
    created_at: str | None
    updated_at: str | None
    tasks: list[TaskOut] | None = None
    certificate_id: str | None = None


class EventOut(BaseModel):
    status: str
    detail: str
    at: str | None


class DatasetIn(BaseModel):
    """A dataset version: its sample ids and, optionally, the subject of each sample."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    version: Name
    sample_ids: list[SampleId] = Field(min_length=1, max_length=1_000_000)
    subjects: list[Name | None] | None = None
    subject_column: Name | None = None
    description: str = Field(default="", max_length=2000)


class DatasetOut(BaseModel):
    id: int
    dataset: str
    version: str
    subject_column: str | None
    n_samples: int
    content_sha256: str
    created_at: str | None


class ModelIn(BaseModel):
    """A fitted model saved with ``model.save(path)``; the path is read by the server."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    artifact_path: str = Field(min_length=1, max_length=4096)
    dataset: Name
    dataset_version: Name | None = None


class ModelVersionOut(BaseModel):
    id: int
    model: str
    version: int
    parent_id: int | None
    method: str
    config: dict[str, Any]
    dataset_version_id: int
    artifact_path: str
    artifact_sha256: str
    fingerprint: str
    guarantee: dict[str, Any]
    n_samples: int
    status: str
    request_id: str | None
    created_at: str | None


class ModelOut(BaseModel):
    id: int
    name: str
    head: ModelVersionOut
    versions: int
    created_at: str | None


class CertificateSummary(BaseModel):
    id: str
    request_id: str
    key_id: str
    subject: str | None
    guarantee: dict[str, Any] | None
    models: int
    issued_at: str | None


class CertificateDocument(BaseModel):
    """A signed certificate: check it with ``unlearnkit certificate verify FILE``."""

    certificate: dict[str, Any]
    signature: dict[str, str]


class AuditEntryOut(BaseModel):
    seq: int
    at: str
    actor: str
    action: str
    entity: str
    payload: str
    prev_hash: str
    hash: str


class ChainOut(BaseModel):
    ok: bool
    entries: int
    head: str
    first_bad_seq: int | None
    problem: str | None


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["requester", "operator", "auditor", "admin"]
    name: str = Field(default="", max_length=200, pattern=r"^[A-Za-z0-9._:@ -]*$")
    expires_in_seconds: int | None = Field(default=None, gt=0, le=10 * 365 * 86400)


class TokenRecord(BaseModel):
    id: str
    name: str
    role: str
    created_at: str | None
    expires_at: str | None
    revoked: bool


class TokenOut(TokenRecord):
    token: str = Field(description="The secret; shown once, store it now.")


class Me(BaseModel):
    token_id: str
    name: str
    role: str


class Health(BaseModel):
    status: str
    database: str
    requests: dict[str, int]


class SubjectReport(BaseModel):
    subject: str
    models: list[dict[str, Any]]


class PublicKey(BaseModel):
    key_id: str
    algorithm: str = "Ed25519"
    public_key_pem: str
