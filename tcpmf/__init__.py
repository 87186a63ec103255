"""tcpmf — does an LLM product clear break-even at today's token prices, and when will it?

The stable API::

    import tcpmf
    s = tcpmf.load("assumptions/products/writing_assistant.yaml")
    result = tcpmf.evaluate([s, s.override({"revenue.subscription.price_usd_per_month": 15})])
    result.summary      # one row per scenario
    result.monthly      # one row per scenario x month
    tcpmf.timeline()    # TC-PMF month of each consumer category's default product
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from .crossover import crossover, crossover_chart
from .engine import Result, evaluate
from .errors import AssumptionError, TcpmfError
from .scenario import Scenario, from_dict, load
from .timeline import timeline

if TYPE_CHECKING:  # pragma: no cover
    from .fit import fit_retention
    from .levers import what_it_takes

try:
    __version__ = version("tcpmf")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "AssumptionError",
    "Result",
    "Scenario",
    "TcpmfError",
    "__version__",
    "crossover",
    "crossover_chart",
    "evaluate",
    "fit_retention",
    "from_dict",
    "load",
    "timeline",
    "what_it_takes",
]


def __getattr__(name: str) -> Any:
    # fit_retention needs scipy; import it on first use so that ``import tcpmf`` stays quick.
    if name == "fit_retention":
        from .fit import fit_retention

        return fit_retention
    if name == "what_it_takes":  # needs scipy too
        from .levers import what_it_takes

        return what_it_takes
    raise AttributeError(f"module 'tcpmf' has no attribute {name!r}")
