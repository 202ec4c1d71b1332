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


# Limits that keep a hostile file from exhausting memory (a real budget workbook
# is a few hundred KB and well under 100,000 cells).
MAX_UNCOMPRESSED = 100 * 1024 * 1024  # all parts of the zip, as declared
MAX_RATIO = 200  # compression ratio of one large part: zip bombs are far above
MAX_CELLS = 5_000_000  # the reader holds a sheet densely: rows × columns
_ENCRYPTED = "EncryptedPackage".encode("utf-16-le")
_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)", re.I)
_ROW_NUMBER = re.compile(rb'<row r="(\d+)"')
_WIDE_CELL = re.compile(rb'<c r="([A-Z]{2,3})\d')  # columns beyond Z are rare in budget tables


def inspect(path: Path, kind: str) -> None:
    """Refuse files that are not workbooks, are encrypted, or would explode in memory."""

    if kind == "ole":
        with open(path, "rb") as fh:
            head = fh.read(1 << 20)
        if _ENCRYPTED in head:
            raise WorkbookError("工作簿设置了打开密码（已加密），无法读取。请在 Excel 中取消密码（文件→信息→保护工作簿）后另存为 .xlsx。", path)
        return
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise WorkbookError("文件已损坏或不完整（不是完整的 .xlsx）。请重新保存或重新报送工作簿。", path) from exc
    with zf:
        infos = zf.infolist()
        names = {i.filename for i in infos}
        if "xl/workbook.xml" not in names:
            hint = "（看起来是 Word 文档）" if "word/document.xml" in names else ""
            raise WorkbookError(f"文件不是 Excel 工作簿{hint}：缺少 xl/workbook.xml。请在 Excel 或 WPS 中另存为 .xlsx。", path)
        total = sum(i.file_size for i in infos)
        if total > MAX_UNCOMPRESSED:
            raise WorkbookError(f"文件展开后超过 {MAX_UNCOMPRESSED // 1024 // 1024} MB（约 {total // 1024 // 1024} MB），远大于正常的预算工作簿，拒绝读取（可能是恶意文件）。", path)
        for i in infos:
            if i.file_size > 50 * 1024 * 1024 and i.file_size > MAX_RATIO * max(1, i.compress_size):
                raise WorkbookError(f"文件中 {i.filename} 的压缩比异常（{i.file_size // max(1, i.compress_size)} 倍），拒绝读取（可能是恶意文件）。", path)
        for i in infos:
            if not i.filename.endswith((".xml", ".rels")):
                continue
            with zf.open(i) as fh:
                head = fh.read(4096)
            if _DTD.search(head):
                raise WorkbookError(f"文件中 {i.filename} 含有 DTD/实体声明，正常工作簿不会有，拒绝读取（可能是恶意文件）。", path)
            if i.filename.startswith("xl/worksheets/"):
                rows, cols = _extent(zf.read(i))  # bounded: MAX_UNCOMPRESSED was checked
                if rows * cols > MAX_CELLS:
                    raise WorkbookError(f"工作表范围过大（约 {rows} 行 × {cols} 列），拒绝读取。请删除多余的行列后重新保存。", path)


def _extent(data: bytes) -> tuple[int, int]:
    """Rows and columns a sheet really spans, from its cells: the <dimension>
    element can lie, and the reader allocates the whole span."""
    from .model import column_index

    rows = max((int(r) for r in _ROW_NUMBER.findall(data)), default=0)
    rows = max(rows, data.count(b"<row"))  # rows without numbers follow one another
    cols = max((column_index(c.decode()) for c in set(_WIDE_CELL.findall(data))), default=26)
    return rows, cols


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
    inspect(path, kind)
    if kind == "ole" and reader != "calamine":
        reader = "calamine"  # openpyxl cannot read legacy .xls
    try:
        if reader == "openpyxl":
            grid = _read_openpyxl(path)
        else:
            try:
                grid = _read_calamine(path)
            except Exception:
                if kind != "xlsx":
                    raise
                grid = _read_openpyxl(path)  # fallback: openpyxl tolerates some files calamine rejects
    except WorkbookError:
        raise
    except Exception as exc:  # the readers raise many types for broken files
        hint = "旧版 .xls 或 WPS .et 文件无法读取，或文件已损坏" if kind == "ole" else "文件已损坏或不完整"
        raise WorkbookError(f"无法读取工作簿（{hint}）：{type(exc).__name__}。请在 Excel 中打开确认后另存为 .xlsx 再试。", path) from exc
    if kind == "xlsx":
        uncached, errors = scan_formula_cells(path)
        if uncached or errors:
            grid = WorkbookGrid(
                {n: SheetGrid(s.name, _with_errors(s.rows, errors.get(n, {})), frozenset(uncached.get(n, ()))) for n, s in grid.sheets.items()},
                grid.source,
                grid.reader,
                grid.sheet_order,
            )
    return grid


def _with_errors(rows: tuple[tuple[Any, ...], ...], errors: dict[tuple[int, int], str]) -> tuple[tuple[Any, ...], ...]:
    """Put error values (#DIV/0!, #REF! …) back where the reader left a blank."""
    if not errors:
        return rows
    out = [list(r) for r in rows]
    for (r, c), text in errors.items():
        while len(out) < r:
            out.append([])
        while len(out[r - 1]) < c:
            out[r - 1].append(None)
        if out[r - 1][c - 1] in (None, ""):
            out[r - 1][c - 1] = text
    return tuple(tuple(r) for r in out)


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


def scan_formula_cells(path: Path) -> tuple[dict[str, set[tuple[int, int]]], dict[str, dict[tuple[int, int], str]]]:
    """(cells with an uncached formula, cells holding an error value such as #DIV/0!),
    per sheet. calamine reads both as blank; neither is blank."""
    from .model import column_index
    import html

    uncached: dict[str, set[tuple[int, int]]] = {}
    errors: dict[str, dict[tuple[int, int], str]] = {}
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if "xl/workbook.xml" not in names:
                return uncached, errors
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
                data = zf.read(member)  # bounded: inspect() checked the sizes
                if not _FORMULA.search(data) and b't="e"' not in data:
                    continue
                for cell in _CELL.finditer(data):
                    attrs, body = cell.group(1), cell.group(2) or b""
                    ref = _REF.search(attrs)
                    if not ref:
                        continue
                    position = (int(ref.group(2)), column_index(ref.group(1).decode()))
                    v = re.search(rb"<v>(.*?)</v>", body, re.S)
                    if b't="e"' in attrs and v:
                        errors.setdefault(sheet_name, {})[position] = v.group(1).decode("utf-8", "replace").strip()
                    elif _FORMULA.search(body) and not (v and v.group(1).strip()):
                        uncached.setdefault(sheet_name, set()).add(position)
    except (zipfile.BadZipFile, KeyError, OSError):
        pass
    return uncached, errors
