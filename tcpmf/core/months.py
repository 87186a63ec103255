"""Calendar months as ``YYYY-MM`` strings and the integer index used for arithmetic."""

from __future__ import annotations

import re

__all__ = ["MONTH_PATTERN", "add_months", "is_month", "month_index", "month_label"]

MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
_MONTH_RE = re.compile(MONTH_PATTERN)


def is_month(text: object) -> bool:
    """True when *text* is a ``YYYY-MM`` string."""
    return isinstance(text, str) and _MONTH_RE.match(text) is not None


def month_index(month: str) -> int:
    """Months since year 0: ``month_index("2024-06") == 2024 * 12 + 5``."""
    year, mon = month.split("-")
    return int(year) * 12 + int(mon) - 1


def month_label(index: int) -> str:
    """Inverse of :func:`month_index`."""
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def add_months(month: str, months: int) -> str:
    """``add_months("2024-11", 3) == "2025-02"``."""
    return month_label(month_index(month) + months)
