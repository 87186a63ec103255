"""How tcpmf's Excel sheets look: plain-language headers, number formats, column widths, a frozen header.

Every workbook tcpmf writes (:func:`tcpmf.model.export.to_excel` for scenarios,
:func:`tcpmf.outputs.run_export.run_to_excel` for a batch run) goes through :func:`format_sheet`.
Cells keep their exact values (a user count of 1234.56 stays 1234.56); only the display changes:

============================  =========================  ==================
column                        shown as                   Excel format
============================  =========================  ==================
probabilities, shares, rates  ``12.3%`` (P(clears): 3    ``0.0%``
                              decimals, so 2 in 100,000  ``0.000%``
                              reads 0.002%)
USD totals                    ``$2,637,751``             ``"$"#,##0``
USD per user / per 1M tokens  ``$0.59``                  ``"$"#,##0.00``
/ per GPU-hour, prices, RPM
months                        ``26``                     ``0``
users, tokens, draws, counts  ``154,080``                ``#,##0``
exchange rate (CNY per USD)   ``7.1800``                 ``0.0000``
LTV/CAC, rank correlations    ``0.61``                   ``0.00``
other inputs (key paths)      ``1.33``, ``4.0037``       ``#,##0.00##``
============================  =========================  ==================

A column of values in many units (the ``value`` of the assumptions sheet, the percentiles of the
inputs sheet) is formatted row by row, as the input key path in its row (``format_sheet(by_key=)``).

Headers read as words with units (``peak_funding_usd_p50`` → ``Peak funding (USD), P50``);
:func:`header_label` gives the header of a column, and :func:`column_names` turns a sheet's
headers back into column names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

__all__ = ["COLUMN_LABELS", "column_names", "format_sheet", "header_label", "number_format"]

#: Headers of columns whose generic label would not read well.
COLUMN_LABELS: dict[str, str] = {
    "scenario": "Scenario",
    "product": "Product",
    "draws": "Draws",
    "draw": "Draw",
    "p_clears_break_even": "P(clears break-even)",
    "p_clears_standard_error": "Monte Carlo standard error of P(clears)",
    "clears_break_even": "Clears break-even",
    "arpu_usd_m0": "ARPU (USD per user-month), month 0",
    "arpu_usd": "ARPU (USD per user-month)",
    "tokens_per_mau": "Tokens per monthly active user",
    "gross_margin_m0": "Gross margin, month 0",
    "ltv_usd": "Lifetime value (USD per user)",
    "ltv_to_cac": "LTV / CAC",
    "cac_payback_month": "CAC payback (month)",
    "breakeven_month": "Break-even (month)",
    "payback_month": "Payback (month)",
    "payback_month_m0_prices": "Payback at today's prices (month)",
    "tcpmf_month": "TC-PMF (month)",
    "tcpmf_calendar_month": "TC-PMF (calendar month)",
    "month": "Month",
    "calendar_month": "Calendar month",
    "gpu_utilization": "GPU utilization",
    "replicas": "Serving replicas",
    "max_affordable_usd_per_mtok": "Most affordable price (USD per 1M tokens)",
    "usd_per_mtok_blended_m0": "Blended token price (USD per 1M tokens), month 0",
    "usd_per_mtok_blended": "Blended token price (USD per 1M tokens)",
    "usd_per_mtok_in": "Input token price (USD per 1M tokens)",
    "usd_per_mtok_out": "Output token price (USD per 1M tokens)",
    "usd_per_mtok_cached_in": "Cached input token price (USD per 1M tokens)",
    "usd_per_gpu_hour": "GPU rent (USD per GPU-hour)",
    "cny_per_usd": "CNY per USD",
    "currency_in_catalog": "Currency in the catalog",
}

_WORDS = {
    "usd": "USD",
    "mtok": "1M tokens",
    "mau": "MAU",
    "cac": "CAC",
    "ltv": "LTV",
    "arpu": "ARPU",
    "gpu": "GPU",
    "cny": "CNY",
    "fx": "FX",
    "tcpmf": "TC-PMF",
    "m0": "month 0",
    "in": "input",
    "out": "output",
    "r1": "r1",
}
_PERCENTILE = re.compile(r"^(?P<base>.+)_p(?P<q>\d{1,2})$")


def header_label(column: str) -> str:
    """The plain-language header of *column*: words, units in brackets, percentiles after a comma.

    >>> header_label("peak_funding_usd_p90")
    'Peak funding (USD), P90'
    >>> header_label("inference_cost_usd_per_mau")
    'Inference cost (USD per MAU)'
    """
    column = str(column)
    if "." in column:  # an input's key path, as the scenario files and the inputs sheet write it
        return column
    if column in COLUMN_LABELS:
        return COLUMN_LABELS[column]
    match = _PERCENTILE.match(column)
    if match:
        return f"{header_label(match['base'])}, P{match['q']}"
    parts = column.split("_")
    if "usd" in parts:  # what the amount is, then its unit: "revenue_usd" -> "Revenue (USD)"
        at = parts.index("usd")
        what, unit, rest = parts[:at], parts[at:], []
        if unit[-1] == "m0":
            unit, rest = unit[:-1], ["month 0"]
        words = " ".join(_WORDS.get(p, p) for p in what) or "Amount"
        label = f"{words} ({' '.join(_WORDS.get(p, p) for p in unit)})"
        label += "".join(f", {r}" for r in rest)
    else:
        label = " ".join(_WORDS.get(p, p) for p in parts)
    return label[:1].upper() + label[1:]


def column_names(headers: Iterable[str], columns: Iterable[str]) -> dict[str, str]:
    """Map the headers of a sheet back to the *columns* they were made from (for reading a sheet back)."""
    by_label = {header_label(c): c for c in columns}
    return {h: by_label.get(h, h) for h in headers}


#: An input number with no unit in its name (sessions per day, a retention curve's alpha, ...).
INPUT_FORMAT = "#,##0.00##"

_PERCENT_WORDS = (
    "share",
    "margin",
    "utilization",
    "rate",
    "churn",
    "retention",
    "r1",
    "floor",
    "fee",
    "discount",
    "growth",
    "dau",
)
_PERIODS = ("month", "year", "day", "week")
_COUNT_WORDS = (
    "users",
    "tokens",
    "draws",
    "draw",
    "replicas",
    "deals",
    "samples",
    "chunks",
    "mau",
    "seats",
)


def number_format(column: str) -> str | None:
    """The Excel number format of *column*'s cells (``None``: leave as it is, text or mixed values)."""
    c = str(column).lower().rsplit(".", 1)[-1]  # an input's key path: by its last part
    base = _PERCENTILE.sub(r"\g<base>", c)
    parts = base.split("_")
    if base.startswith("p_") or base.endswith("standard_error"):
        return "0.000%"
    if base == "cny_per_usd":  # an exchange rate, not dollars
        return "0.0000"
    if "usd" in parts:
        # per user, per 1M tokens, per GPU-hour, a price, an RPM: cents matter; a total (a month's budget) in dollars
        per = parts[parts.index("per") + 1] if "per" in parts[:-1] else None
        per_unit = (
            (per is not None and per not in _PERIODS)
            or parts[0] in ("arpu", "ltv", "cac")
            or "price" in parts
            or "rpm" in parts
            or base == "usd_per_mtok_blended_m0"
        )
        return '"$"#,##0.00' if per_unit else '"$"#,##0'
    if (
        base == "month"
        or (parts[-1] in ("month", "months") and "per" not in parts)
        or base.endswith("_month_m0_prices")
    ):
        return "0"
    if any(w in parts for w in _PERCENT_WORDS) or base in ("gross_margin_m0", "gpu_utilization"):
        return "0.0%"
    ratio = "per" in parts[:-1] and parts[parts.index("per") + 1] in (
        "token",
        "char",
        "output",
    )  # tokens per char
    if (any(w in parts for w in _COUNT_WORDS) and not ratio) or base == "deals_to_break_even":
        return "#,##0"
    if base in ("ltv_to_cac", "rank_correlation"):
        return "0.00"
    if "." in str(column):  # an input's key path (the draws' columns): 2 to 4 decimals, not 15
        return INPUT_FORMAT
    return None


def _shown_width(value: Any, fmt: str | None) -> int:
    if value is None:
        return 0
    if isinstance(value, (int, float)) and not isinstance(value, bool) and fmt:
        if "%" in fmt:
            return len(f"{value * 100:.3f}%")
        decimals = 2 if ".00" in fmt else 0
        return len(f"{value:,.{decimals}f}") + (1 if "$" in fmt else 0)
    return len(str(value))


def _key_format(key: Any) -> str | None:
    """The format of a value given by an input's key path (``revenue.subscription.paid_share`` → %)."""
    return number_format(key) if isinstance(key, str) else None


def format_sheet(
    ws: Worksheet,
    columns: list[str],
    *,
    formats: Mapping[str, str | None] | None = None,
    by_key: Mapping[str, str] | None = None,
    max_width: int = 60,
) -> None:
    """Give *ws* (written by pandas: a header row, then one row per record) its look.

    The header row gets :func:`header_label` of each of *columns*, bold and wrapped, and stays
    frozen; each column its :func:`number_format` (or *formats*[column]) and a width that fits its
    widest shown value, at most *max_width* characters.  A column of values of many units
    (*by_key*: column → the column holding each row's input key path) is formatted row by row,
    as its key path's :func:`number_format` (a share as %, an amount in USD as $).
    """
    formats = dict(formats or {})
    by_key = dict(by_key or {})
    bold = Font(bold=True)
    for column, key_column in by_key.items():
        if column in columns and key_column in columns:
            j, k = columns.index(column) + 1, columns.index(key_column) + 1
            for row in range(2, ws.max_row + 1):
                cell = ws.cell(row=row, column=j)
                fmt = _key_format(ws.cell(row=row, column=k).value)
                if (
                    fmt
                    and isinstance(cell.value, (int, float))
                    and not isinstance(cell.value, bool)
                ):
                    cell.number_format = fmt
    for j, column in enumerate(columns, start=1):
        if column in by_key:
            fmt = None  # formatted row by row above
        else:
            fmt = formats[column] if column in formats else number_format(column)
        header = ws.cell(row=1, column=j)
        header.value = header_label(column)
        header.font = bold
        header.alignment = Alignment(wrap_text=True, vertical="top")
        widest = 0
        blank = False
        for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
            if (
                cell.value == ""
            ):  # pandas writes a missing value as empty text: make it an empty cell
                cell.value = None
            blank = blank or cell.value is None
            if fmt and (
                cell.value is None
                or (isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool))
            ):
                cell.number_format = fmt
            shown = fmt if fmt or cell.number_format == "General" else cell.number_format
            widest = max(widest, _shown_width(cell.value, shown))
        if fmt == "0" and blank and "month" in column:  # an empty month is not a missing number
            why = (
                "no paid acquisition (no CAC), or not"
                if column.startswith("cac_payback")
                else "not"
            )
            header.comment = Comment(f"An empty cell: {why} reached within the horizon.", "tcpmf")
        header_width = min(len(header.value), 24)  # long headers wrap rather than widen the column
        ws.column_dimensions[get_column_letter(j)].width = min(
            max(widest, header_width, 6) + 2, max_width
        )
    ws.freeze_panes = "A2"
