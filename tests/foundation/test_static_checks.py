"""The code's static checks are part of the suite: ruff (lint and format) and mypy over
`hub`, with the project's own configuration (pyproject.toml). A change that breaks either
fails CI like a failing test, rather than waiting for someone to run `make lint`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ["hub", "tests", "benchmarks", "migrations"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def test_ruff_finds_nothing() -> None:
    lint = _run("ruff", "check", *SOURCES)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    formatted = _run("ruff", "format", "--check", *SOURCES)
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr


@pytest.mark.slow
def test_mypy_finds_nothing_in_hub() -> None:
    checked = _run("mypy")
    assert checked.returncode == 0, checked.stdout[-5000:] + checked.stderr[-2000:]
    assert "Success: no issues found" in checked.stdout
