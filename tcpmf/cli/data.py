"""Commands for data in and out: ``tcpmf fit-retention``, ``tcpmf catalog import``, ``tcpmf export``.

Registered by :mod:`tcpmf.cli.main` (feature ``data``).  Data go to stdout, messages to stderr; a bad
input file ends with one message and exit code 1.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from tcpmf.cli.common import JsonOpt, clean_errors, emit, err, records
from tcpmf.core.errors import TcpmfError
from tcpmf.core.yamlio import display_path

__all__ = ["register"]

catalog_app = typer.Typer(help="Maintain the dated price catalog.", no_args_is_help=True)


def fit_retention(
    file: Annotated[
        Path, typer.Argument(help="Cohort table (CSV): cohort, age_months, active_users or share.")
    ],
    curve: Annotated[
        list[str] | None,
        typer.Option("--curve", help="Fit only this curve (power_law, plateau, sbg); repeatable."),
    ] = None,
    by_cohort: Annotated[
        bool, typer.Option("--by-cohort", help="Also fit each cohort on its own.")
    ] = False,
    wide: Annotated[
        bool,
        typer.Option(
            "--wide",
            help="The table is wide: one row per cohort, one column per month (0, 1, 2 …).",
        ),
    ] = False,
    cohort_size: Annotated[
        float | None,
        typer.Option(min=1, help="Members of each cohort at age 0, when the table gives shares."),
    ] = None,
    chart: Annotated[
        Path | None, typer.Option(help="Write an HTML chart of observed vs fitted here.")
    ] = None,
    months: Annotated[int, typer.Option(min=2, max=600, help="Months the chart projects.")] = 36,
    period: Annotated[
        str,
        typer.Option(
            help="Unit of the table's ages: day, week, month or year (the block states it)."
        ),
    ] = "month",
    json_: JsonOpt = False,
) -> None:
    """Fit retention curves to cohort data; print the fits and a ready-to-paste retention: block."""
    from tcpmf.analysis.retention_fit import fit_retention as fit

    with clean_errors():
        result = fit(
            file,
            curves=curve,
            by_cohort=by_cohort,
            cohort_size=cohort_size,
            wide=wide,
            period=period,
        )
        best = result.best() if result.identified else None
        block = result.to_yaml() if best is not None else None
        quality = result.quality  # a property that builds the table (10^6 cohorts' rows): once
        if json_:
            out: dict[str, Any] = {
                "quality": records(quality),
                "params": records(result.params),
                "best": None,
                "yaml": block,
            }
            if best is not None:
                std_errors = {
                    k: (v if math.isfinite(v) else None) for k, v in best.std_errors.items()
                }
                out["best"] = {"curve": best.curve, "params": best.params, "std_errors": std_errors}
            sys.stdout.write(json.dumps(_finite_or_null(out), indent=2, allow_nan=False) + "\n")
        else:
            params = result.params
            hidden = _first_cohorts_only(quality)
            emit(
                quality.loc[~quality["cohort"].isin(hidden)].drop(
                    columns=["n_params", "converged"]
                ),
                "table",
                f"Retention fits to {display_path(file)} (lower AIC is better; only identified fits can be best)",
            )
            emit(
                params.loc[~params["cohort"].isin(hidden)],
                "table",
                "Parameters (standard errors from the inverse Hessian)",
            )
            if len(hidden):
                err.print(
                    f"{len(hidden):,} more cohorts fitted on their own are not shown "
                    f"(the first {SHOWN_COHORTS} are): every cohort's fits are in --json, or in "
                    "tcpmf.fit_retention(..., by_cohort=True).cohort_fits"
                )
            if block:
                sys.stdout.write("\n" + block)
            if not result.has_sizes:
                err.print(
                    "shares without cohort sizes: no standard errors or AIC; best curve by RMSE "
                    "(give --cohort-size or counts)"
                )
        unidentified = quality.loc[~quality["identified"]]
        if len(unidentified) and best is not None:
            err.print(
                f"note: {len(unidentified)} fit(s) not identified by the data (see the note column); "
                "they cannot be the best curve"
            )
        if best is None:
            result.best()  # raises: why no curve is determined; no retention block is printed
        if chart is not None:
            try:
                result.chart(months).save(str(chart))
            except OSError as exc:
                raise TcpmfError(
                    f"{display_path(chart)}: cannot write the chart ({exc.strerror})"
                ) from None
            err.print(f"wrote {display_path(chart)}")


#: Cohorts fitted on their own that ``fit-retention --by-cohort`` shows in its tables.
SHOWN_COHORTS = 20


def _first_cohorts_only(quality: Any) -> Any:
    """The cohort labels past the first :data:`SHOWN_COHORTS` (a table of 10^6 cohorts' rows
    would take the terminal hours to print)."""
    labels = quality.loc[quality["cohort"] != "pooled", "cohort"].unique()
    return labels[SHOWN_COHORTS:]


def _finite_or_null(tree: Any) -> Any:
    """*tree* with every infinite or NaN float replaced by None (JSON has no inf: an unbounded
    likelihood or standard error is reported as null)."""
    if isinstance(tree, dict):
        return {key: _finite_or_null(value) for key, value in tree.items()}
    if isinstance(tree, list):
        return [_finite_or_null(value) for value in tree]
    if isinstance(tree, float) and not math.isfinite(tree):
        return None
    return tree


@catalog_app.command("import")
def catalog_import(
    file: Annotated[Path, typer.Argument(help="LiteLLM-style JSON price map (USD per token).")],
    catalog: Annotated[
        Path | None,
        typer.Option(help="Catalog to extend (default: assumptions/catalog/models.yaml)."),
    ] = None,
    month: Annotated[
        str | None, typer.Option(help="Date of the new records, YYYY-MM (default: this month).")
    ] = None,
    model: Annotated[
        list[str] | None, typer.Option("--model", help="Import only this model; repeatable.")
    ] = None,
    provider: Annotated[
        list[str] | None,
        typer.Option("--provider", help="Import only this litellm_provider; repeatable."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change; write nothing.")
    ] = False,
    name_map: Annotated[
        list[str] | None,
        typer.Option(
            "--name-map",
            help="KEY=MODEL: import price-map key KEY as catalog model MODEL "
            "(e.g. deepseek/deepseek-chat=deepseek-chat); repeatable.",
        ),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Add dated price records (per 1M tokens) for models whose price changed; never rewrite history.

    Only chat and completion entries are imported; others (embedding, image, audio…) are skipped
    with the reason.  In an installed package, give --catalog PATH (the bundled catalog is not
    written).
    """
    from tcpmf.catalog.importer import import_prices

    with clean_errors():
        aliases: dict[str, str] = {}
        for pair in name_map or []:
            key, sep, target = pair.partition("=")
            if not sep or not key.strip() or not target.strip():
                raise TcpmfError(
                    f"--name-map {pair!r}: write KEY=MODEL, e.g. deepseek/deepseek-chat=deepseek-chat"
                )
            aliases[key.strip()] = target.strip()
        report = import_prices(
            file,
            catalog,
            month=month,
            models=model,
            providers=provider,
            dry_run=dry_run,
            name_map=aliases,
        )
        frame = report.table()
        emit(
            frame, "json" if json_ else "table", f"Price import into {display_path(report.catalog)}"
        )
        verb = "would add" if dry_run else "added"
        err.print(
            f"{verb} {len(report.added)} model(s) and {len(report.updated)} new price record(s) "
            f"dated {report.month}; {len(report.unchanged)} unchanged, {len(report.skipped)} skipped"
            + ("" if dry_run or report.written else "; the catalog was not changed")
        )
        if report.added:
            err.print(
                f"new model(s) {'to be ' if dry_run else ''}added to the catalog (no capability score, so in no tier; check they "
                f"are not a known model under another name, else use --name-map): {', '.join(report.added)}"
            )
        reasons: dict[str, int] = {}
        for why in report.skipped.values():
            head = why.split(";")[0].split(":")[0]
            reasons[head] = reasons.get(head, 0) + 1
        for why, count in reasons.items():
            err.print(f"skipped {count}: {why} (see the note column)")


def _batch_source(paths: list[Path]) -> str | None:
    """``"run"`` for a run folder, ``"portfolio"`` for a portfolio file, ``None`` for scenario files."""
    from tcpmf.core.yamlio import read_yaml

    kinds = []
    for path in paths:
        if path.is_dir():
            kinds.append("run")
        elif path.suffix in (".yaml", ".yml") and path.is_file() and "products" in read_yaml(path):
            kinds.append("portfolio")
        else:
            kinds.append("scenario")
    if len(paths) > 1 and set(kinds) != {"scenario"}:
        raise TcpmfError(
            "give one run folder or one portfolio file, or any number of scenario files; not a mix"
        )
    return None if kinds == ["scenario"] or not kinds else kinds[0]


def _export_run(run_dir: Path, excel: Path | None, csv: Path | None, sample_draws: int) -> None:
    from tcpmf.model.export import to_csv, to_excel
    from tcpmf.outputs.run_export import run_tables

    tables = run_tables(run_dir, sample_draws=sample_draws)
    if excel is not None:
        err.print(f"wrote {display_path(to_excel(tables, excel))}")
    if csv is not None:
        for path in to_csv({name.replace(" ", "_"): frame for name, frame in tables.items()}, csv):
            err.print(f"wrote {display_path(path)}")


def export(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Scenario files to evaluate and export; or one run folder "
            "(`tcpmf run --out`); or one portfolio file, which is run first."
        ),
    ],
    excel: Annotated[
        Path | None, typer.Option(help="Write an Excel workbook (.xlsx) here.")
    ] = None,
    csv: Annotated[
        Path | None, typer.Option(help="Write one CSV per table into this folder.")
    ] = None,
    samples: Annotated[
        int, typer.Option("--samples", "-n", min=1, help="Draws per product (a portfolio file).")
    ] = 10_000,
    seed: Annotated[int, typer.Option(min=0, help="Seed (a portfolio file).")] = 0,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Keep the run of a portfolio file in this folder (default: a temporary one).",
            show_default=False,
        ),
    ] = None,
    sample_draws: Annotated[
        int,
        typer.Option(
            "--sample-draws", min=0, help="Draws per product in the sheet of sample draws (a run)."
        ),
    ] = 1000,
) -> None:
    """Export to Excel or CSV: scenarios (summary, monthly, assumptions with sources, prices) or a batch run
    (summary with Monte Carlo error, inputs with sources, correlations, sample draws, manifest)."""
    import tempfile

    from tcpmf.model.engine import evaluate
    from tcpmf.model.export import to_csv, to_excel

    if excel is None and csv is None:
        raise typer.BadParameter("give --excel FILE or --csv DIR (or both)")
    with clean_errors():
        kind = _batch_source(paths)
        if kind == "run":
            _export_run(paths[0], excel, csv, sample_draws)
            return
        if kind == "portfolio":
            from tcpmf.uncertainty.runner import run as run_batch

            with tempfile.TemporaryDirectory(prefix="tcpmf-export-") as scratch:
                folder = out if out is not None else Path(scratch) / "run"
                err.print(
                    f"running {display_path(paths[0])}: {samples:,} draws per product, seed {seed}"
                )
                run_batch(paths[0], samples, seed, folder)
                _export_run(folder, excel, csv, sample_draws)
            return
        result = evaluate(paths)
        if excel is not None:
            err.print(f"wrote {display_path(to_excel(result, excel))}")
        if csv is not None:
            for path in to_csv(result, csv):
                err.print(f"wrote {display_path(path)}")


def register(app: typer.Typer) -> None:
    """Add ``fit-retention``, ``catalog import`` and ``export`` to the ``tcpmf`` command."""
    app.command("fit-retention")(fit_retention)
    app.command("export")(export)
    app.add_typer(catalog_app, name="catalog")
