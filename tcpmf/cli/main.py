"""Command line: ``tcpmf breakeven``, ``timeline``, ``show``, ``validate``, ``schema``.

Data go to stdout (a rich table, or JSON / CSV when asked); messages and errors go to stderr.
A bad assumption file ends with exit code 1 and one message naming the file, key, value and what
is allowed.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from importlib import import_module
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from tcpmf.analysis.timeline import TIMELINE_VIEWS
from tcpmf.analysis.timeline import timeline as build_timeline
from tcpmf.catalog.prices import validate_file as validate_catalog_file
from tcpmf.core.errors import TcpmfError
from tcpmf.core.yamlio import assumptions_dir, display_path, read_yaml
from tcpmf.model.engine import SUMMARY_COLUMNS, TOB_SUMMARY_COLUMNS, evaluate
from tcpmf.schema.scenario import Scenario, load, looks_like_portfolio

__all__ = ["app", "main"]

app = typer.Typer(
    name="tcpmf",
    help="Does an LLM product clear break-even at today's token prices, and when will it?",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, soft_wrap=True)

BREAKEVEN_KEYS = ("product", "segment", "category", "model", *SUMMARY_COLUMNS, *TOB_SUMMARY_COLUMNS)


@contextmanager
def _clean_errors() -> Iterator[None]:
    try:
        yield
    except TcpmfError as exc:
        err.print(f"[bold red]error:[/] {exc}", markup=True, highlight=False)
        raise typer.Exit(1) from None


def _bundled_products() -> list[Path]:
    return sorted((assumptions_dir() / "products").glob("*.yaml"))


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
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
}


def _table(frame: pd.DataFrame, title: str | None = None) -> Table:
    table = Table(title=title, header_style="bold", show_lines=False)
    for column in frame.columns:
        numeric = pd.api.types.is_numeric_dtype(frame[column]) and not pd.api.types.is_bool_dtype(frame[column])
        header = HEADERS.get(column, column.replace("_", " "))
        table.add_column(header, justify="right" if numeric else "left", overflow="fold")
    for row in frame.astype(object).itertuples(index=False):
        table.add_row(*(_cell(c, v) for c, v in zip(frame.columns, row)))
    return table


def _emit(frame: pd.DataFrame, fmt: str, title: str | None = None) -> None:
    if fmt == "json":
        sys.stdout.write(json.dumps(_records(frame), indent=2, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        frame.to_csv(sys.stdout, index=False)
    else:
        # Created per call so that $COLUMNS applies; a pipe gets a wide table rather than wrapped cells.
        console = Console() if sys.stdout.isatty() or "COLUMNS" in os.environ else Console(width=200)
        console.print(_table(frame, title))


def _load_all(paths: Sequence[Path]) -> list[Scenario]:
    return [load(p) for p in paths]


def _format(json_flag: bool, csv_flag: bool) -> str:
    if json_flag and csv_flag:
        raise typer.BadParameter("choose one of --json and --csv")
    return "json" if json_flag else "csv" if csv_flag else "table"


PathsArg = Annotated[
    list[Path] | None,
    typer.Argument(help="Scenario files (default: every bundled product).", show_default=False),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON (NA as null).")]
CsvOpt = Annotated[bool, typer.Option("--csv", help="Print CSV.")]


DeclineOpt = Annotated[
    float | None,
    typer.Option(help="Override every scenario's annual_cost_decline (1 = prices stay as today)."),
]


@app.command()
def breakeven(
    paths: PathsArg = None, json_: JsonOpt = False, csv: CsvOpt = False, annual_cost_decline: DeclineOpt = None
) -> None:
    """Which products clear break-even at today's token prices, and in which month they will."""
    fmt = _format(json_, csv)
    with _clean_errors():
        scenarios = _load_all(paths or _bundled_products())
        if annual_cost_decline is not None:
            scenarios = [s.override({"model.annual_cost_decline": annual_cost_decline}) for s in scenarios]
        if not scenarios:
            raise TcpmfError(f"no scenario files given and none bundled in {display_path(assumptions_dir() / 'products')}")
        summary = evaluate(scenarios).summary
        head = pd.DataFrame(
            {
                "product": summary["scenario"],
                "segment": [s.segment for s in scenarios],
                "category": [s.category for s in scenarios],
                "model": [s.model.name for s in scenarios],
            }
        )
        frame = pd.concat([head, summary.drop(columns="scenario")], axis=1)[list(BREAKEVEN_KEYS)]
        if fmt == "table":
            shown = ["product", "model", "contribution_usd_per_mau_m0", "gross_margin_m0",
                     "usd_per_mtok_blended_m0", "max_affordable_usd_per_mtok", "tcpmf_calendar_month",
                     "breakeven_month", "payback_month", "peak_funding_usd", "ltv_to_cac", "clears_break_even"]
            if frame["deal_margin_usd"].notna().any():  # deal-based ToB rows: what one deal earns
                shown[-1:-1] = ["deal_margin_usd", "deals_to_break_even"]
            _emit(frame[shown], fmt, "TC-PMF at today's token prices (month 0 = each product's start_month)")
            err.print("All columns: tcpmf breakeven --json   ·   months count from each product's start_month")
        else:
            _emit(frame, fmt)


@app.command()
def timeline(
    json_: JsonOpt = False,
    csv: CsvOpt = False,
    annual_cost_decline: DeclineOpt = None,
    horizon_months: Annotated[int, typer.Option(min=1, max=240, help="Months to look ahead.")] = 120,
    model: Annotated[
        str | None, typer.Option(help="Put every category on this catalog model (e.g. gpt-4o).")
    ] = None,
    view: Annotated[
        str, typer.Option(help="Assumption set: data (the sourced category defaults) or lee (Kai-Fu Lee's argument).")
    ] = "data",
) -> None:
    """The month each consumer category reaches TC-PMF (unit and company), side by side, and why."""
    fmt = _format(json_, csv)
    with _clean_errors():
        if view not in TIMELINE_VIEWS:
            raise typer.BadParameter(f"--view must be one of {', '.join(TIMELINE_VIEWS)}, not {view!r}")
        frame = build_timeline(annual_cost_decline=annual_cost_decline, horizon_months=horizon_months, model=model, view=view)
        if fmt == "table":
            frame = frame[["category", "stage", "model", "revenue_usd_per_mau", "tokens_per_mau", "usd_per_mtok_blended_m0",
                           "affordable_usd_per_mtok", "tcpmf_calendar_month", "company_tcpmf_month", "binding_constraint"]]
        elif fmt == "csv":
            frame = frame.assign(model_by_month=[json.dumps(m) for m in frame["model_by_month"]])
        _emit(frame, fmt, f"TC-PMF timeline of the consumer categories ({view} view)")


@app.command()
def show(
    path: Annotated[Path, typer.Argument(help="A scenario file.")],
    json_: JsonOpt = False,
    csv: CsvOpt = False,
) -> None:
    """The monthly table of one scenario."""
    fmt = _format(json_, csv)
    with _clean_errors():
        result = evaluate(load(path))
        frame = result.monthly
        if fmt == "table":
            columns = ["calendar_month", "new_users", "active_users", "arpu_usd", "inference_cost_usd_per_mau",
                       "contribution_usd_per_mau", "gross_profit_usd", "net_usd", "cash_usd"]
            _emit(frame[columns], fmt, f"{result.summary['scenario'][0]}: month by month")
        else:
            _emit(frame, fmt)


@app.command()
def validate(paths: Annotated[list[Path], typer.Argument(help="Scenario, portfolio or catalog files to check.")]) -> None:
    """Check scenario, portfolio (or catalog) files; print one line per file and exit 1 if any is bad."""
    failed = 0
    for path in paths:
        try:
            kind = validate_catalog_file(path)
            if kind:
                what = f"{kind} catalog"
            elif looks_like_portfolio(read_yaml(path)):
                from tcpmf.uncertainty.portfolio import load_portfolio

                portfolio = load_portfolio(path)
                inputs = sum(len(p.uncertainties) for p in portfolio.products)
                what = f"portfolio {portfolio.name!r}: {len(portfolio.products)} products, {inputs} uncertain inputs"
            else:
                scenario = load(path)
                what = scenario.name + (f", {len(scenario.uncertainties)} uncertain inputs" if scenario.uncertainties else "")
        except TcpmfError as exc:
            failed += 1
            err.print(f"[bold red]error:[/] {exc}", highlight=False)
        else:
            err.print(f"[green]ok[/]    {display_path(path)} ({what})", highlight=False)
    if failed:
        raise typer.Exit(1)


@app.command()
def schema(output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file.")] = None) -> None:
    """Print the JSON schema of scenario files (for editors)."""
    from tcpmf.schema.json_schema import dumps

    text = dumps()
    if output is None:
        sys.stdout.write(text)
    else:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            err.print(f"[bold red]error:[/] {display_path(output)}: cannot write ({exc.strerror})", highlight=False)
            raise typer.Exit(1) from None
        err.print(f"wrote {display_path(output)}")


# Feature modules add their commands here: each ``tcpmf/cli/<feature>.py`` defines
# ``register(app)`` and may use the helpers above (_emit, _format, _clean_errors, err, JsonOpt, CsvOpt).
_FEATURES: tuple[str, ...] = ("data", "selfhost", "tob", "levers", "batch")
for _feature in _FEATURES:
    import_module(f"tcpmf.cli.{_feature}").register(app)


def main(argv: Sequence[str] | None = None) -> Callable[..., Any] | None:
    """Entry point of the ``tcpmf`` command."""
    try:
        return app(args=list(argv) if argv is not None else None, prog_name="tcpmf")
    except BrokenPipeError:  # e.g. `tcpmf show X --csv | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    except OSError as exc:  # stdout cannot be written (disk full, closed)
        err.print(f"[bold red]error:[/] cannot write the output ({exc.strerror})", highlight=False)
        sys.exit(1)
