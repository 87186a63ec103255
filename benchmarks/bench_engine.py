"""Benchmark: scenarios per second of the vectorized engine against the scalar reference.

Both run in the same process on the same random scenarios (perturbations of the bundled
categories and products, 36 months), so the printed ratio does not depend on the machine.

    .venv/bin/python benchmarks/bench_engine.py [--scenarios 100000] [--reference 300]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import fields, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from reference import reference_evaluate

import tcpmf
from tcpmf.core.yamlio import assumptions_dir
from tcpmf.model.arrays import ScenarioArrays, from_scenarios
from tcpmf.model.engine import Result, evaluate_arrays

# Inputs perturbed by a random factor in [0.5, 2] (shares are clipped to their range).
PERTURBED = {
    "usage.sessions_per_day": None,
    "usage.input_tokens_per_call": None,
    "usage.output_tokens_per_call": None,
    "model.annual_cost_decline": None,
    "growth.organic_new_users_per_month": None,
    "costs.fixed_usd_per_month": None,
    "usage.dau_per_mau": 1.0,
}


def random_scenarios(count: int, seed: int) -> list[tcpmf.Scenario]:
    """*count* valid scenarios around the bundled ones, with explicit 36-month horizons."""
    rng = np.random.default_rng(seed)
    base_dir = assumptions_dir()
    files = sorted((base_dir / "categories").glob("*.yaml")) + sorted(
        (base_dir / "products").glob("*.yaml")
    )
    # the consumer engine: scenarios with usage and retention (deal-based ToB runs elsewhere)
    bases = [
        s
        for s in map(tcpmf.load, files)
        if getattr(s, "deal", None) is None and s.usage is not None
    ]
    out = []
    for i in range(count):
        base = bases[i % len(bases)]
        changes: dict[str, object] = {"horizon_months": 36, "name": f"s{i}"}
        for key, cap in PERTURBED.items():
            section, field = key.split(".")
            value = getattr(getattr(base, section), field)
            new = value * float(rng.uniform(0.5, 2.0))
            changes[key] = min(new, cap) if cap is not None else new
        out.append(base.override(changes))
    return out


def tile(arrays: ScenarioArrays, size: int) -> ScenarioArrays:
    """Repeat the columns of *arrays* until they hold *size* scenarios."""
    reps = -(-size // arrays.size)
    columns = {}
    for f in fields(ScenarioArrays):
        value = getattr(arrays, f.name)
        if value is None:  # an optional column no scenario uses
            continue
        if f.name == "names":
            columns[f.name] = [f"{n}#{k}" for k in range(reps) for n in value][:size]
        elif np.ndim(value) == 2:  # (T, N) columns
            columns[f.name] = np.tile(value, (1, reps))[:, :size]
        else:
            columns[f.name] = np.tile(value, reps)[:size]
    return replace(arrays, **columns)


def best_of(repeats: int, func, *args):  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        value = func(*args)
        best = min(best, time.perf_counter() - start)
    return best, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=int, default=100_000)
    parser.add_argument(
        "--reference", type=int, default=300, help="scenarios run through the scalar reference"
    )
    parser.add_argument("--seed", type=int, default=20240501)
    args = parser.parse_args()

    sample = random_scenarios(args.reference, args.seed)
    arrays = tile(from_scenarios(sample), args.scenarios)

    ref_time, _ = best_of(1, lambda: [reference_evaluate(s) for s in sample])
    engine_time, computed = best_of(3, evaluate_arrays, arrays)
    frames_time, _ = best_of(1, lambda: Result(arrays=arrays, computed=computed).summary)
    monthly_time, _ = best_of(1, lambda: Result(arrays=arrays, computed=computed).monthly)

    ref_rate = args.reference / ref_time
    engine_rate = args.scenarios / engine_time
    with_summary = args.scenarios / (engine_time + frames_time)
    print(
        f"scalar reference : {ref_rate:12,.0f} scenarios/s  ({args.reference} scenarios x 36 months)"
    )
    print(
        f"vectorized engine: {engine_rate:12,.0f} scenarios/s  ({args.scenarios:,} scenarios x 36 months)"
    )
    print(f"  + summary frame: {with_summary:12,.0f} scenarios/s")
    print(f"  monthly frame  : {args.scenarios * 36 / monthly_time:12,.0f} rows/s")
    print(
        f"ratio engine / reference: {engine_rate / ref_rate:,.0f}x  (with summary frame {with_summary / ref_rate:,.0f}x)"
    )


if __name__ == "__main__":
    main()
