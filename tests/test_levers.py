"""``tcpmf.what_it_takes``, price elasticity and ``tcpmf levers``.

The lever answers are checked against the engine itself: just on the clearing side of a reported
value the engine's ``clears_break_even`` holds, just on the other side it does not.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import strategies as S
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import tcpmf
from tcpmf.analysis.levers import LEVERS, apply_lever, clearing_score, repeat, what_it_takes
from tcpmf.cli.main import app
from tcpmf.core.yamlio import assumptions_dir
from tcpmf.formulas.revenue import elastic_paid_share
from tcpmf.model.arrays import from_scenarios
from tcpmf.model.engine import evaluate_arrays
from tcpmf.schema.scenario import ShiftedBetaGeometric

PRODUCTS = [
    p
    for p in sorted((assumptions_dir() / "products").glob("*.yaml"))
    if getattr(tcpmf.load(p), "kind", "consumer") == "consumer"
]
OTHERS = [p for p in sorted((assumptions_dir() / "products").glob("*.yaml")) if p not in PRODUCTS]
SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def engine_clears(s: tcpmf.Scenario, lever: str, values: Any) -> np.ndarray:
    """The engine's own clears_break_even with *lever* set to each of *values*."""
    values = np.atleast_1d(np.asarray(values, float))
    batch = apply_lever(repeat(from_scenarios([s]), values.size), s, lever, values)
    flag, _ = evaluate_arrays(batch).summary["clears_break_even"]
    return np.asarray(flag, bool)


def check_answer(s: tcpmf.Scenario, row: Any) -> None:
    """The reported boundary separates clearing from not clearing, on the side it says."""
    if row.status not in ("needs", "clears"):
        return
    value = float(row.value)
    step = max(abs(value), 1e-3) * 1e-6
    inside = value + step if row.direction == ">=" else value - step
    outside = value - step if row.direction == ">=" else value + step
    lo, hi = float(row.low), float(row.high)
    if lo <= inside <= hi:
        assert engine_clears(s, row.lever, inside)[0], (row.lever, value, inside)
    if lo <= outside <= hi:
        assert not engine_clears(s, row.lever, outside)[0], (row.lever, value, outside)


@pytest.mark.parametrize("path", PRODUCTS, ids=lambda p: p.stem)
def test_every_answer_separates_clearing_from_not_for_bundled_products(path: Path) -> None:
    s = tcpmf.load(path)
    frame = what_it_takes(s)
    assert list(frame["lever"]) == list(LEVERS)
    for row in frame.itertuples(index=False):
        check_answer(s, row)
        if row.status == "never":  # nothing in range clears: check a spread of values
            grid = np.linspace(float(row.low), min(float(row.high), 1e4), 50)
            assert not engine_clears(s, row.lever, grid).any(), row.lever
        if row.status == "always":
            grid = np.linspace(float(row.low), min(float(row.high), 1e4), 50)
            assert engine_clears(s, row.lever, grid).all(), row.lever


@pytest.mark.parametrize("path", PRODUCTS, ids=lambda p: p.stem)
def test_closed_form_equals_root_finding(path: Path) -> None:
    s = tcpmf.load(path)
    closed = what_it_takes(s, method="auto")
    numeric = what_it_takes(s, method="root_finding")
    assert list(closed["status"]) == list(numeric["status"])
    both = closed["value"].notna()
    np.testing.assert_allclose(
        closed["value"][both].to_numpy(float),
        numeric["value"][both].to_numpy(float),
        rtol=1e-6,
        atol=1e-9,
    )
    assert (closed["method"] == "closed form").sum() >= 4


@SETTINGS
@given(
    S.scenarios(name="any", horizons=st.integers(1, 36)),
    st.sampled_from(list(LEVERS)),
    st.lists(S.num(0.0, 3.0, 0.5, 1.0, 2.0), min_size=1, max_size=6),
)
def test_clearing_score_sign_is_the_engine_flag(
    d: dict[str, Any], lever: str, factors: list[float]
) -> None:
    s = tcpmf.from_dict(d)
    frame = what_it_takes(s)
    row = frame.set_index("lever").loc[lever]
    assume(row["status"] != "n/a")
    current = float(row["current"]) if not math.isnan(float(row["current"])) else 0.5
    values = np.clip(
        np.asarray(factors) * max(current, 1e-3), float(row["low"]), float(row["high"])
    )
    batch = apply_lever(repeat(from_scenarios([s]), values.size), s, lever, values)
    score = clearing_score(batch)
    flag, _ = evaluate_arrays(batch).summary["clears_break_even"]
    decided = np.abs(score) > 1e-9 * (1.0 + np.abs(score))
    np.testing.assert_array_equal((score >= 0)[decided], np.asarray(flag, bool)[decided])


@SETTINGS
@given(S.scenarios(name="any", horizons=st.integers(1, 36)))
def test_answers_hold_for_random_scenarios(d: dict[str, Any]) -> None:
    # A demand-driven self-host cost steps at every added replica, so a lever may cross the
    # clearing line several times inside one grid cell; the bundled-product test covers that route.
    host = d["model"].get("self_host") or {}
    assume(not (d["model"].get("route") == "self_host" and "utilization" not in host))
    s = tcpmf.from_dict(d)
    for row in what_it_takes(s).itertuples(index=False):
        check_answer(s, row)


def _demand_driven_mix() -> tcpmf.Scenario:
    """The writing assistant with 70% of its calls on a demand-driven self-hosted Llama."""
    s = tcpmf.load(assumptions_dir() / "products" / "writing_assistant.yaml")
    host = tcpmf.load(assumptions_dir() / "products" / "ai_friends_selfhosted.yaml").model.self_host
    assert host is not None
    demand = {**host.model_dump(exclude_none=True), "peak_to_average": 2.0}
    demand.pop("utilization")
    return s.override(
        {
            "model.routes": [
                {"name": "llama-3.1-8b", "share": 0.7, "route": "self_host"},
                {"name": "gpt-4o", "share": 0.3},
            ],
            "model.self_host": demand,
        }
    )


@pytest.mark.parametrize("which", ["mix", "all_self_host"])
def test_token_price_lever_of_a_demand_driven_host_is_the_effective_price(which: str) -> None:
    s = _demand_driven_mix()
    if which == "all_self_host":
        s = tcpmf.load(assumptions_dir() / "products" / "ai_friends_selfhosted.yaml").override(
            {"model.self_host.utilization": None, "model.self_host.peak_to_average": 2.0}
        )
    blended = float(tcpmf.evaluate(s).summary.iloc[0]["usd_per_mtok_blended_m0"])
    row = next(x for x in what_it_takes(s).itertuples(index=False) if x.lever == "usd_per_mtok")
    assert blended > 0 and float(row.current) == pytest.approx(blended, rel=1e-12)
    # moving the lever scales the whole month-0 bill, GPU rent included
    batch = apply_lever(repeat(from_scenarios([s]), 2), s, "usd_per_mtok", [blended, 3 * blended])
    summary = evaluate_arrays(batch).summary
    np.testing.assert_allclose(
        summary["usd_per_mtok_blended_m0"][0].astype(float),
        np.array([blended, 3 * blended]),
        rtol=1e-9,
    )
    check_answer(s, row)


def test_retention_lever_works_for_sbg_holding_alpha() -> None:
    s = tcpmf.load(assumptions_dir() / "products" / "writing_assistant.yaml")
    r = s.retention
    assert isinstance(r, ShiftedBetaGeometric)
    frame = what_it_takes(s).set_index("lever")
    assert frame.loc["retention_r1", "status"] != "n/a"
    assert float(frame.loc["retention_r1", "current"]) == pytest.approx(r.beta / (r.alpha + r.beta))
    target = 0.8
    moved = apply_lever(repeat(from_scenarios([s]), 1), s, "retention_r1", [target])
    by_file = from_scenarios([s.override({"retention.beta": r.alpha * target / (1 - target)})])
    np.testing.assert_allclose(moved.retention, by_file.retention, rtol=1e-12)
    assert moved.retention[1, 0] == pytest.approx(target)
    # a product whose answer is a real boundary: the engine agrees on both sides of it
    smb = tcpmf.load(assumptions_dir() / "products" / "smb_customer_service_subscription.yaml")
    row = next(x for x in what_it_takes(smb).itertuples(index=False) if x.lever == "retention_r1")
    assert row.status in ("needs", "clears")
    check_answer(smb, row)


def test_far_price_answer_under_low_elasticity_carries_a_note() -> None:
    s = tcpmf.load(assumptions_dir() / "products" / "writing_assistant.yaml")
    sub = s.revenue.subscription
    assert sub is not None and (sub.price_elasticity or 0.0) < 1.0
    price = what_it_takes(s).set_index("lever").loc["price_usd_per_month"]
    assert (
        float(price["value"]) > 3 * float(price["current"])
        and "check the elasticity" in price["note"]
    )
    table = CliRunner().invoke(
        app, ["levers", str(assumptions_dir() / "products" / "writing_assistant.yaml")]
    )
    assert "check the elasticity" in table.output
    elastic = what_it_takes(s.override({"revenue.subscription.price_elasticity": 1.5})).set_index(
        "lever"
    )
    assert (elastic["note"] == "").all()


# -- price elasticity -------------------------------------------------------------------------


@given(
    S.num(0.0, 1.0, 0.05),
    S.num(0.01, 200.0, 20.0),
    S.num(0.01, 200.0, 20.0),
    S.num(0.01, 200.0, 20.0),
    S.num(0.0, 3.0, 0.5, 1.0, 2.0),
)
def test_elastic_paid_share_falls_with_price_and_stays_a_share(
    s0: float, ref: float, p1: float, p2: float, e: float
) -> None:
    low, high = sorted((p1, p2))
    share_low, share_high = elastic_paid_share([s0, s0], [low, high], ref, e)
    assert 0.0 <= share_high <= share_low <= 1.0
    if e == 0:
        assert share_low == share_high == s0
    if (
        e < 1 and s0 * (low / ref) ** -e < 1
    ):  # below the cap, revenue p·s(p) rises with the price iff e < 1
        assert high * share_high >= low * share_low * (1 - 1e-12)


def test_override_keeps_the_original_price_as_reference(
    valid_scenario_dict: dict[str, Any],
) -> None:
    valid_scenario_dict["revenue"]["subscription"]["price_elasticity"] = 1.0
    s = tcpmf.from_dict(valid_scenario_dict)
    dearer = s.override({"revenue.subscription.price_usd_per_month": 40})
    assert dearer.revenue.subscription is not None
    assert dearer.revenue.subscription.reference_price_usd_per_month == 20
    again = dearer.override({"revenue.subscription.price_usd_per_month": 20})
    summary = tcpmf.evaluate([s, dearer, again]).summary
    # unit elasticity: twice the price, half the payers, the same subscription revenue per MAU
    base, twice, back = summary["arpu_usd_m0"]
    assert twice == pytest.approx(base, rel=1e-12)
    assert back == pytest.approx(base, rel=1e-12)
    # without elasticity the dearer price earns twice as much
    valid_scenario_dict["revenue"]["subscription"]["price_elasticity"] = 0.0
    flat = tcpmf.from_dict(valid_scenario_dict)
    flat_arpu = tcpmf.evaluate(
        [flat, flat.override({"revenue.subscription.price_usd_per_month": 40})]
    ).summary["arpu_usd_m0"]
    assert flat_arpu[1] == pytest.approx(2 * flat_arpu[0], rel=1e-12)


def test_elasticity_needs_a_positive_reference_price(valid_scenario_dict: dict[str, Any]) -> None:
    valid_scenario_dict["revenue"]["subscription"].update(
        price_usd_per_month=0, price_elasticity=1.0
    )
    with pytest.raises(tcpmf.AssumptionError, match="price_elasticity"):
        tcpmf.from_dict(valid_scenario_dict)


def test_price_lever_respects_elasticity(valid_scenario_dict: dict[str, Any]) -> None:
    valid_scenario_dict["growth"]["paid_budget_usd_per_month"] = 0
    flat = what_it_takes(tcpmf.from_dict(valid_scenario_dict)).set_index("lever")
    valid_scenario_dict["revenue"]["subscription"]["price_elasticity"] = 0.6
    elastic = what_it_takes(tcpmf.from_dict(valid_scenario_dict)).set_index("lever")
    assert flat.loc["price_usd_per_month", "method"] == "closed form"
    assert elastic.loc["price_usd_per_month", "method"] == "root finding"
    # payers leave as the price rises, so it takes a higher price to clear
    assert elastic.loc["price_usd_per_month", "value"] > flat.loc["price_usd_per_month", "value"]


# -- command line -----------------------------------------------------------------------------


def test_cli_levers_json_and_table() -> None:
    path = str(PRODUCTS[0])
    runner = CliRunner()
    result = runner.invoke(app, ["levers", path, "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["lever"] for r in rows] == list(LEVERS)
    assert all(r["value"] is None or isinstance(r["value"], float) for r in rows)
    table = runner.invoke(app, ["levers", path])
    assert table.exit_code == 0 and "what it takes" in table.stdout


@pytest.mark.skipif(not OTHERS, reason="no deal or MaaS products bundled")
def test_cli_levers_refuses_non_consumer_scenarios() -> None:
    result = CliRunner().invoke(app, ["levers", str(OTHERS[0])])
    assert result.exit_code == 1 and "consumer" in result.output


def test_cli_levers_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["levers", str(bad)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output and "bad.yaml" in result.output
