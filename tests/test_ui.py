"""Headless widget tests: move a slider in Python; the charts and the verdict follow the model."""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tcpmf
from tcpmf.analysis.levers import lever_value
from tcpmf.app.widgets import FounderApp, TimelineView, slider_range, verdict_text
from tcpmf.core.yamlio import assumptions_dir
from tcpmf.model.arrays import from_scenarios

PRODUCTS = assumptions_dir() / "products"


def rows(spec: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """The records of the dataset whose rows have *key*."""
    candidates = list(spec.get("datasets", {}).values())
    candidates += [
        layer["data"]["values"]
        for layer in spec.get("layer", [])
        if "values" in layer.get("data", {})
    ]
    if "values" in spec.get("data", {}):
        candidates.append(spec["data"]["values"])
    return next(d for d in candidates if d and key in d[0])


def steps(app: FounderApp) -> dict[str, float]:
    return {r["step"]: r["usd_per_mau"] for r in rows(app.charts["unit"].spec, "step")}


@pytest.fixture
def app() -> FounderApp:
    return FounderApp(PRODUCTS / "writing_assistant.yaml", show_levers=True)


def test_sliders_start_at_the_file_and_reproduce_its_result(app: FounderApp) -> None:
    expected = tcpmf.evaluate(app.base).summary.iloc[0]
    assert steps(app)["ARPU"] == pytest.approx(expected["arpu_usd_m0"], rel=1e-12)
    assert (">Clears" in app.verdict.value) == bool(expected["clears_break_even"])
    for name, control in app.controls.items():
        slider = app.sliders[name]
        assert slider.min <= control.value <= slider.max, name
    assert "gpt-4o" in app.model.options and app.model.value == "gpt-4o"


def test_price_slider_moves_arpu_and_verdict_as_the_model_says(app: FounderApp) -> None:
    before_verdict = app.verdict.value
    before_cash = app.charts["cash"].spec
    app.sliders["price_usd_per_month"].value = 30.0
    expected = tcpmf.evaluate(
        app.base.override({"revenue.subscription.price_usd_per_month": 30.0})
    ).summary.iloc[0]
    assert steps(app)["ARPU"] == pytest.approx(expected["arpu_usd_m0"], rel=1e-12)
    assert steps(app)["contribution"] == pytest.approx(
        expected["contribution_usd_per_mau_m0"], rel=1e-9
    )
    assert app.charts["cash"].spec != before_cash
    cash = [r["cash_usd"] for r in rows(app.charts["cash"].spec, "cash_usd")]
    np.testing.assert_allclose(cash, tcpmf.evaluate(app.scenario).monthly["cash_usd"].to_numpy())
    assert app.verdict.value != before_verdict
    assert app.result is not None and html.escape(verdict_text(app.result)) in app.verdict.value
    assert (">Clears" in app.verdict.value) == bool(expected["clears_break_even"])
    if expected["payback_month"] is not None and not np.isnan(expected["payback_month"]):
        assert f"payback month {int(expected['payback_month'])}" in app.verdict.value


def test_elasticity_makes_a_higher_price_cost_payers(app: FounderApp) -> None:
    app.sliders["price_elasticity"].value = 0.0
    app.sliders["price_usd_per_month"].value = 40.0
    flat = steps(app)["ARPU"]
    app.sliders["price_elasticity"].value = 1.5
    elastic = steps(app)["ARPU"]
    assert elastic < flat  # above unit elasticity a dearer price loses more payers than it gains


def test_token_price_and_model_dropdown(app: FounderApp) -> None:
    before = steps(app)["inference"]
    slider = app.sliders["usd_per_mtok"]
    slider.value = slider.value / 2
    assert steps(app)["inference"] == pytest.approx(
        before / 2, rel=0.05
    )  # the slider rounds to its step
    app.model.value = "gpt-4o-mini"
    mini = app.base.override({"model.name": "gpt-4o-mini"})
    price = lever_value(from_scenarios([mini]), mini, "usd_per_mtok")
    assert app.sliders["usd_per_mtok"].value == pytest.approx(price, abs=slider.step)
    expected = tcpmf.evaluate(mini).summary.iloc[0]
    assert steps(app)["inference"] == pytest.approx(
        -expected["inference_cost_usd_per_mau_m0"], rel=1e-9
    )


def test_levers_are_shown_and_follow_the_sliders(app: FounderApp) -> None:
    assert "subscription price" in app.levers.value
    before = app.levers.value
    app.sliders["sessions_per_day"].value = 1.0
    assert app.levers.value != before


def test_product_dropdown_rebuilds_the_sliders(app: FounderApp) -> None:
    name = tcpmf.load(PRODUCTS / "answer_engine.yaml").name
    app.product.value = name
    assert app.base.name == name
    assert "rpm_usd" in app.sliders  # the answer engine has ads
    expected = tcpmf.evaluate(tcpmf.load(PRODUCTS / "answer_engine.yaml")).summary.iloc[0]
    assert steps(app)["ARPU"] == pytest.approx(expected["arpu_usd_m0"], rel=1e-12)


def test_timeline_view_follows_the_decline_slider() -> None:
    view = TimelineView(annual_cost_decline=10.0, horizon_months=120)
    fast = view.frame["tcpmf_month"].astype("Float64")
    spec = view.chart.spec
    view.slider.value = 2.0
    slow = view.frame["tcpmf_month"].astype("Float64")
    assert view.chart.spec != spec
    both = fast.notna() & slow.notna()
    assert (slow[both] >= fast[both]).all()  # slower price declines never bring TC-PMF earlier
    assert (slow.isna() | fast.notna()).all()


@pytest.mark.parametrize(
    ("value", "low", "high", "expected"),
    [
        (20.0, 0.0, 1e6, (0.0, 100.0)),
        (0.035, 0.0, 1.0, (0.0, 0.2)),
        (0.9, 0.0, 1.0, (0.0, 1.0)),
        (0.0, 0.0, 1e6, (0.0, 1.0)),
        (3.0, 0.01, 1e6, (0.01, 20.0)),
    ],
)
def test_slider_range(value: float, low: float, high: float, expected: tuple[float, float]) -> None:
    assert slider_range(value, low, high) == expected


def _mixes() -> tuple[tcpmf.Scenario, tcpmf.Scenario]:
    """The writing assistant on an 80/20 API mix, and on a 70% demand-driven self-host mix."""
    s = tcpmf.load(PRODUCTS / "writing_assistant.yaml")
    api = s.override(
        {"model.routes": [{"name": "gpt-4o-mini", "share": 0.8}, {"name": "gpt-4o", "share": 0.2}]}
    )
    host = tcpmf.load(PRODUCTS / "ai_friends_selfhosted.yaml").model.self_host
    assert host is not None
    demand = {**host.model_dump(exclude_none=True), "peak_to_average": 2.0}
    demand.pop("utilization")
    hosted = s.override(
        {
            "model.routes": [
                {"name": "llama-3.1-8b", "share": 0.7, "route": "self_host"},
                {"name": "gpt-4o", "share": 0.3},
            ],
            "model.self_host": demand,
        }
    )
    return api, hosted


@pytest.mark.parametrize("which", [0, 1], ids=["api_mix", "self_host_mix"])
def test_model_dropdown_puts_a_mix_of_routes_on_one_model(which: int) -> None:
    mix = _mixes()[which]
    app = FounderApp(mix, show_levers=False)
    assert app.model.value.startswith("mix: ") and "gpt-4o" in app.model.value
    if which == 0:
        assert app.model.value == "mix: 80% gpt-4o-mini + 20% gpt-4o"
    before = steps(app)["contribution"]
    app.model.value = "o3"
    assert app.error is None
    alone = tcpmf.evaluate(
        mix.override(
            {
                "model.routes": None,
                "model.route": "api",
                "model.name": "o3",
                "model.self_host": None,
            }
        )
    ).summary.iloc[0]
    assert app.scenario.model.routes is None and app.scenario.model.name == "o3"
    assert steps(app)["contribution"] == pytest.approx(
        alone["contribution_usd_per_mau_m0"], rel=1e-9
    )
    assert steps(app)["contribution"] != pytest.approx(before)
    app.model.value = app.model.options[0]  # back to the file's own mix
    assert steps(app)["contribution"] == pytest.approx(before, rel=1e-12)


def test_sbg_retention_slider_moves_beta_and_holds_alpha(app: FounderApp) -> None:
    r = app.base.retention
    assert r.curve == "sbg" and "retention_r1" in app.sliders
    slider = app.sliders["retention_r1"]
    assert slider.value == pytest.approx(r.beta / (r.alpha + r.beta))
    before = rows(app.charts["cash"].spec, "cash_usd")
    slider.value = 0.8
    moved = app.scenario.retention
    assert moved.curve == "sbg" and moved.alpha == r.alpha
    assert moved.beta / (moved.alpha + moved.beta) == pytest.approx(slider.value, rel=1e-12)
    assert rows(app.charts["cash"].spec, "cash_usd") != before


def test_token_price_slider_of_a_demand_driven_host_starts_at_the_effective_price() -> None:
    hosted = _mixes()[1]
    app = FounderApp(hosted, show_levers=False)
    blended = tcpmf.evaluate(hosted).summary.iloc[0]["usd_per_mtok_blended_m0"]
    assert app.controls["usd_per_mtok"].value == pytest.approx(blended, rel=1e-12)
    before = steps(app)["inference"]
    app.sliders["usd_per_mtok"].value = 2 * app.controls["usd_per_mtok"].value
    assert steps(app)["inference"] == pytest.approx(
        2 * before, rel=0.02
    )  # the slider rounds to its step


def test_levers_table_notes_a_far_price_answer_under_low_elasticity(app: FounderApp) -> None:
    assert "check the elasticity" in app.levers.value


def test_verdict_shows_the_short_headline_first_and_the_details_under_it(app: FounderApp) -> None:
    from tcpmf.analysis.levers import what_it_takes
    from tcpmf.app.widgets import verdict_headline

    assert app.result is not None
    headline = html.escape(
        verdict_headline(app.result, what_it_takes(app.scenario, arrays=app.result.arrays))
    )
    details = html.escape(verdict_text(app.result))
    assert headline.startswith("Doesn") and "needs token price ≤ $" in headline
    assert app.verdict.value.index(headline) < app.verdict.value.index(details)


@pytest.mark.parametrize(
    ("name", "key", "value"),
    [
        ("fixed_usd_per_month", "costs.fixed_usd_per_month", 1_250_000.0),
        ("monthly_growth", "growth.monthly_growth", 0.08),
        ("paid_budget_usd_per_month", "growth.paid_budget_usd_per_month", 250_000.0),
        ("dau_per_mau", "usage.dau_per_mau", 0.4),
        ("horizon_months", "horizon_months", 60),
    ],
)
def test_driver_sliders_move_the_model_as_an_override_does(
    app: FounderApp, name: str, key: str, value: float
) -> None:
    app.sliders[name].value = value
    expected = tcpmf.evaluate(app.base.override({key: value}))
    assert app.scenario == app.base.override({key: value})
    cash = [r["cash_usd"] for r in rows(app.charts["cash"].spec, "cash_usd")]
    np.testing.assert_allclose(cash, expected.monthly["cash_usd"].to_numpy())
    assert app.typed[name].value.replace(",", "") in {f"{value:g}", f"{value:.0f}"}


def test_typed_values_beyond_the_slider_are_taken_and_bad_ones_refused_with_a_message(
    app: FounderApp,
) -> None:
    price = app.sliders["price_usd_per_month"]
    app.type_value("price_usd_per_month", "1,500")  # beyond the slider's range, within the schema's
    assert price.value == 1500.0 and price.max >= 1500.0 and app.message.value == ""
    assert app.scenario.revenue.subscription is not None
    assert app.scenario.revenue.subscription.price_usd_per_month == 1500.0
    for text in ("abc", "-5", "2e7"):  # not a number; below 0; above the schema's 1e6
        verdict = app.verdict.value
        app.type_value("price_usd_per_month", text)
        assert price.value == 1500.0, text  # never clamped or zeroed
        assert "⚠" in app.message.value and "kept 1,500" in app.message.value, text
        assert app.verdict.value == verdict
        assert (
            app.typed["price_usd_per_month"].value == "1,500"
        )  # the box shows the value in effect
    app.type_value("paid_share", "6.5%")
    assert app.sliders["paid_share"].value == pytest.approx(0.065) and app.message.value == ""


def test_every_lever_answer_lies_on_its_slider(app: FounderApp) -> None:
    from tcpmf.analysis.levers import what_it_takes

    levers = what_it_takes(app.scenario, arrays=app.result.arrays if app.result else None)
    needed = levers[levers["status"] == "needs"]
    assert len(needed) >= 3
    for r in needed.itertuples(index=False):
        if r.lever in app.sliders:
            slider = app.sliders[r.lever]
            assert slider.min <= float(r.value) <= slider.max, r.lever


def frontier_marker(app: FounderApp) -> dict[str, Any]:
    return rows(app.charts["frontier"].spec, "label")[0]


def test_titles_and_frontier_follow_the_product_the_model_and_the_sliders(app: FounderApp) -> None:
    from tcpmf.outputs import charts

    coding = next(name for name in app.product.options if name.startswith("Coding helper"))
    app.product.value = coding
    for name, chart in app.charts.items():
        assert coding in str(chart.spec["title"]), name
    expected = charts.breakeven_frontier(app.scenario, points=31).to_dict(validate=False)
    assert rows(app.charts["frontier"].spec, "contribution") == rows(expected, "contribution")
    app.model.value = "gpt-4o-mini"
    for name, chart in app.charts.items():
        assert "gpt-4o-mini" in str(chart.spec["title"]), name
    assert app.scenario.model.name == "gpt-4o-mini"
    before = frontier_marker(app)["x"]
    app.sliders["usd_per_mtok"].value = app.sliders["usd_per_mtok"].value * 2
    after = rows(app.charts["frontier"].spec, "contribution")
    step = after[1]["x"] - after[0]["x"]
    assert frontier_marker(app)["x"] == pytest.approx(app.sliders["usd_per_mtok"].value + step / 2)
    assert frontier_marker(app)["x"] != before


def test_open_move_save_reopen_gives_the_same_verdict_and_reset_goes_back(
    app: FounderApp, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    app.open(str(PRODUCTS / "coding_helper.yaml"))
    assert app.product.value.startswith("Coding helper") and "opened" in app.message.value
    start = dict(app._start)
    app.sliders["price_usd_per_month"].value = 40.0
    app.sliders["fixed_usd_per_month"].value = 50_000.0
    app.model.value = "gpt-4o-mini"
    verdict, scenario = app.verdict.value, app.scenario
    saved = app.save(str(tmp_path / "mine.yaml"))
    assert saved is not None and "saved to" in app.message.value and "⚠" not in app.message.value
    assert tcpmf.load(saved) == scenario
    app.open(str(saved))
    assert app.scenario == scenario and app.verdict.value == verdict
    app.reset()  # back to the saved file: nothing moved
    assert app.scenario == scenario
    app.open(str(PRODUCTS / "coding_helper.yaml"))
    app.sliders["price_usd_per_month"].value = 40.0
    app.reset()
    assert {n: s.value for n, s in app.sliders.items()} == start
    assert app.scenario == tcpmf.load(PRODUCTS / "coding_helper.yaml")


def test_save_says_when_a_column_level_slider_is_not_in_the_file(app: FounderApp, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app.sliders["usd_per_mtok"].value = 1.0
    app.save(str(tmp_path / "x.yaml"))
    assert "⚠" in app.message.value and "not saved: token $/1M" in app.message.value
    app.open(str(tmp_path / "missing.yaml"))
    assert "⚠" in app.message.value and "missing.yaml" in app.message.value


def test_pinned_state_is_compared_with_the_current_one(app: FounderApp) -> None:
    assert app.compare.value == ""
    pinned = app.scenario
    app.pin()
    app.sliders["price_usd_per_month"].value = 40.0
    now = app.scenario
    table = app.compare.value
    assert "pinned" in table and "now" in table
    for s in (pinned, now):
        row = tcpmf.evaluate(s).summary.iloc[0]
        assert str(int(row["payback_month"])) in table
    cash = rows(app.charts["cash"].spec, "cash_usd")
    for label, s in (("pinned", pinned), ("now", now)):
        np.testing.assert_allclose(
            [r["cash_usd"] for r in cash if r["state"] == label],
            tcpmf.evaluate(s).monthly["cash_usd"].to_numpy(),
        )


@pytest.mark.parametrize("price", [10.0, 20.0, 30.0, 80.0])
def test_paid_share_note_states_the_share_in_effect(app: FounderApp, price: float) -> None:
    from tcpmf.app.widgets import plain_number

    app.sliders["price_usd_per_month"].value = price
    sub = app.base.revenue.subscription
    assert sub is not None and sub.price_elasticity > 0
    expected = min(1.0, sub.paid_share * (price / sub.price_usd_per_month) ** -sub.price_elasticity)
    assert f"paid share in effect {plain_number(100 * expected)}%" in app.paid_note.value
    assert ("elasticity acts once the price moves" in app.paid_note.value) == (
        price == sub.price_usd_per_month
    )
    app.sliders["price_elasticity"].value = 0.0
    assert app.paid_note.value == ""


def test_a_cny_file_is_shown_in_cny_and_the_toggle_changes_only_the_display() -> None:
    """Money stays USD inside: the toggle changes the boxes, labels and verdict text, never the result."""
    from tcpmf.app.widgets import USD, display_currency
    from tcpmf.catalog.prices import cny_per_usd

    app = FounderApp(PRODUCTS / "smb_customer_service_subscription.yaml")
    rate = cny_per_usd(app.base.start_month)
    assert app.currency.code == "CNY" and app.currency.per_usd == rate
    assert app.currency_toggle.value == "CNY"
    assert float(app.typed["price_usd_per_month"].value.replace(",", "")) == pytest.approx(
        199, rel=1e-3
    )  # as the file says
    assert (
        "¥" in app.sliders["price_usd_per_month"].description
        and "¥" in app.verdict.value
        and "$" not in app.verdict.value
    )
    assert app.result is not None
    summary_cny = app.result.summary.copy()

    app.set_currency("USD")
    assert app.currency == USD and "$" in app.verdict.value and "¥" not in app.verdict.value
    assert app.result.summary.equals(summary_cny)
    assert float(app.typed["price_usd_per_month"].value) == pytest.approx(199 / rate, rel=1e-3)

    app.currency_toggle.value = "CNY"  # the toggle itself
    app.type_value("price_usd_per_month", "299")  # typed in CNY: the USD inside is 299 / rate
    assert app.sliders["price_usd_per_month"].value == pytest.approx(299 / rate, rel=1e-12)
    expected = tcpmf.evaluate(
        app.base.override({"revenue.subscription.price_usd_per_month": 299 / rate})
    ).summary.iloc[0]
    assert app.result.summary.iloc[0]["contribution_usd_per_mau_m0"] == pytest.approx(
        expected["contribution_usd_per_mau_m0"]
    )
    app.type_value(
        "price_usd_per_month", str(2e6 * rate)
    )  # beyond the schema's USD bound, said in CNY
    assert "¥" in app.message.value and "outside the allowed" in app.message.value
    assert display_currency(tcpmf.load(PRODUCTS / "writing_assistant.yaml")) == USD


def test_a_usd_file_can_be_shown_in_cny_at_the_catalog_rate(app: FounderApp) -> None:
    from tcpmf.catalog.prices import cny_per_usd

    assert app.currency.code == "USD"
    usd_box = float(app.typed["fixed_usd_per_month"].value.replace(",", ""))
    app.set_currency("CNY")
    rate = cny_per_usd(app.base.start_month)
    assert float(app.typed["fixed_usd_per_month"].value.replace(",", "")) == pytest.approx(
        usd_box * rate, rel=1e-3
    )
    assert "rate" in app.currency_note.value and "¥" in app.levers.value + app.verdict.value


@pytest.mark.parametrize("path", sorted(PRODUCTS.glob("*.yaml")), ids=lambda p: p.stem)
def test_the_quick_product_list_reads_what_load_reads(path) -> None:  # type: ignore[no-untyped-def]
    """The dropdown's names and kinds come from a quick read (a cold start's cost); they match load's."""
    from tcpmf.app.widgets import _name_and_kind

    s = tcpmf.load(path)
    assert _name_and_kind(path)[:2] == (s.name, s.kind)


def test_offline_chart_bundle_is_cached_between_processes_and_equals_altairs(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The second process reads the bundle vl-convert built in the first (half of a cold app start),
    and it is the very bundle altair builds."""
    import hashlib
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    probe = (
        "import hashlib, sys, altair as alt, vl_convert\n"
        "from tcpmf.app.widgets import enable_offline\n"
        "if sys.argv[1] == 'cached':\n"
        "    def refuse(*a, **k): raise AssertionError('built again')\n"
        "    vl_convert.javascript_bundle = refuse\n"
        "enable_offline()\n"
        "print(hashlib.sha256(alt.JupyterChart._esm.encode()).hexdigest())\n"
    )
    env = {
        **os.environ,
        "XDG_CACHE_HOME": str(tmp_path),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])),
    }

    def run(mode: str) -> str:
        out = subprocess.run(
            [sys.executable, "-c", probe, mode], env=env, capture_output=True, text=True, check=True
        )
        return out.stdout.strip()

    built = run("build")
    [cached_file] = (tmp_path / "tcpmf").glob("jupyterchart-*.js")
    assert hashlib.sha256(cached_file.read_bytes()).hexdigest() == built
    assert run("cached") == built


@settings(max_examples=40, deadline=None)
@given(
    price=st.one_of(st.just(0.0), st.floats(0.01, 500.0)),
    tokens_scale=st.one_of(st.just(0.0), st.floats(0.01, 50.0)),
    fixed=st.one_of(st.just(0.0), st.floats(1.0, 5e6)),
    cny=st.booleans(),
)  # (subnormal inputs are refused)
def test_verdict_text_is_plain_words_and_digits_whatever_the_inputs(
    price: float, tokens_scale: float, fixed: float, cny: bool
) -> None:
    """No "nan", "none", "inf" or scientific notation; a max affordable price is positive, else
    the text says no token price affords it."""
    from tcpmf.app.widgets import USD, display_currency, verdict_headline

    s = tcpmf.load(PRODUCTS / "writing_assistant.yaml")
    s = s.override(
        {
            "revenue.subscription.price_usd_per_month": price,
            "costs.fixed_usd_per_month": fixed,
            "usage.input_tokens_per_call": s.usage.input_tokens_per_call * tokens_scale,
            "usage.output_tokens_per_call": s.usage.output_tokens_per_call * tokens_scale,
        }
    )
    result = tcpmf.evaluate(s)
    currency = display_currency(s, "CNY") if cny else USD
    text = (
        verdict_text(result, currency=currency)
        + " "
        + verdict_headline(result, tcpmf.what_it_takes(s), currency=currency)
    )
    lowered = text.lower()
    assert not any(word in lowered for word in ("nan", "none", "inf ", "e+", "e-0"))
    if "max affordable" in text:
        amount = text.split("max affordable ")[1].split(" per 1M")[0]
        assert not amount.startswith("−") and amount.strip("$¥0.,") != ""


def test_only_the_first_chart_after_enable_offline_carries_the_vega_scripts() -> None:
    """One copy of the 900 kB scripts per page (a large output inside an interactive widget holds
    nbconvert up until its timeout); each notebook's enable_offline() starts a new page's copy."""
    import altair as alt
    import pandas as pd

    from tcpmf.app.widgets import enable_offline

    chart = alt.Chart(pd.DataFrame({"x": [0, 1], "y": [1, 2]})).mark_line().encode(x="x", y="y")

    def html_size() -> int:
        bundle = chart._repr_mimebundle_()
        return len((bundle[0] if isinstance(bundle, tuple) else bundle)["text/html"])

    enable_offline()
    sizes = [html_size() for _ in range(3)]
    enable_offline()
    again = html_size()
    assert sizes[0] > 100_000 and sizes[1] < 10_000 and sizes[2] < 10_000 and again > 100_000
