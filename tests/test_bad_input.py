"""Every bad assumption file ends with one clear message: file, key path, value, what is allowed.

Each test writes one bad scenario and checks that :func:`tcpmf.load` raises
:class:`tcpmf.AssumptionError` whose message ``FILE: KEY.PATH = VALUE: allowed`` names all four.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

import tcpmf
from tcpmf.core.yamlio import assumptions_dir

_ABSENT = object()

Writer = Callable[[str, Any], Path]


def set_key(tree: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    """Set ``tree[a][b][c] = value`` for ``dotted == "a.b.c"``, creating sections; returns *tree*."""
    *parents, last = dotted.split(".")
    node = tree
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value
    return tree


def load_error(path: Path | str) -> tcpmf.AssumptionError:
    with pytest.raises(tcpmf.AssumptionError) as info:
        tcpmf.load(path)
    return info.value


def check(
    err: tcpmf.AssumptionError,
    *,
    file: str,
    key_path: str,
    allowed: str,
    value: Any = _ABSENT,
    shown: str | None = None,
) -> None:
    """Assert *err* names *file*, *key_path*, *value* (shown as *shown*) and the *allowed* phrase."""
    msg = str(err)
    assert msg == err.message
    assert "Traceback" not in msg
    assert msg.startswith(err.file), msg
    assert Path(err.file).name == file or err.file == file, msg
    assert file in msg
    assert err.key_path == key_path, msg
    if key_path:
        assert f"{err.file}: {key_path}" in msg
    if value is not _ABSENT:
        if isinstance(value, float) and math.isnan(value):
            assert isinstance(err.value, float) and math.isnan(err.value), msg
        else:
            assert err.value == value, msg
        assert f" = {shown if shown is not None else repr(value)}" in msg, msg
    assert allowed.lower() in msg.lower(), msg


def write_with(write: Writer, scenario: dict[str, Any], dotted: str, value: Any) -> Path:
    return write("scenario.yaml", set_key(scenario, dotted, value))


# --- sanity -------------------------------------------------------------------------------------


def test_valid_scenario_loads(valid_scenario_file: Path) -> None:
    s = tcpmf.load(valid_scenario_file)
    assert s.category == "productivity"
    assert s.model.usd_per_mtok_out == 10
    assert s.file.endswith("scenario.yaml")


# --- unknown keys, wrong types, bounds ----------------------------------------------------------


def test_unknown_key(yaml_writer: Writer, valid_scenario_dict: dict[str, Any]) -> None:
    path = write_with(yaml_writer, valid_scenario_dict, "usage.sessions_per_dya", 2)
    err = load_error(path)
    check(
        err, file="scenario.yaml", key_path="usage.sessions_per_dya", value=2, allowed="unknown key"
    )
    assert "did you mean sessions_per_day" in str(err)
    assert "allowed here:" in str(err)


def test_unknown_top_level_key(yaml_writer: Writer, valid_scenario_dict: dict[str, Any]) -> None:
    path = write_with(yaml_writer, valid_scenario_dict, "catgory", "search")
    err = load_error(path)
    check(err, file="scenario.yaml", key_path="catgory", value="search", allowed="unknown key")
    assert "category" in str(err)


def test_wrong_type(yaml_writer: Writer, valid_scenario_dict: dict[str, Any]) -> None:
    path = write_with(yaml_writer, valid_scenario_dict, "usage.sessions_per_day", "two")
    check(
        load_error(path),
        file="scenario.yaml",
        key_path="usage.sessions_per_day",
        value="two",
        allowed="must be a number in [0, 1e+06]",
    )


def test_bool_is_not_a_number(yaml_writer: Writer, valid_scenario_dict: dict[str, Any]) -> None:
    path = write_with(yaml_writer, valid_scenario_dict, "usage.sessions_per_day", True)
    check(
        load_error(path),
        file="scenario.yaml",
        key_path="usage.sessions_per_day",
        value=True,
        allowed="a valid number",
    )


@pytest.mark.parametrize("rate", [1.4, -0.1])
def test_rate_outside_unit_interval(
    yaml_writer: Writer, valid_scenario_dict: dict[str, Any], rate: float
) -> None:
    path = write_with(yaml_writer, valid_scenario_dict, "usage.dau_per_mau", rate)
    check(
        load_error(path),
        file="scenario.yaml",
        key_path="usage.dau_per_mau",
        value=rate,
        allowed="must be a number in [0, 1]",
    )


def test_negative_price(yaml_writer: Writer, valid_scenario_dict: dict[str, Any]) -> None:
    key = "revenue.subscription.price_usd_per_month"
    path = write_with(yaml_writer, valid_scenario_dict, key, -5)
    check(
        load_error(path),
        file="scenario.yaml",
        key_path=key,
        value=-5,
        allowed="must be a number in [0, 1e+06]",
    )


def test_negative_model_price(yaml_writer: Writer, valid_scenario_dict: dict[str, Any]) -> None:
    path = write_with(yaml_writer, valid_scenario_dict, "model.usd_per_mtok_in", -2.5)
    check(
        load_error(path),
        file="scenario.yaml",
        key_path="model.usd_per_mtok_in",
        value=-2.5,
        allowed="must be a number in [0, 1e+06]",
    )


def test_negative_count(yaml_writer: Writer, valid_scenario_dict: dict[str, Any]) -> None:
    path = write_with(yaml_writer, valid_scenario_dict, "usage.sessions_per_day", -1)
    check(
        load_error(path),
        file="scenario.yaml",
        key_path="usage.sessions_per_day",
        value=-1,
        allowed="must be a number in [0, 1e+06]",
    )


def test_negative_user_count(yaml_writer: Writer, valid_scenario_dict: dict[str, Any]) -> None:
    path = write_with(yaml_writer, valid_scenario_dict, "growth.organic_new_users_per_month", -10)
    check(
        load_error(path),
        file="scenario.yaml",
        key_path="growth.organic_new_users_per_month",
        value=-10,
        allowed="must be a number in [0, 1e+10]",
    )


def test_huge_number(yaml_writer: Writer, valid_scenario_dict: dict[str, Any]) -> None:
    path = write_with(yaml_writer, valid_scenario_dict, "usage.input_tokens_per_call", 1e300)
    check(
        load_error(path),
        file="scenario.yaml",
        key_path="usage.input_tokens_per_call",
        value=1e300,
        allowed="must be a number in [0, 1e+08]",
    )


def test_missing_required_key(yaml_writer: Writer, valid_scenario_dict: dict[str, Any]) -> None:
    del valid_scenario_dict["usage"]["dau_per_mau"]
    path = yaml_writer("scenario.yaml", valid_scenario_dict)
    check(
        load_error(path),
        file="scenario.yaml",
        key_path="usage.dau_per_mau",
        allowed="required key is missing",
    )


@pytest.mark.parametrize("text, shown", [(".nan", "nan"), (".inf", "inf"), ("-.inf", "-inf")])
def test_nan_and_inf(
    yaml_writer: Writer, valid_scenario_dict: dict[str, Any], text: str, shown: str
) -> None:
    path = write_with(
        yaml_writer, valid_scenario_dict, "usage.output_tokens_per_call", float(shown)
    )
    assert text in path.read_text(encoding="utf-8")
    check(
        load_error(path),
        file="scenario.yaml",
        key_path="usage.output_tokens_per_call",
        value=float(shown),
        shown=shown,
        allowed="finite number",
    )


def test_nan_in_annotated_value(yaml_writer: Writer, valid_scenario_dict: dict[str, Any]) -> None:
    annotated = {"value": float("nan"), "source": "a survey"}
    path = write_with(
        yaml_writer, valid_scenario_dict, "revenue.subscription.paid_share", annotated
    )
    check(
        load_error(path),
        file="scenario.yaml",
        key_path="revenue.subscription.paid_share",
        value=float("nan"),
        shown="nan",
        allowed="finite number",
    )


def test_list_where_mapping_expected(
    yaml_writer: Writer, valid_scenario_dict: dict[str, Any]
) -> None:
    path = write_with(yaml_writer, valid_scenario_dict, "usage", [0.14, 2, 3])
    check(
        load_error(path),
        file="scenario.yaml",
        key_path="usage",
        value=[0.14, 2, 3],
        allowed="a mapping of keys to values (keys: calls_per_request, dau_per_mau,",
    )


def test_scalar_where_mapping_expected(
    yaml_writer: Writer, valid_scenario_dict: dict[str, Any]
) -> None:
    path = write_with(yaml_writer, valid_scenario_dict, "retention", "power_law")
    check(
        load_error(path),
        file="scenario.yaml",
        key_path="retention",
        value="power_law",
        allowed="a mapping of keys to values (keys: alpha, beta, curve,",
    )


def test_exponent_without_dot_is_text_in_yaml(
    yaml_writer: Writer, valid_scenario_dict: dict[str, Any]
) -> None:
    """YAML 1.1 reads 3e5 as text; the message says how to write the number."""
    text = yaml_writer("x.yaml", valid_scenario_dict).read_text(encoding="utf-8")
    text = re.sub(r"(?m)^  fixed_usd_per_month: .*$", "  fixed_usd_per_month: 3e5", text)
    path = yaml_writer("scenario.yaml", text)
    check(
        load_error(path),
        file="scenario.yaml",
        key_path="costs.fixed_usd_per_month",
        value="3e5",
        allowed="must be a number in [0, 1e+12], written as a plain number like",
    )


def test_integer_too_large_for_a_float(
    yaml_writer: Writer, valid_scenario_dict: dict[str, Any]
) -> None:
    path = write_with(yaml_writer, valid_scenario_dict, "costs.fixed_usd_per_month", 10**400)
    err = load_error(path)
    check(
        err,
        file="scenario.yaml",
        key_path="costs.fixed_usd_per_month",
        value=10**400,
        shown=repr(10**400)[:77] + "...",
        allowed="must be a number in [0, 1e+12]",
    )


def test_cny_integer_too_large_for_a_float(
    yaml_writer: Writer, valid_scenario_dict: dict[str, Any]
) -> None:
    # issue 15: the currency conversion raised OverflowError (a traceback from `tcpmf validate`)
    big = {"value": 10**400, "currency": "CNY", "assumed": "fuzz"}
    path = write_with(yaml_writer, valid_scenario_dict, "costs.fixed_usd_per_month", big)
    check(
        load_error(path),
        file="scenario.yaml",
        key_path="costs.fixed_usd_per_month",
        value=10**400,
        shown=repr(10**400)[:77] + "...",
        allowed="a finite amount of CNY",
    )


@pytest.mark.parametrize("dotted", ["costs.fixed_usd_per_month", "usage.dau_per_mau"])
@pytest.mark.parametrize("currency", [None, "CNY"])
def test_integer_too_long_to_print_is_refused_naming_its_key(
    valid_scenario_file: Path, dotted: str, currency: str | None
) -> None:
    # issue 15: an integer of more than 4,300 digits made the error message itself fail (repr)
    value: Any = 10**5000
    if currency and "usd" in dotted:
        value = {"value": value, "currency": currency, "assumed": "fuzz"}
    with pytest.raises(tcpmf.AssumptionError) as info:
        tcpmf.load(valid_scenario_file).override({dotted: value})
    err = info.value
    assert err.key_path == dotted
    assert f"{dotted} = an integer of about 5,001 digits: " in str(err), str(err)


def test_integer_too_long_to_read_in_yaml_gives_a_short_message(
    yaml_writer: Writer, valid_scenario_dict: dict[str, Any]
) -> None:
    text = yaml.safe_dump(valid_scenario_dict, sort_keys=False)
    text = re.sub(r"(?m)^  fixed_usd_per_month: .*$", "  fixed_usd_per_month: 1" + "0" * 5000, text)
    err = load_error(yaml_writer("scenario.yaml", text))
    assert "is not valid YAML" in str(err) and "an integer of 5,001 digits" in str(err)
    assert "set_int_max_str_digits" not in str(err) and re.search(
        r"at line \d+, column \d+\)$", str(err)
    )
    assert len(str(err)) < 600, len(str(err))


@pytest.mark.parametrize(
    ("spec", "drawn"),
    [
        ({"dist": "uniform", "low": -1, "high": 2}, "it can draw -1"),
        ({"dist": "normal", "mean": 0.5, "sd": 0.1}, "it can draw -inf"),
        ({"dist": "choice", "options": [0.1, 1.5]}, "it can draw option 1.5"),
    ],
)
def test_a_distribution_reaching_outside_its_keys_range_is_refused_at_load(
    yaml_writer: Writer, valid_scenario_dict: dict[str, Any], spec: dict[str, Any], drawn: str
) -> None:
    # issue 15: validate/load/evaluate accepted it and only monte_carlo refused it (docs/model.md 8.1)
    path = write_with(yaml_writer, valid_scenario_dict, "usage.dau_per_mau", spec)
    err = load_error(path)
    check(
        err,
        file="scenario.yaml",
        key_path="usage.dau_per_mau",
        value=spec,
        allowed="a distribution that draws only allowed values",
    )
    assert drawn in str(err) and "must be a number in [0, 1]" in str(err)
    valid_scenario_dict["usage"]["dau_per_mau"] = {"dist": "uniform", "low": 0.1, "high": 0.2}
    assert tcpmf.load(
        write_with(
            yaml_writer,
            valid_scenario_dict,
            "usage.dau_per_mau",
            {"dist": "uniform", "low": 0.1, "high": 0.2},
        )
    ).usage.dau_per_mau == pytest.approx(0.15)


def test_bad_key_of_retention_table(
    yaml_writer: Writer, valid_scenario_dict: dict[str, Any]
) -> None:
    valid_scenario_dict["retention"] = {"curve": "table", "points": {1: 0.5, 700: 0.2}}
    path = yaml_writer("scenario.yaml", valid_scenario_dict)
    check(
        load_error(path),
        file="scenario.yaml",
        key_path="retention.points.700",
        value=700,
        allowed="the key should be less than or equal to 600",
    )


def test_unknown_category(yaml_writer: Writer, valid_scenario_dict: dict[str, Any]) -> None:
    path = write_with(yaml_writer, valid_scenario_dict, "category", "gaming")
    err = load_error(path)
    check(err, file="scenario.yaml", key_path="category", value="gaming", allowed="'productivity'")
    assert "'short_video'" in str(err)


def test_bad_start_month(yaml_writer: Writer, valid_scenario_dict: dict[str, Any]) -> None:
    path = write_with(yaml_writer, valid_scenario_dict, "start_month", "2024-13")
    check(
        load_error(path),
        file="scenario.yaml",
        key_path="start_month",
        value="2024-13",
        allowed="YYYY-MM",
    )


def test_unquoted_date_is_not_a_month(
    yaml_writer: Writer, valid_scenario_dict: dict[str, Any]
) -> None:
    text = yaml_writer("x.yaml", valid_scenario_dict).read_text(encoding="utf-8")
    text = re.sub(r"(?m)^start_month: .*$", "start_month: 2025-01-01", text)
    path = yaml_writer("scenario.yaml", text)
    err = load_error(path)
    check(err, file="scenario.yaml", key_path="start_month", allowed="a month YYYY-MM")
    assert "2025" in str(err)


def test_unknown_retention_curve(yaml_writer: Writer, valid_scenario_dict: dict[str, Any]) -> None:
    path = write_with(yaml_writer, valid_scenario_dict, "retention.curve", "weibull")
    err = load_error(path)
    check(
        err, file="scenario.yaml", key_path="retention.curve", value="weibull", allowed="power_law"
    )
    for curve in ("plateau", "sbg", "table"):
        assert curve in str(err)


def test_missing_retention_curve(yaml_writer: Writer, valid_scenario_dict: dict[str, Any]) -> None:
    del valid_scenario_dict["retention"]["curve"]
    path = yaml_writer("scenario.yaml", valid_scenario_dict)
    err = load_error(path)
    check(err, file="scenario.yaml", key_path="retention.curve", allowed="power_law")


# --- relations between keys ---------------------------------------------------------------------


def test_plateau_floor_above_r1(yaml_writer: Writer, valid_scenario_dict: dict[str, Any]) -> None:
    valid_scenario_dict["retention"] = {"curve": "plateau", "r1": 0.4, "floor": 0.5, "tau": 3}
    path = yaml_writer("scenario.yaml", valid_scenario_dict)
    check(
        load_error(path),
        file="scenario.yaml",
        key_path="retention.floor",
        value=0.5,
        allowed="a floor no higher than r1 (0.4)",
    )


def test_paid_budget_without_cac(yaml_writer: Writer, valid_scenario_dict: dict[str, Any]) -> None:
    path = write_with(yaml_writer, valid_scenario_dict, "growth.paid_budget_usd_per_month", 100000)
    check(
        load_error(path),
        file="scenario.yaml",
        key_path="growth.cac_usd",
        value=None,
        allowed="a positive cost per acquired user",
    )


def test_self_host_without_section(
    yaml_writer: Writer, valid_scenario_dict: dict[str, Any]
) -> None:
    path = write_with(yaml_writer, valid_scenario_dict, "model.route", "self_host")
    check(
        load_error(path),
        file="scenario.yaml",
        key_path="model.self_host",
        value=None,
        allowed="a self_host section",
    )


def test_only_one_price_override(yaml_writer: Writer, valid_scenario_dict: dict[str, Any]) -> None:
    del valid_scenario_dict["model"]["usd_per_mtok_out"]
    path = yaml_writer("scenario.yaml", valid_scenario_dict)
    check(
        load_error(path),
        file="scenario.yaml",
        key_path="model.usd_per_mtok_in",
        value=2.5,
        allowed="both usd_per_mtok_in and usd_per_mtok_out, or neither",
    )


# --- annotated values ---------------------------------------------------------------------------


def test_cny_on_non_money_key(yaml_writer: Writer, valid_scenario_dict: dict[str, Any]) -> None:
    annotated = {"value": 2, "currency": "CNY", "source": "a survey"}
    path = write_with(yaml_writer, valid_scenario_dict, "usage.sessions_per_day", annotated)
    check(
        load_error(path),
        file="scenario.yaml",
        key_path="usage.sessions_per_day.currency",
        value="CNY",
        allowed="a currency only on a money key",
    )


def test_unknown_currency(yaml_writer: Writer, valid_scenario_dict: dict[str, Any]) -> None:
    annotated = {"value": 20, "currency": "EUR"}
    key = "revenue.subscription.price_usd_per_month"
    path = write_with(yaml_writer, valid_scenario_dict, key, annotated)
    check(
        load_error(path),
        file="scenario.yaml",
        key_path=f"{key}.currency",
        value="EUR",
        allowed="USD or CNY",
    )


def test_unknown_annotation_key(yaml_writer: Writer, valid_scenario_dict: dict[str, Any]) -> None:
    annotated = {"value": 2, "sauce": "my guess"}
    path = write_with(yaml_writer, valid_scenario_dict, "usage.sessions_per_day", annotated)
    err = load_error(path)
    check(
        err,
        file="scenario.yaml",
        key_path="usage.sessions_per_day.sauce",
        value="my guess",
        allowed="an annotated value takes only",
    )
    for key in ("assumed", "currency", "note", "source", "value"):
        assert key in str(err)


def test_non_text_annotation_key(yaml_writer: Writer, valid_scenario_dict: dict[str, Any]) -> None:
    path = write_with(
        yaml_writer, valid_scenario_dict, "usage.sessions_per_day", {"value": 2, 7: "x"}
    )
    check(
        load_error(path),
        file="scenario.yaml",
        key_path="usage.sessions_per_day.7",
        value="x",
        allowed="an annotated value takes only",
    )


def test_source_and_assumed(yaml_writer: Writer, valid_scenario_dict: dict[str, Any]) -> None:
    annotated = {"value": 2, "source": "a survey", "assumed": "a guess"}
    path = write_with(yaml_writer, valid_scenario_dict, "usage.sessions_per_day", annotated)
    check(
        load_error(path),
        file="scenario.yaml",
        key_path="usage.sessions_per_day",
        value=annotated,
        allowed="either source or assumed, not both",
    )


def test_empty_source(yaml_writer: Writer, valid_scenario_dict: dict[str, Any]) -> None:
    annotated = {"value": 2, "source": "  "}
    path = write_with(yaml_writer, valid_scenario_dict, "usage.sessions_per_day", annotated)
    check(
        load_error(path),
        file="scenario.yaml",
        key_path="usage.sessions_per_day.source",
        value="  ",
        allowed="non-empty text",
    )


def test_annotated_value_of_wrong_type(
    yaml_writer: Writer, valid_scenario_dict: dict[str, Any]
) -> None:
    annotated = {"value": "lots", "assumed": "no public figure"}
    path = write_with(yaml_writer, valid_scenario_dict, "usage.sessions_per_day", annotated)
    check(
        load_error(path),
        file="scenario.yaml",
        key_path="usage.sessions_per_day",
        value="lots",
        allowed="must be a number in",
    )


# --- whole-file problems ------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    check(
        load_error(tmp_path / "nowhere.yaml"),
        file="nowhere.yaml",
        key_path="",
        allowed="file not found",
    )


def test_directory_instead_of_file(tmp_path: Path) -> None:
    (tmp_path / "dir.yaml").mkdir()
    check(load_error(tmp_path / "dir.yaml"), file="dir.yaml", key_path="", allowed="is a directory")


def test_broken_yaml(yaml_writer: Writer) -> None:
    path = yaml_writer(
        "scenario.yaml", "name: x\nusage:\n  dau_per_mau: [0.1, 0.2\n  sessions_per_day: 2\n"
    )
    err = load_error(path)
    check(err, file="scenario.yaml", key_path="", allowed="is not valid YAML")
    assert "line " in str(err) and "column " in str(err)


def test_broken_indentation(yaml_writer: Writer) -> None:
    path = yaml_writer(
        "scenario.yaml", "name: x\nusage:\n    dau_per_mau: 0.1\n  sessions_per_day: 2\n"
    )
    err = load_error(path)
    check(err, file="scenario.yaml", key_path="", allowed="is not valid YAML")
    assert "line 4" in str(err)


def test_tab_indentation(yaml_writer: Writer) -> None:
    path = yaml_writer("scenario.yaml", "name: x\nusage:\n\tdau_per_mau: 0.1\n")
    check(load_error(path), file="scenario.yaml", key_path="", allowed="is not valid YAML")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_bytes(b"name: \xff\xfe caf\xe9\n")
    check(load_error(path), file="scenario.yaml", key_path="", allowed="is not UTF-8 text")


@pytest.mark.parametrize(
    "text, found",
    [("42\n", "int"), ("- a\n- b\n", "list"), ("just text\n", "str"), ("", "NoneType")],
)
def test_top_level_not_a_mapping(yaml_writer: Writer, text: str, found: str) -> None:
    path = yaml_writer("scenario.yaml", text)
    check(
        load_error(path),
        file="scenario.yaml",
        key_path="",
        allowed=f"must hold a mapping of keys to values, found {found}",
    )


def test_non_text_top_level_key(yaml_writer: Writer) -> None:
    path = yaml_writer("scenario.yaml", "name: x\n2025: 1\n")
    check(load_error(path), file="scenario.yaml", key_path="2025", allowed="keys must be text")


def test_invalid_date_scalar(yaml_writer: Writer) -> None:
    """PyYAML raises a bare ValueError for a date such as 2024-13-01."""
    path = yaml_writer("scenario.yaml", "name: x\nstart_month: 2024-13-01\n")
    err = load_error(path)
    check(err, file="scenario.yaml", key_path="", allowed="is not valid YAML")
    assert "2024-13-01" in str(err) and "line 2" in str(err)


@pytest.mark.parametrize(
    "text",
    [
        "a: !!int x\n",
        "a: !!float x\n",
        "a: !!bool maybe\n",
        "a: !!timestamp yesterday\n",
        "a: !!python/object:os.system x\n",
        "? [a, b]\n: 1\n",
    ],
)
def test_bad_tagged_scalar(yaml_writer: Writer, text: str) -> None:
    path = yaml_writer("scenario.yaml", text)
    check(load_error(path), file="scenario.yaml", key_path="", allowed="is not valid YAML")


def test_recursive_alias(yaml_writer: Writer) -> None:
    path = yaml_writer("scenario.yaml", "name: x\nusage: &u\n  again: *u\n")
    check(load_error(path), file="scenario.yaml", key_path="", allowed="alias")


def test_alias_bomb(yaml_writer: Writer) -> None:
    lines = ["a0: &a0 {x: 1, y: 2}"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 12)]
    path = yaml_writer("scenario.yaml", "\n".join(lines) + "\n")
    check(load_error(path), file="scenario.yaml", key_path="", allowed="alias")


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("name: x\nusage: " + "[" * 5000 + "]" * 5000 + "\n", 2),
        ("name: x\nusage: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n", 2),
        (
            "name: x\nusage:\n"
            + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(400))
            + "  " * 401
            + "v: 1\n",
            101,
        ),
    ],
    ids=["flow-lists", "flow-mappings", "block-mappings"],
)
def test_deep_nesting_is_refused_with_its_line(yaml_writer: Writer, text: str, line: int) -> None:
    from tcpmf.core.yamlio import MAX_YAML_NESTING

    err = load_error(yaml_writer("scenario.yaml", text))
    check(
        err,
        file="scenario.yaml",
        key_path="",
        allowed=f"nested more than {MAX_YAML_NESTING} levels deep",
    )
    assert f"at line {line}, column" in err.allowed, err.allowed


def test_nesting_just_within_the_limit_is_read(yaml_writer: Writer) -> None:
    from tcpmf.core.yamlio import MAX_YAML_NESTING, read_yaml

    depth = MAX_YAML_NESTING - 1  # the top-level mapping is one level
    node: Any = read_yaml(yaml_writer("scenario.yaml", "a: " + "[" * depth + "]" * depth + "\n"))[
        "a"
    ]
    levels = 1
    while node:
        node, levels = node[0], levels + 1
    assert levels == depth
    with pytest.raises(tcpmf.AssumptionError, match="levels deep at line 1"):
        read_yaml(yaml_writer("deeper.yaml", "a: " + "[" * (depth + 1) + "]" * (depth + 1) + "\n"))


# --- extends -------------------------------------------------------------------------------------


def test_extends_cycle(yaml_writer: Writer, valid_scenario_dict: dict[str, Any]) -> None:
    yaml_writer("a.yaml", {"extends": "b.yaml", **valid_scenario_dict})
    yaml_writer("b.yaml", {"extends": "a.yaml", "name": "b"})
    err = load_error(yaml_writer("a.yaml", {"extends": "b.yaml", **valid_scenario_dict}))
    check(err, file="b.yaml", key_path="extends", value="a.yaml", allowed="no cycles allowed")
    assert "a.yaml -> " in str(err) and "b.yaml -> " in str(err)


def test_extends_itself(yaml_writer: Writer, valid_scenario_dict: dict[str, Any]) -> None:
    path = yaml_writer("scenario.yaml", {"extends": "scenario.yaml", **valid_scenario_dict})
    check(
        load_error(path),
        file="scenario.yaml",
        key_path="extends",
        value="scenario.yaml",
        allowed="no cycles allowed",
    )


def test_extends_missing_file(yaml_writer: Writer, valid_scenario_dict: dict[str, Any]) -> None:
    path = yaml_writer("scenario.yaml", {"extends": "base.yaml", **valid_scenario_dict})
    err = load_error(path)
    check(
        err,
        file="scenario.yaml",
        key_path="extends",
        value="base.yaml",
        allowed="a file that exists",
    )


def test_extends_directory(
    yaml_writer: Writer, valid_scenario_dict: dict[str, Any], tmp_path: Path
) -> None:
    (tmp_path / "base").mkdir()
    path = yaml_writer("scenario.yaml", {"extends": "base", **valid_scenario_dict})
    check(
        load_error(path),
        file="scenario.yaml",
        key_path="extends",
        value="base",
        allowed="a file that exists",
    )


@pytest.mark.parametrize("parents", [3, ["base.yaml", 4], "", {"file": "base.yaml"}])
def test_extends_wrong_type(
    yaml_writer: Writer, valid_scenario_dict: dict[str, Any], parents: Any
) -> None:
    yaml_writer("base.yaml", {"name": "base"})
    path = yaml_writer("scenario.yaml", {"extends": parents, **valid_scenario_dict})
    check(
        load_error(path),
        file="scenario.yaml",
        key_path="extends",
        value=parents,
        allowed="a relative path or a list of relative paths",
    )


def test_error_in_extended_file_names_that_file(
    yaml_writer: Writer, valid_scenario_dict: dict[str, Any]
) -> None:
    base = dict(valid_scenario_dict)
    base["usage"] = {**valid_scenario_dict["usage"], "dau_per_mau": 2.5}
    yaml_writer("base.yaml", base)
    child = {
        "extends": "base.yaml",
        "name": "child",
        "revenue": {"subscription": {"paid_share": 0.1}},
    }
    err = load_error(yaml_writer("child.yaml", child))
    check(
        err,
        file="base.yaml",
        key_path="usage.dau_per_mau",
        value=2.5,
        allowed="must be a number in [0, 1]",
    )


def test_unknown_key_in_extended_file_names_that_file(
    yaml_writer: Writer, valid_scenario_dict: dict[str, Any]
) -> None:
    yaml_writer("base.yaml", set_key(valid_scenario_dict, "growth.viral_factor", 1.2))
    err = load_error(yaml_writer("child.yaml", {"extends": "base.yaml", "name": "child"}))
    check(err, file="base.yaml", key_path="growth.viral_factor", value=1.2, allowed="unknown key")


def test_broken_yaml_in_extended_file_names_that_file(
    yaml_writer: Writer, valid_scenario_dict: dict[str, Any]
) -> None:
    yaml_writer("base.yaml", "usage: {dau_per_mau: 0.1\n")
    err = load_error(yaml_writer("child.yaml", {"extends": "base.yaml", **valid_scenario_dict}))
    check(err, file="base.yaml", key_path="", allowed="is not valid YAML")


def test_relation_error_in_extended_file_names_that_file(
    yaml_writer: Writer, valid_scenario_dict: dict[str, Any]
) -> None:
    yaml_writer("base.yaml", set_key(valid_scenario_dict, "growth.paid_budget_usd_per_month", 5000))
    err = load_error(yaml_writer("child.yaml", {"extends": "base.yaml", "name": "child"}))
    check(err, file="base.yaml", key_path="growth.cac_usd", value=None, allowed="a positive cost")


def test_child_value_overrides_parent_and_is_named(
    yaml_writer: Writer, valid_scenario_dict: dict[str, Any]
) -> None:
    yaml_writer("base.yaml", valid_scenario_dict)
    child = {"extends": ["base.yaml"], "usage": {"requests_per_session": "many"}}
    err = load_error(yaml_writer("child.yaml", child))
    check(
        err,
        file="child.yaml",
        key_path="usage.requests_per_session",
        value="many",
        allowed="must be a number in",
    )


# --- Scenario.override --------------------------------------------------------------------------


def test_override_unknown_key(valid_scenario_file: Path) -> None:
    s = tcpmf.load(valid_scenario_file)
    with pytest.raises(tcpmf.AssumptionError) as info:
        s.override({"usage.sessions_per_dya": 3})
    check(
        info.value,
        file="<override>",
        key_path="usage.sessions_per_dya",
        value=3,
        allowed="unknown key",
    )


def test_override_unknown_section(valid_scenario_file: Path) -> None:
    s = tcpmf.load(valid_scenario_file)
    with pytest.raises(tcpmf.AssumptionError) as info:
        s.override({"usgae.sessions_per_day": 3})
    check(info.value, file="<override>", key_path="usgae", allowed="unknown key")


def test_override_bad_value(valid_scenario_file: Path) -> None:
    s = tcpmf.load(valid_scenario_file)
    with pytest.raises(tcpmf.AssumptionError) as info:
        s.override({"usage.dau_per_mau": 1.5})
    check(
        info.value,
        file="<override>",
        key_path="usage.dau_per_mau",
        value=1.5,
        allowed="must be a number in [0, 1]",
    )


def test_override_nan(valid_scenario_file: Path) -> None:
    s = tcpmf.load(valid_scenario_file)
    with pytest.raises(tcpmf.AssumptionError) as info:
        s.override({"revenue.subscription.price_usd_per_month": float("nan")})
    check(
        info.value,
        file="<override>",
        key_path="revenue.subscription.price_usd_per_month",
        value=float("nan"),
        shown="nan",
        allowed="finite number",
    )


def test_override_into_a_number(valid_scenario_file: Path) -> None:
    s = tcpmf.load(valid_scenario_file)
    with pytest.raises(tcpmf.AssumptionError) as info:
        s.override({"usage.dau_per_mau.value": 0.2})
    check(
        info.value,
        file="<override>",
        key_path="usage.dau_per_mau",
        value=0.14,
        allowed="a section with keys",
    )


def test_override_bad_annotation(valid_scenario_file: Path) -> None:
    s = tcpmf.load(valid_scenario_file)
    with pytest.raises(tcpmf.AssumptionError) as info:
        s.override({"usage.sessions_per_day": {"value": 3, "source": "x", "assumed": "y"}})
    check(
        info.value,
        file="<override>",
        key_path="usage.sessions_per_day",
        allowed="either source or assumed, not both",
    )


def test_override_keeps_file_for_untouched_errors(valid_scenario_file: Path) -> None:
    s = tcpmf.load(valid_scenario_file)
    assert s.override({"usage.sessions_per_day": 4}).usage.sessions_per_day == 4
    assert s.usage.sessions_per_day == 2


# --- the model catalog --------------------------------------------------------------------------


def test_unknown_model_lists_close_matches(
    yaml_writer: Writer, valid_scenario_dict: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TCPMF_ASSUMPTIONS", raising=False)
    if not (assumptions_dir() / "catalog" / "models.yaml").is_file():
        pytest.skip("assumptions/catalog/models.yaml is not written yet")
    model = valid_scenario_dict["model"]
    del model["usd_per_mtok_in"], model["usd_per_mtok_out"]
    model["name"] = "gpt-4oo"
    err = load_error(yaml_writer("scenario.yaml", valid_scenario_dict))
    check(
        err, file="scenario.yaml", key_path="model.name", value="gpt-4oo", allowed="close matches:"
    )
    assert "gpt-4o" in str(err).split("close matches:", 1)[1]
