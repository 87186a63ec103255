"""An incumbent enters after TC-PMF, and what a moat is worth (docs/model.md §6)."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd
import pytest
import strategies as S
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

import tcpmf
from tcpmf.core.errors import AssumptionError
from tcpmf.formulas.competition import active_users_under_hazard, entry_intensity, moat_offset
from tcpmf.formulas.retention import active_users
from tcpmf.model.engine import MONTHLY_COLUMNS, SUMMARY_COLUMNS

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)

effects = st.fixed_dictionaries(
    {
        "ramp_months": S.num(0.0, 24.0, 0.0, 1.0, 6.0),
        "organic_new_users_cut": S.share,
        "cac_increase": S.num(0.0, 5.0, 0.0, 1.0),
        "added_monthly_churn": S.num(0.0, 0.5, 0.0, 0.02),
        "subscription_revenue_cut": S.share,
        "ad_rpm_cut": S.share,
    }
)
moats = st.fixed_dictionaries(
    {
        "active_users_half": S.num(0.0, 1e8, 0.0, 1e6),
        "active_users_weight": S.num(0.0, 1 / 3, 0.0),
        "cumulative_users_half": S.num(0.0, 1e8, 0.0, 1e7),
        "cumulative_users_weight": S.num(0.0, 1 / 3, 0.0),
        "brand_spend_half_usd": S.num(0.0, 1e9, 0.0, 1e7),
        "brand_spend_weight": S.num(0.0, 1 / 3, 0.0),
    }
)
entries = st.one_of(
    S.num(0.0, 60.0, 0.0, 3.0, 12.0).map(lambda m: {"entry_months_after_tcpmf": m}),
    S.num(0.0, 60.0, 0.0, 6.0, 24.0).map(lambda m: {"entry_month": m}),
)
api_scenarios = S.scenarios(name="x", models=S.api_model())


def _with(d: dict[str, Any], competition: dict[str, Any] | None, name: str = "x") -> dict[str, Any]:
    out = copy.deepcopy(d)
    out["name"] = name
    if competition is not None:
        out["competition"] = copy.deepcopy(competition)
    return out


def _evaluate(*dicts: dict[str, Any]) -> tcpmf.Result:
    return tcpmf.evaluate([tcpmf.from_dict(d) for d in dicts])


def _rows(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    return frame[frame["scenario"] == name].reset_index(drop=True)


@SETTINGS
@given(S.scenarios(name="x"), entries, effects, moats)
def test_absent_section_gives_todays_results_bit_for_bit(
    d: dict[str, Any], entry: dict[str, Any], e: dict[str, Any], m: dict[str, Any]
) -> None:
    # the same batch (numpy's sums may round differently with another number of columns)
    today = _evaluate(_with(d, None), _with(d, None, "rival"))
    assert "entry_month" not in today.summary.columns  # no competition anywhere: today's frame
    beside = _evaluate(_with(d, None), _with(d, {**entry, **e, "moat": m}, "rival"))
    pd.testing.assert_frame_equal(
        _rows(today.summary, "x"),
        _rows(beside.summary, "x")[today.summary.columns],
        check_exact=True,
    )
    for name in MONTHLY_COLUMNS:
        np.testing.assert_array_equal(
            _rows(today.monthly, "x")[name].to_numpy(float, na_value=np.nan),
            _rows(beside.monthly, "x")[name].to_numpy(float, na_value=np.nan),
            err_msg=name,
        )


@SETTINGS
@given(S.scenarios(name="x"), entries, moats, st.sampled_from(["ramp_months", None]))
def test_zero_effect_sizes_give_todays_results(
    d: dict[str, Any], entry: dict[str, Any], m: dict[str, Any], ramp: str | None
) -> None:
    section = {**entry, "moat": m, **({"ramp_months": 3.0} if ramp else {})}
    today, zero = _evaluate(_with(d, None)), _evaluate(_with(d, section))
    pd.testing.assert_frame_equal(
        today.summary[["scenario", *SUMMARY_COLUMNS]],
        zero.summary[["scenario", *SUMMARY_COLUMNS]],
        rtol=1e-9,
        atol=1e-6,
    )
    for name in MONTHLY_COLUMNS:
        np.testing.assert_allclose(
            zero.monthly[name].to_numpy(float, na_value=np.nan),
            today.monthly[name].to_numpy(float, na_value=np.nan),
            rtol=1e-9,
            atol=1e-6,
            err_msg=name,
        )


@SETTINGS
@given(S.scenarios(name="x"), entries, effects, moats)
def test_effects_apply_only_from_the_entry_month(
    d: dict[str, Any], entry: dict[str, Any], e: dict[str, Any], m: dict[str, Any]
) -> None:
    today, rival = _evaluate(_with(d, None)), _evaluate(_with(d, {**entry, **e, "moat": m}))
    month = rival.summary["entry_month"].iloc[0]
    before = len(today.monthly) if pd.isna(month) else min(int(month), len(today.monthly))
    if pd.isna(month):  # no TC-PMF, nothing to copy: the incumbent never enters
        assert pd.isna(today.summary["tcpmf_month"].iloc[0]) and "entry_months_after_tcpmf" in entry
    for name in MONTHLY_COLUMNS:
        np.testing.assert_allclose(
            rival.monthly[name].to_numpy(float, na_value=np.nan)[:before],
            today.monthly[name].to_numpy(float, na_value=np.nan)[:before],
            rtol=1e-9,
            atol=1e-6,
            err_msg=name,
        )


def _users_profitable(result: tcpmf.Result) -> bool:
    """Every month's contribution per user is non-negative: fewer users can only mean less cash.
    (A product that loses money on each user gains from losing users; the properties below are
    about the products Lee's test passes.)"""
    return bool((result.monthly["contribution_usd_per_mau"].to_numpy(float) >= 0).all())


def _not_worse(better: pd.Series, worse: pd.Series) -> None:
    tolerance = 1e-9 * max(1.0, abs(worse["peak_funding_usd"]))
    assert better["peak_funding_usd"] <= worse["peak_funding_usd"] + tolerance
    if not pd.isna(worse["payback_month"]):
        assert (
            not pd.isna(better["payback_month"])
            and better["payback_month"] <= worse["payback_month"]
        )
    if not pd.isna(worse["survives_entry"]) and worse["survives_entry"]:
        assert pd.isna(better["survives_entry"]) or better["survives_entry"]


@SETTINGS
@given(
    api_scenarios,
    effects,
    moats,
    S.num(0.0, 40.0, 0.0, 6.0),
    S.num(0.0, 40.0, 0.0, 12.0),
    st.booleans(),
)
def test_a_later_entry_never_hurts(
    d: dict[str, Any], e: dict[str, Any], m: dict[str, Any], x: float, y: float, fixed: bool
) -> None:
    key = "entry_month" if fixed else "entry_months_after_tcpmf"
    early, late = min(x, y), max(x, y)
    r = _evaluate(
        _with(d, {key: early, **e, "moat": m}, "early"),
        _with(d, {key: late, **e, "moat": m}, "late"),
    )
    assume(_users_profitable(r))
    s = r.summary.set_index("scenario")
    _not_worse(s.loc["late"], s.loc["early"])
    cash = r.monthly.pivot(index="month", columns="scenario", values="cash_usd")
    assert (cash["late"] >= cash["early"] - 1e-9 * np.maximum(1.0, cash["early"].abs())).all()


@SETTINGS
@given(api_scenarios, entries, effects, moats, moats)
def test_a_stronger_moat_never_hurts(
    d: dict[str, Any],
    entry: dict[str, Any],
    e: dict[str, Any],
    a: dict[str, Any],
    b: dict[str, Any],
) -> None:
    weak = {
        k: (max if k.endswith("half") or k.endswith("half_usd") else min)(a[k], b[k]) for k in a
    }
    strong = {
        k: (min if k.endswith("half") or k.endswith("half_usd") else max)(a[k], b[k]) for k in a
    }
    # a half of 0 means the component is unused: the weaker moat must not use what the stronger lacks
    for half, weight in (
        ("active_users_half", "active_users_weight"),
        ("cumulative_users_half", "cumulative_users_weight"),
        ("brand_spend_half_usd", "brand_spend_weight"),
    ):
        if strong[half] == 0:
            strong[half] = weak[half]
        if weak[half] == 0 or strong[half] == 0:
            weak[weight] = 0.0
    r = _evaluate(
        _with(d, {**entry, **e, "moat": weak}, "weak"),
        _with(d, {**entry, **e, "moat": strong}, "strong"),
    )
    assume(_users_profitable(r))
    s = r.summary.set_index("scenario")
    if not (pd.isna(s.loc["weak", "moat_offset"]) or pd.isna(s.loc["strong", "moat_offset"])):
        assert s.loc["strong", "moat_offset"] >= s.loc["weak", "moat_offset"] - 1e-12
    _not_worse(s.loc["strong"], s.loc["weak"])


def test_a_bundled_product_shows_the_window_and_what_entry_costs() -> None:
    s = tcpmf.load("assumptions/products/writing_assistant.yaml")
    harsh = {
        "competition.entry_months_after_tcpmf": 6,
        "competition.ramp_months": 6,
        "competition.organic_new_users_cut": 0.5,
        "competition.added_monthly_churn": 0.03,
        "competition.subscription_revenue_cut": 0.2,
    }
    row = tcpmf.evaluate([s.override(harsh)]).summary.iloc[0]
    today = tcpmf.evaluate([s]).summary.iloc[0]
    assert row["entry_month"] == today["tcpmf_month"] + 6 and row["window_months"] == 6
    assert row["payback_month_without_competition"] == today["payback_month"]
    assert row["peak_funding_usd"] > today["peak_funding_usd"]
    monthly = tcpmf.evaluate([s]).monthly
    assert row["active_users_at_entry"] == pytest.approx(
        monthly["active_users"].iloc[int(row["entry_month"]) - 1]
    )
    assert row["cash_usd_at_entry"] == pytest.approx(
        monthly["cash_usd"].iloc[int(row["entry_month"]) - 1]
    )


def test_the_hazard_convolution_matches_the_direct_sum() -> None:
    rng = np.random.default_rng(3)
    months, n = 12, 4
    arrivals = rng.uniform(0, 100, (months, n))
    retention = np.vstack([np.ones(n), rng.uniform(0.2, 0.9, (months - 1, n))])
    retention = np.minimum.accumulate(retention, axis=0)
    hazard = rng.uniform(0, 0.2, (months, n))
    survival: NDArray[np.float64] = np.asarray(
        np.cumprod(np.vstack([np.ones(n), 1 - hazard[1:]]), axis=0), dtype=float
    )
    direct: NDArray[np.float64] = np.zeros((months, n))
    for t in range(months):
        for s in range(t + 1):
            direct[t] += arrivals[s] * retention[t - s] * survival[t] / survival[s]
    np.testing.assert_allclose(
        active_users_under_hazard(arrivals, retention, survival), direct, rtol=1e-12
    )
    flat: NDArray[np.float64] = np.ones((months, n))
    np.testing.assert_allclose(
        active_users_under_hazard(arrivals, retention, flat),
        active_users(arrivals, retention),
        rtol=1e-12,
    )


def test_the_moat_saturates_and_the_entry_ramps() -> None:
    assert moat_offset(
        [0.0, 1e6, 1e12], 1e6, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
    ).tolist() == pytest.approx([0.0, 0.25, 0.5])
    e = entry_intensity(6, [2.0, np.inf], [3.0, 0.0])
    assert e[:, 0].tolist() == pytest.approx([0, 0, 1 / 3, 2 / 3, 1, 1]) and not e[:, 1].any()


@pytest.mark.parametrize(
    ("section", "key"),
    [
        (
            {"entry_month": 3, "entry_months_after_tcpmf": 3},
            r"competition\.entry_months_after_tcpmf",
        ),
        ({}, r"competition\.entry_months_after_tcpmf"),
        (
            {"entry_month": 3, "moat": {"active_users_weight": 0.6, "brand_spend_weight": 0.6}},
            r"competition\.moat",
        ),
        ({"entry_month": 3, "added_monthly_churn": 0.9}, r"competition\.added_monthly_churn"),
        ({"entry_month": 3, "rival_strength": 1}, r"competition\.rival_strength"),
    ],
)
def test_a_bad_competition_section_names_the_key(
    valid_scenario_dict: dict[str, Any], section: dict[str, Any], key: str
) -> None:
    with pytest.raises(AssumptionError, match=key):
        tcpmf.from_dict(_with(valid_scenario_dict, section))


# -- what it takes in time and scale -------------------------------------------------------------


def _survives(s: tcpmf.Scenario) -> bool:
    r = tcpmf.evaluate([s])
    cash = r.monthly["cash_usd"].to_numpy(float)
    return bool(cash[-1] >= 0)


def test_the_entry_lever_is_the_earliest_entry_the_product_survives() -> None:
    s = tcpmf.load("assumptions/competition/productivity.yaml").override(
        {
            "competition.added_monthly_churn": 0.3,
            "competition.subscription_revenue_cut": 0.9,
            "competition.organic_new_users_cut": 0.9,
        }
    )
    row = tcpmf.what_it_takes(s).set_index("lever").loc["entry_month"]
    assert row["status"] == "needs" and row["direction"] == ">=" and row["value"] > row["current"]
    month = int(row["value"])
    assert _survives(s.override({"competition.entry_months_after_tcpmf": month}))
    assert not _survives(s.override({"competition.entry_months_after_tcpmf": month - 1}))


def test_the_mau_lever_is_the_scale_at_entry_that_pays_back() -> None:
    # without its users-first delay, so that the incumbent enters within the 36-month horizon
    s = tcpmf.load("assumptions/competition/search.yaml").override(
        {"revenue.ads.monetization": None}
    )
    row = tcpmf.what_it_takes(s).set_index("lever").loc["active_users_at_entry"]
    assert row["status"] == "needs" and row["value"] > row["current"]
    k = float(row["value"] / row["current"])  # new users scale together at the same spend
    g = s.growth

    def scaled(f: float) -> tcpmf.Scenario:
        return s.override(
            {
                "growth.organic_new_users_per_month": g.organic_new_users_per_month * f,
                **({"growth.cac_usd": g.cac_usd / f} if g.cac_usd else {}),
            }
        )

    assert _survives(scaled(k * 1.001)) and not _survives(scaled(k * 0.999))
    users = tcpmf.evaluate([scaled(k)]).summary["active_users_at_entry"].iloc[0]
    assert users == pytest.approx(row["value"], rel=1e-6)


def test_levers_without_competition_are_todays() -> None:
    s = tcpmf.load("assumptions/products/writing_assistant.yaml")
    assert "entry_month" not in set(tcpmf.what_it_takes(s)["lever"])


def test_a_batch_draws_the_entry_month_as_the_point_path_evaluates_it() -> None:
    from tcpmf.uncertainty.batch import evaluate_inputs, fast_keys

    s = tcpmf.load("assumptions/competition/productivity.yaml")
    assert {"competition.entry_months_after_tcpmf", "competition.added_monthly_churn"} <= fast_keys(
        s
    )
    assert "competition.entry_month" not in fast_keys(s)  # the section counts from TC-PMF
    rng = np.random.default_rng(7)
    inputs = pd.DataFrame(
        {
            "competition.entry_months_after_tcpmf": rng.uniform(0, 30, 40),
            "competition.added_monthly_churn": rng.uniform(0, 0.1, 40),
            "usage.sessions_per_day": rng.uniform(0.5, 3, 40),
        }
    )
    out = evaluate_inputs(s, inputs)
    point = tcpmf.evaluate(
        [s.override({k: float(v) for k, v in row.items()}) for _, row in inputs.iterrows()]
    ).summary
    for column in out.columns:
        np.testing.assert_allclose(
            out[column].to_numpy(float, na_value=np.nan),
            point[column].to_numpy(float, na_value=np.nan),
            rtol=1e-12,
            err_msg=column,
        )
    assert out["payback_month"].nunique() > 1  # the draws matter


def test_the_founder_app_slides_the_entry_and_marks_it_on_the_cash_curve() -> None:
    import json

    from tcpmf.app.widgets import FounderApp

    app = FounderApp("assumptions/competition/productivity.yaml")
    assert app.controls["entry_month"].key == "competition.entry_months_after_tcpmf"
    assert app.result is not None
    before = int(app.result.summary["entry_month"].iloc[0])
    app.sliders["entry_month"].value = app.sliders["entry_month"].value + 10
    assert app.result is not None
    assert int(app.result.summary["entry_month"].iloc[0]) == before + 10
    assert "incumbent enters" in json.dumps(app.charts["cash"].spec)
    assert "incumbent enters in month" in app.verdict.value
    assert "entry_month" not in FounderApp("assumptions/products/writing_assistant.yaml").controls


@pytest.mark.parametrize("category", S.CATEGORIES)
def test_every_competition_default_carries_its_source_or_reason(category: str) -> None:
    from tcpmf.core.yamlio import assumptions_dir

    s = tcpmf.load(assumptions_dir() / "competition" / f"{category}.yaml")
    assert s.category == category and s.competition is not None
    section = s.competition.model_dump()
    keys = [f"competition.{k}" for k, v in section.items() if k != "moat" and v is not None]
    keys += [f"competition.moat.{k}" for k in section["moat"]]
    for key in keys:
        assert s.sources.get(key, "").startswith(("source: ", "assumed: ")), key
    assert "docs/sources.md#launch-to-copy" in s.sources["competition.entry_months_after_tcpmf"]


def test_a_portfolio_draws_the_entry_month(tmp_path: Any) -> None:
    from tcpmf.core.yamlio import assumptions_dir

    product = (assumptions_dir() / "competition" / "productivity.yaml").resolve()
    portfolio = tmp_path / "window.yaml"
    portfolio.write_text(
        "name: window\nproducts:\n"
        f"  - scenario: {product.as_posix()}\n"
        "    uncertain:\n"
        '      competition.entry_months_after_tcpmf: {dist: uniform, low: 0, high: 30, assumed: "a test"}\n',
        encoding="utf-8",
    )
    draws = tcpmf.monte_carlo(portfolio, n=64, seed=3)
    entry = draws["competition.entry_months_after_tcpmf"].to_numpy(float)
    assert entry.min() < 5 and entry.max() > 25
    point = tcpmf.evaluate(
        [
            tcpmf.load(product).override({"competition.entry_months_after_tcpmf": float(x)})
            for x in entry
        ]
    ).summary
    np.testing.assert_array_equal(
        draws["payback_month"].to_numpy(float, na_value=np.nan),
        point["payback_month"].to_numpy(float, na_value=np.nan),
    )
    assert draws["payback_month"].nunique() > 1
