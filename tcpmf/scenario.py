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
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from .catalog import cny_per_usd, gpu_rent, model_price
from .errors import AssumptionError
from .months import MONTH_PATTERN, is_month
from .yamlio import display_path, origin_file, read_tree, validation_error

__all__ = [
    "Ads",
    "Commerce",
    "Costs",
    "Finance",
    "Growth",
    "ModelChoice",
    "Plateau",
    "PowerLaw",
    "Revenue",
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
Share = Annotated[float, Field(ge=0, le=1)]
Count = Annotated[float, Field(ge=0, le=1e6)]
Tokens = Annotated[float, Field(ge=0, le=1e8)]
Usd = Annotated[float, Field(ge=0, le=1e12)]
UsdPerUnit = Annotated[float, Field(ge=0, le=1e6)]
Users = Annotated[float, Field(ge=0, le=1e10)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)


class SelfHost(_Section):
    """Serving on rented GPUs (MODEL.md §1): ``c = g·G / (3600·θ·u) · 1e6`` USD per 1M tokens."""

    gpu: str = Field(description="GPU catalog key (assumptions/catalog/gpus.yaml)")
    gpus_per_replica: Annotated[int, Field(ge=1, le=1024)] = 1
    output_tokens_per_s_per_replica: Annotated[float, Field(gt=0, le=1e8)]
    input_tokens_per_s_per_replica: Annotated[float, Field(gt=0, le=1e9)]
    utilization: Annotated[float, Field(ge=0.01, le=1)] = Field(
        description="share of paid GPU-hours that serve useful traffic"
    )
    usd_per_gpu_hour: Annotated[float, Field(gt=0, le=1e4)] | None = Field(
        None, description="rent override; default: the GPU catalog's rent in force at start_month"
    )


class ModelChoice(_Section):
    """Which model serves the product, at what price, and how fast that price falls."""

    route: Literal["api", "self_host"] = "api"
    name: str = Field(min_length=1, description="model catalog key (assumptions/catalog/models.yaml)")
    annual_cost_decline: Annotated[float, Field(ge=0.1, le=1000)] = Field(
        1.0, description="factor per year: 4 means four times cheaper each year; 1 flat; 0.5 twice dearer"
    )
    cached_input_share: Share = Field(0.0, description="share of input tokens served from cache")
    cached_input_price_factor: Share | None = Field(
        None, description="cached price as a share of the input price; default: the catalog's"
    )
    price_discount: Annotated[float, Field(ge=0, lt=1)] = Field(
        0.0, description="discount on list price (negotiated, batch or off-peak)"
    )
    usd_per_mtok_in: UsdPerUnit | None = Field(None, description="input price override, USD per 1M")
    usd_per_mtok_out: UsdPerUnit | None = Field(None, description="output price override, USD per 1M")
    self_host: SelfHost | None = None


class Usage(_Section):
    """Usage per monthly active user (MODEL.md §2)."""

    dau_per_mau: Share
    sessions_per_day: Count
    requests_per_session: Count
    calls_per_request: Annotated[float, Field(ge=0, le=1000)] = 1.0
    input_tokens_per_call: Tokens
    output_tokens_per_call: Tokens
    paid_usage_multiplier: Annotated[float, Field(ge=0, le=100)] = Field(
        1.0, description="a paying user's usage relative to a free user's"
    )


class Subscription(_Section):
    price_usd_per_month: UsdPerUnit
    paid_share: Share
    store_fee: Share = 0.0


class Ads(_Section):
    impressions_per_session: Count
    rpm_usd: UsdPerUnit = Field(description="ad revenue per 1,000 impressions, USD")
    free_tier_only: bool = Field(True, description="paying subscribers see no ads")


class UsageBased(_Section):
    """Tokens resold to users (API or MaaS sellers)."""

    usd_per_mtok_in: UsdPerUnit
    usd_per_mtok_out: UsdPerUnit


class Commerce(_Section):
    gmv_usd_per_mau: UsdPerUnit
    take_rate: Share


class Revenue(_Section):
    subscription: Subscription | None = None
    ads: Ads | None = None
    usage: UsageBased | None = None
    commerce: Commerce | None = None


class PowerLaw(_Section):
    """``r(k) = r1 · k^(−beta)`` for k ≥ 1."""

    curve: Literal["power_law"]
    r1: Share
    beta: Annotated[float, Field(ge=0, le=20)]


class Plateau(_Section):
    """``r(k) = floor + (r1 − floor) · exp(−(k − 1)/tau)`` for k ≥ 1."""

    curve: Literal["plateau"]
    r1: Share
    floor: Share
    tau: Annotated[float, Field(gt=0, le=1e4)] = Field(description="decay time, months")


class ShiftedBetaGeometric(_Section):
    """``S(k) = B(alpha, beta + k) / B(alpha, beta)`` (Fader & Hardie 2007)."""

    curve: Literal["sbg"]
    alpha: Annotated[float, Field(gt=0, le=1e4)]
    beta: Annotated[float, Field(gt=0, le=1e4)]


class TableRetention(_Section):
    """Observed retention at some ages, interpolated linearly and held flat after the last."""

    curve: Literal["table"]
    points: dict[Annotated[int, Field(ge=1, le=600)], Share] = Field(min_length=1)


Retention = Annotated[
    PowerLaw | Plateau | ShiftedBetaGeometric | TableRetention, Field(discriminator="curve")
]


class Growth(_Section):
    """New users in month t = organic · (1 + monthly_growth)^t + paid_budget / cac."""

    organic_new_users_per_month: Users = 0.0
    monthly_growth: Annotated[float, Field(ge=-1, le=5)] = 0.0
    paid_budget_usd_per_month: Usd = 0.0
    cac_usd: Annotated[float, Field(ge=0.01, le=1e6)] | None = Field(
        None, description="cost to acquire one paid user, USD"
    )


class Costs(_Section):
    fixed_usd_per_month: Usd = 0.0
    other_variable_usd_per_mau: UsdPerUnit = 0.0


class Finance(_Section):
    discount_rate_annual: Annotated[float, Field(ge=0, le=10)] = Field(
        0.0, description="discount rate for LTV"
    )


class Scenario(_Section):
    """One product's validated assumptions.

    Load one with :func:`load`; change values with :meth:`override`, which returns a validated
    copy.  A scenario is immutable.
    """

    name: str = Field(min_length=1)
    description: str | None = None
    segment: Literal["toc", "tob"] = "toc"
    category: Literal["productivity", "entertainment", "search", "ecommerce", "social", "short_video"]
    start_month: str = Field(pattern=MONTH_PATTERN, description="YYYY-MM of month 0")
    horizon_months: Annotated[int, Field(ge=1, le=240)] = 36
    target_margin: Annotated[float, Field(ge=0, lt=1)] = Field(
        0.0, description="contribution as a share of ARPU that counts as clearing; 0 = break-even"
    )
    model: ModelChoice
    usage: Usage
    revenue: Revenue = Revenue()
    retention: Retention
    growth: Growth = Growth()
    costs: Costs = Costs()
    finance: Finance = Finance()

    _file: str = PrivateAttr(default="<memory>")
    _sources: dict[str, str] = PrivateAttr(default_factory=dict)
    _raw: dict[str, Any] = PrivateAttr(default_factory=dict)
    _provenance: dict[str, str] = PrivateAttr(default_factory=dict)

    @property
    def file(self) -> str:
        """The file this scenario was loaded from."""
        return self._file

    @property
    def sources(self) -> dict[str, str]:
        """Source or reason of each annotated value, by dotted key path."""
        return dict(self._sources)

    def override(self, values: Mapping[str, Any]) -> Scenario:
        """A validated copy with dotted keys replaced: ``s.override({"usage.sessions_per_day": 4})``.

        A value may be a plain number or an annotated mapping (``{"value": 4, "source": ...}``).
        Raises :class:`~tcpmf.errors.AssumptionError` naming ``<override>`` for a bad key or value.
        """
        raw = copy.deepcopy(self._raw)
        provenance = dict(self._provenance)
        for dotted, value in values.items():
            parts = str(dotted).split(".")
            node = raw
            for depth, part in enumerate(parts[:-1]):
                child = node.get(part)
                if child is None:
                    child = node[part] = {}
                    provenance[".".join(parts[: depth + 1])] = "<override>"
                elif not isinstance(child, dict) or "value" in child:
                    raise AssumptionError(
                        "<override>", ".".join(parts[: depth + 1]), "a section with keys", child
                    )
                node = child
            node[parts[-1]] = value
            provenance[str(dotted)] = "<override>"
        return _validate(raw, self._file, provenance)


def _unwrap_values(
    tree: Any, path: str, file_of: Any, sources: dict[str, str], currency_paths: list[str]
) -> Any:
    """Replace ``{value: x, source: ...}`` mappings by x, recording sources and CNY amounts."""
    if isinstance(tree, dict):
        if "value" in tree:
            extra = sorted((k for k in tree if k not in ANNOTATION_KEYS), key=str)
            if extra:
                raise AssumptionError(
                    file_of(path), f"{path}.{extra[0]}",
                    f"an annotated value takes only {', '.join(sorted(ANNOTATION_KEYS))}",
                    tree[extra[0]],
                )
            for key in ("source", "assumed", "note"):
                if key in tree and not (isinstance(tree[key], str) and tree[key].strip()):
                    raise AssumptionError(file_of(path), f"{path}.{key}", "non-empty text", tree[key])
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
                        file_of(path), f"{path}.currency", "a currency only on a money key (one named *_usd*)", currency
                    )
                currency_paths.append(path)
            return tree["value"]
        return {
            key: _unwrap_values(value, f"{path}.{key}" if path else str(key), file_of, sources, currency_paths)
            for key, value in tree.items()
        }
    return tree


def _get(tree: dict[str, Any], path: str) -> Any:
    node: Any = tree
    for part in path.split("."):
        node = node[part] if isinstance(node, dict) else node[int(part)]
    return node


def _set(tree: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    node: Any = tree
    for part in parts[:-1]:
        node = node[part]
    node[parts[-1]] = value


def _validate(raw: dict[str, Any], file: str, provenance: Mapping[str, str]) -> Scenario:
    def file_of(path: str) -> str:
        return origin_file(provenance, path, file)

    sources: dict[str, str] = {}
    currency_paths: list[str] = []
    plain = _unwrap_values(raw, "", file_of, sources, currency_paths)
    if currency_paths:
        month = plain.get("start_month")
        if not is_month(month):
            raise AssumptionError(file_of("start_month"), "start_month", "a month YYYY-MM (needed to convert CNY)", month)
        rate = cny_per_usd(month)
        for path in currency_paths:
            amount = _get(plain, path)
            if isinstance(amount, (int, float)) and not isinstance(amount, bool):
                _set(plain, path, amount / rate)
    try:
        scenario = Scenario.model_validate(plain)
    except ValidationError as exc:
        raise validation_error(exc, file, plain, Scenario, provenance) from None
    _check_relations(scenario, file_of)
    scenario._file = file
    scenario._sources = sources
    scenario._raw = raw
    scenario._provenance = dict(provenance)
    return scenario


def _check_relations(s: Scenario, file_of: Any) -> None:
    """Checks across keys that pydantic's per-field bounds cannot express."""

    def fail(path: str, value: Any, allowed: str) -> None:
        raise AssumptionError(file_of(path), path, allowed, value)

    m = s.model
    if m.route == "self_host" and m.self_host is None:
        fail("model.self_host", None, "a self_host section (gpu, throughput, utilization) when route is self_host")
    if m.route == "api" and m.self_host is not None:
        fail("model.route", m.route, "self_host when a model.self_host section is given")
    if (m.usd_per_mtok_in is None) != (m.usd_per_mtok_out is None):
        fail("model.usd_per_mtok_in", m.usd_per_mtok_in, "both usd_per_mtok_in and usd_per_mtok_out, or neither")
    if m.route == "self_host" and m.usd_per_mtok_in is not None:
        fail("model.usd_per_mtok_in", m.usd_per_mtok_in, "no explicit token prices on the self_host route (its cost comes from GPU rent and throughput)")
    if m.route == "api" and m.usd_per_mtok_in is not None and m.cached_input_share > 0 and m.cached_input_price_factor is None:
        fail(
            "model.cached_input_share",
            m.cached_input_share,
            "0, or set model.cached_input_price_factor: explicit token prices carry no cached-input price",
        )
    if m.route == "api" and m.usd_per_mtok_in is None:
        try:
            price = model_price(m.name, s.start_month)
        except KeyError as exc:
            fail("model.name", m.name, exc.args[0])
        except LookupError as exc:
            fail("model.name", m.name, f"{exc.args[0]} (start_month is {s.start_month})")
        else:
            if m.cached_input_share > 0 and price.usd_per_mtok_cached_in is None and m.cached_input_price_factor is None:
                fail(
                    "model.cached_input_share",
                    m.cached_input_share,
                    f"0, or set model.cached_input_price_factor: the catalog has no cached-input price for {m.name}",
                )
    if m.route == "self_host" and m.self_host is not None and m.self_host.usd_per_gpu_hour is None:
        try:
            gpu_rent(m.self_host.gpu, s.start_month)
        except KeyError as exc:
            fail("model.self_host.gpu", m.self_host.gpu, exc.args[0])
    r = s.retention
    if isinstance(r, Plateau) and r.floor > r.r1:
        fail("retention.floor", r.floor, f"a floor no higher than r1 ({r.r1})")
    g = s.growth
    if g.paid_budget_usd_per_month > 0 and not g.cac_usd:
        fail("growth.cac_usd", g.cac_usd, "a positive cost per acquired user when paid_budget_usd_per_month > 0")


def load(path: str | Path) -> Scenario:
    """Load and validate one scenario file.

    Examples
    --------
    >>> import tcpmf
    >>> s = tcpmf.load("assumptions/products/writing_assistant.yaml")  # doctest: +SKIP
    >>> s.override({"revenue.subscription.price_usd_per_month": 15}).usage.sessions_per_day  # doctest: +SKIP
    """
    raw, provenance = read_tree(path)
    return _validate(raw, display_path(Path(path)), provenance)


def from_dict(data: Mapping[str, Any], file: str = "<dict>") -> Scenario:
    """Validate a scenario given as a (nested) mapping, as if it had been read from *file*."""
    raw = copy.deepcopy(dict(data))
    raw.pop("extends", None)
    return _validate(raw, file, {})
