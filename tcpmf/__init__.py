"""tcpmf — does an LLM product clear break-even at today's token prices, and when will it?

The stable API::

    import tcpmf
    s = tcpmf.load("assumptions/products/writing_assistant.yaml")
    result = tcpmf.evaluate([s, s.override({"revenue.subscription.price_usd_per_month": 15})])
    result.summary      # one row per scenario
    result.monthly      # one row per scenario x month
    tcpmf.timeline()    # TC-PMF month of each consumer category's default product

Uncertainty (inputs given as distributions; see :mod:`tcpmf.distributions`)::

    draws = tcpmf.monte_carlo("assumptions/portfolios/consumer_stages.yaml", n=10_000, seed=1)
    tcpmf.summarize(draws)                      # P(clears break-even), P10/P50/P90 per product
    tcpmf.sweep(s, {"usage.sessions_per_day": [1, 2, 4]})
    tcpmf.tornado(s, {"revenue.subscription.paid_share": (0.02, 0.05)})
    tcpmf.sobol(product, outcome="peak_funding_usd")
    tcpmf.discover(draws, outcome="clears_break_even")
    tcpmf.read_run("runs/stages")               # the draws a `tcpmf run` wrote
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from .batch import monte_carlo, summarize
from .crossover import crossover, crossover_chart
from .engine import Result, evaluate
from .errors import AssumptionError, TcpmfError
from .portfolio import Portfolio, Product, load_portfolio
from .scenario import Scenario, from_dict, load
from .timeline import timeline

if TYPE_CHECKING:  # pragma: no cover
    from .discovery import discover
    from .fit import fit_retention
    from .levers import what_it_takes
    from .runner import read_run
    from .sensitivity import sobol, sweep, tornado

try:
    __version__ = version("tcpmf")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "AssumptionError",
    "Portfolio",
    "Product",
    "Result",
    "Scenario",
    "TcpmfError",
    "__version__",
    "crossover",
    "crossover_chart",
    "discover",
    "evaluate",
    "fit_retention",
    "from_dict",
    "load",
    "load_portfolio",
    "monte_carlo",
    "read_run",
    "sobol",
    "summarize",
    "sweep",
    "timeline",
    "tornado",
    "what_it_takes",
]

# name -> module of the functions imported on first use (they need scipy or SALib, so that
# ``import tcpmf`` stays quick)
_LAZY = {
    "fit_retention": "fit",
    "what_it_takes": "levers",
    "sweep": "sensitivity",
    "tornado": "sensitivity",
    "sobol": "sensitivity",
    "discover": "discovery",
    "read_run": "runner",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'tcpmf' has no attribute {name!r}")
