r"""Price decline fitted to the dated model catalog, per capability tier.

A capability tier (``gpt-3-class``, ``gpt-3.5-class``, ``small-fast``, ``gpt-4-class``,
``frontier-reasoning`` in ``catalog/capability.yaml``) is a minimum score on a public benchmark.  Its series is, at each month
a price or a score of the catalog took effect, the cheapest blended list price in force among the
models whose score in force then meets the threshold (the method of Epoch AI, "LLM inference prices
have fallen rapidly but unequally across tasks", 2025), kept where that cheapest price changes.  A
model with no public score meets no tier, so one mis-tagged model cannot drive a fit; no tier is a
hand-tagged group of models.
Prices are blended ``(3·p_in + p_out) / 4`` (three input tokens per output token).  A log-linear
least-squares fit

.. math:: \ln p_i = a - b\,y_i, \qquad D = e^{b}

over the years ``y_i`` gives the annual decline factor ``D`` (4 means four times cheaper each year).
Its spread is the standard error of ``b``: ``D`` at ``b ± se`` brackets the estimate.  Two points
determine the line exactly and leave no residual degree of freedom, so with fewer than three
points the spread is undefined: NA, never 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from tcpmf.catalog.capability import (
    CapabilityFloor,
    capability_catalog,
    change_months,
    cheapest_meeting,
    resolve_floor,
)
from tcpmf.core.months import month_index
from tcpmf.core.yamlio import assumptions_dir

__all__ = [
    "DeclineFit",
    "decline_table",
    "fit_decline",
    "fitted_decline",
    "floor_decline",
    "threshold_series",
    "tier_definition",
    "tier_names",
    "tier_series",
]


@dataclass(frozen=True)
class DeclineFit:
    """A fitted annual decline factor with its spread."""

    annual_cost_decline: float
    annual_cost_decline_low: float
    annual_cost_decline_high: float
    log_slope_standard_error: float
    points: int
    first_month: str
    last_month: str


def fit_decline(month_indices: ArrayLike, usd_per_mtok: ArrayLike) -> tuple[float, float]:
    r"""Least-squares ``(D, se)`` of :math:`\ln p = a - \ln D \cdot t/12`; ``se`` of :math:`\ln D`
    (NaN with only two points: the spread is undefined).

    Examples
    --------
    >>> d, se = fit_decline([0, 12, 24], [10.0, 1.0, 0.1])
    >>> round(d, 9), round(se, 9)
    (10.0, 0.0)
    >>> d, se = fit_decline([0, 12], [10.0, 1.0])
    >>> round(d, 9), se
    (10.0, nan)
    """
    years = np.asarray(month_indices, float) / 12.0
    logp = np.log(np.asarray(usd_per_mtok, float))
    n = years.size
    if n < 2 or np.ptp(years) == 0:
        raise ValueError("a decline fit needs prices at two or more different months")
    x = years - years.mean()
    slope = float((x * (logp - logp.mean())).sum() / (x * x).sum())
    residuals = logp - logp.mean() - slope * x
    se = float(np.sqrt((residuals**2).sum() / (n - 2) / (x * x).sum())) if n > 2 else float("nan")
    return float(np.exp(-slope)), se


def tier_names(directory: Path | None = None) -> list[str]:
    """Capability tiers (each a threshold on a score), sorted."""
    return sorted(capability_catalog(directory or assumptions_dir()).tiers)


def tier_definition(tier: str, directory: Path | None = None) -> str:
    """How *tier* is defined: ``"<benchmark> >= <score>"``."""
    floor = resolve_floor(tier, directory or assumptions_dir())
    return f"{floor.benchmark} >= {floor.min_score:g}"


def threshold_series(
    tier: str | float | CapabilityFloor, directory: Path | None = None
) -> pd.DataFrame:
    """The cheapest blended price of a model meeting *tier*'s threshold (a tier name, a minimum
    score or a :class:`CapabilityFloor`), where it changes.

    Returns a frame with ``month``, ``model``, ``score`` and ``usd_per_mtok_blended``.
    """
    directory = directory or assumptions_dir()
    floor = tier if isinstance(tier, CapabilityFloor) else resolve_floor(tier, directory)
    rows: list[dict[str, object]] = []
    for month in change_months(directory):
        best = cheapest_meeting(floor, month, directory)
        if best is None:
            continue
        if (
            rows
            and rows[-1]["model"] == best.model
            and rows[-1]["usd_per_mtok_blended"] == best.usd_per_mtok_blended
        ):
            continue
        rows.append(
            {
                "month": month,
                "model": best.model,
                "score": best.score,
                "usd_per_mtok_blended": best.usd_per_mtok_blended,
            }
        )
    return pd.DataFrame(rows, columns=["month", "model", "score", "usd_per_mtok_blended"])


def tier_series(tier: str, directory: Path | None = None) -> pd.DataFrame:
    """The cheapest blended USD price per 1M tokens of *tier* over time (:func:`threshold_series`).

    Returns a frame with ``month``, ``model``, ``score`` and ``usd_per_mtok_blended``;
    :class:`KeyError` naming the tiers for an unknown name.
    """
    directory = directory or assumptions_dir()
    if tier not in capability_catalog(directory).tiers:
        raise KeyError(
            f"a capability tier of the catalog; known: {', '.join(tier_names(directory))}"
        )
    return threshold_series(tier, directory)


@lru_cache(maxsize=64)
def _fit(tier: str, directory: Path) -> DeclineFit:
    series = tier_series(tier, directory)
    index = np.asarray([month_index(m) for m in series["month"]])
    d, se = fit_decline(index, series["usd_per_mtok_blended"].to_numpy(float))
    return DeclineFit(
        annual_cost_decline=d,
        annual_cost_decline_low=float(d * np.exp(-se)),
        annual_cost_decline_high=float(d * np.exp(se)),
        log_slope_standard_error=se,
        points=len(series),
        first_month=str(series["month"].iloc[0]),
        last_month=str(series["month"].iloc[-1]),
    )


def fitted_decline(tier: str, directory: Path | None = None) -> float:
    """The annual decline factor fitted to *tier*; :class:`ValueError` listing the tiers if unknown.

    Examples
    --------
    >>> fitted_decline("gpt-4-class") > 1
    True
    """
    directory = directory or assumptions_dir()
    if tier not in tier_names(directory):
        raise ValueError(
            f"fitted:<tier> with a tier of the models catalog: {', '.join(tier_names(directory))}"
        )
    try:
        fit = _fit(tier, directory)
    except ValueError as exc:
        raise ValueError(f"fitted:{tier}: {exc}") from None
    return min(max(fit.annual_cost_decline, 0.1), 1000.0)


@lru_cache(maxsize=64)
def floor_decline(floor: CapabilityFloor, directory: Path | None = None) -> float:
    """The annual decline fitted to the cheapest model meeting *floor* (clipped to [0.1, 1000]);
    :class:`ValueError` when fewer than two dated points meet it."""
    directory = directory or assumptions_dir()
    series = threshold_series(floor, directory)
    if len(series) < 2:
        raise ValueError(
            f"a capability floor met at two or more catalog dates; {floor.label} is met at {len(series)}"
        )
    index = np.asarray([month_index(m) for m in series["month"]])
    d, _ = fit_decline(index, series["usd_per_mtok_blended"].to_numpy(float))
    return min(max(d, 0.1), 1000.0)


def decline_table(directory: Path | None = None) -> pd.DataFrame:
    """One row per tier with at least two dated points: the fitted decline and its spread.

    With fewer than three points the spread columns are NA and ``note`` says why.
    """
    directory = directory or assumptions_dir()
    rows = []
    for tier in tier_names(directory):
        try:
            fit = _fit(tier, directory)
        except ValueError:
            continue
        note = "" if fit.points >= 3 else f"{fit.points} points: spread undefined (needs 3 or more)"
        rows.append(
            {
                "tier": tier,
                "definition": tier_definition(tier, directory),
                **fit.__dict__,
                "note": note,
            }
        )
    frame = pd.DataFrame(rows)
    for column in (
        "annual_cost_decline_low",
        "annual_cost_decline_high",
        "log_slope_standard_error",
    ):
        if column in frame:
            frame[column] = frame[column].astype("Float64").mask(frame[column].isna())
    return frame
