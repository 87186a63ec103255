"""tcpmf.uncertainty.discovery: PRIM finds known boxes, and its statistics are what the data say."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tcpmf

ROOT = Path(__file__).resolve().parent.parent
PORTFOLIO = ROOT / "assumptions" / "portfolios" / "consumer_stages.yaml"


def synthetic(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "x1": rng.random(n),
            "x2": rng.random(n),
            "x3": rng.random(n),
            "model": rng.choice(["a", "b", "c"], n),
        }
    )


def inside(data: pd.DataFrame, limits: pd.DataFrame) -> np.ndarray:
    """Recount: the rows within every limit (``low <= x <= high``, or one of the kept options)."""
    mask = np.ones(len(data), bool)
    for row in limits.itertuples():
        if row.kind == "numeric":
            x = data[row.key].to_numpy(float)
            mask &= (x >= row.low) & (x <= row.high)
        else:
            mask &= data[row.key].astype(str).isin([str(c) for c in row.categories]).to_numpy(bool)
    return mask


def recount(y: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    return {"coverage": y[mask].sum() / y.sum(), "density": y[mask].mean(), "mass": mask.mean()}


def test_finds_a_known_box_and_leaves_the_irrelevant_input_alone() -> None:
    data = synthetic()
    data["clears"] = (data["x1"] > 0.7) & (data["x2"] < 0.3)
    found = tcpmf.discover(data, "clears")
    limits = found.limits.set_index("key")
    assert (
        abs(limits.loc["x1", "low"] - 0.7) < 0.05 and limits.loc["x1", "high"] >= data["x1"].max()
    )
    assert (
        abs(limits.loc["x2", "high"] - 0.3) < 0.05 and limits.loc["x2", "low"] <= data["x2"].min()
    )
    assert not limits.loc["x3", "restricted"] and not limits.loc["model", "restricted"]
    box = found.boxes.iloc[0]
    assert box["res_dim"] == 2 and box["coverage"] > 0.9 and box["density"] > 0.9
    assert box["product"] == "all" and box["hits"] == data["clears"].sum()


def test_a_named_input_is_peeled_one_option_at_a_time() -> None:
    data = synthetic(seed=1)
    data["clears"] = data["model"].isin(["a", "c"]) & (data["x1"] > 0.4)
    found = tcpmf.discover(data, "clears", inputs=["x1", "x2", "model"])
    limits = found.limits.set_index("key")
    assert limits.loc["model", "categories"] == ("a", "c") and limits.loc["model", "restricted"]
    assert limits.loc["model", "kind"] == "named" and pd.isna(limits.loc["model", "low"])
    assert abs(limits.loc["x1", "low"] - 0.4) < 0.05 and not limits.loc["x2", "restricted"]
    assert "x3" not in limits.index


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(20, 400),
    corner=st.tuples(st.floats(0, 1), st.floats(0, 1)),
    noise=st.floats(0, 0.5),
    alpha=st.sampled_from([0.02, 0.05, 0.1, 0.25]),
    min_mass=st.sampled_from([0.01, 0.05, 0.2]),
    threshold=st.none() | st.floats(0.1, 1.0),
    paste=st.booleans(),
    named=st.booleans(),
)
def test_coverage_density_and_mass_are_a_recount_of_the_data(
    seed: int,
    n: int,
    corner: tuple[float, float],
    noise: float,
    alpha: float,
    min_mass: float,
    threshold: float | None,
    paste: bool,
    named: bool,
) -> None:
    rng = np.random.default_rng(seed)
    data = pd.DataFrame(
        {"x1": rng.random(n), "x2": rng.integers(0, 5, n).astype(float), "x3": rng.random(n)}
    )
    if named:
        data["model"] = pd.Categorical(rng.choice(["p", "q", "r"], n))
    truth = (data["x1"] > corner[0]) & (data["x3"] < corner[1])
    flip = rng.random(n) < noise
    y = (truth ^ flip).to_numpy(bool, copy=True)
    if not y.any():
        y[0] = True
    data["ok"] = y
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "no box reaches the threshold"
        found = tcpmf.discover(
            data, "ok", alpha=alpha, min_mass=min_mass, threshold=threshold, paste=paste
        )
    box = found.boxes.iloc[0]
    counted = recount(y, inside(data, found.limits))
    for k, v in counted.items():
        assert box[k] == pytest.approx(v, rel=1e-12), k
    assert box["res_dim"] == found.limits["restricted"].sum()
    traj = found.trajectory
    for step in traj["step"]:
        counted = recount(y, inside(data, found.limits_at(int(step))))
        row = traj.iloc[int(step)]
        assert [row["coverage"], row["density"], row["mass"]] == pytest.approx(
            [counted["coverage"], counted["density"], counted["mass"]], rel=1e-12
        )
    # along the trajectory the box only shrinks, and every peel raises the density
    assert (np.diff(traj["mass"]) < 0).all() and (
        np.diff(traj["coverage"].astype(float)) <= 1e-12
    ).all()
    assert (np.diff(traj["density"].astype(float)) > 0).all()
    assert (traj["mass"].iloc[1:] >= min_mass).all()
    assert traj["chosen"].sum() == 1 and traj.loc[traj["chosen"], "step"].item() == box["step"]
    assert box["density"] >= traj.loc[traj["chosen"], "density"].item()  # pasting never lowers it
    if threshold is not None and (traj["density"] >= threshold).any():
        assert box["step"] == int(np.flatnonzero(traj["density"].to_numpy(float) >= threshold)[0])


def test_results_of_a_portfolio_give_a_box_per_product() -> None:
    draws = tcpmf.monte_carlo(PORTFOLIO, n=300, seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a product that never clears has no box
        found = tcpmf.discover(draws)
    names = tcpmf.load_portfolio(PORTFOLIO).names
    assert list(found.boxes["product"]) == names
    assert list(pd.unique(found.limits["product"])) == names
    for product, block in found.limits.groupby("product", sort=False):
        rows = draws[draws["product"] == product]
        drawn = set(tcpmf.load_portfolio(PORTFOLIO).products[names.index(product)].uncertainties)
        assert set(block["key"]) == drawn  # inputs a product does not draw are left out
        box = found.boxes.set_index("product").loc[product]
        y = rows["clears_break_even"].to_numpy(bool)
        if y.any():
            counted = recount(y, inside(rows, block))
            assert box["density"] == pytest.approx(counted["density"]) and box[
                "mass"
            ] == pytest.approx(counted["mass"])
        else:
            assert pd.isna(box["coverage"]) and box["density"] == 0 and box["res_dim"] == 0


def test_a_product_that_never_clears_has_no_box_and_a_warning() -> None:
    data = synthetic(n=100)
    data["clears"] = False
    with pytest.warns(UserWarning, match="never true"):
        found = tcpmf.discover(data, "clears")
    box = found.boxes.iloc[0]
    assert (
        pd.isna(box["coverage"])
        and box["density"] == 0
        and box["mass"] == 1
        and box["res_dim"] == 0
    )
    assert not found.limits["restricted"].any()


def test_an_outcome_may_be_a_condition() -> None:
    data = synthetic(seed=3)
    found = tcpmf.discover(data, data["x2"] > 0.8, threshold=0.95)
    limits = found.limits.set_index("key")
    assert abs(limits.loc["x2", "low"] - 0.8) < 0.05 and found.outcome == "condition"
    assert found.boxes["density"].iloc[0] >= 0.95


@pytest.mark.parametrize(
    ("outcome", "inputs", "key"),
    [
        ("clears_break_evn", None, "outcome"),
        ("x1", None, "outcome"),  # a number, not yes/no
        ("clears", ["x1", "nope"], "inputs"),
        ("clears", ["clears"], "inputs"),
    ],
)
def test_bad_arguments_name_the_key_and_value(
    outcome: str, inputs: list[str] | None, key: str
) -> None:
    data = synthetic(n=50)
    data["clears"] = data["x1"] > 0.5
    with pytest.raises(tcpmf.AssumptionError) as info:
        tcpmf.discover(data, outcome, inputs=inputs)
    assert info.value.key_path == key
    assert info.value.value in (outcome, "nope", "clears")


def test_missing_outcomes_and_bad_settings_are_refused() -> None:
    data = synthetic(n=50)
    data["clears"] = pd.array([True, None] * 25, dtype="boolean")
    with pytest.raises(tcpmf.AssumptionError, match="missing"):
        tcpmf.discover(data, "clears")
    data["clears"] = data["x1"] > 0.5
    for name, value in (("alpha", 0.7), ("min_mass", 0.0), ("threshold", 1.5)):
        with pytest.raises(tcpmf.AssumptionError) as info:
            tcpmf.discover(data, "clears", **{name: value})  # type: ignore[arg-type]
        assert info.value.key_path == name and info.value.value == value
