"""The sensitivity section of ``report.html`` (``tcpmf report DIR --sensitivity``).

:func:`sensitivity_section` writes :func:`tcpmf.uncertainty.run_sensitivity.run_sensitivity`'s
results as HTML with inline SVG (no script, nothing fetched), per product: the rank table and the
PRIM box read from the run's draws, then the tornado and the Sobol indices computed from new,
seeded evaluations.  The page says which results come from the draws and which from new
evaluations, how many, and with what seed.
"""

from __future__ import annotations

import html
import math
from typing import Any

import pandas as pd

from tcpmf.outputs.report_inputs import probability_text
from tcpmf.uncertainty.run_sensitivity import SOBOL_OUTCOMES, RunSensitivity

__all__ = ["sensitivity_section", "tornado_svg"]

BAR_WIDTH = 260
ROW_HEIGHT = 18
LOW_COLOR = "#ef6c00"  # the input at its low value
HIGH_COLOR = "#1565c0"  # the input at its high value
OUTCOME_LABELS = {
    "peak_funding_usd": "peak funding",
    "clears_break_even": "clears break-even (0/1)",
}


def _usd(value: Any) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "—"
    v = float(value)
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= size:
            return f"${v / size:,.2f}{suffix}"
    return f"${v:,.0f}"


def _value(value: Any) -> str:
    if isinstance(value, str):
        return html.escape(value)
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "—"
    v = float(value)
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"


def _share(p: Any, n: int) -> str:
    if p is None or p is pd.NA or (isinstance(p, float) and math.isnan(p)):
        return "—"
    return probability_text(float(p), n)


def tornado_svg(rows: pd.DataFrame) -> str:
    """One product's tornado of peak funding as inline SVG: per input, a bar from the base value to
    the outcome with the input at its low value (orange) and at its high value (blue)."""
    known = rows.dropna(subset=["at_low", "at_high", "at_base"])
    if known.empty:
        return "<p class=meta>No tornado: the outcome is undefined at these values.</p>"
    values = [float(v) for c in ("at_low", "at_high", "at_base") for v in known[c]]
    low, high = min(values), max(values)
    span = high - low or 1.0
    label_width, width = 250, 250 + BAR_WIDTH + 130

    def x(v: float) -> float:
        return label_width + (v - low) / span * BAR_WIDTH

    base = float(known["at_base"].iloc[0])
    parts = []
    for i, r in enumerate(known.itertuples(index=False)):
        y = 4 + i * ROW_HEIGHT
        parts.append(
            f'<text x="{label_width - 6}" y="{y + 11}" text-anchor="end" font-size="11">{html.escape(str(r.key))}</text>'
        )
        for at, value, color in (
            (float(r.at_low), r.low, LOW_COLOR),
            (float(r.at_high), r.high, HIGH_COLOR),
        ):
            left, right = sorted((x(base), x(at)))
            parts.append(
                f'<rect x="{left:.1f}" y="{y + 2}" width="{max(right - left, 1.0):.1f}" height="{ROW_HEIGHT - 6}" '
                f'fill="{color}" fill-opacity="0.75"><title>{html.escape(str(r.key))} = {_value(value)}: '
                f"peak funding {_usd(at)}</title></rect>"
            )
        parts.append(
            f'<text x="{label_width + BAR_WIDTH + 6}" y="{y + 11}" font-size="10" fill="#546e7a">'
            f"swing {_usd(r.swing)}</text>"
        )
    height = 4 + len(known) * ROW_HEIGHT + 16
    axis = (
        f'<line x1="{x(base):.1f}" x2="{x(base):.1f}" y1="0" y2="{height - 14}" stroke="#212121"/>'
        f'<text x="{x(base):.1f}" y="{height - 2}" text-anchor="middle" font-size="10">base {_usd(base)}</text>'
    )
    return (
        f'<svg class="tornado" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
        + "".join(parts)
        + axis
        + "</svg>"
    )


def _rank_block(rows: pd.DataFrame) -> str:
    body = "".join(
        f"<tr><td><code>{html.escape(r.input)}</code></td><td class=n>{_value(r.rank_correlation_peak_funding) if r.kind == 'numeric' else '—'}</td>"
        f"<td>{html.escape(r.low_group)}</td><td class=n>{_share(r.p_clears_low, r.draws_low)}</td>"
        f"<td>{html.escape(r.high_group)}</td><td class=n>{_share(r.p_clears_high, r.draws_high)}</td></tr>"
        for r in rows.itertuples(index=False)
    )
    return (
        "<table class=sens-rank><thead><tr><th>input</th><th>rank correlation with peak funding</th>"
        "<th>low group</th><th>P(clears) there</th><th>high group</th><th>P(clears) there</th></tr></thead>"
        f"<tbody>{body}</tbody></table>"
    )


def _box_block(box: pd.DataFrame, limits: pd.DataFrame) -> str:
    if box.empty:
        return ""
    b = box.iloc[0]
    if int(b["hits"]) == 0:
        return "<p class=meta>PRIM: no draw clears break-even, so there is no box to find.</p>"
    if int(b["res_dim"]) == 0:
        return "<p class=meta>PRIM: no range of the inputs makes clearing markedly more likely than overall.</p>"
    items = []
    for r in limits.itertuples(index=False):
        if r.kind == "numeric":
            items.append(
                f"<li><code>{html.escape(r.key)}</code> from {_value(r.low)} to {_value(r.high)}</li>"
            )
        else:
            kept = ", ".join(html.escape(str(c)) for c in (r.categories or ()))
            items.append(f"<li><code>{html.escape(r.key)}</code> one of {kept}</li>")
    draws = int(b["draws"])
    inside = round(float(b["mass"]) * draws)
    return (
        f"<p>PRIM box: inside these ranges the product clears in <b>{_share(b['density'], inside)}</b> of the "
        f"draws (overall {_share(int(b['hits']) / draws, draws)}); the box holds {_share(b['mass'], draws)} of the "
        f"draws and {_share(b['coverage'], int(b['hits']))} of those that clear.</p><ul class=sens-box>{''.join(items)}</ul>"
    )


def _sobol_block(rows: pd.DataFrame) -> str:
    # inputs by their total index, largest first (the outcome listed first decides; undefined last)
    totals = rows.assign(order=rows["ST"].astype("Float64").fillna(-1.0).astype(float)).pivot_table(
        index="key", columns="outcome", values="order", aggfunc="first"
    )
    ordered = [o for o in SOBOL_OUTCOMES if o in totals.columns]
    keys = (
        list(totals.sort_values(ordered, ascending=False, kind="stable").index) if ordered else []
    )
    head = "".join(
        f"<th>{html.escape(OUTCOME_LABELS.get(o, o))}: S1</th><th>ST</th>" for o in SOBOL_OUTCOMES
    )

    def cell(v: Any, conf: Any) -> str:
        if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
            return "<td class=n>—</td>"
        return f"<td class=n>{float(v):.2f} ± {float(conf):.2f}</td>"

    body = ""
    for key in keys:
        cells = ""
        for outcome in SOBOL_OUTCOMES:
            r = rows[(rows["key"] == key) & (rows["outcome"] == outcome)]
            if r.empty:
                cells += "<td class=n>—</td><td class=n>—</td>"
                continue
            first = r.iloc[0]
            cells += cell(first["S1"], first["S1_conf"]) + cell(first["ST"], first["ST_conf"])
        body += f"<tr><td><code>{html.escape(str(key))}</code></td>{cells}</tr>"
    return f"<table class=sens-sobol><thead><tr><th>input</th>{head}</tr></thead><tbody>{body}</tbody></table>"


def sensitivity_section(sens: RunSensitivity) -> str:
    """HTML of *sens* (see the module docstring)."""
    read = (
        f"the first {sens.draws_used:,} of {sens.draws_total:,} draws"
        if sens.draws_used < sens.draws_total
        else f"all {sens.draws_used:,} draws"
    )
    parts = [
        '<section id="sensitivity">',
        "<h2>Sensitivity: which inputs move the outcome</h2>",
        f"<p class=meta><b>From the run's draws</b> ({read} of each product; no new evaluation): the rank table "
        "and the PRIM box.  The draws carry the portfolio's rank correlations, so an input correlated with an "
        "influential one shares its credit there: associations, not effects.  The low and high groups are the "
        "draws with the input in its lowest and highest fifth (for a named input, the options with the lowest "
        "and highest P(clears)).</p>",
    ]
    if sens.tornado is not None:
        parts.append(
            f"<p class=meta><b>From new evaluations</b>: {sens.evaluations:,} evaluations of the portfolio, run for this "
            f"page, seeded with the run's seed {sens.seed} (Sobol: Saltelli design, {sens.sobol_samples:,} base samples, "
            "95% bootstrap intervals).  Tornado: each input at its P10 and P90 (every option of a named input), the "
            "others at their nominal values.  Sobol indices treat the inputs as independent: the rank correlations "
            "are ignored there.  S1 is the share of the outcome's variance an input explains alone, ST with its "
            "interactions; a binary outcome's indices decompose the variance of clearing (0/1).</p>"
        )
    for product in dict.fromkeys(sens.ranks["product"]):
        parts.append(f"<h3>{html.escape(str(product))}</h3>")
        parts.append(_rank_block(sens.ranks[sens.ranks["product"] == product]))
        if not sens.boxes.empty:
            parts.append(
                _box_block(
                    sens.boxes[sens.boxes["product"] == product],
                    sens.limits[sens.limits["product"] == product]
                    if not sens.limits.empty
                    else sens.limits,
                )
            )
        if sens.tornado is not None:
            rows = sens.tornado[sens.tornado["product"] == product]
            if not rows.empty:
                parts.append(
                    "<p class=meta>Tornado of peak funding (orange: input at its low value; blue: at its "
                    "high value):</p>" + tornado_svg(rows)
                )
        if sens.sobol is not None:
            rows = sens.sobol[sens.sobol["product"] == product]
            if not rows.empty:
                parts.append(_sobol_block(rows))
    if sens.notes:
        parts.append(
            "<p class=meta>Notes:</p><ul class=meta>"
            + "".join(f"<li>{html.escape(n)}</li>" for n in sens.notes)
            + "</ul>"
        )
    parts.append("</section>")
    return "\n".join(parts)
