"""Feedback to every department: one file a clerk can send as is.

For each department's latest version the bureau writes
``<单位名称>_校验反馈.xlsx``: a copy of the department's own workbook (the bytes
it sent, from the archive beside the database) annotated exactly as
``budgetxl check --annotate`` does (``pipeline.annotate``: the 校验结果 sheet,
the offending cells coloured), with a one-page 反馈说明 sheet in front: 状态,
错误/警告/提示 counts, what to fix first, the deadline from the roster, and the
bureau's own findings (Y…) when last year's database was given.

A department whose file could not be read gets the 反馈说明 alone, with the
reason. Files whose content would not change (same submission, same summary)
are not rewritten: a manifest in the folder (``.budgetxl-feedback.json``)
records what each file was made from.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import zipfile
from pathlib import Path

import openpyxl
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

from .. import pipeline
from ..grid import WorkbookError
from ..io_atomic import atomic_path, atomic_save, atomic_write_text
from ..paths import safe_name
from ..records import dataclass, field
from ..spec import Spec
from ..xlsx_writer import set_text
from . import archive
from .status import SHANGHAI, STATUS_FILL, Bureau, local_time, text_lines

SUFFIX = "_校验反馈.xlsx"
SUMMARY_SHEET = "反馈说明"
MANIFEST = ".budgetxl-feedback.json"
FIRST = 12  # rule groups listed under 请优先处理
FORMAT = 1  # bump when the feedback file's layout changes: every file is rewritten once

NEXT_STEP = {
    "有错误": "请先改正下列“错误”（必须改正），再逐项核实“警告”，改正后重新报送。每个问题的单元格见本文件“校验结果”工作表（点击“位置”可跳转，问题单元格已标色并加批注）。",
    "有警告": "没有“错误”。请逐项核实下列“警告”：确实无误的，在“校验结果”工作表“核实”列选择“已核实”并写明理由；需要修改的，改正后重新报送。",
    "通过": "校验通过，没有错误和警告，无需修改。",
    "无法读取": "财政局无法读取报送的文件，请按下面的原因处理后重新报送。",
}


@dataclass
class FeedbackRun:
    folder: Path
    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    missing: list[tuple[str, str]] = field(default_factory=list)  # (department, why no file)
    zip: Path | None = None


def _version() -> str:
    """budgetxl's version: another version may check differently, so its feedback is rewritten."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("budgetxl")
    except PackageNotFoundError:
        return ""


def _key(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False, default=str).encode()).hexdigest()


def _names(departments: list[str]) -> dict[str, str]:
    """File name per department; two departments never share one."""
    out, used = {}, set()
    for dep in departments:
        base = safe_name(dep, 60)
        name, n = base + SUFFIX, 2
        while name in used:
            name, n = f"{base}_{n}{SUFFIX}", n + 1
        used.add(name)
        out[dep] = name
    return out


def _summary(bureau: Bureau, dep: str, sub, deadline) -> dict:
    """What the 反馈说明 sheet says, as plain data (its hash decides rewriting)."""
    status = sub.status if sub is not None else "无法读取"
    facts = [("单位名称", dep)]
    if sub is not None:
        received = local_time(sub.received_at)
        facts.append(("报送文件", f"{sub.file_name}（第 {int(sub.version)} 版，财政局收到时间 {received:%Y-%m-%d %H:%M}）"))
    facts.append(("状态", status))
    if sub is not None and sub.readable:
        facts += [("错误", f"{int(sub.errors)} 个"), ("警告", f"{int(sub.warnings)} 个"), ("提示", f"{int(sub.infos)} 个")]
    if deadline:
        facts.append(("截止日期", f"{deadline.year}年{deadline.month}月{deadline.day}日"))
    facts.append(("下一步", NEXT_STEP.get(status, "")))
    if sub is not None and not sub.readable:
        facts.append(("原因", sub.error))
    first = []
    grouped = bureau.grouped[(bureau.grouped["单位名称"] == dep) & (bureau.grouped["级别"] != "提示")] if len(bureau.grouped) else bureau.grouped
    for row in grouped.itertuples(index=False):
        first.append((row[2], row[3], row[4], int(row[5]), row[6], row[7]))
    mine = [f for f in bureau.bureau_findings if f.department == dep]
    return {
        "title": f"{bureau.year or ''}年{dep}部门预算公开 校验反馈",
        "facts": facts,
        "first": first[:FIRST],
        "more": max(0, len(first) - FIRST),
        "bureau": [(f.code, f.severity, f.title, f.message) for f in mine],
        "previous": bureau.previous_year,
    }


_THIN = Side(style="thin", color="A6A6A6")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


def summary_sheet(wb: openpyxl.Workbook, content: dict, spec: Spec) -> None:
    """The one-page 反馈说明 sheet, first in the workbook, printed on one A4 page."""
    if SUMMARY_SHEET in wb.sheetnames:
        del wb[SUMMARY_SHEET]
    ws = wb.create_sheet(SUMMARY_SHEET, 0)
    widths = {"A": 10, "B": 8, "C": 26, "D": 7, "E": 60}
    for col, w in widths.items():
        ws.column_dimensions[col].width = w
    wrap = Alignment(wrap_text=True, vertical="top")
    ws.merge_cells("A1:E1")
    set_text(ws["A1"], content["title"])
    ws["A1"].font = Font(bold=True, size=14)
    ws["A1"].alignment = Alignment(horizontal="center")
    r = 3
    for label, value in content["facts"]:
        set_text(ws.cell(r, 1), label)
        ws.cell(r, 1).font = Font(bold=True)
        ws.merge_cells(start_row=r, start_column=2, end_row=r, end_column=5)
        set_text(ws.cell(r, 2), value)
        ws.cell(r, 2).alignment = wrap
        if label == "状态" and value in STATUS_FILL:
            ws.cell(r, 2).fill = PatternFill("solid", fgColor=STATUS_FILL[value])
            ws.cell(r, 2).font = Font(bold=True)
        ws.row_dimensions[r].height = 15 * text_lines(value, sum(widths[c] for c in "BCDE"))
        r += 1

    def table(title: str, header: tuple[str, ...], rows: list[tuple], fills: dict[int, str]) -> None:
        nonlocal r
        r += 1
        set_text(ws.cell(r, 1), title)
        ws.cell(r, 1).font = Font(bold=True, size=12)
        r += 1
        for c, h in enumerate(header, start=1):
            cell = ws.cell(r, c)
            set_text(cell, h)
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor=spec.color("header") or "DDEBF7")
            cell.border = _BOX
        r += 1
        for i, row in enumerate(rows):
            for c, v in enumerate(row, start=1):
                cell = ws.cell(r, c)
                set_text(cell, v)
                cell.alignment = wrap
                cell.border = _BOX
            if i in fills:
                ws.cell(r, 1).fill = PatternFill("solid", fgColor=fills[i])
            ws.row_dimensions[r].height = 15 * max(text_lines(row[-1], widths["E"]), text_lines(row[2], widths["C"]))
            r += 1

    if content["first"]:
        rows = [(sev, code, title, n, message if not where or where in message else f"{where}：{message}")
                for sev, code, title, n, where, message in content["first"]]
        fills = {i: spec.color("error" if row[0] == "错误" else "warning") or "FFEB9C" for i, row in enumerate(rows)}
        table("请优先处理（按级别排列，每条规则一行；全部问题见“校验结果”工作表）", ("级别", "代码", "问题", "个数", "说明（同类问题的第一个）"), rows, fills)
        if content["more"]:
            set_text(ws.cell(r, 1), f"另有 {content['more']} 条规则的问题，见“校验结果”工作表。")
            r += 1
    if content["bureau"]:
        rows = [(sev, code, title, "", message) for code, sev, title, message in content["bureau"]]
        table(f"财政局与{content['previous'] or '上'}年报送数据核对", ("级别", "代码", "问题", "", "说明（本年数与上年数）"), rows,
              {i: spec.color("warning") or "FFEB9C" for i in range(len(rows))})
    ws.page_setup.orientation = "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 1
    ws.print_area = f"A1:E{max(r, 3)}"
    wb.active = 0
    for sheet in wb.worksheets:
        sheet.sheet_view.tabSelected = sheet is ws


def _load(path: Path) -> dict:
    try:
        data = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _write_one(source: Path | None, target: Path, content: dict, spec: Spec) -> Path:
    """One department's file: its workbook annotated exactly as ``check --annotate`` does, plus 反馈说明."""

    def finish(wb) -> None:
        summary_sheet(wb, content, spec)

    if source is None:  # the file could not be read: the summary alone
        wb = openpyxl.Workbook()
        wb.remove(wb.active)
        finish(wb)
        return atomic_save(wb, target)
    reading = pipeline.read(source, spec)
    report = pipeline.check(reading, spec)
    return pipeline.annotate(reading, report, spec, source, target, finish)


def _ignore_ctrl_c() -> None:
    """Pool worker initializer: Ctrl-C is the parent's to handle (the workers printed
    a KeyboardInterrupt traceback each)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def write_feedback(bureau: Bureau, db: str | Path, folder: str | Path, spec: Spec, make_zip: bool = False,
                   progress=None, workers: int = 1) -> FeedbackRun:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    run = FeedbackRun(folder)
    manifest = _load(folder)
    latest = {row.department: row for row in bureau.latest.itertuples(index=False)}
    unreadable = [name for name, state in zip(bureau.status["单位名称"], bureau.status["状态"]) if state == "无法读取"]
    deadlines = {m.name: m.deadline for m in bureau.roster}
    names = _names([*latest, *unreadable])
    failed = _unreadable_rows(db, unreadable, bureau)
    jobs = []
    for dep, name in names.items():
        target = folder / name
        sub = latest.get(dep) or failed.get(dep)
        content = _summary(bureau, dep, sub, deadlines.get(dep))
        source = archive.find(db, sub.sha256, sub.file_path) if sub.readable else None
        if sub.readable and source is None:
            run.missing.append((dep, f"{sub.file_name} 已不在原位置，数据库旁也没有副本（{archive.folder(db).name}）"))
            continue
        key = _key(FORMAT, _version(), spec.id, spec.colors, sub.sha256, content)
        if manifest.get(name) == key and target.is_file():
            run.unchanged.append(target)
            continue
        jobs.append((dep, name, key, source, target, content))

    def done(dep, name, key, target) -> None:
        manifest[name] = key
        run.written.append(target)
        if progress:
            progress(dep, target)

    try:
        if workers > 1 and len(jobs) > 1:
            from concurrent.futures import ProcessPoolExecutor

            pool = ProcessPoolExecutor(max_workers=workers, initializer=_ignore_ctrl_c)
            try:
                futures = [(job, pool.submit(_write_one, job[3], job[4], job[5], spec)) for job in jobs]
                for (dep, name, key, *_), future in futures:
                    try:
                        done(dep, name, key, future.result())
                    except WorkbookError as exc:  # this department's file cannot be written on: a line, not a stop
                        run.missing.append((dep, exc.message))
            except BaseException:  # Ctrl-C: the files not begun are not written (they went on, ~30 s)
                pool.shutdown(wait=True, cancel_futures=True)
                raise
            pool.shutdown()
        else:
            for dep, name, key, source, target, content in jobs:
                try:
                    done(dep, name, key, _write_one(source, target, content, spec))
                except WorkbookError as exc:
                    run.missing.append((dep, exc.message))
    finally:  # what was written stays recorded, even when a later file fails
        atomic_write_text(folder / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True))
    if make_zip and run.written:
        stamp = dt.datetime.now(SHANGHAI).strftime("%Y%m%d_%H%M%S")
        run.zip = folder / f"校验反馈_{stamp}.zip"
        with atomic_path(run.zip) as tmp:
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
                for p in run.written:
                    z.write(p, p.name)
    return run


def _unreadable_rows(db, departments: list[str], bureau: Bureau) -> dict:
    """The latest unreadable submission of each department that has nothing readable."""
    if not departments:
        return {}
    import sqlite3

    from .status import _frame, _roster_names

    from ..paths import database_uri

    conn = sqlite3.connect(database_uri(db, "ro"), uri=True)
    try:
        subs = _frame(conn, "SELECT * FROM submissions WHERE readable = 0 ORDER BY id")
    finally:
        conn.close()
    subs["department"] = _roster_names(subs, list(bureau.roster))
    return {row.department: row for row in subs.itertuples(index=False) if row.department in departments}
