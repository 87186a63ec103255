"""Capability floors (model.capability) and dated price paths (model.price_path: hindsight)."""

from __future__ import annotations

import copy
import itertools
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tcpmf
from tcpmf.catalog.capability import change_months, cheapest_meeting, resolve_floor
from tcpmf.catalog.prices import model_price
from tcpmf.core.months import month_index, month_label
from tcpmf.core.yamlio import ENV_ASSUMPTIONS, assumptions_dir
from tcpmf.model.price_path import api_model_path, api_price_factors

SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
ROOT = assumptions_dir()
LAST = change_months(ROOT)[-1]

BASE: dict[str, Any] = {
    "name": "floor",
    "category": "productivity",
    "start_month": "2024-01",
    "horizon_months": 36,
    "model": {"route": "api", "name": "gpt-3.5-turbo", "annual_cost_decline": 4},
    "usage": {
        "dau_per_mau": 0.3,
        "sessions_per_day": 2,
        "requests_per_session": 5,
        "input_tokens_per_call": 3000,
        "output_tokens_per_call": 500,
    },
    "revenue": {"subscription": {"price_usd_per_month": 20, "paid_share": 0.05}},
    "retention": {"curve": "plateau", "r1": 0.5, "floor": 0.2, "tau": 3},
    "growth": {"organic_new_users_per_month": 10000, "monthly_growth": 0.0},
    "costs": {"fixed_usd_per_month": 20000},
}


def build(start_month: str | None = None, **model: Any) -> tcpmf.Scenario:
    d = copy.deepcopy(BASE)
    if start_month is not None:
        d["start_month"] = start_month
    d["model"].update(model)
    d["model"] = {k: v for k, v in d["model"].items() if v is not None}
    return tcpmf.from_dict(d)


def months_or_never(summary: pd.DataFrame, column: str) -> list[float]:
    return [np.inf if pd.isna(v) else float(v) for v in summary[column]]


def test_named_model_is_unchanged_by_default_and_by_projected() -> None:
    default, projected = build(), build(price_path="projected")
    assert default.model.price_path is None
    a = tcpmf.evaluate([default]).summary
    b = tcpmf.evaluate([projected]).summary
    pd.testing.assert_frame_equal(
        a.reset_index(drop=True), b.reset_index(drop=True), check_exact=True
    )


def test_hindsight_follows_the_dated_catalog_then_declines() -> None:
    s = build(price_path="hindsight", start_month="2023-03")
    f_in, f_out = api_price_factors(s, 48)
    first = model_price("gpt-3.5-turbo", "2023-03")
    for t in range(month_index(LAST) - month_index("2023-03") + 1):
        p = model_price("gpt-3.5-turbo", month_label(month_index("2023-03") + t))
        assert f_in[t] == pytest.approx(p.usd_per_mtok_in / first.usd_per_mtok_in)
        assert f_out[t] == pytest.approx(p.usd_per_mtok_out / first.usd_per_mtok_out)
    assert f_in[10] == pytest.approx(0.25)  # 2024-01: $0.50 against $2 at launch
    t_last = month_index(LAST) - month_index("2023-03")
    assert f_in[t_last + 12] == pytest.approx(
        f_in[t_last] / 4
    )  # then annual_cost_decline, 4x a year


def test_a_batch_mixing_paths_keeps_the_projected_columns() -> None:
    alone = tcpmf.evaluate([build()]).summary
    mixed = tcpmf.evaluate([build(), build(price_path="hindsight")]).summary
    for column in ("tcpmf_month", "company_tcpmf_month", "payback_month"):
        assert mixed[column].iloc[0] == alone[column].iloc[0]
    assert mixed["peak_funding_usd"].iloc[0] == pytest.approx(
        alone["peak_funding_usd"].iloc[0], rel=1e-12
    )


def test_a_floor_names_the_cheapest_model_meeting_it() -> None:
    s = build(name=None, capability="gpt-4-class")
    best = cheapest_meeting(resolve_floor("gpt-4-class"), "2024-01", input_share=3000 / 3500)
    assert best is not None and s.model.name == best.model
    assert s.model.price_path == "hindsight" and s.sources["model.name"].startswith("derived")
    models = api_model_path(s, 36)
    assert (
        models[0] == s.model.name and len(set(models)) >= 2
    )  # the cheapest model changes over time
    assert s.model.annual_cost_decline == 4  # the file's own decline wins over the fitted one


@pytest.mark.parametrize(
    ("model", "fragment"),
    [
        ({"capability": "gpt-9-class", "name": None}, "gpt-4-class"),
        ({"capability": "gpt-4-class"}, "not both"),
        ({"capability": 5000, "name": None}, "none meets"),
        ({"price_path": "hindsight", "routes": [{"name": "gpt-4", "share": 1.0}]}, "projected"),
        ({"price_path": "sometimes"}, "projected"),
    ],
)
def test_bad_floor_or_path_is_an_assumption_error(model: dict[str, Any], fragment: str) -> None:
    with pytest.raises(tcpmf.AssumptionError) as info:
        build(**model)
    assert info.value.key_path.startswith("model.") and fragment in str(info.value)


@SETTINGS
@given(
    st.floats(1100, 1480),
    st.floats(0, 150),
    st.sampled_from(["2023-06", "2024-03", "2024-09", "2025-03"]),
)
def test_a_higher_floor_never_brings_tcpmf_earlier(low: float, extra: float, start: str) -> None:
    """Unit TC-PMF never comes earlier with a higher floor, even when the higher floor makes the
    product wait for its launch; company TC-PMF never does among products launched at start_month.
    (A product that waits can pay back sooner than one launched at start on a cheaper model that
    loses money on every user until prices fall: docs/model.md, capability floors.)"""
    # a common decline beyond the catalog's last date, so only the floor differs
    floors: list[tcpmf.Scenario | None] = []
    for score in (low, low + extra):
        try:
            floors.append(
                build(name=None, capability=score, start_month=start, annual_cost_decline=3)
            )
        except tcpmf.AssumptionError as exc:
            assert "by the catalog's last date" in str(exc)  # refused only if never met
            floors.append(None)  # no model ever meets it: TC-PMF never comes
    if floors[1] is None:
        return
    assert floors[0] is not None
    summary = tcpmf.evaluate([f for f in floors if f is not None]).summary
    low_launch, high_launch = summary["launch_month"]
    assert high_launch >= low_launch
    low_month, high_month = months_or_never(summary, "tcpmf_month")
    assert high_month >= low_month >= low_launch
    if high_launch == 0:
        low_month, high_month = months_or_never(summary, "company_tcpmf_month")
        assert high_month >= low_month


WAITS = [  # (floor, start_month) pairs no catalog model meets at start_month
    ("frontier-reasoning", "2024-05"),
    (1300.0, "2023-06"),
    ("gpt-4-class", "2022-01"),
    (1440.0, "2024-11"),
]


@SETTINGS
@given(
    st.sampled_from(WAITS),
    st.integers(1, 48),
    st.integers(0, 200_000),
    st.integers(0, 50_000),
    st.floats(0, 30),
)
def test_a_product_waiting_for_its_floor_is_the_same_product_launched_later(
    wait_case: tuple[Any, str], horizon: int, fixed: int, paid: int, cac: float
) -> None:
    floor, start = wait_case
    d = copy.deepcopy(BASE)
    d.update(start_month=start, horizon_months=horizon)
    d["model"] = {"route": "api", "capability": floor, "annual_cost_decline": 3}
    d["costs"] = {"fixed_usd_per_month": fixed}
    d["growth"].update(paid_budget_usd_per_month=paid, cac_usd=cac + 1)
    waiting = tcpmf.from_dict(d)
    wait = month_index(waiting.launch_month) - month_index(start)
    assert wait > 0 and cheapest_meeting(resolve_floor(floor), start) is None
    assert cheapest_meeting(resolve_floor(floor), waiting.launch_month) is not None
    assert waiting.sources["model.name"].endswith(f"launches in {waiting.launch_month}")
    result = tcpmf.evaluate(waiting)
    row = result.summary.iloc[0]
    assert row["launch_month"] == wait and not row["clears_break_even"]
    monthly = result.monthly
    assert len(monthly) == horizon
    before = monthly["month"] < wait
    # before launch: no users, revenue, tokens or marketing; the fixed cost is paid
    assert (
        (monthly.loc[before, ["active_users", "revenue_usd", "inference_cost_usd"]] == 0)
        .all()
        .all()
    )
    assert (monthly.loc[before, "marketing_usd"] == 0).all()
    assert monthly.loc[before, ["usd_per_mtok_in", "contribution_usd_per_mau"]].isna().all().all()
    cash = monthly["cash_usd"].to_numpy(float)
    np.testing.assert_allclose(cash[:wait], -fixed * np.arange(1, min(wait, horizon) + 1))
    if wait >= horizon:
        assert pd.isna(row["tcpmf_month"]) and pd.isna(row["payback_month"])
        return
    d["start_month"], d["horizon_months"] = waiting.launch_month, horizon - wait
    launched = tcpmf.evaluate(tcpmf.from_dict(d))
    first = launched.summary.iloc[0]
    assert first["launch_month"] == 0
    after = monthly[~before].reset_index(drop=True)
    for column in ("active_users", "revenue_usd", "usd_per_mtok_in", "marketing_usd", "net_usd"):
        np.testing.assert_array_equal(
            after[column].to_numpy(float), launched.monthly[column].to_numpy(float)
        )
    np.testing.assert_allclose(
        cash[wait:],
        launched.monthly["cash_usd"].to_numpy(float) - fixed * wait,
        rtol=1e-12,
        atol=1e-6,
    )
    for column in ("arpu_usd_m0", "usd_per_mtok_blended_m0", "ltv_usd"):  # at launch
        assert row[column] == pytest.approx(first[column], rel=1e-12, abs=1e-12)
    assert months_or_never(pd.DataFrame([row]), "cac_payback_month") == months_or_never(
        pd.DataFrame([first]), "cac_payback_month"
    )
    assert months_or_never(pd.DataFrame([row]), "tcpmf_month") == [
        wait + m for m in months_or_never(pd.DataFrame([first]), "tcpmf_month")
    ]
    # months read off the cash, found by brute force on the monthly table
    t = monthly["month"].to_numpy()
    for column, hit in (
        ("payback_month", (cash >= 0) & (t >= wait)),
        ("breakeven_month", (monthly["net_usd"].to_numpy(float) >= 0) & (t >= wait)),
    ):
        expected = int(np.argmax(hit)) if hit.any() else None
        assert (pd.isna(row[column]) and expected is None) or row[column] == expected
    assert row["peak_funding_usd"] == pytest.approx(max(0.0, -cash.min()), rel=1e-12)
    if not pd.isna(row["company_tcpmf_month"]):
        month = int(row["company_tcpmf_month"])
        assert cash[month] >= 0 and month >= row["tcpmf_month"]


@SETTINGS
@given(st.sampled_from(WAITS), st.floats(1100, 1300), st.sampled_from(["2024-06", "2025-01"]))
def test_a_floor_met_at_start_is_evaluated_as_before_beside_a_waiting_one(
    wait_case: tuple[Any, str], score: float, start: str
) -> None:
    """The engine's path for waiting products leaves every product launched at start bit-identical:
    beside a waiting product as beside one launched at start (a batch of the same size, since
    numpy's sums over months may add in another order for another number of columns)."""
    met = build(name=None, capability=score, start_month=start)
    assert met.launch_month == start
    floor, wait_start = wait_case
    waiting = build(name=None, capability=floor, start_month=wait_start)
    alone = tcpmf.evaluate([build(), met])
    beside = tcpmf.evaluate([waiting, met])
    assert beside.arrays.launch_month is not None and alone.arrays.launch_month is None
    pd.testing.assert_frame_equal(
        alone.summary.iloc[[1]].reset_index(drop=True).drop(columns="scenario"),
        beside.summary.iloc[[1]].reset_index(drop=True).drop(columns="scenario"),
        check_exact=True,
        check_dtype=False,
    )
    rows = [
        r[r["scenario"] == r["scenario"].cat.categories[1]] for r in (alone.monthly, beside.monthly)
    ]
    pd.testing.assert_frame_equal(
        rows[0].reset_index(drop=True).drop(columns="scenario"),
        rows[1].reset_index(drop=True).drop(columns="scenario"),
        check_exact=True,
        check_dtype=False,  # a column with <NA> in any scenario's rows is nullable in all
    )


@pytest.fixture(scope="module")
def catalog_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("assumptions")
    shutil.copytree(ROOT / "catalog", folder / "catalog")
    return folder


@SETTINGS
@given(st.integers(1, 30), st.floats(0.05, 0.99))
def test_a_catalog_price_cut_never_raises_the_hindsight_cost(
    catalog_copy: Path, after: int, keep: float
) -> None:
    s0 = build(price_path="hindsight")
    cut_month = month_label(month_index(s0.start_month) + after)
    path = catalog_copy / "catalog" / "models.yaml"
    original = path.read_text(encoding="utf-8")
    data = yaml.safe_load(original)
    prices = data["models"]["gpt-3.5-turbo"]["prices"]
    old = model_price("gpt-3.5-turbo", cut_month)
    prices[:] = [r for r in prices if month_index(r["date"]) < month_index(cut_month)]
    prices.append(
        {
            "date": cut_month,
            "usd_per_mtok_in": old.usd_per_mtok_in * keep,
            "usd_per_mtok_out": old.usd_per_mtok_out * keep,
            "source": "a test cut",
        }
    )
    previous = os.environ.get(ENV_ASSUMPTIONS)
    try:
        base = tcpmf.evaluate([s0]).monthly
        path.write_text(yaml.safe_dump(data), encoding="utf-8")
        os.environ[ENV_ASSUMPTIONS] = str(catalog_copy)
        cut = tcpmf.evaluate([build(price_path="hindsight")]).monthly
    finally:
        path.write_text(original, encoding="utf-8")
        if previous is None:
            os.environ.pop(ENV_ASSUMPTIONS, None)
        else:
            os.environ[ENV_ASSUMPTIONS] = previous
    column = "inference_cost_usd_per_mau"
    assert (cut[column].to_numpy() <= base[column].to_numpy() * (1 + 1e-12)).all()
    assert cut[column].sum() < base[column].sum()


def test_a_floor_declines_by_its_fitted_decline_unless_the_file_says() -> None:
    from tcpmf.catalog.decline import fitted_decline

    s = build(name=None, capability="gpt-4-class", annual_cost_decline=None)
    assert s.model.annual_cost_decline == pytest.approx(fitted_decline("gpt-4-class"))
    assert s.sources["model.annual_cost_decline"].startswith("fitted")
    t = build(name=None, capability="gpt-4-class", annual_cost_decline=None, price_path="projected")
    f = tcpmf.evaluate([t]).monthly["usd_per_mtok_in"].to_numpy()
    assert f[12] == pytest.approx(
        f[0] / t.model.annual_cost_decline
    )  # projected: smooth from start_month


# -- the timeline on capability floors ------------------------------------------------------------


def test_data_view_puts_every_category_on_one_floor_and_lists_its_models() -> None:
    from tcpmf.analysis.timeline import DATA_VIEW_FLOOR

    frame = tcpmf.timeline(view="data", horizon_months=36)
    assert (frame["capability_floor"] == DATA_VIEW_FLOOR).all()
    for row in frame.itertuples():
        months = [int(k) for k in row.model_by_month]
        assert months[0] == 0 and months == sorted(months)
        assert row.model_by_month["0"] == row.model
        names = list(row.model_by_month.values())
        assert all(
            a != b for a, b in itertools.pairwise(names)
        )  # listed only where the model changes
    named = tcpmf.timeline(view="data", model="gpt-4o", horizon_months=36)
    assert (named["capability_floor"] == "gpt-4o").all()
    assert all(m == {"0": "gpt-4o"} for m in named["model_by_month"])


@pytest.mark.parametrize(
    ("low", "high"), [(1100.0, 1210.0), (1210.0, 1300.0), ("gpt-3.5-class", "gpt-4-class")]
)
def test_a_higher_timeline_floor_never_brings_a_category_earlier(low: Any, high: Any) -> None:
    a = tcpmf.timeline(view="data", capability=low, horizon_months=60, annual_cost_decline=5)
    b = tcpmf.timeline(view="data", capability=high, horizon_months=60, annual_cost_decline=5)
    for column in ("tcpmf_month", "company_tcpmf_month"):
        assert all(y >= x for x, y in zip(months_or_never(a, column), months_or_never(b, column)))


def test_compare_views_names_both_months_and_the_furthest_input() -> None:
    from tcpmf.analysis.timeline import compare_views

    frame = compare_views(horizon_months=60)
    lee = tcpmf.timeline(view="lee", horizon_months=60).set_index("category")
    data = tcpmf.timeline(view="data", horizon_months=60).set_index("category")
    for row in frame.itertuples():
        assert row.lee_tcpmf_month == lee.loc[row.category, "tcpmf_month"]
        assert row.data_tcpmf_month == data.loc[row.category, "tcpmf_month"]
        assert row.tokens_per_mau_ratio == pytest.approx(
            data.loc[row.category, "tokens_per_mau"] / lee.loc[row.category, "tokens_per_mau"]
        )
        text = row.disagreement
        assert text.startswith(row.category) and text.endswith(".")
        if row.lee_tcpmf_month != row.data_tcpmf_month:
            ratios = {
                k: abs(np.log(getattr(row, f"{k}_ratio")))
                for k in ("usd_per_mtok_blended_m0", "tokens_per_mau", "revenue_usd_per_mau")
            }
            furthest = max(ratios, key=ratios.__getitem__)
            word = {
                "usd_per_mtok_blended_m0": "start price",
                "tokens_per_mau": "tokens per MAU",
                "revenue_usd_per_mau": "revenue per MAU",
            }[furthest]
            assert word in text or ratios[furthest] < np.log(1.05)


def test_a_floor_scenario_moves_to_a_named_model() -> None:
    from tcpmf.outputs.charts import on_model

    s = build(name=None, capability="gpt-4-class")
    named = on_model(s, "gpt-4")
    assert named.model.name == "gpt-4" and named.model.capability is None


@SETTINGS
@given(st.integers(0, 24), st.floats(1.0, 50.0))
def test_hindsight_equals_projected_where_the_catalog_has_no_steps(
    after: int, decline: float
) -> None:
    start = month_label(
        month_index(LAST) + after
    )  # from the catalog's last change on, no record can step
    projected = tcpmf.evaluate([build(start_month=start, annual_cost_decline=decline)]).monthly
    hindsight = tcpmf.evaluate(
        [build(start_month=start, annual_cost_decline=decline, price_path="hindsight")]
    ).monthly
    for column in ("usd_per_mtok_in", "usd_per_mtok_out", "inference_cost_usd_per_mau", "cash_usd"):
        np.testing.assert_allclose(
            hindsight[column].to_numpy(float),
            projected[column].to_numpy(float),
            rtol=1e-9,
            atol=1e-6,
        )


def test_a_floor_not_yet_met_waits_for_it_and_one_never_met_is_refused() -> None:
    s = build(name=None, capability="frontier-reasoning", start_month="2024-05")
    assert s.launch_month == "2024-12" and s.model.name == "o1"  # o1, 2024-12-17: 1365
    assert api_model_path(s, 9)[:7] == [None] * 7 and api_model_path(s, 9)[7] == "o1"
    summary = tcpmf.evaluate(s).summary
    assert summary["launch_month"][0] == 7 and summary["tcpmf_month"][0] >= 7
    with pytest.raises(tcpmf.AssumptionError, match=f"by the catalog's last date, {LAST}"):
        build(name=None, capability=1600, start_month="2024-05")


@pytest.mark.parametrize(
    "path", ["competition/productivity.yaml", "products/tob_private_coding_assistant.yaml"]
)
def test_only_a_plain_consumer_product_waits_for_its_floor(path: str) -> None:
    s = tcpmf.load(ROOT / path)
    floor = {
        "model.route": "api",
        "model.name": None,
        "model.routes": None,
        "model.self_host": None,
        "model.usd_per_mtok_in": None,
        "model.usd_per_mtok_out": None,
        "model.capability": "frontier-reasoning",
        "model.price_path": "projected",
        "model.annual_cost_decline": 3,
    }
    assert s.override({**floor, "start_month": "2025-01"}).launch_month == "2025-01"
    with pytest.raises(tcpmf.AssumptionError) as info:
        s.override({**floor, "start_month": "2024-05"})
    assert info.value.key_path == "model.capability" and "2024-12" in str(info.value)


def test_cli_timeline_takes_a_capability_and_decline_shows_definitions() -> None:
    import json

    from typer.testing import CliRunner

    from tcpmf.cli.main import app

    runner = CliRunner()
    result = runner.invoke(
        app, ["timeline", "--capability", "1300", "--horizon-months", "36", "--json"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {r["capability_floor"] for r in rows} == {"lmarena_text_2025_08 >= 1300"}
    bad = runner.invoke(app, ["timeline", "--capability", "gpt-9-class"])
    assert bad.exit_code != 0 and "gpt-4-class" in bad.output
    other = runner.invoke(
        app,
        ["timeline", "--capability", "mmlu_pro_2024_07:60", "--horizon-months", "36", "--json"],
    )
    assert other.exit_code == 0, other.output
    assert {r["capability_floor"] for r in json.loads(other.stdout)} == {"mmlu_pro_2024_07 >= 60"}
    unknown = runner.invoke(app, ["timeline", "--capability", "nosuch_bench:60"])
    assert unknown.exit_code != 0 and "mmlu_pro_2024_07" in unknown.output
    assert "Traceback" not in unknown.output
    table = json.loads(runner.invoke(app, ["decline", "--json"]).stdout)
    assert {r["tier"]: r["definition"] for r in table}[
        "gpt-4-class"
    ] == "lmarena_text_2025_08 >= 1210"


def test_a_timeline_on_a_floor_not_yet_met_waits_and_says_so() -> None:
    met = tcpmf.timeline(view="data", capability="gpt-4-class", horizon_months=48)
    waits = tcpmf.timeline(view="data", capability="frontier-reasoning", horizon_months=48)
    assert (waits["start_month"] == "2024-05").all()
    for row, low in zip(waits.itertuples(), met.itertuples()):
        assert next(iter(row.model_by_month)) == "7" and row.model_by_month["7"] == "o1"
        assert row.binding_constraint.startswith(
            "capability: no catalog model meets frontier-reasoning before 2024-12"
        )
        assert months_or_never(pd.DataFrame([row._asdict()]), "tcpmf_month")[0] >= max(
            7, months_or_never(pd.DataFrame([low._asdict()]), "tcpmf_month")[0]
        )


@SETTINGS
@given(st.floats(50, 80), st.floats(0, 20), st.sampled_from(["2024-03", "2024-06", "2025-01"]))
def test_a_floor_on_the_second_benchmark_picks_and_orders_like_a_tier(
    low: float, extra: float, start: str
) -> None:
    floors: list[tcpmf.Scenario | None] = []
    for score in (low, low + extra):
        try:
            floors.append(
                build(
                    name=None,
                    capability={"benchmark": "mmlu_pro_2024_07", "min_score": score},
                    start_month=start,
                    annual_cost_decline=3,
                )
            )
        except tcpmf.AssumptionError as exc:
            assert "by the catalog's last date" in str(exc)
            floors.append(None)
    if floors[1] is None:
        return
    assert floors[0] is not None
    for s in floors:
        assert s is not None and s.model.capability is not None
        floor = resolve_floor(s.model.capability)
        assert floor.benchmark == "mmlu_pro_2024_07"
        best = cheapest_meeting(floor, s.launch_month, input_share=3000 / 3500)
        assert best is not None and best.model == s.model.name
    summary = tcpmf.evaluate([f for f in floors if f is not None]).summary
    low_month, high_month = months_or_never(summary, "tcpmf_month")
    assert high_month >= low_month


@pytest.mark.parametrize(
    ("capability", "fragment"),
    [
        ({"benchmark": "mmlu", "min_score": 60}, "mmlu_pro_2024_07"),
        ({"benchmark": "mmlu_pro_2024_07"}, "min_score"),
        ({"benchmark": "mmlu_pro_2024_07", "min_score": 60, "max": 1}, "min_score"),
    ],
)
def test_a_bad_floor_on_a_benchmark_is_an_assumption_error(
    capability: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(tcpmf.AssumptionError) as info:
        build(name=None, capability=capability)
    assert info.value.key_path == "model.capability" and fragment in str(info.value)
