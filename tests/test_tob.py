"""ToB economics: deals, pipeline, labor substitution, MaaS vendors, mixed evaluation, bad input."""

from __future__ import annotations

import copy
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import _no_dust

import tcpmf
from tcpmf.catalog.prices import cny_per_usd
from tcpmf.core.yamlio import assumptions_dir
from tcpmf.model.deals import deals
from tcpmf.model.maas import maas
from tcpmf.schema.scenario import TOC_CATEGORIES

ROOT = assumptions_dir()
PRODUCTS = ROOT / "products"
CATEGORIES = ROOT / "categories"

# A deal with explicit token prices: loading it needs no catalog price.
DEAL: dict[str, Any] = {
    "name": "a deal",
    "segment": "tob",
    "category": "customer_service",
    "start_month": "2024-05",
    "horizon_months": 24,
    "model": {
        "route": "api",
        "name": "label",
        "usd_per_mtok_in": 0.5,
        "usd_per_mtok_out": 1.5,
        "annual_cost_decline": 2.0,
    },
    "deal": {
        "seats": 40.0,
        "seat_price_usd_per_month": 200.0,
        "project_fee_usd": 20000.0,
        "bidding_discount": 0.2,
        "contract_months": 12,
        "renewal_rate": 0.6,
        "delivery_person_days": 30.0,
        "usd_per_person_day": 300.0,
        "deployment": {"kind": "cloud"},
        "inference": {
            "active_days_per_month": 22.0,
            "input_tokens_per_seat_day": 50000.0,
            "output_tokens_per_seat_day": 20000.0,
        },
        "keep_current": {"updates_per_year": 2.0, "person_days_per_update": 4.0},
        "sales_usd_per_bid": 5000.0,
        "bids_per_month": 3.0,
        "win_rate": 0.3,
        "sales_cycle_months": 2,
    },
    "costs": {"fixed_usd_per_month": 60000.0},
}


def deal_dict(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(DEAL)
    for dotted, value in changes.items():
        node = data
        *parents, last = dotted.split("__")
        for part in parents:
            node = node[part]
        node[last] = value
    return data


def load_deal(**changes: Any) -> tcpmf.Scenario:
    return tcpmf.from_dict(deal_dict(**changes))


# --- a plain scalar reference of the deal and its pipeline ---------------------------------------


def reference(d: dict[str, Any]) -> dict[str, Any]:
    """Deal margin and monthly cash of one deal scenario, month by month in plain Python."""
    deal, model = d["deal"], d["model"]
    keep = 1 - deal["bidding_discount"]
    length = deal["contract_months"]
    decline = model["annual_cost_decline"]
    private = deal["deployment"]["kind"] == "private"
    inf = deal.get("inference") or {
        "active_days_per_month": 0,
        "input_tokens_per_seat_day": 0,
        "output_tokens_per_seat_day": 0,
    }
    seat_bill = (
        inf["active_days_per_month"]
        * (
            inf["input_tokens_per_seat_day"] * model["usd_per_mtok_in"]
            + inf["output_tokens_per_seat_day"] * model["usd_per_mtok_out"]
        )
        / 1e6
    )
    seat_bill = 0.0 if private else seat_bill
    dep = deal["deployment"]
    renewal = deal["renewal_rate"]
    life = length / (1 - renewal) if renewal < 1 else math.inf  # the customer's expected months
    capex = dep["hardware_capex_usd"] if private else 0.0
    amortization = dep["amortization_months"] if private else 1
    hardware = capex * length / min(amortization, life)  # the share of servers one deal consumes
    operations = dep["operations_usd_per_month"] if private else 0.0
    kc = (
        deal["keep_current"]["updates_per_year"]
        / 12
        * deal["keep_current"]["person_days_per_update"]
        * deal["usd_per_person_day"]
    )
    delivery = deal["delivery_person_days"] * deal["usd_per_person_day"]
    seats, price, fee = deal["seats"], deal["seat_price_usd_per_month"], deal["project_fee_usd"]
    cost = delivery + deal["sales_usd_per_bid"] / deal["win_rate"] + hardware
    for k in range(length):
        cost += operations + kc + seats * seat_bill * decline ** (-k / 12)
    revenue = (seats * price * length + fee) * keep
    cash, total, wins = [], 0.0, []
    for t in range(d["horizon_months"]):
        won = deal["bids_per_month"] * deal["win_rate"] if t >= deal["sales_cycle_months"] else 0.0
        wins.append(won)
        active = sum(wins[s] * renewal ** ((t - s) // length) for s in range(t + 1))
        # cash: a server is bought at signing and again each write-off while the contract is in force
        servers = sum(
            wins[s] * renewal ** ((t - s) // length)
            for s in range(t + 1)
            if (t - s) % amortization == 0
        )
        net = (
            active * seats * price * keep
            + won * fee * keep
            - won * delivery
            - servers * capex
            - active * (seats * seat_bill * decline ** (-t / 12) + operations + kc)
            - deal["bids_per_month"] * deal["sales_usd_per_bid"]
            - d["costs"]["fixed_usd_per_month"]
        )
        total += net
        cash.append(total)
    return {"deal_margin_usd": revenue - cost, "cash_usd": cash}


def _amount(lo: float, hi: float, **kwargs: Any) -> st.SearchStrategy[float]:
    """A float in [lo, hi]; one closer to 0 than 1e-6 is 0 (the schema refuses 5e-324 and the like)."""
    return st.floats(lo, hi, **kwargs).map(_no_dust)


money = _amount(0, 5e4, allow_nan=False)
deal_inputs = st.fixed_dictionaries(
    {
        "deal__seats": _amount(1, 2000),
        "deal__seat_price_usd_per_month": _amount(1, 500),
        "deal__project_fee_usd": money,
        "deal__bidding_discount": _amount(0, 0.95),
        "deal__contract_months": st.integers(1, 36),
        "deal__renewal_rate": _amount(0, 1),
        "deal__delivery_person_days": _amount(0, 500),
        "deal__usd_per_person_day": _amount(50, 1000),
        "deal__sales_usd_per_bid": money,
        "deal__bids_per_month": _amount(0, 20),
        "deal__win_rate": _amount(0.01, 1),
        "deal__sales_cycle_months": st.integers(0, 12),
        "model__annual_cost_decline": _amount(1, 20),
        "horizon_months": st.integers(1, 48),
        "deal__deployment": st.one_of(
            st.just({"kind": "cloud"}),
            st.fixed_dictionaries(
                {
                    "kind": st.just("private"),
                    "hardware_capex_usd": _amount(0, 1e6),
                    "amortization_months": st.integers(1, 60),
                    "operations_usd_per_month": money,
                }
            ),
        ),
    }
)
PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(deal_inputs)
def test_vectorized_deals_equal_the_scalar_reference(inputs: dict[str, Any]) -> None:
    data = deal_dict(**inputs)
    result = tcpmf.evaluate(tcpmf.from_dict(data))
    ref = reference(data)
    assert math.isclose(
        result.summary["deal_margin_usd"][0], ref["deal_margin_usd"], rel_tol=1e-9, abs_tol=1e-6
    )
    np.testing.assert_allclose(result.monthly["cash_usd"], ref["cash_usd"], rtol=1e-9, atol=1e-4)


def _margins(variants: list[tcpmf.Scenario]) -> pd.DataFrame:
    return tcpmf.evaluate(variants).summary


@PROPERTY
@given(deal_inputs, _amount(0, 0.95), _amount(0, 0.95))
def test_a_deeper_discount_never_raises_deal_margin(
    inputs: dict[str, Any], d1: float, d2: float
) -> None:
    low, high = sorted((d1, d2))
    base = load_deal(**inputs)
    summary = _margins(
        [
            base.override({"deal.bidding_discount": low}),
            base.override({"deal.bidding_discount": high}),
        ]
    )
    margin = summary["deal_margin_usd"]
    assert margin[1] <= margin[0] + 1e-9 * max(1.0, abs(margin[0]))


@PROPERTY
@given(deal_inputs, _amount(0, 1000), _amount(0, 1000))
def test_more_delivery_days_never_help(inputs: dict[str, Any], days1: float, days2: float) -> None:
    few, many = sorted((days1, days2))
    base = load_deal(**inputs)
    result = tcpmf.evaluate(
        [
            base.override({"deal.delivery_person_days": few}),
            base.override({"deal.delivery_person_days": many}),
        ]
    )
    margin = result.summary["deal_margin_usd"]
    assert margin[1] <= margin[0] + 1e-9 * max(1.0, abs(margin[0]))
    cash = result.monthly.pivot(index="month", columns="scenario", values="cash_usd")
    assert (cash.iloc[:, 1] <= cash.iloc[:, 0] + 1e-6 * cash.abs().max().max() + 1e-6).all()
    payback = result.summary["payback_month"]
    assert pd.isna(payback[1]) or (not pd.isna(payback[0]) and payback[0] <= payback[1])


@PROPERTY
@given(deal_inputs, _amount(0.01, 1), _amount(0.01, 1))
def test_a_higher_win_rate_never_hurts_a_deal(inputs: dict[str, Any], w1: float, w2: float) -> None:
    low, high = sorted((w1, w2))
    base = load_deal(**inputs)
    summary = _margins(
        [base.override({"deal.win_rate": low}), base.override({"deal.win_rate": high})]
    )
    margin, needed = summary["deal_margin_usd"], summary["deals_to_break_even"]
    assert margin[1] >= margin[0] - 1e-9 * max(1.0, abs(margin[0]))
    if not pd.isna(needed[0]):
        assert not pd.isna(needed[1]) and needed[1] <= needed[0]


def test_deals_to_break_even_and_recovery_follow_their_definitions() -> None:
    s = load_deal()
    row = deals(s).iloc[0]
    margin = row["deal_margin_usd"]
    assert margin > 0
    assert row["deals_to_break_even"] == math.ceil(12 * 60000.0 / margin)
    # months to recover: upfront (fee − delivery − sales) plus monthly margins turns non-negative
    keep = 0.8
    upfront = 20000 * keep - 30 * 300 - 5000 / 0.3
    months = row["months_to_recover_delivery"]
    monthly = (
        40 * 200 * keep
        - 2 / 12 * 4 * 300
        - 40 * 22 * (50000 * 0.5 + 20000 * 1.5) / 1e6 * 2 ** (-np.arange(12) / 12)
    )
    cum = upfront + np.concatenate([[0.0], np.cumsum(monthly)])
    assert months == int(np.argmax(cum >= 0))


def test_a_private_deal_that_does_not_renew_bears_its_whole_server() -> None:
    server = {
        "kind": "private",
        "hardware_capex_usd": 360000.0,
        "amortization_months": 36,
        "operations_usd_per_month": 1000.0,
    }
    once = load_deal(deal__deployment=server, deal__renewal_rate=0.0, name="private")
    cloud = load_deal(deal__renewal_rate=0.0, name="cloud")
    half = load_deal(deal__deployment=server, deal__renewal_rate=0.5)  # expected life 24 months
    loyal = load_deal(deal__deployment=server, deal__renewal_rate=1.0)  # outlives the write-off
    table = deals([once, cloud, half, loyal])
    inference = table["inference_usd_per_deal"][1]
    assert table["hardware_usd_per_deal"].tolist() == pytest.approx(
        [360000.0, 0.0, 180000.0, 120000.0]
    )
    assert table["deal_margin_usd"][0] == pytest.approx(
        table["deal_margin_usd"][1] + inference - 360000.0 - 12 * 1000.0
    )
    # the pipeline pays the server in cash at signing: the first month with wins (2) carries 0.9 servers
    result = tcpmf.evaluate([once, cloud])
    net = result.monthly.pivot(index="month", columns="scenario", values="net_usd")
    wins, tokens = 3.0 * 0.3, 40 * 22 * (50000 * 0.5 + 20000 * 1.5) / 1e6 * 2 ** (-2 / 12)
    assert net[cloud.name][2] - net[once.name][2] == pytest.approx(
        wins * (360000.0 + 1000.0 - tokens)
    )
    assert net[cloud.name][3] - net[once.name][3] == pytest.approx(
        wins * (360000.0 + 2 * 1000.0)
        - 2 * wins * 40 * 22 * (50000 * 0.5 + 20000 * 1.5) / 1e6 * 2 ** (-3 / 12)
    )


def test_a_deal_that_loses_money_never_recovers_its_delivery() -> None:
    rag = tcpmf.load(
        CATEGORIES / "knowledge_rag.yaml"
    )  # the project fee covers delivery at signing, the server does not
    row = deals(rag).iloc[0]
    assert row["deal_margin_usd"] < 0
    assert pd.isna(row["months_to_recover_delivery"])
    assert row["hardware_usd_per_deal"] == pytest.approx(1600000 / cny_per_usd(rag.start_month))


# --- labor substitution: the customer-service case of the founding documents ---------------------


@pytest.mark.parametrize("tokens_per_char", [0.6, 1.0])
def test_customer_service_labor_case_reproduces_the_2023_claim(tokens_per_char: float) -> None:
    """60,000 characters of replies a day: 100-200 CNY by a human, about 1 CNY by an LLM (2023)."""
    base = tcpmf.load(CATEGORIES / "customer_service.yaml").override(
        {
            "start_month": "2023-06",
            "model.name": "gpt-3.5-turbo",
            "labor.tokens_per_char": tokens_per_char,
        }
    )
    rate = cny_per_usd("2023-06")
    for human_cny in (100, 200):
        s = base.override(
            {
                "labor.human_usd_per_agent_day": {
                    "value": human_cny,
                    "currency": "CNY",
                    "source": "test",
                }
            }
        )
        row = deals(s).iloc[0]
        model_cny = row["model_usd_per_agent_day"] * rate
        assert 0.5 <= model_cny <= 2.0, model_cny  # "about 1 CNY"
        assert math.isclose(row["human_usd_per_agent_day"] * rate, human_cny)
        assert row["human_to_model_cost"] >= 50
        # the buyer's ceiling is the human work replaced; the highest price keeps the buyer's share
        assert s.labor is not None
        ceiling = human_cny / rate * s.labor.agent_days_per_month * s.labor.automation_share
        assert math.isclose(row["value_ceiling_usd_per_seat_month"], ceiling)
        assert math.isclose(
            row["max_seat_price_usd_per_month"], ceiling * (1 - s.labor.buyer_saving_share)
        )


def test_vendor_margin_at_the_max_price_is_the_deal_margin_at_that_price() -> None:
    s = tcpmf.load(CATEGORIES / "customer_service.yaml")
    row = deals(s).iloc[0]
    at_max = s.override(
        {
            "deal.bidding_discount": 0,
            "deal.seat_price_usd_per_month": float(row["max_seat_price_usd_per_month"]),
        }
    )
    again = deals(at_max).iloc[0]
    assert math.isclose(
        row["vendor_margin_usd_per_deal_at_max_price"], again["deal_margin_usd"], rel_tol=1e-9
    )
    assert math.isclose(row["vendor_margin_at_max_price"], again["deal_margin_share"], rel_tol=1e-9)


# --- bundled ToB products ---------------------------------------------------------------------------


def test_the_price_war_bid_loses_money_on_every_deal() -> None:
    s = tcpmf.load(PRODUCTS / "tob_price_war_bid.yaml")
    summary = tcpmf.evaluate(s).summary.iloc[0]
    assert summary["deal_margin_usd"] < 0 and summary["ltv_usd"] < 0  # a renewal loses money too
    assert pd.isna(summary["deals_to_break_even"]) and not summary["clears_break_even"]
    # at the seat price a rational buyer would pay, the same deal would make money
    assert deals(s).iloc[0]["vendor_margin_usd_per_deal_at_max_price"] > 0


def test_the_small_b_subscription_runs_through_the_consumer_engine_and_works() -> None:
    s = tcpmf.load(PRODUCTS / "smb_customer_service_subscription.yaml")
    assert s.segment == "tob" and s.kind == "consumer"
    alone = tcpmf.evaluate(s).summary
    assert bool(alone["clears_break_even"][0]) and alone["contribution_usd_per_mau_m0"][0] > 0
    assert pd.isna(alone["deal_margin_usd"][0])


def test_the_private_deployment_deal_pays_only_with_enough_seats() -> None:
    s = tcpmf.load(PRODUCTS / "tob_private_coding_assistant.yaml")
    assert s.deal is not None and s.deal.deployment.kind == "private"
    small = s.override({"deal.seats": 300})
    summary = tcpmf.evaluate([s, small]).summary
    assert summary["deal_margin_usd"][0] > 0 > summary["deal_margin_usd"][1]


# --- MaaS vendors ---------------------------------------------------------------------------------


def test_maas_margin_is_negative_in_the_price_war_and_positive_before_the_cut() -> None:
    war = tcpmf.load(PRODUCTS / "maas_price_war.yaml")
    before = war.override(
        {"start_month": "2024-04"}
    )  # Qwen-Long at 20 CNY per 1M before 2024-05-21
    table = maas([war, before])
    assert table["margin_usd_per_mtok_m0"][0] < 0 < table["margin_usd_per_mtok_m0"][1]
    m = war.maas
    assert m is not None
    row = table.iloc[0]
    assert math.isclose(
        row["revenue_usd_per_mtok_m0"], (1 - m.free_token_share) * row["price_usd_per_mtok_m0"]
    )
    assert math.isclose(
        row["margin_usd_per_mtok_m0"], row["revenue_usd_per_mtok_m0"] - row["cost_usd_per_mtok_m0"]
    )
    summary = tcpmf.evaluate(war).summary.iloc[0]
    assert summary["gross_margin_m0"] < 0 and summary["tcpmf_month"] != 0


@given(_amount(0, 0.9), _amount(0, 0.9))
@settings(max_examples=25, deadline=None)
def test_a_larger_free_tier_never_raises_maas_margin(f1: float, f2: float) -> None:
    low, high = sorted((f1, f2))
    war = tcpmf.load(PRODUCTS / "maas_price_war.yaml")
    table = maas(
        [
            war.override({"maas.free_token_share": low}),
            war.override({"maas.free_token_share": high}),
        ]
    )
    assert table["margin_usd_per_mtok_m0"][1] <= table["margin_usd_per_mtok_m0"][0] + 1e-15


# --- consumer and business scenarios in one call ----------------------------------------------------


def test_evaluate_mixes_consumer_deal_and_maas_scenarios_in_input_order() -> None:
    toc = tcpmf.load(PRODUCTS / "writing_assistant.yaml")
    bid = tcpmf.load(PRODUCTS / "tob_price_war_bid.yaml")
    vendor = tcpmf.load(PRODUCTS / "maas_price_war.yaml")
    smb = tcpmf.load(PRODUCTS / "smb_customer_service_subscription.yaml")
    mixed = tcpmf.evaluate([bid, toc, vendor, smb, toc])
    summary = mixed.summary
    assert summary["scenario"].tolist() == [
        bid.name,
        toc.name,
        vendor.name,
        smb.name,
        f"{toc.name} [2]",
    ]
    consumer = tcpmf.evaluate([toc, smb, toc]).summary
    pd.testing.assert_frame_equal(
        summary.iloc[[1, 3, 4]].reset_index(drop=True).drop(columns="scenario"),
        consumer.drop(columns="scenario"),
        check_dtype=False,  # a column that is NA for business rows becomes nullable (Float64)
    )
    assert summary["deal_margin_usd"].isna().tolist() == [False, True, True, True, True]
    assert list(summary.columns[-2:]) == ["deal_margin_usd", "deals_to_break_even"]
    assert summary["deal_margin_usd"][0] == deals(bid)["deal_margin_usd"][0]
    months = mixed.monthly.groupby("scenario", observed=True).size()
    assert months.to_dict() == {
        bid.name: 36,
        toc.name: toc.horizon_months,
        vendor.name: 36,
        smb.name: 36,
        f"{toc.name} [2]": toc.horizon_months,
    }
    assert len(mixed.arrays.names) == 5


def test_timeline_still_covers_only_the_consumer_categories() -> None:
    frame = tcpmf.timeline(horizon_months=12)
    assert frame["category"].tolist() == list(TOC_CATEGORIES)


# --- bad input ------------------------------------------------------------------------------------


def _error(data: dict[str, Any]) -> str:
    with pytest.raises(tcpmf.AssumptionError) as info:
        tcpmf.from_dict(data, file="bad.yaml")
    return str(info.value)


def test_a_consumer_scenario_without_usage_names_the_missing_section(
    valid_scenario_dict: dict[str, Any],
) -> None:
    del valid_scenario_dict["usage"]
    message = _error(valid_scenario_dict)
    assert message.startswith("bad.yaml: usage") and "needs usage and retention" in message


@pytest.mark.parametrize(
    ("changes", "key", "words"),
    [
        ({"segment": "toc"}, "segment", "tob for a scenario with a deal or maas section"),
        ({"deal__win_rate": 0}, "deal.win_rate", "must be a number in (0, 1]"),
        ({"deal__bidding_discount": 1.0}, "deal.bidding_discount", "must be a number in [0, 1)"),
        (
            {"deal__deployment": {"kind": "on_prem"}},
            "deal.deployment.kind",
            "one of cloud, private",
        ),
        ({"deal__seats_count": 3}, "deal.seats_count", "unknown key"),
        ({"deal__inference": None}, "deal.inference", "for a cloud deployment"),
        (
            {"deal__seat_price_usd_per_month": 0.0, "deal__project_fee_usd": 0.0},
            "deal.seat_price_usd_per_month",
            "a positive seat price or a positive project fee",
        ),
        (
            {
                "labor": {
                    "human_usd_per_agent_day": 20,
                    "output_chars_per_agent_day": 60000,
                    "tokens_per_char": 1,
                    "input_tokens_per_output_token": 0.5,
                    "agent_days_per_month": 26,
                }
            },
            "deal.inference",
            "no deal.inference when a labor section gives the work",
        ),
        (
            {
                "usage": {
                    "dau_per_mau": 0.1,
                    "sessions_per_day": 1,
                    "requests_per_session": 1,
                    "input_tokens_per_call": 1,
                    "output_tokens_per_call": 1,
                }
            },
            "usage",
            "no usage section",
        ),
        (
            {"category": "productivity", "segment": "tob"},
            None,
            None,
        ),  # a ToB deal in a consumer category is allowed
    ],
)
def test_bad_deal_input_names_key_value_and_what_is_allowed(
    changes: dict[str, Any], key: str | None, words: str | None
) -> None:
    data = deal_dict(**changes)
    if key is None:
        assert tcpmf.from_dict(data).kind == "deal"
        return
    message = _error(data)
    assert message.startswith(f"bad.yaml: {key}"), message
    assert words in message, message  # type: ignore[operator]


def test_bad_maas_and_labor_input() -> None:
    data = deal_dict()
    labor = {
        "human_usd_per_agent_day": 20,
        "output_chars_per_agent_day": 60000,
        "tokens_per_char": 1,
        "input_tokens_per_output_token": 0.5,
        "agent_days_per_month": 26,
    }
    del data["deal"]
    data["labor"] = labor
    assert "labor section only together with a deal section" in _error(data)
    data = deal_dict()
    del data["deal"]
    data["maas"] = {
        "price_model": "qwen-long",
        "usd_per_mtok_in": 1.0,
        "usd_per_mtok_out": 2.0,
        "input_token_share": 0.8,
        "mtok_per_month": 10.0,
    }
    assert "either price_model or usd_per_mtok_in" in _error(data)
    data["maas"] = {"price_model": "qwen-lng", "input_token_share": 0.8, "mtok_per_month": 10.0}
    message = _error(data)
    assert message.startswith("bad.yaml: maas.price_model = 'qwen-lng'") and "qwen-long" in message


def test_the_cli_reports_a_bad_deal_file_in_one_line(yaml_writer: Any) -> None:
    path: Path = yaml_writer("bad_deal.yaml", deal_dict(deal__win_rate=1.5))
    for command in ("deals", "breakeven"):
        proc = subprocess.run(
            [sys.executable, "-m", "tcpmf", command, str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 1 and proc.stdout == ""
        assert "Traceback" not in proc.stderr
        assert "bad_deal.yaml: deal.win_rate = 1.5: must be a number in (0, 1]" in proc.stderr


def test_the_cli_prints_deals_and_maas_as_json(yaml_writer: Any) -> None:
    import json

    path: Path = yaml_writer("deal.yaml", deal_dict())
    proc = subprocess.run(
        [sys.executable, "-m", "tcpmf", "deals", "--json", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    row = json.loads(proc.stdout)[0]
    assert row["deal_margin_usd"] == pytest.approx(reference(deal_dict())["deal_margin_usd"])
    assert row["value_ceiling_usd_per_seat_month"] is None  # no labor section
    proc = subprocess.run(
        [sys.executable, "-m", "tcpmf", "maas", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert any(r["margin_usd_per_mtok_m0"] < 0 for r in json.loads(proc.stdout))


def test_a_labor_section_sets_the_seat_tokens_like_an_explicit_inference_section() -> None:
    labor = {
        "human_usd_per_agent_day": 20.0,
        "output_chars_per_agent_day": 60000.0,
        "tokens_per_char": 1.2,
        "input_tokens_per_output_token": 0.5,
        "agent_days_per_month": 26.0,
        "automation_share": 0.7,
    }
    with_labor = deal_dict(deal__inference=None)
    with_labor["labor"] = labor
    out = 60000 * 0.7 * 1.2
    explicit = deal_dict(
        deal__inference={
            "active_days_per_month": 26.0,
            "input_tokens_per_seat_day": out * 0.5,
            "output_tokens_per_seat_day": out,
        }
    )
    table = deals([tcpmf.from_dict(with_labor), tcpmf.from_dict(explicit)])
    assert math.isclose(table["deal_margin_usd"][0], table["deal_margin_usd"][1], rel_tol=1e-12)
    assert table["model_usd_per_agent_day"][0] == pytest.approx(
        60000 * 1.2 * (1.5 + 0.5 * 0.5) / 1e6
    )
    assert pd.isna(table["model_usd_per_agent_day"][1])


def test_a_self_hosted_deal_needs_measured_throughput() -> None:
    data = deal_dict(
        model={
            "route": "self_host",
            "name": "own model",
            "self_host": {"gpu": "h100-sxm", "architecture": "x"},
        }
    )
    message = _error(data)
    assert (
        message.startswith("bad.yaml: model.self_host = {")
        and "measured input and output throughputs" in message
    ), message


def test_a_consumer_scenario_takes_only_a_consumer_category(
    valid_scenario_dict: dict[str, Any],
) -> None:
    valid_scenario_dict["category"] = "customer_service"
    message = _error(valid_scenario_dict)
    assert (
        message.startswith("bad.yaml: category = 'customer_service'")
        and "with segment toc" in message
    )
    valid_scenario_dict["segment"] = "tob"  # a small-B subscription: the consumer engine, unchanged
    small_b = tcpmf.from_dict(valid_scenario_dict)
    assert small_b.kind == "consumer"
    consumer = valid_scenario_dict | {"segment": "toc", "category": "productivity"}
    columns = ["contribution_usd_per_mau_m0", "ltv_usd", "payback_month", "tcpmf_month"]
    pd.testing.assert_frame_equal(
        tcpmf.evaluate(small_b).summary[columns],
        tcpmf.evaluate(tcpmf.from_dict(consumer)).summary[columns],
    )


def test_a_mixed_result_has_no_nan_only_na() -> None:
    from tcpmf.core.yamlio import assumptions_dir

    products = assumptions_dir() / "products"
    result = tcpmf.evaluate(
        [
            products / "tob_price_war_bid.yaml",
            products / "writing_assistant.yaml",
            products / "maas_price_war.yaml",
        ]
    )
    for frame in (result.monthly, result.summary):
        for column in frame.columns:
            values = frame[column]
            if values.dtype == "float64":
                assert not np.isnan(values.to_numpy()).any(), column
    assert result.monthly["arpu_usd"].isna().any()  # deal rows: no ARPU, shown as <NA>


# --- the cost side of a deal is never a silent zero ---------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "delivery_person_days",
        "usd_per_person_day",
        "sales_usd_per_bid",
        "sales_cycle_months",
        "renewal_rate",
        "deployment",
        "keep_current",
        "keep_current.updates_per_year",
        "keep_current.person_days_per_update",
    ],
)
def test_a_deal_without_a_cost_side_key_names_the_missing_key(key: str) -> None:
    data = deal_dict()
    node = data["deal"]
    *parents, last = key.split(".")
    for part in parents:
        node = node[part]
    del node[last]
    message = _error(data)
    assert message.startswith(f"bad.yaml: deal.{key}: required key is missing"), message


def test_a_private_deployment_needs_its_operations_cost() -> None:
    data = deal_dict(
        deal__deployment={"kind": "private", "hardware_capex_usd": 1e5, "amortization_months": 36}
    )
    assert _error(data).startswith(
        "bad.yaml: deal.deployment.operations_usd_per_month: required key is missing"
    )


# --- serialization -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "product", ["tob_price_war_bid", "tob_private_coding_assistant", "maas_price_war"]
)
def test_business_scenarios_serialize_without_a_pydantic_warning(
    product: str, tmp_path: Path
) -> None:
    import warnings

    s = tcpmf.load(PRODUCTS / f"{product}.yaml")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dumped = s.model_dump()
        s.model_dump_json()
    assert dumped["retention"] is None and dumped["usage"] is None
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tcpmf",
            "export",
            str(PRODUCTS / f"{product}.yaml"),
            "--csv",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Warning" not in proc.stderr and "PydanticSerialization" not in proc.stderr, proc.stderr


# --- terminal tables ---------------------------------------------------------------------------------


def test_the_tables_show_the_deal_columns() -> None:
    env = {**__import__("os").environ, "COLUMNS": "400"}
    bid, toc = str(PRODUCTS / "tob_price_war_bid.yaml"), str(PRODUCTS / "writing_assistant.yaml")
    run = [sys.executable, "-m", "tcpmf"]
    proc = subprocess.run(
        [*run, "breakeven", bid, toc], capture_output=True, text=True, check=False, env=env
    )
    assert proc.returncode == 0, proc.stderr
    assert "deal margin $" in proc.stdout and "deals/yr needed" in proc.stdout
    proc = subprocess.run(
        [*run, "breakeven", toc], capture_output=True, text=True, check=False, env=env
    )
    assert (
        proc.returncode == 0 and "deal margin" not in proc.stdout
    )  # no ToB row: the consumer table only
    proc = subprocess.run(
        [*run, "deals", bid], capture_output=True, text=True, check=False, env=env
    )
    assert proc.returncode == 0 and "human to model cost" in proc.stdout
