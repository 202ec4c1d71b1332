"""The figures as they will be printed.

A workbook kept in 万元 is printed as it is (blank computed cells filled in).
A workbook kept in 元 is published in 万元 with two decimals, and the printed
tables must still add up on the page. Rounding each figure on its own does not
achieve that (38.08 + 0.93 printed, 39.02 printed as their sum). budgetxl
therefore rounds hierarchically with the largest-remainder method:

1. each table's column total is rounded half-up to 0.01 万元;
2. that total is shared out among the 类 rows: each gets its value rounded down
   to 0.01, and the cents still missing go to the rows with the largest
   remainders; then each 类 among its 款, each 款 among its 项 (or projects);
3. every computed cell (row totals, subtotals, 表1, 表4) is then recomputed
   from the rounded details, so every printed subtotal is the sum of its
   printed parts, across and down, and across tables.

Every detail cell whose printed value differs from plain half-up rounding is
listed in the log (``Adjustment``), so the change is visible and explainable.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

from ..model import DETAIL, Amount, CellRef, Disclosure, Form, Record, Row, Table, frozen_map
from ..spec import Spec
from ..subtotals import compute, with_blanks_filled

CENT = Decimal("0.01")
TEN_THOUSAND = Decimal(10000)


@dataclass(frozen=True)
class Adjustment:
    ref: CellRef
    yuan: Decimal
    plain: Decimal  # half-up rounding on its own
    printed: Decimal  # what is printed so that the sums add up

    def __str__(self) -> str:
        return (
            f"{self.ref}: {self.yuan:,.2f} 元 → 印 {self.printed:,.2f} 万元"
            f"（单独四舍五入为 {self.plain:,.2f}，为使合计与各项之和一致调整 {self.printed - self.plain:+.2f}）"
        )


def to_wan(value: Decimal) -> Decimal:
    return (value / TEN_THOUSAND).quantize(CENT, rounding=ROUND_HALF_UP)


def largest_remainder(values: list[Decimal], target: Decimal) -> list[Decimal]:
    """Round ``values`` (exact, in 万元) to cents so that they add up to ``target``."""
    floors = [v.quantize(CENT, rounding=ROUND_FLOOR) for v in values]
    units = int(((target - sum(floors, Decimal(0))) / CENT).to_integral_value())
    order = sorted(range(len(values)), key=lambda i: (values[i] - floors[i], -i), reverse=True)
    for i in order[: max(0, min(units, len(values)))]:
        floors[i] += CENT
    return floors


def _share(nodes: dict[str, list[Row]], prefix: str, target: Decimal, column: str, out: dict[int, Decimal], levels: tuple[int, ...]) -> None:
    """Share ``target`` among the rows under ``prefix``, level by level."""
    rows = nodes[prefix]
    if not levels:
        exact = [r.amount(column) / TEN_THOUSAND for r in rows]
        for r, v in zip(rows, largest_remainder(exact, target)):
            out[id(r)] = v
        return
    length, rest = levels[0], levels[1:]
    groups: dict[str, list[Row]] = {}
    for r in rows:
        groups.setdefault((r.code or "")[:length], []).append(r)
    keys = list(groups)
    exact = [sum((r.amount(column) for r in groups[k]), Decimal(0)) / TEN_THOUSAND for k in keys]
    for k, sub_target in zip(keys, largest_remainder(exact, target)):
        nodes[k] = groups[k]
        _share(nodes, k, sub_target, column, out, rest)


def _round_table(table: Table, levels: tuple[int, ...], columns: tuple[str, ...], log: list[Adjustment]) -> Table:
    details = [r for r in table.rows if r.kind == DETAIL]
    printed: dict[tuple[int, str], Decimal] = {}
    for column in columns:
        rows = [r for r in details if column in r.values and r.values[column].value is not None]
        if not rows:
            continue
        total = to_wan(sum((r.amount(column) for r in rows), Decimal(0)))
        out: dict[int, Decimal] = {}
        _share({"": rows}, "", total, column, out, levels)
        for r in rows:
            printed[(id(r), column)] = out[id(r)]
            plain = to_wan(r.amount(column))
            if out[id(r)] != plain:
                log.append(Adjustment(r.values[column].ref, r.amount(column), plain, out[id(r)]))
    new_rows = []
    for r in table.rows:
        values = {}
        for k, a in r.values.items():
            if r.kind == DETAIL and (id(r), k) in printed:
                values[k] = Amount(printed[(id(r), k)], a.ref)
            elif r.kind == DETAIL and a.value is not None:
                values[k] = Amount(to_wan(a.value), a.ref)
            else:
                values[k] = Amount(None, a.ref)  # computed from the rounded details below
        new_rows.append(replace(r, values=frozen_map(values)))
    return replace(table, rows=tuple(new_rows))


def _round_form(form: Form) -> Form:
    return replace(form, amounts=frozen_map({k: Amount(to_wan(a.value), a.ref) if a.value is not None else a for k, a in form.amounts.items()}))


def _round_record(record: Record, keys: set[str]) -> Record:
    return replace(record, amounts=frozen_map({
        k: Amount(to_wan(a.value), a.ref) if a.value is not None and k in keys else a for k, a in record.amounts.items()
    }))


def printable(disclosure: Disclosure, spec: Spec) -> tuple[Disclosure, list[Adjustment]]:
    """The model to print, in 万元, and the rounding adjustments made."""
    if disclosure.unit != "元":
        return with_blanks_filled(disclosure, spec), []
    log: list[Adjustment] = []
    tables = {}
    for t in spec.tables:
        table = disclosure.tables.get(t.key)
        if table is None:
            continue
        targets = {rs.target for rs in (*t.row_sums, *t.right_row_sums)}
        inputs = tuple(k for k in t.amount_keys() if k not in targets)
        levels = t.code_levels if t.layout in ("classified", "projects") else ()
        tables[t.key] = _round_table(table, levels, inputs, log)
    money_fields = {i.key: {f.key for f in i.fields if f.type == "amount"} for i in spec.inputs}
    forms = {k: _round_form(f) if k != "info" else f for k, f in disclosure.forms.items()}
    lists = {k: tuple(_round_record(r, money_fields.get(k, set())) for r in records) for k, records in disclosure.lists.items()}
    rounded = replace(disclosure, unit="万元", tables=frozen_map(tables), forms=frozen_map(forms), lists=frozen_map(lists))
    return compute(rounded, spec).disclosure, log
