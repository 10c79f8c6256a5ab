"""The README's methods table lists every registered method with its guarantee."""

from __future__ import annotations

from pathlib import Path

from unlearnkit.registry import methods

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_readme_lists_every_method_with_its_guarantee():
    rows = {
        line.split("|")[1].strip().strip("`"): line
        for line in README.splitlines()
        if line.startswith("| `")
    }
    for name, info in methods:
        assert name in rows, f"README methods table lacks {name}"
        assert info.cls.__name__ in rows[name]
        assert f"| {info.guarantee.kind} |" in rows[name]
