"""Two variants compared on common random numbers (tcpmf.compare_runs, `tcpmf compare RUN_A RUN_B`)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import tcpmf
from tcpmf.cli.main import app
from tcpmf.core.errors import TcpmfError
from tcpmf.core.yamlio import assumptions_dir
from tcpmf.uncertainty.portfolio import Portfolio
from tcpmf.uncertainty.runner import run

runner = CliRunner()
PORTFOLIO = assumptions_dir() / "portfolios" / "consumer_stages.yaml"
PRICE = "revenue.subscription.price_usd_per_month"
DIFFERENCES = [
    f"{o}_difference{s}"
    for o in ("p_clears_break_even", "payback_month_p50", "peak_funding_usd_p50")
    for s in ("", "_low", "_high")
]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run(PORTFOLIO, 400, 5, tmp_path_factory.mktemp("a") / "run", chunk_size=200)


def test_a_run_compared_with_itself_differs_by_exactly_zero(run_dir: Path) -> None:
    table = tcpmf.compare_runs(run_dir, run_dir)
    summary = tcpmf.summarize(tcpmf.read_run(run_dir))
    assert table["product"].tolist() == summary["product"].tolist()
    assert (table["draws"] == 400).all()
    for column in DIFFERENCES:
        values = table[column]
        known = values.notna()
        assert (values[known] == 0).all(), column
        # unknown only where the median itself is beyond the horizon
        outcome = column.split("_difference")[0]
        assert (~known == table[f"{outcome}_a"].isna()).all(), column
    np.testing.assert_array_equal(table["p_clears_break_even_a"], summary["p_clears_break_even"])
    np.testing.assert_array_equal(
        table["payback_month_p50_a"].astype("Float64").to_numpy(float, na_value=np.nan),
        summary["payback_month_p50"].astype("Float64").to_numpy(float, na_value=np.nan),
    )


ELASTICITY = "revenue.subscription.price_elasticity"


def _subscription_products() -> list[tcpmf.Product]:
    return [
        p
        for p in tcpmf.load_portfolio(PORTFOLIO).products
        if p.scenario.revenue.subscription is not None
    ]


def _with(product: tcpmf.Product, values: dict[str, float]) -> tcpmf.Product:
    return dataclasses.replace(product, scenario=product.scenario.override(values))


def _dearer(product: tcpmf.Product, factor: float) -> tcpmf.Product:
    """The same product with only its subscription price raised."""
    sub = product.scenario.revenue.subscription
    assert sub is not None
    return _with(product, {PRICE: sub.price_usd_per_month * factor})


def _revenue_rises_with_price(product: tcpmf.Product) -> bool:
    """With a price elasticity *e* of the paid share, subscription revenue per user goes as
    price^(1 − e): it does not fall for e <= 1.  Above 1 (the bundled AI companion: 1.2) a dearer
    price brings less revenue and may rightly clear less often."""
    sub = product.scenario.revenue.subscription
    return sub is not None and sub.price_elasticity <= 1


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    which=st.integers(0, 2),
    elasticity=st.floats(0.0, 1.0).map(
        lambda e: 0.0 if e < 1e-6 else e
    ),  # a tiny one is 0 (refused below 1e-100)
    factor=st.floats(1.05, 3.0),
    seed=st.integers(0, 2**16),
)
def test_raising_only_a_price_never_lowers_p_clears_beyond_its_error(
    which: int, elasticity: float, factor: float, seed: int
) -> None:
    products = _subscription_products()
    assert len(products) == 3  # writing assistant, companion, answer engine
    product = _with(products[which], {ELASTICITY: elasticity})  # the same in both variants
    a = tcpmf.monte_carlo(Portfolio("a", (product,)), 150, seed=seed)
    b = tcpmf.monte_carlo(Portfolio("a", (_dearer(product, factor),)), 150, seed=seed)
    row = tcpmf.compare_runs(a, b).iloc[0]
    assert row["p_clears_break_even_difference_high"] >= 0
    assert row["p_clears_break_even_difference"] >= 0  # on common random numbers, draw by draw


def test_a_dearer_variant_run_against_the_base_run(run_dir: Path, tmp_path: Path) -> None:
    """Round trip through `tcpmf run` folders: the variant raises by half the subscription price of
    each product whose revenue rises with its price; those never clear less often (beyond the
    paired interval), the others are the same draws and differ by exactly 0."""
    base = tcpmf.load_portfolio(PORTFOLIO)
    raised = {p.name for p in base.products if _revenue_rises_with_price(p)}
    assert len(raised) == 2  # writing assistant (elasticity 0.8) and answer engine
    variant = dataclasses.replace(
        base, products=tuple(_dearer(p, 1.5) if p.name in raised else p for p in base.products)
    )
    b = run(variant, 400, 5, tmp_path / "dearer", chunk_size=200)
    table = tcpmf.compare_runs(run_dir, b).set_index("product")
    for p in base.products:
        row = table.loc[p.name]
        if p.name in raised:
            assert (
                row["p_clears_break_even_difference_high"] >= 0
                and row["p_clears_break_even_difference"] >= 0
            ), p.name
        else:
            assert (
                row["p_clears_break_even_difference"] == 0
                and row["p_clears_break_even_difference_low"] == 0
            ), p.name
            assert row["peak_funding_usd_p50_difference"] == 0, p.name
    assert (table["p_clears_break_even_difference"] > 0).any()  # the variant does move something


def test_runs_that_do_not_share_their_random_numbers_are_refused(
    run_dir: Path, tmp_path: Path
) -> None:
    other = run(PORTFOLIO, 400, 6, tmp_path / "other", chunk_size=200)
    with pytest.raises(TcpmfError, match="seed 5 vs 6"):
        tcpmf.compare_runs(run_dir, other)
    with pytest.raises(TcpmfError, match="no product in common"):
        tcpmf.compare_runs(
            pd.DataFrame(
                {
                    "product": ["x"],
                    "draw": [0],
                    "clears_break_even": [True],
                    "payback_month": [1],
                    "peak_funding_usd": [1.0],
                }
            ),
            run_dir,
        )
    with pytest.raises(TcpmfError, match="confidence"):
        tcpmf.compare_runs(run_dir, run_dir, confidence=1.5)


def test_cli_compare_prints_the_table_and_writes_an_offline_page(
    run_dir: Path, tmp_path: Path
) -> None:
    page = tmp_path / "c.html"
    done = runner.invoke(
        app, ["compare", str(run_dir), str(run_dir), "--html", str(page), "--json"]
    )
    assert done.exit_code == 0, done.output
    rows = json.loads(done.stdout)
    assert len(rows) == 5 and all(r["p_clears_break_even_difference"] == 0 for r in rows)
    text = page.read_text(encoding="utf-8")
    assert "<script" not in text and "http" not in text.replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )
    assert "Writing assistant" in text and "<td class=n>0.00 pp</td>" in text
    table = runner.invoke(app, ["compare", str(run_dir), str(run_dir), "--html", str(page)])
    assert table.exit_code == 0 and "0.00 pp" in table.stdout
