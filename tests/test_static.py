"""The package type-checks (it ships py.typed) and passes the linter."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, check=False)


def test_mypy_finds_no_type_errors() -> None:
    proc = _run("mypy", "tcpmf")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ruff_finds_no_problems() -> None:
    proc = _run("ruff", "check", "tcpmf", "benchmarks")
    assert proc.returncode == 0, proc.stdout + proc.stderr
