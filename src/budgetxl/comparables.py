"""The figures the 情况说明 compares with last year, and where each comes from.

Shared by the reason checks (F rules) and the narrative: the current figure is
read from the tables, the prior figure and the reason from 上年数与原因.
"""

from __future__ import annotations

from decimal import Decimal

from .model import DETAIL, Amount, CellRef, Disclosure, Record, Table, Text
from .records import dataclass, replace
from .spec import Spec
from .textnorm import first_of, squash

INCOME = "收入"
SPENDING = "支出"
GENERAL = "一般公共预算拨款"
ITEM = "功能分类科目"
THREE = "三公经费"
RUNNING = "机关运行经费"

THREE_ITEMS = ("因公出国（境）费用", "公务用车购置", "公务用车运行维护费", "公务接待费")


@dataclass(frozen=True)
class Comparable:
    """One figure of this year that has a prior-year figure to compare with, and the reason given for the change."""

    category: str
    code: str  # 7-digit 功能科目 code, else ""
    name: str
    current: Decimal | None
    current_refs: tuple[CellRef, ...]
    prior: Amount | None = None
    reason: Text | None = None
    required: bool = True  # the narrative states this item's change

    @property
    def change(self) -> Decimal | None:
        if self.prior is None or self.prior.value is None:
            return None
        return (self.current or Decimal(0)) - self.prior.value

    @property
    def label(self) -> str:
        return f"{self.category}“{self.name}”" if not self.code else f"{self.code} {self.name}"


def _key(category: str, code: str, name: str) -> tuple[str, str]:
    return (squash(category), code or squash(name))


def _total(table: Table | None, column: str) -> tuple[Decimal | None, tuple[CellRef, ...]]:
    if table is None:
        return None, ()
    row = table.total_row()
    if row is not None and column in row.values:
        a = row.values[column]
        return a.value, (a.ref,)
    return None, ()


def _row(table: Table | None, key: str, column: str, side: str | None = None):
    row = table.by_key(key, side) if table else None
    if row is None or column not in row.values:
        return None, ()
    a = row.values[column]
    return a.value, (a.ref,)


def current_items(d: Disclosure, spec: Spec) -> list[Comparable]:
    """Every item whose change the narrative states, with its current figure."""
    t = d.tables.get
    items: list[Comparable] = []
    for name, key in spec.income_sources():
        value, refs = _row(t("T1"), key, "预算数", "收入")
        items.append(Comparable(INCOME, "", name, value, refs, required=bool(value)))
    for name in ("基本支出", "项目支出"):
        value, refs = _total(t("T3"), name)
        items.append(Comparable(SPENDING, "", name, value, refs, required=bool(value)))
        value, refs = _total(t("T5"), name)
        items.append(Comparable(GENERAL, "", name, value, refs, required=bool(value)))
    if t("T5") is not None:
        for row in t("T5").rows:
            if row.kind == DETAIL and row.code and len(row.code) == 7:
                a = row.values.get("合计")
                value = a.value if a else None
                items.append(Comparable(ITEM, row.code, row.name, value, (a.ref,) if a else (), required=bool(value)))
    value, refs = _total(t("T10"), "合计")
    items.append(Comparable(THREE, "", "合计", value, refs))
    for name in THREE_ITEMS:
        value, refs = _row(t("T10"), name, "合计")
        items.append(Comparable(THREE, "", name, value, refs))
    running = d.forms.get("other").amounts.get(RUNNING) if d.forms.get("other") else None
    if running is not None and running.value is not None:
        items.append(Comparable(RUNNING, "", RUNNING, running.value, (running.ref,), required=_has_running_costs(d)))
    else:
        value, refs = _total(t("T6"), "公用经费")
        items.append(Comparable(RUNNING, "", RUNNING, value, refs, required=_has_running_costs(d)))
    return items


def _has_running_costs(d: Disclosure) -> bool:
    """机关运行经费 is stated by 行政单位 and 参公 事业单位."""
    return d.info.text("单位性质") in ("行政单位", "参照公务员法管理事业单位")


def prior_records(d: Disclosure) -> dict[tuple[str, str], Record]:
    return {
        _key(r.text("类别"), r.text("编码"), r.text("名称")): r for r in d.lists.get("priors", ())
    }


def comparables(d: Disclosure, spec: Spec) -> list[Comparable]:
    """Current items joined with their 上年数与原因 records."""
    records = prior_records(d)
    out = []
    for item in current_items(d, spec):
        record = records.get(_key(item.category, item.code, item.name))
        if record is not None:
            item = Comparable(
                item.category, item.code, item.name, item.current, item.current_refs,
                record.amounts.get("上年预算数"), record.fields.get("增减原因"), item.required,
            )
        out.append(item)
    return out


def unmatched_records(d: Disclosure, spec: Spec) -> list[Record]:
    """上年数与原因 rows that name no current item (a typo, or an item that no longer exists)."""
    known = {_key(i.category, i.code, i.name) for i in current_items(d, spec)}
    return [r for k, r in prior_records(d).items() if k not in known and (r.amount("上年预算数") or r.text("增减原因"))]


# Words that belong to one kind of item, and the items they do not belong to.
_MISPLACED = (
    (lambda i: i.name == "项目支出", ("工资", "职级", "缴费基数", "基本支出"), "人员经费、基本支出方面的原因"),
    (lambda i: i.name == "基本支出", ("项目支出", "项目资金"), "项目支出方面的原因"),
    (lambda i: i.category == INCOME and i.name.startswith("上级"), ("县级财政", "本级财政", "县财政"), "本级（县级）财政资金的原因"),
    (lambda i: i.category == ITEM and i.code.startswith("208"), ("医疗保险", "住房公积金"), "其他科目（医疗、公积金）的原因"),
)


def misplaced_reason(item: Comparable) -> tuple[str, str] | None:
    """(the word, whose reason it looks like) when a reason talks about another kind of item."""
    text = item.reason.value if item.reason else ""
    for applies, words, what in _MISPLACED:
        found = first_of(text, words)
        if found and applies(item):
            return found, what
    return None


def reconciled(items: list[Comparable]) -> list[Comparable]:
    """One change, one reason. 支出 基本/项目支出 (§3) and 一般公共预算拨款
    基本/项目支出 (§5) are the same change when their figures agree; if the
    reason given for one belongs to another item (copied from 基本支出, say)
    and the other's does not, the narrative states the other's for both.
    The input is not changed: the check still reports the copied reason."""
    twins = {(i.category, i.name): i for i in items if i.category in (SPENDING, GENERAL)}
    out = []
    for item in items:
        other_key = (GENERAL if item.category == SPENDING else SPENDING, item.name)
        other = twins.get(other_key) if item.category in (SPENDING, GENERAL) else None
        same_money = (
            other is not None and other.prior is not None and item.prior is not None
            and other.current == item.current and other.prior.value == item.prior.value
        )
        if same_money and misplaced_reason(item) and other.reason and other.reason.value and not misplaced_reason(other):
            item = replace(item, reason=other.reason)
        out.append(item)
    return out
