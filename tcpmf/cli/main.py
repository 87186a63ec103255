"""Command line: ``tcpmf breakeven``, ``timeline``, ``show``, ``validate``, ``schema``.

Data go to stdout (a rich table, or JSON / CSV when asked); messages and errors go to stderr.
A bad assumption file ends with exit code 1 and one message naming the file, key, value and what
is allowed.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from importlib import import_module
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from tcpmf.analysis.timeline import TIMELINE_VIEWS
from tcpmf.analysis.timeline import timeline as build_timeline
from tcpmf.analysis.verdict_notes import verdict_notes
from tcpmf.catalog.prices import validate_file as validate_catalog_file
from tcpmf.cli.common import (
    CsvOpt,
    JsonOpt,
    PathsArg,
    bundled_products,
    clean_errors,
    emit,
    err,
    load_all,
    output_format,
)
from tcpmf.core.errors import TcpmfError
from tcpmf.core.yamlio import assumptions_dir, display_path, read_yaml
from tcpmf.model.engine import (
    COMPETITION_SUMMARY_COLUMNS,
    SUMMARY_COLUMNS,
    TOB_SUMMARY_COLUMNS,
    evaluate,
)
from tcpmf.schema.scenario import load, looks_like_portfolio

__all__ = ["app", "main"]

app = typer.Typer(
    name="tcpmf",
    help="Does an LLM product clear break-even at today's token prices, and when will it?",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
BREAKEVEN_KEYS = ("product", "segment", "category", "model", *SUMMARY_COLUMNS, *TOB_SUMMARY_COLUMNS)


DeclineOpt = Annotated[
    float | None,
    typer.Option(help="Override every scenario's annual_cost_decline (1 = prices stay as today)."),
]


@app.command()
def breakeven(
    paths: PathsArg = None,
    json_: JsonOpt = False,
    csv: CsvOpt = False,
    annual_cost_decline: DeclineOpt = None,
) -> None:
    """Which products clear break-even at today's token prices, and in which month they will."""
    fmt = output_format(json_, csv)
    with clean_errors():
        scenarios = load_all(paths or bundled_products())
        if annual_cost_decline is not None:
            scenarios = [
                s.override({"model.annual_cost_decline": annual_cost_decline}) for s in scenarios
            ]
        if not scenarios:
            raise TcpmfError(
                f"no scenario files given and none bundled in {display_path(assumptions_dir() / 'products')}"
            )
        summary = evaluate(scenarios).summary
        head = pd.DataFrame(
            {
                "product": summary["scenario"],
                "segment": [s.segment for s in scenarios],
                "category": [s.category for s in scenarios],
                "model": [s.model.name for s in scenarios],
            }
        )
        keys = list(BREAKEVEN_KEYS)
        competing = "entry_month" in summary.columns  # some product has a competition section
        if competing:
            keys += COMPETITION_SUMMARY_COLUMNS
        frame = pd.concat([head, summary.drop(columns="scenario")], axis=1)[keys]
        frame["verdict_note"] = verdict_notes(scenarios, summary)
        if fmt == "table":
            shown = [
                "product",
                "model",
                "contribution_usd_per_mau_m0",
                "gross_margin_m0",
                "usd_per_mtok_blended_m0",
                "max_affordable_usd_per_mtok",
                "tcpmf_calendar_month",
                "breakeven_month",
                "payback_month",
                "peak_funding_usd",
                "ltv_to_cac",
                "clears_break_even",
            ]
            if frame["deal_margin_usd"].notna().any():  # deal-based ToB rows: what one deal earns
                shown[-1:-1] = ["deal_margin_usd", "deals_to_break_even"]
            if (
                competing
            ):  # an incumbent enters: the window, and whether the product pays back after it
                shown[-1:-1] = [
                    "window_months",
                    "active_users_at_entry",
                    "cash_usd_at_entry",
                    "survives_entry",
                ]
            if (
                frame["verdict_note"].astype(bool).any()
            ):  # a verdict that hangs on the horizon or on free users
                shown.append("verdict_note")
            emit(
                frame[shown],
                fmt,
                "TC-PMF at today's token prices (month 0 = each product's start_month)",
            )
            err.print(
                "All columns: tcpmf breakeven --json   ·   months count from each product's start_month"
            )
        else:
            emit(frame, fmt)


@app.command()
def timeline(
    json_: JsonOpt = False,
    csv: CsvOpt = False,
    annual_cost_decline: DeclineOpt = None,
    horizon_months: Annotated[
        int, typer.Option(min=1, max=240, help="Months to look ahead.")
    ] = 120,
    model: Annotated[
        str | None, typer.Option(help="Put every category on this catalog model (e.g. gpt-4o).")
    ] = None,
    view: Annotated[
        str,
        typer.Option(
            help="Assumption set: data (the sourced category defaults), lee (Kai-Fu Lee's argument) or "
            "competition (the defaults when an incumbent copies them after TC-PMF)."
        ),
    ] = "data",
    capability: Annotated[
        str | None,
        typer.Option(
            help="Put every category on this capability floor: a tier (tcpmf decline lists them), a "
            "minimum score on the tiers' benchmark, or BENCHMARK:SCORE on another benchmark of "
            "catalog/capability.yaml (e.g. mmlu_pro_2024_07:60); default gpt-4-class in the data and "
            "competition views, none in the lee view."
        ),
    ] = None,
) -> None:
    """The month each consumer category reaches TC-PMF (unit and company), side by side, and why."""
    fmt = output_format(json_, csv)
    with clean_errors():
        if view not in TIMELINE_VIEWS:
            raise typer.BadParameter(
                f"--view must be one of {', '.join(TIMELINE_VIEWS)}, not {view!r}"
            )
        floor = _capability_floor(capability)
        frame = build_timeline(
            annual_cost_decline=annual_cost_decline,
            horizon_months=horizon_months,
            model=model,
            view=view,
            capability=floor,
        )
        if fmt == "table":
            shown = [
                "category",
                "stage",
                "capability_floor",
                "model",
                "revenue_usd_per_mau",
                "tokens_per_mau",
                "usd_per_mtok_blended_m0",
                "affordable_usd_per_mtok",
                "tcpmf_calendar_month",
                "company_tcpmf_month",
                "binding_constraint",
            ]
            if "window_months" in frame.columns:  # the competition view: the window and its outcome
                shown[-1:] = ["window_months", "active_users_at_entry", "survives_entry"]
            frame = frame[shown]
        elif fmt == "csv":
            frame = frame.assign(model_by_month=[json.dumps(m) for m in frame["model_by_month"]])
        emit(frame, fmt, f"TC-PMF timeline of the consumer categories ({view} view)")


@app.command()
def show(
    path: Annotated[Path, typer.Argument(help="A scenario file.")],
    json_: JsonOpt = False,
    csv: CsvOpt = False,
) -> None:
    """The monthly table of one scenario."""
    fmt = output_format(json_, csv)
    with clean_errors():
        result = evaluate(load(path))
        frame = result.monthly
        if fmt == "table":
            columns = [
                "calendar_month",
                "new_users",
                "active_users",
                "arpu_usd",
                "inference_cost_usd_per_mau",
                "contribution_usd_per_mau",
                "gross_profit_usd",
                "net_usd",
                "cash_usd",
            ]
            emit(frame[columns], fmt, f"{result.summary['scenario'][0]}: month by month")
        else:
            emit(frame, fmt)


@app.command()
def validate(
    paths: Annotated[
        list[Path], typer.Argument(help="Scenario, portfolio or catalog files to check.")
    ],
) -> None:
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
                what = scenario.name + (
                    f", {len(scenario.uncertainties)} uncertain inputs"
                    if scenario.uncertainties
                    else ""
                )
        except TcpmfError as exc:
            failed += 1
            err.print(f"[bold red]error:[/] {exc}", highlight=False)
        else:
            err.print(f"[green]ok[/]    {display_path(path)} ({what})", highlight=False)
    if failed:
        raise typer.Exit(1)


@app.command()
def schema(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file.")
    ] = None,
) -> None:
    """Print the JSON schema of scenario files (for editors)."""
    from tcpmf.schema.json_schema import dumps

    text = dumps()
    if output is None:
        sys.stdout.write(text)
    else:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            err.print(
                f"[bold red]error:[/] {display_path(output)}: cannot write ({exc.strerror})",
                highlight=False,
            )
            raise typer.Exit(1) from None
        err.print(f"wrote {display_path(output)}")


# Feature modules add their commands here: each ``tcpmf/cli/<feature>.py`` defines
# ``register(app)`` and may use the helpers above (emit, output_format, clean_errors, err, JsonOpt, CsvOpt).
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
        where = display_path(Path(exc.filename)) if exc.filename else "standard output"
        err.print(
            f"[bold red]error:[/] cannot write the output to {where} ({exc.strerror})",
            highlight=False,
        )
        sys.exit(1)


def _capability_floor(text: str | None) -> str | float | dict[str, object] | None:
    """``--capability``: a tier name, a score on the tiers' benchmark, or ``BENCHMARK:SCORE``."""
    if text is None or _is_number(text):
        return None if text is None else float(text)
    benchmark, colon, score = text.rpartition(":")
    if colon and benchmark and _is_number(score):
        return {"benchmark": benchmark, "min_score": float(score)}
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
