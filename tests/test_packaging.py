"""A plain `pip install` ships the bundled assumptions (as tcpmf._assumptions)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_assumption_file_is_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert config["package-dir"]["tcpmf._assumptions"] == "assumptions"
    patterns = config["package-data"]["tcpmf._assumptions"]
    suffixes = {p.rsplit(".", 1)[-1] for p in patterns}
    files = [p for p in (ROOT / "assumptions").rglob("*") if p.is_file()]
    assert files
    missing = [str(p.relative_to(ROOT)) for p in files if p.suffix.lstrip(".") not in suffixes]
    assert missing == [], f"add their suffix to [tool.setuptools.package-data]: {missing}"
