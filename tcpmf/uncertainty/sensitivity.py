r"""Sensitivity: grid sweeps, one-at-a-time tornadoes and Sobol indices, at engine speed.

Every verb builds a table of input values (dotted keys as columns) and evaluates it with
:func:`tcpmf.uncertainty.batch.evaluate_inputs`, so a grid of 10⁵ points or a Sobol design of 10⁴ rows costs
a few vectorized engine calls, not one model run per row.

* :func:`sweep` — the full grid (cartesian product) of given values: one row per combination.
* :func:`tornado` — one input at a time at its low and high value, every other input nominal.
* :func:`sobol` — first-order and total Sobol indices (SALib) over the inputs' distributions.

Outcomes
--------
Any outcome column of :data:`tcpmf.uncertainty.batch.OUTCOME_COLUMNS` may be analysed.  A yes/no outcome
(``clears_break_even``) counts as 0/1.  A month that never comes within the horizon (``<NA>`` in
``payback_month``, ``tcpmf_month``, ...) is **censored at** ``horizon_months``: months count from
0, so ``horizon_months`` is the first month after the horizon, the earliest the event could
still come.  Tables say where this happened (tornado: ``censored``; Sobol: ``censored_share``).
``cac_payback_month`` without paid acquisition (no CAC) is undefined, not censored.  An outcome
that is undefined for an input value (``gross_margin_m0`` without revenue, ``ltv_to_cac`` without
CAC, ...) stays ``<NA>`` in a tornado and is an error in Sobol analysis, never a silent NaN.

Examples
--------
>>> import tcpmf
>>> s = tcpmf.load("assumptions/products/writing_assistant.yaml")
>>> len(tcpmf.sweep(s, {"usage.sessions_per_day": [1, 2, 4], "model.name": ["gpt-4o", "gpt-4.1-mini"]}))
6
>>> tcpmf.tornado(s, {"revenue.subscription.paid_share": (0.02, 0.05)})["key"].tolist()
['revenue.subscription.paid_share']
>>> p = tcpmf.load_portfolio("assumptions/portfolios/consumer_stages.yaml").products[0]
>>> indices = tcpmf.sobol(p, outcome="peak_funding_usd", n=64, seed=0)  # doctest: +ELLIPSIS
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, overload

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from tcpmf.core.errors import AssumptionError, TcpmfError
from tcpmf.core.extras import import_optional
from tcpmf.schema.distributions import Choice, Distribution, parse_distribution
from tcpmf.schema.scenario import Scenario
from tcpmf.uncertainty.batch import DEFAULT_CHUNK_SIZE, OUTCOME_COLUMNS, evaluate_inputs
from tcpmf.uncertainty.portfolio import Analysable, Portfolio, Product, as_portfolio

__all__ = ["MONTH_OUTCOMES", "outcome_values", "sobol", "sweep", "tornado"]

#: Outcome columns that are months; ``<NA>`` means "not within the horizon" (censored).
MONTH_OUTCOMES = (
    "cac_payback_month",
    "breakeven_month",
    "payback_month",
    "payback_month_m0_prices",
    "tcpmf_month",
)


@dataclass(frozen=True)
class _Case:
    """One product to analyse: its nominal scenario, distributions and rank correlations."""

    name: str
    scenario: Scenario
    uncertainties: dict[str, Distribution]
    correlations: tuple[tuple[str, str, float], ...] = ()


def _cases(obj: Analysable) -> list[_Case]:
    if isinstance(obj, Scenario):
        return [_Case(obj.name, obj, dict(sorted(obj.uncertainties.items())))]
    if isinstance(obj, (Product, Portfolio, str, Path)):
        return [
            _Case(p.name, p.scenario, p.uncertainties, p.correlations)
            for p in as_portfolio(obj).products
        ]
    raise TypeError(
        f"expected a Scenario, Product, Portfolio or a path to a file, not {type(obj).__name__}"
    )


def _check_outcome(outcome: str) -> None:
    if outcome not in OUTCOME_COLUMNS:
        raise AssumptionError(
            "<argument>",
            "outcome",
            f"one of the outcome columns {', '.join(OUTCOME_COLUMNS)}",
            outcome,
        )


def outcome_values(
    outcomes: pd.DataFrame, outcome: str, horizon_months: NDArray[np.int64] | int
) -> tuple[NDArray[np.float64], NDArray[np.bool_], NDArray[np.bool_]]:
    """An outcome column as floats, with months that never come censored at the horizon.

    Parameters
    ----------
    outcomes
        Outcome columns, as :func:`tcpmf.uncertainty.batch.evaluate_inputs` returns them.
    outcome
        The column to read.
    horizon_months
        Each row's horizon (or one for all rows).

    Returns
    -------
    values, censored, undefined
        ``values``: floats (a yes/no outcome as 0/1; a month ``<NA>`` as ``horizon_months``;
        an undefined value as NaN, flagged in ``undefined``).  ``censored``: the rows whose month
        never came within the horizon.
    """
    _check_outcome(outcome)
    column = outcomes[outcome]
    missing = column.isna().to_numpy(bool)
    values = column.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    censored = np.zeros(len(values), bool)
    if outcome in MONTH_OUTCOMES:
        censored = missing.copy()
        if outcome == "cac_payback_month":  # without a CAC there is nothing to pay back
            censored &= outcomes["ltv_to_cac"].notna().to_numpy(bool)
        horizon = np.broadcast_to(np.asarray(horizon_months, float), values.shape)
        values = np.where(censored, horizon, values)
    return values, censored, missing & ~censored


def _horizons(s: Scenario, inputs: pd.DataFrame) -> NDArray[np.int64]:
    if "horizon_months" in inputs:
        return inputs["horizon_months"].to_numpy(np.int64)
    return np.full(len(inputs), s.horizon_months, np.int64)


def _evaluate(s: Scenario, inputs: pd.DataFrame, origin: str) -> pd.DataFrame:
    """:func:`evaluate_inputs` in chunks of :data:`DEFAULT_CHUNK_SIZE` rows (memory stays bounded);
    a bad value is reported as coming from *origin* (``"<grid>"``, ``"<ranges>"``, ...)."""
    try:
        if len(inputs) <= DEFAULT_CHUNK_SIZE:
            return evaluate_inputs(s, inputs)
        parts = [
            evaluate_inputs(s, inputs.iloc[i : i + DEFAULT_CHUNK_SIZE])
            for i in range(0, len(inputs), DEFAULT_CHUNK_SIZE)
        ]
        return pd.concat(parts)
    except AssumptionError as exc:
        if exc.file in ("<inputs>", "<override>"):
            raise AssumptionError(origin, exc.key_path, exc.allowed, exc.value) from None
        raise


def _single(obj: Analysable, verb: str) -> Scenario:
    cases = _cases(obj)
    if len(cases) != 1:
        raise TcpmfError(
            f"{verb} takes one scenario; this portfolio has {len(cases)} products (pass one of portfolio.products)"
        )
    return cases[0].scenario


# --- sweep -----------------------------------------------------------------------------------


def sweep(subject: Analysable, grid: Mapping[str, Sequence[Any]]) -> pd.DataFrame:
    r"""Evaluate every combination of the given values: a full factorial grid.

    Parameters
    ----------
    subject
        What to analyse (:data:`~tcpmf.uncertainty.portfolio.Analysable`): a scenario, a product,
        or a path to a scenario file; a portfolio of one product.
    grid
        Dotted key → list of values, e.g. ``{"usage.sessions_per_day": [1, 2, 4]}``.  Values may
        be numbers or names (``{"model.name": ["gpt-4o", "gpt-4o-mini"]}``).

    Returns
    -------
    pandas.DataFrame
        :math:`\prod_k |v_k|` rows, in the order of :func:`itertools.product` (the first key
        varies slowest): the key columns, then the outcome columns
        (:data:`tcpmf.uncertainty.batch.OUTCOME_COLUMNS`).

    Examples
    --------
    >>> grid = tcpmf.sweep(s, {"usage.sessions_per_day": [1, 2, 4], "costs.fixed_usd_per_month": [1e5, 3e5]})
    >>> grid[["usage.sessions_per_day", "costs.fixed_usd_per_month"]].head(2).to_numpy().tolist()
    [[1.0, 100000.0], [1.0, 300000.0]]
    """
    s = _single(subject, "sweep")
    if not isinstance(grid, Mapping) or not grid:
        raise AssumptionError("<grid>", "", "a mapping of dotted keys to lists of values", grid)
    levels = []
    for key, values in grid.items():
        if isinstance(values, (str, bytes)) or not isinstance(
            values, (Sequence, np.ndarray, pd.Series, pd.Index)
        ):
            raise AssumptionError("<grid>", str(key), "a list of values", values)
        if len(values) == 0:
            raise AssumptionError("<grid>", str(key), "a non-empty list of values", values)
        levels.append(list(values))
    inputs = pd.MultiIndex.from_product(levels, names=[str(k) for k in grid]).to_frame(index=False)
    for key in inputs.columns:
        if inputs[key].dtype == object and all(isinstance(v, str) for v in inputs[key]):
            inputs[key] = inputs[key].astype("string")
    outcomes = _evaluate(s, inputs, "<grid>")
    return pd.concat([inputs, outcomes.reset_index(drop=True)], axis=1)


# --- tornado ---------------------------------------------------------------------------------


def _default_values(case: _Case) -> dict[str, list[Any]]:
    """P10 and P90 of each numeric distribution; every option of a choice among names."""
    if not case.uncertainties:
        raise TcpmfError(
            f"{case.name}: no uncertain inputs to take P10 and P90 from; give ranges={{key: (low, high)}}"
        )
    out: dict[str, list[Any]] = {}
    for key, dist in case.uncertainties.items():
        if dist.numeric:
            out[key] = [float(v) for v in dist.ppf(np.array([0.1, 0.9]))]
        elif isinstance(dist, Choice):
            out[key] = [str(o) for o in dist.options]
        else:
            out[key] = [str(dist.nominal())]
    return out


def _given_values(ranges: Mapping[str, Any]) -> dict[str, list[Any]]:
    if not isinstance(ranges, Mapping) or not ranges:
        raise AssumptionError(
            "<ranges>", "", "a mapping of dotted keys to (low, high) pairs", ranges
        )
    out: dict[str, list[Any]] = {}
    for key, pair in ranges.items():
        if (
            isinstance(pair, (str, bytes))
            or not isinstance(pair, (Sequence, np.ndarray))
            or len(pair) != 2
        ):
            raise AssumptionError("<ranges>", str(key), "a (low, high) pair", pair)
        low, high = pair
        numbers = [
            isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
            for v in (low, high)
        ]
        if all(numbers):
            if not (math.isfinite(float(low)) and math.isfinite(float(high)) and low <= high):
                raise AssumptionError("<ranges>", str(key), "finite numbers with low <= high", pair)
            out[str(key)] = [float(low), float(high)]
        elif not any(numbers):
            out[str(key)] = [low, high]
        else:
            raise AssumptionError("<ranges>", str(key), "two numbers or two names, not a mix", pair)
    return out


def tornado(
    subject: Analysable,
    ranges: Mapping[str, tuple[Any, Any]] | None = None,
    outcome: str = "peak_funding_usd",
) -> pd.DataFrame:
    r"""One input at a time at its low and high value, every other input at its nominal value.

    Parameters
    ----------
    subject
        What to analyse (:data:`~tcpmf.uncertainty.portfolio.Analysable`): a scenario, a product,
        a portfolio, or a path to a scenario or portfolio file.  A portfolio gives one block of
        rows per product.
    ranges
        Dotted key → ``(low, high)``.  Default: each uncertain input's P10 and P90
        (``dist.ppf(0.1)``, ``dist.ppf(0.9)``).  For a choice among names (``model.name``) every
        option is evaluated and ``low``/``high`` are the options giving the smallest and the
        largest outcome, so ``swing`` is the whole spread over the options.
    outcome
        Any column of :data:`tcpmf.uncertainty.batch.OUTCOME_COLUMNS`; default ``peak_funding_usd``, the cash
        a product needs before it pays back (defined for every scenario).

    Returns
    -------
    pandas.DataFrame
        One row per product × key: ``product``, ``outcome``, ``key``, ``low``, ``high``,
        ``at_low``, ``at_high`` (outcome with the key at low / high), ``at_base`` (nominal
        scenario), :math:`\text{swing} = |\text{at\_high} - \text{at\_low}|`, ``censored``
        (a month outcome never came within the horizon in one of the three evaluations and
        counts as ``horizon_months``; see the module docstring).  Sorted by swing, largest
        first, within each product; an undefined outcome is ``<NA>`` and sorts last.

    Examples
    --------
    >>> bars = tcpmf.tornado(s, {"revenue.subscription.paid_share": (0.02, 0.05),
    ...                          "costs.fixed_usd_per_month": (2e5, 4e5)}, outcome="payback_month")
    >>> sorted(bars["key"])
    ['costs.fixed_usd_per_month', 'revenue.subscription.paid_share']
    """
    _check_outcome(outcome)
    given = None if ranges is None else _given_values(ranges)
    frames = []
    for case in _cases(subject):
        s = case.scenario
        spans = _default_values(case) if given is None else given
        base_inputs = pd.DataFrame(index=pd.RangeIndex(1))
        base, base_censored, base_undefined = outcome_values(
            _evaluate(s, base_inputs, "<ranges>"), outcome, s.horizon_months
        )
        rows = []
        for key, values in spans.items():
            inputs = pd.DataFrame(
                {key: pd.array(values, dtype="string") if isinstance(values[0], str) else values}
            )
            y, censored, undefined = outcome_values(
                _evaluate(s, inputs, "<ranges>"), outcome, _horizons(s, inputs)
            )
            lo, hi = 0, len(values) - 1
            pick_extremes = (
                given is None
                and isinstance(case.uncertainties[key], Choice)
                and not case.uncertainties[key].numeric
            )
            if pick_extremes and not undefined.all():
                defined = np.flatnonzero(~undefined)
                lo, hi = int(defined[np.argmin(y[defined])]), int(defined[np.argmax(y[defined])])
                if lo == hi:  # every option gives the same outcome: show the first and the last
                    lo, hi = int(defined[0]), int(defined[-1])
            at = [pd.NA if undefined[i] else float(y[i]) for i in (lo, hi)]
            rows.append(
                {
                    "product": case.name,
                    "outcome": outcome,
                    "key": key,
                    "low": values[lo],
                    "high": values[hi],
                    "at_low": at[0],
                    "at_high": at[1],
                    "at_base": pd.NA if base_undefined[0] else float(base[0]),
                    "swing": pd.NA
                    if undefined[[lo, hi]].any()
                    else abs(float(y[hi]) - float(y[lo])),
                    "censored": bool(censored[[lo, hi]].any() or base_censored[0]),
                }
            )
        frames.append(_tornado_frame(rows))
    out = pd.concat(frames, ignore_index=True)
    out.attrs["outcome"] = outcome
    return out


def _tornado_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    for column in ("at_low", "at_high", "at_base", "swing"):
        frame[column] = pd.array(frame[column].tolist(), dtype="Float64")
    for column in ("low", "high"):
        if all(isinstance(v, float) for v in frame[column]):
            frame[column] = frame[column].astype(float)
    frame["product"] = frame["product"].astype("string")
    frame["censored"] = frame["censored"].astype(bool)
    order = np.lexsort(
        (np.arange(len(frame)), -frame["swing"].to_numpy(dtype=float, na_value=-np.inf))
    )
    return frame.iloc[order].reset_index(drop=True)


# --- Sobol -----------------------------------------------------------------------------------

SOBOL_COLUMNS = ("product", "outcome", "key", "S1", "S1_conf", "ST", "ST_conf", "censored_share")
S2_COLUMNS = ("product", "outcome", "key_a", "key_b", "S2", "S2_conf")


@overload
def sobol(
    subject: Analysable,
    outcome: str = ...,
    n: int = ...,
    seed: int = ...,
    second_order: Literal[False] = ...,
    *,
    uncertain: Mapping[str, Any] | None = ...,
    num_resamples: int = ...,
    conf_level: float = ...,
) -> pd.DataFrame: ...
@overload
def sobol(
    subject: Analysable,
    outcome: str = ...,
    n: int = ...,
    seed: int = ...,
    *,
    second_order: Literal[True],
    uncertain: Mapping[str, Any] | None = ...,
    num_resamples: int = ...,
    conf_level: float = ...,
) -> tuple[pd.DataFrame, pd.DataFrame]: ...
@overload
def sobol(
    subject: Analysable,
    outcome: str = ...,
    n: int = ...,
    seed: int = ...,
    second_order: bool = ...,
    *,
    uncertain: Mapping[str, Any] | None = ...,
    num_resamples: int = ...,
    conf_level: float = ...,
) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]: ...


def sobol(
    subject: Analysable,
    outcome: str = "peak_funding_usd",
    n: int = 1024,
    seed: int = 0,
    second_order: bool = False,
    *,
    uncertain: Mapping[str, Any] | None = None,
    num_resamples: int = 100,
    conf_level: float = 0.95,
) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
    r"""Sobol sensitivity indices of an outcome to the uncertain inputs (SALib, Saltelli design).

    SALib's Saltelli extension of a scrambled Sobol' sequence (``SALib.sample.sobol.sample``,
    seeded) is drawn on the unit hypercube; each column is mapped through its input's
    :meth:`Distribution.ppf`, the rows are evaluated in one vectorized batch, and
    ``SALib.analyze.sobol.analyze`` estimates, for each input :math:`X_i`,

    .. math:: S_i = \frac{V[E(Y \mid X_i)]}{V(Y)}, \qquad
              S_{Ti} = \frac{E[V(Y \mid X_{\sim i})]}{V(Y)},

    with bootstrap confidence intervals.  :math:`S_{Ti} \approx 0` means the input does not matter
    for this outcome; :math:`S_{Ti} - S_i` is its share through interactions.

    **Inputs are treated as independent.**  Sobol indices are defined for independent inputs;
    the rank correlations of a product are ignored (a :class:`UserWarning` says so).

    Parameters
    ----------
    subject
        What to analyse (:data:`~tcpmf.uncertainty.portfolio.Analysable`): a scenario with distributions in its file, a product, a portfolio (one block of rows per
        product), or a path to either kind of file.
    outcome
        Any column of :data:`tcpmf.uncertainty.batch.OUTCOME_COLUMNS`; ``clears_break_even`` counts as 0/1, a
        month that never comes as ``horizon_months`` (see the module docstring).
    n
        Base sample size, a power of 2; the model is evaluated :math:`n(D + 2)` times
        (:math:`n(2D + 2)` with *second_order*) for :math:`D` inputs.
    seed
        Seeds both the design's scrambling and the bootstrap: same seed, same indices.
    second_order
        Also estimate :math:`S_{ij}` for every pair of inputs.
    uncertain
        Dotted key → distribution (a :class:`Distribution` or a ``{dist: ...}`` mapping) to use
        instead of, or besides, the scenario's own.
    num_resamples, conf_level
        Bootstrap resamples and confidence level of the ``*_conf`` half-widths.

    Returns
    -------
    pandas.DataFrame or (pandas.DataFrame, pandas.DataFrame)
        One row per product × input: ``product``, ``outcome``, ``key``, ``S1``, ``S1_conf``,
        ``ST``, ``ST_conf``, ``censored_share`` (share of evaluations whose month never came).
        With *second_order*, also a table ``product, outcome, key_a, key_b, S2, S2_conf`` with
        one row per pair.  If the outcome does not vary at all over a product's design, its
        indices are undefined: ``<NA>``, with a warning.

    Examples
    --------
    >>> indices = tcpmf.sobol(product, outcome="clears_break_even", n=64)
    >>> {"S1", "ST"} <= set(indices.columns)
    True
    """
    import_optional("SALib", "tcpmf.sobol")
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    _check_outcome(outcome)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise AssumptionError(
            "<argument>", "n", "a whole number of base samples of at least 2 (a power of 2)", n
        )
    extra = {
        str(k): parse_distribution(v, "<uncertain>", str(k)) for k, v in (uncertain or {}).items()
    }
    for key, dist in extra.items():
        if (
            dist.currency != "USD"
        ):  # a file's CNY converts at its start month's rate; an argument has none
            raise AssumptionError(
                "<uncertain>",
                f"{key}.currency",
                "USD here (put a CNY distribution in the scenario or "
                "portfolio file, where it converts at the start month's rate)",
                dist.currency,
            )
    firsts, seconds = [], []
    for case in _cases(subject):
        dists = {**case.uncertainties, **extra}
        keys = list(dists)
        if not keys:
            raise TcpmfError(
                f"{case.name}: no uncertain inputs; give distributions in its file or uncertain={{key: {{dist: ...}}}}"
            )
        linked = [c for c in case.correlations if c[0] in dists and c[1] in dists]
        if linked:
            warnings.warn(
                f"{case.name}: Sobol indices assume independent inputs; the rank correlations "
                f"{', '.join(f'{a}~{b}' for a, b, _ in linked)} are ignored",
                UserWarning,
                stacklevel=2,
            )
        problem = {"num_vars": len(keys), "names": keys, "bounds": [[0.0, 1.0]] * len(keys)}
        u = np.clip(
            sobol_sample.sample(problem, int(n), calc_second_order=second_order, seed=seed),
            0.0,
            1.0 - 2.0**-53,
        )
        inputs = pd.DataFrame({k: _column(dists[k], u[:, j]) for j, k in enumerate(keys)})
        y, censored, undefined = outcome_values(
            _evaluate(case.scenario, inputs, "<uncertain>"),
            outcome,
            _horizons(case.scenario, inputs),
        )
        if undefined.any():
            row = inputs.iloc[int(np.flatnonzero(undefined)[0])].to_dict()
            raise TcpmfError(
                f"{case.name}: {outcome} is undefined for some draws (e.g. {row}); Sobol indices need "
                "a value for every draw: pick an outcome defined everywhere"
            )
        share = float(censored.mean())
        base = {"product": case.name, "outcome": outcome}
        if np.ptp(y) == 0:
            what = "beyond the horizon" if share == 1.0 else f"{y[0]:g}"
            warnings.warn(
                f"{case.name}: {outcome} is {what} for every draw; its Sobol indices are undefined (<NA>)",
                UserWarning,
                stacklevel=2,
            )
            firsts += [{**base, "key": k, "censored_share": share} for k in keys]
            seconds += (
                [
                    {**base, "key_a": a, "key_b": b}
                    for i, a in enumerate(keys)
                    for b in keys[i + 1 :]
                ]
                if second_order
                else []
            )
            continue
        res = sobol_analyze.analyze(
            problem,
            y,
            calc_second_order=second_order,
            num_resamples=num_resamples,
            conf_level=conf_level,
            seed=seed,
            print_to_console=False,
        )
        for j, k in enumerate(keys):
            firsts.append(
                {
                    **base,
                    "key": k,
                    "S1": res["S1"][j],
                    "S1_conf": res["S1_conf"][j],
                    "ST": res["ST"][j],
                    "ST_conf": res["ST_conf"][j],
                    "censored_share": share,
                }
            )
        if second_order:
            for i, a in enumerate(keys):
                for j in range(i + 1, len(keys)):
                    seconds.append(
                        {
                            **base,
                            "key_a": a,
                            "key_b": keys[j],
                            "S2": res["S2"][i, j],
                            "S2_conf": res["S2_conf"][i, j],
                        }
                    )
    first = _indices_frame(
        firsts, SOBOL_COLUMNS, ("S1", "S1_conf", "ST", "ST_conf", "censored_share")
    )
    first.attrs.update(outcome=outcome, n=int(n), seed=seed)
    if not second_order:
        return first
    return first, _indices_frame(seconds, S2_COLUMNS, ("S2", "S2_conf"))


def _column(dist: Distribution, u: NDArray[np.float64]) -> Any:
    values = dist.ppf(u)
    return (
        pd.array([str(v) for v in values], dtype="string")
        if not dist.numeric
        else np.asarray(values, float)
    )


def _indices_frame(
    rows: list[dict[str, Any]], columns: Sequence[str], numbers: Sequence[str]
) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(columns))
    for column in columns:
        if column in numbers:
            frame[column] = pd.array(
                [pd.NA if v is None or pd.isna(v) else float(v) for v in frame[column]],
                dtype="Float64",
            )
        else:
            frame[column] = frame[column].astype("string")
    return frame
