"""Fuzz the bundled product files (issue 15): every outcome is finite results or an AssumptionError
naming a key path — never another exception, never a warning leaking to the terminal.

Each example takes one bundled product, picks one of its numeric keys and replaces it by a hostile
value (wrong type, NaN/inf, extremes, a huge integer, a distribution, a CNY amount), then loads and
evaluates it with every warning turned into an error.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tcpmf
from tcpmf.core.sections import SMALLEST_NONZERO
from tcpmf.core.yamlio import assumptions_dir

PRODUCTS = sorted((assumptions_dir() / "products").glob("*.yaml"))


def _numeric_keys(tree: Any, prefix: str = "") -> list[str]:
    out: list[str] = []
    if isinstance(tree, dict):
        if "value" in tree and isinstance(tree["value"], (int, float)) and not isinstance(tree["value"], bool):
            return [prefix]
        for key, value in tree.items():
            out += _numeric_keys(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(tree, (int, float)) and not isinstance(tree, bool):
        out.append(prefix)
    return out


_LOADED = {path.name: tcpmf.load(path) for path in PRODUCTS}
_KEYS = {name: _numeric_keys(s._raw) for name, s in _LOADED.items()}

hostile = st.one_of(
    st.sampled_from([math.nan, math.inf, -math.inf, -1, 0, 10**400, 10**5000, -(10**5000), 1e308, "x", "1,200",
                     "12%", None, True, [], {}, [1, 2], {"a": 1}]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([5e-324, -5e-324, 1e-300, 1e-200, 1e-100, 9.99e-101, 1e-30]),
    st.integers(-(10**30), 10**30),
    st.builds(lambda v: {"value": v, "currency": "CNY", "assumed": "fuzz"},
              st.one_of(st.floats(-1e30, 1e30), st.integers(-(10**400), 10**400))),
    st.builds(lambda lo, width: {"dist": "uniform", "low": lo, "high": lo + width},
              st.floats(-1e6, 1e6), st.floats(1e-6, 1e6)),
    st.builds(lambda m, sd: {"dist": "normal", "mean": m, "sd": sd}, st.floats(-1e6, 1e6), st.floats(1e-6, 1e6)),
    st.builds(lambda v: {"dist": "choice", "options": [v]}, st.floats(-1e9, 1e9)),
)


@given(data=st.data(), value=hostile)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_hostile_value_in_a_bundled_file_gives_finite_results_or_a_refusal_naming_its_key(
    data: st.DataObject, value: Any
) -> None:
    name = data.draw(st.sampled_from(sorted(_LOADED)), label="product")
    key = data.draw(st.sampled_from(_KEYS[name]), label="key")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            scenario = _LOADED[name].override({key: value})
            summary = tcpmf.evaluate(scenario).summary
        except tcpmf.AssumptionError as exc:
            assert exc.key_path, str(exc)
            assert str(exc).startswith(exc.file)
            return
    numbers = summary.select_dtypes("number").to_numpy(float)
    assert not np.isinf(numbers).any(), (name, key, value)


@pytest.mark.parametrize("name", sorted(_LOADED))
def test_every_bundled_file_offers_keys_to_fuzz(name: str) -> None:
    assert len(_KEYS[name]) >= 5


@pytest.mark.parametrize(
    ("name", "key", "value"),
    [
        ("ai_companion.yaml", "revenue.subscription.price_usd_per_month", 5e-324),
        ("ai_companion.yaml", "usage.sessions_per_day", 5e-324),
        ("ai_friends_selfhosted.yaml", "model.self_host.output_tokens_per_s_per_replica", 1e-300),
        ("ai_friends_selfhosted.yaml", "model.self_host.input_tokens_per_s_per_replica", 5e-324),
        ("tob_price_war_bid.yaml", "deal.seat_price_usd_per_month", 5e-324),
        ("tob_private_coding_assistant.yaml", "deal.win_rate", 5e-324),
    ],
)
def test_a_vanishing_positive_number_is_refused_naming_its_key_and_what_is_allowed(
    name: str, key: str, value: float
) -> None:
    """Issue 15 item 3: these passed validation, then overflowed in evaluate (numpy RuntimeWarning,
    then a refusal naming no key)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(tcpmf.AssumptionError) as info:
            _LOADED[name].override({key: value})
    assert info.value.key_path == key, str(info.value)
    assert f"at least {SMALLEST_NONZERO:g}" in info.value.allowed and "write 0" in info.value.allowed


@pytest.mark.parametrize("value", [0.0, SMALLEST_NONZERO])
def test_zero_and_the_smallest_allowed_number_evaluate_to_finite_results(value: float) -> None:
    key = "revenue.subscription.price_usd_per_month"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        summary = tcpmf.evaluate(_LOADED["ai_companion.yaml"].override({key: value})).summary
    numbers = summary.select_dtypes("number").to_numpy(float)
    assert np.isfinite(numbers[~np.isnan(numbers)]).all()


def test_a_distribution_reaching_a_vanishing_number_is_refused_at_load() -> None:
    with pytest.raises(tcpmf.AssumptionError, match="it can draw 1e-310") as info:
        _LOADED["ai_companion.yaml"].override({"usage.sessions_per_day": {"dist": "uniform", "low": 1e-310, "high": 1}})
    assert info.value.key_path == "usage.sessions_per_day"
