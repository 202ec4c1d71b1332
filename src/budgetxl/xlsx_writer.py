"""The file adapter: applies the core's cell edits to a workbook file.

The core never touches openpyxl; it returns :class:`CellEdit` lists. This
module loads a workbook, applies edits and saves atomically — to a new file,
or in place only when the user asked for it.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Iterable

import openpyxl
from openpyxl.cell.cell import MergedCell
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.workbook import Workbook

from typing import Mapping

from .io_atomic import atomic_save
from .model import CellEdit, SheetContent
from .spec import DEFAULT_COLORS
from .writable import cell_number, cell_text

MARKS = ("error", "warning", "info")  # the styles a check puts on cells
Palette = Mapping[str, str]  # style name the core uses ("error", "computed" …) -> RGB, from the spec


def _fill(palette: Palette, style: str | None) -> PatternFill | None:
    rgb = palette.get(style) if style else None
    return PatternFill("solid", fgColor=rgb) if rgb else None


def _top_left(ws, cell):
    if not isinstance(cell, MergedCell):
        return cell
    for rng in ws.merged_cells.ranges:
        if cell.coordinate in rng:
            return ws.cell(rng.min_row, rng.min_col)
    return cell


_BAD_TITLE = re.compile(r"[\\/?*\[\]:]")
_SHEET_NAME = re.compile(r'(<(?:\w+:)?sheet\b[^>]*?\bname=")([^"]*)(")')
_NON_FINITE = re.compile(r"<v>\s*[-+]?(?:nan|inf|infinity)\s*</v>", re.IGNORECASE)


def _repaired_package(source: Path) -> tuple[bytes, dict[str, str]]:
    """The workbook package with what openpyxl cannot load made loadable: sheet names
    Excel forbids (``/ \\ ? * [ ] :``, over 31 characters, control characters) renamed,
    NaN/INF numbers blanked. Returns (package bytes, {old sheet name: new})."""
    import html
    import io
    import zipfile

    renamed: dict[str, str] = {}
    taken: set[str] = set()

    def fix(m: re.Match) -> str:
        old = html.unescape(m.group(2))
        new = _BAD_TITLE.sub("_", cell_text(old, "工作表名称")).strip("'")[:31] or "Sheet"
        base, n = new, 1
        while new.lower() in taken:
            n += 1
            new = f"{base[:28]}({n})"
        taken.add(new.lower())
        if new != old:
            renamed[old] = new
            _note_sheet(old, new)
        return m.group(1) + html.escape(new, quote=True) + m.group(3)

    out = io.BytesIO()
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            name = item.filename.lower()
            if name.endswith("workbook.xml"):
                data = _SHEET_NAME.sub(fix, data.decode("utf-8")).encode("utf-8")
            elif name.startswith("xl/worksheets/") and name.endswith(".xml") and _NON_FINITE.search(data.decode("utf-8", "replace")):
                data = _NON_FINITE.sub("", data.decode("utf-8")).encode("utf-8")
                _note_sheet(item.filename, item.filename, "含有 NaN 或 INF 数值（不是数字），写入时作为空白")
            zout.writestr(item, data)
    return out.getvalue(), renamed


def _note_sheet(old: str, new: str, why: str = "") -> None:
    from .writable import _note

    _note("工作表名称" if not why else "工作表数据", old, new, why or f"含有 Excel 不允许用于工作表名称的字符（或超过 31 个字符），写入时改为“{new}”")


STRICT_OOXML = ("该工作簿是以“Strict Open XML 电子表格”格式保存的：budgetxl 可以读取和校验它，但不能在它上面写入"
                "（计算小计、写入说明、标注校验结果、反馈文件）。请在 Excel 中“另存为”“Excel 工作簿(*.xlsx)”后再试。")
_STRICT_NS = b"http://purl.oclc.org/ooxml/spreadsheetml/main"


def _is_strict(source: Path) -> bool:
    """Saved as "Strict Open XML Spreadsheet": the workbook part in the ISO
    strict namespace (openpyxl reads no sheet of it)."""
    import zipfile

    try:
        with zipfile.ZipFile(source) as z:
            names = [n for n in z.namelist() if n.lower().endswith("workbook.xml")]
            for name in names[:2]:
                with z.open(name) as fh:
                    if _STRICT_NS in fh.read(4096):
                        return True
    except (OSError, zipfile.BadZipFile, ValueError, EOFError, NotImplementedError, RuntimeError):
        return False  # openpyxl's own load says what is wrong
    return False


def load_workbook(source: Path, keep_vba: bool = False) -> Workbook:
    """openpyxl's load, for a workbook budgetxl is about to write: a package openpyxl
    refuses for a reason we can repair (sheet names, NaN numbers) is repaired in memory
    and the sheets renamed are remembered (``sheet_name``) so edits still find them.
    A Strict Open XML workbook is refused (``WorkbookError``): openpyxl loads it
    without its sheets, so a copy written from it would lose every table."""
    if _is_strict(Path(source)):
        from .grid import WorkbookError

        raise WorkbookError(STRICT_OOXML, source)
    try:
        return openpyxl.load_workbook(source, keep_vba=keep_vba)
    except ValueError:
        import io

        data, renamed = _repaired_package(Path(source))
        wb = openpyxl.load_workbook(io.BytesIO(data), keep_vba=keep_vba)
        wb._budgetxl_renamed = renamed
        return wb


def sheet_name(wb: Workbook, name: str) -> str:
    """The sheet's name in ``wb`` (after any repair by ``load_workbook``)."""
    return getattr(wb, "_budgetxl_renamed", {}).get(name, name)


def set_text(cell, value) -> None:
    """Put a value in a cell; text stays text even when it starts with '=' (it
    may come from a department: it must never run as a formula). Text is made
    writable (control characters removed, recorded as P14: ``writable``); NaN
    and infinities, which no cell can hold, become blank."""
    if isinstance(value, str):
        value = cell_text(value, f"'{cell.parent.title}'!{cell.coordinate}")
    else:
        value = cell_number(value)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"


def apply_edits(wb: Workbook, edits: Iterable[CellEdit], keep_values: bool = False, palette: Palette = DEFAULT_COLORS) -> int:
    """Apply edits; with ``keep_values`` only styles and comments change (highlighting)."""
    count = 0
    for edit in edits:
        sheet = sheet_name(wb, edit.ref.sheet)
        if sheet not in wb.sheetnames:
            continue
        ws = wb[sheet]
        cell = _top_left(ws, ws.cell(edit.ref.row, edit.ref.col))
        if not keep_values:
            set_text(cell, edit.value)
        if edit.style in MARKS:  # computed cells keep the template's shading
            cell.fill = _fill(palette, edit.style)
        elif edit.style == "bold":
            cell.font = Font(name=cell.font.name, size=cell.font.size, bold=True)
        if edit.comment:
            cell.comment = Comment(cell_text(edit.comment, str(edit.ref)), "budgetxl")
        count += 1
    return count


def put_sheet(wb: Workbook, content: SheetContent, index: int = 0, palette: Palette = DEFAULT_COLORS) -> None:
    """(Re)create a whole sheet: header, rows as text (never formulas), hyperlinks, drop-downs."""
    from openpyxl.styles import Alignment
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation
    from openpyxl.worksheet.hyperlink import Hyperlink

    if content.name in wb.sheetnames:
        del wb[content.name]
    ws = wb.create_sheet(content.name, index)
    ws.append(list(content.header))
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = _fill(palette, "header")
    for i, row in enumerate(content.rows):
        r = i + 2
        for c, value in enumerate(row, start=1):
            cell = ws.cell(r, c)
            set_text(cell, value)
            cell.alignment = Alignment(wrap_text=(c - 1) in content.wrap, vertical="top")
        style = content.styles.get(i)
        if style in MARKS:
            ws.cell(r, 2).fill = _fill(palette, style)
        elif style == "bold":
            for c in range(1, len(row) + 1):
                ws.cell(r, c).font = Font(bold=True)
    for (row_index, col_index), ref in content.links.items():
        cell = ws.cell(row_index + 2, col_index + 1)
        cell.hyperlink = Hyperlink(ref=cell.coordinate, location=str(ref), display=str(ref))
        cell.font = Font(color="0563C1", underline="single")
    for c, width in enumerate(content.widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = width
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(content.header))}{max(1, len(content.rows) + 1)}"
    for col, values in content.choices.items():
        dv = DataValidation(type="list", formula1='"' + ",".join(values) + '"', allow_blank=True)
        letter = get_column_letter(col + 1)
        dv.add(f"{letter}2:{letter}{len(content.rows) + 200}")
        ws.add_data_validation(dv)


def load_for(source: str | Path, target: str | Path) -> Workbook:
    """Open `source` to be saved as `target`: a macro workbook saved as .xlsm keeps its VBA
    project and ribbon; saved as .xlsx it becomes a plain workbook (Excel refuses an .xlsx with macros).

    The workbook was accepted by the reader (so it is within the guard's budgets), but openpyxl is
    stricter than calamine about the package (e.g. a content type naming a part that is missing):
    that is said in Chinese, not raised as an internal error."""
    from .grid import WorkbookError

    keep = Path(source).suffix.lower() == ".xlsm" and Path(target).suffix.lower() == ".xlsm"
    try:
        return load_workbook(source, keep_vba=keep)  # repairs sheet names and NaN numbers (P14)
    except WorkbookError:
        raise
    except Exception as exc:  # openpyxl raises KeyError, ValueError, TypeError … for packages it cannot open
        raise WorkbookError(f"工作簿可以读取，但无法写入副本（{type(exc).__name__}：文件结构不完整）。请在 Excel 中打开后另存为 .xlsx 再试。", source) from exc


def write_sheet(source: Path, target: Path, content: SheetContent, index: int | None = None) -> Path:
    wb = load_for(source, target)
    put_sheet(wb, content, len(wb.sheetnames) if index is None else index)
    return atomic_save(wb, Path(target))


def write_annotated(source: Path, target: Path, sheet, edits: list[CellEdit], palette: Palette = DEFAULT_COLORS, finish=None) -> Path:
    wb = load_for(source, target)
    apply_edits(wb, [e for e in edits if e.value is not None or e.style or e.comment], keep_values=True, palette=palette)
    put_sheet(wb, sheet, 0, palette)
    wb.active = 0
    if finish is not None:
        finish(wb)
    return atomic_save(wb, Path(target))


def merged_conflicts(wb: Workbook, edits: Iterable[CellEdit]) -> tuple[list[CellEdit], dict[str, list[CellEdit]]]:
    """Split value edits into those that can be written and those that fall into a
    merged range: a merge holds one value (its top-left cell), so several computed
    values (E7, F7, G7 under a merge E7:G7) cannot all be written — writing them
    would leave only the last one, in E7. Returns (writable, {range: refused edits})."""
    ranges: dict[tuple[str, str], list[CellEdit]] = {}
    where: dict[int, tuple[str, str, bool]] = {}
    for edit in edits:
        sheet = sheet_name(wb, edit.ref.sheet)
        if sheet not in wb.sheetnames:
            continue
        ws = wb[sheet]
        for rng in ws.merged_cells.ranges:
            multi = rng.max_row > rng.min_row or rng.max_col > rng.min_col
            if multi and rng.min_row <= edit.ref.row <= rng.max_row and rng.min_col <= edit.ref.col <= rng.max_col:
                key = (edit.ref.sheet, rng.coord)
                ranges.setdefault(key, []).append(edit)
                where[id(edit)] = (edit.ref.sheet, rng.coord, (edit.ref.row, edit.ref.col) == (rng.min_row, rng.min_col))
                break
    refused: dict[str, list[CellEdit]] = {}
    for (sheet, coord), inside in ranges.items():
        if len(inside) > 1 or not where[id(inside[0])][2]:
            refused[f"'{sheet}'!{coord}"] = inside
    bad = {id(e) for group in refused.values() for e in group}
    return [e for e in edits if id(e) not in bad], refused


def write_computed(source: Path, edits: list[CellEdit], target: Path) -> tuple[Path, list[CellEdit], dict[str, list[CellEdit]]]:
    """``write_edits`` for computed values: edits that fall into merged cells are not
    written (see ``merged_conflicts``). Returns (path, edits made, {merged range: edits refused})."""
    wb = load_for(source, target)
    applied, refused = merged_conflicts(wb, list(edits))
    apply_edits(wb, applied)
    return atomic_save(wb, Path(target)), applied, refused


def write_edits(source: Path, edits: list[CellEdit], target: Path) -> Path:
    """Apply edits to a copy of ``source`` saved as ``target`` (may equal source)."""
    wb = load_for(source, target)
    apply_edits(wb, edits)
    return atomic_save(wb, Path(target))


def cell_value_for(value):
    """Python value to store: Decimal stays a number, dates stay dates."""
    if isinstance(value, (Decimal, int, float, dt.date, dt.datetime)) or value is None:
        return value
    return str(value)


def write_workbook(sheets: list[SheetContent], target: Path) -> Path:
    """A new workbook made of whole sheets (the bureau's status workbook)."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for i, content in enumerate(sheets):
        put_sheet(wb, content, i)
    for ws in wb.worksheets:
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, (Decimal, int, float)) and not isinstance(cell.value, bool):
                    cell.number_format = "#,##0.00" if isinstance(cell.value, Decimal) else "0"
    return atomic_save(wb, Path(target))
