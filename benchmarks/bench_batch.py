"""Benchmark: Monte Carlo draws per second and peak memory of a batch run.

Runs the bundled example portfolio (horizons set to 36 months) three ways in the same process
tree, so the printed ratios do not depend on the machine:

* the scalar reference (``tests/reference.py``) on a subset of the draws, one scenario at a time;
* the vectorized engine in this process (``tcpmf.uncertainty.batch.product_chunk``, chunk by chunk);
* ``tcpmf.uncertainty.runner.run`` with the ``processes`` executor (draws, engine, Parquet files).

    .venv/bin/python benchmarks/bench_batch.py [--draws 1000000] [--workers 2] [--reference 200]

Peak memory is the largest resident set of this process and of any worker process
(``getrusage``), so it includes the interpreter and the libraries (about 200 MB).
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from reference import reference_evaluate

from tcpmf.core.yamlio import assumptions_dir
from tcpmf.uncertainty.batch import DEFAULT_CHUNK_SIZE, chunk_bounds, iter_chunks, product_chunk
from tcpmf.uncertainty.portfolio import Portfolio, load_portfolio

MONTHS = 36


def portfolio_36_months() -> Portfolio:
    p = load_portfolio(assumptions_dir() / "portfolios" / "consumer_stages.yaml")
    products = tuple(
        dataclasses.replace(x, scenario=x.scenario.override({"horizon_months": MONTHS}))
        for x in p.products
    )
    return dataclasses.replace(p, products=products)


def peak_rss_mib() -> tuple[float, float]:
    """Peak resident set of this process and of its largest child, in MiB (Linux reports KiB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def reference_rate(portfolio: Portfolio, count: int, seed: int) -> float:
    """Draws per second of the scalar reference: a validated scenario per draw, evaluated alone."""
    per_product = max(1, count // len(portfolio.products))
    draws = [
        (p, product_chunk(portfolio, i, 0, per_product, seed, per_product))
        for i, p in enumerate(portfolio.products)
    ]
    start = time.perf_counter()
    done = 0
    for product, frame in draws:
        keys = list(product.uncertainties)
        for row in frame[keys].to_dict("records"):
            values = {k: (v if isinstance(v, str) else float(v)) for k, v in row.items()}
            reference_evaluate(product.scenario.override(values))
            done += 1
    return done / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--draws", type=int, default=1_000_000, help="draws in all (split over the products)"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE)
    parser.add_argument(
        "--reference", type=int, default=200, help="draws run through the scalar reference"
    )
    parser.add_argument("--seed", type=int, default=20251125)
    args = parser.parse_args()

    portfolio = portfolio_36_months()
    per_product = args.draws // len(portfolio.products)
    total = per_product * len(portfolio.products)
    product_chunk(
        portfolio, 0, 0, args.chunk_size, args.seed, args.chunk_size
    )  # warm caches and imports

    ref = reference_rate(portfolio, args.reference, args.seed)

    # in this process: one chunk after another, nothing kept
    serial_draws = min(total, 250_000)
    serial_each = serial_draws // len(portfolio.products)
    start = time.perf_counter()
    for product, chunk in iter_chunks(portfolio, serial_each, args.chunk_size):
        product_chunk(portfolio, product, chunk, serial_each, args.seed, args.chunk_size)
    serial = serial_each * len(portfolio.products) / (time.perf_counter() - start)
    own_peak, _ = peak_rss_mib()

    from tcpmf.uncertainty.runner import run

    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        run(
            portfolio,
            per_product,
            args.seed,
            Path(folder) / "run",
            chunk_size=args.chunk_size,
            executor="processes",
            workers=args.workers,
        )
        elapsed = time.perf_counter() - start
        files = len(list((Path(folder) / "run").rglob("*.parquet")))
    parallel = total / elapsed
    main_peak, child_peak = peak_rss_mib()

    chunks = len(chunk_bounds(per_product, args.chunk_size)) * len(portfolio.products)
    print(
        f"portfolio: {len(portfolio.products)} products x {per_product:,} draws x {MONTHS} months, "
        f"chunks of {args.chunk_size:,} ({chunks} chunks, {files} Parquet files)"
    )
    print(f"scalar reference      : {ref:12,.0f} draws/s  ({args.reference} draws)")
    print(f"engine, this process  : {serial:12,.0f} draws/s  ({serial_draws:,} draws, not written)")
    print(
        f"tcpmf run, {args.workers} processes: {parallel:12,.0f} draws/s  ({total:,} draws to Parquet in {elapsed:.1f} s)"
    )
    print(f"ratio engine / reference   : {serial / ref:,.0f}x")
    print(f"ratio run / reference      : {parallel / ref:,.0f}x")
    print(f"ratio run / engine         : {parallel / serial:.2f}x  (target for 2 workers: near 2)")
    print(
        f"peak memory: this process {main_peak:,.0f} MiB (serial part {own_peak:,.0f} MiB), "
        f"largest worker {child_peak:,.0f} MiB; at most {main_peak + args.workers * child_peak:,.0f} MiB in all"
    )
    print(
        f"targets: >= 500,000 draws/s on 2 cores ({parallel / 500_000:.2f}x of it); "
        f"10^7 draws under 2 GiB peak (run with --draws 10000000)"
    )


if __name__ == "__main__":
    main()
