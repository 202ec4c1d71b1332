"""Small workbook builders for tests: start from the real template or the
example and change what a test needs, through openpyxl like a user would."""

from __future__ import annotations

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
