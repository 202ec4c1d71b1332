"""Sources become grids.

A file read with calamine, a file read with openpyxl and a workbook open in
Excel (values handed over by xlwings) all become the same thing: per sheet a
2-D grid of raw cell values. One parser (``parse.py``) turns grids into the
model, so the Excel buttons and the batch CLI share every line of logic.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence


class WorkbookError(Exception):
    """The file cannot be read as a workbook. ``message`` is for the user."""

    def __init__(self, message: str, path: str | Path = ""):
        super().__init__(message)
        self.message = message
        self.path = str(path)


@dataclass(frozen=True)
class SheetGrid:
    name: str
    rows: tuple[tuple[Any, ...], ...]  # rows[0] is sheet row 1
    # Cells (1-based row, col) holding a formula whose result was never
    # computed: they read as blank but are not blank.
    uncached_formulas: frozenset[tuple[int, int]] = frozenset()

    @property
    def height(self) -> int:
        return len(self.rows)

    @property
    def width(self) -> int:
        return max((len(r) for r in self.rows), default=0)

    def value(self, row: int, col: int) -> Any:
        """Raw value at 1-based (row, col); None when blank or outside."""
        if 1 <= row <= len(self.rows):
            r = self.rows[row - 1]
            if 1 <= col <= len(r):
                return r[col - 1]
        return None

    def text(self, row: int, col: int) -> str:
        v = self.value(row, col)
        if v is None:
            return ""
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        return str(v).strip()

    def row_is_blank(self, row: int) -> bool:
        if not 1 <= row <= len(self.rows):
            return True
        return all(v is None or (isinstance(v, str) and not v.strip()) for v in self.rows[row - 1])


@dataclass(frozen=True)
class WorkbookGrid:
    sheets: Mapping[str, SheetGrid]
    source: str = ""
    reader: str = ""
    sheet_order: tuple[str, ...] = field(default=())

    def sheet(self, name: str) -> SheetGrid | None:
        return self.sheets.get(name)

    @property
    def names(self) -> tuple[str, ...]:
        return self.sheet_order or tuple(self.sheets)


def _clean(value: Any) -> Any:
    if isinstance(value, str) and value == "":
        return None
    return value


def grid_from_values(
    sheets: Mapping[str, Sequence[Sequence[Any]]] | Iterable[tuple[str, Sequence[Sequence[Any]]]],
    source: str = "",
    reader: str = "values",
    uncached: Mapping[str, Iterable[tuple[int, int]]] | None = None,
) -> WorkbookGrid:
    items = list(sheets.items()) if isinstance(sheets, Mapping) else list(sheets)
    uncached = uncached or {}
    grids = {
        name: SheetGrid(
            name,
            tuple(tuple(_clean(v) for v in row) for row in values),
            frozenset(uncached.get(name, ())),
        )
        for name, values in items
    }
    return WorkbookGrid(grids, source, reader, tuple(name for name, _ in items))


# ------------------------------------------------------------------ files

_MAGIC_ZIP = b"PK\x03\x04"
_MAGIC_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def sniff(path: Path) -> str:
    """'xlsx', 'ole' (legacy .xls, or an encrypted xlsx), or 'other'."""
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head.startswith(_MAGIC_ZIP):
        return "xlsx"
    if head == _MAGIC_OLE:
        return "ole"
    return "other"


def read_workbook(path: str | Path, reader: str = "calamine") -> WorkbookGrid:
    """Read every sheet of a workbook file into grids.

    Raises :class:`WorkbookError` (with a Chinese message) when the file is not
    a readable workbook. Cell-level problems are not raised: the parser reports
    them as findings.
    """
    path = Path(path)
    if not path.exists():
        raise WorkbookError(f"文件不存在：{path}", path)
    if path.stat().st_size == 0:
        raise WorkbookError("文件为空（0 字节），请重新保存或重新报送工作簿。", path)
    kind = sniff(path)
    if kind == "other":
        raise WorkbookError("文件不是 Excel 工作簿（.xlsx），请在 Excel 或 WPS 中另存为 .xlsx 后重试。", path)
    if kind == "ole" and reader != "calamine":
        reader = "calamine"  # openpyxl cannot read legacy .xls
    try:
        if reader == "openpyxl":
            grid = _read_openpyxl(path)
        else:
            grid = _read_calamine(path)
    except WorkbookError:
        raise
    except Exception as exc:  # the readers raise many types for broken files
        hint = "文件可能已加密或已损坏" if kind == "ole" else "文件已损坏或不完整"
        raise WorkbookError(f"无法读取工作簿（{hint}）：{type(exc).__name__}。请在 Excel 中打开确认后另存为 .xlsx 再试。", path) from exc
    if kind == "xlsx":
        uncached = scan_uncached_formulas(path)
        if uncached:
            grid = WorkbookGrid(
                {
                    n: SheetGrid(s.name, s.rows, frozenset(uncached.get(n, ())))
                    for n, s in grid.sheets.items()
                },
                grid.source,
                grid.reader,
                grid.sheet_order,
            )
    return grid


def _read_calamine(path: Path) -> WorkbookGrid:
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(path))
    try:
        sheets = []
        for name in wb.sheet_names:
            values = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
            sheets.append((name, values))
    finally:
        close = getattr(wb, "close", None)
        if close:
            close()
    return grid_from_values(sheets, str(path), "calamine")


def _read_openpyxl(path: Path) -> WorkbookGrid:
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        sheets = [(ws.title, [list(r) for r in ws.iter_rows(values_only=True)]) for ws in wb.worksheets]
    finally:
        wb.close()
    return grid_from_values(sheets, str(path), "openpyxl")


# ------------------------------------------------------------------ formulas

_CELL = re.compile(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
_FORMULA = re.compile(rb"<f[\s>/]")  # a cell formula; not <formula> of validations or formatting
_REF = re.compile(rb'\br="([A-Z]+)(\d+)"')
_SHEET_TARGET = re.compile(rb'<Relationship\b[^>]*?Id="([^"]+)"[^>]*?Target="([^"]+)"|<Relationship\b[^>]*?Target="([^"]+)"[^>]*?Id="([^"]+)"')
_SHEET_ENTRY = re.compile(rb'<sheet\b[^>]*?name="([^"]*)"[^>]*?r:id="([^"]+)"')


def scan_uncached_formulas(path: Path) -> dict[str, set[tuple[int, int]]]:
    """Cells whose formula has no cached result (files written by openpyxl and
    other tools that do not calculate). calamine reads them as blank."""
    from .model import column_index
    import html

    found: dict[str, set[tuple[int, int]]] = {}
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if "xl/workbook.xml" not in names:
                return found
            rels: dict[bytes, bytes] = {}
            if "xl/_rels/workbook.xml.rels" in names:
                for m in _SHEET_TARGET.finditer(zf.read("xl/_rels/workbook.xml.rels")):
                    rid, target = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
                    rels[rid] = target
            for m in _SHEET_ENTRY.finditer(zf.read("xl/workbook.xml")):
                sheet_name = html.unescape(m.group(1).decode("utf-8"))
                target = rels.get(m.group(2), b"").decode("utf-8").lstrip("/")
                member = target if target.startswith("xl/") else f"xl/{target}"
                if member not in names:
                    continue
                info = zf.getinfo(member)
                if info.file_size > 200 * 1024 * 1024:
                    continue  # refuse to inflate absurd sheets here; the reader decides
                data = zf.read(member)
                if not _FORMULA.search(data):
                    continue
                for cell in _CELL.finditer(data):
                    body = cell.group(2) or b""
                    if not _FORMULA.search(body):
                        continue
                    v = re.search(rb"<v>(.*?)</v>", body, re.S)
                    if v and v.group(1).strip():
                        continue
                    ref = _REF.search(cell.group(1))
                    if ref:
                        found.setdefault(sheet_name, set()).add(
                            (int(ref.group(2)), column_index(ref.group(1).decode()))
                        )
    except (zipfile.BadZipFile, KeyError, OSError):
        return found
    return found
