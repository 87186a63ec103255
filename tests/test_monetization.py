"""Users-first monetization: a revenue stream that starts late and ramps (docs/model.md §3)."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd
import pytest
import strategies as S
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tcpmf
from tcpmf.core.errors import AssumptionError
from tcpmf.formulas.revenue import monetization_factor

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
STREAMS = ("subscription", "ads", "usage", "commerce")

delay = st.fixed_dictionaries({
    "from_month": S.num(0.0, 40.0, 0.0, 2.5),
    "from_mau": S.num(0.0, 1e7, 0.0),
    "ramp_months": S.num(0.0, 30.0, 0.0, 1.0),
})


def _with(d: dict[str, Any], monetization: dict[str, Any] | None, name: str) -> dict[str, Any]:
    out = copy.deepcopy(d)
    out["name"] = name
    for stream in STREAMS:
        section = out.get("revenue", {}).get(stream)
        if isinstance(section, dict) and monetization is not None:
            section["monetization"] = dict(monetization)
    return out


def _summaries(*dicts: dict[str, Any]) -> pd.DataFrame:
    return tcpmf.evaluate([tcpmf.from_dict(d) for d in dicts]).summary


@SETTINGS
@given(S.scenarios(name="x"), st.sampled_from([
    {"from_month": 0, "from_mau": 0, "ramp_months": 0},
    {"from_month": 0, "from_mau": 0, "ramp_months": 1},
    {},
]))
def test_every_stream_from_month_0_at_once_gives_todays_results(d: dict[str, Any], flat: dict[str, Any]) -> None:
    today = _summaries(_with(d, None, "x"))
    flat_start = _summaries(_with(d, flat, "x"))
    pd.testing.assert_frame_equal(today, flat_start, rtol=1e-12, atol=1e-9)
    monthly_today = tcpmf.evaluate([tcpmf.from_dict(_with(d, None, "x"))]).monthly
    monthly_flat = tcpmf.evaluate([tcpmf.from_dict(_with(d, flat, "x"))]).monthly
    pd.testing.assert_frame_equal(monthly_today, monthly_flat, rtol=1e-12, atol=1e-9)


@SETTINGS
@given(S.scenarios(name="x"), delay, delay)
def test_later_or_slower_monetization_never_lowers_peak_funding(d: dict[str, Any], a: dict[str, Any], b: dict[str, Any]) -> None:
    early = {k: min(a[k], b[k]) for k in a}
    late = {k: max(a[k], b[k]) for k in a}
    s = _summaries(_with(d, early, "early"), _with(d, late, "late")).set_index("scenario")
    funding_early, funding_late = s.loc["early", "peak_funding_usd"], s.loc["late", "peak_funding_usd"]
    assert funding_late >= funding_early - 1e-9 * max(1.0, abs(funding_early))
    for month in ("tcpmf_month", "company_tcpmf_month", "payback_month"):
        if pd.isna(s.loc["late", month]):
            continue  # never within the horizon is later than any month
        assert not pd.isna(s.loc["early", month]) and s.loc["early", month] <= s.loc["late", month], month


@SETTINGS
@given(S.scenarios(name="x"))
def test_company_tcpmf_comes_with_unit_tcpmf_and_cash_paid_back(d: dict[str, Any]) -> None:
    result = tcpmf.evaluate([tcpmf.from_dict(d)])
    row = result.summary.iloc[0]
    if pd.isna(row["company_tcpmf_month"]):
        return
    month = int(row["company_tcpmf_month"])
    assert not pd.isna(row["tcpmf_month"]) and int(row["tcpmf_month"]) <= month
    assert result.monthly["cash_usd"].iloc[month] >= 0
    assert not pd.isna(row["payback_month"]) and int(row["payback_month"]) <= month


def test_the_factor_starts_at_the_later_of_month_and_mau_then_ramps() -> None:
    users = np.array([[5.0, 5.0], [10.0, 10.0], [30.0, 30.0], [20.0, 40.0], [10.0, 50.0], [10.0, 60.0]])
    f = monetization_factor(users, [0.0, 4.0], [25.0, 0.0], [3.0, 0.0])
    assert f[:, 0].tolist() == pytest.approx([0, 0, 1 / 3, 2 / 3, 1, 1])  # a threshold once reached stays reached
    assert f[:, 1].tolist() == [0, 0, 0, 0, 1, 1]
    never = monetization_factor(users, [0.0, 0.0], [1e9, 1e9], [0.0, 0.0])
    assert not never.any()


def test_a_late_ads_stream_earns_nothing_before_it_starts(valid_scenario_dict: dict[str, Any]) -> None:
    d = copy.deepcopy(valid_scenario_dict)
    d["revenue"] = {"ads": {"impressions_per_session": 4, "rpm_usd": 3.0, "monetization": {"from_month": 6, "ramp_months": 4}}}
    monthly = tcpmf.evaluate([tcpmf.from_dict(d)]).monthly
    arpu = monthly["arpu_usd"].to_numpy()
    full = arpu[-1]
    assert full > 0 and (arpu[:6] == 0).all()
    assert arpu[6:10] == pytest.approx(full * np.array([0.25, 0.5, 0.75, 1.0]))


def test_a_bad_monetization_names_the_key(valid_scenario_dict: dict[str, Any]) -> None:
    d = copy.deepcopy(valid_scenario_dict)
    d["revenue"] = {"ads": {"impressions_per_session": 4, "rpm_usd": 3.0, "monetization": {"ramp_months": -1}}}
    with pytest.raises(AssumptionError, match="revenue.ads.monetization.ramp_months"):
        tcpmf.from_dict(d)
