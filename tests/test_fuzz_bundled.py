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
    # tiny positive numbers (5e-324, 1e-300) are issue 15 item 3, not yet fixed: see the xfail test below
    st.floats(allow_nan=True, allow_infinity=True).filter(lambda v: not 0 < abs(v) < 1e-100),
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


@pytest.mark.xfail(strict=True, reason="issue 15 item 3: a tiny positive price overflows the engine (numpy RuntimeWarning, "
                   "then a refusal naming no key); the schema should bound it or the engine name the input")
def test_a_tiny_positive_price_is_refused_naming_its_key_or_gives_finite_results() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            scenario = _LOADED["ai_companion.yaml"].override({"revenue.subscription.price_usd_per_month": 5e-324})
            summary = tcpmf.evaluate(scenario).summary
        except tcpmf.AssumptionError as exc:
            assert exc.key_path == "revenue.subscription.price_usd_per_month", str(exc)
            return
    assert np.isfinite(summary.select_dtypes("number").to_numpy(float)[~summary.select_dtypes("number").isna().to_numpy()]).all()
