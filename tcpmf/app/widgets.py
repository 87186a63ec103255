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
import html
import math
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import altair as alt
import annotated_types
import ipywidgets as widgets
import pandas as pd

from tcpmf.analysis.levers import apply_lever, lever_value, what_it_takes
from tcpmf.analysis.timeline import timeline
from tcpmf.catalog.prices import model_names
from tcpmf.core.errors import TcpmfError
from tcpmf.core.months import month_label
from tcpmf.core.yamlio import assumptions_dir
from tcpmf.formulas.revenue import elastic_paid_share
from tcpmf.model.arrays import ScenarioArrays, from_scenarios
from tcpmf.model.engine import Result, evaluate_arrays
from tcpmf.outputs import charts
from tcpmf.schema.scenario import Plateau, PowerLaw, Scenario, ShiftedBetaGeometric, load

__all__ = ["Control", "FounderApp", "TimelineView", "controls_for", "enable_offline", "lever_answer_text", "model_label",
           "paid_share_note", "parse_typed", "plain_number", "slider_range", "verdict_headline", "verdict_text"]

SELF_HOSTED = "(self-hosted, as in the file)"


@dataclass(frozen=True)
class Control:
    """One slider: a dotted scenario key (set by override) or a column-level lever."""

    name: str
    label: str
    key: str | None  # scenario key path (sBG retention r1: retention.beta, set from r1); None for a column-level lever
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


def slider_range(value: float, low: float, high: float, span: float = 4.0, fallback: float = 1.0) -> tuple[float, float]:
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
    for arg in typing.get_args(field.annotation):  # X | None: the bounds sit on the Annotated member
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


def _key_control(s: Scenario, name: str, label: str, key: str, span: float = 4.0, fallback: float = 1.0,
                 integer: bool = False) -> Control:
    node: Any = s
    parts = key.split(".")
    for part in parts[:-1]:
        node = getattr(node, part)
    value = float(getattr(node, parts[-1]) or 0.0)
    low, high = _field_bounds(node, parts[-1])
    if name == "retention_r1" and isinstance(s.retention, Plateau):
        low = s.retention.floor
    lo, hi = slider_range(value, low, high, span, fallback)
    return Control(name, label, key, value, lo, hi, allowed_low=low, allowed_high=high, integer=integer)


def controls_for(s: Scenario, arrays: ScenarioArrays | None = None) -> list[Control]:
    """The sliders that apply to *s*, in display order."""
    a = arrays if arrays is not None else from_scenarios([s])
    sub, ads = s.revenue.subscription, s.revenue.ads
    out: list[Control] = []
    if sub is not None:
        out.append(_key_control(s, "price_usd_per_month", "price $/month", "revenue.subscription.price_usd_per_month", fallback=20.0))
        out.append(_key_control(s, "paid_share", "paid share", "revenue.subscription.paid_share", fallback=0.1))
        out.append(_key_control(s, "price_elasticity", "price elasticity", "revenue.subscription.price_elasticity", span=3.0, fallback=2.0))
    if ads is not None:
        out.append(_key_control(s, "rpm_usd", "ad RPM $", "revenue.ads.rpm_usd", fallback=10.0))
    out.append(_key_control(s, "sessions_per_day", "sessions/day", "usage.sessions_per_day", fallback=5.0))
    tokens = lever_value(a, s, "tokens_per_call")
    if tokens > 0:
        out.append(Control("tokens_per_call", "tokens/call", None, tokens, 0.0, slider_range(tokens, 0.0, 1e8)[1],
                           allowed_high=1e8))
    out.append(_key_control(s, "calls_per_request", "calls/request", "usage.calls_per_request", fallback=5.0))
    price = lever_value(a, s, "usd_per_mtok")
    # the effective month-0 price; with a demand-driven self-host route moving it scales the GPU rent
    demand = a.self_host_usd_per_replica_hour_m0 is not None and bool((a.self_host_usd_per_replica_hour_m0 > 0).any())
    out.append(Control("usd_per_mtok", "token $/1M (GPU rent)" if demand else "token $/1M", None, price, 0.0,
                       slider_range(price, 0.0, 1e6, fallback=10.0)[1], allowed_high=1e6))
    out.append(_key_control(s, "annual_cost_decline", "cost decline ×/yr", "model.annual_cost_decline", span=3.0, fallback=10.0))
    if isinstance(s.retention, (PowerLaw, Plateau)):
        out.append(_key_control(s, "retention_r1", "retention r1", "retention.r1", span=2.0))
    elif isinstance(s.retention, ShiftedBetaGeometric):
        # month-1 retention beta / (alpha + beta); the slider sets beta and holds alpha
        alpha, r1 = s.retention.alpha, lever_value(a, s, "retention_r1")
        top = 1e4 / (alpha + 1e4)  # beta within the schema's 1e4
        out.append(Control("retention_r1", "retention r1 (sBG)", "retention.beta", r1, min(0.01, r1 / 2),
                           min(top, slider_range(r1, 0.0, 1.0, span=2.0)[1]), allowed_low=1e-6, allowed_high=top))
    if s.growth.cac_usd is not None:
        out.append(_key_control(s, "cac_usd", "CAC $", "growth.cac_usd", fallback=5.0))
        out.append(_key_control(s, "paid_budget_usd_per_month", "paid budget $/month", "growth.paid_budget_usd_per_month",
                                fallback=100_000.0))
    out.append(_key_control(s, "fixed_usd_per_month", "fixed cost $/month", "costs.fixed_usd_per_month", fallback=100_000.0))
    growth = _key_control(s, "monthly_growth", "organic growth /month", "growth.monthly_growth", fallback=0.1)
    out.append(dataclasses.replace(growth, low=max(growth.low, -0.2)))  # typed entries may go down to −1
    out.append(_key_control(s, "dau_per_mau", "DAU/MAU", "usage.dau_per_mau", fallback=0.5))
    out.append(_key_control(s, "horizon_months", "horizon months", "horizon_months", span=3.0, fallback=36.0, integer=True))
    c = s.competition
    if c is not None:  # an incumbent enters (docs/model.md §6.2): when, counted as the file counts it
        relative = c.entry_months_after_tcpmf is not None
        entry = _key_control(s, "entry_month", "incumbent enters (months after TC-PMF)" if relative else "incumbent enters (month)",
                             "competition.entry_months_after_tcpmf" if relative else "competition.entry_month",
                             span=3.0, fallback=24.0, integer=True)
        out.append(dataclasses.replace(entry, high=max(entry.high, float(s.horizon_months))))
    return out


def parse_typed(control: Control, text: str, current: float | None = None) -> tuple[float | None, str | None]:
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
        top = "no upper limit" if math.isinf(control.allowed_high) else plain_number(control.allowed_high)
        return None, (f"{control.label}: {plain_number(value)} is outside the allowed "
                      f"{plain_number(control.allowed_low)} to {top}; kept {kept}")
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
        parts = [f"{r.share:.0%} {r.name}" + (" (self-hosted)" if r.route == "self_host" else "") for r in m.routes]
        return "mix: " + " + ".join(parts)
    return SELF_HOSTED if m.route == "self_host" else m.name


def _money(x: float) -> str:
    sign, x = ("−" if x < 0 else ""), abs(x)
    return sign + (f"${x:,.0f}" if x >= 100 else f"${x:,.3g}" if x >= 0.01 else f"${x:,.2g}")


def verdict_text(result: Result, row: int = 0) -> str:
    """One line: clears or not, break-even and payback months, max affordable USD per 1M tokens."""
    summary = result.computed.summary
    a = result.arrays

    def month(key: str) -> int | None:
        values, found = summary[key]
        return int(values[row]) if found is None or found[row] else None

    clears = bool(summary["clears_break_even"][0][row])
    contribution = float(summary["contribution_usd_per_mau_m0"][0][row])
    breakeven, payback, tcpmf_month = month("breakeven_month"), month("payback_month"), month("tcpmf_month")
    horizon = int(a.horizon_months[row])
    values, found = summary["max_affordable_usd_per_mtok"]
    blended = float(summary["usd_per_mtok_blended_m0"][0][row])
    head = "Clears break-even" if clears else "Does not clear break-even"
    parts = [
        f"{head}: contribution {_money(contribution)} per MAU at month 0",
        f"break-even month {breakeven}" if breakeven is not None else f"no break-even within {horizon} months",
        f"payback month {payback}" if payback is not None else f"no payback within {horizon} months",
    ]
    if "payback_month_m0_prices" in summary:  # what "clears" asks: payback with prices frozen at month 0
        today = month("payback_month_m0_prices")
        parts.append(f"at today's token prices payback month {today}" if today is not None
                     else "no payback at today's token prices")
    parts.append(f"max affordable {_money(float(values[row]))} per 1M tokens (now {_money(blended)})"
                 if found is not None and found[row] else f"no token price affords it (now {_money(blended)} per 1M tokens)")
    if not clears and tcpmf_month is not None and tcpmf_month > 0:
        parts.append(f"TC-PMF in {month_label(int(a.start_month_index[row]) + tcpmf_month)} as token prices fall")
    if "entry_month" in summary and month("entry_month") is not None:  # an incumbent enters (docs/model.md §6.2)
        entry = month("entry_month")
        survives, known = summary["survives_entry"]
        if known is not None and known[row]:
            verdict = "pays back within the horizon" if survives[row] else "does not pay back within the horizon"
            parts.append(f"incumbent enters in month {entry} (window {month('window_months')} months): {verdict}")
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


def lever_answer_text(lever: str, label: str, direction: str, value: float) -> str:
    """``"token price ≤ $1.17"``, ``"paid share ≥ 6.1%"``, ``"sessions per day ≤ 0.456"``."""
    sign = {">=": "≥", "<=": "≤"}.get(direction, direction)
    if lever in _LEVER_MONEY:
        amount = _money(value)
    elif lever in _LEVER_SHARE:
        amount = f"{plain_number(100 * value, 2 if value < 0.1 else 3)}%"
    else:
        amount = plain_number(value)
    return f"{label} {sign} {amount}"


def verdict_headline(result: Result, levers: pd.DataFrame | None = None, row: int = 0) -> str:
    """The short verdict: ``"Clears — contribution is $1.20 per user"``, or ``"Doesn't clear —
    contribution is $0.0022 per user; needs token price ≤ $1.17 or paid share ≥ 6.1%"``.

    *levers* is :func:`tcpmf.what_it_takes` of the same scenario: the token price and the paid share
    are named when either can clear it alone, else the first two levers that can.
    """
    summary = result.computed.summary
    clears = bool(summary["clears_break_even"][0][row])
    contribution = float(summary["contribution_usd_per_mau_m0"][0][row])
    head = ("Clears" if clears else "Doesn't clear") + f" — contribution is {_money(contribution)} per user"
    if clears or levers is None:
        return head
    needs = levers[levers["status"] == "needs"]
    first = needs[needs["lever"].isin(_HEADLINE_LEVERS)]
    chosen = first if len(first) else needs.head(2)
    order = {name: i for i, name in enumerate(_HEADLINE_LEVERS)}
    answers = [lever_answer_text(str(r.lever), str(r.label), str(r.direction), float(r.value))
               for r in sorted(chosen.itertuples(index=False), key=lambda r: order.get(str(r.lever), len(order)))]
    if not answers:
        return head + "; no single lever in range clears it"
    return head + "; needs " + " or ".join(answers)


def paid_share_note(a: ScenarioArrays, row: int = 0) -> str:
    """The paid share in effect, when price elasticity makes it differ from the paid-share slider's
    (which is the share at the reference price): e.g. ``"paid share in effect 2.9% at $30/month
    (3.5% at the reference $20/month, elasticity 0.8)"``; empty without a subscription or elasticity."""
    if a.price_elasticity is None or a.reference_price_usd_per_month is None:
        return ""
    elasticity = float(a.price_elasticity[row])
    if elasticity <= 0 or float(a.price_usd_per_month[row]) <= 0:
        return ""
    price, reference = float(a.price_usd_per_month[row]), float(a.reference_price_usd_per_month[row])
    share = float(elastic_paid_share(a.paid_share[row:row + 1], a.price_usd_per_month[row:row + 1],
                                     a.reference_price_usd_per_month[row:row + 1], a.price_elasticity[row:row + 1])[0])
    text = (f"paid share in effect {plain_number(100 * share)}% at {_money(price)}/month "
            f"({plain_number(100 * float(a.paid_share[row]))}% at the reference {_money(reference)}/month, "
            f"elasticity {plain_number(elasticity)})")
    return text if price != reference else text + "; elasticity acts once the price moves from the reference"


def _levers_html(frame: pd.DataFrame) -> str:
    rows = []
    for r in frame.itertuples(index=False):
        if r.status == "n/a":
            continue
        value = "—" if pd.isna(r.value) else plain_number(float(r.value), 4)
        current = "—" if pd.isna(r.current) else plain_number(float(r.current), 4)
        meaning = {
            "needs": f"clears at {r.direction} {value}",
            "clears": f"clears now; keeps clearing while {r.direction} {value}",
            "never": "no value in range clears it",
            "always": "clears across its whole range",
        }[r.status]
        note = f"<br><i class='tcpmf-lever-note'>⚠ {html.escape(r.note)}</i>" if getattr(r, "note", "") else ""
        rows.append(f"<tr><td>{html.escape(r.label)}</td><td style='text-align:right'>{current}</td>"
                    f"<td>{html.escape(meaning)}{note}</td></tr>")
    return ("<table class='tcpmf-levers-table'><tr><th>lever (others held)</th><th>now</th><th>what it takes</th></tr>"
            + "".join(rows) + "</table>")


def _widen(slider: widgets.FloatSlider, value: float) -> None:
    """Extend *slider*'s range (to a nice number) so that it holds *value*; never narrows it."""
    if value > slider.max:
        slider.max = _nice_ceiling(value)
    if value < slider.min:
        slider.min = -_nice_ceiling(-value) if value < 0 else 0.0


def enable_offline() -> None:
    """Render every chart with the JavaScript shipped in the installed packages (no network):
    persistent ``alt.JupyterChart`` widgets, and plain Altair charts shown in a notebook too."""
    alt.JupyterChart.enable_offline()
    alt.renderers.enable("jupyter", offline=True)


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

    def __init__(self, scenario: Scenario | str | Path, products: Sequence[str | Path] | None = None,
                 show_levers: bool = True) -> None:
        enable_offline()
        self.show_levers = show_levers
        bundled = sorted((assumptions_dir() / "products").glob("*.yaml")) if products is None else [Path(p) for p in products]
        self.base = scenario if isinstance(scenario, Scenario) else load(scenario)
        loaded = [(load(p), p) for p in bundled]
        options = [(s.name, str(p)) for s, p in loaded if getattr(s, "kind", "consumer") == "consumer"]
        if self.base.name not in [name for name, _ in options]:
            options.insert(0, (self.base.name, ""))
        self._paths = {name: path for name, path in options}
        self.product = widgets.Dropdown(options=[name for name, _ in options], value=self.base.name,
                                        description="product", layout=widgets.Layout(width="480px"))
        self.model = widgets.Dropdown(description="model", layout=widgets.Layout(width="480px"))
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
        self.levers = widgets.HTML(layout=widgets.Layout(flex="1 1 380px", min_width="0", overflow="auto"))
        self.levers.add_class("tcpmf-levers")
        self.charts: dict[str, alt.JupyterChart] = {}
        self.result: Result | None = None
        self.scenario: Scenario = self.base
        self.error: str | None = None
        self._quiet = False
        self.path = widgets.Text(placeholder="path of a scenario YAML file", description="file",
                                 style={"description_width": "40px"}, layout=widgets.Layout(width="420px"))
        self.path.add_class("tcpmf-path")
        self.open_button = widgets.Button(description="open")
        self.save_button = widgets.Button(description="save")
        self.reset_button = widgets.Button(description="reset to file")
        self.pin_button = widgets.Button(description="pin to compare")
        self.pin_button.on_click(lambda _: self.pin())
        self.compare = widgets.HTML()
        self.compare.add_class("tcpmf-compare")
        self.pinned: tuple[str, Result] | None = None
        self.open_button.on_click(lambda _: self.open(self.path.value))
        self.save_button.on_click(lambda _: self.save(self.path.value))
        self.reset_button.on_click(lambda _: self.reset())
        self.product.observe(self._on_product, names="value")
        self.model.observe(self._on_model, names="value")
        self._build(self.base)
        chart_box = widgets.VBox([self.charts["cash"],
                                  widgets.HBox([self.charts["users"], self.charts["unit"]],
                                               layout=widgets.Layout(flex_flow="row wrap")),
                                  self.charts["frontier"]])
        self.widget = widgets.VBox([
            widgets.HBox([self.product, self.model], layout=widgets.Layout(flex_flow="row wrap")),
            widgets.HBox([self.path, self.open_button, self.save_button, self.reset_button, self.pin_button],
                         layout=widgets.Layout(flex_flow="row wrap")),
            self.verdict,
            self.message,
            self.paid_note,
            self.compare,
            # side by side when there is room, the lever table below the sliders when there is not
            widgets.HBox([self.slider_box, self.levers], layout=widgets.Layout(flex_flow="row wrap", align_items="flex-start")),
            chart_box,
        ])
        self.widget.add_class("tcpmf-app")

    # -- building ---------------------------------------------------------------------------------

    def _build(self, s: Scenario) -> None:
        """Sliders, model options and charts for a new product."""
        self._quiet = True
        self._file_scenario = s
        self.base = s
        names = model_names()
        self._as_in_file = model_label(s)
        if self._as_in_file != s.model.name:  # a mix of routes or a self-hosted model: as in the file
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
            slider = widgets.FloatSlider(value=c.value, min=c.low, max=c.high, step=step, description=c.label,
                                         continuous_update=False, readout=False,
                                         style={"description_width": "150px"}, layout=widgets.Layout(width="340px"))
            slider.add_class(f"tcpmf-slider-{c.name}")
            slider.observe(self._on_slider, names="value")
            box = widgets.Text(value=plain_number(c.value, 4), continuous_update=False, layout=widgets.Layout(width="110px"))
            box.add_class(f"tcpmf-typed-{c.name}")
            box.observe(lambda change, name=c.name: self._on_typed(name, change["new"]), names="value")
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

    def _show_values(self) -> None:
        """Each slider's value in its box (plain digits)."""
        quiet, self._quiet = self._quiet, True
        for name, slider in self.sliders.items():
            text = plain_number(slider.value, 4)
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
        value, problem = parse_typed(control, text, slider.value)
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
        moved = [self.controls[n].label for n in ("tokens_per_call", "usd_per_mtok")
                 if n in self.sliders and self.sliders[n].value != self._start[n]]
        try:
            saved = self.scenario.save(target)
        except OSError as exc:
            self._say(f"cannot save to {target}: {exc.strerror}")
            return None
        note = (f" — not saved: {', '.join(moved)} (they move computed columns, not a key of the file)" if moved else "")
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
        levers = what_it_takes(self.scenario, arrays=self.result.arrays) if self.show_levers else None
        self.pinned = (verdict_headline(self.result, levers), self.result)
        self.update()

    def _compare_html(self, headline: str, result: Result) -> str:
        if self.pinned is None:
            return ""
        cells = []
        for label, (text, r) in (("pinned", self.pinned), ("now", (headline, result))):
            row = r.summary.iloc[0]

            def month(key: str, row: Any = row) -> str:
                return "—" if pd.isna(row[key]) else str(int(row[key]))

            cells.append(
                f"<tr><td><b>{label}</b></td><td>{html.escape(text)}</td>"
                f"<td style='text-align:right'>{_money(float(row['contribution_usd_per_mau_m0']))}</td>"
                f"<td style='text-align:right'>{month('breakeven_month')}</td><td style='text-align:right'>{month('payback_month')}</td>"
                f"<td style='text-align:right'>{_money(float(row['peak_funding_usd']))}</td></tr>")
        return ("<table class='tcpmf-compare-table'><tr><th></th><th>verdict</th><th>contribution $/user, m0</th>"
                "<th>break-even month</th><th>payback month</th><th>peak funding</th></tr>" + "".join(cells) + "</table>")

    def _compare_cash(self, result: Result) -> alt.Chart:
        assert self.pinned is not None
        frames = [r.monthly[["month", "cash_usd"]].assign(state=label)
                  for label, r in (("pinned", self.pinned[1]), ("now", result))]
        return alt.Chart(pd.concat(frames, ignore_index=True), width=760, height=220,
                         title="Cash J-curve — pinned vs now").mark_line().encode(
            x=alt.X("month:Q", title="month"),
            y=alt.Y("cash_usd:Q", title="cumulative cash, USD", axis=alt.Axis(format="~s")),
            color=alt.Color("state:N", sort=["pinned", "now"], legend=alt.Legend(orient="bottom", title=None)),
            strokeDash=alt.StrokeDash("state:N", sort=["pinned", "now"], legend=None))

    def _say(self, text: str, error: bool = True) -> None:
        color = "#c62828" if error else "#2e7d32"
        self.message.value = f"<b style='color:{color}'>{'⚠ ' if error else ''}{html.escape(text)}</b>"

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
            s = self.base if name == self._as_in_file else charts.on_model(self.base, name, name=f"{self.base.name} → {name}")
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
            for name, c in self.controls.items() if c.key is not None and name in moved}
        r = self._model_scenario.retention
        if "retention.beta" in overrides and isinstance(r, ShiftedBetaGeometric):  # the slider is r1
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
            "frontier": charts.breakeven_frontier(result.scenarios[0], arrays=result.arrays, points=31,
                                                  width=640, height=220),
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
        headline = verdict_headline(result, levers)
        color = "#2e7d32" if headline.startswith("Clears") else "#c62828"
        self.verdict.value = (f"<b class='tcpmf-headline' style='color:{color};font-size:1.25em'>{html.escape(headline)}</b>"
                              f"<div class='tcpmf-details' style='color:#444;font-size:0.9em'>{html.escape(verdict_text(result))}</div>")
        specs = self.chart_specs(result)
        self.compare.value = self._compare_html(headline, result)
        note = paid_share_note(result.arrays)
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
            self.levers.value = _levers_html(levers)
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

    def __init__(self, annual_cost_decline: float = 10.0, horizon_months: int = 120, model: str | None = None) -> None:
        enable_offline()
        self.horizon_months = horizon_months
        self.model = model
        self.slider = widgets.FloatLogSlider(value=annual_cost_decline, base=10, min=0, max=2, step=0.01,
                                             description="decline ×/yr", continuous_update=False, readout_format=".3g")
        self.slider.add_class("tcpmf-slider-decline")
        self.frame = self._frame()
        self.chart = alt.JupyterChart(charts.tcpmf_timeline(self.frame, horizon_months))
        self.table = widgets.HTML(self._table())
        self.slider.observe(self._on_change, names="value")
        self.widget = widgets.VBox([self.slider, self.chart, self.table])

    def _frame(self) -> pd.DataFrame:
        # projected: the start price of the floor's cheapest model falls by the slider's factor from month 0
        return timeline(annual_cost_decline=float(self.slider.value), horizon_months=self.horizon_months, model=self.model,
                        price_path="projected")

    def _table(self) -> str:
        shown = self.frame[["category", "predicted_stage", "model", "contribution_usd_per_mau_m0", "tcpmf_calendar_month"]]
        return str(shown.to_html(index=False, na_rep="—", float_format=lambda x: f"{x:,.3g}"))

    def _on_change(self, change: dict[str, Any]) -> None:
        self.frame = self._frame()
        self.chart.chart = charts.tcpmf_timeline(self.frame, self.horizon_months)
        self.table.value = self._table()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)
