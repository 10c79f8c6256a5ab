"""Run the benchmarks: ``python -m benchmarks [name ...]`` (all when no name is given).

Every benchmark runs with one BLAS thread, baseline and method alike, so that a ratio does not
depend on how busy the machine's other cores are.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

from threadpoolctl import threadpool_limits


def main(argv: list[str]) -> int:
    here = Path(__file__).parent
    available = sorted(
        m.name.removeprefix("bench_")
        for m in pkgutil.iter_modules([str(here)])
        if m.name.startswith("bench_")
    )
    wanted = argv or available
    unknown = sorted(set(wanted) - set(available))
    if unknown:
        print(f"unknown benchmark(s) {unknown}; available: {available}", file=sys.stderr)
        return 2
    with threadpool_limits(limits=1):
        for name in wanted:
            importlib.import_module(f"benchmarks.bench_{name}").main()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
