"""Fixtures: the service on SQLite and on a real PostgreSQL server, tokens of every role."""

from __future__ import annotations

import os

import pytest
from service_helpers import populate

from unlearnkit.ledger import Ledger
from unlearnkit.ledger.testing import TemporaryPostgres, skip_reason

os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="session")
def postgres():
    reason = skip_reason()
    if reason is not None:
        print(f"skipping PostgreSQL tests: {reason}")
        pytest.skip(reason)
    server = TemporaryPostgres().start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    return request.getfixturevalue("postgres").new_database()


@pytest.fixture
def books(db_url, tmp_path):
    ledger = Ledger.open(db_url, home=tmp_path / "home")
    populate(ledger)
    yield ledger
    ledger.close()


@pytest.fixture
def tokens(books):
    return {
        role: books.create_token(role, name=f"{role}-1")[0]
        for role in ("requester", "operator", "auditor", "admin")
    } | {"requester2": books.create_token("requester", name="requester-2")[0]}
