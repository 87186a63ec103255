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

from .engine import Result, evaluate
from .errors import AssumptionError, TcpmfError
from .scenario import Scenario, from_dict, load
from .timeline import timeline

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
    "evaluate",
    "from_dict",
    "load",
    "timeline",
]
