"""report.html: the inputs behind a run, one legend per chart, probabilities with their precision."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tcpmf.core.yamlio import assumptions_dir
from tcpmf.outputs.report import collect, report_chart, report_html
from tcpmf.outputs.report_inputs import probability_text
from tcpmf.uncertainty.portfolio import load_portfolio
from tcpmf.uncertainty.runner import run

PORTFOLIO = assumptions_dir() / "portfolios" / "consumer_stages.yaml"


@given(n=st.integers(1, 10**7), data=st.data())
def test_a_probability_never_reads_as_zero_or_certain_when_it_is_not(
    n: int, data: st.DataObject
) -> None:
    k = data.draw(st.integers(0, n))
    text = probability_text(k / n, n)
    if k == 0:
        assert text.startswith("< ")
    elif k == n:
        assert text == "100%"
    else:
        numbers = re.findall(r"[\d,.]+", text)
        if " in " in text:
            assert [int(v.replace(",", "")) for v in numbers] == [k, n]
        else:
            shown = float(numbers[0])
            assert 0 < shown < 100 and abs(shown - 100 * k / n) <= 0.05 + 1e-9, text


def test_rare_events_keep_their_precision() -> None:
    assert probability_text(2 / 100_000, 100_000) == "2 in 100,000"
    assert probability_text(0.0, 100_000) == "< 0.001%"
    assert probability_text(0.2217, 3000) == "22.2%"


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = run(PORTFOLIO, 200, 1, tmp_path_factory.mktemp("r") / "run", chunk_size=100)
    return out, report_html(collect(out))


def test_the_page_shows_each_input_with_its_source_density_and_correlations(
    page: tuple[Path, str],
) -> None:
    _, text = page
    inputs = text[text.index("<h2>Inputs") :]
    for product in load_portfolio(PORTFOLIO).products:
        assert product.name.replace("&", "&amp;") in inputs
        for key, dist in product.uncertainties.items():
            assert f"<code>{key}</code>" in inputs
            assert (dist.reason() or "").replace("&", "&amp;").replace("'", "&#x27;").replace(
                '"', "&quot;"
            ) in inputs
        if product.correlations:
            rho = product.correlations[0][2]
            assert f"<td class=n>{rho:.2f}</td>" in inputs
    assert inputs.count("<polyline") + inputs.count("<rect") >= sum(
        len(p.uncertainties) for p in load_portfolio(PORTFOLIO).products
    )


def test_each_chart_has_its_own_legend_and_curves_differ_by_dash(page: tuple[Path, str]) -> None:
    out, _ = page
    spec = report_chart(collect(out)).to_dict()
    assert spec["resolve"]["scale"]["color"] == "independent"
    lines = [c for c in spec["vconcat"] if c.get("mark", {}).get("type") == "line"]
    assert len(lines) == 3 and all("strokeDash" in c["encoding"] for c in lines)
