"""The report of a batch run: the per-product table and ``DIR/report.html`` with its charts.

:func:`collect` reads the five outcome columns it needs, one product at a time, and reduces them
at once to a few hundred numbers per product (the summary row, the month-by-month share of draws
that have paid back or reached TC-PMF, and the percentiles of peak funding), so the page's data
stay a few tens of kilobytes whether the run holds a thousand draws or ten million.

- P(clears break-even) per product (bars);
- payback month and TC-PMF month: share of draws there by month *m* (step curves; the part that
  never reaches 100 % did not get there within the horizon);
- peak funding: the distribution of the deepest cumulative cash hole (P1–P99 as a curve).

Below the charts: the inputs (:mod:`tcpmf.outputs.report_inputs`) and, when asked
(``write_report(..., sensitivity=True)``, ``tcpmf report DIR --sensitivity``), the sensitivity
section (:mod:`tcpmf.outputs.report_sensitivity`).

The page is standalone: the Vega scripts are inlined (about 1 MB), so it needs no network.

An incomplete run is refused unless asked for with ``partial=True``; a partial report says so in
its title, in the table's title and at the top of the page.

Example
-------
>>> from tcpmf.uncertainty.runner import run
>>> rep, path = write_report(run("assumptions/portfolios/consumer_stages.yaml", 500, seed=1, out="runs/stages"))
>>> path.name, rep.partial
('report.html', False)
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from tcpmf.core.errors import TcpmfError
from tcpmf.core.yamlio import display_path
from tcpmf.outputs.charts import NEUTRAL, POSITIVE, inline_values
from tcpmf.outputs.compare_report import PAGE_CSS
from tcpmf.outputs.report_inputs import inputs_section, probability_text
from tcpmf.outputs.report_sensitivity import sensitivity_section
from tcpmf.uncertainty.batch import SUMMARIZED_COLUMNS, summarize
from tcpmf.uncertainty.run_sensitivity import RunSensitivity, run_sensitivity
from tcpmf.uncertainty.runner import RunStatus, complete_or_partial, read_run, write_atomic

__all__ = [
    "RunReport",
    "collect",
    "report_chart",
    "report_html",
    "write_report",
    "write_report_html",
]

REPORT = "report.html"
MONTH_OUTCOMES = {"payback_month": "payback", "tcpmf_month": "TC-PMF"}
FUNDING_PERCENTILES = np.arange(1, 100)
WIDTH = 520
HEIGHT = 240


@dataclass(frozen=True)
class RunReport:
    """What :func:`collect` reduced a run to."""

    out: Path
    status: RunStatus
    #: :func:`tcpmf.uncertainty.batch.summarize`'s table (products with no chunk on disk are left out)
    table: pd.DataFrame
    #: one row per product and *outcome* (``payback``, ``TC-PMF``): lists ``month`` (0, 1, …) and
    #: ``share`` (of the product's draws whose month is at most that month)
    months: pd.DataFrame
    #: one row per product: lists ``percentile`` (1 … 99) and ``usd`` (peak funding; draws without a
    #: value left out)
    funding: pd.DataFrame

    @property
    def partial(self) -> bool:
        return not self.status.complete

    def title(self) -> str:
        m = self.status.manifest
        head = f"{m['portfolio']}: {m['samples']:,} draws per product, seed {m['seed']}"
        return f"PARTIAL ({self.status.describe()}) — {head}" if self.partial else head


def _month_shares(values: pd.Series, horizon: int | None) -> tuple[list[int], list[float]]:
    """Months ``0 … horizon-1`` and the share of draws whose month is at most each (NA: never)."""
    months = values.to_numpy(dtype=float, na_value=np.nan)
    reached = months[~np.isnan(months)].astype(np.int64)
    last = max(horizon or 0, int(reached.max()) + 1 if len(reached) else 1)
    shares = np.cumsum(np.bincount(reached, minlength=last)) / max(len(months), 1)
    return list(range(last)), [round(float(s), 5) for s in shares]


def collect(out: str | Path, *, partial: bool = False) -> RunReport:
    """Reduce the run in *out* to its report: a per-product table and chart data.

    Raises :class:`tcpmf.TcpmfError` for an incomplete run unless *partial* is true.
    """
    out = Path(out)
    status = complete_or_partial(out, partial)
    names = status.manifest["products"]
    horizons = status.manifest.get("horizon_months") or [None] * len(names)
    tables, months, funding = [], [], []
    for p, written in enumerate(status.done_per_product):
        if not written:
            continue
        frame = read_run(out, SUMMARIZED_COLUMNS, products=[p], partial=partial)
        tables.append(summarize(frame))
        for column, outcome in MONTH_OUTCOMES.items():
            month, share = _month_shares(frame[column], horizons[p])
            months.append({"product": names[p], "outcome": outcome, "month": month, "share": share})
        usd = frame["peak_funding_usd"].to_numpy(dtype=float, na_value=np.nan)
        usd = usd[~np.isnan(usd)]
        if len(usd):
            q = np.percentile(usd, FUNDING_PERCENTILES, method="inverted_cdf")
            funding.append(
                {
                    "product": names[p],
                    "percentile": FUNDING_PERCENTILES.tolist(),
                    "usd": [round(float(v), 2) for v in q],
                }
            )
    return RunReport(
        out=out,
        status=status,
        table=pd.concat(tables, ignore_index=True),
        months=pd.DataFrame(months, columns=["product", "outcome", "month", "share"]),
        funding=pd.DataFrame(funding, columns=["product", "percentile", "usd"]),
    )


def _color(names: list[str]) -> alt.Color:
    return alt.Color(
        "product:N",
        scale=alt.Scale(domain=names),
        sort=names,
        legend=alt.Legend(orient="bottom", columns=1, labelLimit=600, title=None),
    )


#: Dash patterns, so that curves on top of each other (all draws at 100%) stay told apart.
DASHES = [[1, 0], [8, 4], [2, 3], [12, 3, 2, 3], [4, 4], [1, 5], [16, 6]]


def _dash(names: list[str]) -> alt.StrokeDash:
    return alt.StrokeDash(
        "product:N",
        sort=names,
        legend=alt.Legend(
            orient="bottom",
            columns=1,
            labelLimit=600,
            title=None,
            symbolStrokeWidth=2,
            symbolSize=300,
        ),
        scale=alt.Scale(domain=names, range=[DASHES[i % len(DASHES)] for i in range(len(names))]),
    )


def report_chart(rep: RunReport) -> alt.VConcatChart:
    """The report's charts, one under the other, data inlined (a few hundred rows per product)."""
    names = list(rep.status.manifest["products"])
    color = _color(names)
    clears = rep.table[["product", "p_clears_break_even", "draws"]].astype(object)
    clears["label"] = [
        probability_text(float(p), int(n))
        for p, n in zip(rep.table["p_clears_break_even"], rep.table["draws"])
    ]
    y = alt.Y("product:N", sort=names, title=None, axis=alt.Axis(labelLimit=320))
    bars = (
        alt.Chart()
        .mark_bar(color=POSITIVE)
        .encode(
            x=alt.X(
                "p_clears_break_even:Q",
                title="P(clears break-even)",
                scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format="%"),
            ),
            y=y,
            tooltip=[
                alt.Tooltip("product:N"),
                alt.Tooltip("p_clears_break_even:Q", format=".1%", title="P(clears)"),
                alt.Tooltip("draws:Q", format=","),
            ],
        )
    )
    text = (
        alt.Chart()
        .mark_text(align="left", dx=4, fontSize=11, color=NEUTRAL)
        .encode(x=alt.X("p_clears_break_even:Q"), y=y, text=alt.Text("label:N"))
    )
    data = inline_values(clears)
    chart_clears = alt.LayerChart(
        layer=[bars, text],
        data=data,
        width=WIDTH,
        title=alt.TitleParams(
            "P(clears break-even) at today's token prices: unit TC-PMF and payback within the horizon",
            subtitle="share of each product's draws",
        ),
    )
    charts: list[Any] = [chart_clears]
    for outcome in MONTH_OUTCOMES.values():
        rows = rep.months[rep.months["outcome"] == outcome].drop(columns="outcome")
        charts.append(
            alt.Chart(inline_values(rows))
            .transform_flatten(["month", "share"])
            .mark_line(interpolate="step-after", strokeWidth=2)
            .encode(
                x=alt.X("month:Q", title="months since the product's start month"),
                y=alt.Y(
                    "share:Q",
                    title=f"share of draws with {outcome} by then",
                    scale=alt.Scale(domain=[0, 1]),
                    axis=alt.Axis(format="%"),
                ),
                color=color,
                strokeDash=_dash(names),
                tooltip=[
                    alt.Tooltip("product:N"),
                    alt.Tooltip("month:Q"),
                    alt.Tooltip("share:Q", format=".1%"),
                ],
            )
            .properties(
                width=WIDTH,
                height=HEIGHT,
                title=alt.TitleParams(
                    f"{outcome.capitalize() if outcome == 'payback' else outcome} month: when the draws get there",
                    subtitle="a curve that stops short of 100% leaves the rest beyond the horizon",
                ),
            )
        )
    charts.append(
        alt.Chart(inline_values(rep.funding))
        .transform_flatten(["percentile", "usd"])
        .mark_line(strokeWidth=2)
        .encode(
            x=alt.X("usd:Q", title="peak funding need, USD", axis=alt.Axis(format="$~s")),
            y=alt.Y("percentile:Q", title="percentile of draws", scale=alt.Scale(domain=[0, 100])),
            color=color,
            strokeDash=_dash(names),
            tooltip=[
                alt.Tooltip("product:N"),
                alt.Tooltip("percentile:Q", title="P"),
                alt.Tooltip("usd:Q", format="$,.0f"),
            ],
        )
        .properties(
            width=WIDTH,
            height=HEIGHT,
            title=alt.TitleParams(
                "Peak funding: the deepest cumulative cash hole",
                subtitle="P1–P99 of each product's draws",
            ),
        )
    )
    return alt.vconcat(
        *charts, title=alt.TitleParams(rep.title(), fontSize=15, anchor="start"), spacing=28
    ).resolve_scale(color="independent", strokeDash="independent")  # a legend under each chart


def _fmt(column: str, value: Any) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "beyond horizon" if "month" in column else "—"
    if column == "draws":
        return f"{int(value):,}"
    if column == "p_clears_break_even":
        return html.escape(value) if isinstance(value, str) else f"{float(value):.1%}"
    if column.startswith("peak_funding"):
        return f"${float(value):,.0f}"
    if isinstance(value, float) and value.is_integer():
        return f"{int(value)}"
    return html.escape(str(value))


HEADERS = {
    "product": "product",
    "draws": "draws",
    "p_clears_break_even": "P(clears)",
    "payback_month_p10": "payback P10",
    "payback_month_p50": "payback P50",
    "payback_month_p90": "payback P90",
    "peak_funding_usd_p10": "peak funding P10",
    "peak_funding_usd_p50": "peak funding P50",
    "peak_funding_usd_p90": "peak funding P90",
    "tcpmf_month_p10": "TC-PMF P10",
    "tcpmf_month_p50": "TC-PMF P50",
    "tcpmf_month_p90": "TC-PMF P90",
}

STYLE = f"""<style>{PAGE_CSS}
  .partial {{ background: #fff3e0; border: 2px solid #e65100; padding: .6em 1em; font-weight: 600; }}
  .meta {{ color: #546e7a; font-size: 12px; }}
  td.small {{ font-size: 11px; max-width: 28em; }}
  table.corr td, table.corr th {{ font-size: 11px; }}
</style>"""


def _header(rep: RunReport) -> str:
    m = rep.status.manifest
    parts = [STYLE, f"<h1>{html.escape(rep.title())}</h1>"]
    if rep.partial:
        parts.append(
            f'<p class="partial">Partial results: {html.escape(rep.status.describe())}. '
            "Products and draws still missing are not counted; resume the run for the full numbers:<br>"
            f"<code>{html.escape(rep.status.resume_command(rep.out))}</code></p>"
        )
    head = "".join(f"<th>{html.escape(HEADERS.get(c, c))}</th>" for c in rep.table.columns)
    shown = rep.table.astype(object)
    shown["p_clears_break_even"] = [
        probability_text(float(p), int(n))  # "2 in 100,000", not 0.0%
        for p, n in zip(rep.table["p_clears_break_even"], rep.table["draws"])
    ]
    body = "".join(
        "<tr>"
        + "".join(
            f"<td{'' if c == 'product' else ' class=n'}>{_fmt(c, v)}</td>"
            for c, v in zip(rep.table.columns, row)
        )
        + "</tr>"
        for row in shown.itertuples(index=False)
    )
    parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    parts.append(
        '<p class="meta">Months count from each product\'s start month; a percentile that falls among draws '
        "that never get there within the horizon reads “beyond horizon”. "
        f"Sampling {html.escape(str(m['sampling']))}, chunk size {m['chunk_size']:,}, tcpmf {html.escape(str(m['tcpmf_version']))}, "
        f"spec hash {html.escape(str(m['spec_hash'])[:16])}.</p>"
    )
    return "\n".join(parts)


class _ScriptSafeJSON(json.JSONEncoder):
    """JSON that cannot end the ``<script>`` it is written into: ``<``, ``>`` and ``&`` inside
    strings (a product named ``a</script>...``) as ``\\u`` escapes, which read back the same."""

    def encode(self, o: Any) -> str:
        return (
            super()
            .encode(o)
            .replace("<", "\\u003c")
            .replace(">", "\\u003e")
            .replace("&", "\\u0026")
        )


def report_html(rep: RunReport, sensitivity: RunSensitivity | None = None) -> str:
    """A standalone page: the title, the table and the charts, with the Vega scripts inlined (from
    ``vl-convert-python``), so that it opens offline and keeps working when a CDN moves on; then the
    inputs, and the *sensitivity* results if given (:mod:`tcpmf.outputs.report_sensitivity`)."""
    page = report_chart(rep).to_html(inline=True, json_kwds={"cls": _ScriptSafeJSON})
    # The inlined scripts contain the strings "<head>" and "<body>" too: the page's own tags are
    # the last ones (the chart data after them cannot hold a "<", see _ScriptSafeJSON).
    head, body = page.rfind("</head>"), page.rfind("<body>")
    if not 0 <= head < body:  # pragma: no cover - altair's page template always has both
        raise RuntimeError("unexpected HTML from altair: no </head> before <body>")
    body += len("<body>")
    title = f"  <title>{html.escape(rep.title())}</title>\n"
    end = page.rfind("</body>")
    if end < body:  # pragma: no cover - altair's page template always has it
        raise RuntimeError("unexpected HTML from altair: no </body> after <body>")
    return (
        page[:head]
        + title
        + page[head:body]
        + "\n"
        + _header(rep)
        + page[body:end]
        + inputs_section(rep.out)
        + "\n"
        + (sensitivity_section(sensitivity) + "\n" if sensitivity else "")
        + page[end:]
    )


def write_report(
    out: str | Path, *, partial: bool = False, sensitivity: bool = False, **sensitivity_options: Any
) -> tuple[RunReport, Path]:
    """Collect the run in *out* and write ``out/report.html``; returns the report and the page's path.

    With *sensitivity*, the page also holds :func:`tcpmf.uncertainty.run_sensitivity.run_sensitivity`'s
    results (*sensitivity_options* go to it: ``max_draws``, ``sobol_samples``, ``evaluate``)."""
    rep = collect(out, partial=partial)
    sens = run_sensitivity(out, partial=partial, **sensitivity_options) if sensitivity else None
    return rep, write_report_html(rep, out, sens)


def write_report_html(
    rep: RunReport, out: str | Path, sensitivity: RunSensitivity | None = None
) -> Path:
    """Write *rep* as ``out/report.html``; returns its path (:class:`TcpmfError` naming it if it cannot)."""
    path = Path(out) / REPORT
    try:
        write_atomic(path, report_html(rep, sensitivity).encode("utf-8"))
    except OSError as exc:
        raise TcpmfError(f"cannot write {display_path(path)} ({exc.strerror})") from None
    return path
