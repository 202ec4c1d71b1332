"""D — the figures of 其他事项 that the narrative states (机关运行经费, 政府采购, 国有资产)."""

from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal

from ..model import Severity
from ..textnorm import squash
from . import rule
from .context import CheckContext
from .helpers import check_equal


def _other(ctx: CheckContext):
    return ctx.disclosure.forms.get("other")


@rule("D01", Severity.ERROR, "机关运行经费与表6公用经费不一致")
def check_running_costs(ctx: CheckContext, out) -> None:
    """检查内容：行政单位和参照公务员法管理的事业单位，机关运行经费 = 表6 一般公共预算基本支出中的公用经费合计。
    事业单位不说明机关运行经费，填了则提示。
    为何重要：预算法要求对机关运行经费作出说明，它按定义就是行政单位的公用经费，与表6 不一致会被认定为数据打架。
    示例：参考文件机关运行经费 9.54 = 表6 公用经费 9.54。
    处理方法：按表6 公用经费填写“其他事项”中的机关运行经费。"""
    other = _other(ctx)
    if other is None or not ctx.has("T6"):
        return
    stated = other.amounts.get("机关运行经费")
    if stated is None or stated.value is None:
        return
    nature = ctx.disclosure.info.text("单位性质")
    if nature == "事业单位":
        out.emit(f"{stated.ref} 单位性质为事业单位，一般不说明机关运行经费。请确认单位性质，或清空该项。", [stated.ref], Severity.INFO)
        return
    total = ctx.table("T6").total_row()
    if total is not None:
        check_equal(ctx, out, stated, total.amount("公用经费"), "机关运行经费", "表6 公用经费合计", [total.values["公用经费"].ref])


@rule("D02", Severity.ERROR, "政府采购预算总额不等于货物、工程、服务之和")
def check_procurement_total(ctx: CheckContext, out) -> None:
    """检查内容：政府采购预算总额 = 政府采购货物预算 + 工程预算 + 服务预算。
    为何重要：情况说明要写总额和三项构成，两者必须相加一致。
    示例：参考文件 12.74 = 1.94 + 0.00 + 10.80。
    处理方法：按政府采购预算改正“其他事项”中的数字。"""
    other = _other(ctx)
    if other is None:
        return
    total = other.amounts.get("政府采购预算总额")
    parts = [other.amounts.get(k) for k in ("政府采购货物预算", "政府采购工程预算", "政府采购服务预算")]
    if total is None or total.value is None:
        return
    check_equal(ctx, out, total, sum((p.or_zero for p in parts if p), Decimal(0)), "政府采购预算总额", "货物 + 工程 + 服务", [p.ref for p in parts if p], 3)


@rule("D03", Severity.ERROR, "中小企业预留超过政府采购预算")
def check_procurement_reserved(ctx: CheckContext, out) -> None:
    """检查内容：面向中小企业预留的政府采购预算不超过政府采购预算总额；其中小微企业预留不超过中小企业预留。
    为何重要：预留额是总额的一部分，部分大于整体一定是填错了。
    示例：参考文件中小企业预留 3.44 ≤ 12.74，小微企业 3.44 ≤ 3.44。
    处理方法：核对政府采购预算和预留金额。"""
    other = _other(ctx)
    if other is None:
        return
    a = other.amounts
    total = a.get("政府采购预算总额")
    if total is None or total.value is None:
        parts = [a.get(k) for k in ("政府采购货物预算", "政府采购工程预算", "政府采购服务预算")]
        total_value = sum((p.or_zero for p in parts if p), Decimal(0))
    else:
        total_value = total.value
    pairs = (("面向中小企业预留政府采购预算", total_value, "政府采购预算总额"), ("其中：小微企业预留政府采购预算", a["面向中小企业预留政府采购预算"].or_zero if "面向中小企业预留政府采购预算" in a else None, "中小企业预留"))
    for key, limit, what in pairs:
        part = a.get(key)
        if part is not None and part.value is not None and limit is not None and part.value > limit:
            out.emit(f"{part.ref} {key.replace('其中：', '')} {ctx.money(part.value)} 超过{what} {ctx.money(limit)}。请改正。", [part.ref], expected=limit, actual=part.value, difference=part.value - limit)


@rule("D04", Severity.WARNING, "政府采购预算超过支出总额")
def check_procurement_within_budget(ctx: CheckContext, out) -> None:
    """检查内容：政府采购预算总额不超过部门支出总计（表3 总计）。
    为何重要：政府采购资金来自部门预算，超过支出总额通常是单位（元/万元）填错。
    示例：参考文件 12.74 ≤ 1,462.90。
    处理方法：核对金额单位和政府采购预算。"""
    other = _other(ctx)
    if other is None or not ctx.has("T3"):
        return
    total = other.amounts.get("政府采购预算总额")
    spent = ctx.table("T3").total_row()
    if total is not None and total.value is not None and spent is not None and total.value > spent.amount("合计"):
        out.emit(f"{total.ref} 政府采购预算 {ctx.money(total.value)} 超过部门支出总计 {ctx.money(spent.amount('合计'))}。请核对金额单位。", [total.ref, spent.values["合计"].ref])


@rule("D05", Severity.ERROR, "车辆情况与“三公”经费不一致")
def check_vehicles(ctx: CheckContext, out) -> None:
    """检查内容：本年安排购置车辆时，表10 公务用车购置应大于零；表10 有公务用车购置时，应填写本年安排购置车辆数。
    没有一般公务用车却安排了公务用车运行维护费，或有公务用车却没有运行维护费，报“警告”。
    为何重要：情况说明要写“部门预算安排（或未安排）购置车辆经费”，必须与“三公”经费表一致。
    示例：参考文件一般公务用车 2 辆，运行维护费 3.60 万元，未安排购置车辆，表10 购置为空——一致。
    处理方法：核对“其他事项”的车辆数与表10。"""
    other = _other(ctx)
    if other is None or not ctx.has("T10"):
        return
    t10 = ctx.table("T10")
    buy_row, run_row = t10.by_key("公务用车购置"), t10.by_key("公务用车运行维护费")
    buy = buy_row.amount("合计") if buy_row else Decimal(0)
    run = run_row.amount("合计") if run_row else Decimal(0)
    planned = other.amounts.get("本年安排购置车辆（辆）")
    cars = other.amounts.get("一般公务用车（辆）")
    if planned is not None and (planned.or_zero > 0) != (buy > 0):
        out.emit(
            f"{planned.ref} 本年安排购置车辆 {planned.or_zero} 辆，表10 公务用车购置 {ctx.money(buy)}，两者不一致。请核对。",
            [planned.ref, buy_row.values["合计"].ref if buy_row else None],
        )
    if cars is not None:
        if cars.or_zero == 0 and run > 0:
            out.emit(f"{cars.ref} 没有一般公务用车，表10 却安排公务用车运行维护费 {ctx.money(run)}。请核对车辆数。", [cars.ref, run_row.values["合计"].ref], Severity.WARNING)
        elif cars.or_zero > 0 and run == 0:
            out.emit(f"{cars.ref} 有一般公务用车 {cars.or_zero} 辆，表10 没有公务用车运行维护费。请核对。", [cars.ref], Severity.WARNING)


@rule("D06", Severity.WARNING, "资产数量与价值不匹配")
def check_assets(ctx: CheckContext, out) -> None:
    """检查内容：国有资产占用情况中，车辆有数量就应有价值，有价值就应有数量。
    为何重要：数量与价值一有一无，说明有一项漏填。
    示例：参考文件一般公务用车 2 辆，价值 26.81 万元——一致。
    处理方法：补填数量或价值。"""
    other = _other(ctx)
    if other is None:
        return
    a = other.amounts
    for count_key, value_key in (("一般公务用车（辆）", "一般公务用车价值"), ("执法执勤用车（辆）", "执法执勤用车价值"), ("其他车辆（辆）", "其他车辆价值")):
        count, value = a.get(count_key), a.get(value_key)
        if count is None or value is None:
            continue
        if (count.or_zero > 0) != (value.or_zero > 0):
            out.emit(f"{count.ref} {count_key.replace('（辆）', '')} {count.or_zero} 辆，价值 {ctx.money(value.value)}，数量与价值不匹配。请补填。", [count.ref, value.ref])


_NUMBER = r"(\d[\d,]*(?:\.\d+)?)\s*(万元|%|元|个|辆|台|平方米)"  # compiled on first use: only an edited 情况说明 needs it


def numbers_in(text: str) -> Counter:
    return Counter((Decimal(n.replace(",", "")), unit) for n, unit in re.findall(_NUMBER, text))


@rule("D07", Severity.ERROR, "情况说明与表格数据不一致")
def check_edited_narrative(ctx: CheckContext, out) -> None:
    """检查内容：“情况说明”工作表中经人工修改的段落，其中的每个金额、占比、增长率都与按表格重新生成的同一段落相同。
    只比较数字，不限制文字的修改。
    为何重要：“说明与表格数据不一致”是历年检查通报最多的问题：表格改了，说明没改，或说明里的数字算错了。
    示例：把“基本支出582.97万元，占39.85%”改成“基本支出580.00万元，占39.85%”，报此错误，并给出表格中的数字。
    处理方法：按表格改正说明中的数字，或删除“情况说明”工作表后重新“生成说明”。"""
    if not ctx.edited_text:
        return
    from ..narrative import generate
    from ..render.rounding import printable

    generated = dict(generate(printable(ctx.disclosure, ctx.spec)[0], ctx.spec).paragraphs())
    for key, text in ctx.edited_text.items():
        fresh = generated.get(key)
        if fresh is None or squash(fresh) == squash(text.value):
            continue
        wrong = numbers_in(text.value) - numbers_in(fresh)
        if wrong:
            shown = "、".join(f"{n}{u}" for (n, u) in wrong)
            expected = "、".join(f"{n}{u}" for (n, u) in (numbers_in(fresh) - numbers_in(text.value))) or "（无）"
            out.emit(
                f"{text.ref} 情况说明第 {key} 段中的 {shown} 与表格不一致；按表格应为 {expected}。请改正，或重新生成说明。",
                [text.ref], expected=fresh, actual=text.value,
            )


# 其他事项 fields the 情况说明 states (§13 二、三): blank prints a placeholder
NARRATED_FIELDS = (
    "政府采购货物预算", "政府采购工程预算", "政府采购服务预算", "面向中小企业预留政府采购预算", "其中：小微企业预留政府采购预算",
    "房屋面积（平方米）", "房屋价值", "一般公务用车（辆）", "一般公务用车价值", "执法执勤用车（辆）", "执法执勤用车价值",
    "其他车辆（辆）", "其他车辆价值", "办公家具价值", "其他资产价值", "单价50万元以上大型设备（台）", "单价100万元以上大型设备（台）",
    "本年安排购置单价50万元以上大型设备（台）", "本年安排购置单价100万元以上大型设备（台）",
)


@rule("A11", Severity.ERROR, "情况说明所需数据未填写")
def check_narrated_inputs(ctx: CheckContext, out) -> None:
    """检查内容：情况说明要写出的数据都已填写：“其他事项”中政府采购、中小企业预留、房屋、车辆（数量和价值）、家具、大型设备各项；
    “绩效目标”工作表不为空；表5 有项目支出时表7 列有项目。没有发生的填 0，不要留空。
    为何重要：留空的数据无法写成说明：budgetxl 不会把空白写成“0.00万元”“项目共0个”或“没有项目支出”这样的错误说法，
    而是在说明中写“【待填写：……】”，公开前必须补齐。
    示例：一般公务用车 2 辆而“一般公务用车价值”留空，说明中写“价值【待填写：一般公务用车价值】万元”，报此错误并指向该单元格。
    处理方法：在所指单元格填写数据（没有的填 0），重新生成说明。"""
    other = _other(ctx)
    if other is not None:
        for key in NARRATED_FIELDS:
            a = other.amounts.get(key)
            if a is not None and a.value is None:
                out.emit(f"{a.ref} “其他事项”的“{key}”未填写，情况说明中将显示“【待填写】”。请填写（没有的填 0）。", [a.ref])
    targets = ctx.disclosure.lists.get("targets")
    if targets is not None and not targets:  # the sheet is there, and empty
        sheet = next(i.sheet for i in ctx.spec.inputs if i.key == "targets")
        from ..model import CellRef

        ref = CellRef(sheet, ctx.spec.layout.list_first_row, 1)
        out.emit(f"{ref} “{sheet}”工作表没有填写，情况说明无法写出绩效目标的个数。请逐行填写部门整体和各项目的绩效目标。", [ref])
    if ctx.has("T5"):
        t5_total = ctx.table("T5").total_row()
        projects = [r for r in ctx.table("T7").rows if r.project] if ctx.has("T7") else []
        stated = t5_total.values.get("项目支出") if t5_total is not None else None
        if stated is not None and stated.value and not projects:
            from ..model import CellRef

            t7 = ctx.spec.table("T7")
            first = CellRef(t7.sheet, ctx.spec.layout.data_first_row(t7), 5)
            out.emit(
                f"{first} 表7 没有列出项目，而 {stated.ref} 表5 项目支出为 {ctx.money(stated.value)}。"
                "请在表7 逐项填写项目（科目代码、项目名称和金额），情况说明第七部分才能写出项目情况。",
                [first, stated.ref], expected=stated.value, actual=Decimal(0),
            )
