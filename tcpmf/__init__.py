"""tcpmf — does an LLM product clear break-even at today's token prices, and when will it?

The stable API::

    import tcpmf
    s = tcpmf.load("assumptions/products/writing_assistant.yaml")
    result = tcpmf.evaluate([s, s.override({"revenue.subscription.price_usd_per_month": 15})])
    result.summary      # one row per scenario
    result.monthly      # one row per scenario x month
    tcpmf.timeline()    # TC-PMF month of each consumer category's default product

Uncertainty (inputs given as distributions; see :mod:`tcpmf.schema.distributions`)::

    draws = tcpmf.monte_carlo("assumptions/portfolios/consumer_stages.yaml", n=10_000, seed=1)
    tcpmf.summarize(draws)                      # P(clears break-even), P10/P50/P90 per product
    tcpmf.sweep(s, {"usage.sessions_per_day": [1, 2, 4]})
    tcpmf.tornado(s, {"revenue.subscription.paid_share": (0.02, 0.05)})
    tcpmf.sobol(product, outcome="peak_funding_usd")
    tcpmf.discover(draws, outcome="clears_break_even")
    tcpmf.read_run("runs/stages")               # the draws a `tcpmf run` wrote
    tcpmf.compare_runs("runs/base", "runs/variant")  # B - A per product, paired intervals
    tcpmf.run_sensitivity("runs/stages")        # rank table and PRIM boxes from a run, tornado and Sobol

Every public name is imported on first use, so ``import tcpmf`` is quick and a name that needs an
optional extra (SALib for ``sobol``, pyarrow for ``read_run``) asks for it only when called.
The layers behind these names, and what may import what, are in ``docs/architecture.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tcpmf.core.version import package_version

if TYPE_CHECKING:  # pragma: no cover
    from tcpmf.analysis.crossover import crossover, crossover_chart
    from tcpmf.analysis.levers import what_it_takes
    from tcpmf.analysis.retention_fit import fit_retention
    from tcpmf.analysis.timeline import timeline
    from tcpmf.analysis.verdict_notes import verdict_notes
    from tcpmf.core.errors import AssumptionError, TcpmfError
    from tcpmf.model.engine import Result, evaluate
    from tcpmf.schema.scenario import Scenario, from_dict, load
    from tcpmf.uncertainty.batch import monte_carlo, summarize
    from tcpmf.uncertainty.compare import compare_runs
    from tcpmf.uncertainty.discovery import discover
    from tcpmf.uncertainty.portfolio import Analysable, Portfolio, Product, load_portfolio
    from tcpmf.uncertainty.run_sensitivity import run_sensitivity
    from tcpmf.uncertainty.runner import read_run
    from tcpmf.uncertainty.sensitivity import sobol, sweep, tornado

__version__ = package_version()

#: public name -> the module that defines it
_HOMES = {
    "Analysable": "tcpmf.uncertainty.portfolio",
    "AssumptionError": "tcpmf.core.errors",
    "Portfolio": "tcpmf.uncertainty.portfolio",
    "Product": "tcpmf.uncertainty.portfolio",
    "Result": "tcpmf.model.engine",
    "Scenario": "tcpmf.schema.scenario",
    "TcpmfError": "tcpmf.core.errors",
    "compare_runs": "tcpmf.uncertainty.compare",
    "crossover": "tcpmf.analysis.crossover",
    "crossover_chart": "tcpmf.analysis.crossover",
    "discover": "tcpmf.uncertainty.discovery",
    "evaluate": "tcpmf.model.engine",
    "fit_retention": "tcpmf.analysis.retention_fit",
    "from_dict": "tcpmf.schema.scenario",
    "load": "tcpmf.schema.scenario",
    "load_portfolio": "tcpmf.uncertainty.portfolio",
    "monte_carlo": "tcpmf.uncertainty.batch",
    "read_run": "tcpmf.uncertainty.runner",
    "run_sensitivity": "tcpmf.uncertainty.run_sensitivity",
    "sobol": "tcpmf.uncertainty.sensitivity",
    "summarize": "tcpmf.uncertainty.batch",
    "sweep": "tcpmf.uncertainty.sensitivity",
    "timeline": "tcpmf.analysis.timeline",
    "tornado": "tcpmf.uncertainty.sensitivity",
    "verdict_notes": "tcpmf.analysis.verdict_notes",
    "what_it_takes": "tcpmf.analysis.levers",
}

__all__ = [
    "Analysable",
    "AssumptionError",
    "Portfolio",
    "Product",
    "Result",
    "Scenario",
    "TcpmfError",
    "__version__",
    "compare_runs",
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
    "run_sensitivity",
    "sobol",
    "summarize",
    "sweep",
    "timeline",
    "tornado",
    "verdict_notes",
    "what_it_takes",
]


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        from tcpmf.core.extras import import_optional

        value = getattr(import_optional(_HOMES[name], f"tcpmf.{name}"), name)
        globals()[name] = value  # imported once
        return value
    raise AttributeError(f"module 'tcpmf' has no attribute {name!r}")


def __dir__() -> list[str]:
    return list(__all__)
