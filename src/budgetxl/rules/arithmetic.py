"""B — arithmetic inside each table (disclosure-rules.md R01–R22, B01–B05)."""

from __future__ import annotations

from decimal import Decimal

from ..model import DETAIL, SUBTOTAL, TOTAL, Severity
from ..codes import LEVEL_NAMES
from . import rule
from .context import CheckContext, row_label
from .helpers import amount_of, check_equal, parent_map, refs_of, total_of


_ZERO = Decimal(0)


@rule("B01", Severity.ERROR, "行合计不等于各列之和")
def check_row_totals(ctx: CheckContext, out) -> None:
    """检查内容：每一行的合计列等于构成它的各列之和，如表2 财政拨款（补助）小计 = 一般公共预算 + 上级转移支付 + 政府性基金 + …，
    总计 = 小计 + 财政专户 + 单位资金 + 结转；表3/表5 合计 = 基本支出 + 项目支出；表6 合计 = 人员经费 + 公用经费；
    表7 项目支出合计 = 各经济分类列之和；表10/表11 合计 = 各资金来源之和；表12 合计 = 财政拨款小计 + 非财政拨款小计。
    为何重要：行内不平是最直观的错误，读者一眼就能发现，也会连带造成表间数字不一致。
    示例：表3 208 01 09 社会保险经办机构 合计 1,270.40，基本支出 399.47 + 项目支出 870.93 = 1,270.40，一致。
    处理方法：核对该行各列金额；合计列由“计算小计”自动计算，不要手工填写。"""
    for t in ctx.spec.tables:
        if not ctx.has(t.key):
            continue
        table = ctx.table(t.key)
        for row in table.rows:
            sums = t.right_row_sums if row.side == "支出" else t.row_sums
            values = row.values
            for rs in sums:
                target = values.get(rs.target)
                if target is None:
                    continue
                terms, expected, blank = [], Decimal(0), target.value is None  # one pass: the terms, their sum, all blank?
                for k in rs.terms:
                    a = values.get(k)
                    if a is not None:
                        terms.append(a)
                        if a.value is not None:
                            expected += a.value
                            blank = False
                if blank:
                    continue
                if (target.value or 0) == expected:
                    continue  # what check_equal finds first; not building its message and cell list saves most of the rule
                check_equal(
                    ctx, out, target, expected, f"{table.title} {row_label(row)} 的“{rs.target}”",
                    f"{'+'.join(rs.terms)}", [a.ref for a in terms], len(terms),
                )


@rule("B02", Severity.ERROR, "小计或总计不等于明细之和")
def check_rollups(ctx: CheckContext, out) -> None:
    """检查内容：按科目层级逐级汇总：款 = 所属各项之和，类 = 所属各款之和，总计 = 各类之和（表7 单位行、款行同理；
    表11、表12 总计 = 各行之和），每一个金额列都检查。
    为何重要：小计是手工加总最容易出错的地方；一个明细改了而小计没改，表内、表间就都对不上。
    示例：参考文件表3 210 11 行政事业单位医疗印 39.02，而 38.08 + 0.93 = 39.01，相差 0.01 万元，在尾差范围内，报“提示”。
    处理方法：运行“计算小计”重新计算；相差超出尾差范围时先核对明细是否填错。"""
    for t in ctx.spec.tables:
        if t.layout not in ("classified", "projects", "items") or not ctx.has(t.key):
            continue
        table = ctx.table(t.key)
        parents = parent_map(table)
        children: dict[int, list] = {}
        top = []
        for i, row in enumerate(table.rows):
            if row.kind == TOTAL or (row.kind == SUBTOTAL and not row.code):
                continue
            parent = parents.get(i)
            if parent is None:
                top.append(row)
            else:
                children.setdefault(id(parent), []).append(row)
        for row in table.rows:
            if row.kind == TOTAL or (row.kind == SUBTOTAL and not row.code):
                members, basis = top, "各类之和" if t.layout != "items" else "各行之和"
            elif row.kind == SUBTOTAL:
                members = children.get(id(row), [])
                basis = "所属下级各行之和"
                if not members:
                    continue  # a 类 row with nothing under it is reported by B05
            else:
                continue
            totals: dict[str, Decimal] = {}  # every column's sum over the members in one pass; a column no member fills is absent
            for m in members:
                for key, a in m.values.items():
                    if a.value is not None:
                        totals[key] = totals.get(key, _ZERO) + a.value
            for key in t.amount_keys():
                stated = amount_of(row, key)
                if stated is None:
                    continue
                total = totals.get(key)
                if total is None:
                    if stated.value is None:
                        continue  # blank, and nothing under it
                    total = _ZERO
                if (stated.value or 0) == total:
                    continue  # equal: nothing to say (as check_equal would find)
                check_equal(
                    ctx, out, stated, total, f"{table.title} {row_label(row)} 的“{key}”",
                    basis, refs_of(members, key), len(members),
                )


@rule("B03", Severity.ERROR, "汇总表固定行不平")
def check_fixed_rows(ctx: CheckContext, out) -> None:
    """检查内容：表1、表4、表10 中由其他行相加得到的行：本年收入 = 一般公共预算拨款 + 政府性基金预算拨款 + 国有资本经营预算拨款 +
    财政专户核拨 + 单位资金；一般公共预算拨款 = 一般财力 + 上级转移支付；收入总计 = 本年收入 + 上年结转结余；支出总计 = 各类之和；
    表4 财政拨款（补助）= 一般公共预算 + 政府性基金预算 + 国有资本经营预算；表10 公务用车购置及运行维护费 = 购置 + 运行维护费，
    总计 = 因公出国（境）+ 公务接待 + 公务用车。
    为何重要：这些是公开文件最先被看的总数，不平会直接被认定为“账表不符”。
    示例：参考文件表1 一般公共预算拨款 1,462.90 = 一般财力 1,446.90 + 上级转移支付 16.00，一致。
    处理方法：表1、表4 由“计算小计”从明细表生成，不要手工填写；表10 填写明细行后运行“计算小计”。"""
    for t in ctx.spec.tables:
        if t.layout not in ("two_sided", "fixed") or not ctx.has(t.key):
            continue
        table = ctx.table(t.key)
        side = "收入" if t.layout == "two_sided" else None
        by_key = {r.key: r for r in table.rows if r.side == side and r.key}
        for key in t.amount_keys(side):
            for spec_row in t.fixed_rows:
                if spec_row.sum and spec_row.key in by_key:
                    parts = [by_key[k] for k in spec_row.sum if k in by_key]
                    check_equal(
                        ctx, out, amount_of(by_key[spec_row.key], key), total_of(parts, key),
                        f"{table.title}“{spec_row.label}”", "、".join(p.name for p in parts) + "之和",
                        refs_of(parts, key), len(parts),
                    )
            total = table.total_row(side)
            sum_keys = t.left_total_sum if t.layout == "two_sided" else t.total_sum
            parts = [by_key[k] for k in sum_keys if k in by_key]
            if total is not None and parts:
                check_equal(
                    ctx, out, amount_of(total, key), total_of(parts, key), f"{table.title}“{total.label}”",
                    "、".join(p.name for p in parts) + "之和", refs_of(parts, key), len(parts),
                )
        if t.layout == "two_sided":
            classes = table.rows_of(SUBTOTAL, side="支出")
            total = table.total_row("支出")
            for key in t.amount_keys("支出"):
                if total is not None:
                    check_equal(
                        ctx, out, amount_of(total, key), total_of(classes, key), f"{table.title}“{t.right_total}”的“{key}”",
                        "各类支出之和", refs_of(classes, key), len(classes),
                    )


@rule("B04", Severity.ERROR, "收入总计不等于支出总计")
def check_balanced(ctx: CheckContext, out) -> None:
    """检查内容：表1 收入总计 = 支出总计；表4 财政拨款收入总计 = 财政拨款支出总计。
    为何重要：部门预算收支平衡，这是第一条勾稽关系。
    示例：参考文件表1 收入总计 1,462.90 = 支出总计 1,462.90。
    处理方法：先按 B02/B03 核对两侧合计，再检查收入来源（表2）与支出科目（表3）是否一致。"""
    for t in ctx.spec.tables:
        if t.layout != "two_sided" or not ctx.has(t.key):
            continue
        table = ctx.table(t.key)
        income, spending = table.total_row("收入"), table.total_row("支出")
        if income is None or spending is None:
            continue
        left = amount_of(income, t.amount_keys("收入")[0])
        right = amount_of(spending, t.amount_keys("支出")[0])
        check_equal(ctx, out, left, right.value if right else None, f"{table.title}收入总计", "支出总计", [right.ref if right else None])


@rule("B05", Severity.ERROR, "科目层级不完整")
def check_code_hierarchy(ctx: CheckContext, out) -> None:
    """检查内容：每个项级明细上方都有所属的款、类小计行（经济分类：每个款上方有类行）；类行、款行下面至少有一个明细。
    为何重要：公开表要求分类科目逐级列示，缺少上级行，读者无法看出资金投向，小计也无处可写。
    示例：表3 填了 208 05 05 却没有 208 05（行政事业单位养老支出）和 208 行，报此错误。
    处理方法：在明细上方插入一行，只填写类/款代码和科目名称，金额由“计算小计”计算。"""
    for t in ctx.spec.tables:
        if t.layout not in ("classified", "projects") or not ctx.has(t.key):
            continue
        table = ctx.table(t.key)
        present = {r.code for r in table.rows if r.kind == SUBTOTAL and r.code}
        reported = set()
        for row in table.rows:
            if not row.code:
                continue
            if row.kind == DETAIL:
                for length in t.code_levels[:-1]:
                    parent = row.code[:length]
                    if parent not in present and parent not in reported:
                        reported.add(parent)
                        out.emit(
                            f"{row.name_ref or table.sheet} {table.title} {row_label(row)} 上方缺少{LEVEL_NAMES[length]}级行 {parent}。"
                            f"请插入一行，填写代码 {parent} 和科目名称。",
                            [row.values[next(iter(row.values))].ref if row.values else None],
                        )
            elif not any(r.kind == DETAIL and r.code and r.code.startswith(row.code) for r in table.rows):
                out.emit(
                    f"{row.name_ref} {table.title} {row_label(row)} 下面没有任何明细行。请补充明细，或删除这一行。",
                    [row.name_ref], Severity.WARNING,
                )


@rule("B06", Severity.ERROR, "金额为负数")
def check_negative(ctx: CheckContext, out) -> None:
    """检查内容：公开表中的预算金额不能为负数。
    为何重要：预算安排数不存在负数，负数通常是把调减数或公式结果误填进来。
    示例：表3 某项基本支出填 -5.00，报此错误。
    处理方法：改为正确的预算数；调减情况在“上年数与原因”中说明。"""
    for t in ctx.spec.tables:
        if not ctx.has(t.key):
            continue
        for row in ctx.table(t.key).rows:
            for key, a in row.values.items():
                if a.value is not None and a.value < 0:
                    out.emit(f"{a.ref} {t.title} {row_label(row)} 的“{key}”为负数 {ctx.money(a.value)}。预算数不能为负，请改正。", [a.ref], actual=a.value)


@rule("B07", Severity.WARNING, "基本支出经济分类放错列")
def check_basic_columns(ctx: CheckContext, out) -> None:
    """检查内容：表6 中 301 工资福利支出、303 对个人和家庭的补助应列在“人员经费”，302 商品和服务支出、310 资本性支出应列在“公用经费”。
    为何重要：人员经费、公用经费的划分决定情况说明第六部分和机关运行经费的数字。
    示例：302 01 办公费填在“人员经费”列，报此警告。
    处理方法：把金额移到正确的列；确有特殊情况的，在校验结果中标记“已核实”并写明理由。"""
    if not ctx.has("T6"):
        return
    people, public = ("301", "303"), ("302", "310")
    for row in ctx.table("T6").rows:
        if row.kind != DETAIL or not row.code:
            continue
        wrong = "公用经费" if row.code.startswith(people) else "人员经费" if row.code.startswith(public) else None
        a = row.values.get(wrong) if wrong else None
        if a is not None and a.value:
            right = "人员经费" if wrong == "公用经费" else "公用经费"
            out.emit(f"{a.ref} 表6 {row_label(row)} 的金额填在“{wrong}”列，按经济分类应列“{right}”。请核对。", [a.ref], actual=a.value)


@rule("B08", Severity.ERROR, "项目行不完整或重复")
def check_projects(ctx: CheckContext, out) -> None:
    """检查内容：表7 每个项目一行，填写项级功能科目代码（7位）和项目名称；同一项目名称不能出现两次。
    为何重要：项目是情况说明第七部分、绩效目标表的对应依据，名称重复或缺代码就无法对应。
    示例：表7 两行都叫“2026年社会保险工作经费项目（县级）”，报此错误。
    处理方法：补全代码和名称；同一项目在不同科目安排资金的，在名称后注明用途以示区别。"""
    if not ctx.has("T7"):
        return
    seen: dict[str, object] = {}
    for row in ctx.table("T7").rows:
        if row.kind != DETAIL:
            continue
        if row.code and len(row.code) != 7:
            out.emit(f"{row.name_ref} 表7 项目“{row.project}”的科目代码 {row.code} 不是项级（7位）。请填写到项。", [row.name_ref])
        key = (row.project or "").strip()
        if key in seen:
            out.emit(f"{row.name_ref} 表7 项目名称“{key}”重复（另见 {seen[key]}）。请合并或区分项目名称。", [row.name_ref, seen[key]])
        else:
            seen[key] = row.name_ref


@rule("B09", Severity.WARNING, "金额超过两位小数")
def check_precision(ctx: CheckContext, out) -> None:
    """检查内容：以万元公开的金额应保留两位小数。
    为何重要：多于两位的小数在公开文件中会被四舍五入，印出来的数字与合计对不上。
    示例：表6 基本工资填 102.3249 万元，报此警告。
    处理方法：按元核算后换算为万元并保留两位小数；或把工作簿金额单位改为“元”。"""
    if ctx.unit != "万元":
        return
    for t in ctx.spec.tables:
        if not ctx.has(t.key):
            continue
        for row in ctx.table(t.key).rows:
            for key, a in row.values.items():
                if a.value is not None and a.value != a.value.quantize(Decimal("0.01")):
                    out.emit(f"{a.ref} {t.title} {row_label(row)} 的“{key}”为 {a.value}，超过两位小数。请保留两位小数。", [a.ref], actual=a.value)
