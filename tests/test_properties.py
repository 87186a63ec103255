"""Properties of ``tcpmf.evaluate`` that hold for every valid scenario (hypothesis)."""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import pandas as pd
import strategies as S
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import tcpmf

SETTINGS = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TIGHT = 1e-12  # relative slack for values the engine may compute in a different order


def evaluate(dicts: list[dict[str, Any]]) -> tcpmf.Result:
    return tcpmf.evaluate([tcpmf.from_dict(d) for d in dicts])


def named(d: dict[str, Any], name: str) -> dict[str, Any]:
    out = copy.deepcopy(d)
    out["name"] = name
    return out


def column(monthly: pd.DataFrame, name: str, col: str) -> list[Any]:
    rows = monthly[monthly["scenario"] == name]
    return [None if v is pd.NA else v for v in rows[col].tolist()]


def summary_of(result: tcpmf.Result, name: str) -> dict[str, Any]:
    rows = result.summary[result.summary["scenario"] == name]
    assert len(rows) == 1
    return {k: (None if v is pd.NA else v) for k, v in rows.iloc[0].to_dict().items()}


def contribution_scale(monthly: pd.DataFrame, name: str) -> list[float]:
    arpu = column(monthly, name, "arpu_usd")
    cost = column(monthly, name, "inference_cost_usd_per_mau")
    return [abs(a) + abs(c) for a, c in zip(arpu, cost)]


# -- token prices --------------------------------------------------------------------------


@SETTINGS
@given(S.scenarios(name="base"), S.num(1.0, 10.0, 1.0), S.num(1.0, 10.0, 1.0))
def test_contribution_never_rises_when_a_token_price_rises(
    d: dict[str, Any], up_in: float, up_out: float
) -> None:
    raised = named(d, "raised")
    m = raised["model"]
    if m["route"] == "api":
        m["usd_per_mtok_in"] = min(m["usd_per_mtok_in"] * up_in, 1e6)
        m["usd_per_mtok_out"] = min(m["usd_per_mtok_out"] * up_out, 1e6)
    else:
        m["self_host"]["usd_per_gpu_hour"] = min(m["self_host"]["usd_per_gpu_hour"] * up_in, 1e4)
    result = evaluate([d, raised])
    base = column(result.monthly, "base", "contribution_usd_per_mau")
    high = column(result.monthly, "raised", "contribution_usd_per_mau")
    scale = contribution_scale(result.monthly, "raised")
    for t, (b, h, sc) in enumerate(zip(base, high, scale)):
        assert h <= b + TIGHT * sc, f"month {t}: contribution {b} rose to {h} at higher prices"


# -- users ---------------------------------------------------------------------------------


@SETTINGS
@given(S.scenario_batches(min_size=1, max_size=4))
def test_active_users_between_zero_and_cumulative_new_users(batch: list[dict[str, Any]]) -> None:
    result = evaluate(batch)
    for d in batch:
        new = column(result.monthly, d["name"], "new_users")
        active = column(result.monthly, d["name"], "active_users")
        cumulative = 0.0
        for t, (n, a) in enumerate(zip(new, active)):
            cumulative += n
            assert n >= 0, f"{d['name']} month {t}: new users {n}"
            assert a >= 0, f"{d['name']} month {t}: active users {a}"
            assert a <= cumulative * (1 + TIGHT), f"{d['name']} month {t}: {a} > {cumulative}"


no_churn = st.one_of(
    st.dictionaries(st.integers(1, 72), st.just(1.0), min_size=1, max_size=5).map(
        lambda points: {"curve": "table", "points": points}
    ),
    st.just({"curve": "power_law", "r1": 1.0, "beta": 0.0}),
    st.just({"curve": "plateau", "r1": 1.0, "floor": 1.0, "tau": 3.0}),
)


@SETTINGS
@given(S.scenarios(name="whole"), no_churn)
def test_zero_churn_keeps_every_cohort_whole(d: dict[str, Any], curve: dict[str, Any]) -> None:
    d["retention"] = curve
    result = evaluate([d])
    new = column(result.monthly, "whole", "new_users")
    active = column(result.monthly, "whole", "active_users")
    cumulative = 0.0
    for t, (n, a) in enumerate(zip(new, active)):
        cumulative += n
        assert math.isclose(a, cumulative, rel_tol=1e-12, abs_tol=1e-9), (
            f"month {t}: {a} != {cumulative}"
        )


# -- cash, break-even, payback ---------------------------------------------------------------


@SETTINGS
@given(S.scenario_batches(min_size=1, max_size=4))
def test_cash_break_even_and_payback_agree_with_net(batch: list[dict[str, Any]]) -> None:
    result = evaluate(batch)
    for d in batch:
        name = d["name"]
        net = column(result.monthly, name, "net_usd")
        cash = column(result.monthly, name, "cash_usd")
        gross = column(result.monthly, name, "gross_profit_usd")
        marketing = column(result.monthly, name, "marketing_usd")
        running = scale = 0.0
        for t in range(len(net)):
            running += net[t]
            scale += (
                abs(gross[t]) + marketing[t] + d.get("costs", {}).get("fixed_usd_per_month", 0.0)
            )
            assert abs(cash[t] - running) <= 1e-12 * scale + 1e-9, (
                f"{name} month {t}: cash {cash[t]} != {running}"
            )

        s = summary_of(result, name)
        breakeven, payback = s["breakeven_month"], s["payback_month"]
        if breakeven is None:
            assert all(n < 0 for n in net), f"{name}: no break-even month but net {net}"
        else:
            assert all(n < 0 for n in net[:breakeven]) and net[breakeven] >= 0, (
                name,
                breakeven,
                net,
            )
        if payback is None:
            assert all(c < 0 for c in cash), f"{name}: no payback month but cash {cash}"
        else:
            assert all(c < 0 for c in cash[:payback]) and cash[payback] >= 0, (name, payback, cash)
        assert s["peak_funding_usd"] == max(0.0, -min(cash)), name


# -- the max affordable price ------------------------------------------------------------------


@SETTINGS
@given(S.scenarios(name="base"))
def test_at_max_affordable_price_contribution_meets_the_target(d: dict[str, Any]) -> None:
    base = summary_of(evaluate([d]), "base")
    price = base["max_affordable_usd_per_mtok"]
    assume(price is not None and price <= 1e6)
    at = named(d, "at")
    at["model"] = {
        "route": "api",
        "name": "at-max-affordable",
        "usd_per_mtok_in": price,
        "usd_per_mtok_out": price,
        "annual_cost_decline": d["model"].get("annual_cost_decline", 1.0),
    }
    s = summary_of(evaluate([at]), "at")
    target = d.get("target_margin", 0.0) * s["arpu_usd_m0"]
    other = d.get("costs", {}).get("other_variable_usd_per_mau", 0.0)
    scale = s["arpu_usd_m0"] + other + s["inference_cost_usd_per_mau_m0"]
    assert s["arpu_usd_m0"] == base["arpu_usd_m0"]
    assert abs(s["contribution_usd_per_mau_m0"] - target) <= 1e-9 * scale + 1e-12, (
        s["contribution_usd_per_mau_m0"],
        target,
    )
    assert s["usd_per_mtok_blended_m0"] == price or math.isclose(
        s["usd_per_mtok_blended_m0"], price, rel_tol=1e-12
    )


# -- revenue ---------------------------------------------------------------------------------


@SETTINGS
@given(S.scenarios(name="low"), S.num(0.01, 200.0, 20.0), S.num(0.0, 1.0), S.num(0.0, 1.0))
def test_more_paid_share_never_lowers_subscription_arpu(
    d: dict[str, Any], price: float, share_a: float, share_b: float
) -> None:
    low_share, high_share = sorted((share_a, share_b))
    fee = d.get("revenue", {}).get("subscription", {}).get("store_fee", 0.0)
    d["revenue"] = {
        "subscription": {"price_usd_per_month": price, "paid_share": low_share, "store_fee": fee}
    }
    high = named(d, "high")
    high["revenue"]["subscription"]["paid_share"] = high_share
    result = evaluate([d, high])
    low_arpu = summary_of(result, "low")["arpu_usd_m0"]
    high_arpu = summary_of(result, "high")["arpu_usd_m0"]
    assert high_arpu >= low_arpu, (low_share, low_arpu, high_share, high_arpu)
    assert column(result.monthly, "high", "arpu_usd") == [high_arpu] * d["horizon_months"]


# -- cost decline ------------------------------------------------------------------------------


@SETTINGS
@given(S.scenarios(name="slow"), S.num(1.0, 100.0, 4.0), S.num(1.0, 100.0, 10.0))
def test_faster_cost_decline_never_delays_tcpmf(d: dict[str, Any], d_a: float, d_b: float) -> None:
    slow_d, fast_d = sorted((d_a, d_b))
    d["model"]["annual_cost_decline"] = slow_d
    fast = named(d, "fast")
    fast["model"]["annual_cost_decline"] = fast_d
    result = evaluate([d, fast])
    horizon = d["horizon_months"]
    slow_month = summary_of(result, "slow")["tcpmf_month"]
    fast_month = summary_of(result, "fast")["tcpmf_month"]
    slow_month = horizon if slow_month is None else slow_month
    fast_month = horizon if fast_month is None else fast_month
    assert fast_month <= slow_month, (slow_d, slow_month, fast_d, fast_month)


# -- finiteness and batch independence ---------------------------------------------------------


def assert_finite(frame: pd.DataFrame, what: str) -> None:
    for col in frame.columns:
        for i, value in enumerate(frame[col].tolist()):
            if value is pd.NA or value is None:
                continue
            if isinstance(value, float):
                assert math.isfinite(value), f"{what} {col} row {i}: {value}"


@SETTINGS
@given(S.scenario_batches(min_size=1, max_size=5))
def test_no_nan_or_inf_anywhere(batch: list[dict[str, Any]]) -> None:
    result = evaluate(batch)
    assert_finite(result.monthly, "monthly")
    assert_finite(result.summary, "summary")
    for frame in (result.monthly, result.summary):
        for col in frame.columns:
            if isinstance(frame[col].dtype, np.dtype) and frame[col].dtype.kind == "f":
                assert not frame[col].isna().any(), f"{col}: NaN in a float64 column"


@SETTINGS
@given(S.scenario_batches(min_size=2, max_size=5))
def test_a_scenario_gives_the_same_numbers_alone_and_in_a_batch(
    batch: list[dict[str, Any]],
) -> None:
    together = evaluate(batch)
    for d in batch:
        alone = evaluate([d])
        for col in alone.monthly.columns:
            a = column(alone.monthly, d["name"], col)
            b = column(together.monthly, d["name"], col)
            for t, (x, y) in enumerate(zip(a, b)):
                if isinstance(x, float) and isinstance(y, float):
                    assert math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-9), (
                        d["name"],
                        col,
                        t,
                        x,
                        y,
                    )
                else:
                    assert x == y, (d["name"], col, t, x, y)
        sa, sb = summary_of(alone, d["name"]), summary_of(together, d["name"])
        for key, x in sa.items():
            y = sb[key]
            if isinstance(x, float) and isinstance(y, float):
                assert math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-9), (d["name"], key, x, y)
            else:
                assert x == y, (d["name"], key, x, y)


@SETTINGS
@given(S.scenarios(name="a"), S.num(1.0, 100.0, 1.0, 10.0))
def test_clears_break_even_does_not_depend_on_the_assumed_decline(
    d: dict[str, Any], decline: float
) -> None:
    other = named(d, "b")
    other["model"]["annual_cost_decline"] = decline
    result = evaluate([d, other])
    assert (
        summary_of(result, "a")["clears_break_even"] == summary_of(result, "b")["clears_break_even"]
    )
