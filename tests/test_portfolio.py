"""Portfolio files (tcpmf.uncertainty.portfolio): what they accept, and errors that name the portfolio file,
the product's ``uncertain`` entry, the distribution as written and what is allowed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

import tcpmf
from tcpmf.core.errors import AssumptionError
from tcpmf.core.yamlio import assumptions_dir

WRITER = assumptions_dir() / "products" / "writing_assistant.yaml"


def _portfolio(tmp_path: Path, uncertain: dict[str, Any], **product: Any) -> Path:
    data = {"name": "t", "products": [{"scenario": str(WRITER), "uncertain": uncertain, **product}]}
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _error(path: Path) -> AssumptionError:
    with pytest.raises(AssumptionError) as info:
        tcpmf.load_portfolio(path)
    return info.value


def test_a_whole_number_key_takes_a_choice_of_whole_numbers(tmp_path: Path) -> None:
    path = _portfolio(
        tmp_path, {"horizon_months": {"dist": "choice", "options": [24, 36, 48], "assumed": "test"}}
    )
    draws = tcpmf.monte_carlo(path, 300, seed=1)
    assert sorted(draws["horizon_months"].unique()) == [24, 36, 48]
    # the longer the horizon, the more draws pay back within it
    paid = draws.groupby("horizon_months")["payback_month"].apply(lambda m: m.notna().mean())
    assert paid.is_monotonic_increasing


def test_a_continuous_distribution_on_a_whole_number_key_is_refused_with_the_way_out(
    tmp_path: Path,
) -> None:
    spec = {"dist": "uniform", "low": 24, "high": 48}
    err = _error(_portfolio(tmp_path, {"horizon_months": spec}))
    assert err.file.endswith("p.yaml") and err.key_path == "products.0.uncertain.horizon_months"
    assert err.value == spec  # as written, without the nominal value tcpmf adds
    assert "whole number" in err.allowed and "options: [24, 36, 48]" in err.allowed


@pytest.mark.parametrize(
    ("key", "spec", "where", "allowed"),
    [
        (
            "usage.sesions_per_day",
            {"dist": "uniform", "low": 1, "high": 2},
            "products.0.uncertain.usage.sesions_per_day",
            "did you mean sessions_per_day",
        ),
        (
            "retention.r1",
            {"dist": "uniform", "low": 0.2, "high": 0.4},
            "products.0.uncertain.retention.r1",
            "alpha, beta, curve",
        ),
        (
            "usage.sessions_per_day",
            {"dist": "fixed", "value": -1},
            "products.0.uncertain.usage.sessions_per_day",
            "must be a number in [0",
        ),
        (
            "usage.sessions_per_day",
            {"dist": "uniform", "lo": 1, "high": 2},
            "products.0.uncertain.usage.sessions_per_day.lo",
            "the uniform parameters low, high",
        ),
        (
            "revenue.subscription.paid_share",
            {"dist": "normal", "mean": 0.03, "sd": 0.02},
            "products.0.uncertain.revenue.subscription.paid_share",
            "give low/high bounds",
        ),
        (
            "model.name",
            {"dist": "choice", "options": ["gpt-4o", "no-such-model"]},
            "products.0.uncertain.model.name",
            "option 'no-such-model'",
        ),
    ],
)
def test_a_bad_uncertain_entry_is_blamed_on_itself(
    tmp_path: Path, key: str, spec: dict[str, Any], where: str, allowed: str
) -> None:
    err = _error(_portfolio(tmp_path, {key: spec}))
    assert err.file.endswith("p.yaml")
    assert err.key_path == where
    assert allowed in err.allowed
    assert "p.yaml" in str(err) and where in str(err)


def test_the_product_files_number_stays_the_nominal_value(tmp_path: Path) -> None:
    path = _portfolio(
        tmp_path,
        {"usage.sessions_per_day": {"dist": "lognormal", "p05": 0.5, "p95": 8, "assumed": "test"}},
    )
    product = tcpmf.load_portfolio(path).products[0]
    file_value = tcpmf.load(WRITER).usage.sessions_per_day
    assert (
        product.scenario.usage.sessions_per_day
        == file_value
        != product.uncertainties["usage.sessions_per_day"].ppf(np.array([0.5]))[0]
    )
    tornado = tcpmf.tornado(product, outcome="peak_funding_usd")
    point = tcpmf.evaluate(WRITER).summary.loc[0, "peak_funding_usd"]
    assert tornado.loc[0, "at_base"] == pytest.approx(point)


def test_correlations_must_name_uncertain_keys_and_hold_together(tmp_path: Path) -> None:
    uncertain = {
        k: {"dist": "uniform", "low": lo, "high": hi}
        for k, lo, hi in (
            ("usage.sessions_per_day", 1, 2),
            ("usage.requests_per_session", 2, 6),
            ("revenue.subscription.paid_share", 0.01, 0.05),
        )
    }
    err = _error(
        _portfolio(
            tmp_path, uncertain, correlations=[["usage.sessions_per_day", "usage.dau_per_mau", 0.5]]
        )
    )
    assert err.key_path == "products.0.correlations.0" and "usage.dau_per_mau" in str(err.value)
    keys = list(uncertain)
    tangled = [[keys[0], keys[1], 0.9], [keys[1], keys[2], 0.9], [keys[0], keys[2], -0.9]]
    err = _error(_portfolio(tmp_path, uncertain, correlations=tangled))
    assert err.key_path == "products.0.correlations" and "positive definite" in err.allowed


def test_a_portfolio_where_a_scenario_belongs_and_a_misspelt_products_key_are_told_apart(
    tmp_path: Path,
) -> None:
    path = _portfolio(
        tmp_path, {"usage.sessions_per_day": {"dist": "uniform", "low": 1, "high": 2}}
    )
    with pytest.raises(AssumptionError, match="this is a portfolio file: run it with `tcpmf run`"):
        tcpmf.load(path)
    misspelt = tmp_path / "misspelt.yaml"
    misspelt.write_text(
        path.read_text(encoding="utf-8").replace("products:", "prodcts:"), encoding="utf-8"
    )
    with pytest.raises(AssumptionError) as info:
        tcpmf.monte_carlo(misspelt, 10)
    assert info.value.key_path == "prodcts" and "one of the portfolio keys" in info.value.allowed


def test_a_distribution_inside_a_list_is_refused_with_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "routes.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "extends": str(WRITER),
                "model": {
                    "routes": [
                        {
                            "name": "gpt-4o-mini",
                            "share": {"dist": "uniform", "low": 0.5, "high": 0.9},
                        },
                        {"name": "gpt-4o", "share": 0.2},
                    ]
                },
            }
        ),
        encoding="utf-8",
    )
    with pytest.raises(AssumptionError) as info:
        tcpmf.load(path)
    assert (
        info.value.key_path == "model.routes.0.share" and "not inside lists" in info.value.allowed
    )


def test_a_numeric_choice_keeps_the_files_number_when_it_is_an_option(tmp_path: Path) -> None:
    choice = {
        "dist": "choice",
        "options": [24, 36, 48],
        "weights": [0.5, 0.25, 0.25],
        "assumed": "test",
    }
    product = tcpmf.load_portfolio(_portfolio(tmp_path, {"horizon_months": choice})).products[0]
    assert product.scenario.horizon_months == tcpmf.load(WRITER).horizon_months == 36
    other = tcpmf.load_portfolio(
        _portfolio(tmp_path, {"horizon_months": {**choice, "options": [24, 30, 48]}})
    ).products[0]
    assert other.scenario.horizon_months == 24  # 36 is no option: the most likely one
