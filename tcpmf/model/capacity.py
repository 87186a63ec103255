r"""Self-hosted capacity that follows demand: replicas, utilization and the GPU bill (docs/model.md §1).

A replica of ``G`` GPUs rented at ``g`` USD per GPU-hour serves ``θ_in`` prompt and ``θ_out``
output tokens per second.  A month's token demand keeps replicas busy for

.. math:: H(t) = U(t) \cdot s \cdot \left(\frac{n_{in}}{3600\,θ_{in}} + \frac{n_{out}}{3600\,θ_{out}}\right) D^{-t/12}

replica-hours (``U`` active users, ``s`` the self-hosted share of calls, ``n`` tokens per MAU,
``D`` the annual decline: the same GPUs serve more tokens as serving improves).  Over a month of
``720`` hours the average load is ``H/720`` replicas; capacity is provisioned for the peak:

.. math::

    R(t) = \max\left(R_{min}, \left\lceil p \cdot H(t) / 720 \right\rceil\right), \qquad
    u(t) = \frac{H(t)}{720\,R(t)}, \qquad
    \text{bill}(t) = R(t) \cdot G \cdot g(t) \cdot 720

with ``p`` the peak-to-average ratio and ``g(t)`` the rent in force in calendar month ``t``.  A small
product pays for idle GPUs: ``u`` falls as demand falls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:
    from tcpmf.model.arrays import ScenarioArrays

__all__ = [
    "HOURS_PER_MONTH",
    "DemandDrivenHost",
    "demand_driven_host",
    "replicas",
    "self_host_bill_usd",
    "utilization",
]

F = NDArray[np.float64]

#: Hours in a model month (30 days, as ``active_days = 30 · dau_per_mau``).
HOURS_PER_MONTH = 720.0


def replicas(
    busy_replica_hours: ArrayLike, peak_to_average: ArrayLike, min_replicas: ArrayLike
) -> F:
    """Replicas provisioned for the peak: ``max(R_min, ⌈p · H / 720⌉)``.

    Examples
    --------
    >>> replicas([0.0, 720.0, 1000.0], 2.0, 1).tolist()
    [1.0, 2.0, 3.0]
    """
    load = np.asarray(busy_replica_hours, float) / HOURS_PER_MONTH
    return np.maximum(
        np.asarray(min_replicas, float), np.ceil(np.asarray(peak_to_average, float) * load)
    )


def utilization(busy_replica_hours: ArrayLike, provisioned_replicas: ArrayLike) -> F:
    """Average demand over provisioned capacity: ``H / (720 · R)``.

    Examples
    --------
    >>> utilization([360.0, 720.0], [1.0, 2.0]).tolist()
    [0.5, 0.5]
    """
    return np.asarray(busy_replica_hours, float) / (
        HOURS_PER_MONTH * np.asarray(provisioned_replicas, float)
    )


def self_host_bill_usd(provisioned_replicas: ArrayLike, usd_per_replica_hour: ArrayLike) -> F:
    """Monthly rent of the provisioned replicas: ``R · G · g · 720``.

    Examples
    --------
    >>> float(self_host_bill_usd(2, 2.5))
    3600.0
    """
    return (
        np.asarray(provisioned_replicas, float)
        * np.asarray(usd_per_replica_hour, float)
        * HOURS_PER_MONTH
    )


@dataclass(frozen=True)
class DemandDrivenHost:
    """Monthly (T, N) terms of the demand-driven self-host route; zeros / NaN where there is none."""

    usd_per_mau: F  # self-host cost per active user, added to the inference cost per MAU
    idle_usd: F  # rent paid in months without any active user (else 0)
    usd_per_mtok_in: F  # effective self-host price at the month's utilization, share-weighted
    usd_per_mtok_out: F
    replicas: F  # NaN where not demand-driven
    utilization: F  # NaN where not demand-driven


def demand_driven_host(
    a: ScenarioArrays, active_users: F, tokens_in: F, tokens_out: F, decline_factor: F
) -> DemandDrivenHost | None:
    r"""Replicas, utilization and cost of the demand-driven self-host route for columns *a*.

    ``H(t) = U(t) · bill₁(t) / (G·g₀)`` with ``bill₁(t)`` the self-host token bill per MAU at full
    utilization and start-month rent (share-weighted, declined); then :func:`replicas`,
    :func:`utilization` and ``cost(t) = R(t)·G·g₀·r(t)·720`` with ``r(t)`` the rent in force ÷ ``g₀``.
    Per active user that is ``bill₁(t)·r(t) / u(t)``.  None when no column has such a route.
    """
    shape = active_users.shape
    per_hour = a.self_host_usd_per_replica_hour_m0
    if per_hour is None or not (per_hour > 0).any():
        return None
    assert (
        a.self_host_demand_usd_per_mtok_in_m0 is not None
        and a.self_host_demand_usd_per_mtok_out_m0 is not None
    )
    assert (
        a.peak_to_average is not None and a.min_replicas is not None and a.rent_factor is not None
    )
    on = per_hour > 0
    full_bill = (
        (
            tokens_in * a.self_host_demand_usd_per_mtok_in_m0
            + tokens_out * a.self_host_demand_usd_per_mtok_out_m0
        )
        / 1e6
        * decline_factor
    )
    hours = active_users * np.divide(full_bill, per_hour, out=np.zeros(shape), where=on)
    provisioned = np.where(on, replicas(hours, a.peak_to_average, a.min_replicas), np.nan)
    u = np.where(on, utilization(hours, np.where(on, provisioned, 1.0)), np.nan)
    bill = np.where(
        on, self_host_bill_usd(np.where(on, provisioned, 0.0), per_hour) * a.rent_factor, 0.0
    )
    # Rent per user and per token.  A user count or utilization so small that the division
    # overflows (1e-313 users: a cohort that has all but gone) serves nobody: the rent is idle.
    with np.errstate(over="ignore"):
        per_user = np.divide(bill, active_users, out=np.full(shape, np.inf), where=active_users > 0)
        per_use = np.divide(
            decline_factor * a.rent_factor, u, out=np.full(shape, np.inf), where=u > 0
        )
    busy = np.isfinite(per_user)
    per_mau = np.where(on, np.where(busy, per_user, full_bill * a.rent_factor), 0.0)
    idle = np.where(busy, 0.0, bill)
    scale = np.where(on & busy & np.isfinite(per_use), per_use, 0.0)
    return DemandDrivenHost(
        usd_per_mau=per_mau,
        idle_usd=idle,
        usd_per_mtok_in=a.self_host_demand_usd_per_mtok_in_m0 * scale,
        usd_per_mtok_out=a.self_host_demand_usd_per_mtok_out_m0 * scale,
        replicas=provisioned,
        utilization=u,
    )
