"""The dated catalogs: enough models, prices in force at a month, CNY conversion, close matches."""

from __future__ import annotations

import pytest

from tcpmf.catalog import prices as catalog


def test_catalog_has_enough_models_with_price_history() -> None:
    names = catalog.model_names()
    assert len(names) >= 25
    entries = catalog.models_catalog(catalog.assumptions_dir()).models
    changed = [name for name, entry in entries.items() if len(entry.prices) >= 2]
    for expected in ("gpt-4o", "gpt-3.5-turbo"):
        assert expected in changed
    assert any(name.startswith("deepseek") for name in changed)


def test_price_in_force_is_the_latest_record_on_or_before_the_month() -> None:
    launch = catalog.model_price("gpt-4o", "2024-06")
    assert (launch.usd_per_mtok_in, launch.usd_per_mtok_out) == (5.0, 15.0)
    later = catalog.model_price("gpt-4o", "2024-09")
    assert (later.usd_per_mtok_in, later.usd_per_mtok_out) == (2.5, 10.0)
    assert catalog.model_price("gpt-4o", "2030-01").date >= later.date


def test_a_month_before_the_first_record_is_refused() -> None:
    with pytest.raises(LookupError, match="2024-05"):
        catalog.model_price("gpt-4o", "2023-01")


def test_cny_prices_convert_at_the_rate_in_force_at_the_record_date() -> None:
    entries = catalog.models_catalog(catalog.assumptions_dir()).models
    name, record = next(
        (name, entry.prices[0])
        for name, entry in entries.items()
        if entry.prices[0].cny_per_mtok_in
    )
    price = catalog.model_price(name, record.date)
    rate = catalog.cny_per_usd(record.date)
    assert 6 < rate < 8
    assert record.cny_per_mtok_in is not None and record.cny_per_mtok_out is not None
    assert price.usd_per_mtok_in == pytest.approx(record.cny_per_mtok_in / rate)
    assert price.usd_per_mtok_out == pytest.approx(record.cny_per_mtok_out / rate)


def test_unknown_model_lists_close_matches() -> None:
    with pytest.raises(KeyError) as info:
        catalog.model_price("gpt4o-mini", "2025-01")
    assert "gpt-4o-mini" in str(info.value)


def test_gpu_catalog_has_the_cards_the_self_host_route_needs() -> None:
    names = catalog.gpu_names()
    for gpu in ("h100-sxm", "h800", "a100-80gb"):
        assert gpu in names
    assert len(names) >= 4
    rent = catalog.gpu_rent("h100-sxm", "2024-12")
    assert 1.0 < rent.usd_per_gpu_hour < 10.0
    assert rent.source
