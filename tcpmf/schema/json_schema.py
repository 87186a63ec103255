"""JSON schema of the scenario file format, for editors (YAML language servers).

The schema describes files as written: every number may also be an annotated value
``{value, source | assumed, currency, note}`` or a distribution ``{dist: ..., ...}``
(:mod:`tcpmf.schema.distributions`), and a file may ``extends`` others.
"""

from __future__ import annotations

import copy
import json
from typing import Annotated, Any

from tcpmf.schema.distributions import Distribution
from tcpmf.schema.scenario import Scenario

__all__ = ["scenario_json_schema"]

_ANNOTATED: dict[str, Any] = {
    "type": "object",
    "description": 'A value with where it comes from: {value: 0.14, source: "publication, date"} '
    'or {value: 2, assumed: "reason"}; money may add currency: CNY.',
    "properties": {
        "value": {},
        "source": {"type": "string", "minLength": 1},
        "assumed": {"type": "string", "minLength": 1},
        "currency": {"enum": ["USD", "CNY"]},
        "note": {"type": "string"},
    },
    "required": ["value"],
    "additionalProperties": False,
}


def _annotate(node: Any) -> Any:
    if isinstance(node, dict):
        out = {key: _annotate(value) for key, value in node.items()}
        if out.get("type") in ("number", "integer", "string"):
            annotated = copy.deepcopy(_ANNOTATED)
            annotated["properties"]["value"] = {
                k: v for k, v in out.items() if k not in ("title", "description", "default")
            }
            keep = {k: out[k] for k in ("title", "description", "default") if k in out}
            plain = {k: v for k, v in out.items() if k not in keep}
            return {**keep, "anyOf": [plain, annotated, {"$ref": "#/$defs/Distribution"}]}
        return out
    if isinstance(node, list):
        return [_annotate(item) for item in node]
    return node


def _without_required(node: Any) -> Any:
    """Drop sections' required keys (an annotated value keeps its ``value``)."""
    if isinstance(node, dict):
        return {
            k: _without_required(v)
            for k, v in node.items()
            if not (k == "required" and v != ["value"])
        }
    if isinstance(node, list):
        return [_without_required(item) for item in node]
    return node


def scenario_json_schema() -> dict[str, Any]:
    """The JSON schema (draft 2020-12) of a scenario file.

    A file that ``extends`` another may leave out anything its parent gives, so the schema
    checks keys, types and bounds everywhere but requires the top-level sections only of a file
    without ``extends``; ``tcpmf validate`` checks the merged result completely.
    """
    full = Scenario.model_json_schema(mode="validation")
    schema = _without_required(_annotate(full))
    from pydantic import Field, TypeAdapter

    dist_schema = TypeAdapter(Annotated[Distribution, Field(discriminator="dist")]).json_schema(
        ref_template="#/$defs/{model}"
    )
    schema.setdefault("$defs", {}).update(dist_schema.pop("$defs"))
    schema["$defs"]["Distribution"] = {
        **dist_schema,
        "description": "An uncertain input: a distribution in place of the number (tcpmf.schema.distributions).",
    }
    schema["if"] = {"not": {"required": ["extends"]}}
    schema["then"] = {"required": full.get("required", [])}
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "tcpmf scenario"
    schema["properties"]["extends"] = {
        "description": "file(s) this one extends, relative to it; its own keys override theirs",
        "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
    }
    return schema


def dumps() -> str:
    """The schema as stable, indented JSON text."""
    return json.dumps(scenario_json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
