"""The bundled assumption files: valid, complete, and every number with its source."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

import tcpmf
from tcpmf.core.yamlio import assumptions_dir
from tcpmf.schema.json_schema import dumps
from tcpmf.schema.scenario import TOC_CATEGORIES
from tcpmf.schema.tob import TOB_CATEGORIES

ROOT = assumptions_dir()
CATEGORY_FILES = sorted((ROOT / "categories").glob("*.yaml"))
PRODUCT_FILES = sorted((ROOT / "products").glob("*.yaml"))
SCENARIO_FILES = CATEGORY_FILES + PRODUCT_FILES
PORTFOLIO_FILES = sorted((ROOT / "portfolios").glob("*.yaml"))


def _unannotated(tree: Any, path: str = "") -> list[str]:
    """Key paths of numbers (and months) written without a source or an `assumed` reason."""
    found: list[str] = []
    if isinstance(tree, dict):
        if "value" in tree or "dist" in tree:
            if not (tree.get("source") or tree.get("assumed")):
                found.append(path)
            return found
        for key, value in tree.items():
            if key in ("extends", "name", "description", "category", "segment", "curve", "route"):
                continue
            if path.endswith("model") and key in ("name",):
                continue
            found += _unannotated(value, f"{path}.{key}" if path else str(key))
    elif (isinstance(tree, (int, float)) and not isinstance(tree, bool)) or (
        isinstance(tree, str) and path.endswith("start_month")
    ):
        found.append(path)
    return found


def test_categories_and_products_are_there() -> None:
    assert {p.stem for p in CATEGORY_FILES} >= set(TOC_CATEGORIES) | set(TOB_CATEGORIES)
    assert len(PRODUCT_FILES) >= 8
    categories = {tcpmf.load(p).category for p in PRODUCT_FILES}
    assert set(TOC_CATEGORIES) <= categories <= set(TOC_CATEGORIES) | set(TOB_CATEGORIES)


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_number_carries_its_source(path: Path) -> None:
    tree = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert _unannotated(tree) == []


@pytest.mark.parametrize("path", PORTFOLIO_FILES, ids=lambda p: p.name)
def test_every_portfolio_distribution_carries_its_source_and_loads(path: Path) -> None:
    tree = yaml.safe_load(path.read_text(encoding="utf-8"))
    missing = [
        f"products.{i}.uncertain.{key}"
        for i, product in enumerate(tree["products"])
        for key, spec in (product.get("uncertain") or {}).items()
        if not (spec.get("source") or spec.get("assumed"))
    ]
    assert missing == []
    portfolio = tcpmf.load_portfolio(path)
    assert all(p.uncertainties for p in portfolio.products)


def test_the_example_portfolio_spans_the_consumer_stages() -> None:
    portfolio = tcpmf.load_portfolio(ROOT / "portfolios" / "consumer_stages.yaml")
    categories = {p.scenario.category for p in portfolio.products}
    assert len(categories & set(TOC_CATEGORIES)) >= 4


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_bundled_files_validate_against_the_json_schema(path: Path) -> None:
    schema = json.loads((ROOT / "scenario.schema.json").read_text(encoding="utf-8"))
    tree = yaml.safe_load(path.read_text(encoding="utf-8"))
    jsonschema.validate(tree, schema)


def test_json_schema_requires_the_sections_of_a_file_without_extends() -> None:
    schema = json.loads((ROOT / "scenario.schema.json").read_text(encoding="utf-8"))
    with pytest.raises(jsonschema.ValidationError, match="required"):
        jsonschema.validate({"name": "x"}, schema)
    jsonschema.validate({"extends": "other.yaml", "name": "x"}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"extends": "other.yaml", "usage": {"dau_per_mau": 2}}, schema)


def test_committed_json_schema_is_current() -> None:
    committed = (ROOT / "scenario.schema.json").read_text(encoding="utf-8")
    assert committed == dumps(), "run `tcpmf schema -o assumptions/scenario.schema.json`"


def test_catalog_records_all_have_sources() -> None:
    for name in ("models.yaml", "gpus.yaml", "fx.yaml"):
        text = (ROOT / "catalog" / name).read_text(encoding="utf-8")
        data = yaml.safe_load(text)
        records: list[dict[str, Any]] = []
        if name == "models.yaml":
            records = [r for m in data["models"].values() for r in m["prices"]]
        elif name == "gpus.yaml":
            records = [r for g in data["gpus"].values() for r in g["rents"]]
        else:
            records = data["cny_per_usd"]
        assert records and all(len(str(r.get("source", ""))) > 10 for r in records), name
