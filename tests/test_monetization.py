"""Users-first monetization: a revenue stream that starts late and ramps (docs/model.md §3)."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd
import pytest
import strategies as S
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tcpmf
from tcpmf.core.errors import AssumptionError
from tcpmf.formulas.revenue import monetization_factor

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
STREAMS = ("subscription", "ads", "usage", "commerce")

delay = st.fixed_dictionaries(
    {
        "from_month": S.num(0.0, 40.0, 0.0, 2.5),
        "from_mau": S.num(0.0, 1e7, 0.0),
        "ramp_months": S.num(0.0, 30.0, 0.0, 1.0),
    }
)


def _with(d: dict[str, Any], monetization: dict[str, Any] | None, name: str) -> dict[str, Any]:
    out = copy.deepcopy(d)
    out["name"] = name
    for stream in STREAMS:
        section = out.get("revenue", {}).get(stream)
        if isinstance(section, dict) and monetization is not None:
            section["monetization"] = dict(monetization)
    return out


def _summaries(*dicts: dict[str, Any]) -> pd.DataFrame:
    return tcpmf.evaluate([tcpmf.from_dict(d) for d in dicts]).summary


@SETTINGS
@given(
    S.scenarios(name="x"),
    st.sampled_from(
        [
            {"from_month": 0, "from_mau": 0, "ramp_months": 0},
            {"from_month": 0, "from_mau": 0, "ramp_months": 1},
            {},
        ]
    ),
)
def test_every_stream_from_month_0_at_once_gives_todays_results(
    d: dict[str, Any], flat: dict[str, Any]
) -> None:
    today = _summaries(_with(d, None, "x"))
    flat_start = _summaries(_with(d, flat, "x"))
    pd.testing.assert_frame_equal(today, flat_start, rtol=1e-12, atol=1e-9)
    monthly_today = tcpmf.evaluate([tcpmf.from_dict(_with(d, None, "x"))]).monthly
    monthly_flat = tcpmf.evaluate([tcpmf.from_dict(_with(d, flat, "x"))]).monthly
    pd.testing.assert_frame_equal(monthly_today, monthly_flat, rtol=1e-12, atol=1e-9)


@SETTINGS
@given(S.scenarios(name="x"), delay, delay)
def test_later_or_slower_monetization_never_lowers_peak_funding(
    d: dict[str, Any], a: dict[str, Any], b: dict[str, Any]
) -> None:
    early = {k: min(a[k], b[k]) for k in a}
    late = {k: max(a[k], b[k]) for k in a}
    s = _summaries(_with(d, early, "early"), _with(d, late, "late")).set_index("scenario")
    funding_early, funding_late = (
        s.loc["early", "peak_funding_usd"],
        s.loc["late", "peak_funding_usd"],
    )
    assert funding_late >= funding_early - 1e-9 * max(1.0, abs(funding_early))
    for month in ("tcpmf_month", "company_tcpmf_month", "payback_month"):
        if pd.isna(s.loc["late", month]):
            continue  # never within the horizon is later than any month
        assert (
            not pd.isna(s.loc["early", month]) and s.loc["early", month] <= s.loc["late", month]
        ), month


@SETTINGS
@given(S.scenarios(name="x"))
def test_company_tcpmf_comes_with_unit_tcpmf_and_cash_paid_back(d: dict[str, Any]) -> None:
    result = tcpmf.evaluate([tcpmf.from_dict(d)])
    row = result.summary.iloc[0]
    if pd.isna(row["company_tcpmf_month"]):
        return
    month = int(row["company_tcpmf_month"])
    assert not pd.isna(row["tcpmf_month"]) and int(row["tcpmf_month"]) <= month
    assert result.monthly["cash_usd"].iloc[month] >= 0
    assert not pd.isna(row["payback_month"]) and int(row["payback_month"]) <= month


def test_the_factor_starts_at_the_later_of_month_and_mau_then_ramps() -> None:
    users = np.array(
        [[5.0, 5.0], [10.0, 10.0], [30.0, 30.0], [20.0, 40.0], [10.0, 50.0], [10.0, 60.0]]
    )
    f = monetization_factor(users, [0.0, 4.0], [25.0, 0.0], [3.0, 0.0])
    assert f[:, 0].tolist() == pytest.approx(
        [0, 0, 1 / 3, 2 / 3, 1, 1]
    )  # a threshold once reached stays reached
    assert f[:, 1].tolist() == [0, 0, 0, 0, 1, 1]
    never = monetization_factor(users, [0.0, 0.0], [1e9, 1e9], [0.0, 0.0])
    assert not never.any()


def test_a_late_ads_stream_earns_nothing_before_it_starts(
    valid_scenario_dict: dict[str, Any],
) -> None:
    d = copy.deepcopy(valid_scenario_dict)
    d["revenue"] = {
        "ads": {
            "impressions_per_session": 4,
            "rpm_usd": 3.0,
            "monetization": {"from_month": 6, "ramp_months": 4},
        }
    }
    monthly = tcpmf.evaluate([tcpmf.from_dict(d)]).monthly
    arpu = monthly["arpu_usd"].to_numpy()
    full = arpu[-1]
    assert full > 0 and (arpu[:6] == 0).all()
    assert arpu[6:10] == pytest.approx(full * np.array([0.25, 0.5, 0.75, 1.0]))


def test_a_bad_monetization_names_the_key(valid_scenario_dict: dict[str, Any]) -> None:
    d = copy.deepcopy(valid_scenario_dict)
    d["revenue"] = {
        "ads": {"impressions_per_session": 4, "rpm_usd": 3.0, "monetization": {"ramp_months": -1}}
    }
    with pytest.raises(AssumptionError, match=r"revenue\.ads\.monetization\.ramp_months"):
        tcpmf.from_dict(d)


# -- the timeline that explains itself ----------------------------------------------------------

CONTRACT_KEYS = (
    "category",
    "stage",
    "capability_floor",
    "model_by_month",
    "revenue_usd_per_mau",
    "tokens_per_mau",
    "affordable_usd_per_mtok",
    "tcpmf_month",
    "company_tcpmf_month",
    "binding_constraint",
)


def test_lee_view_reproduces_his_order_with_one_model_for_all() -> None:
    frame = tcpmf.timeline(view="lee")
    assert frame["model"].nunique() == 1
    months = dict(zip(frame["category"], frame["tcpmf_month"]))
    order = ["productivity", "entertainment", "search", "ecommerce"]
    assert all(not pd.isna(m) for m in months.values())
    assert [months[c] for c in order] == sorted(months[c] for c in order)
    assert len({months[c] for c in order}) == 4  # each stage strictly later than the one before
    assert months["social"] > months["ecommerce"] and months["short_video"] > months["ecommerce"]
    tokens = dict(zip(frame["category"], frame["tokens_per_mau"]))
    assert [tokens[c] for c in [*order, "social"]] == sorted(
        tokens[c] for c in [*order, "social"]
    )  # intensity rises


def test_lee_view_numbers_are_all_assumed_with_the_reason_from_lee() -> None:
    from tcpmf.core.yamlio import assumptions_dir

    for path in sorted((assumptions_dir() / "views" / "lee").glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        body = [line for line in text.splitlines() if "{value:" in line]
        assert body and all(
            ("assumed:" in line and "Lee 2024-06" in line) or "as input_tokens_per_call" in line
            for line in body
        ), path


def test_the_binding_constraint_names_monetization_when_revenue_waits() -> None:
    frame = tcpmf.timeline(view="lee").set_index("category")
    late = frame.loc["social"]
    assert late["full_revenue_tcpmf_month"] < late["tcpmf_month"]
    assert late["binding_constraint"].startswith("monetization")
    assert frame.loc["productivity", "binding_constraint"].startswith("token price")


def test_timeline_json_keeps_the_contract_keys_in_both_views() -> None:
    import json

    from typer.testing import CliRunner

    from tcpmf.cli.main import app

    for view in ("data", "lee"):
        result = CliRunner().invoke(app, ["timeline", "--view", view, "--json"])
        assert result.exit_code == 0, result.output
        rows = json.loads(result.stdout)
        assert [r["category"] for r in rows][:2] == ["productivity", "entertainment"]
        for row in rows:
            assert set(CONTRACT_KEYS) <= set(row)
            assert isinstance(row["binding_constraint"], str) and row[
                "binding_constraint"
            ].endswith(".")
            assert isinstance(row["model_by_month"], dict)
    bad = CliRunner().invoke(app, ["timeline", "--view", "nope"])
    assert bad.exit_code != 0
    with pytest.raises(tcpmf.TcpmfError, match="view"):
        tcpmf.timeline(view="nope")


def test_the_binding_constraint_names_the_delay_exactly_when_it_holds_back_company_tcpmf() -> None:
    """The sentence blames the monetization delay for the payback iff the same scenario with every
    stream at full value from month 0 pays back earlier (or at all)."""
    for view in ("data", "lee"):
        frame = tcpmf.timeline(view=view)
        for _, row in frame.iterrows():
            company, full = row["company_tcpmf_month"], row["full_revenue_company_tcpmf_month"]
            binds = not pd.isna(full) and (pd.isna(company) or company > full)
            named = "monetization delay holds back company TC-PMF" in row["binding_constraint"]
            assert named == binds, (view, row["category"], row["binding_constraint"])
            if not pd.isna(company) and not pd.isna(full):
                assert company >= full  # a delay never brings the payback earlier


LATE_STAGES = ("entertainment", "search", "ecommerce", "social", "short_video")


def _delays(s: tcpmf.Scenario) -> dict[str, float]:
    out = {}
    for stream in STREAMS:
        section = getattr(s.revenue, stream)
        if section is not None and section.monetization is not None:
            out[stream] = section.monetization.from_month
    return out


def test_late_stage_category_defaults_start_their_revenue_late_with_a_cited_history() -> None:
    from tcpmf.core.yamlio import assumptions_dir

    for category in LATE_STAGES:
        s = tcpmf.load(assumptions_dir() / "categories" / f"{category}.yaml")
        delays = _delays(s)
        assert any(v > 0 for v in delays.values()), category
        for stream, months in delays.items():
            note = s.sources[f"revenue.{stream}.monetization.from_month"]
            assert "docs/sources.md#monetization-delays" in note, (category, stream)
            if months > 0 and note.startswith("source:"):
                assert "launch" in note, (category, stream)  # a dated launch-to-revenue history


def test_features_of_monetized_host_apps_earn_at_once_and_new_apps_inherit_the_delay() -> None:
    from tcpmf.core.yamlio import assumptions_dir

    products = assumptions_dir() / "products"
    for name in (
        "ai_friends_selfhosted",
        "short_video_ai_effects",
    ):  # paid_budget 0: host app's users
        s = tcpmf.load(products / f"{name}.yaml")
        assert s.growth.paid_budget_usd_per_month == 0
        m = s.revenue.ads.monetization if s.revenue.ads else None
        assert m is not None and m.from_month == 0 and m.ramp_months == 0, name
    for name, category in (
        ("answer_engine", "search"),
        ("ai_companion", "entertainment"),
        ("roleplay_chat", "entertainment"),
        ("shopping_assistant", "ecommerce"),
    ):
        s = tcpmf.load(products / f"{name}.yaml")
        default = tcpmf.load(assumptions_dir() / "categories" / f"{category}.yaml")
        assert s.growth.paid_budget_usd_per_month > 0  # a new app that buys its users
        inherited = {k: v for k, v in _delays(s).items() if k in _delays(default)}
        assert inherited == _delays(default), name


def test_lee_view_sets_every_delay_itself() -> None:
    """No category default's sourced delay leaks into Lee's argument: each of its monetization
    numbers is Lee's."""
    from tcpmf.core.yamlio import assumptions_dir

    for path in sorted((assumptions_dir() / "views" / "lee").glob("*.yaml")):
        s = tcpmf.load(path)
        for key, note in s.sources.items():
            if ".monetization." in key:
                assert "Lee 2024-06" in note, (path.name, key)


def test_compare_views_says_the_delay_decides_exactly_when_full_revenue_would_reverse_the_order() -> (
    None
):
    from tcpmf.analysis.timeline import compare_views

    views = compare_views(horizon_months=120)
    for _, row in views.iterrows():
        text = row["disagreement"]
        delays = (row["lee_monetization_delay_months"], row["data_monetization_delay_months"])
        if any(pd.isna(d) for d in delays) or delays[0] == delays[1]:
            assert "decides which comes first" not in text, text
            continue
        lee, data = int(row["lee_tcpmf_month"]), int(row["data_tcpmf_month"])
        full_lee, full_data = lee - int(delays[0]), data - int(delays[1])
        reversed_order = np.sign(data - lee) != np.sign(full_data - full_lee)
        assert ("decides which comes first" in text) == reversed_order, text
        if reversed_order:
            assert f"month {full_lee}, the data at month {full_data}" in text
