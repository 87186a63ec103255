"""Inference cost in depth: roofline, demand-driven self-hosting, crossover, fitted decline,
model routing and CNY prices."""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_engine_reference import check_batch
from typer.testing import CliRunner

import tcpmf
from tcpmf.analysis.crossover import crossover, crossover_chart, crossover_volume
from tcpmf.catalog import prices as catalog
from tcpmf.catalog import roofline
from tcpmf.catalog.decline import decline_table, fit_decline, fitted_decline, tier_names
from tcpmf.catalog.serving import architecture_names, serving_calibration
from tcpmf.cli.main import app
from tcpmf.core.yamlio import assumptions_dir
from tcpmf.model import capacity

BASE: dict[str, Any] = {
    "name": "host",
    "category": "social",
    "start_month": "2025-09",
    "horizon_months": 24,
    "model": {
        "route": "self_host",
        "name": "llama-3.1-8b",
        "self_host": {
            "gpu": "h100-sxm",
            "output_tokens_per_s_per_replica": 19700.0,
            "input_tokens_per_s_per_replica": 66900.0,
            "peak_to_average": 2.0,
        },
    },
    "usage": {
        "dau_per_mau": 0.3,
        "sessions_per_day": 3,
        "requests_per_session": 4,
        "input_tokens_per_call": 1500,
        "output_tokens_per_call": 200,
    },
    "revenue": {"ads": {"impressions_per_session": 1, "rpm_usd": 5}},
    "retention": {"curve": "power_law", "r1": 0.4, "beta": 0.3},
    "growth": {"organic_new_users_per_month": 200000, "monthly_growth": 0.0},
}


def scenario(**changes: Any) -> tcpmf.Scenario:
    return tcpmf.from_dict(BASE).override(changes) if changes else tcpmf.from_dict(BASE)


# -- roofline ----------------------------------------------------------------------------------


def test_roofline_is_within_2x_of_every_published_row() -> None:
    cal = serving_calibration()
    ratios = roofline.calibration_ratios(cal)
    for m, r in zip(cal.measurements, ratios):
        print(
            f"{m.architecture:14s} {m.gpus_per_replica}x{m.gpu} {m.input_tokens:5d}/{m.output_tokens:<5d} "
            f"measured {m.output_tokens_per_s_per_replica:8.0f}  estimate/measured {r:.2f}"
        )
    assert len(ratios) == 8
    assert ((ratios > 0.5) & (ratios < 2.0)).all()


def test_stored_efficiencies_are_the_fit() -> None:
    """The calibration file holds what calibrate() finds, rounded: no hand-tuned factors."""
    cal = serving_calibration()
    eta_f, eta_bw = roofline.calibrate(cal)
    assert cal.flop_efficiency == pytest.approx(eta_f, abs=0.01)
    assert cal.bandwidth_efficiency == pytest.approx(eta_bw, abs=0.01)


def test_uncalibrated_roofline_is_far_off() -> None:
    """The check above can fail: ideal hardware efficiency overestimates the measurements."""
    cal = serving_calibration().model_copy(
        update={"flop_efficiency": 1.0, "bandwidth_efficiency": 1.0}
    )
    assert roofline.calibration_ratios(cal).min() > 1.5


@settings(max_examples=50, deadline=None)
@given(st.sampled_from(architecture_names()), st.integers(256, 32768), st.integers(1, 8))
def test_roofline_monotone(arch: str, context: int, gpus: int) -> None:
    """More context fits fewer sequences; decode never beats the compute roof; MoE prefill uses active params."""
    spec, cal, model = (
        catalog.gpu_spec("h100-sxm"),
        serving_calibration(),
        tcpmf.catalog.serving.architecture(arch),
    )
    kv = float(
        roofline.kv_bytes_per_token(model.layers, model.kv_elements_per_token_per_layer, 1.0)
    )
    if (
        cal.memory_usable_share * spec.memory_gb * 1e9 * gpus
        < model.params_total + 2 * context * kv
    ):
        with pytest.raises(tcpmf.TcpmfError, match="does not fit"):  # never a silent zero
            roofline.estimate(
                arch, "h100-sxm", "fp8", gpus, context_tokens=np.array([context, 2 * context])
            )
        return
    a = roofline.estimate(
        arch, "h100-sxm", "fp8", gpus, context_tokens=np.array([context, 2 * context])
    )
    assert a.max_batch_fitting_memory[0] >= a.max_batch_fitting_memory[1]
    assert (a.output_tokens_per_s_per_replica <= a.input_tokens_per_s_per_replica + 1e-9).all()
    assert (a.output_tokens_per_s_per_replica >= 0).all()


def test_moe_prefill_uses_active_parameters() -> None:
    v3 = roofline.estimate("deepseek-v3", "h800", "fp8", 16)
    dense = roofline.estimate("llama-3.1-405b", "h800", "fp8", 16)
    assert float(v3.input_tokens_per_s_per_replica) > 10 * float(
        dense.input_tokens_per_s_per_replica
    )


def test_model_that_does_not_fit_raises_naming_the_set_up() -> None:
    """671 GB of FP8 weights exceed 8 x 80 GB x 0.9: an error, not decode 0 beside a real prefill."""
    with pytest.raises(tcpmf.TcpmfError) as info:
        roofline.estimate("deepseek-v3", "h800", "fp8", 8, 4000)
    text = str(info.value)
    for part in ("deepseek-v3", "8x h800", "fp8", "576.0 GB usable", "671"):
        assert part in text


# -- demand-driven self-hosting ----------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(st.floats(0.05, 0.95), st.floats(1.0, 5.0), st.integers(1, 3))
def test_utilization_falls_as_demand_falls(shrink: float, peak: float, min_replicas: int) -> None:
    """Below the minimum fleet's capacity, utilization is proportional to demand."""
    small = scenario(
        **{
            "growth.organic_new_users_per_month": 300.0,
            "model.self_host.peak_to_average": peak,
            "model.self_host.min_replicas": min_replicas,
        }
    )
    smaller = small.override(
        {"growth.organic_new_users_per_month": 300.0 * shrink, "name": "smaller"}
    )
    m = tcpmf.evaluate([small, smaller]).monthly
    u = m.pivot(index="month", columns="scenario", values="gpu_utilization")
    assert (m["replicas"] == min_replicas).all()
    assert (u[smaller.name] < u[small.name]).all()
    np.testing.assert_allclose(u[smaller.name] / u[small.name], shrink, rtol=1e-9)


@settings(max_examples=30, deadline=None)
@given(st.floats(1e4, 1e8), st.floats(1.0, 5.0))
def test_provisioned_capacity_brackets_the_peak(users: float, peak: float) -> None:
    s = scenario(
        **{"growth.organic_new_users_per_month": users, "model.self_host.peak_to_average": peak}
    )
    m = tcpmf.evaluate(s).monthly
    r, u = m["replicas"].to_numpy(), m["gpu_utilization"].to_numpy()
    assert (u * peak <= 1 + 1e-9).all()  # the peak always fits
    big = r > 1
    assert (u[big] * peak > (r[big] - 1) / r[big] - 1e-9).all()  # no replica more than needed


def test_small_product_pays_for_idle_gpus() -> None:
    tiny = scenario(**{"growth.organic_new_users_per_month": 10.0})
    big = scenario(**{"growth.organic_new_users_per_month": 1e6})
    m = tcpmf.evaluate([tiny, big]).summary
    assert m["inference_cost_usd_per_mau_m0"][0] > 100 * m["inference_cost_usd_per_mau_m0"][1]
    rent = catalog.gpu_rent("h100-sxm", "2025-09").usd_per_gpu_hour
    first = tcpmf.evaluate(tiny).monthly.iloc[0]
    assert first["inference_cost_usd"] == pytest.approx(rent * capacity.HOURS_PER_MONTH)


def test_rent_in_force_each_month() -> None:
    """The demand-driven bill follows the GPU catalog: H100 rent changes in 2026-05."""
    m = tcpmf.evaluate(scenario(**{"growth.organic_new_users_per_month": 10.0})).monthly.set_index(
        "month"
    )
    before = catalog.gpu_rent("h100-sxm", "2026-04").usd_per_gpu_hour
    after = catalog.gpu_rent("h100-sxm", "2026-05").usd_per_gpu_hour
    assert before != after
    ratio = m.loc[8, "inference_cost_usd"] / m.loc[7, "inference_cost_usd"]
    assert ratio == pytest.approx(after / before)


def test_fixed_utilization_keeps_the_gpu_formula() -> None:
    s = scenario(**{"model.self_host.peak_to_average": None, "model.self_host.utilization": 0.5})
    r = tcpmf.evaluate(s)
    rent = catalog.gpu_rent("h100-sxm", "2025-09").usd_per_gpu_hour
    assert r.monthly["usd_per_mtok_out"][0] == pytest.approx(rent / (3600 * 19700 * 0.5) * 1e6)
    assert r.monthly["replicas"].isna().all()


def test_estimated_throughput_from_architecture() -> None:
    s = scenario(
        **{
            "model.self_host.output_tokens_per_s_per_replica": None,
            "model.self_host.input_tokens_per_s_per_replica": None,
            "model.self_host.architecture": "llama-3.1-8b",
        }
    )
    est = roofline.estimate("llama-3.1-8b", "h100-sxm", "fp8", 1, context_tokens=1700)
    rent = catalog.gpu_rent("h100-sxm", "2025-09").usd_per_gpu_hour
    m = tcpmf.evaluate(s).monthly.iloc[0]
    u = m["gpu_utilization"]
    assert m["usd_per_mtok_out"] == pytest.approx(
        rent / (3600 * float(est.output_tokens_per_s_per_replica) * u) * 1e6
    )


@pytest.mark.parametrize(
    ("changes", "key", "allowed"),
    [
        (
            {"model.self_host.architecture": "llama-3.1-8b"},
            "model.self_host.architecture",
            "not both",
        ),
        ({"model.self_host.utilization": 0.5}, "model.self_host.utilization", "exactly one"),
        ({"model.self_host.peak_to_average": None}, "model.self_host.utilization", "exactly one"),
        (
            {"model.self_host.output_tokens_per_s_per_replica": None},
            "model.self_host.input_tokens_per_s_per_replica",
            "or neither",
        ),
        (
            {
                "model.self_host.output_tokens_per_s_per_replica": None,
                "model.self_host.input_tokens_per_s_per_replica": None,
                "model.self_host.architecture": "llama-9b",
            },
            "model.self_host.architecture",
            "llama-3.1-8b",
        ),
        (
            {"model.annual_cost_decline": "fitted:gpt-5-class"},
            "model.annual_cost_decline",
            "gpt-4-class",
        ),
        (
            {
                "model.self_host.output_tokens_per_s_per_replica": None,
                "model.self_host.input_tokens_per_s_per_replica": None,
                "model.self_host.architecture": "deepseek-v3",
            },
            "model.self_host.gpus_per_replica",
            "largest batch that fits is 0",
        ),
    ],
)
def test_bad_self_host_inputs(changes: dict[str, Any], key: str, allowed: str) -> None:
    with pytest.raises(tcpmf.AssumptionError) as info:
        scenario(**changes)
    assert info.value.key_path == key
    assert allowed in str(info.value)


# -- crossover ---------------------------------------------------------------------------------


def test_crossover_volume_closed_form_is_the_first_volume_that_stays_cheaper() -> None:
    a, k, c = 2e-7, 1800.0, 3e10
    v = float(crossover_volume(np.array(a), np.array(k), np.array(c), np.array(1.0)))
    grid = np.linspace(1e6, 1e11, 200001)
    reps = np.maximum(1, np.ceil(grid / c))
    cheaper = reps * k <= a * grid
    last_dearer = grid[~cheaper].max()
    assert last_dearer < v * (1 + 1e-6)
    assert cheaper[grid >= v * (1 + 1e-6)].all()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.floats(0.5, 10.0), st.floats(1.05, 3.0))
def test_crossover_moves_with_gpu_and_api_price(rent: float, up: float) -> None:
    s = scenario(**{"model.self_host.usd_per_gpu_hour": rent})
    base = crossover(s, api_model="gpt-4o")
    dearer_gpu = crossover(
        s.override({"model.self_host.usd_per_gpu_hour": rent * up}), api_model="gpt-4o"
    )
    api = s.override(
        {
            "model.route": "api",
            "model.name": "gpt-4o",
            "model.self_host": None,
            "model.usd_per_mtok_in": 2.5,
            "model.usd_per_mtok_out": 10.0,
        }
    )
    host = {
        "gpu": "h100-sxm",
        "architecture": "llama-3.1-8b",
        "peak_to_average": 2.0,
        "usd_per_gpu_hour": rent,
    }
    cheap_api = crossover(api, self_host=host)
    dear_api = crossover(
        api.override({"model.usd_per_mtok_in": 2.5 * up, "model.usd_per_mtok_out": 10.0 * up}),
        self_host=host,
    )
    v = base["crossover_tokens_per_month"][0]
    assert dearer_gpu["crossover_tokens_per_month"][0] > v
    assert dear_api["crossover_tokens_per_month"][0] < cheap_api["crossover_tokens_per_month"][0]
    assert base["crossover_mau"][0] == pytest.approx(v / base["tokens_per_mau"][0])


def test_crossover_never_when_gpus_cannot_win() -> None:
    s = scenario(**{"model.self_host.usd_per_gpu_hour": 5000.0})
    frame = crossover(s, api_model="gpt-4o-mini")
    assert frame["crossover_tokens_per_month"].isna().all()


def test_crossover_chart_builds() -> None:
    chart = crossover_chart(scenario(), api_model="gpt-4o")
    assert (
        chart.to_dict()["title"]
        == "host: self-host (measured throughput on 1x h100-sxm) vs API (gpt-4o)"
    )


def test_cli_crossover(tmp_path: Any) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(json.dumps(BASE), encoding="utf-8")
    result = CliRunner().invoke(app, ["crossover", str(path), "--json", "--api-model", "gpt-4o"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows[0]["crossover_tokens_per_month"] > 0
    bad = CliRunner().invoke(app, ["crossover", str(path), "--api-model", "gpt-9"])
    assert bad.exit_code == 1 and "Traceback" not in bad.output
    assert CliRunner().invoke(app, ["roofline", "--json"]).exit_code == 0
    assert CliRunner().invoke(app, ["decline", "--json"]).exit_code == 0


# -- fitted decline ----------------------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(
    st.floats(0.2, 200.0),
    st.floats(0.01, 100.0),
    st.lists(st.integers(0, 120), min_size=2, max_size=20, unique=True),
)
def test_decline_fit_recovers_a_synthetic_series(d: float, p0: float, months: list[int]) -> None:
    prices = [p0 * d ** (-m / 12) for m in months]
    fitted, se = fit_decline(months, prices)
    assert fitted == pytest.approx(d, rel=1e-9)
    if len(months) == 2:
        assert math.isnan(se)  # two points leave no degree of freedom: the spread is undefined
    else:
        assert se == pytest.approx(0.0, abs=1e-9)


def test_decline_table_reports_spread_and_fitted_string_resolves() -> None:
    table = decline_table()
    assert {"gpt-4-class", "gpt-3.5-class"} <= set(table["tier"])
    spread = table[table["points"] >= 3]
    assert (spread["annual_cost_decline_low"] <= spread["annual_cost_decline"]).all()
    assert (spread["annual_cost_decline"] <= spread["annual_cost_decline_high"]).all()
    s = scenario(**{"model.annual_cost_decline": "fitted:gpt-4-class"})
    assert s.model.annual_cost_decline == pytest.approx(fitted_decline("gpt-4-class"))
    assert "gpt-4-class" in tier_names()


# -- routing -----------------------------------------------------------------------------------

API = {
    "route": "api",
    "name": "mix",
    "routes": [{"name": "gpt-4o-mini", "share": 0.8}, {"name": "gpt-4o", "share": 0.2}],
}


def test_route_costs_blend_by_share() -> None:
    mixed = scenario(model=API)
    alone = [scenario(model={"route": "api", "name": n}) for n in ("gpt-4o-mini", "gpt-4o")]
    cost = tcpmf.evaluate([mixed, *alone]).summary["inference_cost_usd_per_mau_m0"]
    assert cost[0] == pytest.approx(0.8 * cost[1] + 0.2 * cost[2])


def test_self_host_bulk_with_api_overflow_matches_the_reference() -> None:
    d = copy.deepcopy(BASE)
    d["model"]["routes"] = [
        {"name": "llama-3.1-8b", "share": 0.7, "route": "self_host"},
        {"name": "gpt-4o-mini", "share": 0.3},
    ]
    d2 = copy.deepcopy(d)
    d2["name"], d2["model"]["self_host"] = (
        "fixed",
        {**d["model"]["self_host"], "peak_to_average": None, "utilization": 0.6},
    )
    d3 = {**copy.deepcopy(BASE), "name": "mix"}
    d3["model"] = copy.deepcopy(API)
    d3["model"]["cached_input_share"] = 0.3
    check_batch([d, d2, d3])


def test_route_shares_must_sum_to_one() -> None:
    with pytest.raises(tcpmf.AssumptionError, match="sum to 1") as info:
        scenario(
            model={
                **API,
                "routes": [{"name": "gpt-4o-mini", "share": 0.8}, {"name": "gpt-4o", "share": 0.1}],
            }
        )
    assert info.value.key_path == "model.routes"


def test_timeline_model_override_drops_routes() -> None:
    frame = tcpmf.timeline(model="gpt-4o", horizon_months=12)
    assert (frame["model"] == "gpt-4o").all()


# -- CNY ---------------------------------------------------------------------------------------


def test_cny_and_usd_inputs_give_the_same_costs() -> None:
    rate = catalog.cny_per_usd("2025-09")
    usd = scenario(
        **{"model.self_host.usd_per_gpu_hour": 2.5, "costs.fixed_usd_per_month": 100000.0}
    )
    cny = scenario(
        **{
            "model.self_host.usd_per_gpu_hour": {
                "value": 2.5 * rate,
                "currency": "CNY",
                "source": "test",
            },
            "costs.fixed_usd_per_month": {
                "value": 100000.0 * rate,
                "currency": "CNY",
                "source": "test",
            },
        }
    )
    a, b = tcpmf.evaluate([usd, cny]).monthly.groupby("scenario", observed=True)
    for column in ("inference_cost_usd", "net_usd", "replicas"):
        np.testing.assert_allclose(a[1][column].to_numpy(), b[1][column].to_numpy(), rtol=1e-12)
    # a catalog price stated in CNY converts at the rate in force at its date
    price = catalog.model_price("deepseek-v2", "2024-06")
    assert math.isfinite(price.usd_per_mtok_in) and price.usd_per_mtok_in > 0


def test_crossover_uses_the_api_mix_and_reports_seats() -> None:
    mixed = scenario(model={**API, "self_host": None})
    mini, big = (catalog.model_price(n, "2025-09") for n in ("gpt-4o-mini", "gpt-4o"))
    f_in = 1500 / 1700
    expected = sum(
        w * (f_in * p.usd_per_mtok_in + (1 - f_in) * p.usd_per_mtok_out)
        for w, p in ((0.8, mini), (0.2, big))
    )
    assert crossover(mixed)["api_usd_per_mtok"][0] == pytest.approx(expected)
    seats = scenario(**{"model.self_host.peak_output_tokens_per_s_per_user": 20.0})
    assert crossover(seats, api_model="gpt-4o")["concurrent_users_per_replica"][0] == pytest.approx(
        19700 / 20
    )


def test_fitted_decline_is_recorded_as_its_source() -> None:
    s = scenario(**{"model.annual_cost_decline": "fitted:gpt-3.5-class"})
    assert "gpt-3.5-class" in s.sources["model.annual_cost_decline"]


def test_route_self_host_needs_a_self_host_entry() -> None:
    with pytest.raises(tcpmf.AssumptionError) as info:
        scenario(**{"model.routes": [{"name": "gpt-4o-mini", "share": 1.0}]})
    assert info.value.key_path == "model.route"


# -- review fixes ------------------------------------------------------------------------------


def test_crossover_api_price_is_what_the_engine_charges() -> None:
    """Cached input and discount count: the API price is the engine's blended month-0 price."""
    companion = tcpmf.load("assumptions/products/ai_companion.yaml")  # 56% of input tokens cached
    discounted = companion.override({"model.price_discount": 0.2, "name": "discounted"})
    frame = crossover([companion, discounted])
    engine = (
        tcpmf.evaluate([companion, discounted]).summary["usd_per_mtok_blended_m0"].to_numpy(float)
    )
    np.testing.assert_allclose(frame["api_usd_per_mtok"].to_numpy(float), engine, rtol=1e-12)
    assert frame["api_usd_per_mtok"][0] == pytest.approx(0.3187, abs=1e-4)  # list prices gave 0.586
    factor = companion.override({"model.cached_input_price_factor": 0.5})
    assert crossover(factor)["api_usd_per_mtok"][0] == pytest.approx(
        float(tcpmf.evaluate(factor).summary["usd_per_mtok_blended_m0"][0])
    )


def test_crossover_names_the_set_ups_and_flags_the_default() -> None:
    api_only = scenario(model={"route": "api", "name": "gpt-4o-mini"})
    row = crossover([api_only, scenario()])
    assert list(row["self_host_from"]) == ["default", "scenario"]
    assert row["self_host"][0] == "llama-3.1-8b fp8 on 1x h100-sxm"
    assert row["self_host"][1] == "measured throughput on 1x h100-sxm"
    assert list(row["api_models"]) == ["gpt-4o-mini", "gpt-4o-mini"]
    big = {
        "gpu": "h100-sxm",
        "architecture": "llama-3.1-70b",
        "gpus_per_replica": 2,
        "precision": "bf16",
        "peak_to_average": 2.0,
    }
    given = crossover(api_only, self_host=big)
    assert (
        given["self_host"][0] == "llama-3.1-70b bf16 on 2x h100-sxm"
        and given["self_host_from"][0] == "given"
    )
    assert given["self_host_usd_per_mtok_full"][0] > row["self_host_usd_per_mtok_full"][0]
    title = crossover_chart(api_only).to_dict()["title"]
    assert (
        "llama-3.1-8b fp8 on 1x h100-sxm" in title and "default" in title and "gpt-4o-mini" in title
    )


def test_cli_crossover_chooses_and_warns_about_the_self_host_set_up(tmp_path: Any) -> None:
    path = tmp_path / "api.yaml"
    d = copy.deepcopy(BASE)
    d["model"] = {"route": "api", "name": "gpt-4o-mini"}
    path.write_text(json.dumps(d), encoding="utf-8")
    table = CliRunner(env={"COLUMNS": "400"}).invoke(app, ["crossover", str(path)])
    assert table.exit_code == 0, table.output
    assert "DEFAULT" in table.stdout and "llama-3.1-8b fp8 on 1x h100-sxm" in table.stdout
    chosen = CliRunner().invoke(
        app,
        [
            "crossover",
            str(path),
            "--json",
            "--architecture",
            "llama-3.1-70b",
            "--gpu",
            "h100-sxm",
            "--gpus-per-replica",
            "2",
            "--precision",
            "bf16",
        ],
    )
    assert chosen.exit_code == 0, chosen.output
    row = json.loads(chosen.stdout)[0]
    assert (
        row["self_host"] == "llama-3.1-70b bf16 on 2x h100-sxm" and row["self_host_from"] == "given"
    )
    assert row["api_models"] == "gpt-4o-mini"
    for bad in (
        ["--architecture", "deepseek-v3", "--gpu", "h800", "--gpus-per-replica", "8"],
        ["--gpu", "h9"],
        ["--precision", "fp9"],
    ):
        result = CliRunner().invoke(app, ["crossover", str(path), *bad])
        assert result.exit_code == 1 and "Traceback" not in result.output, (bad, result.output)


def test_crossover_respects_a_routing_mix() -> None:
    """70% self-hosted, 30% on the API: the API calls are compared with the scenario's own set-up."""
    d = copy.deepcopy(BASE)
    d["model"]["route"] = "api"
    d["model"]["routes"] = [
        {"name": "llama-3.1-8b", "share": 0.7, "route": "self_host"},
        {"name": "gpt-4o-mini", "share": 0.2},
        {"name": "gpt-4o", "share": 0.1},
    ]
    d["model"]["cached_input_share"] = 0.5
    mixed = tcpmf.from_dict(d)
    row = crossover(mixed)
    assert row["api_share"][0] == pytest.approx(0.3)
    assert (
        row["api_models"][0] == "gpt-4o-mini 67% + gpt-4o 33%"
        and row["self_host_from"][0] == "scenario"
    )
    alone = [
        tcpmf.from_dict(
            {**d, "name": n, "model": {"route": "api", "name": n, "cached_input_share": 0.5}}
        )
        for n in ("gpt-4o-mini", "gpt-4o")
    ]
    blended = tcpmf.evaluate(alone).summary["usd_per_mtok_blended_m0"].to_numpy(float)
    assert row["api_usd_per_mtok"][0] == pytest.approx((2 * blended[0] + blended[1]) / 3)
    # users whose API-routed tokens (30% of theirs) reach the crossover volume
    assert row["crossover_mau"][0] == pytest.approx(
        row["crossover_tokens_per_month"][0] / (0.3 * row["tokens_per_mau"][0])
    )


def test_two_point_decline_has_no_fake_spread(tmp_path: Any) -> None:
    import shutil

    import yaml

    shutil.copytree(assumptions_dir() / "catalog", tmp_path / "catalog")
    path = tmp_path / "catalog" / "capability.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    tiers = data["capability"]["tiers"]
    # met by o3 (2025-04), then by the cheaper DeepSeek-R1-0528 (2025-05) and no cheaper model: two points
    tiers["two-point"] = {**tiers["gpt-4-class"], "min_score": 1400}
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    table = decline_table(tmp_path).set_index("tier")
    two = table[table["points"] == 2]
    assert "two-point" in two.index
    assert (
        two["annual_cost_decline_low"].isna().all() and two["log_slope_standard_error"].isna().all()
    )
    assert two["note"].str.contains("undefined").all()
    assert table.loc["gpt-4-class", "log_slope_standard_error"] is not pd.NA
    rows = json.loads(CliRunner().invoke(app, ["decline", "--json"]).stdout)
    assert all(r["annual_cost_decline_high"] is None for r in rows if r["points"] == 2)


@pytest.mark.parametrize("value", ["fitted gpt-4-class", "gpt-4-class"])
def test_decline_text_error_mentions_both_forms(value: str) -> None:
    with pytest.raises(tcpmf.AssumptionError) as info:
        scenario(**{"model.annual_cost_decline": value})
    assert info.value.key_path == "model.annual_cost_decline"
    assert "[1, 1000]" in str(info.value) and "fitted:<tier>" in str(info.value)


def test_child_adding_peak_to_average_is_blamed_and_told_to_null_utilization(tmp_path: Any) -> None:
    parent = copy.deepcopy(BASE)
    del parent["model"]["self_host"]["peak_to_average"]
    parent["model"]["self_host"]["utilization"] = 0.5
    (tmp_path / "parent.yaml").write_text(json.dumps(parent), encoding="utf-8")
    (tmp_path / "child.yaml").write_text(
        "extends: parent.yaml\nname: child\nmodel:\n  self_host:\n    peak_to_average: 2.0\n",
        encoding="utf-8",
    )
    with pytest.raises(tcpmf.AssumptionError) as info:
        tcpmf.load(tmp_path / "child.yaml")
    assert info.value.file.endswith("child.yaml")
    assert info.value.key_path == "model.self_host.peak_to_average"
    assert "utilization: null" in str(info.value)
    (tmp_path / "fixed.yaml").write_text(
        "extends: parent.yaml\nname: fixed\nmodel:\n  self_host:\n    peak_to_average: 2.0\n    utilization: null\n",
        encoding="utf-8",
    )
    fixed = tcpmf.load(tmp_path / "fixed.yaml").model.self_host
    assert fixed is not None and fixed.peak_to_average == 2.0


def test_self_host_route_without_a_section_names_the_route() -> None:
    d = copy.deepcopy(BASE)
    d["model"] = {
        "route": "api",
        "name": "mix",
        "routes": [
            {"name": "gpt-4o-mini", "share": 0.5},
            {"name": "llama", "share": 0.5, "route": "self_host"},
        ],
    }
    with pytest.raises(tcpmf.AssumptionError) as info:
        tcpmf.from_dict(d)
    assert info.value.key_path == "model.routes.1.route"
    assert "self_host section" in str(info.value)


def test_scenario_whose_model_does_not_fit_names_the_memory() -> None:
    with pytest.raises(tcpmf.AssumptionError) as info:
        scenario(
            **{
                "model.self_host.output_tokens_per_s_per_replica": None,
                "model.self_host.input_tokens_per_s_per_replica": None,
                "model.self_host.architecture": "deepseek-v3",
            }
        )
    assert info.value.key_path == "model.self_host.gpus_per_replica"
    assert "GB usable" in str(info.value) and "1x h100-sxm" in str(info.value)


def test_a_self_hosted_product_without_tokens_evaluates_without_a_warning() -> None:
    """0 prompt and 0 generated tokens per call: a mix of no tokens runs at the decode rate (not
    0/0), so the speed check and the engine give finite results and leak no RuntimeWarning."""
    import warnings

    product = tcpmf.load(assumptions_dir() / "products" / "ai_friends_selfhosted.yaml")
    empty = product.override(
        {"usage.input_tokens_per_call": 0.0, "usage.output_tokens_per_call": 0.0}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = tcpmf.evaluate(empty)
    assert result.summary["tokens_per_mau"].iloc[0] == 0
    assert np.isfinite(result.monthly["cash_usd"].to_numpy(float)).all()
    assert not np.isinf(result.monthly.select_dtypes("number").to_numpy(float)).any()
    decode = np.array([10_000.0, 20.0])
    assert np.array_equal(
        roofline.mix_output_tokens_per_s_per_replica(0, 0, 50_000.0, decode), decode
    )
