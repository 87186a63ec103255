"""The TC-PMF timeline: when each consumer category's default product reaches TC-PMF.

Kai-Fu Lee's prediction (BAAI Conference, June 2024) is that consumer LLM apps arrive in stages as inference gets
cheaper: productivity, then entertainment, then search, then e-commerce, then social and short
video.  :func:`timeline` evaluates the default product of each category (the files in
``assumptions/categories/``) as its token prices fall and reports the month its contribution per
user reaches the target margin, next to the predicted stage.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tcpmf.core.yamlio import assumptions_dir
from tcpmf.model.engine import evaluate
from tcpmf.schema.scenario import TOC_CATEGORIES, Scenario, load

__all__ = ["PREDICTED_STAGE", "category_defaults", "timeline"]

#: Stage of each consumer category in the six-stage prediction (social and short video share one).
PREDICTED_STAGE = {
    "productivity": 1,
    "entertainment": 2,
    "search": 3,
    "ecommerce": 4,
    "social": 5,
    "short_video": 5,
}


def category_defaults(directory: str | Path | None = None) -> list[Scenario]:
    """The default product of each consumer category, in stage order."""
    folder = Path(directory) if directory is not None else assumptions_dir() / "categories"
    return [load(folder / f"{category}.yaml") for category in TOC_CATEGORIES]


def timeline(
    annual_cost_decline: float | None = None,
    horizon_months: int = 120,
    model: str | None = None,
    directory: str | Path | None = None,
) -> pd.DataFrame:
    """TC-PMF month of each consumer category's default product, side by side.

    Parameters
    ----------
    annual_cost_decline
        Override every category's decline factor (e.g. 10 for "ten times cheaper a year").
    horizon_months
        How far ahead to look; a category that does not reach TC-PMF by then shows ``<NA>``.
    model
        Put every category on this catalog model (API route), to compare categories at one
        capability level as its price falls — the comparison the six-stage prediction is about.
        By default each category keeps its own model.
    directory
        A folder of category files named after the categories; default the bundled ones.

    Returns
    -------
    pandas.DataFrame
        One row per category, in predicted stage order, with ``category``, ``predicted_stage``,
        ``scenario``, ``model``, ``start_month``, ``contribution_usd_per_mau_m0``,
        ``usd_per_mtok_blended_m0``, ``max_affordable_usd_per_mtok``, ``tcpmf_month`` and
        ``tcpmf_calendar_month``.
    """
    overrides: dict[str, object] = {"horizon_months": horizon_months}
    if annual_cost_decline is not None:
        overrides["model.annual_cost_decline"] = annual_cost_decline
    if model is not None:
        overrides.update({"model.route": "api", "model.name": model, "model.self_host": None,
                          "model.usd_per_mtok_in": None, "model.usd_per_mtok_out": None, "model.routes": None})
    scenarios = [s.override(overrides) for s in category_defaults(directory)]
    summary = evaluate(scenarios).summary
    frame = pd.DataFrame(
        {
            "category": [s.category for s in scenarios],
            "predicted_stage": [PREDICTED_STAGE[s.category] for s in scenarios],
            "scenario": summary["scenario"],
            "model": [s.model.name for s in scenarios],
            "start_month": [s.start_month for s in scenarios],
        }
    )
    columns = [
        "contribution_usd_per_mau_m0",
        "usd_per_mtok_blended_m0",
        "max_affordable_usd_per_mtok",
        "tcpmf_month",
        "tcpmf_calendar_month",
    ]
    return pd.concat([frame, summary[columns]], axis=1)
