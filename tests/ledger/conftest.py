"""Fixtures: the books on SQLite and on a real PostgreSQL server started for the session."""

from __future__ import annotations

import os

import pytest
from ledger_helpers import toy_model

from unlearnkit.ledger import Ledger

os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture
def books(db_url, tmp_path):
    ledger = Ledger.open(db_url, home=tmp_path / "home")
    yield ledger
    ledger.close()


@pytest.fixture
def toy(books):
    """A dataset of 60 samples, 20 subjects (3 samples each) and one ridge model on it."""
    subjects = [f"s{i % 20}" for i in range(60)]
    books.register_dataset("toy", "v1", sample_ids=range(60), subjects=subjects)
    books.register_model("ridge", toy_model(), dataset="toy")
    return books
