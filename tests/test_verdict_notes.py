"""Verdicts that hang on the horizon or on free users are flagged in `verdict_note`."""

from __future__ import annotations

import json
import re

from typer.testing import CliRunner

import tcpmf
from tcpmf.analysis.verdict_notes import EXTRA_MONTHS, verdict_notes
from tcpmf.cli.main import app
from tcpmf.core.yamlio import assumptions_dir
from tcpmf.model.engine import evaluate

PRODUCTS = assumptions_dir() / "products"


def _note(s: tcpmf.Scenario) -> str:
    return verdict_notes([s], evaluate(s).summary)[0]


def test_payback_just_after_the_horizon_is_flagged_and_goes_with_a_longer_horizon() -> None:
    s = tcpmf.load(PRODUCTS / "tob_private_coding_assistant.yaml")
    note = _note(s)
    match = re.search(r"pays back in month (\d+)", note)
    assert match, note
    month = int(match.group(1))
    assert s.horizon_months <= month < s.horizon_months + EXTRA_MONTHS
    longer = s.override({"horizon_months": month + 1})  # months 0 … month
    assert int(evaluate(longer).summary["payback_month"].iloc[0]) == month
    assert "horizon" not in _note(longer)


def test_clearing_only_with_free_users_is_flagged_and_paid_users_remove_it() -> None:
    s = tcpmf.load(PRODUCTS / "short_video_ai_effects.yaml")
    summary = evaluate(s).summary
    assert bool(summary["clears_break_even"].iloc[0]) and float(summary["ltv_to_cac"].iloc[0]) < 1
    assert "users come free" in _note(s)
    paid = s.override({"growth.paid_budget_usd_per_month": 1000.0})
    assert "users come free" not in _note(paid)


def test_a_clean_verdict_has_no_note() -> None:
    s = tcpmf.load(PRODUCTS / "research_agent.yaml")
    assert _note(s) == ""


def test_breakeven_reports_the_notes() -> None:
    out = CliRunner().invoke(
        app,
        [
            "breakeven",
            "--json",
            str(PRODUCTS / "tob_private_coding_assistant.yaml"),
            str(PRODUCTS / "research_agent.yaml"),
        ],
    )
    assert out.exit_code == 0, out.output
    rows = json.loads(out.stdout)
    notes = {row["product"]: row["verdict_note"] for row in rows}
    assert any("pays back in month" in n for n in notes.values())
    assert "" in notes.values()
