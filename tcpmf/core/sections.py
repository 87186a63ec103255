"""Field types and the strict section base shared by the scenario schema and its ToB sections."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["SMALLEST_NONZERO", "Section", "Share", "Usd", "UsdPerUnit"]

Share = Annotated[float, Field(ge=0, le=1)]
Usd = Annotated[float, Field(ge=0, le=1e12)]
UsdPerUnit = Annotated[float, Field(ge=0, le=1e6)]

#: The smallest size a number other than 0 may have in any section.  Smaller ones (5e-324, 1e-300)
#: mean "none" in practice but overflow the arithmetic once divided by (a seat price, a throughput,
#: sessions per day): they are refused naming their key, and 0 is the way to write "none".
SMALLEST_NONZERO = 1e-100


def _has_vanishing_number(value: Any) -> bool:
    """Whether *value* (a number, or a list or mapping of them) holds a number in (0, SMALLEST_NONZERO)."""
    if isinstance(value, float):
        return 0.0 < abs(value) < SMALLEST_NONZERO
    if isinstance(value, (list, tuple)):
        return any(_has_vanishing_number(v) for v in value)
    if isinstance(value, dict):
        return any(_has_vanishing_number(v) for v in value.values())
    return False


class Section(BaseModel):
    """A strict, immutable part of a scenario or a catalog file: unknown keys, NaN, infinities, type
    coercion and numbers closer to 0 than :data:`SMALLEST_NONZERO` (other than 0) are errors. Every
    section of every schema derives from it."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)

    @field_validator("*", mode="after")
    @classmethod
    def _refuse_vanishing_numbers(cls, value: Any) -> Any:
        if _has_vanishing_number(value):
            raise ValueError(
                f"0, or a number of at least {SMALLEST_NONZERO:g} in size (a smaller one is 0 in "
                "practice but overflows the arithmetic: write 0 for none)"
            )
        return value
