"""A batch run as tables a fund can pass on: summary, inputs, correlations, a sample of draws, manifest.

:func:`run_tables` reads the folder a ``tcpmf run`` wrote and returns five tables;
:func:`run_to_excel` writes them as a formatted workbook (``tcpmf export RUN_DIR --excel FILE``):

``summary``
    per product, :func:`tcpmf.summarize` of the run with the Monte Carlo standard error of
    P(clears break-even) beside it: :math:`\\sqrt{p(1-p)/n}` for *n* draws, the error of plain
    Monte Carlo; Latin hypercube draws are usually more precise, so it is a conservative guide.
``inputs``
    each uncertain input of each product: its distribution, parameters, 5th/50th/95th percentile
    and its source (or the reason it is assumed), read from the portfolio file when that file
    still describes the run, otherwise marked as not recorded.
``correlations``
    the Spearman rank correlations the draws were given.
``draws sample``
    the first draws of each product (inputs and outcomes), every column as in :func:`tcpmf.read_run`.
``manifest``
    what was run: portfolio, seed, samples, chunk size, sampling, tcpmf version, code, catalog and
    spec hashes, library versions.

Example
-------
>>> from tcpmf.outputs.run_export import run_to_excel
>>> from tcpmf.uncertainty.runner import run
>>> out = run("assumptions/portfolios/consumer_stages.yaml", 500, seed=1, out="runs/stages")
>>> run_to_excel(out, "stages.xlsx").name  # doctest: +ELLIPSIS
'stages.xlsx'
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tcpmf.core.errors import TcpmfError
from tcpmf.schema.distributions import Distribution, parse_distribution
from tcpmf.uncertainty.runner import read_first_draws, read_manifest, run_status, run_summary

__all__ = [
    "SAMPLE_DRAWS",
    "correlations_table",
    "input_distributions",
    "inputs_table",
    "manifest_table",
    "run_tables",
    "run_to_excel",
    "summary_table",
]

#: Draws per product in the ``draws sample`` sheet by default.
SAMPLE_DRAWS = 1000
#: Said in the ``source`` column when the run's portfolio file no longer describes the run.
NOT_RECORDED = "not recorded in the run (its portfolio file is missing or has changed since)"


def summary_table(out: str | Path, *, partial: bool = False) -> pd.DataFrame:
    """:func:`tcpmf.uncertainty.runner.run_summary` with ``p_clears_standard_error`` after P(clears)."""
    table = run_summary(out, partial=partial)
    p = table["p_clears_break_even"].astype(float)
    n = table["draws"].astype(float)
    table.insert(
        table.columns.get_loc("p_clears_break_even") + 1,
        "p_clears_standard_error",
        np.sqrt(p * (1 - p) / n),
    )
    return table


def input_distributions(
    manifest: dict[str, Any],
) -> list[tuple[str, dict[str, Distribution], list[Any], bool]]:
    """Per product: name, distributions, correlations, and whether the sources are known."""
    from tcpmf.uncertainty.portfolio import load_portfolio

    file = manifest.get("portfolio_file")
    if isinstance(file, str) and Path(file).is_file():
        try:
            portfolio = load_portfolio(file)
        except TcpmfError:
            portfolio = None
        if portfolio is not None and portfolio.spec_hash() == manifest.get("spec_hash"):
            return [
                (p.name, p.uncertainties, [list(c) for c in p.correlations], True)
                for p in portfolio.products
            ]
    products = manifest.get("spec", {}).get("products", [])
    return [
        (
            str(p["name"]),
            {
                k: parse_distribution(dict(d), "manifest.json", f"spec.{k}")
                for k, d in p["uncertain"].items()
            },
            list(p.get("correlations", [])),
            False,
        )
        for p in products
    ]


def _parameters(dist: Distribution) -> str:
    spec = dist.spec()
    return ", ".join(f"{k}={v}" for k, v in spec.items() if k != "dist")


def inputs_table(out: str | Path) -> pd.DataFrame:
    """One row per uncertain input of each product: ``product``, ``input`` (dotted key),
    ``distribution``, ``parameters``, ``value_p05``, ``value_p50``, ``value_p95`` (empty for a
    choice of names) and ``source``."""
    rows = []
    for product, dists, _, known in input_distributions(read_manifest(out)):
        for key, dist in dists.items():
            quantiles: list[Any] = [None] * 3
            if dist.numeric:
                quantiles = [
                    float(v) for v in np.asarray(dist.ppf(np.array([0.05, 0.5, 0.95])), dtype=float)
                ]
            rows.append(
                {
                    "product": product,
                    "input": key,
                    "distribution": dist.spec()["dist"],
                    "parameters": _parameters(dist),
                    "value_p05": quantiles[0],
                    "value_p50": quantiles[1],
                    "value_p95": quantiles[2],
                    "source": (dist.reason() or "") if known else NOT_RECORDED,
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "product",
            "input",
            "distribution",
            "parameters",
            "value_p05",
            "value_p50",
            "value_p95",
            "source",
        ],
    )


def correlations_table(out: str | Path) -> pd.DataFrame:
    """One row per rank correlation: ``product``, ``input_a``, ``input_b``, ``rank_correlation`` (Spearman)."""
    rows = [
        {"product": product, "input_a": a, "input_b": b, "rank_correlation": float(rho)}
        for product, _, correlations, _ in input_distributions(read_manifest(out))
        for a, b, rho in correlations
    ]
    return pd.DataFrame(rows, columns=["product", "input_a", "input_b", "rank_correlation"])


MANIFEST_ITEMS = {
    "portfolio": "portfolio",
    "portfolio_file": "portfolio file",
    "seed": "seed",
    "samples": "draws per product",
    "chunk_size": "draws per chunk",
    "sampling": "sampling (lhs: Latin hypercube; mc: plain Monte Carlo)",
    "tcpmf_version": "tcpmf version",
    "code_hash": "tcpmf code (SHA-256)",
    "catalog_hash": "price catalog (SHA-256)",
    "spec_hash": "portfolio spec (SHA-256)",
}


def manifest_table(out: str | Path) -> pd.DataFrame:
    """The run's manifest as ``item``, ``value`` rows (the full spec stays in ``manifest.json``)."""
    manifest = read_manifest(out)
    status = run_status(out)
    rows = [{"item": label, "value": manifest.get(key)} for key, label in MANIFEST_ITEMS.items()]
    rows += [
        {"item": f"{name} version", "value": v} for name, v in manifest.get("libraries", {}).items()
    ]
    rows.append({"item": "products", "value": "; ".join(manifest.get("products", []))})
    rows.append({"item": "chunks written", "value": status.describe()})
    return pd.DataFrame(rows, columns=["item", "value"]).astype({"value": object})


def run_tables(
    out: str | Path, *, sample_draws: int = SAMPLE_DRAWS, partial: bool = False
) -> dict[str, pd.DataFrame]:
    """The five tables of the module docstring, by sheet name."""
    return {
        "summary": summary_table(out, partial=partial),
        "inputs": inputs_table(out),
        "correlations": correlations_table(out),
        "draws sample": read_first_draws(out, sample_draws, partial=partial),
        "manifest": manifest_table(out),
    }


def run_to_excel(
    out: str | Path,
    path: str | os.PathLike[str],
    *,
    sample_draws: int = SAMPLE_DRAWS,
    partial: bool = False,
) -> Path:
    """Write :func:`run_tables` of the run in *out* to the workbook *path*, formatted like every
    tcpmf workbook (:mod:`tcpmf.model.workbook`)."""
    from tcpmf.model.export import to_excel

    return to_excel(run_tables(out, sample_draws=sample_draws, partial=partial), path)
