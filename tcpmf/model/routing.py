r"""Month-0 token prices of a scenario's model mix: API routes and the self-host route.

A scenario sends shares ``s_k`` of its calls to routes (``model.routes``; a single-model scenario
is one route of share 1, ``model.route``/``model.name``).  Its month-0 price per 1M tokens is the
share-weighted sum

.. math:: c(0) = \sum_{k\,\in\,api} s_k\,c_k(0) \;+\; s_{host}\,\frac{c_{host}(0)}{u}

where ``c_k`` is an API price after cache and discount and ``c_host = g·G/(3600·θ)·1e6`` the GPU
price at full utilization.  With a fixed ``utilization`` the self-host term is priced here; with a
``peak_to_average`` it depends on the month's demand and is priced by the engine
(:mod:`tcpmf.model.capacity`), so it is returned separately at ``u = 1``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from tcpmf.catalog.prices import gpu_rent, model_price
from tcpmf.core.months import month_index, month_label
from tcpmf.formulas.cost import api_usd_per_mtok, self_host_usd_per_mtok
from tcpmf.schema.scenario import ModelChoice, Scenario, SelfHost

__all__ = [
    "RoutePrices",
    "api_route_prices_m0",
    "rent_factor_path",
    "route_prices_m0",
    "self_host_throughput",
]


@dataclass(frozen=True)
class RoutePrices:
    """USD per 1M tokens at month 0, share-weighted, and the demand-driven self-host terms."""

    usd_per_mtok_in: float  # API routes + fixed-utilization self-host
    usd_per_mtok_out: float
    demand_usd_per_mtok_in: float  # demand-driven self-host at full utilization (0 if none)
    demand_usd_per_mtok_out: float
    usd_per_replica_hour: float  # G·g at start_month of the demand-driven route (0 if none)
    self_host_share: float


def self_host_throughput(
    host: SelfHost,
    input_tokens_per_call: float,
    output_tokens_per_call: float,
    output_tokens_per_s_per_user: float | None = None,
) -> tuple[float, float]:
    """``(θ_in, θ_out)`` tokens/s per replica: given, or the roofline estimate of the architecture.

    The roofline's context is ``context_tokens`` or ``input + output`` tokens per call; a required
    *output_tokens_per_s_per_user* caps its batch (:func:`tcpmf.catalog.roofline.max_batch_at_user_speed`).
    Measured throughputs were measured at their own batch and are returned as given.
    """
    if (
        host.input_tokens_per_s_per_replica is not None
        and host.output_tokens_per_s_per_replica is not None
    ):
        return host.input_tokens_per_s_per_replica, host.output_tokens_per_s_per_replica
    from tcpmf.catalog.roofline import estimate

    assert host.architecture is not None
    context = host.context_tokens or max(1, round(input_tokens_per_call + output_tokens_per_call))
    t = estimate(
        host.architecture,
        host.gpu,
        host.precision,
        host.gpus_per_replica,
        context,
        host.batch,
        output_tokens_per_s_per_user=output_tokens_per_s_per_user,
        input_tokens_per_call=input_tokens_per_call,
        output_tokens_per_call=output_tokens_per_call,
    )
    return float(t.input_tokens_per_s_per_replica), float(t.output_tokens_per_s_per_replica)


def _api_prices(m: ModelChoice, name: str | None, start_month: str) -> tuple[float, float]:
    if name is None:
        assert m.usd_per_mtok_in is not None and m.usd_per_mtok_out is not None
        p_in, p_out, p_cached = m.usd_per_mtok_in, m.usd_per_mtok_out, None
    else:
        price = model_price(name, start_month)
        p_in, p_out, p_cached = (
            price.usd_per_mtok_in,
            price.usd_per_mtok_out,
            price.usd_per_mtok_cached_in,
        )
    if m.cached_input_price_factor is not None:
        p_cached = p_in * m.cached_input_price_factor
    c_in, c_out = api_usd_per_mtok(
        p_in, p_out, p_in if p_cached is None else p_cached, m.cached_input_share, m.price_discount
    )
    return float(c_in), float(c_out)


def _routes(s: Scenario) -> list[tuple[str, str | None, float]]:
    """``(route, catalog name or None for explicit prices, share)`` of each of *s*'s routes."""
    m = s.model
    if m.routes is not None:
        return [(r.route, r.name, r.share) for r in m.routes]
    return [(m.route, None if m.usd_per_mtok_in is not None else m.name, 1.0)]


def api_route_prices_m0(
    s: Scenario, fallback_model: str | None = None
) -> list[tuple[str, float, float, float]]:
    """``(model, share, c_in, c_out)`` of each API route of *s*: the effective month-0 USD per 1M
    tokens the engine charges (after cache and discount), share of calls unnormalized.

    Without an API route, *fallback_model* (if given) priced with the scenario's cache and
    discount settings, share 1; else an empty list.
    """
    m = s.model
    out = []
    for route, name, share in _routes(s):
        if route == "api":
            c_in, c_out = _api_prices(m, name, s.start_month)
            out.append((m.name if name is None else name, share, c_in, c_out))
    if not out and fallback_model is not None:
        c_in, c_out = _api_prices(m, fallback_model, s.start_month)
        out.append((fallback_model, 1.0, c_in, c_out))
    return out


def route_prices_m0(s: Scenario) -> RoutePrices:
    """The month-0 prices of *s*'s model mix (see the module formula)."""
    m = s.model
    c_in = c_out = d_in = d_out = per_replica_hour = host_share = 0.0
    for route, name, share in _routes(s):
        if route == "api":
            a_in, a_out = _api_prices(m, name, s.start_month)
            c_in += share * a_in
            c_out += share * a_out
            continue
        host = m.self_host
        assert host is not None
        rent = host.usd_per_gpu_hour or gpu_rent(host.gpu, s.start_month).usd_per_gpu_hour
        theta_in, theta_out = self_host_throughput(
            host,
            s.usage.input_tokens_per_call,
            s.usage.output_tokens_per_call,
            s.usage.output_tokens_per_s_per_user,
        )
        host_share = share
        if host.utilization is not None:
            c_in += share * float(
                self_host_usd_per_mtok(rent, host.gpus_per_replica, theta_in, host.utilization)
            )
            c_out += share * float(
                self_host_usd_per_mtok(rent, host.gpus_per_replica, theta_out, host.utilization)
            )
        else:
            d_in = share * float(self_host_usd_per_mtok(rent, host.gpus_per_replica, theta_in, 1.0))
            d_out = share * float(
                self_host_usd_per_mtok(rent, host.gpus_per_replica, theta_out, 1.0)
            )
            per_replica_hour = rent * host.gpus_per_replica
    return RoutePrices(c_in, c_out, d_in, d_out, per_replica_hour, host_share)


def rent_factor_path(s: Scenario, months: int) -> tuple[float, ...]:
    """GPU rent in force at each month ÷ rent at ``start_month`` for the demand-driven route.

    1 throughout without a self-host route, with ``usd_per_gpu_hour`` given, or with a fixed
    ``utilization`` (whose formula keeps the start-month rent).
    """
    host = s.model.self_host
    if host is None or host.usd_per_gpu_hour is not None or host.utilization is not None:
        return (1.0,) * months
    return _rent_path(host.gpu, s.start_month, months)


@lru_cache(maxsize=256)
def _rent_path(gpu: str, start_month: str, months: int) -> tuple[float, ...]:
    start = month_index(start_month)
    base = gpu_rent(gpu, start_month).usd_per_gpu_hour
    return tuple(
        gpu_rent(gpu, month_label(start + t)).usd_per_gpu_hour / base for t in range(months)
    )
