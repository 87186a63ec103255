"""Validated scenarios as numpy columns: the engine's input.

A :class:`ScenarioArrays` holds one float column of length N per model input, plus the retention
curves as a time-major ``(T, N)`` matrix.  Catalog prices are resolved here, once, so the engine is
pure arithmetic.  The same structure serves one scenario (a slider) and a million (Monte Carlo).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tcpmf.core.months import month_index
from tcpmf.formulas.retention import CURVES, MONTHS_PER_PERIOD, retention_matrix
from tcpmf.model.price_path import api_price_factors, uses_price_path
from tcpmf.model.routing import rent_factor_path, route_prices_m0
from tcpmf.schema.scenario import (
    Plateau,
    PowerLaw,
    Retention,
    Scenario,
    ShiftedBetaGeometric,
    TableRetention,
)

__all__ = [
    "COMPETITION_COLUMNS",
    "MONETIZED_STREAMS",
    "ScenarioArrays",
    "from_scenarios",
    "retention_shape",
]

#: Revenue streams that may start late and ramp (``revenue.<stream>.monetization``), in the order
#: of their ``<stream>_from_month``, ``<stream>_from_mau`` and ``<stream>_ramp_months`` columns.
MONETIZED_STREAMS = ("subscription", "ads", "usage", "commerce")
_MONETIZATION_COLUMNS = tuple(
    f"{s}_{k}" for s in MONETIZED_STREAMS for k in ("from_month", "from_mau", "ramp_months")
)

#: Columns of the ``competition`` section (docs/model.md §6.2): all None when no scenario has one (the
#: engine's fast path); ``has_competition`` marks the scenarios that do.
COMPETITION_COLUMNS = (
    "has_competition",
    "entry_months_after_tcpmf",  # NaN where a fixed entry_month is given
    "entry_month",  # NaN where the entry follows TC-PMF
    "entry_ramp_months",
    "organic_new_users_cut",
    "cac_increase",
    "added_monthly_churn",
    "subscription_revenue_cut",
    "ad_rpm_cut",
    "moat_active_users_half",
    "moat_active_users_weight",
    "moat_cumulative_users_half",
    "moat_cumulative_users_weight",
    "moat_brand_spend_half_usd",
    "moat_brand_spend_weight",
)

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
    # price elasticity of the paid share; None (code that builds columns directly) means none
    price_elasticity: F | None = None
    reference_price_usd_per_month: F | None = None
    # self-host capacity that follows demand (tcpmf.model.capacity); None (built directly) means none
    self_host_demand_usd_per_mtok_in_m0: F | None = None  # share-weighted, at full utilization
    self_host_demand_usd_per_mtok_out_m0: F | None = None
    self_host_usd_per_replica_hour_m0: F | None = (
        None  # G·g at start_month; 0 where not demand-driven
    )
    peak_to_average: F | None = None
    min_replicas: F | None = None
    rent_factor: F | None = None  # (T, N): rent in force ÷ start-month rent
    # dated API price paths (tcpmf.model.price_path), (T, N) factors on the month-0 prices; NaN in a
    # column without one; None (no scenario has one, or built directly) means D^(-t/12) everywhere
    api_in_factor: F | None = None
    api_out_factor: F | None = None
    # months each product waits for its capability floor (Scenario.launch_month); None (no scenario
    # waits, or built directly) means every product launches at month 0.  The other columns of a
    # waiting product are those of the same product started at its launch month
    launch_month: NDArray[np.int64] | None = None
    # users-first monetization of each revenue stream (MONETIZED_STREAMS); None (no scenario has
    # one, or built directly) means every stream earns its full value from month 0
    subscription_from_month: F | None = None
    subscription_from_mau: F | None = None
    subscription_ramp_months: F | None = None
    ads_from_month: F | None = None
    ads_from_mau: F | None = None
    ads_ramp_months: F | None = None
    usage_from_month: F | None = None
    usage_from_mau: F | None = None
    usage_ramp_months: F | None = None
    commerce_from_month: F | None = None
    commerce_from_mau: F | None = None
    commerce_ramp_months: F | None = None
    # an incumbent's entry (COMPETITION_COLUMNS); None (no scenario has one, or built directly) means none
    has_competition: NDArray[np.bool_] | None = None
    entry_months_after_tcpmf: F | None = None
    entry_month: F | None = None
    entry_ramp_months: F | None = None
    organic_new_users_cut: F | None = None
    cac_increase: F | None = None
    added_monthly_churn: F | None = None
    subscription_revenue_cut: F | None = None
    ad_rpm_cut: F | None = None
    moat_active_users_half: F | None = None
    moat_active_users_weight: F | None = None
    moat_cumulative_users_half: F | None = None
    moat_cumulative_users_weight: F | None = None
    moat_brand_spend_half_usd: F | None = None
    moat_brand_spend_weight: F | None = None

    @property
    def size(self) -> int:
        """Number of scenarios N."""
        return len(self.names)

    @property
    def months(self) -> int:
        """Number of months T evaluated (the longest horizon)."""
        return int(self.retention.shape[0])

    def rows(
        self,
        which: slice | NDArray[np.int64],
        names: list[str] | None = None,
        skip: Collection[str] = (),
    ) -> ScenarioArrays:
        """The columns of the scenarios *which* selects (a slice gives views, an index array
        copies, and may repeat a scenario; one scenario repeated gives read-only views of its
        values); *names* replaces their names.  Columns named in *skip* are left as they are,
        for the caller to replace."""
        update: dict[str, Any] = {}
        # one scenario repeated (a batch of one group): its values broadcast, not gathered
        index = None if isinstance(which, slice) else np.asarray(which)
        count = 0 if index is None else len(index)
        repeat = (
            index is not None and self.size == 1 and index.dtype.kind in "iu" and not index.any()
        )
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if name == "names" or value is None or name in skip:
                continue
            if repeat:  # read-only views of the one scenario's values (the engine only reads)
                update[name] = np.broadcast_to(value, (*value.shape[:-1], count))
            else:
                update[name] = value[:, which] if value.ndim == 2 else value[which]
        if names is None:
            names = (
                self.names[which] if isinstance(which, slice) else [self.names[i] for i in which]
            )
        return replace(self, names=names, **update)


def token_prices_m0(s: Scenario) -> tuple[float, float]:
    """Month-0 USD per 1M input and output tokens, after cache and discount, blended over the
    scenario's routes; a demand-driven self-host route is priced by the engine instead
    (:func:`tcpmf.model.routing.route_prices_m0`)."""
    route = route_prices_m0(s)
    return route.usd_per_mtok_in, route.usd_per_mtok_out


def retention_shape(r: Retention) -> dict[str, float]:
    """The parameters :func:`~tcpmf.formulas.retention.retention_matrix` takes for *r*'s curve (neutral
    values for those its family does not use)."""
    return {
        "r1": r.r1 if isinstance(r, (PowerLaw, Plateau)) else 1.0,
        "beta": r.beta if isinstance(r, (PowerLaw, ShiftedBetaGeometric)) else 0.0,
        "floor": r.floor if isinstance(r, Plateau) else 0.0,
        "tau": r.tau if isinstance(r, Plateau) else 1.0,
        "alpha": r.alpha if isinstance(r, ShiftedBetaGeometric) else 1.0,
        "months_per_period": MONTHS_PER_PERIOD[r.period],
    }


def unique_names(names: list[str]) -> list[str]:
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
    shape = {"r1": [], "beta": [], "floor": [], "tau": [], "alpha": [], "months_per_period": []}  # type: dict[str, list[float]]
    tables = {}
    originals = scenarios
    scenarios, waits = _as_launched(scenarios)
    for position, s in enumerate(scenarios):
        r = s.retention
        values = _scenario_row(s)
        values["start_month_index"] = month_index(originals[position].start_month)
        values["horizon_months"] = originals[position].horizon_months
        for key, value in values.items():
            rows[key].append(value)
        curve.append(CURVES[r.curve])
        for key, value in retention_shape(r).items():
            shape[key].append(value)
        if isinstance(r, TableRetention):
            tables[position] = r.points
    months = max(s.horizon_months for s in originals)
    columns: dict[str, object] = {
        key: np.asarray(
            value,
            dtype=np.int64
            if key in ("start_month_index", "horizon_months")
            else bool
            if key in ("ads_free_tier_only", "has_competition")
            else float,
        )
        for key, value in rows.items()
        if key
        not in (
            "names",
            "retention",
            "rent_factor",
            "api_in_factor",
            "api_out_factor",
            "launch_month",
        )
    }
    columns["launch_month"] = np.asarray(waits, dtype=np.int64) if any(waits) else None
    if not any(bool(np.any(np.asarray(rows[key]))) for key in _MONETIZATION_COLUMNS):
        for key in (
            _MONETIZATION_COLUMNS
        ):  # every stream at full value from month 0: the engine's fast path
            columns[key] = None
    if not any(rows["has_competition"]):
        for key in COMPETITION_COLUMNS:  # nobody enters: the engine's fast path
            columns[key] = None
    columns["names"] = unique_names([s.name for s in scenarios])
    rent = np.ones((months, len(scenarios)))
    for column in np.flatnonzero(np.asarray(rows["self_host_usd_per_replica_hour_m0"]) > 0):
        rent[:, column] = rent_factor_path(scenarios[int(column)], months)
    columns["rent_factor"] = rent
    columns["api_in_factor"], columns["api_out_factor"] = _price_path_columns(scenarios, months)
    columns["retention"] = retention_matrix(
        np.asarray(curve), **shape, months=months, tables=tables
    )
    return ScenarioArrays(**columns)  # type: ignore[arg-type]


def _as_launched(scenarios: Sequence[Scenario]) -> tuple[Sequence[Scenario], list[int]]:
    """Each scenario as if it started at its launch month (itself when it launches at start_month),
    and the months it waits for its capability floor."""
    if all(s.model.capability is None for s in scenarios):  # no floor: nobody waits
        return scenarios, [0] * len(scenarios)
    launched: list[Scenario] = []
    waits: list[int] = []
    for s in scenarios:
        wait = month_index(s.launch_month) - month_index(s.start_month)
        waits.append(wait)
        launched.append(
            s
            if wait == 0
            else s.model_copy(
                update={
                    "start_month": s.launch_month,
                    "horizon_months": max(s.horizon_months - wait, 1),
                }
            )
        )
    return launched, waits


def _scenario_row(s: Scenario) -> dict[str, float | bool]:
    """One scenario's value of every scalar column (0 or the neutral value for an absent section)."""
    route = route_prices_m0(s)
    c_in, c_out = route.usd_per_mtok_in, route.usd_per_mtok_out
    host = s.model.self_host
    sub, ads, usage, commerce = (
        s.revenue.subscription,
        s.revenue.ads,
        s.revenue.usage,
        s.revenue.commerce,
    )
    g = s.growth
    values: dict[str, float | bool] = {
        "start_month_index": month_index(s.start_month),
        "horizon_months": s.horizon_months,
        "usd_per_mtok_in_m0": c_in,
        "usd_per_mtok_out_m0": c_out,
        "self_host_demand_usd_per_mtok_in_m0": route.demand_usd_per_mtok_in,
        "self_host_demand_usd_per_mtok_out_m0": route.demand_usd_per_mtok_out,
        "self_host_usd_per_replica_hour_m0": route.usd_per_replica_hour,
        "peak_to_average": (host.peak_to_average or 1.0) if host else 1.0,
        "min_replicas": float(host.min_replicas) if host else 1.0,
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
        "price_elasticity": sub.price_elasticity if sub else 0.0,
        "reference_price_usd_per_month": (
            sub.price_usd_per_month
            if sub.reference_price_usd_per_month is None
            else sub.reference_price_usd_per_month
        )
        if sub
        else 0.0,
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
    for stream, section in zip(MONETIZED_STREAMS, (sub, ads, usage, commerce)):
        m = section.monetization if section is not None else None
        values[f"{stream}_from_month"] = m.from_month if m else 0.0
        values[f"{stream}_from_mau"] = m.from_mau if m else 0.0
        values[f"{stream}_ramp_months"] = m.ramp_months if m else 0.0
    values.update(_competition_values(s))
    return values


def _competition_values(s: Scenario) -> dict[str, float | bool]:
    """The :data:`COMPETITION_COLUMNS` of *s* (neutral values without a competition section)."""
    c = s.competition
    if c is None:
        return {
            key: False
            if key == "has_competition"
            else float("nan")
            if key.startswith("entry_month")
            else 0.0
            for key in COMPETITION_COLUMNS
        }
    m = c.moat
    return {
        "has_competition": True,
        "entry_months_after_tcpmf": float("nan")
        if c.entry_months_after_tcpmf is None
        else c.entry_months_after_tcpmf,
        "entry_month": float("nan") if c.entry_month is None else c.entry_month,
        "entry_ramp_months": c.ramp_months,
        "organic_new_users_cut": c.organic_new_users_cut,
        "cac_increase": c.cac_increase,
        "added_monthly_churn": c.added_monthly_churn,
        "subscription_revenue_cut": c.subscription_revenue_cut,
        "ad_rpm_cut": c.ad_rpm_cut,
        "moat_active_users_half": m.active_users_half,
        "moat_active_users_weight": m.active_users_weight,
        "moat_cumulative_users_half": m.cumulative_users_half,
        "moat_cumulative_users_weight": m.cumulative_users_weight,
        "moat_brand_spend_half_usd": m.brand_spend_half_usd,
        "moat_brand_spend_weight": m.brand_spend_weight,
    }


def _price_path_columns(scenarios: Sequence[Scenario], months: int) -> tuple[F | None, F | None]:
    """``(T, N)`` dated-price factors of the scenarios with ``price_path: hindsight`` (NaN elsewhere),
    or ``(None, None)`` when none has one: the engine's D^(-t/12) path, unchanged."""
    dated = [i for i, s in enumerate(scenarios) if uses_price_path(s)]
    if not dated:
        return None, None
    f_in = np.full((months, len(scenarios)), np.nan)
    f_out = np.full((months, len(scenarios)), np.nan)
    for i in dated:
        path_in, path_out = api_price_factors(scenarios[i], months)
        f_in[:, i], f_out[:, i] = path_in, path_out
    return f_in, f_out
