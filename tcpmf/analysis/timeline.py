"""The TC-PMF timeline: when each consumer category's default product reaches TC-PMF.

Kai-Fu Lee's prediction (BAAI Conference, June 2024) is that consumer LLM apps arrive in stages as inference gets
cheaper: productivity, then entertainment, then search, then e-commerce, then social and short
video.  :func:`timeline` evaluates the default product of each category (the files in
``assumptions/categories/``) as its token prices fall and reports the month its contribution per
user reaches the target margin, next to the predicted stage.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tcpmf.catalog.capability import resolve_floor
from tcpmf.core.errors import TcpmfError
from tcpmf.core.yamlio import assumptions_dir
from tcpmf.model.engine import evaluate
from tcpmf.model.price_path import api_model_path
from tcpmf.schema.scenario import TOC_CATEGORIES, Scenario, load

__all__ = [
    "COMPETITION_TIMELINE_COLUMNS",
    "DATA_VIEW_FLOOR",
    "PREDICTED_STAGE",
    "TIMELINE_VIEWS",
    "category_defaults",
    "compare_views",
    "timeline",
]

#: The capability floor of every category in the ``data`` view: the tier of GPT-4o, the model of the
#: productivity default and of Lee's talk month, so categories differ only in what they need of it.
DATA_VIEW_FLOOR = "gpt-4-class"

#: Assumption sets of :func:`timeline`: ``data`` the sourced category defaults
#: (``assumptions/categories``), ``lee`` Kai-Fu Lee's argument (``assumptions/views/lee``: one model
#: for every category, usage intensity and monetization delay rising by stage, every number assumed),
#: ``competition`` the sourced defaults when an incumbent copies them after TC-PMF (``assumptions/competition``).
TIMELINE_VIEWS = ("data", "lee", "competition")
_VIEW_FOLDERS = {"data": "categories", "lee": "views/lee", "competition": "competition"}
#: Columns a timeline gains when its category files have a ``competition`` section (docs/model.md §6.2).
COMPETITION_TIMELINE_COLUMNS = (
    "entry_month",
    "window_months",
    "active_users_at_entry",
    "cash_usd_at_entry",
    "moat_offset",
    "survives_entry",
    "payback_month",
    "payback_month_without_competition",
)

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
    capability: str | float | Mapping[str, object] | None = None,
    price_path: str | None = None,
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
    capability
        Put every category on this capability floor (a tier of ``catalog/capability.yaml``, a
        minimum score on the tiers' benchmark, or ``{"benchmark": ..., "min_score": ...}`` on
        another of its benchmarks): the cheapest catalog model meeting it each month (``price_path:
        hindsight``).  Default: :data:`DATA_VIEW_FLOOR` in the ``data`` and ``competition``
        views, so categories are compared like for like; none in the ``lee`` view (its files
        name one model for all).  Ignored when *model* is given.
    price_path
        ``"hindsight"`` (the default with a floor: the dated catalog, then the decline) or
        ``"projected"`` (the start price falling by the decline from month 0); default: each
        scenario's own (a named model's file keeps its path).

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
        ``annual_cost_decline``, ``full_revenue_tcpmf_month`` and
        ``full_revenue_company_tcpmf_month`` (unit and company TC-PMF if every stream earned its
        full value from month 0: where either is earlier than its counterpart, the monetization
        delay binds and ``binding_constraint`` says so).
    """
    if view not in TIMELINE_VIEWS:
        raise TcpmfError(
            f"timeline view {view!r} is unknown; choose one of {', '.join(TIMELINE_VIEWS)}"
        )
    if directory is None:
        directory = assumptions_dir() / _VIEW_FOLDERS[view]
    overrides: dict[str, object] = {"horizon_months": horizon_months}
    if annual_cost_decline is not None:
        overrides["model.annual_cost_decline"] = annual_cost_decline
    if capability is None and model is None and view in ("data", "competition"):
        capability = DATA_VIEW_FLOOR
    if model is not None:
        overrides.update(
            {
                "model.route": "api",
                "model.name": model,
                "model.self_host": None,
                "model.usd_per_mtok_in": None,
                "model.usd_per_mtok_out": None,
                "model.routes": None,
                "model.capability": None,
            }
        )
    elif capability is not None:
        overrides.update(
            {
                "model.route": "api",
                "model.name": None,
                "model.capability": capability,
                "model.self_host": None,
                "model.usd_per_mtok_in": None,
                "model.usd_per_mtok_out": None,
                "model.routes": None,
            }
        )
    if price_path is not None:
        overrides["model.price_path"] = price_path
    scenarios = [s.override(overrides) for s in category_defaults(directory)]
    result = evaluate(scenarios)
    summary = result.summary
    full = evaluate([_full_revenue(s) for s in scenarios]).summary  # every stream from month 0
    frame = pd.DataFrame(
        {
            "category": [s.category for s in scenarios],
            "stage": [PREDICTED_STAGE[s.category] for s in scenarios],
            "capability_floor": [_floor_label(s) for s in scenarios],
            "model_by_month": [_model_by_month(s) for s in scenarios],
            "revenue_usd_per_mau": full["arpu_usd_m0"],
            "tokens_per_mau": summary["tokens_per_mau"],
            "affordable_usd_per_mtok": summary["max_affordable_usd_per_mtok"],
            "tcpmf_month": summary["tcpmf_month"],
            "company_tcpmf_month": summary["company_tcpmf_month"],
            "binding_constraint": pd.array(
                [
                    _binding_constraint(s, row, full_row, decline)
                    for s, (_, row), (_, full_row), decline in zip(
                        scenarios,
                        summary.iterrows(),
                        full.iterrows(),
                        result.arrays.annual_cost_decline,
                    )
                ],
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
    frame["full_revenue_company_tcpmf_month"] = full["company_tcpmf_month"]
    if (
        "entry_month" in summary.columns
    ):  # an incumbent enters: the window and whether the product survives it
        frame = pd.concat([frame, summary[list(COMPETITION_TIMELINE_COLUMNS)]], axis=1)
    return frame


def _floor_label(s: Scenario) -> str:
    """The capability floor: its tier or minimum score, else the named model that sets it."""
    if s.model.capability is not None:
        return resolve_floor(s.model.capability).label
    return _model_label(s)


def _model_by_month(s: Scenario) -> dict[str, str]:
    """``{month: model}`` at month 0 and at each month the model meeting the floor changes."""
    if s.model.capability is None or s.model.price_path != "hindsight":
        return {"0": _model_label(s)}
    out: dict[str, str] = {}
    for t, name in enumerate(api_model_path(s, s.horizon_months)):
        if name is not None and (not out or list(out.values())[-1] != name):
            out[str(t)] = name  # from the launch month: none meets the floor before
    return out


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
    unit, unit_full = row["tcpmf_month"], full["tcpmf_month"]
    model = _model_label(s)
    horizon = s.horizon_months
    if pd.isna(afford):
        text = (
            f"revenue: ${revenue:.2f} per MAU a month does not meet the target margin even with free tokens "
            f"({tokens / 1e3:,.0f}k tokens per MAU)"
        )
    elif pd.isna(unit_full):
        path = "along the dated catalog, then " if s.model.price_path == "hindsight" else "at "
        text = (
            f"token price: {model} at ${price:.2f} per 1M tokens does not fall to the affordable "
            f"${afford:.2f} (${revenue:.2f} per MAU over {tokens / 1e3:,.0f}k tokens) within {horizon} months "
            f"{path}{decline:g}x cheaper a year"
        )
    elif pd.isna(unit):
        text = (
            f"monetization: at full revenue tokens would be affordable from month {unit_full}, but the "
            f"delayed revenue does not reach the target within {horizon} months"
        )
    elif unit > unit_full:
        text = (
            f"monetization: tokens are affordable from month {unit_full} (${afford:.2f} per 1M for "
            f"${revenue:.2f} per MAU over {tokens / 1e3:,.0f}k tokens), but the revenue starts late and "
            f"ramps, so unit TC-PMF waits until month {unit}"
        )
    elif unit == 0:
        text = (
            f"none at the unit level: {model} at ${price:.2f} per 1M tokens is already below the affordable "
            f"${afford:.2f} (${revenue:.2f} per MAU over {tokens / 1e3:,.0f}k tokens)"
        )
    elif s.model.price_path == "hindsight":
        then = api_model_path(s, int(unit) + 1)[int(unit)]
        text = (
            f"token price: {model} at ${price:.2f} per 1M tokens must fall to the affordable ${afford:.2f} "
            f"(${revenue:.2f} per MAU over {tokens / 1e3:,.0f}k tokens), which the dated catalog reaches in "
            f"month {unit} ({then} for {_floor_label(s)}; {decline:g}x cheaper a year after the catalog)"
        )
    else:
        text = (
            f"token price: {model} at ${price:.2f} per 1M tokens must fall to the affordable ${afford:.2f} "
            f"(${revenue:.2f} per MAU over {tokens / 1e3:,.0f}k tokens), which takes {unit} months at "
            f"{decline:g}x cheaper a year"
        )
    if s.launch_month != s.start_month:
        wait = int(row["launch_month"])
        text = (
            f"capability: no catalog model meets {_floor_label(s)} before {s.launch_month}, so the "
            f"product waits {wait} months (paying its fixed cost) and launches then; {text}"
        )
    return text + _payback_clause(row, full, horizon) + "."


def _payback_clause(row: pd.Series, full: pd.Series, horizon: int) -> str:
    """The company's payback month, and whether the monetization delay is what holds it back.

    *full* is the same scenario with every stream at full value from month 0: when it pays back
    earlier (or at all), the users-first phase binds company TC-PMF and the clause says so.
    """
    company, company_full = row["company_tcpmf_month"], full["company_tcpmf_month"]
    if pd.isna(company):
        text = (
            f"; the company does not pay back within {horizon} months "
            f"(peak funding ${row['peak_funding_usd'] / 1e6:,.1f}M)"
        )
    else:
        text = f"; cash pays back in month {company}"
    if not pd.isna(company_full) and (pd.isna(company) or company > company_full):
        text += (
            f", which would be month {company_full} with every stream earning in full from month 0: "
            f"the monetization delay holds back company TC-PMF (peak funding "
            f"${row['peak_funding_usd'] / 1e6:,.1f}M, ${full['peak_funding_usd'] / 1e6:,.1f}M without the delay)"
        )
    return text


#: Inputs :func:`compare_views` weighs: the timeline column and how it reads in a sentence.
_VIEW_INPUTS = {
    "usd_per_mtok_blended_m0": "the start price per 1M tokens",
    "tokens_per_mau": "tokens per MAU",
    "revenue_usd_per_mau": "revenue per MAU",
}


def compare_views(
    horizon_months: int = 120, annual_cost_decline: float | None = None
) -> pd.DataFrame:
    """The ``lee`` and ``data`` timelines side by side, one row per category, with the input that
    makes them differ most.

    Columns: ``category``, ``stage``, ``lee_tcpmf_month``, ``data_tcpmf_month``,
    ``lee_company_tcpmf_month``, ``data_company_tcpmf_month``, for each input of the comparison
    (start price, tokens per MAU, revenue per MAU) its value in both views and ``<input>_ratio``
    (data ÷ lee), ``lee_monetization_delay_months`` and ``data_monetization_delay_months`` (unit
    TC-PMF month minus the month at full revenue from month 0), and ``disagreement`` (a sentence:
    where the views disagree and the input that moves furthest apart, by the size of its log ratio,
    or the monetization delay when that alone separates them).
    """
    lee = timeline(annual_cost_decline, horizon_months, view="lee").set_index("category")
    data = timeline(annual_cost_decline, horizon_months, view="data").set_index("category")
    rows = []
    for category in lee.index:
        a, b = lee.loc[category], data.loc[category]
        row: dict[str, Any] = {"category": category, "stage": int(a["stage"])}
        for key in ("tcpmf_month", "company_tcpmf_month"):
            row[f"lee_{key}"], row[f"data_{key}"] = a[key], b[key]
        for column in _VIEW_INPUTS:
            row[f"lee_{column}"], row[f"data_{column}"] = float(a[column]), float(b[column])
            row[f"{column}_ratio"] = (
                float(b[column]) / float(a[column]) if float(a[column]) > 0 else float("nan")
            )
        for name, frame_row in (("lee", a), ("data", b)):
            unit, full = frame_row["tcpmf_month"], frame_row["full_revenue_tcpmf_month"]
            row[f"{name}_monetization_delay_months"] = (
                pd.NA if pd.isna(unit) or pd.isna(full) else int(unit) - int(full)
            )
        row["disagreement"] = _disagreement(category, a, b, row)
        rows.append(row)
    frame = pd.DataFrame(rows)
    for column in (
        "lee_tcpmf_month",
        "data_tcpmf_month",
        "lee_company_tcpmf_month",
        "data_company_tcpmf_month",
        "lee_monetization_delay_months",
        "data_monetization_delay_months",
    ):
        frame[column] = frame[column].astype("Int64")
    return frame


def _month_text(month: object) -> str:
    return "never within the horizon" if pd.isna(month) else f"month {month}"


def _disagreement(category: str, lee: pd.Series, data: pd.Series, row: dict[str, Any]) -> str:
    """One sentence: both unit TC-PMF months and the input that separates them most."""
    head = (
        f"{category}: Lee's argument gives unit TC-PMF at {_month_text(lee['tcpmf_month'])}, today's data at "
        f"{_month_text(data['tcpmf_month'])}"
    )
    if (pd.isna(lee["tcpmf_month"]) and pd.isna(data["tcpmf_month"])) or lee["tcpmf_month"] == data[
        "tcpmf_month"
    ]:
        return head + " (they agree)."
    ratios = {column: float(row[f"{column}_ratio"]) for column in _VIEW_INPUTS}
    ratios = {k: v for k, v in ratios.items() if v > 0 and v == v}
    delay_lee, delay_data = (
        row["lee_monetization_delay_months"],
        row["data_monetization_delay_months"],
    )
    delays_differ = not pd.isna(delay_lee) and not pd.isna(delay_data) and delay_lee != delay_data
    if not ratios or max(abs(np.log(v)) for v in ratios.values()) < np.log(1.05):
        if delays_differ:
            return (
                head
                + f"; the inputs match within 5%, and the monetization delay differs ({delay_lee} vs {delay_data} months)."
            )
        return (
            head
            + "; the inputs match within 5%: the price path (capability floor, dated catalog) separates them."
        )
    column = max(ratios, key=lambda k: abs(np.log(ratios[k])))
    unit = "$" if column != "tokens_per_mau" else ""
    text = (
        f"; the input furthest apart is {_VIEW_INPUTS[column]}: {unit}{float(row[f'lee_{column}']):,.4g} in Lee's "
        f"argument ({lee['capability_floor']}) against {unit}{float(row[f'data_{column}']):,.4g} in the data "
        f"({data['capability_floor']}), {ratios[column]:.3g}x"
    )
    if delays_differ:
        text += f"; the monetization delay also differs ({delay_lee} vs {delay_data} months)"
        text += _delay_decides(lee, data, int(delay_lee), int(delay_data))
    return head + text + "."


def _delay_decides(lee: pd.Series, data: pd.Series, delay_lee: int, delay_data: int) -> str:
    """A clause when the monetization delay, not the inputs, decides which view reaches unit
    TC-PMF first: with every stream at full value from month 0 the order would differ."""
    unit_lee, unit_data = int(lee["tcpmf_month"]), int(data["tcpmf_month"])
    full_lee, full_data = unit_lee - delay_lee, unit_data - delay_data
    if np.sign(unit_data - unit_lee) == np.sign(full_data - full_lee):
        return ""
    return (
        f", and it decides which comes first: with every stream at full value from month 0 Lee's "
        f"argument would reach unit TC-PMF at month {full_lee}, the data at month {full_data}"
    )
