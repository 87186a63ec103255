"""The vectorized engine: N scenarios × T months in one pass of array arithmetic.

``evaluate`` is the public verb.  It turns validated scenarios into columns
(:mod:`tcpmf.model.arrays`), computes every monthly quantity as a ``(T, N)`` array, and returns a
:class:`Result` whose pandas tables are built on first access.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from tcpmf.core.errors import TcpmfError
from tcpmf.core.months import month_label
from tcpmf.formulas import revenue, usage
from tcpmf.formulas.competition import active_users_under_hazard
from tcpmf.formulas.economics import (
    cumulative_over_months,
    first_month,
    geometric_over_months,
    ltv_usd,
    max_affordable_usd_per_mtok,
    new_users,
    peak_funding_usd,
)
from tcpmf.formulas.retention import active_users_growing
from tcpmf.model.arrays import MONETIZED_STREAMS, ScenarioArrays, from_scenarios
from tcpmf.model.capacity import DemandDrivenHost, demand_driven_host
from tcpmf.model.competition import COMPETITION_SUMMARY_COLUMNS, Market
from tcpmf.model.month_stream import FIRST_MONTHS, stream_months
from tcpmf.model.month_stream import Columns as StreamColumns
from tcpmf.model.summary import Computed, NotFinite, Summary, check_finite
from tcpmf.schema.scenario import Scenario, load

__all__ = [
    "COMPETITION_SUMMARY_COLUMNS",
    "MONTHLY_COLUMNS",
    "SUMMARY_COLUMNS",
    "TOB_SUMMARY_COLUMNS",
    "Result",
    "evaluate",
    "evaluate_arrays",
    "evaluate_summary",
]

F = NDArray[np.float64]

#: Monthly quantities, each a (T, N) array, in the column order of ``Result.monthly``.
MONTHLY_COLUMNS = (
    "new_users",
    "paid_new_users",
    "active_users",
    "arpu_usd",
    "usd_per_mtok_in",
    "usd_per_mtok_out",
    "inference_cost_usd_per_mau",
    "contribution_usd_per_mau",
    "revenue_usd",
    "inference_cost_usd",
    "gross_profit_usd",
    "marketing_usd",
    "fixed_cost_usd",
    "net_usd",
    "cash_usd",
    "replicas",
    "gpu_utilization",
)

#: Monthly columns missing (``<NA>``) for scenarios without a demand-driven self-host route.
NULLABLE_MONTHLY_COLUMNS = ("replicas", "gpu_utilization")

#: Columns of ``Result.summary`` after ``scenario``.
SUMMARY_COLUMNS = (
    "arpu_usd_m0",
    "inference_cost_usd_per_mau_m0",
    "usd_per_mtok_blended_m0",
    "tokens_per_mau",
    "contribution_usd_per_mau_m0",
    "gross_margin_m0",
    "ltv_usd",
    "ltv_to_cac",
    "cac_payback_month",
    "breakeven_month",
    "payback_month",
    "payback_month_m0_prices",
    "peak_funding_usd",
    "max_affordable_usd_per_mtok",
    "tcpmf_month",
    "tcpmf_calendar_month",
    "company_tcpmf_month",
    "clears_break_even",
    "launch_month",
)

#: Columns of ``Result.summary`` after ``SUMMARY_COLUMNS``: deal-based ToB only, NA otherwise
#: (:mod:`tcpmf.model.deals`).
TOB_SUMMARY_COLUMNS = ("deal_margin_usd", "deals_to_break_even")


#: Monthly columns searched, in order, for the first that overflowed when cash is not finite.
_CHECKED_MONTHLY = ("active_users", "contribution_usd_per_mau", "cash_usd")


def evaluate_arrays(a: ScenarioArrays, *, monthly: bool = True) -> Computed:
    """Compute every monthly and summary quantity for the columns *a* (no pandas).

    With ``monthly=False`` only the summary is computed (``Computed.monthly`` is empty): the
    monthly-only columns are skipped, which batch runs use through :func:`evaluate_summary`.
    Scenarios with a ``competition`` section take two passes (:mod:`tcpmf.model.competition`).
    """
    if a.has_competition is None:
        return _evaluate(a, monthly)
    from tcpmf.model.competition import evaluate_competing

    return evaluate_competing(a, monthly, _evaluate)


def _evaluate(a: ScenarioArrays, monthly: bool, market: Market | None = None) -> Computed:
    """:func:`evaluate_arrays` of one pass; *market* is an incumbent's effect month by month.

    In four steps, as docs/model.md reads: what a user costs and earns (§1–3), how many users
    there are (§4, §6.2), the cash (§5), and the summary read off them.
    """
    if a.launch_month is not None:
        return _evaluate_waiting(a, monthly, market)
    in_horizon = np.arange(a.months)[:, None] < a.horizon_months
    per_user = _per_user(a)
    users = _users(a, per_user, market)
    money = _money(a, per_user, users)
    summary = _summary(a, per_user, users, money, in_horizon)
    columns = {
        "active_users": users.active,
        "contribution_usd_per_mau": money.contribution,
        "cash_usd": money.cash,
    }
    check_finite(a.names, columns, summary, in_horizon, _CHECKED_MONTHLY)
    if not monthly:
        return Computed(monthly={}, in_horizon=in_horizon, summary=summary)
    return Computed(
        monthly=_monthly_table(a, per_user, users, money), in_horizon=in_horizon, summary=summary
    )


@dataclass(frozen=True)
class _PerUser:
    """What one monthly active user uses, costs in tokens and earns (docs/model.md §1–3)."""

    factor_in: F  # the month's input token price over month 0's, (T, 1) or (T, N)
    factor_out: F
    price_factor: F  # D^(-t/12), (T, 1)
    tokens_in: F  # per MAU and month, (N,)
    tokens_out: F
    token_bill: F  # API tokens per MAU, USD, (T, N)
    # subscription, ads, usage-based, commerce per MAU at full monetization, and their sum (N,)
    streams: tuple[F, F, F, F]
    arpu_full: F
    paid_new: F  # users bought each month, (N,)


@dataclass(frozen=True)
class _UserColumns:
    """What one monthly active user uses and earns, one value per scenario (docs/model.md §1–3)."""

    tokens_in: F  # per MAU and month, (N,)
    tokens_out: F
    # subscription, ads, usage-based, commerce per MAU at full monetization, and their sum (N,)
    streams: tuple[F, F, F, F]
    arpu_full: F
    paid_new: F  # users bought each month, (N,)


def _user_columns(a: ScenarioArrays) -> _UserColumns:
    calls = usage.calls_per_mau(
        a.dau_per_mau, a.sessions_per_day, a.requests_per_session, a.calls_per_request
    )
    paid_share = a.paid_share
    if a.price_elasticity is not None and a.reference_price_usd_per_month is not None:
        paid_share = revenue.elastic_paid_share(
            a.paid_share, a.price_usd_per_month, a.reference_price_usd_per_month, a.price_elasticity
        )
    tokens_in, tokens_out = usage.tokens_per_mau(
        calls,
        a.input_tokens_per_call,
        a.output_tokens_per_call,
        paid_share,
        a.paid_usage_multiplier,
    )
    streams: tuple[F, F, F, F] = (
        revenue.subscription_usd_per_mau(a.price_usd_per_month, paid_share, a.store_fee),
        revenue.ads_usd_per_mau(
            a.dau_per_mau,
            a.sessions_per_day,
            a.impressions_per_session,
            a.rpm_usd,
            paid_share,
            a.ads_free_tier_only,
        ),
        revenue.usage_based_usd_per_mau(
            tokens_in, tokens_out, a.usage_usd_per_mtok_in, a.usage_usd_per_mtok_out
        ),
        revenue.commerce_usd_per_mau(a.gmv_usd_per_mau, a.take_rate),
    )
    paid_new = np.divide(
        a.paid_budget_usd_per_month,
        a.cac_usd,
        out=np.zeros(a.size),
        where=a.paid_budget_usd_per_month > 0,
    )
    arpu_full = streams[0] + streams[1] + streams[2] + streams[3]
    return _UserColumns(tokens_in, tokens_out, streams, arpu_full, paid_new)


def _per_user(a: ScenarioArrays) -> _PerUser:
    months = a.months
    # D^(-t/12), shared by input and output prices; month by month, T products instead of T×N powers
    price_factor = geometric_over_months(a.annual_cost_decline ** (-1.0 / 12.0), months)
    u = _user_columns(a)
    tokens_in, tokens_out = u.tokens_in, u.tokens_out
    if a.api_in_factor is None or a.api_out_factor is None:
        token_bill = (
            usage.token_bill_usd(tokens_in, tokens_out, a.usd_per_mtok_in_m0, a.usd_per_mtok_out_m0)
            * price_factor
        )
        factor_in = factor_out = price_factor
    else:  # dated price paths (tcpmf.model.price_path) where given, D^(-t/12) elsewhere
        factor_in = np.where(np.isnan(a.api_in_factor), price_factor, a.api_in_factor)
        factor_out = np.where(np.isnan(a.api_out_factor), price_factor, a.api_out_factor)
        token_bill = usage.token_bill_usd(
            tokens_in,
            tokens_out,
            a.usd_per_mtok_in_m0 * factor_in,
            a.usd_per_mtok_out_m0 * factor_out,
        )
    return _PerUser(
        factor_in,
        factor_out,
        price_factor,
        tokens_in,
        tokens_out,
        token_bill,
        u.streams,
        u.arpu_full,
        u.paid_new,
    )


@dataclass(frozen=True)
class _Users:
    """How many users there are, and what they pay, month by month (docs/model.md §3–4, §6.2)."""

    active: F  # (T, N)
    arpu: F  # (N,), or (T, N) when a stream starts late or an incumbent cuts prices
    retention: F  # a month-0 cohort's, for LTV and CAC payback
    paid_new: F  # users bought each month, (N,)
    arrivals: F | None  # new users (T, N) under an incumbent; None: organic·(1+g)^t + paid


def _users(a: ScenarioArrays, p: _PerUser, market: Market | None) -> _Users:
    streams = p.streams
    if market is None:
        # U(t) = Σ A(s) r(t−s) for A(s) = organic·(1+g)^s + paid, in O(T) steps
        active = active_users_growing(
            a.organic_new_users_per_month, a.monthly_growth, p.paid_new, a.retention
        )
        arpu = (
            p.arpu_full
            if a.subscription_from_month is None
            else _monetized_arpu(a, streams, active)
        )
        return _Users(active, arpu, a.retention, p.paid_new, None)
    # an incumbent's effects month by month: (T, N) new users, hazard and revenue
    paid_new = p.paid_new * market.paid_new_users_factor
    arrivals = (
        new_users(a.organic_new_users_per_month, a.monthly_growth, 0.0, a.months)
        * market.organic_new_users_factor
    )
    arrivals += paid_new
    active = active_users_under_hazard(arrivals, a.retention, market.survival)
    streams = (
        streams[0] * market.subscription_factor,
        streams[1] * market.ads_factor,
        *streams[2:],
    )
    full = streams[0] + streams[1] + streams[2] + streams[3]
    arpu = full if a.subscription_from_month is None else _monetized_arpu(a, streams, active)
    return _Users(active, arpu, a.retention * market.survival, paid_new, arrivals)


@dataclass(frozen=True)
class _Money:
    """The cash of every month (docs/model.md §5)."""

    host: DemandDrivenHost | None  # replicas that follow demand, when self-hosted so
    inference: F  # per MAU, tokens and replicas, (T, N)
    contribution: F  # per MAU, (T, N)
    gross_profit: F
    spend: F  # marketing and fixed cost each month, (N,)
    net: F
    cash: F


def _money(a: ScenarioArrays, p: _PerUser, u: _Users) -> _Money:
    # A self-host route whose replicas follow demand costs per user what the month's load makes it.
    host = demand_driven_host(a, u.active, p.tokens_in, p.tokens_out, p.price_factor)
    inference = p.token_bill if host is None else p.token_bill + host.usd_per_mau
    contribution = u.arpu - inference - a.other_variable_usd_per_mau
    gross_profit = u.active * contribution
    if host is not None:
        gross_profit -= host.idle_usd
    spend = (
        a.paid_budget_usd_per_month + a.fixed_usd_per_month
    )  # marketing and fixed cost, each month
    net = gross_profit - spend
    return _Money(
        host, inference, contribution, gross_profit, spend, net, cumulative_over_months(net)
    )


def _summary(
    a: ScenarioArrays, p: _PerUser, u: _Users, m: _Money, in_horizon: NDArray[np.bool_]
) -> Summary:
    arpu, inference, contribution, cash = u.arpu, m.inference, m.contribution, m.cash
    tokens = p.tokens_in + p.tokens_out
    has_cac = a.cac_usd > 0
    blended = np.divide(inference[0] * 1e6, tokens, out=np.zeros(a.size), where=tokens > 0)
    arpu0 = arpu if arpu.ndim == 1 else arpu[0]
    margin = np.divide(contribution[0], arpu0, out=np.zeros(a.size), where=arpu0 > 0)
    # None when every scenario runs the whole T months (a batch): no masking pass per quantity
    window = None if (a.horizon_months >= a.months).all() else in_horizon
    ltv = ltv_usd(contribution, u.retention, a.discount_rate_annual, window)
    cum_per_user = cumulative_over_months(contribution * u.retention)
    cac_payback, cac_found = first_month(cum_per_user >= a.cac_usd, window)
    breakeven, breakeven_found = first_month(m.net >= 0, window)
    payback, payback_found = first_month(cash >= 0, window)
    # The same cash curve with token prices frozen at month 0: "clears at today's prices".
    contribution_m0_prices = (
        contribution[0] if arpu.ndim == 1 else arpu - inference[0] - a.other_variable_usd_per_mau
    )
    cash_m0_prices = cumulative_over_months(u.active * contribution_m0_prices - m.spend)
    payback_m0, payback_m0_found = first_month(cash_m0_prices >= 0, window)
    affordable, affordable_found = max_affordable_usd_per_mtok(
        p.arpu_full, a.other_variable_usd_per_mau, a.target_margin, tokens
    )
    # A product without revenue never reaches TC-PMF, whatever its costs.
    reaches_target = (contribution >= a.target_margin * arpu) & (arpu > 0)
    tcpmf, tcpmf_found = first_month(reaches_target, window)
    company, company_found = _company_tcpmf_month(
        cash, tcpmf, tcpmf_found, payback, payback_found, window
    )
    return {
        "arpu_usd_m0": (arpu0, None),
        "inference_cost_usd_per_mau_m0": (inference[0], None),
        "usd_per_mtok_blended_m0": (blended, tokens > 0),
        "tokens_per_mau": (tokens, None),
        "contribution_usd_per_mau_m0": (contribution[0], None),
        "gross_margin_m0": (margin, arpu0 > 0),
        "ltv_usd": (ltv, None),
        "ltv_to_cac": (np.divide(ltv, a.cac_usd, out=np.zeros(a.size), where=has_cac), has_cac),
        "cac_payback_month": (cac_payback, cac_found & has_cac),
        "breakeven_month": (breakeven, breakeven_found),
        "payback_month": (payback, payback_found),
        "payback_month_m0_prices": (payback_m0, payback_m0_found),
        "peak_funding_usd": (peak_funding_usd(cash, window), None),
        "max_affordable_usd_per_mtok": (affordable, affordable_found),
        "tcpmf_month": (tcpmf, tcpmf_found),
        "company_tcpmf_month": (company, company_found),
        "clears_break_even": ((tcpmf == 0) & tcpmf_found & payback_m0_found, None),
    }


def _monthly_table(a: ScenarioArrays, p: _PerUser, u: _Users, m: _Money) -> dict[str, F]:
    months, host = a.months, m.host
    c_in = a.usd_per_mtok_in_m0 * p.factor_in
    c_out = a.usd_per_mtok_out_m0 * p.factor_out
    if host is not None:
        c_in += host.usd_per_mtok_in
        c_out += host.usd_per_mtok_out
    nan = np.full((months, a.size), np.nan)
    arrivals = (
        u.arrivals
        if u.arrivals is not None
        else new_users(a.organic_new_users_per_month, a.monthly_growth, u.paid_new, months)
    )
    return {
        "new_users": arrivals,
        "paid_new_users": np.broadcast_to(u.paid_new, (months, a.size)),
        "active_users": u.active,
        "arpu_usd": np.broadcast_to(u.arpu, (months, a.size)),  # already (T, N) with a late stream
        "usd_per_mtok_in": c_in,
        "usd_per_mtok_out": c_out,
        "inference_cost_usd_per_mau": m.inference,
        "contribution_usd_per_mau": m.contribution,
        "revenue_usd": u.active * u.arpu,
        "inference_cost_usd": u.active * m.inference + (host.idle_usd if host is not None else 0.0),
        "gross_profit_usd": m.gross_profit,
        "marketing_usd": np.broadcast_to(a.paid_budget_usd_per_month, (months, a.size)),
        "fixed_cost_usd": np.broadcast_to(a.fixed_usd_per_month, (months, a.size)),
        "net_usd": m.net,
        "cash_usd": m.cash,
        "replicas": host.replicas if host is not None else nan,
        "gpu_utilization": host.utilization if host is not None else nan,
    }


def _company_tcpmf_month(
    cash: F,
    tcpmf: NDArray[np.int64],
    tcpmf_found: NDArray[np.bool_],
    payback: NDArray[np.int64],
    payback_found: NDArray[np.bool_],
    window: NDArray[np.bool_] | None,
) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """Company TC-PMF: the first month at or after ``tcpmf_month`` with ``cash ≥ 0`` (unit TC-PMF
    reached and everything spent so far, users-first phase included, paid back).  It is the payback
    month wherever that comes no earlier than unit TC-PMF; only the other columns are searched."""
    month = np.where(payback >= tcpmf, payback, 0)
    found = payback_found & tcpmf_found & (payback >= tcpmf)
    search = np.flatnonzero(payback_found & tcpmf_found & (payback < tcpmf))
    if search.size:
        t = np.arange(cash.shape[0])[:, None]
        hit = (cash[:, search] >= 0) & (t >= tcpmf[search])
        month[search], found[search] = first_month(
            hit, None if window is None else window[:, search]
        )
    return month, found


#: Monthly columns of a product before it launches: 0 (counts and money) or undefined (``NaN``:
#: per-user quantities and prices, with no user and no model meeting the floor yet).
_ZERO_BEFORE_LAUNCH = (
    "new_users",
    "paid_new_users",
    "active_users",
    "revenue_usd",
    "inference_cost_usd",
    "gross_profit_usd",
    "marketing_usd",
)


def _evaluate_waiting(a: ScenarioArrays, monthly: bool, market: Market | None) -> Computed:
    """:func:`_evaluate` when some product waits ``a.launch_month`` months for its capability floor.

    Every product is first evaluated as if it started at its launch month (its columns are built so,
    over the horizon less the wait); a waiting product's months are then moved back by its wait.
    Before launch it has no users, revenue, tokens or marketing, and pays its fixed cost: the
    company exists from ``start_month`` (docs/model.md §1).  Months read off the cash (break-even,
    payback, company TC-PMF, peak funding) count from ``start_month`` and need the launch; unit
    TC-PMF moves by the wait; per-user quantities (the ``_m0`` columns, LTV, CAC payback) are those
    of the launch month.
    """
    assert a.launch_month is not None
    wait = a.launch_month
    launched = _evaluate(
        replace(a, launch_month=None, horizon_months=np.maximum(a.horizon_months - wait, 0)),
        True,
        market,
    )
    in_horizon = np.arange(a.months)[:, None] < a.horizon_months
    columns = dict(launched.monthly)
    summary = dict(launched.summary)
    waiting = np.flatnonzero(wait > 0)
    shift = wait[waiting]
    for name, values in columns.items():
        if name == "fixed_cost_usd":  # paid from start_month, launched or not
            continue
        moved = np.array(np.broadcast_to(values, in_horizon.shape))
        fill = 0.0 if name in _ZERO_BEFORE_LAUNCH else np.nan
        moved[:, waiting] = _delayed(moved[:, waiting], shift, fill)
        columns[name] = moved
    # before launch the net is minus the fixed cost; the cash sums it from start_month
    net = _delayed(launched.monthly["net_usd"][:, waiting], shift, -a.fixed_usd_per_month[waiting])
    columns["net_usd"][:, waiting] = net
    columns["cash_usd"][:, waiting] = cumulative_over_months(net)
    summary.update(_summary_after_wait(a, launched, columns, summary, waiting, in_horizon))
    check_finite(a.names, columns, summary, in_horizon, _CHECKED_MONTHLY)
    return Computed(monthly=columns if monthly else {}, in_horizon=in_horizon, summary=summary)


def _delayed(values: F, shift: NDArray[np.int64], fill: float | F) -> F:
    """``(T, n)`` *values* moved ``shift`` months later, column by column; *fill* (a number, or one
    per column) before."""
    t = np.arange(values.shape[0])[:, None]
    source = t - shift[None, :]
    return np.where(source >= 0, np.take_along_axis(values, np.maximum(source, 0), axis=0), fill)


def _summary_after_wait(
    a: ScenarioArrays,
    launched: Computed,
    columns: dict[str, F],
    summary: Summary,
    waiting: NDArray[np.int64],
    in_horizon: NDArray[np.bool_],
) -> Summary:
    """The summary columns of the waiting products that count months from ``start_month``."""
    assert a.launch_month is not None
    shift = a.launch_month[waiting]
    window = in_horizon[:, waiting] & (np.arange(a.months)[:, None] >= shift)
    cash = columns["cash_usd"][:, waiting]
    # cash at launch-month token prices, the same wait before it
    m = launched.monthly
    contribution_m0_prices = (
        m["arpu_usd"][:, waiting]
        - m["inference_cost_usd_per_mau"][0, waiting]
        - a.other_variable_usd_per_mau[waiting]
    )
    net_m0 = _delayed(
        m["active_users"][:, waiting] * contribution_m0_prices
        - m["marketing_usd"][:, waiting]
        - m["fixed_cost_usd"][:, waiting],
        shift,
        -a.fixed_usd_per_month[waiting],
    )
    out: Summary = {}
    for name, condition in (
        ("breakeven_month", columns["net_usd"][:, waiting] >= 0),
        ("payback_month", cash >= 0),
        ("payback_month_m0_prices", cumulative_over_months(net_m0) >= 0),
    ):
        values, valid = _writable(summary[name])
        values[waiting], valid[waiting] = first_month(condition, window)
        out[name] = (values, valid)
    tcpmf, tcpmf_found = _writable(summary["tcpmf_month"])
    tcpmf[waiting] += shift
    out["tcpmf_month"] = (tcpmf, tcpmf_found)
    payback, payback_found = _writable(out["payback_month"])
    company, company_found = _writable(summary["company_tcpmf_month"])
    company[waiting], company_found[waiting] = _company_tcpmf_month(
        cash,
        tcpmf[waiting],
        tcpmf_found[waiting],
        payback[waiting],
        payback_found[waiting],
        window,
    )
    out["company_tcpmf_month"] = (company, company_found)
    peak = np.array(summary["peak_funding_usd"][0])
    peak[waiting] = peak_funding_usd(cash, in_horizon[:, waiting])
    out["peak_funding_usd"] = (peak, None)
    clears = np.array(summary["clears_break_even"][0])
    clears[waiting] = False  # it cannot launch at start_month
    out["clears_break_even"] = (clears, None)
    return out


def _writable(
    column: tuple[NDArray[np.generic], NDArray[np.bool_] | None],
) -> tuple[NDArray[Any], NDArray[np.bool_]]:
    """A summary column's values and where they are defined, as new arrays."""
    values, valid = column
    return np.array(values), np.ones(values.shape, bool) if valid is None else np.array(valid)


def _monetized_arpu(a: ScenarioArrays, streams: tuple[F, F, F, F], active: F) -> F:
    """``(T, N)`` ARPU: each stream's full value times its monetization factor (docs/model.md §3)."""
    total = np.zeros_like(active)
    for stream, full in zip(MONETIZED_STREAMS, streams):
        if not full.any():  # a stream worth nothing adds 0, whatever its factor
            continue
        from_month, from_mau, ramp = (
            getattr(a, f"{stream}_{k}") for k in ("from_month", "from_mau", "ramp_months")
        )
        if not ((np.ceil(from_month) > 0) | (from_mau > 0) | (ramp > 1)).any():
            total += full  # no column waits or ramps: the factor is 1 in every month
            continue
        total += revenue.monetization_factor(active, from_month, from_mau, ramp) * full
    return total


#: Scenarios per engine pass in :func:`evaluate_summary`: small enough that a pass's ``(T, N)``
#: temporaries stay in the processor's cache (about 2.5x faster than one pass over 50,000).
BLOCK_ROWS = 2048


#: Scenarios per block of :func:`evaluate_summary`'s month-by-month path: a month's rows of
#: every quantity stay in the processor's cache, and the Python work per month is spread over more.
STREAM_ROWS = 8192


def evaluate_summary(a: ScenarioArrays, block_rows: int | None = None) -> Summary:
    """The summary quantities of :func:`evaluate_arrays` for many scenarios, in blocks of
    *block_rows* (default :data:`BLOCK_ROWS`; the same numbers: every scenario is computed on its
    own column).

    Plain scenarios (:func:`streams_months`) go month by month instead
    (:mod:`tcpmf.model.month_stream`), in blocks of *block_rows* (default :data:`STREAM_ROWS`):
    the same numbers again.
    """
    if streams_months(a):
        return _blocks(a, block_rows or STREAM_ROWS, _summary_by_month)
    return _blocks(a, block_rows or BLOCK_ROWS, lambda b: evaluate_arrays(b, monthly=False).summary)


def streams_months(a: ScenarioArrays) -> bool:
    """Whether :func:`evaluate_summary` takes *a* month by month: API routes priced by the annual
    decline, every stream earning from month 0, no self-host replicas, no competition, no wait
    for a capability floor, every scenario over all months (fewer than 256), more than one
    scenario (numpy sums a single column's months pairwise, a wider block's one month after
    another)."""
    per_hour = a.self_host_usd_per_replica_hour_m0
    return (
        a.size > 1
        and a.launch_month is None
        and a.has_competition is None
        and a.subscription_from_month is None
        and (a.api_in_factor is None or a.api_out_factor is None)
        and (per_hour is None or not (per_hour > 0).any())
        and bool((a.horizon_months >= a.months).all())
        and a.months < 256
    )


def _summary_by_month(a: ScenarioArrays) -> Summary:
    """:func:`_summary` of plain scenarios (:func:`streams_months`) from
    :func:`~tcpmf.model.month_stream.stream_months`; an overflow is left to the whole-array pass
    to name (it raises :class:`NotFinite` as it always has), and so is a block of one scenario."""
    if a.size == 1:  # numpy sums one column's months pairwise
        return evaluate_arrays(a, monthly=False).summary
    u = _user_columns(a)
    has_cac = a.cac_usd > 0
    arpu = u.arpu_full
    bill_m0 = usage.token_bill_usd(
        u.tokens_in, u.tokens_out, a.usd_per_mtok_in_m0, a.usd_per_mtok_out_m0
    )
    m = stream_months(
        a.retention,
        StreamColumns(
            bill_m0=bill_m0,
            price_step=a.annual_cost_decline ** (-1.0 / 12.0),
            arpu=arpu,
            other_variable=a.other_variable_usd_per_mau,
            spend=a.paid_budget_usd_per_month + a.fixed_usd_per_month,
            organic=a.organic_new_users_per_month,
            growth_ratio=1.0 + a.monthly_growth,
            paid_new=u.paid_new,
            discount_step=(1.0 + a.discount_rate_annual) ** (-1.0 / 12.0),
            target=a.target_margin * arpu,
            cac=a.cac_usd,
        ),
    )
    if not np.isfinite(m.last_cash).all():  # cash stays non-finite once it is
        return evaluate_arrays(a, monthly=False).summary
    tokens = u.tokens_in + u.tokens_out
    inference0 = bill_m0  # times the month-0 price factor, 1
    months = dict(zip(FIRST_MONTHS, zip(m.first_month, m.found)))
    tcpmf, tcpmf_found = months["tcpmf"]
    payback, payback_found = months["payback"]
    affordable, affordable_found = max_affordable_usd_per_mtok(
        arpu, a.other_variable_usd_per_mau, a.target_margin, tokens
    )
    summary: Summary = {
        "arpu_usd_m0": (arpu, None),
        "inference_cost_usd_per_mau_m0": (inference0, None),
        "usd_per_mtok_blended_m0": (
            np.divide(inference0 * 1e6, tokens, out=np.zeros(a.size), where=tokens > 0),
            tokens > 0,
        ),
        "tokens_per_mau": (tokens, None),
        "contribution_usd_per_mau_m0": (m.contribution_m0, None),
        "gross_margin_m0": (
            np.divide(m.contribution_m0, arpu, out=np.zeros(a.size), where=arpu > 0),
            arpu > 0,
        ),
        "ltv_usd": (m.ltv, None),
        "ltv_to_cac": (np.divide(m.ltv, a.cac_usd, out=np.zeros(a.size), where=has_cac), has_cac),
        "cac_payback_month": (months["cac_payback"][0], months["cac_payback"][1] & has_cac),
        "breakeven_month": months["breakeven"],
        "payback_month": (payback, payback_found),
        "payback_month_m0_prices": months["payback_m0_prices"],
        "peak_funding_usd": (np.maximum(0.0, -m.lowest_cash), None),
        "max_affordable_usd_per_mtok": (affordable, affordable_found),
        "tcpmf_month": (tcpmf, tcpmf_found),
        "company_tcpmf_month": months["company_tcpmf"],
        "clears_break_even": (
            (tcpmf == 0) & tcpmf_found & months["payback_m0_prices"][1],
            None,
        ),
    }
    if any(v.dtype.kind == "f" and not np.isfinite(v).all() for v, _ in summary.values()):
        return evaluate_arrays(a, monthly=False).summary
    return summary


def _blocks(
    a: ScenarioArrays, block_rows: int, summarize: Callable[[ScenarioArrays], Summary]
) -> Summary:
    """*summarize* of *a* in blocks of *block_rows* scenarios, concatenated."""
    if a.size <= block_rows:
        return summarize(a)
    parts = []
    for start in range(0, a.size, block_rows):
        try:
            parts.append(summarize(a.rows(slice(start, start + block_rows))))
        except NotFinite as exc:  # the row in all of a, not in the block
            raise NotFinite(str(exc), start + exc.row) from None
    out: Summary = {}
    for name, (_, valid) in parts[0].items():
        values = np.concatenate([p[name][0] for p in parts])
        out[name] = (values, None if valid is None else np.concatenate([p[name][1] for p in parts]))  # type: ignore[misc]
    return out


@dataclass(frozen=True)
class Result:
    """What :func:`evaluate` returns.

    Attributes
    ----------
    scenarios
        The evaluated scenarios, in order (empty when evaluated from bare columns).
    arrays
        The columns the engine ran on.
    monthly
        One row per scenario × month (built on first access).
    summary
        One row per scenario (built on first access).
    """

    arrays: ScenarioArrays
    computed: Computed = field(repr=False)
    scenarios: tuple[Scenario, ...] = ()

    def __repr__(self) -> str:
        return f"<tcpmf.Result: {self.arrays.size} scenario(s) x {self.arrays.months} months; .summary, .monthly>"

    @cached_property
    def summary(self) -> pd.DataFrame:
        a = self.arrays
        frame: dict[str, object] = {"scenario": pd.array(a.names, dtype="string")}
        for name, (values, valid) in self.computed.summary.items():
            missing = np.zeros(a.size, bool) if valid is None else ~valid
            if values.dtype.kind == "b":
                frame[name] = (
                    pd.array(values, dtype="boolean")
                    if valid is None
                    else pd.arrays.BooleanArray(values, missing)
                )
            elif values.dtype.kind in "iu":
                frame[name] = pd.arrays.IntegerArray(values.astype(np.int64), missing)
            elif valid is None:
                frame[name] = values.astype(float)
            else:
                frame[name] = pd.arrays.FloatingArray(np.where(valid, values, 0.0), missing)
        tcpmf_month, found = self.computed.summary["tcpmf_month"]
        assert found is not None
        labels = [
            month_label(int(s + m)) if ok else pd.NA
            for s, m, ok in zip(a.start_month_index, tcpmf_month, found)
        ]
        frame["tcpmf_calendar_month"] = pd.array(labels, dtype="string")
        # months the product waits for its capability floor (Scenario.launch_month): 0 at start_month
        waits = np.zeros(a.size, np.int64) if a.launch_month is None else a.launch_month
        frame["launch_month"] = pd.array(waits, dtype="Int64")
        for name, dtype in zip(TOB_SUMMARY_COLUMNS, ("Float64", "Int64")):
            frame.setdefault(
                name, pd.array([pd.NA] * a.size, dtype=dtype)
            )  # NA for consumer-only results
        columns = ["scenario", *SUMMARY_COLUMNS, *TOB_SUMMARY_COLUMNS]
        if "entry_month" in self.computed.summary:  # some scenario has a competition section
            columns += COMPETITION_SUMMARY_COLUMNS
        return pd.DataFrame(frame)[columns]

    @cached_property
    def monthly(self) -> pd.DataFrame:
        a = self.arrays
        keep = self.computed.in_horizon.T  # scenario-major rows
        rows = keep.sum(axis=1)
        months = np.broadcast_to(np.arange(a.months), keep.shape)[keep]
        ordinals = (a.start_month_index[:, None] - 1970 * 12 + np.arange(a.months))[keep]
        frame: dict[str, object] = {
            "scenario": pd.Categorical.from_codes(
                np.repeat(np.arange(a.size), rows), categories=a.names
            ),
            "month": months.astype(np.int64),
            "calendar_month": pd.PeriodIndex.from_ordinals(ordinals, freq="M"),
        }
        for name in MONTHLY_COLUMNS:
            values = np.ascontiguousarray(self.computed.monthly[name].T)[keep]
            missing = np.isnan(values)
            # missing is <NA>, never NaN: replicas without a demand-driven self-host route, per-MAU
            # columns of deal and MaaS rows in a mixed result
            if name in NULLABLE_MONTHLY_COLUMNS or missing.any():
                values = pd.arrays.FloatingArray(np.where(missing, 0.0, values), missing)
            frame[name] = values
        return pd.DataFrame(frame)

    def to_excel(self, path: str | os.PathLike[str]) -> Path:
        """Write summary, monthly and the assumptions with their sources to an Excel workbook."""
        from tcpmf.model.export import to_excel

        return to_excel(self, path)

    def to_csv(self, folder: str | os.PathLike[str]) -> list[Path]:
        """Write summary.csv, monthly.csv and assumptions.csv into *folder*."""
        from tcpmf.model.export import to_csv

        return to_csv(self, folder)


ScenarioLike = Scenario | str | os.PathLike[str]


def evaluate(scenarios: ScenarioLike | Iterable[ScenarioLike]) -> Result:
    """Evaluate one scenario or many, vectorized over scenarios and months.

    Parameters
    ----------
    scenarios
        A :class:`~tcpmf.schema.scenario.Scenario`, a path to a scenario file, or an iterable of either.

    Returns
    -------
    Result
        ``.summary`` (one row per scenario) and ``.monthly`` (one row per scenario × month).

    Examples
    --------
    >>> import tcpmf
    >>> r = tcpmf.evaluate("assumptions/products/writing_assistant.yaml")
    >>> r.summary[["scenario", "clears_break_even", "tcpmf_month"]].columns.tolist()
    ['scenario', 'clears_break_even', 'tcpmf_month']
    """
    if isinstance(scenarios, (Scenario, str, os.PathLike)):
        items: list[ScenarioLike] = [scenarios]
    elif isinstance(scenarios, Iterable) and not isinstance(scenarios, Mapping):
        items = list(scenarios)
    else:
        raise TypeError(
            f"evaluate takes a Scenario, a path or an iterable of them, not {type(scenarios).__name__}"
            " (build a Scenario from a mapping with tcpmf.from_dict)"
        )
    for item in items:
        if not isinstance(item, (Scenario, str, os.PathLike)):
            raise TypeError(f"evaluate takes Scenarios or paths, not {type(item).__name__}")
    loaded = tuple(s if isinstance(s, Scenario) else load(Path(s)) for s in items)
    if not loaded:
        raise TcpmfError("evaluate needs at least one scenario")
    if any(s.kind != "consumer" for s in loaded):  # deal-based ToB or MaaS: each kind by its engine
        from tcpmf.model.mixed import evaluate_mixed

        arrays, computed = evaluate_mixed(loaded)
        return Result(arrays=arrays, computed=computed, scenarios=loaded)
    arrays = from_scenarios(loaded)
    return Result(arrays=arrays, computed=evaluate_arrays(arrays), scenarios=loaded)
