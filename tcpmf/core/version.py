"""The installed version of tcpmf."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def package_version() -> str:
    """tcpmf's version as installed, or ``0.0.0`` when running from a source tree not installed."""
    try:
        return version("tcpmf")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0.0.0"
