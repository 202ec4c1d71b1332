"""F — prior-year figures and reasons (the inputs of the 增减变化 sentences)."""

from __future__ import annotations

from ..comparables import GENERAL, ITEM, SPENDING, misplaced_reason, unmatched_records
from ..model import Severity
from ..textnorm import first_of, squash
from . import rule
from .context import CheckContext


def _ref(item):
    if item.prior is not None:
        return item.prior.ref
    return item.current_refs[0] if item.current_refs else None


@rule("F01", Severity.ERROR, "增减变化没有说明原因")
def check_reason_present(ctx: CheckContext, out) -> None:
    """检查内容：情况说明要比较上年的每一项（收入来源、基本支出和项目支出、每个项级科目、“三公”经费各项、机关运行经费），
    本年与上年不同时，“上年数与原因”必须填写增减原因。
    为何重要：财政部专项检查要求对预算增减变化说明原因，只写“增加×万元”不写原因是最常见的扣分项。
    示例：208 05 01 行政单位离退休 23.05，上年 19.90，增加 3.15，原因“2026年度退休人员年度绩效奖增加。”——通过；原因为空则报错。
    处理方法：在“上年数与原因”该行的“增减原因”列填写（只写“主要原因是”之后的内容）。"""
    for item in ctx.comparables:
        change = item.change
        if change and not (item.reason and item.reason.value.strip()):
            ref = item.reason.ref if item.reason and item.reason.ref else _ref(item)
            out.emit(
                f"{ref} {item.label} 本年 {ctx.money(item.current)}，上年 {ctx.money(item.prior.value)}，"
                f"{'增加' if change > 0 else '减少'} {ctx.money(abs(change))}，没有填写增减原因。请在“上年数与原因”中填写。",
                [ref, *item.current_refs], expected="增减原因", actual="",
            )


@rule("F02", Severity.WARNING, "缺少上年数")
def check_prior_present(ctx: CheckContext, out) -> None:
    """检查内容：情况说明要比较的每一项都在“上年数与原因”中有上年预算数（“三公”经费各项即使为零也要填）。
    为何重要：没有上年数，情况说明就只能写本年数，缺少增减变化，不符合公开要求。
    示例：表5 有 221 02 01 住房公积金 42.32，而“上年数与原因”没有功能分类科目 2210201 这一行，报此警告。
    处理方法：在“上年数与原因”补一行：类别、编码（功能分类科目填7位代码）、名称、上年预算数（上年为零填 0）。"""
    if "priors" not in ctx.disclosure.lists:  # no 上年数与原因 sheet at all (the tables alone): P12 says so
        return
    for item in ctx.comparables:
        if item.required and (item.prior is None or item.prior.value is None):
            ref = _ref(item)
            out.emit(
                f"{ref} {item.label} 本年 {ctx.money(item.current)}，在“上年数与原因”中没有上年预算数，情况说明无法说明增减变化。"
                "请补填上年预算数（上年为零填 0）。",
                [ref],
            )


@rule("F03", Severity.WARNING, "同一原因用于不同项目")
def check_reason_reused(ctx: CheckContext, out) -> None:
    """检查内容：同一类别中（收入来源之间、基本支出与项目支出之间、不同款的功能科目之间、“三公”各项之间），
    不同项目的增减原因一字不差地相同。同一款下的几个项（如行政单位医疗、事业单位医疗）原因相同属正常，不报。
    为何重要：复制粘贴的原因往往说的是别的项目，公开后被指“说明与数据不符”。
    示例：参考文件第三部分“项目支出”的增加原因与“基本支出”完全相同（“在职人员工资调增……基本支出预算经费增加”），报此警告；
    “上级一般公共预算安排的转移支付”与“一般公共预算”原因相同，也报。
    处理方法：为每一项写出它自己的增减原因；确实相同的，标记“已核实”。"""
    groups: dict[tuple[str, str], list] = {}
    for item in ctx.comparables:
        if not item.reason or not item.reason.value.strip() or not item.change:
            continue
        category = SPENDING if item.category in (SPENDING, GENERAL) else item.category
        groups.setdefault((category, squash(item.reason.value)), []).append(item)
    for (category, _), items in groups.items():
        if len(items) < 2:
            continue
        names = {i.name for i in items}
        if category == ITEM:
            if len({i.code[:5] for i in items}) < 2:
                continue
        elif len(names) < 2:
            continue  # 支出 and 一般公共预算拨款 both say 基本支出: the same money
        first = items[0]
        labels = "、".join(dict.fromkeys(i.label for i in items))
        out.emit(
            f"{first.reason.ref} 以下项目的增减原因完全相同：{labels}。请确认每一项的原因确实如此，否则分别改写。",
            [i.reason.ref for i in items], actual=first.reason.value,
        )


@rule("F04", Severity.WARNING, "原因的内容属于其他项目")
def check_reason_belongs(ctx: CheckContext, out) -> None:
    """检查内容：增减原因的用词与项目不符：项目支出的原因讲工资、职级、缴费基数或“基本支出”；基本支出的原因讲项目；
    上级转移支付的原因讲县级（本级）财政资金；社会保障科目的原因讲医疗保险或住房公积金。
    为何重要：这是复制粘贴的典型痕迹，原因与数字对不上，说明失去意义。
    示例：参考文件“项目支出 879.93 万元……主要原因是在职人员工资调增，部分干部职级调整，社保及公积金缴费基数调增，基本支出预算经费增加”，
    报此警告；“上级一般公共预算安排的转移支付……主要原因是……将县级财政对各项社会保险基金的补助资金足额纳入”，也报。
    处理方法：改写为该项目自己的原因；确实如此的，标记“已核实”。"""
    for item in ctx.comparables:
        if not item.reason or not item.reason.value.strip():
            continue
        hit = misplaced_reason(item)
        if hit:
            word, what = hit
            out.emit(
                f"{item.reason.ref} {item.label} 的增减原因提到“{word}”，像是{what}。请核对原因是否写错了项目。",
                [item.reason.ref], actual=item.reason.value,
            )


@rule("F05", Severity.INFO, "上年预算数为零")
def check_zero_prior(ctx: CheckContext, out) -> None:
    """检查内容：上年预算数为零而本年有预算的项目。
    为何重要：从零开始无法计算增长率，情况说明不能写“增长100%”，应写“新增”；原因应说明为什么新增。
    示例：参考文件 208 05 06 机关事业单位职业年金缴费支出 25.82，上年为零，却写“增长 100.00%”；budgetxl 生成的说明写“新增”。
    处理方法：确认上年确实为零；增减原因写明新增的原因。"""
    for item in ctx.comparables:
        if item.prior is not None and item.prior.value == 0 and item.current:
            out.emit(
                f"{item.prior.ref} {item.label} 上年预算数为零，本年 {ctx.money(item.current)}。情况说明将写“新增”而不写增长率；请在原因中说明新增原因。",
                [item.prior.ref], actual=item.prior.value,
            )


@rule("F06", Severity.WARNING, "上年数与原因无法对应")
def check_unmatched_priors(ctx: CheckContext, out) -> None:
    """检查内容：“上年数与原因”中的每一行都能对应到本年的一个项目（类别、编码或名称写对）。
    为何重要：写错编码或名称的行不会进入情况说明，对应项目反而显示为“缺少上年数”。
    示例：功能分类科目写成 208019（少一位），报此警告。
    处理方法：按表5 的7位科目代码、标准名称改正；本年已没有的项目可以删除该行。"""
    for record in unmatched_records(ctx.disclosure, ctx.spec):
        ref = record.ref("类别")
        what = " ".join(x for x in (record.text("类别"), record.text("编码"), record.text("名称")) if x)
        out.emit(f"{ref} “上年数与原因”第{record.row}行（{what}）对应不到本年的任何项目。请核对类别、编码和名称。", [ref])


@rule("F07", Severity.WARNING, "原因与增减方向矛盾")
def check_reason_direction(ctx: CheckContext, out) -> None:
    """检查内容：本年比上年增加，原因却只说“减少”“压减”；本年减少，原因却只说“增加”。
    为何重要：方向写反的原因一看就是错的，会被认定为说明与数据不符。
    示例：公务接待费减少 0.50 万元，原因写“接待任务增加”，报此警告。
    处理方法：核对上年数和原因。"""
    for item in ctx.comparables:
        change = item.change
        text = item.reason.value if item.reason else ""
        if not change or not text:
            continue
        up, down = first_of(text, ("增加", "增长", "提高", "调增")), first_of(text, ("减少", "压减", "下降", "调减", "降低"))
        if (change > 0 and down and not up) or (change < 0 and up and not down):
            out.emit(
                f"{item.reason.ref} {item.label} {'增加' if change > 0 else '减少'} {ctx.money(abs(change))}，原因却说“{down or up}”。请核对。",
                [item.reason.ref, _ref(item)], actual=text,
            )
