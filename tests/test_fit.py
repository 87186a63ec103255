"""Retention fitting (tcpmf.analysis.retention_fit): published sBG estimates, parameter recovery, bad tables, the CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import tcpmf
from tcpmf.analysis.retention_fit import FIT_CURVES, read_cohorts, simulate_cohorts
from tcpmf.cli.main import app
from tcpmf.core.errors import AssumptionError, TcpmfError
from tcpmf.core.yamlio import assumptions_dir
from tcpmf.formulas import retention

runner = CliRunner()
EXAMPLE = assumptions_dir() / "examples" / "cohorts_example.csv"

# Fader & Hardie (2007), "How to project customer retention", Journal of Interactive Marketing
# 21(1), Table 1: customers still active at the start of years 0-7 of 1,000 acquired in year 0.
# The paper fits years 0-7 and reports (p. 79) alpha = 0.668, beta = 3.806 ("high end") and
# alpha = 0.704, beta = 1.182 ("regular").
HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491]
# The paper's regular survivors at years 5-7 are 289, 262, 241.  (The figures 297, 268, 244 that
# circulate in some summaries are not the paper's: their maximum is alpha = 0.687, beta = 1.151,
# and the published estimates then do not reproduce.)
REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]


def _survivors(counts: list[int]) -> pd.DataFrame:
    return pd.DataFrame({"age_months": range(len(counts)), "active_users": counts})


@pytest.mark.parametrize(
    ("counts", "alpha", "beta"), [(HIGH_END, 0.668, 3.806), (REGULAR, 0.704, 1.182)]
)
def test_sbg_reproduces_fader_hardie_2007_to_three_decimals(
    counts: list[int], alpha: float, beta: float
) -> None:
    fit = tcpmf.fit_retention(_survivors(counts), curves=["sbg"]).get("sbg")
    assert round(fit.params["alpha"], 3) == alpha
    assert round(fit.params["beta"], 3) == beta
    # the maximum: the published point is no better than the estimate
    ll_published = _log_likelihood(counts, retention.sbg([alpha], [beta], len(counts))[:, 0])
    assert fit.log_likelihood >= ll_published - 1e-9


def _log_likelihood(counts: list[int], survival: np.ndarray) -> float:
    """The sBG log-likelihood written out as in the paper (eq. 5), independently of tcpmf.analysis.retention_fit."""
    lost = -np.diff(counts)
    churn = survival[:-1] - survival[1:]
    return float(np.sum(lost * np.log(churn)) + counts[-1] * np.log(survival[-1]))


TRUE: dict[str, dict[str, float]] = {
    "power_law": {"r1": 0.55, "beta": 0.5},
    "plateau": {"r1": 0.6, "floor": 0.25, "tau": 3.0},
    "sbg": {"alpha": 0.9, "beta": 2.5},
}


def _curve(name: str, params: dict[str, float], months: int) -> np.ndarray:
    if name == "power_law":
        return retention.power_law([params["r1"]], [params["beta"]], months)[:, 0]
    if name == "plateau":
        return retention.plateau([params["r1"]], [params["floor"]], [params["tau"]], months)[:, 0]
    return retention.sbg([params["alpha"]], [params["beta"]], months)[:, 0]


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("curve", FIT_CURVES)
def test_fit_recovers_the_parameters_of_synthetic_cohorts(curve: str, seed: int) -> None:
    survival = _curve(curve, TRUE[curve], 13)
    # six cohorts, younger ones seen for fewer months (right-censored at 12 ... 7)
    table = simulate_cohorts(survival, [20_000] * 6, [12, 11, 10, 9, 8, 7], seed=seed)
    fit = tcpmf.fit_retention(table, curves=[curve]).get(curve)
    assert fit.converged
    for name, true in TRUE[curve].items():
        estimate, se = fit.params[name], fit.std_errors[name]
        assert math.isfinite(se) and se > 0, (name, se)
        assert abs(estimate - true) < 4.5 * se, (name, estimate, true, se)
        assert abs(estimate - true) < 0.1 * true, (name, estimate, true)


def test_standard_errors_shrink_with_more_users() -> None:
    survival = _curve("sbg", TRUE["sbg"], 9)
    small = tcpmf.fit_retention(
        simulate_cohorts(survival, [2_000], [8], seed=5), curves=["sbg"]
    ).get("sbg")
    large = tcpmf.fit_retention(
        simulate_cohorts(survival, [200_000], [8], seed=5), curves=["sbg"]
    ).get("sbg")
    for name in ("alpha", "beta"):
        assert large.std_errors[name] < small.std_errors[name] / 3


def test_best_curve_has_the_lowest_aic_and_fit_quality_is_reported() -> None:
    fit = tcpmf.fit_retention(EXAMPLE)
    quality = fit.quality
    assert set(quality["curve"]) == set(FIT_CURVES)
    assert quality["best"].sum() == 1
    best = quality.loc[quality["best"]].iloc[0]
    assert best["aic"] == quality["aic"].min()
    assert np.allclose(quality["aic"], 2 * quality["n_params"] - 2 * quality["log_likelihood"])
    assert (quality["rmse"] > 0).all() and (quality["rmse"] < 0.05).all()


def test_example_table_recovers_its_documented_sbg() -> None:
    fit = tcpmf.fit_retention(EXAMPLE, curves=["sbg"]).get("sbg")
    for name, true in {"alpha": 0.8, "beta": 2.0}.items():  # assumptions/examples/README.md
        assert abs(fit.params[name] - true) < 3 * fit.std_errors[name]


def test_projection_uses_the_retention_curves() -> None:
    fit = tcpmf.fit_retention(_survivors(HIGH_END))
    projection = fit.project(24, curve="sbg")
    best = fit.get("sbg")
    expected = retention.sbg([best.params["alpha"]], [best.params["beta"]], 24)[:, 0]
    np.testing.assert_allclose(projection["survival"], expected)
    assert projection["survival"].iloc[0] == 1.0
    assert (np.diff(projection["survival"]) <= 0).all()
    assert len(fit.project(36)) == 36


def test_fitted_table_pairs_observations_with_every_curve() -> None:
    fit = tcpmf.fit_retention(EXAMPLE)
    table = fit.fitted(24)
    assert list(table.columns[:3]) == ["cohort", "age_months", "observed_share"]
    assert set(FIT_CURVES) <= set(table.columns)
    observed = table.dropna(subset=["observed_share"])
    assert len(observed) == len(fit.data)


def test_by_cohort_fits_each_cohort_besides_the_pooled_fit() -> None:
    table = simulate_cohorts(
        _curve("sbg", TRUE["sbg"], 10),
        [5_000, 6_000, 7_000],
        [9, 8, 7],
        seed=11,
        labels=["a", "b", "c"],
    )
    fit = tcpmf.fit_retention(table, curves=["sbg", "power_law"], by_cohort=True)
    assert {f.cohort for f in fit.fits} == {"pooled"}  # each cohort's own: fit.cohort_fits
    assert set(fit.quality["cohort"]) == {"pooled", "a", "b", "c"}
    assert fit.best("b").cohort == "b"
    with pytest.raises(TcpmfError, match="no fit for cohort"):
        fit.best("zzz")
    # pooling adds up the cohorts' log-likelihoods: it can be no better than separate fits
    pooled = fit.get("sbg").log_likelihood
    separate = sum(fit.get("sbg", c).log_likelihood for c in "abc")
    assert pooled <= separate + 1e-6


def test_shares_give_the_same_estimates_as_counts() -> None:
    counts = _survivors(HIGH_END)
    shares = pd.DataFrame({"age": counts["age_months"], "share": counts["active_users"] / 1000})
    by_count = tcpmf.fit_retention(counts, curves=["sbg"]).get("sbg")
    by_share = tcpmf.fit_retention(shares, curves=["sbg"])
    assert not by_share.has_sizes
    sbg_share = by_share.get("sbg")
    for name in ("alpha", "beta"):
        assert sbg_share.params[name] == pytest.approx(by_count.params[name], rel=1e-5)
        assert math.isnan(sbg_share.std_errors[name])
    assert math.isnan(sbg_share.aic)
    sized = tcpmf.fit_retention(shares, curves=["sbg"], cohort_size=1000).get("sbg")
    for name in ("alpha", "beta"):
        assert sized.std_errors[name] == pytest.approx(by_count.std_errors[name], rel=1e-3)


def test_yaml_block_is_accepted_by_the_scenario_schema(valid_scenario_dict: dict[str, Any]) -> None:
    fit = tcpmf.fit_retention(EXAMPLE)
    for curve in FIT_CURVES:
        block = yaml.safe_load(fit.to_yaml(curve=curve))
        assert set(block) == {"retention"}
        valid_scenario_dict["retention"] = block["retention"]
        scenario = tcpmf.from_dict(valid_scenario_dict)
        assert scenario.retention.curve == curve
        for name, value in fit.get(curve).params.items():
            assert getattr(scenario.retention, name) == pytest.approx(value, rel=1e-3)
            assert "maximum-likelihood" in scenario.sources[f"retention.{name}"]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cohorts.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        (
            "cohort,age_months,active_users\na,0,100\na,2,80\na,1,90\n",
            ["cohorts.csv", "line 4", "age_months", "increase", "1"],
        ),
        ("cohort,age_months,active_users\na,0,100\na,1,90\na,1,80\n", ["line 4", "increase"]),
        (
            "cohort,age_months,share\na,0,1\na,1,1.2\n",
            ["line 3", "share", "1.2", "between 0 and 1"],
        ),
        ("cohort,age_months,share\na,1,-0.1\n", ["line 2", "between 0 and 1"]),
        ("cohort,active_users\na,100\n", ["columns", "age_months"]),
        ("cohort,age_months,revenue\na,0,100\n", ["columns", "active_users or share"]),
        ("cohort,age_months,active_users\na,0,100\na,1,-5\n", ["line 3", "-5", "0 or more"]),
        ("cohort,age_months,active_users\na,0,100\na,1,ten\n", ["line 3", "ten", "finite number"]),
        ("cohort,age_months,active_users\na,0,100\na,1.5,90\n", ["line 3", "whole number"]),
        ("cohort,age_months,active_users\na,1,100\na,2,90\n", ["line 2", "age_months 0"]),
        (
            "cohort,age_months,active_users\na,0,100\na,1,90\na,2,95\n",
            ["line 4", "never grows", "95"],
        ),
        ("cohort,age_months,share\na,0,0.9\na,1,0.5\n", ["line 2", "share 1 at age 0"]),
        ("cohort,age_months,active_users\na,0,100\n", ["at least one cohort"]),
    ],
)
def test_malformed_cohort_tables_give_clear_errors(
    tmp_path: Path, text: str, fragments: list[str]
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(AssumptionError) as info:
        read_cohorts(path)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_dataframe_errors_name_the_row() -> None:
    frame = pd.DataFrame(
        {"cohort": ["x", "x"], "age_months": [0, 1], "share": [1.0, 1.5]}, index=[10, 11]
    )
    with pytest.raises(AssumptionError, match=r"<DataFrame>: row 11, column share = 1.5"):
        tcpmf.fit_retention(frame)


def test_unknown_curve_is_refused() -> None:
    with pytest.raises(TcpmfError, match="allowed: power_law, plateau, sbg"):
        tcpmf.fit_retention(_survivors(HIGH_END), curves=["weibull"])


def test_simulate_cohorts_is_reproducible_and_never_grows() -> None:
    survival = _curve("plateau", TRUE["plateau"], 8)
    a = simulate_cohorts(survival, [500, 700], [7, 3], seed=42)
    b = simulate_cohorts(survival, [500, 700], [7, 3], seed=42)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(simulate_cohorts(survival, [500, 700], [7, 3], seed=43))
    for _, group in a.groupby("cohort"):
        assert (np.diff(group["active_users"]) <= 0).all()
    assert read_cohorts(a)["share"].between(0, 1).all()


def test_cli_prints_fits_and_yaml_block(tmp_path: Path) -> None:
    chart = tmp_path / "fit.html"
    result = runner.invoke(
        app, ["fit-retention", str(EXAMPLE), "--chart", str(chart)], env={"COLUMNS": "300"}
    )
    assert result.exit_code == 0, result.output
    assert "retention:\n  curve:" in result.stdout
    block = yaml.safe_load(result.stdout[result.stdout.index("retention:") :])
    assert block["retention"]["curve"] in FIT_CURVES
    assert chart.is_file() and "vega" in chart.read_text(encoding="utf-8")


def test_cli_json(tmp_path: Path) -> None:
    result = runner.invoke(app, ["fit-retention", str(EXAMPLE), "--curve", "sbg", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["best"]["curve"] == "sbg"
    assert {row["param"] for row in data["params"]} == {"alpha", "beta"}
    assert yaml.safe_load(data["yaml"])["retention"]["curve"] == "sbg"


def test_cli_json_with_shares_only_has_nulls_for_undefined_errors(tmp_path: Path) -> None:
    path = _write(tmp_path, "age_months,share\n0,1\n1,0.6\n2,0.45\n3,0.38\n")
    result = runner.invoke(app, ["fit-retention", str(path), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert all(v is None for v in data["best"]["std_errors"].values())
    assert all(row["aic"] is None for row in data["quality"])


def test_cli_bad_table_is_one_clean_message(tmp_path: Path) -> None:
    path = _write(tmp_path, "cohort,age_months,share\na,0,1\na,1,3\n")
    result = runner.invoke(app, ["fit-retention", str(path)])
    assert result.exit_code == 1
    assert "between 0 and 1" in result.stderr and "Traceback" not in result.output


PARAMS = {
    "power_law": st.fixed_dictionaries({"r1": st.floats(0.2, 0.9), "beta": st.floats(0.1, 1.5)}),
    "plateau": st.tuples(st.floats(0.3, 0.9), st.floats(0.1, 0.8), st.floats(0.5, 8.0)).map(
        lambda t: {"r1": t[0], "floor": t[0] * t[1], "tau": t[2]}
    ),
    "sbg": st.fixed_dictionaries({"alpha": st.floats(0.2, 5.0), "beta": st.floats(0.3, 10.0)}),
}


@pytest.mark.parametrize("curve", FIT_CURVES)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_exact_expected_survivors_give_back_the_true_parameters(
    curve: str, data: st.DataObject
) -> None:
    """With survivors exactly n·S(k) the likelihood peaks at the true parameters (KL divergence 0)."""
    params = data.draw(PARAMS[curve])
    survival = _curve(curve, params, 13)
    table = pd.DataFrame(
        {
            "cohort": ["a"] * 13 + ["b"] * 7,
            "age_months": [*range(13), *range(7)],
            "active_users": [*(1e5 * survival), *(5e4 * survival[:7])],
        }
    )
    fit = tcpmf.fit_retention(table, curves=[curve]).get(curve)
    for name, true in params.items():
        assert fit.params[name] == pytest.approx(true, rel=2e-3), (name, params, fit.params)


def test_two_ages_do_not_identify_a_curve_and_the_cli_prints_no_yaml(tmp_path: Path) -> None:
    path = _write(tmp_path, "cohort,age_months,active_users\na,0,1000\na,1,600\n")
    fit = tcpmf.fit_retention(path)
    assert not fit.identified
    assert not fit.quality["identified"].any() and not fit.quality["best"].any()
    assert all("1 observed age" in note for note in fit.quality["note"])
    with pytest.raises(TcpmfError, match="do not determine any retention curve"):
        fit.best()
    with pytest.raises(TcpmfError, match="not identified"):
        fit.to_yaml(curve="sbg")
    result = runner.invoke(app, ["fit-retention", str(path)], env={"COLUMNS": "300"})
    assert result.exit_code == 1
    assert "retention:" not in result.stdout
    assert "do not determine any retention curve" in result.stderr
    as_json = runner.invoke(app, ["fit-retention", str(path), "--json"])
    assert as_json.exit_code == 1
    data = json.loads(as_json.stdout)
    assert data["best"] is None and data["yaml"] is None


def test_by_cohort_never_calls_a_one_observation_cohort_best() -> None:
    fit = tcpmf.fit_retention(EXAMPLE, by_cohort=True)
    quality = fit.quality
    youngest = quality.loc[quality["n_obs"] == 1]
    assert len(youngest) == len(FIT_CURVES)
    assert not youngest["identified"].any() and not youngest["best"].any()
    assert (quality.loc[quality["best"], "identified"]).all()
    assert quality.loc[quality["cohort"] == "pooled", "best"].sum() == 1


def test_a_parameter_on_its_bound_is_not_identified() -> None:
    # nobody ever leaves after month 1: the power law's decay runs to its lower bound
    table = pd.DataFrame({"age_months": range(6), "active_users": [1000, 500, 500, 500, 500, 500]})
    fit = tcpmf.fit_retention(table, curves=["power_law"]).get("power_law")
    assert not fit.identified and "bound" in fit.note


def test_an_empty_cell_is_called_empty(tmp_path: Path) -> None:
    path = _write(tmp_path, "cohort,age_months,active_users\na,0,1000\na,1,\na,2,500\n")
    with pytest.raises(AssumptionError) as info:
        read_cohorts(path)
    assert "the cell is empty" in str(info.value) and "nan" not in str(info.value)
    assert "line 3" in str(info.value)


def test_wide_tables_are_read_with_wide_and_refused_with_a_hint_without(tmp_path: Path) -> None:
    wide = _write(
        tmp_path, "cohort,month_0,month_1,month_2,month_3\na,1000,869,743,653\nb,1000,860,740,\n"
    )
    with pytest.raises(AssumptionError, match="--wide"):
        read_cohorts(wide)
    table = read_cohorts(wide, wide=True)
    assert list(table["cohort"]) == ["a"] * 4 + ["b"] * 3
    assert list(table.loc[table["cohort"] == "a", "active_users"]) == [1000, 869, 743, 653]
    long = pd.DataFrame(
        {
            "cohort": ["a"] * 4 + ["b"] * 3,
            "age_months": [0, 1, 2, 3, 0, 1, 2],
            "active_users": [1000, 869, 743, 653, 1000, 860, 740],
        }
    )
    pd.testing.assert_frame_equal(table, read_cohorts(long), check_dtype=False)
    result = runner.invoke(app, ["fit-retention", str(wide), "--wide", "--curve", "sbg", "--json"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("cell", ["x", "n/a", '"1,200"', "12%", "inf"])
def test_wide_tables_refuse_text_cells_naming_line_and_column(tmp_path: Path, cell: str) -> None:
    # issue 15: the wide format dropped such cells silently and fitted from the rest (exit 0)
    wide = _write(
        tmp_path,
        f"cohort,month_0,month_1,month_2,month_3\na,1000,869,743,653\nb,1000,{cell},740,\n",
    )
    with pytest.raises(AssumptionError) as info:
        read_cohorts(wide, wide=True)
    assert info.value.key_path == "line 3, column month_1", str(info.value)
    assert "a finite number" in str(info.value)
    result = runner.invoke(app, ["fit-retention", str(wide), "--wide", "--json"])
    assert result.exit_code == 1
    assert "line 3, column month_1" in result.stderr and "Traceback" not in result.output
    frame = pd.read_csv(wide, keep_default_na=False, na_values=[""])
    with pytest.raises(AssumptionError, match=r"row 1, column month_1"):
        read_cohorts(frame, wide=True)


def test_cli_json_with_an_infinite_fit_is_valid_json(tmp_path: Path) -> None:
    # issue 15: counts near the float limit make the likelihood infinite; --json raised
    # "Out of range float values are not JSON compliant" (a traceback)
    path = _write(
        tmp_path, "cohort,age_months,active_users\na,0,1e308\na,1,5e307\na,2,4e307\na,3,3.5e307\n"
    )
    result = runner.invoke(app, ["fit-retention", str(path), "--json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output
    data = json.loads(result.stdout)
    assert any(value is None for row in data["quality"] for value in row.values())
    assert all(
        not isinstance(v, float) or math.isfinite(v)
        for row in data["quality"]
        for v in row.values()
    )


def test_an_overflowing_fit_warns_nothing_and_is_not_identified(tmp_path: Path) -> None:
    """Issue 15: numpy's overflow warnings leaked to the terminal before the clean refusal."""
    import warnings

    path = _write(
        tmp_path, "cohort,age_months,active_users\na,0,1e308\na,1,5e307\na,2,4e307\na,3,3.5e307\n"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = tcpmf.fit_retention(path)
    assert not fit.identified
    result = runner.invoke(app, ["fit-retention", str(path)])
    assert result.exit_code == 1 and "Warning" not in result.output, result.output


def test_semicolon_separated_files_get_a_hint(tmp_path: Path) -> None:
    path = _write(tmp_path, "cohort;age_months;active_users\na;0;1000\na;1;800\n")
    with pytest.raises(AssumptionError, match="semicolons"):
        read_cohorts(path)


# --------------------------------------------------------------------------- cohorts at scale (issue 15, item 6)
@st.composite
def _cohort_tables(draw: st.DrawFn) -> pd.DataFrame:
    """Cohorts of different sizes seen at different ages (gaps allowed), rows possibly interleaved."""
    rows = []
    for c in range(draw(st.integers(1, 12), label="cohorts")):
        ages = [0, *sorted(draw(st.sets(st.integers(1, 9), min_size=1, max_size=5)))]
        active = draw(st.integers(1, 10_000))
        for age in ages:
            rows.append((f"c{c}", age, active))
            active = draw(st.integers(0, active))
    order = draw(st.permutations(range(len(rows))))
    cohorts = [rows[i][0] for i in order]  # keep each cohort's ages increasing after the shuffle
    by_cohort = {
        label: iter([r for r in rows if r[0] == label]) for label in dict.fromkeys(cohorts)
    }
    return pd.DataFrame(
        [next(by_cohort[label]) for label in cohorts],
        columns=["cohort", "age_months", "active_users"],
    )


def _per_cohort_log_likelihood(table: pd.DataFrame, survival: np.ndarray) -> float:
    """ℓ summed cohort by cohort, written out as in the module docstring."""
    total = 0.0
    for _, group in table.groupby("cohort", sort=False):
        ages, active = group["age_months"].to_numpy(), group["active_users"].to_numpy(float)
        for a, b, n_a, n_b in zip(ages[:-1], ages[1:], active[:-1], active[1:]):
            if n_a - n_b > 0:
                total += (n_a - n_b) * math.log(max(survival[a] - survival[b], 1e-300))
        if active[-1] > 0:
            total += active[-1] * math.log(max(survival[ages[-1]], 1e-300))
    return total


@settings(max_examples=60, deadline=None)
@given(table=_cohort_tables(), alpha=st.floats(0.05, 20), beta=st.floats(0.05, 20))
def test_grouped_likelihood_equals_the_per_cohort_one(
    table: pd.DataFrame, alpha: float, beta: float
) -> None:
    from tcpmf.analysis.retention_fit import _Data

    tidy = read_cohorts(table)
    sizes = tidy.groupby("cohort", sort=False)["active_users"].first().to_numpy(float)
    grouped, flat = _Data.of(tidy, sizes), _Data.of(tidy, sizes, grouped=False)
    survival = retention.sbg(np.array([alpha]), np.array([beta]), 10)
    expected = _per_cohort_log_likelihood(tidy, survival[:, 0])
    assert grouped.log_likelihood(survival)[0] == pytest.approx(expected, rel=1e-9, abs=1e-6)
    assert flat.log_likelihood(survival)[0] == pytest.approx(expected, rel=1e-9, abs=1e-6)
    # cohorts observed at the same ages share their entries: no more than the distinct intervals
    assert (
        grouped.start.size == len({(a, b) for a, b in zip(flat.start, flat.end)}) <= flat.start.size
    )
    assert grouped.last_age.size == np.unique(flat.last_age).size


@settings(max_examples=40, deadline=None)
@given(table=_cohort_tables())
def test_interleaved_rows_read_as_each_cohort_in_order_of_first_appearance(
    table: pd.DataFrame,
) -> None:
    tidy = read_cohorts(table)
    labels = list(dict.fromkeys(table["cohort"]))
    assert list(dict.fromkeys(tidy["cohort"])) == labels
    for label in labels:
        mine = tidy[tidy["cohort"] == label]
        theirs = table[table["cohort"] == label]
        assert mine["age_months"].tolist() == theirs["age_months"].tolist()
        np.testing.assert_array_equal(
            mine["share"], theirs["active_users"] / theirs["active_users"].iloc[0]
        )


def test_many_cohorts_with_the_same_ages_fit_like_their_sum() -> None:
    """10^4 cohorts seen at the same ages give the estimates of one cohort holding all their users."""
    survival = _curve("sbg", TRUE["sbg"], 6)
    many = simulate_cohorts(survival, [300] * 2_000, [5] * 2_000, seed=11)
    total = many.groupby("age_months", as_index=False)["active_users"].sum()
    a = tcpmf.fit_retention(many, curves=["sbg"]).get("sbg")
    b = tcpmf.fit_retention(total, curves=["sbg"]).get("sbg")
    for name in a.params:
        assert a.params[name] == pytest.approx(b.params[name], rel=1e-5)
    assert a.log_likelihood == pytest.approx(b.log_likelihood, rel=1e-9)


def test_a_wide_table_of_shares_with_empty_cells_is_read_as_shares(tmp_path: Path) -> None:
    """Empty cells (ages not yet observed) made every value look like a count of one user."""
    path = _write(tmp_path, "cohort,0,1,2\na,1,0.6,0.4\nb,1,0.5,\n")
    table = read_cohorts(path, wide=True)
    assert table["active_users"].isna().all()
    assert table["share"].tolist() == [1.0, 0.6, 0.4, 1.0, 0.5]
    assert not tcpmf.fit_retention(path, wide=True, curves=["sbg"]).has_sizes


def test_a_wide_table_reads_like_its_long_form_row_by_row() -> None:
    grid = pd.DataFrame(
        {
            "cohort": ["a", "b", "c"],
            "m0": [100, 80, 50],
            "m1": [60, 40, None],
            "m2": [30, None, None],
        }
    )
    long = pd.DataFrame(
        {
            "cohort": ["a", "a", "a", "b", "b", "c"],
            "age_months": [0, 1, 2, 0, 1, 0],
            "active_users": [100, 60, 30, 80, 40, 50],
        }
    )
    pd.testing.assert_frame_equal(
        read_cohorts(grid, wide=True), read_cohorts(long), check_dtype=False
    )
