"""Many variants of one scenario at engine speed, and Monte Carlo over portfolios.

:func:`evaluate_inputs` evaluates a scenario once per row of a table of input values (dotted keys
as columns).  Inputs that feed an engine column directly (usage, revenue, growth, costs, retention
shape, explicit token prices, ...) are written into the columns of the scenario's arrays, so a
million rows cost one vectorized engine call.  Any other input (a model name, a self-host
setting, ...) is applied by :meth:`Scenario.override` once per *distinct* value and the rows
gathered by group, so a choice among three models costs three validations, not a million.

:func:`monte_carlo` draws a portfolio's uncertain inputs chunk by chunk.  Chunk ``c`` of product
``p`` takes its random numbers from ``SeedSequence(seed).spawn(...)`` children ``(p, c)``, so its
draws are the same whichever process, machine or order computes it; ``tcpmf run`` writes the same
chunks to Parquet (:mod:`tcpmf.uncertainty.runner`) and gives the same numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from tcpmf.core.errors import AssumptionError, TcpmfError
from tcpmf.formulas.cost import api_usd_per_mtok
from tcpmf.formulas.retention import CURVES, retention_matrix
from tcpmf.model.arrays import from_scenarios, retention_shape
from tcpmf.model.engine import SUMMARY_COLUMNS, TOB_SUMMARY_COLUMNS, evaluate, evaluate_summary
from tcpmf.model.summary import NotFinite, Summary
from tcpmf.schema.scenario import Scenario
from tcpmf.uncertainty.portfolio import (
    SAMPLING_NAMES,
    Analysable,
    Portfolio,
    Product,
    _lookup,
    as_portfolio,
)
from tcpmf.uncertainty.sampling import draw_inputs

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "OUTCOME_COLUMNS",
    "SUMMARIZED_COLUMNS",
    "chunk_seed",
    "evaluate_inputs",
    "monte_carlo",
    "product_chunk",
    "summarize",
]

#: Draws per chunk unless told otherwise; ``monte_carlo`` and ``tcpmf run`` share it, so their
#: numbers agree for the same seed.
DEFAULT_CHUNK_SIZE = 50_000

#: Outcome columns of a batch result (``Result.summary``'s, less the calendar-month label and the
#: launch month, which no draw changes).
OUTCOME_COLUMNS = tuple(
    c
    for c in (*SUMMARY_COLUMNS, *TOB_SUMMARY_COLUMNS)
    if c not in ("tcpmf_calendar_month", "launch_month")
)

# Inputs that are copied into one engine column unchanged.
DIRECT_COLUMNS: dict[str, str] = {
    "model.annual_cost_decline": "annual_cost_decline",
    "usage.dau_per_mau": "dau_per_mau",
    "usage.sessions_per_day": "sessions_per_day",
    "usage.requests_per_session": "requests_per_session",
    "usage.calls_per_request": "calls_per_request",
    "usage.input_tokens_per_call": "input_tokens_per_call",
    "usage.output_tokens_per_call": "output_tokens_per_call",
    "usage.paid_usage_multiplier": "paid_usage_multiplier",
    "revenue.subscription.price_usd_per_month": "price_usd_per_month",
    "revenue.subscription.paid_share": "paid_share",
    "revenue.subscription.store_fee": "store_fee",
    "revenue.subscription.price_elasticity": "price_elasticity",
    "revenue.subscription.reference_price_usd_per_month": "reference_price_usd_per_month",
    "revenue.ads.impressions_per_session": "impressions_per_session",
    "revenue.ads.rpm_usd": "rpm_usd",
    "revenue.usage.usd_per_mtok_in": "usage_usd_per_mtok_in",
    "revenue.usage.usd_per_mtok_out": "usage_usd_per_mtok_out",
    "revenue.commerce.gmv_usd_per_mau": "gmv_usd_per_mau",
    "revenue.commerce.take_rate": "take_rate",
    "growth.organic_new_users_per_month": "organic_new_users_per_month",
    "growth.monthly_growth": "monthly_growth",
    "growth.paid_budget_usd_per_month": "paid_budget_usd_per_month",
    "growth.cac_usd": "cac_usd",
    "costs.fixed_usd_per_month": "fixed_usd_per_month",
    "costs.other_variable_usd_per_mau": "other_variable_usd_per_mau",
    "target_margin": "target_margin",
    "finance.discount_rate_annual": "discount_rate_annual",
    # an incumbent's entry (docs/model.md §6.2); only where the scenario has a competition section
    "competition.entry_months_after_tcpmf": "entry_months_after_tcpmf",
    "competition.entry_month": "entry_month",
    "competition.ramp_months": "entry_ramp_months",
    "competition.organic_new_users_cut": "organic_new_users_cut",
    "competition.cac_increase": "cac_increase",
    "competition.added_monthly_churn": "added_monthly_churn",
    "competition.subscription_revenue_cut": "subscription_revenue_cut",
    "competition.ad_rpm_cut": "ad_rpm_cut",
    "competition.moat.active_users_half": "moat_active_users_half",
    "competition.moat.cumulative_users_half": "moat_cumulative_users_half",
    "competition.moat.brand_spend_half_usd": "moat_brand_spend_half_usd",
}
TOKEN_KEYS = (
    "usage.input_tokens_per_call",
    "usage.output_tokens_per_call",
)  # self-host throughput uses them
RETENTION_KEYS = {f"retention.{p}": p for p in ("r1", "beta", "floor", "tau", "alpha")}
PRICE_KEYS = (
    "model.usd_per_mtok_in",
    "model.usd_per_mtok_out",
    "model.price_discount",
    "model.cached_input_share",
)


def _api_only(s: Scenario) -> bool:
    return s.model.routes is None and s.model.route == "api"


def fast_keys(s: Scenario) -> set[str]:
    """The dotted keys :func:`evaluate_inputs` writes straight into engine columns for *s*."""
    if s.kind != "consumer":
        return set()
    keys = set()
    for key in DIRECT_COLUMNS:
        section = key.rsplit(".", 1)[0]
        if section.startswith("revenue.") and getattr(s.revenue, section.split(".")[1]) is None:
            continue  # no such stream: a value for it must create it through validation
        if key in TOKEN_KEYS and not _api_only(s):
            continue
        if key.startswith("competition.") and (
            s.competition is None or getattr(s.competition, key.split(".")[1], 0.0) is None
        ):
            continue  # no section (a value must create it through validation), or the other way to enter
        keys.add(key)
    shape = retention_shape(s.retention)
    family = {
        "power_law": ("r1", "beta"),
        "plateau": ("r1", "floor", "tau"),
        "sbg": ("alpha", "beta"),
    }.get(s.retention.curve, ())
    keys |= {k for k, p in RETENTION_KEYS.items() if p in family and p in shape}
    if _api_only(s):
        keys |= set(PRICE_KEYS)
    return keys


def _check_rows(
    s: Scenario, inputs: pd.DataFrame, keys: Sequence[str], along: Sequence[str]
) -> None:
    """Refuse missing values, and values the schema does not allow for *s*.

    Each of *keys* is checked in the rows that hold its smallest and its largest value, with the
    other *along* inputs of those rows as they are: real rows, so that two inputs bound by one
    rule (``retention.floor`` no higher than ``retention.r1``) are judged together.
    """
    picks: set[int] = set()
    for key in keys:
        column = inputs[key]
        if column.isna().any():
            raise AssumptionError(
                "<inputs>", key, "a number in every row (found a missing value)", None
            )
        values = column.to_numpy(float)
        picks.update((int(np.argmin(values)), int(np.argmax(values))))
    for row in sorted(picks):
        try:
            s.override({k: _plain(inputs[k].iloc[row]) for k in along})
        except AssumptionError as exc:
            raise AssumptionError("<inputs>", exc.key_path, exc.allowed, exc.value) from None


def _group_scenarios(
    s: Scenario, inputs: pd.DataFrame, keys: list[str], along: Sequence[str] = ()
) -> tuple[list[Scenario], NDArray[np.int64]]:
    """One validated scenario per distinct combination of the *keys* values, and each row's group.

    A value may be allowed only together with a column value (a model without a cached-input
    price needs a cached share of 0): when a group's values alone are refused, they are validated
    once more with the *along* columns of the group's first row.
    """
    if not keys:
        return [s], np.zeros(len(inputs), np.int64)
    grouped = inputs[keys].astype(object)
    codes, uniques = pd.MultiIndex.from_frame(grouped).factorize()
    scenarios = []
    for group, values in enumerate(uniques):
        override = {k: _plain(v) for k, v in zip(keys, values)}
        try:
            scenarios.append(s.override(override))
            continue
        except AssumptionError as exc:
            refused = exc
        if along:
            first = int(np.flatnonzero(codes == group)[0])
            try:
                scenarios.append(
                    s.override({**override, **{k: _plain(inputs[k].iloc[first]) for k in along}})
                )
                continue
            except AssumptionError as exc:
                refused = exc
        raise AssumptionError(
            "<inputs>", refused.key_path, refused.allowed, refused.value
        ) from None
    return scenarios, np.asarray(codes, np.int64)


def _plain(value: Any) -> Any:
    """A numpy scalar as a plain Python value; a whole number as an int (strict int keys accept
    it, and float keys accept ints)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        number = float(value)
        return int(number) if number.is_integer() else number
    return value


def evaluate_inputs(
    scenario: Scenario, inputs: pd.DataFrame, *, checked: Iterable[str] = ()
) -> pd.DataFrame:
    """Evaluate *scenario* once per row of *inputs* (columns: dotted keys) → outcome columns.

    Returns a frame with :data:`OUTCOME_COLUMNS`, one row per input row, on *inputs*' index.
    A value the schema does not allow raises :class:`AssumptionError` naming the key.  Keys in
    *checked* are trusted to be in range (drawn from distributions whose reach was checked when
    the portfolio was loaded) and are not checked again, unless a named input (``model.name``)
    varies beside them.
    """
    n = len(inputs)
    if n == 0:
        return _outcomes_frame({}, 0, inputs.index)
    if (
        scenario.kind != "consumer"
    ):  # deal and MaaS engines: one validated scenario per distinct row
        groups, codes = _group_scenarios(scenario, inputs, list(inputs.columns))
        out = evaluate(groups).summary[list(OUTCOME_COLUMNS)].iloc[codes]
        out.index = inputs.index
        return out
    return _outcomes_frame(consumer_summary(scenario, inputs, checked), n, inputs.index)


def consumer_summary(
    scenario: Scenario, inputs: pd.DataFrame, checked: Iterable[str] = ()
) -> Summary:
    """:func:`evaluate_inputs` of a consumer scenario before pandas: the engine's summary columns
    (``(values, valid)`` each), one value per row of *inputs* (at least one row)."""
    n = len(inputs)
    fast = fast_keys(scenario)
    numeric = [k for k in inputs.columns if k in fast and pd.api.types.is_numeric_dtype(inputs[k])]
    structural = [k for k in inputs.columns if k not in numeric]
    groups, codes = _group_scenarios(scenario, inputs, structural, numeric)
    # Drawn values were checked against the nominal scenario when the portfolio was loaded.  Beside
    # another name (a model without a cached-input price, say) a value may no longer be allowed, so
    # with a named structural input they are checked again on each group's own rows.
    named = any(not pd.api.types.is_numeric_dtype(inputs[k]) for k in structural)
    trusted = set() if named else set(checked)
    untrusted = [k for k in numeric if k not in trusted]
    if untrusted:
        rows_of = (
            pd.Series(np.arange(n)).groupby(codes).indices if len(groups) > 1 else {0: slice(None)}
        )
        for group, s in enumerate(groups):
            _check_rows(s, inputs.iloc[rows_of[group]], untrusted, numeric)
    base = from_scenarios(groups)
    months = base.months
    shape_keys = [k for k in numeric if k in RETENTION_KEYS]
    update: dict[str, Any] = {}
    for key in numeric:
        if key in DIRECT_COLUMNS:
            update[DIRECT_COLUMNS[key]] = inputs[key].to_numpy(float)
    if DIRECT_COLUMNS["growth.cac_usd"] in update or "growth.paid_budget_usd_per_month" in numeric:
        cac = update["cac_usd"] if "cac_usd" in update else base.cac_usd[codes]
        budget = (
            update["paid_budget_usd_per_month"]
            if "paid_budget_usd_per_month" in update
            else base.paid_budget_usd_per_month[codes]
        )
        bad = (budget > 0) & ~(cac > 0)
        if bad.any():
            raise AssumptionError(
                "<inputs>",
                "growth.cac_usd",
                "a positive cost per acquired user when paid_budget_usd_per_month > 0",
                float(cac[np.flatnonzero(bad)[0]]),
            )
    prices = [k for k in numeric if k in PRICE_KEYS]
    if prices:
        update.update(_api_prices(groups, codes, {k: inputs[k].to_numpy(float) for k in prices}))
    if shape_keys:
        update["retention"] = _retention(
            groups,
            codes,
            {RETENTION_KEYS[k]: inputs[k].to_numpy(float) for k in shape_keys},
            months,
        )
    # the columns drawn replace the groups' own: they are not copied to every row first
    a = replace(base.rows(codes, [scenario.name] * n, skip=update), **update)
    try:
        summary = evaluate_summary(a)
    except NotFinite as exc:
        row = inputs.iloc[exc.row].to_dict()
        raise TcpmfError(
            f"{scenario.name}, draw {inputs.index[exc.row]} ({_describe(row)}): "
            f"{str(exc).split(': ', 1)[-1]}"
        ) from None
    return summary


def _describe(row: Mapping[str, Any]) -> str:
    return ", ".join(
        f"{k} = {v:.6g}" if isinstance(v, float) else f"{k} = {v}" for k, v in row.items()
    )


def _api_prices(
    groups: list[Scenario], codes: NDArray[np.int64], values: Mapping[str, NDArray[np.float64]]
) -> dict[str, Any]:
    """Effective month-0 prices of a single API model with some of its price inputs drawn."""
    from tcpmf.catalog.prices import model_price

    list_in: list[float] = []
    list_out: list[float] = []
    list_cached: list[float] = []
    ratio: list[float] = []
    for s in groups:
        m = s.model
        if m.usd_per_mtok_in is not None and m.usd_per_mtok_out is not None:
            p_in, p_out, p_cached = m.usd_per_mtok_in, m.usd_per_mtok_out, None
        else:
            price = model_price(m.name, s.start_month)
            p_in, p_out, p_cached = (
                price.usd_per_mtok_in,
                price.usd_per_mtok_out,
                price.usd_per_mtok_cached_in,
            )
        if m.cached_input_price_factor is not None:  # as tcpmf.model.routing prices it
            p_cached = p_in * m.cached_input_price_factor
        list_in.append(p_in)
        list_out.append(p_out)
        list_cached.append(p_in if p_cached is None else p_cached)
        # the cached price as a share of the input price, so that a drawn input price carries it along
        ratio.append(p_cached / p_in if p_cached is not None and p_in else 1.0)
    drawn_out = values.get("model.usd_per_mtok_out", np.asarray(list_out)[codes])
    if "model.usd_per_mtok_in" in values:
        drawn_in = values["model.usd_per_mtok_in"]
        cached = drawn_in * np.asarray(ratio)[codes]
    else:  # the very prices of the point path, to the last bit
        drawn_in, cached = np.asarray(list_in)[codes], np.asarray(list_cached)[codes]
    share = values.get(
        "model.cached_input_share", np.asarray([s.model.cached_input_share for s in groups])[codes]
    )
    discount = values.get(
        "model.price_discount", np.asarray([s.model.price_discount for s in groups])[codes]
    )
    c_in, c_out = api_usd_per_mtok(drawn_in, drawn_out, cached, share, discount)
    return {"usd_per_mtok_in_m0": c_in, "usd_per_mtok_out_m0": c_out}


def _retention(
    groups: list[Scenario],
    codes: NDArray[np.int64],
    values: Mapping[str, NDArray[np.float64]],
    months: int,
) -> NDArray[np.float64]:
    shapes = [retention_shape(s.retention) for s in groups]
    params = {
        p: values.get(p, np.asarray([sh[p] for sh in shapes])[codes])
        for p in ("r1", "beta", "floor", "tau", "alpha")
    }
    curve = np.asarray([CURVES[s.retention.curve] for s in groups])[codes]
    if ((params["floor"] > params["r1"]) & (curve == CURVES["plateau"])).any():
        raise AssumptionError(
            "<inputs>", "retention.floor", "a floor no higher than r1 in every row"
        )
    per_period = np.asarray([sh["months_per_period"] for sh in shapes])[codes]
    return retention_matrix(
        curve,
        params["r1"],
        params["beta"],
        params["floor"],
        params["tau"],
        params["alpha"],
        months=months,
        months_per_period=per_period,
    )


def _outcomes_frame(
    summary: Mapping[str, tuple[NDArray[np.generic], NDArray[np.bool_] | None]],
    n: int,
    index: pd.Index,
) -> pd.DataFrame:
    frame: dict[str, Any] = {}
    for name in OUTCOME_COLUMNS:
        if name not in summary:  # the ToB columns of consumer rows
            dtype = "Int64" if name == "deals_to_break_even" else "Float64"
            frame[name] = (
                pd.arrays.IntegerArray(np.zeros(n, np.int64), np.ones(n, bool))
                if dtype == "Int64"
                else pd.arrays.FloatingArray(np.zeros(n), np.ones(n, bool))
            )
            continue
        values, valid = summary[name]
        missing = np.zeros(n, bool) if valid is None else ~valid
        if values.dtype.kind == "b":
            frame[name] = pd.array(values, dtype="boolean")
        elif values.dtype.kind in "iu":
            frame[name] = pd.arrays.IntegerArray(values.astype(np.int64), missing)
        else:
            frame[name] = pd.arrays.FloatingArray(
                np.where(missing, 0.0, values).astype(float), missing
            )
    return pd.DataFrame(frame, index=index)


# --- Monte Carlo ---------------------------------------------------------------------------


def chunk_seed(seed: int, product: int, chunk: int) -> np.random.SeedSequence:
    """The random stream of chunk *chunk* of product *product*: child ``(product, chunk)`` of
    ``SeedSequence(seed)``, the same as ``SeedSequence(seed).spawn(P)[product].spawn(C)[chunk]``."""
    return np.random.SeedSequence(seed, spawn_key=(product, chunk))


def check_counts(samples: Any, seed: Any, chunk_size: Any, samples_name: str = "samples") -> None:
    """Refuse a draw count, seed or chunk size that is not a whole number in range."""
    for name, value, low in (
        (samples_name, samples, 1),
        ("chunk size", chunk_size, 1),
        ("seed", seed, 0),
    ):
        if (
            isinstance(value, (bool, np.bool_))
            or not isinstance(value, (int, np.integer))
            or value < low
        ):
            raise TcpmfError(f"{name} must be a whole number of at least {low} (got {value!r})")


def chunk_bounds(samples: int, chunk_size: int) -> list[tuple[int, int]]:
    """``[start, stop)`` draw indices of each chunk."""
    if samples < 1 or chunk_size < 1:
        raise TcpmfError(
            f"samples and chunk size must be at least 1 (got {samples} and {chunk_size})"
        )
    return [(start, min(start + chunk_size, samples)) for start in range(0, samples, chunk_size)]


def input_columns(portfolio: Portfolio) -> list[str]:
    """The union of the products' uncertain keys, sorted: every chunk file has these columns."""
    return sorted({k for p in portfolio.products for k in p.uncertainties})


def product_chunk(
    portfolio: Portfolio,
    product: int,
    chunk: int,
    samples: int,
    seed: int,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> pd.DataFrame:
    """Draw and evaluate one chunk: columns ``product, draw``, the inputs, then the outcomes.

    Inputs a product does not draw hold its nominal value, or ``<NA>`` if it has no such key; an
    input column has the same dtype in every chunk of the portfolio.
    """
    p = portfolio.products[product]
    start, stop = chunk_bounds(samples, chunk_size)[chunk]
    inputs = _chunk_inputs(portfolio, product, chunk, samples, seed, chunk_size)
    if plain_draws(portfolio):  # numpy columns, one frame at the end
        columns = DrawColumns(portfolio, stop - start)
        columns.fill(
            slice(0, stop - start),
            product,
            inputs,
            consumer_summary(p.scenario, inputs, p.uncertainties),
        )
        return columns.frame(np.full(stop - start, product), np.arange(start, stop, dtype=np.int64))
    outcomes = evaluate_inputs(p.scenario, inputs, checked=p.uncertainties)
    frame: dict[str, Any] = {
        "product": pd.Categorical.from_codes(
            np.full(stop - start, product), categories=portfolio.names
        ),
        "draw": np.arange(start, stop, dtype=np.int64),
    }
    for key in input_columns(portfolio):
        frame[key] = _input_column(p, key, inputs, stop - start)
    out = pd.concat([pd.DataFrame(frame), outcomes.reset_index(drop=True)], axis=1)
    return _normalize_dtypes(out, portfolio)


def _chunk_inputs(
    portfolio: Portfolio, product: int, chunk: int, samples: int, seed: int, chunk_size: int
) -> pd.DataFrame:
    """The drawn inputs of one chunk, indexed by draw number (which an error names)."""
    p = portfolio.products[product]
    start, stop = chunk_bounds(samples, chunk_size)[chunk]
    inputs = draw_inputs(
        p.uncertainties,
        stop - start,
        chunk_seed(seed, product, chunk),
        portfolio.sampling,
        p.correlations,
    )
    inputs.index = pd.RangeIndex(start, stop)
    return inputs


def plain_draws(portfolio: Portfolio) -> bool:
    """Whether a run's columns are assembled as numpy arrays (:class:`DrawColumns`): every product
    a consumer scenario, every input a number (drawn, or nominal where a product does not draw it)."""
    if any(p.scenario.kind != "consumer" for p in portfolio.products):
        return False
    if any(not d.numeric for p in portfolio.products for d in p.uncertainties.values()):
        return False
    keys = input_columns(portfolio)
    return not any(
        isinstance(value, str) for p in portfolio.products for value in _nominal(p, keys).values()
    )


def _nominal(p: Product, keys: Sequence[str]) -> dict[str, Any]:
    """The values of the dotted *keys* that *p* does not draw in its scenario, None where it has
    none (the scenario dumped once, not once a key)."""
    missing = [k for k in keys if k not in p.uncertainties]
    tree: Any = p.scenario.model_dump() if missing else {}
    return {key: _lookup(tree, key) for key in missing}


class DrawColumns:
    """The columns of draws of a :func:`plain_draws` portfolio as numpy arrays, filled chunk by
    chunk and made a frame once: the dtypes and values of :func:`product_chunk`'s frames
    concatenated, without a frame per chunk."""

    def __init__(self, portfolio: Portfolio, rows: int) -> None:
        self.portfolio = portfolio
        self.keys = input_columns(portfolio)
        self.inputs = {k: (np.zeros(rows), np.zeros(rows, bool)) for k in self.keys}
        self.outcomes: dict[str, tuple[NDArray[Any], NDArray[np.bool_]]] = {}
        self.rows = rows
        self.nominal: dict[int, dict[str, Any]] = {}  # per product, as it is first filled

    def _outcome(self, name: str, dtype: np.dtype[Any]) -> tuple[NDArray[Any], NDArray[np.bool_]]:
        if name not in self.outcomes:
            kind = np.int64 if dtype.kind in "iu" else dtype
            self.outcomes[name] = (np.zeros(self.rows, kind), np.zeros(self.rows, bool))
        return self.outcomes[name]

    def fill(self, at: slice, product: int, inputs: pd.DataFrame, summary: Summary) -> None:
        """Rows *at*: *product*'s drawn *inputs* and the engine's *summary* of them."""
        if product not in self.nominal:
            self.nominal[product] = _nominal(self.portfolio.products[product], self.keys)
        for key in self.keys:
            values, missing = self.inputs[key]
            if key in inputs:
                values[at] = inputs[key].to_numpy(float)
                continue
            value = self.nominal[product][key]
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                values[at] = float(value)
            else:
                missing[at] = True
        for name in OUTCOME_COLUMNS:
            if name not in summary:  # the ToB columns of consumer rows
                kind = np.dtype(np.int64 if name == "deals_to_break_even" else float)
                self._outcome(name, kind)[1][at] = True
                continue
            column, valid = summary[name]
            values, missing = self._outcome(name, column.dtype)
            values[at] = column
            if valid is not None and column.dtype.kind != "b":
                np.logical_not(valid, out=missing[at])
                if column.dtype.kind == "f":
                    np.copyto(values[at], 0.0, where=missing[at])

    def frame(self, products: NDArray[np.int64], draws: NDArray[np.int64]) -> pd.DataFrame:
        """The frame of every row: ``product`` (codes into the portfolio's names), ``draw``, the
        inputs and the outcomes, as :func:`product_chunk` gives them."""
        frame: dict[str, Any] = {
            "product": pd.Categorical.from_codes(products, categories=self.portfolio.names),
            "draw": draws,
        }
        for key in self.keys:
            frame[key] = pd.arrays.FloatingArray(*self.inputs[key])
        for name in OUTCOME_COLUMNS:
            values, missing = self.outcomes[name]
            if values.dtype.kind == "b":
                frame[name] = pd.arrays.BooleanArray(values, missing)
            elif values.dtype.kind == "i":
                frame[name] = pd.arrays.IntegerArray(values, missing)
            else:
                frame[name] = pd.arrays.FloatingArray(values, missing)
        return pd.DataFrame(frame, copy=False)


def _input_column(p: Product, key: str, inputs: pd.DataFrame, n: int) -> Any:
    """Every input column is a string column if any product draws names for it, else Float64."""
    if key in inputs:
        column = inputs[key]
        if isinstance(column.dtype, pd.CategoricalDtype):
            return pd.array(column.astype(str), dtype="string")
        return pd.arrays.FloatingArray(column.to_numpy(float), np.zeros(n, bool))
    value = _lookup(p.scenario.model_dump(), key)
    if isinstance(value, str):
        return pd.array([value] * n, dtype="string")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return pd.arrays.FloatingArray(np.full(n, float(value)), np.zeros(n, bool))
    return pd.arrays.FloatingArray(np.zeros(n), np.ones(n, bool))


def _normalize_dtypes(frame: pd.DataFrame, portfolio: Portfolio) -> pd.DataFrame:
    """Give an input column the same dtype in every chunk (string if any product draws names)."""
    textual = {k for p in portfolio.products for k, d in p.uncertainties.items() if not d.numeric}
    for key in input_columns(portfolio):
        if key in textual and frame[key].dtype != "string":
            frame[key] = frame[key].astype("string")
    return frame


def iter_chunks(portfolio: Portfolio, samples: int, chunk_size: int) -> Iterator[tuple[int, int]]:
    """Every ``(product, chunk)`` of a run, in order."""
    count = len(chunk_bounds(samples, chunk_size))
    for product in range(len(portfolio.products)):
        for chunk in range(count):
            yield product, chunk


def monte_carlo(
    subject: Analysable,
    n: int,
    seed: int = 0,
    *,
    sampling: str | None = None,
    correlations: Sequence[tuple[str, str, float]] = (),
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> pd.DataFrame:
    """*n* Monte Carlo draws of each product, evaluated: one tidy row per product × draw.

    Parameters
    ----------
    subject
        What to analyse (:data:`~tcpmf.uncertainty.portfolio.Analysable`): a :class:`Portfolio`,
        a product, a scenario whose file holds distributions, or a path to either kind of file.
    n
        Draws per product.
    seed
        Same seed, same numbers (also with ``tcpmf run`` and any executor, for the same chunk size).
    sampling
        ``"lhs"`` (Latin hypercube within each chunk) or ``"mc"``; default the portfolio's.
    correlations
        Rank correlations ``(key_a, key_b, rho)`` for a bare scenario (a portfolio file has its own).

    Returns
    -------
    pandas.DataFrame
        ``product``, ``draw``, one column per uncertain input (dotted key), and the outcome
        columns (:data:`OUTCOME_COLUMNS`).  Summarize it with :func:`summarize`.

    Notes
    -----
    The frame holds every draw in memory, about 300 bytes a draw.  For millions of draws write
    them to disk instead, in bounded memory and resumable: ``tcpmf run`` or
    ``tcpmf.uncertainty.runner.run(portfolio, n, seed, out)``, then :func:`tcpmf.read_run` or
    ``tcpmf.uncertainty.runner.run_summary``.
    """
    check_counts(n, seed, chunk_size, "n")
    if sampling is not None and sampling not in SAMPLING_NAMES:
        raise TcpmfError(f"sampling must be one of {', '.join(SAMPLING_NAMES)} (got {sampling!r})")
    portfolio = as_portfolio(subject, correlations, sampling or "lhs")
    if sampling is not None and SAMPLING_NAMES[sampling] != portfolio.sampling:
        portfolio = replace(portfolio, sampling=SAMPLING_NAMES[sampling])
    if plain_draws(portfolio):
        return _monte_carlo_columns(portfolio, n, seed, chunk_size)
    frames = [
        product_chunk(portfolio, p, c, n, seed, chunk_size)
        for p, c in iter_chunks(portfolio, n, chunk_size)
    ]
    out = pd.concat(frames, ignore_index=True)
    if not isinstance(out["product"].dtype, pd.CategoricalDtype):  # concat keeps equal categories
        out["product"] = pd.Categorical(out["product"].astype(str), categories=portfolio.names)
    return out


def _monte_carlo_columns(portfolio: Portfolio, n: int, seed: int, chunk_size: int) -> pd.DataFrame:
    """:func:`monte_carlo` of a :func:`plain_draws` portfolio: each chunk's inputs and outcomes
    written into the run's numpy columns, one frame at the end."""
    bounds = chunk_bounds(n, chunk_size)
    count = len(portfolio.products)
    columns = DrawColumns(portfolio, count * n)
    for product, chunk in iter_chunks(portfolio, n, chunk_size):
        p = portfolio.products[product]
        start, stop = bounds[chunk]
        inputs = _chunk_inputs(portfolio, product, chunk, n, seed, chunk_size)
        summary = consumer_summary(p.scenario, inputs, p.uncertainties)
        columns.fill(slice(product * n + start, product * n + stop), product, inputs, summary)
    return columns.frame(
        np.repeat(np.arange(count), n), np.tile(np.arange(n, dtype=np.int64), count)
    )


#: The columns of the draws that :func:`summarize` reads (a reader of a run reads only these).
SUMMARIZED_COLUMNS = (
    "product",
    "clears_break_even",
    "payback_month",
    "peak_funding_usd",
    "tcpmf_month",
)

#: The per-product table's columns after ``product``.
SUMMARY_TABLE_COLUMNS = (
    "draws",
    "p_clears_break_even",
    "payback_month_p10",
    "payback_month_p50",
    "payback_month_p90",
    "peak_funding_usd_p10",
    "peak_funding_usd_p50",
    "peak_funding_usd_p90",
    "tcpmf_month_p10",
    "tcpmf_month_p50",
    "tcpmf_month_p90",
)


def _censored_quantiles(values: pd.Series, qs: Sequence[float]) -> list[Any]:
    """Quantiles of a month that may never come (``<NA>``): a missing month counts as later than
    any month, so a quantile that falls among them is ``<NA>`` ("not within the horizon")."""
    x = values.astype("Float64").to_numpy(dtype=float, na_value=np.inf)
    if len(x) == 0:
        return [pd.NA] * len(qs)
    q = np.quantile(x, qs, method="inverted_cdf")
    return [pd.NA if not np.isfinite(v) else float(v) for v in q]


def summarize(results: pd.DataFrame) -> pd.DataFrame:
    """Per product: P(clears break-even) and P10/P50/P90 of payback month, peak funding and
    TC-PMF month.  A month that never comes within the horizon counts as later than all others;
    a percentile that falls among those is ``<NA>``."""
    missing = [c for c in SUMMARIZED_COLUMNS if c not in results]
    if missing:
        raise TcpmfError(
            f"summarize takes the draws of monte_carlo or read_run; these have no column {missing[0]!r} "
            f"(it needs {', '.join(SUMMARIZED_COLUMNS)})"
        )
    rows = []
    for product, group in results.groupby("product", observed=True, sort=False):
        row: dict[str, Any] = {"product": str(product), "draws": len(group)}
        row["p_clears_break_even"] = float(group["clears_break_even"].astype(bool).mean())
        for column in ("payback_month", "peak_funding_usd", "tcpmf_month"):
            for q, v in zip((10, 50, 90), _censored_quantiles(group[column], (0.1, 0.5, 0.9))):
                row[f"{column}_p{q}"] = v
        rows.append(row)
    table = pd.DataFrame(rows, columns=["product", *SUMMARY_TABLE_COLUMNS])
    for column in SUMMARY_TABLE_COLUMNS[2:]:  # percentiles are observed values: whole months
        table[column] = table[column].astype("Int64" if "_month_" in column else "Float64")
    table["draws"] = table["draws"].astype("Int64")
    return table
