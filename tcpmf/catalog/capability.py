"""Capability of catalog models, dated, and capability tiers defined by a threshold on it.

``assumptions/catalog/capability.yaml`` gives each model's public benchmark score (a leaderboard
snapshot) with the month the scored version became the one the model's name serves, and defines
named tiers as a minimum score on one benchmark.  A *capability floor* is a tier name, a minimum
score (on the default benchmark, the one of the ``gpt-4-class`` tier) or a minimum score on another
benchmark of the file; :func:`cheapest_meeting`
gives the cheapest catalog model meeting a floor at a month, blended ``(3·p_in + p_out) / 4``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from tcpmf.catalog.capability_schema import CapabilityFile, CapabilityTables
from tcpmf.catalog.prices import in_force, model_price, models_catalog
from tcpmf.core.errors import AssumptionError
from tcpmf.core.months import month_index
from tcpmf.core.yamlio import assumptions_dir, display_path, load_validated

__all__ = [
    "CapabilityFloor",
    "MeetingModel",
    "ScoreMinimum",
    "blended_usd_per_mtok",
    "capability_catalog",
    "capability_score",
    "capability_tier_names",
    "change_months",
    "cheapest_meeting",
    "first_month_meeting",
    "resolve_floor",
]

INPUT_WEIGHT = 0.75  # blended price: 3 input tokens per output token
DEFAULT_TIER = "gpt-4-class"  # its benchmark is the one a bare minimum score refers to


@lru_cache(maxsize=4)
def capability_catalog(directory: Path) -> CapabilityTables:
    """``catalog/capability.yaml`` under *directory*, validated (every scored model must be priced)."""
    path = directory / "catalog" / "capability.yaml"
    catalog = load_validated(path, CapabilityFile).capability
    priced = models_catalog(directory).models
    for model in catalog.scores:
        if model not in priced:
            raise AssumptionError(
                display_path(path),
                f"capability.scores.{model}",
                "a model of catalog/models.yaml",
                model,
            )
    return catalog


def capability_tier_names(directory: Path | None = None) -> list[str]:
    """Tiers defined by a threshold on a score, sorted."""
    return sorted(capability_catalog(directory or assumptions_dir()).tiers)


def capability_score(
    model: str, month: str, benchmark: str | None = None, directory: Path | None = None
) -> float | None:
    """The score of *model* on *benchmark* in force at *month* (None before its first record or unscored)."""
    catalog = capability_catalog(directory or assumptions_dir())
    benchmark = benchmark or catalog.tiers[DEFAULT_TIER].benchmark
    records = [r for r in catalog.scores.get(model, []) if r.benchmark == benchmark]
    record = in_force(records, month)
    return None if record is None else record.score


@dataclass(frozen=True)
class CapabilityFloor:
    """A minimum score on a benchmark; ``label`` is the tier name or ``"<benchmark> >= <score>"``."""

    label: str
    benchmark: str
    min_score: float


class ScoreMinimum(Protocol):
    """A minimum score on a named benchmark (``model.capability: {benchmark, min_score}``)."""

    @property
    def benchmark(self) -> str: ...

    @property
    def min_score(self) -> float: ...


def resolve_floor(
    floor: str | float | ScoreMinimum, directory: Path | None = None
) -> CapabilityFloor:
    """A tier name, a minimum score (on the default tier's benchmark) or a minimum score on a named
    benchmark (anything with ``benchmark`` and ``min_score``) as a :class:`CapabilityFloor`.

    Raises :class:`KeyError` naming the known tiers for an unknown name, and the known benchmarks
    for an unknown benchmark.

    Examples
    --------
    >>> resolve_floor("gpt-4-class").label
    'gpt-4-class'
    >>> resolve_floor(CapabilityFloor("", "mmlu_pro_2024_07", 60)).label
    'mmlu_pro_2024_07 >= 60'
    """
    catalog = capability_catalog(directory or assumptions_dir())
    if isinstance(floor, str):
        if floor not in catalog.tiers:
            raise KeyError(
                f"a capability tier of catalog/capability.yaml ({', '.join(sorted(catalog.tiers))}) or a minimum score"
            )
        tier = catalog.tiers[floor]
        return CapabilityFloor(floor, tier.benchmark, tier.min_score)
    if isinstance(floor, (int, float)):
        benchmark = catalog.tiers[DEFAULT_TIER].benchmark
        return CapabilityFloor(f"{benchmark} >= {floor:g}", benchmark, float(floor))
    if floor.benchmark not in catalog.benchmarks:
        raise KeyError(
            f"a benchmark of catalog/capability.yaml ({', '.join(sorted(catalog.benchmarks))})"
        )
    label = f"{floor.benchmark} >= {floor.min_score:g}"
    return CapabilityFloor(label, floor.benchmark, float(floor.min_score))


def blended_usd_per_mtok(model: str, month: str, directory: Path | None = None) -> float:
    """``(3·p_in + p_out) / 4`` of *model*'s list price in force at *month*, USD per 1M tokens."""
    p = model_price(model, month, directory)
    return INPUT_WEIGHT * p.usd_per_mtok_in + (1 - INPUT_WEIGHT) * p.usd_per_mtok_out


@dataclass(frozen=True)
class MeetingModel:
    """The cheapest catalog model meeting a floor at a month."""

    month: str
    model: str
    score: float
    usd_per_mtok_blended: float


def cheapest_meeting(
    floor: CapabilityFloor,
    month: str,
    directory: Path | None = None,
    input_share: float = INPUT_WEIGHT,
) -> MeetingModel | None:
    """The cheapest model priced and scored at least ``floor.min_score`` at *month* (None if none).

    Cheapest by list price blended ``input_share·p_in + (1 − input_share)·p_out`` (default 3:1, the
    fit's blend; a product passes its own share of input tokens).  Ties go to the model first in
    name order, so the answer is deterministic.
    """
    directory = directory or assumptions_dir()
    priced = models_catalog(directory).models
    best: MeetingModel | None = None
    for model in sorted(capability_catalog(directory).scores):
        if in_force(priced[model].prices, month) is None:
            continue
        score = capability_score(model, month, floor.benchmark, directory)
        if score is None or score < floor.min_score:
            continue
        p = model_price(model, month, directory)
        blended = input_share * p.usd_per_mtok_in + (1 - input_share) * p.usd_per_mtok_out
        if blended > 0 and (best is None or blended < best.usd_per_mtok_blended):
            best = MeetingModel(month, model, score, blended)
    return best


def change_months(directory: Path | None = None) -> list[str]:
    """Every month a price or a score of the catalog took effect, sorted."""
    directory = directory or assumptions_dir()
    months = {r.date for e in models_catalog(directory).models.values() for r in e.prices}
    months |= {r.date for records in capability_catalog(directory).scores.values() for r in records}
    return sorted(months, key=month_index)


@lru_cache(maxsize=256)
def _first_month_meeting(floor: CapabilityFloor, month: str, directory: Path) -> str | None:
    if cheapest_meeting(floor, month, directory) is not None:
        return month
    for later in change_months(directory):
        if month_index(later) > month_index(month) and cheapest_meeting(floor, later, directory):
            return later
    return None


def first_month_meeting(
    floor: CapabilityFloor, month: str, directory: Path | None = None
) -> str | None:
    """The first month at or after *month* at which some catalog model meets *floor* (None if none
    does by the catalog's last date: capability is not projected beyond the catalog).

    Prices and scores change only at :func:`change_months`, so after *month* itself only those
    months are tried.

    Examples
    --------
    >>> first_month_meeting(resolve_floor("gpt-4-class"), "2024-05")
    '2024-05'
    >>> first_month_meeting(resolve_floor("frontier-reasoning"), "2024-05")
    '2024-12'
    >>> first_month_meeting(resolve_floor(2000.0), "2024-05") is None
    True
    """
    return _first_month_meeting(floor, month, directory or assumptions_dir())
