"""Shared wording and comparisons for rules."""

from __future__ import annotations

from decimal import Decimal
from typing import Iterable

from ..model import Amount, CellRef, Row, Severity, Table
from .context import CheckContext

ROUNDING_NOTE = "由元换算为万元时四舍五入造成，可以保留；如需一致，运行“计算小计”即改为精确合计。"


def signed(ctx: CheckContext, value: Decimal) -> str:
    return ("+" if value > 0 else "") + ctx.money(value)


def check_equal(
    ctx: CheckContext,
    out,
    stated: Amount | None,
    expected: Decimal | None,
    what: str,
    basis: str,
    refs: Iterable[CellRef | None] = (),
    terms: int = 1,
    fix: str = "",
) -> None:
    """Report ``stated`` ≠ ``expected``: 提示 within the rounding envelope, the
    rule's own severity beyond it. Blank counts as zero."""
    value = stated.value if stated else None
    cmp = ctx.compare(value, expected, terms)
    if cmp.equal:
        return
    where = stated.ref if stated else None
    all_refs = [where, *refs]
    head = f"{where} " if where else ""
    text = f"{head}{what}为 {ctx.money(value)}，按{basis}应为 {ctx.money(expected)}，相差 {signed(ctx, cmp.difference)}"
    if cmp.within_rounding:
        out.emit(
            f"{text}，在四舍五入尾差范围（±{ctx.money(cmp.envelope)}）内（尾差）。{ROUNDING_NOTE}",
            all_refs, Severity.INFO, expected, value, cmp.difference,
        )
    else:
        out.emit(f"{text}。{fix or '请核对明细和合计，改正后重新校验。'}", all_refs, None, expected, value, cmp.difference)


def amount_of(row: Row | None, column: str) -> Amount | None:
    return row.values.get(column) if row else None


def value_of(row: Row | None, column: str) -> Decimal | None:
    a = amount_of(row, column)
    return a.value if a else None


def total_of(rows: Iterable[Row], column: str) -> Decimal:
    return sum((r.amount(column) for r in rows), Decimal(0))


def refs_of(rows: Iterable[Row], column: str) -> list[CellRef]:
    return [r.values[column].ref for r in rows if column in r.values]


def parent_map(table: Table) -> dict[int, Row | None]:
    """Row index -> the nearest existing parent row (longest code prefix)."""
    subtotals = [r for r in table.rows if r.kind == "subtotal" and r.code]
    parents: dict[int, Row | None] = {}
    for i, row in enumerate(table.rows):
        if not row.code:
            parents[i] = None
            continue
        best = None
        for s in subtotals:
            if s is row or not row.code.startswith(s.code):
                continue
            if len(s.code) == len(row.code) and not (row.project and row.kind == "detail"):
                continue
            if best is None or len(s.code) > len(best.code):
                best = s
        parents[i] = best
    return parents
