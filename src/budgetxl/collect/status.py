"""Who has submitted, whose workbook is wrong, and the county totals.

Everything here reads the database; the consolidated tables are pandas
group-bys over the line items of each department's latest valid version
(通过 or 有警告). Amounts are Decimal objects in the frames (summed exactly)
and reported in 万元.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pandas as pd

from ..model import SheetContent
from ..textnorm import squash
from .roster import Member

VALID = ("通过", "有警告")
WAN = Decimal(10000)


@dataclass(frozen=True)
class Bureau:
    status: pd.DataFrame  # one row per department
    problems: pd.DataFrame  # problems with the submissions themselves
    findings: pd.DataFrame  # every finding of every latest version
    used: pd.DataFrame  # the versions counted in the totals
    totals: dict[str, pd.DataFrame]  # consolidated tables, 万元


def _frame(conn: sqlite3.Connection, sql: str, params=()) -> pd.DataFrame:
    cur = conn.execute(sql, params)
    columns = [c[0] for c in cur.description]
    return pd.DataFrame(cur.fetchall(), columns=columns)


def _wan(amount: str, unit: str) -> Decimal:
    value = Decimal(amount)
    return value / WAN if unit == "元" else value


def analyse(db: str | Path, roster: list[Member] | None = None, year: int | None = None) -> Bureau:
    conn = sqlite3.connect(str(db))
    try:
        subs = _frame(conn, "SELECT * FROM submissions ORDER BY id")
        subs["department"] = _roster_names(subs, roster)
        readable = subs[subs.readable == 1]
        latest = readable.groupby(["department"], sort=False).tail(1)
        valid = readable[readable.status.isin(VALID)].groupby(["department"], sort=False).tail(1)
        if year is None and len(readable):
            year = int(readable.year.mode().iloc[0]) if readable.year.notna().any() else None
        status = _status(subs, latest, valid, roster, year)
        template = dict(conn.execute("SELECT submission_id, COUNT(*) FROM findings WHERE code IN ('P01', 'P02', 'P03') GROUP BY submission_id").fetchall())
        problems = _problems(subs, roster, year, template)
        ids = tuple(int(i) for i in valid.id) or (-1,)
        marks = ",".join("?" * len(ids))
        items = _frame(conn, f"SELECT l.*, s.department, s.unit FROM line_items l JOIN submissions s ON s.id = l.submission_id WHERE l.submission_id IN ({marks})", ids)
        latest_ids = tuple(int(i) for i in latest.id) or (-1,)
        findings = _frame(
            conn,
            f"SELECT s.department AS 单位名称, s.version AS 版本, f.severity AS 级别, f.code AS 代码, f.title AS 规则, f.cells AS 位置, f.message AS 说明 "
            f"FROM findings f JOIN submissions s ON s.id = f.submission_id WHERE f.submission_id IN ({','.join('?' * len(latest_ids))}) "
            "ORDER BY s.department, CASE f.severity WHEN '错误' THEN 0 WHEN '警告' THEN 1 ELSE 2 END, f.code",
            latest_ids,
        )
    finally:
        conn.close()
    used = valid[["department", "version", "file_name", "received_at", "status"]].rename(
        columns={"department": "单位名称", "version": "汇总使用版本", "file_name": "文件", "received_at": "报送时间", "status": "状态"}
    )
    return Bureau(status, problems, findings, used.reset_index(drop=True), consolidate(items))


def _roster_names(subs: pd.DataFrame, roster: list[Member] | None) -> list[str]:
    """Each submission's department as the roster names it: by 单位编码 when both
    have one (a department that renamed itself is still itself), else by name."""
    if not roster:
        return list(subs.department)
    by_code = {m.code: m.name for m in roster if m.code}
    by_name = {squash(m.name): m.name for m in roster}
    out = []
    for name, code in zip(subs.department, subs.unit_code):
        out.append(by_code.get(code) if code and code in by_code else by_name.get(squash(name), name))
    return out


def _status(subs, latest, valid, roster, year) -> pd.DataFrame:
    names = [m.name for m in roster] if roster else []
    codes = {m.name: m.code for m in roster} if roster else {}
    seen = [d for d in latest.department if d and d not in names]
    rows = []
    for name in [*names, *seen]:
        mine = latest[latest.department == name]
        used = valid[valid.department == name]
        if mine.empty:
            rows.append({"单位名称": name, "单位编码": codes.get(name, ""), "状态": "未报送", "错误": 0, "警告": 0, "提示": 0,
                         "收支总计（万元）": None, "最新版本": None, "报送时间": "", "文件": "", "汇总使用版本": None})
            continue
        s = mine.iloc[-1]
        total = _wan(s.total, s.unit) if s.total else None
        rows.append({
            "单位名称": name, "单位编码": codes.get(name, "") or s.unit_code, "状态": s.status,
            "错误": int(s.errors), "警告": int(s.warnings), "提示": int(s.infos),
            "收支总计（万元）": total, "最新版本": int(s.version), "报送时间": s.received_at, "文件": s.file_name,
            "汇总使用版本": int(used.iloc[-1].version) if not used.empty else None,
        })
    return pd.DataFrame(rows, columns=["单位名称", "单位编码", "状态", "错误", "警告", "提示", "收支总计（万元）", "最新版本", "报送时间", "文件", "汇总使用版本"])


def _problems(subs, roster, year, template_problems: dict[int, int]) -> pd.DataFrame:
    rows = []
    names = {squash(m.name) for m in roster} if roster else None
    for s in subs.itertuples():
        if not s.readable:
            rows.append((s.file_name, "", "无法读取", s.error))
            continue
        if not s.department:
            rows.append((s.file_name, "", "没有单位名称", "单位信息中未填写单位名称，无法归属到单位。"))
        if year is not None and s.year is not None and not pd.isna(s.year) and int(s.year) != year:
            rows.append((s.file_name, s.department, "年度不符", f"工作簿年度为 {int(s.year)}，本次汇总为 {year} 年。"))
        if names is not None and s.department and squash(s.department) not in names:
            rows.append((s.file_name, s.department, "不在名单中", "单位名称不在报送名单中：请核对名称，或把该单位加入名单。"))
        if template_problems.get(int(s.id)):
            rows.append((s.file_name, s.department, "不是标准模板", f"缺少或改动了标准模板的工作表/表头（{template_problems[int(s.id)]} 处），可能使用了其他年度或地区的模板。请使用当年标准模板。"))
    readable = subs[(subs.readable == 1) & (subs.department != "")]
    for department, group in readable.groupby("department"):
        files = list(dict.fromkeys(group.file_name))
        if len(files) > 1:
            rows.append(("、".join(files), department, "同一单位多个文件",
                         f"{len(group)} 个不同版本，按收到顺序以最新一份（第 {int(group.version.max())} 版）为准，旧版本保留。"))
    return pd.DataFrame(rows, columns=["文件", "单位名称", "问题", "说明"])


def consolidate(items: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """County tables: the sum over departments of each table's figures, in 万元."""
    if items.empty:
        return {}
    items = items.assign(value=[_wan(a, u) for a, u in zip(items.amount, items.unit)])
    out: dict[str, pd.DataFrame] = {}

    def pivot(frame: pd.DataFrame, index: list[str], columns: list[str]) -> pd.DataFrame:
        frame = frame[frame.column_key.isin(columns)]
        summed = frame.groupby([*index, "column_key"], sort=False)["value"].sum().unstack("column_key")
        summed = summed.reindex(columns=columns).astype(object)
        summed = summed.where(summed.map(lambda v: isinstance(v, Decimal)), None)  # no NaN floats: blank
        units = frame.groupby(index, sort=False)["department"].nunique().rename("单位数")
        return summed.join(units).reset_index()

    details3 = items[(items.table_key == "T3") & (items.kind == "detail")]
    functional = pivot(details3, ["code", "name"], ["合计", "基本支出", "项目支出"])
    out["功能分类（项）"] = functional.rename(columns={"code": "科目代码", "name": "科目名称"})
    classes = details3.assign(code=details3.code.str[:3])
    names = items[(items.table_key == "T3") & (items.code.str.len() == 3)].groupby("code")["name"].first()
    by_class = pivot(classes.drop(columns=["name"]).assign(name=classes.code.map(names).fillna("")), ["code", "name"], ["合计", "基本支出", "项目支出"])
    out["功能分类（类）"] = by_class.rename(columns={"code": "科目代码", "name": "科目名称"})
    details6 = items[(items.table_key == "T6") & (items.kind == "detail")]
    out["经济分类（基本支出）"] = pivot(details6, ["code", "name"], ["合计", "人员经费", "公用经费"]).rename(columns={"code": "科目代码", "name": "科目名称"})
    totals3 = items[(items.table_key == "T3") & (items.kind == "total")].assign(label="总计")
    out["基本支出与项目支出"] = pivot(totals3, ["label"], ["合计", "基本支出", "项目支出"]).rename(columns={"label": "项目"})
    income = items[(items.table_key == "T1") & (items.side == "收入") & (items.kind != "total")]
    out["收入来源"] = pivot(income, ["label"], ["预算数"]).rename(columns={"label": "项目"})
    three = items[items.table_key == "T10"]
    out["三公经费"] = pivot(three, ["label"], ["合计", "一般公共预算", "政府性基金", "国有资本经营预算"]).rename(columns={"label": "项目"})
    return out


def _content(name: str, frame: pd.DataFrame, widths: tuple[int, ...] = ()) -> SheetContent:
    rows = tuple(tuple(None if (not isinstance(v, str) and pd.isna(v)) else v for v in row) for row in frame.itertuples(index=False))
    return SheetContent(name, tuple(map(str, frame.columns)), rows, widths or tuple(18 for _ in frame.columns))


def status_sheets(bureau: Bureau) -> list[SheetContent]:
    sheets = [
        _content("报送状态", bureau.status, (36, 14, 10, 6, 6, 6, 16, 8, 22, 36, 12)),
        _content("问题明细", bureau.findings, (30, 6, 6, 6, 24, 36, 90)),
        _content("报送问题", bureau.problems, (36, 30, 16, 80)),
        _content("汇总使用版本", bureau.used, (36, 12, 36, 22, 10)),
    ]
    for name, frame in bureau.totals.items():
        sheets.append(_content(f"汇总-{name}", frame, (12, 36, *[16] * (len(frame.columns) - 2))))
    return sheets
