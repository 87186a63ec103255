"""Reading assumption files: safe YAML, ``extends`` with deep merge, and clean error messages.

YAML is parsed with a :class:`yaml.SafeLoader` only: an assumption file is data and nothing in it
is ever evaluated.  Aliases (``*name``) are refused: they can build self-referencing or
exponentially large trees, and ``extends`` is the way to share values.  Every failure becomes an
:class:`~tcpmf.core.errors.AssumptionError` that names the file, the key path, the value and what is
allowed.
"""

from __future__ import annotations

import os
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from tcpmf.core.errors import AssumptionError, close_matches
from tcpmf.core.months import MONTH_PATTERN

__all__ = ["assumptions_dir", "deep_merge", "read_tree", "read_yaml", "validation_error"]

ENV_ASSUMPTIONS = "TCPMF_ASSUMPTIONS"
BaseModelT = TypeVar("BaseModelT", bound=BaseModel)


def assumptions_dir() -> Path:
    """The folder of bundled assumptions, or the one named by ``$TCPMF_ASSUMPTIONS``.

    In a source checkout that is the repository's ``assumptions/``; in an installed wheel, the
    copy shipped inside the package (``tcpmf/_assumptions``).
    """
    env = os.environ.get(ENV_ASSUMPTIONS)
    if env:
        return Path(env)
    here = Path(__file__).resolve().parents[1]  # the tcpmf package
    checkout = here.parent / "assumptions"
    return checkout if (checkout / "catalog").is_dir() else here / "_assumptions"


def display_path(path: Path) -> str:
    """A short, stable name for *path*: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


#: The deepest nesting of mappings and lists an assumption file may have (the bundled files need
#: fewer than 10); deeper is refused at the line where it goes too deep, before Python's recursion
#: limit turns it into an error without a place.
MAX_YAML_NESTING = 100


class _Loader(yaml.SafeLoader):
    """A ``yaml.SafeLoader`` that refuses aliases and too deep nesting and reports an unreadable value
    with its place."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None,
                None,
                f"aliases (*{event.anchor}) are not allowed; write the value out or use extends",
                event.start_mark,
            )
        if self._depth >= MAX_YAML_NESTING:
            raise yaml.composer.ComposerError(
                None,
                None,
                f"mappings and lists nested more than {MAX_YAML_NESTING} levels deep",
                self.peek_event().start_mark,
            )
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                if key_node.value in seen:
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        f"duplicate key {key_node.value!r} (first at line {seen[key_node.value] + 1})",
                        key_node.start_mark,
                    )
                seen[key_node.value] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except yaml.YAMLError:
            raise
        except Exception as exc:
            tag = str(node.tag).rsplit(":", 1)[-1]
            if tag == "int" and isinstance(node, yaml.ScalarNode) and isinstance(exc, ValueError):
                digits = sum(c.isdigit() for c in str(node.value))
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"cannot read an integer of {digits:,} digits (numbers up to about 1.8e308 "
                    "are read, and every key allows far less)",
                    node.start_mark,
                ) from None
            shown = repr(node.value) if isinstance(node, yaml.ScalarNode) else "a value"
            if len(shown) > 80:
                shown = f"{shown[:40]}... ({len(node.value):,} characters)"
            detail = f": {exc}" if isinstance(exc, ValueError) else ""
            if len(detail) > 200:
                detail = detail[:197] + "..."
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read {shown} as a {tag}{detail}", node.start_mark
            ) from None


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):  # e.g. a name too long for the file system
        return False


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Safe-load one YAML file that must hold a mapping."""
    path = Path(path)
    name = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AssumptionError(
            name, "", "file not found; give the path of an existing YAML file"
        ) from None
    except IsADirectoryError:
        raise AssumptionError(name, "", "is a directory; give the path of a YAML file") from None
    except UnicodeDecodeError as exc:
        raise AssumptionError(
            name, "", f"is not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None
    except OSError as exc:
        raise AssumptionError(name, "", f"cannot be read: {exc.strerror}") from None
    try:
        data = yaml.load(text, Loader=_Loader)
    except RecursionError:
        raise AssumptionError(name, "", "is not valid YAML (nested too deeply)") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = (
            f"line {mark.line + 1}, column {mark.column + 1}"
            if mark is not None
            else "unknown place"
        )
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise AssumptionError(name, "", f"is not valid YAML ({problem} at {where})") from None
    if not isinstance(data, dict):
        raise AssumptionError(
            name, "", f"must hold a mapping of keys to values, found {type(data).__name__}"
        )
    bad = [k for k in data if not isinstance(k, str)]
    if bad:
        raise AssumptionError(name, repr(bad[0]), "keys must be text")
    return data


#: Keys that select a variant of a section (e.g. a retention curve): a different one replaces the
#: whole section instead of merging into it, since the variants take different parameters.
VARIANT_KEYS = ("curve",)


def switches_variant(base: Any, override: Any) -> bool:
    """True when *override* selects another variant of the section *base* (e.g. another curve)."""
    return (
        isinstance(base, Mapping)
        and isinstance(override, Mapping)
        and any(k in override and k in base and override[k] != base[k] for k in VARIANT_KEYS)
    )


def load_validated(path: Path, schema: type[BaseModelT]) -> BaseModelT:
    """Read *path* and validate it with the pydantic *schema*; errors name the file and key."""
    data = read_yaml(path)
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, display_path(path), data, schema) from None


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Merge *override* into *base*: mappings merge key by key, anything else replaces.

    A mapping that selects another variant (``retention: {curve: ...}`` with a different curve)
    replaces the parent's section whole.
    """
    merged = dict(base)
    for key, value in override.items():
        if (
            isinstance(value, Mapping)
            and isinstance(merged.get(key), Mapping)
            and not _is_leaf(value)
            and not switches_variant(merged[key], value)
        ):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _is_leaf(value: Mapping[str, Any]) -> bool:
    """An annotated value ``{value: ..., source: ...}`` or a distribution ``{dist: ...}`` replaces
    as a whole."""
    return "value" in value or "dist" in value


def key_provenance(tree: Mapping[str, Any], file: str, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        out[path] = file
        if isinstance(value, Mapping) and not _is_leaf(value):
            out.update(key_provenance(value, file, path + "."))
    return out


def read_tree(
    path: str | Path, _chain: tuple[Path, ...] = ()
) -> tuple[dict[str, Any], dict[str, str]]:
    """Read *path* and everything it ``extends``, deep-merged, with each key's file of origin.

    ``extends`` is a path (or a list of paths, merged in order) relative to the file.  The file's
    own keys override those it extends.  A cycle is an error.

    Returns
    -------
    tree, provenance
        The merged mapping without ``extends``, and a map from dotted key path to the file
        that set it.
    """
    path = Path(path)
    name = display_path(path)
    data = read_yaml(path)
    chain = (*_chain, path.resolve())
    parents = data.pop("extends", None)
    if parents is None:
        return data, key_provenance(data, name)
    listed = [parents] if isinstance(parents, str) else parents
    if not isinstance(listed, list) or not all(isinstance(p, str) and p for p in listed):
        raise AssumptionError(
            name, "extends", "a relative path or a list of relative paths", parents
        )
    merged: dict[str, Any] = {}
    provenance: dict[str, str] = {}
    for parent in listed:
        parent_path = path.parent / parent
        if not _is_file(parent_path):
            raise AssumptionError(
                name,
                "extends",
                f"a file that exists (looked for {display_path(parent_path)})",
                parent,
            )
        if parent_path.resolve() in chain:
            cycle = " -> ".join(display_path(p) for p in (*chain, parent_path.resolve()))
            raise AssumptionError(name, "extends", f"no cycles allowed, found {cycle}", parent)
        tree, prov = read_tree(parent_path, chain)
        merged = deep_merge(merged, tree)
        provenance.update(prov)
    merged = deep_merge(merged, data)
    provenance.update(key_provenance(data, name))
    return merged, provenance


# --- pydantic errors -> AssumptionError -------------------------------------------------------


def _unwrap(annotation: Any) -> list[Any]:
    """The model classes an annotation may hold (through Optional, unions and Annotated)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        out: list[Any] = []
        for arg in typing.get_args(annotation):
            out += _unwrap(arg)
        return out
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return []


def _walk(
    schema: type[BaseModel] | None, loc: tuple[Any, ...]
) -> tuple[list[str], type[BaseModel] | None]:
    """Turn a pydantic ``loc`` into the user's key names, dropping union tags.

    Returns the names and the model that holds the last key (for listing allowed keys).
    """
    names: list[str] = []
    models: list[type[BaseModel]] = [schema] if schema is not None else []
    parent = models
    for part in loc:
        key = str(part)
        fields: dict[str, Any] = {}
        for model in models:
            fields.update(model.model_fields)
        if key in fields:
            names.append(key)
            parent, models = models, _unwrap(fields[key].annotation)
            continue
        tagged = [m for m in models if _tag_of(m) == key]
        if tagged:  # a discriminated-union tag such as 'power_law': not a key of the file
            models = tagged
            continue
        names.append(key)
        parent, models = models, []
    return names, (parent[0] if parent else None)


def _tag_of(model: type[BaseModel]) -> str | None:
    for field in ("curve", "kind", "route"):
        info = model.model_fields.get(field)
        if info is not None:
            args = typing.get_args(info.annotation)
            if len(args) == 1 and isinstance(args[0], str):
                return args[0]
    return None


def origin_file(provenance: Mapping[str, str], path: str, default: str) -> str:
    """The file that set key *path* (or its nearest set parent); *default* if none did."""
    parts = path.split(".")
    for end in range(len(parts), 0, -1):
        hit = provenance.get(".".join(parts[:end]))
        if hit is not None:
            return hit
    return default


_BOUND_ERRORS = frozenset({"greater_than", "greater_than_equal", "less_than", "less_than_equal"})


def _range_text(info: Any) -> str:
    """'a number in [0, 1]', 'a number > 0' … from a field's annotated bounds."""
    low = high = None
    low_open = high_open = False
    metadata = list(info.metadata)
    for arg in typing.get_args(info.annotation):  # bounds inside an Optional: Annotated[...] | None
        if typing.get_origin(arg) is typing.Annotated:
            for meta in typing.get_args(arg)[1:]:
                metadata += getattr(meta, "metadata", [meta])
    for meta in metadata:
        for attr, is_low, is_open in (
            ("ge", True, False),
            ("gt", True, True),
            ("le", False, False),
            ("lt", False, True),
        ):
            value = getattr(meta, attr, None)
            if value is None:
                continue
            if is_low:
                low, low_open = value, is_open
            else:
                high, high_open = value, is_open
    kind = "a whole number" if info.annotation is int else "a number"

    def fmt(v: float) -> str:
        return f"{v:g}"

    if low is not None and high is not None:
        return f"{kind} in {'(' if low_open else '['}{fmt(low)}, {fmt(high)}{')' if high_open else ']'}"
    if low is not None:
        return f"{kind} {'>' if low_open else '≥'} {fmt(low)}"
    if high is not None:
        return f"{kind} {'<' if high_open else '≤'} {fmt(high)}"
    return kind


def _allowed(err: Mapping[str, Any], model: type[BaseModel] | None, key: str) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        if model is None:
            return "unknown key"
        fields = sorted(model.model_fields)
        near = close_matches(key, fields)
        hint = f"did you mean {', '.join(near)}? " if near else ""
        return f"unknown key; {hint}allowed here: {', '.join(fields)}"
    if kind == "missing":
        return "required key is missing"
    if kind in _BOUND_ERRORS and model is not None and key in model.model_fields:
        return f"must be {_range_text(model.model_fields[key])}"
    if kind == "string_pattern_mismatch" and err.get("ctx", {}).get("pattern") == MONTH_PATTERN:
        return "a month YYYY-MM (month 01 to 12)"
    field = model.model_fields.get(key) if model is not None else None
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        models = _unwrap(field.annotation) if field else []
        keys = sorted({name for m in models for name in m.model_fields})
        return "a mapping of keys to values" + (f" (keys: {', '.join(keys)})" if keys else "")
    if kind == "float_type" and field is not None and not isinstance(err.get("input"), bool):
        given = err.get("input")
        if isinstance(given, int):  # too large for a float
            return f"must be {_range_text(field)}"
        if isinstance(given, str):
            try:
                float(given)
            except ValueError:
                pass
            else:  # YAML 1.1 reads 1e6 (no dot) as text
                return f"must be {_range_text(field)}, written as a plain number like 1000000 or 1.0e+6"
            hint = " (a share as a fraction: 0.04 for 4%)" if given.strip().endswith("%") else ""
            return f"must be {_range_text(field)}, written as a plain number{hint}"
    if kind in ("int_type", "int_parsing", "int_from_float") and field is not None:
        return f"must be {_range_text(field)}"
    message = str(err["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message[0].lower() + message[1:] if message else kind


def validation_error(
    exc: Exception,
    file: str,
    data: Any,
    schema: type[BaseModel] | None = None,
    provenance: Mapping[str, str] | None = None,
) -> AssumptionError:
    """Convert a pydantic :class:`ValidationError` into one :class:`AssumptionError`.

    The first problem becomes the error; the others are listed after it in the message.
    """
    if not isinstance(exc, ValidationError):
        return AssumptionError(file, "", f"could not be validated: {exc}")
    errors = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        is_key = bool(loc) and loc[-1] == "[key]"  # a bad key of a mapping such as retention.points
        names, model = _walk(schema, loc[:-1] if is_key else loc)
        key_path = ".".join(names)
        where = origin_file(provenance or {}, key_path, file)
        allowed = _allowed(err, model, names[-1] if names else "")
        if is_key:
            allowed = allowed.replace("input should", "the key should", 1)
        tag_error = err["type"] in ("union_tag_invalid", "union_tag_not_found")
        if tag_error and model is not None and names:
            # a bad or missing 'curve:' of a discriminated union: name that key and its choices
            ctx = err.get("ctx", {})
            tag_key = str(ctx.get("discriminator", "")).strip("'\"")
            field = model.model_fields.get(names[-1])
            tags = [t for t in map(_tag_of, _unwrap(field.annotation) if field else []) if t]
            if tag_key and tags:
                key_path = f"{key_path}.{tag_key}"
                where = origin_file(provenance or {}, key_path, file)
                allowed = f"one of {', '.join(tags)}"
                if err["type"] == "union_tag_invalid":
                    given = err.get("input")
                    if isinstance(given, dict) and tag_key in given:
                        given = given[tag_key]
                    else:
                        given = ctx.get("tag")
                    errors.append(AssumptionError(where, key_path, allowed, given))
                else:
                    missing = f"required key is missing; {allowed}"
                    errors.append(AssumptionError(where, key_path, missing))
                continue
        if err["type"] == "missing":
            errors.append(AssumptionError(where, key_path, allowed))
        else:
            errors.append(AssumptionError(where, key_path, allowed, err.get("input")))
    first = errors[0]
    if len(errors) > 1:
        first = AssumptionError(
            first.file,
            first.key_path,
            first.allowed + "".join(f"\n  also {e.message}" for e in errors[1:]),
            first.value,
        )
    return first
