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
from tcpmf.schema.joint_reach import check_joint_reach

__all__ = [
    "BAD",
    "GOOD",
    "PRODUCTS",
    "RELATED_PAIRS",
    "all_mutations",
    "classify",
    "cli_outcome",
    "describe",
    "drawn_pairs",
    "drawn_value",
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
#: figures (where the unmutated product has none), or drawn inputs that validation accepts and a
#: Monte Carlo run then refuses ("late": ``validate`` must refuse everything ``run`` would).
BAD = ("keyless", "traceback", "warning", "nan", "inf", "late")

#: Pairs of keys of bundled products that one rule across keys binds (``_check_relations``), with
#: the domain each is drawn from: (low, high, whole numbers only) or options.
RELATED_PAIRS: list[tuple[str, str, Any, str, Any]] = [
    ("ai_companion.yaml", "retention.floor", (0, 0.6, False), "retention.r1", (0.01, 0.8, False)),
    (
        "tob_private_coding_assistant.yaml",
        "deal.seat_price_usd_per_month",
        (0, 100, False),
        "deal.project_fee_usd",
        (0, 1e6, False),
    ),
    (
        "tob_private_coding_assistant.yaml",
        "deal.delivery_person_days",
        (0, 200, False),
        "deal.usd_per_person_day",
        (0, 2000, False),
    ),
    (
        "tob_private_coding_assistant.yaml",
        "deal.seats",
        (0, 5000, False),
        "deal.seat_price_usd_per_month",
        (0, 100, False),
    ),
    (
        "writing_assistant.yaml",
        "revenue.subscription.price_elasticity",
        (0, 3, False),
        "revenue.subscription.reference_price_usd_per_month",
        (0, 40, False),
    ),
    (
        "ai_companion.yaml",
        "model.name",
        ["deepseek-v3", "gemini-2.0-flash", "gpt-4o"],
        "model.cached_input_share",
        (0, 0.9, False),
    ),
    (
        "ai_friends_selfhosted.yaml",
        "usage.input_tokens_per_call",
        (100, 300_000, True),
        "model.self_host.gpus_per_replica",
        (1, 8, True),
    ),
]


@st.composite
def drawn_number(draw: st.DrawFn, low: float, high: float, whole: bool) -> float:
    """A number of [low, high], often an end, rounded so that ranges often touch exactly."""
    x = draw(
        st.sampled_from([low, high]) | st.floats(low, high, allow_nan=False, allow_subnormal=False)
    )
    return float(round(x)) if whole else float(f"{x:.2g}") if abs(x) > 1e-6 else 0.0


@st.composite
def drawn_value(draw: st.DrawFn, domain: Any, fixed: bool) -> Any:
    """A distribution over *domain* (low, high, whole) or options; a plain value if *fixed* may be."""
    if isinstance(domain, list):
        options = draw(st.lists(st.sampled_from(domain), min_size=1, max_size=3, unique=True))
        if fixed and len(options) == 1:
            return options[0]
        return {"dist": "choice", "options": options}
    low, high, whole = domain
    kind = draw(st.sampled_from(["uniform", "choice", "fixed"] if fixed else ["uniform", "choice"]))
    if kind == "fixed":
        return draw(drawn_number(low, high, whole))
    if kind == "choice" or whole:
        options = draw(
            st.lists(drawn_number(low, high, whole), min_size=1, max_size=3, unique=True)
        )
        return {"dist": "choice", "options": [int(o) if whole else o for o in options]}
    a, b = sorted([draw(drawn_number(low, high, whole)), draw(drawn_number(low, high, whole))])
    if a == b:
        return a if fixed else {"dist": "choice", "options": [a]}
    return {"dist": "uniform", "low": a, "high": b}


@st.composite
def drawn_pairs(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A bundled product with distributions on two keys one rule binds, or on two of its numbers
    (a range around each nominal value)."""
    if draw(st.booleans(), label="related"):
        name, key_a, domain_a, key_b, domain_b = draw(st.sampled_from(RELATED_PAIRS))
        return name, {
            key_a: draw(drawn_value(domain_a, fixed=False)),
            key_b: draw(drawn_value(domain_b, fixed=True)),
        }
    name = draw(st.sampled_from(sorted(loaded())), label="product")
    pair = draw(st.lists(st.sampled_from(keys()[name]), min_size=2, max_size=2, unique=True))
    out = {}
    for key in pair:
        nominal = float(_raw_number(loaded()[name]._raw, key))
        low, high = sorted((nominal * draw(st.floats(0, 1)), nominal * draw(st.floats(1, 3))))
        whole = nominal.is_integer() and abs(nominal) > 1
        out[key] = draw(drawn_value((low, high, whole), fixed=False))
    return name, out


def _raw_number(tree: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        tree = tree[part]
    return tree["value"] if isinstance(tree, dict) else tree


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


def all_mutations() -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
    """:func:`mutations`, and one case in four :func:`drawn_pairs` (validate, then a short run)."""
    return st.one_of(mutations(), mutations(), mutations(), drawn_pairs())


def classify(name: str, overrides: dict[str, Any]) -> tuple[str, str]:
    """The outcome of loading the product *name* with *overrides* and evaluating it, and a detail."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            scenario = loaded()[name].override(overrides)
            check_joint_reach(scenario)  # as `tcpmf validate` and tcpmf.load check a file
            result = tcpmf.evaluate(scenario)
            late = _late_refusal(scenario)
            if late:
                return "late", late
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


def _late_refusal(scenario: tcpmf.Scenario) -> str:
    """What a short Monte Carlo run of a validated scenario with distributions refuses ("" if nothing)."""
    if not scenario.uncertainties:
        return ""
    try:
        tcpmf.monte_carlo(scenario, 8, seed=0)
    except tcpmf.TcpmfError as exc:  # an AssumptionError or a result that is not finite
        return f"{type(exc).__name__}: {exc}"
    return ""


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
