"""The app's short headline verdict and its plain-number formatting (pure functions)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tcpmf
from tcpmf.analysis.levers import apply_lever, what_it_takes
from tcpmf.app.widgets import (
    Control,
    lever_answer_text,
    parse_typed,
    plain_number,
    verdict_headline,
)
from tcpmf.core.yamlio import assumptions_dir
from tcpmf.model.arrays import from_scenarios
from tcpmf.model.engine import evaluate_arrays

PRODUCTS = assumptions_dir() / "products"
CONSUMER = [p for p in sorted(PRODUCTS.glob("*.yaml")) if tcpmf.load(p).kind == "consumer"]


@given(x=st.floats(-1e12, 1e12, allow_nan=False) | st.floats(-1e-3, 1e-3, allow_nan=False))
def test_plain_number_never_uses_scientific_notation_and_reads_back(x: float) -> None:
    text = plain_number(x)
    assert "e" not in text.lower()
    back = float(text.replace(",", ""))
    # three significant figures below 1,000; whole units above
    assert back == pytest.approx(x, rel=5e-3, abs=0.5 if abs(x) >= 100 else 0.0)


@pytest.mark.parametrize(
    ("x", "expected"), [(20000, "20,000"), (0.00217, "0.00217"), (3.8477, "3.85"), (0.0, "0")]
)
def test_plain_number_examples(x: float, expected: str) -> None:
    assert plain_number(x) == expected


def test_lever_answers_carry_their_units() -> None:
    assert lever_answer_text("usd_per_mtok", "token price", "<=", 1.1696) == "token price ≤ $1.17"
    assert lever_answer_text("paid_share", "paid share", ">=", 0.060965) == "paid share ≥ 6.1%"
    assert (
        lever_answer_text("sessions_per_day", "sessions per day", "<=", 0.45596)
        == "sessions per day ≤ 0.456"
    )


@settings(max_examples=25, deadline=None)
@given(path=st.sampled_from(CONSUMER), price_factor=st.floats(0.2, 5.0))
def test_headline_says_clears_exactly_when_the_model_does_and_its_answer_clears(
    path, price_factor: float
) -> None:  # type: ignore[no-untyped-def]
    base = tcpmf.load(path)
    a = from_scenarios([base])
    from tcpmf.analysis.levers import lever_value

    price = lever_value(a, base, "usd_per_mtok") * price_factor
    a = apply_lever(a, base, "usd_per_mtok", [price])
    result = tcpmf.Result(arrays=a, computed=evaluate_arrays(a), scenarios=(base,))
    levers = what_it_takes(base, arrays=a)
    text = verdict_headline(result, levers)
    clears = bool(result.computed.summary["clears_break_even"][0][0])
    assert text.startswith("Clears") == clears
    assert text.startswith("Doesn't clear") == (not clears)
    assert len(text) < 140  # a headline, not a paragraph
    needs = levers[levers["status"] == "needs"].set_index("lever")
    if clears:
        assert "needs" not in text
    elif "usd_per_mtok" in needs.index:
        cheaper = float(needs.loc["usd_per_mtok", "value"])
        assert lever_answer_text("usd_per_mtok", "token price", "<=", cheaper) in text
        # the named token price does clear it (a hair below, to stay off the boundary)
        moved = apply_lever(a, base, "usd_per_mtok", [cheaper * (1 - 1e-6)])
        assert bool(evaluate_arrays(moved).summary["clears_break_even"][0][0])
    elif needs.empty:
        assert text.endswith("no single lever in range clears it")


def test_headline_of_the_writing_assistant_names_token_price_then_paid_share() -> None:
    s = tcpmf.load(PRODUCTS / "writing_assistant.yaml")
    result = tcpmf.evaluate(s)
    levers = what_it_takes(s)
    text = verdict_headline(result, levers)
    needs = levers[levers["status"] == "needs"].set_index("lever")
    contribution = float(result.summary.iloc[0]["contribution_usd_per_mau_m0"])
    assert text.startswith("Doesn't clear — contribution is $")
    assert math.isclose(float(text.split("$")[1].split(" ")[0]), contribution, rel_tol=0.05)
    price_at = text.index("token price ≤")
    share_at = text.index("paid share ≥")
    assert price_at < share_at
    assert f"{100 * float(needs.loc['paid_share', 'value']):.1f}%" in text


PAID_SHARE = Control(
    "paid_share", "paid share", "revenue.subscription.paid_share", 0.035, 0.0, 0.2, allowed_high=1.0
)
HORIZON = Control(
    "horizon_months",
    "horizon",
    "horizon_months",
    36,
    1,
    200,
    allowed_low=1,
    allowed_high=240,
    integer=True,
)


@given(x=st.floats(-10, 10, allow_nan=False))
def test_a_typed_number_is_taken_exactly_or_refused_never_clamped(x: float) -> None:
    value, problem = parse_typed(PAID_SHARE, repr(x), current=0.05)
    if 0.0 <= x <= 1.0:
        assert value == x and problem is None
    else:
        assert (
            value is None
            and problem is not None
            and "kept 0.05" in problem
            and "outside" in problem
        )


@pytest.mark.parametrize("text", ["abc", "", "nan", "inf", "0.3.1"])
def test_text_that_is_not_a_finite_number_is_refused(text: str) -> None:
    value, problem = parse_typed(PAID_SHARE, text)
    assert value is None and problem is not None and problem.startswith("paid share:")


def test_whole_number_keys_refuse_fractions_and_shares_read_percent() -> None:
    assert parse_typed(HORIZON, "60") == (60.0, None)
    assert parse_typed(HORIZON, "60.5")[0] is None
    assert parse_typed(HORIZON, "0")[0] is None
    assert parse_typed(PAID_SHARE, "6.5%") == (pytest.approx(0.065), None)
