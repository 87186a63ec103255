"""Export results to CSV (one file per table) and Excel (one sheet per table, plus the assumptions).

A :class:`~tcpmf.model.engine.Result` gives the tables ``summary`` and ``monthly``; any other DataFrame
(a batch summary, a sweep) can be added by name.  The Excel workbook also has an ``assumptions``
sheet: every input of every evaluated scenario with its source (``Scenario.sources``) and the file
that set it, and CNY inputs with their original amount; and a ``prices`` sheet: the catalog token
prices, GPU rents and CNY/USD rate actually used, with record dates and sources, so that a reader
can check each number.

Examples
--------
>>> import tcpmf
>>> from tcpmf.model.export import to_excel
>>> result = tcpmf.evaluate("assumptions/products/writing_assistant.yaml")
>>> to_excel(result, "writing_assistant.xlsx").name
'writing_assistant.xlsx'
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from tcpmf.catalog import prices as catalog
from tcpmf.core.errors import TcpmfError
from tcpmf.core.extras import import_optional
from tcpmf.core.yamlio import assumptions_dir, display_path, origin_file
from tcpmf.schema.scenario import Scenario

if TYPE_CHECKING:  # pragma: no cover
    from tcpmf.model.engine import Result

__all__ = ["assumptions_table", "prices_table", "tables", "to_csv", "to_excel"]


def _flatten(tree: Any, prefix: str = "") -> Iterable[tuple[str, Any]]:
    if isinstance(tree, Mapping) and tree:
        for key, value in tree.items():
            yield from _flatten(value, f"{prefix}.{key}" if prefix else str(key))
    elif tree is not None and tree != {}:
        yield prefix, tree


def _raw_at(raw: Any, key: str) -> Any:
    node = raw
    for part in key.split("."):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def assumptions_table(scenarios: Iterable[Scenario]) -> pd.DataFrame:
    """Every input of every scenario: scenario, file, key (dotted path), value and source.

    ``file`` is the file that set the value (the product file, or the category or base file it
    extends).  ``source`` is the annotation of the value in its file (``source: …`` or
    ``assumed: …``), empty when the file gives a plain number.  A money value given in CNY is
    shown converted to USD in ``value``, with the amount as written in ``original_value`` and
    ``original_currency`` (``CNY``; empty for values given in USD).
    """
    rows = []
    for s in scenarios:
        sources = s.sources
        provenance = getattr(s, "_provenance", {}) or {}
        raw = getattr(s, "_raw", {}) or {}
        for key, value in _flatten(s.model_dump(mode="json")):
            shown = value if isinstance(value, (int, float, str, bool)) else str(value)
            given = _raw_at(raw, key)
            original: Any = None
            currency = ""
            if isinstance(given, Mapping) and given.get("currency") == "CNY":
                original, currency = given.get("value"), "CNY"
            rows.append(
                {
                    "scenario": s.name,
                    "file": origin_file(provenance, key, s.file),
                    "key": key,
                    "value": shown,
                    "original_value": original,
                    "original_currency": currency,
                    "source": sources.get(key, ""),
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "scenario",
            "file",
            "key",
            "value",
            "original_value",
            "original_currency",
            "source",
        ],
    )


def _has_cny(tree: Any) -> bool:
    if isinstance(tree, Mapping):
        return tree.get("currency") == "CNY" or any(_has_cny(v) for v in tree.values())
    if isinstance(tree, list):
        return any(_has_cny(v) for v in tree)
    return False


PRICE_COLUMNS = [
    "scenario",
    "kind",
    "item",
    "record_date",
    "usd_per_mtok_in",
    "usd_per_mtok_out",
    "usd_per_mtok_cached_in",
    "usd_per_gpu_hour",
    "cny_per_usd",
    "currency_in_catalog",
    "source",
]


def prices_table(scenarios: Iterable[Scenario]) -> pd.DataFrame:
    """The catalog prices each scenario used, at its ``start_month``: one row per API model
    (``kind`` ``api price``: record date, USD per 1M input/output/cached tokens, source), per
    self-hosted GPU (``gpu rent``: USD per GPU-hour) and the CNY/USD rate (``fx``) when any price
    or input was in CNY.  Prices given in the scenario itself (overrides) are listed as such.
    """
    directory = assumptions_dir()
    rows: list[dict[str, Any]] = []
    for s in scenarios:
        month = s.start_month
        m = s.model
        uses_cny = _has_cny(getattr(s, "_raw", {}) or {})
        api_models = (
            [r.name for r in m.routes if r.route == "api"]
            if m.routes
            else [m.name]
            if m.route == "api"
            else []
        )
        for name in dict.fromkeys(api_models):
            if m.usd_per_mtok_in is not None and not m.routes:
                rows.append(
                    {
                        "scenario": s.name,
                        "kind": "api price",
                        "item": name,
                        "record_date": month,
                        "usd_per_mtok_in": m.usd_per_mtok_in,
                        "usd_per_mtok_out": m.usd_per_mtok_out,
                        "currency_in_catalog": "",
                        "source": "override in the scenario (model.usd_per_mtok_*)",
                    }
                )
                continue
            try:
                price = catalog.model_price(name, month)
            except (KeyError, LookupError):
                continue
            record = catalog.in_force(catalog.models_catalog(directory).models[name].prices, month)
            currency = "CNY" if record is not None and record.usd_per_mtok_in is None else "USD"
            uses_cny = uses_cny or currency == "CNY"
            rows.append(
                {
                    "scenario": s.name,
                    "kind": "api price",
                    "item": name,
                    "record_date": price.date,
                    "usd_per_mtok_in": price.usd_per_mtok_in,
                    "usd_per_mtok_out": price.usd_per_mtok_out,
                    "usd_per_mtok_cached_in": price.usd_per_mtok_cached_in,
                    "currency_in_catalog": currency,
                    "source": price.source,
                }
            )
        host = m.self_host
        if host is not None:
            if host.usd_per_gpu_hour is not None:
                rows.append(
                    {
                        "scenario": s.name,
                        "kind": "gpu rent",
                        "item": host.gpu,
                        "record_date": month,
                        "usd_per_gpu_hour": host.usd_per_gpu_hour,
                        "currency_in_catalog": "",
                        "source": "given in the scenario (model.self_host.usd_per_gpu_hour)",
                    }
                )
            else:
                try:
                    rent = catalog.gpu_rent(host.gpu, month)
                except KeyError:
                    rent = None
                if rent is not None:
                    rents = catalog._gpus(directory).gpus[host.gpu].rents
                    rec = catalog.in_force(rents, month) or rents[0]
                    currency = "USD" if rec.usd_per_gpu_hour is not None else "CNY"
                    uses_cny = uses_cny or currency == "CNY"
                    rows.append(
                        {
                            "scenario": s.name,
                            "kind": "gpu rent",
                            "item": host.gpu,
                            "record_date": rent.date,
                            "usd_per_gpu_hour": rent.usd_per_gpu_hour,
                            "currency_in_catalog": currency,
                            "source": rent.source,
                        }
                    )
        if uses_cny:
            records = catalog._fx(directory).cny_per_usd
            fx = catalog.in_force(records, month) or records[0]
            rows.append(
                {
                    "scenario": s.name,
                    "kind": "fx",
                    "item": "CNY per USD",
                    "record_date": fx.date,
                    "cny_per_usd": fx.cny_per_usd,
                    "currency_in_catalog": "",
                    "source": fx.source,
                }
            )
    return pd.DataFrame(rows, columns=PRICE_COLUMNS)


def tables(
    result: Result | pd.DataFrame | Mapping[str, pd.DataFrame],
    extra: Mapping[str, pd.DataFrame] | None = None,
) -> dict[str, pd.DataFrame]:
    """The named tables to export: ``summary`` and ``monthly`` of a Result, a lone DataFrame as
    ``summary``, or a mapping as given; then *extra*."""
    from tcpmf.model.engine import Result

    if isinstance(result, Result):
        out = {"summary": result.summary, "monthly": result.monthly}
    elif isinstance(result, pd.DataFrame):
        out = {"summary": result}
    elif isinstance(result, Mapping):
        out = dict(result)
    else:
        raise TcpmfError(
            f"cannot export a {type(result).__name__}; give a Result, a DataFrame or a mapping of them"
        )
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


def to_csv(
    result: Result | pd.DataFrame | Mapping[str, pd.DataFrame],
    folder: str | os.PathLike[str],
    extra: Mapping[str, pd.DataFrame] | None = None,
) -> list[Path]:
    """Write one CSV per table into *folder* (created if needed); return the files written.

    A Result's scenarios add ``assumptions.csv`` and ``prices.csv``.  Missing values are written as empty cells.
    """
    from tcpmf.model.engine import Result

    folder = Path(folder)
    named = tables(result, extra)
    if isinstance(result, Result) and result.scenarios:
        named.setdefault("assumptions", assumptions_table(result.scenarios))
        named.setdefault("prices", prices_table(result.scenarios))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for name, frame in named.items():
            path = folder / f"{name}.csv"
            _plain(frame).to_csv(path, index=False)
            written.append(path)
    except OSError as exc:
        raise TcpmfError(
            f"{display_path(folder)}: cannot write CSV files ({exc.strerror})"
        ) from None
    return written


#: Columns that hold values of many units: shown as written, not in the format their name suggests.
_MIXED: dict[str, dict[str, str | None]] = {
    "assumptions": {"value": None, "original_value": "#,##0.00"}
}  # CNY as written
#: Columns of values of many units, formatted row by row by the input key path in another column.
_BY_KEY: dict[str, dict[str, str]] = {
    "assumptions": {"value": "key"},
    "inputs": {"value_p05": "input", "value_p50": "input", "value_p95": "input"},
}


def to_excel(
    result: Result | pd.DataFrame | Mapping[str, pd.DataFrame],
    path: str | os.PathLike[str],
    extra: Mapping[str, pd.DataFrame] | None = None,
) -> Path:
    """Write an Excel workbook: one sheet per table, then ``assumptions`` (inputs and sources) and
    ``prices`` (catalog prices, GPU rents and exchange rate used).

    Headers are plain language (:func:`tcpmf.model.workbook.header_label`) and frozen; money,
    percentages, months and counts have number formats; the cells keep their exact values.

    Examples
    --------
    >>> list(pd.read_excel(to_excel(result, "out.xlsx"), sheet_name=None))[:2]
    ['summary', 'monthly']
    """
    from tcpmf.model.engine import Result

    path = Path(path)
    named = tables(result, extra)
    if isinstance(result, Result) and result.scenarios:
        named.setdefault("assumptions", assumptions_table(result.scenarios))
        named.setdefault("prices", prices_table(result.scenarios))
    long = [n for n in named if len(n) > 31 or any(c in n for c in "[]:*?/\\")]
    if long:
        raise TcpmfError(f"sheet name {long[0]!r}: at most 31 characters and none of []:*?/\\")
    import_optional("openpyxl", "writing an Excel workbook")
    from tcpmf.model.workbook import format_sheet  # openpyxl: the 'excel' extra

    try:
        with pd.ExcelWriter(path, engine="openpyxl") as writer:
            for name, frame in named.items():
                _plain(frame).to_excel(writer, sheet_name=name, index=False, freeze_panes=(1, 0))
                format_sheet(
                    writer.sheets[name],
                    [str(c) for c in frame.columns],
                    formats=_MIXED.get(name),
                    by_key=_BY_KEY.get(name),
                )
    except OSError as exc:
        raise TcpmfError(
            f"{display_path(path)}: cannot write the workbook ({exc.strerror})"
        ) from None
    return path
