r"""Scenario discovery: which ranges of the uncertain inputs make a product clear break-even.

PRIM, the Patient Rule Induction Method (Friedman & Fisher 1999, "Bump hunting in
high-dimensional data", *Statistics and Computing* 9: 123-143), searches the draws of a Monte
Carlo run for a *box* — a range per numeric input, a set of options per named input — inside
which the outcome is true unusually often.  Three numbers describe a box, for draws :math:`x_i`
with outcome :math:`y_i \in \{0, 1\}`:

.. math::

    \text{coverage} = \frac{\sum_{i \in B} y_i}{\sum_i y_i}, \qquad
    \text{density} = \frac{\sum_{i \in B} y_i}{|B|}, \qquad
    \text{mass} = \frac{|B|}{N}

(the share of all successes the box holds, the success rate inside it, and the share of draws
inside it), plus ``res_dim``, the number of inputs it restricts.

*Peeling.*  Starting from the box holding every draw, each step considers, for every numeric
input, cutting off the draws below the box's ``alpha`` quantile of that input or above its
``1 - alpha`` quantile, and, for every named (categorical) input, removing one of its options.  It
takes the cut with the largest gain in density per unit of mass removed,
:math:`(\bar y_{new} - \bar y_{old}) / (m_{old} - m_{new})` ("lenient" objective, which makes a
category of any size comparable with an ``alpha`` peel), and stops when no cut raises the density
or every cut would leave less than ``min_mass`` of the draws.  The boxes so visited are the
*peeling trajectory*: coverage falls and density rises along it.

*Choosing a box.*  With ``threshold``, the first box on the trajectory whose density reaches it
(the one with the most coverage); if none does, the densest, with a warning.  Without, the
*knee* of the trajectory: the box farthest from the straight line joining the first and the last
box in the (coverage, density) plane — the point after which density is bought with much
coverage.  Then, with ``paste`` (default), *pasting* (Friedman & Fisher §6) widens the chosen
box again, one ``alpha`` step at a time, as long as that raises its density.

*Why our own implementation.*  The PyPI ``prim`` package is GPL-3 and the EMA Workbench depends
on the GPL ``platypus-opt``; tcpmf is BSD-3, so PRIM is implemented here with numpy and pandas.

Examples
--------
>>> import tcpmf
>>> draws = tcpmf.monte_carlo("assumptions/portfolios/consumer_stages.yaml", n=2_000, seed=1)
>>> found = tcpmf.discover(draws, outcome="clears_break_even")
>>> found.boxes.columns[:5].tolist()  # per product: coverage, density, mass, res_dim of the chosen box
['product', 'step', 'pasted', 'coverage', 'density']
>>> found.limits.columns[:4].tolist()  # per product and input: the box's range or kept options
['product', 'key', 'kind', 'low']
>>> found.trajectory.columns[:3].tolist()  # per product and peeling step
['product', 'step', 'coverage']
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from tcpmf.core.errors import AssumptionError
from tcpmf.uncertainty.batch import OUTCOME_COLUMNS

__all__ = ["Discovery", "discover"]

#: Columns of a Monte Carlo result that are never inputs.
NOT_INPUTS = frozenset({"product", "draw", "scenario", "tcpmf_calendar_month", *OUTCOME_COLUMNS})
ALL = "all"  # the product name of results without a product column

TRAJECTORY_COLUMNS = ("product", "step", "coverage", "density", "mass", "res_dim", "chosen")
BOX_COLUMNS = (
    "product",
    "step",
    "pasted",
    "coverage",
    "density",
    "mass",
    "res_dim",
    "draws",
    "hits",
)
LIMIT_COLUMNS = ("product", "key", "kind", "low", "high", "categories", "restricted")


@dataclass
class _Box:
    """Limits of a box: ``low``/``high`` per numeric input, kept option flags per named input."""

    low: NDArray[np.float64]
    high: NDArray[np.float64]
    kept: list[NDArray[np.bool_]]

    def copy(self) -> _Box:
        return _Box(self.low.copy(), self.high.copy(), [k.copy() for k in self.kept])


@dataclass
class _Data:
    """One product's draws: numeric inputs as a float matrix, named inputs as category codes."""

    product: str
    y: NDArray[np.bool_]
    numeric: list[str]
    x: NDArray[np.float64]  # (N, numeric)
    named: list[str]
    codes: NDArray[np.int64]  # (N, named)
    categories: list[list[Any]]

    def ok(self, box: _Box) -> NDArray[np.bool_]:
        """``(N, dims)``: whether each draw meets each of the box's limits."""
        num = (self.x >= box.low) & (self.x <= box.high)
        cat = [box.kept[j][self.codes[:, j]] for j in range(len(self.named))]
        return np.column_stack([num, *cat]) if cat else num

    def inside(self, box: _Box) -> NDArray[np.bool_]:
        """Whether each draw lies in the box."""
        return np.asarray(self.ok(box).all(axis=1), dtype=bool)

    def restricted(self, box: _Box) -> NDArray[np.bool_]:
        full = _full_box(self)
        num = (box.low > full.low) | (box.high < full.high)
        present = [
            np.bincount(self.codes[:, j], minlength=len(c)) > 0
            for j, c in enumerate(self.categories)
        ]
        cat = np.array([bool((p & ~box.kept[j]).any()) for j, p in enumerate(present)], bool)
        return np.concatenate([num, cat])

    def stats(self, inside: NDArray[np.bool_], box: _Box) -> dict[str, Any]:
        hits_total = int(self.y.sum())
        in_box = int(inside.sum())
        hits = int(self.y[inside].sum())
        return {
            "coverage": hits / hits_total if hits_total else math.nan,
            "density": hits / in_box if in_box else math.nan,
            "mass": in_box / len(self.y),
            "res_dim": int(self.restricted(box).sum()),
        }


@dataclass(frozen=True)
class Discovery:
    """What :func:`discover` returns: the chosen boxes, their limits and the peeling trajectories.

    Attributes
    ----------
    outcome
        The outcome the boxes explain.
    boxes
        One row per product: ``product``, ``step`` (the chosen box's step on the trajectory),
        ``pasted`` (whether pasting widened it), ``coverage``, ``density``, ``mass``, ``res_dim``,
        ``draws`` (the product's draws) and ``hits`` (draws where the outcome is true).
    limits
        One row per product × input: ``product``, ``key``, ``kind`` (``numeric`` or ``named``),
        ``low`` and ``high`` (numeric: the box holds draws with ``low <= x <= high``), ``categories``
        (named: the tuple of options the box keeps), ``restricted`` (whether the box narrows this
        input at all).  Inputs constant within a product (not drawn for it) are left out.
    trajectory
        One row per product × peeling step: ``product``, ``step``, ``coverage``, ``density``,
        ``mass``, ``res_dim``, ``chosen``.
    """

    outcome: str
    boxes: pd.DataFrame
    limits: pd.DataFrame
    trajectory: pd.DataFrame
    _data: dict[str, _Data] = field(repr=False, compare=False, default_factory=dict)
    _steps: dict[str, list[_Box]] = field(repr=False, compare=False, default_factory=dict)

    def __repr__(self) -> str:
        return (
            f"<tcpmf.Discovery of {self.outcome!r}: {len(self.boxes)} product(s); "
            ".boxes, .limits, .trajectory, .limits_at(step)>"
        )

    def limits_at(self, step: int, product: str | None = None) -> pd.DataFrame:
        """The limits of the box at *step* of the peeling trajectory (before any pasting).

        *product* may be omitted when the results hold one product.
        """
        if product is None:
            if len(self._steps) != 1:
                raise AssumptionError(
                    "<argument>", "product", f"one of {', '.join(self._steps)}", product
                )
            product = next(iter(self._steps))
        if product not in self._steps:
            raise AssumptionError(
                "<argument>", "product", f"one of {', '.join(self._steps)}", product
            )
        steps = self._steps[product]
        if (
            isinstance(step, bool)
            or not isinstance(step, (int, np.integer))
            or not 0 <= step < len(steps)
        ):
            raise AssumptionError(
                "<argument>", "step", f"a step of the trajectory, 0 to {len(steps) - 1}", step
            )
        return _limits_frame(self._data[product], steps[int(step)])


def _outcome(
    results: pd.DataFrame, outcome: str | pd.Series | NDArray[Any]
) -> tuple[str, NDArray[np.bool_]]:
    """The outcome as a yes/no array, and its name."""
    yes_no = [
        c
        for c in results.columns
        if c in OUTCOME_COLUMNS and (pd.api.types.is_bool_dtype(results[c]))
    ]
    if isinstance(outcome, str):
        if outcome not in results.columns:
            hint = f"e.g. {', '.join(yes_no)}" if yes_no else "a boolean or 0/1 column"
            raise AssumptionError(
                "<argument>", "outcome", f"a yes/no column of the results ({hint})", outcome
            )
        name, column = outcome, results[outcome]
    else:
        column = pd.Series(outcome)
        if len(column) != len(results):
            raise AssumptionError(
                "<argument>",
                "outcome",
                f"a column name, or one yes/no value per row ({len(results)})",
                f"{len(column)} values",
            )
        name = "condition"  # (a comparison keeps its column's name, which would mislead)
    if column.isna().any():
        hint = (
            (
                f"; {name} is a month, <NA> where it never comes: pass a condition, e.g. "
                f"results['{name}'].fillna(999) <= 24"
            )
            if name in results.columns and "month" in name
            else ""
        )
        raise AssumptionError(
            "<argument>", "outcome", f"a yes or no in every row (found a missing value{hint})", name
        )
    if pd.api.types.is_bool_dtype(column):
        return name, column.to_numpy(bool)
    if pd.api.types.is_numeric_dtype(column):
        values = column.to_numpy(float)
        if np.isin(values, (0.0, 1.0)).all():
            return name, values == 1.0
    raise AssumptionError(
        "<argument>",
        "outcome",
        "a yes/no column (boolean or 0/1); for a number pass a condition, "
        "e.g. results['peak_funding_usd'] < 5e6",
        name,
    )


def _product_data(
    product: str, frame: pd.DataFrame, y: NDArray[np.bool_], inputs: Sequence[str]
) -> _Data:
    numeric: list[str] = []
    xs: list[NDArray[np.float64]] = []
    named: list[str] = []
    codes: list[NDArray[np.int64]] = []
    categories: list[list[Any]] = []
    for key in inputs:
        column = frame[key]
        missing = column.isna()
        if missing.all():
            continue  # the product has no such input
        if missing.any():
            raise AssumptionError(
                "<results>",
                key,
                f"a value in every draw of {product} (found a missing value)",
                None,
            )
        if column.nunique() < 2:
            continue  # constant: nothing to restrict
        if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
            numeric.append(key)
            xs.append(column.to_numpy(float))
        else:
            cat = (
                column
                if isinstance(column.dtype, pd.CategoricalDtype)
                else column.astype("category")
            )
            cat = cat.cat.remove_unused_categories()
            named.append(key)
            codes.append(cat.cat.codes.to_numpy(np.int64))
            categories.append(list(cat.cat.categories))
    n = len(y)
    return _Data(
        product=product,
        y=y,
        numeric=numeric,
        x=np.column_stack(xs) if xs else np.empty((n, 0)),
        named=named,
        codes=np.column_stack(codes) if codes else np.empty((n, 0), np.int64),
        categories=categories,
    )


def _full_box(d: _Data) -> _Box:
    """The box holding every draw: each numeric input's data range, every option."""
    return _Box(
        d.x.min(axis=0, initial=np.inf),
        d.x.max(axis=0, initial=-np.inf),
        [np.ones(len(c), bool) for c in d.categories],
    )


def _peel(
    d: _Data, box: _Box, inside: NDArray[np.bool_], alpha: float, min_mass: float
) -> tuple[_Box, NDArray[np.bool_]] | None:
    """The best peel of *box*, or None when no peel raises the density within ``min_mass``."""
    n_all = len(d.y)
    n_in = int(inside.sum())
    hits_in = int(d.y[inside].sum())
    density = hits_in / n_in
    best: tuple[float, _Box, NDArray[np.bool_]] | None = None

    def consider(remove: NDArray[np.bool_], new_box: _Box) -> None:
        nonlocal best
        removed = int(remove.sum())
        left = n_in - removed
        if removed == 0 or left == 0 or left / n_all < min_mass:
            return
        gain = ((hits_in - int((d.y & remove).sum())) / left - density) / (removed / n_all)
        if gain > 0 and (best is None or gain > best[0]):
            best = (gain, new_box, inside & ~remove)

    for j in range(len(d.numeric)):
        column = d.x[:, j]
        values = column[inside]
        distinct = np.unique(values)
        if len(distinct) < 2:
            continue
        low = float(np.quantile(values, alpha))
        if low <= distinct[0]:
            low = float(distinct[1])  # ties at the minimum: cut them all
        new_box = box.copy()
        new_box.low[j] = low
        consider(inside & (column < low), new_box)
        high = float(np.quantile(values, 1.0 - alpha))
        if high >= distinct[-1]:
            high = float(distinct[-2])
        new_box = box.copy()
        new_box.high[j] = high
        consider(inside & (column > high), new_box)
    for j in range(len(d.named)):
        present = np.flatnonzero(
            np.bincount(d.codes[inside, j], minlength=len(d.categories[j])) > 0
        )
        if len(present) < 2:
            continue
        for c in present:
            new_box = box.copy()
            new_box.kept[j][c] = False
            consider(inside & (d.codes[:, j] == c), new_box)
    return None if best is None else (best[1], best[2])


def _paste(d: _Data, box: _Box, alpha: float) -> tuple[_Box, bool]:
    """Widen *box* one ``alpha`` step at a time while that raises its density."""
    pasted = False
    while True:
        ok = d.ok(box)
        inside = ok.all(axis=1)
        n_in, hits_in = int(inside.sum()), int(d.y[inside].sum())
        near = ok.sum(axis=1) == ok.shape[1] - 1  # outside the box by exactly one limit
        step = max(1, math.ceil(alpha * n_in))
        candidates: list[tuple[NDArray[np.bool_], _Box]] = []
        for j in range(len(d.numeric)):
            column = d.x[:, j]
            outside = near & ~ok[:, j]
            below = np.sort(column[outside & (column < box.low[j])])
            if len(below):
                wider = box.copy()
                wider.low[j] = float(below[max(0, len(below) - step)])
                candidates.append(
                    (outside & (column >= wider.low[j]) & (column < box.low[j]), wider)
                )
            above = np.sort(column[outside & (column > box.high[j])])
            if len(above):
                wider = box.copy()
                wider.high[j] = float(above[min(len(above), step) - 1])
                candidates.append(
                    (outside & (column <= wider.high[j]) & (column > box.high[j]), wider)
                )
        for j in range(len(d.named)):
            outside = near & ~ok[:, len(d.numeric) + j]
            for c in np.flatnonzero(~box.kept[j]):
                wider = box.copy()
                wider.kept[j][c] = True
                candidates.append((outside & (d.codes[:, j] == c), wider))
        best, best_density = None, hits_in / n_in
        for add, wider in candidates:
            density = (hits_in + int((d.y & add).sum())) / (n_in + int(add.sum()))
            if density > best_density:
                best, best_density = wider, density
        if best is None:
            return box, pasted
        box, pasted = best, True


def _choose(trajectory: list[dict[str, Any]], threshold: float | None, product: str) -> int:
    density = np.array([t["density"] for t in trajectory])
    coverage = np.array([t["coverage"] for t in trajectory])
    if threshold is not None:
        reached = np.flatnonzero(density >= threshold)
        if len(reached):
            return int(reached[0])
        warnings.warn(
            f"{product}: no box reaches density {threshold:g} (the densest has {density.max():.3g}); "
            "choosing the densest",
            UserWarning,
            stacklevel=3,
        )
        return int(np.flatnonzero(density == density.max())[0])
    if len(trajectory) < 3:
        return len(trajectory) - 1
    # the knee: the point farthest from the chord joining the first and last points
    p0 = np.array([coverage[0], density[0]])
    chord = np.array([coverage[-1], density[-1]]) - p0
    length = float(np.hypot(*chord))
    if length == 0:
        return len(trajectory) - 1
    distance = np.abs(chord[0] * (density - p0[1]) - chord[1] * (coverage - p0[0])) / length
    return int(np.flatnonzero(distance >= distance.max() - 1e-12)[-1])


def _limits_frame(d: _Data, box: _Box) -> pd.DataFrame:
    restricted = d.restricted(box)
    rows: list[dict[str, Any]] = []
    for j, key in enumerate(d.numeric):
        rows.append(
            {
                "product": d.product,
                "key": key,
                "kind": "numeric",
                "low": float(box.low[j]),
                "high": float(box.high[j]),
                "categories": None,
                "restricted": bool(restricted[j]),
            }
        )
    for j, key in enumerate(d.named):
        kept = tuple(c for c, k in zip(d.categories[j], box.kept[j]) if k)
        rows.append(
            {
                "product": d.product,
                "key": key,
                "kind": "named",
                "low": pd.NA,
                "high": pd.NA,
                "categories": kept,
                "restricted": bool(restricted[len(d.numeric) + j]),
            }
        )
    frame = pd.DataFrame(rows, columns=list(LIMIT_COLUMNS))
    frame["low"] = pd.array(frame["low"].tolist(), dtype="Float64")
    frame["high"] = pd.array(frame["high"].tolist(), dtype="Float64")
    for column in ("product", "key", "kind"):
        frame[column] = frame[column].astype("string")
    frame["restricted"] = frame["restricted"].astype(bool)
    return frame


def discover(
    results: pd.DataFrame,
    outcome: str | pd.Series | NDArray[Any] = "clears_break_even",
    inputs: Sequence[str] | None = None,
    *,
    alpha: float = 0.05,
    min_mass: float = 0.05,
    threshold: float | None = None,
    paste: bool = True,
) -> Discovery:
    r"""Find, per product, the box of input ranges in which *outcome* is true most often (PRIM).

    Parameters
    ----------
    results
        Draws and outcomes, e.g. :func:`tcpmf.monte_carlo`'s table: one row per draw, a column per
        input, an optional ``product`` column (one box per product).
    outcome
        A yes/no column of *results* (boolean or 0/1), default ``clears_break_even``; or one yes/no
        value per row, e.g. ``results["peak_funding_usd"] < 5e6``.
    inputs
        The columns a box may restrict; default every column but ``product``, ``draw`` and the
        outcome columns.  Numeric columns get ranges, any other column (model names, ...) a set of
        options.  An input constant within a product is not used for it.
    alpha
        Share of the box's draws each peel removes (and each paste adds), 0 < alpha < 0.5.
    min_mass
        The smallest share of a product's draws a box may hold.
    threshold
        Choose the first box on the trajectory whose density reaches this; default the knee of the
        trajectory (see the module docstring).
    paste
        Widen the chosen box afterwards while that raises its density.

    Returns
    -------
    Discovery
        ``.boxes``, ``.limits`` and ``.trajectory`` tables (see :class:`Discovery`).  A product
        with no draw where the outcome is true has no box: coverage ``<NA>`` (0/0), density 0,
        the whole data, and a warning.

    Examples
    --------
    >>> found = tcpmf.discover(draws, outcome=draws["payback_month"].fillna(99) < 24)
    >>> restricted = found.limits[found.limits.restricted]  # the inputs the boxes narrow
    >>> found.outcome  # a condition rather than a column of the results
    'condition'
    """
    if not isinstance(results, pd.DataFrame):
        raise TypeError(
            f"discover takes a pandas DataFrame of results, not {type(results).__name__}"
        )
    if len(results) == 0:
        raise AssumptionError("<argument>", "results", "at least one draw", "no rows")
    _check_settings(alpha, min_mass, threshold)
    name, y = _outcome(results, outcome)
    keys = _input_keys(results, inputs, outcome if isinstance(outcome, str) else None)
    if "product" in results.columns:
        groups = [
            (str(p), np.flatnonzero((results["product"] == p).to_numpy(bool)))
            for p in pd.unique(results["product"].dropna())
        ]
    else:
        groups = [(ALL, np.arange(len(results)))]
    boxes, limits, trajectories = [], [], []
    data: dict[str, _Data] = {}
    steps: dict[str, list[_Box]] = {}
    for product, rows in groups:
        d = _product_data(product, results.iloc[rows], y[rows], keys)
        if not d.y.any():
            warnings.warn(
                f"{product}: {name} is never true; no box to find", UserWarning, stacklevel=2
            )
        path, trajectory = _peeling(d, alpha, min_mass)
        chosen = _choose(trajectory, threshold, product) if d.y.any() else 0
        final, pasted = (
            _paste(d, path[chosen], alpha) if paste and d.y.any() else (path[chosen], False)
        )
        data[product], steps[product] = d, path
        for i, t in enumerate(trajectory):
            trajectories.append({"product": product, "step": i, **t, "chosen": i == chosen})
        boxes.append(
            {
                "product": product,
                "step": chosen,
                "pasted": pasted,
                **d.stats(d.inside(final), final),
                "draws": len(rows),
                "hits": int(d.y.sum()),
            }
        )
        limits.append(_limits_frame(d, final))
    return Discovery(
        outcome=name,
        boxes=_table(boxes, BOX_COLUMNS),
        limits=pd.concat(limits, ignore_index=True),
        trajectory=_table(trajectories, TRAJECTORY_COLUMNS),
        _data=data,
        _steps=steps,
    )


def _check_settings(alpha: float, min_mass: float, threshold: float | None) -> None:
    for name, value, ok, allowed in (
        (
            "alpha",
            alpha,
            isinstance(alpha, (int, float)) and 0 < alpha < 0.5,
            "a share between 0 and 0.5",
        ),
        (
            "min_mass",
            min_mass,
            isinstance(min_mass, (int, float)) and 0 < min_mass <= 1,
            "a share in (0, 1]",
        ),
        (
            "threshold",
            threshold,
            threshold is None or (isinstance(threshold, (int, float)) and 0 < threshold <= 1),
            "a density in (0, 1], or None for the knee of the trajectory",
        ),
    ):
        if isinstance(value, bool) or not ok:
            raise AssumptionError("<argument>", name, allowed, value)


def _input_keys(
    results: pd.DataFrame, inputs: Sequence[str] | None, column: str | None
) -> list[str]:
    """The columns a box may restrict: *inputs*, checked, or every column but the outcomes."""
    if inputs is None:
        return [str(c) for c in results.columns if c not in NOT_INPUTS and c != column]
    keys = [inputs] if isinstance(inputs, str) else [str(k) for k in inputs]
    for key in keys:
        if key not in results.columns:
            raise AssumptionError(
                "<argument>",
                "inputs",
                f"columns of the results, e.g. {', '.join(map(str, results.columns[:6]))}",
                key,
            )
        if key == column:
            raise AssumptionError("<argument>", "inputs", "columns other than the outcome", key)
    return keys


def _peeling(d: _Data, alpha: float, min_mass: float) -> tuple[list[_Box], list[dict[str, Any]]]:
    """The peeling trajectory of one product: its boxes from the whole data down, and their statistics."""
    box = _full_box(d)
    inside = np.ones(len(d.y), bool)
    path, trajectory = [box], [d.stats(inside, box)]
    while d.y.any():
        peeled = _peel(d, box, inside, alpha, min_mass)
        if peeled is None:
            break
        box, inside = peeled
        path.append(box)
        trajectory.append(d.stats(inside, box))
    return path, trajectory


def _table(rows: list[dict[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(columns))
    frame["product"] = frame["product"].astype("string")
    for column in ("coverage", "density"):
        frame[column] = pd.array(
            [
                pd.NA if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)
                for v in frame[column]
            ],
            dtype="Float64",
        )
    frame["mass"] = frame["mass"].astype(float)
    for column in ("step", "res_dim", "draws", "hits"):
        if column in frame:
            frame[column] = frame[column].astype(np.int64)
    for column in ("chosen", "pasted"):
        if column in frame:
            frame[column] = frame[column].astype(bool)
    return frame
