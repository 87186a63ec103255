"""What the ``>>>`` examples of the package's docstrings run with (``pytest --doctest-modules``).

Every example runs in a fresh temporary folder that holds a link to this checkout's
``assumptions/``, so the paths the docs show (``assumptions/products/…``) resolve and the files an
example writes (``out.xlsx``, ``runs/…``) land nowhere near the checkout.  The names below are
there without an import: ``tcpmf``, ``np``, ``pd``, a scenario ``s`` (the writing assistant), its
``result``, a ``product`` of the bundled portfolio, and ``draws`` (a small Monte Carlo run of that
portfolio), built once per test session.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent


@functools.cache
def _shared() -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    import tcpmf

    portfolio = ROOT / "assumptions" / "portfolios" / "consumer_stages.yaml"
    s = tcpmf.load(ROOT / "assumptions" / "products" / "writing_assistant.yaml")
    return {
        "tcpmf": tcpmf,
        "np": np,
        "pd": pd,
        "s": s,
        "result": tcpmf.evaluate(s),
        "product": tcpmf.load_portfolio(portfolio).products[0],
        "draws": tcpmf.monte_carlo(portfolio, 400, seed=1),
    }


@pytest.fixture(autouse=True)
def _doctest_setting(request: pytest.FixtureRequest) -> Any:
    if not isinstance(request.node, pytest.DoctestItem):  # the tests of tests/ set up their own
        yield
        return
    request.getfixturevalue("doctest_namespace").update(_shared())
    tmp_path: Path = request.getfixturevalue("tmp_path")
    (tmp_path / "assumptions").symlink_to(ROOT / "assumptions", target_is_directory=True)
    before = Path.cwd()
    os.chdir(tmp_path)
    try:
        yield
    finally:
        os.chdir(before)
