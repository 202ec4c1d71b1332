"""The pipeline: read → check → narrate → publish.

Every front end — the command line (``cli``), the Excel buttons (``excel``),
batch conversion (``batch``), the bureau's intake (``collect``) and the web
page — calls these functions and nothing else of the core's flow. This module
imports nothing above it: no front end, no batch runner.

    read(path | grid, spec)        -> Reading (the model + what reading found)
    check(reading, spec)           -> Report (findings, 已核实 marks applied)
    subtotals(reading, spec)       -> edits for every computed cell
    narrate(reading, spec)         -> the 情况说明
    publication(reading, spec)     -> what gets printed (元 → 万元 rounding) and its narrative
    write_documents(pub, spec, …)  -> docx / xlsx files (atomic)
    publish(reading, spec, folder) -> docx / xlsx / pdf next to each other (one workbook)

The file-level helpers below (subtotal_file, annotate, write_narrative,
fill_file, rollover_file, write_template) are the same steps with a workbook
file in and a file out. The spec is always passed in: the front end chooses it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

TYPE_CHECKING = False  # not typing's: importing typing costs every command 2 ms at start-up

from .grid import WorkbookGrid, read_workbook
from .model import CellEdit, Disclosure, Finding
from .parse import parse_workbook
from .records import dataclass
from .report import Report
from .spec import Spec

if TYPE_CHECKING:  # imported where used: `check` starts without subtotals or fill
    from .subtotals import SubtotalResult

DOCUMENT_FORMATS = ("docx", "pdf", "xlsx")


class OutputError(ValueError):
    """An output path the user gave cannot be used; the message is for the user."""


# ------------------------------------------------------------------ read


@dataclass(frozen=True, eq=False, repr=False)  # never compared or printed: no methods to generate at start-up
class Reading:
    """A workbook as read: the model (every value with its cell) and the problems reading found."""

    disclosure: Disclosure
    findings: tuple[Finding, ...]


def read_grid(grid: WorkbookGrid, spec: Spec) -> Reading:
    """Grids from any source (file, open Excel workbook) → the model."""
    disclosure, findings = parse_workbook(grid, spec)
    return Reading(disclosure, tuple(findings))


def read(path: str | Path, spec: Spec, reader: str = "calamine") -> Reading:
    """Read and parse a workbook file. Raises WorkbookError for unreadable files."""
    return read_grid(read_workbook(path, reader), spec)


# ------------------------------------------------------------------ check


def check(
    reading: Reading,
    spec: Spec,
    select: list[str] | None = None,
    ignore: list[str] | None = None,
    functional_codes: str | Path | None = None,
    economic_codes: str | Path | None = None,
) -> Report:
    """Run the rule catalogue on a workbook as it was read (figures as entered).

    A formula cell without a computed value (a workbook written by a program, never
    opened in Excel) reads as blank, and P06 says so at the cell; the rules' findings
    naming such a cell are left out: its value is unknown, not zero, and comparing it
    as zero gave a cascade of wrong 错误 (B01, B02, C02, D04 for one total)."""
    from .rules import run_rules, selected
    from .rules.context import CheckContext

    ctx = CheckContext.build(reading.disclosure, spec, functional_codes, economic_codes)
    findings = [f for f in reading.findings if selected(f.code, select, ignore)]
    unknown = {ref for f in reading.findings if f.code == "P06" for ref in f.refs}
    findings += [f for f in run_rules(ctx, select, ignore) if not unknown or unknown.isdisjoint(f.refs)]
    d = reading.disclosure
    return Report(tuple(findings), d.department, d.year, d.source, d.verified)


def subtotals(reading: Reading, spec: Spec) -> SubtotalResult:
    """Every subtotal, total and 表1/表4 figure, as cell edits."""
    from .subtotals import compute

    return compute(reading.disclosure, spec)


# ------------------------------------------------------------------ narrate


def narrate(reading: Reading, spec: Spec, templates: str | Path | None = None):
    """The 情况说明 of a workbook, written from the figures as printed: in 万元, a 元
    workbook's figures rounded once (``render.rounding``), blank computed cells filled in."""
    from .narrative import generate
    from .render.rounding import printable

    return generate(printable(reading.disclosure, spec)[0], spec, templates)


# ------------------------------------------------------------------ publish


@dataclass(frozen=True, eq=False, repr=False)  # never compared or printed: no methods to generate at start-up
class Publication:
    """What gets printed: the model with every figure rounded once for print,
    the narrative written from those printed figures, and the rounding adjustments."""

    model: Disclosure
    narrative: object
    adjustments: tuple

    @property
    def stem(self) -> str:
        from .paths import output_stem

        return output_stem(self.model.department, self.model.year)


def unpublishable(d: Disclosure) -> str | None:
    """Why no disclosure documents can be made of this workbook (its name and year
    are on the cover, in every title and in the file names), or None."""
    if not d.department:
        return "单位信息中没有单位名称，无法命名公开文件。请填写后重试。"
    if not d.year:
        return ("不知道年度，无法生成公开文件：单位信息中的年度未填写或不是四位年份（只有公开表的工作簿，"
                "如已生成的公开用 Excel，也没有年度）。请在标准模板的“单位信息”中填写年度（如 2026）后重试。")
    return None


def publication(reading: Reading, spec: Spec) -> Publication:
    """Raises OutputError (the message says what to fill in) when the workbook has
    no department name or year to print."""
    from .render import prepare
    from .writable import scrub

    reason = unpublishable(reading.disclosure)
    if reason:
        raise OutputError(reason)

    # text no document can hold is cleaned here, once, and recorded (P14 via writable.recording)
    model, narrative, adjustments = prepare(scrub(reading.disclosure), spec)
    return Publication(model, narrative, tuple(adjustments))


def write_documents(pub: Publication, spec: Spec, targets: Mapping[str, Path]) -> dict[str, Path]:
    """Write the docx and/or xlsx named in ``targets`` (format → path), each atomically.
    A PDF is made from the docx (``pdf_files``); ``targets`` may name a docx that is only
    an intermediate for it."""
    made: dict[str, Path] = {}
    if "docx" in targets:
        from .render.docx_document import write_docx

        made["docx"] = write_docx(pub.model, pub.narrative, spec, targets["docx"])
    if "xlsx" in targets:
        from .render.xlsx_publication import write_publication

        made["xlsx"] = write_publication(pub.model, spec, targets["xlsx"])
    return made


def pdf_files(docx_files: Iterable[Path], work: Path) -> dict[Path, Path]:
    """docx → pdf with LibreOffice (one start for all files, kept running so the
    目录 gets its page numbers; see render/office.py); missing entries failed.
    Raises ``render.pdf.PdfUnavailable`` when there is no LibreOffice."""
    from .render import office, pdf

    pdf.soffice()
    files = list(docx_files)
    (work / "pdf").mkdir(parents=True, exist_ok=True)
    targets = {f: work / "pdf" / f"{i}.pdf" for i, f in enumerate(files)}
    done = office.convert_many(list(targets.items()), work / "office")
    return {f: t for f, t in targets.items() if done.get(f) is not None}


def publish(reading: Reading, spec: Spec, folder: Path, formats: Iterable[str] = DOCUMENT_FORMATS) -> tuple[list[Path], str]:
    """The disclosure files of one workbook in ``folder``: (files made, a note for the
    user about any format that could not be made). Every file appears complete or not at all."""
    import os
    import shutil
    import tempfile

    from .render.pdf import PdfUnavailable

    formats = tuple(formats)
    pub = publication(reading, spec)
    stem = pub.stem
    work = Path(tempfile.mkdtemp(prefix=f".budgetxl.{os.getpid()}.part", dir=folder))
    try:
        parts = {ext: work / f"{stem}.{ext}" for ext in ("docx", "xlsx") if ext in formats or (ext == "docx" and "pdf" in formats)}
        made = write_documents(pub, spec, parts)
        note = ""
        if "pdf" in formats:
            try:
                pdfs = pdf_files([made["docx"]], work)
                if pdfs.get(made["docx"]):
                    made["pdf"] = pdfs[made["docx"]]
                else:
                    note = "LibreOffice 未能生成 PDF（Word 文件已生成，可在 Word/WPS 中另存为 PDF）。"
            except PdfUnavailable as exc:
                note = str(exc)
        out = []
        for ext in DOCUMENT_FORMATS:
            if ext in formats and ext in made:
                target = folder / f"{stem}.{ext}"
                os.replace(made[ext], target)  # work/ is inside folder: an atomic rename
                out.append(target)
        return out, note
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ------------------------------------------------------------------ files in, files out


def _check_target(source: Path, target: Path | None, in_place: bool) -> Path:
    if in_place:
        return source
    if target is None:
        raise OutputError("请用 -o 指定输出文件，或用 --in-place 直接修改原文件。")
    if target.resolve() == source.resolve():
        raise OutputError("输出文件与输入文件相同。如确需修改原文件，请使用 --in-place。")
    return target


def annotate(reading: Reading, report: Report, spec: Spec, source: str | Path, target: str | Path, finish=None) -> Path:
    """A copy of the workbook with a 校验结果 sheet and the offending cells highlighted.
    ``finish(workbook)``, when given, adds to the copy before it is saved (the bureau's 反馈说明)."""
    from .report import highlight_edits, result_sheet
    from .xlsx_writer import write_annotated

    source, target = Path(source), Path(target)
    if target.resolve() == source.resolve():
        raise OutputError("--annotate 的输出文件不能与输入文件相同。")
    edits = highlight_edits(report)  # the writer skips cells on sheets the workbook does not have
    return write_annotated(source, target, result_sheet(report, spec.layout.result_sheet), edits, dict(spec.colors), finish)


def write_narrative(reading: Reading, narrative, spec: Spec, source: str | Path, target: str | Path | None, in_place: bool = False) -> Path:
    """Write the 情况说明 sheet (one paragraph a row, editable) into a copy, or in place."""
    from .narrative.sheet import narrative_sheet
    from .xlsx_writer import write_sheet

    source = Path(source)
    target = _check_target(source, Path(target) if target else None, in_place)
    return write_sheet(source, target, narrative_sheet(narrative, spec.layout.narrative_sheet))


@dataclass(frozen=True, eq=False, repr=False)  # never compared or printed: no methods to generate at start-up
class SubtotalRun:
    """What 计算小计 did to a file: the computed edits, where they went, and the problems found."""

    result: SubtotalResult
    read_findings: tuple[Finding, ...]
    target: Path
    applied: tuple[CellEdit, ...] | None = None  # the edits written (None: all of result.edits)
    write_findings: tuple[Finding, ...] = ()  # edits the file could not take (merged cells: S03)

    @property
    def edits(self) -> tuple[CellEdit, ...]:
        """The changes made — never one that was not written."""
        return self.result.edits if self.applied is None else self.applied


def subtotal_file(path: str | Path, spec: Spec, out: str | Path | None = None, in_place: bool = False) -> SubtotalRun:
    from .problems import problem
    from .subtotals import compute
    from .xlsx_writer import write_computed

    source = Path(path)
    target = _check_target(source, Path(out) if out else None, in_place)
    reading = read(source, spec)
    result = compute(reading.disclosure, spec)
    _, applied, refused = write_computed(source, list(result.edits), target)
    findings = tuple(
        problem("S03", f"{rng} 是合并单元格，而 {'、'.join(e.ref.a1 for e in group)} 各有一个计算结果"
                f"（{'、'.join(str(e.value) for e in group)}）；合并单元格只能保存一个值，这些单元格未写入。"
                "请取消合并（“开始 > 合并后居中”），再运行“计算小计”。", [e.ref for e in group])
        for rng, group in refused.items()
    )
    return SubtotalRun(result, reading.findings, target, tuple(applied), findings)


def fill_file(data_path: str | Path, out: str | Path, spec: Spec, template: str | Path | None = None) -> Path:
    """Build a filled workbook from a data file (TOML/JSON) and the template."""
    from .fill import fill_edits, load_data, row_counts
    from .io_atomic import atomic_save
    from .template import build_template
    from .xlsx_writer import apply_edits, load_for

    data = load_data(data_path)
    counts = {} if template else row_counts(spec, data)  # the built template grows with the data
    edits = fill_edits(spec, data, counts)
    wb = load_for(template, out) if template else build_template(spec, counts)
    apply_edits(wb, edits)
    return atomic_save(wb, Path(out))


def rollover_file(path: str | Path, out: str | Path, spec: Spec) -> tuple[Path, int]:
    """Next year's workbook from this year's; returns the path and the number of 上年数 carried."""
    from .fill import fill_edits
    from .io_atomic import atomic_save
    from .rollover import rollover_data
    from .subtotals import with_blanks_filled
    from .template import build_template
    from .xlsx_writer import apply_edits

    source, target = Path(path), Path(out)
    if target.resolve() == source.resolve():
        raise OutputError("新年度工作簿不能覆盖上一年度的工作簿，请另选文件名。")
    reading = read(source, spec)
    data = rollover_data(with_blanks_filled(reading.disclosure, spec), spec)
    wb = build_template(spec)
    apply_edits(wb, fill_edits(spec, data))
    return atomic_save(wb, target), len(data["priors"])


def write_template(out: str | Path, spec: Spec) -> Path:
    from .template import write_template as _write

    return _write(Path(out), spec)
