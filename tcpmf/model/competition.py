"""An incumbent enters after the product's TC-PMF: two engine passes (docs/model.md §6.2).

The entry month may depend on the outcome (``entry_months_after_tcpmf`` counts from the TC-PMF
month), so scenarios with a ``competition`` section are evaluated twice, each pass vectorized:

1. every scenario without competition, which gives the TC-PMF month, and what the product had
   built before any month (active users, users ever acquired, marketing spent);
2. the scenarios with competition, with the incumbent's effects from their entry month on, each
   scaled by ``1 − moat offset`` (the moat from what pass 1 had built by the entry).

Before the entry month the two passes agree (to rounding); scenarios without a section keep the
first pass's numbers, bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from tcpmf.formulas.competition import entry_intensity, moat_offset, survival
from tcpmf.formulas.economics import cumulative_over_months
from tcpmf.model.summary import Computed, NotFinite, Summary

if TYPE_CHECKING:
    from tcpmf.model.arrays import ScenarioArrays

__all__ = ["COMPETITION_SUMMARY_COLUMNS", "Market", "entry_months", "evaluate_competing"]

F = NDArray[np.float64]

#: Summary columns of a result in which some scenario has a ``competition`` section (missing for
#: the others).  ``payback_month`` and ``peak_funding_usd`` of such a scenario are with competition.
COMPETITION_SUMMARY_COLUMNS = (
    "entry_month",
    "window_months",
    "active_users_at_entry",
    "cash_usd_at_entry",
    "moat_offset",
    "survives_entry",
    "payback_month_without_competition",
    "peak_funding_usd_without_competition",
)


@dataclass(frozen=True)
class Market:
    """The incumbent's effect on the startup month by month, each ``(T, N)``; 1 (and a survival of
    1) before the entry month."""

    organic_new_users_factor: F
    paid_new_users_factor: F  # 1 / (1 + CAC increase)
    survival: F  # S(t) = Π (1 − added hazard)
    subscription_factor: F
    ads_factor: F


def entry_months(
    a: ScenarioArrays, tcpmf_month: NDArray[np.int64], tcpmf_found: NDArray[np.bool_]
) -> F:
    """The month the incumbent enters each scenario: ``⌈entry_month⌉``, or ``tcpmf_month +
    ⌈entry_months_after_tcpmf⌉``; ``inf`` where the product never reaches TC-PMF (nothing to copy)
    or the scenario has no competition section."""
    assert (
        a.entry_month is not None
        and a.entry_months_after_tcpmf is not None
        and a.has_competition is not None
    )
    after = np.where(tcpmf_found, tcpmf_month + np.ceil(a.entry_months_after_tcpmf), np.inf)
    entry = np.where(np.isnan(a.entry_month), after, np.ceil(a.entry_month))
    return np.where(a.has_competition & ~np.isnan(entry), entry, np.inf)


def _column(a: ScenarioArrays, name: str) -> F:
    value = getattr(a, name)
    assert value is not None, name
    return np.asarray(value, dtype=float)


def _at_month_before(values: F, entry: F) -> F:
    """``values[entry − 1]`` column by column; 0 where the entry is in month 0 or never comes."""
    months, n = values.shape
    before = np.isfinite(entry) & (entry >= 1)
    k = np.where(before, np.minimum(entry - 1, months - 1), 0).astype(np.int64)
    return np.where(before, values[k, np.arange(n)], 0.0)


def evaluate_competing(
    a: ScenarioArrays, monthly: bool, evaluate: Callable[..., Computed]
) -> Computed:
    """:func:`tcpmf.model.engine.evaluate_arrays` for columns some of which have a competition section."""
    from tcpmf.model.arrays import COMPETITION_COLUMNS

    assert a.has_competition is not None
    without: dict[str, Any] = dict.fromkeys(COMPETITION_COLUMNS)
    base = evaluate(replace(a, **without), True)
    rows = np.flatnonzero(a.has_competition)
    sub = a.rows(rows)
    tcpmf_month, tcpmf_found = base.summary["tcpmf_month"]
    assert tcpmf_found is not None
    entry = entry_months(sub, tcpmf_month[rows].astype(np.int64), tcpmf_found[rows])
    b = {
        name: base.monthly[name][:, rows]
        for name in ("active_users", "new_users", "marketing_usd", "cash_usd")
    }
    active_at_entry = _at_month_before(b["active_users"], entry)
    offset = moat_offset(
        _at_month_before(
            np.maximum.accumulate(b["active_users"], axis=0), entry
        ),  # the peak reached: scale
        _column(sub, "moat_active_users_half"),
        _column(sub, "moat_active_users_weight"),
        _at_month_before(cumulative_over_months(b["new_users"]), entry),
        _column(sub, "moat_cumulative_users_half"),
        _column(sub, "moat_cumulative_users_weight"),
        _at_month_before(cumulative_over_months(np.ascontiguousarray(b["marketing_usd"])), entry),
        _column(sub, "moat_brand_spend_half_usd"),
        _column(sub, "moat_brand_spend_weight"),
    )
    intensity = entry_intensity(a.months, entry, _column(sub, "entry_ramp_months")) * (1.0 - offset)
    market = Market(
        organic_new_users_factor=1.0 - intensity * _column(sub, "organic_new_users_cut"),
        paid_new_users_factor=1.0 / (1.0 + intensity * _column(sub, "cac_increase")),
        survival=survival(intensity * _column(sub, "added_monthly_churn")),
        subscription_factor=1.0 - intensity * _column(sub, "subscription_revenue_cut"),
        ads_factor=1.0 - intensity * _column(sub, "ad_rpm_cut"),
    )
    try:
        competing = evaluate(replace(sub, **without), True, market)
    except NotFinite as exc:  # the row in all of a, not among the competing ones
        raise NotFinite(str(exc), int(rows[exc.row])) from None
    summary = _splice_summary(base.summary, competing.summary, rows, a.size)
    horizon = a.horizon_months[rows]
    entered = np.isfinite(entry) & (entry < horizon)
    cash = competing.monthly["cash_usd"]
    last = cash[np.clip(horizon - 1, 0, a.months - 1), np.arange(rows.size)]
    tcpmf_rows = tcpmf_month[rows].astype(float)
    payback, payback_found = base.summary["payback_month"]
    assert payback_found is not None
    extra: Summary = {
        "entry_month": (
            np.where(np.isfinite(entry), entry, 0).astype(np.int64),
            np.isfinite(entry),
        ),
        "window_months": (
            np.where(np.isfinite(entry), entry - tcpmf_rows, 0).astype(np.int64),
            np.isfinite(entry) & tcpmf_found[rows],
        ),
        "active_users_at_entry": (active_at_entry, entered),
        "cash_usd_at_entry": (_at_month_before(b["cash_usd"], entry), entered),
        "moat_offset": (offset, entered),
        "survives_entry": (last >= 0, entered),
        "payback_month_without_competition": (payback[rows], payback_found[rows]),
        "peak_funding_usd_without_competition": (base.summary["peak_funding_usd"][0][rows], None),
    }
    for name, (values, valid) in extra.items():
        full_values = np.zeros(a.size, dtype=values.dtype)
        full_values[rows] = values
        full_valid = np.zeros(a.size, bool)
        full_valid[rows] = True if valid is None else valid
        summary[name] = (full_values, full_valid)
    table = {}
    if monthly:
        for name, column in base.monthly.items():
            merged = np.array(np.broadcast_to(column, (a.months, a.size)))
            merged[:, rows] = competing.monthly[name]
            table[name] = merged
    return Computed(monthly=table, in_horizon=base.in_horizon, summary=summary)


def _splice_summary(
    base: Summary, competing: Summary, rows: NDArray[np.int64], size: int
) -> Summary:
    out: Summary = {}
    for name, (values, valid) in base.items():
        new_values, new_valid = competing[name]
        merged = np.array(values, copy=True)
        merged[rows] = new_values
        if valid is None and new_valid is None:
            out[name] = (merged, None)
            continue
        mask = np.ones(size, bool) if valid is None else np.array(valid, copy=True)
        mask[rows] = True if new_valid is None else new_valid
        out[name] = (merged, mask)
    return out
