"""Shared pytest fixtures."""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import settings

# In CI (CI=true) hypothesis draws the same examples on every run, so a result never depends on
# the luck of the draw; locally each run explores new examples.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

# --- loader fixtures (tests/test_bad_input.py, tests/test_fuzz_loader.py) ----------------------

# A minimal valid scenario.  The model prices are explicit, so loading it needs no catalog data.
_VALID_SCENARIO: dict[str, Any] = {
    "name": "minimal valid scenario",
    "category": "productivity",
    "start_month": "2025-01",
    "model": {"route": "api", "name": "gpt-4o", "usd_per_mtok_in": 2.5, "usd_per_mtok_out": 10},
    "usage": {
        "dau_per_mau": 0.14,
        "sessions_per_day": 2,
        "requests_per_session": 3,
        "input_tokens_per_call": 1500,
        "output_tokens_per_call": 400,
    },
    "revenue": {"subscription": {"price_usd_per_month": 20, "paid_share": 0.05}},
    "retention": {"curve": "power_law", "r1": 0.45, "beta": 0.35},
    "growth": {"organic_new_users_per_month": 10000, "monthly_growth": 0.02},
    "costs": {"fixed_usd_per_month": 50000, "other_variable_usd_per_mau": 0.05},
}


@pytest.fixture
def valid_scenario_dict() -> dict[str, Any]:
    """A fresh deep copy of a minimal valid scenario, free to mutate."""
    return copy.deepcopy(_VALID_SCENARIO)


@pytest.fixture
def yaml_writer(tmp_path: Path) -> Callable[[str, Any], Path]:
    """``yaml_writer(name, data)`` writes *data* (a str is written as is) to ``tmp_path/name``."""

    def write(name: str, data: Any) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        text = data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False)
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def valid_scenario_file(
    yaml_writer: Callable[[str, Any], Path], valid_scenario_dict: dict[str, Any]
) -> Path:
    """The minimal valid scenario written to ``tmp_path/scenario.yaml``."""
    return yaml_writer("scenario.yaml", valid_scenario_dict)
