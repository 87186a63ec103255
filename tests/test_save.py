"""Scenario.to_yaml / save: a saved scenario loads back equal (values, sources, uncertainties)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import _no_dust, scenarios

import tcpmf
from tcpmf.core.yamlio import assumptions_dir, read_yaml
from tcpmf.schema.scenario import Scenario

PRODUCTS = sorted((assumptions_dir() / "products").glob("*.yaml"))


@pytest.mark.parametrize("path", PRODUCTS, ids=[p.stem for p in PRODUCTS])
def test_every_bundled_product_round_trips(path: Path, tmp_path: Path) -> None:
    s = tcpmf.load(path)
    saved = s.save(tmp_path / "saved.yaml")
    back = tcpmf.load(saved)
    assert back == s
    assert back.model_dump() == s.model_dump()
    assert back.sources == s.sources and back.sources  # the bundled files annotate their numbers
    assert "extends" not in read_yaml(saved)  # self-contained
    assert (
        back.to_yaml().split("\n", 1)[1] == s.to_yaml().split("\n", 1)[1]
    )  # a fixed point (after the header)


def test_an_overridden_scenario_round_trips_with_its_new_values(tmp_path: Path) -> None:
    s = tcpmf.load(assumptions_dir() / "products" / "writing_assistant.yaml")
    moved = s.override(
        {
            "revenue.subscription.price_usd_per_month": 35.5,
            "costs.fixed_usd_per_month": 12345.0,
            "revenue.subscription.price_elasticity": 1.2,
        }
    )
    back = tcpmf.load(moved.save(tmp_path / "moved.yaml"))
    assert back == moved and back != s
    assert back.revenue.subscription is not None and s.revenue.subscription is not None
    assert back.revenue.subscription.price_usd_per_month == 35.5
    # the reference price stays the file's, so elasticity acts the same after reloading
    assert (
        back.revenue.subscription.reference_price_usd_per_month
        == s.revenue.subscription.price_usd_per_month
    )


def test_uncertain_values_and_cny_amounts_are_saved_as_given(tmp_path: Path) -> None:
    s = tcpmf.load(assumptions_dir() / "products" / "writing_assistant.yaml").override(
        {
            "usage.sessions_per_day": {
                "dist": "triangular",
                "low": 1,
                "mode": 2,
                "high": 5,
                "assumed": "a guess",
            },
            "costs.fixed_usd_per_month": {
                "value": 700000,
                "currency": "CNY",
                "source": "a budget, 2025",
            },
        }
    )
    back = tcpmf.load(s.save(tmp_path / "u.yaml"))
    assert back == s
    assert back.uncertainties.keys() == {"usage.sessions_per_day"}
    assert read_yaml(tmp_path / "u.yaml")["costs"]["fixed_usd_per_month"]["currency"] == "CNY"


def test_a_scenario_built_in_memory_saves_from_its_values(tmp_path: Path) -> None:
    s = tcpmf.load(assumptions_dir() / "products" / "answer_engine.yaml")
    bare = Scenario.model_validate(s.model_dump())
    back = tcpmf.load(bare.save(tmp_path / "bare.yaml"))
    assert back.model_dump() == s.model_dump()


@given(data=scenarios(), moved=st.floats(0.0, 1e6, allow_nan=False).map(_no_dust))
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_valid_scenario_round_trips(data: dict, moved: float, tmp_path: Path) -> None:
    s = tcpmf.from_dict(data).override({"costs.fixed_usd_per_month": moved})
    path = tmp_path / "h.yaml"
    back = tcpmf.load(s.save(path))
    assert back == s
    assert back.model_dump() == s.model_dump()
