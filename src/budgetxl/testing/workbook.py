"""Filled workbooks without files: the standard template's cells as a grid, the
``fill`` edits applied to it. Used for corpus runs (thousands of departments)."""

from __future__ import annotations

from typing import Any

from ..fill import fill_edits, row_counts
from ..grid import WorkbookGrid, grid_from_values
from ..spec import Spec


_CACHE: dict[int, tuple] = {}


def _template_values(spec: Spec) -> tuple[tuple[str, tuple[tuple[Any, ...], ...]], ...]:
    """The standard template's cells (built once per spec)."""
    from ..template import build_template

    if id(spec) not in _CACHE:
        wb = build_template(spec)
        _CACHE[id(spec)] = (spec, tuple((ws.title, tuple(tuple(r) for r in ws.iter_rows(values_only=True))) for ws in wb.worksheets))
    return _CACHE[id(spec)][1]


def set_cell(rows: list[list[Any]], row: int, col: int, value: Any) -> None:
    """Put a value into a sheet held as a list of rows (1-based), growing it as needed."""
    while len(rows) < row:
        rows.append([])
    cells = rows[row - 1]
    while len(cells) < col:
        cells.append(None)
    cells[col - 1] = value


def filled_grid(data: dict[str, Any], spec: Spec) -> WorkbookGrid:
    """What ``fill`` writes, as a grid: tables with more rows than the template grow
    by blank rows above their total row, as the built template does."""
    counts = row_counts(spec, data)
    sheets = {name: [list(r) for r in rows] for name, rows in _template_values(spec)}
    for key, n in counts.items():
        t = spec.table(key)
        total = spec.layout.total_row(t)
        extra = n - (total - spec.layout.data_first_row(t))
        rows = sheets[t.sheet]
        rows[total - 1:total - 1] = [[None] * len(t.columns) for _ in range(extra)]
    for edit in fill_edits(spec, data, counts):
        rows = sheets[edit.ref.sheet]
        while len(rows) < edit.ref.row:
            rows.append([])
        row = rows[edit.ref.row - 1]
        while len(row) < edit.ref.col:
            row.append(None)
        row[edit.ref.col - 1] = edit.value
    return grid_from_values([(name, sheets[name]) for name, _ in _template_values(spec)], source="<generated>")


def printed_grid(grid: WorkbookGrid, model, spec: Spec) -> WorkbookGrid:
    """The workbook ``grid`` with every amount replaced by the printed model's figure at the
    same cell and the unit set to 万元: the publication's figures as a 万元 workbook."""
    from ..model import Amount

    sheets = {name: [list(r) for r in grid.sheet(name).rows] for name in grid.names}

    def put(ref, value):
        rows = sheets.get(ref.sheet)
        if rows is not None:
            set_cell(rows, ref.row, ref.col, value)

    def amounts(values):
        for a in values:
            if isinstance(a, Amount):
                put(a.ref, a.value)

    for table in model.tables.values():
        for r in table.rows:
            amounts(r.values.values())
        if table.unit is not None and table.unit.ref is not None:
            put(table.unit.ref, spec.context.unit_text("万元"))
    for key, form in model.forms.items():
        if key != "info":
            amounts(form.amounts.values())
    for records in model.lists.values():
        for r in records:
            amounts(r.amounts.values())
    unit = model.info.fields.get("金额单位")
    if unit is not None and unit.ref is not None:
        put(unit.ref, "万元")
    return grid_from_values([(name, sheets[name]) for name in grid.names], source="<printed>")
