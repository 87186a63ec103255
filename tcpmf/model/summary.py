"""What every engine of the model computes before pandas, and its one finiteness check.

The consumer engine (:mod:`tcpmf.model.engine`), deals (:mod:`tcpmf.model.deals`), a MaaS vendor
(:mod:`tcpmf.model.maas`) and the competition pass (:mod:`tcpmf.model.competition`) each return
monthly columns of shape ``(T, N)`` and a :data:`Summary` of N values per column; results become
pandas only in :class:`tcpmf.model.engine.Result`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from tcpmf.core.errors import TcpmfError

__all__ = ["Computed", "NotFinite", "Summary", "check_finite"]

#: Summary column name → ``(values, valid)``: N values, and where they are defined (``None``:
#: everywhere).  An undefined value (a month that never comes, a ratio without a denominator)
#: becomes ``<NA>`` in the pandas summary.
Summary = dict[str, tuple[NDArray[np.generic], NDArray[np.bool_] | None]]


@dataclass(frozen=True)
class Computed:
    """Monthly columns ``(T, N)``, the months inside each scenario's horizon, and the summary."""

    monthly: dict[str, NDArray[np.float64]]
    in_horizon: NDArray[np.bool_]
    summary: Summary


class NotFinite(TcpmfError):
    """A quantity that overflowed for the scenario in column ``row`` of the arrays evaluated."""

    def __init__(self, message: str, row: int) -> None:
        super().__init__(message)
        self.row = row


def check_finite(
    names: Sequence[str],
    monthly: Mapping[str, NDArray[np.float64]],
    summary: Summary,
    in_horizon: NDArray[np.bool_],
    culprits: Sequence[str] = ("cash_usd",),
) -> None:
    """Refuse a result with an infinite or NaN number, naming the scenario, the quantity and the month.

    Cash sums everything else over the months, so it is finite in every month of the horizon only
    if they are: it is checked first, and *culprits* (monthly columns, in order, ending with
    ``cash_usd``) only to name the first that overflowed.  Then every float summary column.

    Raises
    ------
    NotFinite
        With ``row``, the scenario's column in the arrays.
    """
    cash = np.isfinite(monthly["cash_usd"])
    if not (cash | ~in_horizon).all():
        for name in culprits:
            bad = ~np.isfinite(monthly[name]) & in_horizon
            if bad.any():
                month, row = (int(i[0]) for i in np.nonzero(bad))
                raise NotFinite(
                    f"scenario {names[row]!r}: {name} is not finite in month {month}; "
                    "an input is too extreme for the arithmetic (e.g. monthly_growth over a long horizon)",
                    row,
                )
    for name, (column, _) in summary.items():
        if column.dtype.kind == "f" and not np.isfinite(column).all():
            row = int(np.flatnonzero(~np.isfinite(column))[0])
            raise NotFinite(
                f"scenario {names[row]!r}: {name} is not finite; an input is too extreme", row
            )
