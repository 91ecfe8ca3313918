"""The runnable examples in the analysis docstrings still run."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "analysis.cop",
    "analysis.preprocess",
    "analysis.sway",
    "analysis.spectral",
    "analysis.quijoux",
    "analysis.stream",
    "analysis.imu",
    "analysis.score",
    "analysis.synth",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
