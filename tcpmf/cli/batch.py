"""Commands ``tcpmf run PORTFOLIO --samples N --seed S --out DIR``, ``tcpmf report DIR`` and ``tcpmf compare A B``.

Registered by :mod:`tcpmf.cli.main` (feature ``batch``).  ``run`` writes a resumable Parquet
dataset (:mod:`tcpmf.uncertainty.runner`) and draws a progress bar on stderr; ``report`` prints the
per-product table on stdout and writes ``DIR/report.html`` (:mod:`tcpmf.outputs.report`).  Bad input
ends with one message and exit code 1; an interrupted run says how to resume it and exits 130.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from tcpmf.cli.common import CsvOpt, JsonOpt, clean_errors, emit, err, output_format
from tcpmf.core.errors import TcpmfError
from tcpmf.core.yamlio import display_path

__all__ = ["register"]


@contextmanager
def _progress_bar(label: str) -> Iterator[tuple[Progress, TaskID]]:
    """A bar that shows once ``bar.start()`` is called: at the runner's first progress report, so a
    run refused before it starts (bad arguments, another run's folder) prints its error alone."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("chunks"),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
    )
    # No refresh thread: the bar redraws on each update, and `tcpmf run` stays single-threaded, so
    # the processes executor can fork its workers (tcpmf.uncertainty.runner._start_method).
    bar = Progress(*columns, console=err, transient=False, auto_refresh=False)
    try:
        yield bar, bar.add_task(label, total=None)
    finally:
        if bar.live.is_started:
            bar.stop()


#: Short headers of the per-product table in the terminal (JSON and CSV keep the column names).
SHORT = {"p_clears_break_even": "P(clears) %"} | {
    f"{column}_p{q}": f"{label} P{q}"
    for column, label in (
        ("payback_month", "payback m."),
        ("peak_funding_usd", "peak funding $"),
        ("tcpmf_month", "TC-PMF m."),
    )
    for q in (10, 50, 90)
}


def _for_terminal(table: pd.DataFrame) -> pd.DataFrame:
    """Percent for P(clears), short headers (months are whole already)."""
    shown = table.copy()
    shown["p_clears_break_even"] = (shown["p_clears_break_even"] * 100).round(1)
    shown.columns = [SHORT.get(c, c) for c in shown.columns]
    return shown


class _Terminated(KeyboardInterrupt):
    """SIGTERM during ``tcpmf run``: stop like Ctrl-C, between chunks, and say how far it got."""


def _terminate(signum: int, frame: object) -> None:
    raise _Terminated


def run(
    portfolio: Annotated[
        Path, typer.Argument(help="A portfolio file (or a scenario file with distributions).")
    ],
    samples: Annotated[int, typer.Option("--samples", "-n", min=1, help="Draws per product.")],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Run folder; rerun the same command to resume it.")
    ],
    seed: Annotated[
        int, typer.Option(min=0, help="Same seed, same numbers (whatever the executor).")
    ] = 0,
    chunk_size: Annotated[
        int | None,
        typer.Option(
            "--chunk-size", min=1, help="Draws per chunk file (default 50,000).", show_default=False
        ),
    ] = None,
    executor: Annotated[str, typer.Option(help="serial, processes or dask.")] = "serial",
    scheduler: Annotated[
        str | None, typer.Option(help="Address of a running dask scheduler (with --executor dask).")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1, help="Worker processes (processes: one per CPU; dask: 2).", show_default=False
        ),
    ] = None,
) -> None:
    """Monte Carlo of a portfolio into a resumable Parquet dataset (one file per chunk)."""
    from tcpmf.uncertainty.batch import DEFAULT_CHUNK_SIZE
    from tcpmf.uncertainty.portfolio import as_portfolio
    from tcpmf.uncertainty.runner import EXECUTORS, run_status
    from tcpmf.uncertainty.runner import run as run_batch

    size = DEFAULT_CHUNK_SIZE if chunk_size is None else chunk_size
    with clean_errors():
        if executor not in EXECUTORS:  # before the portfolio loads, which may take a while
            raise TcpmfError(f"unknown executor {executor!r}; choose one of {', '.join(EXECUTORS)}")
        if not portfolio.is_file():
            raise TcpmfError(f"{display_path(portfolio)}: no such portfolio file")
        loaded = as_portfolio(portfolio)
        with _progress_bar(f"{loaded.name}, {samples:,} draws") as (bar, task):

            def progress(done: int, total: int) -> None:
                bar.start()  # once the runner has accepted the folder (no-op after the first call)
                if bar.tasks[0].total is None and done:
                    err.print(
                        f"resuming {display_path(out)}: {done} of {total} chunks already written",
                        highlight=False,
                    )
                bar.update(task, completed=done, total=total, refresh=True)

            previous = signal.signal(signal.SIGTERM, _terminate)
            try:
                run_batch(
                    loaded,
                    samples,
                    seed,
                    out,
                    chunk_size=size,
                    executor=executor,
                    scheduler=scheduler,
                    workers=workers,
                    progress=progress,
                )
            except KeyboardInterrupt as stop:  # Ctrl-C, or SIGTERM (_Terminated)
                bar.stop()
                signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second TERM ends it at once
                try:
                    so_far = run_status(out).describe()
                except TcpmfError:  # stopped before the run had its manifest
                    so_far = "nothing written yet"
                err.print(
                    f"{'terminated' if isinstance(stop, _Terminated) else 'interrupted'}: {so_far}; "
                    "rerun the same command to resume",
                    highlight=False,
                )
                raise typer.Exit(143 if isinstance(stop, _Terminated) else 130) from None
            finally:
                with suppress(ValueError):
                    signal.signal(signal.SIGTERM, previous)
        err.print(
            f"wrote {display_path(out)} · summarize it with: tcpmf report {display_path(out)}",
            highlight=False,
        )


def report(
    out: Annotated[Path, typer.Argument(help="The --out folder of a `tcpmf run`.")],
    partial: Annotated[
        bool,
        typer.Option(
            "--partial", help="Report on an unfinished run's chunks so far (labelled PARTIAL)."
        ),
    ] = False,
    sensitivity: Annotated[
        bool,
        typer.Option(
            "--sensitivity",
            help="Add rank correlations and PRIM boxes (from the draws) and a tornado and Sobol indices "
            "(new evaluations, seeded with the run's seed) to the page.",
        ),
    ] = False,
    sobol_samples: Annotated[
        int,
        typer.Option(
            "--sobol-samples",
            min=2,
            help="Base samples of the Sobol design (a power of 2), with --sensitivity.",
        ),
    ] = 512,
    json_: JsonOpt = False,
    csv: CsvOpt = False,
) -> None:
    """Per product: P(clears break-even), P10/P50/P90 of payback, peak funding and TC-PMF month; writes DIR/report.html."""
    from tcpmf.outputs.report import collect, write_report_html
    from tcpmf.uncertainty.run_sensitivity import run_sensitivity

    fmt = output_format(json_, csv)
    with clean_errors():
        rep = collect(out, partial=partial)
        sens = (
            run_sensitivity(out, partial=partial, sobol_samples=sobol_samples)
            if sensitivity
            else None
        )
        if sens is not None:
            err.print(
                f"sensitivity: rank table and PRIM boxes from {sens.draws_used:,} draws per product; "
                + (
                    f"tornado and Sobol from {sens.evaluations:,} new evaluations, seed {sens.seed}"
                    if sens.tornado is not None
                    else "no tornado or Sobol (see the page's notes)"
                ),
                highlight=False,
            )
        try:
            path: Path | None = write_report_html(rep, out, sens)
            unwritten = ""
        except TcpmfError as exc:  # e.g. a read-only folder: the table is still printed
            path, unwritten = None, str(exc)
        if rep.partial:
            err.print(
                f"[bold yellow]warning:[/] PARTIAL results: {rep.status.describe()}; missing draws are not counted. "
                f"Resume with: {rep.status.resume_command(out)}",
                highlight=False,
            )
        emit(_for_terminal(rep.table) if fmt == "table" else rep.table, fmt, rep.title())
        if fmt == "table":
            err.print(
                "Months count from each product's start month; — = not within the horizon",
                highlight=False,
            )
        if path is not None:
            err.print(f"wrote {display_path(path)}", highlight=False)
        else:
            err.print(
                f"[bold yellow]warning:[/] {unwritten}; the table above is complete",
                highlight=False,
            )


def compare(
    run_a: Annotated[
        Path, typer.Argument(help="Run A: the --out folder of a `tcpmf run` (the baseline).")
    ],
    run_b: Annotated[
        Path,
        typer.Argument(
            help="Run B: a variant run with the same --seed, --samples and --chunk-size."
        ),
    ],
    html_out: Annotated[
        Path | None,
        typer.Option(
            "--html",
            help="Write the comparison page here (default: RUN_B/compare.html).",
            show_default=False,
        ),
    ] = None,
    confidence: Annotated[
        float, typer.Option(min=0.5, max=0.999, help="Of the paired intervals.")
    ] = 0.95,
    json_: JsonOpt = False,
    csv: CsvOpt = False,
) -> None:
    """Per product, B − A in P(clears break-even), median payback and median peak funding, with paired intervals."""
    from tcpmf.outputs.compare_report import OUTCOMES, compare_html, format_cell, format_interval
    from tcpmf.uncertainty.compare import compare_runs
    from tcpmf.uncertainty.runner import write_atomic

    fmt = output_format(json_, csv)
    with clean_errors():
        table = compare_runs(run_a, run_b, confidence=confidence)
        page = html_out if html_out is not None else run_b / "compare.html"
        try:
            write_atomic(
                page,
                compare_html(
                    table, display_path(run_a), display_path(run_b), confidence=confidence
                ).encode("utf-8"),
            )
        except OSError as exc:
            raise TcpmfError(f"cannot write {display_path(page)} ({exc.strerror})") from None
        if fmt == "table":
            shown = pd.DataFrame({"product": table["product"]})
            for outcome, label in OUTCOMES.items():
                shown[f"{label} B − A"] = [
                    format_cell(outcome, v, signed=True) for v in table[f"{outcome}_difference"]
                ]
                shown[f"{label} interval"] = [
                    format_interval(outcome, lo, hi)
                    for lo, hi in zip(
                        table[f"{outcome}_difference_low"], table[f"{outcome}_difference_high"]
                    )
                ]
            emit(shown, fmt, f"B − A: {display_path(run_b)} vs {display_path(run_a)}")
        else:
            emit(table, fmt, "compare")
        err.print(f"wrote {display_path(page)}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``run``, ``report`` and ``compare`` to the ``tcpmf`` command."""
    app.command(name="run")(run)
    app.command(name="report")(report)
    app.command(name="compare")(compare)
