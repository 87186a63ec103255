"""Speed-ups of the batch path give the very numbers of the path they replaced.

The previous retention code is kept here, as it was, and the new one must equal it to the last
bit; a Monte Carlo run through the previous code (patched in) must equal today's run exactly.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import tcpmf
from tcpmf.core.yamlio import assumptions_dir
from tcpmf.formulas import retention as retention_module
from tcpmf.formulas.retention import CURVES, plateau, power_law, retention_matrix, sbg, table
from tcpmf.model import engine
from tcpmf.uncertainty import batch


def old_plateau(r1, floor, tau, months, months_per_period=1.0):  # type: ignore[no-untyped-def]
    """The plateau as it was: one expression, (T, N) temporaries (monthly curves only)."""
    assert np.all(np.asarray(months_per_period) == 1.0)
    k = np.maximum(np.arange(months, dtype=float)[:, None], 1.0)
    f = np.asarray(floor, float)
    out = f + (np.asarray(r1, float) - f) * np.exp(-(k - 1.0) / np.asarray(tau, float))
    out[0] = 1.0
    return out


def old_retention_matrix(
    curve,
    r1,
    beta,
    floor,
    tau,
    alpha,
    months,  # type: ignore[no-untyped-def]
    tables: Mapping[int, Mapping[int, float]] | None = None,
    months_per_period=1.0,
):
    """The retention matrix as it was: every family gathered and scattered by row (monthly curves only)."""
    assert np.all(np.asarray(months_per_period) == 1.0)
    curve = np.asarray(curve)
    n = curve.shape[0]
    params = {
        name: np.broadcast_to(np.asarray(v, float), (n,))
        for name, v in {"r1": r1, "beta": beta, "floor": floor, "tau": tau, "alpha": alpha}.items()
    }
    out = np.empty((months, n))
    for name, code in CURVES.items():
        rows = np.flatnonzero(curve == code)
        if rows.size == 0:
            continue
        p = {k: v[rows] for k, v in params.items()}
        if name == "power_law":
            out[:, rows] = power_law(p["r1"], p["beta"], months)
        elif name == "plateau":
            out[:, rows] = old_plateau(p["r1"], p["floor"], p["tau"], months)
        elif name == "sbg":
            out[:, rows] = sbg(p["alpha"], p["beta"], months)
        else:
            for row in rows:
                out[:, row] = table((tables or {})[int(row)], months)
    return out


shares = st.floats(0.01, 0.99)


@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from([0, 1, 2]),
            shares,
            shares,
            st.floats(0.05, 3.0),
            st.floats(0.1, 40.0),
            st.floats(0.1, 5.0),
        ),
        min_size=1,
        max_size=40,
    ),
    months=st.integers(1, 60),
    one_family=st.booleans(),
)
@settings(max_examples=200, deadline=None)
def test_retention_matrix_equals_the_previous_code_to_the_bit(rows, months, one_family) -> None:  # type: ignore[no-untyped-def]
    curve, a, b, beta, tau, alpha = (np.asarray(c) for c in zip(*rows))
    if one_family:
        curve = np.full_like(curve, curve[0])
    r1, floor = np.maximum(a, b), np.minimum(a, b)
    new = retention_matrix(curve, r1, beta, floor, tau, alpha, months=months)
    np.testing.assert_array_equal(
        new, old_retention_matrix(curve, r1, beta, floor, tau, alpha, months)
    )


@given(
    r1=shares,
    floor=shares,
    tau=st.floats(0.1, 40.0),
    months=st.integers(1, 60),
    n=st.integers(1, 5),
)
@settings(max_examples=100, deadline=None)
def test_plateau_broadcasts_scalars_and_columns_as_before(
    r1: float, floor: float, tau: float, months: int, n: int
) -> None:
    floor = min(floor, r1)
    column = np.linspace(floor, r1, n)
    cases: list[tuple[Any, Any, Any]] = [
        (r1, floor, tau),
        (r1, column, tau),
        (column, floor, tau),
        (r1, floor, np.full(n, tau)),
    ]
    for args in cases:
        np.testing.assert_array_equal(plateau(*args, months), old_plateau(*args, months))


def same_work_portfolio(folder: Path, second: bool = False) -> tcpmf.Portfolio:
    """A portfolio like the hand-kernel benchmark's: plateau retention and 14 drawn inputs; with
    *second*, a second product that grows, has a variable cost per user and draws only two of
    the inputs (the others hold its nominal values)."""
    bounds = {
        "growth.organic_new_users_per_month": (1e4, 2e5),
        "retention.r1": (0.2, 0.6),
        "retention.floor": (0.04, 0.12),
        "retention.tau": (1.0, 6.0),
        "usage.sessions_per_day": (0.5, 6.0),
        "usage.input_tokens_per_call": (500, 8000),
        "usage.output_tokens_per_call": (200, 2000),
        "model.usd_per_mtok_in": (0.1, 10.0),
        "model.usd_per_mtok_out": (0.3, 30.0),
        "model.annual_cost_decline": (1.5, 10.0),
        "revenue.subscription.paid_share": (0.01, 0.08),
        "revenue.subscription.price_usd_per_month": (5.0, 25.0),
        "growth.cac_usd": (0.5, 8.0),
        "costs.fixed_usd_per_month": (2e5, 2e6),
    }
    scenario: dict[str, Any] = {
        "extends": str(assumptions_dir() / "categories" / "productivity.yaml"),
        "name": "same work",
        "horizon_months": 36,
        "model": {
            "route": "api",
            "name": "gpt-4o",
            "usd_per_mtok_in": 2.5,
            "usd_per_mtok_out": 10,
            "annual_cost_decline": 4,
            "cached_input_share": 0,
        },
        "retention": {"curve": "plateau", "r1": 0.4, "floor": 0.08, "tau": 3},
        "growth": {
            "organic_new_users_per_month": 100000,
            "monthly_growth": 0,
            "paid_budget_usd_per_month": 50000,
            "cac_usd": 3,
        },
    }
    uncertain = {
        k: {"dist": "uniform", "low": lo, "high": hi, "assumed": "test"}
        for k, (lo, hi) in bounds.items()
    }
    products: list[dict[str, Any]] = [{"scenario": scenario, "uncertain": uncertain}]
    if second:
        other = {
            **copy.deepcopy(scenario),
            "name": "growing",
            "growth": {**scenario["growth"], "monthly_growth": 0.03},
            "costs": {"other_variable_usd_per_mau": 0.2},
        }
        products.append(
            {
                "scenario": other,
                "uncertain": {k: dict(uncertain[k]) for k in ("retention.r1", "growth.cac_usd")},
            }
        )
    path = folder / "same_work.yaml"
    path.write_text(yaml.safe_dump({"name": "same work", "sampling": "mc", "products": products}))
    return tcpmf.load_portfolio(path)


def test_monte_carlo_equals_the_run_through_the_previous_retention_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same seed and chunk size, every column equal to the last bit and every ``<NA>`` in place."""
    portfolio = same_work_portfolio(tmp_path)
    today = tcpmf.monte_carlo(portfolio, 3_000, seed=7, chunk_size=1_100)
    monkeypatch.setattr(batch, "retention_matrix", old_retention_matrix)
    monkeypatch.setattr(retention_module, "plateau", old_plateau)
    before = tcpmf.monte_carlo(portfolio, 3_000, seed=7, chunk_size=1_100)
    pd.testing.assert_frame_equal(today, before)  # names, dtypes, index
    for (
        column
    ) in today.columns:  # and the values to the last bit (masked columns compare loosely above)
        assert today[column].isna().tolist() == before[column].isna().tolist(), column
        if pd.api.types.is_numeric_dtype(today[column]) and not pd.api.types.is_bool_dtype(
            today[column]
        ):
            np.testing.assert_array_equal(
                today[column].to_numpy(float, na_value=0.0),
                before[column].to_numpy(float, na_value=0.0),
                err_msg=column,
            )
    assert (
        today["payback_month"].isna().any() and today["payback_month"].notna().any()
    )  # both kinds compared


def test_monte_carlo_draws_equal_their_own_scenarios_on_the_point_path(tmp_path: Path) -> None:
    """Each draw against ``evaluate`` of its own validated scenario: relative difference at most
    1e-12, and a month that never comes is ``<NA>`` in both."""
    portfolio = same_work_portfolio(tmp_path)
    draws = tcpmf.monte_carlo(portfolio, 40, seed=11, chunk_size=16)
    product = portfolio.products[0]
    keys = list(product.uncertainties)
    own = [
        product.scenario.override({k: float(v) for k, v in row.items()})
        for row in draws[keys].to_dict("records")
    ]
    slow = tcpmf.evaluate(own).summary.reset_index(drop=True)
    for column in batch.OUTCOME_COLUMNS:
        fast, point = draws[column], slow[column]
        assert fast.isna().tolist() == point.isna().tolist(), column
        if pd.api.types.is_float_dtype(fast):
            np.testing.assert_allclose(
                fast.to_numpy(float, na_value=0.0),
                point.to_numpy(float, na_value=0.0),
                rtol=1e-12,
                atol=0,
                err_msg=column,
            )
        else:
            assert fast.astype(object).tolist() == point.astype(object).tolist(), column


# --- the batch summary month by month (tcpmf.model.month_stream) -------------------------------


def whole_array_summary(a: Any) -> Any:
    """The straightforward path: one pass of the engine over whole ``(T, N)`` arrays, monthly
    table included, as ``tcpmf.evaluate`` runs it (checked against tests/reference.py)."""
    return engine.evaluate_arrays(a, monthly=True).summary


def assert_same_summary(new: Any, old: Any) -> None:
    """Every summary column to the last bit where defined, and defined in the same places."""
    assert list(new) == list(old)
    for name, (values, valid) in old.items():
        got, got_valid = new[name]
        assert (got_valid is None) == (valid is None), name
        defined = np.ones(len(values), bool) if valid is None else valid
        if valid is not None:
            np.testing.assert_array_equal(got_valid, valid, err_msg=name)
        assert got.dtype == values.dtype, name
        np.testing.assert_array_equal(got[defined], values[defined], err_msg=name)


@pytest.fixture(scope="module")
def plain_scenario(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return same_work_portfolio(tmp_path_factory.mktemp("plain")).products[0].scenario


@given(
    n=st.integers(1, 30),
    months=st.integers(1, 72),
    seed=st.integers(0, 2**32 - 1),
    growth=st.sampled_from([0.0, 0.05, -0.02]),
    discount=st.sampled_from([0.0, 0.15]),
    target=st.sampled_from([0.0, 0.3]),
    budget=st.sampled_from([0.0, 5e4]),
    paid_share=st.sampled_from([0.0, 0.04]),
    other=st.sampled_from([0.0, 1.5]),
)
@settings(max_examples=40, deadline=None)
def test_summary_month_by_month_equals_the_whole_array_pass(
    plain_scenario: Any,
    n: int,
    months: int,
    seed: int,
    growth: float,
    discount: float,
    target: float,
    budget: float,
    paid_share: float,
    other: float,
) -> None:
    """Plain scenarios (random columns, growth or not, discounting or not, no revenue or some) give
    the very summary of the whole-array pass, month and ``<NA>`` alike; in blocks, that of the
    whole-array pass over the same blocks (numpy sums a block of one scenario's months pairwise)."""
    from dataclasses import replace

    from tcpmf.model.arrays import from_scenarios

    base = from_scenarios([plain_scenario.override({"horizon_months": months})])
    rng = np.random.default_rng(seed)
    a = base.rows(np.zeros(n, np.int64), ["x"] * n)

    def column(low: float, high: float) -> Any:
        return rng.uniform(low, high, n)

    r1 = column(0.2, 0.6)
    a = replace(
        a,
        organic_new_users_per_month=column(1e4, 2e5),
        monthly_growth=np.full(n, growth),
        paid_budget_usd_per_month=np.full(n, budget),
        cac_usd=column(0.5, 8),
        fixed_usd_per_month=column(2e5, 2e6),
        sessions_per_day=column(0.5, 6),
        input_tokens_per_call=column(500, 8000),
        output_tokens_per_call=column(200, 2000),
        usd_per_mtok_in_m0=column(0.1, 10),
        usd_per_mtok_out_m0=column(0.3, 30),
        annual_cost_decline=column(1.0, 10),
        paid_share=np.full(n, paid_share),
        price_usd_per_month=column(5, 25),
        discount_rate_annual=np.full(n, discount),
        target_margin=np.full(n, target),
        other_variable_usd_per_mau=np.full(n, other),
        retention=plateau(r1, r1 * column(0.1, 0.9), column(1, 6), months),
    )
    assert engine.streams_months(a) == (n > 1)
    blocks = engine._blocks(a, 7, engine._summary_by_month)  # blocks of one among them
    assert_same_summary(blocks, engine._blocks(a, 7, whole_array_summary))
    assert_same_summary(engine.evaluate_summary(a), whole_array_summary(a))


def test_monte_carlo_equals_chunk_frames_through_the_whole_array_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fixed run of ``monte_carlo`` (and one chunk of ``tcpmf run``) against the straightforward
    path: each chunk a frame of its own, built column by column with pandas from the engine's one
    pass over whole arrays, and the frames concatenated.  Every column equal to the last bit, every ``<NA>`` in place."""
    portfolio = same_work_portfolio(tmp_path, second=True)
    n, seed, size = 9_000, 3, 4_000
    assert batch.plain_draws(portfolio)
    today = tcpmf.monte_carlo(portfolio, n, seed=seed, chunk_size=size)
    chunk = batch.product_chunk(portfolio, 1, 1, n, seed, size)  # as tcpmf run writes it
    monkeypatch.setattr(batch, "evaluate_summary", whole_array_summary)
    monkeypatch.setattr(batch, "plain_draws", lambda portfolio: False)  # a frame per chunk
    frames = [
        batch.product_chunk(portfolio, p, c, n, seed, size)
        for p, c in batch.iter_chunks(portfolio, n, size)
    ]
    pd.testing.assert_frame_equal(chunk, frames[4])  # product 1, chunk 1
    straightforward = pd.concat(frames, ignore_index=True)
    pd.testing.assert_frame_equal(today, straightforward)  # names, dtypes, index
    for column in today.columns:
        assert today[column].isna().tolist() == straightforward[column].isna().tolist(), column
        if pd.api.types.is_numeric_dtype(today[column]) and not pd.api.types.is_bool_dtype(
            today[column]
        ):
            np.testing.assert_array_equal(
                today[column].to_numpy(float, na_value=0.0),
                straightforward[column].to_numpy(float, na_value=0.0),
                err_msg=column,
            )
    for column in ("payback_month", "tcpmf_month", "company_tcpmf_month"):  # both kinds compared
        assert today[column].isna().any() and today[column].notna().any(), column


def test_a_product_waiting_for_its_floor_is_evaluated_as_its_own_scenario() -> None:
    """A product that waits for its capability floor is not taken month by month; its batch rows
    are the summaries of each row's own scenario (relative difference at most 1e-12, ``<NA>`` in
    the same places)."""
    from test_price_path import BASE

    from tcpmf.model.arrays import from_scenarios

    d = copy.deepcopy(BASE)
    d.update(start_month="2022-01")
    d["model"] = {"route": "api", "capability": "gpt-4-class", "annual_cost_decline": 3}
    s = tcpmf.from_dict(d)
    assert s.launch_month != s.start_month
    rng = np.random.default_rng(5)
    inputs = pd.DataFrame(
        {
            "usage.sessions_per_day": rng.uniform(0.5, 6, 12),
            "costs.fixed_usd_per_month": rng.uniform(0, 2e4, 12),
        }
    )
    a = from_scenarios([s]).rows(np.zeros(12, np.int64), ["x"] * 12)
    assert a.launch_month is not None and not engine.streams_months(a)
    fast = batch.evaluate_inputs(s, inputs)
    own = [s.override({k: float(v) for k, v in row.items()}) for row in inputs.to_dict("records")]
    slow = tcpmf.evaluate(own).summary
    for column in batch.OUTCOME_COLUMNS:
        assert fast[column].isna().tolist() == slow[column].isna().tolist(), column
        if pd.api.types.is_float_dtype(fast[column]):
            np.testing.assert_allclose(
                fast[column].to_numpy(float, na_value=0.0),
                slow[column].to_numpy(float, na_value=0.0),
                rtol=1e-12,
                atol=0,
                err_msg=column,
            )
        else:
            assert fast[column].astype(object).tolist() == slow[column].astype(object).tolist()


@given(
    n=st.integers(1, 12),
    months=st.integers(1, 48),
    seed=st.integers(0, 2**32 - 1),
    kinds=st.lists(st.sampled_from(["zero", "at once", "late", "mixed"]), min_size=4, max_size=4),
)
@settings(max_examples=100, deadline=None)
def test_monetized_arpu_equals_every_factor_computed(
    n: int, months: int, seed: int, kinds: list[str]
) -> None:
    """Streams worth nothing skipped, streams that earn at once in every column added whole: the
    very ARPU of every stream's factor computed and multiplied."""
    from types import SimpleNamespace

    from tcpmf.formulas.revenue import monetization_factor
    from tcpmf.model.arrays import MONETIZED_STREAMS

    rng = np.random.default_rng(seed)
    active = rng.uniform(0, 1e5, (months, n))
    columns: dict[str, Any] = {}
    streams = []
    for stream, kind in zip(MONETIZED_STREAMS, kinds):
        late: Any = {"zero": 0.0, "at once": 0.0, "late": 1.0, "mixed": rng.integers(0, 2, n)}[kind]
        columns[f"{stream}_from_month"] = late * rng.integers(0, 12, n)
        columns[f"{stream}_from_mau"] = late * rng.uniform(0, 5e4, n)
        columns[f"{stream}_ramp_months"] = late * rng.integers(0, 6, n)
        streams.append(np.zeros(n) if kind == "zero" else rng.uniform(0, 20, n))
    a = SimpleNamespace(**columns)
    expected = np.zeros_like(active)
    for stream, full in zip(MONETIZED_STREAMS, streams):
        expected += (
            monetization_factor(
                active,
                columns[f"{stream}_from_month"],
                columns[f"{stream}_from_mau"],
                columns[f"{stream}_ramp_months"],
            )
            * full
        )
    got = engine._monetized_arpu(a, tuple(streams), active)  # type: ignore[arg-type]
    np.testing.assert_array_equal(got, expected)


def old_monetization_factor(active_users, from_month, from_mau, ramp_months):  # type: ignore[no-untyped-def]
    """The monetization factor as it was: a running maximum of the threshold, then ``nan_to_num``
    and ``clip``."""
    active = np.asarray(active_users, float)
    t = np.arange(active.shape[0], dtype=float)[:, None]
    reached = np.maximum.accumulate(active >= np.asarray(from_mau, float), axis=0)
    t_mau = np.where(reached.any(axis=0), reached.argmax(axis=0), np.inf)
    t0 = np.maximum(np.ceil(np.asarray(from_month, float)), t_mau)
    with np.errstate(invalid="ignore"):
        factor = (t - t0 + 1.0) / np.maximum(np.asarray(ramp_months, float), 1.0)
    return np.clip(np.nan_to_num(factor, nan=0.0, neginf=0.0), 0.0, 1.0)


@given(
    n=st.integers(1, 12),
    months=st.integers(1, 48),
    seed=st.integers(0, 2**32 - 1),
    nan_month=st.booleans(),
)
@settings(max_examples=100, deadline=None)
def test_monetization_factor_equals_the_previous_code(
    n: int, months: int, seed: int, nan_month: bool
) -> None:
    from tcpmf.formulas.revenue import monetization_factor

    rng = np.random.default_rng(seed)
    active = rng.uniform(0, 1e5, (months, n))
    if nan_month:
        active[rng.integers(0, months)] = np.nan
    args = (rng.integers(0, 12, n) * 1.0, rng.uniform(0, 1e5, n), rng.integers(0, 6, n) * 1.0)
    new, old = monetization_factor(active, *args), old_monetization_factor(active, *args)
    np.testing.assert_array_equal(new, old)
    assert not np.signbit(new).any()  # no negative zero either
