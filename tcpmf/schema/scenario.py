"""The scenario: one product's assumptions, validated once.

A scenario file is YAML.  It may ``extends:`` other files (deep merge), and any number in it may be
written plain (``0.14``) or annotated with where it comes from::

    dau_per_mau: {value: 0.14, source: "Sequoia, Generative AI's Act Two, 2023-09"}
    sessions_per_day: {value: 2, assumed: "no public figure; ChatGPT users average about 16 min/day"}
    fixed_usd_per_month: {value: 300000, currency: CNY, source: "..."}

Money is USD inside: a ``currency: CNY`` annotation converts at the rate in force at the
scenario's ``start_month`` (``assumptions/catalog/fx.yaml``).  Unknown keys are errors.
"""

from __future__ import annotations

import copy
import datetime
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Optional, TypeAlias

import numpy as np
from pydantic import (
    BeforeValidator,
    Field,
    PrivateAttr,
    ValidationError,
    WithJsonSchema,
)

from tcpmf.catalog.prices import cny_per_usd, gpu_rent, model_price
from tcpmf.core.errors import AssumptionError, TcpmfError
from tcpmf.core.months import MONTH_PATTERN, is_month
from tcpmf.core.sections import Section, Share, Usd, UsdPerUnit
from tcpmf.core.yamlio import VARIANT_KEYS, display_path, origin_file, read_tree, validation_error
from tcpmf.schema.distributions import (
    U_HIGH,
    U_LOW,
    Choice,
    Distribution,
    parse_distribution,
    support_probe,
)
from tcpmf.schema.tob import TOB_CATEGORIES, Deal, Labor, Maas, check_tob_relations

__all__ = [
    "Ads",
    "CapabilityScore",
    "Commerce",
    "Competition",
    "Costs",
    "Finance",
    "Growth",
    "Moat",
    "ModelChoice",
    "Monetization",
    "Plateau",
    "PowerLaw",
    "Revenue",
    "Route",
    "Scenario",
    "SelfHost",
    "ShiftedBetaGeometric",
    "Subscription",
    "TableRetention",
    "Usage",
    "UsageBased",
    "from_dict",
    "load",
]

TOC_CATEGORIES = ("productivity", "entertainment", "search", "ecommerce", "social", "short_video")
ANNOTATION_KEYS = frozenset({"value", "source", "assumed", "currency", "note"})

# Bounds are generous for any real product and keep the arithmetic far from overflow; an input
# that still overflows stops evaluation with a clear error (never a NaN or an infinity).
Count = Annotated[float, Field(ge=0, le=1e6)]
Tokens = Annotated[float, Field(ge=0, le=1e8)]
Users = Annotated[float, Field(ge=0, le=1e10)]


class SelfHost(Section):
    """Serving on rented GPUs (docs/model.md §1): ``c = g·G / (3600·θ·u) · 1e6`` USD per 1M tokens.

    Throughput is given (``*_tokens_per_s_per_replica``) or estimated by the roofline from an
    ``architecture`` (:mod:`tcpmf.catalog.roofline`).  Utilization is given (``utilization``, a fixed
    share) or follows demand: with ``peak_to_average``, replicas(t) = max(min_replicas,
    ⌈peak_to_average · average demand(t) / replica capacity⌉), see :mod:`tcpmf.model.capacity`.
    """

    gpu: str = Field(description="GPU catalog key (assumptions/catalog/gpus.yaml)")
    gpus_per_replica: Annotated[int, Field(ge=1, le=1024)] = 1
    output_tokens_per_s_per_replica: Annotated[float, Field(gt=0, le=1e8)] | None = Field(
        None, description="measured decode throughput; or give architecture to estimate it"
    )
    input_tokens_per_s_per_replica: Annotated[float, Field(gt=0, le=1e9)] | None = Field(
        None, description="measured prefill throughput; or give architecture to estimate it"
    )
    architecture: str | None = Field(
        None,
        description="architecture catalog key (assumptions/catalog/architectures.yaml): roofline estimate",
    )
    precision: Literal["fp8", "bf16"] = Field(
        "fp8", description="weights and KV cache precision (roofline)"
    )
    batch: Annotated[int, Field(ge=1, le=1_000_000)] | None = Field(
        None, description="serving batch (roofline); default the largest that fits memory, capped"
    )
    context_tokens: Annotated[int, Field(ge=1, le=10_000_000)] | None = Field(
        None, description="context per sequence (roofline); default input + output tokens per call"
    )
    utilization: Annotated[float, Field(ge=0.01, le=1)] | None = Field(
        None,
        description="fixed share of paid GPU-hours that serve useful traffic; or give peak_to_average",
    )
    peak_to_average: Annotated[float, Field(ge=1, le=100)] | None = Field(
        None, description="peak over average token demand: replicas follow the month's demand"
    )
    min_replicas: Annotated[int, Field(ge=1, le=1_000_000)] = Field(
        1, description="replicas kept running however small the demand"
    )
    peak_output_tokens_per_s_per_user: Annotated[float, Field(gt=0, le=1e6)] | None = Field(
        None, description="output speed one active user is served at (concurrent users per replica)"
    )
    usd_per_gpu_hour: Annotated[float, Field(gt=0, le=1e4)] | None = Field(
        None, description="rent override; default: the GPU catalog's rent in force at start_month"
    )


class Route(Section):
    """A share of the product's calls sent to one model: an API catalog model or the self-host route."""

    name: str = Field(
        min_length=1, description="model catalog key, or a label of the self-hosted model"
    )
    share: Annotated[float, Field(gt=0, le=1)] = Field(description="share of calls (and tokens)")
    route: Literal["api", "self_host"] = "api"


def _is_number_text(text: str) -> bool:
    try:
        float(text.strip().removesuffix("%"))
    except ValueError:
        return False
    return True


def _fitted_decline(value: Any) -> Any:
    """``"fitted:<tier>"`` → the decline factor fitted to the dated catalog (tcpmf.catalog.decline)."""
    if isinstance(value, str) and value.startswith("fitted:"):
        from tcpmf.catalog.decline import fitted_decline

        return fitted_decline(value.removeprefix("fitted:").strip())
    if isinstance(value, str) and not _is_number_text(
        value
    ):  # "1e3": the float check explains YAML 1.1
        raise ValueError(
            "must be a number in [1, 1000], or fitted:<tier> for the decline fitted to the dated "
            "catalog (e.g. fitted:gpt-4-class; `tcpmf decline` lists the tiers)"
        )
    return value


DeclineFactor = Annotated[
    float,
    Field(ge=1, le=1000),
    BeforeValidator(_fitted_decline),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 1, "maximum": 1000},
                {"type": "string", "pattern": "^fitted:"},
            ]
        }
    ),
]


class CapabilityScore(Section):
    """A capability floor on a named benchmark of ``catalog/capability.yaml``:
    ``model.capability: {benchmark: mmlu_pro_2024_07, min_score: 60}``."""

    benchmark: str = Field(
        min_length=1, description="a benchmark of catalog/capability.yaml (capability.benchmarks)"
    )
    min_score: Annotated[float, Field(allow_inf_nan=False)] = Field(
        description="the least score a model must have on that benchmark, in its own units"
    )


class ModelChoice(Section):
    """Which model serves the product, at what price, and how fast that price falls."""

    route: Literal["api", "self_host"] = "api"
    name: str = Field(
        min_length=1, description="model catalog key (assumptions/catalog/models.yaml)"
    )
    annual_cost_decline: DeclineFactor = Field(
        1.0,
        description="factor per year: 4 means four times cheaper each year; 1 means flat; "
        "or fitted:<tier> for the decline fitted to the dated catalog",
    )
    routes: list[Route] | None = Field(
        None,
        description="shares of calls sent to several models (shares sum to 1); replaces route/name for cost",
    )
    cached_input_share: Share = Field(0.0, description="share of input tokens served from cache")
    cached_input_price_factor: Share | None = Field(
        None, description="cached price as a share of the input price; default: the catalog's"
    )
    price_discount: Annotated[float, Field(ge=0, lt=1)] = Field(
        0.0, description="discount on list price (negotiated, batch or off-peak)"
    )
    usd_per_mtok_in: UsdPerUnit | None = Field(None, description="input price override, USD per 1M")
    usd_per_mtok_out: UsdPerUnit | None = Field(
        None, description="output price override, USD per 1M"
    )
    self_host: SelfHost | None = None
    capability: str | Annotated[float, Field(allow_inf_nan=False)] | CapabilityScore | None = Field(
        None,
        description="capability floor instead of a model name: a tier of catalog/capability.yaml "
        "(e.g. gpt-4-class), a minimum score on the tiers' benchmark, or {benchmark, min_score} on "
        "another of its benchmarks; the model is the cheapest meeting it each month",
    )
    price_path: Literal["projected", "hindsight"] | None = Field(
        None,
        description="projected: the start_month price falling by annual_cost_decline (default for a named "
        "model); hindsight: the dated catalog inside the horizon, then annual_cost_decline (default for a floor)",
    )


class Usage(Section):
    """Usage per monthly active user (docs/model.md §2)."""

    dau_per_mau: Share
    sessions_per_day: Count
    requests_per_session: Count
    calls_per_request: Annotated[float, Field(ge=0, le=1000)] = 1.0
    input_tokens_per_call: Tokens
    output_tokens_per_call: Tokens
    paid_usage_multiplier: Annotated[float, Field(ge=0, le=100)] = Field(
        1.0, description="a paying user's usage relative to a free user's"
    )
    output_tokens_per_s_per_user: Annotated[float, Field(gt=0, le=10000)] | None = Field(
        None,
        description="output tokens/s each user must be served at (a reply of output_tokens_per_call takes "
        "output_tokens_per_call / this seconds); caps the batch of a self-hosted architecture; absent: no cap",
    )


class Monetization(Section):
    """When a revenue stream starts earning, and how fast it ramps (docs/model.md §3).

    The stream earns nothing before month ``t0 = max(⌈from_month⌉, first month with MAU ≥ from_mau)``
    and ``min(1, (t − t0 + 1) / max(ramp_months, 1))`` of its full value from ``t0`` on
    ("pile up users first, then find monetization").  Absent: full value from month 0.
    """

    from_month: Annotated[float, Field(ge=0, le=600)] = Field(
        0.0,
        description="months after start_month before the stream earns anything; 0 = from the start",
    )
    from_mau: Users = Field(
        0.0,
        description="monthly active users the product must reach before the stream earns; 0 = none",
    )
    ramp_months: Annotated[float, Field(ge=0, le=600)] = Field(
        0.0,
        description="months over which the stream rises linearly to its full value once started; 0 = at once",
    )


class Subscription(Section):
    """``paid_share(p) = min(1, paid_share · (p / p_ref)^(−price_elasticity))`` (docs/model.md §3)."""

    price_usd_per_month: UsdPerUnit
    paid_share: Share = Field(description="share of MAU paying at the reference price")
    store_fee: Share = 0.0
    price_elasticity: Annotated[float, Field(ge=0, le=20)] = Field(
        0.0,
        description="constant price elasticity of the paid share around the reference price; 0 = none",
    )
    reference_price_usd_per_month: UsdPerUnit | None = Field(
        None,
        description="price at which paid_share was observed; default: the file's price (kept on override)",
    )
    monetization: Monetization | None = Field(
        None, description="a late start and ramp; absent: full value from month 0"
    )


class Ads(Section):
    impressions_per_session: Count
    rpm_usd: UsdPerUnit = Field(description="ad revenue per 1,000 impressions, USD")
    free_tier_only: bool = Field(True, description="paying subscribers see no ads")
    monetization: Monetization | None = Field(
        None, description="a late start and ramp; absent: full value from month 0"
    )


class UsageBased(Section):
    """Tokens resold to users (API or MaaS sellers)."""

    usd_per_mtok_in: UsdPerUnit
    usd_per_mtok_out: UsdPerUnit
    monetization: Monetization | None = Field(
        None, description="a late start and ramp; absent: full value from month 0"
    )


class Commerce(Section):
    gmv_usd_per_mau: UsdPerUnit
    take_rate: Share
    monetization: Monetization | None = Field(
        None, description="a late start and ramp; absent: full value from month 0"
    )


class Revenue(Section):
    subscription: Subscription | None = None
    ads: Ads | None = None
    usage: UsageBased | None = None
    commerce: Commerce | None = None


class PowerLaw(Section):
    """``r(k) = r1 · k^(−beta)`` for k ≥ 1."""

    curve: Literal["power_law"]
    period: Literal["day", "week", "month", "year"] = Field(
        "month",
        description="age unit of the parameters (r1 is the share at age 1 period); converted exactly to months",
    )
    r1: Share
    beta: Annotated[float, Field(ge=0, le=20)]


class Plateau(Section):
    """``r(k) = floor + (r1 − floor) · exp(−(k − 1)/tau)`` for k ≥ 1."""

    curve: Literal["plateau"]
    period: Literal["day", "week", "month", "year"] = Field(
        "month",
        description="age unit of the parameters (r1 is the share at age 1 period); converted exactly to months",
    )
    r1: Share
    floor: Share
    tau: Annotated[float, Field(gt=0, le=1e4)] = Field(
        description="decay time, in periods (months by default)"
    )


class ShiftedBetaGeometric(Section):
    """``S(k) = B(alpha, beta + k) / B(alpha, beta)`` (Fader & Hardie 2007)."""

    curve: Literal["sbg"]
    period: Literal["day", "week", "month", "year"] = Field(
        "month",
        description="age unit of the parameters (r1 is the share at age 1 period); converted exactly to months",
    )
    alpha: Annotated[float, Field(gt=0, le=1e4)]
    beta: Annotated[float, Field(gt=0, le=1e4)]


class TableRetention(Section):
    """Observed retention at some ages, interpolated linearly and held flat after the last."""

    curve: Literal["table"]
    period: Literal["day", "week", "month", "year"] = Field(
        "month",
        description="age unit of the parameters (r1 is the share at age 1 period); converted exactly to months",
    )
    points: dict[Annotated[int, Field(ge=1, le=600)], Share] = Field(min_length=1)


Retention = Annotated[
    PowerLaw | Plateau | ShiftedBetaGeometric | TableRetention, Field(discriminator="curve")
]
# Scenario.retention is None in a deal or maas scenario: the tagged union must admit None so that
# model_dump serializes it without a "failed to get discriminator value" warning; typed as present.
if TYPE_CHECKING:
    _RetentionOrNone: TypeAlias = Retention
else:
    _RetentionOrNone = Optional[Retention]  # noqa: UP045 (a runtime alias of the annotated union)


class Growth(Section):
    """New users in month t = organic · (1 + monthly_growth)^t + paid_budget / cac."""

    organic_new_users_per_month: Users = 0.0
    monthly_growth: Annotated[float, Field(ge=-1, le=1)] = Field(
        0.0,
        description="growth of organic new users per month: 0.05 is 5% a month, 1 doubles monthly",
    )
    paid_budget_usd_per_month: Usd = 0.0
    cac_usd: Annotated[float, Field(ge=0.01, le=1e6)] | None = Field(
        None, description="cost to acquire one paid user, USD"
    )


class Moat(Section):
    """What the startup built before the incumbent entered, and how much of each effect it offsets
    (docs/model.md §6.2): ``offset = Σ weight_i · (1 − 2^(−built_i / half_i))``, each component half
    built at its ``half`` value.  Weights add up to at most 1 (a full moat offsets that share)."""

    active_users_half: Users = Field(
        0.0,
        description="active users at entry (scale, social graph) at which this component is half built; 0 = unused",
    )
    active_users_weight: Share = Field(
        0.0, description="share of each effect a full scale moat offsets"
    )
    cumulative_users_half: Users = Field(
        0.0,
        description="users ever acquired before entry (data) at which this component is half built; 0 = unused",
    )
    cumulative_users_weight: Share = Field(
        0.0, description="share of each effect a full data moat offsets"
    )
    brand_spend_half_usd: Usd = Field(
        0.0,
        description="cumulative marketing spend before entry, USD, at which the brand component is half built; 0 = unused",
    )
    brand_spend_weight: Share = Field(
        0.0, description="share of each effect a full brand moat offsets"
    )


class Competition(Section):
    """An incumbent enters and takes part of the market (docs/model.md §6.2).  Absent: the market stays
    the product's for the whole horizon.

    The incumbent enters ``entry_months_after_tcpmf`` months after the product's TC-PMF month (as
    computed without competition; it never enters a product that does not reach TC-PMF), or at the
    fixed ``entry_month``; its effects rise linearly to full over ``ramp_months``.  Each effect at
    full strength is scaled by ``1 − moat offset``."""

    entry_months_after_tcpmf: Annotated[float, Field(ge=0, le=600)] | None = Field(
        None, description="months from the product's TC-PMF month to the incumbent's entry"
    )
    entry_month: Annotated[float, Field(ge=0, le=600)] | None = Field(
        None,
        description="month (after start_month) of the incumbent's entry, whatever the product's TC-PMF month",
    )
    ramp_months: Annotated[float, Field(ge=0, le=600)] = Field(
        0.0,
        description="months over which the effects rise linearly to full once the incumbent enters; 0 = at once",
    )
    organic_new_users_cut: Share = Field(
        0.0, description="share of organic new users the incumbent takes at full effect"
    )
    cac_increase: Annotated[float, Field(ge=0, le=100)] = Field(
        0.0, description="rise of the cost per paid user at full effect: CAC × (1 + this)"
    )
    added_monthly_churn: Annotated[float, Field(ge=0, le=0.5)] = Field(
        0.0,
        description="monthly churn hazard added to every cohort's retention at full effect (0.02 = 2% of users a month)",
    )
    subscription_revenue_cut: Share = Field(
        0.0,
        description="share of subscription revenue per MAU lost at full effect (a price cut or a lower paid share)",
    )
    ad_rpm_cut: Share = Field(0.0, description="share of ad RPM lost at full effect")
    moat: Moat = Moat()


class Costs(Section):
    fixed_usd_per_month: Usd = 0.0
    other_variable_usd_per_mau: UsdPerUnit = 0.0


class Finance(Section):
    discount_rate_annual: Annotated[float, Field(ge=0, le=10)] = Field(
        0.0, description="discount rate for LTV"
    )


class Scenario(Section):
    """One product's validated assumptions.

    Load one with :func:`load`; change values with :meth:`override`, which returns a validated
    copy.  A scenario is immutable.
    """

    name: str = Field(min_length=1)
    description: str | None = None
    segment: Literal["toc", "tob"] = "toc"
    category: Literal[
        "productivity",
        "entertainment",
        "search",
        "ecommerce",
        "social",
        "short_video",
        "customer_service",
        "coding_assistant",
        "knowledge_rag",
        "digital_human_livestream",
        "maas_api",
    ] = Field(description="a consumer (ToC) category, or a business (ToB) one")
    start_month: str = Field(pattern=MONTH_PATTERN, description="YYYY-MM of month 0")
    horizon_months: Annotated[int, Field(ge=1, le=240)] = 36
    target_margin: Annotated[float, Field(ge=0, lt=1)] = Field(
        0.0, description="contribution as a share of ARPU that counts as clearing; 0 = break-even"
    )
    model: ModelChoice
    # usage and retention are None exactly when kind != "consumer" (a deal or maas scenario, which
    # the per-user engine never sees); typed as present so that per-user code needs no checks.
    usage: Usage = Field(
        None, description="required unless the scenario has a deal or maas section"
    )  # type: ignore[assignment]
    revenue: Revenue = Revenue()
    retention: _RetentionOrNone = Field(
        None, description="required unless the scenario has a deal or maas section"
    )  # type: ignore[assignment]
    growth: Growth = Growth()
    costs: Costs = Costs()
    finance: Finance = Finance()
    competition: Competition | None = Field(
        None, description="an incumbent enters after TC-PMF; absent: the market stays the product's"
    )
    deal: Deal | None = Field(None, description="ToB: a deal and its sales pipeline (segment tob)")
    labor: Labor | None = Field(None, description="ToB: the human work a deal's seats replace")
    maas: Maas | None = Field(None, description="ToB: a vendor selling tokens (segment tob)")

    _file: str = PrivateAttr(default="<memory>")
    _sources: dict[str, str] = PrivateAttr(default_factory=dict)
    _raw: dict[str, Any] = PrivateAttr(default_factory=dict)
    _provenance: dict[str, str] = PrivateAttr(default_factory=dict)
    _distributions: dict[str, Distribution] = PrivateAttr(default_factory=dict)

    @property
    def kind(self) -> Literal["consumer", "deal", "maas"]:
        """Which engine evaluates it: ``consumer`` (per-user: ToC and small-B subscriptions),
        ``deal`` (deal-based ToB) or ``maas`` (a token-selling vendor); see :mod:`tcpmf.model.deals`."""
        return "deal" if self.deal is not None else "maas" if self.maas is not None else "consumer"

    @property
    def launch_month(self) -> str:
        """The month the product launches: ``start_month``, or with a capability floor
        (``model.capability``) no catalog model meets then, the first month one does; until then the
        product waits: no users, revenue or tokens, only its fixed cost (docs/model.md §1).

        Examples
        --------
        >>> from tcpmf import load
        >>> s = load("assumptions/categories/productivity.yaml")
        >>> s.launch_month == s.start_month
        True
        >>> s.override({"model.name": None, "model.capability": "frontier-reasoning"}).launch_month
        '2024-12'
        """
        if self.model.capability is None:
            return self.start_month
        from tcpmf.catalog.capability import first_month_meeting, resolve_floor

        floor = resolve_floor(self.model.capability)
        return first_month_meeting(floor, self.start_month) or self.start_month

    @property
    def file(self) -> str:
        """The file this scenario was loaded from."""
        return self._file

    @property
    def sources(self) -> dict[str, str]:
        """Source or reason of each annotated value, by dotted key path."""
        return dict(self._sources)

    @property
    def cny_keys(self) -> list[str]:
        """Dotted key paths the file gave in CNY (``currency: CNY``); the values here are USD."""
        found: list[str] = []

        def walk(tree: Any, path: str) -> None:
            if isinstance(tree, dict):
                if tree.get("currency") == "CNY" and ("value" in tree or "dist" in tree):
                    found.append(path)
                    return
                for key, value in tree.items():
                    walk(value, f"{path}.{key}" if path else str(key))

        walk(self._raw, "")
        return found

    @property
    def uncertainties(self) -> dict[str, Distribution]:
        """The distributions given in place of values, by dotted key path (CNY converted to USD);
        the scenario itself holds each one's nominal value (:mod:`tcpmf.schema.distributions`)."""
        return dict(self._distributions)

    def __eq__(self, other: object) -> bool:
        """Same assumptions: the same values, sources and uncertainties, wherever each was read from."""
        if not isinstance(other, Scenario):
            return NotImplemented
        return (
            self.__dict__ == other.__dict__
            and self._sources == other._sources
            and self._distributions == other._distributions
        )

    def __hash__(self) -> int:
        return hash((self.name, self.start_month, self.category))

    def to_yaml(self) -> str:
        """This scenario as the text of a self-contained scenario file (no ``extends``).

        Sources, ``assumed`` reasons, CNY amounts and distributions are written as they were given;
        ``load`` of the text gives an equal scenario (``load(path) == s`` after :meth:`save`).
        """
        return scenario_yaml(self)

    def save(self, path: str | Path) -> Path:
        """Write :meth:`to_yaml` to *path* (UTF-8) and return the path."""
        target = Path(path)
        target.write_text(self.to_yaml(), encoding="utf-8")
        return target

    def override(self, values: Mapping[str, Any]) -> Scenario:
        """A validated copy with dotted keys replaced: ``s.override({"usage.sessions_per_day": 4})``.

        A value may be a plain number or an annotated mapping (``{"value": 4, "source": ...}``).
        Raises :class:`~tcpmf.core.errors.AssumptionError` naming ``<override>`` for a bad key or value.
        """
        raw = copy.deepcopy(self._raw)
        provenance = dict(self._provenance)
        # Switching a variant (another retention curve) starts that section afresh.
        for dotted, value in values.items():
            section, _, key = str(dotted).rpartition(".")
            if key in VARIANT_KEYS and section:
                current = _get_or_none(raw, section)
                if isinstance(current, dict) and current.get(key) != value:
                    _set(raw, section, {})
                    provenance[section] = "<override>"
        for dotted, value in values.items():
            parts = str(dotted).split(".")
            node = raw
            for depth, part in enumerate(parts[:-1]):
                child = node.get(part)
                if child is None:
                    child = node[part] = {}
                    provenance[".".join(parts[: depth + 1])] = "<override>"
                elif not isinstance(child, dict) or "value" in child or "dist" in child:
                    raise AssumptionError(
                        "<override>", ".".join(parts[: depth + 1]), "a section with keys", child
                    )
                node = child
            node[parts[-1]] = value
            provenance[str(dotted)] = "<override>"
        _pin_reference_price(self, raw, values)
        return validate_tree(raw, self._file, provenance)


def _plain(tree: Any) -> Any:
    """A YAML-safe copy: mappings, lists, text, bool, int and float (numpy scalars unwrapped)."""
    if isinstance(tree, Mapping):
        return {key: _plain(value) for key, value in tree.items()}
    if isinstance(tree, (list, tuple)):
        return [_plain(item) for item in tree]
    if tree is None or isinstance(tree, (str, bool, int, float)):
        return tree
    item = getattr(tree, "item", None)  # a numpy scalar
    return item() if callable(item) else tree


def scenario_yaml(s: Scenario) -> str:
    """The text of a scenario file that loads back to *s* (see :meth:`Scenario.to_yaml`)."""
    import yaml

    from tcpmf.core.version import package_version

    tree = _plain(s._raw) if s._raw else s.model_dump(mode="json", exclude_none=True)
    header = f"# A tcpmf scenario (saved by tcpmf {package_version()} from {s.file}); money in USD unless a value says currency: CNY\n"
    return header + yaml.safe_dump(
        tree, sort_keys=False, allow_unicode=True, width=100, default_flow_style=False
    )


def _pin_reference_price(s: Scenario, raw: dict[str, Any], values: Mapping[str, Any]) -> None:
    """Keep the paid share's reference price at the original price when an override moves the price.

    Without this, re-validating the raw tree would default the reference to the *new* price and
    price elasticity would never act on an overridden price.
    """
    sub = s.revenue.subscription
    keys = {str(k) for k in values}
    if sub is None or sub.reference_price_usd_per_month is not None:
        return
    if (
        "revenue.subscription.price_usd_per_month" not in keys
        or "revenue.subscription.reference_price_usd_per_month" in keys
    ):
        return
    node = raw.get("revenue", {}).get("subscription")
    if isinstance(node, dict) and "value" not in node:
        node["reference_price_usd_per_month"] = sub.price_usd_per_month


def _unwrap_values(  # noqa: C901  # one branch per form a value takes (number, currency, distribution, source), each refused by name
    tree: Any,
    path: str,
    file_of: Any,
    sources: dict[str, str],
    currency_paths: list[str],
    distributions: dict[str, Distribution] | None = None,
) -> Any:
    """Replace ``{value: x, source: ...}`` mappings by x, recording sources and CNY amounts, and
    distributions ``{dist: ...}`` by their nominal value, recording them in *distributions*."""
    if isinstance(tree, dict):
        if "dist" in tree:
            dist = parse_distribution(tree, file_of(path), path)
            if distributions is None:
                raise AssumptionError(
                    file_of(path), path, "a number here, not a distribution", tree
                )
            if dist.currency == "CNY":
                if "usd" not in path.rsplit(".", 1)[-1]:
                    raise AssumptionError(
                        file_of(path),
                        f"{path}.currency",
                        "a currency only on a money key (one named *_usd*)",
                        "CNY",
                    )
                currency_paths.append(path)
            if dist.reason():
                sources[path] = f"{dist.reason()} (uncertain: {dist.dist})"
            distributions[path] = dist
            nominal = dist.nominal()
            # a whole number as an int, so that whole-number keys (horizon_months) may be uncertain
            return int(nominal) if isinstance(nominal, float) and nominal.is_integer() else nominal
        if "value" in tree:
            extra = sorted((k for k in tree if k not in ANNOTATION_KEYS), key=str)
            if extra:
                raise AssumptionError(
                    file_of(path),
                    f"{path}.{extra[0]}",
                    f"an annotated value takes only {', '.join(sorted(ANNOTATION_KEYS))}",
                    tree[extra[0]],
                )
            for key in ("source", "assumed", "note"):
                if key in tree and not (isinstance(tree[key], str) and tree[key].strip()):
                    raise AssumptionError(
                        file_of(path), f"{path}.{key}", "non-empty text", tree[key]
                    )
            if "source" in tree and "assumed" in tree:
                raise AssumptionError(
                    file_of(path), path, "either source or assumed, not both", tree
                )
            if "source" in tree:
                sources[path] = f"source: {tree['source']}"
            elif "assumed" in tree:
                sources[path] = f"assumed: {tree['assumed']}"
            currency = tree.get("currency", "USD")
            if currency not in ("USD", "CNY"):
                raise AssumptionError(file_of(path), f"{path}.currency", "USD or CNY", currency)
            if currency == "CNY":
                if "usd" not in path.rsplit(".", 1)[-1]:
                    raise AssumptionError(
                        file_of(path),
                        f"{path}.currency",
                        "a currency only on a money key (one named *_usd*)",
                        currency,
                    )
                currency_paths.append(path)
            return tree["value"]
        return {
            key: _unwrap_values(
                value,
                f"{path}.{key}" if path else str(key),
                file_of,
                sources,
                currency_paths,
                distributions,
            )
            for key, value in tree.items()
        }
    if isinstance(tree, list):
        for i, item in enumerate(tree):
            for key, value in item.items() if isinstance(item, dict) else ():
                if isinstance(value, dict) and "dist" in value:
                    raise AssumptionError(
                        file_of(path),
                        f"{path}.{i}.{key}",
                        "a number: distributions stand on keys of sections, not inside lists (route shares must "
                        "add up to 1, so one cannot be drawn alone); draw model.name, or give each mix its own scenario",
                        value,
                    )
    return tree


def _get(tree: dict[str, Any], path: str) -> Any:
    node: Any = tree
    for part in path.split("."):
        node = node[part] if isinstance(node, dict) else node[int(part)]
    return node


def _get_or_none(tree: dict[str, Any], path: str) -> Any:
    try:
        return _get(tree, path)
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def _set(tree: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    node: Any = tree
    for part in parts[:-1]:
        node = node[part]
    node[parts[-1]] = value


def validate_tree(raw: dict[str, Any], file: str, provenance: Mapping[str, str]) -> Scenario:
    def file_of(path: str) -> str:
        return origin_file(provenance, path, file)

    sources: dict[str, str] = {}
    currency_paths: list[str] = []
    distributions: dict[str, Distribution] = {}
    plain = _unwrap_values(raw, "", file_of, sources, currency_paths, distributions)
    model = plain.get("model")
    decline = model.get("annual_cost_decline") if isinstance(model, dict) else None
    if isinstance(decline, str) and decline.startswith("fitted:"):
        sources.setdefault(
            "model.annual_cost_decline",
            f"fitted: log-linear fit to the {decline.removeprefix('fitted:')} tier of the models catalog (tcpmf.catalog.decline)",
        )
    if isinstance(plain.get("start_month"), (datetime.date, datetime.datetime)):
        raise AssumptionError(
            file_of("start_month"),
            "start_month",
            'a month YYYY-MM such as "2024-06", not a full date',
            plain["start_month"].isoformat(),
        )
    if currency_paths:
        month = plain.get("start_month")
        if not is_month(month):
            raise AssumptionError(
                file_of("start_month"),
                "start_month",
                "a month YYYY-MM (needed to convert CNY)",
                month,
            )
        rate = cny_per_usd(month)
        for path in currency_paths:
            amount = _get(plain, path)
            if isinstance(amount, (int, float)) and not isinstance(amount, bool):
                _set(plain, path, _cny_to_usd(amount, rate, file_of(path), path))
            if path in distributions:
                distributions[path] = distributions[path].scaled(1.0 / rate)
    _resolve_capability(plain, sources, file_of)
    try:
        scenario = Scenario.model_validate(plain)
    except ValidationError as exc:
        raise validation_error(exc, file, plain, Scenario, provenance) from None
    _check_relations(scenario, file_of, file)
    _check_reach(plain, distributions, file, file_of, provenance, raw)
    scenario._file = file
    scenario._sources = sources
    scenario._raw = raw
    scenario._provenance = dict(provenance)
    scenario._distributions = distributions
    return scenario


def _input_share(usage: Any) -> float:
    """Share of a call's tokens that are input (3/4 when the file does not say): the blend by which a
    capability floor picks its cheapest model."""
    if isinstance(usage, dict):
        tin, tout = usage.get("input_tokens_per_call"), usage.get("output_tokens_per_call")
        if (
            isinstance(tin, (int, float))
            and isinstance(tout, (int, float))
            and tin >= 0
            and tout >= 0
            and tin + tout > 0
        ):
            return float(tin) / float(tin + tout)
    return 0.75


def _floor_value(value: Any, fail: Any) -> str | float | CapabilityScore:
    """``model.capability`` as :func:`~tcpmf.catalog.capability.resolve_floor` takes it."""
    allowed = (
        "a capability tier name (e.g. gpt-4-class), a minimum score, or "
        "{benchmark: <a benchmark of catalog/capability.yaml>, min_score: <number>}"
    )
    if isinstance(value, dict):
        try:
            return CapabilityScore.model_validate(value)
        except ValidationError:
            fail(allowed)
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        fail(allowed)
    return value if isinstance(value, str) else float(value)


def _resolve_capability(plain: dict[str, Any], sources: dict[str, str], file_of: Any) -> None:
    """A capability floor (``model.capability``) names the model: the cheapest catalog model meeting
    it at ``start_month``; ``annual_cost_decline`` defaults to the floor's fitted decline and
    ``price_path`` to ``hindsight`` (the cheapest model meeting the floor each month)."""
    model = plain.get("model")
    if not isinstance(model, dict) or model.get("capability") is None:
        return
    from tcpmf.catalog.capability import (
        change_months,
        cheapest_meeting,
        first_month_meeting,
        resolve_floor,
    )
    from tcpmf.catalog.decline import floor_decline

    path = "model.capability"
    value = model["capability"]

    def fail(allowed: str) -> None:
        raise AssumptionError(file_of(path), path, allowed, value)

    if model.get("name") is not None:
        fail(
            "model.name or model.capability, not both (set model.capability: null to use a named model, "
            f"or drop model.name {model['name']!r})"
        )
    if (
        model.get("routes") is not None
        or model.get("route", "api") != "api"
        or model.get("usd_per_mtok_in") is not None
    ):
        fail(
            "a floor on a single API model: no model.routes, route self_host or explicit token prices"
        )
    try:
        floor = resolve_floor(_floor_value(value, fail))
    except KeyError as exc:
        fail(exc.args[0])
    month = plain.get("start_month")
    if not isinstance(month, str) or not is_month(month):
        raise AssumptionError(
            file_of("start_month"),
            "start_month",
            "a month YYYY-MM (needed to meet a capability floor)",
            month,
        )
    launch = first_month_meeting(floor, month)
    if launch is None:
        fail(
            f"a floor some scored catalog model meets at or after start_month {month} (none meets "
            f"{floor.label} by the catalog's last date, {change_months()[-1]}; capability is not "
            "projected beyond the catalog)"
        )
    assert launch is not None
    best = cheapest_meeting(floor, launch, input_share=_input_share(plain.get("usage")))
    if best is None:  # only free models meet it at the product's blend of input and output tokens
        fail(f"a floor a model with a nonzero price for this product's tokens meets at {launch}")
    assert best is not None
    model["name"] = best.model
    sources["model.name"] = (
        f"derived: the cheapest catalog model meeting {floor.label} at {launch} (catalog/capability.yaml)"
        + (
            ""
            if launch == month
            else f"; none meets it at start_month {month}, so the product waits and launches in {launch}"
        )
    )
    if model.get("annual_cost_decline") is None:
        try:
            model["annual_cost_decline"] = floor_decline(floor)
        except ValueError as exc:
            fail(f"{exc.args[0]}; or set model.annual_cost_decline")
        sources["model.annual_cost_decline"] = (
            f"fitted: log-linear fit to the cheapest model meeting {floor.label} (tcpmf.catalog.decline)"
        )
    if model.get("price_path") is None:
        model["price_path"] = "hindsight"


def _check_reach(
    plain: dict[str, Any],
    distributions: Mapping[str, Distribution],
    file: str,
    file_of: Any,
    provenance: Mapping[str, str],
    raw: Mapping[str, Any],
) -> None:
    """Refuse a distribution that can draw a value its key does not allow (the schema's bounds),
    at load as ``monte_carlo`` does: its quantiles at the sampler's extreme uniforms, or each option."""
    for path, dist in distributions.items():
        if isinstance(dist, Choice):
            values: list[Any] = [
                o for o in dist.options if isinstance(o, (int, float)) and not isinstance(o, bool)
            ]
        else:
            values = [float(v) for v in dist.ppf(np.array([U_LOW, U_HIGH]))]
        for value in values:
            trial = copy.deepcopy(plain)
            _set(trial, path, support_probe(value))
            try:
                Scenario.model_validate(trial)
            except ValidationError as exc:
                refused = validation_error(exc, file, trial, Scenario, provenance)
                rule = refused.allowed.removeprefix("must be ")
                because = (
                    f"{path} must be {rule}"
                    if refused.key_path == path
                    else f"with it, {refused.key_path}: {refused.allowed}"
                )
                what = f"option {value!r}" if isinstance(dist, Choice) else f"{value:g}"
                hint = "" if isinstance(dist, Choice) else " (give low/high bounds)"
                raise AssumptionError(
                    file_of(path),
                    path,
                    f"a distribution that draws only allowed values: it can draw {what}, and {because}{hint}",
                    _get_or_none(dict(raw), path),
                ) from None


def _cny_to_usd(amount: float, rate: float, file: str, path: str) -> float:
    """*amount* CNY in USD at *rate* CNY per USD; refuses a number too large for a float."""
    try:
        return amount / rate
    except OverflowError:
        raise AssumptionError(
            file, path, "a finite amount of CNY (at most about 1.8e308)", amount
        ) from None


def _check_relations(s: Scenario, file_of: Any, file: str = "") -> None:
    """Checks across keys that pydantic's per-field bounds cannot express."""

    def fail(path: str, value: Any, allowed: str) -> None:
        raise AssumptionError(file_of(path), path, allowed, value)

    check_tob_relations(s, fail)
    if s.segment == "toc" and s.category in TOB_CATEGORIES:
        fail(
            "category",
            s.category,
            f"a consumer category with segment toc ({', '.join(TOC_CATEGORIES)})",
        )
    _check_model_routes(s, fail)
    _check_token_prices(s, fail)
    _check_host_section(s, fail, file_of, file)
    r = s.retention
    if isinstance(r, Plateau) and r.floor > r.r1:
        fail("retention.floor", r.floor, f"a floor no higher than r1 ({r.r1})")
    sub = s.revenue.subscription
    if sub is not None and sub.price_elasticity > 0:
        reference = (
            sub.price_usd_per_month
            if sub.reference_price_usd_per_month is None
            else sub.reference_price_usd_per_month
        )
        if reference <= 0:
            fail(
                "revenue.subscription.price_elasticity",
                sub.price_elasticity,
                "0, or a positive reference price (reference_price_usd_per_month, default the price)",
            )
    _check_competition(s, fail)
    g = s.growth
    if g.paid_budget_usd_per_month > 0 and not g.cac_usd:
        fail(
            "growth.cac_usd",
            g.cac_usd,
            "a positive cost per acquired user when paid_budget_usd_per_month > 0",
        )


def _check_model_routes(s: Scenario, fail: Any) -> None:
    """Routes and the self_host section agree: a self-hosted route has one, an API-only model none."""
    m = s.model
    _check_routes(s, fail)
    _check_price_path(s, fail)
    hosts = m.route == "self_host" or any(r.route == "self_host" for r in m.routes or ())
    if hosts and m.self_host is None:
        for i, entry in enumerate(m.routes or ()):
            if entry.route == "self_host":
                fail(
                    f"model.routes.{i}.route",
                    entry.route,
                    "api, or add a model.self_host section (gpu, throughput or architecture, utilization or "
                    "peak_to_average) for this route to use",
                )
        fail(
            "model.self_host",
            None,
            "a self_host section (gpu, throughput, utilization) when route is self_host",
        )
    if not hosts and m.self_host is not None:
        fail("model.route", m.route, "self_host when a model.self_host section is given")


def _check_token_prices(s: Scenario, fail: Any) -> None:
    """Explicit token prices come in pairs and only on the API; a catalog model is priced at start_month."""
    m = s.model
    if (m.usd_per_mtok_in is None) != (m.usd_per_mtok_out is None):
        fail(
            "model.usd_per_mtok_in",
            m.usd_per_mtok_in,
            "both usd_per_mtok_in and usd_per_mtok_out, or neither",
        )
    if m.route == "self_host" and m.usd_per_mtok_in is not None:
        fail(
            "model.usd_per_mtok_in",
            m.usd_per_mtok_in,
            "no explicit token prices on the self_host route (its cost comes from GPU rent and throughput)",
        )
    if (
        m.route == "api"
        and m.usd_per_mtok_in is not None
        and m.cached_input_share > 0
        and m.cached_input_price_factor is None
    ):
        fail(
            "model.cached_input_share",
            m.cached_input_share,
            "0, or set model.cached_input_price_factor: explicit token prices carry no cached-input price",
        )
    if m.route == "api" and m.usd_per_mtok_in is None and m.routes is None:
        launch = s.launch_month
        if launch != s.start_month and (s.kind != "consumer" or s.competition is not None):
            fail(
                "model.capability",
                m.capability,
                f"a floor some catalog model meets at start_month {s.start_month} for a "
                f"{'ToB' if s.kind != 'consumer' else 'competition'} scenario (none does before "
                f"{launch}; only a consumer product without a competition section waits for its floor)",
            )
        try:
            price = model_price(m.name, launch)
        except KeyError as exc:
            fail("model.name", m.name, exc.args[0])
        except LookupError as exc:
            fail("start_month", s.start_month, exc.args[0])
        else:
            when = "start_month " if launch == s.start_month else "launch "
            _check_cached_price(m, price, fail, f"{m.name} in force at {when}{launch}")


def _check_host_section(s: Scenario, fail: Any, file_of: Any, file: str) -> None:
    """The self_host section: its GPU has a rent, one of utilization or peak_to_average, a serving set-up that fits."""
    m = s.model
    if m.self_host is not None and m.self_host.usd_per_gpu_hour is None:
        try:
            gpu_rent(m.self_host.gpu, s.start_month)
        except KeyError as exc:
            fail("model.self_host.gpu", m.self_host.gpu, exc.args[0])
    if m.self_host is not None:
        h = m.self_host
        if h.utilization is not None and h.peak_to_average is not None:
            # a child file (or an override) set one on top of its parent's other: blame the newer one
            def rank(path: str) -> int:
                return 2 if file_of(path) == "<override>" else 1 if file_of(path) == file else 0

            keys = {"utilization": h.utilization, "peak_to_average": h.peak_to_average}
            newer, older = sorted(keys, key=lambda k: rank(f"model.self_host.{k}"), reverse=True)
            if rank(f"model.self_host.{newer}") > rank(f"model.self_host.{older}"):
                fail(
                    f"model.self_host.{newer}",
                    keys[newer],
                    "either a fixed utilization or a peak_to_average (replicas follow demand), exactly one; "
                    f"{file_of(f'model.self_host.{older}')} sets {older}: {keys[older]:g}, "
                    f"so also set {older}: null here",
                )
        _check_self_host(m.self_host, s.usage, fail)


def _check_competition(s: Scenario, fail: Any) -> None:
    c = s.competition
    if c is None:
        return
    if s.kind != "consumer":
        fail(
            "competition",
            "a section",
            "no competition section on a deal or maas scenario (the per-user engine models it)",
        )
    if (c.entry_months_after_tcpmf is None) == (c.entry_month is None):
        fail(
            "competition.entry_months_after_tcpmf",
            c.entry_months_after_tcpmf,
            "exactly one of entry_months_after_tcpmf and entry_month",
        )
    m = c.moat
    total = m.active_users_weight + m.cumulative_users_weight + m.brand_spend_weight
    if total > 1.0 + 1e-9:
        fail(
            "competition.moat",
            total,
            "weights (active_users_weight + cumulative_users_weight + brand_spend_weight) adding up to at most 1",
        )


def _check_price_path(s: Scenario, fail: Any) -> None:
    """``price_path: hindsight`` follows one catalog API model, in a consumer scenario."""
    m = s.model
    if m.price_path != "hindsight":
        return
    if m.routes is not None or m.route != "api" or m.usd_per_mtok_in is not None:
        fail(
            "model.price_path",
            m.price_path,
            "projected with model.routes, a self_host route or explicit token prices (hindsight follows one catalog model)",
        )
    if s.segment != "toc":
        fail(
            "model.price_path",
            m.price_path,
            "projected for a ToB scenario (its deals and MaaS price by annual_cost_decline)",
        )


def _check_routes(s: Scenario, fail: Any) -> None:
    m = s.model
    if m.routes is None:
        return
    total = sum(r.share for r in m.routes)
    if abs(total - 1.0) > 1e-9:
        fail(
            "model.routes",
            [r.share for r in m.routes],
            f"shares that sum to 1 (they sum to {total:g})",
        )
    if m.route == "self_host" and not any(r.route == "self_host" for r in m.routes):
        fail(
            "model.route",
            m.route,
            "api, or a route: self_host entry in model.routes (routes decide the cost)",
        )
    if sum(r.route == "self_host" for r in m.routes) > 1:
        fail(
            "model.routes",
            [r.name for r in m.routes],
            "at most one self_host route (it uses model.self_host)",
        )
    if m.usd_per_mtok_in is not None:
        fail(
            "model.usd_per_mtok_in",
            m.usd_per_mtok_in,
            "no explicit token prices with model.routes (each route prices itself)",
        )
    for i, r in enumerate(m.routes):
        if r.route != "api":
            continue
        try:
            price = model_price(r.name, s.start_month)
        except KeyError as exc:
            fail(f"model.routes.{i}.name", r.name, exc.args[0])
        except LookupError as exc:
            fail(
                f"model.routes.{i}.name", r.name, f"{exc.args[0]} (start_month is {s.start_month})"
            )
        else:
            _check_cached_price(m, price, fail, r.name)


def _check_cached_price(m: ModelChoice, price: Any, fail: Any, priced: str) -> None:
    """A cached-input share needs a cached-input price: the catalog's for *priced*, or a factor."""
    if (
        m.cached_input_share > 0
        and price.usd_per_mtok_cached_in is None
        and m.cached_input_price_factor is None
    ):
        fail(
            "model.cached_input_share",
            m.cached_input_share,
            f"0, or set model.cached_input_price_factor: the catalog has no cached-input price for {priced}",
        )


def _check_self_host(h: SelfHost, usage: Usage, fail: Any) -> None:
    given = (
        h.output_tokens_per_s_per_replica is not None,
        h.input_tokens_per_s_per_replica is not None,
    )
    if given[0] != given[1]:
        fail(
            "model.self_host.input_tokens_per_s_per_replica",
            h.input_tokens_per_s_per_replica,
            "both input_ and output_tokens_per_s_per_replica, or neither (then an architecture)",
        )
    if given[0] == (h.architecture is not None):
        fail(
            "model.self_host.architecture",
            h.architecture,
            "either measured throughputs (input_/output_tokens_per_s_per_replica) or an architecture to estimate them, not both",
        )
    if (h.utilization is None) == (h.peak_to_average is None):
        fail(
            "model.self_host.utilization",
            h.utilization,
            "either a fixed utilization or a peak_to_average (replicas follow demand), exactly one"
            + (
                "; set utilization: null to use peak_to_average"
                if h.utilization is not None
                else ""
            ),
        )
    if h.architecture is not None:
        from tcpmf.catalog.serving import architecture

        try:
            architecture(h.architecture)
        except KeyError as exc:
            fail("model.self_host.architecture", h.architecture, exc.args[0])
        from tcpmf.catalog.prices import gpu_spec

        try:
            spec = gpu_spec(h.gpu)
        except KeyError as exc:
            fail("model.self_host.gpu", h.gpu, exc.args[0])
        else:
            if h.precision == "fp8" and spec.fp8_dense_tflops is None:
                fail(
                    "model.self_host.precision",
                    h.precision,
                    f"bf16: {h.gpu} has no FP8 tensor cores",
                )
            from tcpmf.catalog.roofline import estimate

            context = h.context_tokens or max(
                1, round(usage.input_tokens_per_call + usage.output_tokens_per_call)
            )
            try:
                estimate(h.architecture, h.gpu, h.precision, h.gpus_per_replica, context, h.batch)
            except TcpmfError as exc:
                fail(
                    "model.self_host.gpus_per_replica",
                    h.gpus_per_replica,
                    f"enough GPUs to hold {h.architecture}'s weights and one sequence of {context} tokens "
                    f"in {h.precision} (the largest batch that fits is 0): {exc}",
                )
            speed = usage.output_tokens_per_s_per_user
            if speed is not None:
                try:
                    estimate(
                        h.architecture,
                        h.gpu,
                        h.precision,
                        h.gpus_per_replica,
                        context,
                        h.batch,
                        output_tokens_per_s_per_user=speed,
                        input_tokens_per_call=usage.input_tokens_per_call,
                        output_tokens_per_call=usage.output_tokens_per_call,
                    )
                except TcpmfError as exc:
                    fail(
                        "usage.output_tokens_per_s_per_user",
                        speed,
                        f"a speed the self-host set-up reaches for one request alone: {exc}",
                    )


def looks_like_portfolio(data: Mapping[str, Any]) -> bool:
    """Whether a file's top level is a portfolio's: a ``products`` key, or (misspelt) a list of
    mappings with a ``scenario`` each."""
    if "category" in data:
        return False
    if "products" in data:
        return True
    return any(
        isinstance(v, list) and v and all(isinstance(i, dict) and "scenario" in i for i in v)
        for v in data.values()
    )


def load(path: str | Path) -> Scenario:
    """Load and validate one scenario file.

    Examples
    --------
    >>> import tcpmf
    >>> s = tcpmf.load("assumptions/products/writing_assistant.yaml")
    >>> s.override({"usage.sessions_per_day": 3}).usage.sessions_per_day
    3.0
    """
    raw, provenance = read_tree(path)
    if looks_like_portfolio(raw):
        raise AssumptionError(
            display_path(Path(path)),
            "products",
            "a scenario file; this is a portfolio file: run it with `tcpmf run`, check it with `tcpmf validate`, "
            "load it with tcpmf.load_portfolio",
        )
    catalog_key = next((k for k in ("models", "gpus", "cny_per_usd") if k in raw), None)
    if catalog_key is not None and "name" not in raw:
        raise AssumptionError(
            display_path(Path(path)),
            catalog_key,
            "a scenario file; this is a catalog file (check it with `tcpmf validate`)",
        )
    return _checked_jointly(validate_tree(raw, display_path(Path(path)), provenance))


def _checked_jointly(s: Scenario) -> Scenario:
    """*s*, once its drawn inputs are known to break no rule across keys together
    (:func:`tcpmf.schema.joint_reach.check_joint_reach`)."""
    from tcpmf.schema.joint_reach import check_joint_reach

    check_joint_reach(s)
    return s


def from_dict(data: Mapping[str, Any], file: str = "<dict>") -> Scenario:
    """Validate a scenario given as a (nested) mapping, as if it had been read from *file*."""
    raw = copy.deepcopy(dict(data))
    raw.pop("extends", None)
    return _checked_jointly(validate_tree(raw, file, {}))
