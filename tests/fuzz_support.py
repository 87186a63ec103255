"""Hostile mutations of the bundled product files and how one is classified (issue 15).

Shared by ``tests/test_fuzz_bundled.py`` (a few hundred cases, asserting) and
``benchmarks/bench_fuzz.py`` (the nightly size, ≥ 10,000 cases, counting).  A case takes one
bundled product and overrides it: a numeric key by a hostile value (wrong type, NaN/inf, extremes,
a huge or vanishing number, a distribution, a CNY amount), an unknown key beside one, a whole
section by a hostile value, or two keys at once.  It is then loaded and evaluated with every
warning turned into an error, and its outcome is one of :data:`GOOD` or :data:`BAD`.
"""

from __future__ import annotations

import math
import re
import sys
import warnings
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from hypothesis import strategies as st

import tcpmf
from tcpmf.core.yamlio import assumptions_dir

__all__ = [
    "BAD",
    "GOOD",
    "PRODUCTS",
    "classify",
    "cli_outcome",
    "describe",
    "hostile",
    "loaded",
    "mutations",
    "nested",
    "numeric_keys",
    "write_case",
]

PRODUCTS = sorted((assumptions_dir() / "products").glob("*.yaml"))

#: Outcomes that meet the standard: finite results, or a refusal naming its key path.
GOOD = ("finite", "refused")
#: Outcomes that do not: a refusal naming no key, another exception (a traceback at the terminal),
#: a warning that would leak to the terminal, an infinity in the results or a NaN in a month's
#: figures (where the unmutated product has none).
BAD = ("keyless", "traceback", "warning", "nan", "inf")


def numeric_keys(tree: Any, prefix: str = "") -> list[str]:
    """Dotted paths of the numbers in a raw scenario tree (a ``{value: …}`` wrapper counts as one)."""
    out: list[str] = []
    if isinstance(tree, dict):
        if (
            "value" in tree
            and isinstance(tree["value"], (int, float))
            and not isinstance(tree["value"], bool)
        ):
            return [prefix]
        for key, value in tree.items():
            out += numeric_keys(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(tree, (int, float)) and not isinstance(tree, bool):
        out.append(prefix)
    return out


@cache
def loaded() -> dict[str, tcpmf.Scenario]:
    """Every bundled product, loaded once."""
    return {path.name: tcpmf.load(path) for path in PRODUCTS}


@cache
def keys() -> dict[str, list[str]]:
    return {name: numeric_keys(s._raw) for name, s in loaded().items()}


@cache
def _base_nan_columns(name: str) -> frozenset[str]:
    """The float columns of the unmutated product's monthly table that hold a NaN (e.g. a business
    product's per-MAU columns)."""
    return frozenset(_float_nan_columns(tcpmf.evaluate(loaded()[name]).monthly))


def _float_nan_columns(frame: pd.DataFrame) -> list[str]:
    floats = frame.select_dtypes("float")
    return [c for c in floats.columns if floats[c].isna().any()]


hostile = st.one_of(
    st.sampled_from(
        [
            math.nan,
            math.inf,
            -math.inf,
            -1,
            0,
            10**400,
            10**5000,
            -(10**5000),
            1e308,
            "x",
            "1,200",
            "12%",
            None,
            True,
            [],
            {},
            [1, 2],
            {"a": 1},
        ]
    ),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([5e-324, -5e-324, 1e-300, 1e-200, 1e-100, 9.99e-101, 1e-30]),
    st.integers(-(10**30), 10**30),
    st.builds(
        lambda v: {"value": v, "currency": "CNY", "assumed": "fuzz"},
        st.one_of(st.floats(-1e30, 1e30), st.integers(-(10**400), 10**400)),
    ),
    st.builds(
        lambda lo, width: {"dist": "uniform", "low": lo, "high": lo + width},
        st.floats(-1e6, 1e6),
        st.floats(1e-6, 1e6),
    ),
    st.builds(
        lambda m, sd: {"dist": "normal", "mean": m, "sd": sd},
        st.floats(-1e6, 1e6),
        st.floats(1e-6, 1e6),
    ),
    st.builds(lambda v: {"dist": "choice", "options": [v]}, st.floats(-1e9, 1e9)),
)


@st.composite
def mutations(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A bundled product's name and the overrides that make it hostile."""
    name = draw(st.sampled_from(sorted(loaded())), label="product")
    numeric = keys()[name]
    kind = draw(
        st.sampled_from(["value", "value", "value", "two values", "unknown key", "section"]),
        label="kind",
    )
    if kind == "value":
        return name, {draw(st.sampled_from(numeric), label="key"): draw(hostile, label="value")}
    if kind == "two values":
        first, second = draw(
            st.lists(st.sampled_from(numeric), min_size=2, max_size=2, unique=True), label="keys"
        )
        return name, {first: draw(hostile, label="first"), second: draw(hostile, label="second")}
    key = draw(st.sampled_from(numeric), label="key")
    if kind == "unknown key":
        parent = key.rsplit(".", 1)[0] if "." in key else ""
        unknown = draw(
            st.sampled_from(["valeu", "x", "price_usd", "__class__", "1"]), label="unknown"
        )
        return name, {f"{parent}.{unknown}" if parent else unknown: draw(hostile, label="value")}
    section = key.split(".")[0]
    return name, {section: draw(hostile, label="section value")}


def classify(name: str, overrides: dict[str, Any]) -> tuple[str, str]:
    """The outcome of loading the product *name* with *overrides* and evaluating it, and a detail."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            scenario = loaded()[name].override(overrides)
            result = tcpmf.evaluate(scenario)
        except tcpmf.AssumptionError as exc:
            if exc.key_path and str(exc).startswith(exc.file):
                return "refused", exc.key_path
            return "keyless", str(exc)
        except Warning as exc:
            return "warning", f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # every other exception would print a traceback
            return "traceback", f"{type(exc).__name__}: {exc}"
    numbers = result.summary.select_dtypes("number").to_numpy(float)
    if (
        np.isinf(numbers).any()
        or np.isinf(result.monthly.select_dtypes("number").to_numpy(float)).any()
    ):
        return "inf", ""
    # the summary's NA (a payback that never comes, a price per token without tokens) is documented
    # (docs/model.md §5); a month's figure is always a number
    new_nan = [c for c in _float_nan_columns(result.monthly) if c not in _base_nan_columns(name)]
    if new_nan:
        return "nan", ", ".join(new_nan)
    return "finite", ""


# --------------------------------------------------------------------------- the same cases at the CLI
def nested(overrides: dict[str, Any]) -> dict[str, Any]:
    """Dotted overrides as the nested mapping a YAML file would hold."""
    tree: dict[str, Any] = {}
    for dotted, value in overrides.items():
        node = tree
        *parents, last = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})  # mutations never set a key and one inside it
        node[last] = value
    return tree


def write_case(folder: Path, index: int, name: str, overrides: dict[str, Any]) -> Path:
    """A YAML file that extends the bundled product *name* and sets *overrides*."""
    path = folder / f"case_{index}.yaml"
    tree = {"extends": str((assumptions_dir() / "products" / name).resolve()), **nested(overrides)}
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)  # a file may hold an integer of any length
    try:
        text = yaml.safe_dump(tree, sort_keys=False)
    finally:
        sys.set_int_max_str_digits(limit)
    path.write_text(text, encoding="utf-8")
    return path


def cli_outcome(command: str, path: Path) -> tuple[str, str]:
    """Run ``tcpmf COMMAND PATH`` in this process: "finite" (exit 0), "refused" (exit 1 with one
    message naming the file and a key), "keyless" (exit 1 naming no key) or "traceback"."""
    from typer.testing import CliRunner

    from tcpmf.cli.main import app

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = CliRunner().invoke(app, [command, str(path)], env={"COLUMNS": "200"})
    text = result.output
    if (
        result.exception is not None and not isinstance(result.exception, SystemExit)
    ) or "Traceback" in text:
        return "traceback", f"{type(result.exception).__name__}: {result.exception}"
    if re.search(r"\w+Warning: ", text):
        return "warning", text[:300]
    if result.exit_code == 0:
        return "finite", ""
    message = result.stderr.strip()
    if result.exit_code == 1 and _REFUSAL.match(message):
        return "refused", message[:600]
    return "keyless", message[:300]


#: ``error: FILE.yaml: key.path = value: allowed`` (or ``key.path: allowed``), one message; or a
#: file that is not valid YAML, refused at its line and column.
_REFUSAL = re.compile(
    r"^error: \S+\.yaml: (\w[\w.\[\]'-]*( = |: )|is not valid YAML \(.* at line \d+, column \d+\)$)",
    re.DOTALL,
)


def describe(case: Any, width: int = 400) -> str:
    """``repr`` of a case, shortened (an integer of thousands of digits has no plain repr)."""
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        text = repr(case)
    finally:
        sys.set_int_max_str_digits(limit)
    return text if len(text) <= width else f"{text[:width]}... ({len(text):,} characters)"
