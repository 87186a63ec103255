"""Capability in the catalog: dated benchmark scores, threshold tiers, and the decline of the
cheapest model meeting a threshold (Epoch AI's price-of-capability method)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tcpmf
from tcpmf.catalog.capability import (
    CapabilityFloor,
    capability_catalog,
    capability_score,
    change_months,
    cheapest_meeting,
    resolve_floor,
)
from tcpmf.catalog.decline import (
    decline_table,
    fitted_decline,
    threshold_series,
    tier_names,
    tier_series,
)
from tcpmf.catalog.prices import in_force, model_price, models_catalog
from tcpmf.core.yamlio import assumptions_dir

ROOT = assumptions_dir()
MONTHS = change_months(ROOT)


def blended(model: str, month: str, directory: Path = ROOT) -> float:
    p = model_price(model, month, directory)
    return 0.75 * p.usd_per_mtok_in + 0.25 * p.usd_per_mtok_out


@pytest.fixture
def assumptions_copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "catalog", tmp_path / "catalog")
    return tmp_path


def test_every_score_is_sourced_dated_and_names_a_priced_model() -> None:
    raw = yaml.safe_load((ROOT / "catalog" / "capability.yaml").read_text(encoding="utf-8"))[
        "capability"
    ]
    priced = models_catalog(ROOT).models
    assert raw["scores"] and raw["tiers"]
    for model, records in raw["scores"].items():
        assert model in priced
        assert all(len(r["source"]) > 10 and r["leaderboard_name"] for r in records)
    for tier in raw["tiers"].values():
        assert tier["benchmark"] in raw["benchmarks"] and len(tier["source"]) > 10


MMLU_PRO_60 = CapabilityFloor("mmlu_pro_2024_07 >= 60", "mmlu_pro_2024_07", 60.0)


@pytest.mark.parametrize("tier", [*sorted(capability_catalog(ROOT).tiers), MMLU_PRO_60])
def test_threshold_series_is_the_cheapest_model_meeting_the_threshold(
    tier: str | CapabilityFloor,
) -> None:
    floor = resolve_floor(tier)
    series = threshold_series(tier)
    assert len(series) >= 2
    for row in series.itertuples():
        score = capability_score(row.model, row.month, floor.benchmark)
        assert score is not None and score >= floor.min_score
        # brute force over every priced model with a score in force at that month
        meeting = [
            blended(m, row.month)
            for m, e in models_catalog(ROOT).models.items()
            if in_force(e.prices, row.month) is not None
            and (s := capability_score(m, row.month, floor.benchmark)) is not None
            and s >= floor.min_score
        ]
        assert row.usd_per_mtok_blended == pytest.approx(min(meeting), rel=1e-12)


def test_an_unscored_model_never_drives_a_threshold_tier() -> None:
    # Qwen-Long was hand-tagged gpt-4-class and was the cheapest of that tag; GPT-3 davinci was the
    # only model of the gpt-3-class tag; the cheap Chinese small models made small-fast: none has a
    # public score
    unscored = set(models_catalog(ROOT).models) - set(capability_catalog(ROOT).scores)
    assert {"qwen-long", "gpt-3-davinci", "ernie-speed", "glm-4-flash"} <= unscored
    for tier in capability_catalog(ROOT).tiers:
        assert not unscored & set(tier_series(tier)["model"])


def test_no_tier_is_a_hand_tag() -> None:
    """Every tier, the former hand-tagged groups included, is a threshold on a score, and the models
    catalog tags no model with a tier."""
    catalog = capability_catalog(ROOT)
    assert set(tier_names()) == set(catalog.tiers)
    assert {"gpt-3-class", "small-fast"} <= set(catalog.tiers)
    assert all(entry.tier is None for entry in models_catalog(ROOT).models.values())
    # the thresholds order the tiers as their names do
    floors = {t: resolve_floor(t).min_score for t in catalog.tiers}
    assert (
        floors["gpt-3-class"]
        < floors["gpt-3.5-class"]
        < floors["small-fast"]
        < floors["gpt-4-class"]
        < floors["frontier-reasoning"]
    )


def test_a_cheap_hand_tagged_model_changes_no_threshold_fit(assumptions_copy: Path) -> None:
    before = decline_table(ROOT).set_index("tier")
    path = assumptions_copy / "catalog" / "models.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["models"]["mis-tagged"] = {
        "provider": "x",
        "tier": "gpt-4-class",
        "prices": [
            {
                "date": "2023-06",
                "usd_per_mtok_in": 0.001,
                "usd_per_mtok_out": 0.001,
                "source": "a test record",
            }
        ],
    }
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    after = decline_table(assumptions_copy).set_index("tier")
    for tier in capability_catalog(ROOT).tiers:
        assert after.loc[tier, "annual_cost_decline"] == before.loc[tier, "annual_cost_decline"]
    # under the hand-tag rule the new record (cheapest, tagged gpt-4-class) would have been every point
    assert tier_series("gpt-4-class", assumptions_copy)["model"].eq("mis-tagged").sum() == 0


def test_threshold_fits_fall_within_epochs_spread() -> None:
    """Epoch AI (2025): 9x to 900x a year depending on the threshold; each fit's interval meets it."""
    table = decline_table().set_index("tier")
    for tier in capability_catalog(ROOT).tiers:
        row = table.loc[tier]
        assert row["points"] >= 3
        assert row["annual_cost_decline_high"] >= 9 and row["annual_cost_decline_low"] <= 900
        assert row["definition"].endswith(f">= {resolve_floor(tier).min_score:g}")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.floats(1000, 1480), st.floats(0, 200), st.sampled_from(MONTHS))
def test_a_higher_floor_is_never_cheaper(low: float, extra: float, month: str) -> None:
    cheap = cheapest_meeting(resolve_floor(low), month)
    dear = cheapest_meeting(resolve_floor(low + extra), month)
    if dear is not None:
        assert cheap is not None and cheap.usd_per_mtok_blended <= dear.usd_per_mtok_blended


def test_tiers_keep_their_names() -> None:
    names = tier_names()
    assert {
        "gpt-3.5-class",
        "gpt-4-class",
        "frontier-reasoning",
        "small-fast",
        "gpt-3-class",
    } <= set(names)
    table = decline_table().set_index("tier")
    for tier in ("small-fast", "gpt-3-class", "gpt-4-class"):
        assert fitted_decline(tier) > 1
        assert (
            table.loc[tier, "definition"]
            == f"lmarena_text_2025_08 >= {resolve_floor(tier).min_score:g}"
        )
        assert fitted_decline(tier) == pytest.approx(
            min(table.loc[tier, "annual_cost_decline"], 1000)
        )


def test_a_tier_below_every_scored_model_fits_as_the_lowest_tier_above_them() -> None:
    """No catalog model scores between the gpt-3-class and gpt-3.5-class thresholds, so the two tiers
    have one series: the cheapest scored model."""
    benchmark = resolve_floor("gpt-3-class").benchmark
    lowest = min(
        r.score
        for records in capability_catalog(ROOT).scores.values()
        for r in records
        if r.benchmark == benchmark
    )
    assert (
        resolve_floor("gpt-3-class").min_score < resolve_floor("gpt-3.5-class").min_score <= lowest
    )
    assert tier_series("gpt-3-class").equals(tier_series("gpt-3.5-class"))


def test_unknown_floor_names_the_tiers() -> None:
    with pytest.raises(KeyError, match="gpt-4-class"):
        resolve_floor("gpt-9-class")


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (
            lambda d: d["scores"].__setitem__(
                "no-such-model", [dict(r) for r in d["scores"]["gpt-4"]]
            ),
            "capability.scores.no-such-model",
        ),
        (lambda d: d["tiers"]["gpt-4-class"].__setitem__("benchmark", "mmlu"), "capability"),
        (lambda d: d["scores"]["gpt-4o"].reverse(), "capability"),
    ],
)
def test_bad_capability_file_is_an_assumption_error(assumptions_copy: Path, edit, key: str) -> None:  # type: ignore[no-untyped-def]
    path = assumptions_copy / "catalog" / "capability.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(data["capability"])
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(tcpmf.AssumptionError) as info:
        capability_catalog(assumptions_copy)
    assert "capability.yaml" in str(info.value) and info.value.key_path.startswith(key)


def test_a_second_benchmark_is_on_its_own_scale_and_defines_no_tier() -> None:
    catalog = capability_catalog(ROOT)
    assert set(catalog.benchmarks) == {"lmarena_text_2025_08", "mmlu_pro_2024_07"}
    assert {t.benchmark for t in catalog.tiers.values()} == {"lmarena_text_2025_08"}
    mmlu = {
        model: [r for r in records if r.benchmark == "mmlu_pro_2024_07"]
        for model, records in catalog.scores.items()
    }
    scored = {model: records for model, records in mmlu.items() if records}
    assert len(scored) == 9 and all(0 < r.score <= 100 for rs in scored.values() for r in rs)
    assert all("0aee6b7" in r.source for rs in scored.values() for r in rs)
    # a model's score on one benchmark never stands for its score on the other
    assert capability_score("gpt-4o", "2024-06", "mmlu_pro_2024_07") == 72.55
    assert capability_score("gpt-4o", "2024-06") == 1302
    assert capability_score("gpt-4", "2024-06", "mmlu_pro_2024_07") is None
    with pytest.raises(KeyError, match="mmlu_pro_2024_07"):
        resolve_floor(CapabilityFloor("", "mmlu", 60.0))
