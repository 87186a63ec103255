r"""Charts of uncertainty results: plain Altair (Vega-Lite) charts, data inlined, no widgets.

Each function takes a table that :mod:`tcpmf` already computes and returns an ``altair`` chart
(re-exported from :mod:`tcpmf.outputs.charts`):

- :func:`outcome_distribution` — per product, the empirical CDF of an outcome over Monte Carlo
  draws (:func:`tcpmf.monte_carlo`), reduced first to at most ``points + 1`` rows per product by
  :func:`outcome_ecdf`, so a run of 10⁶ draws inlines a few hundred numbers, not 10⁶;
- :func:`tornado_chart` — :func:`tcpmf.tornado`'s table: the outcome at each input's low and high
  value, as bars around the nominal scenario's, largest swing on top, one block per product;
- :func:`sobol_chart` — :func:`tcpmf.sobol`'s table: first-order and total indices with their
  bootstrap confidence intervals, one block per product;
- :func:`discovery_chart` — :func:`tcpmf.discover`'s result: the peeling trajectory (coverage
  against density, the chosen box marked) beside the chosen box's limits on each input.

Missing values are never drawn as numbers.  In a month outcome (``payback_month``, ...) ``<NA>``
means *not within the horizon*: the CDF stops short of 100 % and the legend gives the share that
never got there.  An undefined value (``ltv_to_cac`` without CAC, a Sobol index of a constant
outcome, a tornado end whose outcome is undefined) is left out and said so in a label; inlined
data hold ``null``, never ``NaN``.

Examples
--------
>>> draws = tcpmf.monte_carlo("assumptions/portfolios/consumer_stages.yaml", n=1_000, seed=1)
>>> chart = outcome_distribution(draws, "payback_month")
>>> bars = tornado_chart(tcpmf.tornado(tcpmf.load_portfolio("assumptions/portfolios/consumer_stages.yaml").products[0]))
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import altair as alt
import numpy as np
import pandas as pd

from tcpmf.core.errors import AssumptionError, TcpmfError
from tcpmf.outputs.charts import HEIGHT, NEUTRAL, POSITIVE, WIDTH, Data, layer_charts
from tcpmf.uncertainty.discovery import Discovery
from tcpmf.uncertainty.sensitivity import MONTH_OUTCOMES

__all__ = [
    "discovery_chart",
    "outcome_distribution",
    "outcome_ecdf",
    "sobol_chart",
    "tornado_chart",
]

LOW, HIGH = "#ef6c00", "#1565c0"  # the input at its low / high value (tornado); S1 / ST (Sobol)
LIGHT = "#e0e0e0"
ROW_HEIGHT_PX = 22  # one key of a tornado or Sobol block
ECDF_COLUMNS = ("product", "label", "value", "share_of_draws")


# --- helpers ---------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A JSON-safe scalar: ``<NA>``, ``NaN`` and ``±inf`` become ``None``, numpy scalars Python ones."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(float(value)) else None
    return value if isinstance(value, str) else str(value)


def _records(rows: Sequence[dict[str, Any]]) -> Data:
    return {"values": [{k: _plain(v) for k, v in row.items()} for row in rows]}


def _number(value: Any) -> float | None:
    """A finite float, or None for ``<NA>``/``NaN``/``inf``/``None``."""
    plain = _plain(value)
    return float(plain) if isinstance(plain, (int, float)) and not isinstance(plain, bool) else None


def _share(p: float) -> str:
    """A share for a label; a share that rounds to 0 % or 100 % but is not exactly says so."""
    if 0 < p < 0.005:
        return "<1%"
    if 0.995 <= p < 1:
        return ">99%"
    return f"{p:.0%}"


def _outcome_title(outcome: str) -> str:
    """``peak_funding_usd`` → ``peak funding, USD``; ``payback_month`` → ``payback month (months from the start month)``."""
    if outcome in MONTH_OUTCOMES:
        return f"{outcome.replace('_', ' ')} (months from the start month)"
    text, unit = outcome, ""
    for suffix, name in (
        ("_usd_per_mau", "USD per MAU"),
        ("_usd_per_mtok", "USD per 1M tokens"),
        ("_usd", "USD"),
    ):
        if text.endswith(suffix) or f"{suffix}_m0" in text:
            text, unit = text.replace(suffix, ""), name
            break
    text = text.replace("_m0", ", month 0").replace("_", " ")
    return f"{text}, {unit}" if unit else text


def _format(outcome: str) -> str:
    return "$~s" if "usd" in outcome else "~g"


def _require(frame: Any, columns: Sequence[str], what: str, verb: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{what} takes a pandas DataFrame from {verb}, not {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise AssumptionError(
            "<argument>",
            what,
            f"a table from {verb} with the columns {', '.join(columns)}",
            f"missing {', '.join(missing)}",
        )
    return frame


def _products(column: pd.Series) -> list[str]:
    """The products in their order: a categorical's categories that occur, else first appearance."""
    present = [str(p) for p in pd.unique(column.dropna())]
    if isinstance(column.dtype, pd.CategoricalDtype):
        seen = set(present)
        return [str(c) for c in column.cat.categories if str(c) in seen]
    return present


def _by_product(frame: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    names = frame["product"].astype("string")
    return [
        (p, frame[(names == p).to_numpy(dtype=bool, na_value=False)])
        for p in _products(frame["product"])
    ]


def _label_value(value: Any, usd: bool = False) -> str:
    """A value for a label: ``0.0176``, ``4,643``; in USD three significant digits (``$2.96M``)."""
    plain = _plain(value)
    if plain is None:
        return "—"
    if isinstance(plain, bool) or not isinstance(plain, (int, float)):
        return str(plain)
    number = float(plain)
    if usd:
        for scale, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
            if abs(number) >= scale:
                return f"{'-' if number < 0 else ''}${abs(number) / scale:.3g}{suffix}"
        return f"{'-' if number < 0 else ''}${abs(number):.3g}"
    if abs(number) >= 1000:
        return f"{number:,.0f}"
    return f"{number:.3g}"


# --- outcome distribution --------------------------------------------------------------------


def _ecdf(values: np.ndarray, counted: int, points: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ``points + 1`` points ``(v, F(v))`` of the empirical CDF, ``F(v) = #{x ≤ v} / counted``.

    Exact (every distinct value) when there are few distinct values; otherwise at the quantiles
    ``k / points`` of *values*, ``k = 0 … points`` (the inverted empirical CDF).
    """
    x = np.sort(values)
    distinct = np.unique(x)
    if len(distinct) <= points + 1:
        v = distinct
    else:
        v = np.unique(np.quantile(x, np.linspace(0.0, 1.0, points + 1), method="inverted_cdf"))
    return v, np.searchsorted(x, v, side="right") / counted


def outcome_ecdf(
    draws: pd.DataFrame, outcome: str = "peak_funding_usd", points: int = 200
) -> pd.DataFrame:
    r"""The empirical CDF of an outcome per product, in at most ``points + 1`` rows per product.

    :math:`F(v) = \#\{i : x_i \le v\} / N`, where :math:`N` counts the product's draws whose value
    is known or, for a month outcome, never came within the horizon (``<NA>``, later than any
    month): such a CDF ends below 1 at the share that got there.  Undefined values (``<NA>`` in
    any other outcome, ``NaN``, ``±inf``) are left out of :math:`N` and counted in ``undefined``.

    Parameters
    ----------
    draws
        :func:`tcpmf.monte_carlo`'s table, or any table with the *outcome* column (and optionally
        ``product``).
    outcome
        A numeric column, e.g. ``peak_funding_usd`` or ``payback_month``.
    points
        Quantile levels per product; a product with at most ``points + 1`` distinct values keeps
        every one (months: the exact step function).

    Returns
    -------
    pandas.DataFrame
        One row per product and point: ``product``, ``label`` (the product, with the share never
        reached within the horizon and the undefined draws, if any), ``value``, ``share_of_draws``
        (:math:`F(v)`).  ``attrs["products"]``: per product ``draws``, ``counted``, ``undefined``,
        ``beyond_horizon`` (share of the counted draws) and ``label``.

    Examples
    --------
    >>> bool((outcome_ecdf(draws, "payback_month").groupby("product")["share_of_draws"].max() <= 1).all())
    True
    """
    _require(draws, [outcome], "draws", "tcpmf.monte_carlo")
    if isinstance(points, bool) or not isinstance(points, (int, np.integer)) or points < 1:
        raise AssumptionError(
            "<argument>", "points", "a whole number of quantile levels, at least 1", points
        )
    column = draws[outcome]
    if pd.api.types.is_bool_dtype(column) or not pd.api.types.is_numeric_dtype(column):
        raise AssumptionError(
            "<argument>",
            "outcome",
            "a numeric column (a yes/no outcome such as clears_break_even "
            "is summed up by tcpmf.summarize)",
            outcome,
        )
    frame = draws if "product" in draws.columns else draws.assign(product="all")
    month = outcome in MONTH_OUTCOMES
    rows: list[pd.DataFrame] = []
    info: dict[str, dict[str, Any]] = {}
    for product, group in _by_product(frame):
        values = group[outcome].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        missing = np.isnan(values)
        censored = missing.copy() if month else np.zeros(len(values), bool)
        if (
            outcome == "cac_payback_month" and "ltv_to_cac" in group
        ):  # without CAC nothing to pay back
            censored &= group["ltv_to_cac"].notna().to_numpy(bool)
        known = np.isfinite(values)
        undefined = int((~known & ~censored).sum())
        counted = len(values) - undefined
        beyond = float(censored.sum() / counted) if counted else 0.0
        notes = []
        if month and counted:
            notes.append(f"{_share(beyond)} not within the horizon")
        if undefined:
            notes.append(f"{undefined:,} undefined")
        if not known.any():
            notes.append("no value to draw")
        label = f"{product} ({'; '.join(notes)})" if notes else product
        info[product] = {
            "draws": len(values),
            "counted": counted,
            "undefined": undefined,
            "beyond_horizon": beyond,
            "label": label,
        }
        if known.any():
            v, share = _ecdf(values[known], counted, int(points))
            rows.append(
                pd.DataFrame(
                    {"product": product, "label": label, "value": v, "share_of_draws": share}
                )
            )
    out = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=list(ECDF_COLUMNS))
    out = out.astype(
        {"product": "string", "label": "string", "value": float, "share_of_draws": float}
    )
    out.attrs.update(outcome=outcome, products=info)
    return out


def outcome_distribution(
    draws: pd.DataFrame,
    outcome: str = "peak_funding_usd",
    points: int = 200,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> alt.Chart:
    r"""Per product, the share of draws whose *outcome* is at most each value: an empirical CDF.

    The draws are first reduced by :func:`outcome_ecdf` to at most ``points + 1`` points per
    product, so the chart's data stay a few hundred rows whether the run holds 10³ or 10⁶ draws.
    A month outcome is drawn as a step curve that stops at the share of draws that got there
    within the horizon; the legend gives the rest, "not within the horizon".  Read P10/P50/P90 off
    the curve at 10/50/90 %.

    Parameters
    ----------
    draws
        :func:`tcpmf.monte_carlo`'s table.
    outcome
        A numeric outcome column, default ``peak_funding_usd`` (the deepest cumulative cash hole).
    points
        Quantile levels per product (see :func:`outcome_ecdf`).
    width, height
        Size in pixels.

    Examples
    --------
    >>> chart = outcome_distribution(draws, "payback_month")
    >>> chart.to_dict()["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
    True
    """
    data = outcome_ecdf(draws, outcome, points)
    info = data.attrs["products"]
    labels = [i["label"] for i in info.values()]
    month = outcome in MONTH_OUTCOMES
    step = month or pd.api.types.is_integer_dtype(draws[outcome])
    empty = [
        p for p, i in info.items() if i["counted"] == 0 or i["label"] not in set(data["label"])
    ]
    subtitle = ["share of each product's draws at or below the value; P10/P50/P90 at 10/50/90%"]
    if month:
        subtitle.append("a curve that stops short of 100% leaves the rest beyond the horizon")
    if empty:
        subtitle.append(f"no value to draw for {', '.join(empty)}")
    chart = alt.Chart(
        _records(data.to_dict("records")),
        width=width,
        height=height,
        title=alt.TitleParams(f"Distribution of {outcome} over the draws", subtitle=subtitle),
    )
    return chart.mark_line(strokeWidth=2, interpolate="step-after" if step else "linear").encode(
        x=alt.X("value:Q", title=_outcome_title(outcome), axis=alt.Axis(format=_format(outcome))),
        y=alt.Y(
            "share_of_draws:Q",
            title="share of draws at or below",
            scale=alt.Scale(domain=[0, 1]),
            axis=alt.Axis(format="%"),
        ),
        color=alt.Color(
            "label:N",
            scale=alt.Scale(domain=labels),
            sort=labels,
            legend=alt.Legend(orient="bottom", columns=1, labelLimit=600, title=None),
        ),
        tooltip=[
            alt.Tooltip("product:N"),
            alt.Tooltip("value:Q", title=outcome, format=",.4~g"),
            alt.Tooltip("share_of_draws:Q", title="share at or below", format=".1%"),
        ],
    )


# --- tornado ---------------------------------------------------------------------------------

TORNADO_COLUMNS = ("product", "key", "low", "high", "at_low", "at_high", "at_base", "swing")


def _key_order(block: pd.DataFrame, by: str) -> list[str]:
    """Keys by *by*, largest first, undefined last, ties in table order."""
    size = block[by].astype("Float64").to_numpy(dtype=float, na_value=-np.inf)
    order = np.lexsort((np.arange(len(block)), -size))
    return [str(block["key"].iloc[i]) for i in order]


def _tornado_block(product: str, block: pd.DataFrame, outcome: str, width: int) -> alt.LayerChart:
    base = _number(block["at_base"].iloc[0])
    censored = (
        block["censored"].astype(bool).tolist() if "censored" in block else [False] * len(block)
    )
    names = {str(k): f"{k} *" if c else str(k) for k, c in zip(block["key"], censored)}
    order = [names[k] for k in _key_order(block, "swing")]
    usd = "usd" in outcome
    sides, undefined = [], []
    for row, flagged in zip(block.itertuples(index=False), censored):
        key = names[str(row.key)]
        ends = [
            ("low input", row.low, _number(row.at_low)),
            ("high input", row.high, _number(row.at_high)),
        ]
        for i, (side, value, at) in enumerate(ends):
            if at is None:
                continue
            other = ends[1 - i][2]
            # the smaller end is labelled on its left, the larger on its right (ties: low left)
            left = other is not None and (at < other or (at == other and side == "low input"))
            sides.append(
                {
                    "product": product,
                    "key": key,
                    "side": side,
                    "input": _label_value(value),
                    "start": base,
                    "end": at,
                    "left": left if other is not None else base is not None and at < base,
                    "outcome": _label_value(at, usd),
                    "swing": _number(row.swing),
                    "censored": flagged,
                }
            )
        if all(at is None for *_, at in ends):
            undefined.append(
                {"product": product, "key": key, "text": "outcome undefined at both values"}
            )
    y = alt.Y("key:N", sort=order, title=None, axis=alt.Axis(labelLimit=320))
    color = alt.Color(
        "side:N",
        scale=alt.Scale(domain=["low input", "high input"], range=[LOW, HIGH]),
        legend=alt.Legend(orient="bottom", title=None),
    )
    tooltip = [
        alt.Tooltip("key:N"),
        alt.Tooltip("side:N"),
        alt.Tooltip("input:N", title="input value"),
        alt.Tooltip("outcome:N", title=outcome),
        alt.Tooltip("swing:Q", format=",.4~g"),
    ]
    x = alt.X(
        "end:Q",
        title=_outcome_title(outcome),
        axis=alt.Axis(format=_format(outcome)),
        scale=alt.Scale(zero=False, padding=48),
    )  # room for the end labels
    data = _records(sides)
    parts: list[tuple[Any, Data | None]] = []
    if base is not None:
        parts.append(
            (
                alt.Chart().mark_rule(color=NEUTRAL, strokeWidth=1.5).encode(x=alt.X("x:Q")),
                {"values": [{"x": base}]},
            )
        )
        parts.append(
            (
                alt.Chart()
                .mark_bar(size=14)
                .encode(x=x, x2=alt.X2("start:Q"), y=y, color=color, tooltip=tooltip),
                data,
            )
        )
    else:  # no nominal value to grow the bars from: the ends alone
        parts.append(
            (
                alt.Chart()
                .mark_point(filled=True, size=80)
                .encode(x=x, y=y, color=color, tooltip=tooltip),
                data,
            )
        )
    labels: tuple[tuple[bool, Literal["left", "right"], int], ...] = (
        (True, "right", -3),
        (False, "left", 3),
    )
    for left, align, dx in labels:
        parts.append(
            (
                alt.Chart()
                .transform_filter(f"datum.left == {str(left).lower()}")
                .mark_text(align=align, dx=dx, fontSize=10, color=NEUTRAL)
                .encode(x=alt.X("end:Q"), y=y, text=alt.Text("input:N")),
                data,
            )
        )
    if undefined:
        parts.append(
            (
                alt.Chart()
                .mark_text(align="left", dx=4, fontSize=10, color=NEUTRAL)
                .encode(x=alt.XValue(0), y=y, text=alt.Text("text:N")),
                _records(undefined),
            )
        )
    subtitle = [
        f"nominal {outcome}: {_label_value(base, usd)} (grey rule); labels: the input's value"
        if base is not None
        else f"{outcome} is undefined for the nominal scenario: the ends alone"
    ]
    if any(censored):
        subtitle.append("* a month that never came within the horizon counts as the horizon")
    return layer_charts(
        *parts,
        width=width,
        height=ROW_HEIGHT_PX * max(len(order), 1),
        title=alt.TitleParams(product, subtitle=subtitle, anchor="start"),
    )


def tornado_chart(tornado_frame: pd.DataFrame, width: int = WIDTH) -> alt.VConcatChart:
    r"""A tornado per product: the outcome with each input at its low and at its high value.

    Each key's two bars grow from the nominal scenario's outcome (the grey rule) to the outcome
    with that input alone at its low value (orange) and at its high value (blue), other inputs
    nominal; the end labels give the input values.  Keys run from the largest
    :math:`\text{swing} = |\text{at\_high} - \text{at\_low}|` down; a key whose outcome is
    undefined at an end has no bar on that side (and sorts last), and a key marked ``*`` had a
    month that never came within the horizon, counted as the horizon.

    Parameters
    ----------
    tornado_frame
        :func:`tcpmf.tornado`'s table (one block of rows per product).
    width
        Width in pixels; each block is :data:`ROW_HEIGHT_PX` high per key.

    Examples
    --------
    >>> chart = tornado_chart(tcpmf.tornado(product, outcome="peak_funding_usd"))
    """
    frame = _require(tornado_frame, TORNADO_COLUMNS, "tornado_frame", "tcpmf.tornado")
    outcome = str(
        frame.attrs.get("outcome")
        or (frame["outcome"].iloc[0] if "outcome" in frame and len(frame) else "outcome")
    )
    blocks = [_tornado_block(p, b, outcome, width) for p, b in _by_product(frame)]
    if not blocks:
        raise AssumptionError(
            "<argument>", "tornado_frame", "at least one row from tcpmf.tornado", "no rows"
        )
    return alt.vconcat(
        *blocks,
        spacing=24,
        title=alt.TitleParams(
            f"Tornado: {outcome} with one input at a time at its low and high value", anchor="start"
        ),
    ).resolve_scale(color="shared")


# --- Sobol -----------------------------------------------------------------------------------

SOBOL_INDEX_COLUMNS = ("product", "key", "S1", "S1_conf", "ST", "ST_conf")


def _sobol_block(product: str, block: pd.DataFrame, outcome: str, width: int) -> alt.LayerChart:
    order = _key_order(block, "ST")
    rows, undefined = [], []
    for row in block.to_dict("records"):
        drawn = False
        for index in ("S1", "ST"):
            value, conf = _number(row[index]), _number(row[f"{index}_conf"])
            if value is None:
                continue
            drawn = True
            rows.append(
                {
                    "product": product,
                    "key": str(row["key"]),
                    "index": index,
                    "value": value,
                    "conf": conf,
                    "lo": None if conf is None else value - conf,
                    "hi": None if conf is None else value + conf,
                }
            )
        if not drawn:
            undefined.append(
                {
                    "product": product,
                    "key": str(row["key"]),
                    "text": "undefined (the outcome does not vary)",
                }
            )
    y = alt.Y("key:N", sort=order, title=None, axis=alt.Axis(labelLimit=320))
    offset = alt.YOffset("index:N", sort=["S1", "ST"])
    color = alt.Color(
        "index:N",
        scale=alt.Scale(domain=["S1", "ST"], range=[LOW, HIGH]),
        legend=alt.Legend(
            orient="bottom",
            title=None,
            labelExpr="datum.label == 'S1' ? 'S1: the input alone' : 'ST: with its interactions'",
        ),
    )
    tooltip = [
        alt.Tooltip("key:N"),
        alt.Tooltip("index:N"),
        alt.Tooltip("value:Q", format=".3f"),
        alt.Tooltip("conf:Q", title="± (confidence)", format=".3f"),
    ]
    data = _records(rows)
    x = alt.X("value:Q", title=f"Sobol index of {outcome} (share of its variance)")
    parts: list[tuple[Any, Data | None]] = [
        (alt.Chart().mark_rule(color="#9e9e9e").encode(x=alt.X("x:Q")), {"values": [{"x": 0.0}]}),
        (
            alt.Chart()
            .mark_bar(height=8)
            .encode(x=x, y=y, yOffset=offset, color=color, tooltip=tooltip),
            data,
        ),
        (
            alt.Chart()
            .transform_filter("datum.lo != null")
            .mark_rule(color="#212121")
            .encode(x=alt.X("lo:Q"), x2=alt.X2("hi:Q"), y=y, yOffset=offset, tooltip=tooltip),
            data,
        ),
    ]
    if undefined:
        parts.append(
            (
                alt.Chart()
                .mark_text(align="left", dx=4, fontSize=10, color=NEUTRAL)
                .encode(x=alt.XValue(0), y=y, text=alt.Text("text:N")),
                _records(undefined),
            )
        )
    subtitle = ["lines: bootstrap confidence intervals; near 0: the input hardly matters"]
    if "censored_share" in block:
        share = _number(block["censored_share"].max())
        if share:
            subtitle.append(
                f"{_share(share)} of the evaluations never got there within the horizon (counted as the horizon)"
            )
    return layer_charts(
        *parts,
        width=width,
        height=3 * ROW_HEIGHT_PX // 2 * max(len(order), 1),
        title=alt.TitleParams(product, subtitle=subtitle, anchor="start"),
    )


def sobol_chart(sobol_frame: pd.DataFrame, width: int = WIDTH) -> alt.VConcatChart:
    r"""Sobol indices per product: :math:`S_1` and :math:`S_T` of each input with their intervals.

    :math:`S_1` is the share of the outcome's variance due to the input alone, :math:`S_T` the
    share it has a hand in, interactions included; keys run from the largest :math:`S_T` down.
    Estimates near 0 may come out slightly negative, and intervals may pass 0 or 1: they are
    drawn as estimated.  An undefined index (the outcome did not vary) is labelled, not drawn.

    Parameters
    ----------
    sobol_frame
        :func:`tcpmf.sobol`'s first table (one block of rows per product).
    width
        Width in pixels; each block is ``1.5 ·`` :data:`ROW_HEIGHT_PX` high per key; the products
        share one axis.

    Examples
    --------
    >>> chart = sobol_chart(tcpmf.sobol(product, outcome="peak_funding_usd", n=64))
    """
    frame = _require(sobol_frame, SOBOL_INDEX_COLUMNS, "sobol_frame", "tcpmf.sobol")
    outcome = str(
        frame.attrs.get("outcome")
        or (frame["outcome"].iloc[0] if "outcome" in frame and len(frame) else "outcome")
    )
    blocks = [_sobol_block(p, b, outcome, width) for p, b in _by_product(frame)]
    if not blocks:
        raise AssumptionError(
            "<argument>", "sobol_frame", "at least one row from tcpmf.sobol", "no rows"
        )
    n = frame.attrs.get("n")
    return alt.vconcat(
        *blocks,
        spacing=24,
        title=alt.TitleParams(
            f"Sobol indices of {outcome}" + (f" (n = {n} base samples)" if n else ""),
            anchor="start",
        ),
    ).resolve_scale(color="shared", x="shared")


# --- scenario discovery ----------------------------------------------------------------------


def _draw_values(
    discovery: Discovery, product: str
) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """Each numeric input's sorted values in the product's draws and each named input's number of
    options, as :func:`tcpmf.discover` kept them (empty for a Discovery built by hand)."""
    d = discovery._data.get(product)
    if d is None:
        return {}, {}
    return (
        {k: np.sort(d.x[:, j]) for j, k in enumerate(d.numeric)},
        {k: len(c) for k, c in zip(d.named, d.categories)},
    )


def _limit_rows(discovery: Discovery, product: str, limits: pd.DataFrame) -> list[dict[str, Any]]:
    """One row per input: where the box's limits fall among the product's draws (0 … 1)."""
    values, options = _draw_values(discovery, product)
    rows = []
    for r in limits.to_dict("records"):
        key, restricted = str(r["key"]), bool(r["restricted"])
        start, end = 0.0, 1.0
        if r["kind"] == "numeric":
            low, high = _number(r["low"]), _number(r["high"])
            text = f"{_label_value(low)} – {_label_value(high)}"
            x = values.get(key)
            if x is not None and len(x) and low is not None and high is not None:
                # the share of draws below the low limit and at or below the high one
                start = float(np.searchsorted(x, low, side="left") / len(x))
                end = float(np.searchsorted(x, high, side="right") / len(x))
                text += f"  (P{100 * start:.0f}–P{100 * end:.0f})"
        else:
            kept = [str(c) for c in (r["categories"] or ())]
            text = ", ".join(kept) if kept else "no option"
            if key in options:
                text += f"  ({len(kept)} of {options[key]} options)"
        rows.append(
            {
                "product": product,
                "key": key,
                "start": start,
                "end": end,
                "text": text,
                "status": "narrowed" if restricted else "whole range",
            }
        )
    return rows


def _discovery_block(
    discovery: Discovery, product: str, width: int, height: int
) -> alt.HConcatChart:
    outcome = discovery.outcome
    path = discovery.trajectory[discovery.trajectory["product"] == product]
    points = [
        {
            "product": product,
            "step": int(r["step"]),
            "coverage": _number(r["coverage"]),
            "density": _number(r["density"]),
            "mass": _number(r["mass"]),
            "res_dim": int(r["res_dim"]),
            "chosen": bool(r["chosen"]),
        }
        for r in path.to_dict("records")
    ]
    points = [p for p in points if p["coverage"] is not None and p["density"] is not None]
    box = discovery.boxes[discovery.boxes["product"] == product].to_dict("records")
    stats = box[0] if box else {}
    coverage, density, mass = (_number(stats.get(k)) for k in ("coverage", "density", "mass"))
    if coverage is None or density is None:
        head = f"{product}: {outcome} never holds in these draws — no box"
    else:
        head = (
            f"{product}: the box holds {_share(coverage)} of the draws where {outcome} holds; "
            f"{_share(density)} of its draws do ({_share(mass or 0.0)} of all draws)"
        )
    tooltip = [
        alt.Tooltip("step:Q"),
        alt.Tooltip("coverage:Q", format=".1%"),
        alt.Tooltip("density:Q", format=".1%"),
        alt.Tooltip("mass:Q", format=".1%"),
        alt.Tooltip("res_dim:Q", title="inputs restricted"),
    ]
    x = alt.X(
        "coverage:Q",
        title="coverage (share of the hits inside)",
        scale=alt.Scale(domain=[0, 1]),
        axis=alt.Axis(format="%"),
    )
    yq = alt.Y(
        "density:Q",
        title="density (hit rate inside)",
        scale=alt.Scale(domain=[0, 1]),
        axis=alt.Axis(format="%"),
    )
    traj = _records(points)
    chosen = _records([p for p in points if p["chosen"]])
    parts: list[tuple[Any, Data | None]] = [
        (
            alt.Chart()
            .mark_line(color=NEUTRAL, point=alt.OverlayMarkDef(size=20, color=NEUTRAL))
            .encode(x=x, y=yq, order=alt.Order("step:Q"), tooltip=tooltip),
            traj,
        ),
        (
            alt.Chart()
            .mark_point(shape="diamond", size=160, filled=True, color=POSITIVE)
            .encode(x=alt.X("coverage:Q"), y=alt.Y("density:Q"), tooltip=tooltip),
            chosen,
        ),
        (
            alt.Chart()
            .mark_text(align="left", dx=8, fontSize=11)
            .encode(x=alt.X("coverage:Q"), y=alt.Y("density:Q"), text=alt.Text("label:N")),
            _records([{**p, "label": f"chosen: step {p['step']}"} for p in points if p["chosen"]]),
        ),
    ]
    if stats.get("pasted") and coverage is not None and density is not None:
        pasted = _records([{"coverage": coverage, "density": density, "label": "after pasting"}])
        parts.append(
            (
                alt.Chart()
                .mark_point(shape="triangle-up", size=120, filled=True, color="#1565c0")
                .encode(
                    x=alt.X("coverage:Q"), y=alt.Y("density:Q"), tooltip=[alt.Tooltip("label:N")]
                ),
                pasted,
            )
        )
    if not points:
        parts.append(
            (
                alt.Chart()
                .mark_text(fontSize=12, color=NEUTRAL)
                .encode(x=alt.XValue(width / 4), y=alt.YValue(height / 2), text=alt.Text("text:N")),
                {"values": [{"text": "no trajectory: no hits"}]},
            )
        )
    left = layer_charts(*parts, width=int(width * 0.6), height=height, title="peeling trajectory")
    limits = discovery.limits[discovery.limits["product"] == product]
    rows = _limit_rows(discovery, product, limits)
    order = [r["key"] for r in rows]
    y = alt.Y("key:N", sort=order, title=None, axis=alt.Axis(labelLimit=320))
    rows_px = ROW_HEIGHT_PX * max(len(order), 1)
    data = _records(rows)
    bars = layer_charts(
        (
            alt.Chart()
            .mark_bar(size=12, color=LIGHT)
            .encode(x=alt.X("x0:Q"), x2=alt.X2("x1:Q"), y=y),
            _records([{"key": k, "x0": 0.0, "x1": 1.0} for k in order]),
        ),
        (
            alt.Chart()
            .mark_bar(size=12)
            .encode(
                x=alt.X(
                    "start:Q",
                    title="share of the product's draws (percentile)",
                    scale=alt.Scale(domain=[0, 1]),
                    axis=alt.Axis(format="%"),
                ),
                x2=alt.X2("end:Q"),
                y=y,
                color=alt.Color(
                    "status:N",
                    scale=alt.Scale(
                        domain=["narrowed", "whole range"], range=[POSITIVE, "#bdbdbd"]
                    ),
                    legend=alt.Legend(orient="bottom", title="the box on each input"),
                ),
                tooltip=[
                    alt.Tooltip("key:N"),
                    alt.Tooltip("text:N", title="box"),
                    alt.Tooltip("status:N"),
                ],
            ),
            data,
        ),
        width=int(width * 0.6),
        height=rows_px,
        title="the box's limits",
    )
    text = (
        alt.Chart(
            data, width=int(width * 0.6), height=rows_px, view=alt.ViewBackground(stroke=None)
        )
        .mark_text(align="left", fontSize=11, color="#212121")
        .encode(x=alt.XValue(0), y=alt.Y("key:N", sort=order, axis=None), text=alt.Text("text:N"))
    )
    right = alt.hconcat(bars, text, spacing=6)
    return alt.hconcat(left, right, title=alt.TitleParams(head, anchor="start", fontSize=12))


def discovery_chart(
    discovery: Discovery,
    products: str | Sequence[str] | None = None,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> alt.VConcatChart:
    r"""Scenario discovery per product: the peeling trajectory and the chosen box's limits.

    Left, the PRIM peeling trajectory in the (coverage, density) plane — each peel trades
    coverage (the share of the draws where the outcome holds that the box keeps) for density (the
    share of the box's draws where it holds) — with the chosen box marked (a triangle: after
    pasting).  Right, the chosen box on each input: the part of the input's range in the draws it
    keeps (green where the box narrows it), with the limits written out; a named input lists the
    options kept.  A product whose outcome never holds has no box and says so.

    Parameters
    ----------
    discovery
        :func:`tcpmf.discover`'s result.
    products
        The products to show (default all, in their order).
    width, height
        Width of the limits panel and height of the trajectory, in pixels.

    Examples
    --------
    >>> chart = discovery_chart(tcpmf.discover(draws, outcome="clears_break_even"))
    """
    if not isinstance(discovery, Discovery):
        raise TypeError(
            f"discovery_chart takes what tcpmf.discover returns, not {type(discovery).__name__}"
        )
    names = _products(discovery.boxes["product"])
    chosen = (
        names
        if products is None
        else [products]
        if isinstance(products, str)
        else [str(p) for p in products]
    )
    unknown = [p for p in chosen if p not in names]
    if unknown or not chosen:
        raise AssumptionError(
            "<argument>",
            "products",
            f"products of this discovery: {', '.join(names)}",
            unknown or products,
        )
    blocks = [_discovery_block(discovery, p, width, height) for p in chosen]
    if not blocks:  # pragma: no cover - refused above
        raise TcpmfError("nothing to chart")
    return alt.vconcat(
        *blocks,
        spacing=28,
        title=alt.TitleParams(
            f"Scenario discovery (PRIM): where {discovery.outcome} holds", anchor="start"
        ),
    ).resolve_scale(color="independent")
