r"""ToB economics: deals won by bidding, their pipeline, and the labor a seat replaces.

A deal-based ToB scenario (a ``deal:`` section, see :mod:`tcpmf.schema.tob`) is evaluated here for
N scenarios × T months in one pass of array arithmetic, like the per-user engine.  The exact
arithmetic is in docs/model.md ("ToB: deals, pipeline, labor substitution, MaaS").

Per deal (signed in month 0 and run for one contract term of ``L`` months)::

    revenue   = (seats · seat_price · L + project_fee) · (1 − bidding_discount)
    cost      = delivery_person_days · usd_per_person_day + sales_usd_per_bid / win_rate
              + hardware_capex_usd · L / min(amortization_months, E)          (private; E below)
              + L · (operations_usd_per_month + keep_current_usd_per_month)
              + seats · inference_usd_per_seat_month(0) · Σ_{k<L} D^(−k/12)
    deal_margin_usd = revenue − cost

``E = L / (1 − renewal_rate)`` is the customer's expected life in months (infinite at a renewal
rate of 1): a deal that does not renew bears its whole server, one that renews shares it with its
expected renewals, and a server outlived by its customer is replaced after ``amortization_months``.

A pipeline enters ``bids_per_month`` bids and signs ``bids_per_month · win_rate`` deals a month
after ``sales_cycle_months``; a contract renews at the end of each term with ``renewal_rate``.
The pipeline is cash: a private deployment's server is paid when the deal is signed (and again
each ``amortization_months`` a contract is still in force), its operations monthly.

:func:`deals` gives the per-deal table (with the labor-substitution columns when a ``labor:``
section is present); :func:`tcpmf.evaluate` puts deal-based scenarios next to consumer ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from tcpmf.catalog.prices import gpu_rent
from tcpmf.core.months import month_index
from tcpmf.formulas.cost import decline, self_host_usd_per_mtok
from tcpmf.formulas.economics import first_month, peak_funding_usd
from tcpmf.formulas.retention import active_users
from tcpmf.model.summary import Summary, check_finite
from tcpmf.schema.scenario import Scenario

__all__ = [
    "DEAL_COLUMNS",
    "DealArrays",
    "DealComputed",
    "deal_columns",
    "deals",
    "deals_to_break_even",
    "evaluate_deals",
    "labor_substitution",
    "months_to_recover",
    "renewal_curve",
    "term_decline_sum",
    "token_prices_m0",
]

F = NDArray[np.float64]
B = NDArray[np.bool_]
MONTHS_PER_YEAR = 12.0


def token_prices_m0(s: Scenario) -> tuple[float, float]:
    """Month-0 USD per 1M input and output tokens of a ToB scenario's model.

    The API route uses the catalog path of the per-user engine (list price in force at
    ``start_month``, cache and discount); the self-host route uses the GPU formula of
    :func:`tcpmf.formulas.cost.self_host_usd_per_mtok` with the given throughputs and utilization.
    """
    m = s.model
    if m.route == "api":
        from tcpmf.model.arrays import token_prices_m0

        return token_prices_m0(s)
    host = m.self_host
    assert host is not None and host.utilization is not None
    assert (
        host.input_tokens_per_s_per_replica is not None
        and host.output_tokens_per_s_per_replica is not None
    )
    rent = host.usd_per_gpu_hour or gpu_rent(host.gpu, s.start_month).usd_per_gpu_hour
    c_in = self_host_usd_per_mtok(
        rent, host.gpus_per_replica, host.input_tokens_per_s_per_replica, host.utilization
    )
    c_out = self_host_usd_per_mtok(
        rent, host.gpus_per_replica, host.output_tokens_per_s_per_replica, host.utilization
    )
    return float(c_in), float(c_out)


class HorizonColumns:
    """``size`` and ``months`` of a set of columns with ``names`` and ``horizon_months``."""

    names: list[str]
    horizon_months: NDArray[np.int64]

    @property
    def size(self) -> int:
        """Number of scenarios N."""
        return len(self.names)

    @property
    def months(self) -> int:
        """Number of months T evaluated (the longest horizon)."""
        return int(self.horizon_months.max())


@dataclass(frozen=True)
class DealArrays(HorizonColumns):
    """N deal-based scenarios as columns of shape ``(N,)``; labor columns are 0 without labor."""

    names: list[str]
    start_month_index: NDArray[np.int64]
    horizon_months: NDArray[np.int64]
    seats: F
    seat_price_usd_per_month: F
    project_fee_usd: F
    bidding_discount: F
    contract_months: F
    renewal_rate: F
    delivery_person_days: F
    usd_per_person_day: F
    private: B
    hardware_capex_usd: F
    amortization_months: F
    operations_usd_per_month: F
    active_days_per_month: F
    input_tokens_per_seat_day: F
    output_tokens_per_seat_day: F
    usd_per_mtok_in_m0: F
    usd_per_mtok_out_m0: F
    annual_cost_decline: F
    updates_per_year: F
    person_days_per_update: F
    sales_usd_per_bid: F
    bids_per_month: F
    win_rate: F
    sales_cycle_months: F
    fixed_usd_per_month: F
    target_margin: F
    discount_rate_annual: F
    has_labor: B
    human_usd_per_agent_day: F
    output_chars_per_agent_day: F
    tokens_per_char: F
    input_tokens_per_output_token: F
    automation_share: F
    buyer_saving_share: F


def deal_columns(scenarios: Sequence[Scenario], names: Sequence[str] | None = None) -> DealArrays:
    """Columns of deal-based scenarios (``s.deal`` set), in order.

    With a ``labor:`` section a seat does one agent's automated work: it reads and writes
    ``output_chars_per_agent_day · automation_share · tokens_per_char`` output tokens (and
    ``input_tokens_per_output_token`` times as many input tokens) on ``agent_days_per_month`` days.
    """
    rows: dict[str, list[float]] = {}
    for s in scenarios:
        d, labor = s.deal, s.labor
        assert d is not None, f"{s.name}: not a deal-based scenario"
        c_in, c_out = token_prices_m0(s)
        if labor is not None:
            out = labor.output_chars_per_agent_day * labor.automation_share * labor.tokens_per_char
            days, tokens_in, tokens_out = (
                labor.agent_days_per_month,
                out * labor.input_tokens_per_output_token,
                out,
            )
        elif d.inference is not None:
            i = d.inference
            days, tokens_in, tokens_out = (
                i.active_days_per_month,
                i.input_tokens_per_seat_day,
                i.output_tokens_per_seat_day,
            )
        else:  # a private deployment: the customer's hardware serves the tokens
            days = tokens_in = tokens_out = 0.0
        dep = d.deployment
        private = dep.kind == "private"
        values = {
            "start_month_index": month_index(s.start_month),
            "horizon_months": s.horizon_months,
            "seats": d.seats,
            "seat_price_usd_per_month": d.seat_price_usd_per_month,
            "project_fee_usd": d.project_fee_usd,
            "bidding_discount": d.bidding_discount,
            "contract_months": d.contract_months,
            "renewal_rate": d.renewal_rate,
            "delivery_person_days": d.delivery_person_days,
            "usd_per_person_day": d.usd_per_person_day,
            "private": private,
            "hardware_capex_usd": getattr(dep, "hardware_capex_usd", 0.0),
            "amortization_months": getattr(dep, "amortization_months", 1),
            "operations_usd_per_month": getattr(dep, "operations_usd_per_month", 0.0),
            "active_days_per_month": days,
            "input_tokens_per_seat_day": tokens_in,
            "output_tokens_per_seat_day": tokens_out,
            "usd_per_mtok_in_m0": c_in,
            "usd_per_mtok_out_m0": c_out,
            "annual_cost_decline": s.model.annual_cost_decline,
            "updates_per_year": d.keep_current.updates_per_year,
            "person_days_per_update": d.keep_current.person_days_per_update,
            "sales_usd_per_bid": d.sales_usd_per_bid,
            "bids_per_month": d.bids_per_month,
            "win_rate": d.win_rate,
            "sales_cycle_months": d.sales_cycle_months,
            "fixed_usd_per_month": s.costs.fixed_usd_per_month,
            "target_margin": s.target_margin,
            "discount_rate_annual": s.finance.discount_rate_annual,
            "has_labor": labor is not None,
            "human_usd_per_agent_day": labor.human_usd_per_agent_day if labor else 0.0,
            "output_chars_per_agent_day": labor.output_chars_per_agent_day if labor else 0.0,
            "tokens_per_char": labor.tokens_per_char if labor else 0.0,
            "input_tokens_per_output_token": labor.input_tokens_per_output_token if labor else 0.0,
            "automation_share": labor.automation_share if labor else 0.0,
            "buyer_saving_share": labor.buyer_saving_share if labor else 0.0,
        }
        for key, value in values.items():
            rows.setdefault(key, []).append(float(value))
    if not rows:
        raise ValueError("deal_columns needs at least one deal-based scenario")
    kinds = {
        "start_month_index": np.int64,
        "horizon_months": np.int64,
        "private": bool,
        "has_labor": bool,
    }
    columns = {key: np.asarray(value, dtype=kinds.get(key, float)) for key, value in rows.items()}
    return DealArrays(
        names=list(names) if names is not None else [s.name for s in scenarios], **columns
    )  # type: ignore[arg-type]


# --- ufunc-like building blocks ------------------------------------------------------------------


def term_decline_sum(
    annual_cost_decline: ArrayLike, contract_months: ArrayLike, start_month: ArrayLike = 0
) -> F:
    r"""``Σ_{k<L} D^(−(t₀+k)/12)``: months of a term, weighted by the token price's decline.

    .. math:: S = q^{t_0}\,\frac{1 - q^L}{1 - q}, \qquad q = D^{-1/12}\quad(S = L\ \text{when}\ D = 1)

    Examples
    --------
    >>> float(term_decline_sum(1.0, 12))
    12.0
    >>> round(float(term_decline_sum(10.0, 12)), 4)  # a year of prices falling 10x a year
    5.1548
    """
    q = np.asarray(annual_cost_decline, float) ** (-1.0 / MONTHS_PER_YEAR)
    months = np.asarray(contract_months, float)
    flat = np.isclose(q, 1.0)
    ratio = np.divide(
        1.0 - q**months, 1.0 - q, out=np.array(months, dtype=float, copy=True), where=~flat
    )
    return np.where(flat, months, ratio) * q ** np.asarray(start_month, float)


def renewal_curve(renewal_rate: ArrayLike, contract_months: ArrayLike, months: int) -> F:
    """Share of a cohort of contracts in force at age ``k``: ``renewal_rate^⌊k / L⌋``, shape ``(months, N)``.

    Examples
    --------
    >>> renewal_curve(0.5, 2, 6)[:, 0].tolist()
    [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    """
    k = np.arange(months, dtype=float)[:, None]
    terms = np.floor(k / np.atleast_1d(np.asarray(contract_months, float)))
    return np.atleast_1d(np.asarray(renewal_rate, float)) ** terms


def months_to_recover(
    upfront_usd: ArrayLike, monthly_margin_usd: F, contract_months: ArrayLike
) -> tuple[NDArray[np.int64], B]:
    """Least contract month ``m ∈ 0 … L`` from which ``upfront + Σ_{k<m'} margin(k) ≥ 0`` for every ``m' ∈ m … L``.

    *monthly_margin_usd* is ``(K, N)`` with ``K ≥ max L``.  The cash must stay recovered to the end
    of the term, so a deal whose cash ends negative (it loses money) never recovers (``found``
    False), even when a project fee covers the upfront cost at signing.

    Examples
    --------
    >>> months, ok = months_to_recover([-100.0], np.full((12, 1), 30.0), [12])
    >>> int(months[0]), bool(ok[0])
    (4, True)
    >>> months, ok = months_to_recover([100.0], np.full((12, 1), -30.0), [12])  # paid up front, then loses
    >>> bool(ok[0])
    False
    """
    upfront = np.atleast_1d(np.asarray(upfront_usd, float))
    cash = np.vstack([upfront[None, :], upfront + np.cumsum(monthly_margin_usd, axis=0)])
    within = np.arange(cash.shape[0])[:, None] <= np.asarray(contract_months, float)
    good = (cash >= 0) | ~within
    stays = np.flip(np.logical_and.accumulate(np.flip(good, axis=0), axis=0), axis=0)
    return first_month(stays, within)


def deals_to_break_even(
    fixed_usd_per_month: ArrayLike, deal_margin_usd: ArrayLike
) -> tuple[NDArray[np.int64], B]:
    """Deals a year whose margins cover a year's fixed cost: ``⌈12 · F / deal_margin⌉``.

    Undefined (``found`` False) when a deal does not make money; 0 deals without fixed cost.

    Examples
    --------
    >>> n, ok = deals_to_break_even([100_000.0, 100_000.0, 0.0], [250_000.0, -1.0, -1.0])
    >>> n.tolist(), ok.tolist()
    ([5, 0, 0], [True, False, True])
    """
    fixed = np.atleast_1d(np.asarray(fixed_usd_per_month, float))
    margin = np.atleast_1d(np.asarray(deal_margin_usd, float))
    found = (margin > 0) | (fixed == 0)
    count = np.ceil(
        np.divide(
            MONTHS_PER_YEAR * fixed,
            margin,
            out=np.zeros(np.broadcast(fixed, margin).shape),
            where=margin > 0,
        )
    )
    return count.astype(np.int64), found


# --- the deal and its pipeline -------------------------------------------------------------------


@dataclass(frozen=True)
class DealComputed:
    """What :func:`evaluate_deals` computes: per-deal terms ``(N,)``, monthly ``(T, N)``, summary."""

    terms: dict[str, F]
    monthly: dict[str, F]
    in_horizon: B
    summary: Summary


def _write_off_months(a: DealArrays) -> F:
    """``min(amortization_months, E)``, ``E = L / (1 − renewal_rate)`` the customer's expected life."""
    renews = a.renewal_rate < 1.0
    life = np.divide(
        a.contract_months, 1.0 - a.renewal_rate, out=np.full(a.size, np.inf), where=renews
    )
    return np.minimum(a.amortization_months, life)


def _hardware_by_age(a: DealArrays, in_force: F) -> F:
    """Server bought for one signed deal at contract age ``k``, ``(K, N)``: the capex at signing
    and again every ``amortization_months`` while the contract is in force (private only)."""
    k = np.arange(in_force.shape[0], dtype=float)[:, None]
    due = np.isclose(np.mod(k, a.amortization_months), 0.0) & a.private
    return np.where(due, a.hardware_capex_usd * in_force, 0.0)


def _per_deal(a: DealArrays) -> dict[str, F]:
    """The per-deal terms of a deal signed in month 0 (see the module formula)."""
    keep = 1.0 - a.bidding_discount
    length = a.contract_months
    tokens_per_seat_month = a.active_days_per_month * (
        a.input_tokens_per_seat_day + a.output_tokens_per_seat_day
    )
    bill = (
        a.active_days_per_month
        * (
            a.input_tokens_per_seat_day * a.usd_per_mtok_in_m0
            + a.output_tokens_per_seat_day * a.usd_per_mtok_out_m0
        )
        / 1e6
    )
    inference_seat = np.where(a.private, 0.0, bill)
    hardware = np.where(a.private, a.hardware_capex_usd * length / _write_off_months(a), 0.0)
    operations = np.where(a.private, a.operations_usd_per_month, 0.0)
    deployment = hardware / length + operations
    keep_current = (
        a.updates_per_year / MONTHS_PER_YEAR * a.person_days_per_update * a.usd_per_person_day
    )
    delivery = a.delivery_person_days * a.usd_per_person_day
    sales = a.sales_usd_per_bid / a.win_rate
    decline_sum = term_decline_sum(a.annual_cost_decline, length)
    inference_term = a.seats * inference_seat * decline_sum
    revenue = (a.seats * a.seat_price_usd_per_month * length + a.project_fee_usd) * keep
    cost = delivery + sales + hardware + length * (operations + keep_current) + inference_term
    return {
        "net_seat_price_usd_per_month": a.seat_price_usd_per_month * keep,
        "deal_revenue_usd": revenue,
        "delivery_usd": delivery,
        "sales_usd_per_won_deal": sales,
        "hardware_usd_per_deal": hardware,
        "operations_usd_per_month": operations,
        "deployment_usd_per_month": deployment,
        "keep_current_usd_per_month": keep_current,
        "inference_usd_per_seat_month_m0": inference_seat,
        "tokens_per_seat_month": np.where(a.private, 0.0, tokens_per_seat_month),
        "inference_usd_per_deal": inference_term,
        "term_decline_sum": decline_sum,
        "deal_cost_usd": cost,
        "deal_margin_usd": revenue - cost,
    }


def evaluate_deals(a: DealArrays) -> DealComputed:
    """Per-deal terms, the monthly pipeline and the summary of deal-based scenarios (no pandas)."""
    t = np.arange(a.months)[:, None]
    in_horizon = t < a.horizon_months
    d = _per_deal(a)
    factor = decline(1.0, a.annual_cost_decline, t)  # D^(-t/12): token price of month t
    in_force = renewal_curve(a.renewal_rate, a.contract_months, a.months)
    hardware_k = _hardware_by_age(a, in_force)  # one deal's server purchases by contract age
    monthly = _pipeline(a, d, factor, in_force, hardware_k)
    summary = _deal_summary(a, d, factor, in_force, hardware_k, monthly, in_horizon)
    upfront = a.project_fee_usd * (1.0 - a.bidding_discount) - d["delivery_usd"]
    upfront_deal = (
        upfront - d["sales_usd_per_won_deal"] - d["hardware_usd_per_deal"]
    )  # the server the deal is charged, at signing
    recover, recover_found = months_to_recover(
        upfront_deal, _margin_by_contract_month(a, d), a.contract_months
    )
    terms = {
        **d,
        "months_to_recover_delivery": np.where(recover_found, recover, np.nan),
    }  # NaN: never within the term
    check_finite(a.names, monthly, summary, in_horizon)
    return DealComputed(terms=terms, monthly=monthly, in_horizon=in_horizon, summary=summary)


def _pipeline(
    a: DealArrays, d: dict[str, F], factor: F, in_force: F, hardware_k: F
) -> dict[str, F]:
    """The monthly columns of the deal pipeline, in calendar months (docs/model.md §7)."""
    months, n = a.months, a.size
    t = np.arange(months)[:, None]
    wins = np.where(t >= a.sales_cycle_months, a.bids_per_month * a.win_rate, 0.0)
    active = active_users(wins, in_force)
    revenue = active * a.seats * d["net_seat_price_usd_per_month"] + wins * a.project_fee_usd * (
        1.0 - a.bidding_discount
    )
    inference = active * a.seats * d["inference_usd_per_seat_month_m0"] * factor
    hardware = active_users(wins, hardware_k)  # cash: paid at signing, not amortized
    gross = (
        revenue
        - wins * d["delivery_usd"]
        - hardware
        - inference
        - active * (d["operations_usd_per_month"] + d["keep_current_usd_per_month"])
    )
    sales = np.broadcast_to(a.bids_per_month * a.sales_usd_per_bid, (months, n))
    fixed = np.broadcast_to(a.fixed_usd_per_month, (months, n))
    net = gross - sales - fixed
    nan = np.full((months, n), np.nan)
    return {
        "new_users": wins,  # customers: deals signed
        "paid_new_users": wins,
        "active_users": active,  # contracts in force
        "arpu_usd": nan,
        "usd_per_mtok_in": np.where(a.private, np.nan, a.usd_per_mtok_in_m0 * factor),
        "usd_per_mtok_out": np.where(a.private, np.nan, a.usd_per_mtok_out_m0 * factor),
        "inference_cost_usd_per_mau": nan,
        "contribution_usd_per_mau": nan,
        "revenue_usd": revenue,
        "inference_cost_usd": inference,
        "gross_profit_usd": gross,
        "marketing_usd": sales,
        "fixed_cost_usd": fixed,
        "net_usd": net,
        "cash_usd": np.cumsum(net, axis=0),
    }


def _deal_summary(
    a: DealArrays,
    d: dict[str, F],
    factor: F,
    in_force: F,
    hardware_k: F,
    monthly: dict[str, F],
    in_horizon: B,
) -> Summary:
    """The summary columns of deal-based scenarios: one customer's value, the months, what it can afford."""
    n = a.size
    t = np.arange(a.months)[:, None]
    net, cash = monthly["net_usd"], monthly["cash_usd"]
    # one customer's contract month by month, with renewals: margin(k) = seat revenue − serving,
    # and its servers paid in cash when bought (at signing, then each write-off while in force)
    margin_k = (
        a.seats
        * (d["net_seat_price_usd_per_month"] - d["inference_usd_per_seat_month_m0"] * factor)
        - d["operations_usd_per_month"]
        - d["keep_current_usd_per_month"]
    )
    upfront = (
        a.project_fee_usd * (1.0 - a.bidding_discount) - d["delivery_usd"]
    )  # at signing, before the sales cost
    customer_k = margin_k * in_force - hardware_k
    discount = (1.0 + a.discount_rate_annual) ** (-t / MONTHS_PER_YEAR)
    ltv = upfront + np.where(in_horizon, customer_k * discount, 0.0).sum(axis=0)
    cac = d["sales_usd_per_won_deal"]
    has_cac = cac >= 0.01  # a cent, as the consumer engine's lowest cac_usd: LTV/CAC stays finite
    cum_customer = upfront + np.cumsum(customer_k, axis=0)
    cac_payback, cac_found = first_month(cum_customer >= cac, in_horizon)

    # a deal signed in month t pays the token prices of months t … t+L−1
    deal_margin_t = d["deal_margin_usd"] + d["inference_usd_per_deal"] * (1.0 - factor)
    tcpmf, tcpmf_found = first_month(
        deal_margin_t >= a.target_margin * d["deal_revenue_usd"], in_horizon
    )
    breakeven, breakeven_found = first_month(net >= 0, in_horizon)
    payback, payback_found = first_month(cash >= 0, in_horizon)
    cash_m0_prices = np.cumsum(
        net
        + monthly["inference_cost_usd"]
        - monthly["active_users"] * a.seats * d["inference_usd_per_seat_month_m0"],
        axis=0,
    )
    payback_m0, payback_m0_found = first_month(cash_m0_prices >= 0, in_horizon)

    tokens = d["tokens_per_seat_month"]
    billed = ~a.private & (tokens > 0)
    blended = np.divide(
        d["inference_usd_per_seat_month_m0"] * 1e6, tokens, out=np.zeros(n), where=billed
    )
    # deal margin is linear in the blended month-0 token price p: margin = other − p · seats · tokens · S / 1e6
    other = d["deal_revenue_usd"] * (1.0 - a.target_margin) - (
        d["deal_cost_usd"] - d["inference_usd_per_deal"]
    )
    per_price = a.seats * tokens * d["term_decline_sum"] / 1e6
    affordable_ok = billed & (per_price > 0) & (other >= 0)
    affordable = np.divide(other, per_price, out=np.zeros(n), where=affordable_ok)
    revenue_deal = d["deal_revenue_usd"]
    count, count_found = deals_to_break_even(a.fixed_usd_per_month, d["deal_margin_usd"])
    none = np.zeros(n, bool)
    return {
        "arpu_usd_m0": (np.zeros(n), none),
        "inference_cost_usd_per_mau_m0": (np.zeros(n), none),
        "usd_per_mtok_blended_m0": (blended, billed),
        "tokens_per_mau": (np.zeros(n), none),
        "contribution_usd_per_mau_m0": (np.zeros(n), none),
        "gross_margin_m0": (
            np.divide(d["deal_margin_usd"], revenue_deal, out=np.zeros(n), where=revenue_deal > 0),
            revenue_deal > 0,
        ),
        "ltv_usd": (ltv, None),
        "ltv_to_cac": (np.divide(ltv, cac, out=np.zeros(n), where=has_cac), has_cac),
        "cac_payback_month": (cac_payback, cac_found & has_cac),
        "breakeven_month": (breakeven, breakeven_found),
        "payback_month": (payback, payback_found),
        "payback_month_m0_prices": (payback_m0, payback_m0_found),
        "peak_funding_usd": (peak_funding_usd(cash, in_horizon), None),
        "max_affordable_usd_per_mtok": (affordable, affordable_ok),
        "tcpmf_month": (tcpmf, tcpmf_found),
        "clears_break_even": ((tcpmf == 0) & tcpmf_found & payback_m0_found, None),
        "deal_margin_usd": (d["deal_margin_usd"], None),
        "deals_to_break_even": (count, count_found),
    }


def _margin_by_contract_month(a: DealArrays, d: dict[str, F]) -> F:
    """Monthly margin of one contract at contract months ``k < max L`` (a term may outlast the horizon)."""
    k = np.arange(int(a.contract_months.max()))[:, None]
    factor = decline(1.0, a.annual_cost_decline, k)
    return (
        a.seats
        * (d["net_seat_price_usd_per_month"] - d["inference_usd_per_seat_month_m0"] * factor)
        - d["operations_usd_per_month"]
        - d["keep_current_usd_per_month"]
    )


# --- labor substitution --------------------------------------------------------------------------


def labor_substitution(a: DealArrays, terms: dict[str, F]) -> dict[str, F]:
    r"""Value ceiling of a seat and the vendor's margin at the highest price a rational buyer pays.

    .. math::
        \text{value\_ceiling} = h \cdot \text{agent\_days} \cdot a, \qquad
        \text{max\_seat\_price} = \text{value\_ceiling} \cdot (1 - b)

    with ``h`` the human cost of an agent-day, ``a`` the automation share and ``b`` the share of the
    saving the buyer keeps.  ``model_usd_per_agent_day`` is what the model's tokens cost for a full
    agent-day's output at month-0 prices, ``(n_out · c_out + n_in · c_in) / 1e6``; the vendor's
    margin at the highest price is the deal margin with the net seat price set to it.  Rows
    without labor are NaN.
    """
    out_day = a.output_chars_per_agent_day * a.tokens_per_char
    model_day = (
        out_day
        * (a.usd_per_mtok_out_m0 + a.input_tokens_per_output_token * a.usd_per_mtok_in_m0)
        / 1e6
    )
    ceiling = a.human_usd_per_agent_day * a.active_days_per_month * a.automation_share
    max_price = ceiling * (1.0 - a.buyer_saving_share)
    seat_months = a.seats * a.contract_months
    margin_at_max = terms["deal_margin_usd"] + seat_months * (
        max_price - terms["net_seat_price_usd_per_month"]
    )
    revenue_at_max = seat_months * max_price + a.project_fee_usd * (1.0 - a.bidding_discount)
    share_at_max = np.divide(
        margin_at_max, revenue_at_max, out=np.zeros(a.size), where=revenue_at_max > 0
    )
    out = {
        "human_usd_per_agent_day": a.human_usd_per_agent_day,
        "model_usd_per_agent_day": model_day,
        "human_to_model_cost": np.divide(
            a.human_usd_per_agent_day, model_day, out=np.zeros(a.size), where=model_day > 0
        ),
        "value_ceiling_usd_per_seat_month": ceiling,
        "max_seat_price_usd_per_month": max_price,
        "vendor_margin_usd_per_deal_at_max_price": margin_at_max,
        "vendor_margin_at_max_price": share_at_max,
    }
    return {key: np.where(a.has_labor, value, np.nan) for key, value in out.items()}


# --- tables --------------------------------------------------------------------------------------

#: Columns of :func:`deals`, after ``scenario``.
DEAL_COLUMNS = (
    "net_seat_price_usd_per_month",
    "deal_revenue_usd",
    "delivery_usd",
    "sales_usd_per_won_deal",
    "hardware_usd_per_deal",
    "operations_usd_per_month",
    "deployment_usd_per_month",
    "keep_current_usd_per_month",
    "inference_usd_per_deal",
    "deal_cost_usd",
    "deal_margin_usd",
    "deal_margin_share",
    "months_to_recover_delivery",
    "deals_to_break_even",
    "deals_won_per_year",
    "human_usd_per_agent_day",
    "model_usd_per_agent_day",
    "human_to_model_cost",
    "value_ceiling_usd_per_seat_month",
    "max_seat_price_usd_per_month",
    "vendor_margin_usd_per_deal_at_max_price",
    "vendor_margin_at_max_price",
)


def deals(scenarios: Scenario | Iterable[Scenario]) -> pd.DataFrame:
    """One row per deal-based scenario: what one deal earns and costs, and what its seats are worth.

    ``months_to_recover_delivery`` counts contract months until the deal's margin has paid back its
    delivery, sales and hardware cost net of the project fee and stays recovered to the end of the
    term (``<NA>`` when it never does, e.g. a deal that loses money);
    ``deals_to_break_even`` is deals a year to cover a year's fixed cost; ``deals_won_per_year`` is
    what the pipeline signs (``12 · bids_per_month · win_rate``).  The labor columns are ``<NA>``
    without a ``labor:`` section.

    Examples
    --------
    >>> import tcpmf, tcpmf.model.deals
    >>> terms = tcpmf.model.deals.deals(tcpmf.load("assumptions/products/tob_price_war_bid.yaml"))
    >>> bool((terms["deal_margin_usd"] < 0).all())  # the price-war bid loses money on every deal
    True
    """
    items = [scenarios] if isinstance(scenarios, Scenario) else list(scenarios)
    chosen = [s for s in items if s.deal is not None]
    if not chosen:
        from tcpmf.core.errors import TcpmfError

        raise TcpmfError(
            "no deal-based scenario given (a deal-based ToB scenario has a deal section)"
        )
    a = deal_columns(chosen)
    computed = evaluate_deals(a)
    terms = computed.terms
    count, count_found = computed.summary["deals_to_break_even"]
    revenue = terms["deal_revenue_usd"]
    columns: dict[str, object] = {"scenario": pd.array(a.names, dtype="string")}
    values: dict[str, F] = {
        **terms,
        "deal_margin_share": np.divide(
            terms["deal_margin_usd"], revenue, out=np.full(a.size, np.nan), where=revenue > 0
        ),
        "deals_won_per_year": MONTHS_PER_YEAR * a.bids_per_month * a.win_rate,
        **labor_substitution(a, terms),
    }
    for name in DEAL_COLUMNS:
        if name == "deals_to_break_even":
            assert count_found is not None
            columns[name] = pd.arrays.IntegerArray(np.asarray(count, np.int64), ~count_found)
        elif name == "months_to_recover_delivery":
            months = values[name]
            columns[name] = pd.arrays.IntegerArray(
                np.nan_to_num(months).astype(np.int64), np.isnan(months)
            )
        else:
            column = np.asarray(values[name], float)
            columns[name] = pd.arrays.FloatingArray(np.nan_to_num(column), np.isnan(column))
    return pd.DataFrame(columns)
