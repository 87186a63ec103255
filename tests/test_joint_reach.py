"""Rules across keys on drawn inputs (tcpmf.schema.joint_reach): ``validate``/``load`` refuse up
front what ``run`` would refuse mid-batch, and nothing more.

For random distributions over pairs of keys bound by one rule: when the file is accepted,
``monte_carlo`` runs and every combination of the extremes the distributions can draw is
evaluated by the batch path without refusal; when it is refused, the refusal names a key, and
one of those combinations is refused by the batch path's own row check too.
"""

from __future__ import annotations

import copy
import itertools
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from fuzz_support import RELATED_PAIRS, drawn_value
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import tcpmf
from tcpmf.cli.main import app
from tcpmf.core.errors import AssumptionError
from tcpmf.core.yamlio import assumptions_dir
from tcpmf.schema.joint_reach import corners, reach
from tcpmf.schema.scenario import from_dict, validate_tree
from tcpmf.uncertainty.batch import evaluate_inputs

#: Pairs of keys one rule of ``_check_relations`` binds, on a bundled file that has the section.
RELATED: list[tuple[str, str, Any, str, Any]] = [
    (f"products/{name}", *rest) for name, *rest in RELATED_PAIRS
] + [
    (
        "competition/social.yaml",
        "competition.moat.active_users_weight",
        (0, 1, False),
        "competition.moat.brand_spend_weight",
        (0, 1, False),
    )
]


@st.composite
def related_cases(
    draw: st.DrawFn, pair: tuple[str, str, Any, str, Any]
) -> tuple[dict[str, Any], str, str]:
    """A bundled file's raw tree with random distributions on two keys one rule binds."""
    file, key_a, domain_a, key_b, domain_b = pair
    raw = copy.deepcopy(tcpmf.load(assumptions_dir() / file)._raw)
    for key, value in (
        (key_a, draw(drawn_value(domain_a, fixed=False))),
        (key_b, draw(drawn_value(domain_b, fixed=True))),
    ):
        node = raw
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return raw, key_a, key_b


def _corner_rows(s: tcpmf.Scenario) -> list[dict[str, Any]]:
    """Every combination of the extremes *s*'s distributions can draw, as batch input rows."""
    keys = sorted(s.uncertainties)
    return [
        dict(zip(keys, values))
        for values in itertools.product(*(reach(s.uncertainties[k]) for k in keys))
    ]


def _run_refuses(s: tcpmf.Scenario, row: dict[str, Any]) -> bool:
    frame = pd.DataFrame(
        {k: pd.Series([v], dtype=object if isinstance(v, str) else float) for k, v in row.items()}
    )
    try:
        evaluate_inputs(s, frame)
    except AssumptionError:
        return True
    return False


@pytest.mark.parametrize("pair", RELATED, ids=[f"{p[1]}~{p[3]}" for p in RELATED])
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_validate_refuses_exactly_what_a_run_would(
    pair: tuple[str, str, Any, str, Any], data: st.DataObject
) -> None:
    raw, key_a, key_b = data.draw(related_cases(pair))
    try:  # the checks of each key on its own (nominal values, each distribution's reach)
        unchecked = validate_tree(copy.deepcopy(raw), "case.yaml", {})
    except AssumptionError as exc:
        assert exc.key_path and exc.file == "case.yaml", exc
        event("refused key by key")
        return
    try:
        s = from_dict(raw, "case.yaml")
    except AssumptionError as exc:
        # refused by the joint check: it names a drawn key, and the batch path refuses a corner
        assert exc.file == "case.yaml" and exc.key_path in (key_a, key_b), exc
        assert any(_run_refuses(unchecked, row) for row in _corner_rows(unchecked)), exc
        event(f"refused jointly at {exc.key_path}")
        return
    assert s.uncertainties
    for row in _corner_rows(s):
        frame = pd.DataFrame(
            {
                k: pd.Series([v], dtype=object if isinstance(v, str) else float)
                for k, v in row.items()
            }
        )
        evaluate_inputs(s, frame, checked=s.uncertainties)  # as a run evaluates a drawn chunk
        assert not _run_refuses(s, row), row
    event(f"accepted ({key_a}, {key_b})")
    draws = tcpmf.monte_carlo(s, 16, seed=0)
    assert len(draws) == 16


def test_corners_move_the_fewest_keys_first_and_stay_within_the_budget() -> None:
    extremes = {f"k{i}": [0, 1] for i in range(10)}
    found = corners(extremes, budget=1000)
    sizes = [len(c) for c in found]
    assert sizes == sorted(sizes) and max(sizes) == 2  # 20 + 180 fit, 960 more do not
    assert len(found) == 20 + 45 * 4
    assert len(corners({f"k{i}": [0, 1] for i in range(5)})) == 3**5 - 1  # all of them


def _writer_with(tmp_path: Path, **keys: Any) -> Path:
    raw = copy.deepcopy(tcpmf.load(assumptions_dir() / "products/ai_companion.yaml")._raw)
    for dotted, value in keys.items():
        section, key = dotted.split("__")
        raw[section][key] = value
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def test_a_scenario_file_whose_floor_and_r1_ranges_overlap_is_refused_at_load(
    tmp_path: Path,
) -> None:
    path = _writer_with(
        tmp_path,
        retention__floor={"dist": "uniform", "low": 0.05, "high": 0.3, "assumed": "test"},
        retention__r1={"dist": "uniform", "low": 0.2, "high": 0.4, "assumed": "test"},
    )
    with pytest.raises(AssumptionError) as info:
        tcpmf.load(path)
    err = info.value
    assert err.file.endswith("case.yaml") and err.key_path == "retention.floor"
    for part in ("[0.05, 0.3]", "retention.r1's range [0.2, 0.4]", "a floor no higher than r1"):
        assert part in err.allowed
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output and "retention.r1's range" in result.output
    # disjoint ranges pass, and the run they allow refuses nothing
    ok = _writer_with(
        tmp_path,
        retention__floor={"dist": "uniform", "low": 0.05, "high": 0.2, "assumed": "test"},
        retention__r1={"dist": "uniform", "low": 0.2, "high": 0.4, "assumed": "test"},
    )
    assert CliRunner().invoke(app, ["validate", str(ok)]).exit_code == 0
    assert len(tcpmf.monte_carlo(ok, 20, seed=3)) == 20


def test_a_drawn_paid_budget_without_a_cac_is_refused_at_load(tmp_path: Path) -> None:
    path = _writer_with(
        tmp_path,
        growth__paid_budget_usd_per_month={"dist": "choice", "options": [0, 1000], "base": 0},
        growth__cac_usd=None,
    )
    with pytest.raises(AssumptionError) as info:
        tcpmf.load(path)
    assert info.value.key_path == "growth.paid_budget_usd_per_month"
    assert "growth.cac_usd must be a positive cost per acquired user" in info.value.allowed


def test_a_portfolio_names_its_entry_and_both_keys(tmp_path: Path) -> None:
    data = {
        "name": "t",
        "products": [
            {
                "scenario": str(assumptions_dir() / "products/tob_private_coding_assistant.yaml"),
                "uncertain": {
                    "deal.seat_price_usd_per_month": {"dist": "uniform", "low": 0, "high": 40},
                    "deal.project_fee_usd": {
                        "dist": "uniform",
                        "low": 0,
                        "high": 50000,
                        "base": 20000,
                    },
                },
            }
        ],
    }
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(AssumptionError) as info:
        tcpmf.load_portfolio(path)
    err = info.value
    assert err.file.endswith("p.yaml")
    assert err.key_path == "products.0.uncertain.deal.seat_price_usd_per_month"
    assert err.value == {"dist": "uniform", "low": 0, "high": 40}
    assert "deal.project_fee_usd's range [0, 50000]" in err.allowed
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 1 and "Traceback" not in result.output
