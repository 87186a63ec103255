"""Export results to CSV (one file per table) and Excel (one sheet per table, plus the assumptions).

A :class:`~tcpmf.engine.Result` gives the tables ``summary`` and ``monthly``; any other DataFrame
(a batch summary, a sweep) can be added by name.  The Excel workbook also has an ``assumptions``
sheet: every input of every evaluated scenario with its source (``Scenario.sources``), so that a
reader can check each number.

Examples
--------
>>> import tcpmf
>>> from tcpmf.export import to_excel
>>> result = tcpmf.evaluate("assumptions/products/writing_assistant.yaml")  # doctest: +SKIP
>>> to_excel(result, "writing_assistant.xlsx")  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .errors import TcpmfError
from .scenario import Scenario
from .yamlio import display_path

if TYPE_CHECKING:  # pragma: no cover
    from .engine import Result

__all__ = ["assumptions_table", "tables", "to_csv", "to_excel"]


def _flatten(tree: Any, prefix: str = "") -> Iterable[tuple[str, Any]]:
    if isinstance(tree, Mapping) and tree:
        for key, value in tree.items():
            yield from _flatten(value, f"{prefix}.{key}" if prefix else str(key))
    elif tree is not None and tree != {}:
        yield prefix, tree


def assumptions_table(scenarios: Iterable[Scenario]) -> pd.DataFrame:
    """Every input of every scenario: scenario, file, key (dotted path), value and source.

    ``source`` is the annotation of the value in its file (``source: …`` or ``assumed: …``), empty
    when the file gives a plain number.
    """
    rows = []
    for s in scenarios:
        sources = s.sources
        for key, value in _flatten(s.model_dump(mode="json")):
            shown = value if isinstance(value, (int, float, str, bool)) else str(value)
            rows.append({"scenario": s.name, "file": s.file, "key": key, "value": shown,
                         "source": sources.get(key, "")})
    return pd.DataFrame(rows, columns=["scenario", "file", "key", "value", "source"])


def tables(result: Result | pd.DataFrame | Mapping[str, pd.DataFrame],
           extra: Mapping[str, pd.DataFrame] | None = None) -> dict[str, pd.DataFrame]:
    """The named tables to export: ``summary`` and ``monthly`` of a Result, a lone DataFrame as
    ``summary``, or a mapping as given; then *extra*."""
    from .engine import Result

    if isinstance(result, Result):
        out = {"summary": result.summary, "monthly": result.monthly}
    elif isinstance(result, pd.DataFrame):
        out = {"summary": result}
    elif isinstance(result, Mapping):
        out = dict(result)
    else:
        raise TcpmfError(f"cannot export a {type(result).__name__}; give a Result, a DataFrame or a mapping of them")
    out.update(extra or {})
    for name, frame in out.items():
        if not isinstance(frame, pd.DataFrame):
            raise TcpmfError(f"table {name!r} is a {type(frame).__name__}, not a pandas DataFrame")
    return out


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Periods and categories as text, so every writer (and reader) sees plain cells."""
    out = frame.copy()
    for column in out.columns:
        dtype = out[column].dtype
        if isinstance(dtype, (pd.PeriodDtype, pd.CategoricalDtype)):
            out[column] = out[column].astype(str)
    return out


def to_csv(result: Result | pd.DataFrame | Mapping[str, pd.DataFrame], folder: str | os.PathLike[str],
           extra: Mapping[str, pd.DataFrame] | None = None) -> list[Path]:
    """Write one CSV per table into *folder* (created if needed); return the files written.

    A Result's scenarios add ``assumptions.csv``.  Missing values are written as empty cells.
    """
    from .engine import Result

    folder = Path(folder)
    named = tables(result, extra)
    if isinstance(result, Result) and result.scenarios:
        named.setdefault("assumptions", assumptions_table(result.scenarios))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for name, frame in named.items():
            path = folder / f"{name}.csv"
            _plain(frame).to_csv(path, index=False)
            written.append(path)
    except OSError as exc:
        raise TcpmfError(f"{display_path(folder)}: cannot write CSV files ({exc.strerror})") from None
    return written


def to_excel(result: Result | pd.DataFrame | Mapping[str, pd.DataFrame], path: str | os.PathLike[str],
             extra: Mapping[str, pd.DataFrame] | None = None) -> Path:
    """Write an Excel workbook: one sheet per table, then ``assumptions`` (inputs and sources).

    Examples
    --------
    >>> to_excel(result, "out.xlsx"); pd.read_excel("out.xlsx", sheet_name=None).keys()  # doctest: +SKIP
    dict_keys(['summary', 'monthly', 'assumptions'])
    """
    from .engine import Result

    path = Path(path)
    named = tables(result, extra)
    if isinstance(result, Result) and result.scenarios:
        named.setdefault("assumptions", assumptions_table(result.scenarios))
    long = [n for n in named if len(n) > 31 or any(c in n for c in "[]:*?/\\")]
    if long:
        raise TcpmfError(f"sheet name {long[0]!r}: at most 31 characters and none of []:*?/\\")
    try:
        with pd.ExcelWriter(path, engine="openpyxl") as writer:
            for name, frame in named.items():
                _plain(frame).to_excel(writer, sheet_name=name, index=False, freeze_panes=(1, 0))
    except OSError as exc:
        raise TcpmfError(f"{display_path(path)}: cannot write the workbook ({exc.strerror})") from None
    return path
