"""The package type-checks (it ships py.typed), passes the linter, and imports only downward through its
layers (docs/architecture.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_mypy_finds_no_type_errors_in_package_and_tests() -> None:
    proc = _run("mypy", "tcpmf", "tests")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = _run("mypy", "conftest.py")  # apart: mypy takes one module named conftest per run
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ruff_finds_no_problems() -> None:
    proc = _run("ruff", "check", "tcpmf", "benchmarks", "tests", "conftest.py")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_code_is_laid_out_by_ruff_format() -> None:
    proc = _run("ruff", "format", "--check", "tcpmf", "benchmarks", "tests", "conftest.py")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_imports_follow_the_layers() -> None:
    """The layers contract of pyproject.toml ([tool.importlinter]): a module imports only from layers
    below its own, including imports deferred into functions."""
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_layers_contract_names_every_subpackage() -> None:
    """A new subpackage must be placed in a layer, or the contract would not watch it."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (contract,) = config["contracts"]
    layered = {layer.removeprefix("tcpmf.") for layer in contract["layers"]}
    subpackages = {p.parent.name for p in (ROOT / "tcpmf").glob("*/__init__.py")}
    assert subpackages == layered - {"_assumptions"}, subpackages ^ layered


def test_docstring_examples_run_unless_they_say_why_not() -> None:
    """The ``>>>`` examples are doctests (the root conftest.py sets them up); one may be skipped
    only with a reason on its line (e.g. it displays a widget)."""
    unexplained = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "tcpmf").rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "doctest: +SKIP" in line and line.count("#") < 2
    ]
    assert not unexplained, f"skipped examples without a reason: {unexplained}"
