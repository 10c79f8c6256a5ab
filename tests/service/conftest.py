"""Fixtures: the service on SQLite and on a real PostgreSQL server, tokens of every role."""

from __future__ import annotations

import os

import pytest
from service_helpers import populate

from unlearnkit.ledger import Ledger

os.environ.setdefault("OMP_NUM_THREADS", "1")


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
