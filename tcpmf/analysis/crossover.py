r"""Self-host or API? The monthly token volume above which rented GPUs are cheaper (docs/model.md §1).

At a monthly volume ``V`` of the scenario's token mix (share ``f_in`` input, ``f_out`` output) the
API bill is ``a·V`` with ``a`` the API price per token: the scenario's API routes blended by share,
at the effective month-0 prices the engine charges (cached input and discount included,
:func:`tcpmf.model.routing.api_route_prices_m0`).  With a routing mix, ``V`` is the volume of the calls
on the API routes, compared with serving those same calls on the scenario's self-host set-up.  Self-
hosting provisions ``R(V) = max(R_min, ⌈V / C⌉)`` replicas, where one replica sized for the peak
serves ``C = 2.592e6 / (p · s)`` tokens a month (``s = f_in/θ_in + f_out/θ_out`` replica-seconds
per token, ``p`` the peak-to-average ratio, 2.592e6 seconds in a 30-day month), and costs
``K = G·g·720`` USD a month.  Self-hosting is cheaper at ``V`` when ``R(V)·K ≤ a·V``.  That holds
for every volume above

.. math:: V^* = R^* \cdot K / a, \qquad R^* = \max\left(R_{min},\ \left\lceil \frac{C}{C - K/a} \right\rceil - 1\right)

when ``K/a < C`` (a fully provisioned replica beats the API), and never otherwise.  The crossover
in users is ``V* / (s_api · tokens_per_mau)`` with ``s_api`` the API routes' share of calls.  All of it is vectorized over scenarios.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from tcpmf.catalog.prices import gpu_rent
from tcpmf.core.errors import TcpmfError
from tcpmf.core.extras import import_optional
from tcpmf.model.capacity import HOURS_PER_MONTH
from tcpmf.model.engine import evaluate
from tcpmf.model.routing import api_route_prices_m0, self_host_throughput
from tcpmf.schema.scenario import Scenario, SelfHost

__all__ = ["DEFAULT_SELF_HOST", "crossover", "crossover_chart", "crossover_volume"]

SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600.0

#: Self-host set-up compared with API-only scenarios (``assumed``: the TensorRT-LLM calibration
#: set-up of assumptions/catalog/serving_calibration.yaml, with peak demand twice the average).
DEFAULT_SELF_HOST: dict[str, Any] = {
    "gpu": "h100-sxm",
    "architecture": "llama-3.1-8b",
    "precision": "fp8",
    "peak_to_average": 2.0,
}
#: API model compared with self-host-only scenarios.
DEFAULT_API_MODEL = "gpt-4o-mini"


def crossover_volume(
    api_usd_per_token: np.ndarray,
    usd_per_replica_month: np.ndarray,
    tokens_per_replica_month: np.ndarray,
    min_replicas: np.ndarray,
) -> np.ndarray:
    """``V*`` in tokens per month (``inf`` where self-hosting never wins); see the module formula.

    Examples
    --------
    >>> float(crossover_volume(np.array(1e-6), np.array(1000.0), np.array(1e10), np.array(1.0))[()])
    1000000000.0
    """
    a = np.asarray(api_usd_per_token, float)
    k = np.asarray(usd_per_replica_month, float)
    c = np.asarray(tokens_per_replica_month, float)
    r_min = np.asarray(min_replicas, float)
    break_even = np.divide(k, a, out=np.full(np.broadcast(k, a).shape, np.inf), where=a > 0)
    wins = break_even < c
    r_star = np.maximum(
        r_min, np.ceil(np.divide(c, c - break_even, out=np.ones_like(break_even), where=wins)) - 1
    )
    return np.where(wins, r_star * break_even, np.inf)


def _describe_host(host: SelfHost) -> str:
    """``llama-3.1-8b fp8 on 1x h100-sxm`` (or ``measured throughput on …``)."""
    what = f"{host.architecture} {host.precision}" if host.architecture else "measured throughput"
    return f"{what} on {host.gpus_per_replica}x {host.gpu}"


def _host(s: Scenario, self_host: Mapping[str, Any] | None) -> tuple[SelfHost, str]:
    """The self-host set-up compared and where it comes from: scenario, given or default."""
    if s.model.self_host is not None:
        return s.model.self_host, "scenario"
    chosen = DEFAULT_SELF_HOST if self_host is None else self_host
    try:
        host = SelfHost.model_validate(dict(chosen))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise TcpmfError(f"self-host set-up {dict(chosen)}: {problems}") from None
    return host, "default" if self_host is None else "given"


def _parts(s: Scenario, api_model: str, self_host: Mapping[str, Any] | None) -> dict[str, Any]:
    if s.kind != "consumer":
        raise TcpmfError(
            f"{s.file}: crossover compares API and self-host cost per monthly active user, which a "
            f"{s.kind} scenario does not have (it needs usage and retention)"
        )
    u = s.usage
    per_call = u.input_tokens_per_call + u.output_tokens_per_call
    f_in = u.input_tokens_per_call / per_call if per_call > 0 else 0.5
    # the prices the engine charges (cache, discount, routes), not list prices
    try:
        api_routes = api_route_prices_m0(s, fallback_model=api_model)
    except KeyError as exc:
        raise TcpmfError(f"API model {api_model!r}: {exc.args[0]}") from None
    except LookupError as exc:
        raise TcpmfError(
            f"API model {api_model!r}: {exc.args[0]} (start_month is {s.start_month})"
        ) from None
    api_share = sum(share for _, share, _, _ in api_routes)
    c_in = sum(share * a_in for _, share, a_in, _ in api_routes) / api_share
    c_out = sum(share * a_out for _, share, _, a_out in api_routes) / api_share
    api = f_in * c_in + (1 - f_in) * c_out
    models = " + ".join(
        name if len(api_routes) == 1 else f"{name} {share / api_share:.0%}"
        for name, share, _, _ in api_routes
    )
    host, origin = _host(s, self_host)
    try:
        theta_in, theta_out = self_host_throughput(
            host, u.input_tokens_per_call, u.output_tokens_per_call, u.output_tokens_per_s_per_user
        )
        rent = host.usd_per_gpu_hour or gpu_rent(host.gpu, s.start_month).usd_per_gpu_hour
    except KeyError as exc:
        raise TcpmfError(f"self-host set-up ({_describe_host(host)}): {exc.args[0]}") from None
    peak = host.peak_to_average or 1.0 / (host.utilization or 1.0)
    seconds_per_token = f_in / theta_in + (1 - f_in) / theta_out
    return {
        "api_models": models,
        "api_share": api_share,
        "self_host": _describe_host(host),
        "self_host_from": origin,
        "api_usd_per_mtok": api,
        "self_host_usd_per_mtok_full": rent
        * host.gpus_per_replica
        / 3600
        * seconds_per_token
        * 1e6,
        "usd_per_replica_month": rent * host.gpus_per_replica * HOURS_PER_MONTH,
        "tokens_per_replica_month": SECONDS_PER_MONTH / (peak * seconds_per_token),
        "peak_to_average": peak,
        "min_replicas": float(host.min_replicas),
        "concurrent_users_per_replica": (
            theta_out / speed
            if (speed := host.peak_output_tokens_per_s_per_user or u.output_tokens_per_s_per_user)
            else np.nan
        ),
    }


def crossover(
    scenarios: Scenario | Iterable[Scenario],
    api_model: str = DEFAULT_API_MODEL,
    self_host: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """The monthly token volume and MAU above which self-hosting is cheaper than the API.

    Parameters
    ----------
    scenarios
        One scenario or several.  Its API routes (blended by share) give the API price — the
        effective month-0 price the engine charges, after ``cached_input_share``, the cached-input
        price and ``price_discount`` — and its ``model.self_host`` the GPU set-up.  With a routing
        mix the comparison is between the calls on its API routes and serving those same calls
        on its self-host set-up; ``crossover_mau`` counts the users whose API-routed tokens reach
        the crossover volume.  What a scenario lacks comes from *api_model* and *self_host*
        (default :data:`DEFAULT_SELF_HOST`; column ``self_host_from`` says ``scenario``,
        ``given`` or ``default``).  A fixed ``utilization`` counts as a peak-to-average ratio of
        ``1/utilization``.

    Returns
    -------
    pandas.DataFrame
        One row per scenario: ``api_models`` and ``api_share`` (the API routes compared and
        their share of calls), ``self_host`` (architecture, precision, GPUs) and
        ``self_host_from``, ``api_usd_per_mtok``, ``self_host_usd_per_mtok_full`` (at full
        utilization), ``tokens_per_replica_month``, ``crossover_tokens_per_month`` and
        ``crossover_mau`` (missing when self-hosting never wins), ``concurrent_users_per_replica``.

    Examples
    --------
    >>> import tcpmf
    >>> found = tcpmf.crossover(tcpmf.load("assumptions/products/ai_friends_selfhosted.yaml"))
    """
    items = [scenarios] if isinstance(scenarios, Scenario) else list(scenarios)
    rows = [_parts(s, api_model, self_host) for s in items]
    frame = pd.DataFrame(rows)
    frame.insert(0, "tokens_per_mau", evaluate(items).summary["tokens_per_mau"].to_numpy(float))
    volume = crossover_volume(
        frame["api_usd_per_mtok"].to_numpy() / 1e6,
        frame["usd_per_replica_month"].to_numpy(),
        frame["tokens_per_replica_month"].to_numpy(),
        frame["min_replicas"].to_numpy(),
    )
    found = np.isfinite(volume)
    tokens = (
        frame["tokens_per_mau"].to_numpy() * frame["api_share"].to_numpy()
    )  # API-routed tokens per MAU
    mau = np.divide(volume, tokens, out=np.zeros_like(volume), where=found & (tokens > 0))
    frame.insert(0, "scenario", pd.array([s.name for s in items], dtype="string"))
    frame["crossover_tokens_per_month"] = pd.arrays.FloatingArray(
        np.where(found, volume, 0.0), ~found
    )
    frame["crossover_mau"] = pd.arrays.FloatingArray(mau, ~(found & (tokens > 0)))
    return frame


def crossover_chart(
    scenario: Scenario,
    api_model: str = DEFAULT_API_MODEL,
    self_host: Mapping[str, Any] | None = None,
) -> Any:
    """An Altair chart: USD per 1M tokens against monthly token volume, API vs self-host.

    The self-host line is the sawtooth ``R(V)·K / V``; a rule marks the crossover.
    """
    import_optional("altair", "the crossover chart")
    import altair as alt

    p = _parts(scenario, api_model, self_host)
    volume = np.geomspace(
        p["tokens_per_replica_month"] / 100, p["tokens_per_replica_month"] * 100, 400
    )
    replicas = np.maximum(p["min_replicas"], np.ceil(volume / p["tokens_per_replica_month"]))
    data = pd.concat(
        [
            pd.DataFrame(
                {
                    "tokens_per_month": volume,
                    "usd_per_mtok": replicas * p["usd_per_replica_month"] / volume * 1e6,
                    "route": "self-host",
                }
            ),
            pd.DataFrame(
                {"tokens_per_month": volume, "usd_per_mtok": p["api_usd_per_mtok"], "route": "API"}
            ),
        ]
    )
    lines = (
        alt.Chart(data)
        .mark_line()
        .encode(
            x=alt.X("tokens_per_month:Q", scale=alt.Scale(type="log"), title="tokens per month"),
            y=alt.Y("usd_per_mtok:Q", scale=alt.Scale(type="log"), title="USD per 1M tokens"),
            color="route:N",
        )
    )
    v = crossover_volume(
        np.array(p["api_usd_per_mtok"] / 1e6),
        np.array(p["usd_per_replica_month"]),
        np.array(p["tokens_per_replica_month"]),
        np.array(p["min_replicas"]),
    )
    origin = "" if p["self_host_from"] == "scenario" else f", {p['self_host_from']} set-up"
    title = f"{scenario.name}: self-host ({p['self_host']}{origin}) vs API ({p['api_models']})"
    if np.isfinite(v):
        rule = (
            alt.Chart(pd.DataFrame({"tokens_per_month": [float(v)]}))
            .mark_rule(strokeDash=[4, 4])
            .encode(x="tokens_per_month:Q")
        )
        return (lines + rule).properties(title=title)
    return lines.properties(title=title)
