"""The erasure service: REST API (FastAPI) under ``/v1``, worker, and web dashboard.

Needs the ``service`` extra (``pip install 'unlearnkit[service]'``). Run it with
``unlearnkit serve`` (API, worker and dashboard in one process on the embedded SQLite books)
or, against PostgreSQL, ``unlearnkit serve --no-worker --db URL`` plus ``unlearnkit worker
--db URL`` processes.
"""

from unlearnkit.service.app import create_app
from unlearnkit.service.worker import run_worker

__all__ = ["create_app", "run_worker"]
