"""Small workbook builders for tests: start from the real template or the
example and change what a test needs, through openpyxl like a user would."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable

import openpyxl

from budgetxl.grid import grid_from_values
from budgetxl.spec import load_spec
from budgetxl.template import build_template


def edited_copy(source: Path, target: Path, edit: Callable[[openpyxl.Workbook], Any]) -> Path:
    wb = openpyxl.load_workbook(source)
    edit(wb)
    wb.save(target)
    return target


def new_template_book() -> openpyxl.Workbook:
    return build_template(load_spec())


def sheet_of(wb: openpyxl.Workbook, key: str):
    return wb[load_spec().table(key).sheet]


def grid(**sheets: list[list[Any]]):
    """A workbook grid straight from values: grid(表3=[[...], ...])."""
    return grid_from_values(sheets, source="<test>")


class GridEditor:
    """The example workbook's grids, edited in memory cell by cell.

    Real data (read once from examples/akto_2026.xlsx by the real reader),
    changed the way a user changes cells; ``build()`` gives a WorkbookGrid.
    """

    _cache = None

    def __init__(self, source: Path | None = None):
        from budgetxl.grid import read_workbook

        from .conftest import EXAMPLE

        if source is None:
            if GridEditor._cache is None:
                GridEditor._cache = read_workbook(EXAMPLE)
            base = GridEditor._cache
        else:
            base = read_workbook(source)
        self.sheets = {name: [list(r) for r in s.rows] for name, s in base.sheets.items()}
        self.order = list(base.names)

    def _sheet(self, sheet: str) -> str:
        return load_spec().table(sheet).sheet if sheet.startswith("T") and sheet[1:].isdigit() else sheet

    def set(self, sheet: str, a1, value) -> "GridEditor":
        from budgetxl.model import CellRef

        ref = a1 if not isinstance(a1, str) else CellRef.parse(f"'x'!{a1}")
        from budgetxl.testing.workbook import set_cell

        set_cell(self.sheets[self._sheet(sheet)], ref.row, ref.col, value)
        return self

    def setref(self, ref, value) -> "GridEditor":
        self.sheets[ref.sheet][ref.row - 1][ref.col - 1] = value
        return self

    def get(self, ref):
        return self.sheets[ref.sheet][ref.row - 1][ref.col - 1]

    def build(self):
        return grid_from_values([(n, self.sheets[n]) for n in self.order], source="<edited example>")


def variant(source: Path, target: Path, replacements: dict[str, str]) -> Path:
    """A copy of a workbook with texts replaced (department names, a corrected
    科目名称 …) in the shared and inline strings: fast, cells stay as they were."""
    import zipfile

    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/sharedStrings.xml" or item.filename.startswith("xl/worksheets/"):
                text = data.decode("utf-8")
                # some XML writers spell Chinese as &#38463;…: make it plain text first (non-ASCII only)
                text = re.sub(r"&#(\d+);", lambda m: chr(int(m.group(1))) if int(m.group(1)) > 127 else m.group(0), text)
                for old, new in replacements.items():
                    text = text.replace(old, new)
                data = text.encode("utf-8")
            zout.writestr(item, data)
    return target


FIXED_NAME = {"人力资源和社会管理事务": "人力资源和社会保障管理事务"}  # the reference's one 错误
