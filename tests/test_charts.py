"""``tcpmf.outputs.charts``: valid Vega-Lite whose data are the engine's numbers."""

from __future__ import annotations

import json
import warnings
from typing import Any

import altair as alt
import numpy as np
import pandas as pd
import pytest
import strategies as S
from hypothesis import HealthCheck, given, settings

import tcpmf
from tcpmf.analysis.levers import apply_lever, repeat
from tcpmf.core.yamlio import assumptions_dir
from tcpmf.formulas.retention import active_users, cohort_users
from tcpmf.model.arrays import from_scenarios
from tcpmf.model.engine import evaluate_arrays
from tcpmf.outputs import charts

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


def test_cash_curve_labels_of_close_months_do_not_overprint(scenario: tcpmf.Scenario) -> None:
    """Break-even and payback a month or two apart: their labels sit on different lines."""
    result = tcpmf.evaluate(
        scenario.override(
            {"revenue.subscription.price_usd_per_month": 60.0, "costs.fixed_usd_per_month": 1000.0}
        )
    )
    summary = result.summary.iloc[0]
    assert (
        abs(summary["payback_month"] - summary["breakeven_month"]) <= 3
    )  # close enough to collide
    spec = charts.cash_curve(result).to_dict()
    [text] = [layer for layer in spec["layer"] if layer.get("mark", {}).get("type") == "text"]
    assert text["encoding"]["y"] == {"field": "label_px", "type": "quantitative", "scale": None}
    events = [r for d in datasets(charts.cash_curve(result)) if d and "event" in d[0] for r in d]
    assert len({r["label_px"] for r in events}) == len(events) == 2


def test_waterfall_steps_add_up(scenario: tcpmf.Scenario) -> None:
    result = tcpmf.evaluate(scenario.override({"costs.other_variable_usd_per_mau": 0.05}))
    steps = {
        r["step"]: r
        for d in datasets(charts.unit_waterfall(result))
        if d and "step" in d[0]
        for r in d
    }
    summary = result.summary.iloc[0]
    assert steps["ARPU"]["usd_per_mau"] == pytest.approx(summary["arpu_usd_m0"])
    assert steps["inference"]["usd_per_mau"] == pytest.approx(
        -summary["inference_cost_usd_per_mau_m0"]
    )
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
    np.testing.assert_allclose(
        per_cohort.sum(axis=0), active_users(new, a.retention), rtol=1e-9, atol=1e-6
    )


def test_cohort_chart_bands_sum_to_active_users(scenario: tcpmf.Scenario) -> None:
    result = tcpmf.evaluate(scenario)
    rows = next(
        d
        for d in datasets(charts.cohort_users(result, months_per_cohort=6))
        if d and "cohort" in d[0]
    )
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
    models: list[Any] = ["gpt-4o", "gpt-4o-mini", "deepseek-v3", "yi-large", host]
    variants = charts.model_variants(scenario, models)
    assert [v.model.name for v in variants][:4] == models[:4]
    assert variants[-1].model.route == "self_host"
    bars = next(
        d
        for d in datasets(charts.model_comparison(scenario, models))
        if d and "contribution" in d[0]
    )
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
        scenario.override(
            {
                "model.routes": [
                    {"name": "gpt-4o-mini", "share": 0.8},
                    {"name": "gpt-4o", "share": 0.2},
                ]
            }
        ),
        scenario.override(
            {
                "model.routes": [
                    {"name": "llama-3.1-8b", "share": 0.7, "route": "self_host"},
                    {"name": "gpt-4o", "share": 0.3},
                ],
                "model.self_host": demand,
            }
        ),
    ]
    for mix in mixes:
        on = {m: charts.on_model(mix, m) for m in ("gpt-4o-mini", "o3")}
        assert all(v.model.routes is None and v.model.self_host is None for v in on.values())
        got = {
            m: tcpmf.evaluate(v).summary.iloc[0]["contribution_usd_per_mau_m0"]
            for m, v in on.items()
        }
        alone = {
            m: tcpmf.evaluate(charts.on_model(scenario, m)).summary.iloc[0][
                "contribution_usd_per_mau_m0"
            ]
            for m in on
        }
        assert got == pytest.approx(alone, rel=1e-12)
        assert got["gpt-4o-mini"] > got["o3"]
        bars = next(
            d
            for d in datasets(charts.model_comparison(mix, ["gpt-4o-mini", "o3"]))
            if d and "contribution" in d[0]
        )
        assert {r["model"]: r["contribution"] for r in bars} == pytest.approx(got, rel=1e-12)


def test_waterfall_never_labels_a_zero_cost_minus_zero(scenario: tcpmf.Scenario) -> None:
    free = scenario.override({"costs.other_variable_usd_per_mau": 0.0})
    labels = {
        r["step"]: r["label"]
        for r in next(
            d
            for d in datasets(charts.unit_waterfall(tcpmf.evaluate(free)))
            if d and "label" in d[0]
        )
    }
    assert labels["other variable"] == "0"
    assert all(v != "−0" and v != "-0" for v in labels.values())


# --- charts of uncertainty results (tcpmf.outputs.uncertainty_charts) ----------------------------------

PORTFOLIO = assumptions_dir() / "portfolios" / "consumer_stages.yaml"


@pytest.fixture(scope="module")
def portfolio() -> tcpmf.Portfolio:
    return tcpmf.load_portfolio(PORTFOLIO)


@pytest.fixture(scope="module")
def draws(portfolio: tcpmf.Portfolio) -> pd.DataFrame:
    return tcpmf.monte_carlo(portfolio, n=2000, seed=1)


def strict_json(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """The spec, refusing NaN and infinities (not JSON, and never a value a chart should show)."""
    spec = chart.to_dict()
    json.dumps(spec, allow_nan=False)
    return spec


def rows_with(chart: alt.TopLevelMixin, *fields: str) -> list[dict[str, Any]]:
    """Every inlined row that has all of *fields*, across the chart's datasets."""
    return [r for d in datasets(chart) for r in d if all(f in r for f in fields)]


def test_charts_re_exports_the_uncertainty_charts() -> None:
    from tcpmf.outputs import uncertainty_charts

    for name in ("outcome_distribution", "tornado_chart", "sobol_chart", "discovery_chart"):
        assert getattr(charts, name) is getattr(uncertainty_charts, name)
        assert name in charts.__all__
    with pytest.raises(AttributeError):
        charts.no_such_chart  # noqa: B018


def test_outcome_distribution_is_each_products_empirical_cdf(draws: pd.DataFrame) -> None:
    chart = charts.outcome_distribution(draws, "peak_funding_usd", points=50)
    strict_json(chart)
    rows = rows_with(chart, "product", "value", "share_of_draws")
    assert {r["product"] for r in rows} == {str(p) for p in draws["product"].cat.categories}
    for product, group in draws.groupby("product", observed=True):
        x = group["peak_funding_usd"].to_numpy(float)
        mine = [r for r in rows if r["product"] == product]
        assert 2 <= len(mine) <= 51
        values = np.array([r["value"] for r in mine])
        shares = np.array([r["share_of_draws"] for r in mine])
        np.testing.assert_allclose(shares, [(x <= v).mean() for v in values])
        assert values[0] == x.min() and values[-1] == x.max() and shares[-1] == 1.0
        assert (np.diff(values) > 0).all() and (np.diff(shares) > 0).all()


def test_month_distribution_stops_at_the_share_that_got_there(draws: pd.DataFrame) -> None:
    chart = charts.outcome_distribution(draws, "payback_month")
    strict_json(chart)
    rows = rows_with(chart, "product", "value", "share_of_draws")
    never_any = False
    for product, group in draws.groupby("product", observed=True):
        months = group["payback_month"]
        never = months.isna().mean()
        never_any |= bool(never > 0)
        mine = [r for r in rows if r["product"] == product]
        if never == 1:
            assert not mine
            continue
        reached = months.dropna().astype(int)
        assert [r["value"] for r in mine] == sorted(
            reached.unique()
        )  # months: the exact step function
        assert mine[-1]["share_of_draws"] == pytest.approx(1 - never)
        assert all(
            r["label"].startswith(str(product)) and "not within the horizon" in r["label"]
            for r in mine
        )
    assert never_any  # the example portfolio has draws that never pay back within the horizon
    assert chart.to_dict()["mark"]["interpolate"] == "step-after"


def test_outcome_distribution_inlines_a_few_hundred_rows_for_a_million_draws() -> None:
    n = 1_000_000
    rng = np.random.default_rng(0)
    values = rng.lognormal(15, 1, n)
    frame = pd.DataFrame(
        {
            "product": pd.Categorical(
                np.where(np.arange(n) < n // 2, "a", "b"), categories=["a", "b", "unused"]
            ),
            "peak_funding_usd": pd.arrays.FloatingArray(
                values, rng.random(n) < 0.01
            ),  # 1% undefined
        }
    )
    chart = charts.outcome_distribution(frame, points=200)
    strict_json(chart)
    rows = rows_with(chart, "product", "value", "share_of_draws")
    assert len(rows) <= 2 * 201
    assert {r["product"] for r in rows} == {"a", "b"}
    for product in ("a", "b"):
        known = frame.loc[frame["product"] == product, "peak_funding_usd"].dropna().to_numpy(float)
        mine = [r for r in rows if r["product"] == product]
        median = min(mine, key=lambda r: abs(r["share_of_draws"] - 0.5))
        assert median["value"] == pytest.approx(np.quantile(known, 0.5), rel=1e-2)
        assert (
            mine[-1]["share_of_draws"] == 1.0
        )  # undefined draws are left out, not counted as beyond
        assert "undefined" in mine[0]["label"]


def test_outcome_distribution_handles_missing_values_and_refuses_a_yes_no_outcome() -> None:
    frame = pd.DataFrame(
        {
            "product": ["a", "a", "b", "b", "c"],
            "ltv_to_cac": pd.array([1.0, None, None, None, np.inf], dtype="Float64"),
        }
    )
    chart = charts.outcome_distribution(frame, "ltv_to_cac")
    spec = strict_json(chart)
    rows = rows_with(chart, "product", "value")
    assert rows == [
        {"product": "a", "label": "a (1 undefined)", "value": 1.0, "share_of_draws": 1.0}
    ]
    assert "no value to draw for b, c" in " ".join(spec["title"]["subtitle"])
    with pytest.raises(tcpmf.AssumptionError, match="numeric"):
        charts.outcome_distribution(
            frame.assign(clears_break_even=pd.array([True] * 5, dtype="boolean")),
            "clears_break_even",
        )
    with pytest.raises(tcpmf.AssumptionError, match="payback_month"):
        charts.outcome_distribution(frame, "payback_month")


def test_tornado_chart_has_each_products_keys_by_swing(portfolio: tcpmf.Portfolio) -> None:
    frame = tcpmf.tornado(portfolio)
    chart = charts.tornado_chart(frame)
    spec = strict_json(chart)
    assert len(spec["vconcat"]) == len(portfolio.products)
    rows = rows_with(chart, "product", "key", "side", "end")
    for product, block in frame.groupby("product", observed=True, sort=False):
        mine = [r for r in rows if r["product"] == product]
        ends = {(r["key"].rstrip(" *"), r["side"]): r["end"] for r in mine}
        for row in block.itertuples():
            assert ends[(row.key, "low input")] == pytest.approx(row.at_low)
            assert ends[(row.key, "high input")] == pytest.approx(row.at_high)
        assert all(r["start"] == pytest.approx(block["at_base"].iloc[0]) for r in mine)
        layer = next(b for b in spec["vconcat"] if b["title"]["text"] == product)
        bars = next(lay for lay in layer["layer"] if lay["mark"].get("type") == "bar")
        swing = block["swing"].to_numpy(float)
        assert [k.rstrip(" *") for k in bars["encoding"]["y"]["sort"]] == list(
            block["key"].iloc[np.argsort(-swing, kind="stable")]
        )


def test_tornado_chart_leaves_out_undefined_ends(portfolio: tcpmf.Portfolio) -> None:
    frame = tcpmf.tornado(portfolio.products[0])
    frame.loc[0, ["at_low", "swing"]] = pd.NA
    frame.loc[1, ["at_low", "at_high", "swing"]] = pd.NA
    chart = charts.tornado_chart(frame)
    spec = strict_json(chart)
    rows = rows_with(chart, "key", "side", "end")
    sides = {(r["key"].rstrip(" *"), r["side"]) for r in rows}
    assert (frame.loc[0, "key"], "low input") not in sides and (
        frame.loc[0, "key"],
        "high input",
    ) in sides
    assert not {s for s in sides if s[0] == frame.loc[1, "key"]}
    notes = rows_with(chart, "key", "text")
    assert [n["key"].rstrip(" *") for n in notes] == [frame.loc[1, "key"]]
    bars = next(lay for lay in spec["vconcat"][0]["layer"] if lay["mark"].get("type") == "bar")
    assert [k.rstrip(" *") for k in bars["encoding"]["y"]["sort"]][-2:] == list(
        frame.loc[[0, 1], "key"]
    )
    # no nominal value: the ends are drawn as points, not bars from nowhere
    frame["at_base"] = pd.array([pd.NA] * len(frame), dtype="Float64")
    spec = strict_json(charts.tornado_chart(frame))
    marks = [lay["mark"]["type"] for lay in spec["vconcat"][0]["layer"]]
    assert "bar" not in marks and "point" in marks
    with pytest.raises(tcpmf.AssumptionError, match="swing"):
        charts.tornado_chart(frame.drop(columns="swing"))


def test_sobol_chart_carries_the_indices_and_their_intervals(portfolio: tcpmf.Portfolio) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # correlations ignored; a constant outcome
        frame = tcpmf.sobol(portfolio, outcome="clears_break_even", n=64, seed=0)
    # products whose outcome is constant in these draws (e.g. never clears) have no indices
    constant = frame.groupby("product")["ST"].transform(lambda s: s.isna().all())
    never = set(frame.loc[constant, "product"])
    chart = charts.sobol_chart(frame)
    strict_json(chart)
    rows = rows_with(chart, "product", "key", "index", "value")
    assert {r["product"] for r in rows} == set(frame["product"]) - never
    for row in frame[~frame["product"].isin(never)].itertuples():
        for index in ("S1", "ST"):
            got = next(
                r
                for r in rows
                if r["product"] == row.product and r["key"] == row.key and r["index"] == index
            )
            value, conf = getattr(row, index), getattr(row, f"{index}_conf")
            assert got["value"] == pytest.approx(value)
            assert (got["lo"], got["hi"]) == pytest.approx((value - conf, value + conf))
    notes = rows_with(chart, "product", "key", "text")
    assert {n["key"] for n in notes} == set(frame.loc[frame["product"].isin(never), "key"])


def test_discovery_chart_marks_the_chosen_box_and_its_limits(draws: pd.DataFrame) -> None:
    draws = draws.copy()  # one product that never clears, whatever the defaults give
    draws.loc[draws["product"] == draws["product"].iloc[0], "clears_break_even"] = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a product that never clears has no box
        found = tcpmf.discover(draws, outcome="clears_break_even")
    chart = charts.discovery_chart(found)
    spec = strict_json(chart)
    assert len(spec["vconcat"]) == len(found.boxes)
    points = rows_with(chart, "product", "step", "coverage", "density")
    expected = found.trajectory.dropna(subset=["coverage"])
    assert len({(p["product"], p["step"]) for p in points}) == len(expected)
    chosen = {(p["product"], p["step"]) for p in points if p["chosen"]}
    hits = found.boxes[found.boxes["hits"] > 0]
    assert chosen == {(r.product, r.step) for r in hits.itertuples()}
    limits = rows_with(chart, "product", "key", "start", "end", "status")
    for row in found.limits.itertuples():
        got = next(r for r in limits if r["product"] == row.product and r["key"] == row.key)
        assert got["status"] == ("narrowed" if row.restricted else "whole range")
        if row.kind == "numeric":
            x = draws.loc[draws["product"] == row.product, row.key].to_numpy(float)
            assert got["start"] == pytest.approx((x < row.low).mean())
            assert got["end"] == pytest.approx((x <= row.high).mean())
    titles = " ".join(block["title"]["text"] for block in spec["vconcat"])
    assert "never holds in these draws — no box" in titles
    one = charts.discovery_chart(found, products=str(hits["product"].iloc[0]))
    assert len(strict_json(one)["vconcat"]) == 1
    with pytest.raises(tcpmf.AssumptionError, match="products"):
        charts.discovery_chart(found, products="no such product")
