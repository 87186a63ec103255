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


def token_prices_m0(s: Any) -> tuple[float, float]:
    """``(c_in(0), c_out(0))``."""
    m = s.model
    if m.route == "self_host":
        sh = m.self_host
        if sh.usd_per_gpu_hour is not None:
            g = sh.usd_per_gpu_hour
        else:
            from tcpmf.catalog import gpu_rent

            g = gpu_rent(sh.gpu, s.start_month).usd_per_gpu_hour
        G = sh.gpus_per_replica
        u = sh.utilization
        c_out = g * G / (3600 * sh.output_tokens_per_s_per_replica * u) * 1e6
        c_in = g * G / (3600 * sh.input_tokens_per_s_per_replica * u) * 1e6
        return c_in, c_out

    # API route
    catalog_cached = None
    if m.usd_per_mtok_in is not None:
        p_in = m.usd_per_mtok_in
        p_out = m.usd_per_mtok_out
    else:
        from tcpmf.catalog import model_price

        price = model_price(m.name, s.start_month)
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
    sub = s.revenue.subscription
    return 0.0 if sub is None else sub.paid_share


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
        total += sub.paid_share * sub.price_usd_per_month * (1 - sub.store_fee)
    if r.ads is not None:
        ads = r.ads
        seen_by = 1 - paid_share(s) if ads.free_tier_only else 1
        total += (
            active_days * s.usage.sessions_per_day * ads.impressions_per_session * ads.rpm_usd / 1000
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
        ages = [0] + sorted(curve.points)
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
        contribution = arpu_usd - cost_per_mau - other
        active = 0.0
        for cohort in range(t + 1):
            active += new_users[cohort] * r[t - cohort]
        gross_profit = active * contribution
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
                "inference_cost_usd": active * cost_per_mau,
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

    tcpmf_month = _first(months, [c >= s.target_margin * arpu_usd for c in contribution])
    payback = _first(months, [c >= 0 for c in cash_path])

    summary = {
        "scenario": s.name,
        "arpu_usd_m0": arpu_usd,
        "inference_cost_usd_per_mau_m0": rows[0]["inference_cost_usd_per_mau"],
        "usd_per_mtok_blended_m0": (
            (tokens_in * c_in0 + tokens_out * c_out0) / tokens if tokens > 0 else None
        ),
        "contribution_usd_per_mau_m0": contribution[0],
        "gross_margin_m0": contribution[0] / arpu_usd if arpu_usd != 0 else None,
        "ltv_usd": ltv,
        "ltv_to_cac": ltv / cac if has_cac else None,
        "cac_payback_month": cac_payback,
        "breakeven_month": _first(months, [n >= 0 for n in net]),
        "payback_month": payback,
        "peak_funding_usd": max(0.0, -min(cash_path)),
        "max_affordable_usd_per_mtok": max_affordable,
        "tcpmf_month": tcpmf_month,
        "tcpmf_calendar_month": (
            None if tcpmf_month is None else calendar_month(s.start_month, tcpmf_month)
        ),
        "clears_break_even": tcpmf_month == 0 and payback is not None,
    }
    return rows, summary
