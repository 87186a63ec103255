"""The page of ``tcpmf compare RUN_A RUN_B``: the table of :func:`tcpmf.compare_runs` and a chart of the
differences in P(clears break-even) with their intervals.

The page is plain HTML with an inline SVG: no script, no font, nothing fetched, so it opens offline.
"""

from __future__ import annotations

import html
import math
from typing import Any

import pandas as pd

__all__ = ["OUTCOMES", "compare_html", "format_cell", "format_interval"]

#: The outcomes of a comparison, with their names on the page.
OUTCOMES = {
    "p_clears_break_even": "P(clears break-even)",
    "payback_month_p50": "median payback (month)",
    "peak_funding_usd_p50": "median peak funding (USD)",
}

#: The CSS every offline page of tcpmf starts from (this comparison, ``report.html``).
PAGE_CSS = """
  body { font-family: system-ui, sans-serif; margin: 1.5em; color: #212121; }
  table { border-collapse: collapse; margin: 1em 0; font-size: 13px; }
  th, td { padding: 3px 9px; border-bottom: 1px solid #e0e0e0; }
  td.n { text-align: right; font-variant-numeric: tabular-nums; }"""

STYLE = f"""<style>{PAGE_CSS}
  th {{ text-align: left; vertical-align: bottom; }}
  .meta {{ color: #546e7a; font-size: 12px; max-width: 60em; }}
</style>"""


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def format_cell(outcome: str, value: Any, *, signed: bool = False) -> str:
    """A value of *outcome* as the page shows it: percent with two decimals (and percentage
    points for a difference), whole months, whole dollars; ``—`` where it is not within the horizon."""
    if _missing(value):
        return "—"
    v = float(value)
    sign = "+" if signed and v > 0 else ""
    if outcome == "p_clears_break_even":
        return f"{sign}{v * 100:.2f}{' pp' if signed else '%'}"
    if outcome.startswith("peak_funding"):
        return f"{'-' if v < 0 else sign}${abs(v):,.0f}"
    return f"{sign}{v:,.0f}" if v.is_integer() else f"{sign}{v:,.1f}"


def format_interval(outcome: str, low: Any, high: Any) -> str:
    """``[low, high]`` of a difference, signed; ``—`` when a bound is not known."""
    if _missing(low) or _missing(high):
        return "—"
    return f"[{format_cell(outcome, low, signed=True)}, {format_cell(outcome, high, signed=True)}]"


def _table(table: pd.DataFrame) -> str:
    head = (
        "<tr><th rowspan=2>product</th><th rowspan=2>paired draws</th>"
        + "".join(f"<th colspan=4>{html.escape(label)}</th>" for label in OUTCOMES.values())
        + "</tr><tr>"
        + ("<th>A</th><th>B</th><th>B − A</th><th>interval</th>" * len(OUTCOMES))
        + "</tr>"
    )
    rows = []
    for record in table.astype(object).to_dict("records"):
        cells = [
            f"<td>{html.escape(str(record['product']))}</td>",
            f"<td class=n>{int(record['draws']):,}</td>",
        ]
        for outcome in OUTCOMES:
            cells += [
                f"<td class=n>{format_cell(outcome, record[f'{outcome}_a'])}</td>",
                f"<td class=n>{format_cell(outcome, record[f'{outcome}_b'])}</td>",
                f"<td class=n>{format_cell(outcome, record[f'{outcome}_difference'], signed=True)}</td>",
                f"<td class=n>{format_interval(outcome, record[f'{outcome}_difference_low'], record[f'{outcome}_difference_high'])}</td>",
            ]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"


def _chart(table: pd.DataFrame) -> str:
    """Dot (difference) and whisker (interval) per product, in percentage points, zero marked."""
    label_w, plot_w, row_h = 330, 360, 26
    values = [
        float(v)
        for c in ("p_clears_break_even_difference_low", "p_clears_break_even_difference_high")
        for v in table[c].astype(object)
        if not _missing(v)
    ]
    span = max([abs(v) for v in values] + [1e-4]) * 1.1

    def x(v: float) -> float:
        return label_w + plot_w / 2 + v / span * plot_w / 2

    height = row_h * len(table) + 40
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + plot_w + 20}" height="{height}" '
            'role="img" aria-label="difference in P(clears break-even), B minus A, with intervals" '
            'font-family="system-ui, sans-serif" font-size="12">'
        ),
        f'<line x1="{x(0):.1f}" x2="{x(0):.1f}" y1="4" y2="{height - 30}" stroke="#90a4ae"/>',
    ]
    for i, record in enumerate(table.astype(object).to_dict("records")):
        y = 16 + i * row_h
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 4}" text-anchor="end">{html.escape(str(record["product"]))}</text>'
        )
        low, high, mid = (
            record[f"p_clears_break_even_difference{s}"] for s in ("_low", "_high", "")
        )
        if not (_missing(low) or _missing(high)):
            parts.append(
                f'<line x1="{x(float(low)):.1f}" x2="{x(float(high)):.1f}" y1="{y}" y2="{y}" '
                'stroke="#1565c0" stroke-width="2"/>'
            )
        if not _missing(mid):
            parts.append(f'<circle cx="{x(float(mid)):.1f}" cy="{y}" r="4" fill="#1565c0"/>')
    base = height - 14
    for v in (-span / 1.1, 0.0, span / 1.1):
        parts.append(
            f'<text x="{x(v):.1f}" y="{base}" text-anchor="middle">'
            f"{format_cell('p_clears_break_even', v, signed=True)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def compare_html(table: pd.DataFrame, name_a: str, name_b: str, *, confidence: float = 0.95) -> str:
    """A standalone page comparing run B with run A (``table`` from :func:`tcpmf.compare_runs`)."""
    title = f"{name_b} vs {name_a}"
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{html.escape(title)}</title>",
            STYLE,
            "</head><body>",
            f"<h1>B − A: {html.escape(title)}</h1>",
            (
                f"<p class=meta>A = {html.escape(name_a)}; B = {html.escape(name_b)}. Each draw of B is paired with the same "
                "draw of A (common random numbers: same seed, samples and chunk size), so the intervals measure the "
                f"difference the variants make, not the noise both runs share. {confidence:.0%} intervals: normal "
                "approximation for P(clears), paired bootstrap for the medians; — where a median is beyond the horizon.</p>"
            ),
            "<h2>Difference in P(clears break-even), percentage points</h2>",
            _chart(table),
            _table(table),
            "</body></html>",
        ]
    )
