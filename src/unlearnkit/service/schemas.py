"""Request and response bodies of the REST API (they make up its OpenAPI schema)."""

from __future__ import annotations

from typing import Annotated, Any, Generic, Literal, TypeAlias, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.json_schema import JsonDict

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
NAME_PATTERN = r"^[A-Za-z0-9._:@/+-]+$"
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=NAME_PATTERN)]
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


def _unique(values: list[Any]) -> list[Any]:
    seen: set[str] = set()
    for v in values:
        key = f"{type(v).__name__}:{v}"
        if key in seen:
            raise ValueError(f"{v!r} is listed twice; give each value once")
        seen.add(key)
    return values


Unique: JsonDict = {"uniqueItems": True}
#: Mappings keyed by names: keys outside the pattern are not allowed.
NameKeys: JsonDict = {
    "additionalProperties": False,
    "propertyNames": {"pattern": NAME_PATTERN, "minLength": 1, "maxLength": 200},
}


#: Non-empty lists of unique integers or of unique names (not a mix).
IdList: TypeAlias = (
    Annotated[list[int], Field(min_length=1, max_length=100_000, json_schema_extra=Unique)]
    | Annotated[list[Name], Field(min_length=1, max_length=100_000, json_schema_extra=Unique)]
)
LabelList: TypeAlias = (
    Annotated[list[int], Field(min_length=1, max_length=1000, json_schema_extra=Unique)]
    | Annotated[list[Name], Field(min_length=1, max_length=1000, json_schema_extra=Unique)]
)
SampleIdList: TypeAlias = (
    Annotated[list[int], Field(min_length=1, max_length=1_000_000, json_schema_extra=Unique)]
    | Annotated[list[Name], Field(min_length=1, max_length=1_000_000, json_schema_extra=Unique)]
)


class _RequestBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason = "privacy"


class EraseSubjectIn(_RequestBase):
    """Remove every sample of a data subject from every model holding it (GDPR Art. 17)."""

    kind: Literal["erase_subject"]
    subject: Name


class ItemsIn(_RequestBase):
    """Remove samples of ``dataset`` by id from every model trained on them."""

    kind: Literal["items"]
    dataset: Name
    ids: IdList
    subject: Name | None = None

    _check_ids = field_validator("ids")(_unique)


class GroupIn(_RequestBase):
    """Remove every sample matching ``where`` (on the model's columns and ``y``)."""

    kind: Literal["group"]
    dataset: Name
    where: dict[Name, int | float | Name] = Field(min_length=1, json_schema_extra=NameKeys)
    subject: Name | None = None


class ClassesIn(_RequestBase):
    """Remove whole classes from the models trained on ``dataset``."""

    kind: Literal["classes"]
    dataset: Name
    labels: LabelList

    _check_labels = field_validator("labels")(_unique)


class FeaturesIn(_RequestBase):
    """Remove feature columns (by position or name) from the models trained on ``dataset``."""

    kind: Literal["features"]
    dataset: Name
    columns: LabelList

    _check_columns = field_validator("columns")(_unique)


class RelabelIn(_RequestBase):
    """Correct labels: ``{sample id: new label}``."""

    kind: Literal["relabel"]
    dataset: Name
    new_labels: dict[Name, int | float | Name] = Field(min_length=1, json_schema_extra=NameKeys)


#: A forget request; ``kind`` says which fields it has.
RequestIn = Annotated[
    EraseSubjectIn | ItemsIn | GroupIn | ClassesIn | FeaturesIn | RelabelIn,
    Field(discriminator="kind"),
]


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
    sample_ids: SampleIdList
    subjects: list[Name | None] | None = None
    subject_column: Name | None = None
    description: str = Field(default="", max_length=2000)

    _check_ids = field_validator("sample_ids")(_unique)


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
    artifact_state: str = Field(
        description="'present', or 'purged': the file was deleted after an erasure request "
        "replaced this version in service."
    )
    purged_at: str | None
    purged_by_request_id: str | None


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


class AuditReportBody(BaseModel):
    """The JSON of an :class:`~unlearnkit.evaluate.AuditReport` (other fields are kept)."""

    model_config = ConfigDict(extra="allow")

    verdict: Literal["forgotten", "not_forgotten", "inconclusive"]
    confidence: float | None = None
    reason: str = ""


class AuditReportIn(BaseModel):
    """An audit report written by ``unlearnkit audit`` (its JSON, optionally its HTML page)."""

    model_config = ConfigDict(extra="forbid")

    model: Name
    version: int = Field(ge=1, le=2**31 - 1)
    report: AuditReportBody
    html: str | None = Field(default=None, max_length=50_000_000)


class AuditReportOut(BaseModel):
    id: str
    model: str
    version: int
    model_version_id: int
    verdict: str
    confidence: float | None
    reason: str
    has_html: bool
    created_at: str | None
