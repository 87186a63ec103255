"""Benchmark: what one slider move costs in the founder app (budget: 50 ms for one scenario).

Times, in one process, the steps of ``FounderApp.update`` for a bundled product: recompute
(override, columns, engine), the new chart spec of each view, the levers, and the whole update
with its widget messages.  Each is printed in milliseconds, as a share of the 50 ms budget and as
a ratio to a baseline measured in the same run (one bare engine pass on one scenario), so the
ratios do not depend on the machine.  Nothing is asserted.

    .venv/bin/python benchmarks/bench_ui.py [--product writing_assistant] [--repeat 30]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import tcpmf
from tcpmf.app.widgets import FounderApp
from tcpmf.core.yamlio import assumptions_dir
from tcpmf.model.engine import evaluate_arrays
from tcpmf.outputs import charts

BUDGET_MS = 50.0


def median_ms(run: Callable[[], object], repeat: int) -> float:
    run()  # warm caches
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--product", default="writing_assistant")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    app = FounderApp(assumptions_dir() / "products" / f"{args.product}.yaml")
    price = (
        app.sliders["price_usd_per_month"]
        if "price_usd_per_month" in app.sliders
        else app.sliders["sessions_per_day"]
    )
    values = [price.value, price.value + price.step]
    state = {"i": 0}

    def move() -> None:
        state["i"] += 1
        price.value = values[state["i"] % 2]

    result = app.recompute()
    specs = app.chart_specs(result)
    baseline = median_ms(lambda: evaluate_arrays(result.arrays), args.repeat)

    def recompute_and_cash() -> None:
        charts.cash_curve(app.recompute(), width=760, height=220).to_dict(validate=False)

    def recompute_and_views() -> None:
        r = app.recompute()
        for chart in app.chart_specs(r).values():
            chart.to_dict(validate=False)

    from tcpmf.analysis.levers import what_it_takes

    rows = [
        ("baseline: one engine pass, N = 1", lambda: evaluate_arrays(result.arrays)),
        ("recompute (override + columns + engine)", app.recompute),
        ("  + cash chart spec", recompute_and_cash),
        ("  + all three chart specs", recompute_and_views),
        ("levers (what_it_takes)", lambda: what_it_takes(app.scenario, arrays=result.arrays)),
        ("tcpmf.evaluate, one scenario (aim < 1 ms)", lambda: tcpmf.evaluate(app.scenario)),
        (
            "frontier grid 41 x 41, one call (aim < 20 ms)",
            lambda: charts.breakeven_frontier(app.scenario),
        ),
        ("whole slider move (FounderApp.update)", move),
    ]
    for name, chart in specs.items():
        rows.insert(-2, (f"    {name} view spec alone", lambda c=chart: c.to_dict(validate=False)))
    print(
        f"{args.product}: median of {args.repeat} runs; budget {BUDGET_MS:.0f} ms for recompute + chart spec"
    )
    print(f"{'step':<44}{'ms':>9}{'of budget':>11}{'x baseline':>12}")
    for label, run in rows:
        ms = baseline if label.startswith("baseline") else median_ms(run, args.repeat)
        print(f"{label:<44}{ms:9.2f}{ms / BUDGET_MS:10.0%}{ms / baseline:12.1f}")


if __name__ == "__main__":
    main()
