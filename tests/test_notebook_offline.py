"""Every notebook that draws charts renders them from the installed packages (no CDN): it calls
``enable_offline()`` in its first code cell, before any chart is made."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
DRAWS = ("chart", "alt.", "FounderApp", "TimelineView")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_charting_notebooks_enable_offline_rendering_first(path: Path) -> None:
    code = [
        "".join(c["source"])
        for c in json.loads(path.read_text(encoding="utf-8"))["cells"]
        if c["cell_type"] == "code"
    ]
    if not any(word in cell for cell in code for word in DRAWS):
        pytest.skip("draws no chart")
    # FounderApp and TimelineView enable it themselves on construction
    assert "enable_offline()" in code[0] or any(
        w in code[0] for w in ("FounderApp(", "TimelineView(")
    ), path.name
