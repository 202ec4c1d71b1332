"""Subtotals and derived tables, as cell edits.

* Row totals of every row (表2 小计/总计, 表3 合计 = 基本 + 项目, 表7 项目支出合计 …).
* 类/款 (and 表7 单位/项) rows = exact sum of the detail rows below them.
* 总计 rows = exact sum of the detail rows.
* 表1 and 表4 are derived from the detail tables, as the spec says.
* 编制部门/单位 lines and the empty-table statements follow 单位信息.

Computed values are exact sums of the figures as entered, so where published
subtotals carry a rounding 尾差 the recomputed value differs and is listed.
Only computed cells are written; input cells are never touched.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Iterable

from .codes import LEVEL_NAMES
from .model import (
    DETAIL,
    SUBTOTAL,
    TOTAL,
    Amount,
    CellEdit,
    CellRef,
    Disclosure,
    Finding,
    Row,
    Table,
    frozen_map,
)
from .money import fmt
from .problems import problem as _problem
from .records import dataclass, replace
from .spec import ContextLine, RowSum, Spec, TableSpec


@dataclass(frozen=True)
class SubtotalResult:
    disclosure: Disclosure  # the model with every computed cell recomputed
    edits: tuple[CellEdit, ...]
    findings: tuple[Finding, ...]


def _sum(values: Iterable[Decimal | None]) -> Decimal | None:
    """Exact sum; None when every term is blank (the cell stays blank)."""
    result = None
    for v in values:
        if v is not None:
            result = v if result is None else result + v
    return result


Values = dict[str, Decimal | None]


def _values(row: Row) -> Values:
    return {k: a.value for k, a in row.values.items()}


def _apply_row_sums(row: Row, values: Values, sums: tuple[RowSum, ...], table: Table, findings: list) -> Values:
    for rs in sums:
        if rs.target not in values:
            continue
        terms = [values.get(t) for t in rs.terms if t in values]
        if all(t is None for t in terms):
            if values[rs.target] not in (None, Decimal(0)) and row.kind == DETAIL:
                ref = row.values[rs.target].ref
                findings.append(
                    _problem("S02", f"{ref} 只填写了“{rs.target}”，没有填写“{'、'.join(rs.terms)}”。请填写明细金额，合计由小计计算。", [ref])
                )
            continue
        values[rs.target] = _sum(terms)
    return values


def _with_values(row: Row, values: Values) -> Row:
    return replace(row, values=frozen_map({k: Amount(values.get(k), a.ref) for k, a in row.values.items()}))


def _column_sums(rows: list[Values], columns: Iterable[str]) -> Values:
    return {c: _sum(v.get(c) for v in rows) for c in columns}


# ------------------------------------------------------------------ layouts


def _classified(table: Table, spec: TableSpec, findings: list) -> Table:
    details = [r for r in table.rows if r.kind == DETAIL]
    detail_values = {id(r): _apply_row_sums(r, _values(r), spec.row_sums, table, findings) for r in details}
    columns = spec.amount_keys()
    new_rows = []
    for r in table.rows:
        if r.kind == DETAIL:
            new_rows.append(_with_values(r, detail_values[id(r)]))
            continue
        members = details if not r.code else [d for d in details if d.code and d.code.startswith(r.code)]
        new_rows.append(_with_values(r, _column_sums([detail_values[id(d)] for d in members], columns)))
    _missing_parents(table, spec, findings)
    return replace(table, rows=tuple(new_rows))


def _missing_parents(table: Table, spec: TableSpec, findings: list) -> None:
    present = {r.code for r in table.rows if r.kind == SUBTOTAL and r.code}
    reported = set()
    for r in table.rows:
        if r.kind != DETAIL or not r.code:
            continue
        for length in spec.code_levels[:-1]:
            parent = r.code[:length]
            if parent not in present and parent not in reported:
                reported.add(parent)
                ref = CellRef(table.sheet, r.row, 1)
                findings.append(
                    _problem(
                        "S01",
                        f"{ref} 科目 {r.code} 上方缺少{LEVEL_NAMES[length]}级小计行 {parent}。请在其上方插入一行，只填写代码 {parent} 和科目名称，金额由小计计算。",
                        [ref],
                    )
                )


def _fixed(table: Table, spec: TableSpec, findings: list, side: str | None = None, derived: dict | None = None) -> dict[str, Values]:
    """Values of every fixed row on one side, keyed by the spec's row key."""
    rows = {r.key: r for r in table.rows if r.side == side and r.key}
    columns = spec.amount_keys(side)
    cache: dict[str, Values] = {}

    def evaluate(key: str) -> Values:
        if key in cache:
            return cache[key]
        row_spec = spec.fixed_row(key)
        if row_spec.derive is not None and derived is not None:
            values = {c: derived[key] for c in columns}
        elif row_spec.sum:
            parts = [evaluate(k) for k in row_spec.sum]
            values = _column_sums(parts, columns)
        else:
            row = rows.get(key)
            values = _values(row) if row else {c: None for c in columns}
            if row is not None:
                values = _apply_row_sums(row, values, spec.row_sums, table, findings)
        cache[key] = values
        return values

    for r in spec.fixed_rows:
        evaluate(r.key)
    return cache


def _detail_sum(table: Table, column: str, prefix: str = "") -> Decimal | None:
    return _sum(
        r.value(column) for r in table.rows if r.kind == DETAIL and (not prefix or (r.code or "").startswith(prefix))
    )


def _fixed_table(table: Table, spec: TableSpec, findings: list) -> Table:
    values = _fixed(table, spec, findings)
    total = _column_sums([values[k] for k in spec.total_sum], spec.amount_keys())
    new_rows = []
    for r in table.rows:
        if r.kind == TOTAL:
            new_rows.append(_with_values(r, total))
        elif r.key in values:
            new_rows.append(_with_values(r, values[r.key]))
        else:
            new_rows.append(r)
    return replace(table, rows=tuple(new_rows))


def _two_sided(table: Table, spec: TableSpec, tables: dict[str, Table], findings: list) -> Table:
    derived = {}
    for r in spec.fixed_rows:
        if r.derive is not None:
            source = tables.get(r.derive.table)
            derived[r.key] = _sum(_detail_sum(source, c) for c in r.derive.columns) if source else None
    left = _fixed(table, spec, findings, "收入", derived)
    left_total = _column_sums([left[k] for k in spec.left_total_sum], spec.amount_keys("收入"))
    right_columns = spec.amount_keys("支出")
    new_rows = []
    class_values = []
    for r in table.rows:
        if r.side == "收入":
            if r.kind == TOTAL:
                new_rows.append(_with_values(r, left_total))
            else:
                new_rows.append(_with_values(r, left.get(r.key, _values(r))))
            continue
        if r.kind == TOTAL:
            new_rows.append(r)  # filled below, once all 类 rows are known
            continue
        values = {c: None for c in right_columns}
        for d in spec.right_derive:
            source = tables.get(d.table)
            for column, source_columns in d.columns.items():
                if source is not None:
                    values[column] = _sum(_detail_sum(source, sc, r.code or "") for sc in source_columns)
        values = _apply_row_sums(r, values, spec.right_row_sums, table, findings)
        class_values.append(values)
        new_rows.append(_with_values(r, values))
    right_total = _column_sums(class_values, right_columns)
    new_rows = [
        _with_values(r, right_total) if r.side == "支出" and r.kind == TOTAL else r for r in new_rows
    ]
    return replace(table, rows=tuple(new_rows))


# ------------------------------------------------------------------ edits


def _same(a, b) -> bool:
    if a is None or b is None:
        return (a or Decimal(0)) == (b or Decimal(0))
    return a == b


def _value_edits(before: Table, after: Table) -> list[CellEdit]:
    edits = []
    for old_row, new_row in zip(before.rows, after.rows):
        for key, new in new_row.values.items():
            old = old_row.values[key]
            if not _same(old.value, new.value):
                edits.append(CellEdit(new.ref, new.value, "computed", old.value))
    return edits


def _context_edits(table: Table, spec: TableSpec, disclosure: Disclosure, context: ContextLine) -> list[CellEdit]:
    edits = []
    if table.department and table.department.ref and disclosure.department:
        if table.department.value != disclosure.department:
            edits.append(CellEdit(table.department.ref, context.department_text(disclosure.department), old=context.department_text(table.department.value)))
    if table.unit and table.unit.ref and disclosure.unit and table.unit.value != disclosure.unit:
        edits.append(CellEdit(table.unit.ref, context.unit_text(disclosure.unit), old=context.unit_text(table.unit.value)))
    if spec.empty_statement and table.rows:
        total = table.total_row()
        wanted = ""
        if table.is_empty and disclosure.department:
            wanted = spec.empty_statement.format(单位名称=disclosure.department, 年度=disclosure.year or "")
        current = table.statement
        if current and current.ref and current.value != wanted and (wanted or "空表" in current.value):
            edits.append(CellEdit(current.ref, wanted or None, old=current.value))
        elif not current and wanted and total:
            edits.append(CellEdit(CellRef(table.sheet, total.row + 1, 1), wanted))
    return edits


def compute(disclosure: Disclosure, spec: Spec) -> SubtotalResult:
    findings: list[Finding] = []
    computed: dict[str, Table] = {}
    ordered = sorted(spec.tables, key=lambda t: t.layout == "two_sided")  # derived tables last
    for t in ordered:
        table = disclosure.tables.get(t.key)
        if table is None or not table.rows:
            if table is not None:
                computed[t.key] = table
            continue
        if t.layout in ("classified", "projects", "items"):
            computed[t.key] = _classified(table, t, findings) if t.layout != "items" else _items(table, t, findings)
        elif t.layout == "fixed":
            computed[t.key] = _fixed_table(table, t, findings)
        else:
            computed[t.key] = _two_sided(table, t, computed, findings)
    edits: list[CellEdit] = []
    for t in spec.tables:
        if t.key in computed and t.key in disclosure.tables:
            edits.extend(_value_edits(disclosure.tables[t.key], computed[t.key]))
            edits.extend(_context_edits(computed[t.key], t, disclosure, spec.context))
    result = replace(disclosure, tables=frozen_map({**disclosure.tables, **computed}))
    return SubtotalResult(result, tuple(edits), tuple(findings))


def _items(table: Table, spec: TableSpec, findings: list) -> Table:
    details = [r for r in table.rows if r.kind == DETAIL]
    detail_values = {id(r): _apply_row_sums(r, _values(r), spec.row_sums, table, findings) for r in details}
    total = _column_sums(detail_values.values(), spec.amount_keys())
    rows = [
        _with_values(r, detail_values[id(r)]) if r.kind == DETAIL else _with_values(r, total) for r in table.rows
    ]
    return replace(table, rows=tuple(rows))


def describe(edit: CellEdit) -> str:
    """One line for the change log: cell, old → new."""
    def show(v):
        if v is None:
            return "（空）"
        if isinstance(v, Decimal):
            return fmt(v, max(2, -v.as_tuple().exponent if isinstance(v.as_tuple().exponent, int) else 2))
        return str(v)

    return f"{edit.ref}: {show(edit.old)} → {show(edit.value)}"


def with_blanks_filled(disclosure: Disclosure, spec: Spec) -> Disclosure:
    """The model as printed: every figure as entered, and where a computed cell
    (subtotal, total, 表1/表4) was left blank, its computed value.

    What staff typed always wins, so documents show the figures of the
    workbook; a workbook whose subtotals were never run still reads whole."""
    computed = compute(disclosure, spec).disclosure
    tables = {}
    for key, table in disclosure.tables.items():
        done = computed.tables.get(key, table)
        rows = []
        for old, new in zip(table.rows, done.rows):
            values = {
                k: a if a.value is not None else new.values.get(k, a)
                for k, a in old.values.items()
            }
            rows.append(replace(old, values=frozen_map(values)))
        tables[key] = replace(table, rows=tuple(rows))
    return replace(disclosure, tables=frozen_map(tables))
