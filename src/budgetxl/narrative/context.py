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
| ``projects`` | §7: [{name, amount, unit, fields: [(label, text)]}] (表7 + 项目说明) |
| ``fund_tables`` | §8/§9/§11/§12: key -> {empty, statement, total, rows} |
| ``three`` | §10: {total (Comparable), parts: [Comparable]} (表10) |
| ``running`` | §13(一): {applicable, item (Comparable)} |
| ``procurement`` | §13(二): 其他事项 amounts |
| ``assets`` | §13(三): 其他事项 amounts and counts |
| ``performance`` | §13(四): {whole_count, whole_amount, project_count, fiscal_amount, other_amount} |
| ``other_matters`` | §13(五) text |
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..comparables import GENERAL, INCOME, ITEM, RUNNING, SPENDING, THREE, Comparable, comparables, reconciled
from ..model import DETAIL, SUBTOTAL, Disclosure, Row, Table
from ..spec import Spec
from ..textnorm import squash
from .filters import shares

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


def build_context(d: Disclosure, spec: Spec) -> dict[str, Any]:
    t = d.tables.get
    t1, t3, t4, t5, t6, t7, t10 = (t(k) for k in ("T1", "T3", "T4", "T5", "T6", "T7", "T10"))
    items = reconciled(comparables(d, spec))
    by = lambda category: [i for i in items if i.category == category]  # noqa: E731

    income = t1.by_key("本年收入", "收入").amount("预算数") if t1 and t1.by_key("本年收入", "收入") else ZERO
    income_total = t1.total_row("收入").amount("预算数") if t1 and t1.total_row("收入") else ZERO
    classes = [
        {"code": r.code, "name": r.name, "amount": r.amount("预算数")}
        for r in (t1.rows_of(SUBTOTAL, side="支出") if t1 else [])
        if r.amount("预算数")
    ]
    funds = [name for name, key in spec.funds() if t1 and t1.by_key(key, "收入") and t1.by_key(key, "收入").amount("预算数")]

    sources_all = [i for i in by(INCOME) if i.name in ALWAYS_STATED or i.current]
    present = [i for i in sources_all if i.current]
    source_shares = dict(zip((i.name for i in present), shares([i.current for i in present])))
    sources = [
        {"name": i.name, "label": _label(i), "item": i, "share": source_shares.get(i.name), "arranged": bool(i.current)}
        for i in sources_all
    ]

    spend_items = by(SPENDING)
    spend_shares = shares([i.current for i in spend_items])
    spending = {
        "total": _total(t3, "合计"),
        "parts": [{"name": i.name, "item": i, "share": s} for i, s in zip(spend_items, spend_shares) if i.current],
    }

    fiscal_funds = [{"name": name, "amount": _amount(t4.by_key(key, "收入"), "合计") if t4 else ZERO} for name, key in FISCAL_FUNDS]
    purposes = {squash(r.text("科目代码")): r.text("主要用途") for r in d.lists.get("purposes", ())}
    fiscal_spending = []
    for name, column in (("一般公共预算", "一般公共预算"), ("政府性基金预算", "政府性基金预算"), ("国有资本经营预算", "国有资本经营预算")):
        rows = [r for r in (t4.rows_of(SUBTOTAL, side="支出") if t4 else []) if r.amount(column)]
        if rows:
            fiscal_spending.append({
                "fund": name,
                "classes": [{"name": r.name, "amount": r.amount(column), "purpose": purposes.get(r.code or "", "")} for r in rows],
            })
    fiscal = {
        "total": t4.total_row("收入").amount("合计") if t4 and t4.total_row("收入") else ZERO,
        "funds": [f for f in fiscal_funds if f["amount"]],
        "absent": [f["name"] for f in fiscal_funds if not f["amount"]],
        "spending": fiscal_spending,
    }

    general_items = {i.name: i for i in by(GENERAL)}
    structure_rows = [r for r in (t5.rows if t5 else []) if r.code and len(r.code) == 3 and r.amount("合计")]
    structure_shares = shares([r.amount("合计") for r in structure_rows])
    general = {
        "total": _total(t5, "合计"),
        "basic": general_items.get("基本支出"),
        "project": general_items.get("项目支出"),
        "structure": [{"name": r.name, "amount": r.amount("合计"), "share": s} for r, s in zip(structure_rows, structure_shares)],
        "uses": [{"label": _category_label(d, i.code), "item": i} for i in by(ITEM) if i.current],
    }

    details6 = [r for r in (t6.rows if t6 else []) if r.kind == DETAIL]
    basic = {
        "total": _total(t6, "合计"),
        "people": _total(t6, "人员经费"),
        "people_items": [r.name for r in details6 if r.amount("人员经费")],
        "public": _total(t6, "公用经费"),
        "public_items": [r.name for r in details6 if r.amount("公用经费")],
    }

    notes = {squash(r.text("项目名称")): r for r in d.lists.get("projects", ())}
    projects = []
    for row in (t7.rows if t7 else []):
        if row.kind != DETAIL or not row.project:
            continue
        note = notes.get(squash(row.project))
        text = note.text if note else (lambda key: "")
        fields = [("设立的政策依据", text("设立的政策依据")), ("预算安排规模", None), ("项目承担单位", text("项目承担单位") or d.department),
                  ("资金分配情况", text("资金分配情况")), ("资金执行时间", text("资金执行时间"))]
        fields += [(key, text(key)) for key in PROJECT_FIELDS if text(key)]
        projects.append({"name": row.project, "amount": row.amount("项目支出合计"), "fields": fields})

    fund_tables = {}
    for t_spec in spec.tables:
        if not t_spec.empty_statement:
            continue
        table = t(t_spec.key)
        empty = table is None or table.is_empty
        fund_tables[t_spec.key] = {
            "title": t_spec.title,
            "empty": empty,
            "statement": t_spec.empty_statement.format(单位名称=d.department, 年度=d.year or ""),
            "total": _total(table, t_spec.amount_keys()[0]) if table else ZERO,
            "table": table,
            "rows": [r for r in (table.rows if table else []) if r.kind == DETAIL and any(a.value for a in r.values.values())],
        }

    three_items = by(THREE)
    three = {"total": next((i for i in three_items if i.name == "合计"), None), "parts": [i for i in three_items if i.name != "合计"]}
    running_item = next(iter(by(RUNNING)), None)
    running = {"applicable": d.info.text("单位性质") in ("行政单位", "参照公务员法管理事业单位"), "item": running_item}

    other = d.forms.get("other")
    amount = (lambda key: other.amount(key) or ZERO) if other else (lambda key: ZERO)
    procurement = {
        "total": amount("政府采购预算总额") or (amount("政府采购货物预算") + amount("政府采购工程预算") + amount("政府采购服务预算")),
        "goods": amount("政府采购货物预算"), "works": amount("政府采购工程预算"), "services": amount("政府采购服务预算"),
        "sme": amount("面向中小企业预留政府采购预算"), "micro": amount("其中：小微企业预留政府采购预算"),
    }
    cars = [("一般公务用车", amount("一般公务用车（辆）"), amount("一般公务用车价值")),
            ("执法执勤用车", amount("执法执勤用车（辆）"), amount("执法执勤用车价值")),
            ("其他车辆", amount("其他车辆（辆）"), amount("其他车辆价值"))]
    assets = {
        "as_of": int(amount("资产统计截止年度")) if amount("资产统计截止年度") else (d.year - 1 if d.year else ""),
        "house_area": amount("房屋面积（平方米）"), "house_value": amount("房屋价值"),
        "car_count": sum((c for _, c, _ in cars), ZERO), "car_value": sum((v for _, _, v in cars), ZERO),
        "cars": [{"name": n, "count": c, "value": v} for n, c, v in cars],
        "furniture": amount("办公家具价值"), "other": amount("其他资产价值"),
        "big50": amount("单价50万元以上大型设备（台）"), "big100": amount("单价100万元以上大型设备（台）"),
        "buy_cars": amount("本年安排购置车辆（辆）"), "buy50": amount("本年安排购置单价50万元以上大型设备（台）"),
        "buy100": amount("本年安排购置单价100万元以上大型设备（台）"),
    }
    targets = d.lists.get("targets", ())
    performance = {
        "whole_count": sum(1 for r in targets if r.text("类型") == "部门整体") or 1,
        "whole_amount": income_total,
        "project_count": len(projects),
        "fiscal_amount": _total(t7, "项目支出合计"),
        "other_amount": ZERO,
    }
    return {
        "dept": d.department,
        "year": d.year,
        "prior_year": d.year - 1 if d.year else "",
        "unit": d.unit,
        "info": {k: v.value for k, v in d.info.fields.items()},
        "income": income,
        "income_total": income_total,
        "funds": funds,
        "classes": classes,
        "sources": sources,
        "spending": spending,
        "fiscal": fiscal,
        "general": general,
        "basic": basic,
        "projects": projects,
        "fund_tables": fund_tables,
        "three": three,
        "running": running,
        "procurement": procurement,
        "assets": assets,
        "performance": performance,
        "other_matters": other.text("其他需说明的事项") if other else "",
        "tables": [{"number": s.number, "title": s.title} for s in spec.tables],
    }
