"""Schema of ``catalog/capability.yaml``: benchmarks, threshold tiers and dated model scores."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from tcpmf.core.months import MONTH_PATTERN, month_index
from tcpmf.core.sections import Section

__all__ = ["CapabilityFile", "CapabilityTables"]

Month = Annotated[str, Field(pattern=MONTH_PATTERN)]


class _Benchmark(Section):
    description: str = Field(min_length=3)
    source: str = Field(min_length=3)


class _Tier(Section):
    benchmark: str
    min_score: Annotated[float, Field(allow_inf_nan=False)]
    reference: str = Field(min_length=3)
    source: str = Field(min_length=3)


class _Score(Section):
    date: Month
    benchmark: str
    score: Annotated[float, Field(allow_inf_nan=False)]
    ci95: Annotated[float, Field(ge=0)] | None = None
    leaderboard_name: str = Field(min_length=1)
    source: str = Field(min_length=3)
    note: str | None = None


class CapabilityTables(Section):
    benchmarks: dict[str, _Benchmark] = Field(min_length=1)
    tiers: dict[str, _Tier]
    scores: dict[str, list[_Score]]

    @model_validator(mode="after")
    def _consistent(self) -> CapabilityTables:
        for name, tier in self.tiers.items():
            if tier.benchmark not in self.benchmarks:
                raise ValueError(
                    f"tier {name}: benchmark {tier.benchmark!r} is not one of benchmarks: {', '.join(self.benchmarks)}"
                )
        for model, records in self.scores.items():
            for record in records:
                if record.benchmark not in self.benchmarks:
                    raise ValueError(
                        f"scores.{model}: benchmark {record.benchmark!r} is not one of benchmarks: {', '.join(self.benchmarks)}"
                    )
            for benchmark in {r.benchmark for r in records}:
                dates = [r.date for r in records if r.benchmark == benchmark]
                if dates != sorted(set(dates), key=month_index):
                    raise ValueError(
                        f"scores.{model}: records of {benchmark} must be in increasing date order, got {dates}"
                    )
        return self


class CapabilityFile(Section):
    """The file ``catalog/capability.yaml``: one top-level key, ``capability``."""

    capability: CapabilityTables
