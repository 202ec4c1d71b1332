"""Who has submitted, whose workbook is wrong, and the county totals.

Everything here reads the database; the consolidated tables are pandas
group-bys over the line items of each department's latest valid version
(通过 or 有警告). Amounts are Decimal objects in the frames (summed exactly)
and reported in 万元. With a roster, the county totals and the comparison
cover the roster's units only; units not on it are listed separately.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from decimal import Decimal
from pathlib import Path

import pandas as pd

from ..records import dataclass, field
from ..textnorm import squash
from .roster import Member

VALID = ("通过", "有警告")
STATES = ("通过", "有警告", "有错误", "无法读取", "未报送")
STATUS_FILL = {"通过": "C6EFCE", "有警告": "FFEB9C", "有错误": "FFC7CE", "无法读取": "F8CBAD", "未报送": "D9D9D9"}
WAN = Decimal(10000)
# China keeps UTC+8 all year (no daylight saving since 1991): Asia/Shanghai without a tz database
SHANGHAI = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")
SEVERITY_ORDER = {"错误": 0, "警告": 1, "提示": 2}
STATUS_COLUMNS = ["单位名称", "单位编码", "状态", "错误", "警告", "提示", "收支总计（万元）", "最新版本", "报送时间", "文件", "汇总使用版本"]


def display_width(text: str) -> int:
    """Excel column width units: a Chinese character takes two."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in str(text))


def text_lines(text: str, width: int) -> int:
    """Lines a wrapped text takes in a column of ``width`` (row heights are not fitted on opening everywhere)."""
    return max(1, -(-display_width(text) // max(1, width - 2)))


class PreviousError(ValueError):
    """Last year's database cannot be used; the message is for the user."""


@dataclass(frozen=True)
class Bureau:
    status: pd.DataFrame  # one row per department (the roster's, when there is one)
    problems: pd.DataFrame  # problems with the submissions themselves
    findings: pd.DataFrame  # every finding of every latest version
    used: pd.DataFrame  # the versions counted in the totals
    totals: dict[str, pd.DataFrame]  # consolidated tables, 万元
    off_roster: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=STATUS_COLUMNS))
    grouped: pd.DataFrame = field(default_factory=pd.DataFrame)  # findings: one row per department and rule
    comparison: pd.DataFrame = field(default_factory=pd.DataFrame)  # departments side by side
    comparison_total: tuple = ()
    latest: pd.DataFrame = field(default_factory=pd.DataFrame)  # submissions rows: each department's latest readable version
    roster: tuple[Member, ...] = ()
    year: int | None = None
    previous_year: int | None = None
    yoy: pd.DataFrame | None = None  # this year against last year, per department and figure
    bureau_findings: tuple = ()  # compare.BureauFinding (Y…)

    def counts(self) -> dict[str, int]:
        counts = self.status["状态"].value_counts().to_dict()
        return {k: int(counts.get(k, 0)) for k in STATES}

    @property
    def unreadable_files(self) -> int:
        return int((self.problems["问题"] == "无法读取").sum()) if len(self.problems) else 0

    def summary_line(self) -> str:
        """The counts the sheets show: 报送状态 rows by 状态, 名单外单位 rows, 报送问题 rows of 无法读取."""
        counts = self.counts()
        who = f"名单 {len(self.status)} 个单位" if self.roster else f"{len(self.status)} 个单位"
        parts = [f"各单位状态（{who}）：" + "，".join(f"{k} {v} 个" for k, v in counts.items())]
        if self.roster:
            parts.append(f"名单外单位 {len(self.off_roster)} 个（不计入汇总）")
        parts.append(f"无法读取的文件 {self.unreadable_files} 个（见“报送问题”）")
        return "；".join(parts)


def _frame(conn: sqlite3.Connection, sql: str, params=()) -> pd.DataFrame:
    cur = conn.execute(sql, params)
    columns = [c[0] for c in cur.description]
    return pd.DataFrame(cur.fetchall(), columns=columns)


def _wan(amount: str, unit: str) -> Decimal:
    value = Decimal(amount)
    return value / WAN if unit == "元" else value


def local_time(iso: str | None) -> dt.datetime | None:
    """A stored UTC time as Beijing time, without tzinfo (Excel dates have none)."""
    if not iso:
        return None
    moment = dt.datetime.fromisoformat(iso)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(SHANGHAI).replace(tzinfo=None)


def analyse(db: str | Path, roster: list[Member] | None = None, year: int | None = None, previous: str | Path | None = None) -> Bureau:
    roster = list(roster or [])
    from ..paths import database_uri

    conn = sqlite3.connect(database_uri(db, "rw"), uri=True)
    try:
        subs = _frame(conn, "SELECT * FROM submissions ORDER BY id")
        subs["department"] = _roster_names(subs, roster)
        readable = subs[subs.readable == 1]
        if year is None and len(readable):
            year = int(readable.year.mode().iloc[0]) if readable.year.notna().any() else None
        if year is not None:  # a workbook of another year is reported (年度不符), never this year's status
            readable = readable[(readable.year == year) | readable.year.isna()]
        latest = readable[readable.department != ""].groupby(["department"], sort=False).tail(1)
        valid = readable[readable.status.isin(VALID)].groupby(["department"], sort=False).tail(1)
        names = [m.name for m in roster]
        if roster:
            valid = valid[valid.department.isin(names)]
        broken = _unreadable_files(conn, subs, roster)
        unreadable = broken[broken.department != ""].groupby("department").tail(1)
        status = _status(names or list(dict.fromkeys(latest.department)), latest, valid, unreadable, roster)
        off = [d for d in latest.department if d not in names] if roster else []
        off_roster = _status(off, latest, valid, unreadable, roster)
        template = dict(conn.execute("SELECT submission_id, COUNT(*) FROM findings WHERE code IN ('P01', 'P02', 'P03') GROUP BY submission_id").fetchall())
        problems = _problems(subs, roster, year, template, broken)
        ids = tuple(int(i) for i in valid.id) or (-1,)
        marks = ",".join("?" * len(ids))
        items = _frame(conn, f"SELECT l.*, s.department, s.unit FROM line_items l JOIN submissions s ON s.id = l.submission_id WHERE l.submission_id IN ({marks})", ids)
        items["department"] = items.submission_id.map(dict(zip(subs.id, subs.department)))
        latest_ids = tuple(int(i) for i in latest.id) or (-1,)
        findings = _frame(
            conn,
            f"SELECT f.submission_id AS sid, s.version AS 版本, f.severity AS 级别, f.code AS 代码, f.title AS 规则, f.cells AS 位置, f.message AS 说明 "
            f"FROM findings f JOIN submissions s ON s.id = f.submission_id WHERE f.submission_id IN ({','.join('?' * len(latest_ids))}) "
            "ORDER BY f.rowid",
            latest_ids,
        )
    finally:
        conn.close()
    findings.insert(0, "单位名称", findings.pop("sid").map(dict(zip(subs.id, subs.department))))
    findings = findings.assign(_rank=findings["级别"].map(SEVERITY_ORDER)).sort_values(["单位名称", "_rank", "代码"], kind="stable").drop(columns="_rank").reset_index(drop=True)
    used = valid[["department", "version", "file_name", "received_at", "status"]].rename(
        columns={"department": "单位名称", "version": "汇总使用版本", "file_name": "文件", "received_at": "报送时间", "status": "状态"}
    )
    used["报送时间"] = used["报送时间"].map(local_time).astype(object)

    from .compare import comparison, departments, year_over_year

    chosen = departments(db, valid)
    frame, total = comparison(chosen)
    yoy, bureau_findings, previous_year = None, (), None
    if previous is not None:
        last, previous_year = _previous(previous)
        missing = [r for r, s in zip(status["单位名称"], status["状态"]) if s in ("未报送", "无法读取")]
        yoy, found = year_over_year(departments(db, latest), last, missing, year, previous_year)
        bureau_findings = tuple(found)
    return Bureau(
        status, problems, findings, used.reset_index(drop=True), consolidate(items),
        off_roster, group_findings(findings), frame, total, latest.reset_index(drop=True), tuple(roster), year,
        previous_year, yoy, bureau_findings,
    )


def _previous(db: str | Path):
    """Last year's departments (each one's latest readable version) from last year's database."""
    from .compare import departments

    path = Path(db)
    if not path.is_file():
        raise FileNotFoundError(2, "no such file", str(path))
    from ..paths import database_uri

    conn = sqlite3.connect(database_uri(path, "ro"), uri=True)
    try:
        subs = _frame(conn, "SELECT * FROM submissions ORDER BY id")
    except sqlite3.DatabaseError as exc:
        raise PreviousError(f"上年数据库 {path.name} 无法读取（{exc}）：请指定上一年度 budgetxl collect 生成的 .db 文件。") from None
    finally:
        conn.close()
    readable = subs[(subs.readable == 1) & (subs.department != "")]
    latest = readable.groupby("department", sort=False).tail(1)
    year = int(readable.year.mode().iloc[0]) if len(readable) and readable.year.notna().any() else None
    return departments(path, latest), year


def _unreadable_files(conn: sqlite3.Connection, subs: pd.DataFrame, roster: list[Member]) -> pd.DataFrame:
    """Every unreadable file received, one row a file: the same broken content sent
    under two names (two empty files, say) is stored once but counted twice."""
    columns = ["file_name", "received_at", "error", "sha256"]
    has_files = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'received_files'").fetchone()
    files = _frame(
        conn,
        "SELECT r.file_name, s.received_at, s.error, s.sha256, s.unit_code, s.readable, s.department FROM received_files r "
        "JOIN submissions s ON s.sha256 = r.sha256 WHERE s.readable = 0 ORDER BY s.id, r.rowid",
    ) if has_files else pd.DataFrame()
    stored = subs[subs.readable == 0]
    missing = stored[~stored.sha256.isin(set(files.sha256))] if len(files) else stored  # databases from before received_files
    both = pd.concat([files, missing[[*columns, "unit_code", "readable", "department"]]], ignore_index=True) if len(files) else missing.copy()
    if both.empty:
        return pd.DataFrame(columns=[*columns, "department"])
    both = both.assign(department=_roster_names(both.assign(department=""), roster) if roster else "")
    return both[[*columns, "department"]].reset_index(drop=True)


def _roster_names(subs: pd.DataFrame, roster: list[Member]) -> list[str]:
    """Each submission's department as the roster names it: by 单位编码 when both
    have one (a department that renamed itself is still itself), else by name.
    An unreadable file has no department; it is attributed to the one roster
    unit whose name its file name contains, if exactly one does."""
    if not roster:
        return list(subs.department)
    by_code = {m.code: m.name for m in roster if m.code}
    by_name = {squash(m.name): m.name for m in roster}
    out = []
    for name, code, readable, file_name in zip(subs.department, subs.unit_code, subs.readable, subs.file_name):
        if not readable:
            stem = squash(Path(file_name).stem)
            hits = [n for k, n in by_name.items() if k and k in stem]
            hits = [n for n in hits if not any(n != o and squash(n) in squash(o) for o in hits)]  # the longest name wins
            out.append(hits[0] if len(hits) == 1 else "")
            continue
        out.append(by_code.get(code) if code and code in by_code else by_name.get(squash(name), name))
    return out


def _status(names, latest, valid, unreadable, roster) -> pd.DataFrame:
    members = {m.name: m for m in roster}
    deadlines = any(m.deadline for m in roster)
    rows = []
    for name in names:
        mine = latest[latest.department == name]
        used = valid[valid.department == name]
        m = members.get(name)
        row = {c: None for c in STATUS_COLUMNS}
        row.update({"单位名称": name, "单位编码": m.code if m else ""})
        if mine.empty:
            bad = unreadable[unreadable.department == name]
            if bad.empty:
                row.update({"状态": "未报送"})
            else:
                s = bad.iloc[-1]
                row.update({"状态": "无法读取", "报送时间": local_time(s.received_at), "文件": s.file_name})
        else:
            s = mine.iloc[-1]
            row.update({
                "单位编码": (m.code if m else "") or s.unit_code, "状态": s.status,
                "错误": int(s.errors), "警告": int(s.warnings), "提示": int(s.infos),
                "收支总计（万元）": _wan(s.total, s.unit) if s.total else None, "最新版本": int(s.version),
                "报送时间": local_time(s.received_at), "文件": s.file_name,
                "汇总使用版本": int(used.iloc[-1].version) if not used.empty else None,
            })
        if deadlines:
            row["截止日期"] = m.deadline if m else None
        rows.append(row)
    columns = [*STATUS_COLUMNS, *(["截止日期"] if deadlines else [])]
    return pd.DataFrame(rows, columns=columns).astype(object)


def group_findings(findings: pd.DataFrame) -> pd.DataFrame:
    """One row per department and rule: how many, where the first is, what it says."""
    columns = ["单位名称", "版本", "级别", "代码", "规则", "个数", "首个位置", "说明（第一个）"]
    if findings.empty:
        return pd.DataFrame(columns=columns)
    keys = ["单位名称", "版本", "级别", "代码", "规则"]
    grouped = findings.groupby(keys, sort=False).agg(个数=("说明", "size"), 首个位置=("位置", "first"), 说明=("说明", "first")).reset_index()
    grouped["首个位置"] = grouped["首个位置"].map(lambda s: s.split("；")[0] if s else "")
    return grouped.rename(columns={"说明": "说明（第一个）"})[columns]


def _problems(subs, roster, year, template_problems: dict[int, int], broken: pd.DataFrame) -> pd.DataFrame:
    rows = [(b.file_name, b.department, "无法读取", b.error) for b in broken.itertuples()]
    names = {squash(m.name) for m in roster} if roster else None
    for s in subs.itertuples():
        if not s.readable:
            continue
        if not s.department:
            rows.append((s.file_name, "", "没有单位名称", "单位信息中未填写单位名称，无法归属到单位。"))
        if year is not None and s.year is not None and not pd.isna(s.year) and int(s.year) != year:
            rows.append((s.file_name, s.department, "年度不符", f"工作簿年度为 {int(s.year)}，本次汇总为 {year} 年。"))
        if names is not None and s.department and squash(s.department) not in names:
            rows.append((s.file_name, s.department, "不在名单中", "单位名称不在报送名单中，不计入汇总：请核对名称，或把该单位加入名单。"))
        if template_problems.get(int(s.id)):
            rows.append((s.file_name, s.department, "不是标准模板", f"缺少或改动了标准模板的工作表/表头（{template_problems[int(s.id)]} 处），可能使用了其他年度或地区的模板。请使用当年标准模板。"))
    readable = subs[(subs.readable == 1) & (subs.department != "")]
    if year is not None:
        readable = readable[(readable.year == year) | readable.year.isna()]
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
