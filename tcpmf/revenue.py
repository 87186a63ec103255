"""Revenue per MAU a month (MODEL.md §3): subscription, ads, usage-based and commerce."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .usage import active_days, token_bill_usd

__all__ = ["ads_usd_per_mau", "commerce_usd_per_mau", "subscription_usd_per_mau", "usage_based_usd_per_mau"]


def subscription_usd_per_mau(
    price_usd_per_month: ArrayLike, paid_share: ArrayLike, store_fee: ArrayLike
) -> NDArray[np.float64]:
    """``paid_share · price · (1 − store_fee)``.

    Examples
    --------
    >>> float(subscription_usd_per_mau(20.0, 0.05, 0.3))
    0.7
    """
    return np.asarray(paid_share, float) * np.asarray(price_usd_per_month, float) * (1.0 - np.asarray(store_fee, float))


def ads_usd_per_mau(
    dau_per_mau: ArrayLike,
    sessions_per_day: ArrayLike,
    impressions_per_session: ArrayLike,
    rpm_usd: ArrayLike,
    paid_share: ArrayLike = 0.0,
    free_tier_only: ArrayLike = True,
) -> NDArray[np.float64]:
    """Ad impressions a month times RPM / 1000, shown to free users only when ``free_tier_only``."""
    impressions = active_days(dau_per_mau) * np.asarray(sessions_per_day, float) * np.asarray(impressions_per_session, float)
    seen = np.where(np.asarray(free_tier_only, bool), 1.0 - np.asarray(paid_share, float), 1.0)
    return impressions * np.asarray(rpm_usd, float) / 1000.0 * seen


def usage_based_usd_per_mau(
    tokens_in: ArrayLike, tokens_out: ArrayLike, usd_per_mtok_in: ArrayLike, usd_per_mtok_out: ArrayLike
) -> NDArray[np.float64]:
    """Tokens resold at the product's own prices per 1M."""
    return token_bill_usd(tokens_in, tokens_out, usd_per_mtok_in, usd_per_mtok_out)


def commerce_usd_per_mau(gmv_usd_per_mau: ArrayLike, take_rate: ArrayLike) -> NDArray[np.float64]:
    """``gmv · take_rate``."""
    return np.asarray(gmv_usd_per_mau, float) * np.asarray(take_rate, float)
