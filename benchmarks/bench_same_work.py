"""Benchmark: tcpmf against a hand-written numpy kernel on the same work, in one process.

The work is the 14-input reference cohort model of the shared ``bench`` folder (plateau
retention, API token cost with an annual decline, subscription revenue, CAC, fixed cost;
36 months): its ``hand_kernel.py`` holds the hand-written numpy kernel (``vector_model``), what
an expert writes by hand and the practical limit for numpy, and its ``same_work.yaml`` the same
model as a tcpmf portfolio.  Printed:

* the hand kernel's draws per second (draws and evaluation, as its own ``run_vector`` does);
* ``tcpmf.monte_carlo`` on the portfolio, in this process, and the ratio of the two: the median
  of ``--repeats`` rounds, kernel then ``monte_carlo`` back to back in each;
* ``tcpmf run`` to Parquet, serial and with the ``processes`` executor, each in a fresh
  interpreter right after the kernel's own command line on as many draws (``--repeats`` rounds),
  with its draws per second, median ratio to those kernel runs and peak resident memory across
  processes (the run's interpreter and its workers, sampled);
* with ``--big``, ``tcpmf run`` of 10^7 draws with the ``processes`` executor and its peak memory
  across processes, which the chunk size bounds (not run by default: a minute or more).

The two are compared in one run because the rates depend on the machine and its load.

    python benchmarks/bench_same_work.py --bench-dir PATH/TO/shared/bench [--draws 1000000] [--big]

The bench folder is found from ``--bench-dir``, else the ``TCPMF_SAME_WORK_BENCH`` environment
variable, else a ``shared/bench`` folder beside this checkout or one of its parents.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
ENV_VAR = "TCPMF_SAME_WORK_BENCH"
sys.path.insert(0, str(ROOT))  # this checkout's tcpmf, whichever is installed


def find_bench_dir(given: str | None) -> Path:
    """The folder holding ``hand_kernel.py`` and ``same_work.yaml``, or exit with what to do."""
    candidates: list[Path] = []
    if given:
        candidates.append(Path(given))
    elif os.environ.get(ENV_VAR):
        candidates.append(Path(os.environ[ENV_VAR]))
    else:
        candidates += [parent / "shared" / "bench" for parent in ROOT.parents]
    for folder in candidates:
        if (folder / "hand_kernel.py").is_file() and (folder / "same_work.yaml").is_file():
            return folder.resolve()
    where = ", ".join(str(c) for c in candidates[:3]) + (" ..." if len(candidates) > 3 else "")
    sys.exit(
        f"bench_same_work: no hand_kernel.py and same_work.yaml found (looked in {where}).\n"
        f"Pass --bench-dir to the shared bench folder, or set {ENV_VAR} to it."
    )


def load_kernel(folder: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("hand_kernel", folder / "hand_kernel.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_portfolio(folder: Path, target: Path) -> Path:
    """``same_work.yaml`` with ``PRODUCTIVITY`` replaced by the bundled category file's path."""
    from tcpmf.core.yamlio import assumptions_dir

    category = (assumptions_dir() / "categories" / "productivity.yaml").resolve()
    text = (folder / "same_work.yaml").read_text().replace("PRODUCTIVITY", str(category))
    path = target / "same_work.yaml"
    path.write_text(text)
    return path


def best_of(repeats: int, work: Callable[[], object]) -> float:
    """Smallest wall time of *repeats* calls (the machine is shared: the least disturbed run)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def cli_run(
    portfolio: Path,
    draws: int,
    seed: int,
    out: Path,
    executor: str,
    workers: int,
    chunk: int | None,
) -> tuple[float, float]:
    """Seconds and peak resident MiB of ``tcpmf run`` in a fresh interpreter.

    The peak is across processes: the largest sum of the resident sets of the run's interpreter
    and all its children (the workers), sampled every 10 ms (pages a forked worker shares with the
    parent count twice: an upper bound).  It is never below the largest single process's own peak.
    """
    import psutil  # with dask[distributed] (the batch extra)

    code = (
        "import resource, sys, time\n"
        "from tcpmf.cli.main import app\n"
        "start = time.perf_counter()\n"
        "try:\n"
        "    app(sys.argv[1:], standalone_mode=False)\n"
        "finally:\n"
        "    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "    print(f'BENCH {time.perf_counter() - start} {own} {kids}')\n"
    )
    args = [
        "run",
        str(portfolio),
        "-n",
        str(draws),
        "-o",
        str(out),
        "--seed",
        str(seed),
        "--executor",
        executor,
    ]
    if executor == "processes":
        args += ["--workers", str(workers)]
    if chunk:
        args += ["--chunk-size", str(chunk)]
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        child = subprocess.Popen(
            [sys.executable, "-c", code, *args], cwd=ROOT, stdout=stdout, stderr=stderr, text=True
        )
        process, peak_bytes = psutil.Process(child.pid), 0
        while child.poll() is None:
            with suppress(psutil.Error):
                tree = [process, *process.children(recursive=True)]
                total = 0
                for p in tree:
                    with suppress(psutil.Error):
                        total += p.memory_info().rss
                peak_bytes = max(peak_bytes, total)
            time.sleep(0.01)
        stdout.seek(0)
        stderr.seek(0)
        output, errors = stdout.read(), stderr.read()
    line = [x for x in output.splitlines() if x.startswith("BENCH ")]
    if child.returncode != 0 or not line:
        sys.exit(f"tcpmf run failed:\n{output}\n{errors}")
    seconds, own, kids = line[-1].split()[1:]
    largest = max(int(own), int(kids)) / 1024  # Linux reports KiB
    return float(seconds), max(peak_bytes / 2**20, largest)


def kernel_seconds(folder: Path, draws: int) -> float:
    """Seconds of the hand kernel's own command line (draws and evaluation) in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, str(folder / "hand_kernel.py"), "vector", str(draws)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout.split("seconds=")[1].split()[0])


def paired(
    repeats: int, kernel: Callable[[], object], tcpmf: Callable[[], object]
) -> list[tuple[float, float]]:
    """``(kernel seconds, tcpmf seconds)`` of *repeats* rounds, the two run back to back in each
    (the machine is shared: a ratio of neighbours in time is steadier than one of two bests)."""
    rounds = []
    for _ in range(repeats):
        rounds.append((best_of(1, kernel), best_of(1, tcpmf)))
    return rounds


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--bench-dir",
        help=f"the shared bench folder (else ${ENV_VAR}, else shared/bench beside the checkout)",
    )
    parser.add_argument("--draws", type=float, default=1e6, help="draws (default 1e6)")
    parser.add_argument(
        "--run-draws", type=float, default=None, help="draws for tcpmf run (default: --draws)"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--chunk-size", type=int, default=None, help="tcpmf chunk size (default: tcpmf's)"
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="rounds of kernel then monte_carlo in this process (median ratio)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-run", action="store_true", help="skip tcpmf run to Parquet")
    parser.add_argument(
        "--big",
        action="store_true",
        help="also tcpmf run of --big-draws with the processes executor: its peak memory across "
        "processes (bounded by the chunk size, not the draws; takes a minute or more)",
    )
    parser.add_argument("--big-draws", type=float, default=1e7, help="draws of --big (default 1e7)")
    args = parser.parse_args()

    folder = find_bench_dir(args.bench_dir)
    n = int(args.draws)
    m = int(args.run_draws or n)
    with tempfile.TemporaryDirectory() as tmp:
        path = write_portfolio(folder, Path(tmp))
        # tcpmf run first, each in a fresh interpreter started while this one is still small (Linux
        # carries a parent's peak resident set into a forked child's count), each after the
        # kernel's own command line on as many draws, for a ratio of neighbours in time.
        runs = []
        for executor in () if args.no_run else ("serial", "processes"):
            run_rounds = []
            for i in range(args.repeats):
                before = kernel_seconds(folder, m)
                out = Path(tmp) / f"{executor}{i}"
                seconds, peak = cli_run(
                    path, m, args.seed, out, executor, args.workers, args.chunk_size
                )
                shutil.rmtree(out)
                run_rounds.append((before, seconds, peak))
            ratios = [k / t for k, t, _ in run_rounds]
            runs.append(
                (
                    executor,
                    m,
                    median([t for _, t, _ in run_rounds]),
                    max(p for _, _, p in run_rounds),
                    ratios,
                )
            )
        if args.big:
            big = int(args.big_draws)
            seconds, peak = cli_run(
                path, big, args.seed, Path(tmp) / "big", "processes", args.workers, args.chunk_size
            )
            runs.append(("processes", big, seconds, peak, []))
            shutil.rmtree(Path(tmp) / "big")

        kernel = load_kernel(folder)
        import tcpmf
        from tcpmf.uncertainty.batch import DEFAULT_CHUNK_SIZE

        chunk = args.chunk_size or DEFAULT_CHUNK_SIZE
        portfolio = tcpmf.load_portfolio(path)
        tcpmf.monte_carlo(
            portfolio, n=min(n, 2_000), seed=args.seed, chunk_size=chunk
        )  # imports, caches
        kernel.run_vector(min(n, 2_000))
        rounds = paired(
            args.repeats,
            lambda: kernel.run_vector(n),
            lambda: tcpmf.monte_carlo(portfolio, n=n, seed=args.seed, chunk_size=chunk),
        )
        own_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t_kernel = median([k for k, _ in rounds])
    t_tcpmf = median([t for _, t in rounds])
    ratios = [k / t for k, t in rounds]
    k_rate, t_rate = n / t_kernel, n / t_tcpmf
    print(
        f"same work: {folder.name}/same_work.yaml, {n:,} draws x 36 months, chunks of {chunk:,}, "
        f"median of {args.repeats} rounds"
    )
    print(f"hand kernel (numpy)       : {k_rate:12,.0f} draws/s  ({t_kernel:.3f} s)")
    print(f"tcpmf.monte_carlo         : {t_rate:12,.0f} draws/s  ({t_tcpmf:.3f} s)")
    print(
        f"ratio monte_carlo / kernel: {median(ratios):.2f}x  (target >= 1.0; rounds: "
        + ", ".join(f"{r:.2f}" for r in ratios)
        + ")"
    )
    print(
        f"peak memory of this process (kernel and monte_carlo, all draws in memory): {own_peak:,.0f} MiB"
    )
    for executor, draws, seconds, peak, run_ratios in runs:
        label = f"tcpmf run {executor}" + (f" ({args.workers})" if executor == "processes" else "")
        versus = (
            f"{median(run_ratios):.2f}x the kernel's own command line run just before it, median of "
            + ", ".join(f"{r:.2f}" for r in run_ratios)
            if run_ratios
            else f"{draws / seconds / k_rate:.2f}x kernel in this process"
        )
        print(
            f"{label:26s}: {draws / seconds:12,.0f} draws/s  ({draws:,} draws to Parquet in {seconds:.2f} s, "
            f"{versus}; peak across processes {peak:,.0f} MiB)"
        )


if __name__ == "__main__":
    main()
