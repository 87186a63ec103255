"""tcpmf.uncertainty.sensitivity: sweep, tornado and Sobol indices agree with direct evaluation."""

from __future__ import annotations

import copy
import itertools
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import strategies as S
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tcpmf
from tcpmf.schema.distributions import Choice
from tcpmf.uncertainty.batch import OUTCOME_COLUMNS

ROOT = Path(__file__).resolve().parent.parent
PORTFOLIO = ROOT / "assumptions" / "portfolios" / "consumer_stages.yaml"
PROPERTY = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture
def scenario(valid_scenario_dict: dict[str, Any]) -> tcpmf.Scenario:
    return tcpmf.from_dict(valid_scenario_dict)


@pytest.fixture(scope="module")
def portfolio() -> tcpmf.Portfolio:
    return tcpmf.load_portfolio(PORTFOLIO)


def summary(s: tcpmf.Scenario) -> dict[str, Any]:
    row = tcpmf.evaluate(s).summary.iloc[0]
    return {c: (None if row[c] is pd.NA else row[c]) for c in OUTCOME_COLUMNS}


def same(a: Any, b: Any) -> bool:
    if a is None or b is None or a is pd.NA or b is pd.NA:
        return (a is None or a is pd.NA) and (b is None or b is pd.NA)
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)


# -- sweep ------------------------------------------------------------------------------------

SWEEP_VALUES: dict[str, list[Any]] = {
    "usage.sessions_per_day": [0.5, 1, 2, 4],
    "revenue.subscription.paid_share": [0.01, 0.03, 0.05, 0.1],
    "costs.fixed_usd_per_month": [0.0, 5e4, 5e5],
    "model.name": ["gpt-4o", "gpt-4o-mini"],
}


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    st.dictionaries(
        st.sampled_from(sorted(SWEEP_VALUES)), st.integers(1, 4), min_size=1, max_size=4
    )
)
def test_sweep_is_the_full_grid_in_product_order(
    valid_scenario_dict: dict[str, Any], sizes: dict[str, int]
) -> None:
    d = copy.deepcopy(valid_scenario_dict)
    d["model"] = {"route": "api", "name": "gpt-4o"}  # catalog prices, so model.name can vary
    s = tcpmf.from_dict(d)
    grid = {k: SWEEP_VALUES[k][:n] for k, n in sizes.items()}
    out = tcpmf.sweep(s, grid)
    assert len(out) == math.prod(len(v) for v in grid.values())
    assert list(out.columns) == [*grid, *OUTCOME_COLUMNS]
    expected = list(itertools.product(*grid.values()))  # the first key varies slowest
    for j, key in enumerate(grid):
        column = out[key].tolist()
        assert all(
            a == b if isinstance(b, str) else same(a, b)
            for a, b in zip(column, (e[j] for e in expected))
        )


def test_sweep_rows_equal_direct_evaluation(valid_scenario_dict: dict[str, Any]) -> None:
    valid_scenario_dict["model"] = {"route": "api", "name": "gpt-4o"}
    s = tcpmf.from_dict(valid_scenario_dict)
    out = tcpmf.sweep(s, SWEEP_VALUES)
    assert len(out) == 4 * 4 * 3 * 2
    for i in np.random.default_rng(0).choice(len(out), 6, replace=False):
        row = out.iloc[int(i)]
        override = {k: (row[k] if isinstance(row[k], str) else float(row[k])) for k in SWEEP_VALUES}
        direct = summary(s.override(override))
        for c in OUTCOME_COLUMNS:
            assert same(row[c], direct[c]), (override, c, row[c], direct[c])


def test_sweep_of_a_hundred_thousand_points_runs_in_chunks(scenario: tcpmf.Scenario) -> None:
    grid = {
        "usage.sessions_per_day": list(np.linspace(0.5, 5, 100)),
        "revenue.subscription.paid_share": list(np.linspace(0.0, 0.2, 100)),
        "costs.fixed_usd_per_month": list(np.linspace(0, 1e6, 10)),
    }
    out = tcpmf.sweep(scenario, grid)
    assert len(out) == 100_000 and out.index.equals(pd.RangeIndex(100_000))
    last = out.iloc[-1]  # from the second chunk
    direct = summary(scenario.override({k: float(last[k]) for k in grid}))
    assert same(last["peak_funding_usd"], direct["peak_funding_usd"])


@pytest.mark.parametrize(
    ("grid", "key"),
    [
        ({"usage.sessions_per_day": 2}, "usage.sessions_per_day"),
        ({"usage.sessions_per_day": []}, "usage.sessions_per_day"),
        ({"usage.sessions_per_day": "2"}, "usage.sessions_per_day"),
        ({"usage.sessions_per_day": [1, -3]}, "usage.sessions_per_day"),
        ({"usage.dau_per_mau": [0.5, 1.5]}, "usage.dau_per_mau"),
    ],
)
def test_sweep_names_a_bad_key_or_value(
    scenario: tcpmf.Scenario, grid: dict[str, Any], key: str
) -> None:
    with pytest.raises(tcpmf.AssumptionError) as info:
        tcpmf.sweep(scenario, grid)
    assert info.value.key_path == key and info.value.file == "<grid>"


# -- tornado ----------------------------------------------------------------------------------

RANGES = {
    "usage.sessions_per_day": (1.0, 3.0),
    "revenue.subscription.paid_share": (0.02, 0.08),
    "costs.fixed_usd_per_month": (1e4, 2e5),
    "finance.discount_rate_annual": (0.05, 0.3),
}


@pytest.mark.parametrize(
    "outcome", ["peak_funding_usd", "ltv_usd", "payback_month", "clears_break_even"]
)
def test_tornado_equals_direct_evaluation(scenario: tcpmf.Scenario, outcome: str) -> None:
    out = tcpmf.tornado(scenario, RANGES, outcome=outcome)
    assert list(out["key"]) and set(out["key"]) == set(RANGES)
    base = summary(scenario)[outcome]
    horizon = scenario.horizon_months
    for row in out.itertuples():
        assert (row.low, row.high) == RANGES[row.key]
        for value, at in ((row.low, row.at_low), (row.high, row.at_high)):
            direct = summary(scenario.override({row.key: value}))[outcome]
            assert same(at, horizon if direct is None and outcome.endswith("_month") else direct)
        assert same(row.at_base, horizon if base is None and outcome.endswith("_month") else base)
        assert same(row.swing, abs(row.at_high - row.at_low))
    swings = out["swing"].to_numpy(float)
    assert (np.diff(swings) <= 0).all()
    assert (out["outcome"] == outcome).all()


def test_tornado_defaults_to_p10_and_p90_and_every_option_of_a_name(
    portfolio: tcpmf.Portfolio,
) -> None:
    product = portfolio.products[0]  # draws model.name among two options
    out = tcpmf.tornado(product)
    assert set(out["key"]) == set(product.uncertainties)
    for row in out.itertuples():
        dist = product.uncertainties[row.key]
        if dist.numeric:
            assert math.isclose(row.low, float(dist.ppf(np.array([0.1]))[0]))
            assert math.isclose(row.high, float(dist.ppf(np.array([0.9]))[0]))
        else:
            assert isinstance(dist, Choice)
            options = [str(o) for o in dist.options]
            at = {
                o: summary(product.scenario.override({row.key: o}))["peak_funding_usd"]
                for o in options
            }
            assert row.low == min(at, key=at.__getitem__) and row.high == max(
                at, key=at.__getitem__
            )
            assert same(row.swing, max(at.values()) - min(at.values()))
    assert same(out["at_base"].iloc[0], summary(product.scenario)["peak_funding_usd"])


def test_tornado_of_a_portfolio_path_gives_one_block_per_product(
    portfolio: tcpmf.Portfolio,
) -> None:
    out = tcpmf.tornado(PORTFOLIO)
    assert list(pd.unique(out["product"])) == portfolio.names
    for name, block in out.groupby("product", sort=False):
        swings = block["swing"].to_numpy(float)
        assert (np.diff(swings) <= 0).all(), name


def test_tornado_censors_a_month_that_never_comes_at_the_horizon(scenario: tcpmf.Scenario) -> None:
    out = tcpmf.tornado(
        scenario, {"costs.fixed_usd_per_month": (0.0, 1e9)}, outcome="payback_month"
    )
    row = out.iloc[0]
    assert summary(scenario.override({"costs.fixed_usd_per_month": 1e9}))["payback_month"] is None
    assert row["at_high"] == scenario.horizon_months and bool(row["censored"])
    assert not out["at_high"].isna().any() and not out["swing"].isna().any()


def test_tornado_keeps_an_undefined_outcome_missing_not_nan(scenario: tcpmf.Scenario) -> None:
    # without paid acquisition there is no CAC, so LTV/CAC is undefined (<NA>), never NaN or 0
    out = tcpmf.tornado(scenario, {"usage.sessions_per_day": (1, 3)}, outcome="ltv_to_cac")
    assert out["at_low"].isna().all() and out["swing"].isna().all()
    assert str(out["swing"].dtype) == "Float64"


@PROPERTY
@given(
    S.scenarios(),
    st.sampled_from(["costs.fixed_usd_per_month", "costs.other_variable_usd_per_mau"]),
    st.floats(0, 1e6).map(S._no_dust),
    st.floats(0, 1e6).map(S._no_dust),
)
def test_higher_costs_never_lower_peak_funding_nor_bring_payback_earlier(
    d: dict[str, Any], key: str, a: float, b: float
) -> None:
    scale = 1.0 if key == "costs.fixed_usd_per_month" else 1e-4
    low, high = sorted((a * scale, b * scale))
    s = tcpmf.from_dict(d)
    funding = tcpmf.tornado(s, {key: (low, high)}, outcome="peak_funding_usd").iloc[0]
    assert funding["at_high"] >= funding["at_low"] * (1 - 1e-12) - 1e-6
    payback = tcpmf.tornado(s, {key: (low, high)}, outcome="payback_month").iloc[0]
    assert payback["at_high"] >= payback["at_low"]  # a month that never comes counts as the horizon


@pytest.mark.parametrize(
    ("ranges", "key"),
    [
        ({"usage.sessions_per_day": 2}, "usage.sessions_per_day"),
        ({"usage.sessions_per_day": (1, 2, 3)}, "usage.sessions_per_day"),
        ({"usage.sessions_per_day": (3, 1)}, "usage.sessions_per_day"),
        ({"usage.sessions_per_day": (1, "a")}, "usage.sessions_per_day"),
        ({"usage.dau_per_mau": (0.1, 1.5)}, "usage.dau_per_mau"),
    ],
)
def test_tornado_names_a_bad_range(
    scenario: tcpmf.Scenario, ranges: dict[str, Any], key: str
) -> None:
    with pytest.raises(tcpmf.AssumptionError) as info:
        tcpmf.tornado(scenario, ranges)
    assert info.value.key_path == key and info.value.file == "<ranges>"


def test_tornado_refuses_an_unknown_outcome_and_a_scenario_without_distributions(
    scenario: tcpmf.Scenario,
) -> None:
    with pytest.raises(tcpmf.AssumptionError, match="peak_funding") as info:
        tcpmf.tornado(scenario, RANGES, outcome="peak_fundng_usd")
    assert info.value.key_path == "outcome" and info.value.value == "peak_fundng_usd"
    with pytest.raises(tcpmf.TcpmfError, match="no uncertain inputs"):
        tcpmf.tornado(scenario)


# -- Sobol ------------------------------------------------------------------------------------


@pytest.fixture
def uncertain_scenario(valid_scenario_dict: dict[str, Any]) -> tcpmf.Scenario:
    d = valid_scenario_dict
    d["costs"]["fixed_usd_per_month"] = {"dist": "uniform", "low": 0, "high": 2e6}
    d["usage"]["sessions_per_day"] = {"dist": "triangular", "low": 1.5, "mode": 2, "high": 2.5}
    d["finance"] = {"discount_rate_annual": {"dist": "uniform", "low": 0.0, "high": 0.5}}
    return tcpmf.from_dict(d)


def test_sobol_finds_the_dominant_input_and_the_one_that_cannot_matter(
    uncertain_scenario: tcpmf.Scenario,
) -> None:
    out = tcpmf.sobol(uncertain_scenario, outcome="peak_funding_usd", n=256, seed=3)
    assert list(out.columns) == [
        "product",
        "outcome",
        "key",
        "S1",
        "S1_conf",
        "ST",
        "ST_conf",
        "censored_share",
    ]
    st_ = dict(zip(out["key"], out["ST"].astype(float)))
    # the discount rate enters only LTV: peak funding is the same number whatever it is
    assert abs(st_["finance.discount_rate_annual"]) < 1e-9
    assert max(st_, key=st_.__getitem__) == "costs.fixed_usd_per_month"
    assert st_["costs.fixed_usd_per_month"] > 0.8


def test_sobol_is_reproducible_for_a_seed(uncertain_scenario: tcpmf.Scenario) -> None:
    a = tcpmf.sobol(uncertain_scenario, n=64, seed=7)
    b = tcpmf.sobol(uncertain_scenario, n=64, seed=7)
    c = tcpmf.sobol(uncertain_scenario, n=64, seed=8)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["S1"].astype(float), c["S1"].astype(float))


def test_sobol_second_order_and_a_yes_no_outcome(uncertain_scenario: tcpmf.Scenario) -> None:
    first, second = tcpmf.sobol(
        uncertain_scenario, outcome="clears_break_even", n=64, second_order=True
    )
    assert len(first) == 3 and len(second) == 3
    assert list(second.columns) == ["product", "outcome", "key_a", "key_b", "S2", "S2_conf"]
    assert set(zip(second["key_a"], second["key_b"])) <= {
        (a, b) for a in first["key"] for b in first["key"] if a < b
    }
    assert first[["S1", "ST"]].notna().all().all()


def test_sobol_warns_that_correlations_are_ignored_and_maps_names(
    portfolio: tcpmf.Portfolio,
) -> None:
    product = portfolio.products[0]  # correlated inputs and a choice of model names
    with pytest.warns(UserWarning, match="independent"):
        out = tcpmf.sobol(product, n=32, seed=1)
    assert set(out["key"]) == set(product.uncertainties)
    assert out["ST"].notna().all()


def test_sobol_takes_distributions_as_an_argument(scenario: tcpmf.Scenario) -> None:
    out = tcpmf.sobol(
        scenario,
        n=32,
        uncertain={"usage.sessions_per_day": {"dist": "uniform", "low": 1, "high": 3}},
    )
    assert list(out["key"]) == ["usage.sessions_per_day"]
    with pytest.raises(tcpmf.AssumptionError) as info:
        tcpmf.sobol(
            scenario,
            n=32,
            uncertain={"usage.sessions_per_day": {"dist": "uniform", "low": 3, "high": 1}},
        )
    assert info.value.key_path.startswith("usage.sessions_per_day")


def test_sobol_of_a_constant_outcome_is_missing_with_a_warning(
    uncertain_scenario: tcpmf.Scenario,
) -> None:
    with pytest.warns(UserWarning, match="undefined"):
        out = tcpmf.sobol(uncertain_scenario, outcome="arpu_usd_m0", n=32)
    assert out["S1"].isna().all() and out["ST"].isna().all()


def test_sobol_refuses_an_outcome_undefined_for_some_draws(
    uncertain_scenario: tcpmf.Scenario,
) -> None:
    with pytest.raises(tcpmf.TcpmfError, match="ltv_to_cac is undefined"):
        tcpmf.sobol(uncertain_scenario, outcome="ltv_to_cac", n=32)
    with pytest.raises(tcpmf.AssumptionError) as info:
        tcpmf.sobol(uncertain_scenario, outcome="nope", n=32)
    assert info.value.key_path == "outcome"


def test_sobol_censors_months_and_says_how_often(uncertain_scenario: tcpmf.Scenario) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = tcpmf.sobol(uncertain_scenario, outcome="payback_month", n=64)
    share = out["censored_share"].iloc[0]
    assert 0 < share < 1 and out["ST"].notna().all()


def test_a_tornado_over_options_that_tie_shows_two_options_and_no_swing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import yaml

    import tcpmf
    from tcpmf.core.yamlio import assumptions_dir

    data = {
        "name": "t",
        "products": [
            {
                "scenario": str(assumptions_dir() / "products" / "writing_assistant.yaml"),
                "uncertain": {
                    "model.name": {"dist": "choice", "options": ["gpt-4o", "gpt-4.1-mini"]}
                },
            }
        ],
    }
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    table = tcpmf.tornado(
        path, outcome="arpu_usd_m0"
    )  # revenue per user does not depend on the model
    row = table.iloc[0]
    assert row["low"] != row["high"] and row["swing"] == 0
