"""The 情况说明 sheet: the narrative one paragraph a row, editable by staff,
and read back so that ``check`` can compare edited text with the tables."""

from __future__ import annotations

import re

from ..grid import WorkbookGrid
from ..model import CellRef, SheetContent, Text
from ..textnorm import squash
from . import Narrative

NARRATIVE_SHEET = "情况说明"
HEADER = ("编号", "内容")


def narrative_sheet(narrative: Narrative) -> SheetContent:
    rows, styles = [], {}
    for s in narrative.sections:
        styles[len(rows)] = "bold"
        rows.append((s.id, s.title))
        for i, p in enumerate(s.paragraphs, start=1):
            rows.append((f"{s.id}.{i}", p))
    return SheetContent(NARRATIVE_SHEET, HEADER, tuple(rows), (10, 120), styles=styles, wrap=(1,))


_PARAGRAPH_ID = re.compile(r"^(part\d|s\d\d)(\.[\w.]+)?$")


def read_narrative_sheet(grid: WorkbookGrid) -> dict[str, Text]:
    """Paragraph id -> the text in the sheet (as edited), with its cell."""
    sheet = grid.sheet(NARRATIVE_SHEET)
    if sheet is None:
        return {}
    out = {}
    for r in range(2, sheet.height + 1):
        key = squash(sheet.value(r, 1))
        if _PARAGRAPH_ID.match(key) and sheet.text(r, 2):
            out[key] = Text(sheet.text(r, 2), CellRef(sheet.name, r, 2))
    return out
