"""Flags on verdicts that hang on an artifact of the setting rather than on the economics.

Two artifacts are flagged, one sentence each in ``verdict_note`` (empty when none applies):

- **the horizon**: a product that does not pay back within ``horizon_months`` but would within a
  year more (``pays back in month 37, after the 36-month horizon``): the verdict "no" is the
  horizon's, not the product's;
- **free users**: a consumer product that clears with no paid acquisition while its LTV/CAC is
  below 1: it clears only because its users cost nothing to acquire (a host app's "organic"
  users), and users bought at its own CAC would not pay back.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from tcpmf.model.engine import evaluate
from tcpmf.schema.scenario import Scenario

__all__ = ["EXTRA_MONTHS", "verdict_notes"]

#: Months beyond the horizon searched for a payback the horizon cut off.
EXTRA_MONTHS = 12


def _free_users_note(s: Scenario, row: pd.Series) -> str:
    growth = getattr(s, "growth", None)
    if (
        growth is None
        or not bool(row.get("clears_break_even"))
        or growth.paid_budget_usd_per_month > 0
    ):
        return ""
    ltv_to_cac = row.get("ltv_to_cac")
    if ltv_to_cac is None or pd.isna(ltv_to_cac) or float(ltv_to_cac) >= 1:
        return ""
    return (
        f"clears only because its users come free (no paid acquisition): LTV/CAC {float(ltv_to_cac):.2f} < 1, "
        "users bought at its CAC would not pay back"
    )


def _horizon_note(s: Scenario, row: pd.Series) -> str:
    if bool(row.get("clears_break_even")) or not pd.isna(row.get("payback_month")):
        return ""
    longer = s.override({"horizon_months": s.horizon_months + EXTRA_MONTHS})
    payback = evaluate(longer).summary["payback_month"].iloc[0]
    if pd.isna(payback):
        return ""
    month = int(payback)
    return (
        f"pays back in month {month}, just beyond the {s.horizon_months}-month horizon (months 0-{s.horizon_months - 1}): "
        "the 'no' is the horizon's"
    )


def verdict_notes(scenarios: Sequence[Scenario], summary: pd.DataFrame) -> list[str]:
    """One note per scenario (``""`` when its verdict hangs on nothing artificial).

    *summary* is the engine's summary of *scenarios*, one row each, in the same order.
    """
    notes = []
    for s, (_, row) in zip(scenarios, summary.iterrows(), strict=True):
        parts = [note for note in (_horizon_note(s, row), _free_users_note(s, row)) if note]
        notes.append("; ".join(parts))
    return notes
