"""The façade: what the CLI, the Excel buttons and the tests call."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .fill import fill_edits, load_data
from .grid import WorkbookGrid, read_workbook
from .model import CellEdit, Disclosure, Finding
from .parse import parse_workbook
from .report import Report
from .spec import Spec, load_spec
from .subtotals import SubtotalResult, compute


@dataclass(frozen=True)
class Reading:
    disclosure: Disclosure
    findings: tuple[Finding, ...]
    grid: WorkbookGrid


def read_grid(grid: WorkbookGrid, spec: Spec | None = None) -> Reading:
    disclosure, findings = parse_workbook(grid, spec or load_spec())
    return Reading(disclosure, tuple(findings), grid)


def read(path: str | Path, spec: Spec | None = None, reader: str = "calamine") -> Reading:
    """Read and parse a workbook file. Raises WorkbookError for unreadable files."""
    return read_grid(read_workbook(path, reader), spec)


def subtotals(reading: Reading, spec: Spec | None = None) -> SubtotalResult:
    return compute(reading.disclosure, spec or load_spec())


def check(
    reading: Reading,
    spec: Spec | None = None,
    select: list[str] | None = None,
    ignore: list[str] | None = None,
    functional_codes: str | Path | None = None,
    economic_codes: str | Path | None = None,
) -> Report:
    """Run the rule catalogue on a workbook as it was read (figures as entered)."""
    from .narrative.sheet import read_narrative_sheet
    from .report import verified_marks
    from .rules import run_rules, selected
    from .rules.context import CheckContext

    spec = spec or load_spec()
    ctx = CheckContext.build(reading.disclosure, spec, functional_codes, economic_codes, read_narrative_sheet(reading.grid))
    findings = [f for f in reading.findings if selected(f.code, select, ignore)]
    findings += run_rules(ctx, select, ignore)
    d = reading.disclosure
    return Report(tuple(findings), d.department, d.year, d.source, verified_marks(reading.grid))


def annotate(reading: Reading, report: Report, source: str | Path, target: str | Path) -> Path:
    """A copy of the workbook with a 校验结果 sheet and the offending cells highlighted."""
    from .report import highlight_edits, result_sheet
    from .xlsx_writer import write_annotated

    source, target = Path(source), Path(target)
    if target.resolve() == source.resolve():
        raise OutputError("--annotate 的输出文件不能与输入文件相同。")
    return write_annotated(source, target, result_sheet(report), highlight_edits(report, reading.grid.names))


def narrate(reading: Reading, spec: Spec | None = None, templates: str | Path | None = None):
    """The 情况说明 of a workbook (blank computed cells filled in first)."""
    from .narrative import generate
    from .subtotals import with_blanks_filled

    spec = spec or load_spec()
    return generate(with_blanks_filled(reading.disclosure, spec), spec, templates)


def write_narrative(reading: Reading, narrative, source: str | Path, target: str | Path, in_place: bool = False) -> Path:
    """Write the 情况说明 sheet (one paragraph a row, editable) into a copy, or in place."""
    from .narrative.sheet import narrative_sheet
    from .xlsx_writer import write_sheet

    source = Path(source)
    target = _check_target(source, Path(target) if target else None, in_place)
    return write_sheet(source, target, narrative_sheet(narrative))


@dataclass(frozen=True)
class SubtotalRun:
    result: SubtotalResult
    read_findings: tuple[Finding, ...]
    target: Path

    @property
    def edits(self) -> tuple[CellEdit, ...]:
        return self.result.edits


class OutputError(ValueError):
    """An output path the user gave cannot be used; the message is for the user."""


def _check_target(source: Path, target: Path | None, in_place: bool) -> Path:
    if in_place:
        return source
    if target is None:
        raise OutputError("请用 -o 指定输出文件，或用 --in-place 直接修改原文件。")
    if target.resolve() == source.resolve():
        raise OutputError("输出文件与输入文件相同。如确需修改原文件，请使用 --in-place。")
    return target


def subtotal_file(path: str | Path, out: str | Path | None = None, in_place: bool = False, spec: Spec | None = None) -> SubtotalRun:
    from .xlsx_writer import write_edits

    spec = spec or load_spec()
    source = Path(path)
    target = _check_target(source, Path(out) if out else None, in_place)
    reading = read(source, spec)
    result = compute(reading.disclosure, spec)
    write_edits(source, list(result.edits), target)
    return SubtotalRun(result, reading.findings, target)


def fill_file(data_path: str | Path, out: str | Path, template: str | Path | None = None, spec: Spec | None = None) -> Path:
    """Build a filled workbook from a data file (TOML/JSON) and the template."""
    from .io_atomic import atomic_save
    from .template import build_template
    from .xlsx_writer import apply_edits, load_for

    spec = spec or load_spec()
    edits = fill_edits(spec, load_data(data_path))
    wb = load_for(template, out) if template else build_template(spec)
    apply_edits(wb, edits)
    return atomic_save(wb, Path(out))


def rollover_file(path: str | Path, out: str | Path, spec: Spec | None = None) -> tuple[Path, int]:
    """Next year's workbook from this year's; returns the path and the number of 上年数 carried."""
    import openpyxl  # noqa: F401  (the template builder needs it)

    from .io_atomic import atomic_save
    from .rollover import rollover_data
    from .subtotals import with_blanks_filled
    from .template import build_template
    from .xlsx_writer import apply_edits

    spec = spec or load_spec()
    source, target = Path(path), Path(out)
    if target.resolve() == source.resolve():
        raise OutputError("新年度工作簿不能覆盖上一年度的工作簿，请另选文件名。")
    reading = read(source, spec)
    data = rollover_data(with_blanks_filled(reading.disclosure, spec), spec)
    wb = build_template(spec)
    apply_edits(wb, fill_edits(spec, data))
    return atomic_save(wb, target), len(data["priors"])


def write_template(out: str | Path, spec: Spec | None = None) -> Path:
    from .template import write_template as _write

    return _write(Path(out), spec)



def convert(sources, outdir, formats=("docx", "pdf", "xlsx"), workers: int = 1, force: bool = False,
            overwrite: bool = False, spec: str = "xinjiang_2026", progress=None):
    """Workbooks → published documents (see ``budgetxl.convert``)."""
    from .convert import convert_all, find_workbooks

    return convert_all(find_workbooks(sources), Path(outdir), tuple(formats), workers, force, overwrite, spec, progress)


def collect(sources, db, workers: int = 1, scheduler: str | None = None, progress=None):
    """Finance-bureau intake into a database (see ``budgetxl.collect``)."""
    from .collect import collect as _collect
    from .convert import find_workbooks

    return _collect(find_workbooks(sources), db, workers, scheduler, progress)


def bureau(db, roster_path=None, year: int | None = None):
    """Status and consolidated totals from a bureau database."""
    from .collect.roster import read_roster
    from .collect.status import analyse

    return analyse(db, read_roster(roster_path) if roster_path else None, year)
