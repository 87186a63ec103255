"""The package type-checks (it ships py.typed), passes the linter, and imports only downward through its
layers (docs/architecture.md)."""

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
    proc = _run("ruff", "check", "tcpmf", "benchmarks", "tests")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_imports_follow_the_layers() -> None:
    """The layers contract of pyproject.toml ([tool.importlinter]): a module imports only from layers
    below its own, including imports deferred into functions."""
    proc = subprocess.run([str(Path(sys.executable).with_name("lint-imports")), "--no-cache"], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_layers_contract_names_every_subpackage() -> None:
    """A new subpackage must be placed in a layer, or the contract would not watch it."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (contract,) = config["contracts"]
    layered = {layer.removeprefix("tcpmf.") for layer in contract["layers"]}
    subpackages = {p.parent.name for p in (ROOT / "tcpmf").glob("*/__init__.py")}
    assert subpackages == layered - {"_assumptions"}, subpackages ^ layered
