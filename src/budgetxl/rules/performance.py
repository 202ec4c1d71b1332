"""E — 绩效目标 against the budget (disclosure-rules.md E01–E09)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from ..model import DETAIL, Record, Row, Severity
from ..records import dataclass
from ..textnorm import first_of, squash
from . import rule
from .context import CheckContext
from .helpers import check_equal

WHOLE = "部门整体"
PROJECT = "项目"
TREE = {
    "产出指标": {"数量指标", "质量指标", "时效指标"},
    "成本指标": {"经济成本指标", "社会成本指标", "生态环境成本指标"},
    "效益指标": {"经济效益指标", "社会效益指标", "生态效益指标", "可持续影响指标"},
    "满意度指标": {"服务对象满意度指标", "满意度指标"},
}
_VALUE = re.compile(r"^\s*(?P<op>>\s*=|<\s*=|≥|≤|=|>|<)?\s*(?P<num>\d[\d,]*(?:\.\d+)?)(?:\s*[-－~～至]\s*(?P<hi>\d[\d,]*(?:\.\d+)?))?\s*(?P<unit>.*?)\s*$")


@dataclass(frozen=True, eq=False, repr=False)  # never compared or printed: no methods to generate at start-up
class IndicatorValue:
    """An indicator's 指标值 as written: comparison, number (or range), unit."""

    op: str
    number: Decimal
    high: Decimal | None
    unit: str
    spaced: bool


_VALUES: dict[str, IndicatorValue | None] = {}  # 指标值 texts repeat ("≥95%"); bounded, as textnorm.squash's


def parse_value(text: str) -> IndicatorValue | None:
    """The 指标值 as written (an IndicatorValue never changes: the same one is
    given for the same text)."""
    text = text or ""
    if text in _VALUES:
        return _VALUES[text]
    value = _parse_value(text)
    if len(text) <= 100:
        if len(_VALUES) >= 20_000:
            _VALUES.clear()
        _VALUES[text] = value
    return value


def _parse_value(text: str) -> IndicatorValue | None:
    m = _VALUE.match(text)
    if not m:
        return None
    raw_op = m.group("op") or ""
    op = {">=": "≥", "<=": "≤"}.get(raw_op.replace(" ", ""), raw_op.replace(" ", ""))
    try:
        number = Decimal(m.group("num").replace(",", ""))
        high = Decimal(m.group("hi").replace(",", "")) if m.group("hi") else None
    except InvalidOperation:
        return None
    return IndicatorValue(op, number, high, m.group("unit").strip(), " " in raw_op)


def _targets(ctx: CheckContext) -> list[Record]:
    return list(ctx.disclosure.lists.get("targets", ()))


_BY_TARGET: dict[int, tuple[object, dict[str, list[Record]]]] = {}


def _indicators(ctx: CheckContext, target: Record) -> list[Record]:
    records = ctx.disclosure.lists.get("indicators", ())
    cached = _BY_TARGET.get(id(ctx.disclosure))
    if cached is None or cached[0] is not records:  # one index per workbook, not one scan per target
        index: dict[str, list[Record]] = {}
        for r in records:
            index.setdefault(squash(r.text("目标表名称")), []).append(r)
        _BY_TARGET.clear()
        _BY_TARGET[id(ctx.disclosure)] = cached = (records, index)
    return cached[1].get(squash(target.text("目标表名称")), [])


def _projects(ctx: CheckContext) -> list[Row]:
    if not ctx.has("T7"):
        return []
    return [r for r in ctx.table("T7").rows if r.kind == DETAIL and r.project]


@lru_cache(maxsize=4096)
def normalize_project(name: str) -> str:
    """'2026年城乡居民养老保险网络费项目（县级）' → '城乡居民养老保险网络费'."""
    s = squash(name)
    s = re.sub(r"^(\d{4}年|以前年度)", lambda m: "以前年度" if m.group(0) == "以前年度" else "", s)
    s = re.sub(r"\((县级|州级|市级|区级|自治区级|省级)\)", "", s)
    s = re.sub(r"\d{4}年$", "", s)
    s = s.replace("项目", "")
    return s


def project_for(ctx: CheckContext, target: Record) -> Row | None:
    """The 表7 project a project 绩效目标表 belongs to: by the 表7项目名称 column, else by name."""
    found = ctx.memo.setdefault("project_for", {})  # four rules ask for each target
    entry = found.get(id(target))
    if entry is None or entry[0] is not target:  # kept with the answer: an id is reused once its object is gone
        entry = found[id(target)] = (target, _project_for(ctx, target))
    return entry[1]


def _project_index(ctx: CheckContext) -> tuple[list[Row], dict[str, Row], dict[str, list[Row]]]:
    """表7's projects; the first of each squashed name; every project of each normalised name."""
    index = ctx.memo.get("projects")
    if index is None:
        projects = _projects(ctx)
        by_name: dict[str, Row] = {}
        by_normal: dict[str, list[Row]] = {}
        for p in projects:
            by_name.setdefault(squash(p.project), p)
            by_normal.setdefault(normalize_project(p.project), []).append(p)
        index = ctx.memo["projects"] = (projects, by_name, by_normal)
    return index


def _project_for(ctx: CheckContext, target: Record) -> Row | None:
    projects, by_name, by_normal = _project_index(ctx)
    linked = squash(target.text("表7项目名称"))
    if linked:
        return by_name.get(linked)
    name = normalize_project(target.text("目标表名称"))
    matches = by_normal.get(name, [])
    if len(matches) == 1:
        return matches[0]
    # names drift ("1995年退休（退职）人员生活补贴项目" for "1995年前退休(退职)人员补贴2026年"):
    # take the clearly most similar project, never a coin toss
    from difflib import SequenceMatcher

    scored = sorted(((SequenceMatcher(None, name, normalize_project(p.project)).ratio(), i) for i, p in enumerate(projects)), reverse=True)
    if scored and scored[0][0] >= 0.6 and (len(scored) == 1 or scored[0][0] - scored[1][0] >= 0.1):
        return projects[scored[0][1]]
    return None


def _ref(record: Record, key: str):
    t = record.fields.get(key)
    return t.ref if t else None


@rule("E01", Severity.ERROR, "部门整体绩效目标金额与表1不一致")
def check_whole_budget(ctx: CheckContext, out) -> None:
    """检查内容：部门整体绩效目标表的年度预算总额 = 表1 收入总计；上级安排 = 表1 各项上级转移支付之和；本级安排 + 上级安排 = 财政拨款；
    财政拨款 + 其他资金 = 年度预算总额。
    为何重要：部门整体绩效目标覆盖全部预算，金额应与公开表一致。
    示例：参考文件：上级安排 16.00 + 本级安排 1,446.90 = 1,462.90 = 表1 收入总计。
    处理方法：按表1 改正“绩效目标”工作表中部门整体一行的金额。"""
    if not ctx.has("T1"):
        return
    t1 = ctx.table("T1")
    income = t1.total_row("收入")
    upper = sum((t1.by_key(k, "收入").amount("预算数") for k in ("上级一般公共预算安排转移支付", "上级政府性基金安排转移支付", "上级国有资本经营预算安排转移支付") if t1.by_key(k, "收入")), Decimal(0))
    for target in _targets(ctx):
        if target.text("类型") != WHOLE:
            continue
        a = target.amounts
        if income is not None and "年度预算总额" in a:
            check_equal(ctx, out, a["年度预算总额"], income.amount("预算数"), "部门整体绩效目标 年度预算总额", "表1 收入总计", [income.values["预算数"].ref])
        if "上级安排" in a and a["上级安排"].value is not None:
            check_equal(ctx, out, a["上级安排"], upper, "部门整体绩效目标 上级安排", "表1 上级转移支付之和")
        if "财政拨款" in a and a["财政拨款"].value is not None and "本级安排" in a and "上级安排" in a:
            check_equal(ctx, out, a["财政拨款"], a["本级安排"].or_zero + a["上级安排"].or_zero, "部门整体绩效目标 财政拨款", "本级安排 + 上级安排", [a["本级安排"].ref, a["上级安排"].ref], 2)
        if "年度预算总额" in a and "财政拨款" in a and a["财政拨款"].value is not None:
            check_equal(ctx, out, a["年度预算总额"], a["财政拨款"].or_zero + (a["其他资金"].or_zero if "其他资金" in a else 0), "部门整体绩效目标 年度预算总额", "财政拨款 + 其他资金", [a["财政拨款"].ref], 2)


def _project_ref(ctx: CheckContext, row: Row):
    """The 项目名称 cell of a 表7 row (``name_ref`` is its 科目名称 cell)."""
    from ..model import CellRef

    t7 = ctx.table_spec("T7")
    column = t7.columns.index(t7.column("project")) + 1
    return CellRef(row.name_ref.sheet, row.name_ref.row, column) if row.name_ref else None


@rule("E02", Severity.ERROR, "项目绩效目标与表7不一致")
def check_project_budget(ctx: CheckContext, out) -> None:
    """检查内容：每张项目绩效目标表对应表7 的一个项目（按“表7项目名称”列，未填则按名称去掉年度、“（县级）”、“项目”后匹配）；
    年度预算总额 = 表7 该项目支出合计；财政拨款 + 其他资金 = 年度预算总额。绩效目标表上的项目名称与表7 不同时报“警告”。
    为何重要：绩效目标随预算公开，读者要能把每张目标表对到预算表中的项目。
    示例：参考文件 12 张项目绩效目标表金额都与表7 一致，但名称都与表7 不同（如“1995 年退休（退职）人员生活补贴项目”对表7“1995年前退休(退职)人员补贴2026年”），各报一条警告。
    处理方法：绩效目标表使用与表7 相同的项目名称；在“表7项目名称”列写明对应关系。"""
    for target in _targets(ctx):
        if target.text("类型") != PROJECT:
            continue
        project = project_for(ctx, target)
        name_ref = _ref(target, "目标表名称")
        if project is None:
            out.emit(f"{name_ref} 绩效目标表“{target.text('目标表名称')}”在表7 中找不到对应项目。请在“表7项目名称”列填写表7 中的项目名称。", [name_ref])
            continue
        if squash(target.text("目标表名称")) != squash(project.project):
            out.emit(
                f"{name_ref} 绩效目标表项目名称“{target.text('目标表名称')}”与表7 项目名称“{project.project}”不一致。公开时请使用同一名称。",
                [name_ref, _project_ref(ctx, project)], Severity.WARNING, expected=project.project, actual=target.text("目标表名称"),
            )
        a = target.amounts
        if "年度预算总额" in a:
            check_equal(ctx, out, a["年度预算总额"], project.amount("项目支出合计"), f"绩效目标表“{target.text('目标表名称')}”年度预算总额", "表7 该项目支出合计", [project.values["项目支出合计"].ref])
        if "年度预算总额" in a and "财政拨款" in a and a["财政拨款"].value is not None:
            check_equal(ctx, out, a["年度预算总额"], a["财政拨款"].or_zero + (a["其他资金"].or_zero if "其他资金" in a else 0), f"绩效目标表“{target.text('目标表名称')}”年度预算总额", "财政拨款 + 其他资金", [a["财政拨款"].ref], 2)


@rule("E03", Severity.WARNING, "绩效指标层级不规范")
def check_indicator_tree(ctx: CheckContext, out) -> None:
    """检查内容：项目绩效指标的一级指标为产出、成本、效益、满意度指标；二级指标属于其一级指标（产出：数量、质量、时效；
    成本：经济成本、社会成本、生态环境成本；效益：经济效益、社会效益、生态效益、可持续影响；满意度：服务对象满意度）；二级指标不能为空。
    部门整体绩效目标的一级指标可以是履职效能、管理效率等，不检查。
    为何重要：指标体系是绩效目标审核的第一项，层级错乱的目标表会被退回。
    示例：参考文件“城乡居民养老保险丧葬费抚恤金补贴项目”有一行二级指标为空，报此警告。
    处理方法：在“绩效指标”工作表补全或改正一级、二级指标。"""
    for target in _targets(ctx):
        if target.text("类型") != PROJECT:
            continue
        for ind in _indicators(ctx, target):
            first, second = squash(ind.text("一级指标")), squash(ind.text("二级指标"))
            ref = _ref(ind, "二级指标")
            if first not in TREE:
                out.emit(f"{_ref(ind, '一级指标')} 指标“{ind.text('三级指标')}”的一级指标“{ind.text('一级指标')}”不是产出、成本、效益、满意度指标之一。", [_ref(ind, "一级指标")])
            elif not second:
                out.emit(f"{ref} “{target.text('目标表名称')}”的指标“{ind.text('三级指标')}”没有二级指标。请填写（{first}下可用：{'、'.join(sorted(TREE[first]))}）。", [ref])
            elif second not in TREE[first]:
                out.emit(f"{ref} 指标“{ind.text('三级指标')}”的二级指标“{ind.text('二级指标')}”不属于“{first}”。", [ref])


@rule("E04", Severity.WARNING, "指标分值权重合计不一致")
def check_weights(ctx: CheckContext, out) -> None:
    """检查内容：每张绩效目标表的指标分值权重合计为 100，或各表一致地为 90（另 10 分留给预算执行率）。
    为何重要：权重合计不对，绩效评价无法计分。
    示例：参考文件 13 张表都合计 90，一致，不报。
    处理方法：调整“绩效指标”中的分值权重。"""
    sums = {}
    for target in _targets(ctx):
        weights = [ind.amount("分值权重") for ind in _indicators(ctx, target)]
        if weights:
            sums[target.text("目标表名称")] = (sum((w or 0 for w in weights), Decimal(0)), target)
    if not sums:
        return
    totals = [s for s, _ in sums.values()]
    usual = max(set(totals), key=totals.count)
    for name, (total, target) in sums.items():
        if total != usual or usual not in (90, 100):
            out.emit(f"{_ref(target, '目标表名称')} 绩效目标表“{name}”的分值权重合计为 {total}，多数表为 {usual}（应为 100，或统一为 90）。请调整。", [_ref(target, "目标表名称")], actual=total, expected=usual)


@rule("E05", Severity.WARNING, "指标值写法不规范")
def check_indicator_values(ctx: CheckContext, out) -> None:
    """检查内容：定量指标值写作“符号 + 数值 + 单位”：符号用 =、≥、≤、>、<，不要写成“> =”“< =”；不写区间（如“=50-100元”）；
    数量指标一般用 ≥（写“≤81 人”表示数量上限，通常是写反了）。
    为何重要：不规范的指标值无法比对完成情况，也显得不严谨。
    示例：参考文件“> =98%”“< =0.74 万元”“=50-100元”“≤81 人”，各报一条。
    处理方法：改为“≥98%”“≤0.74万元”，区间改为一个确定的标准或拆成两个指标。"""
    for target in _targets(ctx):
        for ind in _indicators(ctx, target):
            text = ind.text("指标值")
            value = parse_value(text)
            if value is None:
                continue
            if value.spaced:
                problem = f"符号中间有空格。请写作“{value.op}{value.number}{value.unit}”。"
            elif value.high is not None:
                problem = "是一个区间。指标值应是一个确定的标准，请改为一个数值或拆成两个指标。"
            elif value.op in ("≤", "<") and squash(ind.text("二级指标")) == "数量指标":
                problem = f"：数量指标通常用“≥”，“{value.op}”表示上限，请确认没有写反。"
            else:
                continue  # most values: no message to build
            ref = _ref(ind, "指标值")
            out.emit(f"{ref} “{target.text('目标表名称')}”指标“{ind.text('三级指标')}”的指标值“{text}”{problem}", [ref], actual=text)


_PER = ("元/", "万元/", "/人", "/月", "/次", "/个", "标准")


def _number_and_unit(ind: Record):
    value = parse_value(ind.text("指标值"))
    if value is None or value.high is not None:
        return None
    unit = value.unit + " " + ind.text("三级指标")
    return value, unit


@rule("E06", Severity.WARNING, "数量×标准与预算不符")
def check_cost_arithmetic(ctx: CheckContext, out) -> None:
    """检查内容：项目绩效目标中能算出金额的：数量指标（人、人次、个）× 经济成本指标中的单位标准（元/人、元/月/人、万元/个）
    ×（按月标准时的月数，取时效指标中的“×个月”，否则 12）应约等于项目预算（相差不超过 1%）。有多个标准或标准是区间时不算。
    为何重要：数量、标准与预算算不拢，说明目标、标准或预算至少有一个填错。
    示例：参考文件“1995年前退休(退职)人员补贴2026年”：81 人 × 120 元/月/人 × 12 个月 = 11.66 万元，而预算 9.00 万元，报此警告；
    “丧葬费抚恤金补贴”875 人 × 1,056 元/人 = 92.40 万元，与预算一致。
    处理方法：核对补助人数、标准和月数；预算只覆盖部分月份的，在时效指标中写明月数。"""
    for target in _targets(ctx):
        if target.text("类型") != PROJECT:
            continue
        project = project_for(ctx, target)
        budget = project.amount("项目支出合计") if project else (target.amount("年度预算总额") or None)
        if not budget:
            continue
        inds = _indicators(ctx, target)
        quantity = [i for i in inds if squash(i.text("二级指标")) == "数量指标" and _number_and_unit(i)]
        standards = [i for i in inds if squash(i.text("一级指标")) == "成本指标" and _number_and_unit(i) and first_of(_number_and_unit(i)[1], _PER)]
        if len(quantity) != 1 or len(standards) != 1:
            continue
        (q, _), (s, s_unit) = _number_and_unit(quantity[0]), _number_and_unit(standards[0])
        if "万元" in s.unit or (not s.unit and "万元" in s_unit):
            per_unit_wan = s.number
        elif "元" in s_unit:
            per_unit_wan = s.number / Decimal(10000)
        else:
            continue
        months = Decimal(1)
        if "/月" in s_unit:
            months = Decimal(12)
            for i in inds:
                v = parse_value(i.text("指标值"))
                if v and "月" in v.unit and squash(i.text("二级指标")) == "时效指标":
                    months = v.number
        implied = (q.number * per_unit_wan * months).quantize(Decimal("0.01"))
        if budget and abs(implied - budget) > budget / 100:
            refs = [_ref(quantity[0], "指标值"), _ref(standards[0], "指标值")]
            month_text = f" × {months} 个月" if months != 1 else ""
            out.emit(
                f"{refs[0]} “{target.text('目标表名称')}”：{q.number} {q.unit or ''} × {s.number} {s.unit}{month_text} = {ctx.money(implied)}，"
                f"而项目预算为 {ctx.money(budget)}，相差 {ctx.money(implied - budget)}。请核对数量、标准、月数或预算。",
                [*refs, project.values["项目支出合计"].ref if project else None], expected=implied, actual=budget, difference=budget - implied,
            )


@rule("E07", Severity.WARNING, "金额类指标与预算不符")
def check_amount_indicators(ctx: CheckContext, out) -> None:
    """检查内容：以“万元”表示总额的成本指标（不是单位标准）：写“=”的应等于项目预算或表7 该项目某一经济分类的金额；写“≤”的不应小于对应金额。
    为何重要：金额类指标直接就是预算，写错会让目标表与预算表自相矛盾。
    示例：参考文件“发放资金总金额 =105万元”= 预算 105.00，一致；“设备购置 ≤0.74 万元”与表7 资本性支出 0.74 一致。
    处理方法：按表7 改正指标值。"""
    for target in _targets(ctx):
        if target.text("类型") != PROJECT:
            continue
        project = project_for(ctx, target)
        if project is None:
            continue
        amounts = {v for v in (a.value for a in project.values.values()) if v}
        for ind in _indicators(ctx, target):
            nu = _number_and_unit(ind)
            if nu is None or squash(ind.text("一级指标")) != "成本指标":
                continue
            value, _ = nu
            name = ind.text("三级指标")
            if "万元" not in value.unit or "/" in name or "标准" in name:
                continue  # not a total in 万元 but a unit standard
            ref = _ref(ind, "指标值")
            if value.op in ("=", "") and value.number not in amounts:
                out.emit(f"{ref} “{target.text('目标表名称')}”指标“{ind.text('三级指标')}”为 {value.number} 万元，与表7 该项目的任何金额都不相同（预算 {ctx.money(project.amount('项目支出合计'))}）。", [ref, project.values["项目支出合计"].ref], actual=value.number)
            elif value.op in ("≤", "<") and value.number < min(amounts, default=Decimal(0)):
                out.emit(f"{ref} “{target.text('目标表名称')}”指标“{ind.text('三级指标')}”上限 {value.number} 万元小于表7 该项目的金额。", [ref], actual=value.number)


_PERIOD = re.compile(r"(\d{4})年(\d{1,2})月至(\d{4})年(\d{1,2})月")
_DATES = re.compile(r"(\d{4})年(\d{1,2})月\d{1,2}日[—\-至到~～]+(\d{4})年(\d{1,2})月\d{1,2}日")


@rule("E08", Severity.INFO, "资金执行时间与政策期间不一致")
def check_execution_period(ctx: CheckContext, out) -> None:
    """检查内容：项目说明的“设立的政策依据”写明了资金期间（如“2026年4月至2027年3月”）时，“资金执行时间”应与之一致。
    为何重要：执行时间与政策期间不一致，说明预算可能只覆盖了部分期间，也会影响绩效目标中的数量和月数。
    示例：参考文件“1995年前退休（退职）人员补贴”政策期间为 2026年4月至2027年3月，资金执行时间却写 2026年1月1日—2026年12月31日，报此提示。
    处理方法：核对资金执行时间；确为跨年度执行的，照实填写。"""
    for record in ctx.disclosure.lists.get("projects", ()):
        period = _PERIOD.search(squash(record.text("设立的政策依据")))
        dates = _DATES.search(squash(record.text("资金执行时间")))
        if period and dates and period.groups() != dates.groups():
            ref = _ref(record, "资金执行时间")
            out.emit(
                f"{ref} 项目“{record.text('项目名称')}”的政策期间为 {period.group(0)}，资金执行时间为 {record.text('资金执行时间')}，两者不一致。请核对。",
                [ref, _ref(record, "设立的政策依据")],
            )
