"""The 12 tables as a workbook for publication (many bureaus attach one):
the same printed cells as the Word document, formatted for A4 printing.

Everything that is the same for every department — titles, merged headers,
column widths, frozen panes, print titles, page setup and the cell styles —
is laid out once per process by openpyxl, with the template's own code
(``template.title_block``, ``template._print_setup``), into a skeleton
package. Each department's workbook is that package with its rows spliced
into the sheet XML as SpreadsheetML text (cells as openpyxl writes them:
inline strings, numbers, the skeleton's style indexes). Building the headers
(merged cells) through openpyxl cost about 100 ms per workbook; the splice
costs a few.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import threading
import zipfile
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from ..io_atomic import atomic_write_bytes
from ..model import Disclosure
from ..records import dataclass
from ..spec import Spec, TableSpec
from ..template import BORDER, FIXED_TIMESTAMP, _print_setup, title_block
from ..writable import cell_number, cell_text
from .tables import all_tables

FONT = "宋体"
NOTE_HEIGHT = 32  # points: the row of an empty table's statement
KINDS = ("text", "code", "amount")

# placeholders the skeleton carries where each workbook has its own text
_DEPARTMENT, _UNIT, _TITLE = "BUDGETXLDEPARTMENT", "BUDGETXLUNIT", "BUDGETXLTITLE"
_LAST_ROW = 1_040_000  # + sheet index: the last printed row, in each print area


def _style_data_cell(cell, kind: str, bold: bool, spec: Spec) -> None:
    """The look of a table cell of the given kind (text, code, amount)."""
    cell.border = BORDER
    cell.font = Font(name=FONT, size=10, bold=bold)
    if kind == "amount":
        cell.number_format = spec.money_format
        cell.alignment = Alignment(horizontal="right", vertical="center")
    else:
        cell.alignment = Alignment(vertical="center", wrap_text=True, horizontal="center" if kind == "code" else None)


def _style_note(cell) -> None:
    """The statement under an empty table."""
    cell.alignment = Alignment(wrap_text=True, vertical="top")
    cell.font = Font(name=FONT, size=10)


@dataclass(frozen=True)
class _Skeleton:
    parts: dict[str, bytes]  # package part name -> bytes, as openpyxl saved them
    sheets: tuple[str, ...]  # part name of each table's sheet, in spec order
    styles: dict[tuple[str, bool], int]  # (kind, bold) -> cellXfs index
    note_style: int


def _build_skeleton(spec: Spec) -> _Skeleton:
    wb = Workbook()
    wb.remove(wb.active)
    wb.properties.creator = "budgetxl"
    wb.properties.created = FIXED_TIMESTAMP
    wb.properties.title = _TITLE
    for i, t in enumerate(spec.tables):
        ws = wb.create_sheet(t.sheet)
        width = len(t.columns)
        title_block(ws, t, spec, _DEPARTMENT, _UNIT)
        for c, w in enumerate(t.widths or [14] * width, start=1):
            ws.column_dimensions[get_column_letter(c)].width = w
        ws.freeze_panes = ws.cell(spec.layout.data_first_row(t), 1)
        # the print area ends at the last row: a placeholder number here
        _print_setup(ws, t, _LAST_ROW + i - (1 if t.empty_statement else 0), spec.layout)
    # the cell styles of the rows, registered in the workbook's style table
    scratch = wb.create_sheet("scratch")
    styles = {}
    for k, (kind, bold) in enumerate((kind, bold) for kind in KINDS for bold in (False, True)):
        cell = scratch.cell(1, k + 1)
        _style_data_cell(cell, kind, bold, spec)
        styles[(kind, bold)] = cell.style_id
    note = scratch.cell(2, 1)
    _style_note(note)
    note_style = note.style_id
    wb.remove(scratch)
    buffer = io.BytesIO()
    wb.save(buffer)
    with zipfile.ZipFile(buffer) as z:
        parts = {name: z.read(name) for name in z.namelist()}
    sheets = tuple(f"xl/worksheets/sheet{i + 1}.xml" for i in range(len(spec.tables)))
    assert all(s in parts for s in sheets), sorted(parts)
    return _Skeleton(parts, sheets, styles, note_style)


_CACHE: list[tuple[Spec, _Skeleton]] = []
_CACHE_LOCK = threading.Lock()


def _skeleton(spec: Spec) -> _Skeleton:
    with _CACHE_LOCK:
        for known, skeleton in _CACHE:
            if known == spec:
                return skeleton
        skeleton = _build_skeleton(spec)
        _CACHE[:] = [*_CACHE[-3:], (spec, skeleton)]
        return skeleton


def _text_cell(ref: str, style: int, text: str) -> str:
    if not text:
        return f'<c r="{ref}" s="{style}" t="inlineStr"></c>'
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return f'<c r="{ref}" s="{style}" t="inlineStr"><is><t{space}>{escape(text)}</t></is></c>'


def _number_cell(ref: str, style: int, value) -> str:
    value = cell_number(value)
    if value is None:
        return f'<c r="{ref}" s="{style}" t="n"></c>'
    if isinstance(value, bool):
        value = int(value)
    text = format(value.normalize(), "f") if isinstance(value, Decimal) else repr(value)
    return f'<c r="{ref}" s="{style}" t="n"><v>{text}</v></c>'


def _sheet_xml(xml: str, t: TableSpec, spec: Spec, rows, bold, numeric, code_columns, statement: str,
               department: str, unit: str, skeleton: _Skeleton) -> tuple[str, int]:
    """The skeleton's sheet with this table's rows; returns (xml, last printed row)."""
    width = len(t.columns)
    last_col = get_column_letter(width)
    letters = [get_column_letter(c) for c in range(1, width + 1)]
    context = spec.layout.context_row
    xml = xml.replace(_DEPARTMENT, escape(cell_text(department, f"'{t.sheet}'!A{context}")), 1)
    xml = xml.replace(_UNIT, escape(cell_text(unit, f"'{t.sheet}'!{last_col}{context}")), 1)
    kinds = ["amount" if numeric[c] else "code" if c in code_columns else "text" for c in range(width)]
    first = spec.layout.data_first_row(t)
    out = []
    for i, (cells, flags) in enumerate(zip(rows, bold)):
        r = first + i
        out.append(f'<row r="{r}">')
        for c, value in enumerate(cells):
            ref = f"{letters[c]}{r}"
            style = skeleton.styles[(kinds[c], bool(flags[c]))]
            if isinstance(value, str):  # names from departments are text, never formulas
                out.append(_text_cell(ref, style, cell_text(value, f"'{t.sheet}'!{ref}")))
            else:
                out.append(_number_cell(ref, style, value))
        out.append("</row>")
    end = first + len(rows) - 1
    last = end
    merge = ""
    if statement:
        last = end + 1
        ref = f"A{last}"
        note = _text_cell(ref, skeleton.note_style, cell_text(statement, f"'{t.sheet}'!{ref}"))
        out.append(f'<row r="{last}" ht="{NOTE_HEIGHT}" customHeight="1">{note}</row>')
        merge = f'<mergeCell ref="A{last}:{last_col}{last}"/>'
    xml = xml.replace("</sheetData>", "".join(out) + "</sheetData>", 1)
    if "<sheetData/>" in xml:
        xml = xml.replace("<sheetData/>", f"<sheetData>{''.join(out)}</sheetData>", 1)
    xml = re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="A1:{last_col}{max(last, first - 1)}"/>', xml, count=1)
    if merge:
        m = re.search(r'<mergeCells count="(\d+)">', xml)
        if m:
            xml = xml[: m.start()] + f'<mergeCells count="{int(m.group(1)) + 1}">{merge}' + xml[m.end():]
        else:
            xml = xml.replace("</sheetData>", f'</sheetData><mergeCells count="1">{merge}</mergeCells>', 1)
    return xml, last


def publication_bytes(d: Disclosure, spec: Spec) -> bytes:
    skeleton = _skeleton(spec)
    parts = dict(skeleton.parts)
    workbook = parts["xl/workbook.xml"].decode("utf-8")
    for i, (t, pt, name) in enumerate(zip(spec.tables, all_tables(d, spec), skeleton.sheets)):
        xml, last = _sheet_xml(parts[name].decode("utf-8"), t, spec, pt.rows, pt.bold, pt.numeric, pt.code_columns,
                               pt.statement, d.department, d.unit, skeleton)
        parts[name] = xml.encode("utf-8")
        workbook = workbook.replace(f"${_LAST_ROW + i}<", f"${last}<", 1)
    parts["xl/workbook.xml"] = workbook.encode("utf-8")
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    core = parts["docProps/core.xml"].decode("utf-8").replace(_TITLE, escape(f"{d.year}年{d.department}部门预算公开表"), 1)
    parts["docProps/core.xml"] = re.sub(r"(<dcterms:modified[^>]*>)[^<]*", lambda m: m.group(1) + now, core, count=1).encode("utf-8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return buffer.getvalue()


def write_publication(d: Disclosure, spec: Spec, path: Path) -> Path:
    return atomic_write_bytes(Path(path), publication_bytes(d, spec))
