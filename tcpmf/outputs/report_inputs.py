"""The inputs section of ``report.html``, and probabilities written with the precision a run has.

:func:`inputs_section` shows, per product, each uncertain input: its distribution as a small
density (inline SVG, drawn from the distribution's quantile function), its parameters,
P5/P50/P95 and its source; then the rank-correlation matrix of the inputs that have one.
:func:`probability_text` writes P(clears) so that a rare event is not rounded to 0%.
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

import numpy as np

from tcpmf.outputs.run_export import input_distributions, inputs_table
from tcpmf.schema.distributions import Distribution
from tcpmf.uncertainty.runner import read_manifest

__all__ = ["density_svg", "inputs_section", "probability_text"]

#: Quantiles drawn to sketch a density.
DENSITY_POINTS = 400


def probability_text(p: float, draws: int) -> str:
    """P of *draws* as text that keeps its precision.

    None of the draws: ``< 0.001%`` (one draw's share); fewer than ten: ``2 in 100,000``;
    otherwise a percentage with as many decimals as it takes not to read 0% or 100%.

    >>> probability_text(0.00002, 100_000), probability_text(0.0, 100_000), probability_text(0.2217, 3000)
    ('2 in 100,000', '< 0.001%', '22.2%')
    """
    n = int(draws)
    if n <= 0 or math.isnan(p):
        return "—"
    k = round(p * n)
    if k == 0:
        return f"< {100 / n:.2g}%"
    if k == n:
        return "100%"
    if k < 10 or n - k < 10:
        return f"{k:,} in {n:,}"
    for decimals in range(1, 8):
        text = f"{100 * p:.{decimals}f}"
        if 0.0 < float(text) < 100.0:
            return f"{text}%"
    return f"{k:,} in {n:,}"


def density_svg(dist: Distribution, width: int = 140, height: int = 32) -> str:
    """A small density of a numeric *dist* (a histogram of evenly spaced quantiles) as inline SVG;
    bars of the weights for a choice of names."""
    if not dist.numeric:
        options = [str(o) for o in getattr(dist, "options", [])]
        weights = list(getattr(dist, "weights", None) or [1.0] * len(options))
        total = sum(weights) or 1.0
        bars = "".join(
            f'<rect x="{i * width / len(options) + 1:.1f}" y="{height * (1 - w / total):.1f}" '
            f'width="{width / len(options) - 2:.1f}" height="{height * w / total:.1f}" fill="#90a4ae">'
            f"<title>{html.escape(o)}: {w / total:.0%}</title></rect>"
            for i, (o, w) in enumerate(zip(options, weights))
        )
        return f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">{bars}</svg>'
    u = (np.arange(DENSITY_POINTS) + 0.5) / DENSITY_POINTS
    x = np.asarray(dist.ppf(u), dtype=float)
    low, high = float(x.min()), float(x.max())
    if not high > low:
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
            f'<line x1="{width / 2}" x2="{width / 2}" y1="0" y2="{height}" stroke="#1565c0" stroke-width="2"/></svg>'
        )
    counts, edges = np.histogram(x, bins=28, range=(low, high))
    top = counts.max()
    points = " ".join(
        f"{(e - low) / (high - low) * width:.1f},{height * (1 - c / top):.1f}"
        for c, e in zip(counts, (edges[:-1] + edges[1:]) / 2)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
        f'<polyline points="0,{height} {points} {width},{height}" fill="#bbdefb" stroke="#1565c0"/></svg>'
    )


def _number(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def _matrix(keys: list[str], correlations: list[Any]) -> str:
    rho = {(a, b): float(r) for a, b, r in correlations} | {
        (b, a): float(r) for a, b, r in correlations
    }
    head = "<tr><th></th>" + "".join(f"<th>{html.escape(k)}</th>" for k in keys) + "</tr>"
    rows = "".join(
        "<tr><th>"
        + html.escape(a)
        + "</th>"
        + "".join(f"<td class=n>{1.0 if a == b else rho.get((a, b), 0.0):.2f}</td>" for b in keys)
        + "</tr>"
        for a in keys
    )
    return f"<table class=corr>{head}{rows}</table>"


def inputs_section(out: str | Path) -> str:
    """HTML of the inputs behind the run in *out* (see the module docstring)."""
    manifest = read_manifest(out)
    table = inputs_table(out)
    parts = [
        "<h2>Inputs: the distributions drawn</h2>",
        (
            "<p class=meta>Each uncertain input of each product, as drawn (density sketched from its quantile "
            "function), with the source of its range; inputs not listed keep the product file's value.</p>"
        ),
    ]
    for product, dists, correlations, _ in input_distributions(manifest):
        rows = table[table["product"] == product]
        parts.append(f"<h3>{html.escape(product)}</h3>")
        body = "".join(
            f"<tr><td><code>{html.escape(r.input)}</code></td><td>{density_svg(dists[r.input])}</td>"
            f"<td>{html.escape(r.distribution)}</td><td class=small>{html.escape(r.parameters)}</td>"
            f"<td class=n>{_number(r.value_p05)}</td><td class=n>{_number(r.value_p50)}</td>"
            f"<td class=n>{_number(r.value_p95)}</td><td class=small>{html.escape(r.source)}</td></tr>"
            for r in rows.itertuples(index=False)
        )
        parts.append(
            "<table class=inputs><thead><tr><th>input</th><th>density</th><th>distribution</th>"
            "<th>parameters</th><th>P5</th><th>P50</th><th>P95</th><th>source</th></tr></thead>"
            f"<tbody>{body}</tbody></table>"
        )
        if correlations:
            keys = sorted({k for c in correlations for k in c[:2]})
            parts.append(
                "<p class=meta>Spearman rank correlations (Iman–Conover):</p>"
                + _matrix(keys, correlations)
            )
    return "\n".join(parts)
