"""Optional dependencies: which extra of ``pip install tcpmf[...]`` provides which package.

``pip install tcpmf`` gives what a model needs to import tcpmf and call ``load``, ``evaluate``,
``timeline`` and the levers: numpy, pandas, scipy, pydantic and PyYAML. Everything else is an
extra, and a feature that needs one says which::

    >>> from tcpmf.core.extras import extra_for
    >>> extra_for("altair")
    'charts'
    >>> print(MissingExtraError("pyarrow", "reading a run folder"))
    reading a run folder needs pyarrow, from the 'batch' extra: pip install 'tcpmf[batch]'
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

from tcpmf.core.errors import TcpmfError

#: top-level import name -> the extra of pyproject.toml that installs it
EXTRA_OF_PACKAGE: dict[str, str] = {
    "typer": "cli",
    "rich": "cli",
    "ruamel": "cli",
    "altair": "charts",
    "vl_convert": "charts",
    "openpyxl": "excel",
    "pyarrow": "batch",
    "SALib": "batch",
    "dask": "batch",
    "distributed": "batch",
    "ipywidgets": "notebooks",
    "anywidget": "notebooks",
    "voila": "notebooks",
}


def extra_for(package: str) -> str:
    """The extra that installs *package* (its top-level import name); 'all' when unknown."""
    return EXTRA_OF_PACKAGE.get(package.split(".")[0], "all")


class MissingExtraError(TcpmfError, ImportError):
    """A feature needs a package of an extra that is not installed."""

    def __init__(self, package: str, feature: str) -> None:
        self.package = package.split(".")[0]
        self.extra = extra_for(package)
        super().__init__(
            f"{feature} needs {self.package}, from the {self.extra!r} extra: "
            f"pip install 'tcpmf[{self.extra}]'"
        )


def import_optional(module: str, feature: str) -> ModuleType:
    """``import_module(module)``, or a :class:`MissingExtraError` that names the extra to install."""
    try:
        return import_module(module)
    except ModuleNotFoundError as exc:
        missing = exc.name or module
        if missing.split(".")[0] not in EXTRA_OF_PACKAGE:
            raise
        raise MissingExtraError(missing, feature) from exc
