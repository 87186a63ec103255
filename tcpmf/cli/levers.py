"""Command ``tcpmf levers PATH``: what each lever would have to be for the product to clear.

Registered by :mod:`tcpmf.cli.main` (feature ``levers``).  Data go to stdout, messages to stderr; a
bad scenario file ends with one message and exit code 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tcpmf.cli.common import CsvOpt, JsonOpt, clean_errors, emit, err, output_format
from tcpmf.schema.scenario import load

__all__ = ["register"]


def levers(
    path: Annotated[Path, typer.Argument(help="A scenario file.")],
    json_: JsonOpt = False,
    csv: CsvOpt = False,
) -> None:
    """For each lever, the value at which the product clears break-even (the others held)."""
    from tcpmf.analysis.levers import what_it_takes

    fmt = output_format(json_, csv)
    with clean_errors():
        scenario = load(path)
        frame = what_it_takes(scenario)
        if fmt == "table":
            shown = ["label", "unit", "current", "status", "direction", "value", "method"]
            emit(frame[shown], fmt, f"{scenario.name}: what it takes to clear break-even")
            for r in frame[frame["note"] != ""].itertuples(index=False):
                err.print(f"note, {r.label}: {r.note}")
            err.print(
                "clears = clears_break_even: unit TC-PMF and payback within the horizon, at month-0 token prices · "
                "needs: move the lever to the value · clears: it clears now and keeps clearing up to the value"
            )
        else:
            emit(frame, fmt)


def register(app: typer.Typer) -> None:
    """Add ``levers`` to the ``tcpmf`` command."""
    app.command()(levers)
