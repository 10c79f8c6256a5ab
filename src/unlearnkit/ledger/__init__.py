"""The books: which subject's data reached which model version, what was asked, what was done.

* :class:`Ledger` records subjects, dataset versions and their samples, model versions with
  their artifacts, requests and their timelines, API tokens and certificates, on SQLAlchemy
  (embedded SQLite by default, PostgreSQL by URL), with the schema kept by Alembic migrations.
* Every change is appended to a hash-chained audit log (:mod:`unlearnkit.ledger.audit`).
* :class:`Executor` carries requests through ``received -> planned -> running -> verified ->
  done | failed`` in crash-safe steps and issues Ed25519-signed certificates
  (:mod:`unlearnkit.ledger.certificates`). Once a request's new versions are in service, the
  artifact files of the versions they replaced (which still hold the erased rows) are deleted
  and the deletion recorded; loading such a version raises :class:`ArtifactPurgedError`.

Examples
--------
>>> import tempfile, numpy as np
>>> from unlearnkit.exact import RidgeUnlearner
>>> from unlearnkit.ledger import Executor, Ledger, RequestSpec
>>> books = Ledger.open(f"sqlite:///{tempfile.mkdtemp()}/ledger.db")
>>> _ = books.register_dataset("toy", "v1", sample_ids=range(6), subjects=list("aabbcc"))
>>> rng = np.random.default_rng(0)
>>> model = RidgeUnlearner().fit(rng.normal(size=(6, 2)), rng.normal(size=6))
>>> _ = books.register_model("ridge", model, dataset="toy")
>>> req, _ = books.submit(RequestSpec(kind="erase_subject", subject="b"), idempotency_key="k1")
>>> Executor(books).run_until_idle()
1
>>> books.certificate(request_id=req["id"])["certificate"]["samples"]
['2', '3']
>>> books.verify_audit().ok
True
"""

from unlearnkit.ledger.audit import ChainReport
from unlearnkit.ledger.books import (
    REQUEST_KINDS,
    ROLES,
    STATUSES,
    AlreadyExistsError,
    ArtifactPurgedError,
    ArtifactTamperedError,
    AuthError,
    IdempotencyConflictError,
    Ledger,
    NotFoundError,
    Page,
    RequestSpec,
)
from unlearnkit.ledger.certificates import CertificateError, Signer, verify_document
from unlearnkit.ledger.database import connect, default_url
from unlearnkit.ledger.executor import Executor, ExecutorConfig
from unlearnkit.ledger.verification import VerificationConfig, verify_unlearning

__all__ = [
    "REQUEST_KINDS",
    "ROLES",
    "STATUSES",
    "AlreadyExistsError",
    "ArtifactPurgedError",
    "ArtifactTamperedError",
    "AuthError",
    "CertificateError",
    "ChainReport",
    "Executor",
    "ExecutorConfig",
    "IdempotencyConflictError",
    "Ledger",
    "NotFoundError",
    "Page",
    "RequestSpec",
    "Signer",
    "VerificationConfig",
    "connect",
    "default_url",
    "verify_document",
    "verify_unlearning",
]
