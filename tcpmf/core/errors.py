"""Errors that tcpmf reports to its users.

Every problem with an assumption file is raised as :class:`AssumptionError`, which names the file,
the key path inside it, the offending value and what is allowed.  The CLI prints its message and
exits non-zero; library callers can catch it and read the parts as attributes.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

__all__ = ["AssumptionError", "TcpmfError", "describe_long_integer"]

MISSING = object()


class TcpmfError(Exception):
    """Base class of every error tcpmf raises on purpose."""


def _show(value: Any) -> str:
    try:
        text = repr(value)
    except ValueError:  # an integer longer than Python's limit on integer-to-text conversion
        return (
            describe_long_integer(value)
            if isinstance(value, int)
            else f"a {type(value).__name__} too large to show"
        )
    return text if len(text) <= 80 else text[:77] + "..."


def describe_long_integer(value: int) -> str:
    """Words for an integer too long to print, e.g. ``"an integer of about 5,001 digits"``."""
    digits = int(abs(value).bit_length() * 0.30103) + 1
    return f"{'a negative' if value < 0 else 'an'} integer of about {digits:,} digits"


@dataclass(eq=False)
class AssumptionError(TcpmfError):
    """A bad assumption: which file, which key, which value, and what is allowed.

    Parameters
    ----------
    file
        The file the value came from (``"<override>"`` for values set from Python).
    key_path
        Dotted path inside the file, e.g. ``"usage.dau_per_mau"``; empty for the whole file.
    allowed
        What would have been accepted, in words.
    value
        The rejected value (omitted when there is none, e.g. a missing key).
    """

    file: str
    key_path: str
    allowed: str
    value: Any = MISSING

    def __post_init__(self) -> None:
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = f"{self.file}: {self.key_path}" if self.key_path else f"{self.file}"
        if self.value is MISSING:
            return f"{where}: {self.allowed}"
        return f"{where} = {_show(self.value)}: {self.allowed}"

    def __str__(self) -> str:
        return self.message


def close_matches(name: str, names: list[str]) -> list[str]:
    """Up to five of *names* (catalog entries, schema keys) that look like *name*."""
    lowered = {n.lower(): n for n in names}
    hits = difflib.get_close_matches(name.lower(), list(lowered), n=5, cutoff=0.5)
    hits += [n for n in lowered if name.lower() in n and n not in hits][: 5 - len(hits)]
    return [lowered[h] for h in hits]
