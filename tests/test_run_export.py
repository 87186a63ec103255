"""A batch run exported to Excel (tcpmf.outputs.run_export, `tcpmf export RUN_DIR --excel FILE`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

import tcpmf
from tcpmf.cli.main import app
from tcpmf.core.errors import TcpmfError
from tcpmf.core.yamlio import assumptions_dir
from tcpmf.model.workbook import column_names
from tcpmf.outputs.run_export import NOT_RECORDED, run_tables, run_to_excel
from tcpmf.uncertainty.portfolio import load_portfolio
from tcpmf.uncertainty.runner import read_run, run

runner = CliRunner()
PORTFOLIO = assumptions_dir() / "portfolios" / "consumer_stages.yaml"
SAMPLES, CHUNK = 300, 120


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run(PORTFOLIO, SAMPLES, 3, tmp_path_factory.mktemp("run") / "stages", chunk_size=CHUNK)


@pytest.fixture(scope="module")
def workbook(run_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_to_excel(run_dir, tmp_path_factory.mktemp("xlsx") / "stages.xlsx", sample_draws=150)


def _sheet(path: Path, name: str, columns: list[str]) -> pd.DataFrame:
    frame = pd.read_excel(path, sheet_name=name)
    return frame.rename(columns=column_names(frame.columns, columns))


def test_summary_sheet_equals_summarize_of_the_same_run(run_dir: Path, workbook: Path) -> None:
    expected = tcpmf.summarize(tcpmf.read_run(run_dir))
    sheet = _sheet(workbook, "summary", [*expected.columns, "p_clears_standard_error"])
    assert list(sheet.columns) == [
        "product",
        "draws",
        "p_clears_break_even",
        "p_clears_standard_error",
        *expected.columns[3:],
    ]
    assert sheet["product"].tolist() == expected["product"].tolist()
    for column in expected.columns[1:]:
        want = expected[column].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        np.testing.assert_allclose(
            sheet[column].to_numpy(dtype=float), want, rtol=1e-12, equal_nan=True, err_msg=column
        )
    p, n = expected["p_clears_break_even"].to_numpy(float), expected["draws"].to_numpy(float)
    np.testing.assert_allclose(
        sheet["p_clears_standard_error"], np.sqrt(p * (1 - p) / n), rtol=1e-12
    )


def test_cells_have_number_formats_widths_and_a_frozen_plain_header(workbook: Path) -> None:
    book = openpyxl.load_workbook(workbook)
    assert book.sheetnames == ["summary", "inputs", "correlations", "draws sample", "manifest"]
    ws = book["summary"]
    headers = [c.value for c in ws[1]]
    assert headers[:4] == [
        "Product",
        "Draws",
        "P(clears break-even)",
        "Monte Carlo standard error of P(clears)",
    ]
    assert "Peak funding (USD), P50" in headers and "Payback (month), P90" in headers
    assert all(ws.freeze_panes == "A2" for ws in book.worksheets)
    formats = {h: ws.cell(row=2, column=j).number_format for j, h in enumerate(headers, start=1)}
    assert formats["P(clears break-even)"] == "0.000%"
    assert formats["Peak funding (USD), P50"] == '"$"#,##0'
    assert formats["TC-PMF (month), P10"] == "0"
    assert formats["Draws"] == "#,##0"
    widths = [ws.column_dimensions[chr(ord("A") + j)].width for j in range(len(headers))]
    assert min(widths) >= 8 and widths[0] >= min(
        60, max(len(str(c.value)) for c in ws["A"][1:])
    )  # wide up to a cap
    assert all(c.font.bold for c in ws[1])


def test_inputs_and_correlations_come_with_their_sources(run_dir: Path) -> None:
    tables = run_tables(run_dir, sample_draws=10)
    portfolio = load_portfolio(PORTFOLIO)
    inputs = tables["inputs"]
    assert len(inputs) == sum(len(p.uncertainties) for p in portfolio.products)
    for product in portfolio.products:
        rows = inputs[inputs["product"] == product.name].set_index("input")
        for key, dist in product.uncertainties.items():
            assert rows.loc[key, "source"] == dist.reason()
            if dist.numeric:
                assert (
                    rows.loc[key, "value_p05"]
                    <= rows.loc[key, "value_p50"]
                    <= rows.loc[key, "value_p95"]
                )
    want = [(p.name, a, b, rho) for p in portfolio.products for a, b, rho in p.correlations]
    assert list(tables["correlations"].itertuples(index=False, name=None)) == want


def test_draw_sample_is_the_first_draws_of_each_product(run_dir: Path) -> None:
    sample = run_tables(run_dir, sample_draws=150)["draws sample"]
    whole = read_run(run_dir)
    expected = whole[whole["draw"] < 150].reset_index(drop=True)
    pd.testing.assert_frame_equal(sample, expected, check_categorical=False)


def test_manifest_sheet_names_seed_samples_and_versions(workbook: Path) -> None:
    sheet = pd.read_excel(workbook, sheet_name="manifest")
    items = dict(zip(sheet.iloc[:, 0], sheet.iloc[:, 1]))
    assert (
        items["seed"] == 3
        and items["draws per product"] == SAMPLES
        and items["draws per chunk"] == CHUNK
    )
    assert items["tcpmf version"] == tcpmf.__version__
    assert {"numpy version", "pandas version", "tcpmf code (SHA-256)"} <= set(items)


def test_sources_not_claimed_when_the_portfolio_file_changed(tmp_path: Path) -> None:
    changed = tmp_path / "p.yaml"
    text = PORTFOLIO.read_text(encoding="utf-8").replace(
        "../products/", f"{(assumptions_dir() / 'products').as_posix()}/"
    )
    changed.write_text(text, encoding="utf-8")
    out = run(changed, 40, 0, tmp_path / "r", chunk_size=40)
    changed.write_text(text.replace("p05: 0.8, p95: 3.0", "p05: 0.9, p95: 3.0"), encoding="utf-8")
    inputs = run_tables(out, sample_draws=1)["inputs"]
    assert set(inputs["source"]) == {NOT_RECORDED}


def test_cli_exports_a_run_folder_and_a_portfolio_file(run_dir: Path, tmp_path: Path) -> None:
    xlsx = tmp_path / "run.xlsx"
    done = runner.invoke(
        app, ["export", str(run_dir), "--excel", str(xlsx), "--csv", str(tmp_path / "csv")]
    )
    assert done.exit_code == 0, done.output
    assert pd.read_excel(xlsx, sheet_name="summary").shape[0] == 5
    assert (tmp_path / "csv" / "draws_sample.csv").is_file()

    kept, book = tmp_path / "kept", tmp_path / "portfolio.xlsx"
    done = runner.invoke(
        app,
        [
            "export",
            str(PORTFOLIO),
            "--samples",
            str(SAMPLES),
            "--seed",
            "3",
            "--out",
            str(kept),
            "--excel",
            str(book),
        ],
    )
    assert done.exit_code == 0, done.output
    expected = tcpmf.summarize(read_run(kept))  # the run the export made, kept in --out
    sheet = _sheet(book, "summary", list(expected.columns))
    np.testing.assert_allclose(
        sheet["p_clears_break_even"], expected["p_clears_break_even"], rtol=1e-12
    )
    assert (sheet["draws"] == SAMPLES).all()

    mixed = runner.invoke(
        app, ["export", str(run_dir), str(PORTFOLIO), "--excel", str(tmp_path / "m.xlsx")]
    )
    assert mixed.exit_code == 1 and "not a mix" in mixed.output


def test_a_folder_without_a_run_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TcpmfError, match="holds no tcpmf run"):
        run_tables(tmp_path)


def test_no_number_is_shown_raw_and_inputs_read_in_their_units(workbook: Path) -> None:
    book = openpyxl.load_workbook(workbook)
    raw = sorted(
        {
            (ws.title, str(ws.cell(row=1, column=c.column).value))
            for ws in book.worksheets
            if ws.title != "manifest"
            for row in ws.iter_rows(min_row=2)
            for c in row
            if isinstance(c.value, (int, float))
            and not isinstance(c.value, bool)
            and c.number_format == "General"
        }
    )
    assert raw == []
    ws = book["inputs"]
    head = [c.value for c in ws[1]]
    fmt = {
        ws.cell(row=r, column=head.index("Input") + 1).value: ws.cell(
            row=r, column=head.index("Value, P50") + 1
        ).number_format
        for r in range(2, ws.max_row + 1)
    }
    assert fmt["revenue.subscription.paid_share"] == "0.0%"
    assert fmt["revenue.ads.rpm_usd"] == '"$"#,##0.00'  # $2.40 per thousand impressions, not $2
    assert fmt["usage.sessions_per_day"] == "#,##0.00##"


def test_an_empty_month_says_it_was_not_reached(workbook: Path) -> None:
    ws = openpyxl.load_workbook(workbook)["summary"]
    months = [c for c in ws[1] if "(month)" in str(c.value)]
    blank = [
        c
        for c in months
        if any(ws.cell(row=r, column=c.column).value is None for r in range(2, ws.max_row + 1))
    ]
    assert blank  # the writing assistant's median payback is beyond the horizon
    assert all(
        c.comment is not None and "not reached within the horizon" in c.comment.text for c in blank
    )
    assert all(c.comment is None for c in months if c not in blank)
