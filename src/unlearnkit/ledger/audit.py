"""The append-only audit log: every entry carries the hash of the one before it.

An entry's hash is the SHA-256 of its canonical JSON (sequence number, time, actor, action,
entity, payload and the previous hash). Changing, deleting or reordering any entry breaks the
chain from that entry on, and :func:`verify_chain` names the first entry that no longer fits.

Examples
--------
>>> from unlearnkit.ledger import Ledger
>>> books = Ledger.open("sqlite://")
>>> with books.session() as s:
...     _ = append(s, actor="admin", action="note", entity="books", payload={"hello": 1})
>>> with books.session() as s:
...     verify_chain(s).ok
True
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from unlearnkit.ledger.schema import AuditEntry

__all__ = ["GENESIS", "ChainReport", "append", "canonical_json", "entry_hash", "verify_chain"]

#: The previous hash of the first entry.
GENESIS = "0" * 64
#: Key of the PostgreSQL advisory lock that serialises appends.
_ADVISORY_KEY = 0x756E6C6B


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: the bytes that are hashed and signed."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(
    seq: int, at: str, actor: str, action: str, entity: str, payload: str, prev_hash: str
) -> str:
    """The hash an entry must carry."""
    record = {
        "seq": seq,
        "at": at,
        "actor": actor,
        "action": action,
        "entity": entity,
        "payload": payload,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical_json(record).encode()).hexdigest()


def append(
    session: Session,
    *,
    actor: str,
    action: str,
    entity: str,
    payload: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry in ``session``'s transaction; it commits or rolls back with it."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_KEY})
    last = session.execute(
        select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    seq, prev = (1, GENESIS) if last is None else (last[0] + 1, last[1])
    at = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
    body = canonical_json(dict(payload or {}))
    entry = AuditEntry(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        entity=entity,
        payload=body,
        prev_hash=prev,
        hash=entry_hash(seq, at, actor, action, entity, body, prev),
    )
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class ChainReport:
    """The outcome of :func:`verify_chain`.

    Attributes
    ----------
    ok : bool
        True when every entry fits the chain.
    entries : int
        Number of entries read.
    head : str
        Hash of the last entry (``GENESIS`` for an empty log).
    first_bad_seq : int or None
        Sequence number of the first entry that does not fit.
    problem : str or None
        What is wrong with it.
    """

    ok: bool
    entries: int
    head: str
    first_bad_seq: int | None = None
    problem: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "head": self.head,
            "first_bad_seq": self.first_bad_seq,
            "problem": self.problem,
        }


def verify_chain(session: Session) -> ChainReport:
    """Recompute the chain from the first entry; stop at the first entry that does not fit."""
    prev = GENESIS
    expected_seq = 1
    count = 0
    rows = session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars()
    for entry in rows.yield_per(1000) if hasattr(rows, "yield_per") else rows:
        count += 1
        problem = None
        if entry.seq != expected_seq:
            problem = (
                f"sequence number {entry.seq} follows {expected_seq - 1}: "
                f"entries {expected_seq}..{entry.seq - 1} were deleted"
            )
        elif entry.prev_hash != prev:
            problem = "its previous-hash does not match the hash of the entry before it"
        elif entry.hash != entry_hash(
            entry.seq,
            entry.at,
            entry.actor,
            entry.action,
            entry.entity,
            entry.payload,
            entry.prev_hash,
        ):
            problem = "its content does not match its hash (the entry was altered)"
        if problem is not None:
            return ChainReport(False, count, prev, entry.seq, problem)
        prev = entry.hash
        expected_seq += 1
    return ChainReport(True, count, prev)
