r"""Two variants of a portfolio compared draw by draw: the difference B − A with paired confidence intervals.

Two runs with the same seed, samples, chunk size and sampling draw each input from the same
random stream (streams are keyed by product, chunk and input name), so draw *i* of product *p* in
run A and in run B differ only where the variants differ: common random numbers.  The differences
are then measured on pairs, which removes most of the sampling noise both runs share.

Per product (matched by name):

``p_clears_break_even``
    :math:`\Delta = \bar d`, :math:`d_i = c^B_i - c^A_i \in \{-1, 0, 1\}`; interval
    :math:`\Delta \pm z\, s_d / \sqrt n` (normal approximation to the mean of paired differences).
``payback_month_p50``, ``peak_funding_usd_p50``
    the difference of the medians (a payback that never comes counts as later than any month, as
    in :func:`tcpmf.summarize`); interval from a paired bootstrap: the same resampled draw indices
    for A and B, :data:`BOOTSTRAP_REPLICATES` times, the percentile interval of the differences.

A run compared with itself gives differences of exactly 0 and intervals ``[0, 0]``.

Example
-------
>>> import tcpmf
>>> from tcpmf.uncertainty.runner import run
>>> base = run("assumptions/portfolios/consumer_stages.yaml", 500, seed=1, out="runs/base")
>>> same = tcpmf.compare_runs(base, base)  # a run against itself: every difference is exactly 0
>>> float(same.filter(like="_difference").abs().max().max())
0.0
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from tcpmf.core.errors import TcpmfError
from tcpmf.core.yamlio import display_path

__all__ = ["BOOTSTRAP_REPLICATES", "COMPARED", "PAIRING_KEYS", "compare_runs"]

#: Resamples of the paired bootstrap for the medians' interval.
BOOTSTRAP_REPLICATES = 400
#: Manifest entries two runs must share for their draws to pair up.
PAIRING_KEYS = {
    "seed": "seed",
    "samples": "samples",
    "chunk_size": "chunk size",
    "sampling": "sampling",
}
#: The outcomes compared, by the column they come from.
COMPARED = {
    "p_clears_break_even": "clears_break_even",
    "payback_month_p50": "payback_month",
    "peak_funding_usd_p50": "peak_funding_usd",
}
_COLUMNS = ["product", "clears_break_even", "payback_month", "peak_funding_usd"]


def _draws(
    run: pd.DataFrame | str | Path, partial: bool
) -> tuple[pd.DataFrame, dict[str, Any] | None, str]:
    if isinstance(run, pd.DataFrame):
        missing = [c for c in ("draw", *_COLUMNS) if c not in run]
        if missing:
            raise TcpmfError(
                f"compare_runs takes run folders or draws of monte_carlo / read_run; these have no column "
                f"{missing[0]!r}"
            )
        return run, None, "draws"
    from tcpmf.uncertainty.runner import read_manifest, read_run

    manifest = read_manifest(run)
    return read_run(run, _COLUMNS, partial=partial), manifest, display_path(Path(run))


def _check_pairing(
    a: dict[str, Any] | None, b: dict[str, Any] | None, names: tuple[str, str]
) -> None:
    if a is None or b is None:
        return
    differ = [
        f"{label} {a.get(k)!r} vs {b.get(k)!r}"
        for k, label in PAIRING_KEYS.items()
        if a.get(k) != b.get(k)
    ]
    if differ:
        raise TcpmfError(
            f"{names[0]} and {names[1]} do not draw the same random numbers ({'; '.join(differ)}); "
            "run both variants with the same --seed, --samples and --chunk-size to compare them"
        )


def _months(values: pd.Series) -> np.ndarray:
    """As floats, a month that never comes as +inf (later than any month)."""
    return values.astype("Float64").to_numpy(dtype=float, na_value=np.inf)


def _median(x: np.ndarray) -> float:
    return float(np.quantile(x, 0.5, method="inverted_cdf"))


def _finite_or_na(value: float) -> Any:
    return float(value) if np.isfinite(value) else pd.NA


def _median_difference(
    a: np.ndarray, b: np.ndarray, z_level: float, rng: np.random.Generator, replicates: int
) -> tuple[Any, Any, Any, Any, Any]:
    """Medians of A and B, their difference and its paired-bootstrap interval (NA where a median is beyond the horizon)."""
    ma, mb = _median(a), _median(b)
    if not (np.isfinite(ma) and np.isfinite(mb)):
        return _finite_or_na(ma), _finite_or_na(mb), pd.NA, pd.NA, pd.NA
    if np.array_equal(a, b):
        return ma, mb, 0.0, 0.0, 0.0
    n = len(a)
    diffs = np.empty(replicates)
    for r in range(replicates):
        idx = rng.integers(0, n, n)
        with np.errstate(invalid="ignore"):
            diffs[r] = _median(b[idx]) - _median(a[idx])
    if np.isnan(diffs).any():  # both medians beyond the horizon in some resamples
        return ma, mb, mb - ma, pd.NA, pd.NA
    tail = (1 - z_level) / 2
    low, high = np.quantile(diffs, [tail, 1 - tail], method="inverted_cdf")
    return ma, mb, mb - ma, _finite_or_na(low), _finite_or_na(high)


def compare_runs(
    run_a: pd.DataFrame | str | Path,
    run_b: pd.DataFrame | str | Path,
    *,
    confidence: float = 0.95,
    partial: bool = False,
    seed: int = 0,
    replicates: int = BOOTSTRAP_REPLICATES,
) -> pd.DataFrame:
    """Per product in both runs: A, B, the difference B − A and its paired *confidence* interval
    for P(clears break-even), the median payback month and the median peak funding (USD).

    Parameters
    ----------
    run_a, run_b
        ``tcpmf run`` folders (they must share seed, samples, chunk size and sampling), or the
        draws of :func:`tcpmf.monte_carlo` / :func:`tcpmf.read_run` (paired by ``draw``).
    confidence
        Of the intervals, between 0 and 1.
    partial
        Compare unfinished runs on the draws both have.
    seed, replicates
        Of the paired bootstrap of the medians.

    Returns
    -------
    pandas.DataFrame
        ``product``, ``draws`` and, for each of ``p_clears_break_even``, ``payback_month_p50`` and
        ``peak_funding_usd_p50``: ``_a``, ``_b``, ``_difference``, ``_difference_low``,
        ``_difference_high``.
    """
    if not (isinstance(confidence, float | int) and 0 < confidence < 1):
        raise TcpmfError(f"confidence must be between 0 and 1 (got {confidence!r})")
    if isinstance(replicates, bool) or not isinstance(replicates, int) or replicates < 10:
        raise TcpmfError(f"replicates must be a whole number of at least 10 (got {replicates!r})")
    draws_a, manifest_a, name_a = _draws(run_a, partial)
    draws_b, manifest_b, name_b = _draws(run_b, partial)
    _check_pairing(manifest_a, manifest_b, (name_a, name_b))
    products_b = set(draws_b["product"].astype(str))
    names = [p for p in dict.fromkeys(draws_a["product"].astype(str)) if p in products_b]
    if not names:
        raise TcpmfError(
            f"{name_a} and {name_b} have no product in common; products are matched by name"
        )
    z = float(norm.ppf(0.5 + confidence / 2))
    rng = np.random.default_rng(seed)
    rows = []
    for product in names:
        a = draws_a[draws_a["product"].astype(str) == product].set_index("draw")
        b = draws_b[draws_b["product"].astype(str) == product].set_index("draw")
        common = a.index.intersection(b.index)
        a, b = a.loc[common], b.loc[common]
        n = len(common)
        row: dict[str, Any] = {"product": product, "draws": n}
        ca = a["clears_break_even"].astype(bool).to_numpy(dtype=float)
        cb = b["clears_break_even"].astype(bool).to_numpy(dtype=float)
        d = cb - ca
        half = z * float(d.std(ddof=1)) / np.sqrt(n) if n > 1 else np.nan
        mean = float(d.mean())
        row |= {
            "p_clears_break_even_a": float(ca.mean()),
            "p_clears_break_even_b": float(cb.mean()),
            "p_clears_break_even_difference": mean,
            "p_clears_break_even_difference_low": mean - half,
            "p_clears_break_even_difference_high": mean + half,
        }
        for name, column in (
            ("payback_month_p50", "payback_month"),
            ("peak_funding_usd_p50", "peak_funding_usd"),
        ):
            values = _median_difference(
                _months(a[column]), _months(b[column]), confidence, rng, replicates
            )
            row |= dict(
                zip(
                    (
                        f"{name}_a",
                        f"{name}_b",
                        f"{name}_difference",
                        f"{name}_difference_low",
                        f"{name}_difference_high",
                    ),
                    values,
                )
            )
        rows.append(row)
    table = pd.DataFrame(rows)
    for column in table.columns[2:]:
        table[column] = table[column].astype("Float64")
    return table
