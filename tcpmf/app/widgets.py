"""Widgets: a founder's slider panel over one product, and the TC-PMF timeline with a decline slider.

:class:`FounderApp` builds sliders from a scenario — their ranges from the schema's bounds and the
value's magnitude, the model as a dropdown of catalog names — and keeps one persistent
``alt.JupyterChart`` per view (cash J-curve, users by cohort, unit economics), each updated in
place when a slider moves (``observe``; never an Output-widget redraw).  Under the charts' title
sits the verdict — clears or not, break-even month, payback month, max affordable USD per 1M
tokens — and what each lever would have to be (:func:`tcpmf.what_it_takes`).  Charts load their
JavaScript from the installed packages (``alt.JupyterChart.enable_offline()``), so the app works
with no network.

Examples
--------
>>> from tcpmf.app.widgets import FounderApp
>>> app = FounderApp("assumptions/products/writing_assistant.yaml")
>>> app  # in a notebook: the panel  # doctest: +SKIP
>>> app.sliders["price_usd_per_month"].value = 25  # the charts and the verdict follow
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import json
import math
import os
import typing
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import altair as alt
import annotated_types
import ipywidgets as widgets
import pandas as pd
import yaml

from tcpmf.analysis.levers import apply_lever, lever_value, what_it_takes
from tcpmf.analysis.timeline import timeline
from tcpmf.catalog.prices import cny_per_usd, model_names
from tcpmf.core.errors import TcpmfError
from tcpmf.core.months import month_label
from tcpmf.core.yamlio import assumptions_dir
from tcpmf.formulas.revenue import elastic_paid_share
from tcpmf.model.arrays import ScenarioArrays, from_scenarios
from tcpmf.model.engine import Result, evaluate_arrays
from tcpmf.outputs import charts
from tcpmf.schema.scenario import Plateau, PowerLaw, Scenario, ShiftedBetaGeometric, load

__all__ = [
    "MONEY_CONTROLS",
    "USD",
    "Control",
    "Currency",
    "FounderApp",
    "TimelineView",
    "controls_for",
    "display_currency",
    "enable_offline",
    "inline_chart_html",
    "lever_answer_text",
    "model_label",
    "offline_bundle_cache",
    "paid_share_note",
    "parse_typed",
    "plain_number",
    "slider_range",
    "verdict_headline",
    "verdict_text",
]

SELF_HOSTED = "(self-hosted, as in the file)"


@dataclass(frozen=True)
class Control:
    """One slider: a dotted scenario key (set by override) or a column-level lever."""

    name: str
    label: str
    key: (
        str | None
    )  # scenario key path (sBG retention r1: retention.beta, set from r1); None for a column-level lever
    value: float
    low: float
    high: float
    log: bool = False
    #: the values a typed entry may take (the schema's bounds); the slider's range is narrower
    allowed_low: float = 0.0
    allowed_high: float = math.inf
    integer: bool = False


def _nice_ceiling(x: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k that is ≥ x."""
    if x <= 0:
        return 1.0
    exponent = math.floor(math.log10(x))
    for m in (1.0, 2.0, 2.5, 5.0, 10.0):
        if m * 10**exponent >= x * (1 - 1e-12):
            return m * 10**exponent
    return 10.0 ** (exponent + 1)  # pragma: no cover


def slider_range(
    value: float, low: float, high: float, span: float = 4.0, fallback: float = 1.0
) -> tuple[float, float]:
    """Slider bounds: the schema's lower bound, and ``span ×`` the value (rounded up to a nice
    number) capped at the schema's upper bound; *fallback* is the top when the value is 0.

    Examples
    --------
    >>> slider_range(20.0, 0.0, 1e6)
    (0.0, 100.0)
    >>> slider_range(0.035, 0.0, 1.0)
    (0.0, 0.2)
    """
    top = _nice_ceiling(span * value) if value > 0 else fallback
    return float(low), float(min(high, max(top, low)))


def _field_bounds(section: Any, name: str) -> tuple[float, float]:
    """``(ge or gt, le or lt)`` of a field of a pydantic section, from its annotations."""
    field = type(section).model_fields[name]
    metadata = list(field.metadata)
    for arg in typing.get_args(
        field.annotation
    ):  # X | None: the bounds sit on the Annotated member
        metadata += list(getattr(arg, "__metadata__", ()))
        for inner in getattr(arg, "__metadata__", ()):
            metadata += list(getattr(inner, "metadata", ()))
    low, high = 0.0, math.inf
    for item in metadata:
        if isinstance(item, (annotated_types.Ge, annotated_types.Gt)):
            low = float(getattr(item, "ge", getattr(item, "gt", 0.0)))
        if isinstance(item, (annotated_types.Le, annotated_types.Lt)):
            high = float(getattr(item, "le", getattr(item, "lt", math.inf)))
    return low, high


def _key_control(
    s: Scenario,
    name: str,
    label: str,
    key: str,
    span: float = 4.0,
    fallback: float = 1.0,
    integer: bool = False,
) -> Control:
    node: Any = s
    parts = key.split(".")
    for part in parts[:-1]:
        node = getattr(node, part)
    value = float(getattr(node, parts[-1]) or 0.0)
    low, high = _field_bounds(node, parts[-1])
    if name == "retention_r1" and isinstance(s.retention, Plateau):
        low = s.retention.floor
    lo, hi = slider_range(value, low, high, span, fallback)
    return Control(
        name, label, key, value, lo, hi, allowed_low=low, allowed_high=high, integer=integer
    )


def controls_for(s: Scenario, arrays: ScenarioArrays | None = None) -> list[Control]:
    """The sliders that apply to *s*, in display order."""
    a = arrays if arrays is not None else from_scenarios([s])
    sub, ads = s.revenue.subscription, s.revenue.ads
    out: list[Control] = []
    if sub is not None:
        out.append(
            _key_control(
                s,
                "price_usd_per_month",
                "price $/month",
                "revenue.subscription.price_usd_per_month",
                fallback=20.0,
            )
        )
        out.append(
            _key_control(
                s, "paid_share", "paid share", "revenue.subscription.paid_share", fallback=0.1
            )
        )
        out.append(
            _key_control(
                s,
                "price_elasticity",
                "price elasticity",
                "revenue.subscription.price_elasticity",
                span=3.0,
                fallback=2.0,
            )
        )
    if ads is not None:
        out.append(_key_control(s, "rpm_usd", "ad RPM $", "revenue.ads.rpm_usd", fallback=10.0))
    out.append(
        _key_control(s, "sessions_per_day", "sessions/day", "usage.sessions_per_day", fallback=5.0)
    )
    tokens = lever_value(a, s, "tokens_per_call")
    if tokens > 0:
        out.append(
            Control(
                "tokens_per_call",
                "tokens/call",
                None,
                tokens,
                0.0,
                slider_range(tokens, 0.0, 1e8)[1],
                allowed_high=1e8,
            )
        )
    out.append(
        _key_control(
            s, "calls_per_request", "calls/request", "usage.calls_per_request", fallback=5.0
        )
    )
    price = lever_value(a, s, "usd_per_mtok")
    # the effective month-0 price; with a demand-driven self-host route moving it scales the GPU rent
    demand = a.self_host_usd_per_replica_hour_m0 is not None and bool(
        (a.self_host_usd_per_replica_hour_m0 > 0).any()
    )
    out.append(
        Control(
            "usd_per_mtok",
            "token $/1M (GPU rent)" if demand else "token $/1M",
            None,
            price,
            0.0,
            slider_range(price, 0.0, 1e6, fallback=10.0)[1],
            allowed_high=1e6,
        )
    )
    out.append(
        _key_control(
            s,
            "annual_cost_decline",
            "cost decline ×/yr",
            "model.annual_cost_decline",
            span=3.0,
            fallback=10.0,
        )
    )
    if isinstance(s.retention, (PowerLaw, Plateau)):
        out.append(_key_control(s, "retention_r1", "retention r1", "retention.r1", span=2.0))
    elif isinstance(s.retention, ShiftedBetaGeometric):
        # month-1 retention beta / (alpha + beta); the slider sets beta and holds alpha
        alpha, r1 = s.retention.alpha, lever_value(a, s, "retention_r1")
        top = 1e4 / (alpha + 1e4)  # beta within the schema's 1e4
        out.append(
            Control(
                "retention_r1",
                "retention r1 (sBG)",
                "retention.beta",
                r1,
                min(0.01, r1 / 2),
                min(top, slider_range(r1, 0.0, 1.0, span=2.0)[1]),
                allowed_low=1e-6,
                allowed_high=top,
            )
        )
    if s.growth.cac_usd is not None:
        out.append(_key_control(s, "cac_usd", "CAC $", "growth.cac_usd", fallback=5.0))
        out.append(
            _key_control(
                s,
                "paid_budget_usd_per_month",
                "paid budget $/month",
                "growth.paid_budget_usd_per_month",
                fallback=100_000.0,
            )
        )
    out.append(
        _key_control(
            s,
            "fixed_usd_per_month",
            "fixed cost $/month",
            "costs.fixed_usd_per_month",
            fallback=100_000.0,
        )
    )
    growth = _key_control(
        s, "monthly_growth", "organic growth /month", "growth.monthly_growth", fallback=0.1
    )
    out.append(
        dataclasses.replace(growth, low=max(growth.low, -0.2))
    )  # typed entries may go down to −1
    out.append(_key_control(s, "dau_per_mau", "DAU/MAU", "usage.dau_per_mau", fallback=0.5))
    out.append(
        _key_control(
            s,
            "horizon_months",
            "horizon months",
            "horizon_months",
            span=3.0,
            fallback=36.0,
            integer=True,
        )
    )
    c = s.competition
    if (
        c is not None
    ):  # an incumbent enters (docs/model.md §6.2): when, counted as the file counts it
        relative = c.entry_months_after_tcpmf is not None
        entry = _key_control(
            s,
            "entry_month",
            "incumbent enters (months after TC-PMF)" if relative else "incumbent enters (month)",
            "competition.entry_months_after_tcpmf" if relative else "competition.entry_month",
            span=3.0,
            fallback=24.0,
            integer=True,
        )
        out.append(dataclasses.replace(entry, high=max(entry.high, float(s.horizon_months))))
    return out


def parse_typed(
    control: Control, text: str, current: float | None = None
) -> tuple[float | None, str | None]:
    """A typed entry for *control*: ``(value, None)``, or ``(None, message)`` saying what is allowed.

    Never clamps or zeroes: a number outside the schema's bounds, a whole-number key given a fraction
    and text that is not a number are refused with a message; ``"25%"`` on a share reads as 0.25,
    thousands separators and a leading ``$`` are accepted.

    Examples
    --------
    >>> c = Control("paid_share", "paid share", "revenue.subscription.paid_share", 0.035, 0.0, 0.2, allowed_high=1.0)
    >>> parse_typed(c, "6.1%")
    (0.061, None)
    >>> parse_typed(c, "abc")[1]
    "paid share: 'abc' is not a number; kept 0.035"
    """
    kept = plain_number(control.value if current is None else current)
    cleaned = text.strip().replace(",", "").replace("_", "").removeprefix("$").strip()
    percent = cleaned.endswith("%")
    try:
        value = float(cleaned.removesuffix("%"))
    except ValueError:
        return None, f"{control.label}: {text.strip()!r} is not a number; kept {kept}"
    if percent:
        value /= 100.0
    if not math.isfinite(value):
        return None, f"{control.label}: {text.strip()!r} is not a finite number; kept {kept}"
    if value < control.allowed_low or value > control.allowed_high:
        top = (
            "no upper limit"
            if math.isinf(control.allowed_high)
            else plain_number(control.allowed_high)
        )
        return None, (
            f"{control.label}: {plain_number(value)} is outside the allowed "
            f"{plain_number(control.allowed_low)} to {top}; kept {kept}"
        )
    if control.integer and not value.is_integer():
        return None, f"{control.label}: {plain_number(value)} is not a whole number; kept {kept}"
    return value, None


def model_label(s: Scenario) -> str:
    """The model dropdown's label for the file's own choice: the catalog name; ``SELF_HOSTED``; or,
    for a mix of routes, e.g. ``"mix: 80% gpt-4o-mini + 20% gpt-4o"``.

    Any other dropdown choice puts all of the product's calls on that one model (API route).
    """
    m = s.model
    if m.routes:
        parts = [
            f"{r.share:.0%} {r.name}" + (" (self-hosted)" if r.route == "self_host" else "")
            for r in m.routes
        ]
        return "mix: " + " + ".join(parts)
    return SELF_HOSTED if m.route == "self_host" else m.name


@dataclass(frozen=True)
class Currency:
    """How money is shown: its code, symbol and units per USD (money stays USD inside)."""

    code: str
    symbol: str
    per_usd: float

    def label(self, text: str) -> str:
        """*text* (a slider or lever label) with ``$`` as this currency's symbol."""
        return text if self.code == "USD" else text.replace("$", self.symbol)


USD = Currency("USD", "$", 1.0)

#: The sliders that hold money (USD inside; their boxes show the display currency).
MONEY_CONTROLS = frozenset(
    {
        "price_usd_per_month",
        "rpm_usd",
        "usd_per_mtok",
        "cac_usd",
        "paid_budget_usd_per_month",
        "fixed_usd_per_month",
    }
)


def display_currency(s: Scenario, code: str | None = None) -> Currency:
    """USD, or CNY at the catalog's CNY/USD rate in force at *s*'s start month (``catalog/fx.yaml``).

    *code* ``None``: CNY when the file gives any money in CNY (``currency: CNY``), else USD.

    Examples
    --------
    >>> s = load(assumptions_dir() / "products" / "smb_customer_service_subscription.yaml")
    >>> display_currency(s)
    Currency(code='CNY', symbol='¥', per_usd=7.19)
    """
    code = code or ("CNY" if s.cny_keys else "USD")
    if code == "USD":
        return USD
    if code != "CNY":
        raise ValueError(f"display currency {code!r}: choose USD or CNY")
    return Currency("CNY", "¥", cny_per_usd(s.start_month))


def _money(x: float, currency: Currency = USD) -> str:
    x *= currency.per_usd
    sign, x, sym = ("−" if x < 0 else ""), abs(x), currency.symbol
    return sign + (
        f"{sym}{x:,.0f}"
        if x >= 100
        else f"{sym}{plain_number(x)}"
        if x >= 0.01
        else f"{sym}{plain_number(x, 2)}"
    )


def verdict_text(result: Result, row: int = 0, currency: Currency = USD) -> str:
    """One line: clears or not, break-even and payback months, max affordable price per 1M tokens
    (money in *currency*)."""
    summary = result.computed.summary
    a = result.arrays

    def month(key: str) -> int | None:
        values, found = summary[key]
        return int(values[row]) if found is None or found[row] else None

    clears = bool(summary["clears_break_even"][0][row])
    contribution = float(summary["contribution_usd_per_mau_m0"][0][row])
    breakeven, payback, tcpmf_month = (
        month("breakeven_month"),
        month("payback_month"),
        month("tcpmf_month"),
    )
    horizon = int(a.horizon_months[row])
    values, found = summary["max_affordable_usd_per_mtok"]
    blended = float(summary["usd_per_mtok_blended_m0"][0][row])
    head = "Clears break-even" if clears else "Does not clear break-even"
    parts = [
        f"{head}: contribution {_money(contribution, currency)} per MAU at month 0",
        f"break-even month {breakeven}"
        if breakeven is not None
        else f"no break-even within {horizon} months",
        f"payback month {payback}"
        if payback is not None
        else f"no payback within {horizon} months",
    ]
    if (
        "payback_month_m0_prices" in summary
    ):  # what "clears" asks: payback with prices frozen at month 0
        today = month("payback_month_m0_prices")
        parts.append(
            f"at today's token prices payback month {today}"
            if today is not None
            else "no payback at today's token prices"
        )
    affordable = float(values[row]) if found is None or found[row] else math.nan
    # a price of zero or less (or none) affords nothing: said so, never "max affordable $0" or "none"
    parts.append(
        f"max affordable {_money(affordable, currency)} per 1M tokens (now {_money(blended, currency)})"
        if math.isfinite(affordable) and affordable > 0
        else f"no token price affords it (now {_money(blended, currency)} per 1M tokens)"
    )
    if not clears and tcpmf_month is not None and tcpmf_month > 0:
        parts.append(
            f"TC-PMF in {month_label(int(a.start_month_index[row]) + tcpmf_month)} as token prices fall"
        )
    if (
        "entry_month" in summary and month("entry_month") is not None
    ):  # an incumbent enters (docs/model.md §6.2)
        entry = month("entry_month")
        survives, known = summary["survives_entry"]
        if known is not None and known[row]:
            verdict = (
                "pays back within the horizon"
                if survives[row]
                else "does not pay back within the horizon"
            )
            parts.append(
                f"incumbent enters in month {entry} (window {month('window_months')} months): {verdict}"
            )
        else:
            parts.append(f"incumbent enters in month {entry}, after the horizon")
    return " · ".join(parts)


def plain_number(x: float, digits: int = 3) -> str:
    """*x* in plain digits, never scientific notation: thousands separated, ``digits`` significant
    figures below 1,000 (``20000 → "20,000"``, ``0.00217 → "0.00217"``, ``3.8477 → "3.85"``)."""
    if not math.isfinite(x):
        return "—"
    if x == 0:
        return "0"
    magnitude = abs(x)
    if magnitude >= 10 ** (digits - 1):
        return f"{x:,.0f}"
    decimals = digits - 1 - math.floor(math.log10(magnitude))
    text = f"{x:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


#: How the headline states a lever's answer: USD amounts, shares as percent, or plain numbers.
_LEVER_MONEY = frozenset({"price_usd_per_month", "usd_per_mtok", "rpm_usd", "cac_usd"})
_LEVER_SHARE = frozenset({"paid_share", "retention_r1"})
#: The levers the headline names first, when they can clear it.
_HEADLINE_LEVERS = ("usd_per_mtok", "paid_share")


def lever_answer_text(
    lever: str, label: str, direction: str, value: float, currency: Currency = USD
) -> str:
    """``"token price ≤ $1.17"``, ``"paid share ≥ 6.1%"``, ``"sessions per day ≤ 0.456"``."""
    sign = {">=": "≥", "<=": "≤"}.get(direction, direction)
    if lever in _LEVER_MONEY:
        amount = _money(value, currency)
    elif lever in _LEVER_SHARE:
        amount = f"{plain_number(100 * value, 2 if value < 0.1 else 3)}%"
    else:
        amount = plain_number(value)
    return f"{label} {sign} {amount}"


def verdict_headline(
    result: Result, levers: pd.DataFrame | None = None, row: int = 0, currency: Currency = USD
) -> str:
    """The short verdict: ``"Clears — contribution is $1.20 per user"``, or ``"Doesn't clear —
    contribution is $0.0022 per user; needs token price ≤ $1.17 or paid share ≥ 6.1%"``.

    *levers* is :func:`tcpmf.what_it_takes` of the same scenario: the token price and the paid share
    are named when either can clear it alone, else the first two levers that can.
    """
    summary = result.computed.summary
    clears = bool(summary["clears_break_even"][0][row])
    contribution = float(summary["contribution_usd_per_mau_m0"][0][row])
    head = (
        "Clears" if clears else "Doesn't clear"
    ) + f" — contribution is {_money(contribution, currency)} per user"
    if clears or levers is None:
        return head
    needs = levers[levers["status"] == "needs"]
    first = needs[needs["lever"].isin(_HEADLINE_LEVERS)]
    chosen = first if len(first) else needs.head(2)
    order = {name: i for i, name in enumerate(_HEADLINE_LEVERS)}
    answers = [
        lever_answer_text(str(r.lever), str(r.label), str(r.direction), float(r.value), currency)
        for r in sorted(
            chosen.itertuples(index=False), key=lambda r: order.get(str(r.lever), len(order))
        )
    ]
    if not answers:
        return head + "; no single lever in range clears it"
    return head + "; needs " + " or ".join(answers)


def paid_share_note(a: ScenarioArrays, row: int = 0, currency: Currency = USD) -> str:
    """The paid share in effect, when price elasticity makes it differ from the paid-share slider's
    (which is the share at the reference price): e.g. ``"paid share in effect 2.9% at $30/month
    (3.5% at the reference $20/month, elasticity 0.8)"``; empty without a subscription or elasticity."""
    if a.price_elasticity is None or a.reference_price_usd_per_month is None:
        return ""
    elasticity = float(a.price_elasticity[row])
    if elasticity <= 0 or float(a.price_usd_per_month[row]) <= 0:
        return ""
    price, reference = (
        float(a.price_usd_per_month[row]),
        float(a.reference_price_usd_per_month[row]),
    )
    share = float(
        elastic_paid_share(
            a.paid_share[row : row + 1],
            a.price_usd_per_month[row : row + 1],
            a.reference_price_usd_per_month[row : row + 1],
            a.price_elasticity[row : row + 1],
        )[0]
    )
    text = (
        f"paid share in effect {plain_number(100 * share)}% at {_money(price, currency)}/month "
        f"({plain_number(100 * float(a.paid_share[row]))}% at the reference {_money(reference, currency)}/month, "
        f"elasticity {plain_number(elasticity)})"
    )
    return (
        text
        if price != reference
        else text + "; elasticity acts once the price moves from the reference"
    )


def _levers_html(frame: pd.DataFrame, currency: Currency = USD) -> str:
    rows = []
    for r in frame.itertuples(index=False):
        if r.status == "n/a":
            continue

        def shown(x: Any, lever: str = str(r.lever)) -> str:
            if pd.isna(x):
                return "—"
            return (
                _money(float(x), currency) if lever in _LEVER_MONEY else plain_number(float(x), 4)
            )

        value, current = shown(r.value), shown(r.current)
        meaning = {
            "needs": f"clears at {r.direction} {value}",
            "clears": f"clears now; keeps clearing while {r.direction} {value}",
            "never": "no value in range clears it",
            "always": "clears across its whole range",
        }[r.status]
        note = (
            f"<br><i class='tcpmf-lever-note'>⚠ {html.escape(r.note)}</i>"
            if getattr(r, "note", "")
            else ""
        )
        rows.append(
            f"<tr><td>{html.escape(r.label)}</td><td style='text-align:right'>{current}</td>"
            f"<td>{html.escape(meaning)}{note}</td></tr>"
        )
    return (
        "<table class='tcpmf-levers-table'><tr><th>lever (others held)</th><th>now</th><th>what it takes</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _widen(slider: widgets.FloatSlider, value: float) -> None:
    """Extend *slider*'s range (to a nice number) so that it holds *value*; never narrows it."""
    if value > slider.max:
        slider.max = _nice_ceiling(value)
    if value < slider.min:
        slider.min = -_nice_ceiling(-value) if value < 0 else 0.0


def _name_and_kind(path: Path) -> tuple[str, str, Path]:
    """A product file's ``name`` and kind (``consumer``, ``deal`` or ``maas``), read quickly: its
    YAML and what it ``extends``, unvalidated; anything unusual is read by :func:`load` instead."""
    name: Any = None
    keys: set[str] = set()
    try:
        todo, seen = [path], set()
        while todo:
            current = todo.pop()
            if current in seen:
                raise ValueError("extends cycle")
            seen.add(current)
            tree = yaml.load(current.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
            if not isinstance(tree, dict):
                raise ValueError("not a mapping")
            keys.update(k for k in ("deal", "maas") if tree.get(k) is not None)
            name = (
                tree.get("name") if name is None else name
            )  # the file's own name wins over its parents'
            parents = tree.get("extends") or []
            todo += [
                current.parent / p for p in ([parents] if isinstance(parents, str) else parents)
            ]
        if not isinstance(name, str):
            raise ValueError("no plain name")
    except (OSError, ValueError, TypeError, AttributeError, yaml.YAMLError):
        s = load(path)
        return s.name, s.kind, path
    return name, "deal" if "deal" in keys else "maas" if "maas" in keys else "consumer", path


def offline_bundle_cache() -> Path:
    """Where :func:`enable_offline` keeps the charts' bundled JavaScript between processes:
    ``$XDG_CACHE_HOME/tcpmf`` (default ``~/.cache/tcpmf``), one file per altair and vl-convert version."""
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "tcpmf"


def _cached_bundle(kind: str, build: typing.Callable[[], str]) -> str:
    """The JavaScript *build* makes, kept in :func:`offline_bundle_cache`: it depends only on the
    altair and vl-convert versions and altair's widget source, which name the file (with *kind*)."""
    from importlib.metadata import version

    from altair.jupyter.jupyter_chart import load_js_src
    from altair.utils._importers import vl_version_for_vl_convert

    key = hashlib.sha256(
        "\n".join(
            [
                kind,
                alt.__version__,
                version("vl-convert-python"),
                vl_version_for_vl_convert(),
                load_js_src(),
            ]
        ).encode()
    ).hexdigest()[:16]
    path = offline_bundle_cache() / f"{kind}-{key}.js"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        pass
    text = build()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
    except OSError:
        pass  # no cache: built again next time
    return text


def _enable_offline_cached() -> None:
    """``alt.JupyterChart.enable_offline()``, its bundle read from the cache when built before.

    Altair builds the widget's self-contained JavaScript with vl-convert on every process start
    (about half of the app's cold start).  Anything unexpected falls back to altair's own call.
    """
    chart_class: Any = alt.JupyterChart
    if getattr(chart_class, "_is_offline", False):
        return

    def build() -> str:
        alt.JupyterChart.enable_offline()
        return str(chart_class._esm)

    try:
        chart_class._esm = _cached_bundle("jupyterchart", build)
        chart_class._is_offline = True
    except (
        ImportError,
        AttributeError,
        ValueError,
    ):  # importlib.metadata's PackageNotFoundError is an ImportError
        alt.JupyterChart.enable_offline()


def _vega_embed_bundle() -> str:
    """vega, vega-lite and vega-embed in one script (vl-convert's bundle; it sets ``window.vegaEmbed``)."""

    def build() -> str:
        import vl_convert
        from altair.utils._importers import vl_version_for_vl_convert

        # altair calls it so for its inline HTML; the type stubs ask for a snippet
        return str(vl_convert.javascript_bundle(vl_version=vl_version_for_vl_convert()))  # type: ignore[call-arg]

    return _cached_bundle("vega-embed", build)


#: Whether this process has shown the Vega scripts since :func:`enable_offline` (one copy per page).
_vega_scripts = {"shown": False}


def inline_chart_html(
    spec: dict[str, Any], embed_options: dict[str, Any] | None = None, with_scripts: bool = True
) -> str:
    """A chart as HTML that draws itself with no network and no kernel: ``vegaEmbed`` of *spec*,
    with the Vega scripts inline when *with_scripts* (evaluated once per page; a chart without them
    waits for an earlier one's).  Shown in JupyterLab, Voila and a notebook exported by nbconvert alike."""
    div = f"tcpmf-vega-{uuid.uuid4().hex}"
    spec_json = json.dumps(spec).replace("</", "<\\/")
    options = json.dumps({"mode": "vega-lite", **(embed_options or {})})
    scripts = ""
    if with_scripts:
        bundle = _vega_embed_bundle().replace("</script", "<\\/script")
        scripts = f"  if (!window.vegaEmbed) {{ (function () {{\n{bundle}\n  }})(); }}\n"
    return (
        f'<div class="tcpmf-vega" id="{div}"></div>\n<script type="text/javascript">\n(function () {{\n{scripts}'
        f"  var el = document.getElementById('{div}'), tries = 0;\n"
        f"  function draw() {{ window.vegaEmbed(el, {spec_json}, {options}).catch(console.error); }}\n"
        "  if (window.vegaEmbed) { draw(); return; }\n"
        "  var timer = setInterval(function () {\n"
        "    if (window.vegaEmbed) { clearInterval(timer); draw(); }\n"
        "    else if (++tries > 200) { clearInterval(timer);"
        " el.innerText = 'chart not drawn: run the notebook from its first cell (enable_offline()) again'; }\n"
        "  }, 50);\n"
        "})();\n</script>"
    )


def _inline_renderer(spec: dict[str, Any], **metadata: Any) -> dict[str, str]:
    """The first chart after :func:`enable_offline` carries the Vega scripts (900 kB), later ones
    only their spec: a page holds one copy, and nbconvert is not held up by large outputs."""
    html_text = inline_chart_html(
        spec, metadata.get("embed_options"), with_scripts=not _vega_scripts["shown"]
    )
    _vega_scripts["shown"] = True
    return {"text/html": html_text, "text/plain": "<tcpmf chart>"}


def enable_offline() -> None:
    """Render every chart with the JavaScript shipped in the installed packages (no network):
    persistent ``alt.JupyterChart`` widgets, and plain Altair charts shown in a notebook as inline
    HTML (:func:`inline_chart_html`; drawn in an exported notebook too).  The bundled JavaScript is
    cached on disk (:func:`offline_bundle_cache`)."""
    _vega_scripts["shown"] = (
        False  # a notebook's first cell calls this: its first chart carries the scripts
    )
    _enable_offline_cached()
    # plain charts: inline HTML, which an exported notebook shows too (a widget needs a CDN there)
    alt.renderers.register("tcpmf-inline", _inline_renderer)
    alt.renderers.enable("tcpmf-inline")


class FounderApp:
    """A slider panel over one product: charts, verdict and levers follow every slider.

    Parameters
    ----------
    scenario
        A scenario or the path of a scenario file.
    products
        Scenario files offered in the product dropdown (default: the bundled products).
    show_levers
        Compute and show :func:`tcpmf.what_it_takes` under the verdict.
    """

    def __init__(
        self,
        scenario: Scenario | str | Path,
        products: Sequence[str | Path] | None = None,
        show_levers: bool = True,
    ) -> None:
        enable_offline()
        self.show_levers = show_levers
        bundled = (
            sorted((assumptions_dir() / "products").glob("*.yaml"))
            if products is None
            else [Path(p) for p in products]
        )
        self.base = scenario if isinstance(scenario, Scenario) else load(scenario)
        # the dropdown needs only names: a quick read, not a validation of every file (most of a cold start)
        options = [
            (name, str(p)) for name, kind, p in map(_name_and_kind, bundled) if kind == "consumer"
        ]
        if self.base.name not in [name for name, _ in options]:
            options.insert(0, (self.base.name, ""))
        self._paths = {name: path for name, path in options}
        self.product = widgets.Dropdown(
            options=[name for name, _ in options],
            value=self.base.name,
            description="product",
            layout=widgets.Layout(width="480px"),
        )
        self.model = widgets.Dropdown(description="model", layout=widgets.Layout(width="480px"))
        # money is USD inside; the toggle changes only how amounts are shown (and typed)
        self.currency_toggle = widgets.ToggleButtons(
            options=["USD", "CNY"],
            value="USD",
            description="show money in",
            style={"button_width": "60px", "description_width": "100px"},
        )
        self.currency_toggle.add_class("tcpmf-currency")
        self.currency_note = widgets.HTML()
        self.currency_note.add_class("tcpmf-currency-note")
        self.currency: Currency = USD
        self.sliders: dict[str, widgets.FloatSlider] = {}
        self.typed: dict[str, widgets.Text] = {}
        self.controls: dict[str, Control] = {}
        self.slider_box = widgets.VBox(layout=widgets.Layout(flex="0 0 auto"))
        self.message = widgets.HTML()
        self.paid_note = widgets.HTML()
        self.paid_note.add_class("tcpmf-paid-note")
        self.message.add_class("tcpmf-message")
        self.verdict = widgets.HTML()
        self.verdict.add_class("tcpmf-verdict")
        self.levers = widgets.HTML(
            layout=widgets.Layout(flex="1 1 380px", min_width="0", overflow="auto")
        )
        self.levers.add_class("tcpmf-levers")
        self.charts: dict[str, alt.JupyterChart] = {}
        self.result: Result | None = None
        self.scenario: Scenario = self.base
        self.error: str | None = None
        self._quiet = False
        self.path = widgets.Text(
            placeholder="path of a scenario YAML file",
            description="file",
            style={"description_width": "40px"},
            layout=widgets.Layout(width="420px"),
        )
        self.path.add_class("tcpmf-path")
        self.open_button = widgets.Button(description="open")
        self.save_button = widgets.Button(description="save")
        self.reset_button = widgets.Button(description="reset to file")
        self.pin_button = widgets.Button(description="pin to compare")
        self.pin_button.on_click(lambda _: self.pin())
        self.compare = widgets.HTML()
        self.compare.add_class("tcpmf-compare")
        self.pinned: tuple[pd.DataFrame | None, Result] | None = None
        self.open_button.on_click(lambda _: self.open(self.path.value))
        self.save_button.on_click(lambda _: self.save(self.path.value))
        self.reset_button.on_click(lambda _: self.reset())
        self.product.observe(self._on_product, names="value")
        self.model.observe(self._on_model, names="value")
        self.currency_toggle.observe(self._on_currency, names="value")
        self._build(self.base)
        chart_box = widgets.VBox(
            [
                self.charts["cash"],
                widgets.HBox(
                    [self.charts["users"], self.charts["unit"]],
                    layout=widgets.Layout(flex_flow="row wrap"),
                ),
                self.charts["frontier"],
            ]
        )
        self.widget = widgets.VBox(
            [
                widgets.HBox(
                    [self.product, self.model, self.currency_toggle, self.currency_note],
                    layout=widgets.Layout(flex_flow="row wrap", align_items="center"),
                ),
                widgets.HBox(
                    [
                        self.path,
                        self.open_button,
                        self.save_button,
                        self.reset_button,
                        self.pin_button,
                    ],
                    layout=widgets.Layout(flex_flow="row wrap"),
                ),
                self.verdict,
                self.message,
                self.paid_note,
                self.compare,
                # side by side when there is room, the lever table below the sliders when there is not
                widgets.HBox(
                    [self.slider_box, self.levers],
                    layout=widgets.Layout(flex_flow="row wrap", align_items="flex-start"),
                ),
                chart_box,
            ]
        )
        self.widget.add_class("tcpmf-app")

    # -- building ---------------------------------------------------------------------------------

    def _build(self, s: Scenario) -> None:
        """Sliders, model options and charts for a new product."""
        self._quiet = True
        self._file_scenario = s
        self.base = s
        self.currency = display_currency(s)  # CNY for a file that states its money in CNY
        self.currency_toggle.value = self.currency.code
        self._show_currency_note()
        names = model_names()
        self._as_in_file = model_label(s)
        if (
            self._as_in_file != s.model.name
        ):  # a mix of routes or a self-hosted model: as in the file
            options = [self._as_in_file, *names]
        else:
            options = names if s.model.name in names else [s.model.name, *names]
        self.model.options = options
        self.model.value = self._as_in_file
        self._model_scenario = s
        self._set_sliders(s)
        self._quiet = False
        self.update()

    def _set_sliders(self, s: Scenario) -> None:
        self._base_arrays = from_scenarios([s])
        self.controls = {c.name: c for c in controls_for(s, self._base_arrays)}
        self.sliders = {}
        self.typed = {}
        rows = []
        for c in self.controls.values():
            step = 1.0 if c.integer else (c.high - c.low) / 200 or 0.01
            # no readout: a value is typed in the box beside the slider, which validates it (a
            # slider's own readout silently clamps a typed value to the slider's range)
            slider = widgets.FloatSlider(
                value=c.value,
                min=c.low,
                max=c.high,
                step=step,
                description=self.currency.label(c.label),
                continuous_update=False,
                readout=False,
                style={"description_width": "150px"},
                layout=widgets.Layout(width="340px"),
            )
            slider.add_class(f"tcpmf-slider-{c.name}")
            slider.observe(self._on_slider, names="value")
            box = widgets.Text(
                value=plain_number(self._shown(c.name, c.value), 4),
                continuous_update=False,
                layout=widgets.Layout(width="110px"),
            )
            box.add_class(f"tcpmf-typed-{c.name}")
            box.observe(
                lambda change, name=c.name: self._on_typed(name, change["new"]), names="value"
            )
            self.sliders[c.name] = slider
            self.typed[c.name] = box
            rows.append(widgets.HBox([slider, box]))
        # a slider rounds its value to its step: a value still at its start means "as in the file"
        self._start = {name: slider.value for name, slider in self.sliders.items()}
        self.slider_box.children = tuple(rows)

    # -- events -----------------------------------------------------------------------------------

    def _on_slider(self, change: dict[str, Any]) -> None:
        if not self._quiet:
            self.message.value = ""
            self.update()

    def _shown(self, name: str, usd_or_other: float) -> float:
        """A slider's value as its box shows it: money in the display currency."""
        return usd_or_other * self.currency.per_usd if name in MONEY_CONTROLS else usd_or_other

    def _show_values(self) -> None:
        """Each slider's value in its box (plain digits; money in the display currency)."""
        quiet, self._quiet = self._quiet, True
        for name, slider in self.sliders.items():
            text = plain_number(self._shown(name, slider.value), 4)
            if self.typed[name].value != text:
                self.typed[name].value = text
        self._quiet = quiet

    def type_value(self, name: str, text: str) -> None:
        """Enter *text* for slider *name*, as typed in its box (see :func:`parse_typed`)."""
        self.typed[name].value = text

    def _on_typed(self, name: str, text: str) -> None:
        if self._quiet:
            return
        slider, control = self.sliders[name], self.controls[name]
        rate = self.currency.per_usd if name in MONEY_CONTROLS else 1.0
        if rate != 1.0:  # typed in the display currency: bounds and message in it too
            control = dataclasses.replace(
                control,
                label=self.currency.label(control.label),
                value=control.value * rate,
                allowed_low=control.allowed_low * rate,
                allowed_high=control.allowed_high * rate,
            )
        value, problem = parse_typed(control, text, slider.value * rate)
        if value is not None:
            value /= rate
        if value is None:
            self._say(problem or "")
            self._show_values()
            return
        self.message.value = ""
        self._quiet = True
        _widen(slider, value)
        slider.value = value
        self._quiet = False
        self.update()

    def open(self, path: str | Path) -> None:
        """Load the scenario file at *path* and show it (a bad file: the message says why)."""
        try:
            s = load(Path(str(path).strip()))
        except TcpmfError as exc:
            self._say(str(exc))
            return
        if s.kind != "consumer":
            self._say(f"{path}: a {s.kind} scenario; the app shows per-user (consumer) scenarios")
            return
        self._paths[s.name] = str(path).strip()
        self._quiet = True
        if s.name not in self.product.options:
            self.product.options = [*self.product.options, s.name]
        self.product.value = s.name
        self._quiet = False
        self._build(s)
        self._say(f"opened {path}", error=False)

    def save(self, path: str | Path) -> Path | None:
        """Save the current state as a scenario file at *path* (see :meth:`tcpmf.Scenario.save`)."""
        target = str(path).strip()
        if not target:
            self._say("type the path of the file to save in the file box")
            return None
        moved = [
            self.controls[n].label
            for n in ("tokens_per_call", "usd_per_mtok")
            if n in self.sliders and self.sliders[n].value != self._start[n]
        ]
        try:
            saved = self.scenario.save(target)
        except OSError as exc:
            self._say(f"cannot save to {target}: {exc.strerror}")
            return None
        note = (
            f" — not saved: {', '.join(moved)} (they move computed columns, not a key of the file)"
            if moved
            else ""
        )
        self._say(f"saved to {target}{note}", error=bool(moved))
        return saved

    def reset(self) -> None:
        """Every slider and the model back to the file's values."""
        self._build(self._file_scenario)
        self.message.value = ""

    def pin(self) -> None:
        """Keep the current state to compare with: its verdict and key metrics beside the current
        ones, and both cash curves on the cash chart."""
        if self.result is None:
            return
        levers = (
            what_it_takes(self.scenario, arrays=self.result.arrays) if self.show_levers else None
        )
        self.pinned = (levers, self.result)
        self.update()

    def _compare_html(self, headline: str, result: Result) -> str:
        if self.pinned is None:
            return ""
        cells = []
        pinned_headline = verdict_headline(self.pinned[1], self.pinned[0], currency=self.currency)
        for label, (text, r) in (
            ("pinned", (pinned_headline, self.pinned[1])),
            ("now", (headline, result)),
        ):
            row = r.summary.iloc[0]

            def month(key: str, row: Any = row) -> str:
                return "—" if pd.isna(row[key]) else str(int(row[key]))

            cells.append(
                f"<tr><td><b>{label}</b></td><td>{html.escape(text)}</td>"
                f"<td style='text-align:right'>{_money(float(row['contribution_usd_per_mau_m0']), self.currency)}</td>"
                f"<td style='text-align:right'>{month('breakeven_month')}</td><td style='text-align:right'>{month('payback_month')}</td>"
                f"<td style='text-align:right'>{_money(float(row['peak_funding_usd']), self.currency)}</td></tr>"
            )
        return (
            "<table class='tcpmf-compare-table'><tr><th></th><th>verdict</th>"
            f"<th>contribution {self.currency.symbol}/user, m0</th>"
            "<th>break-even month</th><th>payback month</th><th>peak funding</th></tr>"
            + "".join(cells)
            + "</table>"
        )

    def _compare_cash(self, result: Result) -> alt.Chart:
        assert self.pinned is not None
        frames = [
            r.monthly[["month", "cash_usd"]].assign(state=label)
            for label, r in (("pinned", self.pinned[1]), ("now", result))
        ]
        return (
            alt.Chart(
                pd.concat(frames, ignore_index=True),
                width=760,
                height=220,
                title="Cash J-curve — pinned vs now",
            )
            .mark_line()
            .encode(
                x=alt.X("month:Q", title="month"),
                y=alt.Y("cash_usd:Q", title="cumulative cash, USD", axis=alt.Axis(format="~s")),
                color=alt.Color(
                    "state:N",
                    sort=["pinned", "now"],
                    legend=alt.Legend(orient="bottom", title=None),
                ),
                strokeDash=alt.StrokeDash("state:N", sort=["pinned", "now"], legend=None),
            )
        )

    def _on_currency(self, change: dict[str, Any]) -> None:
        if self._quiet:
            return
        self.set_currency(change["new"])

    def set_currency(self, code: str) -> None:
        """Show money in *code* (``"USD"`` or ``"CNY"``); every amount inside stays USD."""
        self.currency = display_currency(self._file_scenario, code)
        quiet, self._quiet = self._quiet, True
        self.currency_toggle.value = self.currency.code
        for name, slider in self.sliders.items():
            slider.description = self.currency.label(self.controls[name].label)
        self._quiet = quiet
        self._show_currency_note()
        self.update()

    def _show_currency_note(self) -> None:
        if self.currency.code == "USD":
            self.currency_note.value = ""
            return
        self.currency_note.value = (
            f"<span style='color:#555'>¥{plain_number(self.currency.per_usd)} per $1 (catalog rate "
            f"in force at {self._file_scenario.start_month}); charts stay in USD</span>"
        )

    def _say(self, text: str, error: bool = True) -> None:
        color = "#c62828" if error else "#2e7d32"
        self.message.value = (
            f"<b style='color:{color}'>{'⚠ ' if error else ''}{html.escape(text)}</b>"
        )

    def _on_product(self, change: dict[str, Any]) -> None:
        if self._quiet:
            return
        path = self._paths.get(change["new"])
        if path:
            self._build(load(path))

    def _on_model(self, change: dict[str, Any]) -> None:
        if self._quiet:
            return
        name = change["new"]
        try:
            # renamed, so that every chart title and a saved file say which model serves it
            s = (
                self.base
                if name == self._as_in_file
                else charts.on_model(self.base, name, name=f"{self.base.name} → {name}")
            )
        except TcpmfError as exc:
            self._show_error(str(exc))
            return
        self._model_scenario = s
        arrays = from_scenarios([s])
        price = lever_value(arrays, s, "usd_per_mtok")
        slider = self.sliders["usd_per_mtok"]
        self._quiet = True
        slider.max = max(slider.max, slider_range(price, 0.0, 1e6, fallback=10.0)[1])
        slider.value = price
        self._start["usd_per_mtok"] = slider.value
        self._quiet = False
        self.update()

    # -- computing --------------------------------------------------------------------------------

    def current(self) -> tuple[Scenario, ScenarioArrays]:
        """The scenario and columns the sliders describe now."""
        moved = {name for name, slider in self.sliders.items() if slider.value != self._start[name]}
        overrides: dict[str, float | int] = {
            c.key: round(self.sliders[name].value) if c.integer else float(self.sliders[name].value)
            for name, c in self.controls.items()
            if c.key is not None and name in moved
        }
        r = self._model_scenario.retention
        if "retention.beta" in overrides and isinstance(
            r, ShiftedBetaGeometric
        ):  # the slider is r1
            r1 = overrides["retention.beta"]
            overrides["retention.beta"] = min(1e4, r.alpha * r1 / (1.0 - r1)) if r1 < 1.0 else 1e4
        s = self._model_scenario.override(overrides) if overrides else self._model_scenario
        a = from_scenarios([s])
        for name in ("tokens_per_call", "usd_per_mtok"):
            if name in moved:
                a = apply_lever(a, s, name, [self.sliders[name].value])
        return s, a

    def recompute(self) -> Result:
        """Evaluate the current slider values (no widget changes)."""
        s, a = self.current()
        return Result(arrays=a, computed=evaluate_arrays(a), scenarios=(s,))

    def chart_specs(self, result: Result) -> dict[str, alt.LayerChart | alt.Chart]:
        """The three views for *result*."""
        return {
            "cash": charts.cash_curve(result, width=760, height=220),
            "users": charts.cohort_users(result, width=330, height=200),
            "unit": charts.unit_waterfall(result, width=330, height=200),
            # the product and model in effect, every slider included (the token price slider too)
            "frontier": charts.breakeven_frontier(
                result.scenarios[0], arrays=result.arrays, points=31, width=640, height=220
            ),
        }

    def update(self) -> None:
        """Recompute, then update the verdict, the levers and each chart in place."""
        self._show_values()
        try:
            result = self.recompute()
        except TcpmfError as exc:
            self._show_error(str(exc))
            return
        self.error = None
        self.result = result
        self.scenario = result.scenarios[0]
        levers = what_it_takes(self.scenario, arrays=result.arrays) if self.show_levers else None
        headline = verdict_headline(result, levers, currency=self.currency)
        color = "#2e7d32" if headline.startswith("Clears") else "#c62828"
        self.verdict.value = (
            f"<b class='tcpmf-headline' style='color:{color};font-size:1.25em'>{html.escape(headline)}</b>"
            f"<div class='tcpmf-details' style='color:#444;font-size:0.9em'>"
            f"{html.escape(verdict_text(result, currency=self.currency))}</div>"
        )
        specs = self.chart_specs(result)
        self.compare.value = self._compare_html(headline, result)
        note = paid_share_note(result.arrays, currency=self.currency)
        self.paid_note.value = f"<i>{html.escape(note)}</i>" if note else ""
        if self.pinned is not None:
            specs["cash"] = self._compare_cash(result)
        for name, chart in specs.items():
            if name in self.charts:
                # the spec alone, unvalidated: the chart functions' output is fixed and tested, and
                # schema validation would triple the cost of a redraw
                self.charts[name].spec = chart.to_dict(validate=False)
            else:
                self.charts[name] = alt.JupyterChart(chart)
                self.charts[name].add_class(f"tcpmf-chart-{name}")
        if levers is not None:
            self.levers.value = _levers_html(levers, self.currency)
            self._cover_lever_answers(levers)

    def _cover_lever_answers(self, levers: pd.DataFrame) -> None:
        """Widen each slider so that the value its lever needs to clear lies on it."""
        quiet, self._quiet = self._quiet, True
        for r in levers[levers["status"].isin(["needs", "clears"])].itertuples(index=False):
            slider = self.sliders.get(str(r.lever))
            if slider is not None and not pd.isna(r.value):
                _widen(slider, float(r.value) * (1.25 if r.direction == ">=" else 1.0))
        self._quiet = quiet

    def _show_error(self, message: str) -> None:
        self.error = message
        self.verdict.value = f"<b style='color:#c62828'>⚠ {html.escape(message)}</b>"

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


class TimelineView:
    """The six consumer categories' TC-PMF months as token prices fall; the annual decline is a slider.

    Examples
    --------
    >>> view = TimelineView(annual_cost_decline=10)
    >>> view.slider.value = 4  # a conservative 4× a year: every category arrives later
    """

    def __init__(
        self, annual_cost_decline: float = 10.0, horizon_months: int = 120, model: str | None = None
    ) -> None:
        enable_offline()
        self.horizon_months = horizon_months
        self.model = model
        self.slider = widgets.FloatLogSlider(
            value=annual_cost_decline,
            base=10,
            min=0,
            max=2,
            step=0.01,
            description="decline ×/yr",
            continuous_update=False,
            readout_format=".3g",
        )
        self.slider.add_class("tcpmf-slider-decline")
        self.frame = self._frame()
        self.chart = alt.JupyterChart(charts.tcpmf_timeline(self.frame, horizon_months))
        self.table = widgets.HTML(self._table())
        self.slider.observe(self._on_change, names="value")
        self.widget = widgets.VBox([self.slider, self.chart, self.table])

    def _frame(self) -> pd.DataFrame:
        # projected: the start price of the floor's cheapest model falls by the slider's factor from month 0
        return timeline(
            annual_cost_decline=float(self.slider.value),
            horizon_months=self.horizon_months,
            model=self.model,
            price_path="projected",
        )

    def _table(self) -> str:
        shown = self.frame[
            [
                "category",
                "predicted_stage",
                "model",
                "contribution_usd_per_mau_m0",
                "tcpmf_calendar_month",
            ]
        ]
        return str(shown.to_html(index=False, na_rep="—", float_format=lambda x: f"{x:,.3g}"))

    def _on_change(self, change: dict[str, Any]) -> None:
        self.frame = self._frame()
        self.chart.chart = charts.tcpmf_timeline(self.frame, self.horizon_months)
        self.table.value = self._table()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)
