"""Command line for inference cost in depth: ``tcpmf crossover``, ``tcpmf roofline``, ``tcpmf decline``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from .cli import CsvOpt, JsonOpt, _clean_errors, _emit, _format, err
from .errors import TcpmfError

__all__ = ["register"]


def crossover(
    paths: Annotated[list[Path], typer.Argument(help="Scenario files.")],
    json_: JsonOpt = False,
    csv: CsvOpt = False,
    api_model: Annotated[str, typer.Option(help="API model for scenarios without an API route.")] = "gpt-4o-mini",
) -> None:
    """The monthly token volume and MAU above which self-hosting is cheaper than the API."""
    from .crossover import crossover as build
    from .scenario import load

    fmt = _format(json_, csv)
    with _clean_errors():
        try:
            frame = build([load(p) for p in paths], api_model=api_model)
        except KeyError as exc:
            raise TcpmfError(f"--api-model {api_model!r}: {exc.args[0]}") from None
        if fmt == "table":
            shown = ["scenario", "api_usd_per_mtok", "self_host_usd_per_mtok_full", "peak_to_average",
                     "crossover_tokens_per_month", "crossover_mau"]
            _emit(frame[shown], fmt, "Self-host beats the API above this monthly volume (at start_month)")
            err.print("All columns: tcpmf crossover PATH --json   ·   — means self-hosting never wins")
        else:
            _emit(frame, fmt)


def roofline(json_: JsonOpt = False, csv: CsvOpt = False) -> None:
    """The roofline estimate against every published measurement it is calibrated on."""
    from .catalog_serving import serving_calibration
    from .roofline import calibration_ratios

    fmt = _format(json_, csv)
    with _clean_errors():
        cal = serving_calibration()
        ratios = calibration_ratios(cal)
        frame = pd.DataFrame(
            {
                "architecture": [m.architecture for m in cal.measurements],
                "gpus": [f"{m.gpus_per_replica}x {m.gpu}" for m in cal.measurements],
                "precision": [m.precision for m in cal.measurements],
                "input_tokens": [m.input_tokens for m in cal.measurements],
                "output_tokens": [m.output_tokens for m in cal.measurements],
                "measured_output_tokens_per_s": [m.output_tokens_per_s_per_replica for m in cal.measurements],
                "estimated_output_tokens_per_s": ratios * [m.output_tokens_per_s_per_replica for m in cal.measurements],
                "estimate_over_measured": ratios,
            }
        )
        _emit(frame, fmt, f"Roofline vs published throughput (flop efficiency {cal.flop_efficiency}, bandwidth efficiency {cal.bandwidth_efficiency})")


def decline(json_: JsonOpt = False, csv: CsvOpt = False) -> None:
    """The annual price decline of each capability tier, fitted to the dated catalog, with its spread."""
    from .decline_fit import decline_table

    fmt = _format(json_, csv)
    with _clean_errors():
        _emit(decline_table(), fmt, "Annual cost decline per capability tier (cheapest price in force)")


def register(app: typer.Typer) -> None:
    """Add this feature's commands to *app*."""
    app.command()(crossover)
    app.command()(roofline)
    app.command()(decline)
