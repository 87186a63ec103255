"""Fuzz the bundled product files (issue 15): every outcome is finite results or an AssumptionError
naming a key path — never another exception, never a warning leaking to the terminal, never a NaN.

Each example takes one bundled product and overrides it with a hostile value, an unknown key, a
hostile section or two hostile values (``tests/fuzz_support.py``, shared with the nightly-size
``benchmarks/bench_fuzz.py``), then loads and evaluates it with every warning turned into an error.
"""

from __future__ import annotations

import math
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fuzz_support import (
    GOOD,
    all_mutations,
    classify,
    cli_outcome,
    describe,
    keys,
    loaded,
    write_case,
)
from hypothesis import HealthCheck, given, settings

import tcpmf
from tcpmf.core.sections import SMALLEST_NONZERO

_LOADED = loaded()
_KEYS = keys()


@given(case=all_mutations())
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_hostile_value_in_a_bundled_file_gives_finite_results_or_a_refusal_naming_its_key(
    case: tuple[str, dict[str, Any]],
) -> None:
    outcome, detail = classify(*case)
    assert outcome in GOOD, (outcome, detail, describe(case))


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
    assert (
        f"at least {SMALLEST_NONZERO:g}" in info.value.allowed and "write 0" in info.value.allowed
    )


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
        _LOADED["ai_companion.yaml"].override(
            {"usage.sessions_per_day": {"dist": "uniform", "low": 1e-310, "high": 1}}
        )
    assert info.value.key_path == "usage.sessions_per_day"


# --------------------------------------------------------------------------- the same classes at the CLI
_CLI_CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "vanishing seat price": ("tob_price_war_bid.yaml", {"deal.seat_price_usd_per_month": 5e-324}),
    "vanishing throughput": (
        "ai_friends_selfhosted.yaml",
        {"model.self_host.output_tokens_per_s_per_replica": 1e-300},
    ),
    "vanishing sessions": ("ai_companion.yaml", {"usage.sessions_per_day": 5e-324}),
    "NaN": ("ai_companion.yaml", {"usage.sessions_per_day": math.nan}),
    "infinity": ("coding_helper.yaml", {"costs.fixed_usd_per_month": math.inf}),
    "integer too large for a float": ("ai_companion.yaml", {"usage.requests_per_session": 10**400}),
    "integer of 5,000 digits": ("ai_companion.yaml", {"usage.requests_per_session": 10**5000}),
    "text": ("writing_assistant.yaml", {"usage.dau_per_mau": "12%"}),
    "list": ("writing_assistant.yaml", {"usage.dau_per_mau": [1, 2]}),
    "huge CNY": (
        "ai_companion.yaml",
        {"costs.fixed_usd_per_month": {"value": 10**400, "currency": "CNY", "assumed": "fuzz"}},
    ),
    "distribution out of range": (
        "ai_companion.yaml",
        {"usage.dau_per_mau": {"dist": "uniform", "low": -1, "high": 2}},
    ),
    "unknown key": ("ai_companion.yaml", {"usage.sesions_per_day": 3}),
    "drawn ranges that break a rule together": (
        "ai_companion.yaml",
        {
            "retention.floor": {"dist": "uniform", "low": 0.05, "high": 0.25},
            "retention.r1": {"dist": "uniform", "low": 0.2, "high": 0.4},
        },
    ),
    "section replaced": ("ai_companion.yaml", {"usage": "x"}),
}


@pytest.mark.parametrize("command", ["validate", "breakeven"])
@pytest.mark.parametrize("case", sorted(_CLI_CASES))
def test_the_cli_refuses_each_class_of_hostile_input_naming_its_key_without_traceback(
    case: str, command: str, tmp_path: Path
) -> None:
    name, overrides = _CLI_CASES[case]
    assert classify(name, overrides)[0] == "refused"  # in-process, as the fuzz test sees it
    outcome, detail = cli_outcome(command, write_case(tmp_path, 0, name, overrides))
    assert outcome == "refused", (outcome, detail)
    key = next(iter(overrides))
    assert key.split(".")[0] in detail or "at line" in detail, detail


@given(case=all_mutations())
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_fuzzed_files_at_the_cli_give_results_or_one_message_naming_a_key(
    case: tuple[str, dict[str, Any]],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        outcome, detail = cli_outcome("breakeven", write_case(Path(folder), 0, *case))
    assert outcome in GOOD, (outcome, detail, describe(case))
