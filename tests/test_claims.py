"""The checkable claims of docs/claims.md, each against the bundled defaults."""

from __future__ import annotations

from typing import Any

import pytest

import tcpmf
from tcpmf.catalog.prices import model_price
from tcpmf.core.yamlio import assumptions_dir
from tcpmf.model.engine import evaluate

ROOT = assumptions_dir()


def test_deepseek_daily_serving_cost_is_reproduced() -> None:
    """608B input + 168B output tokens a day cost DeepSeek $87,072 (open-infra 'Day 6', 2025-02-28)."""
    s = tcpmf.load(ROOT / "categories" / "maas_api.yaml").override({"start_month": "2025-02"})
    month0 = evaluate(s).monthly.iloc[0]
    daily_usd = 608e3 * month0["usd_per_mtok_in"] + 168e3 * month0["usd_per_mtok_out"]
    assert daily_usd == pytest.approx(87_072, rel=0.01)


def test_maas_in_the_price_war_loses_money() -> None:
    summary = evaluate(tcpmf.load(ROOT / "products" / "maas_price_war.yaml")).summary
    assert float(summary["gross_margin_m0"].iloc[0]) < 0


def test_price_war_bid_loses_on_every_deal() -> None:
    summary = evaluate(tcpmf.load(ROOT / "products" / "tob_price_war_bid.yaml")).summary
    assert float(summary["deal_margin_usd"].iloc[0]) < 0


@pytest.mark.parametrize("model", ["ernie-speed", "ernie-lite"])
def test_ernie_speed_and_lite_are_free_from_the_price_war(model: str) -> None:
    price = model_price(model, "2024-05")
    assert price.usd_per_mtok_in == 0 and price.usd_per_mtok_out == 0


def test_three_calls_instead_of_one_triple_the_inference_cost() -> None:
    s = tcpmf.load(ROOT / "products" / "writing_assistant.yaml")
    one: Any = evaluate(s.override({"usage.calls_per_request": 1})).monthly["inference_cost_usd_per_mau"]
    three: Any = evaluate(s.override({"usage.calls_per_request": 3})).monthly["inference_cost_usd_per_mau"]
    assert three.to_numpy() == pytest.approx(3 * one.to_numpy(), rel=1e-9)


def test_effective_time_gap_of_20_to_30_percent_lies_in_the_utilization_formula() -> None:
    """Baidu (2024-09): 99.5% vs 80-90% (even 70-80%) effective time, costs 20-30% apart; cost ∝ 1/u."""
    s = tcpmf.load(ROOT / "categories" / "maas_api.yaml")
    well_run = evaluate(s.override({"model.self_host.utilization": 0.995})).monthly["usd_per_mtok_out"].iloc[0]
    gaps = [evaluate(s.override({"model.self_host.utilization": u})).monthly["usd_per_mtok_out"].iloc[0] / well_run - 1
            for u in (0.9, 0.8, 0.7)]
    assert gaps[0] < 0.20 and gaps[2] > 0.30  # the claimed 20-30% lies inside the stated range
    assert gaps[1] == pytest.approx(0.995 / 0.8 - 1)
