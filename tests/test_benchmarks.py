"""Each benchmark runs end to end at quick sizes and writes its JSON (no timing is asserted)."""

from __future__ import annotations

import json
import pkgutil
from pathlib import Path

import benchmarks
import pytest
from benchmarks.__main__ import main as run_benchmarks

NAMES = sorted(
    m.name.removeprefix("bench_")
    for m in pkgutil.iter_modules(benchmarks.__path__)
    if m.name.startswith("bench_")
)


@pytest.mark.parametrize("name", NAMES)
def test_benchmark_quick_run_writes_results(name, tmp_path, monkeypatch):
    monkeypatch.setenv("UNLEARNKIT_BENCH_QUICK", "1")
    monkeypatch.setenv("UNLEARNKIT_BENCH_RESULTS", str(tmp_path))
    assert run_benchmarks([name]) == 0
    payload = json.loads(Path(tmp_path, f"{name}-quick.json").read_text())
    assert payload["rows"], "a benchmark must report at least one measurement"
    assert payload["machine"]["quick"] is True


def test_unknown_benchmark_is_refused():
    assert run_benchmarks(["no-such-benchmark"]) == 2
