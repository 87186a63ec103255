"""Portfolios: product ideas with their uncertain inputs, for Monte Carlo and batch runs.

A portfolio file (``assumptions/portfolios/*.yaml``)::

    name: Consumer stages, 2025
    sampling: lhs                 # lhs (Latin hypercube, default) or mc (plain Monte Carlo)
    products:
      - scenario: ../products/writing_assistant.yaml     # a path relative to this file ...
        uncertain:                                       # dotted key -> distribution
          usage.sessions_per_day: {dist: lognormal, p05: 0.8, p95: 3.0, assumed: "..."}
          retention.r1: {dist: triangular, low: 0.3, mode: 0.45, high: 0.6, assumed: "..."}
        correlations:                                    # Spearman rank correlations
          - [usage.sessions_per_day, retention.r1, 0.5]
      - name: Companion on a cheaper model
        scenario:                                        # ... or inline (may extend a file)
          extends: ../products/ai_companion.yaml
          model: {name: {dist: choice, options: [gpt-4o-mini, deepseek-v3], weights: [0.5, 0.5]}}

Distributions may also stand inside the scenario files themselves; the portfolio's ``uncertain``
entries take precedence.  A portfolio distribution without ``base`` takes as its nominal value
(tornado base, point runs) the number the product file has at that key, when it can draw it, so
that the product's base case stays the file's; elsewhere the nominal value is the median.  Every distribution is checked against the schema: a distribution that
can draw a value the key does not allow is refused when the portfolio is loaded.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from tcpmf.core.errors import AssumptionError, TcpmfError
from tcpmf.core.yamlio import deep_merge, display_path, key_provenance, read_tree, read_yaml
from tcpmf.schema.distributions import (
    U_HIGH,
    U_LOW,
    Choice,
    Distribution,
    parse_distribution,
    support_probe,
)
from tcpmf.schema.joint_reach import check_joint_reach
from tcpmf.schema.scenario import Scenario, load, looks_like_portfolio, validate_tree

__all__ = ["Analysable", "Portfolio", "Product", "as_portfolio", "load_portfolio"]

Sampling = Literal["lhs", "mc"]
SAMPLING_NAMES: dict[str, Sampling] = {
    "lhs": "lhs",
    "latin_hypercube": "lhs",
    "mc": "mc",
    "monte_carlo": "mc",
}
PORTFOLIO_KEYS = ("name", "description", "sampling", "products")
PRODUCT_KEYS = ("name", "scenario", "uncertain", "correlations")


@dataclass(frozen=True)
class Product:
    """One product idea: its nominal scenario, the distributions of its uncertain inputs and their
    rank correlations ``(key_a, key_b, rho)``."""

    name: str
    scenario: Scenario
    correlations: tuple[tuple[str, str, float], ...] = ()
    #: the scenario whose distributions' reach :func:`load_portfolio` checked already (with messages
    #: that name the portfolio's entries); a product made with another scenario is checked anew
    checked_for: Scenario | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        # Batch evaluation trusts drawn values to be in range (tcpmf.uncertainty.batch.evaluate_inputs).
        if self.checked_for is not self.scenario:
            for key, dist in self.scenario.uncertainties.items():
                check_support(self.scenario, key, dist, self.scenario.file, key)
            check_joint_reach(self.scenario)

    @property
    def uncertainties(self) -> dict[str, Distribution]:
        """Distributions by dotted key path, in a stable (sorted) order."""
        return dict(sorted(self.scenario.uncertainties.items()))

    def spec(self) -> dict[str, Any]:
        """Everything that decides this product's draws, as plain JSON-able data."""
        return {
            "name": self.name,
            "scenario": self.scenario.model_dump(mode="json"),
            "uncertain": {k: d.spec() for k, d in self.uncertainties.items()},
            "correlations": [list(c) for c in self.correlations],
        }


@dataclass(frozen=True)
class Portfolio:
    """Products evaluated together; see the module docstring for the file format."""

    name: str
    products: tuple[Product, ...]
    sampling: Sampling = "lhs"
    file: str = "<memory>"
    description: str = field(default="", compare=False)

    def spec(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "sampling": self.sampling,
            "products": [p.spec() for p in self.products],
        }

    def spec_hash(self) -> str:
        """SHA-256 of the canonical JSON of :meth:`spec`: equal hashes, equal draws."""
        text = json.dumps(self.spec(), sort_keys=True, separators=(",", ":"), allow_nan=False)
        return hashlib.sha256(text.encode()).hexdigest()

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.products]


def _nested(dotted: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in dotted.items():
        node = out
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


def _scenario_tree(
    spec: Any, portfolio: Path, where: str
) -> tuple[dict[str, Any], dict[str, str], str]:
    """The raw tree, provenance and display name of a product's ``scenario`` (path or inline)."""
    name = display_path(portfolio)
    if isinstance(spec, str) and spec:
        path = portfolio.parent / spec
        if not path.is_file():
            raise AssumptionError(
                name, where, f"a scenario file that exists (looked for {display_path(path)})", spec
            )
        raw, provenance = read_tree(path)
        return raw, provenance, display_path(path)
    if not isinstance(spec, dict):
        raise AssumptionError(name, where, "a path to a scenario file, or a scenario mapping", spec)
    data = copy.deepcopy(spec)
    parents = data.pop("extends", None)
    merged: dict[str, Any] = {}
    origins: dict[str, str] = {}
    if parents is not None:
        for parent in (
            [parents]
            if isinstance(parents, str)
            else parents
            if isinstance(parents, list)
            else [None]
        ):
            parent_path = portfolio.parent / parent if isinstance(parent, str) else None
            if parent_path is None or not parent_path.is_file():
                raise AssumptionError(
                    name,
                    f"{where}.extends",
                    "a scenario file that exists, relative to the portfolio",
                    parent,
                )
            tree, prov = read_tree(parent_path)
            merged = deep_merge(merged, tree)
            origins.update(prov)
    merged = deep_merge(merged, data)
    origins.update(key_provenance(data, f"{name} ({where})"))
    return merged, origins, f"{name} ({where})"


def _lookup(tree: Any, dotted: str) -> Any:
    """The value at a dotted key of a raw scenario tree, or None."""
    for part in dotted.split("."):
        if not isinstance(tree, dict) or part not in tree:
            return None
        tree = tree[part]
    return tree


def _with_file_base(spec: Any, dist: Distribution, written: Any) -> Any:
    """*spec* with ``base`` set to the number the product file has at this key, when it gives none.

    A portfolio puts uncertainty around a product as its file describes it: the point value
    (tornado base, ``tcpmf breakeven`` of the product) stays the file's, not the distribution's
    median, as long as the distribution can draw it.  Left alone: a ``base`` given, a value in
    another currency, a name, a value outside the distribution's range.
    """
    if (
        isinstance(written, dict)
        and "value" in written
        and written.get("currency", "USD") == "USD"
        and "dist" not in written
    ):
        written = written["value"]
    if (
        not isinstance(spec, dict)
        or "base" in spec
        or not dist.numeric
        or dist.currency != "USD"
        or isinstance(written, bool)
        or not isinstance(written, (int, float))
    ):
        return spec
    if not dist.low_bound() <= float(written) <= dist.high_bound():
        return spec
    if isinstance(dist, Choice) and float(written) not in [float(o) for o in dist.options]:
        return spec  # a choice's nominal value must be one of its options
    return {**spec, "base": float(written)}


def _blame_uncertain(
    exc: AssumptionError, uncertain: Mapping[str, Any], file: str, where: str
) -> AssumptionError:
    """A scenario error caused by one of a product's ``uncertain`` entries, told at that entry, with
    the distribution as written (the scenario saw only its nominal value)."""
    for raw_key, spec in uncertain.items():
        key = str(raw_key)
        if (
            exc.key_path == key
            or exc.key_path.startswith(f"{key}.")
            or key.startswith(f"{exc.key_path}.")
        ):
            allowed = exc.allowed
            if exc.key_path != key:
                allowed = f"{exc.key_path}: {allowed}"
            return AssumptionError(
                file,
                f"{where}.uncertain.{key}",
                f"{allowed} (checked on the distribution's nominal value {exc.value!r})"
                if exc.value is not None and "unknown key" not in allowed
                else allowed,
                spec,
            )
    return exc


def check_support(
    scenario: Scenario, key: str, dist: Distribution, file: str, where: str, written: Any = None
) -> None:
    """Refuse a distribution that can draw a value *key* does not allow (*written*: the
    distribution as the file has it, for the message)."""
    # the extremes the sampler can reach (tcpmf.uncertainty.sampling.uniforms), and two inner values
    # that a continuous distribution on a whole-number key shows to be fractional
    reach = (
        [float(v) for v in dist.ppf(np.array([U_LOW, U_HIGH, 0.3, 0.5]))]
        if dist.numeric
        else [dist.nominal()]
    )
    values: list[Any] = list(dist.options) if isinstance(dist, Choice) else reach
    for value in values:
        try:
            scenario.override({key: support_probe(value)})
        except AssumptionError as exc:
            rule = exc.allowed.removeprefix("must be ")
            what = f"option {value!r}" if isinstance(dist, Choice) else f"{value:g}"
            because = (
                f"{key} must be {rule}"
                if exc.key_path == key
                else f"with it, {exc.key_path}: {exc.allowed}"
            )
            if isinstance(dist, Choice):
                hint = ""
            elif (
                isinstance(value, float)
                and math.isfinite(value)
                and not value.is_integer()
                and "whole number" in rule
            ):
                hint = " (a whole-number key takes a choice of whole numbers, e.g. options: [24, 36, 48])"
            else:
                hint = " (give low/high bounds)"
            raise AssumptionError(
                file,
                where,
                f"a distribution that draws only allowed values: it can draw {what}, and {because}{hint}",
                dist.spec() if written is None else written,
            ) from None


def _correlations(
    items: Any, keys: Sequence[str], file: str, where: str
) -> tuple[tuple[str, str, float], ...]:
    if items is None:
        return ()
    if not isinstance(items, list):
        raise AssumptionError(file, where, "a list of [key_a, key_b, rho] entries", items)
    out = []
    for i, item in enumerate(items):
        at = f"{where}.{i}"
        if not (isinstance(item, list) and len(item) == 3):
            raise AssumptionError(
                file, at, "[key_a, key_b, rho]: two uncertain keys and a rank correlation", item
            )
        a, b, rho = item
        for k in (a, b):
            if k not in keys:
                raise AssumptionError(
                    file,
                    at,
                    f"keys of this product's uncertain inputs ({', '.join(keys) or 'none'})",
                    k,
                )
        if a == b:
            raise AssumptionError(file, at, "two different keys", item)
        if isinstance(rho, bool) or not isinstance(rho, (int, float)) or not -1 < rho < 1:
            raise AssumptionError(
                file, f"{at}.2", "a rank correlation strictly between -1 and 1", rho
            )
        out.append((str(a), str(b), float(rho)))
    pairs = [frozenset(p[:2]) for p in out]
    if len(set(pairs)) != len(pairs):
        raise AssumptionError(file, where, "each pair of keys at most once", items)
    return tuple(out)


def check_correlations(
    uncertainties: Mapping[str, Distribution],
    correlations: Sequence[tuple[str, str, float]],
    file: str,
    where: str,
) -> None:
    """Refuse correlations on names (choices of names) and a matrix that is not positive definite."""
    for a, b, _ in correlations:
        for k in (a, b):
            if k in uncertainties and not uncertainties[k].numeric:
                raise AssumptionError(
                    file, where, f"correlations between numeric inputs only; {k} draws names", k
                )
    if not correlations:
        return
    from tcpmf.uncertainty.sampling import correlation_matrix

    keys = sorted({k for c in correlations for k in c[:2]})
    matrix = correlation_matrix(keys, correlations)
    if np.linalg.eigvalsh(matrix).min() <= 1e-10:
        raise AssumptionError(
            file,
            where,
            "rank correlations that can hold together (the matrix is not positive definite); "
            "weaken some of them",
            [list(c) for c in correlations],
        )


def load_portfolio(path: str | Path) -> Portfolio:  # noqa: C901  # each malformed part of the file refused by name, in file order
    """Load, validate and check a portfolio file."""
    path = Path(path)
    name = display_path(path)
    data = read_yaml(path)
    for key in data:
        if key not in PORTFOLIO_KEYS:
            raise AssumptionError(
                name, str(key), f"one of the portfolio keys {', '.join(PORTFOLIO_KEYS)}", data[key]
            )
    sampling = data.get("sampling", "lhs")
    if sampling not in SAMPLING_NAMES:
        raise AssumptionError(
            name, "sampling", "lhs (Latin hypercube) or mc (plain Monte Carlo)", sampling
        )
    items = data.get("products")
    if not isinstance(items, list) or not items:
        raise AssumptionError(name, "products", "a non-empty list of products", items)
    products = []
    for i, item in enumerate(items):
        where = f"products.{i}"
        if not isinstance(item, dict):
            raise AssumptionError(
                name, where, "a mapping with scenario (and uncertain, correlations, name)", item
            )
        for key in item:
            if key not in PRODUCT_KEYS:
                raise AssumptionError(
                    name,
                    f"{where}.{key}",
                    f"one of the product keys {', '.join(PRODUCT_KEYS)}",
                    item[key],
                )
        if "scenario" not in item:
            raise AssumptionError(
                name, f"{where}.scenario", "a path to a scenario file, or a scenario mapping"
            )
        raw, provenance, origin = _scenario_tree(item["scenario"], path, f"{where}.scenario")
        uncertain = item.get("uncertain") or {}
        if not isinstance(uncertain, dict):
            raise AssumptionError(
                name, f"{where}.uncertain", "a mapping of dotted keys to distributions", uncertain
            )
        dists = {}
        specs = {}
        for key, spec in uncertain.items():
            dists[str(key)] = parse_distribution(spec, name, f"{where}.uncertain.{key}")
            specs[str(key)] = _with_file_base(spec, dists[str(key)], _lookup(raw, str(key)))
        nested = _nested(specs)
        raw = deep_merge(raw, nested)
        for key in uncertain:
            provenance[str(key)] = name
        try:
            scenario = validate_tree(raw, origin, provenance)
        except AssumptionError as exc:
            raise _blame_uncertain(exc, uncertain, name, where) from None
        product_name = item.get("name", scenario.name)
        if not isinstance(product_name, str) or not product_name.strip():
            raise AssumptionError(name, f"{where}.name", "a non-empty product name", product_name)
        for key, dist in scenario.uncertainties.items():
            at = f"{where}.uncertain.{key}" if key in dists else key
            check_support(
                scenario,
                key,
                dist,
                name if key in dists else scenario.file,
                at,
                written=uncertain.get(key),
            )
        check_joint_reach(
            scenario,
            {key: (name, f"{where}.uncertain.{key}") for key in dists},
            {str(k): v for k, v in uncertain.items()},
        )
        correlations = _correlations(
            item.get("correlations"), sorted(scenario.uncertainties), name, f"{where}.correlations"
        )
        check_correlations(scenario.uncertainties, correlations, name, f"{where}.correlations")
        products.append(
            Product(
                name=product_name,
                scenario=scenario,
                correlations=correlations,
                checked_for=scenario,
            )
        )
    seen: set[str] = set()
    for i, p in enumerate(products):
        if p.name in seen:
            raise AssumptionError(
                name,
                f"products.{i}.name",
                "a product name not used before in this portfolio (set name:)",
                p.name,
            )
        seen.add(p.name)
    title = data.get("name", path.stem)
    return Portfolio(
        name=str(title),
        products=tuple(products),
        sampling=SAMPLING_NAMES[sampling],  # type: ignore[arg-type]
        file=name,
        description=str(data.get("description", "")),
    )


#: What the analyses take (``subject`` of :func:`~tcpmf.sweep`, :func:`~tcpmf.tornado`,
#: :func:`~tcpmf.sobol`, :func:`~tcpmf.monte_carlo` and :func:`~tcpmf.uncertainty.runner.run`):
#: a validated scenario (its file may hold distributions), one product of a portfolio, a whole
#: portfolio, or the path to a scenario or portfolio file.
Analysable = Scenario | Product | Portfolio | str | Path


def as_portfolio(
    obj: Analysable,
    correlations: Sequence[tuple[str, str, float]] = (),
    sampling: str = "lhs",
) -> Portfolio:
    """A portfolio from a portfolio, a product, a scenario or a path to either kind of file.

    *correlations* are for a bare scenario; a portfolio or product has its own, and giving others
    is an error rather than silently ignored.
    """
    if sampling not in SAMPLING_NAMES:
        raise TcpmfError(f"sampling must be one of {', '.join(SAMPLING_NAMES)} (got {sampling!r})")
    given = isinstance(obj, (Portfolio, Product)) or (
        isinstance(obj, (str, Path)) and looks_like_portfolio(read_yaml(Path(obj)))
    )
    if correlations and given:
        raise TcpmfError(
            "correlations= applies to a bare scenario; a portfolio's products carry their own "
            "(products.N.correlations in the portfolio file)"
        )
    if isinstance(obj, Portfolio):
        return obj
    if isinstance(obj, Product):
        return Portfolio(name=obj.name, products=(obj,), sampling=SAMPLING_NAMES[sampling])
    if isinstance(obj, (str, Path)):
        path = Path(obj)
        if given:
            return load_portfolio(path)
        obj = load(path)
    if not isinstance(obj, Scenario):
        raise TypeError(f"expected a Portfolio, Scenario or path, not {type(obj).__name__}")
    corr = _correlations(
        [list(c) for c in correlations] or None,
        sorted(obj.uncertainties),
        "<argument>",
        "correlations",
    )
    check_correlations(obj.uncertainties, corr, "<argument>", "correlations")
    product = Product(name=obj.name, scenario=obj, correlations=corr)
    return Portfolio(
        name=obj.name, products=(product,), sampling=SAMPLING_NAMES[sampling], file=obj.file
    )
