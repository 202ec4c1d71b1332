"""The file adapter: applies the core's cell edits to a workbook file.

The core never touches openpyxl; it returns :class:`CellEdit` lists. This
module loads a workbook, applies edits and saves atomically — to a new file,
or in place only when the user asked for it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Iterable

import openpyxl
from openpyxl.cell.cell import MergedCell
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.workbook import Workbook

from .io_atomic import atomic_save
from .model import CellEdit

# The adapter's palette for the style names the core uses.
STYLES = {
    "error": PatternFill("solid", fgColor="FFC7CE"),
    "warning": PatternFill("solid", fgColor="FFEB9C"),
    "info": PatternFill("solid", fgColor="DDEBF7"),
}


def _top_left(ws, cell):
    if not isinstance(cell, MergedCell):
        return cell
    for rng in ws.merged_cells.ranges:
        if cell.coordinate in rng:
            return ws.cell(rng.min_row, rng.min_col)
    return cell


def apply_edits(wb: Workbook, edits: Iterable[CellEdit]) -> int:
    count = 0
    for edit in edits:
        if edit.ref.sheet not in wb.sheetnames:
            continue
        ws = wb[edit.ref.sheet]
        cell = _top_left(ws, ws.cell(edit.ref.row, edit.ref.col))
        value = edit.value
        if isinstance(value, str):
            cell.value = value
            cell.data_type = "s"  # never a formula, whatever the text starts with
        else:
            cell.value = value
        if edit.style in STYLES:
            cell.fill = STYLES[edit.style]
        elif edit.style == "bold":
            cell.font = Font(name=cell.font.name, size=cell.font.size, bold=True)
        if edit.comment:
            cell.comment = Comment(edit.comment, "budgetxl")
        count += 1
    return count


def write_edits(source: Path, edits: list[CellEdit], target: Path) -> Path:
    """Apply edits to a copy of ``source`` saved as ``target`` (may equal source)."""
    wb = openpyxl.load_workbook(source)
    apply_edits(wb, edits)
    return atomic_save(wb, Path(target))


def cell_value_for(value):
    """Python value to store: Decimal stays a number, dates stay dates."""
    if isinstance(value, (Decimal, int, float, dt.date, dt.datetime)) or value is None:
        return value
    return str(value)
