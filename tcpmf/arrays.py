"""Validated scenarios as numpy columns: the engine's input.

A :class:`ScenarioArrays` holds one float column of length N per model input, plus the retention
curves as a time-major ``(T, N)`` matrix.  Catalog prices are resolved here, once, so the engine is
pure arithmetic.  The same structure serves one scenario (a slider) and a million (Monte Carlo).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import NDArray

from .catalog import gpu_rent, model_price
from .cost import api_usd_per_mtok, self_host_usd_per_mtok
from .months import month_index
from .retention import CURVES, retention_matrix
from .scenario import Plateau, PowerLaw, Scenario, ShiftedBetaGeometric, TableRetention

__all__ = ["ScenarioArrays", "from_scenarios"]

F = NDArray[np.float64]


@dataclass(frozen=True)
class ScenarioArrays:
    """N scenarios as columns.  Every float column has shape ``(N,)``; ``retention`` is ``(T, N)``
    with ``T = max(horizon_months)``."""

    names: list[str]
    start_month_index: NDArray[np.int64]
    horizon_months: NDArray[np.int64]
    # cost
    usd_per_mtok_in_m0: F
    usd_per_mtok_out_m0: F
    annual_cost_decline: F
    # usage
    dau_per_mau: F
    sessions_per_day: F
    requests_per_session: F
    calls_per_request: F
    input_tokens_per_call: F
    output_tokens_per_call: F
    paid_usage_multiplier: F
    # revenue
    price_usd_per_month: F
    paid_share: F
    store_fee: F
    impressions_per_session: F
    rpm_usd: F
    ads_free_tier_only: NDArray[np.bool_]
    usage_usd_per_mtok_in: F
    usage_usd_per_mtok_out: F
    gmv_usd_per_mau: F
    take_rate: F
    # growth and costs
    organic_new_users_per_month: F
    monthly_growth: F
    paid_budget_usd_per_month: F
    cac_usd: F  # 0 where none is given
    fixed_usd_per_month: F
    other_variable_usd_per_mau: F
    target_margin: F
    discount_rate_annual: F
    retention: F

    @property
    def size(self) -> int:
        """Number of scenarios N."""
        return len(self.names)

    @property
    def months(self) -> int:
        """Number of months T evaluated (the longest horizon)."""
        return int(self.retention.shape[0])


def _token_prices_m0(s: Scenario) -> tuple[float, float]:
    """Month-0 USD per 1M input and output tokens, after cache and discount."""
    m = s.model
    if m.route == "self_host":
        assert m.self_host is not None
        host = m.self_host
        rent = host.usd_per_gpu_hour or gpu_rent(host.gpu, s.start_month).usd_per_gpu_hour
        c_in = self_host_usd_per_mtok(rent, host.gpus_per_replica, host.input_tokens_per_s_per_replica, host.utilization)
        c_out = self_host_usd_per_mtok(rent, host.gpus_per_replica, host.output_tokens_per_s_per_replica, host.utilization)
        return float(c_in), float(c_out)
    if m.usd_per_mtok_in is not None and m.usd_per_mtok_out is not None:
        p_in, p_out, p_cached = m.usd_per_mtok_in, m.usd_per_mtok_out, None
    else:
        price = model_price(m.name, s.start_month)
        p_in, p_out, p_cached = price.usd_per_mtok_in, price.usd_per_mtok_out, price.usd_per_mtok_cached_in
    if m.cached_input_price_factor is not None:
        p_cached = p_in * m.cached_input_price_factor
    c_in, c_out = api_usd_per_mtok(p_in, p_out, p_in if p_cached is None else p_cached, m.cached_input_share, m.price_discount)
    return float(c_in), float(c_out)


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} [{seen[name]}]")
    return out


def from_scenarios(scenarios: Sequence[Scenario]) -> ScenarioArrays:
    """Columns for validated scenarios, in order; repeated names get a ``[2]``, ``[3]`` suffix."""
    if not scenarios:
        raise ValueError("evaluate needs at least one scenario")
    rows: dict[str, list[float]] = {f.name: [] for f in fields(ScenarioArrays)}
    curve: list[int] = []
    shape = {"r1": [], "beta": [], "floor": [], "tau": [], "alpha": []}  # type: dict[str, list[float]]
    tables = {}
    for position, s in enumerate(scenarios):
        c_in, c_out = _token_prices_m0(s)
        sub, ads, usage, commerce = s.revenue.subscription, s.revenue.ads, s.revenue.usage, s.revenue.commerce
        g, r = s.growth, s.retention
        values = {
            "start_month_index": month_index(s.start_month),
            "horizon_months": s.horizon_months,
            "usd_per_mtok_in_m0": c_in,
            "usd_per_mtok_out_m0": c_out,
            "annual_cost_decline": s.model.annual_cost_decline,
            "dau_per_mau": s.usage.dau_per_mau,
            "sessions_per_day": s.usage.sessions_per_day,
            "requests_per_session": s.usage.requests_per_session,
            "calls_per_request": s.usage.calls_per_request,
            "input_tokens_per_call": s.usage.input_tokens_per_call,
            "output_tokens_per_call": s.usage.output_tokens_per_call,
            "paid_usage_multiplier": s.usage.paid_usage_multiplier,
            "price_usd_per_month": sub.price_usd_per_month if sub else 0.0,
            "paid_share": sub.paid_share if sub else 0.0,
            "store_fee": sub.store_fee if sub else 0.0,
            "impressions_per_session": ads.impressions_per_session if ads else 0.0,
            "rpm_usd": ads.rpm_usd if ads else 0.0,
            "ads_free_tier_only": ads.free_tier_only if ads else True,
            "usage_usd_per_mtok_in": usage.usd_per_mtok_in if usage else 0.0,
            "usage_usd_per_mtok_out": usage.usd_per_mtok_out if usage else 0.0,
            "gmv_usd_per_mau": commerce.gmv_usd_per_mau if commerce else 0.0,
            "take_rate": commerce.take_rate if commerce else 0.0,
            "organic_new_users_per_month": g.organic_new_users_per_month,
            "monthly_growth": g.monthly_growth,
            "paid_budget_usd_per_month": g.paid_budget_usd_per_month,
            "cac_usd": g.cac_usd or 0.0,
            "fixed_usd_per_month": s.costs.fixed_usd_per_month,
            "other_variable_usd_per_mau": s.costs.other_variable_usd_per_mau,
            "target_margin": s.target_margin,
            "discount_rate_annual": s.finance.discount_rate_annual,
        }
        for key, value in values.items():
            rows[key].append(value)
        curve.append(CURVES[r.curve])
        shape["r1"].append(r.r1 if isinstance(r, (PowerLaw, Plateau)) else 1.0)
        shape["beta"].append(r.beta if isinstance(r, (PowerLaw, ShiftedBetaGeometric)) else 0.0)
        shape["floor"].append(r.floor if isinstance(r, Plateau) else 0.0)
        shape["tau"].append(r.tau if isinstance(r, Plateau) else 1.0)
        shape["alpha"].append(r.alpha if isinstance(r, ShiftedBetaGeometric) else 1.0)
        if isinstance(r, TableRetention):
            tables[position] = r.points
    months = max(s.horizon_months for s in scenarios)
    columns: dict[str, object] = {
        key: np.asarray(value, dtype=np.int64 if key in ("start_month_index", "horizon_months") else
                        bool if key == "ads_free_tier_only" else float)
        for key, value in rows.items()
        if key not in ("names", "retention")
    }
    columns["names"] = _unique([s.name for s in scenarios])
    columns["retention"] = retention_matrix(np.asarray(curve), **shape, months=months, tables=tables)
    return ScenarioArrays(**columns)  # type: ignore[arg-type]
