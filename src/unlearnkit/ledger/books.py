"""The :class:`Ledger`: lineage of data and models, requests and their evidence.

It answers the questions of a data protection officer: which model versions a subject's data
reached, whether it has been removed from each, and the signed certificate that proves it.
Every change is written together with its audit-log entry, in one transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from collections.abc import Hashable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from sqlalchemy import Engine, func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from unlearnkit.errors import InvalidParameterError, InvalidRequestError, UnlearnError
from unlearnkit.ledger import audit
from unlearnkit.ledger.certificates import Signer
from unlearnkit.ledger.database import connect, create, home_for
from unlearnkit.ledger.schema import (
    ApiToken,
    AuditEntry,
    AuditReportRecord,
    Certificate,
    Dataset,
    DatasetVersion,
    Model,
    ModelSample,
    ModelVersion,
    Request,
    RequestEvent,
    Sample,
    SigningKey,
    Subject,
    Task,
    utcnow,
)
from unlearnkit.requests import Reason

__all__ = [
    "REQUEST_KINDS",
    "ROLES",
    "STATUSES",
    "AlreadyExistsError",
    "ArtifactPurgedError",
    "ArtifactTamperedError",
    "AuthError",
    "IdempotencyConflictError",
    "Ledger",
    "NotFoundError",
    "Page",
    "RequestSpec",
    "sha256_file",
]

#: The states of a request, in order; ``failed`` can follow any of the first four.
STATUSES = ("received", "planned", "running", "verified", "done", "failed")
#: What a request can ask for.
REQUEST_KINDS = ("erase_subject", "items", "group", "classes", "features", "relabel")
#: Verdicts of an audit report (:func:`unlearnkit.evaluate.audit`).
AUDIT_VERDICTS = ("forgotten", "not_forgotten", "inconclusive")
#: API token roles.
ROLES = ("requester", "operator", "auditor", "admin")

RequestKindName = Literal["erase_subject", "items", "group", "classes", "features", "relabel"]


class NotFoundError(UnlearnError, LookupError):
    """A dataset, model, request, certificate or token named in a call does not exist."""

    def __str__(self) -> str:
        return str(self.args[0])


class ArtifactPurgedError(NotFoundError):
    """A model version's artifact was deleted after an erasure request superseded it.

    Attributes
    ----------
    model : str
        Name of the model.
    version : int
        The purged version.
    request_id : str or None
        The erasure request whose verified new version replaced it in service.
    purged_at : str or None
        When the artifact file was deleted (ISO 8601).
    """

    def __init__(
        self, model: str, version: int, request_id: str | None, purged_at: str | None
    ) -> None:
        self.model = model
        self.version = version
        self.request_id = request_id
        self.purged_at = purged_at
        super().__init__(
            f"The artifact of model {model!r} version {version} was purged at {purged_at} "
            f"after erasure request {request_id}; load the version in service instead."
        )


class ArtifactTamperedError(UnlearnError):
    """A model artifact's bytes no longer match the hash recorded in the books."""


class AlreadyExistsError(InvalidRequestError):
    """A dataset version or model of that name is already registered."""


class IdempotencyConflictError(UnlearnError, ValueError):
    """An idempotency key was reused for a different request."""


class AuthError(UnlearnError, PermissionError):
    """A token is missing, unknown, revoked or expired."""


def sha256_file(path: str | Path) -> str:
    """SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _sid(value: Any) -> tuple[str, bool]:
    """A sample id as stored: its text and whether it is an integer."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InvalidRequestError(
            f"Sample id {value!r} of type {type(value).__name__} is not allowed: "
            "ids must be integers or strings."
        )
    return str(value), isinstance(value, int)


def _iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.isoformat()


@dataclass(frozen=True)
class RequestSpec:
    """What a request asks for, as submitted (validated on construction).

    Parameters
    ----------
    kind : {"erase_subject", "items", "group", "classes", "features", "relabel"}
        ``erase_subject`` removes every sample of ``subject`` from every model that holds it;
        the other kinds act on the models trained on ``dataset``, as the
        :class:`~unlearnkit.requests.ForgetRequest` of the same name.
    subject : str, optional
        The data subject (required for ``erase_subject``; recorded for the others).
    dataset : str, optional
        Dataset name (required for every kind but ``erase_subject``).
    ids, where, labels, columns, new_labels
        The request's content, as in :class:`~unlearnkit.requests.ForgetRequest`.
    reason : str
        One of :class:`~unlearnkit.requests.Reason`.

    Examples
    --------
    >>> RequestSpec(kind="erase_subject", subject="customer-42").to_dict()["kind"]
    'erase_subject'
    """

    kind: RequestKindName
    subject: str | None = None
    dataset: str | None = None
    ids: tuple[Hashable, ...] = ()
    where: dict[str, Any] = field(default_factory=dict)
    labels: tuple[Any, ...] = ()
    columns: tuple[Any, ...] = ()
    new_labels: dict[str, Any] = field(default_factory=dict)
    reason: str = Reason.PRIVACY.value

    def __post_init__(self) -> None:
        if self.kind not in REQUEST_KINDS:
            raise InvalidRequestError(
                f"Unknown request kind {self.kind!r}; use one of {', '.join(REQUEST_KINDS)}."
            )
        try:
            Reason(self.reason)
        except ValueError:
            allowed = ", ".join(r.value for r in Reason)
            raise InvalidRequestError(
                f"Unknown reason {self.reason!r}; use one of {allowed}."
            ) from None
        if self.kind == "erase_subject":
            if not self.subject:
                raise InvalidRequestError("An erase_subject request needs the subject's id.")
        elif not self.dataset:
            raise InvalidRequestError(
                f"A {self.kind!r} request needs the name of the dataset it applies to."
            )
        needs = {
            "items": ("ids", self.ids),
            "group": ("where", self.where),
            "classes": ("labels", self.labels),
            "features": ("columns", self.columns),
            "relabel": ("new_labels", self.new_labels),
        }
        if self.kind in needs and not needs[self.kind][1]:
            name = needs[self.kind][0]
            raise InvalidRequestError(
                f"An empty {self.kind!r} request forgets nothing; give at least one of {name}."
            )
        object.__setattr__(self, "ids", tuple(self.ids))
        object.__setattr__(self, "labels", tuple(self.labels))
        object.__setattr__(self, "columns", tuple(self.columns))
        for value in self.ids:
            _sid(value)
        if len(set(self.ids)) != len(self.ids):
            raise InvalidRequestError("Duplicate sample ids in the request; pass each id once.")

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "subject": self.subject,
            "dataset": self.dataset,
            "ids": list(self.ids),
            "where": dict(self.where),
            "labels": list(self.labels),
            "columns": list(self.columns),
            "new_labels": dict(self.new_labels),
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RequestSpec:
        known = {
            "kind",
            "subject",
            "dataset",
            "ids",
            "where",
            "labels",
            "columns",
            "new_labels",
            "reason",
        }
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidRequestError(
                f"Unknown request field(s) {unknown}; known: {sorted(known)}."
            )
        args = {k: v for k, v in data.items() if v is not None}
        return cls(**args)


@dataclass(frozen=True)
class Page:
    """One page of a list: ``items`` and the ``total`` number of matches."""

    items: list[dict[str, Any]]
    total: int
    limit: int
    offset: int


def _request_dict(r: Request) -> dict[str, Any]:
    return {
        "id": r.id,
        "kind": r.kind,
        "status": r.status,
        "subject": r.subject,
        "dataset": r.dataset,
        "reason": r.reason,
        "owner": r.owner,
        "idempotency_key": r.idempotency_key,
        "spec": r.payload,
        "error": r.error,
        "created_at": _iso(r.created_at),
        "updated_at": _iso(r.updated_at),
    }


def _version_dict(v: ModelVersion, model_name: str) -> dict[str, Any]:
    return {
        "id": v.id,
        "model": model_name,
        "version": v.version,
        "parent_id": v.parent_id,
        "method": v.method,
        "config": v.config,
        "dataset_version_id": v.dataset_version_id,
        "artifact_path": v.artifact_path,
        "artifact_sha256": v.artifact_sha256,
        "fingerprint": v.fingerprint,
        "guarantee": v.guarantee,
        "n_samples": v.n_samples,
        "status": v.status,
        "request_id": v.request_id,
        "created_at": _iso(v.created_at),
        "artifact_state": "purged" if v.purged_at is not None else "present",
        "purged_at": _iso(v.purged_at),
        "purged_by_request_id": v.purged_by_request_id,
    }


def load_artifact(v: ModelVersion, model_name: str) -> Any:
    """Load a version's artifact after checking it was not purged and its SHA-256 holds."""
    from unlearnkit.persistence import load

    if v.purged_at is not None:
        raise ArtifactPurgedError(model_name, v.version, v.purged_by_request_id, _iso(v.purged_at))
    if sha256_file(v.artifact_path) != v.artifact_sha256:
        raise ArtifactTamperedError(
            f"The artifact of model version {v.id} ({v.artifact_path}) no longer matches "
            "the SHA-256 recorded when it was written; restore it from a backup."
        )
    return load(v.artifact_path)


def _certificate_document(c: Certificate) -> dict[str, Any]:
    return {
        "certificate": c.body,
        "signature": {"algorithm": "Ed25519", "key_id": c.key_id, "value": c.signature},
    }


class Ledger:
    """The books of one service: a database plus a folder for model artifacts and the key.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        A migrated database (see :meth:`open`).
    home : path
        Folder holding ``artifacts/`` and ``signing-key.pem``.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from unlearnkit.exact import RidgeUnlearner
    >>> home = tempfile.mkdtemp()
    >>> books = Ledger.open(f"sqlite:///{home}/ledger.db")
    >>> _ = books.register_dataset("toy", "v1", sample_ids=[0, 1, 2, 3], subjects=list("aabc"))
    >>> model = RidgeUnlearner().fit(np.eye(4), [1.0, 2.0, 3.0, 4.0])
    >>> _ = books.register_model("toy-ridge", model, dataset="toy", dataset_version="v1")
    >>> req, created = books.submit(RequestSpec(kind="erase_subject", subject="a"))
    >>> req["status"], created
    ('received', True)
    """

    def __init__(self, engine: Engine, home: str | Path) -> None:
        self.engine = engine
        self.home = Path(home)
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        reader = engine
        if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
            reader = create(engine.url.render_as_string(hide_password=False), readonly=True)
        self._read_engine = reader
        self._readers = sessionmaker(reader, expire_on_commit=False)
        self._signer: Signer | None = None

    @classmethod
    def open(cls, url: str | None = None, *, home: str | Path | None = None) -> Ledger:
        """Connect to the books at ``url`` (default: the embedded SQLite file) and migrate."""
        engine = connect(url)
        return cls(engine, home if home is not None else home_for(str(engine.url)))

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()
        self._read_engine.dispose()

    @property
    def artifacts_dir(self) -> Path:
        return self.home / "artifacts"

    @property
    def key_path(self) -> Path:
        return self.home / "signing-key.pem"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: commits on success, rolls back on any error.

        On PostgreSQL each transaction first takes the audit log's advisory lock, so writers
        queue in one order and never deadlock.
        """
        with self._sessions() as s, s.begin():
            if self.engine.dialect.name == "postgresql":
                s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": audit._ADVISORY_KEY})
            yield s

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only session: it takes no lock, so it never waits for writers."""
        with self._readers() as s, s.begin():
            yield s

    # -- signing key ----------------------------------------------------------------------
    @property
    def signer(self) -> Signer:
        """The Ed25519 signer; its public key is recorded in the books on first use."""
        if self._signer is None:
            signer = Signer.load_or_create(self.key_path)
            with suppress(IntegrityError):  # another process recorded it at the same moment
                self._record_key(signer)
            self._signer = signer
        return self._signer

    def _record_key(self, signer: Signer) -> None:
        with self.session() as s:
            if s.get(SigningKey, signer.key_id) is None:
                s.add(
                    SigningKey(
                        id=signer.key_id,
                        algorithm="Ed25519",
                        public_key_pem=signer.public_key_pem,
                    )
                )
                audit.append(
                    s,
                    actor="service",
                    action="key.registered",
                    entity=f"key:{signer.key_id}",
                    payload={"algorithm": "Ed25519"},
                )

    def public_keys(self) -> dict[str, str]:
        """``{key id: public key PEM}`` of every key that has signed certificates here."""
        with self.reading() as s:
            return {k.id: k.public_key_pem for k in s.scalars(select(SigningKey))}

    # -- datasets -------------------------------------------------------------------------
    def register_dataset(
        self,
        name: str,
        version: str,
        *,
        sample_ids: Sequence[Any],
        subjects: Sequence[Any] | None = None,
        subject_column: str | None = None,
        description: str = "",
        actor: str = "local",
    ) -> dict[str, Any]:
        """Record a dataset version: its sample ids and the subject of each sample.

        Raises
        ------
        InvalidRequestError
            Duplicate ids, mismatched lengths, or the version already exists.
        """
        ids = [_sid(v) for v in sample_ids]
        if not ids:
            raise InvalidRequestError(f"Dataset {name!r} version {version!r} has no samples.")
        if len({i for i, _ in ids}) != len(ids):
            raise InvalidRequestError(
                f"Dataset {name!r} version {version!r} has duplicate sample ids; ids are the "
                "handle for erasure and must be unique."
            )
        subs = None
        if subjects is not None:
            subs = [None if s is None else str(s) for s in subjects]
            if len(subs) != len(ids):
                raise InvalidRequestError(
                    f"{len(subs)} subjects for {len(ids)} samples; give one subject per sample."
                )
        digest = hashlib.sha256()
        for (sid, _), sub in zip(ids, subs or [None] * len(ids), strict=True):
            digest.update(f"{sid}\x1f{sub}\x1e".encode())
        with self.session() as s:
            ds = s.scalar(select(Dataset).where(Dataset.name == name))
            if ds is None:
                ds = Dataset(name=name, description=description)
                s.add(ds)
                s.flush()
            elif s.scalar(
                select(DatasetVersion).where(
                    DatasetVersion.dataset_id == ds.id, DatasetVersion.version == version
                )
            ):
                raise AlreadyExistsError(
                    f"Dataset {name!r} already has a version {version!r}; versions are "
                    "immutable, so register the new data under a new version."
                )
            dv = DatasetVersion(
                dataset_id=ds.id,
                version=version,
                subject_column=subject_column,
                n_samples=len(ids),
                content_sha256=digest.hexdigest(),
            )
            s.add(dv)
            s.flush()
            subject_pk: dict[str, int] = {}
            if subs is not None:
                wanted = sorted({x for x in subs if x is not None})
                for chunk in _chunks(wanted, 5000):
                    for ext, pk in s.execute(
                        select(Subject.external_id, Subject.id).where(
                            Subject.external_id.in_(chunk)
                        )
                    ):
                        subject_pk[ext] = pk
                new = [x for x in wanted if x not in subject_pk]
                if new:
                    now = utcnow()
                    s.execute(insert(Subject), [{"external_id": x, "created_at": now} for x in new])
                    for chunk in _chunks(new, 5000):
                        for ext, pk in s.execute(
                            select(Subject.external_id, Subject.id).where(
                                Subject.external_id.in_(chunk)
                            )
                        ):
                            subject_pk[ext] = pk
            rows = [
                {
                    "dataset_version_id": dv.id,
                    "sample_id": sid,
                    "id_is_int": is_int,
                    "subject_id": None if subs is None or subs[i] is None else subject_pk[subs[i]],  # type: ignore[index]
                }
                for i, (sid, is_int) in enumerate(ids)
            ]
            s.execute(insert(Sample), rows)
            audit.append(
                s,
                actor=actor,
                action="dataset.registered",
                entity=f"dataset:{name}@{version}",
                payload={
                    "samples": len(ids),
                    "subjects": len(subject_pk),
                    "content_sha256": dv.content_sha256,
                },
            )
            return self._dataset_version_dict(dv, name)

    @staticmethod
    def _dataset_version_dict(dv: DatasetVersion, name: str) -> dict[str, Any]:
        return {
            "id": dv.id,
            "dataset": name,
            "version": dv.version,
            "subject_column": dv.subject_column,
            "n_samples": dv.n_samples,
            "content_sha256": dv.content_sha256,
            "created_at": _iso(dv.created_at),
        }

    def _dataset_version(self, s: Session, dataset: str, version: str | None) -> DatasetVersion:
        ds = s.scalar(select(Dataset).where(Dataset.name == dataset))
        if ds is None:
            raise NotFoundError(
                f"No dataset named {dataset!r}; register it first (POST /v1/datasets)."
            )
        q = select(DatasetVersion).where(DatasetVersion.dataset_id == ds.id)
        if version is not None:
            dv = s.scalar(q.where(DatasetVersion.version == version))
        else:
            dv = s.scalar(q.order_by(DatasetVersion.id.desc()).limit(1))
        if dv is None:
            raise NotFoundError(f"Dataset {dataset!r} has no version {version!r}.")
        return dv

    def list_datasets(self, *, limit: int = 50, offset: int = 0) -> Page:
        """Dataset versions, newest first."""
        with self.reading() as s:
            total = s.scalar(select(func.count()).select_from(DatasetVersion)) or 0
            rows = s.execute(
                select(DatasetVersion, Dataset.name)
                .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
                .order_by(DatasetVersion.id.desc())
                .limit(limit)
                .offset(offset)
            ).all()
            items = [self._dataset_version_dict(dv, name) for dv, name in rows]
        return Page(items, total, limit, offset)

    # -- models ---------------------------------------------------------------------------
    def register_model(
        self,
        name: str,
        model: Any,
        *,
        dataset: str,
        dataset_version: str | None = None,
        config: dict[str, Any] | None = None,
        actor: str = "local",
    ) -> dict[str, Any]:
        """Record a fitted unlearner (or a saved model file) as version 1 of model ``name``.

        The model is saved under the books' ``artifacts/`` folder (a file path is copied
        there), so later versions sit beside it. Every sample id the model holds must be a
        sample of the dataset version: that is how erasures find the model.
        """
        from unlearnkit.base import Unlearner
        from unlearnkit.persistence import load

        if isinstance(model, (str, Path)):
            path = Path(model)
            if not path.is_file():
                raise FileNotFoundError(f"Model file {str(path)!r} does not exist; check the path.")
            model = load(path)
        if not isinstance(model, Unlearner):
            raise InvalidParameterError(
                f"register_model needs a fitted unlearnkit Unlearner, got {type(model).__name__}."
            )
        held = [str(v) for v in np.asarray(model.sample_ids_).tolist()]
        with self.reading() as s:
            if s.scalar(select(Model.id).where(Model.name == name)) is not None:
                raise AlreadyExistsError(
                    f"A model named {name!r} is already registered; new versions come from "
                    "requests, so register a retrained model under a new name."
                )
            dv = self._dataset_version(s, dataset, dataset_version)
            pk_of = dict(
                s.execute(
                    select(Sample.sample_id, Sample.id).where(Sample.dataset_version_id == dv.id)
                ).all()
            )
        missing = [i for i in held if i not in pk_of]
        if missing:
            raise InvalidRequestError(
                f"Model {name!r} holds {len(missing)} sample ids that dataset {dataset!r} "
                f"version {dv.version!r} does not have (first: {missing[:5]}); register the "
                "dataset version it was trained on."
            )
        target = self.artifacts_dir / _safe(name) / "v1.ukit"
        model.save(target)
        artifact_sha = sha256_file(target)
        guarantee = model.guarantee.to_dict()
        method = f"{type(model).__module__}.{type(model).__qualname__}"
        params = config if config is not None else _params(model)
        with self.session() as s:
            if s.scalar(select(Model.id).where(Model.name == name)) is not None:
                raise AlreadyExistsError(f"A model named {name!r} is already registered.")
            m = Model(name=name, dataset_version_id=dv.id)
            s.add(m)
            s.flush()
            v = ModelVersion(
                model_id=m.id,
                version=1,
                method=method,
                config=params,
                dataset_version_id=dv.id,
                artifact_path=str(target),
                artifact_sha256=artifact_sha,
                fingerprint=model.fingerprint(),
                guarantee=guarantee,
                n_samples=len(held),
                status="active",
            )
            s.add(v)
            s.flush()
            m.head_version_id = v.id
            s.execute(
                insert(ModelSample), [{"model_id": m.id, "sample_pk": pk_of[i]} for i in held]
            )
            audit.append(
                s,
                actor=actor,
                action="model.registered",
                entity=f"model:{name}@1",
                payload={
                    "dataset": dataset,
                    "dataset_version": dv.version,
                    "method": method,
                    "artifact_sha256": artifact_sha,
                    "fingerprint": v.fingerprint,
                    "guarantee": guarantee,
                    "samples": len(held),
                },
            )
            return _version_dict(v, name)

    def list_models(self, *, limit: int = 50, offset: int = 0) -> Page:
        """Models with their head (in service) version."""
        with self.reading() as s:
            total = s.scalar(select(func.count()).select_from(Model)) or 0
            rows = s.execute(
                select(Model, ModelVersion)
                .join(ModelVersion, ModelVersion.id == Model.head_version_id)
                .order_by(Model.id)
                .limit(limit)
                .offset(offset)
            ).all()
            items = []
            for m, head in rows:
                count = s.scalar(select(func.count()).where(ModelVersion.model_id == m.id))
                items.append(
                    {
                        "id": m.id,
                        "name": m.name,
                        "head": _version_dict(head, m.name),
                        "versions": count,
                        "created_at": _iso(m.created_at),
                    }
                )
        return Page(items, total, limit, offset)

    def list_model_versions(
        self, *, model: str | None = None, limit: int = 50, offset: int = 0
    ) -> Page:
        """Model versions, newest first; ``model`` restricts to one model's lineage."""
        with self.reading() as s:
            q = select(ModelVersion, Model.name).join(Model, Model.id == ModelVersion.model_id)
            cq = (
                select(func.count())
                .select_from(ModelVersion)
                .join(Model, Model.id == ModelVersion.model_id)
            )
            if model is not None:
                if s.scalar(select(Model.id).where(Model.name == model)) is None:
                    raise NotFoundError(f"No model named {model!r}.")
                q = q.where(Model.name == model)
                cq = cq.where(Model.name == model)
            total = s.scalar(cq) or 0
            rows = s.execute(q.order_by(ModelVersion.id.desc()).limit(limit).offset(offset)).all()
            items = [_version_dict(v, name) for v, name in rows]
        return Page(items, total, limit, offset)

    def model_artifact(self, model: str, version: int | None = None) -> Path:
        """The artifact file of a model version (default: the one in service), its SHA-256
        checked against the books.

        Raises :class:`ArtifactPurgedError` for a version whose artifact was deleted after an
        erasure request superseded it, :class:`NotFoundError` for an unknown model or version,
        :class:`ArtifactTamperedError` when the file's bytes changed.
        """
        v = self._version_row(model, version)
        if sha256_file(v.artifact_path) != v.artifact_sha256:
            raise ArtifactTamperedError(
                f"The artifact of model {model!r} version {v.version} ({v.artifact_path}) no "
                "longer matches the SHA-256 recorded when it was written; restore it from a "
                "backup."
            )
        return Path(v.artifact_path)

    def load_model(self, model: str, version: int | None = None) -> Any:
        """Load a model version (default: the one in service) from its checked artifact.

        Examples
        --------
        >>> import tempfile, numpy as np
        >>> from unlearnkit.exact import RidgeUnlearner
        >>> books = Ledger.open(f"sqlite:///{tempfile.mkdtemp()}/ledger.db")
        >>> _ = books.register_dataset("toy", "v1", sample_ids=range(4), subjects=list("aabb"))
        >>> fitted = RidgeUnlearner().fit(np.eye(4), [1.0, 2.0, 3.0, 4.0])
        >>> _ = books.register_model("ridge", fitted, dataset="toy")
        >>> books.load_model("ridge").n_samples_
        4
        """
        v = self._version_row(model, version)
        return load_artifact(v, model)

    def _version_row(self, model: str, version: int | None) -> ModelVersion:
        with self.reading() as s:
            m = s.scalar(select(Model).where(Model.name == model))
            if m is None:
                raise NotFoundError(f"No model named {model!r}.")
            q = select(ModelVersion).where(ModelVersion.model_id == m.id)
            q = q.where(
                ModelVersion.id == m.head_version_id
                if version is None
                else ModelVersion.version == version
            )
            v = s.scalar(q)
            if v is None:
                raise NotFoundError(f"Model {model!r} has no version {version}.")
        if v.purged_at is not None:
            raise ArtifactPurgedError(model, v.version, v.purged_by_request_id, _iso(v.purged_at))
        return v

    def subject_report(self, subject: str) -> dict[str, Any]:
        """Which models a subject's data reached, whether it is still in each, and which
        superseded versions that held it had their artifact purged."""
        with self.reading() as s:
            rows = s.execute(
                select(Model.id, Model.name, Sample.sample_id, ModelSample.removed_by_request_id)
                .join(Subject, Subject.id == Sample.subject_id)
                .join(ModelSample, ModelSample.sample_pk == Sample.id)
                .join(Model, Model.id == ModelSample.model_id)
                .where(Subject.external_id == subject)
                .order_by(Model.name, Sample.sample_id)
            ).all()
            model_ids = sorted({r[0] for r in rows})
            versions = (
                s.execute(
                    select(ModelVersion)
                    .where(ModelVersion.model_id.in_(model_ids))
                    .order_by(ModelVersion.version)
                )
                .scalars()
                .all()
            )
        lineage: dict[int, list[ModelVersion]] = {}
        for v in versions:
            lineage.setdefault(v.model_id, []).append(v)
        models: dict[str, dict[str, Any]] = {}
        for model_id, name, sid, removed_by in rows:
            entry = models.get(name)
            if entry is None:
                entry = models[name] = {"model": name, "held": [], "removed": [], "versions": []}
                for v in lineage.get(model_id, []):
                    entry["versions"].append(
                        {
                            "version": v.version,
                            "status": v.status,
                            "artifact_state": "purged" if v.purged_at is not None else "present",
                            "purged_at": _iso(v.purged_at),
                            "purged_by_request_id": v.purged_by_request_id,
                        }
                    )
            if removed_by is None:
                entry["held"].append(sid)
            else:
                entry["removed"].append({"sample_id": sid, "request_id": removed_by})
        return {"subject": subject, "models": list(models.values())}

    # -- requests -------------------------------------------------------------------------
    def submit(
        self,
        spec: RequestSpec,
        *,
        owner: str = "local",
        idempotency_key: str | None = None,
        actor: str | None = None,
    ) -> tuple[dict[str, Any], bool]:
        """Write a request (status ``received``) before any work starts.

        Returns the request and whether it was created: a resubmission with the same
        ``idempotency_key`` (per owner) returns the first request and creates nothing.

        Raises
        ------
        IdempotencyConflictError
            The key was used by this owner for a different request.
        """
        payload = spec.to_dict()
        digest = hashlib.sha256(audit.canonical_json(payload).encode()).hexdigest()
        if idempotency_key is not None:
            existing = self._by_key(owner, idempotency_key, digest)
            if existing is not None:
                return existing, False
        request_id = uuid.uuid4().hex
        try:
            with self.session() as s:
                now = utcnow()
                r = Request(
                    id=request_id,
                    idempotency_key=idempotency_key,
                    owner=owner,
                    kind=spec.kind,
                    subject=spec.subject,
                    dataset=spec.dataset,
                    reason=spec.reason,
                    payload=payload,
                    payload_sha256=digest,
                    status="received",
                    created_at=now,
                    updated_at=now,
                )
                s.add(r)
                s.flush()
                s.add(RequestEvent(request_id=request_id, status="received", at=now))
                audit.append(
                    s,
                    actor=actor or owner,
                    action="request.received",
                    entity=f"request:{request_id}",
                    payload={"spec": payload, "idempotency_key": idempotency_key},
                )
                return _request_dict(r), True
        except IntegrityError:
            if idempotency_key is None:
                raise
            existing = self._by_key(owner, idempotency_key, digest)
            if existing is None:
                raise
            return existing, False

    def _by_key(self, owner: str, key: str, digest: str) -> dict[str, Any] | None:
        with self.reading() as s:
            r = s.scalar(
                select(Request).where(Request.owner == owner, Request.idempotency_key == key)
            )
            if r is None:
                return None
            if r.payload_sha256 != digest:
                raise IdempotencyConflictError(
                    f"Idempotency key {key!r} was already used for request {r.id} with "
                    "different content; use a new key for a new request."
                )
            return _request_dict(r)

    def get_request(self, request_id: str, *, owner: str | None = None) -> dict[str, Any]:
        """One request; with ``owner``, only if that owner submitted it."""
        with self.reading() as s:
            r = s.get(Request, request_id)
            if r is None or (owner is not None and r.owner != owner):
                raise NotFoundError(f"No request {request_id!r} visible here.")
            out = _request_dict(r)
            tasks = s.execute(
                select(Task, Model.name)
                .join(Model, Model.id == Task.model_id)
                .where(Task.request_id == request_id)
                .order_by(Task.position)
            ).all()
            out["tasks"] = [
                {
                    "model": name,
                    "status": t.status,
                    "from_version_id": t.from_version_id,
                    "to_version_id": t.to_version_id,
                    "attempts": t.attempts,
                    "result": t.result,
                    "verification": t.verification,
                }
                for t, name in tasks
            ]
            cert = s.scalar(select(Certificate.id).where(Certificate.request_id == request_id))
            out["certificate_id"] = cert
            return out

    def list_requests(
        self,
        *,
        owner: str | None = None,
        status: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Page:
        """Requests, newest first."""
        with self.reading() as s:
            q = select(Request)
            cq = select(func.count()).select_from(Request)
            if owner is not None:
                q, cq = q.where(Request.owner == owner), cq.where(Request.owner == owner)
            if status is not None:
                q, cq = q.where(Request.status == status), cq.where(Request.status == status)
            total = s.scalar(cq) or 0
            rows = s.scalars(
                q.order_by(Request.created_at.desc(), Request.id).limit(limit).offset(offset)
            )
            items = [_request_dict(r) for r in rows]
        return Page(items, total, limit, offset)

    def request_history(self, request_id: str, *, owner: str | None = None) -> list[dict[str, Any]]:
        """The timeline of a request: one entry per state change."""
        self.get_request(request_id, owner=owner)
        with self.reading() as s:
            return [
                {"status": e.status, "detail": e.detail, "at": _iso(e.at)}
                for e in s.scalars(
                    select(RequestEvent)
                    .where(RequestEvent.request_id == request_id)
                    .order_by(RequestEvent.id)
                )
            ]

    def status_counts(self) -> dict[str, int]:
        """Number of requests in each state."""
        with self.reading() as s:
            rows = s.execute(select(Request.status, func.count()).group_by(Request.status)).all()
        counts = dict.fromkeys(STATUSES, 0)
        counts.update({k: int(v) for k, v in rows})
        return counts

    # -- certificates ---------------------------------------------------------------------
    def certificate(
        self, *, request_id: str | None = None, certificate_id: str | None = None
    ) -> dict[str, Any]:
        """The signed certificate document of a finished request."""
        with self.reading() as s:
            q = select(Certificate)
            if certificate_id is not None:
                q = q.where(Certificate.id == certificate_id)
            else:
                q = q.where(Certificate.request_id == request_id)
            c = s.scalar(q)
            if c is None:
                what = certificate_id or f"of request {request_id}"
                raise NotFoundError(
                    f"No certificate {what!r}: certificates are issued when a request is done."
                )
            return _certificate_document(c)

    def list_certificates(self, *, limit: int = 50, offset: int = 0) -> Page:
        """Certificates, newest first (the certificate bodies, without signatures)."""
        with self.reading() as s:
            total = s.scalar(select(func.count()).select_from(Certificate)) or 0
            rows = s.scalars(
                select(Certificate)
                .order_by(Certificate.created_at.desc())
                .limit(limit)
                .offset(offset)
            )
            items = [
                {
                    "id": c.id,
                    "request_id": c.request_id,
                    "key_id": c.key_id,
                    "subject": c.body.get("subject"),
                    "guarantee": c.body.get("guarantee"),
                    "models": len(c.body.get("models", [])),
                    "issued_at": c.body.get("issued_at"),
                }
                for c in rows
            ]
        return Page(items, total, limit, offset)

    # -- audit ----------------------------------------------------------------------------
    def audit_log(self, *, limit: int = 50, offset: int = 0, entity: str | None = None) -> Page:
        """Audit entries, oldest first."""
        with self.reading() as s:
            q = select(AuditEntry)
            cq = select(func.count()).select_from(AuditEntry)
            if entity is not None:
                q, cq = q.where(AuditEntry.entity == entity), cq.where(AuditEntry.entity == entity)
            total = s.scalar(cq) or 0
            rows = s.scalars(q.order_by(AuditEntry.seq).limit(limit).offset(offset))
            items = [
                {
                    "seq": e.seq,
                    "at": e.at,
                    "actor": e.actor,
                    "action": e.action,
                    "entity": e.entity,
                    "payload": e.payload,
                    "prev_hash": e.prev_hash,
                    "hash": e.hash,
                }
                for e in rows
            ]
        return Page(items, total, limit, offset)

    def verify_audit(self) -> audit.ChainReport:
        """Recompute the audit log's hash chain, then check the certificates' anchors.

        Every certificate carries, signed, the sequence number and hash of the last audit entry
        when it was issued; an anchor that no longer matches shows that entries at the end of
        the log were deleted or rewritten, which the chain alone cannot show.
        """
        with self.reading() as s:
            report = audit.verify_chain(s)
            if not report.ok:
                return report
            hashes = dict(s.execute(select(AuditEntry.seq, AuditEntry.hash)).all())
            for body in s.scalars(select(Certificate.body).order_by(Certificate.created_at)):
                anchor = body.get("audit_anchor")
                if anchor is None or hashes.get(anchor["seq"]) == anchor["hash"]:
                    continue
                bad = anchor["seq"] if anchor["seq"] in hashes else report.entries + 1
                return audit.ChainReport(
                    False,
                    report.entries,
                    report.head,
                    bad,
                    f"certificate {body.get('certificate_id')} was issued after entry "
                    f"{anchor['seq']} with hash {anchor['hash'][:16]}..., which the log no "
                    "longer holds: entries were deleted from its end or rewritten",
                )
            return report

    # -- audit reports --------------------------------------------------------------------
    def attach_audit_report(
        self,
        model: str,
        version: int,
        report: dict[str, Any],
        *,
        html: str | None = None,
        actor: str = "local",
    ) -> dict[str, Any]:
        """Attach an audit report (:meth:`unlearnkit.evaluate.AuditReport.to_dict` output, and
        optionally its HTML page with the plots) to a model version."""
        verdict = report.get("verdict") if isinstance(report, dict) else None
        if verdict not in AUDIT_VERDICTS:
            raise InvalidRequestError(
                f"An audit report needs a 'verdict' among {', '.join(AUDIT_VERDICTS)}, got "
                f"{verdict!r}; attach the JSON written by `unlearnkit audit`."
            )
        confidence = report.get("confidence")
        if confidence is not None and not isinstance(confidence, (int, float)):
            raise InvalidRequestError(f"'confidence' must be a number, got {confidence!r}.")
        with self.session() as s:
            v = s.scalar(
                select(ModelVersion)
                .join(Model, Model.id == ModelVersion.model_id)
                .where(Model.name == model, ModelVersion.version == version)
            )
            if v is None:
                raise NotFoundError(f"Model {model!r} has no version {version}.")
            record = AuditReportRecord(
                id=uuid.uuid4().hex,
                model_version_id=v.id,
                verdict=verdict,
                confidence=None if confidence is None else float(confidence),
                reason=str(report.get("reason", "")),
                report=report,
                html=html,
            )
            s.add(record)
            audit.append(
                s,
                actor=actor,
                action="audit.attached",
                entity=f"model:{model}@{version}",
                payload={
                    "audit_report": record.id,
                    "verdict": verdict,
                    "html_sha256": None
                    if html is None
                    else hashlib.sha256(html.encode()).hexdigest(),
                },
            )
            return _audit_report_dict(record, model, version)

    def list_audit_reports(
        self, *, model: str | None = None, limit: int = 50, offset: int = 0
    ) -> Page:
        """Audit reports, newest first."""
        with self.reading() as s:
            q = (
                select(AuditReportRecord, Model.name, ModelVersion.version)
                .join(ModelVersion, ModelVersion.id == AuditReportRecord.model_version_id)
                .join(Model, Model.id == ModelVersion.model_id)
            )
            cq = (
                select(func.count())
                .select_from(AuditReportRecord)
                .join(ModelVersion, ModelVersion.id == AuditReportRecord.model_version_id)
                .join(Model, Model.id == ModelVersion.model_id)
            )
            if model is not None:
                q, cq = q.where(Model.name == model), cq.where(Model.name == model)
            total = s.scalar(cq) or 0
            rows = s.execute(
                q.order_by(AuditReportRecord.created_at.desc()).limit(limit).offset(offset)
            ).all()
            items = [_audit_report_dict(r, name, version) for r, name, version in rows]
        return Page(items, total, limit, offset)

    def audit_report_html(self, report_id: str) -> str:
        """The HTML page (with plots) of an attached audit report."""
        with self.reading() as s:
            r = s.get(AuditReportRecord, report_id)
            if r is None or r.html is None:
                raise NotFoundError(f"No audit report page {report_id!r}.")
            return r.html

    # -- tokens ---------------------------------------------------------------------------
    def create_token(
        self,
        role: str,
        *,
        name: str = "",
        expires_in: dt.timedelta | None = None,
        actor: str = "local",
    ) -> tuple[str, dict[str, Any]]:
        """Create an API token; returns the secret (shown once) and its record."""
        if role not in ROLES:
            raise InvalidParameterError(f"Unknown role {role!r}; use one of {', '.join(ROLES)}.")
        secret = "ukt_" + secrets.token_urlsafe(32)
        tid = uuid.uuid4().hex[:16]
        expires = None if expires_in is None else utcnow() + expires_in
        with self.session() as s:
            t = ApiToken(
                id=tid,
                name=name or f"{role}-{tid[:6]}",
                role=role,
                token_sha256=hashlib.sha256(secret.encode()).hexdigest(),
                expires_at=expires,
            )
            s.add(t)
            audit.append(
                s,
                actor=actor,
                action="token.created",
                entity=f"token:{tid}",
                payload={"role": role, "name": t.name, "expires_at": _iso(expires)},
            )
            return secret, _token_dict(t)

    def authenticate(self, secret: str) -> dict[str, Any]:
        """The token record of ``secret``; raises :class:`AuthError` if unusable."""
        digest = hashlib.sha256(secret.encode()).hexdigest()
        with self.reading() as s:
            t = s.scalar(select(ApiToken).where(ApiToken.token_sha256 == digest))
            if t is None:
                raise AuthError("Unknown API token; create one with `unlearnkit tokens create`.")
            if t.revoked:
                raise AuthError(f"API token {t.id} was revoked; ask an admin for a new one.")
            if t.expires_at is not None:
                expires = (
                    t.expires_at if t.expires_at.tzinfo else t.expires_at.replace(tzinfo=dt.UTC)
                )
                if expires <= utcnow():
                    raise AuthError(
                        f"API token {t.id} expired at {expires.isoformat()}; ask an admin for a "
                        "new one."
                    )
            return _token_dict(t)

    def list_tokens(self, *, limit: int = 50, offset: int = 0) -> Page:
        with self.reading() as s:
            total = s.scalar(select(func.count()).select_from(ApiToken)) or 0
            rows = s.scalars(
                select(ApiToken).order_by(ApiToken.created_at).limit(limit).offset(offset)
            )
            items = [_token_dict(t) for t in rows]
        return Page(items, total, limit, offset)

    def revoke_token(self, token_id: str, *, actor: str = "local") -> dict[str, Any]:
        with self.session() as s:
            t = s.get(ApiToken, token_id)
            if t is None:
                raise NotFoundError(f"No API token {token_id!r}.")
            t.revoked = True
            audit.append(s, actor=actor, action="token.revoked", entity=f"token:{token_id}")
            return _token_dict(t)


def _audit_report_dict(r: AuditReportRecord, model: str, version: int) -> dict[str, Any]:
    return {
        "id": r.id,
        "model": model,
        "version": version,
        "model_version_id": r.model_version_id,
        "verdict": r.verdict,
        "confidence": r.confidence,
        "reason": r.reason,
        "has_html": r.html is not None,
        "created_at": _iso(r.created_at),
    }


def _token_dict(t: ApiToken) -> dict[str, Any]:
    return {
        "id": t.id,
        "name": t.name,
        "role": t.role,
        "created_at": _iso(t.created_at),
        "expires_at": _iso(t.expires_at),
        "revoked": t.revoked,
    }


def _chunks(values: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def _params(model: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in model.get_params(deep=False).items():
        if value is None or isinstance(value, (bool, int, float, str)):
            out[key] = value
        else:
            out[key] = repr(value)
    return out
