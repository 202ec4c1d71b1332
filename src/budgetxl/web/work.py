"""The work the web server sends to its worker processes: reading, checking and
rendering are CPU-bound, so they run in a process pool and never block the
event loop. Every function takes file paths the server chose (never a name a
user typed) and returns plain, picklable values; a bad workbook is an answer
(a Chinese message), not an exception.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from .. import pipeline
from ..grid import WorkbookError
from ..records import dataclass
from ..report import Report
from ..spec import Spec

# what the local page offers: kind -> (label, file name after the stem, media type)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DOWNLOADS = {
    "annotated": ("带校验结果的副本", "_校验结果.xlsx", XLSX),
    "subtotal": ("计算小计后的副本", "_小计.xlsx", XLSX),
    "narrative-text": ("情况说明（文本）", "_情况说明.txt", "text/plain; charset=utf-8"),
    "narrative-sheet": ("带“情况说明”工作表的副本", "_情况说明.xlsx", XLSX),
    "docx": ("公开文件（Word）", ".docx", DOCX),
    "xlsx": ("公开文件（Excel）", ".xlsx", XLSX),
    "pdf": ("公开文件（PDF）", ".pdf", "application/pdf"),
}


@dataclass(frozen=True)
class Checked:
    """A workbook as checked: the report, or why it could not be read."""

    report: Report | None
    error: str = ""
    stem: str = ""


def _read(path: Path, spec: Spec) -> pipeline.Reading:
    try:
        return pipeline.read(path, spec)
    except WorkbookError:
        raise
    except Exception as exc:  # a reader crash on a hostile file is still an answer
        raise WorkbookError(f"无法读取工作簿（{type(exc).__name__}）。请在 Excel 或 WPS 中重新保存为 .xlsx 后再上传。", path) from exc


def check_file(path: str, spec: Spec) -> Checked:
    """``check`` of one uploaded workbook (the same findings as ``budgetxl check``)."""
    try:
        reading = _read(Path(path), spec)
    except WorkbookError as exc:
        return Checked(None, exc.message)
    report = pipeline.check(reading, spec)
    d = reading.disclosure
    from ..paths import output_stem

    return Checked(report, "", output_stem(d.department, d.year))


def make_download(kind: str, source: str, folder: str, spec: Spec) -> tuple[str, str]:
    """Make one download of ``source`` in ``folder`` (fixed names: nothing a user
    typed reaches the file system). Returns (path, note); an empty path means the
    file could not be made and ``note`` says why."""
    source_path, out = Path(source), Path(folder)
    try:
        reading = _read(source_path, spec)
    except WorkbookError as exc:
        return "", exc.message
    if kind == "annotated":
        report = pipeline.check(reading, spec)
        return str(pipeline.annotate(reading, report, spec, source_path, out / "annotated.xlsx")), ""
    if kind == "subtotal":
        return str(pipeline.subtotal_file(source_path, spec, out / "subtotal.xlsx").target), ""
    if kind == "narrative-text":
        target = out / "narrative.txt"
        target.write_text(pipeline.narrate(reading, spec).to_text(), encoding="utf-8")
        return str(target), ""
    if kind == "narrative-sheet":
        narrative = pipeline.narrate(reading, spec)
        return str(pipeline.write_narrative(reading, narrative, spec, source_path, out / "narrative.xlsx")), ""
    if kind in ("docx", "xlsx", "pdf"):
        from ..render.pdf import PdfUnavailable

        reason = pipeline.unpublishable(reading.disclosure)
        if reason:
            return "", reason
        pub = pipeline.publication(reading, spec)
        work = out / f"work-{kind}"
        work.mkdir(exist_ok=True)
        try:
            if kind == "xlsx":
                return str(pipeline.write_documents(pub, spec, {"xlsx": out / "publication.xlsx"})["xlsx"]), ""
            docx = pipeline.write_documents(pub, spec, {"docx": work / "publication.docx"})["docx"]
            if kind == "docx":
                return str(shutil.move(docx, out / "publication.docx")), ""
            try:
                pdf = pipeline.pdf_files([docx], work).get(docx)
            except PdfUnavailable as exc:
                return "", str(exc)
            if not pdf:
                return "", "LibreOffice 未能生成 PDF（可下载 Word 文件，在 Word/WPS 中另存为 PDF）。"
            return str(shutil.move(pdf, out / "publication.pdf")), ""
        finally:
            shutil.rmtree(work, ignore_errors=True)
    raise ValueError(kind)


def feedback_file(source: str, folder: str, spec: Spec) -> tuple[str, str]:
    """The feedback file the bureau sends back: the annotated copy."""
    if not Path(source).is_file():
        return "", "原始文件已不在服务器上（可能已被移走），无法生成反馈文件。"
    return make_download("annotated", source, folder, spec)


def watch_parent(parent: int) -> None:
    """Worker initializer: end this worker as soon as the server that started it
    is gone (stopped with SIGTERM before its workers, or killed with SIGKILL)."""
    from ..isolate import watch_parent as watch

    watch(parent)


def warm() -> bool:
    """Imported once in every worker at start-up, so the first upload is not slow."""
    from .. import rules  # noqa: F401
    from ..render import docx_document  # noqa: F401

    return True
