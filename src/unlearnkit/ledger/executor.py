"""Carrying out requests: plan, unlearn, verify, certify, in steps that survive a crash.

A request moves ``received -> planned -> running -> verified -> done`` (or ``failed``). Each
step commits its outcome in one transaction together with its audit entry, so a worker killed
at any moment (even by SIGKILL) leaves the books at a step boundary; the next worker to claim
the request carries on from there:

* planning writes one task per affected model, all at once;
* a task's unlearned model is saved to a file named after the request before the transaction
  that records it; a crash before that transaction only leaves a file that the retry
  overwrites, and the old version stays in service;
* the new version goes into service, its samples are marked removed and the model lock is
  released in one transaction, guarded by the task's state, so it happens once;
* once every task is verified, the artifact files of the versions the request superseded are
  deleted, each file before the transaction that records it (``purged_at`` and an
  ``artifact.purged`` audit entry); a crash between the two leaves a version that is
  superseded by a verified successor but not marked purged, and the next worker deletes it
  again (a missing file is fine) and records it. Only versions whose successor is verified
  and in service (or itself superseded) are ever purged; a failed task keeps its old version
  in service and its artifact on disk. Workers also sweep for such versions when they start;
* the certificate is issued after the purge and states which artifacts were deleted; it is
  unique per request.

Claims are leases (request lease, model lock) with an expiry, taken with compare-and-set
updates, so several workers can share one PostgreSQL database.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from unlearnkit import __version__
from unlearnkit.errors import UnlearnError
from unlearnkit.guarantees import Guarantee
from unlearnkit.ledger import audit
from unlearnkit.ledger.books import (
    ArtifactPurgedError,
    ArtifactTamperedError,
    Ledger,
    _iso,
    _safe,
    sha256_file,
)
from unlearnkit.ledger.schema import (
    AuditEntry,
    Certificate,
    Dataset,
    DatasetVersion,
    Model,
    ModelSample,
    ModelVersion,
    Request,
    RequestEvent,
    Sample,
    Subject,
    Task,
    utcnow,
)
from unlearnkit.ledger.verification import VerificationConfig, verify_unlearning
from unlearnkit.requests import ForgetRequest

__all__ = ["ArtifactPurgedError", "ArtifactTamperedError", "Executor", "ExecutorConfig"]

_ACTIVE = ("received", "planned", "running", "verified")
_STRENGTH = {"exact": 0, "certified": 1, "approximate": 2}


def _remove_file(path: str) -> bool:
    """Delete an artifact file; False when it was already gone."""
    try:
        os.remove(path)
    except FileNotFoundError:
        return False
    return True


def _default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class ExecutorConfig:
    """Settings of a worker.

    Parameters
    ----------
    worker_id : str
        Name written into leases; unique per worker process.
    lease_seconds : float, default=30
        How long a claim lasts without renewal; a crashed worker's requests are picked up by
        another worker after this long. A running worker renews its claims every third of it.
    verification : VerificationConfig
        The checks run on every unlearned model.
    """

    worker_id: str = field(default_factory=_default_worker_id)
    lease_seconds: float = 30.0
    verification: VerificationConfig = field(default_factory=VerificationConfig)


class _BusyError(Exception):
    """Another worker holds the model this task needs; try the request later."""


class Executor:
    """Carries requests of a :class:`~unlearnkit.ledger.Ledger` through their lifecycle.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from unlearnkit.exact import RidgeUnlearner
    >>> from unlearnkit.ledger import Ledger, RequestSpec
    >>> home = tempfile.mkdtemp()
    >>> books = Ledger.open(f"sqlite:///{home}/ledger.db")
    >>> rng = np.random.default_rng(0)
    >>> subjects = [i % 10 for i in range(40)]
    >>> _ = books.register_dataset("toy", "v1", sample_ids=range(40), subjects=subjects)
    >>> model = RidgeUnlearner().fit(rng.normal(size=(40, 3)), rng.normal(size=40))
    >>> _ = books.register_model("ridge", model, dataset="toy")
    >>> req, _ = books.submit(RequestSpec(kind="erase_subject", subject="3"))
    >>> Executor(books).run_until_idle()
    1
    >>> books.get_request(req["id"])["status"]
    'done'
    """

    def __init__(self, ledger: Ledger, config: ExecutorConfig | None = None) -> None:
        self.ledger = ledger
        self.config = config or ExecutorConfig()
        self.me = self.config.worker_id
        # The last model this worker wrote, by version id: verification, and the next request
        # on the same model, reuse it instead of reading back the artifact it wrote (whose
        # hash was computed from the same bytes).
        self._fresh: tuple[int, Any] | None = None

    # -- claiming -------------------------------------------------------------------------
    def _until(self) -> dt.datetime:
        return utcnow() + dt.timedelta(seconds=self.config.lease_seconds)

    def _free(self, owner: Any, until: Any) -> Any:
        return or_(owner.is_(None), until < utcnow(), owner == self.me)

    def candidates(self, limit: int = 20) -> list[str]:
        """Ids of active requests this worker could claim now, oldest first."""
        with self.ledger.reading() as s:
            return list(
                s.scalars(
                    select(Request.id)
                    .where(
                        Request.status.in_(_ACTIVE),
                        self._free(Request.lease_owner, Request.lease_until),
                    )
                    .order_by(Request.created_at, Request.id)
                    .limit(limit)
                )
            )

    def _claim(self, request_id: str) -> bool:
        with self.ledger.session() as s:
            res = s.execute(
                update(Request)
                .where(
                    Request.id == request_id,
                    Request.status.in_(_ACTIVE),
                    self._free(Request.lease_owner, Request.lease_until),
                )
                .values(lease_owner=self.me, lease_until=self._until())
            )
            return bool(res.rowcount)  # type: ignore[attr-defined]

    def _release(self, request_id: str) -> None:
        with self.ledger.session() as s:
            s.execute(
                update(Request)
                .where(Request.id == request_id, Request.lease_owner == self.me)
                .values(lease_owner=None, lease_until=None)
            )

    def heartbeat(self) -> None:
        """Extend every lease and model lock this worker holds."""
        until = self._until()
        with self.ledger.session() as s:
            s.execute(
                update(Request).where(Request.lease_owner == self.me).values(lease_until=until)
            )
            s.execute(update(Model).where(Model.lock_owner == self.me).values(lock_until=until))

    # -- driving --------------------------------------------------------------------------
    def step(self) -> str | None:
        """Claim one request and carry it as far as it goes; its id, or None if idle."""
        for request_id in self.candidates():
            if not self._claim(request_id):
                continue
            try:
                self.process(request_id)
            finally:
                self._release(request_id)
            return request_id
        return None

    def run_until_idle(self, max_steps: int | None = None) -> int:
        """Process requests until none is left to claim; returns how many were processed."""
        self.purge_superseded()
        done = 0
        seen_busy: set[str] = set()
        while max_steps is None or done < max_steps:
            request_id = self.step()
            if request_id is None:
                break
            status = self._status(request_id)
            if status in ("done", "failed"):
                done += 1
                seen_busy.clear()
            elif request_id in seen_busy:
                break  # every remaining request waits on a model another worker holds
            else:
                seen_busy.add(request_id)
        return done

    def run_forever(self, stop: threading.Event, poll_seconds: float = 0.2) -> None:
        """Process requests until ``stop`` is set, renewing leases in the background."""
        beat = threading.Thread(target=self._beat, args=(stop,), daemon=True)
        beat.start()
        self.purge_superseded()
        while not stop.is_set():
            request_id = self.step()
            # idle, or the request waits on a model another worker holds: do not spin
            if request_id is None or self._status(request_id) not in ("done", "failed"):
                stop.wait(poll_seconds)

    def _beat(self, stop: threading.Event) -> None:
        while not stop.wait(self.config.lease_seconds / 3):
            try:
                self.heartbeat()
            except Exception:  # the next beat retries; a lost lease is taken over safely
                continue

    def _status(self, request_id: str) -> str:
        with self.ledger.reading() as s:
            return str(s.scalar(select(Request.status).where(Request.id == request_id)))

    def process(self, request_id: str) -> str:
        """Advance a request this worker has claimed; returns its status afterwards."""
        status = self._status(request_id)
        try:
            if status == "received":
                status = self._plan(request_id)
            if status == "planned":  # planning by an earlier worker committed, then it stopped
                status = self._move(request_id, "running", "work started")
            if status == "running":
                status = self._run_tasks(request_id)
            if status == "verified":
                status = self._certify(request_id)
        except _BusyError:
            return status
        except UnlearnError as exc:
            status = self._fail(request_id, str(exc))
        return status

    # -- state changes --------------------------------------------------------------------
    def _event(self, s: Session, r: Request, status: str, detail: str, **payload: Any) -> None:
        now = utcnow()
        r.status = status
        r.updated_at = now
        s.add(RequestEvent(request_id=r.id, status=status, detail=detail, at=now))
        audit.append(
            s,
            actor=f"worker:{self.me}",
            action=f"request.{status}",
            entity=f"request:{r.id}",
            payload={"detail": detail, **payload},
        )

    def _move(self, request_id: str, status: str, detail: str) -> str:
        with self.ledger.session() as s:
            r = s.get(Request, request_id)
            assert r is not None
            self._event(s, r, status, detail)
        return status

    def _fail(self, request_id: str, message: str) -> str:
        with self.ledger.session() as s:
            r = s.get(Request, request_id)
            assert r is not None
            r.error = message
            s.execute(
                update(Model)
                .where(Model.lock_owner == self.me)
                .values(lock_owner=None, lock_until=None)
            )
            self._event(s, r, "failed", message)
        # a model this request already replaced in service stays replaced: its old file goes
        self.purge_superseded(request_id)
        return "failed"

    # -- planning -------------------------------------------------------------------------
    def _plan(self, request_id: str) -> str:
        with self.ledger.session() as s:
            r = s.get(Request, request_id)
            assert r is not None
            if r.status != "received":
                return r.status
            try:
                targets = self._targets(s, r)
            except UnlearnError as exc:
                r.error = str(exc)
                self._event(s, r, "failed", str(exc))
                return "failed"
            for position, (model_id, pks) in enumerate(sorted(targets.items())):
                s.add(
                    Task(
                        request_id=r.id,
                        model_id=model_id,
                        position=position,
                        sample_pks={"pks": pks},
                        status="pending",
                    )
                )
            names = dict(
                s.execute(select(Model.id, Model.name).where(Model.id.in_(list(targets)))).all()
            )
            detail = (
                f"{len(targets)} model(s) hold affected data"
                if targets
                else "no model holds the affected data"
            )
            self._event(
                s,
                r,
                "planned",
                detail,
                models=[names[m] for m in sorted(targets)],
                samples=sum(len(p) for p in targets.values()),
            )
            self._event(s, r, "running", "work started")
            return "running"

    def _targets(self, s: Session, r: Request) -> dict[int, list[int]]:
        """``{model id: affected sample pks}`` (pks empty where resolved at unlearning)."""
        spec = r.payload
        if r.kind in ("erase_subject", "items"):
            if r.kind == "erase_subject":
                pks = list(
                    s.scalars(
                        select(Sample.id)
                        .join(Subject, Subject.id == Sample.subject_id)
                        .where(Subject.external_id == r.subject)
                    )
                )
            else:
                versions = self._dataset_versions(s, str(r.dataset))
                wanted = [str(i) for i in spec["ids"]]
                found = dict(
                    s.execute(
                        select(Sample.sample_id, Sample.id).where(
                            Sample.dataset_version_id.in_(versions),
                            Sample.sample_id.in_(wanted),
                        )
                    ).all()
                )
                unknown = [i for i in wanted if i not in found]
                if unknown:
                    raise _UnknownSamplesError(
                        f"Dataset {r.dataset!r} has no samples {unknown[:5]}"
                        + (f" (and {len(unknown) - 5} more)" if len(unknown) > 5 else "")
                        + "; check the ids against the registered dataset."
                    )
                pks = list(found.values())
            if not pks:
                return {}
            rows = s.execute(
                select(ModelSample.model_id, ModelSample.sample_pk).where(
                    ModelSample.sample_pk.in_(pks), ModelSample.removed_by_version_id.is_(None)
                )
            ).all()
            out: dict[int, list[int]] = {}
            for model_id, pk in rows:
                out.setdefault(model_id, []).append(pk)
            return {m: sorted(p) for m, p in out.items()}
        versions = self._dataset_versions(s, str(r.dataset))
        models = s.scalars(select(Model.id).where(Model.dataset_version_id.in_(versions)))
        return {m: [] for m in models}

    @staticmethod
    def _dataset_versions(s: Session, name: str) -> list[int]:
        versions = list(
            s.scalars(
                select(DatasetVersion.id)
                .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
                .where(Dataset.name == name)
            )
        )
        if not versions:
            raise _UnknownSamplesError(f"No dataset named {name!r}; register it first.")
        return versions

    # -- tasks ----------------------------------------------------------------------------
    def _run_tasks(self, request_id: str) -> str:
        with self.ledger.reading() as s:
            task_ids = list(
                s.scalars(
                    select(Task.id)
                    .where(Task.request_id == request_id, Task.status != "verified")
                    .order_by(Task.position)
                )
            )
        for task_id in task_ids:
            self._run_task(task_id)
        with self.ledger.reading() as s:
            failed = s.scalar(
                select(Task.verification).where(
                    Task.request_id == request_id, Task.status == "failed"
                )
            )
        if failed is not None:
            return self._fail(request_id, f"verification failed: {failed}")
        return self._certify(request_id)

    def _lock_model(self, task_id: int) -> Task:
        with self.ledger.session() as s:
            t = s.get(Task, task_id)
            assert t is not None
            res = s.execute(
                update(Model)
                .where(Model.id == t.model_id, self._free(Model.lock_owner, Model.lock_until))
                .values(lock_owner=self.me, lock_until=self._until())
            )
            if not res.rowcount:  # type: ignore[attr-defined]
                raise _BusyError()
            if t.from_version_id is None:
                m = s.get(Model, t.model_id)
                assert m is not None
                t.from_version_id = m.head_version_id
            return t

    def _run_task(self, task_id: int) -> None:
        t = self._lock_model(task_id)
        if t.status == "pending":
            t = self._unlearn(t)
        if t.status == "unlearned":
            self._verify(t)

    def _load(self, v: ModelVersion) -> Any:
        from unlearnkit.persistence import load

        if v.purged_at is not None:
            with self.ledger.reading() as s:
                name = str(s.scalar(select(Model.name).where(Model.id == v.model_id)))
            raise ArtifactPurgedError(name, v.version, v.purged_by_request_id, _iso(v.purged_at))
        if sha256_file(v.artifact_path) != v.artifact_sha256:
            raise ArtifactTamperedError(
                f"The artifact of model version {v.id} ({v.artifact_path}) no longer matches "
                "the SHA-256 recorded when it was written; restore it from a backup."
            )
        return load(v.artifact_path)

    def _forget_request(self, s: Session, r: Request, t: Task) -> ForgetRequest | None:
        spec = r.payload
        common: dict[str, Any] = {"reason": r.reason, "request_id": r.id}
        if r.kind in ("erase_subject", "items"):
            pks = t.sample_pks.get("pks", [])
            rows = s.execute(
                select(Sample.sample_id, Sample.id_is_int)
                .join(ModelSample, ModelSample.sample_pk == Sample.id)
                .where(
                    ModelSample.model_id == t.model_id,
                    ModelSample.sample_pk.in_(pks),
                    ModelSample.removed_by_version_id.is_(None),
                )
                .order_by(Sample.id)
            ).all()
            if not rows:
                return None
            ids = [int(sid) if is_int else sid for sid, is_int in rows]
            return ForgetRequest.items(ids, subject=r.subject, **common)
        if r.kind == "group":
            return ForgetRequest.group(spec["where"], subject=r.subject, **common)
        if r.kind == "classes":
            return ForgetRequest.classes(spec["labels"], subject=r.subject, **common)
        if r.kind == "features":
            return ForgetRequest.features(spec["columns"], subject=r.subject, **common)
        typed = {
            (int(k) if str(k).lstrip("-").isdigit() else k): v
            for k, v in spec["new_labels"].items()
        }
        return ForgetRequest.relabel(typed, subject=r.subject, **common)

    def _unlearn(self, t: Task) -> Task:
        with self.ledger.reading() as s:
            r = s.get(Request, t.request_id)
            source = s.get(ModelVersion, t.from_version_id)
            m = s.get(Model, t.model_id)
            assert r is not None
            assert source is not None
            assert m is not None
            request = self._forget_request(s, r, t)
            next_version = (
                s.scalar(
                    select(func.max(ModelVersion.version)).where(ModelVersion.model_id == m.id)
                )
                or 0
            ) + 1
        if request is None:
            return self._nothing_to_do(t)
        fresh, self._fresh = self._fresh, None
        model = fresh[1] if fresh is not None and fresh[0] == source.id else self._load(source)
        try:
            result = model.unlearn(request)
        except UnlearnError as exc:
            self._task_failed(t, f"unlearning failed: {exc}")
            raise
        path = self.ledger.artifacts_dir / _safe(m.name) / f"v{next_version}-{r.id[:12]}.ukit"
        model.save(path)
        digest = sha256_file(path)
        with self.ledger.session() as s:
            task = s.get(Task, t.id)
            assert task is not None
            if task.status != "pending":  # another worker finished this step first
                return task
            v = ModelVersion(
                model_id=m.id,
                version=next_version,
                parent_id=source.id,
                method=source.method,
                config=source.config,
                dataset_version_id=source.dataset_version_id,
                artifact_path=str(path),
                artifact_sha256=digest,
                fingerprint=model.fingerprint(),
                guarantee=model.guarantee.to_dict(),
                n_samples=int(model.n_samples_),
                status="candidate",
                request_id=r.id,
            )
            s.add(v)
            s.flush()
            task.to_version_id = v.id
            task.status = "unlearned"
            task.attempts += 1
            task.result = result.to_dict()
            audit.append(
                s,
                actor=f"worker:{self.me}",
                action="model.unlearned",
                entity=f"model:{m.name}@{next_version}",
                payload={
                    "request_id": r.id,
                    "parent_version": source.version,
                    "artifact_sha256": digest,
                    "fingerprint_before": result.fingerprint_before,
                    "fingerprint_after": result.fingerprint_after,
                    "removed": len(result.removed_ids),
                    "seconds": result.seconds,
                },
            )
        self._fresh = (v.id, model)  # committed: the version id is now taken for good
        return task

    def _nothing_to_do(self, t: Task) -> Task:
        with self.ledger.session() as s:
            task = s.get(Task, t.id)
            assert task is not None
            if task.status == "pending":
                task.status = "verified"
                task.to_version_id = task.from_version_id
                task.verification = {
                    "passed": True,
                    "checks": [],
                    "note": "an earlier request already removed these samples from this model",
                }
                s.execute(
                    update(Model)
                    .where(Model.id == task.model_id, Model.lock_owner == self.me)
                    .values(lock_owner=None, lock_until=None)
                )
            return task

    def _task_failed(self, t: Task, message: str) -> None:
        with self.ledger.session() as s:
            task = s.get(Task, t.id)
            assert task is not None
            task.status = "failed"
            task.verification = {"passed": False, "error": message}
            if task.to_version_id is not None and task.to_version_id != task.from_version_id:
                v = s.get(ModelVersion, task.to_version_id)
                if v is not None:
                    v.status = "rejected"
            s.execute(
                update(Model)
                .where(Model.id == task.model_id, Model.lock_owner == self.me)
                .values(lock_owner=None, lock_until=None)
            )

    def _verify(self, t: Task) -> None:
        with self.ledger.reading() as s:
            old = s.get(ModelVersion, t.from_version_id)
            new = s.get(ModelVersion, t.to_version_id)
            r = s.get(Request, t.request_id)
            assert old is not None
            assert new is not None
            assert r is not None
        fresh = self._fresh
        after = fresh[1] if fresh is not None and fresh[0] == new.id else self._load(new)
        removed = [str(i) for i in t.result.get("removed_ids", [])]
        summary = verify_unlearning(
            old.fingerprint, after, removed, kind=r.kind, config=self.config.verification
        )
        with self.ledger.session() as s:
            task = s.get(Task, t.id)
            m = s.get(Model, t.model_id)
            assert task is not None
            assert m is not None
            if task.status != "unlearned":
                return
            task.verification = summary
            version = s.get(ModelVersion, new.id)
            previous = s.get(ModelVersion, old.id)
            assert version is not None
            assert previous is not None
            if not summary["passed"]:
                task.status = "failed"
                version.status = "rejected"
            else:
                task.status = "verified"
                version.status = "active"
                previous.status = "superseded"
                m.head_version_id = version.id
                if removed:
                    pks = select(Sample.id).where(
                        Sample.dataset_version_id == m.dataset_version_id,
                        Sample.sample_id.in_(removed),
                    )
                    s.execute(
                        update(ModelSample)
                        .where(
                            and_(
                                ModelSample.model_id == m.id,
                                ModelSample.sample_pk.in_(pks),
                                ModelSample.removed_by_version_id.is_(None),
                            )
                        )
                        .values(removed_by_version_id=version.id, removed_by_request_id=r.id)
                    )
            m.lock_owner = None
            m.lock_until = None
            audit.append(
                s,
                actor=f"worker:{self.me}",
                action="model.verified" if summary["passed"] else "model.rejected",
                entity=f"model:{m.name}@{version.version}",
                payload={"request_id": r.id, "verification": summary},
            )

    # -- certificate ----------------------------------------------------------------------
    # -- purging superseded artifacts -----------------------------------------------------
    def purge_superseded(self, request_id: str | None = None) -> int:
        """Delete the artifacts of superseded versions whose successor is verified.

        A version qualifies when it is ``superseded``, not yet purged, and a child version is
        ``active`` (in service) or itself ``superseded``: its successor passed verification
        and went into service. ``request_id`` restricts the sweep to the versions that
        request's tasks replaced. The file is deleted first, then ``purged_at`` and the
        ``artifact.purged`` audit entry are committed together; repeating the sweep after a
        crash between the two finishes the record. Returns how many versions were recorded
        as purged by this call.
        """
        child = aliased(ModelVersion)
        q = (
            select(ModelVersion, Model.name, child.request_id)
            .join(Model, Model.id == ModelVersion.model_id)
            .join(child, child.parent_id == ModelVersion.id)
            .where(
                ModelVersion.status == "superseded",
                ModelVersion.purged_at.is_(None),
                ModelVersion.id != Model.head_version_id,
                child.status.in_(("active", "superseded")),
            )
            .order_by(ModelVersion.id)
        )
        if request_id is not None:
            q = q.where(child.request_id == request_id)
        with self.ledger.reading() as s:
            rows = s.execute(q).all()
            # never delete a file that a version outside this set still points at
            kept = set(
                s.scalars(
                    select(ModelVersion.artifact_path).where(
                        ModelVersion.status != "superseded",
                        ModelVersion.artifact_path.in_([v.artifact_path for v, _, _ in rows]),
                    )
                )
            )
        purged = 0
        for v, name, by_request in rows:
            if v.artifact_path in kept:
                continue
            try:
                existed = _remove_file(v.artifact_path)
            except OSError:
                continue  # not deletable now (permissions, busy mount): the next sweep retries
            purged += self._record_purge(v.id, name, v.version, by_request, existed)
        return purged

    def _record_purge(
        self, version_id: int, name: str, version: int, by_request: str | None, existed: bool
    ) -> int:
        now = utcnow()
        with self.ledger.session() as s:
            res = s.execute(
                update(ModelVersion)
                .where(ModelVersion.id == version_id, ModelVersion.purged_at.is_(None))
                .values(purged_at=now, purged_by_request_id=by_request)
            )
            if not res.rowcount:  # type: ignore[attr-defined]
                return 0  # another worker recorded it first
            v = s.get(ModelVersion, version_id)
            assert v is not None
            audit.append(
                s,
                actor=f"worker:{self.me}",
                action="artifact.purged",
                entity=f"model:{name}@{version}",
                payload={
                    "request_id": by_request,
                    "artifact_path": v.artifact_path,
                    "artifact_sha256": v.artifact_sha256,
                    "file_found": existed,
                },
            )
            return 1

    def _certify(self, request_id: str) -> str:
        signer = self.ledger.signer
        with self.ledger.reading() as s:
            pending = s.scalar(
                select(Certificate.id).where(Certificate.request_id == request_id)
            ) is None and s.scalar(select(Request.status).where(Request.id == request_id)) in (
                "running",
                "verified",
            )
        if pending:
            self.purge_superseded(request_id)
        with self.ledger.session() as s:
            r = s.get(Request, request_id)
            assert r is not None
            if r.status == "running":  # every task verified: record it with the certificate
                self._event(s, r, "verified", "every affected model unlearned and verified")
            if r.status != "verified":
                return r.status
            if s.scalar(select(Certificate.id).where(Certificate.request_id == r.id)):
                self._event(s, r, "done", "certificate already issued")
                return "done"
            body = self._certificate_body(s, r, signer.key_id)
            document = signer.sign(body)
            s.add(
                Certificate(
                    id=body["certificate_id"],
                    request_id=r.id,
                    key_id=signer.key_id,
                    body=body,
                    signature=document["signature"]["value"],
                )
            )
            self._event(s, r, "done", "certificate issued", certificate_id=body["certificate_id"])
            return "done"

    def _certificate_body(self, s: Session, r: Request, key: str) -> dict[str, Any]:
        rows = s.execute(
            select(Task, Model.name)
            .join(Model, Model.id == Task.model_id)
            .where(Task.request_id == r.id)
            .order_by(Task.position)
        ).all()
        models: list[dict[str, Any]] = []
        samples: set[str] = set()
        weakest: dict[str, Any] | None = None
        superseded: list[bool] = []
        for t, name in rows:
            old = s.get(ModelVersion, t.from_version_id)
            new = s.get(ModelVersion, t.to_version_id)
            assert old is not None
            assert new is not None
            removed = [str(i) for i in t.result.get("removed_ids", [])]
            samples.update(removed)
            replaced = new.id != old.id
            if replaced:
                superseded.append(old.purged_at is not None)
            guarantee = new.guarantee
            if weakest is None or _STRENGTH[guarantee["kind"]] > _STRENGTH[weakest["kind"]]:
                weakest = guarantee
            models.append(
                {
                    "model": name,
                    "method": new.method,
                    "version_before": _version_ref(old),
                    "version_after": _version_ref(new),
                    "guarantee": guarantee,
                    "guarantee_label": str(Guarantee.from_dict(guarantee)),
                    "removed_samples": len(removed),
                    "seconds": t.result.get("seconds"),
                    "verification": t.verification,
                    "superseded_artifact": {
                        "version": old.version,
                        "artifact_sha256": old.artifact_sha256,
                        "purged": old.purged_at is not None,
                        "purged_at": _iso(old.purged_at),
                    }
                    if replaced
                    else None,
                }
            )
        return {
            "certificate_id": uuid.uuid4().hex,
            "request_id": r.id,
            "kind": r.kind,
            "reason": r.reason,
            "subject": r.subject,
            "dataset": r.dataset,
            "request": r.payload,
            "samples": sorted(samples),
            "models": models,
            "guarantee": weakest,
            "guarantee_label": None if weakest is None else str(Guarantee.from_dict(weakest)),
            "verification": {
                "passed": all(m["verification"].get("passed", False) for m in models),
                "models_checked": len(models),
                "superseded_artifacts": len(superseded),
                "superseded_artifacts_purged": all(superseded),
            },
            "requested_at": _iso(r.created_at),
            "issued_at": _iso(utcnow()),
            "issuer": f"unlearnkit {__version__}",
            "key_id": key,
            "audit_anchor": _audit_head(s),
        }


class _UnknownSamplesError(UnlearnError, LookupError):
    """A request names samples or a dataset the books do not have."""

    def __str__(self) -> str:
        return str(self.args[0])


def _audit_head(s: Session) -> dict[str, Any] | None:
    """The last audit entry when the certificate is issued: signed, it pins the log's length."""
    row = s.execute(
        select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    return None if row is None else {"seq": row[0], "hash": row[1]}


def _version_ref(v: ModelVersion) -> dict[str, Any]:
    return {
        "id": v.id,
        "version": v.version,
        "artifact_sha256": v.artifact_sha256,
        "fingerprint": v.fingerprint,
    }
