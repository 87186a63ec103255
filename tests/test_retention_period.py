"""Retention curves stated in days, weeks, months or years convert exactly to the engine's months."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tcpmf
from tcpmf.formulas import retention
from tcpmf.formulas.retention import MONTHS_PER_PERIOD
from tcpmf.model.arrays import from_scenarios

shares = st.floats(0.01, 0.99)
shapes = st.floats(0.05, 20.0)


@settings(max_examples=60, deadline=None)
@given(alpha=shapes, beta=shapes, years=st.integers(1, 4))
def test_annual_sbg_at_whole_years_equals_the_sbg_recursion(
    alpha: float, beta: float, years: int
) -> None:
    """An sBG fitted to annual renewals, evaluated in months, hits its own yearly survival at months 12, 24, …"""
    monthly = retention.sbg([alpha], [beta], 12 * years + 1, MONTHS_PER_PERIOD["year"])[:, 0]
    yearly = retention.sbg([alpha], [beta], years + 1)[:, 0]
    assert monthly[::12] == pytest.approx(yearly, rel=1e-9)
    assert np.all(np.diff(monthly) <= 1e-12)  # survival never rises


@settings(max_examples=60, deadline=None)
@given(alpha=shapes, beta=shapes)
def test_annual_sbg_churns_slower_per_month_than_read_as_monthly(alpha: float, beta: float) -> None:
    """Read as months, an annual fit churns up to twelve times too fast: the bug this unit fixes."""
    as_years = retention.sbg([alpha], [beta], 37, MONTHS_PER_PERIOD["year"])[1:, 0]
    as_months = retention.sbg([alpha], [beta], 37)[1:, 0]
    assert np.all(as_years >= as_months - 1e-12)


@settings(max_examples=60, deadline=None)
@given(r1=shares, beta=st.floats(0.0, 3.0), period=st.sampled_from(["day", "week"]))
def test_short_period_power_law_is_the_same_law_at_the_age_in_periods(
    r1: float, beta: float, period: str
) -> None:
    r = retention.power_law([r1], [beta], 13, MONTHS_PER_PERIOD[period])[:, 0]
    ages = np.arange(1, 13) / MONTHS_PER_PERIOD[period]
    assert r[0] == 1.0
    assert r[1:] == pytest.approx(r1 * ages**-beta, rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    r1=shares,
    floor=st.floats(0.0, 1.0),
    tau=st.floats(0.1, 50.0),
    beta=st.floats(0.0, 3.0),
    alpha=shapes,
    period=st.sampled_from(list(MONTHS_PER_PERIOD)),
)
def test_every_curve_in_every_period_starts_at_one_and_stays_a_share(
    r1: float,
    floor: float,
    tau: float,
    beta: float,
    alpha: float,
    period: str,
) -> None:
    floor = min(floor, r1)
    per = MONTHS_PER_PERIOD[period]
    for r in (
        retention.power_law([r1], [beta], 40, per),
        retention.plateau([r1], [floor], [tau], 40, per),
        retention.sbg([alpha], [beta + 0.01], 40, per),
    ):
        assert r[0, 0] == 1.0
        assert np.all((r >= 0) & (r <= 1 + 1e-12))
        assert np.all(np.diff(r[:, 0]) <= 1e-12)


def test_month_period_is_the_curve_as_before() -> None:
    for curve in (
        lambda p: retention.power_law([0.4], [0.5], 24, p),
        lambda p: retention.sbg([0.7], [1.2], 24, p),
        lambda p: retention.plateau([0.4], [0.1], [3.0], 24, p),
    ):
        assert np.array_equal(curve(1.0), curve(np.asarray([1.0])))


def test_scenario_period_reaches_the_engine(valid_scenario_dict: dict[str, Any]) -> None:
    valid_scenario_dict["retention"] = {
        "curve": "sbg",
        "period": "year",
        "alpha": 0.704,
        "beta": 1.182,
    }
    annual = from_scenarios([tcpmf.from_dict(valid_scenario_dict)]).retention[:, 0]
    valid_scenario_dict["retention"]["period"] = "month"
    monthly = from_scenarios([tcpmf.from_dict(valid_scenario_dict)]).retention[:, 0]
    assert annual[12] == pytest.approx(1.182 / (0.704 + 1.182))  # 63% renew after a year
    assert monthly[1] == pytest.approx(1.182 / (0.704 + 1.182))  # the same share after one month
    valid_scenario_dict["retention"] = {
        "curve": "table",
        "period": "week",
        "points": {4: 0.5, 52: 0.2},
    }
    table = from_scenarios([tcpmf.from_dict(valid_scenario_dict)]).retention[:, 0]
    week = MONTHS_PER_PERIOD["week"]
    assert table[1] == pytest.approx(np.interp(1.0, [0, 4 * week, 52 * week], [1.0, 0.5, 0.2]))


def test_unknown_period_is_refused_naming_the_key(valid_scenario_dict: dict[str, Any]) -> None:
    valid_scenario_dict["retention"]["period"] = "fortnight"
    with pytest.raises(tcpmf.AssumptionError) as info:
        tcpmf.from_dict(valid_scenario_dict)
    assert "retention" in info.value.key_path and "period" in info.value.key_path


def test_bundled_retention_defaults_state_their_period() -> None:
    from tcpmf.core.yamlio import assumptions_dir

    for path in sorted(assumptions_dir().rglob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        if "\n  curve:" in text:
            assert "\n  period: " in text, path.name


def test_fit_retention_block_states_the_age_unit_and_loads(tmp_path: Any) -> None:
    from tcpmf.analysis.retention_fit import fit_retention, simulate_cohorts

    survival = retention.sbg([0.704], [1.182], 8)[:, 0]  # annual renewals, ages in years
    table = simulate_cohorts(
        survival, sizes=[5000, 5000, 5000], ages_observed=list(range(7)), seed=1
    )
    fit = fit_retention(table, curves=["sbg"], period="year")
    block = fit.to_yaml()
    assert "\n  period: year\n" in block
    with pytest.raises(tcpmf.TcpmfError, match="age unit"):
        fit_retention(table, curves=["sbg"], period="fortnight")
