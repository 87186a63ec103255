"""Batch evaluation (tcpmf.uncertainty.batch): a table of inputs at engine speed gives the numbers each row's
own validated scenario gives; Monte Carlo is reproducible; the per-product summary."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import _no_dust

import tcpmf
from tcpmf.core.errors import AssumptionError
from tcpmf.core.yamlio import assumptions_dir
from tcpmf.formulas.economics import geometric_over_months, new_users
from tcpmf.formulas.retention import active_users, active_users_growing
from tcpmf.model.arrays import from_scenarios
from tcpmf.model.engine import evaluate_arrays, evaluate_summary
from tcpmf.uncertainty.batch import OUTCOME_COLUMNS, evaluate_inputs, fast_keys, product_chunk
from tcpmf.uncertainty.portfolio import load_portfolio

PRODUCTS = assumptions_dir() / "products"
PORTFOLIO = assumptions_dir() / "portfolios" / "consumer_stages.yaml"

#: Products of every consumer shape: sBG, plateau and power-law retention, subscription, ads and
#: commerce revenue, a demand-driven self-hosted route, price elasticity; and a deal-based one.
NAMES = (
    "writing_assistant",
    "ai_companion",
    "answer_engine",
    "shopping_assistant",
    "ai_friends_selfhosted",
    "coding_helper",
    "tob_price_war_bid",
)
SCENARIOS = {name: tcpmf.load(PRODUCTS / f"{name}.yaml") for name in NAMES}

#: Keys and the ranges their values are drawn from (inside the schema's bounds).
RANGES: dict[str, tuple[float, float]] = {
    "usage.dau_per_mau": (0.02, 1.0),
    "usage.sessions_per_day": (0.2, 8.0),
    "usage.requests_per_session": (1.0, 40.0),
    "usage.calls_per_request": (1.0, 6.0),
    "usage.input_tokens_per_call": (100.0, 20_000.0),
    "usage.output_tokens_per_call": (20.0, 3_000.0),
    "revenue.subscription.price_usd_per_month": (2.0, 60.0),
    "revenue.subscription.paid_share": (0.0, 0.3),
    "revenue.ads.rpm_usd": (0.5, 60.0),
    "revenue.commerce.gmv_usd_per_mau": (0.0, 50.0),
    "revenue.commerce.take_rate": (0.0, 0.1),
    "growth.organic_new_users_per_month": (0.0, 200_000.0),
    "growth.monthly_growth": (-0.2, 0.2),
    "costs.fixed_usd_per_month": (0.0, 2e6),
    "costs.other_variable_usd_per_mau": (0.0, 0.5),
    "model.annual_cost_decline": (1.0, 60.0),
    "model.cached_input_share": (0.0, 0.9),
    "target_margin": (0.0, 0.8),
    "retention.r1": (0.05, 0.7),
    "retention.beta": (0.1, 3.0),
    "retention.alpha": (0.2, 3.0),
    "retention.tau": (0.5, 12.0),
    "retention.floor": (0.0, 0.04),
    "deal.bidding_discount": (0.0, 0.6),
    "deal.win_rate": (0.05, 0.9),
}
MODELS = ["gpt-4o", "gpt-4o-mini", "deepseek-v3", "gemini-2.0-flash"]


def _present(s: tcpmf.Scenario, key: str) -> bool:
    node: Any = s.model_dump()
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node or node[part] is None:
            return False
        node = node[part]
    return True


def _keys(s: tcpmf.Scenario) -> list[str]:
    return [k for k in RANGES if _present(s, k)]


@st.composite
def input_tables(draw: st.DrawFn) -> tuple[tcpmf.Scenario, pd.DataFrame]:
    s = SCENARIOS[draw(st.sampled_from(NAMES))]
    keys = draw(st.lists(st.sampled_from(_keys(s)), min_size=1, max_size=5, unique=True))
    rows = draw(st.integers(1, 5))
    columns: dict[str, Any] = {}
    for key in keys:
        low, high = RANGES[key]
        # values a person could mean: no denormal shares (tests/strategies.py, _no_dust)
        columns[key] = draw(
            st.lists(st.floats(low, high).map(_no_dust), min_size=rows, max_size=rows)
        )
    if s.kind == "consumer" and s.model.route == "api" and draw(st.booleans()):
        columns["model.name"] = pd.array(
            draw(st.lists(st.sampled_from(MODELS), min_size=rows, max_size=rows)), dtype="string"
        )
    return s, pd.DataFrame(columns)


def _row_scenarios(s: tcpmf.Scenario, inputs: pd.DataFrame) -> list[tcpmf.Scenario]:
    out = []
    for row in inputs.to_dict("records"):
        values = {
            k: (v if isinstance(v, str) else (int(v) if float(v).is_integer() else float(v)))
            for k, v in row.items()
        }
        out.append(s.override(values))
    return out


def assert_outcomes_equal(fast: pd.DataFrame, slow: pd.DataFrame) -> None:
    for column in OUTCOME_COLUMNS:
        a, b = fast[column].reset_index(drop=True), slow[column].reset_index(drop=True)
        assert a.isna().tolist() == b.isna().tolist(), column
        if pd.api.types.is_float_dtype(a):
            x = a.to_numpy(dtype=float, na_value=0.0)
            y = b.to_numpy(dtype=float, na_value=0.0)
            np.testing.assert_allclose(x, y, rtol=1e-9, atol=1e-9, err_msg=column)
        else:
            assert a.astype(object).tolist() == b.astype(object).tolist(), column


@given(case=input_tables())
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
def test_a_table_of_inputs_gives_what_each_rows_own_scenario_gives(
    case: tuple[tcpmf.Scenario, pd.DataFrame],
) -> None:
    """The fast path (values written into engine columns, structural keys grouped) and the slow
    path (one validated scenario per row) agree on every outcome; a value one row's scenario
    refuses is refused by both."""
    s, inputs = case
    try:
        slow = tcpmf.evaluate(_row_scenarios(s, inputs)).summary
    except AssumptionError:
        with pytest.raises(AssumptionError):
            evaluate_inputs(s, inputs)
        return
    assert_outcomes_equal(evaluate_inputs(s, inputs), slow)


def test_fast_path_covers_the_keys_a_portfolio_draws() -> None:
    """The bundled portfolio's numeric keys all take the column path (a million draws are one
    engine call); only model.name is grouped."""
    for product in load_portfolio(PORTFOLIO).products:
        fast = fast_keys(product.scenario)
        slow = [k for k, d in product.uncertainties.items() if d.numeric and k not in fast]
        assert slow == [], product.name


@given(block=st.integers(1, 9), seed=st.integers(0, 1000))
@settings(max_examples=20, deadline=None)
def test_blocked_summary_equals_one_pass(block: int, seed: int) -> None:
    p = load_portfolio(PORTFOLIO).products[seed % 5]
    rng = np.random.default_rng(seed)
    a = from_scenarios(
        [p.scenario.override({"usage.sessions_per_day": float(x)}) for x in rng.uniform(0.5, 5, 23)]
    )
    whole = evaluate_arrays(a, monthly=False).summary
    blocked = evaluate_summary(a, block_rows=block)
    for name, (values, valid) in whole.items():
        if values.dtype.kind == "f":  # sums over months may round differently on a strided block
            np.testing.assert_allclose(
                blocked[name][0].astype(float),
                values.astype(float),
                rtol=1e-12,
                atol=1e-12,
                err_msg=name,
            )
        else:
            np.testing.assert_array_equal(blocked[name][0], values, err_msg=name)
        if valid is not None:
            np.testing.assert_array_equal(blocked[name][1], valid, err_msg=name)


positive = st.floats(0.0, 1e6, allow_nan=False)


@given(
    organic=st.lists(positive, min_size=1, max_size=4),
    growth=st.floats(-1.0, 1.0),
    paid=positive,
    months=st.integers(1, 60),
    r1=st.floats(0.0, 1.0),
    beta=st.floats(0.0, 3.0),
)
def test_recurrence_for_active_users_equals_the_cohort_convolution(
    organic: list[float], growth: float, paid: float, months: int, r1: float, beta: float
) -> None:
    n = len(organic)
    k = np.maximum(np.arange(months, dtype=float), 1.0)[:, None]
    retention = np.repeat(r1 * k ** (-beta), n, axis=1)
    retention[0] = 1.0
    new = new_users(np.asarray(organic), growth, paid, months)
    direct = active_users(new, retention)
    fast = active_users_growing(np.asarray(organic), growth, paid, retention)
    np.testing.assert_allclose(fast, direct, rtol=1e-10, atol=1e-6)
    assert (fast >= 0).all()


@given(ratio=st.lists(st.floats(0.0, 3.0), min_size=1, max_size=4), months=st.integers(0, 120))
def test_geometric_rows_equal_powers(ratio: list[float], months: int) -> None:
    q = np.asarray(ratio)
    expected = q[None, :] ** np.arange(months, dtype=float)[:, None]
    np.testing.assert_allclose(geometric_over_months(q, months), expected, rtol=1e-12, atol=1e-300)


# --- Monte Carlo ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def portfolio() -> tcpmf.Portfolio:
    return load_portfolio(PORTFOLIO)


def test_same_seed_same_numbers_and_another_seed_other_numbers(portfolio: tcpmf.Portfolio) -> None:
    first = tcpmf.monte_carlo(portfolio, 300, seed=9, chunk_size=128)
    pd.testing.assert_frame_equal(first, tcpmf.monte_carlo(portfolio, 300, seed=9, chunk_size=128))
    other = tcpmf.monte_carlo(portfolio, 300, seed=10, chunk_size=128)
    assert not np.allclose(
        first["usage.sessions_per_day"].to_numpy(float, na_value=0),
        other["usage.sessions_per_day"].to_numpy(float, na_value=0),
    )
    assert len(first) == 300 * len(portfolio.products)
    assert (
        first.groupby("product", observed=True)["draw"]
        .apply(list)
        .map(lambda d: d == list(range(300)))
        .all()
    )


def test_monte_carlo_equals_its_chunks_and_each_draws_own_scenario(
    portfolio: tcpmf.Portfolio,
) -> None:
    draws = tcpmf.monte_carlo(portfolio, 50, seed=3, chunk_size=20)
    product = portfolio.products[0]
    chunks = pd.concat(
        [product_chunk(portfolio, 0, c, 50, 3, 20) for c in range(3)], ignore_index=True
    )
    mine = draws[draws["product"] == product.name].reset_index(drop=True)
    np.testing.assert_array_equal(
        mine["ltv_usd"].to_numpy(float), chunks["ltv_usd"].to_numpy(float)
    )
    keys = list(product.uncertainties)
    slow = tcpmf.evaluate(_row_scenarios(product.scenario, mine[keys].head(12))).summary
    assert_outcomes_equal(mine.head(12), slow)


def test_a_bare_scenario_with_distributions_in_its_file_runs(
    yaml_writer, valid_scenario_dict
) -> None:  # type: ignore[no-untyped-def]
    valid_scenario_dict["usage"]["sessions_per_day"] = {
        "dist": "triangular",
        "low": 1,
        "mode": 2,
        "high": 4,
        "assumed": "test",
    }
    path = yaml_writer("s.yaml", valid_scenario_dict)
    assert tcpmf.load(path).usage.sessions_per_day == pytest.approx(
        tcpmf.load(path).uncertainties["usage.sessions_per_day"].nominal()
    )
    draws = tcpmf.monte_carlo(path, 200, seed=1)
    assert draws["usage.sessions_per_day"].between(1, 4).all()
    assert draws["usage.sessions_per_day"].nunique() == 200


def test_more_sessions_never_raise_the_chance_of_clearing_for_a_loss_making_unit() -> None:
    """An economic check through the batch path: on a subscription product that loses money on
    each free user's tokens, more sessions per day can only lower contribution."""
    s = SCENARIOS["writing_assistant"]
    inputs = pd.DataFrame({"usage.sessions_per_day": np.linspace(0.5, 8, 40)})
    out = evaluate_inputs(s, inputs)
    contribution = out["contribution_usd_per_mau_m0"].to_numpy(float)
    assert (np.diff(contribution) < 0).all()


# --- summarize -----------------------------------------------------------------------------


def _frame(months: list[float | None], clears: list[bool]) -> pd.DataFrame:
    n = len(months)
    frame = {
        "product": pd.Categorical(["A"] * n),
        "clears_break_even": pd.array(clears, dtype="boolean"),
        "payback_month": pd.array(months, dtype="Float64"),
        "peak_funding_usd": pd.array(np.arange(n, dtype=float) * 10, dtype="Float64"),
        "tcpmf_month": pd.array([0.0] * n, dtype="Float64"),
    }
    return pd.DataFrame(frame)


@given(hits=st.lists(st.booleans(), min_size=1, max_size=60))
def test_probability_of_clearing_is_the_share_of_draws_that_clear(hits: list[bool]) -> None:
    table = tcpmf.summarize(_frame([1.0] * len(hits), hits))
    assert table.loc[0, "p_clears_break_even"] == pytest.approx(sum(hits) / len(hits))
    assert table.loc[0, "draws"] == len(hits)


def test_a_percentile_among_months_that_never_come_is_missing_not_a_number() -> None:
    months: list[float | None] = [3.0] * 85 + [None] * 15
    table = tcpmf.summarize(_frame(months, [True] * 100))
    assert table.loc[0, "payback_month_p10"] == 3 and table.loc[0, "payback_month_p50"] == 3
    assert table.loc[0, "payback_month_p90"] is pd.NA
    assert not any(isinstance(v, float) and math.isnan(v) for v in table.iloc[0].tolist())


def test_summary_of_a_run_has_the_contract_columns(portfolio: tcpmf.Portfolio) -> None:
    table = tcpmf.summarize(tcpmf.monte_carlo(portfolio, 200, seed=0))
    assert table["product"].tolist() == portfolio.names
    for column in (
        "p_clears_break_even",
        *(
            f"{c}_p{q}"
            for c in ("payback_month", "peak_funding_usd", "tcpmf_month")
            for q in (10, 50, 90)
        ),
    ):
        assert column in table
    funding = table[
        ["peak_funding_usd_p10", "peak_funding_usd_p50", "peak_funding_usd_p90"]
    ].to_numpy(float)
    assert (np.diff(funding, axis=1) >= 0).all()


@given(seed=st.integers(0, 2**32 - 1), factor=st.floats(1.0, 20.0), n=st.integers(5, 60))
@settings(max_examples=40, deadline=None)
def test_dearer_tokens_never_make_a_draw_clear_or_need_less_cash(
    seed: int, factor: float, n: int
) -> None:
    """Common random numbers: the same draws at token prices *factor* times higher clear in a
    subset of the cases and need at least as much cash, so P(clears break-even) can only fall."""
    s = SCENARIOS["answer_engine"].override(
        {"model.usd_per_mtok_in": 0.4, "model.usd_per_mtok_out": 1.6}
    )
    rng = np.random.default_rng(seed)
    inputs = pd.DataFrame(
        {
            "usage.sessions_per_day": rng.uniform(0.2, 8, n),
            "revenue.ads.rpm_usd": rng.uniform(0.5, 60, n),
            "retention.r1": rng.uniform(0.05, 0.7, n),
        }
    )
    cheap = evaluate_inputs(
        s, inputs.assign(**{"model.usd_per_mtok_in": 0.4, "model.usd_per_mtok_out": 1.6})
    )
    dear = evaluate_inputs(
        s,
        inputs.assign(
            **{"model.usd_per_mtok_in": 0.4 * factor, "model.usd_per_mtok_out": 1.6 * factor}
        ),
    )
    cleared_cheap = cheap["clears_break_even"].to_numpy(bool)
    cleared_dear = dear["clears_break_even"].to_numpy(bool)
    assert not (cleared_dear & ~cleared_cheap).any()
    funding_cheap = cheap["peak_funding_usd"].to_numpy(float)
    funding_dear = dear["peak_funding_usd"].to_numpy(float)
    assert (funding_dear >= funding_cheap - 1e-6 * np.maximum(1.0, funding_cheap)).all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": 2.5}, "n must be a whole number of at least 1"),
        ({"n": 0}, "n must be a whole number of at least 1"),
        ({"n": 10, "seed": -1}, "seed must be a whole number of at least 0"),
        ({"n": 10, "sampling": "sobol"}, "sampling must be one of lhs"),
        (
            {"n": 10, "correlations": [("usage.sessions_per_day", "retention.r1", 0.5)]},
            "carry their own",
        ),
    ],
)
def test_monte_carlo_refuses_bad_arguments_in_words(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(tcpmf.TcpmfError, match=message):
        tcpmf.monte_carlo(PORTFOLIO, **kwargs)


def test_summarize_says_what_it_needs() -> None:
    with pytest.raises(tcpmf.TcpmfError, match="no column 'product'"):
        tcpmf.summarize(pd.DataFrame({"clears_break_even": [True]}))


def test_an_overflow_in_a_blocked_pass_names_the_row_of_the_whole_batch() -> None:
    from dataclasses import replace

    from tcpmf.model.summary import NotFinite

    base = from_scenarios([SCENARIOS["writing_assistant"]])
    a = base.rows(np.zeros(6000, np.int64), ["x"] * 6000)
    fixed = a.fixed_usd_per_month.copy()
    fixed[5000] = np.inf
    with pytest.raises(NotFinite, match="cash_usd is not finite") as info:
        evaluate_summary(replace(a, fixed_usd_per_month=fixed), block_rows=2048)
    assert info.value.row == 5000


def test_two_inputs_bound_by_one_rule_are_judged_together_row_by_row() -> None:
    """A lower r1 is allowed with a lower floor in the same row (the nominal floor, 0.06, would
    refuse it); a row that breaks the rule is refused by both paths."""
    s = SCENARIOS["ai_friends_selfhosted"]
    ok = pd.DataFrame({"retention.r1": [0.0546875, 0.3], "retention.floor": [0.0, 0.05]})
    assert_outcomes_equal(evaluate_inputs(s, ok), tcpmf.evaluate(_row_scenarios(s, ok)).summary)
    bad = pd.DataFrame({"retention.r1": [0.3, 0.04], "retention.floor": [0.05, 0.05]})
    with pytest.raises(AssumptionError, match="floor"):
        evaluate_inputs(s, bad)
