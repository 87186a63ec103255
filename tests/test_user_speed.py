"""Serving at a speed users accept: ``usage.output_tokens_per_s_per_user`` caps the batch of a
self-hosted architecture (docs/model.md §1)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tcpmf
from tcpmf.catalog.prices import gpu_rent
from tcpmf.catalog.roofline import (
    decode_tokens_per_s_per_replica,
    estimate,
    max_batch_at_user_speed,
    mix_output_tokens_per_s_per_replica,
)
from tcpmf.model.routing import route_prices_m0

FRIENDS = "assumptions/products/ai_friends_selfhosted.yaml"


def _user_speed(
    batch: float,
    n_in: float,
    n_out: float,
    prefill: float,
    bw: float,
    flops: float,
    weights: float,
    p_active: float,
    kv: float,
    context: float,
    eta_bw: float,
    eta_f: float,
) -> float:
    decode = decode_tokens_per_s_per_replica(
        batch, bw, flops, weights, p_active, kv, context, eta_bw, eta_f
    )
    return float(mix_output_tokens_per_s_per_replica(n_in, n_out, prefill, decode)) / batch


@settings(max_examples=200, deadline=None)
@given(
    speed=st.floats(1.0, 200.0),
    n_in=st.floats(10.0, 8000.0),
    n_out=st.floats(10.0, 2000.0),
    eta_bw=st.floats(0.2, 1.0),
)
def test_closed_form_batch_is_the_largest_that_keeps_the_speed(
    speed: float, n_in: float, n_out: float, eta_bw: float
) -> None:
    # Llama 3.1 8B FP8 on one H100: weights 8 GB, 64 KiB of KV cache a token
    bw, flops, weights, p_active, kv, eta_f = 3.35e12, 1979e12, 8e9, 8e9, 65536.0, 0.5
    context = n_in + n_out
    prefill = eta_f * flops / (2 * p_active)
    b = float(
        max_batch_at_user_speed(speed, n_in, n_out, prefill, bw, weights, kv, context, eta_bw)
    )
    args = (n_in, n_out, prefill, bw, flops, weights, p_active, kv, context, eta_bw, eta_f)
    if b >= 1:
        assert _user_speed(b, *args) >= speed * (1 - 1e-9)
    assert _user_speed(max(b, 0.0) + 1, *args) < speed * (1 + 1e-9)


def _friends(speed: float | None) -> tcpmf.Scenario:
    return tcpmf.load(FRIENDS).override({"usage.output_tokens_per_s_per_user": speed})


def _usd_per_mtok(s: tcpmf.Scenario) -> tuple[float, float]:
    prices = route_prices_m0(s)
    return prices.usd_per_mtok_in, prices.usd_per_mtok_out


@settings(max_examples=25, deadline=None)
@given(slow=st.floats(1.0, 80.0), faster_by=st.floats(0.0, 60.0))
def test_a_faster_required_speed_never_lowers_cost_per_token(slow: float, faster_by: float) -> None:
    a_in, a_out = _usd_per_mtok(_friends(slow))
    b_in, b_out = _usd_per_mtok(_friends(slow + faster_by))
    assert b_out >= a_out * (1 - 1e-12)
    assert b_in >= a_in * (1 - 1e-12)


def test_absent_speed_gives_the_uncapped_roofline() -> None:
    s = _friends(None)
    u, host = s.usage, s.model.self_host
    assert host is not None and host.utilization is not None
    t = estimate(
        "llama-3.1-8b",
        "h100-sxm",
        "fp8",
        1,
        round(u.input_tokens_per_call + u.output_tokens_per_call),
    )
    rent = gpu_rent("h100-sxm", s.start_month).usd_per_gpu_hour
    _, out_free = _usd_per_mtok(s)
    assert out_free == pytest.approx(
        rent / (3600 * float(t.output_tokens_per_s_per_replica) * host.utilization) * 1e6, rel=1e-12
    )
    _, out_capped = _usd_per_mtok(_friends(20.0))
    assert out_capped > out_free  # 20 tokens/s binds for a 1,000-token prompt and a 150-token reply


def test_the_speed_does_not_touch_api_products() -> None:
    s = tcpmf.load("assumptions/products/writing_assistant.yaml")
    assert s.usage.output_tokens_per_s_per_user == 20
    with_speed = tcpmf.evaluate(s).monthly
    without = tcpmf.evaluate(s.override({"usage.output_tokens_per_s_per_user": None})).monthly
    for column in ("inference_cost_usd", "net_usd", "cash_usd"):
        np.testing.assert_array_equal(with_speed[column].to_numpy(), without[column].to_numpy())


def test_served_speed_and_the_latency_it_implies() -> None:
    s = _friends(20.0)
    u = s.usage
    t = estimate(
        "llama-3.1-8b",
        "h100-sxm",
        "fp8",
        1,
        round(u.input_tokens_per_call + u.output_tokens_per_call),
        output_tokens_per_s_per_user=20.0,
        input_tokens_per_call=u.input_tokens_per_call,
        output_tokens_per_call=u.output_tokens_per_call,
    )
    assert t.output_tokens_per_s_per_user is not None
    speed = float(t.output_tokens_per_s_per_user)
    assert speed >= 20.0
    assert (
        u.output_tokens_per_call / speed <= u.output_tokens_per_call / 20.0
    )  # a 150-token reply in at most 7.5 s
    assert float(t.batch) < float(np.minimum(t.max_batch_fitting_memory, 2048))


def test_a_speed_no_batch_reaches_is_refused_naming_the_key() -> None:
    with pytest.raises(tcpmf.AssumptionError) as info:
        _friends(5000.0)
    assert info.value.key_path == "usage.output_tokens_per_s_per_user"
    assert "tokens/s" in str(info.value)


def test_crossover_prices_the_default_self_host_at_the_users_speed() -> None:
    from tcpmf.analysis.crossover import crossover

    s = tcpmf.load(
        "assumptions/products/ai_companion.yaml"
    )  # entertainment: 3,000 in / 80 out, 20 tokens/s
    capped = crossover(s)["self_host_usd_per_mtok_full"][0]
    free = crossover(s.override({"usage.output_tokens_per_s_per_user": None}))[
        "self_host_usd_per_mtok_full"
    ][0]
    assert capped > free
