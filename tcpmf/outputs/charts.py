"""Charts of a product's economics: plain Altair (Vega-Lite) charts, no widgets.

Each function takes results (or a scenario) and returns an ``altair`` chart whose data are
inlined, so a chart renders with no server and no network.  :mod:`tcpmf.app.widgets` puts them behind
sliders; notebooks and scripts can display or ``.save()`` them directly.

- :func:`cash_curve` — the J-curve of cumulative cash, break-even and payback marked;
- :func:`cohort_users` — active users by joining cohort (stacked area);
- :func:`unit_waterfall` — ARPU → inference → other variable cost → contribution, per MAU;
- :func:`breakeven_frontier` — contribution over two levers, with the zero-contribution line;
- :func:`tcpmf_timeline` — one row per consumer category, the month it reaches TC-PMF;
- :func:`model_comparison` — one product on several models.

Charts of uncertainty results live in :mod:`tcpmf.outputs.uncertainty_charts` and are re-exported here
(imported on first use): :func:`outcome_distribution`, :func:`tornado_chart`,
:func:`sobol_chart`, :func:`discovery_chart`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import altair as alt
import numpy as np
import pandas as pd

from tcpmf.analysis.levers import LEVERS, apply_lever, lever_value, repeat
from tcpmf.catalog.prices import model_price
from tcpmf.formulas.retention import cohort_users as cohort_matrix
from tcpmf.model.arrays import ScenarioArrays, from_scenarios
from tcpmf.model.engine import Result, evaluate, evaluate_arrays
from tcpmf.schema.scenario import ModelChoice, Scenario

if TYPE_CHECKING:  # pragma: no cover
    from tcpmf.outputs.uncertainty_charts import (
        discovery_chart,
        outcome_distribution,
        sobol_chart,
        tornado_chart,
    )

__all__ = [
    "breakeven_frontier",
    "cash_curve",
    "cohort_users",
    "discovery_chart",
    "model_comparison",
    "model_variants",
    "on_model",
    "outcome_distribution",
    "sobol_chart",
    "tcpmf_timeline",
    "tornado_chart",
    "unit_waterfall",
]

# charts of uncertainty results, imported on first use (tcpmf.outputs.uncertainty_charts imports this module)
_UNCERTAINTY = ("discovery_chart", "outcome_distribution", "sobol_chart", "tornado_chart")


def __getattr__(name: str) -> Any:
    if name in _UNCERTAINTY:
        from tcpmf.outputs import uncertainty_charts

        return getattr(uncertainty_charts, name)
    raise AttributeError(f"module 'tcpmf.outputs.charts' has no attribute {name!r}")


WIDTH = 420
HEIGHT = 220
POSITIVE, NEGATIVE, NEUTRAL = "#2e7d32", "#c62828", "#546e7a"


Data = dict[str, list[dict[str, Any]]]


def inline_values(frame: pd.DataFrame | dict[str, Any]) -> Data:
    """Inline chart data as plain JSON records.

    Altair serializes plain records far faster than a DataFrame (no per-column sanitizing),
    which keeps a slider's redraw well under the 50 ms budget.
    """
    columns = {k: frame[k] for k in frame.columns} if isinstance(frame, pd.DataFrame) else frame
    lists = {str(k): (v.tolist() if hasattr(v, "tolist") else list(v)) for k, v in columns.items()}
    return {"values": [dict(zip(lists, row)) for row in zip(*lists.values())]}


def layer_charts(*parts: tuple[Any, Data | None], **properties: Any) -> alt.LayerChart:
    """Layer charts built without data, attaching each layer's data afterwards: ``alt.layer``
    deep-copies its layers, data included, and that copy would dominate the cost."""
    chart = alt.LayerChart(layer=[part for part, _ in parts], **properties)
    for layer, (_, data) in zip(chart.layer, parts):
        if data is not None:
            layer.data = data
    return chart


def _row(result: Result, scenario: int) -> int:
    if not 0 <= scenario < result.arrays.size:
        raise IndexError(f"scenario {scenario} is not in this result of {result.arrays.size}")
    return scenario


def cash_curve(
    result: Result, width: int = WIDTH, height: int = HEIGHT, title: str | None = None
) -> alt.LayerChart:
    """Cumulative cash by month (the J-curve) of every scenario in *result*.

    ``cash(t) = Σ_{s≤t} net(s)``; a dashed rule marks each scenario's operating break-even month
    (first ``net ≥ 0``), a solid one its payback month (first ``cash ≥ 0``) and a dotted one the
    month an incumbent enters (a ``competition`` section, docs/model.md §6.2).

    Examples
    --------
    >>> chart = cash_curve(tcpmf.evaluate("assumptions/products/writing_assistant.yaml"))
    """
    a, c = result.arrays, result.computed
    keep = c.in_horizon
    months, rows = np.nonzero(keep)
    names = np.asarray(a.names, dtype=object)
    data = inline_values(
        {
            "scenario": names[rows],
            "month": months,
            "cash_usd": c.monthly["cash_usd"][keep],
            "net_usd": c.monthly["net_usd"][keep],
        }
    )
    marks = []
    # each event's label on its own line (pixels from the top), so close months never overprint
    for (label, key), label_px in zip(
        (("break-even", "breakeven_month"), ("payback", "payback_month")), (10, 24)
    ):
        month, found = c.summary[key]
        for row in np.flatnonzero(found if found is not None else np.ones(a.size, bool)):
            marks.append(
                {
                    "scenario": names[row],
                    "month": int(month[row]),
                    "event": label,
                    "text": f"{label} m{int(month[row])}",
                    "label_px": label_px,
                }
            )
    domain, dashes = ["break-even", "payback"], [[4, 3], [1, 0]]
    if "entry_month" in c.summary:  # an incumbent enters (docs/model.md §6.2)
        month, found = c.summary["entry_month"]
        entered = np.asarray(found, bool) & (np.asarray(month, float) < a.horizon_months)
        for row in np.flatnonzero(entered):
            marks.append(
                {
                    "scenario": names[row],
                    "month": int(month[row]),
                    "event": "incumbent enters",
                    "text": f"incumbent enters m{int(month[row])}",
                    "label_px": 38,
                }
            )
        if entered.any():
            domain, dashes = [*domain, "incumbent enters"], [*dashes, [1, 3]]
    several = a.size > 1
    color = alt.Color("scenario:N", legend=alt.Legend(orient="bottom", title=None))
    line = (
        alt.Chart()
        .mark_line(strokeWidth=2.5, color="#1565c0")
        .encode(
            x=alt.X("month:Q", title="month"),
            y=alt.Y("cash_usd:Q", title="cumulative cash, USD", axis=alt.Axis(format="~s")),
            tooltip=[
                alt.Tooltip("scenario:N"),
                alt.Tooltip("month:Q"),
                alt.Tooltip("cash_usd:Q", format=",.0f"),
                alt.Tooltip("net_usd:Q", format=",.0f"),
            ],
        )
    )
    if several:
        line = line.encode(color=color)
    zero = alt.Chart().mark_rule(color="#9e9e9e").encode(y=alt.Y("y:Q"))
    parts: list[tuple[Any, Data | None]] = [(zero, {"values": [{"y": 0.0}]}), (line, data)]
    if marks:
        events = {"values": marks}
        dash = alt.StrokeDash(
            "event:N",
            scale=alt.Scale(domain=domain, range=dashes),
            legend=alt.Legend(orient="bottom", title=None) if several else None,
        )
        rule = (
            alt.Chart()
            .mark_rule(color=NEUTRAL, strokeWidth=1.5)
            .encode(
                x=alt.X("month:Q"),
                strokeDash=dash,
                tooltip=[alt.Tooltip("scenario:N"), alt.Tooltip("event:N"), alt.Tooltip("month:Q")],
            )
        )
        parts.append((rule.encode(color=color) if several else rule, events))
        if not several:  # labels would collide for several scenarios; their tooltips say it
            parts.append(
                (
                    alt.Chart()
                    .mark_text(align="left", dx=3, dy=-4, fontSize=11, color=NEUTRAL)
                    .encode(
                        x=alt.X("month:Q"),
                        y=alt.Y("label_px:Q", scale=None),
                        text=alt.Text("text:N"),
                    ),
                    events,
                )
            )
    if title is None:
        title = "Cash J-curve" if several else f"Cash J-curve — {a.names[0]}"
    return layer_charts(*parts, width=width, height=height, title=title)


def cohort_users(
    result: Result,
    scenario: int = 0,
    months_per_cohort: int = 3,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> alt.Chart:
    """Active users of one scenario by joining cohort, stacked: ``U(t) = Σ_s A(s)·r(t − s)``.

    Cohorts of *months_per_cohort* consecutive joining months are drawn as one band.
    """
    row = _row(result, scenario)
    a, c = result.arrays, result.computed
    months = int(a.horizon_months[row])
    per_cohort = cohort_matrix(
        c.monthly["new_users"][:months, row : row + 1], a.retention[:months, row : row + 1]
    )[:, :, 0]
    groups = np.arange(months) // months_per_cohort
    banded = np.zeros((groups.max() + 1, months))
    np.add.at(banded, groups, per_cohort)
    band, month = np.meshgrid(np.arange(banded.shape[0]), np.arange(months), indexing="ij")
    first = band * months_per_cohort
    labels = np.char.add("joined m", first.astype(str))
    chart = (
        alt.Chart(width=width, height=height, title=f"Active users by cohort — {a.names[row]}")
        .mark_area()
        .encode(
            x=alt.X("month:Q", title="month"),
            y=alt.Y(
                "active_users:Q", stack="zero", title="active users", axis=alt.Axis(format="~s")
            ),
            color=alt.Color(
                "cohort:N",
                sort=alt.SortField("order"),
                scale=alt.Scale(scheme="viridis"),
                legend=alt.Legend(title="cohort", columns=2, symbolLimit=12),
            ),
            order=alt.Order("order:Q"),
            tooltip=[
                alt.Tooltip("cohort:N"),
                alt.Tooltip("month:Q"),
                alt.Tooltip("active_users:Q", format=",.0f"),
            ],
        )
    )
    chart.data = inline_values(
        {
            "cohort": labels.ravel(),
            "order": first.ravel(),
            "month": month.ravel(),
            "active_users": banded.ravel(),
        }
    )
    return chart


def _step_label(value: float, signed: bool) -> str:
    """A waterfall bar's label: the value (ARPU, contribution) or a cost with a minus sign; a
    value that rounds to zero reads "0", never "−0"."""
    text = f"{abs(value):,.3g}"
    if float(text.replace(",", "")) == 0.0:
        return "0"
    return f"{value:,.3g}".replace("-", "−") if signed else f"−{text}"


def unit_waterfall(
    result: Result, scenario: int = 0, width: int = WIDTH, height: int = HEIGHT
) -> alt.LayerChart:
    """Month-0 economics of one MAU as a waterfall: ARPU − inference − other variable = contribution."""
    row = _row(result, scenario)
    a, m = result.arrays, result.computed.monthly
    arpu = float(m["arpu_usd"][0, row])
    inference = float(m["inference_cost_usd_per_mau"][0, row])
    other = float(a.other_variable_usd_per_mau[row])
    contribution = float(m["contribution_usd_per_mau"][0, row])
    steps = [
        ("ARPU", 0.0, arpu, arpu, "revenue"),
        ("inference", arpu, arpu - inference, -inference, "cost"),
        ("other variable", arpu - inference, contribution, -other, "cost"),
        (
            "contribution",
            0.0,
            contribution,
            contribution,
            "profit" if contribution >= 0 else "loss",
        ),
    ]
    records = [
        {
            "step": step,
            "start": start,
            "end": end,
            "usd_per_mau": value,
            "kind": kind,
            "order": i,
            "top": max(start, end),
            "label": _step_label(value, signed=i in (0, 3)),
        }
        for i, (step, start, end, value, kind) in enumerate(steps)
    ]
    data = {"values": records}
    x = alt.X("step:N", sort=alt.SortField("order"), title=None, axis=alt.Axis(labelAngle=0))
    bars = (
        alt.Chart()
        .mark_bar(size=48)
        .encode(
            x=x,
            y=alt.Y("start:Q", title="USD per MAU per month"),
            y2=alt.Y2("end:Q"),
            color=alt.Color(
                "kind:N",
                legend=None,
                scale=alt.Scale(
                    domain=["revenue", "cost", "profit", "loss"],
                    range=["#1565c0", "#ef6c00", POSITIVE, NEGATIVE],
                ),
            ),
            tooltip=[alt.Tooltip("step:N"), alt.Tooltip("usd_per_mau:Q", format=",.4f")],
        )
    )
    text = (
        alt.Chart()
        .mark_text(dy=-6, fontSize=11)
        .encode(x=x, y=alt.Y("top:Q"), text=alt.Text("label:N"))
    )
    zero = alt.Chart().mark_rule(color="#9e9e9e").encode(y=alt.Y("y:Q"))
    return layer_charts(
        (zero, {"values": [{"y": 0.0}]}),
        (bars, data),
        (text, data),
        width=width,
        height=height,
        title=f"Unit economics per MAU, month 0 — {a.names[row]}",
    )


def _axis_values(scenario: Scenario, lever: str, current: float, points: int) -> np.ndarray:
    high = (
        max(3.0 * current, 1e-3)
        if current > 0
        else {"paid_share": 0.2, "retention_r1": 1.0}.get(lever, 1.0)
    )
    if lever in ("paid_share", "retention_r1"):
        high = min(high, 1.0)
    return np.linspace(0.0, high, points)


def breakeven_frontier(
    scenario: Scenario,
    x: str = "usd_per_mtok",
    y: str = "paid_share",
    x_values: Sequence[float] | None = None,
    y_values: Sequence[float] | None = None,
    points: int = 41,
    width: int = WIDTH,
    height: int = HEIGHT,
    arrays: ScenarioArrays | None = None,
) -> alt.LayerChart:
    """Month-0 contribution per MAU over a grid of two levers, with the zero-contribution line.

    The whole grid is one vectorized engine call on ``len(x_values) · len(y_values)`` columns.
    *x* and *y* are lever names from :data:`tcpmf.analysis.levers.LEVERS` (default: token price × paid
    share); their values default to ``0 … 3 ×`` the scenario's own.  The line joins, row by row,
    the *x* at which contribution crosses zero (linear interpolation between grid columns).
    *arrays*: the scenario's columns with column-level levers already moved (as the app's token
    price slider does); default ``from_scenarios([scenario])``.
    """
    for lever in (x, y):
        if lever not in LEVERS:
            raise KeyError(f"unknown lever {lever!r}; choose from {', '.join(LEVERS)}")
    base = from_scenarios([scenario]) if arrays is None else arrays
    x0, y0 = lever_value(base, scenario, x), lever_value(base, scenario, y)
    xs = np.asarray(
        x_values if x_values is not None else _axis_values(scenario, x, x0, points), float
    )
    ys = np.asarray(
        y_values if y_values is not None else _axis_values(scenario, y, y0, points), float
    )
    grid_x, grid_y = np.meshgrid(xs, ys)  # rows follow y
    batch = apply_lever(repeat(base, grid_x.size), scenario, x, grid_x.ravel())
    batch = apply_lever(batch, scenario, y, grid_y.ravel())
    contribution = (
        evaluate_arrays(batch).monthly["contribution_usd_per_mau"][0].reshape(grid_x.shape)
    )
    data = pd.DataFrame(
        {"x": grid_x.ravel(), "y": grid_y.ravel(), "contribution": contribution.ravel()}
    )
    line = []
    for i, yv in enumerate(ys):  # the first crossing of each row: contribution changes sign
        row = contribution[i]
        crossings = np.flatnonzero((row[1:] >= 0) != (row[:-1] >= 0))
        if crossings.size:
            j = int(crossings[0])
            x_cross = xs[j] + (xs[j + 1] - xs[j]) * row[j] / (row[j] - row[j + 1])
            line.append({"x": float(x_cross), "y": float(yv)})
    lx, ly = LEVERS[x], LEVERS[y]
    limit = float(np.abs(contribution).max()) or 1.0
    dx, dy = (xs[1] - xs[0] if xs.size > 1 else 1.0), (ys[1] - ys[0] if ys.size > 1 else 1.0)
    data["x2"], data["y2"] = data["x"] + dx, data["y"] + dy
    heat = (
        alt.Chart(data)
        .mark_rect()
        .encode(
            x=alt.X(
                "x:Q",
                title=f"{lx.label} ({lx.unit})",
                scale=alt.Scale(domain=[xs[0], xs[-1] + dx], nice=False),
            ),
            x2=alt.X2("x2:Q"),
            y=alt.Y(
                "y:Q",
                title=f"{ly.label} ({ly.unit})",
                scale=alt.Scale(domain=[ys[0], ys[-1] + dy], nice=False),
            ),
            y2=alt.Y2("y2:Q"),
            color=alt.Color(
                "contribution:Q",
                title="contribution $/MAU",
                scale=alt.Scale(scheme="redblue", domain=[-limit, limit], domainMid=0),
            ),
            tooltip=[
                alt.Tooltip("x:Q", title=lx.label, format=",.4g"),
                alt.Tooltip("y:Q", title=ly.label, format=",.4g"),
                alt.Tooltip("contribution:Q", format=",.4f"),
            ],
        )
    )
    layers: list[Any] = [heat]
    if line:
        frame = pd.DataFrame(line)
        frame[["x", "y"]] += [dx / 2, dy / 2]
        layers.append(
            alt.Chart(frame)
            .mark_line(color="black", strokeWidth=2)
            .encode(x=alt.X("x:Q"), y=alt.Y("y:Q"), order=alt.Order("y:Q"))
        )
    here = pd.DataFrame({"x": [x0 + dx / 2], "y": [y0 + dy / 2], "label": ["this product"]})
    layers.append(
        alt.Chart(here)
        .mark_point(shape="diamond", size=120, filled=True, color="black")
        .encode(x=alt.X("x:Q"), y=alt.Y("y:Q"))
    )
    layers.append(
        alt.Chart(here)
        .mark_text(align="left", dx=8, fontSize=11)
        .encode(x=alt.X("x:Q"), y=alt.Y("y:Q"), text=alt.Text("label:N"))
    )
    return alt.LayerChart(
        layer=layers,
        width=width,
        height=height,
        title=f"Break-even frontier (black: zero contribution) — {scenario.name}",
    )


def tcpmf_timeline(
    frame: pd.DataFrame, horizon_months: int = 120, width: int = WIDTH, height: int = HEIGHT
) -> alt.LayerChart:
    """One row per category: the wait from its start month to the month it reaches TC-PMF.

    *frame* is :func:`tcpmf.timeline`'s table; a category that does not get there within
    *horizon_months* shows an open bar to the horizon.
    """
    data = frame[["category", "predicted_stage", "start_month", "tcpmf_month"]].copy()
    start = pd.PeriodIndex(data["start_month"], freq="M")
    reached = data["tcpmf_month"].notna().to_numpy()
    wait = data["tcpmf_month"].fillna(horizon_months).astype(int).to_numpy()
    data["start"] = start.to_timestamp()
    data["end"] = (start + wait).to_timestamp()
    data["status"] = np.where(reached, "reaches TC-PMF", f"not within {horizon_months} months")
    data["label"] = np.where(reached, (start + wait).strftime("%Y-%m"), "—")
    data["tcpmf_month"] = data["tcpmf_month"].astype(object).where(reached, None)
    data = data.drop(columns=["start_month"])
    y = alt.Y(
        "category:N",
        sort=alt.SortField("predicted_stage"),
        title="category (predicted stage order)",
    )
    bars = (
        alt.Chart(data)
        .mark_bar(size=14)
        .encode(
            x=alt.X("start:T", title="calendar month"),
            x2=alt.X2("end:T"),
            y=y,
            color=alt.Color(
                "status:N",
                scale=alt.Scale(
                    domain=["reaches TC-PMF", f"not within {horizon_months} months"],
                    range=[POSITIVE, "#bdbdbd"],
                ),
                legend=alt.Legend(orient="bottom", title=None),
            ),
            tooltip=[
                alt.Tooltip("category:N"),
                alt.Tooltip("predicted_stage:Q"),
                alt.Tooltip("end:T", title="TC-PMF", format="%Y-%m"),
                alt.Tooltip("tcpmf_month:Q"),
            ],
        )
    )
    dots = (
        alt.Chart(data)
        .mark_point(filled=True, size=60, color="black")
        .encode(x=alt.X("end:T"), y=y, shape=alt.ShapeValue("diamond"))
    )
    text = (
        alt.Chart(data)
        .mark_text(align="left", dx=7, fontSize=11)
        .encode(x=alt.X("end:T"), y=y, text=alt.Text("label:N"))
    )
    return alt.LayerChart(
        layer=[bars, dots, text],
        width=width,
        height=height,
        title="TC-PMF timeline of the consumer categories",
    )


def model_variants(scenario: Scenario, models: Sequence[str | ModelChoice]) -> list[Scenario]:
    """*scenario* on each of *models*: a catalog name (API route, list price in force at its
    start month) or a whole :class:`~tcpmf.schema.scenario.ModelChoice` (e.g. a self-hosted model).

    A cached-input share is kept only where the catalog prices cached input for the model.
    """
    out = []
    for model in models:
        label = (
            model
            if isinstance(model, str)
            else model.name
            if model.route == "api"
            else f"{model.name} (self-hosted)"
        )
        out.append(on_model(scenario, model, name=label))
    return out


def on_model(scenario: Scenario, model: str | ModelChoice, name: str | None = None) -> Scenario:
    """*scenario* served by another model: a catalog name (API route) or a whole ModelChoice.

    All of the product's calls go to that model: a mix of routes (``model.routes``), explicit
    token prices and a self-host section are dropped.
    """
    if isinstance(model, ModelChoice):
        values: dict[str, Any] = {"model": model.model_dump(exclude_none=True)}
    else:
        cached = model_price(model, scenario.start_month).usd_per_mtok_cached_in is not None
        keeps_cache = cached or scenario.model.cached_input_price_factor is not None
        values = {
            "model.route": "api",
            "model.name": model,
            "model.routes": None,
            "model.self_host": None,
            "model.usd_per_mtok_in": None,
            "model.usd_per_mtok_out": None,
            "model.capability": None,
        }
        if not keeps_cache:
            values["model.cached_input_share"] = 0.0
    if name is not None:
        values["name"] = name
    return scenario.override(values)


def model_comparison(
    scenario: Scenario | Sequence[Scenario],
    models: Sequence[str | ModelChoice] = (),
    width: int = WIDTH,
    height: int = HEIGHT,
) -> alt.HConcatChart:
    """One product on several models: month-0 contribution per MAU (bars, labelled with the month
    each reaches TC-PMF) beside the cash curves.

    Pass a scenario and *models* (see :func:`model_variants`), or the variants themselves.
    """
    variants = (
        model_variants(scenario, models) if isinstance(scenario, Scenario) else list(scenario)
    )
    result = evaluate(variants)
    summary = result.summary
    data = pd.DataFrame(
        {
            "model": summary["scenario"].astype(str),
            "contribution": summary["contribution_usd_per_mau_m0"].astype(float),
            "inference": summary["inference_cost_usd_per_mau_m0"].astype(float),
            "tcpmf": summary["tcpmf_calendar_month"].fillna("never").astype(str),
        }
    )
    data["sign"] = np.where(data["contribution"] >= 0, "positive", "negative")
    data["label"] = "TC-PMF " + data["tcpmf"]
    y = alt.Y("model:N", sort=None, title=None)
    bars = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("contribution:Q", title="contribution per MAU, month 0, USD"),
            y=y,
            color=alt.Color(
                "sign:N",
                legend=None,
                scale=alt.Scale(domain=["positive", "negative"], range=[POSITIVE, NEGATIVE]),
            ),
            tooltip=[
                alt.Tooltip("model:N"),
                alt.Tooltip("contribution:Q", format=",.4f"),
                alt.Tooltip("inference:Q", format=",.4f"),
                alt.Tooltip("tcpmf:N"),
            ],
        )
    )
    text = (
        alt.Chart(data)
        .mark_text(align="left", dx=4, fontSize=11)
        .encode(x=alt.XValue(4), y=y, text=alt.Text("label:N"))
    )
    left = alt.LayerChart(
        layer=[bars, text],
        width=int(width * 0.8),
        height=height,
        title="Unit contribution by model",
    )
    right = cash_curve(result, width=width, height=height, title="Cash by model")
    return alt.hconcat(left, right).resolve_scale(color="independent", strokeDash="independent")
