"""Export of results and batch summaries to CSV and Excel (tcpmf.model.export)."""

from __future__ import annotations

from pathlib import Path
from typing import overload

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import tcpmf
from tcpmf.cli.main import app
from tcpmf.core.errors import TcpmfError
from tcpmf.core.yamlio import assumptions_dir
from tcpmf.model.engine import MONTHLY_COLUMNS, SUMMARY_COLUMNS, TOB_SUMMARY_COLUMNS
from tcpmf.model.export import PRICE_COLUMNS, assumptions_table, to_csv, to_excel
from tcpmf.model.workbook import column_names, header_label

runner = CliRunner()
PRODUCTS = sorted((assumptions_dir() / "products").glob("*.yaml"))[:3]


#: Every column these tests write; a sheet's plain-language headers are read back as these names.
KNOWN = [
    "scenario",
    "month",
    "calendar_month",
    *SUMMARY_COLUMNS,
    *TOB_SUMMARY_COLUMNS,
    *MONTHLY_COLUMNS,
    *PRICE_COLUMNS,
    "file",
    "key",
    "value",
    "original_value",
    "original_currency",
    "price",
    "margin",
]


@overload
def _read_excel(path: Path, sheet_name: str) -> pd.DataFrame: ...
@overload
def _read_excel(path: Path, sheet_name: None = None) -> dict[str, pd.DataFrame]: ...


def _read_excel(
    path: Path, sheet_name: str | None = None
) -> pd.DataFrame | dict[str, pd.DataFrame]:
    """A workbook read back, its headers turned back into column names."""
    sheets = pd.read_excel(path, sheet_name=sheet_name)
    if isinstance(sheets, dict):
        return {n: f.rename(columns=column_names(f.columns, KNOWN)) for n, f in sheets.items()}
    return sheets.rename(columns=column_names(sheets.columns, KNOWN))


@pytest.fixture(scope="module")
def result() -> tcpmf.Result:
    return tcpmf.evaluate(PRODUCTS)


def _numeric(frame: pd.DataFrame) -> list[str]:
    return [
        c
        for c in frame.columns
        if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
    ]


def _same_table(written: pd.DataFrame, original: pd.DataFrame) -> None:
    assert list(written.columns) == list(original.columns)
    assert len(written) == len(original)
    for column in _numeric(original):
        expected = original[column].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        np.testing.assert_allclose(
            written[column].to_numpy(dtype=float), expected, rtol=1e-12, equal_nan=True
        )
    assert list(written["scenario"].astype(str)) == list(original["scenario"].astype(str))


def test_excel_round_trips(result: tcpmf.Result, tmp_path: Path) -> None:
    path = result.to_excel(tmp_path / "out.xlsx")
    sheets = _read_excel(path, sheet_name=None)
    assert list(sheets) == ["summary", "monthly", "assumptions", "prices"]
    _same_table(sheets["summary"], result.summary)
    _same_table(sheets["monthly"], result.monthly)
    assert list(sheets["monthly"]["calendar_month"].astype(str)) == list(
        result.monthly["calendar_month"].astype(str)
    )
    clears = sheets["summary"]["clears_break_even"].astype(bool).tolist()
    assert clears == result.summary["clears_break_even"].astype(bool).tolist()


def test_assumptions_sheet_lists_inputs_with_their_sources(
    result: tcpmf.Result, tmp_path: Path
) -> None:
    sheet = (
        _read_excel(to_excel(result, tmp_path / "a.xlsx"), sheet_name="assumptions")
        .astype(object)
        .fillna("")
    )
    assert list(sheet.columns) == [
        "scenario",
        "file",
        "key",
        "value",
        "original_value",
        "original_currency",
        "source",
    ]
    for scenario in result.scenarios:
        rows = sheet[sheet["scenario"] == scenario.name]
        keyed = dict(zip(rows["key"], rows["source"]))
        assert scenario.sources, scenario.name
        for key, source in scenario.sources.items():  # every source is shown next to its input
            assert keyed[key] == source, key
        assert sum(bool(s) for s in rows["source"]) == len(scenario.sources)
        assert "retention.curve" in keyed and "usage.dau_per_mau" in keyed


def test_csv_writes_one_file_per_table(result: tcpmf.Result, tmp_path: Path) -> None:
    files = result.to_csv(tmp_path / "csv")
    assert sorted(p.name for p in files) == [
        "assumptions.csv",
        "monthly.csv",
        "prices.csv",
        "summary.csv",
    ]
    _same_table(pd.read_csv(tmp_path / "csv" / "summary.csv"), result.summary)
    _same_table(pd.read_csv(tmp_path / "csv" / "monthly.csv"), result.monthly)


def test_batch_summary_and_extra_tables(tmp_path: Path) -> None:
    batch = pd.DataFrame(
        {
            "scenario": ["a", "b", "c"],
            "ltv_usd": [1.5, np.nan, 3.0],
            "tcpmf_month": pd.array([3, None, 7], dtype="Int64"),
        }
    )
    extra = {"sweep": pd.DataFrame({"price": [10, 20], "margin": [0.1, 0.4]})}
    path = to_excel(batch, tmp_path / "batch.xlsx", extra=extra)
    sheets = _read_excel(path, sheet_name=None)
    assert list(sheets) == ["summary", "sweep"]
    _same_table(sheets["summary"], batch)
    pd.testing.assert_frame_equal(sheets["sweep"], extra["sweep"])
    files = to_csv({"batch": batch}, tmp_path / "c")
    assert [p.name for p in files] == ["batch.csv"]
    _same_table(pd.read_csv(files[0]), batch)


def test_bad_inputs_are_refused(tmp_path: Path) -> None:
    with pytest.raises(TcpmfError, match="31 characters"):
        to_excel({"x" * 40: pd.DataFrame({"a": [1]})}, tmp_path / "x.xlsx")
    with pytest.raises(TcpmfError, match="not a pandas DataFrame"):
        to_csv({"t": [1, 2]}, tmp_path)  # type: ignore[dict-item]


def test_assumptions_table_of_no_scenarios_is_empty() -> None:
    assert assumptions_table([]).empty


def test_cli_export(tmp_path: Path) -> None:
    xlsx, folder = tmp_path / "out.xlsx", tmp_path / "csv"
    result = runner.invoke(
        app, ["export", *map(str, PRODUCTS), "--excel", str(xlsx), "--csv", str(folder)]
    )
    assert result.exit_code == 0, result.output
    assert _read_excel(xlsx, sheet_name="summary").shape[0] == len(PRODUCTS)
    assert (folder / "monthly.csv").is_file()
    missing = runner.invoke(app, ["export", str(PRODUCTS[0])])
    assert missing.exit_code != 0


def test_prices_sheet_names_the_catalog_prices_gpu_rent_and_exchange_rate(tmp_path: Path) -> None:
    products = assumptions_dir() / "products"
    chosen = [
        products / "writing_assistant.yaml",
        products / "ai_friends_selfhosted.yaml",
        products / "smb_customer_service_subscription.yaml",
    ]
    result = tcpmf.evaluate(chosen)
    prices = _read_excel(to_excel(result, tmp_path / "p.xlsx"), sheet_name="prices")
    writing, friends, smb = (s.name for s in result.scenarios)
    gpt = prices[(prices["scenario"] == writing) & (prices["kind"] == "api price")].iloc[0]
    expected = tcpmf.catalog.prices.model_price("gpt-4o", result.scenarios[0].start_month)
    assert gpt["item"] == "gpt-4o" and str(gpt["record_date"]) == expected.date
    assert gpt["usd_per_mtok_in"] == pytest.approx(expected.usd_per_mtok_in)
    assert gpt["usd_per_mtok_out"] == pytest.approx(expected.usd_per_mtok_out)
    assert gpt["source"] == expected.source
    rent = prices[(prices["scenario"] == friends) & (prices["kind"] == "gpu rent")]
    assert len(rent) == 1 and rent["usd_per_gpu_hour"].iloc[0] > 0 and rent["source"].iloc[0]
    fx = prices[(prices["scenario"] == smb) & (prices["kind"] == "fx")]
    assert len(fx) == 1
    assert fx["cny_per_usd"].iloc[0] == tcpmf.catalog.prices.cny_per_usd(
        result.scenarios[2].start_month
    )
    assert fx["source"].iloc[0]
    assert "fx" not in set(prices.loc[prices["scenario"] == writing, "kind"])  # no CNY anywhere


def test_assumptions_show_cny_inputs_as_written_and_the_file_that_set_each_value(
    tmp_path: Path,
) -> None:
    path = assumptions_dir() / "products" / "tob_price_war_bid.yaml"
    result = tcpmf.evaluate([path])
    sheet = _read_excel(to_excel(result, tmp_path / "c.xlsx"), sheet_name="assumptions")
    cny = sheet[sheet["original_currency"] == "CNY"]
    assert len(cny) > 0
    rate = tcpmf.catalog.prices.cny_per_usd(result.scenarios[0].start_month)
    np.testing.assert_allclose(
        cny["value"].astype(float), cny["original_value"].astype(float) / rate
    )
    files = set(sheet["file"])
    assert any("categories" in f for f in files) and any("products" in f for f in files)


def test_scenario_workbook_is_formatted_like_a_run(result: tcpmf.Result, tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.load_workbook(result.to_excel(tmp_path / "f.xlsx"))
    assert all(ws.freeze_panes == "A2" for ws in book.worksheets)
    monthly = book["monthly"]
    headers = {c.value: j for j, c in enumerate(monthly[1], start=1)}
    assert "active_users" not in headers and "Active users" in headers  # plain-language headers
    fmt = {h: monthly.cell(row=2, column=j).number_format for h, j in headers.items()}
    assert fmt["Active users"] == "#,##0"  # fractional users shown whole, the value kept exact
    assert fmt["Cash (USD)"] == '"$"#,##0'
    assert fmt["ARPU (USD per user-month)"] == '"$"#,##0.00'
    assert fmt["Month"] == "0"
    summary = book["summary"]
    shown = {
        c.value: summary.cell(row=2, column=j).number_format
        for j, c in enumerate(summary[1], start=1)
    }
    assert shown["Gross margin, month 0"] == "0.0%"
    assert shown["Payback (month)"] == "0"
    assert all(summary.column_dimensions[c.column_letter].width >= 8 for c in summary[1])


def test_headers_are_distinct_and_read_back() -> None:
    labels = [header_label(c) for c in dict.fromkeys(KNOWN)]
    assert len(set(labels)) == len(labels)
    assert column_names(labels, KNOWN) == {header_label(c): c for c in dict.fromkeys(KNOWN)}


def _general_numbers(book, skip: tuple[str, ...] = ()) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(sheet, header) of every number a reader would see with 15 decimals (Excel's General)."""
    return sorted(
        {
            (ws.title, str(ws.cell(row=1, column=c.column).value))
            for ws in book.worksheets
            if ws.title not in skip
            for row in ws.iter_rows(min_row=2)
            for c in row
            if isinstance(c.value, (int, float))
            and not isinstance(c.value, bool)
            and c.number_format == "General"
        }
    )


def test_a_partner_sees_no_raw_float_and_every_value_in_its_unit(tmp_path: Path) -> None:
    """Every number of a scenario workbook has a format; the assumptions' values take the format of
    their key (a share as %, a monthly budget in whole dollars, a price with cents); headers read
    as words (no "Amount (...)" placeholder); an exchange rate is not shown in dollars."""
    import glob

    import openpyxl

    from tcpmf.core.yamlio import assumptions_dir

    files = sorted(glob.glob(str(assumptions_dir() / "products" / "*.yaml")))
    book = openpyxl.load_workbook(tcpmf.evaluate(files).to_excel(tmp_path / "all.xlsx"))
    assert _general_numbers(book) == []
    headers = [str(c.value) for ws in book.worksheets for c in ws[1]]
    assert not [h for h in headers if h.startswith("Amount")]
    assert (
        "Blended token price (USD per 1M tokens), month 0" in headers
        and "Currency in the catalog" in headers
    )
    ws = book["assumptions"]
    key_col = [c.value for c in ws[1]].index("Key") + 1
    value_col = [c.value for c in ws[1]].index("Value") + 1
    shown = {
        ws.cell(row=r, column=key_col).value: ws.cell(row=r, column=value_col).number_format
        for r in range(2, ws.max_row + 1)
    }
    assert shown["revenue.subscription.paid_share"] == "0.0%"
    assert shown["usage.dau_per_mau"] == "0.0%"
    assert shown["revenue.subscription.price_usd_per_month"] == '"$"#,##0.00'
    assert shown["growth.paid_budget_usd_per_month"] == '"$"#,##0'
    assert shown["growth.organic_new_users_per_month"] == "#,##0"
    assert (
        shown["labor.input_tokens_per_output_token"] == "#,##0.00##"
    )  # a ratio of 0.5, not a count shown as 1
    prices = book["prices"]
    rate = [c.value for c in prices[1]].index("CNY per USD") + 1
    assert {
        prices.cell(row=r, column=rate).number_format for r in range(2, prices.max_row + 1)
    } == {"0.0000"}
