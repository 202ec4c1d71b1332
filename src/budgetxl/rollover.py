"""Start next year's workbook from this year's (``budgetxl rollover``).

Carried over: 单位信息 (年度 + 1, dates cleared), 项目说明, 支出用途, the
classification rows of the detail tables (codes, names, project names, amounts
cleared), 绩效目标 and 绩效指标 (this year's 指标值 become 上年完成值, amounts
cleared), 其他事项 (asset figures kept as a starting point, the year moved).
This year's figures become next year's 上年预算数 in 上年数与原因, with the
reasons left empty for staff to write. The result is a data dict for
``fill.fill_edits``, so that rollover writes through the same path as fill.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .codes import split_code
from .comparables import comparables
from .model import DETAIL, SUBTOTAL, Disclosure
from .spec import CODE_ROLES, Spec


def _table_rows(d: Disclosure, spec: Spec) -> dict[str, Any]:
    tables: dict[str, Any] = {}
    for t in spec.tables:
        if t.layout not in ("classified", "projects") or t.key not in d.tables:
            continue
        code_columns = [c for c in t.columns if c.role in CODE_ROLES]
        rows = []
        for row in d.tables[t.key].rows:
            if row.kind not in (DETAIL, SUBTOTAL) or (not row.code and row.key != "单位"):
                continue
            cells: list[Any] = []
            codes = split_code(row.code, len(code_columns)) if row.code else [""] * len(code_columns)
            for c in t.columns:
                if c.role in CODE_ROLES:
                    cells.append(codes[code_columns.index(c)])
                elif c.role == "name":
                    cells.append(row.name)
                elif c.role == "project":
                    cells.append(row.project or "")
                else:
                    cells.append("")
            rows.append(cells)
        if rows:
            tables[t.key] = {"rows": rows}
    return tables


def _amount_text(value: Decimal | None) -> str:
    return "" if value is None else format(value, "f")


def rollover_data(d: Disclosure, spec: Spec) -> dict[str, Any]:
    year = (d.year or spec.year) + 1
    info = {k: v.value for k, v in d.info.fields.items() if v.value}
    info.update({"年度": year})
    for key in ("批复日期", "公开日期"):
        info.pop(key, None)
    priors = [
        {"类别": i.category, "编码": i.code, "名称": i.name, "上年预算数": _amount_text(i.current or Decimal(0)), "增减原因": ""}
        for i in comparables(d, spec)
        if i.current or i.category == "三公经费"
    ]
    def records(key: str, drop: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        out = []
        for r in d.lists.get(key, ()):
            record = {k: t.value for k, t in r.fields.items() if t.value and k not in drop}
            out.append(record)
        return out

    targets = records("targets", drop=("年度预算总额", "财政拨款", "上级安排", "本级安排", "其他资金"))
    indicators = []
    for r in d.lists.get("indicators", ()):
        record = {k: t.value for k, t in r.fields.items() if t.value}
        record["上年完成值"] = r.text("指标值")
        if r.amount("分值权重") is not None:
            record["分值权重"] = _amount_text(r.amount("分值权重"))
        indicators.append(record)
    other = {}
    form = d.forms.get("other")
    if form is not None:
        field_types = {f.key: f.type for f in spec.input("other").fields}
        for key, text in form.fields.items():
            if field_types.get(key) in ("count", "number") and text.value:
                other[key] = text.value
            elif key.endswith("价值") and form.amount(key) is not None:
                other[key] = _amount_text(form.amount(key))
        other["资产统计截止年度"] = year - 1
        if form.text("其他需说明的事项"):
            other["其他需说明的事项"] = form.text("其他需说明的事项")
    return {
        "info": info,
        "tables": _table_rows(d, spec),
        "priors": priors,
        "purposes": records("purposes"),
        "projects": records("projects"),
        "targets": targets,
        "indicators": indicators,
        "other": other,
    }
