"""``tcpmf.charts``: valid Vega-Lite whose data are the engine's numbers."""

from __future__ import annotations

from typing import Any

import altair as alt
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import strategies as S
import tcpmf
from tcpmf import charts
from tcpmf.arrays import from_scenarios
from tcpmf.engine import evaluate_arrays
from tcpmf.levers import apply_lever, repeat
from tcpmf.retention import active_users, cohort_users
from tcpmf.yamlio import assumptions_dir

PRODUCT = assumptions_dir() / "products" / "writing_assistant.yaml"


@pytest.fixture(scope="module")
def scenario() -> tcpmf.Scenario:
    return tcpmf.load(PRODUCT)


def datasets(chart: alt.TopLevelMixin) -> list[list[dict[str, Any]]]:
    spec = chart.to_dict()  # validates against the Vega-Lite schema
    found = list(spec.get("datasets", {}).values())

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("data"), dict) and "values" in node["data"]:
                found.append(node["data"]["values"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec)
    return found


def test_cash_curve_carries_the_cash_and_the_marked_months(scenario: tcpmf.Scenario) -> None:
    result = tcpmf.evaluate(scenario)
    data = datasets(charts.cash_curve(result))
    cash = next(d for d in data if d and "cash_usd" in d[0])
    np.testing.assert_allclose([r["cash_usd"] for r in cash], result.monthly["cash_usd"].to_numpy())
    events = {r["event"]: r["month"] for d in data if d and "event" in d[0] for r in d}
    summary = result.summary.iloc[0]
    assert events.get("payback") == summary["payback_month"]
    assert events.get("break-even") == summary["breakeven_month"]


def test_waterfall_steps_add_up(scenario: tcpmf.Scenario) -> None:
    result = tcpmf.evaluate(scenario.override({"costs.other_variable_usd_per_mau": 0.05}))
    steps = {r["step"]: r for d in datasets(charts.unit_waterfall(result)) if d and "step" in d[0] for r in d}
    summary = result.summary.iloc[0]
    assert steps["ARPU"]["usd_per_mau"] == pytest.approx(summary["arpu_usd_m0"])
    assert steps["inference"]["usd_per_mau"] == pytest.approx(-summary["inference_cost_usd_per_mau_m0"])
    assert steps["other variable"]["usd_per_mau"] == pytest.approx(-0.05)
    assert steps["contribution"]["end"] == pytest.approx(summary["contribution_usd_per_mau_m0"])
    assert steps["other variable"]["end"] == pytest.approx(steps["contribution"]["end"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(S.scenarios(name="cohorts"))
def test_cohorts_sum_to_active_users_and_are_never_negative(d: dict[str, Any]) -> None:
    a = from_scenarios([tcpmf.from_dict(d)])
    new = evaluate_arrays(a).monthly["new_users"]
    per_cohort = cohort_users(new, a.retention)
    assert (per_cohort >= 0).all()
    np.testing.assert_allclose(per_cohort.sum(axis=0), active_users(new, a.retention), rtol=1e-9, atol=1e-6)


def test_cohort_chart_bands_sum_to_active_users(scenario: tcpmf.Scenario) -> None:
    result = tcpmf.evaluate(scenario)
    rows = next(d for d in datasets(charts.cohort_users(result, months_per_cohort=6)) if d and "cohort" in d[0])
    by_month = np.zeros(scenario.horizon_months)
    for r in rows:
        by_month[r["month"]] += r["active_users"]
    np.testing.assert_allclose(by_month, result.monthly["active_users"].to_numpy(), rtol=1e-9)
    assert len({r["cohort"] for r in rows}) == -(-scenario.horizon_months // 6)


def test_frontier_line_is_where_contribution_is_zero(scenario: tcpmf.Scenario) -> None:
    chart = charts.breakeven_frontier(scenario, points=21)
    data = datasets(chart)
    heat = next(d for d in data if d and "contribution" in d[0])
    assert len(heat) == 21 * 21
    line = next(d for d in data if d and set(d[0]) == {"x", "y"})
    assert len(line) >= 5
    xs = np.unique([r["x"] for r in heat])
    ys = np.unique([r["y"] for r in heat])
    dx, dy = xs[1] - xs[0], ys[1] - ys[0]
    base = from_scenarios([scenario])
    points = np.array([[r["x"] - dx / 2, r["y"] - dy / 2] for r in line])
    batch = apply_lever(repeat(base, len(points)), scenario, "usd_per_mtok", points[:, 0])
    batch = apply_lever(batch, scenario, "paid_share", points[:, 1])
    contribution = evaluate_arrays(batch).monthly["contribution_usd_per_mau"][0]
    # contribution is linear in token price, so interpolation between grid columns is exact
    np.testing.assert_allclose(contribution, 0.0, atol=1e-9)


def test_timeline_chart_has_one_row_per_category() -> None:
    frame = tcpmf.timeline(annual_cost_decline=4.0)
    bars = next(d for d in datasets(charts.tcpmf_timeline(frame)) if d and "category" in d[0])
    assert sorted(r["category"] for r in bars) == sorted(frame["category"])


def test_model_comparison_evaluates_each_model(scenario: tcpmf.Scenario) -> None:
    host = tcpmf.load(assumptions_dir() / "products" / "ai_friends_selfhosted.yaml").model
    models = ["gpt-4o", "gpt-4o-mini", "deepseek-v3", "yi-large", host]
    variants = charts.model_variants(scenario, models)
    assert [v.model.name for v in variants][:4] == models[:4]
    assert variants[-1].model.route == "self_host"
    bars = next(d for d in datasets(charts.model_comparison(scenario, models)) if d and "contribution" in d[0])
    expected = tcpmf.evaluate(variants).summary["contribution_usd_per_mau_m0"].to_numpy()
    np.testing.assert_allclose([r["contribution"] for r in bars], expected)
    # a cheaper model earns more per user
    by_model = {r["model"]: r["contribution"] for r in bars}
    assert by_model["gpt-4o-mini"] > by_model["gpt-4o"]


def test_on_model_and_model_comparison_drop_a_mix_of_routes(scenario: tcpmf.Scenario) -> None:
    host = tcpmf.load(assumptions_dir() / "products" / "ai_friends_selfhosted.yaml").model.self_host
    assert host is not None
    demand = {**host.model_dump(exclude_none=True), "peak_to_average": 2.0}
    demand.pop("utilization")
    mixes = [
        scenario.override({"model.routes": [{"name": "gpt-4o-mini", "share": 0.8}, {"name": "gpt-4o", "share": 0.2}]}),
        scenario.override({"model.routes": [{"name": "llama-3.1-8b", "share": 0.7, "route": "self_host"},
                                            {"name": "gpt-4o", "share": 0.3}], "model.self_host": demand}),
    ]
    for mix in mixes:
        on = {m: charts.on_model(mix, m) for m in ("gpt-4o-mini", "o3")}
        assert all(v.model.routes is None and v.model.self_host is None for v in on.values())
        got = {m: tcpmf.evaluate(v).summary.iloc[0]["contribution_usd_per_mau_m0"] for m, v in on.items()}
        alone = {m: tcpmf.evaluate(charts.on_model(scenario, m)).summary.iloc[0]["contribution_usd_per_mau_m0"]
                 for m in on}
        assert got == pytest.approx(alone, rel=1e-12)
        assert got["gpt-4o-mini"] > got["o3"]
        bars = next(d for d in datasets(charts.model_comparison(mix, ["gpt-4o-mini", "o3"])) if d and "contribution" in d[0])
        assert {r["model"]: r["contribution"] for r in bars} == pytest.approx(got, rel=1e-12)


def test_waterfall_never_labels_a_zero_cost_minus_zero(scenario: tcpmf.Scenario) -> None:
    free = scenario.override({"costs.other_variable_usd_per_mau": 0.0})
    labels = {r["step"]: r["label"] for r in next(d for d in datasets(charts.unit_waterfall(tcpmf.evaluate(free)))
                                                  if d and "label" in d[0])}
    assert labels["other variable"] == "0"
    assert all("−0" != v and "-0" != v for v in labels.values())
