"""Sources become grids.

A file read by the guard's own pass (the C extension reads the values while it
measures the file), with calamine, with openpyxl, and a workbook open in Excel
(values handed over by xlwings) all become the same thing: per sheet a
2-D grid of raw cell values. One parser (``parse.py``) turns grids into the
model, so the Excel buttons and the batch CLI share every line of logic.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import cached_property
from pathlib import Path

from .records import dataclass, field

TYPE_CHECKING = False  # not typing's: importing typing costs every command 2 ms at start-up
if TYPE_CHECKING:
    from typing import Any


class WorkbookError(Exception):
    """The file cannot be read as a workbook. ``message`` is for the user."""

    def __init__(self, message: str, path: str | Path = ""):
        super().__init__(message)
        self.message = message
        self.path = str(path)

    def __reduce__(self):  # crosses process boundaries whole (read_isolated, batch workers)
        return (type(self), (self.message, self.path))


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

    @cached_property
    def head_texts(self) -> frozenset[str]:
        """The squashed texts of the first six rows, where a table's title is: every
        table that looks for its sheet asks each sheet, so they are worked out once."""
        from .textnorm import squash

        return frozenset(squash(v) for row in self.rows[:6] for v in row if isinstance(v, str))

    def row_is_blank(self, row: int) -> bool:
        if not 1 <= row <= len(self.rows):
            return True
        for v in self.rows[row - 1]:  # a loop, not all(generator): every row of every sheet is asked
            if v is not None and not (isinstance(v, str) and not v.strip()):
                return False
        return True


@dataclass(frozen=True)
class WorkbookGrid:
    sheets: Mapping[str, SheetGrid]
    source: str = ""
    reader: str = ""
    sheet_order: tuple[str, ...] = field(default=())
    hidden: frozenset[str] = frozenset()  # sheets hidden in Excel (visible ones win)

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

    First one streaming pass over the file (``guard.scan``) measures it against
    the workbook-wide budgets and collects uncached formulas, error values and
    hidden sheets. Where the C pass is built that same pass reads the values
    (``reader="calamine"``, the default): a good .xlsx is read once. Otherwise
    (no C pass, legacy .xls, ``reader="openpyxl"``) a full reader runs after it. Raises
    :class:`WorkbookError` (with a Chinese message) when the file is not a
    readable workbook or is over budget. Cell-level problems are not raised:
    the parser reports them as findings.
    """
    from . import guard

    path = Path(path)
    if not path.exists():
        raise WorkbookError(f"文件不存在：{path}", path)
    if path.is_dir():
        raise WorkbookError(f"这是一个文件夹，不是工作簿：{path}", path)
    if path.stat().st_size == 0:
        raise WorkbookError("文件为空（0 字节），请重新保存或重新报送工作簿。", path)
    kind = sniff(path)
    if kind == "other":
        raise WorkbookError("文件不是 Excel 工作簿（.xlsx），请在 Excel 或 WPS 中另存为 .xlsx 后重试。", path)
    try:
        scan = guard.scan(path, kind, values=reader == "calamine")
    except guard.Refused as exc:
        raise WorkbookError(exc.message, path) from None
    except MemoryError:
        raise WorkbookError("读取工作簿所需内存不足，无法读取（文件过大或是恶意文件）。请删除多余的行列后重新保存。", path) from None
    if scan.values is not None:  # the guard's pass read the values too (the C pass)
        return _from_scan(path, scan)
    if kind == "ole" and reader != "calamine":
        reader = "calamine"  # openpyxl cannot read legacy .xls
    try:
        if reader == "openpyxl":
            grid = _read_openpyxl(path, scan)
        else:
            try:
                grid = _read_calamine(path)
            except BaseException as exc:  # noqa: B036 - calamine's Rust panics are BaseExceptions
                if not _is_reader_failure(exc) or kind != "xlsx":
                    raise
                grid = _read_openpyxl(path, scan)  # fallback: openpyxl tolerates some files calamine rejects
    except WorkbookError:
        raise
    except BaseException as exc:  # noqa: B036 - the readers raise many types (and panics) for broken files
        if not _is_reader_failure(exc):
            raise
        hint = "旧版 .xls 或 WPS .et 文件无法读取，或文件已损坏" if kind == "ole" else "文件已损坏或不完整"
        what = "读取程序无法处理该文件" if _is_panic(exc) else type(exc).__name__
        raise WorkbookError(f"无法读取工作簿（{hint}）：{what}。请在 Excel 中打开确认后另存为 .xlsx 再试。", path) from None
    sheets = grid.sheets
    if scan.uncached or scan.errors:
        sheets = {
            n: SheetGrid(s.name, _with_errors(s.rows, scan.errors.get(n, {})), frozenset(scan.uncached.get(n, ())))
            for n, s in sheets.items()
        }
    return WorkbookGrid(sheets, grid.source, grid.reader, grid.sheet_order, scan.hidden & set(sheets))


def _from_scan(path: Path, scan) -> WorkbookGrid:
    uncached = scan.uncached
    sheets = {name: SheetGrid(name, tuple(map(tuple, rows)), frozenset(uncached.get(name, ()))) for name, rows in scan.values.items()}
    order = tuple(s.name for s in scan.sheets)
    return WorkbookGrid(sheets, str(path), "sheetscan", order, scan.hidden & set(sheets))


def _is_panic(exc: BaseException) -> bool:
    """python-calamine's Rust panics arrive as ``pyo3_runtime.PanicException``,
    a BaseException that ``except Exception`` lets through."""
    return type(exc).__name__ == "PanicException"


def _is_reader_failure(exc: BaseException) -> bool:
    return isinstance(exc, Exception) or _is_panic(exc)


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
            del values
    finally:
        close = getattr(wb, "close", None)
        if close:
            close()
    return grid_from_values(sheets, str(path), "calamine")


def _read_openpyxl(path: Path, scan=None) -> WorkbookGrid:
    """openpyxl in read-only mode, bounded by the extents the guard measured
    (its own dimensions come from the file's <dimension> element, which can lie)."""
    import openpyxl

    extents = {s.name: (s.rows, s.cols) for s in scan.sheets} if scan is not None else {}
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        sheets = []
        for ws in wb.worksheets:
            rows, cols = extents.get(ws.title, (0, 0))
            if scan is not None:
                if not rows or not cols:
                    sheets.append((ws.title, []))
                    continue
                ws.reset_dimensions()
                values = [list(r) for r in ws.iter_rows(min_row=1, max_row=rows, min_col=1, max_col=cols, values_only=True)]
            else:
                values = [list(r) for r in ws.iter_rows(values_only=True)]
            sheets.append((ws.title, values))
    finally:
        wb.close()
    return grid_from_values([(name, [_as_calamine(r) for r in rows]) for name, rows in sheets], str(path), "openpyxl")


def _as_calamine(row: list) -> list:
    """openpyxl gives every date as a datetime and leaves Excel's ``_x000B_``
    escapes in the text; the default reader (and calamine) gives a date when it
    is a whole day and decodes the escapes: the same values either way."""
    import datetime as dt

    from .guard import unescape_x

    out = []
    for v in row:
        if type(v) is dt.datetime and not (v.hour or v.minute or v.second or v.microsecond):
            v = v.date()
        elif type(v) is str and "_x" in v:
            v = unescape_x(v)
        out.append(v)
    return out


# ------------------------------------------------------------------ isolation

def read_isolated(path: str | Path, reader: str = "calamine", timeout: float = 120.0, memory_mb: int = 1536) -> WorkbookGrid:
    """:func:`read_workbook` in a fresh worker process.

    The guard keeps hostile files away from the native readers, but a defect
    in native code can still abort the process that runs it. Here only the
    worker dies: the caller gets a :class:`WorkbookError` naming the file.
    The worker's address space is capped at ``memory_mb`` (where the OS
    allows it) and it is killed after ``timeout`` seconds. Costs one process
    start (about 0.2 s): meant for batches, one file per call.
    """
    import multiprocessing

    path = Path(path)
    ctx = multiprocessing.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    worker = ctx.Process(target=_isolated_worker, args=(send, str(path), reader, memory_mb), daemon=True)
    worker.start()
    send.close()
    try:
        if receive.poll(timeout):
            try:
                ok, payload = receive.recv()
            except (EOFError, OSError):
                ok, payload = None, None
        else:
            worker.kill()
            raise WorkbookError(f"读取工作簿超过 {timeout:.0f} 秒仍未完成，已停止（文件 {path.name} 可能异常）。请在 Excel 中打开确认后另存为 .xlsx 再试。", path)
    finally:
        worker.join(5)
        if worker.is_alive():
            worker.kill()
            worker.join()
        receive.close()
    if ok is True:
        return payload
    if ok is False:
        raise payload
    code = worker.exitcode
    raise WorkbookError(f"读取工作簿时读取程序异常退出（退出码 {code}），文件 {path.name} 无法读取（可能已损坏或是恶意文件）。请在 Excel 中打开确认后另存为 .xlsx 再试。", path)


def _isolated_worker(conn, path: str, reader: str, memory_mb: int) -> None:
    try:
        import resource

        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):
        pass
    try:
        result = (True, read_workbook(path, reader))
    except WorkbookError as exc:
        result = (False, exc)
    except MemoryError:
        result = (False, WorkbookError(f"读取工作簿所需内存超过上限（{memory_mb} MB），文件 {Path(path).name} 拒绝读取（可能是恶意文件）。请删除多余的行列后重新保存。", path))
    except Exception as exc:  # near the memory cap anything can fail: the file is named, the cause given
        result = (False, WorkbookError(f"读取工作簿 {Path(path).name} 时出错（{type(exc).__name__}），无法读取。请在 Excel 中打开确认后另存为 .xlsx 再试。", path))
    conn.send(result)
    conn.close()
