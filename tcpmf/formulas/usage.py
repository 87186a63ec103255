"""Usage per monthly active user: calls and tokens (docs/model.md §2)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["DAYS_PER_MONTH", "active_days", "calls_per_mau", "token_bill_usd", "tokens_per_mau"]

DAYS_PER_MONTH = 30.0


def active_days(dau_per_mau: ArrayLike) -> NDArray[np.float64]:
    """Days a month an average MAU is active: ``30 · dau_per_mau``."""
    return DAYS_PER_MONTH * np.asarray(dau_per_mau, float)


def calls_per_mau(
    dau_per_mau: ArrayLike,
    sessions_per_day: ArrayLike,
    requests_per_session: ArrayLike,
    calls_per_request: ArrayLike,
) -> NDArray[np.float64]:
    """Model calls a month per MAU: active days · sessions · requests · calls per request.

    ``calls_per_request > 1`` models agents and retries.

    Examples
    --------
    >>> float(calls_per_mau(0.5, 2, 3, 1.5))  # 15 days x 2 sessions x 3 requests x 1.5 calls
    135.0
    """
    return (
        active_days(dau_per_mau)
        * np.asarray(sessions_per_day, float)
        * np.asarray(requests_per_session, float)
        * np.asarray(calls_per_request, float)
    )


def tokens_per_mau(
    calls: ArrayLike,
    input_tokens_per_call: ArrayLike,
    output_tokens_per_call: ArrayLike,
    paid_share: ArrayLike = 0.0,
    paid_usage_multiplier: ArrayLike = 1.0,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Input and output tokens a month per MAU, blending free and paying users' usage.

    ``usage_mix = 1 + paid_share · (paid_usage_multiplier − 1)`` scales both.
    """
    mix = 1.0 + np.asarray(paid_share, float) * (np.asarray(paid_usage_multiplier, float) - 1.0)
    base = np.asarray(calls, float) * mix
    return base * np.asarray(input_tokens_per_call, float), base * np.asarray(
        output_tokens_per_call, float
    )


def token_bill_usd(
    tokens_in: ArrayLike,
    tokens_out: ArrayLike,
    usd_per_mtok_in: ArrayLike,
    usd_per_mtok_out: ArrayLike,
) -> NDArray[np.float64]:
    """``(tokens_in · p_in + tokens_out · p_out) / 1e6``: what tokens cost at prices per 1M.

    Used for what a MAU's tokens cost the product (inference) and, at the product's own prices,
    what they earn it (usage-based revenue).
    """
    return (
        np.asarray(tokens_in, float) * np.asarray(usd_per_mtok_in, float)
        + np.asarray(tokens_out, float) * np.asarray(usd_per_mtok_out, float)
    ) / 1e6
