"""Small portfolios and helpers shared by the tests of batch runs to disk (tcpmf run / report).

Portfolios are written to a test's tmp_path and point at the bundled product files by the path
this checkout has at test time, so no machine's path is ever committed.
"""

from __future__ import annotations

import copy
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from tcpmf.core.yamlio import assumptions_dir

PRODUCTS = assumptions_dir() / "products"

#: Two products with different uncertain keys: a choice of model names (a string input column),
#: a rank correlation, and keys the other product does not draw (filled with its nominal value).
TWO_PRODUCTS: dict[str, Any] = {
    "name": "Two products",
    "sampling": "lhs",
    "products": [
        {
            "name": "Writer",
            "scenario": "writing_assistant.yaml",
            "uncertain": {
                "usage.sessions_per_day": {"dist": "lognormal", "p05": 0.8, "p95": 3.0},
                "revenue.subscription.paid_share": {"dist": "beta", "mean": 0.035, "sd": 0.015},
                "model.name": {
                    "dist": "choice",
                    "options": ["gpt-4o", "gpt-4.1-mini"],
                    "weights": [0.6, 0.4],
                },
            },
            "correlations": [["usage.sessions_per_day", "revenue.subscription.paid_share", 0.4]],
        },
        {
            "name": "Answers",
            "scenario": "answer_engine.yaml",
            "uncertain": {
                "revenue.ads.rpm_usd": {"dist": "triangular", "low": 5, "mode": 16.1, "high": 60},
                "retention.r1": {"dist": "uniform", "low": 0.08, "high": 0.25},
            },
        },
    ],
}


def portfolio_data(**changes: Any) -> dict[str, Any]:
    """A fresh copy of :data:`TWO_PRODUCTS` with top-level keys replaced by *changes*."""
    data = copy.deepcopy(TWO_PRODUCTS)
    data.update(changes)
    return data


def write_portfolio(
    path: Path, data: dict[str, Any] | None = None, products_dir: Path = PRODUCTS
) -> Path:
    """Write *data* (default :data:`TWO_PRODUCTS`) to *path*, scenario names resolved in *products_dir*."""
    data = copy.deepcopy(TWO_PRODUCTS if data is None else data)
    for product in data["products"]:
        if isinstance(product["scenario"], str):
            product["scenario"] = str(products_dir / product["scenario"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def chunk_names(out: Path) -> list[str]:
    """The finished chunk files of the run in *out* (what a reader may read), sorted."""
    return sorted(
        p.name
        for p in (out / "chunks").iterdir()
        if p.suffix == ".parquet" and not p.name.startswith(".")
    )


def temporaries(out: Path) -> list[Path]:
    """Leftover temporary files in *out* and its chunks folder."""
    folders = [out, out / "chunks"]
    return sorted(p for f in folders if f.is_dir() for p in f.iterdir() if p.name.endswith(".tmp"))


def snapshot(out: Path) -> dict[str, bytes]:
    """Every file under *out* (relative name → bytes), to show a refused command changed nothing."""
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def wait_until(
    condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.002
) -> None:
    """Poll *condition* until it holds; fail the test after *timeout* seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def tcpmf_command(*args: str | Path | int | float) -> list[str]:
    """``python -m tcpmf ARGS`` with this interpreter."""
    return [sys.executable, "-m", "tcpmf", *(str(a) for a in args)]


def child_env() -> dict[str, str]:
    """The environment of a ``tcpmf`` subprocess: no colours, a wide console, no stray coverage."""
    env = dict(os.environ)
    env.update({"NO_COLOR": "1", "COLUMNS": "200", "TERM": "dumb"})
    return env


def lower_priority(pid: int) -> None:
    """Nice a child process, so the test polling it stays responsive on a busy machine (and
    catches the run midway)."""
    os.setpriority(os.PRIO_PROCESS, pid, 10)
