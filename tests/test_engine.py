"""The engine on hand-computed examples, and the shape and types of its results."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import tcpmf


@pytest.fixture
def simple(valid_scenario_dict: dict[str, Any]) -> dict[str, Any]:
    """A scenario small enough to compute by hand."""
    d = valid_scenario_dict
    d["horizon_months"] = 3
    d["model"].update(usd_per_mtok_in=1.0, usd_per_mtok_out=2.0, annual_cost_decline=1.0)
    d["usage"] = {
        "dau_per_mau": 0.5,
        "sessions_per_day": 1,
        "requests_per_session": 2,
        "input_tokens_per_call": 1000,
        "output_tokens_per_call": 500,
    }  # 15 days x 2 calls = 30 calls: 30k tokens in, 15k out -> 0.03 + 0.03 = 0.06 USD
    d["revenue"] = {
        "subscription": {"price_usd_per_month": 10, "paid_share": 0.1, "store_fee": 0.0}
    }  # ARPU 1
    d["retention"] = {"curve": "table", "points": {1: 0.5, 2: 0.25}}
    d["growth"] = {"organic_new_users_per_month": 100, "monthly_growth": 0.0}
    d["costs"] = {"fixed_usd_per_month": 80, "other_variable_usd_per_mau": 0.04}
    return d


def test_hand_computed_example(simple: dict[str, Any]) -> None:
    result = tcpmf.evaluate(tcpmf.from_dict(simple))
    m = result.monthly
    assert m["active_users"].tolist() == pytest.approx([100, 150, 175])
    assert m["contribution_usd_per_mau"].tolist() == pytest.approx([0.9, 0.9, 0.9])
    assert m["net_usd"].tolist() == pytest.approx([10, 55, 77.5])
    assert m["cash_usd"].tolist() == pytest.approx([10, 65, 142.5])
    s = result.summary.iloc[0]
    assert s["gross_margin_m0"] == pytest.approx(0.9)
    assert s["ltv_usd"] == pytest.approx(0.9 * (1 + 0.5 + 0.25))
    assert s["max_affordable_usd_per_mtok"] == pytest.approx((1 - 0.04) * 1e6 / 45000)
    assert s["usd_per_mtok_blended_m0"] == pytest.approx(0.06 * 1e6 / 45000)
    assert s["breakeven_month"] == 0 and s["payback_month"] == 0 and s["tcpmf_month"] == 0
    assert bool(s["clears_break_even"]) is True
    assert pd.isna(s["ltv_to_cac"]) and pd.isna(s["cac_payback_month"])


def test_months_that_never_come_are_na_not_sentinels(simple: dict[str, Any]) -> None:
    simple["model"].update(usd_per_mtok_in=100.0, usd_per_mtok_out=100.0)
    s = tcpmf.evaluate(tcpmf.from_dict(simple)).summary
    assert s["tcpmf_month"].dtype == "Int64"
    for column in ("tcpmf_month", "breakeven_month", "payback_month", "tcpmf_calendar_month"):
        assert pd.isna(s[column].iloc[0]), column
    assert not bool(s["clears_break_even"].iloc[0])


def test_mixed_horizons_keep_their_own_months(simple: dict[str, Any]) -> None:
    short = tcpmf.from_dict(simple)
    long = short.override({"horizon_months": 7, "name": "long"})
    result = tcpmf.evaluate([short, long, short])
    counts = result.monthly.groupby("scenario", observed=True).size()
    assert counts.to_dict() == {simple["name"]: 3, "long": 7, f"{simple['name']} [2]": 3}
    assert result.summary["scenario"].tolist() == [simple["name"], "long", f"{simple['name']} [2]"]
    assert str(result.monthly["calendar_month"].iloc[0]) == simple["start_month"]


def test_no_nan_or_inf_in_any_output(simple: dict[str, Any]) -> None:
    simple["revenue"] = {}  # ARPU 0: margin undefined
    simple["usage"]["input_tokens_per_call"] = 0
    simple["usage"]["output_tokens_per_call"] = 0
    result = tcpmf.evaluate(tcpmf.from_dict(simple))
    numbers = result.monthly.select_dtypes("number")
    for column in numbers.columns:  # nullable columns use <NA> for missing, never NaN
        assert np.isfinite(numbers[column].to_numpy(dtype=float, na_value=0.0)).all(), column
    summary = result.summary
    for column in summary.columns:
        values = summary[column]
        if pd.api.types.is_float_dtype(values):
            assert np.isfinite(values.dropna().to_numpy(dtype=float)).all(), column
    assert pd.isna(summary["gross_margin_m0"].iloc[0])
    assert pd.isna(summary["max_affordable_usd_per_mtok"].iloc[0])


def test_evaluate_accepts_paths(valid_scenario_file: Any) -> None:
    by_path = tcpmf.evaluate(valid_scenario_file).summary
    by_object = tcpmf.evaluate(tcpmf.load(valid_scenario_file)).summary
    pd.testing.assert_frame_equal(by_path, by_object)


def test_clears_at_todays_prices_ignores_the_forecast_decline(simple: dict[str, Any]) -> None:
    """A product that pays back only because prices are assumed to fall does not 'clear' today."""
    simple["horizon_months"] = 36
    simple["model"].update(
        usd_per_mtok_in=22.0, usd_per_mtok_out=22.0
    )  # 0.99 USD/MAU: contribution < 0
    flat = tcpmf.from_dict(simple)
    falling = flat.override({"model.annual_cost_decline": 10.0, "name": "falling"})
    s = tcpmf.evaluate([flat, falling]).summary
    assert s["tcpmf_month"].isna()[0] and s["tcpmf_month"][1] > 0
    assert not s["payback_month"].isna()[1]  # pays back as prices fall...
    assert list(s["clears_break_even"]) == [False, False]  # ...but does not clear at today's prices
    assert s["payback_month_m0_prices"].isna().all()


def test_no_revenue_never_reaches_tcpmf(simple: dict[str, Any]) -> None:
    simple["revenue"] = {}
    simple["usage"].update(input_tokens_per_call=0, output_tokens_per_call=0)
    simple["costs"]["other_variable_usd_per_mau"] = 0.0
    s = tcpmf.evaluate(tcpmf.from_dict(simple)).summary
    assert pd.isna(s["tcpmf_month"][0]) and not bool(s["clears_break_even"][0])
