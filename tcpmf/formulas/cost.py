"""Inference cost: USD per 1M tokens by route, and its decline over time (docs/model.md §1).

Functions are ufunc-like: arrays in (any broadcastable shapes), arrays out.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["api_usd_per_mtok", "decline", "self_host_usd_per_mtok"]

SECONDS_PER_HOUR = 3600.0
TOKENS_PER_MTOK = 1e6


def api_usd_per_mtok(
    usd_per_mtok_in: ArrayLike,
    usd_per_mtok_out: ArrayLike,
    usd_per_mtok_cached_in: ArrayLike,
    cached_input_share: ArrayLike,
    price_discount: ArrayLike,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    r"""Effective API prices after prompt caching and discounts.

    .. math:: c_{in} = (p_{in}(1-h) + p_{cached}\,h)(1-d), \qquad c_{out} = p_{out}(1-d)

    Examples
    --------
    >>> [float(c) for c in api_usd_per_mtok(2.5, 10.0, 1.25, 0.5, 0.0)]
    [1.875, 10.0]
    """
    h = np.asarray(cached_input_share, dtype=float)
    keep = 1.0 - np.asarray(price_discount, dtype=float)
    c_in = (
        np.asarray(usd_per_mtok_in, float) * (1.0 - h)
        + np.asarray(usd_per_mtok_cached_in, float) * h
    ) * keep
    c_out = np.asarray(usd_per_mtok_out, float) * keep
    return c_in, c_out


def self_host_usd_per_mtok(
    usd_per_gpu_hour: ArrayLike,
    gpus_per_replica: ArrayLike,
    tokens_per_s_per_replica: ArrayLike,
    utilization: ArrayLike,
) -> NDArray[np.float64]:
    r"""USD per 1M tokens served on rented GPUs.

    .. math:: c = \frac{g\,G}{3600\,\theta\,u}\,10^6

    Utilization *u* is the share of paid GPU-hours that serve useful traffic; the cost gap
    between a well-run cluster and a typical one is 1/u.

    Examples
    --------
    >>> round(float(self_host_usd_per_mtok(2.0, 1, 1000.0, 0.5)), 4)  # 2 USD/h, 1000 tok/s, half busy
    1.1111
    """
    g = np.asarray(usd_per_gpu_hour, float) * np.asarray(gpus_per_replica, float)
    rate = np.asarray(tokens_per_s_per_replica, float) * np.asarray(utilization, float)
    return g / (SECONDS_PER_HOUR * rate) * TOKENS_PER_MTOK


def decline(
    usd_per_mtok_m0: ArrayLike, annual_cost_decline: ArrayLike, months: ArrayLike
) -> NDArray[np.float64]:
    r"""Price after *months* of decline by a factor *D* per year: :math:`c(t) = c(0)\,D^{-t/12}`.

    With ``months`` of shape ``(T, 1)`` and prices of shape ``(N,)`` the result is ``(T, N)``.

    Examples
    --------
    >>> decline(10.0, 10.0, [0, 12, 24]).round(6)
    array([10. ,  1. ,  0.1])
    """
    d = np.asarray(annual_cost_decline, float)
    return np.asarray(usd_per_mtok_m0, float) * d ** (-np.asarray(months, float) / 12.0)
