"""Command line for inference cost in depth: ``tcpmf crossover``, ``tcpmf roofline``, ``tcpmf decline``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from tcpmf.cli.common import CsvOpt, JsonOpt, clean_errors, emit, err, output_format

__all__ = ["register"]


def crossover(
    paths: Annotated[list[Path], typer.Argument(help="Scenario files.")],
    json_: JsonOpt = False,
    csv: CsvOpt = False,
    api_model: Annotated[
        str, typer.Option(help="API model for scenarios without an API route.")
    ] = "gpt-4o-mini",
    architecture: Annotated[
        str | None,
        typer.Option(
            help="Self-host architecture for scenarios without a model.self_host section (default llama-3.1-8b)."
        ),
    ] = None,
    gpu: Annotated[
        str | None,
        typer.Option(
            help="Self-host GPU for scenarios without a model.self_host section (default h100-sxm)."
        ),
    ] = None,
    gpus_per_replica: Annotated[
        int | None,
        typer.Option(
            help="GPUs per replica for scenarios without a model.self_host section (default 1)."
        ),
    ] = None,
    precision: Annotated[
        str | None,
        typer.Option(
            help="fp8 or bf16, for scenarios without a model.self_host section (default fp8)."
        ),
    ] = None,
    peak_to_average: Annotated[
        float | None,
        typer.Option(
            help="Peak over average demand, for scenarios without a model.self_host section (default 2)."
        ),
    ] = None,
) -> None:
    """The monthly token volume and MAU above which self-hosting is cheaper than the API.

    Scenarios with a model.self_host section compare against it; the others against the set-up
    of --architecture/--gpu/--gpus-per-replica/--precision/--peak-to-average (defaults: Llama
    3.1 8B in FP8 on one H100).  With a routing mix the calls on the API routes are compared.
    """
    from tcpmf.analysis.crossover import DEFAULT_SELF_HOST
    from tcpmf.analysis.crossover import crossover as build
    from tcpmf.schema.scenario import load

    fmt = output_format(json_, csv)
    options = {
        "architecture": architecture,
        "gpu": gpu,
        "gpus_per_replica": gpus_per_replica,
        "precision": precision,
        "peak_to_average": peak_to_average,
    }
    given = {k: v for k, v in options.items() if v is not None}
    host = {**DEFAULT_SELF_HOST, **given} if given else None
    with clean_errors():
        frame = build([load(p) for p in paths], api_model=api_model, self_host=host)
        if fmt == "table":
            shown = [
                "scenario",
                "api_models",
                "self_host",
                "api_usd_per_mtok",
                "self_host_usd_per_mtok_full",
                "peak_to_average",
                "crossover_tokens_per_month",
                "crossover_mau",
            ]
            title = "Self-host beats the API above this monthly volume (at start_month)"
            origins = set(frame["self_host_from"])
            if "default" in origins:
                title += (
                    f" — WARNING: scenarios without a model.self_host section are compared with a DEFAULT "
                    f"set-up ({frame['self_host'][frame['self_host_from'] == 'default'].iloc[0]}); "
                    "choose one with --architecture/--gpu/--gpus-per-replica/--precision"
                )
            elif "given" in origins:
                title += " — scenarios without a model.self_host section use the set-up given on the command line"
            emit(frame[shown], fmt, title)
            err.print(
                "All columns: tcpmf crossover PATH --json   ·   — means self-hosting never wins"
            )
        else:
            emit(frame, fmt)


def roofline(json_: JsonOpt = False, csv: CsvOpt = False) -> None:
    """The roofline estimate against every published measurement it is calibrated on."""
    from tcpmf.catalog.roofline import calibration_ratios
    from tcpmf.catalog.serving import serving_calibration

    fmt = output_format(json_, csv)
    with clean_errors():
        cal = serving_calibration()
        ratios = calibration_ratios(cal)
        frame = pd.DataFrame(
            {
                "architecture": [m.architecture for m in cal.measurements],
                "gpus": [f"{m.gpus_per_replica}x {m.gpu}" for m in cal.measurements],
                "precision": [m.precision for m in cal.measurements],
                "input_tokens": [m.input_tokens for m in cal.measurements],
                "output_tokens": [m.output_tokens for m in cal.measurements],
                "measured_output_tokens_per_s": [
                    m.output_tokens_per_s_per_replica for m in cal.measurements
                ],
                "estimated_output_tokens_per_s": ratios
                * [m.output_tokens_per_s_per_replica for m in cal.measurements],
                "estimate_over_measured": ratios,
            }
        )
        emit(
            frame,
            fmt,
            f"Roofline vs published throughput (flop efficiency {cal.flop_efficiency}, bandwidth efficiency {cal.bandwidth_efficiency})",
        )


def decline(json_: JsonOpt = False, csv: CsvOpt = False) -> None:
    """The annual price decline of each capability tier, fitted to the dated catalog, with its spread."""
    from tcpmf.catalog.decline import decline_table

    fmt = output_format(json_, csv)
    with clean_errors():
        emit(
            decline_table(),
            fmt,
            "Annual cost decline per capability tier (cheapest price in force)",
        )


def register(app: typer.Typer) -> None:
    """Add this feature's commands to *app*."""
    app.command()(crossover)
    app.command()(roofline)
    app.command()(decline)
