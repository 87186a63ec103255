"""Loading, extends, annotations, currency and override."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import tcpmf
from tcpmf.catalog import prices as catalog


def test_override_returns_a_validated_copy(valid_scenario_file: Path) -> None:
    s = tcpmf.load(valid_scenario_file)
    t = s.override({"usage.sessions_per_day": 4, "revenue.subscription.paid_share": 0.1})
    assert t.revenue.subscription is not None
    assert t.usage.sessions_per_day == 4 and t.revenue.subscription.paid_share == 0.1
    assert s.usage.sessions_per_day == 2  # unchanged
    with pytest.raises(tcpmf.AssumptionError) as info:
        s.override({"revenue.subscription.paid_share": 1.5})
    assert info.value.file == "<override>"
    assert info.value.key_path == "revenue.subscription.paid_share"


def test_extends_deep_merges_and_child_wins(
    yaml_writer: Callable[[str, Any], Path], valid_scenario_dict: dict[str, Any]
) -> None:
    yaml_writer("base.yaml", valid_scenario_dict)
    child = yaml_writer(
        "child.yaml",
        {"extends": "base.yaml", "name": "child", "usage": {"sessions_per_day": 5}},
    )
    s = tcpmf.load(child)
    assert s.name == "child"
    assert s.usage.sessions_per_day == 5
    assert s.usage.dau_per_mau == valid_scenario_dict["usage"]["dau_per_mau"]


def test_annotations_record_sources_and_cny_converts(
    yaml_writer: Callable[[str, Any], Path], valid_scenario_dict: dict[str, Any]
) -> None:
    valid_scenario_dict["usage"]["dau_per_mau"] = {"value": 0.14, "source": "Sequoia, 2023-09"}
    valid_scenario_dict["costs"]["fixed_usd_per_month"] = {
        "value": 72000,
        "currency": "CNY",
        "assumed": "a team",
    }
    s = tcpmf.load(yaml_writer("s.yaml", valid_scenario_dict))
    assert s.usage.dau_per_mau == 0.14
    assert s.sources["usage.dau_per_mau"] == "source: Sequoia, 2023-09"
    assert s.sources["costs.fixed_usd_per_month"].startswith("assumed:")
    rate = catalog.cny_per_usd(s.start_month)
    assert s.costs.fixed_usd_per_month == pytest.approx(72000 / rate)


def test_cny_and_usd_inputs_give_the_same_costs(valid_scenario_dict: dict[str, Any]) -> None:
    rate = catalog.cny_per_usd(valid_scenario_dict["start_month"])
    usd = tcpmf.from_dict(valid_scenario_dict)
    valid_scenario_dict["costs"]["fixed_usd_per_month"] = {"value": 50000 * rate, "currency": "CNY"}
    cny = tcpmf.from_dict(valid_scenario_dict)
    a, b = tcpmf.evaluate(usd).monthly, tcpmf.evaluate(cny).monthly
    assert a["cash_usd"].to_numpy() == pytest.approx(b["cash_usd"].to_numpy())


def test_catalog_price_in_force_at_start_month_prices_the_tokens(
    valid_scenario_dict: dict[str, Any],
) -> None:
    del (
        valid_scenario_dict["model"]["usd_per_mtok_in"],
        valid_scenario_dict["model"]["usd_per_mtok_out"],
    )
    valid_scenario_dict["start_month"] = "2024-06"
    summary = tcpmf.evaluate(tcpmf.from_dict(valid_scenario_dict)).monthly
    assert summary["usd_per_mtok_in"].iloc[0] == 5.0 and summary["usd_per_mtok_out"].iloc[0] == 15.0


def test_cached_input_uses_the_catalog_cached_price(valid_scenario_dict: dict[str, Any]) -> None:
    model = valid_scenario_dict["model"]
    del model["usd_per_mtok_in"], model["usd_per_mtok_out"]
    model["cached_input_share"] = 0.5
    valid_scenario_dict["start_month"] = "2025-01"
    price = catalog.model_price("gpt-4o", "2025-01")
    assert price.usd_per_mtok_cached_in is not None
    monthly = tcpmf.evaluate(tcpmf.from_dict(valid_scenario_dict)).monthly
    expected = 0.5 * price.usd_per_mtok_in + 0.5 * price.usd_per_mtok_cached_in
    assert monthly["usd_per_mtok_in"].iloc[0] == pytest.approx(expected)


def test_self_host_cost_follows_the_gpu_formula(valid_scenario_dict: dict[str, Any]) -> None:
    valid_scenario_dict["model"] = {
        "route": "self_host",
        "name": "llama-3.1-8b",
        "self_host": {
            "gpu": "h100-sxm",
            "gpus_per_replica": 2,
            "output_tokens_per_s_per_replica": 4000.0,
            "input_tokens_per_s_per_replica": 40000.0,
            "utilization": 0.5,
            "usd_per_gpu_hour": 3.0,
        },
    }
    monthly = tcpmf.evaluate(tcpmf.from_dict(valid_scenario_dict)).monthly
    assert monthly["usd_per_mtok_out"].iloc[0] == pytest.approx(3.0 * 2 / (3600 * 4000 * 0.5) * 1e6)
    assert monthly["usd_per_mtok_in"].iloc[0] == pytest.approx(3.0 * 2 / (3600 * 40000 * 0.5) * 1e6)


def test_explicit_prices_need_a_cached_price_factor_for_a_cached_share(
    valid_scenario_dict: dict[str, Any],
) -> None:
    valid_scenario_dict["model"]["cached_input_share"] = 0.5
    with pytest.raises(tcpmf.AssumptionError, match="cached_input_price_factor") as info:
        tcpmf.from_dict(valid_scenario_dict)
    assert info.value.key_path == "model.cached_input_share"
    valid_scenario_dict["model"]["cached_input_price_factor"] = 0.5
    monthly = tcpmf.evaluate(tcpmf.from_dict(valid_scenario_dict)).monthly
    assert monthly["usd_per_mtok_in"].iloc[0] == pytest.approx(2.5 * 0.5 + 2.5 * 0.5 * 0.5)


def test_self_host_refuses_explicit_token_prices(valid_scenario_dict: dict[str, Any]) -> None:
    valid_scenario_dict["model"].update(
        route="self_host",
        self_host={
            "gpu": "h100-sxm",
            "output_tokens_per_s_per_replica": 1000.0,
            "input_tokens_per_s_per_replica": 10000.0,
            "utilization": 0.5,
        },
    )
    with pytest.raises(tcpmf.AssumptionError, match="self_host route") as info:
        tcpmf.from_dict(valid_scenario_dict)
    assert info.value.key_path == "model.usd_per_mtok_in"


def test_catalog_files_validate_on_the_command_line(
    yaml_writer: Callable[[str, Any], Path],
) -> None:
    from tcpmf.catalog.prices import validate_file

    good = yaml_writer(
        "fx.yaml", {"cny_per_usd": [{"date": "2024-01", "cny_per_usd": 7.2, "source": "a source"}]}
    )
    assert validate_file(good) == "cny_per_usd"
    bad = yaml_writer(
        "fx2.yaml", {"cny_per_usd": [{"date": "2024-01", "cny_per_usd": 72, "source": "a source"}]}
    )
    with pytest.raises(tcpmf.AssumptionError) as info:
        validate_file(bad)
    assert info.value.key_path == "cny_per_usd.0.cny_per_usd" and info.value.value == 72


def test_a_child_file_may_switch_the_retention_curve(
    yaml_writer: Callable[[str, Any], Path], valid_scenario_dict: dict[str, Any]
) -> None:
    valid_scenario_dict["retention"] = {"curve": "sbg", "alpha": 0.7, "beta": 1.2}
    yaml_writer("base.yaml", valid_scenario_dict)
    child = yaml_writer(
        "child.yaml",
        {"extends": "base.yaml", "retention": {"curve": "power_law", "r1": 0.3, "beta": 0.5}},
    )
    assert tcpmf.load(child).retention.curve == "power_law"
    s = tcpmf.from_dict(valid_scenario_dict)
    switched = s.override(
        {
            "retention.curve": "plateau",
            "retention.r1": 0.4,
            "retention.floor": 0.1,
            "retention.tau": 3,
        }
    )
    assert switched.retention.curve == "plateau"
    with pytest.raises(tcpmf.AssumptionError) as info:
        s.override({"retention.curve": "plateau", "retention.r1": 0.4})
    assert info.value.file == "<override>" and info.value.key_path in (
        "retention.floor",
        "retention.tau",
    )


@pytest.mark.parametrize(
    ("text", "key", "phrase"),
    [
        ("start_month: 2024-06-01\n", "start_month", "not a full date"),
        ("usage:\n  dau_per_mau: 0.2\n  dau_per_mau: 0.3\n", "", "duplicate key 'dau_per_mau'"),
        (
            "revenue: {subscription: {paid_share: '4%'}}\n",
            "revenue.subscription.paid_share",
            "0.04 for 4%",
        ),
        ("start_month: '2023-01'\n", "start_month", "on or after 2024-05"),
    ],
)
def test_plausible_mistakes_get_pointed_messages(
    yaml_writer: Callable[[str, Any], Path],
    valid_scenario_dict: dict[str, Any],
    text: str,
    key: str,
    phrase: str,
) -> None:
    del (
        valid_scenario_dict["model"]["usd_per_mtok_in"],
        valid_scenario_dict["model"]["usd_per_mtok_out"],
    )
    yaml_writer("base.yaml", valid_scenario_dict)
    child = yaml_writer("child.yaml", "extends: base.yaml\n" + text)
    with pytest.raises(tcpmf.AssumptionError) as info:
        tcpmf.load(child)
    assert info.value.key_path == key and phrase in info.value.message
    assert "child.yaml" in info.value.message


def test_a_catalog_file_is_not_taken_for_a_scenario() -> None:
    from tcpmf.core.yamlio import assumptions_dir

    with pytest.raises(tcpmf.AssumptionError, match="catalog file"):
        tcpmf.load(assumptions_dir() / "catalog" / "gpus.yaml")
