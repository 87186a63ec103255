"""A plain `pip install` ships the bundled assumptions (as tcpmf._assumptions)."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_assumption_file_is_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "setuptools"
    ]
    assert config["package-dir"]["tcpmf._assumptions"] == "assumptions"
    packages = set(config["packages"])
    data = config["package-data"]
    files = [p for p in (ROOT / "assumptions").rglob("*") if p.is_file()]
    assert files
    missing = []
    for path in files:
        folder = path.parent.relative_to(ROOT / "assumptions").parts
        package = ".".join(("tcpmf._assumptions", *folder))
        patterns = data.get(package, [])
        if package not in packages or not any(fnmatch.fnmatch(path.name, p) for p in patterns):
            missing.append(str(path.relative_to(ROOT)))
    assert missing == [], (
        f"list their folder in [tool.setuptools] packages and package-data: {missing}"
    )


def test_every_public_name_resolves_and_is_listed_alphabetically() -> None:
    import tcpmf

    for name in tcpmf.__all__:
        assert getattr(tcpmf, name) is not None, name
    public = [n for n in tcpmf.__all__ if not n.startswith("_")]
    assert public == sorted(public, key=str.lower) or public == sorted(public)
