"""`tcpmf report DIR --sensitivity`: rank table and PRIM boxes from a run's draws, tornado and Sobol
from new seeded evaluations (tcpmf.uncertainty.run_sensitivity, tcpmf.outputs.report_sensitivity)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import tcpmf
from tcpmf.cli.main import app
from tcpmf.core.errors import TcpmfError
from tcpmf.core.yamlio import assumptions_dir
from tcpmf.outputs.report import collect, report_html
from tcpmf.outputs.report_sensitivity import sensitivity_section
from tcpmf.schema.distributions import Choice
from tcpmf.uncertainty.portfolio import load_portfolio
from tcpmf.uncertainty.run_sensitivity import RANK_COLUMNS, SOBOL_OUTCOMES, run_sensitivity
from tcpmf.uncertainty.runner import read_run, run

runner = CliRunner()
PORTFOLIO = assumptions_dir() / "portfolios" / "consumer_stages.yaml"
SAMPLES, SEED, SOBOL_N = 600, 7, 32


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run(PORTFOLIO, SAMPLES, SEED, tmp_path_factory.mktemp("sens") / "run", chunk_size=300)


@pytest.fixture(scope="module")
def sens(run_dir: Path):  # type: ignore[no-untyped-def]
    return run_sensitivity(run_dir, sobol_samples=SOBOL_N)


def test_rank_table_is_computed_from_the_stored_draws(run_dir: Path, sens) -> None:  # type: ignore[no-untyped-def]
    draws = read_run(run_dir)
    portfolio = load_portfolio(PORTFOLIO)
    assert list(sens.ranks.columns) == list(RANK_COLUMNS)
    assert len(sens.ranks) == sum(len(p.uncertainties) for p in portfolio.products)
    assert sens.draws_used == sens.draws_total == SAMPLES
    for row in sens.ranks.itertuples(index=False):
        frame = draws[draws["product"] == row.product]
        clears = frame["clears_break_even"].astype(bool)
        assert row.draws_low + row.draws_high <= len(frame)
        if row.kind == "numeric":
            x = frame[row.input].astype(float)
            expected = x.corr(frame["peak_funding_usd"].astype(float), method="spearman")
            assert row.rank_correlation_peak_funding == pytest.approx(expected, abs=1e-12)
            low = x <= x.quantile(0.2)
            assert row.draws_low == int(low.sum())
            assert row.p_clears_low == pytest.approx(clears[low].mean())
        else:
            by_option = clears.groupby(frame[row.input].astype(str)).mean()
            assert row.p_clears_low == pytest.approx(
                by_option.min()
            ) and row.p_clears_high == pytest.approx(by_option.max())


def test_a_price_like_input_that_brings_revenue_raises_p_clears_in_its_high_fifth(sens) -> None:  # type: ignore[no-untyped-def]
    """Economic direction, read off the draws: more paying users / a higher ad RPM never makes
    clearing less likely (600 draws: the gap is far beyond the noise)."""
    ranks = sens.ranks.set_index(["product", "input"])
    for product in load_portfolio(PORTFOLIO).products:
        for key in ("revenue.subscription.paid_share", "revenue.ads.rpm_usd"):
            if (product.name, key) in ranks.index:
                row = ranks.loc[(product.name, key)]
                assert row["p_clears_high"] >= row["p_clears_low"], (product.name, key)
                assert row["rank_correlation_peak_funding"] < 0, (
                    product.name,
                    key,
                )  # more revenue, less funding


def test_prim_boxes_are_discover_of_the_same_draws(run_dir: Path, sens) -> None:  # type: ignore[no-untyped-def]
    draws = read_run(run_dir)
    first = load_portfolio(PORTFOLIO).products[0]
    frame = draws[draws["product"] == first.name].reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = tcpmf.discover(frame, "clears_break_even", sorted(first.uncertainties))
    mine = sens.boxes[sens.boxes["product"] == first.name].reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, found.boxes)


def test_tornado_and_sobol_are_seeded_new_evaluations_of_the_portfolio(sens) -> None:  # type: ignore[no-untyped-def]
    portfolio = load_portfolio(PORTFOLIO)
    pd.testing.assert_frame_equal(
        sens.tornado, tcpmf.tornado(portfolio, outcome="peak_funding_usd")
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = pd.concat(
            [tcpmf.sobol(portfolio, outcome=o, n=SOBOL_N, seed=SEED) for o in SOBOL_OUTCOMES],
            ignore_index=True,
        )
    pd.testing.assert_frame_equal(sens.sobol.reset_index(drop=True), expected, check_like=False)
    dims = [len(p.uncertainties) for p in portfolio.products]
    # a base run, then each input at P10 and P90 (each option of a choice of names)
    tornado_runs = sum(
        1
        + sum(
            len(d.options) if isinstance(d, Choice) and not d.numeric else 2
            for d in p.uncertainties.values()
        )
        for p in portfolio.products
    )
    assert sens.evaluations == tornado_runs + len(SOBOL_OUTCOMES) * sum(
        SOBOL_N * (d + 2) for d in dims
    )
    assert sens.seed == SEED
    assert any(
        "rank correlations" in n and "ignored" in n for n in sens.notes
    )  # said, not silently dropped


def test_without_the_runs_portfolio_only_the_draws_are_used(tmp_path: Path) -> None:
    changed = tmp_path / "p.yaml"
    text = PORTFOLIO.read_text(encoding="utf-8").replace(
        "../products/", f"{(assumptions_dir() / 'products').as_posix()}/"
    )
    changed.write_text(text, encoding="utf-8")
    out = run(changed, 60, 0, tmp_path / "r", chunk_size=60)
    changed.write_text(text.replace("p05: 0.8, p95: 3.0", "p05: 0.9, p95: 3.0"), encoding="utf-8")
    sens = run_sensitivity(out, sobol_samples=4, max_draws=50)
    assert sens.tornado is None and sens.sobol is None and sens.evaluations == 0
    assert any("changed since the run" in n for n in sens.notes)
    assert sens.draws_used == 50 and len(sens.ranks) > 0
    page = sensitivity_section(sens)
    assert (
        "the first 50 of 60 draws" in page
        and "From new evaluations" not in page
        and "changed since the run" in page
    )


def test_the_section_lists_every_product_and_stays_offline(run_dir: Path, sens) -> None:  # type: ignore[no-untyped-def]
    page = report_html(collect(run_dir), sens)
    section = page[page.index('<section id="sensitivity">') : page.index("</section>")]
    for product in load_portfolio(PORTFOLIO).products:
        assert f"<h3>{product.name.replace('&', '&amp;')}</h3>" in section
    assert section.count('<svg class="tornado"') == len(load_portfolio(PORTFOLIO).products)
    assert "<script" not in section and "http" not in section.replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )
    assert f"{sens.evaluations:,} evaluations" in section and f"seed {SEED}" in section
    assert '<section id="sensitivity">' not in report_html(collect(run_dir))  # only when asked


def test_cli_report_sensitivity(run_dir: Path) -> None:
    done = runner.invoke(
        app, ["report", str(run_dir), "--sensitivity", "--sobol-samples", "8", "--json"]
    )
    assert done.exit_code == 0, done.output
    assert len(json.loads(done.stdout)) == 5
    assert '<section id="sensitivity">' in (run_dir / "report.html").read_text(encoding="utf-8")
    bad = runner.invoke(app, ["report", str(run_dir), "--sensitivity", "--sobol-samples", "100"])
    assert bad.exit_code == 1 and "power of 2" in bad.output
    plain = runner.invoke(app, ["report", str(run_dir)])
    assert plain.exit_code == 0 and '<section id="sensitivity">' not in (
        run_dir / "report.html"
    ).read_text(encoding="utf-8")


def test_bad_arguments_are_refused(run_dir: Path) -> None:
    with pytest.raises(TcpmfError, match="power of 2"):
        run_sensitivity(run_dir, sobol_samples=3)
    with pytest.raises(TcpmfError, match="max_draws"):
        run_sensitivity(run_dir, max_draws=0)
    assert np.isfinite(
        run_sensitivity(run_dir, evaluate=False, max_draws=100).ranks["p_clears_low"]
    ).all()
