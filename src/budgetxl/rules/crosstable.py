"""C — relations between tables (disclosure-rules.md X01–X16, C01–C05)."""

from __future__ import annotations

from decimal import Decimal

from ..model import DETAIL, SUBTOTAL, Amount, Row, Severity, Table
from ..textnorm import squash
from . import rule
from .context import CheckContext, row_label
from .helpers import amount_of, check_equal, total_of, value_of


def _total(table: Table, column: str) -> tuple[Decimal | None, Amount | None]:
    """The stated total of a column (the 总计 row), or the sum of the details."""
    row = table.total_row()
    if row is not None and column in row.values:
        return row.values[column].value, row.values[column]
    return total_of(table.rows_of(DETAIL), column), None


def _rows_by_code(table: Table) -> dict[str, Row]:
    return {r.code: r for r in table.rows if r.code and r.project is None and r.kind in (DETAIL, SUBTOTAL)}


def _derived_left(ctx: CheckContext, out, key: str, source_key: str) -> None:
    t = ctx.table_spec(key)
    table, source = ctx.table(key), ctx.table(source_key)
    for spec_row in t.fixed_rows:
        if spec_row.derive is None or spec_row.derive.table != source_key:
            continue
        row = table.by_key(spec_row.key, "收入")
        if row is None:
            continue
        expected, refs = Decimal(0), []
        for column in spec_row.derive.columns:
            value, ref = _total(source, column)
            expected += value or 0
            refs.append(ref.ref if ref else None)
        column = t.amount_keys("收入")[0]
        check_equal(
            ctx, out, amount_of(row, column), expected, f"{table.title}“{spec_row.label}”",
            f"{source.title}“{'+'.join(spec_row.derive.columns)}”列总计", refs, len(spec_row.derive.columns),
            "表1、表4 由“计算小计”从明细表生成，请运行后重新校验。",
        )


def _derived_right(ctx: CheckContext, out, key: str, sources: tuple[str, ...]) -> None:
    t = ctx.table_spec(key)
    table = ctx.table(key)
    for d in t.right_derive:
        if d.table not in sources or not ctx.has(d.table):
            continue
        source = ctx.table(d.table)
        by_code = _rows_by_code(source)
        for column, source_columns in d.columns.items():
            for row in table.rows_of(SUBTOTAL, side="支出"):
                src = by_code.get(row.code or "")
                expected = sum((src.amount(c) for c in source_columns), Decimal(0)) if src else Decimal(0)
                if src is None and not (value_of(row, column) or 0):
                    continue
                check_equal(
                    ctx, out, amount_of(row, column), expected, f"{table.title} {row_label(row)}“{column}”",
                    f"{source.title} {row.code} 类“{'+'.join(source_columns)}”",
                    [src.values[source_columns[0]].ref if src else None], 1,
                    "表1、表4 由“计算小计”从明细表生成，请运行后重新校验。",
                )
            total = table.total_row("支出")
            stated, ref = _total(source, source_columns[0])
            if total is not None and column in total.values:
                check_equal(
                    ctx, out, total.values[column], sum((_total(source, c)[0] or 0 for c in source_columns), Decimal(0)),
                    f"{table.title}支出总计“{column}”", f"{source.title}总计", [ref.ref if ref else None],
                )


@rule("C01", Severity.ERROR, "表1收入与表2不一致")
def check_t1_income(ctx: CheckContext, out) -> None:
    """检查内容：表1 收入方各来源等于表2 对应列的总计：一般财力 = 表2“一般公共预算”，上级一般公共预算安排转移支付 = 表2“上级一般公共预算安排的转移支付”，
    政府性基金、国有资本经营、财政专户同理；表1 收入总计 = 表2 总计。
    为何重要：表1 是表2 的汇总，两表收入不一致说明其中一张填错。
    示例：参考文件表1 一般财力 1,446.90 = 表2 一般公共预算列总计 1,446.90。
    处理方法：以表2 明细为准，运行“计算小计”重新生成表1。"""
    if not (ctx.has("T1") and ctx.has("T2")):
        return
    _derived_left(ctx, out, "T1", "T2")
    t1, t2 = ctx.table("T1"), ctx.table("T2")
    for t1_key, t2_column in (("单位资金", "单位资金"), ("财政拨款结转", "财政拨款结转"), ("非财政拨款结转结余", "非财政拨款结转结余")):
        row = t1.by_key(t1_key, "收入")
        value, ref = _total(t2, t2_column)
        if row is not None:
            check_equal(ctx, out, amount_of(row, "预算数"), value, f"表1“{row.label}”", f"表2“{t2_column}”列总计", [ref.ref if ref else None])
    income = t1.total_row("收入")
    total, ref = _total(t2, "总计")
    if income is not None:
        check_equal(ctx, out, amount_of(income, "预算数"), total, "表1 收入总计", "表2 总计", [ref.ref if ref else None])


@rule("C02", Severity.ERROR, "表1支出与表3不一致")
def check_t1_spending(ctx: CheckContext, out) -> None:
    """检查内容：表1 支出方每一类等于表3 该类“合计”，表1 支出总计等于表3 总计。
    为何重要：表1 是表3 按类的汇总，公开后读者会直接对比两表。
    示例：参考文件表1 208 社会保障和就业支出 1,381.56 = 表3 208 合计 1,381.56。
    处理方法：以表3 为准，运行“计算小计”重新生成表1。"""
    if ctx.has("T1") and ctx.has("T3"):
        _derived_right(ctx, out, "T1", ("T3",))


@rule("C03", Severity.ERROR, "表2与表3科目金额不一致")
def check_income_vs_spending(ctx: CheckContext, out) -> None:
    """检查内容：表2 与表3 列示相同的功能科目，每个科目表2“总计”等于表3“合计”。
    为何重要：收入按科目安排、支出按科目使用，两表同一科目金额必须相同。
    示例：参考文件 17 个科目行两表完全一致。
    处理方法：核对两表该科目的金额和代码，改正填错的一张。"""
    if not (ctx.has("T2") and ctx.has("T3")):
        return
    t2, t3 = _rows_by_code(ctx.table("T2")), _rows_by_code(ctx.table("T3"))
    for code in sorted(set(t2) | set(t3)):
        a, b = t2.get(code), t3.get(code)
        if a is None or b is None:
            have, miss = ("表2", "表3") if b is None else ("表3", "表2")
            row = a or b
            value = row.amount("总计" if b is None else "合计")
            if value:
                out.emit(f"{row.name_ref} 科目 {row_label(row)} 在{have}中有 {ctx.money(value)}，{miss}中没有这个科目。请补齐{miss}。", [row.name_ref])
            continue
        check_equal(ctx, out, amount_of(a, "总计"), b.amount("合计"), f"表2 {row_label(a)} 总计", "表3 同一科目合计", [amount_of(b, "合计").ref])


@rule("C04", Severity.ERROR, "表4与明细表不一致")
def check_t4(ctx: CheckContext, out) -> None:
    """检查内容：表4 财政拨款收入：一般公共预算 = 表2“一般公共预算 + 上级一般公共预算安排的转移支付”，政府性基金、国有资本经营同理；
    表4 支出每一类：一般公共预算 = 表5 该类合计，政府性基金预算 = 表8 该类合计，国有资本经营预算 = 表9 该类合计。
    为何重要：表4 是财政拨款的收支总表，是表2、表5、表8、表9 的汇总。
    示例：参考文件表4 210 一般公共预算 39.02 = 表5 210 合计 39.02。
    处理方法：以明细表为准，运行“计算小计”重新生成表4。"""
    if not ctx.has("T4"):
        return
    if ctx.has("T2"):
        _derived_left(ctx, out, "T4", "T2")
    _derived_right(ctx, out, "T4", ("T5", "T8", "T9"))


@rule("C05", Severity.ERROR, "表5超过表3")
def check_t5_within_t3(ctx: CheckContext, out) -> None:
    """检查内容：表5（一般公共预算）每个科目的合计、基本支出、项目支出都不超过表3（全部资金）同一科目；
    没有政府性基金、国有资本经营、财政专户、单位资金和非财政结转时，表5 与表3 应完全相同。
    为何重要：一般公共预算是全部支出的一部分，部分大于整体说明填错。
    示例：参考文件只有一般公共预算，表5 与表3 逐行相同。
    处理方法：核对该科目在两表中的金额。"""
    if not (ctx.has("T3") and ctx.has("T5")):
        return
    t3, t5 = _rows_by_code(ctx.table("T3")), _rows_by_code(ctx.table("T5"))
    only_general = _only_general_budget(ctx)
    for code, row in t5.items():
        whole = t3.get(code)
        if whole is None:
            if row.amount("合计"):
                out.emit(f"{row.name_ref} 表5 科目 {row_label(row)} 在表3 中没有。请在表3 补充该科目。", [row.name_ref])
            continue
        for column in ("合计", "基本支出", "项目支出"):
            part, full = row.values.get(column), whole.values.get(column)
            if part is None or full is None:
                continue
            if only_general:
                check_equal(ctx, out, part, full.value, f"表5 {row_label(row)}“{column}”", "表3 同一科目（全部资金都是一般公共预算）", [full.ref])
            elif part.or_zero > full.or_zero:
                out.emit(
                    f"{part.ref} 表5 {row_label(row)}“{column}”{ctx.money(part.value)} 大于表3 同一科目 {ctx.money(full.value)}。一般公共预算不能超过全部支出，请核对。",
                    [part.ref, full.ref], expected=full.value, actual=part.value, difference=part.or_zero - full.or_zero,
                )


def _only_general_budget(ctx: CheckContext) -> bool:
    if not ctx.has("T2"):
        return False
    t2 = ctx.table("T2")
    other = ("政府性基金预算", "上级政府性基金安排的转移支付", "国有资本经营预算", "财政专户（教育收费）", "单位资金", "财政拨款结转", "非财政拨款结转结余")
    return all(not (_total(t2, c)[0] or 0) for c in other)


@rule("C06", Severity.ERROR, "表6总计与表5基本支出不一致")
def check_t6_vs_t5(ctx: CheckContext, out) -> None:
    """检查内容：表6 一般公共预算基本支出总计 = 表5 基本支出总计。
    为何重要：表6 是表5 基本支出按经济分类的展开，两个总数必须相同。
    示例：参考文件表6 总计 582.97 = 表5 基本支出总计 582.97。
    处理方法：核对表6 经济分类明细是否漏填或多填。"""
    if ctx.has("T5") and ctx.has("T6"):
        t6_total = ctx.table("T6").total_row()
        basic, ref = _total(ctx.table("T5"), "基本支出")
        if t6_total is not None:
            check_equal(ctx, out, amount_of(t6_total, "合计"), basic, "表6 总计", "表5 基本支出总计", [ref.ref if ref else None], detail=("T6", "合计"))


@rule("C07", Severity.ERROR, "表7与表5项目支出不一致")
def check_t7_vs_t5(ctx: CheckContext, out) -> None:
    """检查内容：表7 项目支出总计 = 表5 项目支出总计；表7 每个项级科目下各项目之和 = 表5 该科目项目支出。
    为何重要：表7 是表5 项目支出按项目的展开。
    示例：参考文件表7 208 01 09 下 11 个项目合计 870.93 = 表5 208 01 09 项目支出 870.93。
    处理方法：核对项目金额和项目所列的功能科目。"""
    if not (ctx.has("T5") and ctx.has("T7")):
        return
    t5, t7 = ctx.table("T5"), ctx.table("T7")
    projects = [r for r in t7.rows if r.kind == DETAIL and r.code]
    by_item: dict[str, list[Row]] = {}
    for p in projects:
        by_item.setdefault(p.code, []).append(p)
    t5_rows = _rows_by_code(t5)
    for code in sorted(set(by_item) | {c for c, r in t5_rows.items() if r.kind == DETAIL and r.amount("项目支出")}):
        members = by_item.get(code, [])
        t5_row = t5_rows.get(code)
        stated = amount_of(t5_row, "项目支出")
        if stated is None:
            first = members[0]
            out.emit(f"{first.name_ref} 表7 项目“{first.project}”列在科目 {code}，表5 没有这个科目。请核对科目代码。", [first.name_ref])
            continue
        check_equal(
            ctx, out, stated, total_of(members, "项目支出合计"), f"表5 {row_label(t5_row)} 项目支出", "表7 该科目各项目之和",
            [m.values["项目支出合计"].ref for m in members], len(members),
        )
    t7_total = t7.total_row()
    t5_projects, ref = _total(t5, "项目支出")
    if t7_total is not None:
        check_equal(ctx, out, amount_of(t7_total, "项目支出合计"), t5_projects, "表7 项目支出总计", "表5 项目支出总计", [ref.ref if ref else None], detail=("T7", "项目支出合计"))


@rule("C08", Severity.ERROR, "政府性基金、国有资本经营支出与收入不一致")
def check_funds(ctx: CheckContext, out) -> None:
    """检查内容：表8 总计 = 表4“政府性基金预算”列支出总计 = 表1 政府性基金预算拨款；表9 总计 = 表4“国有资本经营预算”列 = 表1 国有资本经营预算拨款。
    没有这两类资金时，表8、表9 为空表。
    为何重要：有基金收入却没有基金支出（或相反），说明有一张表漏填。
    示例：参考文件没有政府性基金和国有资本经营预算，表8、表9 为空表，表1 对应行也为空。
    处理方法：补填表8/表9，或核对表1、表2 的资金来源。"""
    pairs = (("T8", "政府性基金预算", "政府性基金预算拨款"), ("T9", "国有资本经营预算", "国有资本经营预算拨款"))
    for key, t4_column, t1_key in pairs:
        if not ctx.has(key):
            continue
        table = ctx.table(key)
        spent, ref = _total(table, "合计")
        if ctx.has("T1"):
            row = ctx.table("T1").by_key(t1_key, "收入")
            if row is not None:
                check_equal(ctx, out, amount_of(row, "预算数"), spent, f"表1“{row.label}”", f"{table.title}总计", [ref.ref if ref else None])
        if ctx.has("T4"):
            total = ctx.table("T4").total_row("支出")
            if total is not None and t4_column in total.values:
                check_equal(ctx, out, total.values[t4_column], spent, f"表4 支出总计“{t4_column}”", f"{table.title}总计", [ref.ref if ref else None])


THREE_PUBLIC = {"因公出国（境）费用": "30212", "公务接待费": "30217", "公务用车运行维护费": "30231", "公务用车购置": "31013"}


@rule("C09", Severity.ERROR, "“三公”经费与基本支出对应科目不符")
def check_three_public(ctx: CheckContext, out) -> None:
    """检查内容：表10 各项“三公”经费（一般公共预算）与表6 基本支出中对应的经济科目比较：因公出国（境）费用对 302 12，公务接待费对 302 17，
    公务用车运行维护费对 302 31，公务用车购置对 310 13。小于基本支出中的对应科目报“错误”（少公开）；
    大于时超出部分只能来自项目支出：表7 没有商品和服务支出（购置：资本性支出）可以容纳时报“错误”，否则报“警告”请核实。
    为何重要：“三公”经费是必查项，少公开或与经济分类对不上是检查中最常见的问题之一。
    示例：参考文件公务用车运行维护费 3.60 = 表6 302 31 3.60，一致。
    处理方法：把基本支出和项目支出中的“三公”经费都计入表10，并与表6、表7 核对。"""
    if not (ctx.has("T10") and ctx.has("T6")):
        return
    t6 = _rows_by_code(ctx.table("T6"))
    t10 = ctx.table("T10")
    t7_total = ctx.table("T7").total_row() if ctx.has("T7") else None
    for spec_row in ctx.table_spec("T10").fixed_rows:
        if not spec_row.economic:
            continue
        row = t10.by_key(spec_row.key)
        basic = t6.get(spec_row.economic)
        stated = amount_of(row, "一般公共预算")
        if stated is None:
            continue
        part = basic.amount("合计") if basic else Decimal(0)
        basic_ref = basic.values["合计"].ref if basic else None
        basic_name = row_label(basic) if basic else f"{spec_row.economic}（未列）"
        if stated.or_zero < part:
            out.emit(
                f"{stated.ref} 表10“{spec_row.label}”一般公共预算 {ctx.money(stated.value)}，小于表6 {basic_name} {ctx.money(part)}。"
                "“三公”经费应包含基本支出中的该项，属于少公开，请改正。",
                [stated.ref, basic_ref], expected=part, actual=stated.value, difference=stated.or_zero - part,
            )
        elif stated.or_zero > part:
            column = "资本性支出" if spec_row.economic.startswith("310") else "商品和服务支出"
            room = t7_total.amount(column) if t7_total else Decimal(0)
            severity = Severity.ERROR if room < stated.or_zero - part else Severity.WARNING
            out.emit(
                f"{stated.ref} 表10“{spec_row.label}”一般公共预算 {ctx.money(stated.value)}，比表6 {basic_name} {ctx.money(part)} 多 "
                f"{ctx.money(stated.or_zero - part)}，超出部分应来自项目支出（表7“{column}”合计 {ctx.money(room)}）。请核对。",
                [stated.ref, basic_ref], severity, expected=part, actual=stated.value, difference=stated.or_zero - part,
            )


@rule("C10", Severity.ERROR, "委托业务费与表6不一致")
def check_commissioned(ctx: CheckContext, out) -> None:
    """检查内容：表6 有 302 27 委托业务费时，表11 不能是空表，且表11 总计不小于表6 302 27。
    为何重要：委托业务费需要单独公开，基本支出中有而表11 没有，属于少公开。
    示例：参考文件没有委托业务费，表11 为空表。
    处理方法：在表11 按项目列出委托业务费。"""
    if not (ctx.has("T6") and ctx.has("T11")):
        return
    basic = _rows_by_code(ctx.table("T6")).get("30227")
    if basic is None or not basic.amount("合计"):
        return
    total, ref = _total(ctx.table("T11"), "合计")
    if (total or 0) < basic.amount("合计"):
        out.emit(
            f"{basic.values['合计'].ref} 表6 302 27 委托业务费 {ctx.money(basic.amount('合计'))}，表11 委托业务费总计只有 {ctx.money(total)}。请在表11 列出委托业务费。",
            [basic.values["合计"].ref, ref.ref if ref else None], expected=basic.amount("合计"), actual=total,
        )


@rule("C11", Severity.ERROR, "上年结转结余与表1、表2不一致")
def check_carryover(ctx: CheckContext, out) -> None:
    """检查内容：表12 合计 = 表1 上年结转结余；表12 财政拨款小计 = 表1 财政拨款结转 = 表2“财政拨款结转”列总计；
    表12 非财政拨款小计 = 表1 非财政拨款结转结余 = 表2“非财政拨款结转结余”列总计。
    为何重要：结转结余要在三张表中一致反映。
    示例：参考文件三处都是 0，表12 为空表。
    处理方法：核对结转结余金额，三张表同时修改。"""
    if not (ctx.has("T12") and ctx.has("T1")):
        return
    t12, t1 = ctx.table("T12"), ctx.table("T1")
    pairs = (("合计", "上年结转结余", None), ("财政拨款/小计", "财政拨款结转", "财政拨款结转"), ("非财政拨款/小计", "非财政拨款结转结余", "非财政拨款结转结余"))
    for t12_column, t1_key, t2_column in pairs:
        value, ref = _total(t12, t12_column)
        row = t1.by_key(t1_key, "收入")
        if row is not None:
            check_equal(ctx, out, amount_of(row, "预算数"), value, f"表1“{row.label}”", f"表12“{t12_column}”总计", [ref.ref if ref else None])
        if t2_column and ctx.has("T2"):
            t2_value, t2_ref = _total(ctx.table("T2"), t2_column)
            if t2_ref is not None:
                check_equal(ctx, out, t2_ref, value, f"表2“{t2_column}”列总计", f"表12“{t12_column}”总计", [ref.ref if ref else None])


@rule("C12", Severity.ERROR, "科目代码与名称不一致")
def check_code_names(ctx: CheckContext, out) -> None:
    """检查内容：同一科目代码在各表中的名称相同，并与《政府收支分类科目》（功能分类）、部门预算支出经济分类的名称一致。
    分类代码表中没有的代码报“提示”（自带代码表不完整，财政局可换用正式代码表）。
    为何重要：科目名称写错会让读者误解资金用途，也是检查通报中常见的问题。
    示例：参考文件表7 208 01 写作“人力资源和社会管理事务”，表2、表3、表5 和分类代码都是“人力资源和社会保障管理事务”，报此错误。
    处理方法：从下拉列表选择科目名称，或按分类代码表改正。"""
    names: dict[tuple[str, str], list[tuple[Row, str]]] = {}
    for t in ctx.spec.tables:
        if t.layout not in ("classified", "projects") or not ctx.has(t.key) or not t.codes:
            continue
        for row in ctx.table(t.key).rows:
            if row.code and row.name:
                names.setdefault((t.codes, row.code), []).append((row, t.title))
    for (kind, code), uses in sorted(names.items()):
        official = ctx.codes(kind).name(code)
        if official is not None:
            for row, title in uses:
                if squash(row.name) != squash(official):  # 维修(护)费 and 维修（护）费 are the same name
                    others = [r.name_ref for r, _ in uses if squash(r.name) == squash(official)]
                    out.emit(  # only the wrong name is marked; the correct ones are named in the text
                        f"{row.name_ref} {title} 科目 {row_label(row)} 的名称应为“{official}”（分类代码表{'及' + str(others[0]) if others else ''}）。请改正科目名称。",
                        [row.name_ref], expected=official, actual=row.name,
                    )
            continue
        distinct = {squash(row.name) for row, _ in uses}
        if len(distinct) > 1:
            first = uses[0][0]
            for row, title in uses[1:]:
                if squash(row.name) != squash(first.name):
                    out.emit(
                        f"{row.name_ref} {title} 科目 {code} 名称“{row.name}”与 {first.name_ref} 的“{first.name}”不一致。请统一科目名称。",
                        [row.name_ref], expected=first.name, actual=row.name,
                    )
        else:
            row, title = uses[0]
            out.emit(
                f"{row.name_ref} 科目 {code} {row.name} 不在{'功能' if kind == 'functional' else '经济'}分类代码表中（{len(uses)} 处）。"
                "请核对代码；如代码正确，可换用财政部门的正式分类代码表。",
                [row.name_ref], Severity.INFO,
            )


SOCIAL_INSURANCE = (
    ("30108", ("2080505",), "机关事业单位基本养老保险缴费"),
    ("30109", ("2080506",), "职业年金缴费"),
    ("30113", ("2210201",), "住房公积金"),
    ("30302", ("2080501", "2080502"), "退休费"),
    ("30110", ("21011",), "职工基本医疗保险缴费"),
)


@rule("C13", Severity.WARNING, "社保缴费经济科目与功能科目不对应")
def check_social_insurance(ctx: CheckContext, out) -> None:
    """检查内容：表6 中的社会保险缴费与表3 基本支出中对应的功能科目相等：301 08 养老保险 = 208 05 05，301 09 职业年金 = 208 05 06，
    301 13 住房公积金 = 221 02 01，303 02 退休费 = 208 05 01 + 208 05 02，301 10 医疗保险 ≈ 210 11（可能含公务员医疗补助和其他社保缴费，只作提醒）。
    为何重要：同一笔缴费在两种分类下金额不同，通常是某一张表漏填或错列科目。
    示例：参考文件 53.30、25.82、42.32、23.05 都一致；210 11 为 39.02，而 301 10 为 38.00，报此警告。
    处理方法：核对两表；确属合理（如医疗科目含其他缴费）的，在校验结果中标记“已核实”。"""
    if not (ctx.has("T3") and ctx.has("T6")):
        return
    t3, t6 = _rows_by_code(ctx.table("T3")), _rows_by_code(ctx.table("T6"))
    for econ, functional, name in SOCIAL_INSURANCE:
        e = t6.get(econ)
        f_rows = [t3[c] for c in functional if c in t3]
        if e is None and not f_rows:
            continue
        e_value = e.amount("合计") if e else Decimal(0)
        f_value = total_of(f_rows, "基本支出")
        if e_value != f_value:
            refs = ([e.values["合计"].ref] if e else []) + [r.values["基本支出"].ref for r in f_rows]
            out.emit(
                f"{refs[0] if refs else ''} 表6 {econ} {name} {ctx.money(e_value)}，表3 对应科目 {'、'.join(functional)} 基本支出 {ctx.money(f_value)}，不相等。请核对两表。",
                refs, expected=f_value, actual=e_value, difference=e_value - f_value,
            )


@rule("C14", Severity.WARNING, "“三公”经费超过可能的来源")
def check_three_public_room(ctx: CheckContext, out) -> None:
    """检查内容：表10“三公”经费总计（一般公共预算）不超过表6 公用经费合计加表7 商品和服务支出、资本性支出合计——
    “三公”经费只能出自这几处。
    为何重要：超过说明表10 多填，或表6、表7 把“三公”经费列到了别的经济科目。
    示例：参考文件 3.60 ≤ 9.54 + 15.46 + 0.74，通过。
    处理方法：核对表10 与表6、表7 的经济分类。"""
    if not (ctx.has("T10") and ctx.has("T6")):
        return
    total = ctx.table("T10").total_row()
    stated = amount_of(total, "一般公共预算")
    if stated is None or not stated.value:
        return
    t6_total = ctx.table("T6").total_row()
    room = t6_total.amount("公用经费") if t6_total else Decimal(0)
    refs = [t6_total.values["公用经费"].ref] if t6_total else []
    if ctx.has("T7") and ctx.table("T7").total_row():
        t7_total = ctx.table("T7").total_row()
        for column in ("商品和服务支出", "资本性支出"):
            room += t7_total.amount(column)
            refs.append(t7_total.values[column].ref)
    if stated.value > room:
        out.emit(
            f"{stated.ref} 表10“三公”经费总计 {ctx.money(stated.value)}，超过表6 公用经费与表7 商品和服务支出、资本性支出之和 {ctx.money(room)}。请核对。",
            [stated.ref, *refs], expected=room, actual=stated.value, difference=stated.value - room,
        )
