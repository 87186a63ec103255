"""A plain-Python scalar reference of ``tcpmf.evaluate``.

Every formula here is transcribed from ``docs/model.md`` with loops and :mod:`math` only, one
scenario and one month at a time, so that it can be read side by side with the document.  The
vectorized engine is checked against it (``tests/test_engine_reference.py``).

``reference_evaluate(scenario)`` returns ``(monthly_rows, summary)``: a list of one dict per month
and one dict for the summary, with the engine's column names.  A missing value is ``None``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = [
    "MONTHLY_COLUMNS",
    "SUMMARY_COLUMNS",
    "calendar_month",
    "reference_evaluate",
    "retention",
]

MONTHLY_COLUMNS = [
    "scenario",
    "month",
    "calendar_month",
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
    "net_usd",
    "cash_usd",
]

SUMMARY_COLUMNS = [
    "scenario",
    "arpu_usd_m0",
    "inference_cost_usd_per_mau_m0",
    "usd_per_mtok_blended_m0",
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
    "clears_break_even",
]


def calendar_month(start_month: str, months_later: int) -> str:
    """``calendar_month("2024-11", 3) == "2025-02"``."""
    year, month = start_month.split("-")
    index = int(year) * 12 + (int(month) - 1) + months_later
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


# --------------------------------------------------------------------------------------------
# §1  Price of a token, USD per 1M tokens, at month 0
# --------------------------------------------------------------------------------------------


def self_host_full_prices(s: Any) -> tuple[float, float, float]:
    """``(c_in, c_out, G·g)`` of the self-host route at full utilization and start-month rent."""
    sh = s.model.self_host
    if sh.usd_per_gpu_hour is not None:
        g = sh.usd_per_gpu_hour
    else:
        from tcpmf.catalog.prices import gpu_rent

        g = gpu_rent(sh.gpu, s.start_month).usd_per_gpu_hour
    from tcpmf.model.routing import (
        self_host_throughput,  # measured, or the roofline (checked on its own)
    )

    theta_in, theta_out = self_host_throughput(
        sh, s.usage.input_tokens_per_call, s.usage.output_tokens_per_call
    )
    G = sh.gpus_per_replica
    return g * G / (3600 * theta_in) * 1e6, g * G / (3600 * theta_out) * 1e6, g * G


def routes(s: Any) -> list[tuple[str, str | None, float]]:
    """``(route, catalog name or None for explicit prices, share)`` of each route."""
    m = s.model
    if m.routes is not None:
        return [(r.route, r.name, r.share) for r in m.routes]
    return [(m.route, None if m.usd_per_mtok_in is not None else m.name, 1.0)]


def demand_driven(s: Any) -> bool:
    sh = s.model.self_host
    return (
        sh is not None and sh.utilization is None and any(r == "self_host" for r, _, _ in routes(s))
    )


def token_prices_m0(s: Any) -> tuple[float, float]:
    """``(c_in(0), c_out(0))`` of the routes whose price does not depend on demand, share-weighted."""
    c_in = c_out = 0.0
    for route, name, share in routes(s):
        if route == "self_host":
            if s.model.self_host.utilization is None:
                continue  # priced month by month from demand, see self_host_month
            f_in, f_out, _ = self_host_full_prices(s)
            u = s.model.self_host.utilization
            c_in += share * f_in / u
            c_out += share * f_out / u
        else:
            a_in, a_out = api_prices_m0(s, name)
            c_in += share * a_in
            c_out += share * a_out
    return c_in, c_out


def self_host_month(
    s: Any, t: int, active: float, tokens_in: float, tokens_out: float
) -> dict[str, float]:
    """docs/model.md §1, demand-driven self-host in month *t*: replicas, utilization, cost."""
    share = next(sh for r, _, sh in routes(s) if r == "self_host")
    f_in, f_out, per_hour = self_host_full_prices(s)
    full_bill = (tokens_in * share * f_in + tokens_out * share * f_out) / 1e6 * decline(s, t)
    hours = active * full_bill / per_hour
    h = s.model.self_host
    replicas = max(float(h.min_replicas), float(math.ceil(h.peak_to_average * (hours / 720))))
    u = hours / (720 * replicas)
    if h.usd_per_gpu_hour is None:
        from tcpmf.catalog.prices import gpu_rent

        rent = (
            gpu_rent(h.gpu, calendar_month(s.start_month, t)).usd_per_gpu_hour
            / gpu_rent(h.gpu, s.start_month).usd_per_gpu_hour
        )
    else:
        rent = 1.0
    bill = replicas * per_hour * 720 * rent
    per_mau = bill / active if active > 0 else full_bill * rent
    scale = decline(s, t) * rent / u if active > 0 and u > 0 else 0.0
    return {
        "usd_per_mau": per_mau,
        "idle_usd": 0.0 if active > 0 else bill,
        "usd_per_mtok_in": share * f_in * scale,
        "usd_per_mtok_out": share * f_out * scale,
        "replicas": replicas,
        "gpu_utilization": u,
    }


def api_prices_m0(s: Any, name: str | None) -> tuple[float, float]:
    """One API route's ``(c_in(0), c_out(0))`` after cache and discount."""
    m = s.model
    catalog_cached = None
    if name is None:
        p_in = m.usd_per_mtok_in
        p_out = m.usd_per_mtok_out
    else:
        from tcpmf.catalog.prices import model_price

        price = model_price(name, s.start_month)
        p_in = price.usd_per_mtok_in
        p_out = price.usd_per_mtok_out
        catalog_cached = price.usd_per_mtok_cached_in

    h = m.cached_input_share
    if m.cached_input_price_factor is not None:
        p_cached = p_in * m.cached_input_price_factor
    elif catalog_cached is not None:
        p_cached = catalog_cached
    elif h == 0:
        p_cached = 0.0  # never used: no input token is cached
    else:
        raise ValueError("a cached-input price is required when cached_input_share > 0")

    c_in = (p_in * (1 - h) + p_cached * h) * (1 - m.price_discount)
    c_out = p_out * (1 - m.price_discount)
    return c_in, c_out


def decline(s: Any, t: int) -> float:
    """``D^(−t/12)``."""
    return s.model.annual_cost_decline ** (-t / 12)


# --------------------------------------------------------------------------------------------
# §2  Usage per MAU
# --------------------------------------------------------------------------------------------


def paid_share(s: Any) -> float:
    """Paid share at the scenario's price: ``min(1, s0 · (p / p_ref)^(−ε))`` (§3)."""
    sub = s.revenue.subscription
    if sub is None:
        return 0.0
    e = sub.price_elasticity
    if e == 0 or sub.paid_share == 0:
        return sub.paid_share
    p_ref = (
        sub.price_usd_per_month
        if sub.reference_price_usd_per_month is None
        else sub.reference_price_usd_per_month
    )
    if sub.price_usd_per_month == 0:
        return 1.0
    log_share = math.log(sub.paid_share) - e * math.log(sub.price_usd_per_month / p_ref)
    return 1.0 if log_share >= 0 else math.exp(log_share)


def usage_per_mau(s: Any) -> tuple[float, float, float]:
    """``(active_days, tokens_in, tokens_out)`` per MAU per month."""
    u = s.usage
    active_days = 30 * u.dau_per_mau
    calls = active_days * u.sessions_per_day * u.requests_per_session * u.calls_per_request
    usage_mix = 1 + paid_share(s) * (u.paid_usage_multiplier - 1)
    tokens_in = calls * u.input_tokens_per_call * usage_mix
    tokens_out = calls * u.output_tokens_per_call * usage_mix
    return active_days, tokens_in, tokens_out


# --------------------------------------------------------------------------------------------
# §3  Revenue per MAU
# --------------------------------------------------------------------------------------------


def arpu(s: Any) -> float:
    active_days, tokens_in, tokens_out = usage_per_mau(s)
    r = s.revenue
    total = 0.0
    if r.subscription is not None:
        sub = r.subscription
        total += paid_share(s) * sub.price_usd_per_month * (1 - sub.store_fee)
    if r.ads is not None:
        ads = r.ads
        seen_by = 1 - paid_share(s) if ads.free_tier_only else 1
        total += (
            active_days
            * s.usage.sessions_per_day
            * ads.impressions_per_session
            * ads.rpm_usd
            / 1000
        ) * seen_by
    if r.usage is not None:
        total += (tokens_in * r.usage.usd_per_mtok_in + tokens_out * r.usage.usd_per_mtok_out) / 1e6
    if r.commerce is not None:
        total += r.commerce.gmv_usd_per_mau * r.commerce.take_rate
    return total


# --------------------------------------------------------------------------------------------
# §4  Users
# --------------------------------------------------------------------------------------------


def retention(curve: Any, k: int) -> float:
    """Share of a cohort still active at age *k* months."""
    if k == 0:
        return 1.0
    if curve.curve == "power_law":
        return curve.r1 * k ** (-curve.beta)
    if curve.curve == "plateau":
        return curve.floor + (curve.r1 - curve.floor) * math.exp(-(k - 1) / curve.tau)
    if curve.curve == "sbg":
        survival = 1.0
        for j in range(1, k + 1):
            survival *= (curve.beta + j - 1) / (curve.alpha + curve.beta + j - 1)
        return survival
    if curve.curve == "table":
        ages = [0, *sorted(curve.points)]
        shares = [1.0] + [curve.points[a] for a in sorted(curve.points)]
        if k >= ages[-1]:
            return shares[-1]
        for i in range(len(ages) - 1):
            a0, a1 = ages[i], ages[i + 1]
            if a0 <= k <= a1:
                return shares[i] + (shares[i + 1] - shares[i]) * (k - a0) / (a1 - a0)
    raise ValueError(f"unknown retention curve {curve.curve!r}")


# --------------------------------------------------------------------------------------------
# §5 and §6
# --------------------------------------------------------------------------------------------


def _first(months: list[int], condition: list[bool]) -> int | None:
    for t, ok in zip(months, condition):
        if ok:
            return t
    return None


def reference_evaluate(scenario: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Monthly rows and the summary of one scenario (a ``tcpmf.Scenario`` or a scenario dict)."""
    if isinstance(scenario, Mapping):
        import tcpmf

        scenario = tcpmf.from_dict(scenario)
    s = scenario
    T = s.horizon_months
    months = list(range(T))

    c_in0, c_out0 = token_prices_m0(s)
    _, tokens_in, tokens_out = usage_per_mau(s)
    arpu_usd = arpu(s)
    other = s.costs.other_variable_usd_per_mau
    fixed = s.costs.fixed_usd_per_month
    budget = s.growth.paid_budget_usd_per_month
    cac = s.growth.cac_usd
    r = [retention(s.retention, k) for k in months]

    paid_new = budget / cac if budget > 0 else 0.0
    new_users = [
        s.growth.organic_new_users_per_month * (1 + s.growth.monthly_growth) ** t + paid_new
        for t in months
    ]

    rows: list[dict[str, Any]] = []
    cash = 0.0
    for t in months:
        c_in = c_in0 * decline(s, t)
        c_out = c_out0 * decline(s, t)
        cost_per_mau = (tokens_in * c_in + tokens_out * c_out) / 1e6
        active = 0.0
        for cohort in range(t + 1):
            active += new_users[cohort] * r[t - cohort]
        idle = 0.0
        if demand_driven(s):
            host = self_host_month(s, t, active, tokens_in, tokens_out)
            cost_per_mau += host["usd_per_mau"]
            c_in += host["usd_per_mtok_in"]
            c_out += host["usd_per_mtok_out"]
            idle = host["idle_usd"]
        contribution = arpu_usd - cost_per_mau - other
        gross_profit = active * contribution - idle
        net = gross_profit - budget - fixed
        cash += net
        rows.append(
            {
                "scenario": s.name,
                "month": t,
                "calendar_month": calendar_month(s.start_month, t),
                "new_users": new_users[t],
                "paid_new_users": paid_new,
                "active_users": active,
                "arpu_usd": arpu_usd,
                "usd_per_mtok_in": c_in,
                "usd_per_mtok_out": c_out,
                "inference_cost_usd_per_mau": cost_per_mau,
                "contribution_usd_per_mau": contribution,
                "revenue_usd": active * arpu_usd,
                "inference_cost_usd": active * cost_per_mau + idle,
                "gross_profit_usd": gross_profit,
                "marketing_usd": budget,
                "net_usd": net,
                "cash_usd": cash,
            }
        )

    contribution = [row["contribution_usd_per_mau"] for row in rows]
    net = [row["net_usd"] for row in rows]
    cash_path = [row["cash_usd"] for row in rows]
    tokens = tokens_in + tokens_out

    i = (1 + s.finance.discount_rate_annual) ** (1 / 12) - 1
    ltv = 0.0
    for k in months:
        ltv += contribution[k] * r[k] / (1 + i) ** k

    has_cac = cac is not None and cac > 0
    cac_payback = None
    if has_cac:
        earned = 0.0
        for k in months:
            earned += contribution[k] * r[k]
            if earned >= cac:
                cac_payback = k
                break

    max_affordable = None
    if tokens > 0:
        value = (arpu_usd * (1 - s.target_margin) - other) * 1e6 / tokens
        if value >= 0:
            max_affordable = value

    tcpmf_month = _first(
        months, [c >= s.target_margin * arpu_usd and arpu_usd > 0 for c in contribution]
    )
    payback = _first(months, [c >= 0 for c in cash_path])
    # the same cash with token prices frozen at month 0
    cash_m0_prices = []
    running = 0.0
    for row in rows:
        running += row["active_users"] * contribution[0] - row["marketing_usd"] - fixed
        cash_m0_prices.append(running)
    payback_m0_prices = _first(months, [c >= 0 for c in cash_m0_prices])

    summary = {
        "scenario": s.name,
        "arpu_usd_m0": arpu_usd,
        "inference_cost_usd_per_mau_m0": rows[0]["inference_cost_usd_per_mau"],
        "usd_per_mtok_blended_m0": (
            rows[0]["inference_cost_usd_per_mau"] * 1e6 / tokens if tokens > 0 else None
        ),
        "contribution_usd_per_mau_m0": contribution[0],
        "gross_margin_m0": contribution[0] / arpu_usd if arpu_usd != 0 else None,
        "ltv_usd": ltv,
        "ltv_to_cac": ltv / cac if has_cac else None,
        "cac_payback_month": cac_payback,
        "breakeven_month": _first(months, [n >= 0 for n in net]),
        "payback_month": payback,
        "payback_month_m0_prices": payback_m0_prices,
        "peak_funding_usd": max(0.0, -min(cash_path)),
        "max_affordable_usd_per_mtok": max_affordable,
        "tcpmf_month": tcpmf_month,
        "tcpmf_calendar_month": (
            None if tcpmf_month is None else calendar_month(s.start_month, tcpmf_month)
        ),
        "clears_break_even": tcpmf_month == 0 and payback_m0_prices is not None,
    }
    return rows, summary
