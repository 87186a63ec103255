"""Retention curves and the cohort convolution (docs/model.md §4).

Curves return the share ``r(k)`` of a cohort still active at age ``k`` months, with ``r(0) = 1``.
A curve's parameters may be stated in another age unit (its *period*: day, week, month or year);
``months_per_period`` converts exactly, by evaluating the curve at age ``k / months_per_period``
periods (a year is 12 months, a day 12 / 365.25 of a month).
Arrays are time-major inside the engine: shape ``(T, N)`` for T months and N scenarios.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import betaln

__all__ = [
    "CURVES",
    "MONTHS_PER_PERIOD",
    "active_users",
    "active_users_growing",
    "cohort_users",
    "plateau",
    "power_law",
    "sbg",
    "table",
]

#: Curve names and the integer codes the vectorized engine uses.
CURVES: dict[str, int] = {"power_law": 0, "plateau": 1, "sbg": 2, "table": 3}


#: Months in one period of a curve's age unit (a year of 365.25 days is 12 months).
MONTHS_PER_PERIOD: dict[str, float] = {
    "day": 12 / 365.25,
    "week": 7 * 12 / 365.25,
    "month": 1.0,
    "year": 12.0,
}


def _ages(months: int) -> NDArray[np.float64]:
    return np.arange(months, dtype=float)[:, None]


def _periods(months: int, months_per_period: ArrayLike) -> NDArray[np.float64]:
    """Ages ``0, 1, …`` months in periods, shape ``(months, 1)`` or ``(months, N)``."""
    mpp = np.asarray(months_per_period, float)
    if np.all(mpp == 1.0):  # months: one column serves every scenario
        return _ages(months)
    return _ages(months) / mpp


def _first_period(
    x: NDArray[np.float64], r1: NDArray[np.float64], out: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Ages inside the first period (only when a period is longer than a month): linear from
    ``r(0) = 1`` to ``r1`` at one period, as a table interpolates."""
    inside = x < 1.0
    inside[0] = False
    if inside.any():  # only for periods longer than a month: monthly curves skip the copy
        out = np.where(inside, 1.0 - (1.0 - r1) * x, out)
    out[0] = 1.0
    return out


def power_law(
    r1: ArrayLike, beta: ArrayLike, months: int, months_per_period: ArrayLike = 1.0
) -> NDArray[np.float64]:
    r"""Power law :math:`r(x) = r_1 x^{-\beta}` for x ≥ 1 period; shape ``(months, N)``.

    Examples
    --------
    >>> power_law([0.5], [1.0], 4).ravel().round(4)
    array([1.    , 0.5   , 0.25  , 0.1667])
    >>> power_law([0.669], [0.486], 2, 12 / 365.25).ravel().round(4)  # a daily fit at month 1 (day 30.44)
    array([1.    , 0.1272])
    """
    x = _periods(months, months_per_period)
    r = np.asarray(r1, float)
    out = r * np.maximum(x, 1.0) ** (-np.asarray(beta, float))
    return _first_period(x, r, out)


def plateau(
    r1: ArrayLike, floor: ArrayLike, tau: ArrayLike, months: int, months_per_period: ArrayLike = 1.0
) -> NDArray[np.float64]:
    r"""Exponential decay to a plateau: :math:`r(x) = f + (r_1 - f) e^{-(x-1)/\tau}` for x ≥ 1 period."""
    x = _periods(months, months_per_period)
    f = np.asarray(floor, float)
    r, t = np.asarray(r1, float), np.asarray(tau, float)
    # f + (r1 − f)·exp(−(x − 1)/tau), operation by operation in one buffer (the same bits, no
    # (T, N) temporaries): the plateau is the costliest part of a batch's retention matrix
    out = np.empty(np.broadcast_shapes(x.shape, f.shape, r.shape, t.shape))
    np.divide(-(np.maximum(x, 1.0) - 1.0), t, out=out)
    np.exp(out, out=out)
    out *= r - f
    out += f
    return _first_period(x, r, out)


def sbg(
    alpha: ArrayLike, beta: ArrayLike, months: int, months_per_period: ArrayLike = 1.0
) -> NDArray[np.float64]:
    r"""Shifted-beta-geometric survival :math:`S(k) = B(\alpha, \beta + k) / B(\alpha, \beta)`.

    Computed by the recursion :math:`S(k) = S(k-1)\,(\beta + k - 1) / (\alpha + \beta + k - 1)`
    (Fader & Hardie 2007, eq. 7).

    Examples
    --------
    >>> sbg([1.0], [1.0], 4).ravel().round(4)  # alpha = beta = 1: S(k) = 1 / (k + 1)
    array([1.    , 0.5   , 0.3333, 0.25  ])

    With a period other than a month, :math:`S(x) = B(\alpha, \beta + x) / B(\alpha, \beta)` at
    :math:`x = k /` ``months_per_period``: the survival of customers whose renewal probability per
    period, :math:`1 - \theta`, is spread evenly over its months, :math:`E[(1 - \theta)^x]`.

    >>> sbg([0.704], [1.182], 13, 12.0)[[0, 12]].ravel().round(4)  # an annual fit: 63% after a year
    array([1.    , 0.6267])
    """
    a = np.asarray(alpha, float)
    b = np.asarray(beta, float)
    mpp = np.asarray(months_per_period, float)
    if np.any(mpp != 1.0):
        x = _periods(months, mpp)
        return np.exp(betaln(a, b + x) - betaln(a, b)) * np.ones(
            (months, *np.broadcast(a, b, mpp).shape)
        )
    j = np.arange(1, months, dtype=float)[:, None]
    ratios = (b + j - 1.0) / (a + b + j - 1.0)
    return np.concatenate([np.ones((1, *np.broadcast(a, b).shape)), np.cumprod(ratios, axis=0)])


def table(
    points: Mapping[int, float], months: int, months_per_period: float = 1.0
) -> NDArray[np.float64]:
    """Observed points (age in periods → share) interpolated linearly from ``r(0) = 1``; flat after the last.

    Examples
    --------
    >>> table({1: 0.5, 3: 0.3}, 5).round(2)
    array([1. , 0.5, 0.4, 0.3, 0.3])
    >>> table({30: 0.2}, 2, 12 / 365.25).round(2)  # a daily table: day 30 is just before month 1
    array([1. , 0.2])
    """
    ages = np.array([0, *sorted(points)], dtype=float) * months_per_period
    shares = np.array([1.0, *(points[a] for a in sorted(points))], dtype=float)
    return np.interp(np.arange(months, dtype=float), ages, shares)


def active_users(
    new_users: NDArray[np.float64], retention: NDArray[np.float64]
) -> NDArray[np.float64]:
    r"""Active users :math:`U(t) = \sum_{s \le t} A(s)\,r(t - s)` for each scenario.

    Both inputs and the result are time-major, shape ``(T, N)``.  The discrete convolution runs as
    T vectorized updates, one per cohort age, each over all scenarios and months at once: at
    N = 10⁵, T = 36 this is about 4× faster than a batched Toeplitz product and needs no
    ``T × T`` matrix per scenario.
    """
    months = new_users.shape[0]
    users = np.zeros_like(new_users)
    scratch = np.empty_like(new_users)
    for age in range(months):
        span = months - age
        np.multiply(new_users[:span], retention[age], out=scratch[:span])
        users[age:] += scratch[:span]
    return users


def active_users_growing(
    organic_new_users_per_month: ArrayLike,
    monthly_growth: ArrayLike,
    paid_new_users_per_month: ArrayLike,
    retention: NDArray[np.float64],
) -> NDArray[np.float64]:
    r""":func:`active_users` for the engine's new users :math:`A(s) = o\,q^s + p`, :math:`q = 1 + g`,
    in O(T) instead of O(T²) vectorized steps.

    .. math::

        U(t) = \sum_{s \le t} A(s)\,r(t - s) = o\,V(t) + p\,R(t), \qquad
        V(t) = q\,V(t-1) + r(t), \quad R(t) = R(t-1) + r(t),

    with :math:`V(0) = R(0) = r(0)`: :math:`V(t) = \sum_k q^{t-k} r(k)` is the convolution with the
    geometric part and :math:`R` the running total of retention.  Every term is non-negative,
    so nothing cancels; the result equals the direct convolution to rounding (tested).

    Examples
    --------
    >>> r = np.array([[1.0], [0.5], [0.25]])
    >>> active_users_growing(10.0, 1.0, 0.0, r).ravel()  # A = 10, 20, 40
    array([10. , 25. , 52.5])
    """
    q = 1.0 + np.asarray(monthly_growth, float)
    geometric = np.empty_like(retention)
    total = np.empty_like(retention)
    if len(retention):
        geometric[0] = retention[0]
        total[0] = retention[0]
    for t in range(1, len(retention)):
        np.multiply(geometric[t - 1], q, out=geometric[t])
        geometric[t] += retention[t]
        np.add(total[t - 1], retention[t], out=total[t])
    geometric *= np.asarray(organic_new_users_per_month, float)
    total *= np.asarray(paid_new_users_per_month, float)
    geometric += total
    return geometric


def cohort_users(
    new_users: NDArray[np.float64], retention: NDArray[np.float64]
) -> NDArray[np.float64]:
    r"""Active users of each cohort: ``out[s, t, n] = A(s, n) · r(t − s, n)`` for ``t ≥ s``, else 0.

    Inputs are time-major ``(T, N)``; the result is ``(T cohorts, T months, N)`` and sums over
    cohorts to :func:`active_users`.

    Examples
    --------
    >>> cohort_users(np.array([[10.0], [20.0]]), np.array([[1.0], [0.5]]))[:, :, 0]
    array([[10.,  5.],
           [ 0., 20.]])
    """
    months = new_users.shape[0]
    age = np.arange(months)[None, :] - np.arange(months)[:, None]  # (cohort, month)
    shares = retention[np.clip(age, 0, months - 1)]  # (cohort, month, N)
    return np.where((age >= 0)[:, :, None], new_users[:, None, :] * shares, 0.0)


def retention_matrix(
    curve: NDArray[np.int_],
    r1: ArrayLike,
    beta: ArrayLike,
    floor: ArrayLike,
    tau: ArrayLike,
    alpha: ArrayLike,
    months: int,
    tables: Mapping[int, Mapping[int, float]] | None = None,
    months_per_period: ArrayLike = 1.0,
) -> NDArray[np.float64]:
    """Retention ``r(k)`` for N scenarios of mixed curve families; shape ``(months, N)``.

    *curve* holds :data:`CURVES` codes.  Unused parameters of a family are ignored (``beta`` is
    the power-law exponent for ``power_law`` and the sBG beta for ``sbg``).  *tables* maps a
    scenario's position to its observed points for ``table`` curves; *months_per_period* gives each
    scenario's age unit (:data:`MONTHS_PER_PERIOD`).
    """
    curve = np.asarray(curve)
    n = curve.shape[0]
    params = {
        name: np.broadcast_to(np.asarray(v, float), (n,))
        for name, v in {
            "r1": r1,
            "beta": beta,
            "floor": floor,
            "tau": tau,
            "alpha": alpha,
            "months_per_period": months_per_period,
        }.items()
    }
    out = np.empty((months, n))
    for name, code in CURVES.items():
        rows = np.flatnonzero(curve == code)
        if rows.size == 0:
            continue
        if name == "table":
            for row in rows:
                out[:, row] = table(
                    (tables or {})[int(row)], months, float(params["months_per_period"][row])
                )
        elif rows.size == n:  # one family for all (a batch): no gather, no scatter
            return _family(name, params, months)
        else:
            out[:, rows] = _family(name, {k: v[rows] for k, v in params.items()}, months)
    return out


def _family(name: str, p: Mapping[str, NDArray[np.float64]], months: int) -> NDArray[np.float64]:
    """The retention matrix of one parametric family for every scenario of *p*."""
    if name == "power_law":
        return power_law(p["r1"], p["beta"], months, p["months_per_period"])
    if name == "plateau":
        return plateau(p["r1"], p["floor"], p["tau"], months, p["months_per_period"])
    return sbg(p["alpha"], p["beta"], months, p["months_per_period"])
