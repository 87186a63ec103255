"""Commands for business products: ``tcpmf deals`` and ``tcpmf maas``.

Registered by :mod:`tcpmf.cli.main` (feature ``tob``).  Data go to stdout, messages to stderr; a bad
scenario file ends with one message and exit code 1.
"""

from __future__ import annotations

from pathlib import Path

import typer

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
from tcpmf.schema.scenario import Scenario

__all__ = ["register"]


def _chosen(paths: list[Path] | None, kind: str, what: str) -> list[Scenario]:
    scenarios = load_all(paths or bundled_products())
    chosen = [s for s in scenarios if s.kind == kind]
    if not chosen:
        given = ", ".join(s.file for s in scenarios) or "none"
        raise TcpmfError(
            f"no {what} among the scenario files ({given}); a {what} has a {kind} section"
        )
    skipped = [s.file for s in scenarios if s.kind != kind]
    if paths and skipped:
        err.print(f"skipped (no {kind} section): {', '.join(skipped)}", highlight=False)
    return chosen


def deals(paths: PathsArg = None, json_: JsonOpt = False, csv: CsvOpt = False) -> None:
    """What one ToB deal earns and costs, and what its seats are worth (default: bundled deal products)."""
    from tcpmf.model.deals import deals as deal_table

    fmt = output_format(json_, csv)
    with clean_errors():
        frame = deal_table(_chosen(paths, "deal", "deal-based ToB scenario"))
        if fmt == "table":
            shown = [
                "scenario",
                "deal_revenue_usd",
                "delivery_usd",
                "sales_usd_per_won_deal",
                "deal_cost_usd",
                "deal_margin_usd",
                "deal_margin_share",
                "months_to_recover_delivery",
                "deals_to_break_even",
                "deals_won_per_year",
                "human_to_model_cost",
                "value_ceiling_usd_per_seat_month",
                "max_seat_price_usd_per_month",
                "vendor_margin_at_max_price",
            ]
            emit(frame[shown], fmt, "One deal, signed at start_month, over one contract term (USD)")
            err.print(
                "All columns: tcpmf deals --json   ·   deals_to_break_even is deals a year to cover a year's fixed cost"
            )
        else:
            emit(frame, fmt)


def maas(paths: PathsArg = None, json_: JsonOpt = False, csv: CsvOpt = False) -> None:
    """Margin per 1M tokens of model-as-a-service vendors (default: bundled MaaS products)."""
    from tcpmf.model.maas import maas as maas_table

    fmt = output_format(json_, csv)
    with clean_errors():
        frame = maas_table(_chosen(paths, "maas", "MaaS scenario"))
        emit(frame, fmt, "MaaS vendors: USD per 1M tokens served (free tokens included)")


def register(app: typer.Typer) -> None:
    """Add ``deals`` and ``maas`` to the ``tcpmf`` command."""
    app.command(name="deals")(deals)
    app.command(name="maas")(maas)
