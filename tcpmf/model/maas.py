r"""A model-as-a-service (MaaS) vendor: tokens sold at a price per 1M, served on its own GPUs.

The vendor sells a blend of input and output tokens (input share ``s``) at list prices ``p_in``,
``p_out`` that may fall by a factor ``P`` a year (a price war), gives a share ``f`` of the tokens
away (free tier, trial quotas), and pays ``c_in``, ``c_out`` per 1M to serve them — the self-host
formula :math:`c = g\,G / (3600\,\theta\,u) \cdot 10^6` on its own GPUs, falling by ``D`` a year::

    price(t)  = (s · p_in + (1 − s) · p_out) · P^(−t/12)
    cost(t)   = (s · c_in + (1 − s) · c_out) · D^(−t/12)
    margin_usd_per_mtok(t) = (1 − f) · price(t) − cost(t)        per 1M tokens served, free ones included

Volume ``V(t) = mtok_per_month · (1 + g)^t`` (millions of tokens a month); revenue ``V · (1 − f) ·
price``, gross profit ``V · margin``, net ``gross − fixed``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from tcpmf.catalog.prices import model_price
from tcpmf.core.months import month_index
from tcpmf.formulas.cost import decline
from tcpmf.formulas.economics import first_month, peak_funding_usd
from tcpmf.model.deals import HorizonColumns, token_prices_m0
from tcpmf.model.summary import Summary, check_finite
from tcpmf.schema.scenario import Scenario

__all__ = [
    "MAAS_COLUMNS",
    "MaasArrays",
    "evaluate_maas",
    "maas",
    "maas_columns",
    "selling_prices_m0",
]

F = NDArray[np.float64]


def selling_prices_m0(s: Scenario) -> tuple[float, float]:
    """The vendor's month-0 list prices, USD per 1M input and output tokens."""
    m = s.maas
    assert m is not None
    if m.price_model is not None:
        price = model_price(m.price_model, s.start_month)
        return price.usd_per_mtok_in, price.usd_per_mtok_out
    assert m.usd_per_mtok_in is not None and m.usd_per_mtok_out is not None
    return m.usd_per_mtok_in, m.usd_per_mtok_out


@dataclass(frozen=True)
class MaasArrays(HorizonColumns):
    """N MaaS vendors as columns of shape ``(N,)``."""

    names: list[str]
    start_month_index: NDArray[np.int64]
    horizon_months: NDArray[np.int64]
    price_usd_per_mtok_in_m0: F
    price_usd_per_mtok_out_m0: F
    cost_usd_per_mtok_in_m0: F
    cost_usd_per_mtok_out_m0: F
    annual_cost_decline: F
    price_annual_decline: F
    input_token_share: F
    free_token_share: F
    mtok_per_month: F
    monthly_growth: F
    fixed_usd_per_month: F
    target_margin: F


def maas_columns(scenarios: Sequence[Scenario], names: Sequence[str] | None = None) -> MaasArrays:
    """Columns of MaaS scenarios (``s.maas`` set), in order."""
    rows: dict[str, list[float]] = {}
    for s in scenarios:
        m = s.maas
        assert m is not None, f"{s.name}: not a MaaS scenario"
        p_in, p_out = selling_prices_m0(s)
        c_in, c_out = token_prices_m0(s)
        values = {
            "start_month_index": month_index(s.start_month),
            "horizon_months": s.horizon_months,
            "price_usd_per_mtok_in_m0": p_in,
            "price_usd_per_mtok_out_m0": p_out,
            "cost_usd_per_mtok_in_m0": c_in,
            "cost_usd_per_mtok_out_m0": c_out,
            "annual_cost_decline": s.model.annual_cost_decline,
            "price_annual_decline": m.price_annual_decline,
            "input_token_share": m.input_token_share,
            "free_token_share": m.free_token_share,
            "mtok_per_month": m.mtok_per_month,
            "monthly_growth": m.monthly_growth,
            "fixed_usd_per_month": s.costs.fixed_usd_per_month,
            "target_margin": s.target_margin,
        }
        for key, value in values.items():
            rows.setdefault(key, []).append(float(value))
    if not rows:
        raise ValueError("maas_columns needs at least one MaaS scenario")
    ints = ("start_month_index", "horizon_months")
    columns = {
        key: np.asarray(value, dtype=np.int64 if key in ints else float)
        for key, value in rows.items()
    }
    return MaasArrays(
        names=list(names) if names is not None else [s.name for s in scenarios], **columns
    )  # type: ignore[arg-type]


@dataclass(frozen=True)
class MaasComputed:
    """Per-1M-token economics ``(T, N)``, the monthly frame columns and the summary."""

    per_mtok: dict[str, F]
    monthly: dict[str, F]
    in_horizon: NDArray[np.bool_]
    summary: Summary


def evaluate_maas(a: MaasArrays) -> MaasComputed:
    """Margin per 1M tokens, monthly cash and the summary of MaaS vendors (see the module formula)."""
    months, n = a.months, a.size
    t = np.arange(months)[:, None]
    in_horizon = t < a.horizon_months
    s = a.input_token_share
    price = (s * a.price_usd_per_mtok_in_m0 + (1 - s) * a.price_usd_per_mtok_out_m0) * decline(
        1.0, a.price_annual_decline, t
    )
    cost_factor = decline(1.0, a.annual_cost_decline, t)
    cost = (s * a.cost_usd_per_mtok_in_m0 + (1 - s) * a.cost_usd_per_mtok_out_m0) * cost_factor
    earned = (1.0 - a.free_token_share) * price
    margin = earned - cost
    volume = a.mtok_per_month * (1.0 + a.monthly_growth) ** t.astype(float)
    gross = volume * margin
    fixed = np.broadcast_to(a.fixed_usd_per_month, (months, n))
    net = gross - fixed
    cash = np.cumsum(net, axis=0)
    nan = np.full((months, n), np.nan)
    monthly = {
        "new_users": nan,
        "paid_new_users": nan,
        "active_users": nan,
        "arpu_usd": nan,
        "usd_per_mtok_in": a.cost_usd_per_mtok_in_m0 * cost_factor,
        "usd_per_mtok_out": a.cost_usd_per_mtok_out_m0 * cost_factor,
        "inference_cost_usd_per_mau": nan,
        "contribution_usd_per_mau": nan,
        "revenue_usd": volume * earned,
        "inference_cost_usd": volume * cost,
        "gross_profit_usd": gross,
        "marketing_usd": np.zeros((months, n)),
        "fixed_cost_usd": fixed,
        "net_usd": net,
        "cash_usd": cash,
    }
    tcpmf, tcpmf_found = first_month(margin >= a.target_margin * earned, in_horizon)
    breakeven, breakeven_found = first_month(net >= 0, in_horizon)
    payback, payback_found = first_month(cash >= 0, in_horizon)
    cash_m0_prices = np.cumsum(volume * margin[0] - fixed, axis=0)  # no price war, no cost decline
    payback_m0, payback_m0_found = first_month(cash_m0_prices >= 0, in_horizon)
    none = np.zeros(n, bool)
    summary: Summary = {
        "arpu_usd_m0": (np.zeros(n), none),
        "inference_cost_usd_per_mau_m0": (np.zeros(n), none),
        "usd_per_mtok_blended_m0": (cost[0], None),
        "tokens_per_mau": (np.zeros(n), none),
        "contribution_usd_per_mau_m0": (np.zeros(n), none),
        "gross_margin_m0": (
            np.divide(margin[0], earned[0], out=np.zeros(n), where=earned[0] > 0),
            earned[0] > 0,
        ),
        "ltv_usd": (np.zeros(n), none),
        "ltv_to_cac": (np.zeros(n), none),
        "cac_payback_month": (np.zeros(n, np.int64), none),
        "breakeven_month": (breakeven, breakeven_found),
        "payback_month": (payback, payback_found),
        "payback_month_m0_prices": (payback_m0, payback_m0_found),
        "peak_funding_usd": (peak_funding_usd(cash, in_horizon), None),
        "max_affordable_usd_per_mtok": (earned[0] * (1.0 - a.target_margin), None),
        "tcpmf_month": (tcpmf, tcpmf_found),
        "clears_break_even": ((tcpmf == 0) & tcpmf_found & payback_m0_found, None),
        "deal_margin_usd": (np.zeros(n), none),
        "deals_to_break_even": (np.zeros(n, np.int64), none),
    }
    per_mtok = {
        "price_usd_per_mtok": price,
        "revenue_usd_per_mtok": earned,
        "cost_usd_per_mtok": cost,
        "margin_usd_per_mtok": margin,
    }

    check_finite(a.names, monthly, summary, in_horizon)
    return MaasComputed(per_mtok=per_mtok, monthly=monthly, in_horizon=in_horizon, summary=summary)


#: Columns of :func:`maas`, after ``scenario``.
MAAS_COLUMNS = (
    "price_usd_per_mtok_m0",
    "free_token_share",
    "revenue_usd_per_mtok_m0",
    "cost_usd_per_mtok_m0",
    "margin_usd_per_mtok_m0",
    "margin_share_m0",
    "margin_usd_per_mtok_end",
)


def maas(scenarios: Scenario | Iterable[Scenario]) -> pd.DataFrame:
    """One row per MaaS vendor: price, revenue, cost and margin per 1M tokens served.

    ``*_m0`` columns are at ``start_month``; ``margin_usd_per_mtok_end`` is in the horizon's last
    month, after the price war and the cost decline.  Revenue and margin count the free tokens in
    the denominator: they are per 1M tokens *served*.

    Examples
    --------
    >>> import tcpmf, tcpmf.model.maas
    >>> vendor = tcpmf.model.maas.maas(tcpmf.load("assumptions/products/maas_price_war.yaml"))
    >>> len(vendor)
    1
    """
    items = [scenarios] if isinstance(scenarios, Scenario) else list(scenarios)
    chosen = [s for s in items if s.maas is not None]
    if not chosen:
        from tcpmf.core.errors import TcpmfError

        raise TcpmfError("no MaaS scenario given (a MaaS scenario has a maas section)")
    a = maas_columns(chosen)
    per = evaluate_maas(a).per_mtok
    last = a.horizon_months - 1
    rows = np.arange(a.size)
    earned = per["revenue_usd_per_mtok"][0]
    return pd.DataFrame(
        {
            "scenario": pd.array(a.names, dtype="string"),
            "price_usd_per_mtok_m0": per["price_usd_per_mtok"][0],
            "free_token_share": a.free_token_share,
            "revenue_usd_per_mtok_m0": earned,
            "cost_usd_per_mtok_m0": per["cost_usd_per_mtok"][0],
            "margin_usd_per_mtok_m0": per["margin_usd_per_mtok"][0],
            "margin_share_m0": pd.arrays.FloatingArray(
                np.divide(
                    per["margin_usd_per_mtok"][0], earned, out=np.zeros(a.size), where=earned > 0
                ),
                earned <= 0,
            ),
            "margin_usd_per_mtok_end": per["margin_usd_per_mtok"][last, rows],
        }
    )
