"""What every command group shares: the error console, clean refusals, output formats and options.

Data go to stdout (a rich table, or JSON / CSV when asked); messages and errors go to stderr.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from tcpmf.core.errors import TcpmfError
from tcpmf.core.yamlio import assumptions_dir
from tcpmf.schema.scenario import Scenario, load

err = Console(stderr=True, soft_wrap=True)


@contextmanager
def clean_errors() -> Iterator[None]:
    """Turn a TcpmfError into one red line on stderr and exit code 1, never a traceback."""
    try:
        yield
    except TcpmfError as exc:
        err.print(f"[bold red]error:[/] {exc}", markup=True, highlight=False)
        raise typer.Exit(1) from None


def bundled_products() -> list[Path]:
    """Every bundled product file, sorted."""
    return sorted((assumptions_dir() / "products").glob("*.yaml"))


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready rows: pandas NA becomes None, numpy scalars become Python numbers."""
    rows = []
    for row in frame.astype(object).itertuples(index=False):
        rows.append({key: _plain(value) for key, value in zip(frame.columns, row)})
    return rows


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, pd.Period):
        return str(value)
    return value


def _cell(column: str, value: Any) -> str:
    value = _plain(value)
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "[green]yes[/]" if value else "[red]no[/]"
    if isinstance(value, float):
        if column.endswith("%"):  # a percentage column of a feature's table (P(clears) %)
            return f"{value:.1f}"
        if column.startswith(("gross_margin", "ltv_to")):
            return f"{value:.0%}" if column.startswith("gross") else f"{value:.2f}"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:,.3g}" if abs(value) < 1 else f"{value:,.2f}"
    return str(value)


#: Short headers for the terminal tables (JSON and CSV keep the full column names).
HEADERS = {
    "contribution_usd_per_mau_m0": "contrib. $/MAU",
    "gross_margin_m0": "margin",
    "max_affordable_usd_per_mtok": "max $/Mtok",
    "usd_per_mtok_blended_m0": "$/Mtok now",
    "tcpmf_calendar_month": "TC-PMF",
    "tcpmf_month": "TC-PMF month",
    "breakeven_month": "break-even m.",
    "payback_month": "payback m.",
    "peak_funding_usd": "peak funding $",
    "ltv_to_cac": "LTV/CAC",
    "clears_break_even": "clears",
    "deal_margin_usd": "deal margin $",
    "deals_to_break_even": "deals/yr needed",
    "predicted_stage": "stage",
    "calendar_month": "month",
    "inference_cost_usd_per_mau": "inference $/MAU",
    "contribution_usd_per_mau": "contrib. $/MAU",
    "arpu_usd": "ARPU $",
    "gross_profit_usd": "gross profit $",
    "net_usd": "net $",
    "cash_usd": "cash $",
    "window_months": "window m.",
    "active_users_at_entry": "MAU at entry",
    "cash_usd_at_entry": "cash $ at entry",
    "survives_entry": "survives entry",
}


def _table(frame: pd.DataFrame, title: str | None = None) -> Table:
    table = Table(title=title, header_style="bold", show_lines=False)
    for column in frame.columns:
        numeric = pd.api.types.is_numeric_dtype(frame[column]) and not pd.api.types.is_bool_dtype(
            frame[column]
        )
        header = HEADERS.get(column, column.replace("_", " "))
        table.add_column(header, justify="right" if numeric else "left", overflow="fold")
    for row in frame.astype(object).itertuples(index=False):
        table.add_row(*(_cell(c, v) for c, v in zip(frame.columns, row)))
    return table


def emit(frame: pd.DataFrame, fmt: str, title: str | None = None) -> None:
    """Print *frame* to stdout as JSON, CSV or a rich table (*fmt* from :func:`output_format`)."""
    if fmt == "json":
        sys.stdout.write(json.dumps(records(frame), indent=2, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        frame.to_csv(sys.stdout, index=False)
    else:
        # Created per call so that $COLUMNS applies; a pipe gets a wide table rather than wrapped cells.
        console = (
            Console() if sys.stdout.isatty() or "COLUMNS" in os.environ else Console(width=200)
        )
        console.print(_table(frame, title))


def load_all(paths: Sequence[Path]) -> list[Scenario]:
    """Load every scenario file of *paths*."""
    return [load(p) for p in paths]


def output_format(json_flag: bool, csv_flag: bool) -> str:
    """``json``, ``csv`` or ``table`` from the --json / --csv flags (both is an error)."""
    if json_flag and csv_flag:
        raise typer.BadParameter("choose one of --json and --csv")
    return "json" if json_flag else "csv" if csv_flag else "table"


PathsArg = Annotated[
    list[Path] | None,
    typer.Argument(help="Scenario files (default: every bundled product).", show_default=False),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON (NA as null).")]
CsvOpt = Annotated[bool, typer.Option("--csv", help="Print CSV.")]
