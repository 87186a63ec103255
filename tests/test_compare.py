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
DIFFERENCES = [f"{o}_difference{s}" for o in ("p_clears_break_even", "payback_month_p50", "peak_funding_usd_p50")
               for s in ("", "_low", "_high")]


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
    np.testing.assert_array_equal(table["payback_month_p50_a"].astype("Float64").to_numpy(float, na_value=np.nan),
                                  summary["payback_month_p50"].astype("Float64").to_numpy(float, na_value=np.nan))


def _writer() -> tcpmf.Product:
    return tcpmf.load_portfolio(PORTFOLIO).products[0]


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(factor=st.floats(1.05, 3.0), seed=st.integers(0, 2**16))
def test_raising_only_a_price_never_lowers_p_clears_beyond_its_error(factor: float, seed: int) -> None:
    product = _writer()
    assert product.scenario.revenue.subscription is not None
    price = product.scenario.revenue.subscription.price_usd_per_month
    dearer = dataclasses.replace(product, scenario=product.scenario.override({PRICE: price * factor}))
    a = tcpmf.monte_carlo(Portfolio("a", (product,)), 150, seed=seed)
    b = tcpmf.monte_carlo(Portfolio("a", (dearer,)), 150, seed=seed)
    row = tcpmf.compare_runs(a, b).iloc[0]
    assert row["p_clears_break_even_difference_high"] >= 0
    assert row["p_clears_break_even_difference"] >= 0  # on common random numbers, draw by draw


def test_runs_that_do_not_share_their_random_numbers_are_refused(run_dir: Path, tmp_path: Path) -> None:
    other = run(PORTFOLIO, 400, 6, tmp_path / "other", chunk_size=200)
    with pytest.raises(TcpmfError, match="seed 5 vs 6"):
        tcpmf.compare_runs(run_dir, other)
    with pytest.raises(TcpmfError, match="no product in common"):
        tcpmf.compare_runs(pd.DataFrame({"product": ["x"], "draw": [0], "clears_break_even": [True],
                                         "payback_month": [1], "peak_funding_usd": [1.0]}), run_dir)
    with pytest.raises(TcpmfError, match="confidence"):
        tcpmf.compare_runs(run_dir, run_dir, confidence=1.5)


def test_cli_compare_prints_the_table_and_writes_an_offline_page(run_dir: Path, tmp_path: Path) -> None:
    page = tmp_path / "c.html"
    done = runner.invoke(app, ["compare", str(run_dir), str(run_dir), "--html", str(page), "--json"])
    assert done.exit_code == 0, done.output
    rows = json.loads(done.stdout)
    assert len(rows) == 5 and all(r["p_clears_break_even_difference"] == 0 for r in rows)
    text = page.read_text(encoding="utf-8")
    assert "<script" not in text and "http" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "Writing assistant" in text and "<td class=n>0.00 pp</td>" in text
    table = runner.invoke(app, ["compare", str(run_dir), str(run_dir), "--html", str(page)])
    assert table.exit_code == 0 and "0.00 pp" in table.stdout
