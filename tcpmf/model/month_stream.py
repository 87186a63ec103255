"""The batch summary month by month: the engine's summary quantities without ``(T, N)`` temporaries.

:func:`tcpmf.model.engine.evaluate_summary` runs a batch of plain scenarios (one API route with an
annual decline, revenue from month 0, no competition, every scenario over all T months) through
:func:`stream_months`: each month's quantities are computed from the previous month's, on rows of
a few thousand scenarios that stay in the processor's cache, and only what the summary reads is
kept (the cash, for the company TC-PMF month).  Every number is computed by the same operations in
the same order as the engine's pass over whole ``(T, N)`` arrays, so the results are the same bits
(``tests/test_batch_same_bits.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["FIRST_MONTHS", "MonthStream", "stream_months"]

F = NDArray[np.float64]

#: The summary months found on the way, in the order of :attr:`MonthStream.first_month`'s rows:
#: cumulative contribution per user ≥ CAC, net ≥ 0, cash ≥ 0, cash at month-0 token prices ≥ 0,
#: contribution ≥ the target margin of ARPU (TC-PMF), and cash ≥ 0 at or after TC-PMF (the
#: company's TC-PMF month).
FIRST_MONTHS = (
    "cac_payback",
    "breakeven",
    "payback",
    "payback_m0_prices",
    "tcpmf",
    "company_tcpmf",
)


@dataclass(frozen=True)
class MonthStream:
    """What the summary reads off the months of N scenarios."""

    last_cash: F  # (N,); not finite where cash ever was not
    contribution_m0: F  # (N,)
    ltv: F  # Σ contribution · retention · discount over the months, (N,)
    lowest_cash: F  # (N,)
    first_month: NDArray[np.int64]  # (len(FIRST_MONTHS), N); 0 where not found
    found: NDArray[np.bool_]  # (len(FIRST_MONTHS), N)


@dataclass(frozen=True)
class Columns:
    """The per-scenario inputs of :func:`stream_months`, each ``(N,)``."""

    bill_m0: F  # API tokens per MAU at month-0 prices, USD
    price_step: F  # D^(-1/12): the token price of a month over the previous month's
    arpu: F
    other_variable: F
    spend: F  # marketing and fixed cost each month
    organic: F
    growth_ratio: F  # 1 + monthly growth
    paid_new: F
    discount_step: F  # (1 + i)^(-1/12)
    target: F  # target margin × ARPU
    cac: F


def stream_months(retention: F, c: Columns) -> MonthStream:
    """The engine's summary quantities of the scenarios of *c*, month by month.

    *retention* is the ``(T, N)`` retention matrix (a view into a wider one serves).  Operation by
    operation as :func:`tcpmf.model.engine.evaluate_arrays` computes them over whole arrays:
    ``bill(t) = bill₀ · D^(-t/12)``, ``contribution = ARPU − bill − other``, active users by the
    recurrences of :func:`~tcpmf.formulas.retention.active_users_growing`, ``net = active ·
    contribution − spend``, running totals for cash, contribution per user and cash at month-0
    prices, LTV as the running sum of ``contribution · retention · (1 + i)^(-t/12)``.  A first
    month is counted as the months before it: ``T −`` the months at or after it.
    """
    months, n = retention.shape
    # the quantities whose first month is sought, side by side: one comparison a month for all
    state = np.empty((5, n))
    per_user, net, cash, cash_m0, contribution = state
    threshold = np.zeros((5, n))
    threshold[0], threshold[4] = c.cac, c.target
    hit = np.empty((len(FIRST_MONTHS), n), bool)
    seen = np.zeros((len(FIRST_MONTHS), n), bool)  # found at or before the month
    after = np.zeros((len(FIRST_MONTHS), n), np.uint8)  # months at or after the first (T < 256)
    price = np.ones(n)
    discount = np.ones(n)
    bill = c.bill_m0 * price
    geometric = retention[0].copy()
    total = retention[0].copy()
    active, scratch, value = np.empty(n), np.empty(n), np.empty(n)
    ltv, lowest, contribution_m0 = np.empty(n), np.empty(n), np.empty(n)
    steady = bool((c.growth_ratio == 1.0).all())  # then the geometric part is the running total
    other = bool(c.other_variable.any())
    for t in range(months):
        if t:
            price *= c.price_step
            np.multiply(c.bill_m0, price, out=bill)
            total += retention[t]
            if not steady:
                geometric *= c.growth_ratio
                geometric += retention[t]
            discount *= c.discount_step
        np.subtract(c.arpu, bill, out=contribution)
        if other:  # x − 0.0 is x, to the bit
            contribution -= c.other_variable
        np.multiply(total if steady else geometric, c.organic, out=active)
        np.multiply(total, c.paid_new, out=scratch)
        active += scratch
        np.multiply(active, contribution, out=scratch)
        np.subtract(scratch, c.spend, out=net)
        np.multiply(contribution, retention[t], out=value)
        if t:
            cash += net
            per_user += value
            value *= discount
            ltv += value
            np.multiply(active, contribution_m0, out=scratch)
            scratch -= c.spend
            cash_m0 += scratch
            np.minimum(lowest, cash, out=lowest)
        else:
            cash[:] = net
            per_user[:] = value
            np.multiply(value, discount, out=ltv)
            contribution_m0[:] = contribution
            np.multiply(active, contribution_m0, out=cash_m0)
            cash_m0 -= c.spend
            lowest[:] = net
        np.greater_equal(state, threshold, out=hit[:5])
        np.logical_or(seen[:5], hit[:5], out=seen[:5])
        np.logical_and(seen[4], hit[2], out=hit[5])  # cash ≥ 0 once contribution reached the target
        seen[5] |= hit[5]
        after += seen.view(np.uint8)
    found = seen
    found[4] &= c.arpu > 0  # a product without revenue never reaches TC-PMF
    found[5] &= found[4]
    first = np.where(found, months - after.astype(np.int64), 0)
    return MonthStream(cash, contribution_m0, ltv, lowest, first, found)
