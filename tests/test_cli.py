"""The command line: breakeven, timeline, show, validate and schema."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import tcpmf
from tcpmf.cli.main import BREAKEVEN_KEYS, app
from tcpmf.core.yamlio import assumptions_dir

runner = CliRunner()
PRODUCTS = sorted((assumptions_dir() / "products").glob("*.yaml"))


def test_breakeven_json_has_the_contract_keys_for_every_bundled_product() -> None:
    result = runner.invoke(app, ["breakeven", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == len(PRODUCTS) >= 8
    for row in rows:
        assert tuple(row) == (
            *BREAKEVEN_KEYS,
            "verdict_note",
        )  # the note comes after the contract keys
        assert isinstance(row["verdict_note"], str)
        assert row["segment"] in ("toc", "tob")
        assert isinstance(row["clears_break_even"], bool)
        assert row["tcpmf_month"] is None or isinstance(row["tcpmf_month"], int)
    for key in (
        "contribution_usd_per_mau_m0",
        "gross_margin_m0",
        "ltv_usd",
        "ltv_to_cac",
        "cac_payback_month",
        "breakeven_month",
        "payback_month",
        "peak_funding_usd",
        "max_affordable_usd_per_mtok",
    ):
        assert key in BREAKEVEN_KEYS
    assert BREAKEVEN_KEYS[-2:] == ("deal_margin_usd", "deals_to_break_even")  # ToB keys appended
    deal_rows = {tcpmf.load(p).name for p in PRODUCTS if tcpmf.load(p).kind == "deal"}
    assert deal_rows
    for row in rows:
        assert (row["deal_margin_usd"] is not None) == (row["product"] in deal_rows)


def test_breakeven_table_names_every_product() -> None:
    result = runner.invoke(app, ["breakeven", *map(str, PRODUCTS)], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    assert "clears" in result.stdout and "TC-PMF" in result.stdout
    for path in PRODUCTS:
        assert tcpmf.load(path).name in result.stdout


def test_na_is_null_in_json(valid_scenario_dict: dict, yaml_writer) -> None:  # type: ignore[no-untyped-def]
    valid_scenario_dict["model"].update(
        usd_per_mtok_in=500.0, usd_per_mtok_out=500.0, annual_cost_decline=1.0
    )
    path = yaml_writer("hopeless.yaml", valid_scenario_dict)
    rows = json.loads(runner.invoke(app, ["breakeven", "--json", str(path)]).stdout)
    assert rows[0]["tcpmf_month"] is None and rows[0]["payback_month"] is None
    assert rows[0]["clears_break_even"] is False


def test_timeline_json_lists_the_six_categories_in_stage_order() -> None:
    result = runner.invoke(app, ["timeline", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["category"] for r in rows] == [
        "productivity",
        "entertainment",
        "search",
        "ecommerce",
        "social",
        "short_video",
    ]
    assert [r["predicted_stage"] for r in rows] == sorted(r["predicted_stage"] for r in rows)


def test_show_csv_has_one_row_per_month(valid_scenario_file: Path) -> None:
    result = runner.invoke(app, ["show", "--csv", str(valid_scenario_file)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("scenario,month,calendar_month")
    assert len(lines) == 1 + 36


def test_validate_reports_each_file_and_fails_on_a_bad_one(
    valid_scenario_file: Path, yaml_writer
) -> None:  # type: ignore[no-untyped-def]
    bad = yaml_writer("bad.yaml", "name: x\nusage: [1, 2\n")
    result = runner.invoke(app, ["validate", str(valid_scenario_file), str(bad)])
    assert result.exit_code == 1
    assert (
        "ok" in result.stderr and "bad.yaml" in result.stderr and "not valid YAML" in result.stderr
    )
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command", ["validate", "breakeven"])
def test_a_cny_amount_too_large_for_a_float_is_refused_without_traceback(
    command: str, valid_scenario_dict: dict, yaml_writer
) -> None:  # type: ignore[no-untyped-def]
    valid_scenario_dict["costs"]["fixed_usd_per_month"] = {
        "value": 10**400,
        "currency": "CNY",
        "assumed": "x",
    }
    path = yaml_writer("huge.yaml", valid_scenario_dict)
    proc = subprocess.run(
        [sys.executable, "-m", "tcpmf", command, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "huge.yaml: costs.fixed_usd_per_month = 1000" in proc.stderr
    assert "a finite amount of CNY" in proc.stderr


@pytest.mark.parametrize("command", ["breakeven", "show"])
def test_a_bad_file_exits_nonzero_with_one_clean_message(
    command: str, valid_scenario_dict: dict, yaml_writer
) -> None:  # type: ignore[no-untyped-def]
    valid_scenario_dict["usage"]["dau_per_mau"] = 1.4
    path = yaml_writer("bad.yaml", valid_scenario_dict)
    proc = subprocess.run(
        [sys.executable, "-m", "tcpmf", command, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "bad.yaml: usage.dau_per_mau = 1.4" in proc.stderr
    assert proc.stdout == ""


def test_schema_command_prints_json() -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["title"] == "tcpmf scenario"
