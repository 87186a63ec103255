"""Importing a LiteLLM-style price map into the dated model catalog (tcpmf.catalog.importer)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tcpmf.catalog import prices as catalog
from tcpmf.catalog.importer import _per_mtok, import_prices
from tcpmf.cli.main import app
from tcpmf.core.errors import AssumptionError
from tcpmf.core.yamlio import assumptions_dir

runner = CliRunner()

PRICE_MAP: dict[str, Any] = {
    "sample_spec": {
        "input_cost_per_token": 0,
        "output_cost_per_token": 0,
        "litellm_provider": "doc",
    },
    # unchanged: the catalog's latest gpt-4o record is 2.5 / 10, cached 1.25
    "gpt-4o": {
        "input_cost_per_token": 2.5e-06,
        "output_cost_per_token": 1e-05,
        "cache_read_input_token_cost": 1.25e-06,
        "litellm_provider": "openai",
    },
    # changed: the catalog has 10 / 30
    "gpt-4-turbo": {
        "input_cost_per_token": 5e-06,
        "output_cost_per_token": 1.5e-05,
        "cache_read_input_token_cost": 2.5e-06,
        "litellm_provider": "openai",
    },
    # new
    "newco/tiny-model": {
        "input_cost_per_token": 7e-08,
        "output_cost_per_token": 2.8e-07,
        "litellm_provider": "newco",
    },
    # no output price: skipped
    "text-embedding-3-small": {"input_cost_per_token": 2e-08, "litellm_provider": "openai"},
}


@pytest.fixture
def catalog_copy(tmp_path: Path) -> Path:
    """A copy of the bundled catalog folder; returns the path of its models.yaml."""
    folder = tmp_path / "catalog"
    shutil.copytree(assumptions_dir() / "catalog", folder)
    return folder / "models.yaml"


@pytest.fixture
def price_map(tmp_path: Path) -> Path:
    path = tmp_path / "model_prices.json"
    path.write_text(json.dumps(PRICE_MAP), encoding="utf-8")
    return path


def models_catalog(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["models"]


def test_import_appends_changed_prices_and_new_models_without_losing_history(
    catalog_copy: Path, price_map: Path
) -> None:
    before = models_catalog(catalog_copy)
    report = import_prices(price_map, catalog_copy, month="2030-01")
    after = models_catalog(catalog_copy)

    assert report.written
    assert report.updated == ["gpt-4-turbo"]
    assert report.added == ["newco/tiny-model"]
    assert report.unchanged == ["gpt-4o"]
    assert "text-embedding-3-small" in report.skipped and "sample_spec" not in report.skipped

    # history: every model and every old record is still there, unchanged and in place
    for name, entry in before.items():
        old = entry["prices"]
        assert after[name]["prices"][: len(old)] == old
        assert {k: v for k, v in after[name].items() if k != "prices"} == {
            k: v for k, v in entry.items() if k != "prices"
        }
    assert len(after["gpt-4o"]["prices"]) == len(before["gpt-4o"]["prices"])

    new = after["gpt-4-turbo"]["prices"][-1]
    assert new["date"] == "2030-01"
    assert (new["usd_per_mtok_in"], new["usd_per_mtok_out"], new["usd_per_mtok_cached_in"]) == (
        5,
        15,
        2.5,
    )
    assert "model_prices.json" in new["source"]
    tiny = after["newco/tiny-model"]
    assert tiny["provider"] == "newco"
    assert tiny["prices"] == [
        {
            "date": "2030-01",
            "usd_per_mtok_in": 0.07,
            "usd_per_mtok_out": 0.28,
            "source": new["source"],
        }
    ]

    # the result is a valid catalog and the new price is in force from its month
    assert catalog.validate_file(catalog_copy) == "models"
    directory = catalog_copy.parent.parent
    catalog.models_catalog.cache_clear()
    assert catalog.model_price("gpt-4-turbo", "2030-02", directory).usd_per_mtok_in == 5
    assert catalog.model_price("gpt-4-turbo", "2029-12", directory).usd_per_mtok_in == 10
    catalog.models_catalog.cache_clear()


def test_import_keeps_comments_and_layout(catalog_copy: Path, price_map: Path) -> None:
    original = catalog_copy.read_text(encoding="utf-8")
    import_prices(price_map, catalog_copy, month="2030-01")
    text = catalog_copy.read_text(encoding="utf-8")
    old_lines = original.splitlines()
    new_lines = text.splitlines()
    # the old file's lines appear in the new one, in order: only insertions
    position = 0
    for line in old_lines:
        position = new_lines.index(line, position) + 1
    assert sum(1 for line in new_lines if line.lstrip().startswith("#")) > sum(
        1 for line in old_lines if line.lstrip().startswith("#")
    )


def test_import_twice_changes_nothing_the_second_time(catalog_copy: Path, price_map: Path) -> None:
    import_prices(price_map, catalog_copy, month="2030-01")
    once = catalog_copy.read_bytes()
    report = import_prices(price_map, catalog_copy, month="2030-02")
    assert report.added == [] and report.updated == [] and not report.written
    assert catalog_copy.read_bytes() == once


def test_never_rewrites_a_record_of_the_same_or_a_later_month(
    catalog_copy: Path, price_map: Path
) -> None:
    import_prices(price_map, catalog_copy, month="2030-01")
    changed = dict(PRICE_MAP)
    changed["gpt-4-turbo"] = {**PRICE_MAP["gpt-4-turbo"], "input_cost_per_token": 4e-06}
    path = price_map.with_name("later.json")
    path.write_text(json.dumps(changed), encoding="utf-8")
    before = catalog_copy.read_bytes()
    report = import_prices(path, catalog_copy, month="2030-01")
    assert "gpt-4-turbo" in report.skipped and "history" in report.skipped["gpt-4-turbo"]
    assert catalog_copy.read_bytes() == before


def test_dry_run_writes_nothing(catalog_copy: Path, price_map: Path) -> None:
    before = catalog_copy.read_bytes()
    report = import_prices(price_map, catalog_copy, month="2030-01", dry_run=True)
    assert report.updated == ["gpt-4-turbo"] and not report.written
    assert catalog_copy.read_bytes() == before


def test_model_and_provider_filters(catalog_copy: Path, price_map: Path) -> None:
    report = import_prices(
        price_map, catalog_copy, month="2030-01", providers=["newco"], dry_run=True
    )
    assert report.added == ["newco/tiny-model"] and report.updated == []
    report = import_prices(
        price_map, catalog_copy, month="2030-01", models=["gpt-4-turbo"], dry_run=True
    )
    assert report.updated == ["gpt-4-turbo"] and report.added == []
    with pytest.raises(AssumptionError, match="a model named in the price map"):
        import_prices(price_map, catalog_copy, models=["gpt-4-turb0"])


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=0, max_value=1e-2, allow_nan=False, allow_subnormal=False))
def test_per_token_becomes_per_million(per_token: float) -> None:
    assert _per_mtok(per_token) == pytest.approx(per_token * 1e6, rel=1e-11, abs=1e-12)


@pytest.mark.parametrize(
    ("content", "message"),
    [("{not json", "is not valid JSON"), ("[1, 2]", "JSON object")],
)
def test_bad_price_maps_are_refused(
    tmp_path: Path, catalog_copy: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    before = catalog_copy.read_bytes()
    with pytest.raises(AssumptionError, match=message):
        import_prices(path, catalog_copy)
    assert catalog_copy.read_bytes() == before


def test_negative_price_is_skipped_with_a_reason(tmp_path: Path, catalog_copy: Path) -> None:
    path = tmp_path / "neg.json"
    path.write_text(
        json.dumps({"m": {"input_cost_per_token": -1e-6, "output_cost_per_token": 1e-6}}), "utf-8"
    )
    report = import_prices(path, catalog_copy, month="2030-01")
    assert "not a price" in report.skipped["m"] and not report.written


def test_cli_catalog_import(catalog_copy: Path, price_map: Path) -> None:
    args = [
        "catalog",
        "import",
        str(price_map),
        "--catalog",
        str(catalog_copy),
        "--month",
        "2030-01",
        "--json",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    rows = {row["model"]: row for row in json.loads(result.stdout)}
    assert (
        rows["gpt-4-turbo"]["action"] == "updated" and rows["gpt-4-turbo"]["usd_per_mtok_in"] == 5
    )
    assert "added 1 model(s) and 1 new price record(s)" in result.stderr
    assert models_catalog(catalog_copy)["newco/tiny-model"]["prices"][0]["usd_per_mtok_out"] == 0.28


def test_cli_bad_month_is_one_clean_message(catalog_copy: Path, price_map: Path) -> None:
    result = runner.invoke(
        app,
        ["catalog", "import", str(price_map), "--catalog", str(catalog_copy), "--month", "2030-13"],
    )
    assert result.exit_code == 1
    assert "YYYY-MM" in result.stderr and "Traceback" not in result.output


def test_a_cny_price_is_compared_at_its_own_exchange_rate(
    tmp_path: Path, catalog_copy: Path
) -> None:
    models = models_catalog(catalog_copy)
    name, latest = next(
        (n, e["prices"][-1]) for n, e in models.items() if "cny_per_mtok_in" in e["prices"][-1]
    )
    rate = catalog.cny_per_usd(latest["date"], catalog_copy.parent.parent)
    same = {
        "input_cost_per_token": latest["cny_per_mtok_in"] / rate / 1e6,
        "output_cost_per_token": latest["cny_per_mtok_out"] / rate / 1e6,
    }
    path = tmp_path / "cny.json"
    path.write_text(json.dumps({name: same}), encoding="utf-8")
    assert import_prices(path, catalog_copy, month="2030-01", dry_run=True).unchanged == [name]
    doubled = {k: 2 * v for k, v in same.items()}
    path.write_text(json.dumps({name: doubled}), encoding="utf-8")
    assert import_prices(path, catalog_copy, month="2030-01", dry_run=True).updated == [name]


def test_a_file_that_is_not_a_model_catalog_is_refused(price_map: Path) -> None:
    scenario = min((assumptions_dir() / "products").glob("*.yaml"))
    with pytest.raises(AssumptionError, match="a model catalog"):
        import_prices(price_map, scenario, dry_run=True)


def test_non_token_modes_non_objects_and_prefixed_keys_are_skipped_with_reasons(
    tmp_path: Path, catalog_copy: Path
) -> None:
    known = next(iter(models_catalog(catalog_copy)))
    entries = {
        "text-embedding-x": {
            "input_cost_per_token": 1e-07,
            "output_cost_per_token": 0.0,
            "mode": "embedding",
        },
        "dall-e-x": {
            "input_cost_per_token": 1e-06,
            "output_cost_per_token": 1e-06,
            "mode": "image_generation",
        },
        "broken": [1, 2],
        f"someprovider/{known}": {
            "input_cost_per_token": 9e-06,
            "output_cost_per_token": 9e-05,
            "mode": "chat",
        },
        "brand-new-model": {
            "input_cost_per_token": 1e-06,
            "output_cost_per_token": 2e-06,
            "mode": "chat",
        },
    }
    path = tmp_path / "modes.json"
    path.write_text(json.dumps(entries), encoding="utf-8")
    report = import_prices(path, catalog_copy, month="2030-01", dry_run=True)
    assert "mode 'embedding'" in report.skipped["text-embedding-x"]
    assert "mode 'image_generation'" in report.skipped["dall-e-x"]
    assert "not a JSON object" in report.skipped["broken"]
    assert "--name-map" in report.skipped[f"someprovider/{known}"]
    assert report.added == ["brand-new-model"]
    mapped = import_prices(
        path, catalog_copy, month="2030-01", dry_run=True, name_map={f"someprovider/{known}": known}
    )
    assert known in mapped.updated and f"someprovider/{known}" not in mapped.skipped
    cli = runner.invoke(
        app,
        [
            "catalog",
            "import",
            str(path),
            "--catalog",
            str(catalog_copy),
            "--month",
            "2030-01",
            "--dry-run",
            "--name-map",
            f"someprovider/{known}={known}",
        ],
        env={"COLUMNS": "300"},
    )
    assert cli.exit_code == 0, cli.output
    assert "skipped 1: mode 'embedding'" in cli.stderr and "brand-new-model" in cli.stderr
    assert "new model(s)" in cli.stderr


def test_a_per_million_price_in_a_per_token_field_is_one_clear_line(
    tmp_path: Path, catalog_copy: Path
) -> None:
    path = tmp_path / "b.json"
    path.write_text(
        json.dumps({"gpt-x": {"input_cost_per_token": 2.5, "output_cost_per_token": 10.0}}), "utf-8"
    )
    before = catalog_copy.read_bytes()
    result = runner.invoke(
        app,
        ["catalog", "import", str(path), "--catalog", str(catalog_copy), "--month", "2030-01"],
        env={"COLUMNS": "400"},
    )
    assert result.exit_code == 1
    message = result.stderr.strip()
    assert "\n" not in message and ".import-" not in message
    assert "gpt-x.input_cost_per_token = 2.5 (= 2,500,000 USD per 1M tokens)" in message
    assert "USD per token" in message
    assert catalog_copy.read_bytes() == before


def test_the_catalog_inside_an_installed_package_is_not_written(
    monkeypatch: pytest.MonkeyPatch, catalog_copy: Path, price_map: Path
) -> None:
    import tcpmf.catalog.importer as ci

    monkeypatch.setattr(ci, "assumptions_dir", lambda: catalog_copy.parent.parent)
    monkeypatch.setattr(ci, "_inside_package", lambda path: True)
    before = catalog_copy.read_bytes()
    result = runner.invoke(app, ["catalog", "import", str(price_map), "--month", "2030-01"])
    assert result.exit_code == 1
    assert "--catalog PATH" in result.stderr
    assert catalog_copy.read_bytes() == before
    assert import_prices(price_map, month="2030-01", dry_run=True).updated  # a dry run is fine
    written = import_prices(
        price_map, catalog_copy, month="2030-01"
    )  # an explicit catalog is written
    assert written.written


def test_inside_package_recognises_the_package_folder(tmp_path: Path) -> None:
    import tcpmf.catalog.importer as ci

    assert ci._inside_package(
        Path(ci.__file__).parents[1] / "_assumptions" / "catalog" / "models.yaml"
    )
    assert not ci._inside_package(tmp_path / "models.yaml")


def test_an_invalid_result_names_the_catalog_not_the_temporary_file(catalog_copy: Path) -> None:
    from tcpmf.catalog.importer import _replace_validated
    from tcpmf.core.errors import TcpmfError

    before = catalog_copy.read_bytes()
    with pytest.raises(TcpmfError) as info:
        _replace_validated(
            catalog_copy, "models:\n  m:\n    provider: x\n    tier: y\n    prices: []\n"
        )
    message = str(info.value)
    assert ".import-" not in message and "\n" not in message and "models.m.prices" in message
    assert catalog_copy.read_bytes() == before
    assert not list(catalog_copy.parent.glob(".import-*"))
