"""Fuzz the loader: malformed assumption files load or fail with one clean AssumptionError.

Over 1,000 files in all (tree mutations, text mutations and random bytes, ``extends`` chains) are
written from the minimal valid scenario.  For each, :func:`tcpmf.load` must either return a
:class:`tcpmf.Scenario` whose numbers are all finite or raise :class:`tcpmf.AssumptionError` whose
message names one of the files written; any other exception fails the test.  A tiny catalog is
written for the run (``$TCPMF_ASSUMPTIONS``) so that the outcome does not depend on the bundled data.
"""

from __future__ import annotations

import copy
import math
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import tcpmf

FUZZ = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# --- a tiny, valid catalog ----------------------------------------------------------------------

_SOURCE = "fuzz test fixture"
_CATALOG: dict[str, Any] = {
    "models.yaml": {
        "models": {
            "gpt-4o": {
                "provider": "OpenAI",
                "tier": "frontier",
                "prices": [
                    {
                        "date": "2024-05",
                        "usd_per_mtok_in": 5,
                        "usd_per_mtok_out": 15,
                        "source": _SOURCE,
                    },
                    {
                        "date": "2024-08",
                        "usd_per_mtok_in": 2.5,
                        "usd_per_mtok_out": 10,
                        "usd_per_mtok_cached_in": 1.25,
                        "source": _SOURCE,
                    },
                ],
            },
            "qwen-max": {
                "provider": "Alibaba",
                "tier": "frontier",
                "prices": [
                    {
                        "date": "2024-09",
                        "cny_per_mtok_in": 20,
                        "cny_per_mtok_out": 60,
                        "source": _SOURCE,
                    }
                ],
            },
        }
    },
    "gpus.yaml": {
        "gpus": {
            "h100-sxm": {
                "vendor": "NVIDIA",
                "memory_gb": 80,
                "memory_bandwidth_tb_per_s": 3.35,
                "bf16_dense_tflops": 989,
                "spec_source": _SOURCE,
                "rents": [{"date": "2024-01", "usd_per_gpu_hour": 2.5, "source": _SOURCE}],
            }
        }
    },
    "fx.yaml": {"cny_per_usd": [{"date": "2021-01", "cny_per_usd": 7.0, "source": _SOURCE}]},
}


@pytest.fixture
def fuzz_cases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder for the fuzz cases (one sub-folder each), with the tiny catalog in force."""
    catalog = tmp_path / "assumptions" / "catalog"
    catalog.mkdir(parents=True)
    for name, data in _CATALOG.items():
        (catalog / name).write_text(yaml.safe_dump(data), encoding="utf-8")
    monkeypatch.setenv("TCPMF_ASSUMPTIONS", str(tmp_path / "assumptions"))
    cases = tmp_path / "cases"
    cases.mkdir()
    return cases


def new_case(root: Path) -> Path:
    return Path(tempfile.mkdtemp(dir=root))


# --- the check ----------------------------------------------------------------------------------


def _numbers(tree: Any) -> Iterator[float]:
    if isinstance(tree, dict):
        for value in tree.values():
            yield from _numbers(value)
    elif isinstance(tree, (list, tuple)):
        for value in tree:
            yield from _numbers(value)
    elif isinstance(tree, (int, float)) and not isinstance(tree, bool):
        yield float(tree)


def check_clean(err: tcpmf.AssumptionError, files: set[str]) -> None:
    msg = str(err)
    assert msg == err.message
    assert "Traceback" not in msg
    assert " object at 0x" not in msg, msg
    assert err.file and msg.startswith(err.file), msg
    assert err.file in files or Path(err.file).name in files, msg


def load_clean(path: Path, files: set[str]) -> tcpmf.Scenario | None:
    """Load *path*; a failure must be an AssumptionError naming one of *files*."""
    try:
        scenario = tcpmf.load(path)
    except tcpmf.AssumptionError as err:
        check_clean(err, files)
        event(f"AssumptionError at {err.key_path.split('.')[0] or '(whole file)'}")
        return None
    event("loaded")
    bad = [x for x in _numbers(scenario.model_dump()) if not math.isfinite(x)]
    assert not bad, f"{path.name} loaded with non-finite numbers {bad}"
    return scenario


# --- strategies ---------------------------------------------------------------------------------

_SPECIAL = [
    -1,
    -0.5,
    -0.0,
    0,
    1,
    1.0000001,
    2,
    1e6,
    1e12,
    1e300,
    -1e300,
    10**400,
    -(10**400),
    "",
    " ",
    "nan",
    ".inf",
    "1e3",
    "2024-13",
    "2025-01",
    "2025-1",
    "CNY",
    "USD",
    "EUR",
    "power_law",
    "plateau",
    "sbg",
    "table",
    "weibull",
    "api",
    "self_host",
    "gpt-4o",
    "gpt-4oo",
    "qwen-max",
    "h100-sxm",
    "productivity",
    "gaming",
    "toc",
]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(_SPECIAL),
    st.text(max_size=16),
    st.dates(),
)
KEYS = st.one_of(
    st.text(max_size=12),
    st.integers(-5, 5),
    st.booleans(),
    st.none(),
    st.sampled_from(["value", "source", "assumed", "currency", "note", "extends", "curve"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=3)),
    max_leaves=6,
)
ANNOTATION = st.dictionaries(
    st.sampled_from(["source", "assumed", "currency", "note", "sauce", "value"]),
    st.one_of(st.sampled_from(["a survey", "", "CNY", "USD", "JPY"]), SCALARS),
    max_size=3,
)
# Values that trip the checks across keys: self-host without a section, floors above r1,
# paid budgets without CAC, catalog prices, cached input, CNY amounts.
RELATIONS: list[tuple[str, Any]] = [
    ("model.route", "self_host"),
    (
        "model.self_host",
        {
            "gpu": "h100-sxm",
            "output_tokens_per_s_per_replica": 1000,
            "input_tokens_per_s_per_replica": 10000,
            "utilization": 0.5,
        },
    ),
    (
        "model.self_host",
        {
            "gpu": "a100-sxmm",
            "output_tokens_per_s_per_replica": 1000,
            "input_tokens_per_s_per_replica": 10000,
            "utilization": 0.5,
        },
    ),
    ("model.usd_per_mtok_in", None),
    ("model.usd_per_mtok_out", None),
    ("model.cached_input_share", 0.5),
    ("model.name", "qwen-max"),
    ("retention", {"curve": "plateau", "r1": 0.3, "floor": 0.6, "tau": 2}),
    ("retention", {"curve": "table", "points": {1: 0.5, 3: 0.3}}),
    ("retention", {"curve": "table", "points": {0: 0.5, "3": 0.3}}),
    ("retention", {"curve": "sbg", "alpha": 0, "beta": 1}),
    ("growth.paid_budget_usd_per_month", 10000),
    ("growth.cac_usd", 0),
    ("costs.fixed_usd_per_month", {"value": 300000, "currency": "CNY", "source": "a survey"}),
    ("usage.sessions_per_day", {"value": 3, "currency": "CNY"}),
    ("start_month", "2019-01"),
]


def key_paths(tree: dict[Any, Any], prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for key, value in tree.items():
        out.append((*prefix, key))
        if isinstance(value, dict):
            out += key_paths(value, (*prefix, key))
    return out


def sections(tree: dict[Any, Any], prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    for key, value in tree.items():
        if isinstance(value, dict):
            out += sections(value, (*prefix, key))
    return out


def node_at(tree: dict[Any, Any], path: tuple[Any, ...]) -> Any:
    for part in path:
        tree = tree[part]
    return tree


def set_dotted(tree: dict[Any, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    node: Any = tree
    for part in parents:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[last] = value


def mutate(draw: Any, tree: dict[Any, Any]) -> dict[Any, Any]:
    """Apply one random mutation to *tree* in place."""
    op = draw(st.sampled_from(["delete", "replace", "insert", "annotate", "relation", "retype"]))
    paths = key_paths(tree)
    if op == "delete" and paths:
        path = draw(st.sampled_from(paths))
        del node_at(tree, path[:-1])[path[-1]]
    elif op == "replace" and paths:
        path = draw(st.sampled_from(paths))
        node_at(tree, path[:-1])[path[-1]] = draw(VALUES)
    elif op == "insert":
        section = node_at(tree, draw(st.sampled_from(sections(tree))))
        near = [f"{k}s" for k in section if isinstance(k, str)] + [
            f"_{k}" for k in section if isinstance(k, str)
        ]
        key = draw(st.one_of(KEYS, st.sampled_from(near or ["x"])))
        section[key] = draw(VALUES)
    elif op == "annotate" and paths:
        path = draw(st.sampled_from(paths))
        parent = node_at(tree, path[:-1])
        annotated = draw(ANNOTATION)
        annotated["value"] = draw(st.one_of(st.just(parent[path[-1]]), VALUES))
        parent[path[-1]] = annotated
    elif op == "relation":
        dotted, value = draw(st.sampled_from(RELATIONS))
        set_dotted(tree, dotted, copy.deepcopy(value))
    elif op == "retype" and paths:
        path = draw(
            st.sampled_from([p for p in paths if isinstance(node_at(tree, p), dict)] or paths)
        )
        node_at(tree, path[:-1])[path[-1]] = draw(st.one_of(st.lists(SCALARS, max_size=3), SCALARS))
    return tree


def dump(tree: Any) -> str:
    return yaml.safe_dump(tree, sort_keys=False, allow_unicode=True)


# --- 1. tree mutations --------------------------------------------------------------------------


@settings(FUZZ, max_examples=450)
@given(data=st.data())
def test_fuzz_tree_mutations(
    data: st.DataObject, fuzz_cases: Path, valid_scenario_dict: dict[str, Any]
) -> None:
    tree = copy.deepcopy(valid_scenario_dict)
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        mutate(data.draw, tree)
    path = new_case(fuzz_cases) / "scenario.yaml"
    path.write_text(dump(tree), encoding="utf-8")
    load_clean(path, {"scenario.yaml"})


# --- 2. text mutations, random text and bytes ---------------------------------------------------

_YAMLISH = " :-\n\t[]{}&*!|>'\"#?,.%@`~0123456789eE+abnul"
_JUNK = st.one_of(
    st.sampled_from(
        [
            "\t",
            ":",
            ": ",
            "- ",
            "  ",
            "\n",
            "[",
            "]",
            "{",
            "}",
            "&a ",
            "*a",
            "!!int ",
            "!!float ",
            "!!python/object:os.system ",
            "? ",
            "'",
            '"',
            "|",
            ">",
            "---\n",
            "...\n",
            "<<: ",
            "\x00",
            "\ufeff",
            "2024-13-01",
            "extends: x.yaml\n",
            ".nan",
            "-.inf",
            "~",
        ]
    ),
    st.text(alphabet=_YAMLISH, max_size=8),
)


_BAD_SCALARS = st.one_of(
    st.sampled_from(
        [
            "2024-13-01",
            "2025-02-30",
            "!!int x",
            "!!float x",
            "!!bool maybe",
            "!!timestamp now",
            "!!binary '!'",
            "!!set {a}",
            "&a {b: *a}",
            "&a [*a]",
            "*nowhere",
            "!!str [1]",
            "{[1]: 2}",
            "{? {a: 1}: 2}",
            "!!omap [1]",
            "1e400",
            "1.0e+400",
            "0x_",
            "0o9",
            ".NaN",
            "-.Inf",
            "[" * 600,
            "'unterminated",
            "|\n  text",
            "!custom x",
        ]
    ),
    _JUNK,
)


@st.composite
def text_mutation(draw: Any, text: str) -> str:
    lines = text.splitlines(keepends=True)
    op = draw(
        st.sampled_from(["insert", "delete", "indent", "swap", "duplicate", "truncate", "revalue"])
    )
    if op == "revalue":  # a line's value replaced by an odd scalar
        keyed = [i for i, line in enumerate(lines) if ": " in line]
        if keyed:
            i = draw(st.sampled_from(keyed))
            lines[i] = lines[i].split(": ", 1)[0] + ": " + draw(_BAD_SCALARS) + "\n"
            return "".join(lines)
    if op == "insert":
        at = draw(st.integers(0, len(text)))
        return text[:at] + draw(_JUNK) + text[at:]
    if op == "delete":
        start = draw(st.integers(0, len(text)))
        return text[:start] + text[start + draw(st.integers(1, 12)) :]
    if op == "indent" and lines:
        i = draw(st.integers(0, len(lines) - 1))
        lines[i] = draw(st.sampled_from(["", " ", "   ", "\t", "      "])) + lines[i].lstrip(" ")
    elif op == "swap" and len(lines) > 1:
        i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
        lines[i], lines[j] = lines[j], lines[i]
    elif op == "duplicate" and lines:
        i = draw(st.integers(0, len(lines) - 1))
        lines.insert(i, lines[i])
    elif op == "truncate":
        return text[: draw(st.integers(0, len(text)))]
    return "".join(lines)


@settings(FUZZ, max_examples=300)
@given(data=st.data())
def test_fuzz_text_and_bytes(
    data: st.DataObject, fuzz_cases: Path, valid_scenario_dict: dict[str, Any]
) -> None:
    path = new_case(fuzz_cases) / "scenario.yaml"
    kind = data.draw(st.sampled_from(["mutated", "mutated", "mutated", "yamlish", "text", "bytes"]))
    if kind == "bytes":
        path.write_bytes(data.draw(st.binary(max_size=300)))
    else:
        if kind == "mutated":
            text = dump(valid_scenario_dict)
            for _ in range(data.draw(st.integers(1, 3), label="edits")):
                text = data.draw(text_mutation(text))
        elif kind == "yamlish":
            text = data.draw(st.text(alphabet=_YAMLISH, max_size=200))
        else:
            text = data.draw(st.text(max_size=200))
        try:
            path.write_text(text, encoding="utf-8")
        except UnicodeEncodeError:
            path.write_bytes(text.encode("utf-8", "surrogatepass"))
    load_clean(path, {"scenario.yaml"})


# --- 3. extends chains, missing parents and cycles ----------------------------------------------

_FILES = ("scenario.yaml", "base.yaml", "mid.yaml")
EXTENDS = st.one_of(
    st.none(),
    st.sampled_from(
        [*_FILES, "missing.yaml", "adir", "", "../nowhere.yaml", "x" * 300 + ".yaml", 3, True]
    ),
    st.lists(st.sampled_from([*_FILES, "missing.yaml", None, 7]), max_size=3),
    st.dictionaries(st.sampled_from(["file", "path"]), st.sampled_from(_FILES), max_size=1),
)


@settings(FUZZ, max_examples=250)
@given(data=st.data())
def test_fuzz_extends(
    data: st.DataObject, fuzz_cases: Path, valid_scenario_dict: dict[str, Any]
) -> None:
    case = new_case(fuzz_cases)
    (case / "adir").mkdir()
    trees: dict[str, dict[str, Any]] = {name: {} for name in _FILES}
    for key, value in valid_scenario_dict.items():  # spread the scenario over the files
        trees[data.draw(st.sampled_from(_FILES), label=key)][key] = copy.deepcopy(value)
    chain: dict[str, list[Any]] = {
        "scenario.yaml": ["mid.yaml", ["base.yaml", "mid.yaml"]],
        "mid.yaml": ["base.yaml"],
    }
    for name in _FILES:  # mostly the chain scenario -> mid -> base, sometimes anything
        usual = st.sampled_from(chain.get(name, [None]))
        parents = data.draw(st.one_of(usual, usual, EXTENDS), label=f"{name} extends")
        if parents is not None:
            trees[name] = {"extends": parents, **trees[name]}
    for _ in range(data.draw(st.integers(0, 2), label="mutations")):
        mutate(data.draw, trees[data.draw(st.sampled_from(_FILES))])
    for name in _FILES:
        if name == "scenario.yaml" or data.draw(st.integers(0, 5), label=f"write {name}"):
            (case / name).write_text(dump(trees[name]), encoding="utf-8")
    load_clean(case / "scenario.yaml", set(_FILES))


# --- 4. Scenario.override -----------------------------------------------------------------------


@settings(FUZZ, max_examples=150)
@given(data=st.data())
def test_fuzz_override(data: st.DataObject, fuzz_cases: Path, valid_scenario_file: Path) -> None:
    scenario = tcpmf.load(valid_scenario_file)
    known = [".".join(map(str, p)) for p in key_paths(scenario._raw)]
    dotted = data.draw(
        st.one_of(
            st.sampled_from(known),
            st.sampled_from([d for d, _ in RELATIONS]),
            st.text(alphabet="abcdeimnorstu_.", min_size=1, max_size=20),
        )
    )
    value = data.draw(st.one_of(VALUES, ANNOTATION.map(lambda a: {**a, "value": 1})))
    try:
        changed = scenario.override({dotted: value})
    except tcpmf.AssumptionError as err:
        check_clean(err, {"<override>", "scenario.yaml"})
    else:
        assert all(math.isfinite(x) for x in _numbers(changed.model_dump()))
