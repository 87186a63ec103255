"""Field types and the strict section base shared by the scenario schema and its ToB sections."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Share", "Usd", "UsdPerUnit", "_Section"]

Share = Annotated[float, Field(ge=0, le=1)]
Usd = Annotated[float, Field(ge=0, le=1e12)]
UsdPerUnit = Annotated[float, Field(ge=0, le=1e6)]


class _Section(BaseModel):
    """A strict, immutable part of a scenario: unknown keys, NaN and type coercion are errors."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)
