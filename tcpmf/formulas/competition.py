"""An incumbent enters the market: its effects, the moat that offsets them (docs/model.md §6.2).

Pure numpy.  Columns are ``(N,)``; monthly arrays are time-major ``(T, N)``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "active_users_under_hazard",
    "entry_intensity",
    "moat_component",
    "moat_offset",
    "survival",
]

F = NDArray[np.float64]


def entry_intensity(months: int, entry_month: ArrayLike, ramp_months: ArrayLike) -> F:
    r"""Share of its full effect the incumbent has in each month, ``(months, N)``.

    .. math:: e(t) = \operatorname{clip}\left(\frac{t - t_e + 1}{\max(R, 1)},\ 0,\ 1\right)

    0 before the entry month :math:`t_e`; an entry month of ``inf`` (no entry) gives 0 everywhere.

    Examples
    --------
    >>> entry_intensity(5, [2.0], [2.0]).ravel().tolist()
    [0.0, 0.0, 0.5, 1.0, 1.0]
    """
    t = np.arange(months, dtype=float)[:, None]
    with np.errstate(invalid="ignore"):
        e = (t - np.asarray(entry_month, float) + 1.0) / np.maximum(
            np.asarray(ramp_months, float), 1.0
        )
    return np.asarray(np.clip(np.nan_to_num(e, nan=0.0, neginf=0.0), 0.0, 1.0), dtype=float)


def moat_component(built: ArrayLike, half: ArrayLike) -> F:
    r"""A saturating moat from one thing built before entry: :math:`1 - 2^{-x / x_{1/2}}`.

    0 with nothing built, half at ``x = half``, tending to 1; a ``half`` of 0 or less means the
    component is not used (0).

    Examples
    --------
    >>> moat_component([0.0, 1e6, 2e6], [1e6, 1e6, 1e6]).tolist()
    [0.0, 0.5, 0.75]
    """
    x = np.asarray(built, float)
    h = np.asarray(half, float)
    ratio = np.divide(x, h, out=np.zeros(np.broadcast(x, h).shape), where=h > 0)
    return np.where(h > 0, 1.0 - np.exp2(-ratio), 0.0)


def moat_offset(
    active_users: ArrayLike,
    active_users_half: ArrayLike,
    active_users_weight: ArrayLike,
    cumulative_users: ArrayLike,
    cumulative_users_half: ArrayLike,
    cumulative_users_weight: ArrayLike,
    brand_spend_usd: ArrayLike,
    brand_spend_half_usd: ArrayLike,
    brand_spend_weight: ArrayLike,
) -> F:
    r"""Share of each competitive effect the moat offsets: :math:`m = \sum_i w_i\,(1 - 2^{-x_i / h_i})`.

    Three components: scale / social graph (active users at entry), data (cumulative users at
    entry) and brand (cumulative marketing spend at entry).  Weights sum to at most 1, so the
    offset is within [0, 1] and rises with each thing built.
    """
    return np.asarray(
        np.asarray(active_users_weight, float) * moat_component(active_users, active_users_half)
        + np.asarray(cumulative_users_weight, float)
        * moat_component(cumulative_users, cumulative_users_half)
        + np.asarray(brand_spend_weight, float)
        * moat_component(brand_spend_usd, brand_spend_half_usd),
        dtype=float,
    )


def survival(hazard: F) -> F:
    r""":math:`S(t) = \prod_{u=1}^{t} (1 - h(u))`, ``S(0) = 1``: the share of users still there after
    the added monthly churn hazard ``h`` (calendar months, every cohort alike)."""
    out = np.empty_like(hazard)
    if len(hazard):
        out[0] = 1.0
    for t in range(1, len(hazard)):
        np.multiply(out[t - 1], 1.0 - hazard[t], out=out[t])
    return out


def active_users_under_hazard(new_users: F, retention: F, survival_share: F) -> F:
    r"""Active users with new users ``A(s)`` varying by month and a calendar-time hazard on top of
    retention ``r``:

    .. math:: U(t) = \sum_{s \le t} A(s)\, r(t - s)\, \frac{S(t)}{S(s)} = S(t) \sum_{s \le t} \frac{A(s)}{S(s)}\, r(t - s)

    The hazard factorizes because it depends on the calendar month, not the cohort's age; the
    convolution runs in T vectorized steps, one per age.

    Examples
    --------
    >>> r = np.array([[1.0], [0.5], [0.25]])
    >>> active_users_under_hazard(np.array([[10.0], [20.0], [40.0]]), r, np.ones((3, 1))).ravel()
    array([10. , 25. , 52.5])
    """
    scaled = new_users / survival_share
    out = np.zeros_like(scaled)
    months = len(scaled)
    for k in range(months):
        out[k:] += retention[k] * scaled[: months - k]
    out *= survival_share
    return out
