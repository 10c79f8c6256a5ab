"""The runnable examples in the docstrings of unlearnkit.llm run and give what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "attacks",
    "benchmark",
    "corpus",
    "evaluate",
    "metrics",
    "model",
    "robustness",
    "tofu",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"unlearnkit.llm.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
