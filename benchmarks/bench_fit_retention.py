"""Benchmark: fitting retention curves to 10^4, 10^5 and 10^6 cohorts (issue 15, item 6).

An operator's cohort table can have one row per signup day over years × segments.  For each
size this writes a synthetic table (each cohort observed at ages 0, 1 and 2, its members drawn
from a shifted-beta-geometric curve), then, each in a fresh interpreter:

* the baseline: ``pandas.read_csv`` of the same file (the least any fit has to do);
* ``tcpmf.fit_retention`` of the file (reading, checking and fitting all three curves).

Printed: wall time and peak resident memory of both, and the ratio of the fit's time to the
baseline's (the two are measured in the same run because times depend on the machine and its
load).  The target is 10^6 cohorts in under 30 s and 1 GB.

``--by-cohort`` also fits every cohort on its own (``fit_retention(..., by_cohort=True)``: all
cohorts observed at the same ages at once, :mod:`tcpmf.analysis.cohort_fits`), and prints, at a
size where it finishes (``--old-cohorts``, default 100 cohorts), the ratio of its time per cohort
to the old path's, one optimiser run per cohort and curve
(``tcpmf.analysis.retention_fit.fit_cohorts_one_by_one``), both measured in this run.  The same
target holds for 10^6 cohorts fitted by cohort.

    python benchmarks/bench_fit_retention.py [--sizes 10000 100000 1000000] [--ages 3] [--by-cohort]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's tcpmf, whichever is installed

TARGET_COHORTS = 1_000_000
TARGET_SECONDS = 30.0
TARGET_MB = 1024.0

# Run in a fresh interpreter: argv[1] is the CSV, argv[2] "fit" or "read"; prints seconds and peak MB.
CHILD = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[3])
import pandas as pd
import tcpmf
from tcpmf.analysis import retention_fit  # import before timing: only the work is timed
t0 = time.perf_counter()
if sys.argv[2] in ("fit", "by-cohort"):
    fit = tcpmf.fit_retention(sys.argv[1], by_cohort=sys.argv[2] == "by-cohort")
    best = fit.best().curve
else:
    best = str(len(pd.read_csv(sys.argv[1])))
seconds = time.perf_counter() - t0
try:  # VmHWM starts afresh at exec; ru_maxrss can keep the forking parent's size
    status = open("/proc/self/status").read().split("VmHWM:")[1]
    peak_mb = int(status.split()[0]) / 1024
except (OSError, IndexError):
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "best": best}))
"""


def write_table(path: Path, cohorts: int, ages: int, seed: int = 15) -> int:
    """A long cohort table of *cohorts* cohorts seen at ages 0 … ages − 1; returns its rows."""
    from tcpmf.formulas.retention import sbg

    rng = np.random.default_rng(seed)
    survival = sbg(np.array([0.7]), np.array([1.2]), ages)[:, 0]
    active = np.empty((cohorts, ages), dtype=np.int64)
    active[:, 0] = rng.integers(100, 5_000, cohorts)
    for age in range(1, ages):
        active[:, age] = rng.binomial(active[:, age - 1], survival[age] / survival[age - 1])
    labels = np.char.add("d", np.arange(cohorts).astype(str))
    frame = pd.DataFrame(
        {
            "cohort": np.repeat(labels, ages),
            "age_months": np.tile(np.arange(ages), cohorts),
            "active_users": active.ravel(),
        }
    )
    frame.to_csv(path, index=False)
    return len(frame)


# The old path and the new on the same small table, in one fresh interpreter: seconds of each.
COMPARE = """
import json, sys, time
sys.path.insert(0, sys.argv[2])
from tcpmf.analysis.cohort_fits import fit_each_cohort
from tcpmf.analysis.retention_fit import FIT_CURVES, fit_cohorts_one_by_one, read_cohorts
table = read_cohorts(sys.argv[1])
weights = table.groupby("cohort", sort=False)["active_users"].first().to_numpy(float)
t0 = time.perf_counter()
fit_cohorts_one_by_one(table, weights, FIT_CURVES, True)
t1 = time.perf_counter()
fit_each_cohort(table, weights, FIT_CURVES, True)
t2 = time.perf_counter()
print(json.dumps({"old": t1 - t0, "new": t2 - t1}))
"""


def compare_paths(folder: Path, cohorts: int, ages: int) -> dict[str, float]:
    """Seconds of the old per-cohort path and of the vectorized one on *cohorts* cohorts."""
    path = folder / f"compare_{cohorts}.csv"
    write_table(path, cohorts, ages)
    out = subprocess.run(
        [sys.executable, "-c", COMPARE, str(path), str(ROOT)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def measure(path: Path, what: str) -> dict[str, float | str]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), what, str(ROOT)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float | str] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument(
        "--ages", type=int, default=3, help="ages observed per cohort (0 … ages − 1)"
    )
    parser.add_argument(
        "--by-cohort",
        action="store_true",
        help="also time fit_retention(..., by_cohort=True) and compare it with one fit per cohort",
    )
    parser.add_argument(
        "--old-cohorts",
        type=int,
        default=100,
        help="cohorts of the comparison with the old one-fit-per-cohort path",
    )
    args = parser.parse_args()
    if args.by_cohort:
        by_cohort(args)
        return
    print(
        f"{'cohorts':>9} {'rows':>9} {'read s':>7} {'read MB':>8} {'fit s':>7} {'fit MB':>7} "
        f"{'fit/read':>8}  best"
    )
    verdict = []
    with tempfile.TemporaryDirectory() as folder:
        for cohorts in args.sizes:
            path = Path(folder) / f"cohorts_{cohorts}.csv"
            rows = write_table(path, cohorts, args.ages)
            read, fit = measure(path, "read"), measure(path, "fit")
            ratio = float(fit["seconds"]) / float(read["seconds"])
            print(
                f"{cohorts:>9} {rows:>9} {read['seconds']:>7.2f} {read['peak_mb']:>8.0f} "
                f"{fit['seconds']:>7.2f} {fit['peak_mb']:>7.0f} {ratio:>8.1f}  {fit['best']}"
            )
            if cohorts == TARGET_COHORTS:
                ok = float(fit["seconds"]) < TARGET_SECONDS and float(fit["peak_mb"]) < TARGET_MB
                verdict.append(
                    f"10^6 cohorts: {fit['seconds']:.1f} s, {fit['peak_mb']:.0f} MB "
                    f"(target < {TARGET_SECONDS:g} s and < {TARGET_MB:g} MB): "
                    f"{'met' if ok else 'NOT met'}"
                )
    for line in verdict:
        print(line)


def by_cohort(args: argparse.Namespace) -> None:
    """Time the fit by cohort at each size, and the old path against the new at a small one."""
    with tempfile.TemporaryDirectory() as folder:
        both = compare_paths(Path(folder), args.old_cohorts, args.ages)
        old_each, new_each = both["old"] / args.old_cohorts, both["new"] / args.old_cohorts
        print(
            f"{args.old_cohorts} cohorts, 3 curves each: one optimiser run per cohort "
            f"{both['old']:.2f} s ({old_each * 1e3:.0f} ms a cohort), all at once "
            f"{both['new']:.3f} s: {old_each / new_each:.0f}x faster"
        )
        print(
            f"{'cohorts':>9} {'rows':>9} {'pooled s':>8} {'pooled MB':>9} {'by-cohort s':>11} "
            f"{'by-cohort MB':>12} {'ms/cohort':>9} {'old path s (est.)':>17} {'x faster':>8}"
        )
        verdict = []
        for cohorts in args.sizes:
            path = Path(folder) / f"cohorts_{cohorts}.csv"
            rows = write_table(path, cohorts, args.ages)
            pooled, each = measure(path, "fit"), measure(path, "by-cohort")
            seconds = float(each["seconds"])
            per_cohort = seconds / cohorts  # reading, checking, the pooled fits included
            old = old_each * cohorts  # the old path is linear in the cohorts: extrapolated
            print(
                f"{cohorts:>9} {rows:>9} {pooled['seconds']:>8.2f} {pooled['peak_mb']:>9.0f} "
                f"{seconds:>11.2f} {each['peak_mb']:>12.0f} {per_cohort * 1e3:>9.3f} "
                f"{old:>17.0f} {old / max(seconds, 1e-9):>8.0f}"
            )
            if cohorts == TARGET_COHORTS:
                ok = seconds < TARGET_SECONDS and float(each["peak_mb"]) < TARGET_MB
                verdict.append(
                    f"10^6 cohorts by cohort: {seconds:.1f} s, {each['peak_mb']:.0f} MB "
                    f"(target < {TARGET_SECONDS:g} s and < {TARGET_MB:g} MB): "
                    f"{'met' if ok else 'NOT met'}"
                )
    for line in verdict:
        print(line)


if __name__ == "__main__":
    main()
