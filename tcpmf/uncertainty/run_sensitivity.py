r"""Sensitivity of a finished batch run: what its draws already tell, and what needs new evaluations.

``tcpmf report DIR --sensitivity`` adds these results to ``report.html``; :func:`run_sensitivity`
computes them.  They come from two places, and the page says which is which.

**From the stored draws** (no model evaluation; the first ``max_draws`` draws of each product):

* *rank table* — per product and uncertain input: the Spearman rank correlation of the input with
  peak funding, and P(clears break-even) among the draws whose input lies in its lowest and in its
  highest fifth (a named input such as ``model.name``: the options with the lowest and the highest
  P(clears)).  The draws carry the portfolio's rank correlations, so an input correlated with an
  influential one shares its credit: these are associations, not effects.
* *PRIM boxes* — :func:`tcpmf.uncertainty.discovery.discover` of ``clears_break_even``: the input
  ranges inside which the product clears unusually often.

**New, seeded evaluations of the portfolio** (possible only while the run's portfolio file and the
price catalog still describe the run; otherwise they are left out and the page says why):

* *tornado* — :func:`tcpmf.uncertainty.sensitivity.tornado` of peak funding: each input at its
  P10 and P90 (every option of a named input), the others nominal; :math:`1 + \sum_k |v_k|`
  evaluations per product.
* *Sobol* — :func:`tcpmf.uncertainty.sensitivity.sobol` of peak funding and of clears break-even
  (0/1), Saltelli design with ``sobol_samples`` base samples seeded with the run's seed:
  :math:`n(D + 2)` evaluations per product and outcome.  Sobol indices assume independent inputs;
  the rank correlations the run drew with are ignored there (a note says so).

Example
-------
>>> from tcpmf.uncertainty.runner import run
>>> out = run("assumptions/portfolios/consumer_stages.yaml", 200, 1, "runs/stages")
>>> sens = run_sensitivity(out, sobol_samples=8)
>>> sens.ranks.columns[:4].tolist()
['product', 'input', 'kind', 'rank_correlation_peak_funding']
>>> sens.evaluations > 0, sens.seed
(True, 1)
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tcpmf.core.errors import TcpmfError
from tcpmf.schema.distributions import Choice
from tcpmf.uncertainty.discovery import discover
from tcpmf.uncertainty.portfolio import Portfolio, load_portfolio
from tcpmf.uncertainty.runner import catalog_hash, complete_or_partial, read_first_draws
from tcpmf.uncertainty.sensitivity import sobol, tornado

__all__ = ["RANK_COLUMNS", "SOBOL_OUTCOMES", "RunSensitivity", "run_sensitivity"]

#: Draws per product read for the draw-based results by default.
MAX_DRAWS = 100_000
#: Base samples of the Sobol design by default (a power of 2).
SOBOL_SAMPLES = 512
#: The outcomes Sobol indices are computed for.
SOBOL_OUTCOMES = ("peak_funding_usd", "clears_break_even")
#: Share of a product's draws in each tail of the rank table.
TAIL = 0.2
RANK_COLUMNS = (
    "product",
    "input",
    "kind",
    "rank_correlation_peak_funding",
    "low_group",
    "p_clears_low",
    "draws_low",
    "high_group",
    "p_clears_high",
    "draws_high",
)


@dataclass(frozen=True)
class RunSensitivity:
    """What :func:`run_sensitivity` found (see the module docstring)."""

    out: Path
    #: draws per product the draw-based results read, and the run's draws per product
    draws_used: int
    draws_total: int
    #: one row per product × uncertain input: :data:`RANK_COLUMNS`
    ranks: pd.DataFrame
    #: :class:`tcpmf.Discovery` tables of ``clears_break_even``: one row per product / per restricted input
    boxes: pd.DataFrame
    limits: pd.DataFrame
    #: :func:`tcpmf.tornado` of peak funding and :func:`tcpmf.sobol` of :data:`SOBOL_OUTCOMES`, or
    #: ``None`` when the portfolio could not be evaluated again (see *notes*)
    tornado: pd.DataFrame | None
    sobol: pd.DataFrame | None
    #: model evaluations run for tornado and Sobol (0 if none), the Sobol design's size and seed
    evaluations: int
    sobol_samples: int
    seed: int
    notes: list[str] = field(default_factory=list)


def _fifth_rows(
    product: str, key: str, x: pd.Series, clears: np.ndarray, funding: np.ndarray
) -> dict[str, Any]:
    """The rank-table row of one input (see the module docstring)."""
    row: dict[str, Any] = {"product": product, "input": key}
    if pd.api.types.is_numeric_dtype(x) and not pd.api.types.is_bool_dtype(x):
        values = x.to_numpy(dtype=float, na_value=np.nan)
        known = ~np.isnan(values) & ~np.isnan(funding)
        rho = math.nan
        if known.sum() > 2 and np.ptp(values[known]) > 0 and np.ptp(funding[known]) > 0:
            ranks = pd.DataFrame({"x": values[known], "y": funding[known]}).rank()
            rho = float(np.corrcoef(ranks["x"], ranks["y"])[0, 1])
        low_cut, high_cut = np.nanquantile(values, [TAIL, 1 - TAIL])
        low, high = values <= low_cut, values >= high_cut
        row |= {
            "kind": "numeric",
            "rank_correlation_peak_funding": rho,
            "low_group": f"≤ {low_cut:.4g} (lowest fifth)",
            "high_group": f"≥ {high_cut:.4g} (highest fifth)",
        }
    else:
        names = x.astype("string").to_numpy(dtype=object, na_value="")
        shares = {str(o): float(clears[names == o].mean()) for o in pd.unique(names)}
        worst, best = min(shares, key=lambda o: shares[o]), max(shares, key=lambda o: shares[o])
        low, high = names == worst, names == best
        row |= {
            "kind": "named",
            "rank_correlation_peak_funding": math.nan,
            "low_group": worst,
            "high_group": best,
        }
    row |= {
        "p_clears_low": float(clears[low].mean()) if low.any() else math.nan,
        "draws_low": int(low.sum()),
        "p_clears_high": float(clears[high].mean()) if high.any() else math.nan,
        "draws_high": int(high.sum()),
    }
    return row


def rank_table(draws: pd.DataFrame, keys_by_product: dict[str, list[str]]) -> pd.DataFrame:
    """The rank table of the module docstring from *draws* (a run's columns), sorted within each
    product by the gap between P(clears) in the high and the low group, largest first."""
    rows = []
    for product, keys in keys_by_product.items():
        frame = draws[draws["product"] == product]
        if frame.empty:
            continue
        clears = frame["clears_break_even"].to_numpy(dtype=float, na_value=np.nan)
        funding = frame["peak_funding_usd"].to_numpy(dtype=float, na_value=np.nan)
        block = [
            _fifth_rows(product, key, frame[key], clears, funding) for key in keys if key in frame
        ]
        block.sort(
            key=lambda r: (
                -abs(r["p_clears_high"] - r["p_clears_low"])
                if not math.isnan(r["p_clears_high"] - r["p_clears_low"])
                else math.inf
            )
        )
        rows += block
    return pd.DataFrame(rows, columns=list(RANK_COLUMNS))


def _evaluable(manifest: dict[str, Any]) -> tuple[Portfolio | None, str]:
    """The run's portfolio, loaded again, if it still describes the run; else why not."""
    file = manifest.get("portfolio_file")
    if not isinstance(file, str) or not Path(file).is_file():
        return None, "the run's portfolio file is no longer there"
    try:
        portfolio = load_portfolio(file)
    except TcpmfError as exc:
        return None, f"the run's portfolio file no longer loads ({exc})"
    if portfolio.spec_hash() != manifest.get("spec_hash"):
        return None, "the run's portfolio file has changed since the run"
    if catalog_hash() != manifest.get("catalog_hash"):
        return None, "the price catalog has changed since the run"
    return portfolio, ""


def _caught(notes: list[str], call: Any, *args: Any, **kwargs: Any) -> Any:
    """*call* with its warnings kept as notes (once each) instead of printed."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call(*args, **kwargs)
    for w in caught:
        if str(w.message) not in notes:
            notes.append(str(w.message))
    return result


def _tornado_evaluations(portfolio: Portfolio) -> int:
    count = 0
    for p in portfolio.products:
        count += 1 + sum(
            2 if d.numeric else len(d.options) if isinstance(d, Choice) else 1
            for d in p.uncertainties.values()
        )
    return count


def run_sensitivity(
    out: str | Path,
    *,
    max_draws: int = MAX_DRAWS,
    sobol_samples: int = SOBOL_SAMPLES,
    evaluate: bool = True,
    partial: bool = False,
) -> RunSensitivity:
    """Sensitivity results of the run in *out* (see the module docstring).

    Parameters
    ----------
    out
        The ``--out`` folder of a ``tcpmf run``.
    max_draws
        Draws per product read for the rank table and the PRIM boxes (the first ones).
    sobol_samples
        Base samples of the Sobol design, a power of 2.
    evaluate
        Run the tornado and the Sobol design (new model evaluations); ``False`` keeps to the draws.
    partial
        Accept an unfinished run (its chunks so far).
    """
    if isinstance(max_draws, bool) or not isinstance(max_draws, int) or max_draws < 10:
        raise TcpmfError(f"max_draws must be a whole number of at least 10 (got {max_draws!r})")
    if (
        isinstance(sobol_samples, bool)
        or not isinstance(sobol_samples, int)
        or sobol_samples < 2
        or sobol_samples & (sobol_samples - 1)
    ):
        raise TcpmfError(
            f"the Sobol base sample count must be a power of 2 of at least 2 (got {sobol_samples!r})"
        )
    out = Path(out)
    status = complete_or_partial(out, partial)
    manifest = status.manifest
    seed = int(manifest["seed"])
    keys = {str(p["name"]): sorted(p["uncertain"]) for p in manifest["spec"]["products"]}
    draws = read_first_draws(out, max_draws, partial=partial)
    notes: list[str] = []
    ranks = rank_table(draws, keys)
    boxes, limits = [], []
    for product, product_keys in keys.items():
        frame = draws[draws["product"] == product]
        if frame.empty or not product_keys:
            continue
        found = _caught(
            notes, discover, frame.reset_index(drop=True), "clears_break_even", product_keys
        )
        boxes.append(found.boxes)
        limits.append(found.limits[found.limits["restricted"]])
    tornado_table = sobol_table = None
    evaluations = 0
    if evaluate:
        portfolio, why = _evaluable(manifest)
        if portfolio is None:
            notes.append(
                f"Tornado and Sobol need new evaluations of the portfolio; left out because {why}."
            )
        else:
            tornado_table = tornado(portfolio, outcome="peak_funding_usd")
            sobol_table = pd.concat(
                [
                    _caught(notes, sobol, portfolio, outcome=o, n=sobol_samples, seed=seed)
                    for o in SOBOL_OUTCOMES
                ],
                ignore_index=True,
            )
            dims = [len(p.uncertainties) for p in portfolio.products]
            evaluations = _tornado_evaluations(portfolio) + len(SOBOL_OUTCOMES) * sum(
                sobol_samples * (d + 2) for d in dims
            )
    return RunSensitivity(
        out=out,
        draws_used=int(draws["product"].value_counts().max()) if len(draws) else 0,
        draws_total=int(manifest["samples"]),
        ranks=ranks,
        boxes=pd.concat(boxes, ignore_index=True) if boxes else pd.DataFrame(),
        limits=pd.concat(limits, ignore_index=True) if limits else pd.DataFrame(),
        tornado=tornado_table,
        sobol=sobol_table,
        evaluations=evaluations,
        sobol_samples=sobol_samples,
        seed=seed,
        notes=notes,
    )
