"""What it takes: the value of each lever at which a product clears break-even.

"Clears" means exactly the summary's ``clears_break_even`` (docs/model.md §6): at month-0 token
prices, contribution reaches the target margin with some revenue (``tcpmf_month == 0``) **and**
cash turns non-negative within the horizon (``payback_month_m0_prices`` is not missing).  The
conditions are folded into one continuous score

.. math:: g(x) = \\min\\bigl(c(0; x) - m\\,\\mathrm{ARPU}(x),\\; \\mathrm{ARPU}(x),\\; \\max_{t < T} \\mathrm{cash}_0(t; x)\\bigr)

and the product clears where :math:`g(x) \\ge 0`; the tests check this against the engine's flag.

*Closed form* where the model is linear in the lever (ad RPM, sessions per day, tokens per call,
calls per request, token price, a price without elasticity, a paid share whose elastic cap cannot
bind, the r1 of a power-law or plateau curve): then month-0 contribution and every month's cash are
affine in the lever, ``a + b·x``, read off two evaluations, and the clearing set is an exact
intersection of half-lines.  *Root finding* elsewhere (CAC, which enters as ``budget / CAC``; an
elastic price; a capped paid share): the score is evaluated on a grid spanning the lever's allowed
range in one vectorized engine call, and each sign change is refined with
:func:`scipy.optimize.brentq`.

Levers act on the engine's columns (:mod:`tcpmf.model.arrays`), so one call evaluates many values.

With a demand-driven self-host route the cost per token steps at every added GPU replica, so a
lever can cross the clearing line more than once between two grid points; the answer is then the
crossing the grid sees, accurate to the grid's spacing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.optimize import brentq

from tcpmf.core.errors import TcpmfError
from tcpmf.formulas.retention import MONTHS_PER_PERIOD, plateau, power_law, sbg
from tcpmf.model.arrays import ScenarioArrays, from_scenarios
from tcpmf.model.engine import evaluate_arrays
from tcpmf.schema.scenario import Plateau, PowerLaw, Scenario, ShiftedBetaGeometric

__all__ = [
    "COMPETITION_LEVERS",
    "LEVERS",
    "Lever",
    "apply_lever",
    "clearing_score",
    "competition_levers",
    "lever_value",
    "repeat",
    "what_it_takes",
]

F = NDArray[np.float64]
Interval = tuple[float, float]

#: A price answer this many times the current price, under an elasticity below 1, gets a note.
FAR_ABOVE = 3.0
INELASTIC_NOTE = (
    "price elasticity below 1: raising the price always raises revenue in this model, "
    "so this answer is far above today's price; check the elasticity"
)


@dataclass(frozen=True)
class Lever:
    """A quantity a founder can move, its unit and where it lives in a scenario file."""

    name: str
    label: str
    unit: str
    key: str


#: The levers :func:`what_it_takes` reports, in display order.
LEVERS: dict[str, Lever] = {
    lever.name: lever
    for lever in (
        Lever(
            "price_usd_per_month",
            "subscription price",
            "USD per month",
            "revenue.subscription.price_usd_per_month",
        ),
        Lever(
            "paid_share",
            "paid share",
            "share of MAU at the reference price",
            "revenue.subscription.paid_share",
        ),
        Lever("rpm_usd", "ad RPM", "USD per 1,000 impressions", "revenue.ads.rpm_usd"),
        Lever(
            "sessions_per_day",
            "sessions per day",
            "sessions per active day",
            "usage.sessions_per_day",
        ),
        Lever(
            "tokens_per_call",
            "tokens per call",
            "input + output tokens per call (split kept)",
            "usage.input_tokens_per_call + usage.output_tokens_per_call",
        ),
        Lever(
            "calls_per_request",
            "calls per request",
            "model calls per request",
            "usage.calls_per_request",
        ),
        Lever(
            "usd_per_mtok",
            "token price",
            "USD per 1M tokens, blended, month 0, effective (API prices and GPU rent scale)",
            "model",
        ),
        Lever("cac_usd", "CAC", "USD per paid new user", "growth.cac_usd"),
        Lever(
            "retention_r1",
            "retention r1",
            "share of a cohort active at month 1 (sBG: beta moves)",
            "retention.r1 (sBG: retention.beta)",
        ),
    )
}


def repeat(a: ScenarioArrays, k: int) -> ScenarioArrays:
    """*k* copies of the first scenario of *a* as one batch of columns."""
    columns: dict[str, Any] = {}
    for f in fields(a):
        value = getattr(a, f.name)
        if f.name == "names":
            columns[f.name] = [value[0]] * k
        elif value is None:
            columns[f.name] = None
        elif f.name == "retention":
            columns[f.name] = np.repeat(value[:, :1], k, axis=1)
        else:
            columns[f.name] = np.repeat(value[:1], k)
    return ScenarioArrays(**columns)


def _blended_usd_per_mtok(a: ScenarioArrays) -> F:
    tokens = a.input_tokens_per_call + a.output_tokens_per_call
    bill = (
        a.input_tokens_per_call * a.usd_per_mtok_in_m0
        + a.output_tokens_per_call * a.usd_per_mtok_out_m0
    )
    return np.divide(
        bill,
        tokens,
        out=np.asarray((a.usd_per_mtok_in_m0 + a.usd_per_mtok_out_m0) / 2.0),
        where=tokens > 0,
    )


def _demand_driven(a: ScenarioArrays) -> NDArray[np.bool_]:
    """Columns with a demand-driven self-host route (priced by the engine, not in the price columns)."""
    per_hour = a.self_host_usd_per_replica_hour_m0
    return (
        np.zeros(a.size, dtype=bool) if per_hour is None else np.asarray(per_hour > 0, dtype=bool)
    )


def _effective_usd_per_mtok(a: ScenarioArrays) -> F:
    """Month-0 inference cost per 1M tokens, blended — the summary's ``usd_per_mtok_blended_m0``.

    Where a self-host route follows demand, its cost (GPU rent at the month's utilization) is not
    in the price columns, so those columns are evaluated.
    """
    blended = _blended_usd_per_mtok(a)
    demand = _demand_driven(a)
    if demand.any():
        summary = evaluate_arrays(a).summary["usd_per_mtok_blended_m0"][0]
        blended = np.where(demand, np.asarray(summary, float), blended)
    return blended


def _sbg_beta(alpha: Any, r1: Any) -> F:
    """The sBG ``beta`` whose month-1 retention ``beta / (alpha + beta)`` is *r1*, *alpha* held
    (capped at the schema's 1e4, so r1 → 1 stays finite)."""
    r = np.asarray(r1, float)
    beta = np.asarray(alpha, float) * np.divide(
        r, 1.0 - r, out=np.full(r.shape, np.inf), where=r < 1.0
    )
    return np.asarray(np.minimum(beta, 1e4), float)


def lever_value(a: ScenarioArrays, scenario: Scenario, lever: str) -> float:
    """The current value of *lever* for the first scenario of *a*."""
    values = {
        "price_usd_per_month": a.price_usd_per_month,
        "paid_share": a.paid_share,
        "rpm_usd": a.rpm_usd,
        "sessions_per_day": a.sessions_per_day,
        "tokens_per_call": a.input_tokens_per_call + a.output_tokens_per_call,
        "calls_per_request": a.calls_per_request,
        "usd_per_mtok": _effective_usd_per_mtok(a),
        "cac_usd": a.cac_usd,
    }
    if lever == "retention_r1":
        r = scenario.retention
        if isinstance(r, ShiftedBetaGeometric):
            return r.beta / (r.alpha + r.beta)
        return float(r.r1) if isinstance(r, (PowerLaw, Plateau)) else math.nan
    return float(values[lever][0])


def apply_lever(a: ScenarioArrays, scenario: Scenario, lever: str, values: Any) -> ScenarioArrays:
    """Columns *a* (copies of *scenario*) with *lever* set to *values*, one per column.

    Tokens per call and the token price scale input and output together, keeping their split.  The
    token price is the effective month-0 price (the summary's ``usd_per_mtok_blended_m0``): moving it
    scales every route's cost by one factor — the API prices, and for a demand-driven self-host
    route the GPU rent (replicas, and so utilization, stay as they are).  Retention r1 of an sBG
    curve (month-1 retention ``beta / (alpha + beta)``) moves ``beta`` and holds ``alpha``.

    Examples
    --------
    >>> s = tcpmf.load("assumptions/products/writing_assistant.yaml")
    >>> batch = apply_lever(repeat(from_scenarios([s]), 3), s, "sessions_per_day", [1, 2, 3])
    >>> batch.size
    3
    """
    x = np.broadcast_to(np.asarray(values, float), (a.size,)).copy()
    change: dict[str, Any] = {}
    if lever in (
        "price_usd_per_month",
        "paid_share",
        "rpm_usd",
        "sessions_per_day",
        "calls_per_request",
        "cac_usd",
    ):
        change[lever] = x
    elif lever == "tokens_per_call":
        total = a.input_tokens_per_call + a.output_tokens_per_call
        share_in = np.divide(
            a.input_tokens_per_call, total, out=np.full(a.size, 0.5), where=total > 0
        )
        change["input_tokens_per_call"] = x * share_in
        change["output_tokens_per_call"] = x * (1.0 - share_in)
    elif lever == "usd_per_mtok":
        blended = _effective_usd_per_mtok(a)
        scale = np.divide(x, blended, out=np.zeros(a.size), where=blended > 0)
        change["usd_per_mtok_in_m0"] = np.where(blended > 0, a.usd_per_mtok_in_m0 * scale, x)
        change["usd_per_mtok_out_m0"] = np.where(blended > 0, a.usd_per_mtok_out_m0 * scale, x)
        demand = _demand_driven(a) & (blended > 0)
        if demand.any():  # the GPU rent, and the full-utilization price it implies, scale together
            for name in (
                "self_host_usd_per_replica_hour_m0",
                "self_host_demand_usd_per_mtok_in_m0",
                "self_host_demand_usd_per_mtok_out_m0",
            ):
                column = getattr(a, name)
                change[name] = np.where(demand, column * scale, column)
    elif lever == "retention_r1":
        r = scenario.retention
        per_period = MONTHS_PER_PERIOD[r.period]  # r1 is the share at age one period
        if isinstance(r, PowerLaw):
            change["retention"] = power_law(x, np.full(a.size, r.beta), a.months, per_period)
        elif isinstance(r, Plateau):
            change["retention"] = plateau(
                x, np.full(a.size, r.floor), np.full(a.size, r.tau), a.months, per_period
            )
        elif isinstance(r, ShiftedBetaGeometric):
            change["retention"] = sbg(
                np.full(a.size, r.alpha), _sbg_beta(r.alpha, x), a.months, per_period
            )
        else:
            raise ValueError(f"retention curve {r.curve!r} has no r1")
    else:
        raise KeyError(f"unknown lever {lever!r}; choose from {', '.join(LEVERS)}")
    columns = {f.name: change.get(f.name, getattr(a, f.name)) for f in fields(a)}
    return ScenarioArrays(**columns)


def _components(a: ScenarioArrays) -> tuple[F, F, F]:
    """Per column: month-0 contribution above the target, month-0 ARPU, and cash by month at
    month-0 token prices (``(T, N)``, −inf past the horizon) — the pieces of ``clears_break_even``."""
    computed = evaluate_arrays(a)
    m = computed.monthly
    contribution0, arpu0 = m["contribution_usd_per_mau"][0], m["arpu_usd"][0]
    unit = contribution0 - a.target_margin * arpu0
    # month-0 token prices, the month's ARPU (a stream that starts late earns nothing before it does)
    net0 = (
        m["active_users"] * (m["arpu_usd"] - arpu0 + contribution0)
        - m["marketing_usd"]
        - m["fixed_cost_usd"]
    )
    cash0 = np.where(computed.in_horizon, np.cumsum(net0, axis=0), -np.inf)
    return unit, arpu0, cash0


def _condition_values(a: ScenarioArrays) -> F:
    """``(N, 3)``: the three quantities that must all be ≥ 0 for a column to clear."""
    unit, arpu0, cash0 = _components(a)
    return np.stack([unit, arpu0, cash0.max(axis=0)], axis=1)


def clearing_score(a: ScenarioArrays) -> F:
    """``g = min(contribution(0) − m·ARPU, ARPU, max_t cash₀(t))`` per column, where ``cash₀`` is
    the cash curve at month-0 token prices: ``g ≥ 0`` exactly where ``clears_break_even`` holds
    (up to the boundary ARPU = 0, where it does not)."""
    unit, arpu0, cash0 = _components(a)
    return np.minimum(np.minimum(unit, arpu0), cash0.max(axis=0))


def _range(scenario: Scenario, lever: str) -> tuple[float, float] | None:
    """The lever's allowed range (the schema's bounds), or None where the lever does not apply."""
    sub, ads, r = scenario.revenue.subscription, scenario.revenue.ads, scenario.retention
    u = scenario.usage
    if lever in ("price_usd_per_month", "paid_share") and sub is None:
        return None
    if lever == "rpm_usd" and ads is None:
        return None
    if lever == "retention_r1":
        if isinstance(r, PowerLaw):
            return 0.0, 1.0
        if isinstance(r, Plateau):
            return r.floor, 1.0
        if isinstance(r, ShiftedBetaGeometric):  # beta within the schema's (0, 1e4], alpha held
            return 1e-4 / (r.alpha + 1e-4), 1e4 / (r.alpha + 1e4)
        return None
    if lever == "tokens_per_call":
        biggest = max(u.input_tokens_per_call, u.output_tokens_per_call)
        total = u.input_tokens_per_call + u.output_tokens_per_call
        return (0.0, 1e8 * total / biggest) if biggest > 0 else None
    if lever == "cac_usd":
        return (0.01, 1e6) if scenario.growth.paid_budget_usd_per_month > 0 else None
    highs = {
        "price_usd_per_month": 1e6,
        "paid_share": 1.0,
        "rpm_usd": 1e6,
        "sessions_per_day": 1e6,
        "calls_per_request": 1000.0,
        "usd_per_mtok": 1e6,
    }
    return 0.0, highs[lever]


def _is_linear(a: ScenarioArrays, scenario: Scenario, lever: str) -> bool:
    elasticity = 0.0 if a.price_elasticity is None else float(a.price_elasticity[0])
    if lever == "cac_usd":
        return False
    if lever == "retention_r1":  # an sBG curve is not linear in its month-1 retention
        return not isinstance(scenario.retention, ShiftedBetaGeometric)
    if lever == "price_usd_per_month":
        return elasticity == 0.0
    if lever == "paid_share":
        # s = min(1, s0·k) with k = (p / p_ref)^(−ε): linear in s0 on [0, 1] unless k > 1 lets the cap bind
        reference = (
            0.0
            if a.reference_price_usd_per_month is None
            else float(a.reference_price_usd_per_month[0])
        )
        return elasticity == 0.0 or (reference > 0 and float(a.price_usd_per_month[0]) >= reference)
    return True


def _half_line(a: float, b: float, lo: float, hi: float) -> list[Interval]:
    """``{x in [lo, hi] : a + b·x ≥ 0}`` as a list of at most one interval."""
    if b == 0.0:
        return [(lo, hi)] if a >= 0 else []
    root = -a / b
    left, right = (max(lo, root), hi) if b > 0 else (lo, min(hi, root))
    return [(left, right)] if left <= right else []


def _union(intervals: Sequence[Interval]) -> list[Interval]:
    out: list[Interval] = []
    for left, right in sorted(intervals):
        if out and left <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], right))
        else:
            out.append((left, right))
    return out


def _intersect(first: Sequence[Interval], second: Sequence[Interval]) -> list[Interval]:
    out = [(max(a, c), min(b, d)) for a, b in first for c, d in second if max(a, c) <= min(b, d)]
    return _union(out)


def _affine(values0: F, values1: F) -> tuple[F, F]:
    """Intercept and slope of each affine quantity from its values at x = 0 and x = 1, with the
    slope set to 0 where it is rounding noise."""
    slope = values1 - values0
    noise = 1e-12 * (np.abs(values0) + np.abs(values1))
    return values0, np.where(np.abs(slope) <= noise, 0.0, slope)


def _closed_form(
    base: ScenarioArrays, scenario: Scenario, lever: str, lo: float, hi: float
) -> list[Interval] | None:
    """Clearing set of a lever the model is linear in: exact half-line algebra.

    Month-0 contribution, ARPU and every month's cash at month-0 prices are ``a + b·x``; their
    intercepts and slopes come from x = 0 and x = 1, and a third point checks that they are
    affine indeed (None if not, e.g. where demand-driven GPU capacity makes cost per user depend
    on the number of users).
    """
    probe = (lo + hi) / 2.0
    probe = 0.5 if probe in (0.0, 1.0) else probe
    batch = apply_lever(repeat(base, 3), scenario, lever, [0.0, 1.0, probe])
    unit, arpu0, cash0 = _components(batch)
    months = int(base.horizon_months[0])
    quantities = np.concatenate([unit[None, :], arpu0[None, :], cash0[:months]])  # (2 + T, 3)
    intercept, slope = _affine(quantities[:, 0], quantities[:, 1])
    predicted = intercept + slope * probe
    if not np.allclose(
        predicted, quantities[:, 2], rtol=1e-7, atol=1e-9 * (1.0 + np.abs(quantities).max())
    ):
        return None
    unit_set = _half_line(float(intercept[0]), float(slope[0]), lo, hi)
    arpu_set = _half_line(float(intercept[1]), float(slope[1]), lo, hi)
    cash_set = _union(
        [
            i
            for t in range(2, 2 + months)
            for i in _half_line(float(intercept[t]), float(slope[t]), lo, hi)
        ]
    )
    return _intersect(_intersect(unit_set, arpu_set), cash_set)


def _grid(lo: float, hi: float, current: float, points: int = 241) -> F:
    start = lo if lo > 0 else 1e-6 * min(1.0, hi)  # 20 points a decade from 1e-6 up
    grid = np.concatenate(
        [[lo, hi, current], np.geomspace(start, hi, points), current * np.linspace(0.5, 2.0, 31)]
    )
    return np.unique(grid[(grid >= lo) & (grid <= hi)])


def _root_finding(
    base: ScenarioArrays, scenario: Scenario, lever: str, lo: float, hi: float, current: float
) -> list[Interval]:
    """Clearing set by a vectorized grid scan, each sign change refined by Brent's method."""
    grid = _grid(lo, hi, current)
    conditions = _condition_values(apply_lever(repeat(base, grid.size), scenario, lever, grid))
    ok: NDArray[np.bool_] = np.asarray((conditions >= 0).all(axis=1), dtype=bool)
    one = repeat(base, 1)

    def condition(x: float, j: int) -> float:
        return float(_condition_values(apply_lever(one, scenario, lever, [x]))[0, j])

    edges: list[float] = []
    for i in np.flatnonzero(ok[1:] != ok[:-1]):
        # refine each condition that changes sign in the bracket (a plateau of the combined score,
        # e.g. cash exactly 0 with no users, would make its own root ambiguous)
        a, b = float(grid[i]), float(grid[i + 1])
        flips = np.flatnonzero((conditions[i] >= 0) != (conditions[i + 1] >= 0))
        roots = [
            float(
                brentq(condition, a, b, args=(int(j),), xtol=1e-12 * max(1.0, abs(b)), rtol=1e-10)
            )
            for j in flips
        ]
        edges.append(max(roots) if ok[i + 1] else min(roots))
    intervals: list[Interval] = []
    start = lo if ok[0] else None
    for i, edge in zip(np.flatnonzero(ok[1:] != ok[:-1]), edges):
        if ok[i]:  # leaving the clearing set
            intervals.append((start if start is not None else lo, edge))
            start = None
        else:
            start = edge
    if start is not None:
        intervals.append((start, hi))
    return intervals


def _answer(
    intervals: Sequence[Interval], current: float, lo: float, hi: float
) -> tuple[float, str]:
    """The boundary of the clearing set nearest to *current*, and the status."""
    if not intervals:
        return math.nan, "never"
    for left, right in intervals:
        if left <= current <= right:
            inside = [v for v in (left, right) if lo < v < hi]
            if not inside:
                return math.nan, "always"
            return min(inside, key=lambda v: abs(v - current)), "clears"
    nearest = min((v for interval in intervals for v in interval), key=lambda v: abs(v - current))
    return nearest, "needs"


def what_it_takes(
    scenario: Scenario, method: str = "auto", arrays: ScenarioArrays | None = None
) -> pd.DataFrame:
    """For each lever, the value at which *scenario* clears break-even (as ``clears_break_even``).

    Parameters
    ----------
    scenario
        One validated scenario.
    method
        ``"auto"`` (closed form where the model is linear in the lever, root finding elsewhere),
        ``"closed_form"`` (where linear) or ``"root_finding"`` (every lever; for cross-checks).
    arrays
        The scenario's columns, if already changed at the column level (as the app's token-price
        and tokens-per-call sliders do); default ``from_scenarios([scenario])``.

    Returns
    -------
    pandas.DataFrame
        One row per lever: ``lever``, ``label``, ``key``, ``unit``, ``current``, ``value`` — the
        boundary of the clearing set nearest to the current value (``<NA>`` where no value in the
        allowed range clears, or every value does) —, ``status`` (``needs``: move the lever to
        ``value``; ``clears``: it clears now and keeps clearing up to ``value``; ``never``;
        ``always``; ``n/a`` where the lever does not exist in this scenario), ``direction``
        (``>=`` or ``<=``: the side of ``value`` on which it clears), ``method``, ``low`` and
        ``high`` (the allowed range), ``note`` (a caution, or empty).  Elasticity is respected:
        moving the price moves the paid share.  With a price elasticity below 1 a dearer price
        always earns more in this model, so a price answer over ``FAR_ABOVE`` × the current price
        carries a note saying so: such an answer says more about the elasticity than the market.
        A scenario with a ``competition`` section gets two more rows, :data:`COMPETITION_LEVERS`
        (:func:`competition_levers`), judged by ``survives_entry`` instead.

    Examples
    --------
    >>> s = tcpmf.load("assumptions/products/writing_assistant.yaml")
    >>> levers = tcpmf.what_it_takes(s)[["label", "current", "value", "status"]]
    >>> bool(levers["status"].notna().all())
    True
    """
    if method not in ("auto", "closed_form", "root_finding"):
        raise ValueError("method is one of auto, closed_form, root_finding")
    kind = getattr(scenario, "kind", "consumer")
    if kind != "consumer":
        raise TcpmfError(
            f"{scenario.file}: levers apply to per-user (consumer) scenarios; "
            f"{scenario.name!r} is a {kind} scenario"
        )
    base = repeat(arrays, 1) if arrays is not None else from_scenarios([scenario])
    rows = []
    for lever in LEVERS.values():
        current = lever_value(base, scenario, lever.name)
        bounds = _range(scenario, lever.name)
        row = _lever_row(lever, current)
        if bounds is not None:
            lo, hi = bounds
            linear = _is_linear(base, scenario, lever.name)
            use_closed = linear and method != "root_finding"
            if method == "closed_form" and not linear:
                use_closed = False
            intervals = _closed_form(base, scenario, lever.name, lo, hi) if use_closed else None
            if intervals is None:
                use_closed = False
                intervals = _root_finding(base, scenario, lever.name, lo, hi, current)
            value, status = _answer(intervals, current, lo, hi)
            direction = None
            if status in ("needs", "clears"):
                above = value > current if status == "needs" else value < current
                direction = ">=" if above else "<="
            row.update(
                value=value,
                status=status,
                direction=direction,
                low=lo,
                high=hi,
                method="closed form" if use_closed else "root finding",
            )
            elasticity = 0.0 if base.price_elasticity is None else float(base.price_elasticity[0])
            if (
                lever.name == "price_usd_per_month"
                and status in ("needs", "clears")
                and elasticity < 1.0
                and value > FAR_ABOVE * current
            ):
                row["note"] = INELASTIC_NOTE
        rows.append(row)
    frame = pd.DataFrame(rows)
    for column in ("current", "value"):
        frame[column] = pd.array(frame[column].to_numpy(float), dtype="Float64")  # NaN becomes <NA>
    if scenario.competition is not None:  # what it takes in time and scale to survive the incumbent
        frame = pd.concat([frame, competition_levers(scenario, base)], ignore_index=True)
    return frame


#: Levers of a scenario with a ``competition`` section (docs/model.md §6.2): the criterion is
#: ``survives_entry`` — cash paid back by the horizon's last month, with the incumbent in — not
#: ``clears_break_even``.
COMPETITION_LEVERS: dict[str, Lever] = {
    lever.name: lever
    for lever in (
        Lever(
            "entry_month",
            "incumbent's entry",
            "months after TC-PMF (or after start_month, as the section counts)",
            "competition.entry_months_after_tcpmf or competition.entry_month",
        ),
        Lever(
            "active_users_at_entry",
            "MAU at entry",
            "active users in the month before entry (new users scaled, spend held)",
            "growth.organic_new_users_per_month and growth.cac_usd, scaled together",
        ),
    )
}
SURVIVAL_NOTE = "criterion: survives_entry (cash paid back by the horizon's end with the incumbent in), not clears_break_even"


def _cash_at_end(a: ScenarioArrays) -> tuple[F, F, F]:
    """Per column: cash in the horizon's last month (with competition), ``active_users_at_entry``
    (NaN where the incumbent does not enter within the horizon) and the entry month."""
    computed = evaluate_arrays(a)
    cash = computed.monthly["cash_usd"]
    last = cash[np.clip(a.horizon_months - 1, 0, a.months - 1), np.arange(a.size)]
    users, entered = computed.summary["active_users_at_entry"]
    entry, found = computed.summary["entry_month"]
    assert entered is not None and found is not None
    return (
        last,
        np.where(entered, np.asarray(users, float), np.nan),
        np.where(found, np.asarray(entry, float), np.nan),
    )


def _with_entry(a: ScenarioArrays, months: F) -> ScenarioArrays:
    """Columns *a* with the incumbent entering *months* (after TC-PMF, or after start_month: as the scenario says)."""
    assert a.entry_month is not None and a.entry_months_after_tcpmf is not None
    relative = ~np.isnan(a.entry_months_after_tcpmf)
    return replace_columns(
        a,
        entry_months_after_tcpmf=np.where(relative, months, np.nan),
        entry_month=np.where(relative, np.nan, months),
    )


def replace_columns(a: ScenarioArrays, **change: Any) -> ScenarioArrays:
    return ScenarioArrays(**{f.name: change.get(f.name, getattr(a, f.name)) for f in fields(a)})


def _scaled_users(a: ScenarioArrays, k: F) -> ScenarioArrays:
    """*k* times the new users at the same spend: organic × k, CAC ÷ k."""
    return replace_columns(
        a,
        organic_new_users_per_month=a.organic_new_users_per_month * k,
        cac_usd=np.divide(a.cac_usd, k, out=np.zeros(k.size), where=k > 0),
    )


def competition_levers(scenario: Scenario, arrays: ScenarioArrays | None = None) -> pd.DataFrame:
    """What it takes in time and scale to survive an incumbent's entry (rows as :func:`what_it_takes`).

    ``entry_month``: the earliest entry month (counted as the scenario counts it: after TC-PMF, or
    after start_month) with which the product still pays back within the horizon (a later entry
    never hurts a product whose users pay for themselves, docs/model.md §6.2); every whole month
    from 0 to the horizon is evaluated in one engine call.  ``active_users_at_entry``: the MAU in the
    month before entry at which it pays back, moving every new user by one factor at the same spend
    (organic × k, CAC ÷ k), found on a grid of k and refined with Brent's method on the cash in the
    horizon's last month.
    """
    if scenario.competition is None:
        raise TcpmfError(f"{scenario.file}: {scenario.name!r} has no competition section")
    base = repeat(arrays, 1) if arrays is not None else from_scenarios([scenario])
    horizon = int(base.horizon_months[0])
    rows = []
    c = scenario.competition
    relative = c.entry_months_after_tcpmf is not None
    current_entry = float(c.entry_months_after_tcpmf if relative else c.entry_month)  # type: ignore[arg-type]
    months = np.arange(horizon + 1, dtype=float)
    cash_end, _, _ = _cash_at_end(_with_entry(repeat(base, months.size), months))
    pays = cash_end >= 0
    row: dict[str, Any] = {
        **_lever_row(COMPETITION_LEVERS["entry_month"], math.ceil(current_entry), SURVIVAL_NOTE),
        "low": 0.0,
        "high": float(horizon),
        "method": "every month",
    }
    if not pays[-1]:
        row["status"] = "never"
    elif pays.all():
        row["status"] = "always"
    else:
        earliest = float(np.flatnonzero(~pays)[-1] + 1)  # after the last entry month that sinks it
        row.update(
            value=earliest,
            status="clears" if math.ceil(current_entry) >= earliest else "needs",
            direction=">=",
        )
    rows.append(row)

    one = repeat(base, 1)
    cash_now, users_now, _ = _cash_at_end(one)
    row = {
        **_lever_row(
            COMPETITION_LEVERS["active_users_at_entry"], float(users_now[0]), SURVIVAL_NOTE
        ),
        "method": "root finding",
    }
    grid = np.geomspace(1e-3, 1e3, 121)
    ends, users, _ = _cash_at_end(_scaled_users(repeat(base, grid.size), grid))
    ok = ends >= 0
    entered = ~np.isnan(users)
    if math.isnan(float(users_now[0])):
        row["status"] = "n/a"  # the incumbent does not enter within the horizon
    elif not ok.any():
        row["status"] = "never"
    elif ok.all():
        row["status"] = "always"
    else:
        i = int(np.flatnonzero(~ok)[-1])  # the last scale that fails; the next one pays back
        if i + 1 < grid.size:
            k = brentq(
                lambda x: float(_cash_at_end(_scaled_users(one, np.array([x])))[0][0]),
                grid[i],
                grid[i + 1],
                rtol=1e-10,
            )
            needed = float(_cash_at_end(_scaled_users(one, np.array([k])))[1][0])
            if entered[i + 1] and not math.isnan(needed):
                row.update(
                    value=needed,
                    status="clears" if cash_now[0] >= 0 else "needs",
                    direction=">=",
                    low=float(users[entered].min()),
                    high=float(users[entered].max()),
                )
            else:
                row["status"] = "never"
    rows.append(row)
    frame = pd.DataFrame(rows)
    for column in ("current", "value"):
        frame[column] = pd.array(frame[column].to_numpy(float), dtype="Float64")
    return frame


def _lever_row(lever: Lever, current: float, note: str = "") -> dict[str, Any]:
    """A lever's row of :func:`what_it_takes` before it is answered: no value, status ``n/a``."""
    return {
        "lever": lever.name,
        "label": lever.label,
        "key": lever.key,
        "unit": lever.unit,
        "current": current,
        "value": math.nan,
        "status": "n/a",
        "direction": None,
        "method": None,
        "low": math.nan,
        "high": math.nan,
        "note": note,
    }
