"""Unit economics, cash and the summary metrics (docs/model.md §5).

All arrays are time-major, shape ``(T, N)``, with a boolean ``in_horizon`` of the same shape
marking the months each scenario actually has.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "cumulative_over_months",
    "first_month",
    "geometric_over_months",
    "ltv_usd",
    "max_affordable_usd_per_mtok",
    "new_users",
    "peak_funding_usd",
]

F = NDArray[np.float64]


def new_users(
    organic_new_users_per_month: ArrayLike,
    monthly_growth: ArrayLike,
    paid_new_users_per_month: ArrayLike,
    months: int,
) -> F:
    """``A(t) = organic · (1 + monthly_growth)^t + paid``, shape ``(months, N)``."""
    growth = geometric_over_months(1.0 + np.asarray(monthly_growth, float), months)
    return np.asarray(organic_new_users_per_month, float) * growth + np.asarray(
        paid_new_users_per_month, float
    )


def geometric_over_months(ratio: ArrayLike, months: int) -> F:
    """``ratio ** t`` for months ``t = 0 … months − 1``, shape ``(months, N)``.

    Computed row by row, each month the previous one times *ratio*: T products of N numbers
    instead of T × N powers (a power costs about ten multiplications).  The relative rounding
    error grows by at most one unit in the last place a month (below 1e-13 over ten years).

    Examples
    --------
    >>> geometric_over_months([2.0, 0.5], 4)
    array([[1.   , 1.   ],
           [2.   , 0.5  ],
           [4.   , 0.25 ],
           [8.   , 0.125]])
    """
    step = np.atleast_1d(np.asarray(ratio, float))
    out = np.empty((months, *step.shape))
    if months:
        out[0] = 1.0
    for t in range(1, months):
        np.multiply(out[t - 1], step, out=out[t])
    return out


def cumulative_over_months(values: F) -> F:
    """Running total over the months (axis 0) of a time-major ``(T, N)`` array.

    The same sums as ``np.cumsum(values, axis=0)``, added in the same order, but row by row:
    numpy's cumsum along the first axis of a C-ordered array strides across memory and is about
    8× slower at N = 50 000.
    """
    out = np.empty_like(values, dtype=float)
    if len(values):
        out[0] = values[0]
    for t in range(1, len(values)):
        np.add(out[t - 1], values[t], out=out[t])
    return out


def first_month(
    condition: NDArray[np.bool_], in_horizon: NDArray[np.bool_] | None
) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """First month where *condition* holds within the horizon, and whether there is one.

    Returns ``(month, found)``; ``month`` is 0 where ``found`` is False and must be masked.
    ``in_horizon`` None means every month is in every scenario's horizon (a batch of equal horizons).
    """
    hit = condition if in_horizon is None else condition & in_horizon
    return hit.argmax(axis=0).astype(np.int64), np.asarray(hit.any(axis=0), dtype=bool)


def peak_funding_usd(cash_usd: F, in_horizon: NDArray[np.bool_] | None) -> F:
    """``max(0, −min_t cash(t))``: the most cash the product needs before it pays back."""
    lowest = (cash_usd if in_horizon is None else np.where(in_horizon, cash_usd, np.inf)).min(
        axis=0
    )
    return np.maximum(0.0, -lowest)


def ltv_usd(
    contribution: F,
    retention: F,
    discount_rate_annual: ArrayLike,
    in_horizon: NDArray[np.bool_] | None,
) -> F:
    r"""Lifetime value of a user who joins in month 0, over the horizon.

    .. math:: LTV = \sum_k c(k)\,r(k)\,(1 + i)^{-k}, \qquad (1 + i)^{12} = 1 + \text{discount\_rate\_annual}
    """
    discount = geometric_over_months(
        (1.0 + np.asarray(discount_rate_annual, float)) ** (-1.0 / 12.0), contribution.shape[0]
    )
    value = contribution * retention
    value *= discount
    return (value if in_horizon is None else np.where(in_horizon, value, 0.0)).sum(axis=0)


def max_affordable_usd_per_mtok(
    arpu_usd: ArrayLike,
    other_variable_usd_per_mau: ArrayLike,
    target_margin: ArrayLike,
    tokens_per_mau: ArrayLike,
) -> tuple[F, NDArray[np.bool_]]:
    r"""Blended USD per 1M tokens at which contribution equals the target margin.

    Contribution is linear in the token price *p*: :math:`c = ARPU - p\,n/10^6 - v`, so
    :math:`p^* = (ARPU\,(1 - m) - v)\,10^6 / n`.  Returns ``(price, defined)``: undefined without
    tokens, or when even free tokens would not reach the target.
    """
    tokens = np.asarray(tokens_per_mau, float)
    headroom = np.asarray(arpu_usd, float) * (1.0 - np.asarray(target_margin, float)) - np.asarray(
        other_variable_usd_per_mau, float
    )
    defined = (tokens > 0) & (headroom >= 0)
    price = np.divide(
        headroom * 1e6, tokens, out=np.zeros(np.broadcast(headroom, tokens).shape), where=defined
    )
    return price, defined
