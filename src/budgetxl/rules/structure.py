"""A — completeness and consistency of the workbook as a whole (disclosure-rules.md A01–A13)."""

from __future__ import annotations

import datetime as dt
import re

from ..model import DETAIL, SUBTOTAL, CellRef, Severity
from ..textnorm import first_of, squash
from . import rule
from .context import CheckContext
from .performance import PROJECT, WHOLE, project_for

PLACEHOLDERS = re.compile(r"XX|××|xx|待填写|待补充|\{[^}]*\}|增加（减少）|增加\(减少\)|…{2,}|\.{6,}")
# every placeholder begins with one of these: a text without any of them has none (tests/test_fast_paths.py)
PLACEHOLDER_STARTS = re.compile("[Xx×待{增….]")


@rule("A01", Severity.ERROR, "单位名称不一致")
def check_department_name(ctx: CheckContext, out) -> None:
    """检查内容：单位信息中的单位名称，与各表“编制部门”、表7 单位行、部门整体绩效目标表的名称一致。
    “编制部门”为空时报“提示”（运行“计算小计”会按单位信息填写）。
    为何重要：同一文件中单位名称不一致，是检查通报中的常见问题，也会导致财政局汇总时对不上单位。
    示例：表3 编制部门写“阿克陶县社保中心”，而单位信息是“阿克陶县社会保险中心”，报此错误。
    处理方法：统一使用单位全称。"""
    name = ctx.disclosure.department
    if not name:
        return
    blank = []
    for t in ctx.spec.tables:
        table = ctx.disclosure.tables.get(t.key)
        if table is None or table.department is None:
            continue
        if not table.department.value:
            blank.append(table.department.ref)
        elif squash(table.department.value) != squash(name):
            out.emit(f"{table.department.ref} {table.title}的编制部门“{table.department.value}”与单位名称“{name}”不一致。", [table.department.ref], expected=name, actual=table.department.value)
    if blank:
        out.emit(f"{blank[0]} 等 {len(blank)} 张表的“编制部门”未填写。运行“计算小计”会按单位信息自动填写。", blank, Severity.INFO)
    if ctx.has("T7"):
        for row in ctx.table("T7").rows:
            if row.kind == SUBTOTAL and not row.code and squash(row.name) != squash(name):
                out.emit(f"{row.name_ref} 表7 单位行“{row.name}”与单位名称“{name}”不一致。", [row.name_ref], expected=name, actual=row.name)
    for target in ctx.disclosure.lists.get("targets", ()):
        if target.text("类型") == WHOLE and squash(target.text("目标表名称")) != squash(name):
            ref = target.ref("目标表名称")
            out.emit(f"{ref} 部门整体绩效目标表名称“{target.text('目标表名称')}”与单位名称“{name}”不一致。", [ref], expected=name, actual=target.text("目标表名称"))


@rule("A02", Severity.ERROR, "金额单位不一致")
def check_units(ctx: CheckContext, out) -> None:
    """检查内容：各表表头的“单位”与单位信息中的金额单位相同。
    为何重要：一张表用元、另一张用万元，所有数字都会差一万倍。
    示例：单位信息为“万元”，表6 写“单位：元”，报此错误。
    处理方法：统一金额单位；运行“计算小计”会按单位信息改写各表单位。"""
    for t in ctx.spec.tables:
        table = ctx.disclosure.tables.get(t.key)
        if table and table.unit and table.unit.value and table.unit.value != ctx.unit:
            out.emit(f"{table.unit.ref} {table.title}的金额单位“{table.unit.value}”与单位信息“{ctx.unit}”不一致。", [table.unit.ref], expected=ctx.unit, actual=table.unit.value)


@rule("A03", Severity.ERROR, "年度不一致")
def check_years(ctx: CheckContext, out) -> None:
    """检查内容：预算年度与模板年度相同（用 2026 年模板填 2027 年预算会报“警告”）；国有资产统计截止年度为预算年度的上一年。
    为何重要：年度写错会让“上年”比较和资产情况说明全部错位。
    示例：参考文件 2026 年预算，资产“截至2025年底”。
    处理方法：改正单位信息的年度或其他事项的资产统计截止年度；换用当年模板。"""
    year = ctx.disclosure.year
    info = ctx.disclosure.info
    if year and year != ctx.spec.year:
        ref = info.ref("年度")
        out.emit(f"{ref} 预算年度 {year} 与模板年度 {ctx.spec.year} 不同。请使用 {year} 年的模板，或核对年度。", [ref], Severity.WARNING, expected=ctx.spec.year, actual=year)
    other = ctx.disclosure.forms.get("other")
    asset_year = other.amounts.get("资产统计截止年度") if other else None
    if year and asset_year is not None and asset_year.value is not None and asset_year.value != year - 1:
        out.emit(f"{asset_year.ref} 资产统计截止年度 {asset_year.value} 应为预算年度的上一年 {year - 1}。", [asset_year.ref], expected=year - 1, actual=asset_year.value)


@rule("A04", Severity.ERROR, "文字中有未替换的占位符")
def check_placeholders(ctx: CheckContext, out) -> None:
    """检查内容：单位信息、项目说明、上年数与原因、其他事项、绩效目标中的文字不含 XX、××、待填写、{…}、“增加（减少）”等模板残留。
    为何重要：带着占位符公开是最显眼的错误。
    示例：主要职能写“负责XX工作”，报此错误。
    处理方法：把占位符替换为实际内容。"""
    texts = [form.fields for form in ctx.disclosure.forms.values()]
    texts += [record.fields for records in ctx.disclosure.lists.values() for record in records]
    search, may_have = PLACEHOLDERS.search, PLACEHOLDER_STARTS.search
    for fields in texts:  # every text a workbook has: one pattern search each, no call around it
        for field, text in fields.items():
            m = search(text.value) if text and text.value and may_have(text.value) else None
            if m:
                out.emit(f"{text.ref} “{field}”中有占位符“{m.group(0)}”。请替换为实际内容。", [text.ref], actual=text.value[:60])


@rule("A05", Severity.WARNING, "机构设置未说明所属单位")
def check_structure_text(ctx: CheckContext, out) -> None:
    """检查内容：机构设置说明本部门预算包括哪些单位（如“无下属预算单位”或“包括本级及所属×个单位”）。
    为何重要：读者要知道公开的是一个单位还是一个部门的汇总。
    示例：参考文件“阿克陶县社会保险中心无下属预算单位。”——通过。
    处理方法：在单位信息“机构设置”中补充说明。"""
    info = ctx.disclosure.info
    text = info.fields.get("机构设置")
    if text and text.value and not first_of(text.value, ("下属", "所属", "二级单位", "预算单位", "本级")):
        out.emit(f"{text.ref} 机构设置没有说明部门预算包括哪些单位（如“无下属预算单位”）。请补充。", [text.ref])


@rule("A06", Severity.ERROR, "空表说明与表格不符")
def check_empty_statements(ctx: CheckContext, out) -> None:
    """检查内容：政府性基金、国有资本经营、委托业务费、上年结转结余四张表没有数据时应列出空表并说明；有数据的表不能写“为空表”；
    说明要提到本表的名称。说明为空时报“提示”（生成公开文件时会自动加上）。
    为何重要：“没有数据的表格应当列出空表并说明”是公开规定；有数据却写空表，是自相矛盾。
    示例：参考文件表8 下写“……没有使用政府性基金预算拨款安排的支出，政府性基金预算支出情况表为空表。”
    处理方法：运行“计算小计”会按表格内容写入或清除空表说明。"""
    for t in ctx.spec.tables:
        if not t.empty_statement or not ctx.has(t.key):
            continue
        table = ctx.table(t.key)
        statement = table.statement
        says_empty = statement is not None and "空表" in statement.value
        if table.is_empty:
            if statement is None:
                total = table.total_row()
                where = CellRef(table.sheet, total.row + 1, 1) if total else None
                out.emit(f"{where or table.sheet} {t.title}没有数据，表下尚无空表说明；运行“计算小计”或生成公开文件时会自动加上。", [where], Severity.INFO)
            elif says_empty and t.title not in statement.value:
                out.emit(f"{statement.ref} {t.title}的空表说明没有提到本表（“{statement.value[:40]}…”）。请改正。", [statement.ref], actual=statement.value)
        elif says_empty:
            out.emit(f"{statement.ref} {t.title}有数据，表下却写着“为空表”。请删除空表说明。", [statement.ref], actual=statement.value)


def _date(text: str) -> dt.date | None:
    m = re.search(r"(\d{4})\D(\d{1,2})\D(\d{1,2})", text or "")
    if not m:
        return None
    try:
        return dt.date(*map(int, m.groups()))
    except ValueError:
        return None


@rule("A07", Severity.ERROR, "公开时间超过批复后二十日")
def check_timeliness(ctx: CheckContext, out) -> None:
    """检查内容：公开日期不晚于财政部门批复后二十日（预算法第十四条）。未填写批复日期时报“提示”。
    为何重要：及时性是每年专项检查的第一项。
    示例：批复日期 2026-01-10，公开日期 2026-02-05，相隔 26 天，报此错误。
    处理方法：在批复后二十日内公开；日期填写有误的改正。"""
    info = ctx.disclosure.info
    approved, published = info.fields.get("批复日期"), info.fields.get("公开日期")
    a = _date(approved.value) if approved else None
    p = _date(published.value) if published else None
    if a is None or p is None:
        if p is not None:
            out.emit(f"{approved.ref if approved else ''} 未填写批复日期，无法检查是否在批复后二十日内公开。请在“批复日期”中填写财政部门批复预算的日期。",
                     [approved.ref if approved else None], Severity.INFO)
        return
    days = (p - a).days
    if days > 20:
        out.emit(f"{published.ref} 公开日期 {p} 距批复日期 {a} 已 {days} 天，超过二十日。请在批复后二十日内公开；如日期填写有误，请改正批复日期或公开日期。",
                 [published.ref, approved.ref], expected="≤20 天", actual=f"{days} 天")
    elif days < 0:
        out.emit(f"{published.ref} 公开日期 {p} 早于批复日期 {a}。请核对日期。", [published.ref, approved.ref])


@rule("A08", Severity.ERROR, "绩效目标表与项目不对应")
def check_target_count(ctx: CheckContext, out) -> None:
    """检查内容：有一张部门整体绩效目标表；表7 的每个项目都有一张项目绩效目标表，每张项目绩效目标表都对应表7 的一个项目。
    为何重要：绩效目标随预算公开，漏掉项目属于公开不完整。
    示例：参考文件表7 有 12 个项目，项目绩效目标表也是 12 张，一一对应。
    处理方法：在“绩效目标”工作表补齐缺少的目标表，并填写“表7项目名称”。"""
    if "targets" not in ctx.disclosure.lists:  # no 绩效目标 sheet at all (a workbook of the tables alone): P12 says so
        return
    targets = list(ctx.disclosure.lists.get("targets", ()))
    if not any(t.text("类型") == WHOLE for t in targets):
        out.emit("“绩效目标”工作表中没有部门整体绩效目标（类型为“部门整体”的一行）。请补充。", [])
    if not ctx.has("T7"):
        return
    covered = {id(p) for t in targets if t.text("类型") == PROJECT for p in [project_for(ctx, t)] if p is not None}
    for row in ctx.table("T7").rows:
        if row.kind == DETAIL and row.project and id(row) not in covered:
            out.emit(f"{row.name_ref} 表7 项目“{row.project}”没有对应的项目绩效目标表。请在“绩效目标”中补充，并在“表7项目名称”列写明。", [row.name_ref])


@rule("A09", Severity.ERROR, "项目说明不完整")
def check_project_notes(ctx: CheckContext, out) -> None:
    """检查内容：表7 的每个项目在“项目说明”中有一行（项目名称与表7 一致），并填写了设立的政策依据、资金分配情况、资金执行时间；
    “项目说明”中的项目在表7 中都存在。
    为何重要：情况说明第七部分逐个说明项目，缺少说明就只能公开一个金额。
    示例：参考文件 12 个项目都有政策依据、资金分配和执行时间。
    处理方法：在“项目说明”补齐；项目名称从表7 复制。"""
    if "projects" not in ctx.disclosure.lists:  # no 项目说明 sheet at all: P12 says so
        return
    notes = {squash(r.text("项目名称")): r for r in ctx.disclosure.lists.get("projects", ())}
    projects = [r for r in ctx.table("T7").rows if r.kind == DETAIL and r.project] if ctx.has("T7") else []
    names = {squash(p.project) for p in projects}
    for p in projects:
        note = notes.get(squash(p.project))
        if note is None:
            out.emit(f"{p.name_ref} 表7 项目“{p.project}”在“项目说明”中没有说明。请补充一行。", [p.name_ref])
            continue
        for field in ("设立的政策依据", "资金分配情况", "资金执行时间"):
            if not note.text(field):
                ref = note.fields[field].ref if field in note.fields else None
                out.emit(f"{ref} 项目“{p.project}”的“{field}”未填写。", [ref], Severity.WARNING)
    for key, note in notes.items():
        if key and key not in names:
            ref = note.ref("项目名称")
            out.emit(f"{ref} “项目说明”中的项目“{note.text('项目名称')}”在表7 中没有。请核对项目名称。", [ref], Severity.WARNING)


@rule("A10", Severity.WARNING, "支出用途未填写")
def check_purposes(ctx: CheckContext, out) -> None:
    """检查内容：表4 中有财政拨款支出的每一类，在“支出用途”工作表中写明主要用途（情况说明第四部分“主要用于……”）。
    为何重要：只列金额不说用途的说明不完整，读者看不出钱花在哪里。
    示例：参考文件“社会保障和就业支出1,381.56万元，主要用于职工工资、公用经费、单位退休费支出及项目等支出”。
    处理方法：在“支出用途”工作表为该类补一行：科目代码、科目名称、主要用途。"""
    if not ctx.has("T4") or "purposes" not in ctx.disclosure.lists:  # no 支出用途 sheet at all: P12 says so
        return
    written = {squash(r.text("科目代码")) for r in ctx.disclosure.lists.get("purposes", ()) if r.text("主要用途")}
    for row in ctx.table("T4").rows_of(SUBTOTAL, side="支出"):
        if row.amount("合计") and row.code not in written:
            out.emit(f"{row.name_ref} {row.code} {row.name} 有财政拨款支出，“支出用途”中没有写主要用途。请补充。", [row.name_ref])
