"""Field types and the strict section base shared by the scenario schema and its ToB sections."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Section", "Share", "Usd", "UsdPerUnit"]

Share = Annotated[float, Field(ge=0, le=1)]
Usd = Annotated[float, Field(ge=0, le=1e12)]
UsdPerUnit = Annotated[float, Field(ge=0, le=1e6)]


class Section(BaseModel):
    """A strict, immutable part of a scenario or a catalog file: unknown keys, NaN, infinities and type
    coercion are errors. Every section of every schema derives from it."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)
