"""Shared test settings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from threadpoolctl import threadpool_limits

# Tests run two workers on two cores: one BLAS thread each avoids oversubscription, which makes
# the many small matrix operations of the tests ten times slower.
threadpool_limits(limits=1)

settings.register_profile(
    "default",
    deadline=None,
    max_examples=25,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# Real datasets live beside the repository (../shared/data) unless UNLEARNKIT_DATA says otherwise.
os.environ.setdefault(
    "UNLEARNKIT_DATA", str(Path(__file__).resolve().parents[1].parent / "shared" / "data")
)


@pytest.fixture(scope="session")
def postgres():
    """A throw-away PostgreSQL server for the session (skipped, saying why, without one)."""
    from unlearnkit.ledger.testing import TemporaryPostgres, skip_reason

    reason = skip_reason()
    if reason is not None:
        print(f"skipping PostgreSQL tests: {reason}")
        pytest.skip(reason)
    server = TemporaryPostgres().start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    """The books' URL: a SQLite file, then a fresh database on the session's PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    return request.getfixturevalue("postgres").new_database()
