"""Hypothesis strategies for valid scenario dicts (``tcpmf.from_dict`` accepts every one).

Prices are explicit (``model.usd_per_mtok_in/out`` on the API route, ``usd_per_gpu_hour`` on the
self-host route) so that the tests do not depend on the catalog.  Values span realistic ranges
and their edges (zeros, shares of 0 and 1, flat and falling costs, shrinking and exploding
growth) while staying inside the schema bounds and far enough from them that every output stays
finite in double precision.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from hypothesis import strategies as st

__all__ = [
    "CATEGORIES",
    "GPU",
    "api_model",
    "growth",
    "model",
    "retention",
    "revenue",
    "scenario_batches",
    "scenarios",
    "self_host_model",
    "usage",
]

CATEGORIES = ("productivity", "entertainment", "search", "ecommerce", "social", "short_video")
GPU = "h100-sxm"


@cache
def num(lo: float, hi: float, *edges: float) -> st.SearchStrategy[float]:
    """A float in ``[lo, hi]``, with the bounds and *edges* drawn often.

    A magnitude below 1e-6 becomes 0 (every range here that reaches below 1e-6 contains 0).
    """
    special = sorted({float(lo), float(hi), *map(float, edges)})
    return st.one_of(
        st.sampled_from(special),
        st.floats(lo, hi, allow_nan=False, allow_infinity=False).map(_no_dust),
    )


def _no_dust(x: float) -> float:
    """0 for a magnitude below 1e-6: the schema admits e.g. a CAC of 1e-308, whose LTV/CAC
    overflows; these tests keep to values a person could mean."""
    return x if abs(x) >= 1e-6 else 0.0


share = num(0.0, 1.0, 0.5)


def optional(key: str, strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """``{}`` (schema default) or ``{key: value}``."""
    return st.one_of(st.just({}), strategy.map(lambda v: {key: v}))


def merge(*parts: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    def join(dicts: tuple[dict[str, Any], ...]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for d in dicts:
            out.update(d)
        return out

    return st.tuples(*parts).map(join)


start_months = st.builds(
    lambda y, m: f"{y:04d}-{m:02d}", st.integers(2022, 2028), st.integers(1, 12)
)

# -- model ----------------------------------------------------------------------------------

token_price = num(0.0, 100.0, 0.075, 0.15, 0.3, 0.6, 2.5, 10.0, 15.0, 60.0)
annual_decline = num(1.0, 100.0, 2.0, 4.0, 10.0)


_MAYBE_SHARE = st.one_of(st.none(), share)


@st.composite
def cache_and_discount(draw: st.DrawFn) -> dict[str, Any]:
    out: dict[str, Any] = {}
    h = draw(_MAYBE_SHARE)
    if h is not None:
        out["cached_input_share"] = h
    # with explicit prices a positive cached share needs an explicit factor
    if (h or 0) > 0 or draw(st.booleans()):
        out["cached_input_price_factor"] = draw(num(0.0, 1.0, 0.1, 0.25, 0.5))
    if draw(st.booleans()):
        out["price_discount"] = draw(num(0.0, 0.99, 0.5))
    return out


@cache
def api_model(cached: bool = True) -> st.SearchStrategy[dict[str, Any]]:
    base = st.fixed_dictionaries(
        {
            "route": st.just("api"),
            "name": st.sampled_from(["label-model", "gpt-like", "deepseek-like"]),
            "usd_per_mtok_in": token_price,
            "usd_per_mtok_out": token_price,
        }
    )
    parts = [base, optional("annual_cost_decline", annual_decline)]
    if cached:
        parts.append(cache_and_discount())
    return merge(*parts)


@cache
def self_host_model() -> st.SearchStrategy[dict[str, Any]]:
    host = merge(
        st.fixed_dictionaries(
            {
                "gpu": st.just(GPU),
                "output_tokens_per_s_per_replica": num(10.0, 1e5, 1000.0),
                "input_tokens_per_s_per_replica": num(100.0, 1e6, 10000.0),
                "usd_per_gpu_hour": num(0.1, 20.0, 2.0),
            }
        ),
        optional("gpus_per_replica", st.integers(1, 16)),
        # a fixed utilization, or replicas that follow demand (docs/model.md §1)
        st.one_of(
            st.fixed_dictionaries({"utilization": num(0.05, 1.0, 0.5, 0.8, 0.995)}),
            merge(
                st.fixed_dictionaries({"peak_to_average": num(1.0, 10.0, 1.0, 2.0)}),
                optional("min_replicas", st.integers(1, 20)),
            ),
        ),
    )
    return merge(
        st.fixed_dictionaries(
            {
                "route": st.just("self_host"),
                "name": st.sampled_from(["qwen-like-72b", "llama-like-8b"]),
                "self_host": host,
            }
        ),
        optional("annual_cost_decline", annual_decline),
    )


@cache
def model() -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(api_model(), self_host_model())


# -- usage and revenue ----------------------------------------------------------------------


@cache
def usage() -> st.SearchStrategy[dict[str, Any]]:
    return merge(
        st.fixed_dictionaries(
            {
                "dau_per_mau": share,
                "sessions_per_day": num(0.0, 20.0, 1.0, 2.0),
                "requests_per_session": num(0.0, 50.0, 1.0, 5.0),
                "input_tokens_per_call": num(0.0, 1e5, 1000.0),
                "output_tokens_per_call": num(0.0, 1e4, 500.0),
            }
        ),
        optional("calls_per_request", num(0.0, 10.0, 1.0, 3.0)),
        optional("paid_usage_multiplier", num(0.0, 10.0, 1.0, 3.0)),
    )


@cache
def subscription() -> st.SearchStrategy[dict[str, Any]]:
    return merge(
        st.fixed_dictionaries(
            {"price_usd_per_month": num(0.0, 200.0, 9.99, 20.0), "paid_share": share}
        ),
        optional("store_fee", num(0.0, 0.3, 0.15)),
        # elasticity of the paid share around a (positive) reference price
        st.one_of(
            st.just({}),
            st.fixed_dictionaries(
                {
                    "price_elasticity": num(0.0, 3.0, 0.5, 1.0, 2.0),
                    "reference_price_usd_per_month": num(1.0, 200.0, 20.0),
                }
            ),
        ),
    )


@cache
def ads() -> st.SearchStrategy[dict[str, Any]]:
    return merge(
        st.fixed_dictionaries(
            {"impressions_per_session": num(0.0, 20.0, 2.0), "rpm_usd": num(0.0, 50.0, 5.0)}
        ),
        optional("free_tier_only", st.booleans()),
    )


@cache
def revenue() -> st.SearchStrategy[dict[str, Any]]:
    streams = {
        "subscription": subscription(),
        "ads": ads(),
        "usage": st.fixed_dictionaries(
            {"usd_per_mtok_in": token_price, "usd_per_mtok_out": token_price}
        ),
        "commerce": st.fixed_dictionaries(
            {"gmv_usd_per_mau": num(0.0, 500.0, 50.0), "take_rate": num(0.0, 0.3, 0.05)}
        ),
    }
    return merge(*(optional(key, strategy) for key, strategy in streams.items()))


# -- retention ------------------------------------------------------------------------------


@st.composite
def plateau(draw: st.DrawFn) -> dict[str, Any]:
    r1 = draw(share)
    floor = r1 * draw(share)
    return {"curve": "plateau", "r1": r1, "floor": floor, "tau": draw(num(0.05, 200.0, 1.0, 6.0))}


@cache
def retention() -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        st.fixed_dictionaries(
            {"curve": st.just("power_law"), "r1": share, "beta": num(0.0, 20.0, 0.3, 1.0)}
        ),
        plateau(),
        st.fixed_dictionaries(
            {
                "curve": st.just("sbg"),
                "alpha": num(0.01, 1e4, 1.0),
                "beta": num(0.01, 1e4, 1.0, 3.0),
            }
        ),
        st.fixed_dictionaries(
            {
                "curve": st.just("table"),
                "points": st.dictionaries(st.integers(1, 72), share, min_size=1, max_size=6),
            }
        ),
    )


# -- growth, costs, finance -----------------------------------------------------------------


_GROWTH_RATE = st.one_of(num(-1.0, 0.5, -0.1, 0.0, 0.05), num(0.5, 1.0))
_CAC_OR_NONE = st.one_of(st.none(), num(0.5, 500.0, 5.0))


@st.composite
def growth(draw: st.DrawFn, paid: bool | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if draw(st.booleans()):
        out["organic_new_users_per_month"] = draw(num(0.0, 1e7, 1.0, 1e5))
    if draw(st.booleans()):
        out["monthly_growth"] = draw(_GROWTH_RATE)
    with_budget = draw(st.booleans()) if paid is None else paid
    if with_budget:
        out["paid_budget_usd_per_month"] = draw(num(1.0, 1e7, 1e5))
        out["cac_usd"] = draw(num(0.5, 500.0, 5.0))
    elif draw(st.booleans()):
        out["cac_usd"] = draw(_CAC_OR_NONE)  # None means none
        if draw(st.booleans()):
            out["paid_budget_usd_per_month"] = 0.0
    return out


@cache
def costs() -> st.SearchStrategy[dict[str, Any]]:
    return merge(
        optional("fixed_usd_per_month", num(0.0, 1e7, 1e5)),
        optional("other_variable_usd_per_mau", num(0.0, 5.0, 0.1)),
    )


@cache
def finance() -> st.SearchStrategy[dict[str, Any]]:
    return optional("discount_rate_annual", num(0.0, 10.0, 0.1))


def _drop_empty(
    key: str, strategy: st.SearchStrategy[dict[str, Any]]
) -> st.SearchStrategy[dict[str, Any]]:
    """Omit a section sometimes (schema default) and give it otherwise, even empty."""
    return st.one_of(st.just({}), strategy.map(lambda v: {key: v}))


@st.composite
def scenarios(
    draw: st.DrawFn,
    name: str = "s",
    models: st.SearchStrategy[dict[str, Any]] | None = None,
    horizons: st.SearchStrategy[int] = st.integers(1, 60),
) -> dict[str, Any]:
    """One valid scenario dict."""
    out: dict[str, Any] = {
        "name": name,
        "category": draw(st.sampled_from(CATEGORIES)),
        "start_month": draw(start_months),
        "horizon_months": draw(horizons),
        "model": draw(models if models is not None else model()),
        "usage": draw(usage()),
        "retention": draw(retention()),
    }
    if draw(st.booleans()):
        out["target_margin"] = draw(num(0.0, 0.95, 0.3, 0.5))
    for part in _sections():
        out.update(draw(part))
    return out


@cache
def _sections() -> tuple[st.SearchStrategy[dict[str, Any]], ...]:
    # built once: hypothesis validates every new strategy object, which is slow
    return tuple(
        _drop_empty(key, strategy)
        for key, strategy in (
            ("revenue", revenue()),
            ("growth", growth()),
            ("costs", costs()),
            ("finance", finance()),
        )
    )


@st.composite
def scenario_batches(draw: st.DrawFn, min_size: int = 1, max_size: int = 5) -> list[dict[str, Any]]:
    """Several scenarios with distinct names, to be evaluated in one call."""
    n = draw(st.integers(min_size, max_size))
    return [draw(_named(f"s{i}")) for i in range(n)]


@cache
def _named(name: str) -> st.SearchStrategy[dict[str, Any]]:
    return scenarios(name=name)
