"""Departments side by side, and this year against last year.

At intake (``statement_rows``, a pure function of the workbook) each
submission keeps the figures a bureau compares — 收支总计, 一般公共预算,
基本支出 (人员/公用经费), 项目支出, the “三公” parts, 机关运行经费, 政府采购,
项目数 — each with its cell, plus the items the 情况说明 compares with last
year (their current figures) and the department's own 上年数与原因 records.
They go to the ``statements`` table of the database (``store.py``).

The bureau's year-over-year checks (Y…, catalogued in ``problems.py``) join
this year's database with last year's: a department matched by 单位编码,
else by name.
"""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from ..comparables import current_items
from ..model import DETAIL, Disclosure
from ..money import fmt, plain
from ..records import dataclass
from ..spec import Spec
from ..textnorm import squash

if TYPE_CHECKING:
    import pandas as pd  # only the bureau's reports build frames; intake (statement_rows) runs without pandas

WAN = Decimal(10000)

FIGURE = "figure"  # a figure the bureau compares
CURRENT = "current"  # an item the 情况说明 compares with last year: this year's figure
PRIOR = "prior"  # the department's 上年数与原因 record: what it says last year's figure was

THREE_PARTS = ("因公出国（境）费用", "公务用车购置及运行维护费", "公务接待费")
# (figure, table, row key or None for the total row, side, column)
_TABLE_FIGURES = (
    ("收支总计", "T1", None, "收入", "预算数"),
    ("一般公共预算", "T1", "一般公共预算拨款", "收入", "预算数"),
    ("基本支出", "T3", None, None, "基本支出"),
    ("人员经费", "T6", None, None, "人员经费"),
    ("公用经费", "T6", None, None, "公用经费"),
    ("项目支出", "T3", None, None, "项目支出"),
    ("三公经费", "T10", None, None, "合计"),
    ("因公出国（境）费用", "T10", "因公出国（境）费用", None, "合计"),
    ("公务用车购置及运行维护费", "T10", "公务用车购置及运行维护费（小计）", None, "合计"),
    ("公务接待费", "T10", "公务接待费", None, "合计"),
)
_FORM_FIGURES = (("机关运行经费", "机关运行经费"), ("政府采购", "政府采购预算总额"))
FIGURES = (*(f[0] for f in _TABLE_FIGURES), "机关运行经费", "政府采购", "项目数")
MONEY = tuple(f for f in FIGURES if f != "项目数")


def statement_rows(d: Disclosure, spec: Spec) -> list[tuple]:
    """(kind, category, code, name, amount, cell) for the database; amounts as
    decimal strings in the workbook's unit (项目数 is a count)."""
    out: list[tuple] = []
    for name, key, row_key, side, column in _TABLE_FIGURES:
        table = d.tables.get(key)
        row = None if table is None else (table.total_row(side) if row_key is None else table.by_key(row_key, side))
        a = row.values.get(column) if row is not None else None
        if a is not None and a.value is not None:
            out.append((FIGURE, "", "", name, plain(a.value), str(a.ref)))
    other = d.forms.get("other")
    for name, key in _FORM_FIGURES:
        a = other.amounts.get(key) if other else None
        if a is not None and a.value is not None:
            out.append((FIGURE, "", "", name, plain(a.value), str(a.ref)))
    projects = d.tables.get("T7")
    if projects is not None:
        names = {squash(r.project) for r in projects.rows if r.kind == DETAIL and r.project}
        first = next((r for r in projects.rows if r.kind == DETAIL and r.project), None)
        out.append((FIGURE, "", "", "项目数", str(len(names)), f"'{projects.sheet}'!A{first.row}" if first else ""))
    for item in current_items(d, spec):
        if item.current_refs:  # a blank cell is a zero (a “三公” part not spent)
            out.append((CURRENT, item.category, item.code, item.name, plain(item.current or Decimal(0)), str(item.current_refs[0])))
    for r in d.lists.get("priors", ()):
        a = r.amounts.get("上年预算数")
        if a is not None and a.value is not None:
            out.append((PRIOR, r.text("类别"), r.text("编码"), r.text("名称"), plain(a.value), str(a.ref)))
    return out


def item_key(category: str, code: str, name: str) -> tuple[str, str]:
    """The same key the 情况说明 uses to join an item with its 上年数与原因 record."""
    return (squash(category), code or squash(name))


def _wan(amount: str, unit: str) -> Decimal:
    value = Decimal(amount)
    return value / WAN if unit == "元" else value


# ------------------------------------------------------------ reading a database


@dataclass(frozen=True)
class Department:
    """One department's version as the bureau uses it: figures in 万元."""

    name: str
    code: str
    submission_id: int
    version: int
    file_name: str
    unit: str
    figures: dict[str, tuple[Decimal, str]]  # figure -> (万元 or count, cell)
    current: dict[tuple[str, str], tuple[str, Decimal, str]]  # item key -> (label, 万元, cell)
    priors: dict[tuple[str, str], tuple[str, Decimal, str]]


def has_statements(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'statements'").fetchone() is not None


def departments(db: str | Path, chosen: pd.DataFrame) -> list[Department]:
    """``chosen``: rows of the submissions table (id, department, unit_code, version, file_name, unit)."""
    from ..paths import database_uri

    conn = sqlite3.connect(database_uri(db, "ro"), uri=True)
    try:
        rows: dict[int, list[tuple]] = {}
        if has_statements(conn) and len(chosen):
            ids = [int(i) for i in chosen.id]
            query = f"SELECT submission_id, kind, category, code, name, amount, cell FROM statements WHERE submission_id IN ({','.join('?' * len(ids))})"
            for sid, *rest in conn.execute(query, ids):
                rows.setdefault(sid, []).append(tuple(rest))
    finally:
        conn.close()
    out = []
    for s in chosen.itertuples():
        figures, current, priors = {}, {}, {}
        for kind, category, code, name, amount, cell in rows.get(int(s.id), []):
            if kind == FIGURE:
                figures[name] = (Decimal(amount) if name == "项目数" else _wan(amount, s.unit), cell)
            elif kind == CURRENT:
                label = f"{category}“{name}”" if not code else f"{code} {name}"
                current[item_key(category, code, name)] = (label, _wan(amount, s.unit), cell)
            elif kind == PRIOR:
                label = f"{category}“{name}”" if not code else f"{code} {name}"
                priors[item_key(category, code, name)] = (label, _wan(amount, s.unit), cell)
        out.append(Department(s.department, s.unit_code or "", int(s.id), int(s.version), s.file_name, s.unit, figures, current, priors))
    return out


# ------------------------------------------------------------ side by side


def _share(part: Decimal | None, whole: Decimal | None) -> Decimal | None:
    if part is None or not whole:
        return None
    return (part / whole).quantize(Decimal("0.0001"))


COMPARISON_COLUMNS = (
    "单位名称", "单位编码", "汇总使用版本", *FIGURES,
    "占全部收支总计", "基本支出占比", "项目支出占比", "“三公”经费占一般公共预算",
)
SHARES = COMPARISON_COLUMNS[-4:]


def comparison(deps: list[Department]) -> tuple[pd.DataFrame, tuple]:
    """One row per department and the totals row (the sums of the same versions
    the consolidated tables use, so the totals are the consolidated totals)."""
    sums: dict[str, Decimal] = {}
    for dep in deps:
        for f in FIGURES:
            if f in dep.figures:
                sums[f] = sums.get(f, Decimal(0)) + dep.figures[f][0]
    rows = []
    for dep in deps:
        v = {f: dep.figures[f][0] if f in dep.figures else None for f in FIGURES}
        spending = (v["基本支出"] or 0) + (v["项目支出"] or 0) if v["基本支出"] is not None or v["项目支出"] is not None else None
        rows.append((
            dep.name, dep.code, dep.version, *(int(v[f]) if f == "项目数" and v[f] is not None else v[f] for f in FIGURES),
            _share(v["收支总计"], sums.get("收支总计")), _share(v["基本支出"], spending), _share(v["项目支出"], spending),
            _share(v["三公经费"], v["一般公共预算"]),
        ))
    spending = sums.get("基本支出", Decimal(0)) + sums.get("项目支出", Decimal(0))
    total = (
        f"合计（{len(deps)} 个单位）", "", None, *(int(sums[f]) if f == "项目数" and f in sums else sums.get(f) for f in FIGURES),
        Decimal(1) if sums.get("收支总计") else None, _share(sums.get("基本支出"), spending), _share(sums.get("项目支出"), spending),
        _share(sums.get("三公经费"), sums.get("一般公共预算")),
    )
    import pandas as pd

    return pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS)), total


# ------------------------------------------------------------ year over year


@dataclass(frozen=True)
class BureauFinding:
    code: str
    severity: str
    department: str
    title: str
    message: str
    this_year: Decimal | None = None
    last_year: Decimal | None = None
    this_cell: str = ""
    last_cell: str = ""


def match(this: list[Department], last: list[Department]) -> dict[str, Department]:
    """this year's department name -> last year's department: by 单位编码, then by name."""
    by_code = {d.code: d for d in last if d.code}
    by_name = {squash(d.name): d for d in last}
    out = {}
    for d in this:
        prev = by_code.get(d.code) if d.code else None
        prev = prev or by_name.get(squash(d.name))
        if prev is not None:
            out[d.name] = prev
    return out


YOY_FIGURES = ("收支总计", "一般公共预算", "基本支出", "人员经费", "公用经费", "项目支出", "三公经费", *THREE_PARTS, "机关运行经费", "政府采购", "项目数")


def _where(cell: str, file_name: str, year: str) -> str:
    return f"{year} {file_name} {cell}".strip() if cell else f"{year} {file_name}"


def _slack(this: Department, last: Department) -> Decimal:
    """Exact when both years are in the same unit; a workbook in 元 compared with one in 万元
    agrees when the 元 figure rounds to the 万元 one (half a cent of a 万元)."""
    return Decimal(0) if this.unit == last.unit else Decimal("0.005")


def year_over_year(this: list[Department], last: list[Department], missing: list[str], this_year: int | None, last_year: int | None):
    """(comparison frame, bureau findings). ``missing``: departments that sent nothing
    usable this year (未报送/无法读取/only erroneous versions are judged on their latest readable version)."""
    from ..problems import BUREAU_PROBLEMS

    ty, ly = f"{this_year}年" if this_year else "本年", f"{last_year}年" if last_year else "上年"
    pairs = match(this, last)
    rows, findings = [], []

    def finding(code: str, dep: str, message: str, **kw) -> None:
        p = BUREAU_PROBLEMS[code]
        findings.append(BureauFinding(code, p.severity.value, dep, p.title, message, **kw))

    for dep in this:
        prev = pairs.get(dep.name)
        if prev is None:  # one line, not one a figure
            rows.append((dep.name, f"（{ly}数据库中没有该单位）", "", None, None, None, None))
            continue
        if not prev.figures:  # last year's database predates the figures: nothing to compare, no false increases
            rows.append((dep.name, prev.name, f"（{ly}数据库没有记录比较用的数字，请用新版本重新收取{ly}的工作簿）", None, None, None, None))
            continue
        for f in YOY_FIGURES:
            now = dep.figures.get(f, (None, ""))
            before = prev.figures.get(f, (None, "")) if prev else (None, "")
            if now[0] is None and before[0] is None:
                continue
            change = (now[0] or Decimal(0)) - (before[0] or Decimal(0))
            rate = _share(change, before[0]) if before[0] else None
            rows.append((dep.name, prev.name, f, now[0], before[0], change, rate))
        for f, code in (("三公经费", "Y01"), *((p, "Y02") for p in THREE_PARTS), ("机关运行经费", "Y03")):
            now, before = dep.figures.get(f), prev.figures.get(f)
            if now is None or now[0] is None:
                continue
            base = before[0] if before else Decimal(0)
            if now[0] - base > _slack(dep, prev):
                what = "“三公”经费合计" if f == "三公经费" else f
                finding(code, dep.name,
                        f"{what}{ty} {fmt(now[0])} 万元（{now[1]}），{ly} {fmt(base)} 万元（{_where(before[1] if before else '', prev.file_name, ly)}），"
                        f"增加 {fmt(now[0] - base)} 万元。请说明增加的原因，或按“只减不增”的要求调整。",
                        this_year=now[0], last_year=base, this_cell=now[1], last_cell=before[1] if before else "")
        for key, (label, stated, cell) in sorted(dep.priors.items()):
            actual = prev.current.get(key)
            if actual is None:
                continue
            if abs(stated - actual[1]) > _slack(dep, prev):
                finding("Y04", dep.name,
                        f"{ty}“上年数与原因”中{label}的上年预算数为 {fmt(stated)} 万元（{cell}），"
                        f"而{ly}报送的工作簿中为 {fmt(actual[1])} 万元（{_where(actual[2], prev.file_name, ly)}），"
                        f"相差 {fmt(stated - actual[1])} 万元。请按{ly}批复的预算数填写上年预算数。",
                        this_year=stated, last_year=actual[1], this_cell=cell, last_cell=actual[2])
    matched = {id(p) for p in pairs.values()}
    for prev in last:
        if id(prev) in matched:
            continue
        why = "今年未报送" if any(squash(prev.name) == squash(m) for m in missing) else "今年没有该单位的报送（按单位编码和名称均未找到）"
        finding("Y05", prev.name,
                f"{prev.name}（{prev.code or '无单位编码'}）{ly}报送了部门预算（{prev.file_name}），{why}。"
                "请核实该单位是否撤并、更名，或催报。",
                last_cell=prev.file_name)
    import pandas as pd

    frame = pd.DataFrame(rows, columns=["单位名称", "上年单位名称", "项目", f"{ty}（万元；项目数为个）", f"{ly}（万元；项目数为个）", "增减额", "增减率"])
    return frame, findings
