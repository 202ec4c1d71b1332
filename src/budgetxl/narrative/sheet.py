"""The 情况说明 sheet: the narrative one paragraph a row, editable by staff.
The parser reads it back (``parse.parse_narrative_sheet``) so that ``check``
can compare edited text with the tables."""

from __future__ import annotations

from ..model import SheetContent
from . import Narrative

HEADER = ("编号", "内容")


def narrative_sheet(narrative: Narrative, name: str) -> SheetContent:
    """``name`` is the spec's ``layout.narrative_sheet``."""
    rows, styles = [], {}
    for s in narrative.sections:
        styles[len(rows)] = "bold"
        rows.append((s.id, s.title))
        for i, p in enumerate(s.paragraphs, start=1):
            rows.append((f"{s.id}.{i}", p))
    return SheetContent(name, HEADER, tuple(rows), (10, 120), styles=styles, wrap=(1,))

