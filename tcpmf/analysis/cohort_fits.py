r"""Each cohort's own retention fit, for 10^6 cohorts at once (``fit_retention(..., by_cohort=True)``).

The log-likelihood of a set of cohorts is a sum of one term per cohort, so each cohort's maximum
is found on its own.  Cohorts observed at the same ages share the shape of their term, ℓ_c(z) =
Σ_j lost_cj log(S(a_j) − S(a_j+1)) + active_c log S(a_m), and differ only in the counts; they
are fitted together, as columns of one array, by the same steps for every cohort:

1. the start: the best point of the family's coarse grid (:data:`~tcpmf.analysis.retention_fit.FAMILIES`,
   the same grid as the pooled fit's, at each cohort's month-1 share);
2. Newton steps in the optimiser's unconstrained coordinates z within the family's box, with
   the gradient and Hessian of each cohort's own (separable) term by central differences taken
   for all cohorts at once, the Hessian made positive definite (a ridge's by a lift of 1e-8 of its
   size, an indefinite one by its eigenvalues' magnitudes: each step descends), a step of at most
   2 in any coordinate, an estimate held at a bound while the gradient pushes it out, and a
   backtracking line search per cohort; a cohort stops when its projected gradient is below
   :data:`GRADIENT_TOLERANCE`, when the Newton step would gain less than rounding, or when no step
   lowers its term any more;
3. standard errors from the inverse Hessian of −ℓ_c (the last Newton iteration's, taken at the
   estimate) and the delta method, as for the pooled fit.

The result equals fitting each cohort on its own with :func:`scipy.optimize.minimize` (L-BFGS-B,
then Nelder-Mead: ``fit_cohorts_one_by_one``) within the tolerances ``tests/test_cohort_fits.py``
states and checks on random cohorts.  Arrays hold the cohorts of one chunk at a time
(:data:`CHUNK_VALUES` numbers per survival table), so the memory does not grow with the number of
cohorts beyond the data and the results: 10^6 cohorts of 3 ages fit in about 28 s and 0.86 GB
(``benchmarks/bench_fit_retention.py --by-cohort``).

Examples
--------
>>> from tcpmf.analysis.retention_fit import read_cohorts, simulate_cohorts
>>> from tcpmf.formulas.retention import sbg
>>> table = read_cohorts(simulate_cohorts(sbg([0.8], [2.0], 8)[:, 0], [5000, 8000], [7, 6], seed=2))
>>> fits = fit_each_cohort(table, [5000.0, 8000.0], ["sbg"], has_sizes=True)
>>> fits[["cohort", "curve", "identified", "best"]].to_string(index=False)
'cohort curve  identified  best\n   c01   sbg        True  True\n   c02   sbg        True  True'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from tcpmf.analysis.retention_fit import BOUND_MARGIN, FAMILIES, MAX_RELATIVE_SE, _Family, _note

__all__ = ["CHUNK_VALUES", "GRADIENT_TOLERANCE", "fit_each_cohort"]

F = NDArray[np.float64]

#: A cohort's Newton steps stop when each component of its projected gradient (of −ℓ per member)
#: is below this.
GRADIENT_TOLERANCE = 1e-9
#: The most numbers of one survival table (ages × cohorts) computed at once.
CHUNK_VALUES = 200_000
_STEP = 1e-4  # central-difference step in z (the objective is O(1): ℓ per member)
_MAX_NEWTON = 100
_MAX_HALVINGS = 40
_MAX_STEP = 2.0  # the largest Newton step in any coordinate of z
_GRID_COHORTS = 20_000  # cohorts whose starting grids are held at once


class _Group:
    """Cohorts observed at the same ages: the users each lost per interval and kept at the end."""

    def __init__(self, ages: NDArray[np.int_], lost: F, kept: F, shares: F) -> None:
        self.ages = ages  # (m + 1,) from 0
        self.months = int(ages[-1]) + 1
        self.every_age = bool(ages.size == self.months)  # 0, 1, …, m: no gaps
        scale = np.maximum(lost.sum(axis=1) + kept, 1e-12)
        self.lost = np.ascontiguousarray((lost / scale[:, None]).T)  # (m, n), per member
        self.kept = kept / scale  # (n,)
        self.shares = shares  # (n, m): observed shares at ages[1:]
        self.scale = scale

    def nll(self, family: _Family, z: F, rows: Any = slice(None)) -> F:
        """−ℓ per member of the cohorts *rows* at z (p, len(rows))."""
        s = family.survival(family.to_params(z), self.months)
        if not self.every_age:
            s = s[self.ages]  # (m + 1, n)
        churn = s[:-1] - s[1:]
        np.maximum(churn, 1e-300, out=churn)
        np.log(churn, out=churn)
        churn *= self.lost[:, rows]
        kept = np.log(np.maximum(s[-1], 1e-300))
        kept *= self.kept[rows]
        kept += churn.sum(axis=0)
        return -kept  # type: ignore[no-any-return]

    def grid_nll(self, family: _Family, grid: F, rows: Any = slice(None)) -> F:
        """−ℓ per member of the cohorts *rows* at each of the K points of *grid* (p, K): (n, K)."""
        s = family.survival(family.to_params(grid), self.months)[self.ages]  # (m + 1, K)
        churn = np.log(np.maximum(s[:-1] - s[1:], 1e-300))
        kept = np.log(np.maximum(s[-1], 1e-300))
        return -(self.lost[:, rows].T @ churn + self.kept[rows, None] * kept)  # type: ignore[no-any-return]


def _derivatives(f: Callable[[F], F], z: F) -> tuple[F, F, F]:
    """f(z), its gradient (p, n) and Hessian (n, p, p) for each column, by central differences."""
    p = z.shape[0]
    f0 = f(z)
    plus, minus = np.empty((p, z.shape[1])), np.empty((p, z.shape[1]))
    for i in range(p):
        step = np.zeros((p, 1))
        step[i] = _STEP
        plus[i], minus[i] = f(z + step), f(z - step)
    grad = (plus - minus) / (2 * _STEP)
    hess = np.empty((z.shape[1], p, p))
    for i in range(p):
        hess[:, i, i] = (plus[i] - 2 * f0 + minus[i]) / _STEP**2
        for j in range(i):
            step = np.zeros((p, 1))
            step[[i, j]] = _STEP
            both = f(z + step) + f(z - step)
            hess[:, i, j] = hess[:, j, i] = (
                both - plus[i] - plus[j] - minus[i] - minus[j] + 2 * f0
            ) / (2 * _STEP**2)
    return f0, grad, hess


def _newton_direction(grad: F, hess: F, held: NDArray[np.bool_]) -> F:
    """−H⁻¹g per column, components *held* at a bound kept.  A positive definite H (Sylvester's
    criterion) is solved in closed form; another through its eigenvalues, made positive (so every
    step descends)."""
    p = grad.shape[0]
    g = np.where(held, 0.0, grad).T  # (n, p)
    h = np.where(held.T[:, :, None] | held.T[:, None, :], 0.0, hess)
    diagonal = np.arange(p)
    h[:, diagonal, diagonal] += held.T  # 1 on a held diagonal
    h = np.nan_to_num(h, nan=0.0, posinf=0.0, neginf=0.0)
    scale = np.abs(h).max(axis=(1, 2)) + 1e-300
    # a singular but positive semi-definite H (along a ridge of ℓ) is lifted by 1e-8 of its size,
    # as the eigenvalues are floored below; only an indefinite H needs its eigenvalues
    lift = 1e-8 * scale[:, None]
    h[:, diagonal, diagonal] += lift
    positive = np.all([_det(h[:, :i, :i]) > 1e-12 * scale**i for i in range(1, p + 1)], axis=0)
    d = np.empty_like(g)
    if positive.any():
        d[positive] = -_solve(h[positive], g[positive])
    h[:, diagonal, diagonal] -= lift
    odd = ~positive
    if odd.any():
        w, v = np.linalg.eigh(h[odd])
        w = np.abs(w)
        w = np.maximum(w, 1e-8 * w.max(axis=1, keepdims=True) + 1e-12)
        d[odd] = -np.einsum("nij,nj,nkj,nk->ni", v, 1.0 / w, v, g[odd])
    return np.where(held, 0.0, d.T)  # type: ignore[no-any-return]


def _det(h: F) -> F:
    """Determinants of a stack of 1×1, 2×2 or 3×3 matrices, in closed form."""
    if h.shape[1] == 1:
        return h[:, 0, 0]  # type: ignore[no-any-return]
    if h.shape[1] == 2:
        return h[:, 0, 0] * h[:, 1, 1] - h[:, 0, 1] * h[:, 1, 0]  # type: ignore[no-any-return]
    if h.shape[1] == 3:
        return (  # type: ignore[no-any-return]
            h[:, 0, 0] * (h[:, 1, 1] * h[:, 2, 2] - h[:, 1, 2] * h[:, 2, 1])
            - h[:, 0, 1] * (h[:, 1, 0] * h[:, 2, 2] - h[:, 1, 2] * h[:, 2, 0])
            + h[:, 0, 2] * (h[:, 1, 0] * h[:, 2, 1] - h[:, 1, 1] * h[:, 2, 0])
        )
    return np.linalg.det(h)  # type: ignore[no-any-return]


def _solve(h: F, g: F) -> F:
    """x with h x = g for a stack of positive definite p × p matrices (Cramer's rule)."""
    det = _det(h)
    out = np.empty_like(g)
    for i in range(h.shape[1]):
        swapped = h.copy()
        swapped[:, :, i] = g
        out[:, i] = _det(swapped) / det
    return out


def _minimize(
    f: Callable[[F, Any], F], z: F, bounds: F
) -> tuple[F, NDArray[np.bool_], F, NDArray[np.bool_]]:
    """Each column's minimum of its own term of f within the box (Newton with a line search).

    Returns the minima, whether each converged, and the Hessian of f at each minimum where the
    last Newton iteration computed it there (``fresh``: the column did not move after it)."""
    lo, hi = bounds[:, :1], bounds[:, 1:]
    p, n = z.shape
    converged = np.zeros(n, bool)
    fresh = np.zeros(n, bool)
    hessians = np.empty((n, p, p))
    active = np.arange(n)
    for _ in range(_MAX_NEWTON):
        if active.size == 0:
            break
        everyone = active.size == n
        za = z.copy() if everyone else z[:, active]
        where: Any = slice(None) if everyone else active

        def fa(x: F, rows: Any = where) -> F:
            return f(x, rows)

        f0, grad, hess = _derivatives(fa, za)
        held = ((za <= lo) & (grad > 0)) | ((za >= hi) & (grad < 0))
        d = _newton_direction(grad, hess, held)
        d /= np.maximum(np.abs(d).max(axis=0) / _MAX_STEP, 1.0)  # along a ridge H⁻¹g is huge
        # done: a projected gradient of zero, or a Newton step that would gain less than rounding
        done = np.all(held | (np.abs(grad) < GRADIENT_TOLERANCE), axis=0)
        done |= -np.sum(grad * d, axis=0) < 1e-15 * np.maximum(np.abs(f0), 1.0)
        converged[active[done]] = True
        t = np.ones(active.size)
        moved = np.zeros(active.size, bool)
        todo = ~done
        for _ in range(_MAX_HALVINGS):
            rows = np.flatnonzero(todo)
            if rows.size == 0:
                break
            whole = rows.size == active.size  # the first trial, mostly: no gathering
            zr, dr, gr, fr = (
                (za, d, grad, f0) if whole else (za[:, rows], d[:, rows], grad[:, rows], f0[rows])
            )
            trial = np.clip(zr + t[rows] * dr, lo, hi)
            value = f(trial, where if whole else active[rows])
            slope = np.sum(gr * (trial - zr), axis=0)
            ok = (value <= fr + 1e-4 * np.minimum(slope, 0.0)) & (value < fr)
            za[:, rows[ok]] = trial[:, ok]
            moved[rows[ok]] = True
            todo[rows[ok]] = False
            t[rows[~ok]] /= 2
        stuck = ~done & ~moved  # no step lowers the term: at its minimum to rounding
        converged[active[stuck]] = True
        fresh[active] = done | stuck
        hessians[active[done | stuck]] = hess[done | stuck]
        z[:, active] = za
        active = active[~done & ~stuck]
    return z, converged, hessians, fresh


def _start(family: _Family, group: _Group, s1: F) -> F:
    """The best grid point of each cohort (the pooled fit's grid, at each cohort's month-1 share)."""
    z0 = np.empty((len(family.params), s1.size))
    for lo in range(0, s1.size, _GRID_COHORTS):
        rows = slice(lo, lo + _GRID_COHORTS)
        grid = family.grid(s1[rows])  # (p, K, n), or (p, K) when it does not depend on s1
        if grid.ndim == 2:  # one survival curve per grid point serves every cohort
            z0[:, rows] = grid[:, _first_best(group.grid_nll(family, grid, rows))]
            continue
        best = np.full(s1[rows].size, np.inf)
        z0[:, rows] = grid[:, 0, :]
        for k in range(grid.shape[1]):
            value = group.nll(family, np.ascontiguousarray(grid[:, k, :]), rows)
            better = value < best  # the first of equal values, as nanargmin; NaN never wins
            best[better] = value[better]
            z0[:, rows][:, better] = grid[:, k, better]
    return z0


def _first_best(values: F) -> NDArray[np.int_]:
    """Per row, the column of the smallest value (the first of equal ones; NaN never wins)."""
    return np.argmin(np.where(np.isnan(values), np.inf, values), axis=1)  # type: ignore[no-any-return]


def _fit_group(family: _Family, group: _Group, has_sizes: bool) -> dict[str, Any]:
    """The fits of one family to one group's cohorts, as arrays (one column per cohort)."""
    bounds = np.array(family.bounds)
    s1 = np.clip(group.shares[:, 0], 0.02, 0.98)
    z0 = np.clip(_start(family, group, s1), bounds[:, :1] + 1e-6, bounds[:, 1:] - 1e-6)
    z, converged, hessians, fresh = _minimize(
        lambda x, rows: group.nll(family, x, rows), z0, bounds
    )
    p_hat = family.to_params(z)
    nll = group.nll(family, z) * group.scale
    k, n = z.shape
    se = np.full((k, n), np.nan)
    inside = np.all((z > bounds[:, :1] + 1e-3) & (z < bounds[:, 1:] - 1e-3), axis=0)
    rows = np.flatnonzero(inside) if has_sizes else np.array([], int)
    if rows.size:
        stale = rows[~fresh[rows]]  # moved after its last Hessian (the iterations ran out)
        if stale.size:
            _, _, hessians[stale] = _derivatives(lambda x: group.nll(family, x, stale), z[:, stale])
        hess = hessians[rows] * group.scale[rows, None, None]
        finite = np.all(np.isfinite(hess), axis=(1, 2))
        safe = np.where(finite[:, None, None], hess, np.eye(k))
        positive = finite & np.all(np.linalg.eigvalsh((safe + safe.transpose(0, 2, 1)) / 2) > 0, 1)
        jac = np.empty((rows.size, k, k))
        for i in range(k):
            step = np.zeros((k, 1))
            step[i] = 1e-6
            jac[:, :, i] = (
                (family.to_params(z[:, rows] + step) - family.to_params(z[:, rows] - step)) / 2e-6
            ).T
        good = np.flatnonzero(positive)
        cov = jac[good] @ np.linalg.inv(safe[good]) @ jac[good].transpose(0, 2, 1)
        se[:, rows[good]] = np.sqrt(np.clip(np.diagonal(cov, axis1=1, axis2=2), 0.0, None)).T
    fitted = family.survival(p_hat, group.months)[group.ages[1:]]  # (m, n)
    rmse = np.sqrt(np.mean((fitted - group.shares.T) ** 2, axis=0))
    on_bound = (z <= bounds[:, :1] + BOUND_MARGIN) | (z >= bounds[:, 1:] - BOUND_MARGIN)
    n_ages = group.ages.size - 1
    loose = ~np.isfinite(se) | (se > MAX_RELATIVE_SE * np.abs(p_hat))
    loose &= has_sizes & ~on_bound.any(axis=0) & (n_ages >= k)
    return {
        "params": p_hat,
        "std_errors": se,
        "log_likelihood": -nll,
        "rmse": rmse,
        "converged": converged,
        "on_bound": on_bound,
        "loose": loose,
        "few_ages": np.full(n, n_ages < k),
        "n_obs": np.full(n, n_ages),
    }


def _notes(
    curve: str, n_ages: NDArray[np.int_], parts: dict[str, Any], known: dict[str, int]
) -> tuple[F, NDArray[np.int32]]:
    """Whether each fit is identified, and the note saying why not (as the one-cohort fit says
    it), as its number in *known* (note → number, extended with new notes)."""
    names = FAMILIES[curve].params
    k = len(names)
    bits = np.stack([parts["few_ages"], *parts["on_bound"], *parts["loose"]])  # (1 + 2k, n)
    code = (bits.astype(np.int64) << np.arange(bits.shape[0])[:, None]).sum(axis=0)
    base = int(n_ages.max()) + 1
    codes, where = np.unique(code * base + n_ages, return_inverse=True)
    texts = []
    for c in codes:
        flags, ages = divmod(int(c), base)
        bound = [nm for i, nm in enumerate(names) if flags >> (1 + i) & 1]
        loose = [nm for i, nm in enumerate(names) if flags >> (1 + k + i) & 1]
        texts.append(known.setdefault(_note(k, ages, bound, loose), len(known)))
    return code == 0, np.asarray(texts, dtype=np.int32)[where]


def _groups(
    table: pd.DataFrame, weights: F
) -> tuple[pd.Index, list[tuple[NDArray[np.int_], _Group]]]:
    """The cohort labels, and the cohorts (their indices) observed at each distinct set of ages."""
    codes, labels = pd.factorize(table["cohort"], sort=False)
    ages = table["age_months"].to_numpy(np.int64)
    values = table["share"].to_numpy(float)
    counts = np.bincount(codes, minlength=len(labels))
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    out = []
    for size in np.unique(counts):
        if size < 2:
            continue  # a cohort seen at age 0 alone has nothing to fit
        cohorts = np.flatnonzero(counts == size)
        rows = starts[cohorts, None] + np.arange(size)
        sets, which = np.unique(ages[rows], axis=0, return_inverse=True)
        for g, age_set in enumerate(sets):
            mine = np.flatnonzero(which.ravel() == g)
            chunk = max(1, CHUNK_VALUES // (int(age_set[-1]) + 1))
            for lo in range(0, mine.size, chunk):
                part = mine[lo : lo + chunk]
                shares = values[rows[part]]
                users = shares * weights[cohorts[part], None]
                out.append(
                    (
                        cohorts[part],
                        _Group(age_set, users[:, :-1] - users[:, 1:], users[:, -1], shares[:, 1:]),
                    )
                )
    return labels, out


def fit_each_cohort(
    table: pd.DataFrame, weights: F, curves: Sequence[str], has_sizes: bool
) -> pd.DataFrame:
    """Fit every cohort of *table* (as :func:`~tcpmf.analysis.retention_fit.read_cohorts` gives
    it) on its own, for each of *curves*.

    Returns one row per cohort observed beyond age 0 and curve, cohorts in order of first
    appearance and curves in the order given: ``cohort``, ``curve``, ``param_0 … param_2`` and
    ``std_error_0 … std_error_2`` (in the family's parameter order, NaN past its count),
    ``log_likelihood``, ``aic``, ``rmse``, ``n_obs``, ``converged``, ``identified``, ``note``
    and ``best`` (the identified fit of the cohort with the lowest AIC, or RMSE without sizes).
    """
    labels, groups = _groups(table, np.asarray(weights, float))
    fitted = np.zeros(len(labels), bool)
    for cohorts, _ in groups:
        fitted[cohorts] = True
    index = np.cumsum(fitted) - 1  # a fitted cohort's position among the fitted ones
    n, c = int(fitted.sum()), len(curves)
    # the result's columns, filled in place (row = position × curves + curve): no copies at 10^6
    out: dict[str, Any] = {
        "cohort": pd.Categorical.from_codes(
            np.repeat(np.arange(n, dtype=np.int32), c), categories=labels[fitted]
        ),
        "curve": pd.Categorical.from_codes(
            np.tile(np.arange(c, dtype=np.int8), n), categories=list(curves)
        ),
        **{f"param_{i}": np.full(n * c, np.nan) for i in range(3)},
        **{f"std_error_{i}": np.full(n * c, np.nan) for i in range(3)},
        "log_likelihood": np.empty(n * c),
        "aic": np.full(n * c, np.nan),
        "rmse": np.empty(n * c),
        "n_obs": np.empty(n * c, np.int32),
        "converged": np.empty(n * c, bool),
        "identified": np.empty(n * c, bool),
        "note": np.empty(n * c, np.int32),
        "best": np.zeros(n * c, bool),
    }
    notes: dict[str, int] = {"": 0}
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for ci, curve in enumerate(curves):
            family = FAMILIES[curve]
            for cohorts, group in groups:
                at = index[cohorts] * c + ci
                parts = _fit_group(family, group, has_sizes)
                for i in range(len(family.params)):
                    out[f"param_{i}"][at] = parts["params"][i]
                    out[f"std_error_{i}"][at] = parts["std_errors"][i]
                for name in ("log_likelihood", "rmse", "n_obs", "converged"):
                    out[name][at] = parts[name]
                out["identified"][at], out["note"][at] = _notes(curve, parts["n_obs"], parts, notes)
    k_of = [len(FAMILIES[cv].params) for cv in curves]
    if has_sizes:
        for ci in range(c):
            out["aic"][ci::c] = 2 * k_of[ci] - 2 * out["log_likelihood"][ci::c]
    # per cohort, the identified fit with the lowest AIC (RMSE without sizes), then the fewest
    # parameters, then the first curve; a cohort's rows are its curves, c apart in the table
    score = out["aic"] if has_sizes else out["rmse"]
    chosen = np.zeros(n, np.int64)
    best_score = np.where(out["identified"][0::c], score[0::c], np.inf)
    for ci in range(1, c):
        mine = np.where(out["identified"][ci::c], score[ci::c], np.inf)
        better = (mine < best_score) | (
            (mine == best_score) & (k_of[ci] < np.asarray(k_of)[chosen])
        )
        chosen[better], best_score[better] = ci, mine[better]
    rows = np.arange(n) * c + chosen
    out["best"][rows] = out["identified"][rows]
    out["note"] = pd.Categorical.from_codes(out["note"], categories=list(notes))
    return pd.DataFrame(out, copy=False)
