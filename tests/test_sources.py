"""Every citation in the bundled assumption files resolves: to an entry of docs/sources.md, or to a
file of this repository; none names a document the repository does not have."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SOURCES = REPO / "docs" / "sources.md"
ASSUMPTION_FILES = sorted((REPO / "assumptions").rglob("*.yaml"))

#: A file named in a citation: ``docs/sources.md#questmobile-2026-01``, ``docs/model.md``, ``DATA.md``.
_DOCUMENT = re.compile(r"(?<![\w/.-])([\w./-]+\.md)(?:#([\w-]+))?")
#: Phrases that name no publication a reader could open.
_VAGUE = ("founding documents", "founding articles", "data sheet")


def source_anchors(text: str) -> list[str]:
    """The entry anchors (``<a id="...">``) of a sources sheet, in order."""
    return re.findall(r'<a id="([\w-]+)"></a>', text)


def dangling_citations(text: str, anchors: set[str], repo: Path = REPO) -> list[str]:
    """Citations in *text* that resolve to nothing: a ``.md`` file that is not in *repo*, an anchor
    that docs/sources.md lacks, or a phrase that names no publication."""
    bad: list[str] = []
    for match in _DOCUMENT.finditer(text):
        document, anchor = match.group(1), match.group(2)
        misnamed_sheet = document.endswith("sources.md") and document != "docs/sources.md"
        missing_file = not (repo / document).is_file()
        missing_anchor = anchor is not None and (
            document != "docs/sources.md" or anchor not in anchors
        )
        if misnamed_sheet or missing_file or missing_anchor:
            bad.append(match.group(0))
    bad.extend(phrase for phrase in _VAGUE if phrase in text.lower())
    return bad


def test_sources_sheet_has_unique_anchors() -> None:
    anchors = source_anchors(SOURCES.read_text(encoding="utf-8"))
    assert len(anchors) >= 10
    assert len(anchors) == len(set(anchors))


def test_checker_catches_dangling_citations() -> None:
    anchors = {"questmobile-2026-01"}
    assert dangling_citations("QuestMobile (docs/sources.md#questmobile-2026-01)", anchors) == []
    assert dangling_citations("re-computed (DATA.md)", anchors) == ["DATA.md"]
    assert dangling_citations("see docs/sources.md#no-such-entry", anchors) == [
        "docs/sources.md#no-such-entry"
    ]
    assert dangling_citations("founding documents (2024)", anchors) == ["founding documents"]
    assert dangling_citations("the model (docs/model.md)", anchors) == []


@pytest.mark.parametrize("path", ASSUMPTION_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_no_dangling_citation(path: Path) -> None:
    anchors = set(source_anchors(SOURCES.read_text(encoding="utf-8")))
    assert dangling_citations(path.read_text(encoding="utf-8"), anchors) == []


def test_sources_sheet_is_cited() -> None:
    """Each entry the assumption files cite exists, and the files cite the sheet at all."""
    cited = {
        m.group(2)
        for p in ASSUMPTION_FILES
        for m in _DOCUMENT.finditer(p.read_text(encoding="utf-8"))
        if m.group(1) == "docs/sources.md" and m.group(2)
    }
    assert cited
    assert cited <= set(source_anchors(SOURCES.read_text(encoding="utf-8")))
