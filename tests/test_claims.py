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
    one: Any = evaluate(s.override({"usage.calls_per_request": 1})).monthly[
        "inference_cost_usd_per_mau"
    ]
    three: Any = evaluate(s.override({"usage.calls_per_request": 3})).monthly[
        "inference_cost_usd_per_mau"
    ]
    assert three.to_numpy() == pytest.approx(3 * one.to_numpy(), rel=1e-9)


def test_effective_time_gap_of_20_to_30_percent_lies_in_the_utilization_formula() -> None:
    """Baidu (2024-09): 99.5% vs 80-90% (even 70-80%) effective time, costs 20-30% apart; cost ∝ 1/u."""
    s = tcpmf.load(ROOT / "categories" / "maas_api.yaml")
    well_run = (
        evaluate(s.override({"model.self_host.utilization": 0.995}))
        .monthly["usd_per_mtok_out"]
        .iloc[0]
    )
    gaps = [
        evaluate(s.override({"model.self_host.utilization": u})).monthly["usd_per_mtok_out"].iloc[0]
        / well_run
        - 1
        for u in (0.9, 0.8, 0.7)
    ]
    assert gaps[0] < 0.20 and gaps[2] > 0.30  # the claimed 20-30% lies inside the stated range
    assert gaps[1] == pytest.approx(0.995 / 0.8 - 1)


def test_deepseek_theoretical_revenue_and_cost_profit_ratio_are_reproduced() -> None:
    """The day's tokens billed at R1 prices (cache-hit and cache-miss input, output; no off-peak
    discount) earn $562,027 against $87,072 of GPUs: a cost-profit ratio of 545% (DeepSeek, 2025-02-28)."""
    month0 = evaluate(tcpmf.load(ROOT / "claims" / "deepseek_day_2025_02.yaml")).monthly.iloc[0]
    revenue_per_day, cost_per_day = month0["revenue_usd"] / 30, month0["inference_cost_usd"] / 30
    assert revenue_per_day == pytest.approx(562_027, rel=0.001)
    assert cost_per_day == pytest.approx(87_072, rel=0.01)
    assert revenue_per_day / cost_per_day - 1 == pytest.approx(5.45, abs=0.05)


def _blended(model: str, month: str, input_per_output: float) -> float:
    """USD per 1M tokens of a mix of *input_per_output* input tokens per output token."""
    p = model_price(model, month)
    return (input_per_output * p.usd_per_mtok_in + p.usd_per_mtok_out) / (input_per_output + 1)


def test_yi_large_costs_a_quarter_of_gpt4_or_less() -> None:
    """Lee (2024-06): Yi-Large at a quarter of GPT-4's price.  GPT-4's price is GPT-4 Turbo's, the
    GPT-4 on OpenAI's list at Yi-Large's launch (2024-05); tokens blend 3:1 input:output (Artificial
    Analysis's convention); Yi-Large's verified $3 / $3."""
    ratio = _blended("yi-large", "2024-05", 3) / _blended("gpt-4-turbo", "2024-05", 3)
    assert ratio == pytest.approx(0.2, rel=1e-9)
    for mix in (1, 2, 3, 4, 5):  # from chat-like to retrieval-heavy mixes: a quarter or less
        assert (
            0.14
            <= _blended("yi-large", "2024-05", mix) / _blended("gpt-4-turbo", "2024-05", mix)
            <= 0.25
        )
    # not against the original GPT-4 (8k, 30 / 60): there it is about a twelfth
    assert _blended("yi-large", "2024-05", 3) / _blended("gpt-4", "2024-05", 3) == pytest.approx(
        3 / 37.5
    )


def test_customer_service_at_2023_prices_costs_about_one_yuan_a_day() -> None:
    """Zimubang (2023-05): 60,000 characters of replies a day cost 100-200 CNY with a human agent,
    about 1 CNY with the model; here GPT-3.5 Turbo at its 2023 list price."""
    from tcpmf.catalog.prices import cny_per_usd
    from tcpmf.model.deals import deals

    row = deals(tcpmf.load(ROOT / "claims" / "customer_service_2023.yaml")).iloc[0]
    rate = cny_per_usd("2023-05")
    model_cny = float(row["model_usd_per_agent_day"]) * rate
    assert 0.5 <= model_cny <= 2.0  # "about 1 CNY": within a factor of 2
    assert 100 <= float(row["human_usd_per_agent_day"]) * rate <= 200
    assert 50 <= float(row["human_to_model_cost"]) <= 400  # 100-200 vs 0.5-2 CNY
