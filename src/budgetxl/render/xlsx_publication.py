"""The 12 tables as a workbook for publication (many bureaus attach one):
the same printed cells as the Word document, formatted for A4 printing."""

from __future__ import annotations

from copy import copy
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from ..io_atomic import atomic_save
from ..model import Disclosure
from ..spec import Spec
from ..xlsx_writer import set_text
from ..template import BORDER, FIXED_TIMESTAMP, _print_setup, title_block
from .tables import all_tables

FONT = "宋体"


def build_publication(d: Disclosure, spec: Spec) -> Workbook:
    wb = Workbook()
    wb.remove(wb.active)
    wb.properties.creator = "budgetxl"
    wb.properties.created = FIXED_TIMESTAMP
    wb.properties.title = f"{d.year}年{d.department}部门预算公开表"
    styled: dict[tuple[str, bool], object] = {}  # (kind, bold) -> openpyxl StyleArray of the workbook
    for t, pt in zip(spec.tables, all_tables(d, spec)):
        ws = wb.create_sheet(t.sheet)
        width = len(t.columns)
        title_block(ws, t, spec, d.department, d.unit)
        first = spec.layout.data_first_row(t)
        for i, (cells, bold) in enumerate(zip(pt.rows, pt.bold)):
            for c, value in enumerate(cells, start=1):
                cell = ws.cell(first + i, c)
                set_text(cell, value)  # names from departments are text, never formulas
                kind = "amount" if pt.numeric[c - 1] else "code" if (c - 1) in pt.code_columns else "text"
                key = (kind, bold[c - 1])
                if key in styled:
                    # the look of an identical cell, copied: setting border, font and
                    # alignment one by one costs openpyxl a style lookup each
                    cell._style = copy(styled[key])
                    continue
                cell.border = BORDER
                cell.font = Font(name=FONT, size=10, bold=bold[c - 1])
                if kind == "amount":
                    cell.number_format = spec.money_format
                    cell.alignment = Alignment(horizontal="right", vertical="center")
                else:
                    cell.alignment = Alignment(vertical="center", wrap_text=True, horizontal="center" if kind == "code" else None)
                styled[key] = copy(cell._style)
        end = first + len(pt.rows) - 1
        if pt.statement:
            ws.merge_cells(start_row=end + 1, start_column=1, end_row=end + 1, end_column=width)
            note = ws.cell(end + 1, 1)
            set_text(note, pt.statement)  # begins with the department's name
            note.alignment = Alignment(wrap_text=True, vertical="top")
            note.font = Font(name=FONT, size=10)
            ws.row_dimensions[end + 1].height = 32
        for i, w in enumerate(t.widths or [14] * width, start=1):
            ws.column_dimensions[get_column_letter(i)].width = w
        ws.freeze_panes = ws.cell(first, 1)
        _print_setup(ws, t, end + (1 if pt.statement else 0) - (1 if t.empty_statement else 0), spec.layout)
    return wb


def write_publication(d: Disclosure, spec: Spec, path: Path) -> Path:
    return atomic_save(build_publication(d, spec), Path(path))
