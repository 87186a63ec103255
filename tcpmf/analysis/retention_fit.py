"""Retention curves fitted to cohort data by maximum likelihood (docs/model.md §4).

A cohort table has one row per cohort and age: ``cohort``, ``age_months`` and either the number
of the cohort's users still active (``active_users``) or their share (``share``).  Each cohort
starts at age 0 with all its members.  Users lost between two observed ages ``a < b`` churned in
that interval, with probability ``S(a) − S(b)``; users still active at a cohort's last observed
age ``L`` are right-censored, with probability ``S(L)``.  The log-likelihood, summed over cohorts,

.. math::

    \\ell(\\theta) = \\sum_{\\text{intervals}} (n_a - n_b) \\log\\big(S(a) - S(b)\\big)
                   + \\sum_{\\text{cohorts}} n_L \\log S(L),

is the shifted-beta-geometric likelihood of Fader & Hardie (2007, "How to project customer
retention", eq. 5) generalised to any survival curve ``S`` and to gaps between observed ages.
Younger cohorts simply contribute fewer ages.  The curves themselves are those of
:mod:`tcpmf.formulas.retention`.

Shares without cohort sizes give the same estimates (the likelihood per member), but no standard
errors and no AIC; the best curve is then the one with the lowest RMSE.

Examples
--------
>>> import pandas as pd, tcpmf
>>> table = pd.DataFrame({"age_months": range(8),
...     "active_users": [1000, 869, 743, 653, 593, 551, 517, 491]})
>>> fit = tcpmf.fit_retention(table, curves=["sbg"])
>>> round(fit.best().params["alpha"], 3), round(fit.best().params["beta"], 3)
(0.668, 3.806)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.differentiate import hessian, jacobian
from scipy.optimize import minimize
from scipy.special import expit, logit, xlogy

from tcpmf.core.errors import AssumptionError, TcpmfError
from tcpmf.core.extras import import_optional
from tcpmf.core.yamlio import display_path
from tcpmf.formulas import retention
from tcpmf.formulas.retention import MONTHS_PER_PERIOD

if TYPE_CHECKING:  # pragma: no cover
    import_optional("altair", "the retention chart")
    import altair as alt

__all__ = [
    "FIT_CURVES",
    "CurveFit",
    "RetentionFit",
    "fit_retention",
    "read_cohorts",
    "simulate_cohorts",
]

F = NDArray[np.float64]

#: Column names accepted in a cohort table (first match wins), mapped to the canonical name.
ALIASES: dict[str, tuple[str, ...]] = {
    "cohort": ("cohort",),
    "age_months": ("age_months", "age", "month", "months"),
    "active_users": ("active_users", "active", "count", "users", "survivors"),
    "share": ("share", "retention", "retained_share"),
}


@dataclass(frozen=True)
class _Family:
    """A curve family in unconstrained coordinates ``z`` (so the optimiser needs no constraints)."""

    params: tuple[str, ...]
    to_params: Callable[[F], F]  # z (p, ...) -> natural parameters (p, ...)
    survival: Callable[[F, int], F]  # natural parameters (p, K), months -> S, shape (months, K)
    grid: Callable[
        [Any], F
    ]  # month-1 share(s) -> starting points z, (p, K) or (p, K, N) for N shares
    bounds: tuple[tuple[float, float], ...]  # box in z, matching the scenario schema's bounds


def _pl_params(z: F) -> F:
    return np.stack([expit(z[0]), np.exp(z[1])])


def _pl_survival(p: F, months: int) -> F:
    return retention.power_law(p[0], p[1], months)


def _plateau_params(z: F) -> F:
    r1 = expit(z[0])
    return np.stack([r1, r1 * expit(z[1]), np.exp(z[2])])


def _plateau_survival(p: F, months: int) -> F:
    return retention.plateau(p[0], p[1], p[2], months)


def _sbg_params(z: F) -> F:
    return np.exp(z)


def _sbg_survival(p: F, months: int) -> F:
    return retention.sbg(p[0], p[1], months)


def _mesh(*axes: ArrayLike) -> F:
    """Every combination of the axes' values, ``(p, K)``; an axis may hold one column of values per
    cohort, ``(n_i, N)``, and the mesh is then ``(p, K, N)`` (each cohort's own grid)."""
    arrays = [np.asarray(a, float) for a in axes]
    if all(a.ndim == 1 for a in arrays):
        return np.stack([g.ravel() for g in np.meshgrid(*arrays, indexing="ij")])
    picks = np.meshgrid(*(np.arange(a.shape[0]) for a in arrays), indexing="ij")
    width = max(a.shape[1] for a in arrays if a.ndim == 2)
    return np.stack(
        [
            np.broadcast_to((a[i.ravel()] if a.ndim == 2 else a[i.ravel(), None]), (i.size, width))
            for a, i in zip(arrays, picks)
        ]
    )


def _r1_axis(s1: ArrayLike) -> F:
    """Starting values of r1 around the month-1 share *s1* (one column per cohort for an array)."""
    s = np.asarray(s1, float)
    return logit(np.clip(np.stack([s * 0.8, s, np.minimum(s * 1.2, 0.99)]), 1e-3, 0.999))  # type: ignore[no-any-return]


_R1 = (-9.0, 9.0)  # r1 within about (1e-4, 1 - 1e-4)
FAMILIES: dict[str, _Family] = {
    "power_law": _Family(
        ("r1", "beta"),
        _pl_params,
        _pl_survival,
        lambda s1: _mesh(_r1_axis(s1), np.log([0.05, 0.2, 0.5, 1.0, 2.0])),
        (_R1, (math.log(1e-4), math.log(20.0))),
    ),
    "plateau": _Family(
        ("r1", "floor", "tau"),
        _plateau_params,
        _plateau_survival,
        lambda s1: _mesh(
            _r1_axis(s1),
            logit([0.05, 0.3, 0.6, 0.9]),
            np.log([0.5, 2.0, 6.0, 20.0]),
        ),
        (_R1, (-12.0, 12.0), (math.log(1e-3), math.log(1e4))),
    ),
    "sbg": _Family(
        ("alpha", "beta"),
        _sbg_params,
        _sbg_survival,
        lambda s1: _mesh(
            np.log([0.1, 0.3, 1.0, 3.0, 10.0]), np.log([0.1, 0.3, 1.0, 3.0, 10.0, 30.0])
        ),
        ((math.log(1e-4), math.log(1e4)),) * 2,
    ),
}
#: The curve families :func:`fit_retention` knows, in the order they are reported.
FIT_CURVES: tuple[str, ...] = tuple(FAMILIES)
#: A fit whose standard error exceeds this multiple of its estimate is not identified.
MAX_RELATIVE_SE = 10.0
#: Distance (in the optimiser's coordinates) within which an estimate counts as on its bound.
BOUND_MARGIN = 1e-3


# --------------------------------------------------------------------------- reading the table
def _fail(
    source: str, where: str, allowed: str, value: Any = None, has_value: bool = True
) -> AssumptionError:
    if has_value:
        return AssumptionError(source, where, allowed, _py(value))
    return AssumptionError(source, where, allowed)


def _py(value: Any) -> Any:
    """numpy scalars as plain Python values (for messages)."""
    return value.item() if isinstance(value, np.generic) else value


def _age_columns(columns: Iterable[Any]) -> dict[str, int]:
    """Columns named like an age in months (``0``, ``m1``, ``month_2``, ``month 3``) and their age."""
    out = {}
    for c in columns:
        text = str(c).strip().lower()
        for prefix in ("month_", "month ", "months_", "month", "m", "age_", "age"):
            if text.startswith(prefix) and text[len(prefix) :].isdigit():
                text = text[len(prefix) :]
                break
        if text.isdigit():
            out[str(c)] = int(text)
    return out


def _from_wide(frame: pd.DataFrame, source: str, first_line: int | None = None) -> pd.DataFrame:
    """A wide table (one row per cohort, a column per age) as a long one; empty cells are unobserved.

    A cell that holds text which is not a number ("x", "n/a", "1,200", "12%") is refused naming its
    line (or row) and column, as in the long format; only empty cells mean "not observed"."""
    ages = _age_columns(frame.columns)
    others = [c for c in frame.columns if c not in ages]
    if len(ages) < 2 or len(others) > 1:
        raise _fail(
            source,
            "columns",
            "a wide cohort table: one label column (cohort) and one column per "
            "age in months (0, 1, 2 … or month_0, month_1 …)",
            list(frame.columns),
        )
    labels = (
        frame[others[0]].astype(str).str.strip()
        if others
        else pd.Series([f"row {i + 1}" for i in range(len(frame))], index=frame.index)
    )
    values = frame[list(ages)].apply(pd.to_numeric, errors="coerce")
    _refuse_text_cells(frame[list(ages)], values, source, first_line)
    grid = values.to_numpy(float)
    shares = bool((grid[~np.isnan(grid)] <= 1).all())
    row, col = np.nonzero(~np.isnan(grid))  # row by row, ages in column order
    return pd.DataFrame(
        {
            "cohort": labels.to_numpy()[row],
            "age_months": np.array(list(ages.values()))[col],
            "share" if shares else "active_users": grid[row, col],
        }
    )


def _refuse_text_cells(
    cells: pd.DataFrame, numbers: pd.DataFrame, source: str, first_line: int | None
) -> None:
    """Refuse the first cell of a wide table that is not empty but did not read as a finite number."""
    empty = cells.isna() | cells.astype(str).apply(lambda column: column.str.strip() == "")
    bad = ~empty & ~np.isfinite(numbers.to_numpy(float))
    rows, cols = np.nonzero(bad.to_numpy())
    if rows.size:
        i, j = int(rows[0]), int(cols[0])
        row = f"line {i + first_line}" if first_line is not None else f"row {_py(cells.index[i])!r}"
        raise _fail(
            source,
            f"{row}, column {cells.columns[j]}",
            "a finite number (or an empty cell for an age not yet observed)",
            cells.iloc[i, j],
        )


def _read_csv(path: Path, source: str, wide: bool) -> pd.DataFrame:
    """The CSV at *path*; a wide table's empty cells are ages not yet observed, so there "n/a",
    "NA" … stay text (and are refused) rather than being read as missing."""
    try:
        if wide:
            return pd.read_csv(path, skipinitialspace=True, keep_default_na=False, na_values=[""])
        return pd.read_csv(path, skipinitialspace=True)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise TcpmfError(f"{source}: cannot read the cohort table as CSV ({exc})") from None


def read_cohorts(
    cohorts: pd.DataFrame | str | Path,
    cohort_size: float | Mapping[str, float] | None = None,
    wide: bool = False,
) -> pd.DataFrame:
    """Read and check a cohort table; return it tidy with every cohort starting at age 0.

    Parameters
    ----------
    cohorts
        A DataFrame or the path of a CSV file with columns ``cohort`` (optional when there is one
        cohort), ``age_months`` (or ``age``) and ``active_users`` (or ``active``, ``count``) or
        ``share`` (or ``retention``).  Counts are used when both are given.
    cohort_size
        Members at age 0 of every cohort (a number) or of each cohort (a mapping), to turn shares
        into counts; ignored when the table has counts.
    wide
        The table has one row per cohort (label in the first column) and one column per age in
        months, named ``0, 1, 2 …`` or ``month_0, month_1 …``; empty cells are ages not yet
        observed.  Values all at most 1 are shares, else counts.

    Returns
    -------
    pandas.DataFrame
        Columns ``cohort`` (str), ``age_months`` (int), ``active_users`` (float, NaN when only
        shares are known) and ``share``, sorted by cohort then age.

    Raises
    ------
    AssumptionError
        Naming the file, the row and column, the value and what is allowed: a missing column, a
        value that is not a number, a negative count, a share outside [0, 1], ages that do not
        increase within a cohort, or a cohort that grows.
    """
    source, frame, first_line = _load_frame(cohorts, wide)
    found = _find_columns(frame, source)
    rows = _Rows(source, frame.index, first_line)
    age_col = found["age_months"]
    counts = found["active_users"] is not None
    value_col = found["active_users"] if counts else found["share"]
    ages = _numbers(frame, age_col, rows)
    values = _numbers(frame, value_col, rows)
    labels = (
        frame[found["cohort"]].astype(str).str.strip()
        if found["cohort"] is not None
        else pd.Series("all", index=frame.index, dtype=str)
    )
    if len(frame) == 0:
        raise _fail(source, "rows", "at least one cohort observed at an age of 1 month or more", 0)
    _check_ranges(ages, values, counts, rows, age_col, value_col)
    table = _tidy(_Columns(labels, ages, values, counts, age_col, value_col), cohort_size, rows)
    if not (table["age_months"] > 0).any():
        raise _fail(
            source,
            "rows",
            "at least one cohort observed at an age of 1 month or more",
            "only age 0",
        )
    return table


def _load_frame(
    cohorts: pd.DataFrame | str | Path, wide: bool
) -> tuple[str, pd.DataFrame, int | None]:
    """The table as a long DataFrame with lower-case column names, where it came from, and the CSV
    line of its first row (None for a DataFrame, or a wide table reshaped into rows)."""
    first_line: int | None
    if isinstance(cohorts, pd.DataFrame):
        source, frame, first_line = "<DataFrame>", cohorts.copy(), None
    else:
        path = Path(cohorts)
        source = display_path(path)
        frame = _read_csv(path, source, wide)
        first_line = 2  # line 1 is the header
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    if wide:
        frame = _from_wide(frame, source, first_line)
        first_line = None  # rows are now (cohort, age) pairs; name them by row
    return source, frame, first_line


def _find_columns(frame: pd.DataFrame, source: str) -> dict[str, str | None]:
    """The column of each canonical name (see :data:`ALIASES`); refuse a table missing one, with a hint."""
    found = {
        name: next((a for a in aliases if a in frame.columns), None)
        for name, aliases in ALIASES.items()
    }
    if found["age_months"] is None or (found["active_users"] is None and found["share"] is None):
        missing = "age_months" if found["age_months"] is None else "active_users or share"
        hint = ""
        if len(frame.columns) == 1 and ";" in str(frame.columns[0]):
            hint = (
                "; the file seems to be separated by semicolons: save it as comma-separated CSV "
                "(or replace ; by ,)"
            )
        elif len(_age_columns(frame.columns)) >= 2:
            hint = (
                "; this looks like a wide table (one row per cohort, one column per month): give --wide "
                "(wide=True), or reshape it to one row per cohort and age"
            )
        raise _fail(
            source,
            "columns",
            f"a cohort table needs the column {missing} "
            f"(columns: cohort, age_months, and active_users or share){hint}",
            list(frame.columns),
        )
    return found


@dataclass(frozen=True)
class _Rows:
    """Where a row of the cohort table is, for messages: its CSV line, else its DataFrame index."""

    source: str
    index: pd.Index
    first_line: int | None

    def where(self, i: int, column: str | None) -> str:
        row = (
            f"line {i + self.first_line}"
            if self.first_line is not None
            else f"row {_py(self.index[i])!r}"
        )
        return f"{row}, column {column}"

    def fail(self, i: int, column: str | None, allowed: str, value: Any) -> AssumptionError:
        return _fail(self.source, self.where(i, column), allowed, value)


@dataclass(frozen=True)
class _Columns:
    """The checked columns of a cohort table, one entry per row, in the table's order."""

    labels: pd.Series  # of str
    ages: F
    values: F
    counts: bool  # values are active users (else shares)
    age_col: str | None
    value_col: str | None


def _numbers(frame: pd.DataFrame, column: str | None, rows: _Rows) -> F:
    """A column as floats; refuse the first cell that is empty or not a finite number."""
    text = frame[column]
    values = pd.to_numeric(text, errors="coerce").to_numpy(float)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        i = int(bad[0])
        cell = text.iloc[i]
        if (
            cell is None
            or (isinstance(cell, float) and math.isnan(cell))
            or str(cell).strip() == ""
        ):
            raise _fail(
                rows.source,
                rows.where(i, column),
                "a finite number; the cell is empty",
                has_value=False,
            )
        raise rows.fail(i, column, "a finite number", cell)
    return values


def _check_ranges(
    ages: F, values: F, counts: bool, rows: _Rows, age_col: str | None, value_col: str | None
) -> None:
    """Refuse the first age that is not a whole number of months, or count or share out of range."""
    bad = np.flatnonzero((ages < 0) | (ages != np.round(ages)))
    if bad.size:
        i = int(bad[0])
        raise rows.fail(i, age_col, "a whole number of months, 0 or more", ages[i])
    if counts:
        bad = np.flatnonzero(values < 0)
        if bad.size:
            i = int(bad[0])
            raise rows.fail(i, value_col, "a count of active users, 0 or more", values[i])
    else:
        bad = np.flatnonzero((values < 0) | (values > 1))
        if bad.size:
            i = int(bad[0])
            raise rows.fail(i, value_col, "a share between 0 and 1", values[i])


def _cohort_sizes(uniques: pd.Index, cohort_size: float | Mapping[str, float] | None) -> F:
    """Members at age 0 of each cohort from ``cohort_size`` (NaN where unknown)."""
    if isinstance(cohort_size, Mapping):
        return np.array([cohort_size.get(str(label)) or math.nan for label in uniques], dtype=float)
    return np.full(uniques.size, cohort_size or math.nan, dtype=float)


def _tidy(
    cols: _Columns, cohort_size: float | Mapping[str, float] | None, rows: _Rows
) -> pd.DataFrame:
    """The cohorts (in order of first appearance) each sorted from age 0, with shares and counts.

    The checks run on all cohorts at once; the first cohort that fails one is then checked on its
    own by :func:`_check_cohort`, which names the row (so 10^6 cohorts read in seconds)."""
    codes, uniques = pd.factorize(cols.labels)  # cohorts in order of first appearance
    order = np.argsort(codes, kind="stable")
    code, a, v = codes[order], cols.ages[order], cols.values[order]
    head = np.r_[True, code[1:] != code[:-1]]  # the first row of each cohort
    first = np.flatnonzero(head)
    a0, v0 = a[first], v[first]
    inner = ~head[1:]  # row j + 1 belongs to the cohort of row j
    sizes = v0 if cols.counts else _cohort_sizes(uniques, cohort_size)
    if cols.counts:
        bad = (a0 != 0) | (v0 <= 0)
        top = np.maximum(v0, 1.0)
    else:
        bad = ((a0 == 0) & ~(np.abs(v0 - 1.0) <= 1e-9)) | ~(np.isnan(sizes) | (sizes > 0))
        top = np.ones(first.size)
    row_bad = inner & ((np.diff(a) <= 0) | (np.diff(v) > 1e-12 * top[code[1:]]))
    bad[code[1:][row_bad]] = True
    if bad.any():
        k = int(np.argmax(bad))
        _check_cohort(uniques[k], order[code == k], cols, cohort_size, rows)
    if not cols.counts:
        missing0 = np.flatnonzero(a0 != 0)  # shares observed from a later age start at 1 at age 0
        code, a, v = (
            np.r_[code, missing0],
            np.r_[a, np.zeros(missing0.size)],
            np.r_[v, np.ones(missing0.size)],
        )
        resort = np.lexsort((a, code))
        code, a, v = code[resort], a[resort], v[resort]
    share = v / v0[code] if cols.counts else v
    return pd.DataFrame(
        {
            "cohort": uniques.take(code),
            "age_months": a.astype(np.int64),
            "active_users": v if cols.counts else share * sizes[code],
            "share": share,
        }
    )


def _check_cohort(
    label: Any,
    rows_of: NDArray[np.int_],
    cols: _Columns,
    cohort_size: float | Mapping[str, float] | None,
    rows: _Rows,
) -> None:
    """Refuse one cohort (its rows in table order) naming the row: ages that do not increase, a
    wrong start at age 0, a bad size, or a cohort that grows."""
    a, v = cols.ages[rows_of], cols.values[rows_of]
    step = np.flatnonzero(np.diff(a) <= 0)
    if step.size:
        i = int(rows_of[step[0] + 1])
        raise rows.fail(
            i,
            cols.age_col,
            f"ages that increase within cohort {label!r} (previous row has age {a[step[0]]:g})",
            cols.ages[i],
        )
    if cols.counts:
        if a[0] != 0 or v[0] <= 0:
            raise rows.fail(
                int(rows_of[0]),
                cols.value_col,
                f"cohort {label!r} to start at age_months 0 with its size (more than 0 users)",
                v[0],
            )
    else:
        if a[0] == 0 and not math.isclose(v[0], 1.0, abs_tol=1e-9):
            raise rows.fail(
                int(rows_of[0]),
                cols.value_col,
                f"share 1 at age 0 (cohort {label!r} is measured against its size at age 0)",
                v[0],
            )
        if a[0] != 0:
            a, v, rows_of = np.r_[0.0, a], np.r_[1.0, v], np.r_[-1, rows_of]
        size = (
            cohort_size.get(str(label)) if isinstance(cohort_size, Mapping) else cohort_size
        ) or math.nan
        if not (math.isnan(size) or size > 0):
            raise _fail("<argument>", f"cohort_size[{label!r}]", "a positive number of users", size)
    rise = np.flatnonzero(np.diff(v) > 1e-12 * max(v[0], 1.0))
    if rise.size:
        i = int(rows_of[rise[0] + 1])
        raise rows.fail(
            i,
            cols.value_col,
            f"a cohort that never grows (cohort {label!r} had {v[rise[0]]:g} at age {a[rise[0]]:g}; "
            "returning users are not modelled by these curves)",
            v[rise[0] + 1],
        )


# --------------------------------------------------------------------------- likelihood
@dataclass(frozen=True)
class _Data:
    """Intervals and censoring of a set of cohorts as flat arrays (age indices into S).

    The likelihood is linear in the users lost over each interval and in those still active at
    each last observed age, so cohorts observed at the same ages are summed into one entry per
    distinct interval ``(start, end)`` and per distinct last age (``grouped``, the default): a
    table of 10^6 cohorts becomes as many entries as it has distinct intervals (at most
    ``months²``).  ``grouped=False`` keeps one entry per cohort and interval (the same ℓ up to
    rounding; kept to test that)."""

    start: NDArray[np.int_]
    end: NDArray[np.int_]
    lost: F
    last_age: NDArray[np.int_]
    last_active: F
    obs_age: NDArray[np.int_]
    obs_share: F
    months: int

    @classmethod
    def of(cls, table: pd.DataFrame, weights: F, grouped: bool = True) -> _Data:
        """*table* as :func:`read_cohorts` returns it (each cohort's rows together, from age 0);
        *weights* the size of each cohort in order of first appearance (ones for shares alone)."""
        code = pd.factorize(table["cohort"])[0]
        a = table["age_months"].to_numpy(np.int64)
        v = table["share"].to_numpy(float) * np.asarray(weights, float)[code]
        same = code[1:] == code[:-1]  # rows j and j + 1 are one interval of one cohort
        start, end, lost = a[:-1][same], a[1:][same], (v[:-1] - v[1:])[same]
        last = np.r_[~same, True]
        last_age, last_active = a[last], v[last]
        months = int(a.max()) + 1
        if grouped:
            key, where = np.unique(start * months + end, return_inverse=True)
            start, end, lost = key // months, key % months, np.bincount(where, weights=lost)
            last_age, where = np.unique(last_age, return_inverse=True)
            last_active = np.bincount(where, weights=last_active)
        observed = a > 0
        return cls(
            start,
            end,
            lost,
            last_age,
            last_active,
            a[observed],
            table["share"].to_numpy(float)[observed],
            months,
        )

    def log_likelihood(self, survival: F) -> F:
        """ℓ for each column of ``survival`` (shape ``(months, K)``); returns shape ``(K,)``."""
        churn = np.maximum(survival[self.start] - survival[self.end], 1e-300)
        kept = np.maximum(survival[self.last_age], 1e-300)
        return xlogy(self.lost[:, None], churn).sum(axis=0) + xlogy(
            self.last_active[:, None], kept
        ).sum(axis=0)


@dataclass(frozen=True)
class CurveFit:
    """One curve fitted to one set of cohorts.

    Attributes
    ----------
    curve
        ``"power_law"``, ``"plateau"`` or ``"sbg"`` (the scenario schema's ``retention.curve``).
    cohort
        ``"pooled"`` for all cohorts together, else the cohort's label.
    params
        Maximum-likelihood estimates, named as in the scenario schema.
    std_errors
        From the inverse Hessian of −ℓ (delta method through the optimiser's coordinates); NaN when
        not defined (no cohort sizes, an estimate on a bound, or a Hessian that is not positive
        definite).
    log_likelihood, aic
        ℓ at the estimates and ``2k − 2ℓ``; with shares and no sizes ℓ is per cohort member and the
        AIC is NaN.
    rmse
        Root mean squared difference between observed and fitted shares at ages ≥ 1.
    identified
        Whether the data determine the curve: at least as many distinct observed ages ≥ 1 as
        parameters, no estimate on an optimiser bound, and (with cohort sizes) finite standard
        errors no larger than :data:`MAX_RELATIVE_SE` times their estimate.  Only identified fits
        can be the best curve.
    note
        Why the fit is not identified (empty when it is).
    """

    curve: str
    cohort: str
    params: dict[str, float]
    std_errors: dict[str, float]
    log_likelihood: float
    aic: float
    rmse: float
    n_obs: int
    converged: bool
    identified: bool = True
    note: str = ""

    def survival(self, months: int) -> F:
        """Fitted ``S(k)`` for ages ``k = 0 … months − 1`` (from :mod:`tcpmf.formulas.retention`)."""
        p = np.array([[self.params[n]] for n in FAMILIES[self.curve].params])
        return FAMILIES[self.curve].survival(p, months)[:, 0]

    def retention_dict(self, digits: int = 4) -> dict[str, Any]:
        """The scenario's ``retention`` section, e.g. ``{"curve": "sbg", "alpha": 0.7, "beta": 1.2}``."""
        return {"curve": self.curve, **{k: round(v, digits) for k, v in self.params.items()}}

    def overrides(self, digits: int = 4) -> dict[str, Any]:
        """Dotted keys for :meth:`Scenario.override`: ``{"retention.curve": "sbg", "retention.alpha": …}``."""
        return {f"retention.{k}": v for k, v in self.retention_dict(digits).items()}


def _fit_one(curve: str, data: _Data, cohort: str, has_sizes: bool, s1: float) -> CurveFit:
    family = FAMILIES[curve]

    def nll(z: F) -> F:  # z: (p, *batch) -> (*batch)
        batch = z.shape[1:]
        flat = z.reshape(z.shape[0], -1)
        return -data.log_likelihood(family.survival(family.to_params(flat), data.months)).reshape(
            batch
        )

    grid = family.grid(s1)
    z0 = grid[:, int(np.nanargmin(nll(grid)))]
    bounds = np.array(family.bounds)
    z0 = np.clip(z0, bounds[:, 0] + 1e-6, bounds[:, 1] - 1e-6)
    scale = max(float(data.lost.sum() + data.last_active.sum()), 1e-12)  # keep the objective O(1)
    opt = minimize(
        lambda z: float(nll(z[:, None])[0]) / scale,
        z0,
        method="L-BFGS-B",
        bounds=bounds,
        options={"ftol": 1e-15, "gtol": 1e-11, "maxiter": 2000},
    )
    polish = minimize(
        lambda z: float(nll(z[:, None])[0]) / scale,
        opt.x,
        method="Nelder-Mead",
        options={"xatol": 1e-9, "fatol": 1e-15, "maxiter": 4000},
    )
    z_hat = polish.x if polish.fun <= opt.fun and _inside(polish.x, bounds) else opt.x
    p_hat = family.to_params(z_hat[:, None])[:, 0]
    ll = -float(nll(z_hat[:, None])[0])
    k = len(family.params)
    se = np.full(k, np.nan)
    if has_sizes and _inside(z_hat, bounds, margin=1e-3):
        h = hessian(nll, z_hat, initial_step=0.05).ddf
        if np.all(np.isfinite(h)) and np.all(np.linalg.eigvalsh((h + h.T) / 2) > 0):
            jac = jacobian(family.to_params, z_hat, initial_step=0.05).df
            cov = jac @ np.linalg.inv(h) @ jac.T
            se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    fitted = family.survival(p_hat[:, None], data.months)[:, 0]
    rmse = float(np.sqrt(np.mean((fitted[data.obs_age] - data.obs_share) ** 2)))
    names = family.params
    n_ages = int(np.unique(data.obs_age).size)
    on_bound = [
        n
        for n, zi, (lo, hi) in zip(names, z_hat, bounds)
        if zi <= lo + BOUND_MARGIN or zi >= hi - BOUND_MARGIN
    ]
    loose = []
    if has_sizes and not on_bound and n_ages >= k:
        loose = [
            n
            for n, v, e in zip(names, p_hat, se)
            if not math.isfinite(e) or e > MAX_RELATIVE_SE * abs(v)
        ]
    note = _note(k, n_ages, on_bound, loose)
    return CurveFit(
        curve=curve,
        cohort=cohort,
        params={n: float(v) for n, v in zip(names, p_hat)},
        std_errors={n: float(v) for n, v in zip(names, se)},
        log_likelihood=ll,
        aic=2 * k - 2 * ll if has_sizes else math.nan,
        rmse=rmse,
        n_obs=int(data.obs_age.size),
        converged=bool(opt.success or polish.success),
        identified=not note,
        note=note,
    )


def _note(k: int, n_ages: int, on_bound: Sequence[str], loose: Sequence[str]) -> str:
    """Why a fit of *k* parameters to *n_ages* observed ages of 1 month or more is not identified,
    given the parameters *on_bound* of the optimiser's box and those whose standard error is
    *loose* (:attr:`CurveFit.note`; empty when it is identified)."""
    reasons = []
    if n_ages < k:
        reasons.append(f"{n_ages} observed age(s) of 1 month or more for {k} parameters")
    if on_bound:
        reasons.append(f"{', '.join(on_bound)} at the optimiser's bound")
    if loose:
        reasons.append(
            f"standard error of {', '.join(loose)} undefined or more than "
            f"{MAX_RELATIVE_SE:g} times the estimate"
        )
    return "; ".join(reasons)


def _inside(z: F, bounds: F, margin: float = 0.0) -> bool:
    return bool(np.all(z > bounds[:, 0] + margin) and np.all(z < bounds[:, 1] - margin))


# --------------------------------------------------------------------------- the result
@dataclass(frozen=True)
class RetentionFit:
    """What :func:`fit_retention` returns: every fit, the data, and ways to use the best curve.

    Attributes
    ----------
    fits
        One :class:`CurveFit` per curve fitted to the pooled cohorts.
    data
        The checked cohort table (see :func:`read_cohorts`).
    has_sizes
        Whether cohort sizes were known (counts, or shares with ``cohort_size``).
    source
        Where the table came from, for the ``source`` of the YAML block.
    period
        The age unit of the table (day, week, month or year): the fitted parameters are per
        period, and the YAML block states it so that the engine converts it to months.
    cohort_fits
        When fitted by cohort: each cohort's own fits, one row per cohort and curve (a table, not
        objects, so that 10^6 cohorts fit in memory; see
        :func:`tcpmf.analysis.cohort_fits.fit_each_cohort`).  :meth:`get`, :meth:`best`,
        :attr:`quality` and :attr:`params` read it for a cohort's label.
    """

    fits: tuple[CurveFit, ...]
    data: pd.DataFrame = field(repr=False)
    has_sizes: bool
    source: str
    period: str = "month"
    cohort_fits: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    def _of_cohort(self, cohort: str) -> list[CurveFit]:
        """The fits of one set of cohorts: the pooled fits, or a cohort's own (built from its rows)."""
        if cohort == "pooled":
            return list(self.fits)
        table = self.cohort_fits
        if table is None:
            return []
        return [
            _curve_fit(row, self.has_sizes)
            for row in table.loc[table["cohort"] == cohort].itertuples()
        ]

    @property
    def curves(self) -> list[str]:
        return list(dict.fromkeys(f.curve for f in self.fits))

    def best(self, cohort: str = "pooled") -> CurveFit:
        """The identified fit with the lowest AIC (lowest RMSE when cohort sizes are unknown).

        Raises
        ------
        TcpmfError
            When no fit of the cohort set is identified (the message says why for each curve).
        """
        best = self._best_or_none(cohort)
        if best is None:
            why = "; ".join(f"{f.curve}: {f.note}" for f in self._of_cohort(cohort))
            what = "the pooled cohorts" if cohort == "pooled" else f"cohort {cohort!r}"
            raise TcpmfError(
                f"the data do not determine any retention curve for {what} ({why}); "
                "more cohorts or more months of data are needed"
            )
        return best

    def _best_or_none(self, cohort: str) -> CurveFit | None:
        candidates = self._of_cohort(cohort)
        if not candidates:
            fitted = [] if self.cohort_fits is None else self.cohort_fits["cohort"].unique()
            known = ["pooled", *(str(c) for c in fitted[:20])]
            more = f" and {len(fitted) - 20:,} more" if len(fitted) > 20 else ""
            raise TcpmfError(f"no fit for cohort {cohort!r}; fitted: {', '.join(known)}{more}")
        identified = [f for f in candidates if f.identified]
        if not identified:
            return None
        return min(identified, key=lambda f: (f.aic if self.has_sizes else f.rmse, len(f.params)))

    @property
    def identified(self) -> bool:
        """Whether at least one pooled fit is identified (so :meth:`best` and :meth:`to_yaml` work)."""
        return self._best_or_none("pooled") is not None

    def get(self, curve: str, cohort: str = "pooled") -> CurveFit:
        """The fit of one curve."""
        for f in self._of_cohort(cohort):
            if f.curve == curve:
                return f
        raise TcpmfError(
            f"no {curve!r} fit for cohort {cohort!r}; curves fitted: {', '.join(self.curves)}"
        )

    @property
    def quality(self) -> pd.DataFrame:
        """One row per cohort set and curve: ℓ, AIC, RMSE, parameters, whether the data identify it
        (and if not, why, in ``note``) and whether it is the best identified fit."""
        rows = []
        best = self._best_or_none("pooled")  # self.fits are the pooled fits
        for f in self.fits:
            rows.append(
                {
                    "cohort": f.cohort,
                    "curve": f.curve,
                    "n_params": len(f.params),
                    "n_obs": f.n_obs,
                    "log_likelihood": f.log_likelihood,
                    "aic": f.aic,
                    "rmse": f.rmse,
                    "identified": f.identified,
                    "best": f is best,
                    "converged": f.converged,
                    "params": ", ".join(f"{k}={v:.4g}" for k, v in f.params.items()),
                    "note": f.note,
                }
            )
        pooled = pd.DataFrame(rows)
        table = self.cohort_fits
        if table is None or table.empty:
            return pooled
        names = {c: FAMILIES[c].params for c in table["curve"].cat.categories}
        k = table["curve"].map({c: len(p) for c, p in names.items()}).astype(np.int64)
        text = np.empty(len(table), dtype=object)
        for curve, params in names.items():
            mine = (table["curve"] == curve).to_numpy()
            values = [table.loc[mine, f"param_{i}"].to_numpy() for i in range(len(params))]
            text[mine] = [
                ", ".join(f"{n}={v:.4g}" for n, v in zip(params, row)) for row in zip(*values)
            ]
        cohorts = table[
            [
                "cohort",
                "curve",
                "n_obs",
                "log_likelihood",
                "aic",
                "rmse",
                "identified",
                "best",
                "converged",
                "note",
            ]
        ].assign(n_params=k.to_numpy(), params=text)
        cohorts["curve"] = cohorts["curve"].astype(str)
        return pd.concat([pooled, cohorts[pooled.columns]], ignore_index=True)

    @property
    def params(self) -> pd.DataFrame:
        """One row per cohort set, curve and parameter: estimate and standard error."""
        rows = [
            {
                "cohort": f.cohort,
                "curve": f.curve,
                "param": name,
                "estimate": value,
                "std_error": f.std_errors[name],
            }
            for f in self.fits
            for name, value in f.params.items()
        ]
        pooled = pd.DataFrame(rows)
        table = self.cohort_fits
        if table is None or table.empty:
            return pooled
        parts = [pooled]
        for curve in table["curve"].cat.categories:
            mine = table.loc[table["curve"] == curve]
            for i, name in enumerate(FAMILIES[curve].params):
                parts.append(
                    pd.DataFrame(
                        {
                            "cohort": mine["cohort"].to_numpy(),
                            "curve": curve,
                            "param": name,
                            "estimate": mine[f"param_{i}"].to_numpy(),
                            "std_error": mine[f"std_error_{i}"].to_numpy(),
                        }
                    )
                )
        return pd.concat(parts, ignore_index=True)

    def fitted(self, months: int | None = None) -> pd.DataFrame:
        """Observed against fitted shares: cohort, age_months, observed_share, and one column per curve.

        Pooled fits are compared with every cohort; ages run to ``months − 1`` (default: the oldest
        observed age) so that the curves also show the projection.
        """
        months = int(self.data["age_months"].max()) + 1 if months is None else months
        ages = np.arange(months)
        frame = pd.DataFrame({"age_months": ages})
        for curve in self.curves:
            frame[curve] = self.get(curve).survival(months)
        observed = self.data[["cohort", "age_months", "share"]].rename(
            columns={"share": "observed_share"}
        )
        return frame.merge(observed, on="age_months", how="left")[
            ["cohort", "age_months", "observed_share", *self.curves]
        ]

    def project(
        self, months: int = 36, curve: str | None = None, cohort: str = "pooled"
    ) -> pd.DataFrame:
        """Survival ``S(k)`` for ages 0 … months − 1 from one curve (default: the best).

        Examples
        --------
        >>> fit = fit_retention("assumptions/examples/cohorts_example.csv")
        >>> len(fit.project(24))
        24
        """
        f = self.best(cohort) if curve is None else self.get(curve, cohort)
        return pd.DataFrame(
            {
                "age_months": np.arange(months),
                "survival": f.survival(months),
                "curve": f.curve,
                "cohort": f.cohort,
            }
        )

    def to_yaml(self, curve: str | None = None, cohort: str = "pooled", digits: int = 4) -> str:
        """A ready-to-paste ``retention:`` block; each parameter carries its source and standard error.

        Examples
        --------
        >>> fit = fit_retention("assumptions/examples/cohorts_example.csv")
        >>> fit.to_yaml().startswith("retention:")
        True
        """
        f = self.best(cohort) if curve is None else self.get(curve, cohort)
        if not f.identified:
            raise TcpmfError(
                f"the {f.curve} fit is not identified by the data ({f.note}); no retention block"
            )
        n_cohorts = self.data["cohort"].nunique()
        ages = f"ages 0-{int(self.data['age_months'].max())} {self.period}s"
        what = "pooled cohorts" if f.cohort == "pooled" else f"cohort {f.cohort}"
        lines = ["retention:", f"  curve: {f.curve}", f"  period: {self.period}"]
        for name, value in f.params.items():
            se = f.std_errors[name]
            se_text = f", standard error {se:.{digits}g}" if math.isfinite(se) else ""
            text = (
                f"maximum-likelihood fit of {f.curve} to {self.source} ({what}, {n_cohorts} cohort(s), "
                f"{ages}){se_text}; tcpmf fit-retention, {date.today():%Y-%m}"
            )
            lines.append(f"  {name}: {{value: {_round(value, digits)}, source: {_quote(text)}}}")
        return "\n".join(lines) + "\n"

    def chart(self, months: int | None = None) -> alt.LayerChart:
        """An Altair chart of observed shares (points, one colour per cohort) and fitted curves (lines)."""
        import_optional("altair", "the retention chart")
        import altair as alt

        table = self.fitted(months)
        curves = (
            table.drop(columns=["cohort", "observed_share"])
            .drop_duplicates("age_months")
            .melt("age_months", var_name="curve", value_name="share")
        )
        observed = table.dropna(subset=["observed_share"])
        lines = (
            alt.Chart(curves)
            .mark_line()
            .encode(
                x=alt.X("age_months:Q", title="age (months)"),
                y=alt.Y("share:Q", title="share still active"),
                strokeDash=alt.StrokeDash("curve:N", title="fitted (pooled)"),
                tooltip=["curve", "age_months", "share"],
            )
        )
        points = (
            alt.Chart(observed)
            .mark_circle(size=40)
            .encode(
                x="age_months:Q",
                y="observed_share:Q",
                color=alt.Color("cohort:N", title="cohort"),
                tooltip=["cohort", "age_months", "observed_share"],
            )
        )
        return (lines + points).properties(title=f"Retention: observed vs fitted ({self.source})")


def _curve_fit(row: Any, has_sizes: bool) -> CurveFit:
    """A :class:`CurveFit` from a row of :attr:`RetentionFit.cohort_fits`."""
    names = FAMILIES[row.curve].params
    return CurveFit(
        curve=str(row.curve),
        cohort=str(row.cohort),
        params={n: float(getattr(row, f"param_{i}")) for i, n in enumerate(names)},
        std_errors={n: float(getattr(row, f"std_error_{i}")) for i, n in enumerate(names)},
        log_likelihood=float(row.log_likelihood),
        aic=float(row.aic) if has_sizes else math.nan,
        rmse=float(row.rmse),
        n_obs=int(row.n_obs),
        converged=bool(row.converged),
        identified=bool(row.identified),
        note=str(row.note),
    )


def _round(value: float, digits: int) -> float:
    return float(f"{value:.{digits}g}") if abs(value) < 1 else round(value, digits)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def fit_retention(
    cohorts: pd.DataFrame | str | Path,
    curves: Iterable[str] | None = None,
    by_cohort: bool = False,
    cohort_size: float | Mapping[str, float] | None = None,
    wide: bool = False,
    period: str = "month",
) -> RetentionFit:
    r"""Fit retention curves to cohort data by maximum likelihood.

    Parameters
    ----------
    cohorts
        A cohort table (DataFrame or CSV path; see :func:`read_cohorts`).
    curves
        Curve families to fit (default all of :data:`FIT_CURVES`: ``power_law``, ``plateau``, ``sbg``).
    by_cohort
        Also fit each cohort on its own (the pooled fit is always made): all cohorts observed at
        the same ages at once (:func:`tcpmf.analysis.cohort_fits.fit_each_cohort`), into the
        table :attr:`RetentionFit.cohort_fits`.
    cohort_size
        Cohort sizes when the table gives shares only; needed for standard errors and AIC.
    wide
        The table is wide: one row per cohort, one column per age (see :func:`read_cohorts`).
    period
        The unit of the table's ages (``day``, ``week``, ``month``, ``year``); the fit is made in
        that unit and its YAML block carries ``period`` (charts and projections count ages in it).

    Returns
    -------
    RetentionFit
        ``.quality`` and ``.params`` tables, ``.best()``, ``.project(months)``, ``.to_yaml()``.

    Notes
    -----
    Maximises :math:`\ell(\theta)=\sum (n_a-n_b)\log(S(a)-S(b)) + \sum n_L \log S(L)` with
    L-BFGS-B from the best point of a coarse grid, then polishes with Nelder-Mead; standard
    errors come from the inverse Hessian of :math:`-\ell`.

    Examples
    --------
    >>> fit = fit_retention("assumptions/examples/cohorts_example.csv")
    >>> fit.to_yaml().startswith("retention:")
    True
    """
    names = list(FIT_CURVES if curves is None else curves)
    unknown = [c for c in names if c not in FAMILIES]
    if unknown or not names:
        raise TcpmfError(
            f"unknown curve {unknown[0] if unknown else '(none)'!r}; "
            f"allowed: {', '.join(FIT_CURVES)}"
        )
    if period not in MONTHS_PER_PERIOD:
        raise TcpmfError(f"unknown age unit {period!r}; allowed: {', '.join(MONTHS_PER_PERIOD)}")
    source = "<DataFrame>" if isinstance(cohorts, pd.DataFrame) else Path(cohorts).name
    table = read_cohorts(cohorts, cohort_size, wide=wide)
    has_sizes = bool(np.isfinite(table["active_users"]).all())
    sizes = table.groupby("cohort", sort=False)["active_users"].first().to_numpy(float)
    weights = sizes if has_sizes else np.ones(sizes.size)
    fits = _fit_sets([("pooled", table, weights)], names, has_sizes)
    cohort_fits = None
    if by_cohort:
        from tcpmf.analysis.cohort_fits import fit_each_cohort

        cohort_fits = fit_each_cohort(table, weights, names, has_sizes)
    return RetentionFit(
        fits=tuple(fits),
        data=table,
        has_sizes=has_sizes,
        source=source,
        period=period,
        cohort_fits=cohort_fits,
    )


def _fit_sets(
    sets: Iterable[tuple[str, pd.DataFrame, F]], names: Sequence[str], has_sizes: bool
) -> list[CurveFit]:
    """Each curve fitted to each ``(label, table, cohort sizes)`` set by :func:`_fit_one`."""
    fits: list[CurveFit] = []
    # counts near the float limit overflow ℓ and its Hessian; such fits come out not identified
    # (their note says why), so numpy's warnings would only repeat it on the terminal
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for label, group, w in sets:
            data = _Data.of(group, w)
            s1 = float(
                np.clip(np.mean(data.obs_share[data.obs_age == data.obs_age.min()]), 0.02, 0.98)
            )
            fits.extend(_fit_one(curve, data, label, has_sizes, s1) for curve in names)
    return fits


def fit_cohorts_one_by_one(
    table: pd.DataFrame, weights: F, names: Sequence[str], has_sizes: bool
) -> list[CurveFit]:
    """Each cohort of *table* fitted on its own, one optimiser run per cohort and curve (what
    ``by_cohort`` did before :func:`tcpmf.analysis.cohort_fits.fit_each_cohort`; kept as the
    reference its results are tested against, and the baseline of its benchmark)."""
    sets = [
        (str(label), group, weights[i : i + 1])
        for i, (label, group) in enumerate(table.groupby("cohort", sort=False))
        if (group["age_months"] > 0).any()
    ]
    return _fit_sets(sets, names, has_sizes)


def simulate_cohorts(
    survival: Sequence[float] | F,
    sizes: Sequence[int],
    ages_observed: Sequence[int],
    seed: int,
    labels: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Draw a synthetic cohort table: each member's lifetime from ``survival`` (a multinomial).

    Parameters
    ----------
    survival
        ``S(0) = 1, S(1), …`` — e.g. ``tcpmf.formulas.retention.sbg([0.8], [2.0], 24)[:, 0]``.
    sizes
        Members of each cohort at age 0.
    ages_observed
        The oldest age observed for each cohort (younger cohorts are seen for fewer months).
    seed
        Seed of :func:`numpy.random.default_rng`; the same seed gives the same table.

    Examples
    --------
    >>> from tcpmf.formulas.retention import sbg
    >>> simulate_cohorts(sbg([1.0], [2.0], 4)[:, 0], [100], [3], seed=1).shape
    (4, 3)
    """
    s = np.asarray(survival, float).ravel()
    rng = np.random.default_rng(seed)
    labels = list(labels) if labels is not None else [f"c{i + 1:02d}" for i in range(len(sizes))]
    parts = []
    for label, n, last in zip(labels, sizes, ages_observed):
        if last >= s.size:
            raise TcpmfError(
                f"survival has {s.size} ages; cohort {label!r} is observed to age {last}"
            )
        probs = np.r_[s[:last] - s[1 : last + 1], s[last]]
        churned = rng.multinomial(int(n), probs / probs.sum())
        active = int(n) - np.r_[0, np.cumsum(churned[:-1])]
        parts.append(
            pd.DataFrame(
                {"cohort": label, "age_months": np.arange(last + 1), "active_users": active}
            )
        )
    return pd.concat(parts, ignore_index=True)
