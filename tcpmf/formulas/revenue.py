"""Revenue per MAU a month (docs/model.md §3): subscription, ads, usage-based and commerce."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tcpmf.formulas.usage import active_days, token_bill_usd

__all__ = [
    "ads_usd_per_mau",
    "commerce_usd_per_mau",
    "elastic_paid_share",
    "monetization_factor",
    "subscription_usd_per_mau",
    "usage_based_usd_per_mau",
]


def elastic_paid_share(
    paid_share: ArrayLike,
    price_usd_per_month: ArrayLike,
    reference_price_usd_per_month: ArrayLike,
    price_elasticity: ArrayLike,
) -> NDArray[np.float64]:
    r"""Paid share at a price, with constant elasticity around the reference price.

    .. math:: s(p) = \min\left(1,\; s_0 \left(p / p_{ref}\right)^{-\varepsilon}\right)

    ``s(p) = s_0`` where ``ε = 0`` or ``p = p_ref``; a free subscription (``p = 0``) with
    ``ε > 0`` is taken by everyone who would pay at all (``s = 1`` where ``s_0 > 0``).

    Examples
    --------
    >>> float(elastic_paid_share(0.04, 40.0, 20.0, 1.0))  # double the price, half the payers
    0.02
    >>> float(elastic_paid_share(0.04, 40.0, 20.0, 0.0))
    0.04
    """
    s0 = np.asarray(paid_share, float)
    p = np.asarray(price_usd_per_month, float)
    ref = np.asarray(reference_price_usd_per_month, float)
    e = np.asarray(price_elasticity, float)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        factor = np.where(e > 0, (p / np.where(ref > 0, ref, 1.0)) ** -e, 1.0)
        share = np.where(s0 > 0, np.minimum(1.0, s0 * factor), 0.0)
    return np.asarray(share, dtype=float)


def subscription_usd_per_mau(
    price_usd_per_month: ArrayLike, paid_share: ArrayLike, store_fee: ArrayLike
) -> NDArray[np.float64]:
    """``paid_share · price · (1 − store_fee)``.

    Examples
    --------
    >>> float(subscription_usd_per_mau(20.0, 0.05, 0.3))
    0.7
    """
    return (
        np.asarray(paid_share, float)
        * np.asarray(price_usd_per_month, float)
        * (1.0 - np.asarray(store_fee, float))
    )


def ads_usd_per_mau(
    dau_per_mau: ArrayLike,
    sessions_per_day: ArrayLike,
    impressions_per_session: ArrayLike,
    rpm_usd: ArrayLike,
    paid_share: ArrayLike = 0.0,
    free_tier_only: ArrayLike = True,
) -> NDArray[np.float64]:
    """Ad impressions a month times RPM / 1000, shown to free users only when ``free_tier_only``."""
    impressions = (
        active_days(dau_per_mau)
        * np.asarray(sessions_per_day, float)
        * np.asarray(impressions_per_session, float)
    )
    seen = np.where(np.asarray(free_tier_only, bool), 1.0 - np.asarray(paid_share, float), 1.0)
    return impressions * np.asarray(rpm_usd, float) / 1000.0 * seen


def usage_based_usd_per_mau(
    tokens_in: ArrayLike,
    tokens_out: ArrayLike,
    usd_per_mtok_in: ArrayLike,
    usd_per_mtok_out: ArrayLike,
) -> NDArray[np.float64]:
    """Tokens resold at the product's own prices per 1M."""
    return token_bill_usd(tokens_in, tokens_out, usd_per_mtok_in, usd_per_mtok_out)


def commerce_usd_per_mau(gmv_usd_per_mau: ArrayLike, take_rate: ArrayLike) -> NDArray[np.float64]:
    """``gmv · take_rate``."""
    return np.asarray(gmv_usd_per_mau, float) * np.asarray(take_rate, float)


def monetization_factor(
    active_users: ArrayLike, from_month: ArrayLike, from_mau: ArrayLike, ramp_months: ArrayLike
) -> NDArray[np.float64]:
    r"""Share of a revenue stream's full value earned each month: users first, money later.

    With ``active_users`` a ``(T, N)`` array and the other arguments ``(N,)`` columns, the stream
    starts in the first month ``t0`` that is at least ``from_month`` and in which (or after which)
    MAU has reached ``from_mau``, then rises linearly to full over ``ramp_months``:

    .. math:: f(t) = \operatorname{clip}\left(\frac{t - t_0 + 1}{\max(R, 1)},\ 0,\ 1\right)

    A threshold never reached gives 0 in every month.  ``from_month = from_mau = ramp_months = 0``
    gives 1 in every month.

    Examples
    --------
    >>> users = np.array([[10.0], [20.0], [30.0], [40.0], [50.0]])
    >>> monetization_factor(users, [1.0], [25.0], [2.0]).ravel().tolist()
    [0.0, 0.0, 0.5, 1.0, 1.0]
    """
    active = np.asarray(active_users, float)
    t = np.arange(active.shape[0], dtype=float)[:, None]
    reached = active >= np.asarray(from_mau, float)
    # first month with MAU at the threshold; +inf where it never comes within the months evaluated
    t_mau = np.where(reached.any(axis=0), reached.argmax(axis=0), np.inf)
    t0 = np.maximum(np.ceil(np.asarray(from_month, float)), t_mau)
    with np.errstate(invalid="ignore"):
        factor = (t - t0 + 1.0) / np.maximum(np.asarray(ramp_months, float), 1.0)
    # NaN and -inf (a threshold never reached) to 0, then at most 1: in place, no copies
    np.fmax(factor, 0.0, out=factor)
    np.minimum(factor, 1.0, out=factor)
    return np.asarray(factor, dtype=float)
