"""The printed rows of each disclosure table: a renderer-neutral grid.

Both the Word document and the publication workbook print tables from this,
so the two always show the same cells.
"""

from __future__ import annotations

from decimal import Decimal

from ..codes import split_code
from ..model import SUBTOTAL, TOTAL, Disclosure, Table
from ..money import fmt
from ..records import dataclass
from ..spec import CODE_ROLES, ContextLine, TableSpec


@dataclass(frozen=True)
class PrintedTable:
    number: int
    title: str
    header: tuple[tuple[str, ...], ...]  # spec notation: "<" merged left, "^" merged up
    rows: tuple[tuple[str | Decimal | None, ...], ...]  # amounts stay Decimal (None: blank)
    bold: tuple[tuple[bool, ...], ...]  # per cell
    numeric: tuple[bool, ...]  # per column
    widths: tuple[int, ...]
    code_columns: tuple[int, ...]  # indexes of 类/款/项 columns (printed at a fixed width)
    statement: str  # under an empty table, else ""
    department_line: str  # 编制部门：… (the spec's wording)
    unit_line: str  # 单位：万元


def amount_text(value: Decimal | str | None) -> str:
    """Blank for nothing or zero, as the published tables print them."""
    if isinstance(value, str):
        return value
    return "" if not value else fmt(value)


def _printed(value: Decimal | None) -> Decimal | None:
    return value or None


def _classified_rows(table: Table, t: TableSpec) -> tuple[list[tuple[str, ...]], list[bool]]:
    code_columns = [c for c in t.columns if c.role in CODE_ROLES]
    rows, bold = [], []
    for r in table.rows:
        cells = []
        codes = split_code(r.code, len(code_columns)) if r.code else [""] * len(code_columns)
        for c in t.columns:
            if c.role in CODE_ROLES:
                cells.append(codes[code_columns.index(c)] if r.code else "")
            elif c.role == "name":
                cells.append("总计" if r.kind == TOTAL else r.name)
            elif c.role == "project":
                cells.append(r.project or "")
            elif c.role == "label":
                cells.append(r.label or r.name)
            else:
                cells.append(_printed(r.value(c.key)))
        rows.append(tuple(cells))
        bold.append(tuple(r.kind in (SUBTOTAL, TOTAL) for _ in cells))
    return rows, bold


def _fixed_label_bold(label: str) -> bool:
    return not label.startswith("其中") and (label[:2] in ("一、", "二、") or label[:1].isdigit() or "小计" in label or "总计" in label)


def _two_sided_rows(table: Table, t: TableSpec) -> tuple[list[tuple[str, ...]], list[bool]]:
    left = [r for r in table.rows if r.side == "收入" and r.kind != TOTAL]
    right = [r for r in table.rows if r.side == "支出" and r.kind != TOTAL]
    left_keys = t.amount_keys("收入")
    right_keys = t.amount_keys("支出")
    rows, bold = [], []
    for i in range(max(len(left), len(right))):
        cells: list[str] = []
        l = left[i] if i < len(left) else None
        r = right[i] if i < len(right) else None
        cells.append(l.label if l else "")
        cells += [_printed(l.value(k)) if l else None for k in left_keys]
        cells.append(f"{r.code} {r.name}" if r else "")
        cells += [_printed(r.value(k)) if r else None for k in right_keys]
        rows.append(tuple(cells))
        left_bold = bool(l and _fixed_label_bold(l.label or ""))
        bold.append(tuple(left_bold if i < 1 + len(left_keys) else False for i in range(len(cells))))
    lt, rt = table.total_row("收入"), table.total_row("支出")
    cells = [t.left_total or "收入总计", *[_printed(lt.value(k)) if lt else None for k in left_keys]]
    cells += [t.right_total or "支出总计", *[_printed(rt.value(k)) if rt else None for k in right_keys]]
    rows.append(tuple(cells))
    bold.append(tuple(True for _ in cells))
    return rows, bold


def _fixed_rows(table: Table, t: TableSpec) -> tuple[list[tuple[str, ...]], list[bool]]:
    rows, bold = [], []
    for r in table.rows:
        label = r.label or r.name
        rows.append((label, *[_printed(r.value(k)) for k in t.amount_keys()]))
        bold.append(tuple(r.kind == TOTAL or _fixed_label_bold(label) for _ in rows[-1]))
    return rows, bold


def printed_table(d: Disclosure, t: TableSpec, statement: str, context: ContextLine) -> PrintedTable:
    table = d.tables.get(t.key) or Table(t.key, t.title, t.sheet, ())
    if t.layout == "two_sided":
        rows, bold = _two_sided_rows(table, t)
    elif t.layout == "fixed":
        rows, bold = _fixed_rows(table, t)
    else:
        rows, bold = _classified_rows(table, t)
        if not any(r.kind == TOTAL for r in table.rows):
            rows.append(tuple("总计" if c.role in ("name", "label") else None for c in t.columns))
            bold.append(tuple(True for _ in t.columns))
    numeric = tuple(c.role == "amount" for c in t.columns)
    codes = tuple(i for i, c in enumerate(t.columns) if c.role in CODE_ROLES)
    return PrintedTable(
        t.number, t.title, t.header, tuple(rows), tuple(bold), numeric, t.widths or tuple(12 for _ in t.columns), codes,
        statement if table.is_empty and t.empty_statement else "",
        context.department_text(d.department), context.unit_text(d.unit),
    )


def all_tables(d: Disclosure, spec) -> list[PrintedTable]:
    out = []
    for t in spec.tables:
        statement = t.empty_statement.format(单位名称=d.department, 年度=d.year or "") if t.empty_statement else ""
        out.append(printed_table(d, t, statement, spec.context))
    return out



@dataclass(frozen=True)
class TitleBlock:
    """What stands above a table's header, in every medium: 表N, the title and
    the 编制部门/单位 line."""

    label: str
    title: str
    department_line: str
    unit_line: str


def title_block(pt: PrintedTable) -> TitleBlock:
    return TitleBlock(f"表{pt.number}", pt.title, pt.department_line, pt.unit_line)
