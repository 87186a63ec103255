"""Nightly-size fuzz of the bundled product files (issue 15): ≥ 10,000 hostile cases, counted.

The same mutations as ``tests/test_fuzz_bundled.py`` (``tests/fuzz_support.py``: a numeric key
replaced by a hostile value — wrong type, NaN/inf, extremes, a huge or vanishing number, a
distribution, a CNY amount —, an unknown key, a hostile section, two hostile values; and one case
in four distributions on two keys one rule binds, or on two numbers of a product), each loaded,
checked as ``tcpmf validate`` checks it and evaluated in this process with warnings as errors, a
case with distributions also run for 8 Monte Carlo draws; then a sample of them written as YAML
files and run through ``tcpmf validate`` and ``tcpmf breakeven``.  Printed: the count of each
outcome — finite results, refusals naming their key, and what falls short of the standard:
tracebacks, key-less refusals, warnings, NaN and infinite outputs, and "late" refusals (drawn
inputs validation accepted and the run refused) — with an example of each, and the cases per
second.  The exit code is 1 when anything fell short.

    python benchmarks/bench_fuzz.py [--cases 10000] [--cli-cases 500] [--seed 15]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's tcpmf, whichever is installed
sys.path.insert(0, str(ROOT / "tests"))  # the test suite's mutation strategies


def run(cases: int, seed: int, judge: Any) -> tuple[Counter[str], dict[str, str], float]:
    """Draw *cases* mutations with hypothesis (generation only, reproducible from *seed*) and count
    ``judge(index, name, overrides)``'s outcomes; returns the counts, one example of each bad
    outcome, and the seconds taken."""
    from fuzz_support import BAD, all_mutations, describe
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed

    counts: Counter[str] = Counter()
    examples: dict[str, str] = {}

    @hypothesis_seed(seed)
    @settings(
        max_examples=cases,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=all_mutations())
    def one(case: tuple[str, dict[str, Any]]) -> None:
        outcome, detail = judge(sum(counts.values()), *case)
        counts[outcome] += 1
        if outcome in BAD and outcome not in examples:
            examples[outcome] = f"{describe(case, 300)} -> {detail[:300]}"

    start = time.perf_counter()
    one()
    return counts, examples, time.perf_counter() - start


def report(title: str, counts: Counter[str], examples: dict[str, str], seconds: float) -> int:
    from fuzz_support import BAD, GOOD

    total = sum(counts.values())
    print(f"\n{title}: {total:,} cases in {seconds:.0f} s ({total / seconds:.0f} per second)")
    for outcome in (*GOOD, *BAD):
        print(f"  {outcome:<10} {counts.get(outcome, 0):>7,}")
    for outcome, example in examples.items():
        print(f"  first {outcome}: {example}")
    return sum(counts.get(outcome, 0) for outcome in BAD)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--cases", type=int, default=10_000, help="in-process cases (load and evaluate)"
    )
    parser.add_argument(
        "--cli-cases", type=int, default=500, help="cases written as files and run at the CLI"
    )
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()

    from fuzz_support import classify, cli_outcome, write_case

    bad = report(
        "in process (override + evaluate)",
        *run(args.cases, args.seed, lambda i, name, overrides: classify(name, overrides)),
    )
    with tempfile.TemporaryDirectory() as folder:
        for command in ("validate", "breakeven"):

            def at_cli(
                i: int, name: str, overrides: dict[str, Any], command: str = command
            ) -> tuple[str, str]:
                return cli_outcome(command, write_case(Path(folder), i, name, overrides))

            bad += report(f"tcpmf {command} FILE", *run(args.cli_cases, args.seed + 1, at_cli))
    print(f"\nshort of the standard: {bad:,}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
