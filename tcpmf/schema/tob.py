"""Scenario sections of business (ToB) products: ``deal:``, ``labor:`` and ``maas:``.

A ToB scenario (``segment: tob``) is one of three kinds:

- **deal-based** — a ``deal:`` section: seats × seat price or a project fee, won by bidding, with
  delivery, a cloud or private deployment, keep-current service and a sales pipeline
  (:mod:`tcpmf.model.deals`).  An optional ``labor:`` section prices the human work the seats replace;
- **MaaS vendor** — a ``maas:`` section: tokens sold at a price per 1M, served on the vendor's own
  GPUs (``model.route: self_host``) or bought from an API, with a free-tier share;
- **small-B subscription** — neither section: the consumer sections (``usage``, ``retention``,
  ``revenue``, ``growth``) run through the per-user engine unchanged, with the small business's
  own churn and CAC.

Money keys are USD (``*_usd*``); a CNY amount converts via ``{value: 2500, currency: CNY, ...}``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, Field

from tcpmf.catalog.prices import model_price
from tcpmf.core.errors import MISSING
from tcpmf.core.sections import Section, Share, Usd, UsdPerUnit

if TYPE_CHECKING:
    from tcpmf.schema.scenario import Scenario

__all__ = [
    "TOB_CATEGORIES",
    "Cloud",
    "Deal",
    "KeepCurrent",
    "Labor",
    "Maas",
    "PrivateDeployment",
    "SeatInference",
    "check_tob_relations",
]

#: Categories of business products (``segment: tob``).
TOB_CATEGORIES = (
    "customer_service",
    "coding_assistant",
    "knowledge_rag",
    "digital_human_livestream",
    "maas_api",
)

Tokens = Annotated[float, Field(ge=0, le=1e9)]
Months = Annotated[int, Field(ge=1, le=240)]


class Cloud(Section):
    """Served from the vendor's cloud: inference is billed per token at the scenario's model price."""

    kind: Literal["cloud"]


class PrivateDeployment(Section):
    """On the customer's premises: a server bought at signing, plus operations; no token bill.

    A deal is charged ``hardware_capex_usd · L / min(amortization_months, expected customer life)``
    (docs/model.md §7.1): a deal that does not renew bears its whole server.
    """

    kind: Literal["private"]
    hardware_capex_usd: Usd = Field(description="servers and GPUs bought for the deployment")
    amortization_months: Months = Field(
        description="months the server lasts (its write-off); a customer outliving it buys another"
    )
    operations_usd_per_month: Usd = Field(
        description="power, hosting and on-site operations a month"
    )


Deployment = Annotated[Cloud | PrivateDeployment, Field(discriminator="kind")]


class SeatInference(Section):
    """Tokens one seat uses a working day (cloud deployments are billed for them)."""

    active_days_per_month: Annotated[float, Field(ge=0, le=31)]
    input_tokens_per_seat_day: Tokens
    output_tokens_per_seat_day: Tokens


class KeepCurrent(Section):
    """Updates that keep a customized or private deployment close to the vendor's online model."""

    updates_per_year: Annotated[float, Field(ge=0, le=52)] = Field(
        description="e.g. 4 to stay within about three months of the online model; 0 for none"
    )
    person_days_per_update: Annotated[float, Field(ge=0, le=1e5)] = Field(
        description="re-integration, regression tests and re-deployment, at the deal's day rate"
    )


class Deal(Section):
    """One ToB deal and the pipeline that wins it (docs/model.md, ToB).

    The cost side has no defaults: delivery, day rate, deployment, keep-current service, sales cost,
    sales cycle and renewal rate must be given (0 where that is the assumption), so that a missing
    key is reported instead of silently costing nothing.
    """

    seats: Annotated[float, Field(ge=0, le=1e7)] = 0.0
    seat_price_usd_per_month: UsdPerUnit = Field(0.0, description="list price of one seat a month")
    project_fee_usd: Usd = Field(
        0.0, description="one-off list price of the project, paid at signing"
    )
    bidding_discount: Annotated[float, Field(ge=0, lt=1)] = Field(
        0.0, description="discount off list price conceded to win the bid"
    )
    contract_months: Months
    renewal_rate: Share = Field(description="share of contracts renewed at the end of each term")
    delivery_person_days: Annotated[float, Field(ge=0, le=1e6)] = Field(
        description="customization and integration work at signing"
    )
    usd_per_person_day: UsdPerUnit = Field(description="fully loaded cost of an engineer-day")
    deployment: Deployment = Field(
        description="{kind: cloud}, or {kind: private, ...} with the hardware"
    )
    inference: SeatInference | None = Field(
        None, description="tokens per seat-day; leave out when a labor section gives the work"
    )
    keep_current: KeepCurrent = Field(
        description="updates a year and person-days per update (0 for none)"
    )
    sales_usd_per_bid: Usd = Field(description="pre-sales and bidding cost of one bid, won or lost")
    bids_per_month: Annotated[float, Field(ge=0, le=1e5)] = Field(
        description="bids entered each month"
    )
    win_rate: Annotated[float, Field(gt=0, le=1)]
    sales_cycle_months: Annotated[int, Field(ge=0, le=60)] = Field(
        description="months from entering a bid to signing"
    )


class Labor(Section):
    """The human work a seat replaces, for the value ceiling of a seat (labor substitution)."""

    human_usd_per_agent_day: UsdPerUnit = Field(description="fully loaded cost of one agent-day")
    output_chars_per_agent_day: Annotated[float, Field(ge=0, le=1e8)] = Field(
        description="characters of output (e.g. replies) one agent produces a day"
    )
    tokens_per_char: Annotated[float, Field(gt=0, le=10)] = Field(
        description="output tokens per character of text in the work's language"
    )
    input_tokens_per_output_token: Annotated[float, Field(ge=0, le=1000)] = Field(
        description="prompt, context and history read per token written"
    )
    agent_days_per_month: Annotated[float, Field(gt=0, le=31)]
    automation_share: Share = Field(
        1.0, description="share of the agent's work the model takes over"
    )
    buyer_saving_share: Annotated[float, Field(ge=0, lt=1)] = Field(
        0.0, description="share of the labor saving the buyer insists on keeping"
    )


class Maas(Section):
    """A model-as-a-service vendor: tokens sold at a price per 1M, with a free tier."""

    price_model: str | None = Field(
        None,
        min_length=1,
        description="sell at this catalog model's list price in force at start_month",
    )
    usd_per_mtok_in: UsdPerUnit | None = Field(
        None, description="selling price per 1M input tokens"
    )
    usd_per_mtok_out: UsdPerUnit | None = Field(
        None, description="selling price per 1M output tokens"
    )
    input_token_share: Share = Field(description="share of the tokens served that are input")
    free_token_share: Annotated[float, Field(ge=0, lt=1)] = Field(
        0.0, description="share of the tokens served free (free tier, trial quotas)"
    )
    mtok_per_month: Annotated[float, Field(ge=0, le=1e12)] = Field(
        description="millions of tokens served in month 0, free and paid"
    )
    monthly_growth: Annotated[float, Field(ge=-1, le=5)] = 0.0
    price_annual_decline: Annotated[float, Field(ge=0.1, le=1000)] = Field(
        1.0, description="factor per year by which the selling price falls (price war); 1 = flat"
    )


Fail = Callable[[str, Any, str], None]


def _shown(section: BaseModel | None) -> Any:
    """A section as the mapping the file gave (for the value part of an error message)."""
    return None if section is None else section.model_dump(exclude_none=True, exclude_defaults=True)


def check_tob_relations(s: Scenario, fail: Fail) -> None:  # noqa: C901  # a flat list of independent rules, each one if
    """Checks across keys of the ToB sections; *fail(path, value, allowed)* raises."""
    tob = s.deal is not None or s.maas is not None
    if tob and s.segment != "tob":
        fail("segment", s.segment, "tob for a scenario with a deal or maas section")
    if s.deal is not None and s.maas is not None:
        fail("maas", _shown(s.maas), "either a deal section or a maas section, not both")
    if s.labor is not None and s.deal is None:
        fail(
            "labor",
            _shown(s.labor),
            "a labor section only together with a deal section (a seat is its unit)",
        )
    if not tob:
        for key in ("usage", "retention"):
            if getattr(s, key) is None:
                fail(
                    key,
                    MISSING,
                    "required key is missing: a consumer product, or a ToB subscription without a deal or maas "
                    "section, needs usage and retention",
                )
        return
    for key in ("usage", "retention"):
        if getattr(s, key) is not None:
            fail(
                key,
                _shown(getattr(s, key)),
                f"no {key} section in a deal or maas scenario (the deal or maas section sets volume)",
            )
    if any(getattr(s.revenue, stream) is not None for stream in type(s.revenue).model_fields):
        fail(
            "revenue",
            _shown(s.revenue),
            "no revenue section in a deal or maas scenario (its prices are in deal or maas)",
        )
    if s.growth != type(s.growth)():
        fail(
            "growth",
            _shown(s.growth),
            "no growth section in a deal or maas scenario (deals come from bids_per_month)",
        )
    if s.costs.other_variable_usd_per_mau:
        fail(
            "costs.other_variable_usd_per_mau",
            s.costs.other_variable_usd_per_mau,
            "0 in a deal or maas scenario",
        )
    m = s.model
    if m.routes is not None:
        fail(
            "model.routes",
            [r.name for r in m.routes],
            "one model (route and name) in a deal or maas scenario",
        )
    host = m.self_host
    if m.route == "self_host" and host is not None:
        measured = (
            host.input_tokens_per_s_per_replica is not None
            and host.output_tokens_per_s_per_replica is not None
        )
        if not measured or host.utilization is None:
            fail(
                "model.self_host",
                _shown(host),
                "measured input and output throughputs and a fixed utilization in a deal or maas scenario",
            )
    if s.deal is not None:
        _check_deal(s, fail)
    if s.maas is not None:
        _check_maas(s, fail)


def _check_deal(s: Scenario, fail: Fail) -> None:
    d = s.deal
    assert d is not None
    if d.seat_price_usd_per_month == 0 and d.project_fee_usd == 0:
        fail("deal.seat_price_usd_per_month", 0, "a positive seat price or a positive project fee")
    if d.seat_price_usd_per_month > 0 and d.seats == 0:
        fail("deal.seats", d.seats, "at least one seat when a seat price is given")
    if d.inference is not None and s.labor is not None:
        fail(
            "deal.inference",
            _shown(d.inference),
            "no deal.inference when a labor section gives the work (tokens follow from it)",
        )
    if d.deployment.kind == "cloud" and d.inference is None and s.labor is None:
        fail(
            "deal.inference",
            None,
            "tokens per seat-day (deal.inference or a labor section) for a cloud deployment",
        )
    work = (
        d.delivery_person_days
        + d.keep_current.updates_per_year * d.keep_current.person_days_per_update
    )
    if work > 0 and d.usd_per_person_day == 0:
        fail(
            "deal.usd_per_person_day",
            0,
            "a positive day rate when delivery or keep-current work is planned",
        )


def _check_maas(s: Scenario, fail: Fail) -> None:
    m = s.maas
    assert m is not None
    explicit = m.usd_per_mtok_in is not None, m.usd_per_mtok_out is not None
    if explicit[0] != explicit[1]:
        fail(
            "maas.usd_per_mtok_in",
            m.usd_per_mtok_in,
            "both usd_per_mtok_in and usd_per_mtok_out, or neither",
        )
    if explicit[0] == (m.price_model is not None):
        fail(
            "maas.price_model",
            m.price_model,
            "either price_model or usd_per_mtok_in and usd_per_mtok_out (one of the two)",
        )
    if m.price_model is not None:
        try:
            model_price(m.price_model, s.start_month)
        except KeyError as exc:
            fail("maas.price_model", m.price_model, exc.args[0])
        except LookupError as exc:
            fail(
                "maas.price_model", m.price_model, f"{exc.args[0]} (start_month is {s.start_month})"
            )
