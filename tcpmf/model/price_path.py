r"""Dated API price paths: a named model's catalog history, or the cheapest model meeting a floor.

With ``model.price_path: hindsight`` the API price at month ``t`` is the catalog price in force at
``start_month + t`` (after cache and discount) of the named model, or, with a capability floor
(``model.capability``), of the catalog model meeting the floor then whose list price blended by
the product's share of input tokens is lowest.  After the catalog's
last dated change (``L``, the last month a price or a score took effect) the price falls smoothly:

.. math:: c(t) = c(t_L)\,D^{-(t - t_L)/12}, \qquad t_L = L - \text{start\_month}

with ``D`` the scenario's ``annual_cost_decline`` (a floor's fitted decline by default).  The engine
takes the path as factors ``c(t)/c(0)`` on the month-0 prices, in place of :math:`D^{-t/12}`;
``projected`` (the default for a named model) keeps :math:`D^{-t/12}` and has no path here.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from tcpmf.catalog.capability import change_months, cheapest_meeting, resolve_floor
from tcpmf.core.months import month_index, month_label
from tcpmf.core.yamlio import assumptions_dir
from tcpmf.model.routing import _api_prices
from tcpmf.schema.scenario import CapabilityScore, ModelChoice, Scenario

__all__ = ["api_model_path", "api_price_factors", "input_share", "uses_price_path"]


def uses_price_path(s: Scenario) -> bool:
    """True when *s* follows a dated price path (``price_path: hindsight``)."""
    return s.model.price_path == "hindsight"


def api_model_path(s: Scenario, months: int) -> list[str | None]:
    """The catalog model priced at each month ``0..months-1`` (the named model, or the cheapest
    meeting the floor; held at its last value after the catalog's last date); None in the months
    before :attr:`~tcpmf.schema.scenario.Scenario.launch_month`, when no model meets the floor."""
    wait = max(0, month_index(s.launch_month) - month_index(s.start_month))
    path = _model_path(
        s.model.name,
        s.model.capability,
        s.launch_month,
        max(months - wait, 0),
        input_share(s),
        assumptions_dir(),
    )
    return [None] * min(wait, months) + list(path)


def input_share(s: Scenario) -> float:
    """Share of a call's tokens that are input (3/4 with none): the blend a floor's cheapest model minimizes."""
    tin, tout = s.usage.input_tokens_per_call, s.usage.output_tokens_per_call
    return tin / (tin + tout) if tin + tout > 0 else 0.75


@lru_cache(maxsize=512)
def _model_path(
    name: str,
    capability: str | float | CapabilityScore | None,
    start_month: str,
    months: int,
    share: float,
    directory: Path,
) -> tuple[str, ...]:
    if capability is None:
        return (name,) * months
    floor = resolve_floor(capability, directory)
    start, last = month_index(start_month), month_index(change_months(directory)[-1])
    out: list[str] = []
    current = name
    for t in range(months):
        if start + t <= last:
            best = cheapest_meeting(floor, month_label(start + t), directory, share)
            current = best.model if best is not None else current  # none meets: keep the last one
        out.append(current)
    return tuple(out)


def api_price_factors(s: Scenario, months: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """``(c_in(t)/c_in(0), c_out(t)/c_out(0))`` for ``t = 0..months-1`` (see the module formula)."""
    return _factors(s.model, s.start_month, months, input_share(s), assumptions_dir())


@lru_cache(maxsize=512)
def _factors(
    m: ModelChoice, start_month: str, months: int, share: float, directory: Path
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    models = _model_path(m.name, m.capability, start_month, months, share, directory)
    start, last = month_index(start_month), month_index(change_months(directory)[-1])
    c0_in, c0_out = _api_prices(m, models[0], start_month)
    f_in: list[float] = []
    f_out: list[float] = []
    held = (1.0, 1.0)
    for t in range(months):
        if start + t <= last:
            c_in, c_out = _api_prices(m, models[t], month_label(start + t))
            held = (c_in / c0_in if c0_in > 0 else 1.0, c_out / c0_out if c0_out > 0 else 1.0)
            f_in.append(held[0])
            f_out.append(held[1])
        else:
            beyond = m.annual_cost_decline ** (-(start + t - max(last, start)) / 12.0)
            f_in.append(held[0] * beyond)
            f_out.append(held[1] * beyond)
    return tuple(f_in), tuple(f_out)
