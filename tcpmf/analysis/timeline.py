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

from tcpmf.core.errors import TcpmfError
from tcpmf.core.yamlio import assumptions_dir
from tcpmf.model.engine import evaluate
from tcpmf.schema.scenario import TOC_CATEGORIES, Scenario, load

__all__ = ["COMPETITION_TIMELINE_COLUMNS", "PREDICTED_STAGE", "TIMELINE_VIEWS", "category_defaults", "timeline"]

#: Assumption sets of :func:`timeline`: ``data`` the sourced category defaults
#: (``assumptions/categories``), ``lee`` Kai-Fu Lee's argument (``assumptions/views/lee``: one model
#: for every category, usage intensity and monetization delay rising by stage, every number assumed),
#: ``competition`` the sourced defaults when an incumbent copies them after TC-PMF (``assumptions/competition``).
TIMELINE_VIEWS = ("data", "lee", "competition")
_VIEW_FOLDERS = {"data": "categories", "lee": "views/lee", "competition": "competition"}
#: Columns a timeline gains when its category files have a ``competition`` section (docs/model.md §6.2).
COMPETITION_TIMELINE_COLUMNS = ("entry_month", "window_months", "active_users_at_entry", "cash_usd_at_entry",
                                "moat_offset", "survives_entry", "payback_month", "payback_month_without_competition")

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
    if not folder.is_dir():
        raise TcpmfError(f"{folder}: no such folder of category files")
    return [load(folder / f"{category}.yaml") for category in TOC_CATEGORIES]


def timeline(
    annual_cost_decline: float | None = None,
    horizon_months: int = 120,
    model: str | None = None,
    directory: str | Path | None = None,
    view: str = "data",
) -> pd.DataFrame:
    """TC-PMF month of each consumer category's default product, side by side, explained.

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
        A folder of category files named after the categories; default the folder of *view*.
    view
        ``"data"`` (the sourced category defaults), ``"lee"`` (Kai-Fu Lee's argument as an
        assumption set: ``assumptions/views/lee``) or ``"competition"`` (the category defaults
        when an incumbent copies them after TC-PMF: ``assumptions/competition``; the frame then
        also has :data:`COMPETITION_TIMELINE_COLUMNS`, with ``payback_month`` and
        ``peak_funding_usd`` under competition).

    Returns
    -------
    pandas.DataFrame
        One row per category, in predicted stage order.  The contract columns: ``category``,
        ``stage``, ``capability_floor`` (the model that sets the capability: a named model),
        ``model_by_month`` (``{first month: model}``), ``revenue_usd_per_mau`` (at full
        monetization), ``tokens_per_mau``, ``affordable_usd_per_mtok`` (the blended price per 1M
        tokens that revenue pays for at the target margin), ``tcpmf_month`` (unit),
        ``company_tcpmf_month`` (cash paid back) and ``binding_constraint`` (a sentence); then
        ``view``, ``predicted_stage``, ``scenario``, ``model``, ``start_month``,
        ``contribution_usd_per_mau_m0``, ``usd_per_mtok_blended_m0``,
        ``max_affordable_usd_per_mtok``, ``tcpmf_calendar_month``, ``peak_funding_usd``,
        ``annual_cost_decline`` and ``full_revenue_tcpmf_month`` (unit TC-PMF if every stream
        earned its full value from month 0).
    """
    if view not in TIMELINE_VIEWS:
        raise TcpmfError(f"timeline view {view!r} is unknown; choose one of {', '.join(TIMELINE_VIEWS)}")
    if directory is None:
        directory = assumptions_dir() / _VIEW_FOLDERS[view]
    overrides: dict[str, object] = {"horizon_months": horizon_months}
    if annual_cost_decline is not None:
        overrides["model.annual_cost_decline"] = annual_cost_decline
    if model is not None:
        overrides.update({"model.route": "api", "model.name": model, "model.self_host": None,
                          "model.usd_per_mtok_in": None, "model.usd_per_mtok_out": None, "model.routes": None})
    scenarios = [s.override(overrides) for s in category_defaults(directory)]
    result = evaluate(scenarios)
    summary = result.summary
    full = evaluate([_full_revenue(s) for s in scenarios]).summary  # every stream from month 0
    frame = pd.DataFrame(
        {
            "category": [s.category for s in scenarios],
            "stage": [PREDICTED_STAGE[s.category] for s in scenarios],
            "capability_floor": [_model_label(s) for s in scenarios],
            "model_by_month": [{"0": _model_label(s)} for s in scenarios],
            "revenue_usd_per_mau": full["arpu_usd_m0"],
            "tokens_per_mau": summary["tokens_per_mau"],
            "affordable_usd_per_mtok": summary["max_affordable_usd_per_mtok"],
            "tcpmf_month": summary["tcpmf_month"],
            "company_tcpmf_month": summary["company_tcpmf_month"],
            "binding_constraint": pd.array(
                [_binding_constraint(s, row, full_row, decline)
                 for s, (_, row), (_, full_row), decline in zip(
                     scenarios, summary.iterrows(), full.iterrows(), result.arrays.annual_cost_decline)],
                dtype="string",
            ),
            "view": view,
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
        "tcpmf_calendar_month",
        "peak_funding_usd",
    ]
    frame = pd.concat([frame, summary[columns]], axis=1)
    frame["annual_cost_decline"] = result.arrays.annual_cost_decline
    frame["full_revenue_tcpmf_month"] = full["tcpmf_month"]
    if "entry_month" in summary.columns:  # an incumbent enters: the window and whether the product survives it
        frame = pd.concat([frame, summary[list(COMPETITION_TIMELINE_COLUMNS)]], axis=1)
    return frame


def _model_label(s: Scenario) -> str:
    if s.model.routes:
        return " + ".join(f"{r.share:.0%} {r.name or 'self-host'}" for r in s.model.routes)
    return str(s.model.name) if s.model.route == "api" else f"self-hosted {s.model.name or 'model'}"


def _full_revenue(s: Scenario) -> Scenario:
    """*s* with every revenue stream earning its full value from month 0."""
    changes: dict[str, object] = {
        f"revenue.{stream}.monetization": None
        for stream in ("subscription", "ads", "usage", "commerce")
        if getattr(s.revenue, stream) is not None
    }
    return s.override(changes) if changes else s


def _binding_constraint(s: Scenario, row: pd.Series, full: pd.Series, decline: float) -> str:
    """What decides the category's TC-PMF month, in one sentence."""
    price, afford = row["usd_per_mtok_blended_m0"], row["max_affordable_usd_per_mtok"]
    revenue, tokens = full["arpu_usd_m0"], row["tokens_per_mau"]
    unit, unit_full, company = row["tcpmf_month"], full["tcpmf_month"], row["company_tcpmf_month"]
    model = _model_label(s)
    horizon = s.horizon_months
    if pd.isna(afford):
        text = (f"revenue: ${revenue:.2f} per MAU a month does not meet the target margin even with free tokens "
                f"({tokens / 1e3:,.0f}k tokens per MAU)")
    elif pd.isna(unit_full):
        text = (f"token price: {model} at ${price:.2f} per 1M tokens does not fall to the affordable "
                f"${afford:.2f} (${revenue:.2f} per MAU over {tokens / 1e3:,.0f}k tokens) within {horizon} months "
                f"at {decline:g}x cheaper a year")
    elif pd.isna(unit):
        text = (f"monetization: at full revenue tokens would be affordable from month {unit_full}, but the "
                f"delayed revenue does not reach the target within {horizon} months")
    elif unit > unit_full:
        text = (f"monetization: tokens are affordable from month {unit_full} (${afford:.2f} per 1M for "
                f"${revenue:.2f} per MAU over {tokens / 1e3:,.0f}k tokens), but the revenue starts late and "
                f"ramps, so unit TC-PMF waits until month {unit}")
    elif unit == 0:
        text = (f"none at the unit level: {model} at ${price:.2f} per 1M tokens is already below the affordable "
                f"${afford:.2f} (${revenue:.2f} per MAU over {tokens / 1e3:,.0f}k tokens)")
    else:
        text = (f"token price: {model} at ${price:.2f} per 1M tokens must fall to the affordable ${afford:.2f} "
                f"(${revenue:.2f} per MAU over {tokens / 1e3:,.0f}k tokens), which takes {unit} months at "
                f"{decline:g}x cheaper a year")
    if pd.isna(company):
        text += (f"; the company does not pay back within {horizon} months "
                 f"(peak funding ${row['peak_funding_usd'] / 1e6:,.1f}M)")
    else:
        text += f"; cash pays back in month {company}"
    return text + "."
