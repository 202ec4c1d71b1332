"""The façade: what the CLI, the Excel buttons and the tests call."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from .fill import fill_edits, load_data
from .grid import WorkbookGrid, read_workbook
from .io_atomic import atomic_path
from .model import CellEdit, Disclosure, Finding
from .parse import parse_workbook
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
    import openpyxl

    from .io_atomic import atomic_save
    from .template import build_template
    from .xlsx_writer import apply_edits

    spec = spec or load_spec()
    edits = fill_edits(spec, load_data(data_path))
    wb = openpyxl.load_workbook(template) if template else build_template(spec)
    apply_edits(wb, edits)
    return atomic_save(wb, Path(out))


def write_template(out: str | Path, spec: Spec | None = None) -> Path:
    from .template import write_template as _write

    return _write(Path(out), spec)


def copy_atomic(source: Path, target: Path) -> Path:
    with atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)
    return target
