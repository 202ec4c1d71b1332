"""The documented context every section template receives (pure: model in, dict out).

Figures are the tables' figures as entered, so that the text says what the
tables say; shares and change phrases are made by the filters.

Context keys (all sections):

| key | what |
|---|---|
| ``dept``, ``year``, ``prior_year`` | 单位名称, 预算年度, 上一年 |
| ``info`` | 单位信息: ``info.主要职能``, ``info.机构设置`` … |
| ``income`` | 本年收入; ``income_total`` 收入总计 (表1) |
| ``funds`` | 收入资金性质 with non-zero amounts, e.g. ["一般公共预算"] |
| ``classes`` | 表1 支出 类 with non-zero amounts: list of {code, name, amount} |
| ``sources`` | §2 收入来源: list of {name, label, item (Comparable), share, arranged} |
| ``spending`` | §3: {total, parts: [{name, item, share}]} (表3) |
| ``fiscal`` | §4: {total, funds: [{name, amount}], only, absent, spending: [{fund, classes: [{name, amount, purpose}]}]} (表4) |
| ``general`` | §5: {total, basic, project (Comparable), structure: [{name, amount, share}], uses: [{label, item}]} (表5) |
| ``basic`` | §6: {total, people, people_items, public, public_items} (表6) |
| ``projects`` | §7: [{name, amount, unit, fields: [(label, text)]}] (表7 + 项目说明); ``projects_missing``: placeholder when 表5 has 项目支出 and 表7 none |
| ``fund_tables`` | §8/§9/§11/§12: key -> {empty, statement, total, rows} |
| ``three`` | §10: {total (Comparable), parts: [Comparable]} (表10) |
| ``running`` | §13(一): {applicable, item (Comparable)} |
| ``procurement`` | §13(二): 其他事项 amounts (None when blank) |
| ``assets`` | §13(三): 其他事项 amounts and counts (None when blank) |
| ``performance`` | §13(四): {whole_count, whole_amount, project_count, fiscal_amount, other_amount}; counts are placeholders when 绩效目标 is empty |

A figure the text needs but the workbook leaves blank is ``None`` in the
context and prints as a visible placeholder (``【待填写：…】``, the ``money_or``
filter), never as 0.00; ``check`` reports the blank cell (A11). Each section has
its own builder (``overview``, ``income_sources`` … ``performance``);
``build_context`` composes them.
| ``other_matters`` | §13(五) text |
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..comparables import GENERAL, INCOME, ITEM, RUNNING, SPENDING, THREE, Comparable, comparables, reconciled
from ..model import DETAIL, SUBTOTAL, Disclosure, Row, Table
from ..spec import Spec
from ..textnorm import squash
from .filters import TODO, shares

ZERO = Decimal(0)

# §2: the fiscal sources are always stated (an amount, or 未安排); the others only when present
ALWAYS_STATED = {
    "一般公共预算", "上级一般公共预算安排的转移支付", "政府性基金预算",
    "上级政府性基金安排的转移支付", "国有资本经营预算", "上级国有资本经营预算安排的转移支付",
}
FISCAL_FUNDS = (("一般公共预算拨款", "一般公共预算"), ("政府性基金预算拨款", "政府性基金预算"), ("国有资本经营预算拨款", "国有资本经营预算"))
PROJECT_FIELDS = ("资金来源", "补贴标准", "补贴范围", "补贴方式", "发放程序", "受益人群和社会效益")


def _amount(row: Row | None, column: str) -> Decimal:
    return row.amount(column) if row else ZERO


def _total(table: Table | None, column: str) -> Decimal:
    if table is None:
        return ZERO
    row = table.total_row()
    return row.amount(column) if row else ZERO


def _label(item: Comparable) -> str:
    return item.name + ("资金" if item.name.startswith("上级") else "")


def _category_label(d: Disclosure, code: str) -> str:
    """'社会保障和就业支出（类）人力资源和社会保障管理事务（款）社会保险经办机构（项）' from 表5 names."""
    t5 = d.tables.get("T5")
    parts = []
    for length, level in ((3, "类"), (5, "款"), (7, "项")):
        row = t5.by_code(code[:length]) if t5 else None
        if row:
            parts.append(f"{row.name}（{level}）")
    return "".join(parts)


def todo(label: str) -> str:
    """The visible placeholder the text shows where an input it needs is blank."""
    return TODO.format(label)


# ------------------------------------------------------------------ one builder per section


def overview(d: Disclosure, spec: Spec) -> dict[str, Any]:
    """§1: 收支总预算, 收入 funds, 支出 classes (表1)."""
    t1 = d.tables.get("T1")
    income_row = t1.by_key("本年收入", "收入") if t1 else None
    total_row = t1.total_row("收入") if t1 else None
    return {
        "income": income_row.amount("预算数") if income_row else ZERO,
        "income_total": total_row.amount("预算数") if total_row else ZERO,
        "funds": [name for name, key in spec.funds() if t1 and t1.by_key(key, "收入") and t1.by_key(key, "收入").amount("预算数")],
        "classes": [
            {"code": r.code, "name": r.name, "amount": r.amount("预算数")}
            for r in (t1.rows_of(SUBTOTAL, side="支出") if t1 else [])
            if r.amount("预算数")
        ],
    }


def income_sources(items: list[Comparable]) -> dict[str, Any]:
    """§2: every fiscal source (an amount, or 未安排), the others when present."""
    stated = [i for i in items if i.category == INCOME and (i.name in ALWAYS_STATED or i.current)]
    present = [i for i in stated if i.current]
    source_shares = dict(zip((i.name for i in present), shares([i.current for i in present])))
    return {"sources": [
        {"name": i.name, "label": _label(i), "item": i, "share": source_shares.get(i.name), "arranged": bool(i.current)}
        for i in stated
    ]}


def spending(d: Disclosure, items: list[Comparable]) -> dict[str, Any]:
    """§3: 支出预算 by 基本/项目支出 (表3)."""
    parts = [i for i in items if i.category == SPENDING]
    part_shares = shares([i.current for i in parts])
    return {"spending": {
        "total": _total(d.tables.get("T3"), "合计"),
        "parts": [{"name": i.name, "item": i, "share": s} for i, s in zip(parts, part_shares) if i.current],
    }}


def fiscal(d: Disclosure) -> dict[str, Any]:
    """§4: 财政拨款收支 (表4) and the 主要用途 of each 类 (支出用途)."""
    t4 = d.tables.get("T4")
    funds = [{"name": name, "amount": _amount(t4.by_key(key, "收入"), "合计") if t4 else ZERO} for name, key in FISCAL_FUNDS]
    purposes = {squash(r.text("科目代码")): r.text("主要用途") for r in d.lists.get("purposes", ())}
    uses = []
    for name in ("一般公共预算", "政府性基金预算", "国有资本经营预算"):
        rows = [r for r in (t4.rows_of(SUBTOTAL, side="支出") if t4 else []) if r.amount(name)]
        if rows:
            uses.append({"fund": name, "classes": [{"name": r.name, "amount": r.amount(name), "purpose": purposes.get(r.code or "", "")} for r in rows]})
    total = t4.total_row("收入") if t4 else None
    return {"fiscal": {
        "total": total.amount("合计") if total else ZERO,
        "funds": [f for f in funds if f["amount"]],
        "absent": [f["name"] for f in funds if not f["amount"]],
        "spending": uses,
    }}


def general_budget(d: Disclosure, items: list[Comparable]) -> dict[str, Any]:
    """§5: 一般公共预算当年拨款: scale, structure by 类, uses by 项 (表5)."""
    t5 = d.tables.get("T5")
    named = {i.name: i for i in items if i.category == GENERAL}
    structure = [r for r in (t5.rows if t5 else []) if r.code and len(r.code) == 3 and r.amount("合计")]
    structure_shares = shares([r.amount("合计") for r in structure])
    return {"general": {
        "total": _total(t5, "合计"),
        "basic": named.get("基本支出"),
        "project": named.get("项目支出"),
        "structure": [{"name": r.name, "amount": r.amount("合计"), "share": s} for r, s in zip(structure, structure_shares)],
        "uses": [{"label": _category_label(d, i.code), "item": i} for i in items if i.category == ITEM and i.current],
    }}


def basic_spending(d: Disclosure) -> dict[str, Any]:
    """§6: 基本支出 by 人员经费/公用经费 (表6)."""
    t6 = d.tables.get("T6")
    details = [r for r in (t6.rows if t6 else []) if r.kind == DETAIL]
    return {"basic": {
        "total": _total(t6, "合计"),
        "people": _total(t6, "人员经费"),
        "people_items": [r.name for r in details if r.amount("人员经费")],
        "public": _total(t6, "公用经费"),
        "public_items": [r.name for r in details if r.amount("公用经费")],
    }}


def projects(d: Disclosure) -> dict[str, Any]:
    """§7: one block per 表7 project with its 项目说明; ``missing`` when 表5 has 项目支出 but 表7 lists no project."""
    t5, t7 = d.tables.get("T5"), d.tables.get("T7")
    notes = {squash(r.text("项目名称")): r for r in d.lists.get("projects", ())}
    out = []
    for row in (t7.rows if t7 else []):
        if row.kind != DETAIL or not row.project:
            continue
        note = notes.get(squash(row.project))
        text = note.text if note else (lambda key: "")
        fields = [("设立的政策依据", text("设立的政策依据")), ("预算安排规模", None), ("项目承担单位", text("项目承担单位") or d.department),
                  ("资金分配情况", text("资金分配情况")), ("资金执行时间", text("资金执行时间"))]
        fields += [(key, text(key)) for key in PROJECT_FIELDS if text(key)]
        out.append({"name": row.project, "amount": row.amount("项目支出合计"), "fields": fields})
    general_projects = _total(t5, "项目支出") if t5 is not None and t5.rows else _total(d.tables.get("T3"), "项目支出")
    return {"projects": out, "projects_missing": todo("表7 一般公共预算项目支出") if not out and general_projects else ""}


def fund_tables(d: Disclosure, spec: Spec) -> dict[str, Any]:
    """§8/§9/§11/§12: tables that may be empty (政府性基金, 国有资本经营, 委托业务费, 结转结余)."""
    out = {}
    for t_spec in spec.tables:
        if not t_spec.empty_statement:
            continue
        table = d.tables.get(t_spec.key)
        out[t_spec.key] = {
            "title": t_spec.title,
            "empty": table is None or table.is_empty,
            "statement": t_spec.empty_statement.format(单位名称=d.department, 年度=d.year or ""),
            "total": _total(table, t_spec.amount_keys()[0]) if table else ZERO,
            "table": table,
            "rows": [r for r in (table.rows if table else []) if r.kind == DETAIL and any(a.value for a in r.values.values())],
        }
    return {"fund_tables": out}


def three_public(items: list[Comparable]) -> dict[str, Any]:
    """§10: “三公”经费 and each of its parts (表10)."""
    three = [i for i in items if i.category == THREE]
    return {"three": {"total": next((i for i in three if i.name == "合计"), None), "parts": [i for i in three if i.name != "合计"]}}


def running_costs(d: Disclosure, items: list[Comparable]) -> dict[str, Any]:
    """§13(一): 机关运行经费 (行政单位 and 参公 only)."""
    item = next((i for i in items if i.category == RUNNING), None)
    return {"running": {"applicable": d.info.text("单位性质") in ("行政单位", "参照公务员法管理事业单位"), "item": item}}


def _other_value(d: Disclosure, key: str) -> Decimal | None:
    other = d.forms.get("other")
    return other.amount(key) if other else None


def procurement(d: Disclosure) -> dict[str, Any]:
    """§13(二): 政府采购; a blank amount prints as a placeholder, never as 0.00."""
    a = lambda key: _other_value(d, key)  # noqa: E731
    parts = [a("政府采购货物预算"), a("政府采购工程预算"), a("政府采购服务预算")]
    total = a("政府采购预算总额")
    if total is None and any(p is not None for p in parts):
        total = sum((p or ZERO for p in parts), ZERO)
    return {"procurement": {
        "total": total, "goods": parts[0], "works": parts[1], "services": parts[2],
        "sme": a("面向中小企业预留政府采购预算"), "micro": a("其中：小微企业预留政府采购预算"),
    }}


CARS = (("一般公务用车", "一般公务用车（辆）", "一般公务用车价值"), ("执法执勤用车", "执法执勤用车（辆）", "执法执勤用车价值"), ("其他车辆", "其他车辆（辆）", "其他车辆价值"))


def assets(d: Disclosure) -> dict[str, Any]:
    """§13(三): 国有资产 (其他事项); blank values are placeholders, counts and years are never money."""
    a = lambda key: _other_value(d, key)  # noqa: E731
    year = a("资产统计截止年度")
    cars = [{"name": n, "count": a(count), "value": a(value), "label": value} for n, count, value in CARS]
    known = [c for c in cars if c["value"] is not None]
    return {"assets": {
        "as_of": int(year) if year else (d.year - 1 if d.year else todo("资产统计截止年度")),
        "house_area": a("房屋面积（平方米）"), "house_value": a("房屋价值"),
        "car_count": sum((c["count"] or ZERO for c in cars), ZERO),
        "car_value": sum((c["value"] for c in known), ZERO) if len(known) == len(cars) else None,
        "cars": cars,
        "furniture": a("办公家具价值"), "other": a("其他资产价值"),
        "big50": a("单价50万元以上大型设备（台）"), "big100": a("单价100万元以上大型设备（台）"),
        "buy_cars": a("本年安排购置车辆（辆）"), "buy50": a("本年安排购置单价50万元以上大型设备（台）"),
        "buy100": a("本年安排购置单价100万元以上大型设备（台）"),
    }}


def performance(d: Disclosure, income_total: Decimal) -> dict[str, Any]:
    """§13(四): 绩效目标 counts from the 绩效目标 sheet (placeholders when it is empty)."""
    targets = d.lists.get("targets", ())
    t7 = d.tables.get("T7")
    if targets:
        whole: int | str = sum(1 for r in targets if r.text("类型") == "部门整体") or todo("部门整体绩效目标")
        count: int | str = sum(1 for r in targets if r.text("类型") == "项目")
    else:
        whole = count = todo("绩效目标")
    return {"performance": {
        "whole_count": whole,
        "whole_amount": income_total,
        "project_count": count,
        "fiscal_amount": _total(t7, "项目支出合计"),
        "other_amount": ZERO,
    }}


def build_context(d: Disclosure, spec: Spec) -> dict[str, Any]:
    """The context of every section: the section builders above, composed."""
    items = reconciled(comparables(d, spec))
    other = d.forms.get("other")
    context: dict[str, Any] = {
        "dept": d.department,
        "year": d.year,
        "prior_year": d.year - 1 if d.year else "",
        "unit": d.unit,
        "info": {k: v.value for k, v in d.info.fields.items()},
        "other_matters": other.text("其他需说明的事项") if other else "",
        "tables": [{"number": s.number, "title": s.title} for s in spec.tables],
    }
    context.update(overview(d, spec))
    context.update(income_sources(items))
    context.update(spending(d, items))
    context.update(fiscal(d))
    context.update(general_budget(d, items))
    context.update(basic_spending(d))
    context.update(projects(d))
    context.update(fund_tables(d, spec))
    context.update(three_public(items))
    context.update(running_costs(d, items))
    context.update(procurement(d))
    context.update(assets(d))
    context.update(performance(d, context["income_total"]))
    return context
