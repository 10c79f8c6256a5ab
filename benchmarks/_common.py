"""Shared pieces of the benchmarks: timing, machine info, JSON results and a Rich table."""

from __future__ import annotations

import gc
import json
import os
import platform
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table
from threadpoolctl import threadpool_info


def results_dir() -> Path:
    """``benchmarks/results``, or ``$UNLEARNKIT_BENCH_RESULTS`` when set."""
    override = os.environ.get("UNLEARNKIT_BENCH_RESULTS")
    return Path(override) if override else Path(__file__).parent / "results"


def quick() -> bool:
    """Small sizes when ``UNLEARNKIT_BENCH_QUICK=1`` (used by the smoke test)."""
    return os.environ.get("UNLEARNKIT_BENCH_QUICK", "") not in ("", "0")


def best_time(fn: Callable[[], Any], repeat: int = 3) -> float:
    """Minimum wall-clock seconds of ``repeat`` calls of ``fn`` (garbage collection paused)."""
    times = []
    gc.collect()
    gc.disable()
    try:
        for _ in range(repeat):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    finally:
        gc.enable()
    return min(times)


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    import sklearn

    import unlearnkit

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "numpy": np.__version__,
        "scikit_learn": sklearn.__version__,
        "unlearnkit": unlearnkit.__version__,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": quick(),
        "blas_threads": [pool["num_threads"] for pool in threadpool_info()],
    }


def write_results(
    name: str, rows: Sequence[dict[str, Any]], *, goal: str, columns: Sequence[str], **extra: Any
) -> Path:
    """Write ``benchmarks/results/<name>.json`` and print the rows as a table."""
    out = results_dir()
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}{'-quick' if quick() else ''}.json"
    payload = {"benchmark": name, "goal": goal, "machine": machine(), "rows": list(rows), **extra}
    path.write_text(json.dumps(payload, indent=2, default=float) + "\n")
    table = Table(title=f"{name}: {goal}")
    for col in columns:
        table.add_column(col, justify="right")
    for row in rows:
        table.add_row(*(_fmt(row.get(col)) for col in columns))
    console = Console()
    console.print(table)
    console.print(f"results written to {path}")
    return path


def _fmt(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)
