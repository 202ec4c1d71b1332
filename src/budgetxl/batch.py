"""Batch conversion (``budgetxl convert``): many workbooks → published documents.

A front end over the pipeline: each workbook is read, checked and rendered by
``pipeline`` functions; this module adds what a batch needs — worker
processes, progress, one result per file, and atomic file names.

Stage 1 renders each workbook in a worker process (read, check, print model,
narrative, docx/xlsx). Stage 2 converts the Word files to PDF with LibreOffice
kept running for the whole batch (one per worker), each file as soon as stage 1
has made it. Every file is written under
a temporary name and renamed when complete, so an interrupted run leaves no
partial file under a final name; a rerun skips what is already there and
cleans up what a killed run left behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import Callable

from .io_atomic import remove_abandoned_parts
from .paths import find_workbooks, fit_bytes, output_stem  # noqa: F401  (find_workbooks: the CLI's)
from .records import dataclass, field
from .spec import Spec

FORMATS = ("docx", "pdf", "xlsx")
OK, SKIPPED, REFUSED, FAILED = "完成", "跳过", "未转换", "失败"


@dataclass(frozen=True)
class Job:
    source: Path
    outdir: Path
    formats: tuple[str, ...]
    force: bool = False
    overwrite: bool = False
    spec: Spec | None = None  # always given by convert_all; picklable for the worker processes


@dataclass
class Result:
    source: Path
    status: str
    message: str = ""
    outputs: list[Path] = field(default_factory=list)  # final files written
    stem: str = ""
    targets: dict[str, Path] = field(default_factory=dict)  # format -> final path
    parts: dict[str, Path] = field(default_factory=dict)  # format -> complete file under a temporary name
    pdf_from: Path | None = None  # the docx stage 2 converts
    pdf_stage_done: bool = False
    adjustments: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def render_one(job: Job) -> Result:
    """Stage 1, in a worker process. Never raises: every failure is a Result.
    Text no document can hold is cleaned where it is written; each cleaning is
    reported in the result's message (P14)."""
    from .io_atomic import OutputFailed, environment_message
    from .paths import other_format, screen
    from .writable import findings, recording

    refusal = screen(job.source) or other_format(job.source)
    if refusal:
        return Result(job.source, FAILED, refusal)
    try:
        with recording() as cleaned:
            result = _render(job)
        if cleaned:
            notes = join_sentences(f"{f.code} {f.message}" for f in findings(cleaned))
            result.message = join_sentences(x for x in (result.message, notes) if x)
        return result
    except OutputFailed as exc:  # the environment, not the workbook
        return Result(job.source, FAILED, exc.message)
    except OSError as exc:
        return Result(job.source, FAILED, environment_message(exc, exc.filename or job.outdir))
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # a broken workbook (even a reader panic) must not stop the batch
        where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
        at = f"（{Path(where.filename).name} 第{where.lineno}行）" if where else ""
        return Result(job.source, FAILED, f"处理时出错：{type(exc).__name__}{at}。请把工作簿发给维护人员。")


def _render(job: Job) -> Result:
    from . import pipeline
    from .grid import WorkbookError
    from .model import Severity

    spec = job.spec
    t0 = time.perf_counter()
    try:
        reading = pipeline.read(job.source, spec)
    except WorkbookError as exc:
        return Result(job.source, FAILED, exc.message)
    report = pipeline.check(reading, spec)
    d = reading.disclosure
    seconds = {"read+check": time.perf_counter() - t0}
    reason = pipeline.unpublishable(d)
    if reason:
        return Result(job.source, FAILED, reason, seconds=seconds)
    if report.has_errors and not job.force:
        first = next(f for f in report.ordered() if f.severity == Severity.ERROR)
        return Result(job.source, REFUSED, f"有 {report.count(first.severity)} 个“错误”，未转换（改正后重试，或用 --force）。第一个：{first.code} {first.message}", seconds=seconds)
    stem = output_stem(d.department, d.year)
    targets = {ext: job.outdir / f"{stem}.{ext}" for ext in job.formats}
    todo = {ext: p for ext, p in targets.items() if job.overwrite or not p.exists()}
    if not todo:
        return Result(job.source, SKIPPED, "公开文件已存在（用 --overwrite 重新生成）", list(targets.values()), stem, seconds=seconds)
    t1 = time.perf_counter()
    pub = pipeline.publication(reading, spec)
    seconds["narrative"] = time.perf_counter() - t1
    result = Result(job.source, OK, "", [], stem, todo, adjustments=[str(a) for a in pub.adjustments], seconds=seconds)
    part = lambda ext: job.outdir / f".{fit_bytes(stem, 60)}.{os.getpid()}.{time.monotonic_ns()}.part.{ext}"  # noqa: E731
    for ext in ("docx", "xlsx"):
        if ext in todo or (ext == "docx" and "pdf" in todo):
            t = time.perf_counter()
            path = pipeline.write_documents(pub, spec, {ext: part(ext)})[ext]
            seconds[ext] = time.perf_counter() - t
            if ext in todo:
                result.parts[ext] = path
            if ext == "docx" and "pdf" in todo:
                result.pdf_from = path
    skipped = [ext for ext in targets if ext not in todo]
    if skipped:
        result.message = f"{'、'.join(skipped)} 已存在，未覆盖"
    return result


class _PdfStage:
    """Stage 2: docx → pdf while stage 1 is still rendering. One persistent
    LibreOffice per worker for the whole batch (render/office.py), started
    with the batch; the one-shot ``soffice --convert-to`` as fallback."""

    def __init__(self, outdir: Path, workers: int):
        from .render import office, pdf

        self.unavailable = ""
        self.pool = None
        self.pairs: dict[Path, tuple[Result, Path]] = {}
        self.placed: set[Path] = set()  # sources whose PDF is already under its final name
        self.lock = threading.Lock()
        try:
            pdf.soffice()
        except pdf.PdfUnavailable as exc:
            self.unavailable = str(exc)
            return
        # work/ is inside outdir: a finished PDF is renamed atomically
        self.work = Path(tempfile.mkdtemp(prefix=f".budgetxl-pdf.{os.getpid()}.part", dir=outdir))
        # the offices start now, their threads once the worker processes are forked
        self.pool = office.PdfPool(self.work, workers, threads=False, on_done=self._place)

    def _place(self, source: Path, made: Path) -> None:
        """A finished PDF goes under its final name at once (an interrupted batch keeps it)."""
        with self.lock:
            r, _ = self.pairs[source]
        try:
            os.replace(made, r.targets["pdf"])
        except OSError:
            return  # finish() tries again and reports
        with self.lock:
            self.placed.add(source)

    def start_threads(self) -> None:
        if self.pool is not None:
            self.pool.start_threads()

    def submit(self, r: Result) -> None:
        if r.status != OK or r.pdf_from is None:
            return
        if self.pool is None:
            r.message = self.unavailable
            return
        made = self.work / f"{len(self.pairs)}.pdf"
        with self.lock:
            self.pairs[r.pdf_from] = (r, made)
        self.pool.submit(r.pdf_from, made)

    def finish(self, results: list[Result]) -> None:
        try:
            done = self.pool.finish() if self.pool else {}
            for src, (r, made) in self.pairs.items():
                seconds = done.get(src)
                if src in self.placed:
                    r.seconds["pdf"] = seconds
                    r.outputs.append(r.targets["pdf"])
                    continue
                if seconds is None or not made.exists():
                    r.message = "LibreOffice 未能生成 PDF（Word 文件已生成，可在 Word/WPS 中另存为 PDF）。"
                    continue
                r.seconds["pdf"] = seconds
                os.replace(made, r.targets["pdf"])
                r.outputs.append(r.targets["pdf"])
                if src in self.pool.oneshot:
                    note = "PDF 的目录没有页码（LibreOffice 未能常驻运行，例如缺少 python3-uno；装好后用 --overwrite 重新生成）"
                    r.message = join_sentences((r.message, note))
        finally:
            self.close()
        for r in results:
            r.pdf_stage_done = True

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
            shutil.rmtree(self.work, ignore_errors=True)
            self.pool = None


def convert_all(
    sources: list[Path],
    outdir: Path,
    formats: tuple[str, ...] = FORMATS,
    workers: int = 1,
    force: bool = False,
    overwrite: bool = False,
    spec: Spec | None = None,
    progress: Callable[[int, int, Result], None] | None = None,
) -> list[Result]:
    from . import isolate
    from .io_atomic import OutputFailed, environment_message

    if spec is None:
        raise TypeError("convert_all needs the spec the front end chose")
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputFailed(environment_message(exc, outdir), outdir) from exc
    remove_abandoned_parts(outdir)
    jobs = [Job(s, outdir, formats, force, overwrite, spec) for s in sources]
    inputs = {_key(s) for s in sources}
    position: dict[int, int] = {}
    results: list[Result] = []
    waiting: dict[int, Result] = {}  # finished before an earlier workbook: taken in the order given
    owners: dict[str, Path] = {}

    # LibreOffice starts first, so that its start-up overlaps everything else; the
    # threads that feed it start with the first result, when the worker
    # processes are forked (no process is forked while threads run)
    pdfs: _PdfStage | None = None

    def done(result: Result) -> None:
        _claim(result, owners, inputs)
        _finish(result)  # docx and xlsx get their final names as soon as they are complete
        if pdfs:
            pdfs.start_threads()
            pdfs.submit(result)  # converted while the next workbooks render
        results.append(result)
        if progress:
            progress(len(results), len(jobs), result)

    # every workbook in a worker process of its own (isolate): an abort in a native
    # reader costs that file only, and the result names it
    try:
        if "pdf" in formats and jobs:
            pdfs = _PdfStage(outdir, workers)
        if len(jobs) > 1:
            _warm(spec, formats)
        # taken in the order given, whatever order they finish in: of two workbooks of one
        # department and year the first given is published, with -j 1 or -j 2 alike
        for index, result in isolate.run(render_one, jobs, (), workers):
            if isinstance(result, isolate.Died):
                result = Result(jobs[index].source, FAILED, result.message)
            position[id(result)] = index
            waiting[index] = result
            while len(results) in waiting:
                done(waiting.pop(len(results)))
        results.sort(key=lambda r: position[id(r)])
        if pdfs:
            pdfs.finish(results)
        else:
            for r in results:
                r.pdf_stage_done = True
    except BaseException:
        # interrupted (Ctrl-C) or failed: no temporary file stays behind; complete files keep their names
        if pdfs:
            pdfs.close()  # stop the offices
            pdfs = None
        for r in [*results, *waiting.values()]:
            for p in [*r.parts.values(), *([r.pdf_from] if r.pdf_from and r.pdf_from not in r.outputs else [])]:
                Path(p).unlink(missing_ok=True)
        remove_abandoned_parts(outdir)
        raise
    finally:
        if pdfs:
            pdfs.close()
    for r in results:
        _finish(r)
    return results


def _warm(spec: Spec, formats: tuple[str, ...]) -> None:
    """Import the rendering code and build the per-process document skeletons
    once, in this process, before the worker processes are forked (isolate
    forks where it can): they inherit them instead of each paying for them
    (about 0.4 CPU-s a worker)."""
    import multiprocessing as mp

    if "fork" not in mp.get_all_start_methods():
        return
    from . import pipeline, rules  # noqa: F401  (read, check)
    from .render import warm

    try:
        import python_calamine  # noqa: F401  (the reader's engine)
    except ImportError:
        pass
    warm(spec, formats)


def join_sentences(parts) -> str:
    """Sentences one after another: "；" between them, not after a full stop ("。；")."""
    out = ""
    for part in parts:
        if out:
            out += "" if out.endswith(("。", "；", "！", "？")) else "；"
        out += part
    return out


def _key(p: Path):
    try:
        return Path(p).resolve()
    except (OSError, RuntimeError):
        return Path(p).absolute()


def _finish(r: Result) -> None:
    """Move every complete file to its final name; drop the temporary docx once
    the PDF stage no longer needs it; report formats that were not made."""
    if r.status == OK:
        for ext, part in list(r.parts.items()):
            os.replace(part, r.targets[ext])  # atomic: same folder
            r.outputs.append(r.targets[ext])
            del r.parts[ext]
            if r.pdf_from == part:
                r.pdf_from = r.targets[ext]  # the PDF stage converts the final docx
    for part in r.parts.values():
        part.unlink(missing_ok=True)
    r.parts = {}
    if r.pdf_from is not None and r.pdf_stage_done and r.pdf_from not in r.outputs:
        r.pdf_from.unlink(missing_ok=True)
        r.pdf_from = None
    if r.status == OK and r.pdf_stage_done:
        missing = [ext for ext in r.targets if r.targets[ext] not in r.outputs]
        if missing:
            r.status = FAILED
            r.message = r.message or f"{'、'.join(missing)} 未生成"


def _claim(r: Result, owners: dict[str, Path], inputs: set = frozenset()) -> None:
    """Two workbooks of the same department and year would write the same file:
    the first keeps it, the others are reported. An output never replaces an input."""
    if r.status not in (OK, SKIPPED) or not r.stem:
        return
    clash = [t for t in r.targets.values() if _key(t) in inputs]
    if clash and r.status == OK:
        r.status = FAILED
        r.message = f"输出文件 {clash[0].name} 是本次的输入工作簿，未覆盖。请换一个输出目录。"
        for p in [*r.parts.values(), *([r.pdf_from] if r.pdf_from else [])]:
            p.unlink(missing_ok=True)
        r.parts, r.pdf_from = {}, None
        return
    if r.stem in owners:  # (a skip may be this run's own earlier file)
        r.status = FAILED
        r.outputs = []  # the file there is the other workbook's
        r.message = f"与 {owners[r.stem].name} 是同一单位、同一年度，输出文件同名，未覆盖。请核对单位名称。"
        for p in [*r.parts.values(), *([r.pdf_from] if r.pdf_from else [])]:
            p.unlink(missing_ok=True)
        r.parts, r.pdf_from = {}, None
    else:
        owners[r.stem] = r.source
