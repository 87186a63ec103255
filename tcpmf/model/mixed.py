"""Consumer, deal-based and MaaS scenarios in one :func:`tcpmf.evaluate` call.

The scenarios are split by :attr:`~tcpmf.schema.scenario.Scenario.kind`, each kind is evaluated
vectorized by its own engine (:mod:`tcpmf.model.engine`, :mod:`tcpmf.model.deals`, :mod:`tcpmf.model.maas`), and the
results are put back in input order: every summary column exists for every row (``<NA>`` where it
does not apply) and monthly columns a kind does not have are ``<NA>`` in ``Result.monthly``.  ``Result.arrays`` then has one
row per scenario, with the consumer columns of deal and MaaS rows set to 0.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tcpmf.core.months import month_index
from tcpmf.model.arrays import ScenarioArrays, from_scenarios, unique_names
from tcpmf.model.deals import deal_columns, evaluate_deals
from tcpmf.model.engine import MONTHLY_COLUMNS, SUMMARY_COLUMNS, evaluate_arrays
from tcpmf.model.maas import evaluate_maas, maas_columns
from tcpmf.model.summary import Computed
from tcpmf.schema.scenario import Scenario

__all__ = ["evaluate_mixed"]


def evaluate_mixed(scenarios: Sequence[Scenario]) -> tuple[ScenarioArrays, Computed]:
    """Evaluate each kind of scenario vectorized and reassemble the results in input order."""
    names = unique_names([s.name for s in scenarios])
    parts: list[tuple[NDArray[np.int64], Any]] = []
    toc_arrays: ScenarioArrays | None = None
    for kind in ("consumer", "deal", "maas"):
        positions = np.array([i for i, s in enumerate(scenarios) if s.kind == kind], dtype=np.int64)
        if positions.size == 0:
            continue
        chosen = [scenarios[i] for i in positions]
        chosen_names = [names[i] for i in positions]
        if kind == "consumer":
            toc_arrays = from_scenarios(chosen)
            parts.append((positions, evaluate_arrays(toc_arrays)))
        elif kind == "deal":
            parts.append((positions, evaluate_deals(deal_columns(chosen, chosen_names))))
        else:
            parts.append((positions, evaluate_maas(maas_columns(chosen, chosen_names))))
    months = max(int(c.in_horizon.shape[0]) for _, c in parts)
    arrays = _padded_arrays(
        toc_arrays, parts[0][0] if toc_arrays is not None else None, scenarios, names, months
    )
    return arrays, _reassemble(parts, len(scenarios), months)


def _reassemble(parts: list[tuple[NDArray[np.int64], Any]], n: int, months: int) -> Computed:
    in_horizon = np.zeros((months, n), bool)
    monthly_names = list(
        dict.fromkeys([*MONTHLY_COLUMNS, *(k for _, c in parts for k in c.monthly)])
    )
    monthly = {name: np.full((months, n), np.nan) for name in monthly_names}
    summary_names = list(dict.fromkeys(k for _, c in parts for k in c.summary))
    values: dict[str, NDArray[Any]] = {}
    valid: dict[str, NDArray[np.bool_]] = {}
    for positions, c in parts:
        length = c.in_horizon.shape[0]
        in_horizon[:length, positions] = c.in_horizon
        for name, column in c.monthly.items():
            monthly[name][:length, positions] = column
        for name in summary_names:
            if name not in c.summary:
                continue
            column, ok = c.summary[name]
            if name not in values:
                values[name] = np.zeros(n, dtype=column.dtype)
                valid[name] = np.zeros(n, bool)
            values[name][positions] = column
            valid[name][positions] = True if ok is None else ok
    for name in SUMMARY_COLUMNS:  # a column no evaluated kind has: NA throughout
        if name not in values and name not in ("tcpmf_calendar_month", "launch_month"):
            values[name] = np.zeros(n, dtype=np.int64 if name.endswith("_month") else float)
            valid[name] = np.zeros(n, bool)
            summary_names.append(name)
    summary = {name: (values[name], valid[name]) for name in summary_names}
    return Computed(monthly=monthly, in_horizon=in_horizon, summary=summary)  # type: ignore[arg-type]


def _padded_arrays(
    toc: ScenarioArrays | None,
    toc_positions: NDArray[np.int64] | None,
    scenarios: Sequence[Scenario],
    names: list[str],
    months: int,
) -> ScenarioArrays:
    """A :class:`ScenarioArrays` of all N rows: consumer rows from *toc*, other rows 0."""
    n = len(scenarios)
    columns: dict[str, Any] = {}
    for f in dataclasses.fields(ScenarioArrays):
        given = getattr(toc, f.name) if toc is not None else None
        if f.name == "names":
            columns[f.name] = names
        elif f.name == "start_month_index":
            columns[f.name] = np.array(
                [month_index(s.start_month) for s in scenarios], dtype=np.int64
            )
        elif f.name == "horizon_months":
            columns[f.name] = np.array([s.horizon_months for s in scenarios], dtype=np.int64)
        elif isinstance(given, np.ndarray):
            shape = (months, n) if given.ndim == 2 else (n,)
            full = np.zeros(shape, dtype=given.dtype)
            full[..., toc_positions] = given if given.ndim == 1 else _rows(given, months)
            columns[f.name] = full
        elif given is not None or (toc is not None and f.default is dataclasses.MISSING):
            columns[f.name] = given
        elif f.default is not dataclasses.MISSING:
            columns[f.name] = f.default
        else:
            text = str(f.type)
            dtype: Any = bool if "bool" in text else np.int64 if "int64" in text else float
            columns[f.name] = np.zeros((months, n) if f.name == "retention" else (n,), dtype=dtype)
    return ScenarioArrays(**columns)


def _rows(matrix: NDArray[Any], months: int) -> NDArray[Any]:
    """A time-major ``(T', N')`` matrix cut or zero-padded to *months* rows."""
    out = np.zeros((months, matrix.shape[1]), dtype=matrix.dtype)
    length = min(months, matrix.shape[0])
    out[:length] = matrix[:length]
    return out
