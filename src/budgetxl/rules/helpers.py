"""Shared wording and comparisons for rules."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from ..model import Amount, CellRef, Row, Severity, Table
from .context import CheckContext

ROUNDING_NOTE = "由元换算为万元时四舍五入造成，可以保留；如需一致，运行“计算小计”即改为各项之和。"
# two tables print the same quantity from their own rounded details: 计算小计 cannot make them agree
CROSS_NOTE = (
    "两张表的明细分别四舍五入造成，运行“计算小计”不能消除（它只按各表自己的明细求和）。"
    "如需一致，请把 {ref}（{name} {old}）改为 {new}，再运行“计算小计”；更好的办法是按元填报（单位信息“金额单位”选“元”），"
    "由 budgetxl 统一换算为万元，公开的各表和说明就处处一致。"
)
FILL_IN_YUAN = "更好的办法是按元填报（单位信息“金额单位”选“元”），由 budgetxl 统一换算为万元，公开的各表和说明就处处一致。"


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
    detail: tuple[str, str] | None = None,
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
        hint = detail_fix(ctx, *detail, cmp.difference) if detail else None
        if hint is not None:
            ref, name, old, new = hint
            note = CROSS_NOTE.format(ref=ref, name=name, old=ctx.money(old).split()[0], new=ctx.money(new).split()[0])
            all_refs = [where, ref, *refs]
        else:
            note = ROUNDING_NOTE if not detail else "两张表的明细分别四舍五入造成，可以保留。" + FILL_IN_YUAN
        out.emit(
            f"{text}，在四舍五入尾差范围（±{ctx.money(cmp.envelope)}）内（尾差）。{note}",
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
    """Row index -> the nearest existing parent row: the first subtotal row whose
    code is the longest prefix of the row's code (the same code only for a
    project row, whose parent is its 项 line). Looked up by prefix, not by
    comparing every pair of rows (tests/test_fast_paths.py holds it to that)."""
    subtotals: dict[str, Row] = {}
    for r in table.rows:
        if r.kind == "subtotal" and r.code:
            subtotals.setdefault(r.code, r)
    parents: dict[int, Row | None] = {}
    for i, row in enumerate(table.rows):
        code = row.code
        best = None
        if code:
            n = len(code)
            if row.project and row.kind == "detail":
                best = subtotals.get(code)
            while best is None and n > 1:
                n -= 1
                best = subtotals.get(code[:n])
        parents[i] = best
    return parents


def detail_fix(ctx: CheckContext, key: str, column: str, difference: Decimal):
    """The input cell of table ``key`` to change by −``difference`` so that its ``column`` total
    equals the other table's: the largest figure (the change matters least there).
    (ref, row name, old value, new value), or None when the table has no such detail."""
    if not ctx.has(key):
        return None
    spec = ctx.table_spec(key)
    terms = next((rs.terms for rs in spec.row_sums if rs.target == column), (column,))
    best = None
    for row in ctx.table(key).rows:
        if row.kind != "detail":
            continue
        for term in terms:
            a = row.values.get(term)
            if a is not None and a.value is not None and a.value > abs(difference) and (best is None or a.value > best[2]):
                best = (a.ref, row.name, a.value)
    if best is None:
        return None
    ref, name, old = best
    return ref, name, old, old - difference
