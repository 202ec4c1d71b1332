"""The Excel adapter: entry points for the buttons (VBA ``RunPython`` in macros/).

Each entry point takes the calling workbook (``xw.Book.caller()`` by default,
or ``book=`` for tests and the remote engine), reads every sheet in one bulk
call into the same grids the file reader produces, runs the same core, and
applies the resulting cell edits in as few bulk calls as possible (one per
contiguous block). What counts is the workbook as it is open in Excel,
unsaved edits included: nothing is re-read from disk. The user sees Chinese
messages, never a Python traceback.

This is the only module that imports xlwings.
"""

from __future__ import annotations

import traceback
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterable


def _import_xlwings():
    """xlwings imports pandas when it can (≈0.3 s, a third of a button's wait)
    for converters the buttons never use: keep it from doing so, then let any
    later `import pandas` in this process work as usual."""
    import sys

    if "pandas" in sys.modules:
        import xlwings

        return xlwings
    sys.modules["pandas"] = None  # type: ignore[assignment]  # makes `import pandas` raise ImportError
    try:
        import xlwings
    finally:
        del sys.modules["pandas"]
    return xlwings


xw = _import_xlwings()

from . import pipeline  # noqa: E402
from .grid import WorkbookGrid, grid_from_values  # noqa: E402
from .model import CellEdit, CellRef, Severity, SheetContent  # noqa: E402
from .records import dataclass
from .spec import DEFAULT_SPEC, Spec, load_spec  # noqa: E402

TITLE = "budgetxl"


def _spec() -> Spec:
    """The buttons' spec: the default one (the workbook was made from its template)."""
    return load_spec(DEFAULT_SPEC)


def color(spec: Spec, style: str | None) -> str | None:
    """A style of the spec's palette as Excel wants it ('#RRGGBB'); None clears."""
    rgb = spec.color(style) if style else None
    return f"#{rgb}" if rgb else None


# ------------------------------------------------------------------ reading


def read_grid(book) -> WorkbookGrid:
    """Every sheet's values in one read per sheet, from A1 to the last used cell."""
    sheets = []
    for sheet in book.sheets:
        last = sheet.used_range.last_cell
        values = sheet.range((1, 1), (last.row, last.column)).options(ndim=2).value  # always rows × columns
        sheets.append((sheet.name, values))
    return grid_from_values(sheets, source=getattr(book, "name", "<Excel>"), reader="xlwings")


# ------------------------------------------------------------------ writing


def _excel_value(value: Any) -> Any:
    """The Excel boundary: cells hold IEEE doubles, so a Decimal leaves as the
    double nearest to it (exact for every amount with two decimals below 10^13)."""
    if isinstance(value, Decimal):
        return float(value)  # Excel cannot store a Decimal; this is the only place money becomes a double
    if isinstance(value, str) and value.startswith(("=", "+", "-", "@")):
        return "'" + value  # Excel's text prefix: department text never runs as a formula
    return value


@dataclass(frozen=True)
class Block:
    sheet: str
    row: int
    col: int
    values: list[list[Any]]


def blocks(edits: Iterable[CellEdit]) -> list[Block]:
    """Group value edits into rectangles of adjacent cells: one write each."""
    by_sheet: dict[str, dict[tuple[int, int], Any]] = {}
    for e in edits:
        by_sheet.setdefault(e.ref.sheet, {})[(e.ref.row, e.ref.col)] = _excel_value(e.value)
    out = []
    for sheet, cells in by_sheet.items():
        runs: list[tuple[int, int, int]] = []  # row, first col, last col
        for (r, c) in sorted(cells):
            if runs and runs[-1][0] == r and runs[-1][2] == c - 1:
                runs[-1] = (r, runs[-1][1], c)
            else:
                runs.append((r, c, c))
        rects: list[list[tuple[int, int, int]]] = []
        for run in runs:  # stack runs with the same columns on consecutive rows
            if rects and rects[-1][-1][0] == run[0] - 1 and rects[-1][-1][1:] == run[1:]:
                rects[-1].append(run)
            else:
                rects.append([run])
        for rect in rects:
            r0, c0, c1 = rect[0]
            values = [[cells[(r, c)] for c in range(c0, c1 + 1)] for r, _, _ in rect]
            out.append(Block(sheet, r0, c0, values))
    return out


def apply_values(book, edits: Iterable[CellEdit]) -> int:
    """Write edits as blocks; returns the number of writes."""
    written = 0
    for b in blocks(edits):
        book.sheets[b.sheet].range((b.row, b.col)).value = b.values
        written += 1
    return written


def apply_colors(book, refs_colors: Iterable[tuple[CellRef, str | None]]) -> int:
    """Colour cells, one call per run of adjacent cells of the same colour."""
    groups: dict[tuple[str, str | None], list[CellRef]] = {}
    for ref, color in refs_colors:
        groups.setdefault((ref.sheet, color), []).append(ref)
    calls = 0
    for (sheet, color), refs in groups.items():
        for b in blocks(CellEdit(r, color) for r in refs):
            last = (b.row + len(b.values) - 1, b.col + len(b.values[0]) - 1)
            book.sheets[sheet].range((b.row, b.col), last).color = color
            calls += 1
    return calls


def put_sheet(book, content: SheetContent) -> None:
    """(Re)fill a whole sheet (校验结果, 情况说明) in one write, then its links
    (each jumps to the cell it names) and drop-downs: the same content the file
    writer puts in ``check --annotate``."""
    names = [s.name for s in book.sheets]
    if content.name in names:
        sheet = book.sheets[content.name]
        sheet.clear_contents()
    else:
        sheet = book.sheets.add(content.name, before=book.sheets[0])  # first, where it is seen
    rows = [list(content.header), *[[_excel_value(v) for v in row] for row in content.rows]]
    sheet.range((1, 1)).value = rows
    for (i, c), ref in content.links.items():
        sheet.range((i + 2, c + 1)).add_hyperlink(f"#{ref}", str(content.rows[i][c]).split("；")[0], "转到该单元格")
    for c, values in content.choices.items():
        target = sheet.range((2, c + 1), (max(2, len(content.rows) + 200), c + 1))
        try:  # Windows/macOS Excel: the Validation object (xlValidateList, xlValidAlertStop, xlBetween)
            target.api.Validation.Delete()
            target.api.Validation.Add(3, 1, 1, ",".join(values))
        except Exception:  # engines without it (the remote engine's VBA client): the column is still typed by hand
            pass


# ------------------------------------------------------------------ messages


def _tell(book, message: str) -> None:
    try:
        book.app.alert(message, title=TITLE)
    except Exception:  # engines without message boxes: the status bar, else nothing
        try:
            book.app.status_bar = message
        except Exception:
            pass


def _entry(action: Callable[[Any], str]) -> Callable[..., str]:
    """Wrap an entry point: the calling workbook by default, Chinese messages, no traceback."""

    def run(book=None) -> str:
        book = book or xw.Book.caller()
        try:
            message = action(book)
        except Exception as exc:
            where = traceback.extract_tb(exc.__traceback__)[-1]
            message = (
                f"操作没有完成：{getattr(exc, 'message', None) or type(exc).__name__}"
                f"（{Path(where.filename).name} 第{where.lineno}行）。工作簿未被修改。如问题持续，请把工作簿发给维护人员。"
            )
        _tell(book, message)
        return message

    run.__name__ = action.__name__
    run.__doc__ = action.__doc__
    return run


# ------------------------------------------------------------------ buttons


def _reading(book):
    """The spec and the open workbook, read (one read per sheet) and parsed."""
    spec = _spec()
    return spec, pipeline.read_grid(read_grid(book), spec)


@_entry
def subtotal(book) -> str:
    """计算小计: every subtotal, total and 表1/表4 figure, written into the open workbook."""
    spec, reading = _reading(book)
    result = pipeline.subtotals(reading, spec)
    writes = apply_values(book, result.edits)
    problems = len(reading.findings) + len(result.findings)
    tail = f"；另有 {problems} 个读取问题，请运行“校验”查看" if problems else ""
    return f"计算小计完成：改动 {len(result.edits)} 个单元格（写入 {writes} 次）{tail}。"


@_entry
def check(book) -> str:
    """校验: the 校验结果 sheet, offending cells coloured, the first 错误 selected."""
    from .report import highlight_edits, result_sheet

    spec, reading = _reading(book)
    report = pipeline.check(reading, spec)
    put_sheet(book, result_sheet(report, spec.layout.result_sheet))
    marks = highlight_edits(report, [s.name for s in book.sheets])
    apply_colors(book, ((e.ref, color(spec, e.style)) for e in marks))
    first = next((f for f in report.ordered() if f.severity == Severity.ERROR and f.refs), None)
    if first is not None:
        try:
            sheet = book.sheets[first.refs[0].sheet]
            sheet.activate()
            sheet.range(first.refs[0].a1).select()
        except Exception:
            pass  # a hidden or protected sheet cannot be selected: the result sheet still says where
    return f"校验完成：{report.summary_text()}。详见“校验结果”工作表。"


@_entry
def narrate(book) -> str:
    """生成说明: the 情况说明 sheet, one paragraph a row, editable."""
    from .narrative.sheet import narrative_sheet

    spec, reading = _reading(book)
    narrative = pipeline.narrate(reading, spec)
    put_sheet(book, narrative_sheet(narrative, spec.layout.narrative_sheet))
    return f"已生成情况说明：{sum(len(s.paragraphs) for s in narrative.sections)} 段，见“情况说明”工作表，可直接修改；修改后再“校验”会核对其中的数字。"


@_entry
def export(book) -> str:
    """导出公开文件: docx, pdf and xlsx next to the workbook (from what is open, saved or not)."""
    folder = Path(getattr(book, "fullname", "") or "").parent
    if not str(folder) or str(folder) == "." or not folder.exists():
        return "请先把工作簿保存到本机文件夹，公开文件会生成在同一文件夹中。"
    spec, reading = _reading(book)
    report = pipeline.check(reading, spec)
    if report.has_errors:
        return f"有 {report.count(Severity.ERROR)} 个“错误”，未导出。请先“校验”并改正。"
    reason = pipeline.unpublishable(reading.disclosure)
    if reason:
        return reason
    pdf_routes(book)  # puts LibreOffice's install folder on PATH when PATH lacks it
    made, note = pipeline.publish(reading, spec, folder)
    if not any(p.suffix == ".pdf" for p in made):
        pdf, note = pdf_without_libreoffice(book, made, note)
        made += [pdf] if pdf else []
    return f"已导出：{'、'.join(p.name for p in made)}（在 {folder}）。{note}"


# ------------------------------------------------------------------ PDF without LibreOffice

LIBREOFFICE, WORD, EXCEL = "LibreOffice", "Word", "Excel"


def _libreoffice_folder() -> Path | None:
    """LibreOffice's program folder where its installer puts it (Windows does not add it to PATH)."""
    import os
    import platform

    if platform.system() == "Windows":
        roots = [os.environ.get(k, "") for k in ("ProgramFiles", "ProgramFiles(x86)", "ProgramW6432")]
        candidates = [Path(r) / "LibreOffice" / "program" for r in roots if r]
    elif platform.system() == "Darwin":
        candidates = [Path("/Applications/LibreOffice.app/Contents/MacOS")]
    else:
        return None
    return next((c for c in candidates if (c / "soffice.exe").exists() or (c / "soffice").exists()), None)


def _word_installed() -> bool:
    import platform

    if platform.system() != "Windows":
        return False
    try:
        import winreg

        winreg.CloseKey(winreg.OpenKey(winreg.HKEY_CLASSES_ROOT, "Word.Application"))
        import win32com.client  # noqa: F401  (pywin32 comes with xlwings on Windows)
    except Exception:
        return False
    return True


def pdf_routes(book) -> list[str]:
    """The ways this computer can make the PDF, best first.

    LibreOffice gives the same PDF as `budgetxl convert` (the Word file converted); Word
    saves the Word file as PDF (Windows); Excel — the Excel the button runs in — exports
    the publication workbook with ExportAsFixedFormat: the tables only."""
    import os
    import shutil

    routes = []
    folder = _libreoffice_folder()
    if folder is not None and not shutil.which("soffice"):
        os.environ["PATH"] = f"{folder}{os.pathsep}{os.environ.get('PATH', '')}"  # this button's process only
    if shutil.which("soffice") or shutil.which("libreoffice"):
        routes.append(LIBREOFFICE)
    if _word_installed():
        routes.append(WORD)
    if getattr(getattr(book.app, "engine", None), "name", "") == "excel":  # not the remote engine
        routes.append(EXCEL)
    return routes


def pdf_without_libreoffice(book, made: list[Path], note: str) -> tuple[Path | None, str]:
    """When LibreOffice made no PDF: Word, then the Excel the button runs in. Returns the PDF
    (or None) and the sentence for the message — never silent about a missing PDF."""
    import os
    import shutil
    import tempfile

    docx = next((p for p in made if p.suffix == ".docx"), None)
    xlsx = next((p for p in made if p.suffix == ".xlsx"), None)
    if docx is None or xlsx is None:
        return None, note
    target = docx.with_suffix(".pdf")
    routes = pdf_routes(book)
    tried = [LIBREOFFICE] if LIBREOFFICE in routes else []  # publish() tried it already
    for route in [r for r in routes if r != LIBREOFFICE]:
        work = Path(tempfile.mkdtemp(prefix=f".budgetxl.{os.getpid()}.part", dir=target.parent))
        try:
            part = work / target.name
            if route == WORD:
                _word_to_pdf(docx, part)
            else:
                _excel_to_pdf(book, xlsx, part)
            if part.exists() and part.stat().st_size > 0:
                os.replace(part, target)  # complete, then under its final name
                if route == EXCEL:
                    return target, f"PDF 由 Excel 导出，只含公开表格；含情况说明的完整 PDF 请在 Word 中打开 {docx.name} 另存为 PDF。"
                return target, "PDF 由 Word 生成。"
            tried.append(route)
        except Exception:
            tried.append(route)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    if tried:
        reason = f"{'、'.join(tried)} 未能生成 PDF" + ("" if len(tried) > 1 else "，本机也无法调用 Word 或 Excel 导出 PDF")
    else:
        reason = "本机没有找到 LibreOffice，也无法调用 Word 或 Excel 导出 PDF"
    return None, f"未生成 PDF：{reason}。请在 Word 中打开 {docx.name} 另存为 PDF，或安装 LibreOffice 后再导出。"


def _word_to_pdf(docx: Path, target: Path) -> None:
    import win32com.client

    word = win32com.client.DispatchEx("Word.Application")  # a separate, invisible Word
    try:
        document = word.Documents.Open(str(docx), ReadOnly=True)
        document.ExportAsFixedFormat(str(target), 17)  # wdExportFormatPDF
        document.Close(False)
    finally:
        word.Quit()


def _excel_to_pdf(book, xlsx: Path, target: Path) -> None:
    publication = book.app.books.open(str(xlsx))  # in the Excel the button runs in
    try:
        publication.to_pdf(str(target))  # Workbook.ExportAsFixedFormat
    finally:
        publication.close()


@_entry
def clear_marks(book) -> str:
    """清除标记: undo the colours 校验 put on cells (every cell of every finding the
    校验结果 sheet lists), restoring the template's shading."""
    spec = _spec()
    reading = pipeline.read_grid(read_grid(book), spec)
    if spec.layout.result_sheet not in [s.name for s in book.sheets]:
        return f"没有“{spec.layout.result_sheet}”工作表，无需清除。"
    computed = _computed_cells(reading, spec)
    present = {s.name for s in book.sheets}
    refs = {r for mark in reading.disclosure.review for r in mark.refs if r.sheet in present}
    apply_colors(book, ((r, color(spec, "computed") if r in computed else None) for r in refs))
    return f"已清除 {len(refs)} 个单元格的标记。"


def _computed_cells(reading, spec) -> set[CellRef]:
    """Cells the template shades: what 计算小计 writes (the spec says which)."""
    cells = {e.ref for e in pipeline.subtotals(reading, spec).edits}
    for t in spec.tables:
        table = reading.disclosure.tables.get(t.key)
        if table is None:
            continue
        fixed = {r.key: r for r in t.left_rows}
        for row in table.rows:
            for key, a in row.values.items():
                column = next((c for c in t.columns if c.key == key and c.role == "amount" and (c.side is None or c.side == row.side)), None)
                if column is not None and t.is_computed(row.kind, column, fixed.get(row.key) if row.key else None):
                    cells.add(a.ref)
    return cells


ENTRY_POINTS = {"subtotal": subtotal, "check": check, "narrate": narrate, "export": export, "clear_marks": clear_marks}
