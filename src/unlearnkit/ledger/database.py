"""Connecting to the books: the embedded SQLite file by default, PostgreSQL by URL.

:func:`default_url` is ``sqlite:///$UNLEARNKIT_HOME/ledger.db`` (``~/.unlearnkit`` when the
variable is unset). :func:`connect` creates the engine, applies the Alembic migrations that ship
with the package and returns it ready to use.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

__all__ = ["connect", "default_home", "default_url", "home_for", "upgrade"]

MIGRATIONS = Path(__file__).with_name("migrations")


def default_home() -> Path:
    """``$UNLEARNKIT_HOME``, or ``~/.unlearnkit``: where the embedded books live."""
    home = os.environ.get("UNLEARNKIT_HOME")
    return Path(home).expanduser() if home else Path.home() / ".unlearnkit"


def default_url() -> str:
    """The embedded SQLite file under :func:`default_home`."""
    return f"sqlite:///{default_home() / 'ledger.db'}"


def home_for(url: str) -> Path:
    """Where model artifacts and the signing key of the books at ``url`` are kept.

    The folder of the SQLite file for SQLite; :func:`default_home` for a database server.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return Path(str(parsed.database)).expanduser().resolve().parent
    return default_home()


def _sqlite_pragmas(engine: Engine, *, readonly: bool) -> None:
    """WAL journal; writers take the write lock up front (BEGIN IMMEDIATE) so concurrent
    threads never deadlock upgrading a read lock; readers start plain transactions and never
    wait for writers."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


def create(url: str, *, readonly: bool = False) -> Engine:
    """An engine for ``url`` without touching the schema.

    ``readonly=True`` gives SQLite engines whose transactions do not take the write lock; use
    them only for reading.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database not in (None, "", ":memory:"):
            Path(str(parsed.database)).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        _sqlite_pragmas(engine, readonly=readonly)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply the Alembic migrations shipped in :mod:`unlearnkit.ledger.migrations`."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def connect(url: str | None = None, *, migrate: bool = True) -> Engine:
    """Open the books at ``url`` (default: :func:`default_url`), migrated to the latest schema."""
    engine = create(url or default_url())
    if migrate:
        upgrade(engine)
    return engine
