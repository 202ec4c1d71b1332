"""The finance bureau's outputs: feedback per department, comparisons across
departments and years, the status workbook (printed through real LibreOffice).

One inbox as a bureau receives it: a roster of UNITS units (30 is the bureau's case:
BUDGETXL_BUREAU_UNITS=30; the default suite uses 12 to stay fast) with 单位编码 and a
截止日期: UNITS-6 clean submissions, 3 with 错误, one unit that sent nothing, two
whose files are broken (named after them), two more broken files nobody can be
told apart by, one unit not on the roster. Last year's database is built from
the same departments with altered figures.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import subprocess
import zipfile
from decimal import Decimal as D
from pathlib import Path

import openpyxl
import pytest

from budgetxl import pipeline
from budgetxl.cli import main
from budgetxl.collect import archive, collect
from budgetxl.collect.compare import item_key, statement_rows
from budgetxl.collect.feedback import SUFFIX, SUMMARY_SHEET, write_feedback
from budgetxl.collect.roster import read_roster
from budgetxl.collect.status import analyse, local_time
from budgetxl.comparables import current_items
from budgetxl.model import CellRef
from budgetxl.spec import load_spec

from .builders import FIXED_NAME, edited_copy, variant
from .conftest import EXAMPLE

SPEC = load_spec()
NAME = "阿克陶县社会保险中心"
CODE = "UNITCODE"  # placeholder in the base workbooks, replaced per department
T10 = SPEC.table("T10").sheet
WRONG_NAME = {"人力资源和社会保障管理事务": "人力资源和社会管理事务"}  # the reference's 错误, put back
DEADLINE = dt.date(2026, 1, 20)
UNITS = max(12, int(os.environ.get("BUDGETXL_BUREAU_UNITS", "12")))
GOOD = UNITS - 6  # clean submissions; then 3 with 错误, one missing, two broken
ERROR_UNIT, MISSING_UNIT, BROKEN_UNIT, BROKEN_UNIT2 = (f"第{i:02d}单位" for i in (GOOD + 1, GOOD + 4, GOOD + 5, GOOD + 6))


def _set(wb, ref: CellRef, value) -> None:
    wb[ref.sheet].cell(ref.row, ref.col).value = value


def _bases(tmp: Path) -> dict[str, Path]:
    """Workbooks of two years that agree: last year's figures are this year's 上年预算数.
    ``this``/``last``: consistent; ``three_this``/``three_last``: “三公” grew from 3.00 to 3.60
    (stated correctly); ``misstated``: this year says last year's “三公” total was 3.80 (it was 3.60)."""
    fixed = variant(EXAMPLE, tmp / "fixed.xlsx", FIXED_NAME)
    d = pipeline.read(fixed, SPEC).disclosure
    current = {item_key(i.category, i.code, i.name): i for i in current_items(d, SPEC)}
    priors = {item_key(r.text("类别"), r.text("编码"), r.text("名称")): r.amounts["上年预算数"].ref for r in d.lists["priors"]}
    reasons = {item_key(r.text("类别"), r.text("编码"), r.text("名称")): r.fields["增减原因"].ref for r in d.lists["priors"]}
    code_ref = d.info.fields["单位编码"].ref if "单位编码" in d.info.fields else CellRef("单位信息", 7, 2)
    year_ref = d.info.fields["年度"].ref
    running = current[("机关运行经费", "机关运行经费")].current_refs[0]
    three = [current[("三公经费", "合计")].current_refs[0], current[("三公经费", "公务用车运行维护费")].current_refs[0]]
    three.append(CellRef(T10, three[1].row - 2, three[1].col))  # the 公务用车购置及运行维护费（小计） row

    def this_year(overrides: dict) -> callable:
        def edit(wb):
            _set(wb, code_ref, CODE)
            for key, ref in priors.items():
                item = current.get(key)
                _set(wb, ref, overrides.get(key, item.current or D(0) if item else D(0)))
                if key in overrides:  # a change states its reason (else F01, an 错误)
                    _set(wb, reasons[key], "公务用车运行维护费随车辆使用情况调整。" if key[1] != "合计" else "公务用车运行维护费增加。")
        return edit

    def last_year(three_value=None):
        def edit(wb):
            _set(wb, code_ref, CODE)
            _set(wb, year_ref, 2025)
            if three_value is not None:
                for ref in three:
                    _set(wb, ref, three_value)
                _set(wb, running, D("9.00"))
        return edit

    lower = {("三公经费", "合计"): D("3.00"), ("三公经费", "公务用车运行维护费"): D("3.00"), ("机关运行经费", "机关运行经费"): D("9.00")}
    return {
        "this": edited_copy(fixed, tmp / "this.xlsx", this_year({})),
        "last": edited_copy(fixed, tmp / "last.xlsx", last_year()),
        "three_this": edited_copy(fixed, tmp / "three_this.xlsx", this_year(lower)),
        "three_last": edited_copy(fixed, tmp / "three_last.xlsx", last_year(D("3.00"))),
        "misstated": edited_copy(fixed, tmp / "misstated.xlsx", this_year({("三公经费", "合计"): D("3.80")})),
    }


def _dept(base: Path, target: Path, name: str, code: str, more: dict | None = None) -> Path:
    return variant(base, target, {NAME: name, CODE: code, **(more or {})})


def _roster_file(path: Path, members: list[tuple[str, str]]) -> Path:
    wb = openpyxl.Workbook()
    wb.active.append(["单位名称", "单位编码", "截止日期"])
    for name, code in members:
        wb.active.append([name, code, DEADLINE])
    wb.save(path)
    return path


@pytest.fixture(scope="module")
def bureau_case(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bureau16")
    bases = _bases(tmp)
    box = tmp / "收件箱"
    box.mkdir()
    roster = [(f"第{i:02d}单位", f"D{i:02d}") for i in range(1, UNITS + 1)]
    for name, code in roster[:GOOD]:
        base = {"第01单位": "three_this", "第02单位": "misstated"}.get(name, "this")
        _dept(bases[base], box / f"{name}.xlsx", name, code)
    for name, code in roster[GOOD:GOOD + 3]:
        _dept(bases["this"], box / f"{name}.xlsx", name, code, WRONG_NAME)
    # MISSING_UNIT sends nothing; the two BROKEN units send broken files named after them
    (box / f"{BROKEN_UNIT}.xlsx").write_bytes(b"PK\x03\x04broken")
    (box / f"{BROKEN_UNIT2}预算公开.xlsx").write_bytes(b"")
    (box / "扫描件.xlsx").write_bytes(b"not a workbook")
    (box / "新建 Microsoft Excel 工作表.xlsx").write_bytes(b"")
    _dept(bases["this"], box / "名单外单位.xlsx", "名单外单位", "X99")
    roster_path = _roster_file(tmp / "名单.xlsx", roster)
    db = tmp / "2026.db"
    collect(sorted(box.iterdir()), db, SPEC, workers=2)

    last_box = tmp / "上年"
    last_box.mkdir()
    for name, code in roster[:6] + roster[GOOD + 3:GOOD + 5]:
        base = "three_last" if name == "第01单位" else "last"
        shown = "第04单位（旧名）" if name == "第04单位" else name  # renamed since: matched by 单位编码
        _dept(bases[base], last_box / f"{name}.xlsx", shown, code)
    _dept(bases["last"], last_box / "已撤并单位.xlsx", "已撤并单位", "D77")
    last_db = tmp / "2025.db"
    collect(sorted(last_box.iterdir()), last_db, SPEC)
    return tmp, bases, box, roster_path, db, last_db


# ------------------------------------------------------------ status and totals


def test_summary_line_counts_equal_the_rows_of_the_sheets(bureau_case, capsys):
    tmp, _, _, roster, db, _ = bureau_case
    out = tmp / "状态.xlsx"
    assert main(["report", "--db", str(db), "--roster", str(roster), "-o", str(out)]) == 0
    line = capsys.readouterr().out.splitlines()[0]
    book = openpyxl.load_workbook(out)
    status = [r for r in book["报送状态"].iter_rows(min_row=2, values_only=True)]
    units, total = status[:-1], status[-1]
    assert total[0] == f"名单合计（{UNITS} 个单位）" and len(units) == UNITS
    counts = {s: sum(1 for r in units if r[2] == s) for s in ("通过", "有警告", "有错误", "无法读取", "未报送")}
    assert counts["有错误"] == 3 and counts["未报送"] == 1 and counts["无法读取"] == 2  # broken files named after their unit
    assert counts["通过"] + counts["有警告"] == GOOD
    for state, n in counts.items():
        assert f"{state} {n} 个" in line
    off = list(book["名单外单位"].iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in off] == ["名单外单位"] and "名单外单位 1 个" in line
    unreadable = [r for r in book["报送问题"].iter_rows(min_row=2, values_only=True) if r[2] == "无法读取"]
    assert len(unreadable) == 4 and "无法读取的文件 4 个" in line
    # blanks, not zeros, for a unit that sent nothing; real dates in Beijing time
    missing = next(r for r in units if r[0] == MISSING_UNIT)
    assert missing[3:10] == (None,) * 7
    row = next(r for r in book["报送状态"].iter_rows(min_row=2) if r[0].value == "第03单位")
    received = sqlite3.connect(db).execute("SELECT received_at FROM submissions WHERE department = '第03单位'").fetchone()[0]
    assert isinstance(row[8].value, dt.datetime) and abs(row[8].value - local_time(received)) < dt.timedelta(seconds=1)
    assert abs(row[8].value - dt.datetime.fromisoformat(received).replace(tzinfo=None) - dt.timedelta(hours=8)) < dt.timedelta(seconds=1)
    assert row[11].value == dt.datetime(2026, 1, 20)  # 截止日期 from the roster
    assert row[2].fill.fgColor.rgb.endswith(("C6EFCE", "FFEB9C"))
    error_row = next(r for r in book["报送状态"].iter_rows(min_row=2) if r[2].value == "有错误")
    assert error_row[2].fill.fgColor.rgb.endswith("FFC7CE")


def test_totals_cover_roster_units_only(bureau_case):
    tmp, _, _, roster, db, _ = bureau_case
    bureau = analyse(db, read_roster(roster), 2026)
    used = set(bureau.used["单位名称"])
    assert "名单外单位" not in used and len(used) == GOOD  # errors and the off-roster unit are not counted
    consolidated = bureau.totals["基本支出与项目支出"].iloc[0]
    frame, total = bureau.comparison, bureau.comparison_total
    columns = list(frame.columns)
    assert len(frame) == GOOD and set(frame["单位名称"]) == used
    assert total[columns.index("基本支出")] == consolidated["基本支出"]
    assert total[columns.index("项目支出")] == consolidated["项目支出"]
    three = bureau.totals["三公经费"].set_index("项目").loc["总计", "合计"]
    assert total[columns.index("三公经费")] == three == D("3.60") * GOOD
    # each department's row = its own workbook
    own = pipeline.read(next(p for p in (tmp / "收件箱").iterdir() if p.name == "第05单位.xlsx"), SPEC).disclosure
    row = frame.set_index("单位名称").loc["第05单位"]
    assert row["收支总计"] == own.table("T1").total_row("收入").value("预算数")
    assert row["人员经费"] == own.table("T6").total_row().value("人员经费")
    assert row["机关运行经费"] == own.forms["other"].amount("机关运行经费")
    assert row["项目数"] == 12 and row["占全部收支总计"] == (row["收支总计"] / total[columns.index("收支总计")]).quantize(D("0.0001"))


def test_status_workbook_prints_to_page_width_in_libreoffice_and_has_charts(bureau_case, tmp_path):
    tmp, _, _, roster, db, last_db = bureau_case
    out = tmp_path / "状态.xlsx"
    assert main(["report", "--db", str(db), "--roster", str(roster), "--previous", str(last_db), "-o", str(out)]) == 0
    book = openpyxl.load_workbook(out)
    for name in ("报送状态", "问题明细", "报送问题", "名单外单位", "单位对比（万元）", "上年对比", "跨年度核对", "图表"):
        ws = book[name]
        assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
    status = book["报送状态"]
    assert status.freeze_panes == "B2" and status.auto_filter.ref == f"A1:L{UNITS + 1}"  # the totals row stays out of sorting
    charts = book["图表"]._charts
    assert len(charts) == 2 and {c.tagname for c in charts} == {"barChart"}
    titles = ["".join(r.t for p in c.title.tx.rich.p for r in (p.r or [])) for c in charts]
    assert titles == ["报送进度（按状态）", "支出按功能分类（类，万元）"]
    assert [r[1] for r in charts_data(book)] == _status_counts(book)  # the chart's data = the status sheet
    # grouped problem list: one row per department and rule, with its count
    grouped = list(book["问题明细"].iter_rows(min_row=2, values_only=True))
    keys = [(r[0], r[3]) for r in grouped]
    assert len(keys) == len(set(keys)) and all(isinstance(r[5], int) and r[5] >= 1 for r in grouped)
    findings = sqlite3.connect(db).execute("SELECT COUNT(*) FROM findings f JOIN submissions s ON s.id = f.submission_id WHERE s.department = ?", (ERROR_UNIT,)).fetchone()[0]
    assert sum(r[5] for r in grouped if r[0] == ERROR_UNIT) == findings
    pdf = _pdf(out, tmp_path)
    pages = _pages(pdf)
    assert pages and all(size == (842, 595) for size, _ in pages)  # A4 landscape, every page
    headers = {ws.title: [c.value for c in ws[1] if c.value] for ws in book.worksheets if ws.title != "图表"}
    for _, text in pages:  # fitted to the width: no page carries only the right-hand columns
        flat = text.replace(" ", "").replace("\n", "")
        if "报送进度" in flat or "功能分类（类）合计" in flat:
            continue
        assert any(h[0] in flat and h[-1][:2] in flat for h in headers.values()), text[:200]
    assert len(pages) < 60


def charts_data(book):
    ws = book["图表"]
    return [r for r in ws.iter_rows(min_row=2, max_row=6, values_only=True)]


def _status_counts(book):
    states = [r[2] for r in book["报送状态"].iter_rows(min_row=2, values_only=True)][:-1]
    return [states.count(s) for s in ("通过", "有警告", "有错误", "无法读取", "未报送")]


def _pdf(xlsx: Path, folder: Path) -> Path:
    profile = folder / "lo-profile"
    subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf", "--outdir", str(folder), str(xlsx)],
        check=True, capture_output=True, timeout=240,
    )
    return folder / (xlsx.stem + ".pdf")


def _pages(pdf: Path) -> list[tuple[tuple[int, int], str]]:
    info = subprocess.run(["pdfinfo", "-l", "999", str(pdf)], capture_output=True, text=True, check=True).stdout
    sizes = []
    for line in info.splitlines():
        if line.startswith("Page") and "size:" in line:
            w, h = line.split("size:")[1].split("pts")[0].split("x")
            sizes.append((round(float(w)), round(float(h))))
    out = []
    for i, size in enumerate(sizes, start=1):
        text = subprocess.run(["pdftotext", "-layout", "-f", str(i), "-l", str(i), str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        out.append((size, text))
    return out


# ------------------------------------------------------------ feedback


def _facts(ws) -> dict:
    """The 项目 | 内容 lines at the top of 反馈说明 (up to the first blank row)."""
    out = {}
    for label, value, *_ in ws.iter_rows(min_row=3, values_only=True):
        if not label:
            break
        out[label] = value
    return out


def _result_rows(path: Path) -> list[tuple]:
    ws = openpyxl.load_workbook(path)[SPEC.layout.result_sheet]
    return [tuple(c.value for c in row) for row in ws.iter_rows()]


@pytest.fixture(scope="module")
def feedback_case(bureau_case, tmp_path_factory):
    """The clerk's run: feedback for every department, zipped, through the command line."""
    tmp, _, _, roster, db, _ = bureau_case
    folder = tmp_path_factory.mktemp("feedback") / "反馈"
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["report", "--db", str(db), "--roster", str(roster), "--feedback", str(folder), "--feedback-zip", "-j", "2"])
    assert code == 0
    return folder, out.getvalue()


def test_feedback_one_file_per_department_equal_to_check_annotate(bureau_case, feedback_case, tmp_path):
    tmp, _, box, roster, db, _ = bureau_case
    folder, out = feedback_case
    files = sorted(p.name for p in folder.glob(f"*{SUFFIX}"))
    expected = [f"第{i:02d}单位{SUFFIX}" for i in range(1, UNITS + 1) if i != GOOD + 4] + [f"名单外单位{SUFFIX}"]
    assert files == sorted(expected)
    assert f"新写入 {UNITS} 个" in out
    zipped = next(folder.glob("校验反馈_*.zip"))
    assert sorted(zipfile.ZipFile(zipped).namelist()) == sorted(expected)
    from budgetxl.report import RESULT_HEADER, result_sheet

    for path in folder.glob(f"*{SUFFIX}"):  # every department: its 校验结果 is the check of the file it sent
        sent = box / path.name.replace(SUFFIX, ".xlsx")
        if path.name.startswith((BROKEN_UNIT, BROKEN_UNIT2)):
            continue  # the broken files: a summary only, below
        assert sent.exists()
        reading = pipeline.read(sent, SPEC)
        rows = [tuple(c.value for c in r) for r in openpyxl.load_workbook(path, read_only=True)[SPEC.layout.result_sheet].iter_rows()]
        expected_rows = [RESULT_HEADER, *result_sheet(pipeline.check(reading, SPEC), SPEC.layout.result_sheet).rows]
        assert [tuple("" if v is None else v for v in r) for r in rows] == [tuple("" if v is None else v for v in r) for r in expected_rows], path.name
    for name in ("第01单位", ERROR_UNIT, "名单外单位"):  # a clean one, one with 错误, one off the roster
        mine = folder / f"{name}{SUFFIX}"
        reference = tmp_path / f"{name}_check.xlsx"
        main(["check", str(box / f"{name}.xlsx"), "--annotate", str(reference)])
        assert _result_rows(mine) == _result_rows(reference)
        book = openpyxl.load_workbook(mine)
        assert book.sheetnames[0] == SUMMARY_SHEET and book.sheetnames[1] == SPEC.layout.result_sheet
        assert book.sheetnames[2:] == openpyxl.load_workbook(reference).sheetnames[1:]  # the department's own sheets
        ws = book[SUMMARY_SHEET]
        facts = _facts(ws)
        assert facts["单位名称"] == name and facts.get("截止日期") == ("2026年1月20日" if name != "名单外单位" else None)
        assert ws.page_setup.fitToHeight == 1 and ws.page_setup.fitToWidth == 1  # one page
    summary = openpyxl.load_workbook(folder / f"{ERROR_UNIT}{SUFFIX}")[SUMMARY_SHEET]
    values = [r for r in summary.iter_rows(values_only=True)]
    facts = _facts(summary)
    assert facts["状态"] == "有错误" and facts["错误"] == "4 个" and "先改正" in facts["下一步"]
    first = next(i for i, r in enumerate(values) if r[0] and str(r[0]).startswith("请优先处理"))
    assert values[first + 2][:2] == ("错误", "C12")  # what to fix first: the 错误, first
    broken = openpyxl.load_workbook(folder / f"{BROKEN_UNIT}{SUFFIX}")
    assert broken.sheetnames == [SUMMARY_SHEET]
    facts = _facts(broken[SUMMARY_SHEET])
    assert facts["状态"] == "无法读取" and "损坏" in facts["原因"]


def test_feedback_is_not_rewritten_when_nothing_changed_and_survives_a_cleaned_inbox(bureau_case, feedback_case, tmp_path):
    tmp, bases, box, roster, db, _ = bureau_case
    work = tmp_path / "b.db"
    shutil.copyfile(db, work)
    shutil.copytree(archive.folder(db), archive.folder(work))
    folder = tmp_path / "反馈"
    shutil.copytree(feedback_case[0], folder)
    roster_list = read_roster(roster)
    stamps = {p.name: p.stat().st_mtime_ns for p in folder.glob(f"*{SUFFIX}")}
    again = write_feedback(analyse(work, roster_list, 2026), work, folder, SPEC)
    assert again.written == [] and len(again.unchanged) == UNITS
    assert {p.name: p.stat().st_mtime_ns for p in folder.glob(f"*{SUFFIX}")} == stamps
    # 第03单位 sends a corrected version; the inbox is then emptied: only its file is rewritten, from the archive
    inbox = tmp_path / "新收件"
    inbox.mkdir()
    new = _dept(bases["this"], inbox / "第03单位（修改）.xlsx", "第03单位", "D03", {"阿克陶县": "阿克陶县 "})
    collect([new], work, SPEC)
    shutil.rmtree(inbox)
    third = write_feedback(analyse(work, roster_list, 2026), work, folder, SPEC)
    assert [p.name for p in third.written] == [f"第03单位{SUFFIX}"] and len(third.unchanged) == UNITS - 1 and not third.missing
    facts = _facts(openpyxl.load_workbook(folder / f"第03单位{SUFFIX}")[SUMMARY_SHEET])
    assert "第03单位（修改）.xlsx（第 2 版" in facts["报送文件"]


def test_feedback_names_stay_in_their_folder_and_a_lost_file_is_reported(tmp_path, capsys):
    box = tmp_path / "in"
    box.mkdir()
    sent = variant(EXAMPLE, box / "a.xlsx", {**FIXED_NAME, NAME: "../../逃逸/单位"})
    lost = variant(EXAMPLE, box / "b.xlsx", {**FIXED_NAME, NAME: "乙单位"})
    db = tmp_path / "b.db"
    collect([sent, lost], db, SPEC)
    sha = sqlite3.connect(db).execute("SELECT sha256 FROM submissions WHERE department = '乙单位'").fetchone()[0]
    archive.find(db, sha).unlink()  # neither the copy nor the original is left
    lost.unlink()
    folder = tmp_path / "反馈"
    assert main(["report", "--db", str(db), "--feedback", str(folder)]) == 0
    out = capsys.readouterr().out
    assert [p.parent for p in folder.rglob(f"*{SUFFIX}")] == [folder]
    assert "未能生成反馈  乙单位：b.xlsx 已不在原位置" in out


def test_archive_keeps_the_bytes_sent(bureau_case):
    _, _, box, _, db, _ = bureau_case
    for sha, path in sqlite3.connect(db).execute("SELECT sha256, file_path FROM submissions"):
        copy = archive.find(db, sha)
        assert copy is not None and copy.read_bytes() == Path(path).read_bytes()


# ------------------------------------------------------------ year over year


def test_previous_year_findings_name_both_values(bureau_case):
    tmp, _, _, roster, db, last_db = bureau_case
    bureau = analyse(db, read_roster(roster), 2026, last_db)
    found = {}
    for f in bureau.bureau_findings:
        found.setdefault(f.department, []).append(f)
    assert bureau.previous_year == 2025
    three = {f.code: f for f in found["第01单位"]}
    assert set(three) == {"Y01", "Y02", "Y03"}  # the total, the part that grew, 机关运行经费; 上年预算数 stated right
    assert (three["Y03"].this_year, three["Y03"].last_year) == (D("9.54"), D("9.00")) and "'其他事项'!B3" in three["Y03"].message
    assert (three["Y01"].this_year, three["Y01"].last_year) == (D("3.6"), D("3.00"))
    assert "3.60 万元" in three["Y01"].message and "3.00 万元" in three["Y01"].message and "增加 0.60 万元" in three["Y01"].message
    assert three["Y01"].this_cell == f"'{T10}'!B11" and "2025年 第01单位.xlsx" in three["Y01"].message
    assert "公务用车购置及运行维护费" in three["Y02"].message
    [misstated] = found["第02单位"]
    assert misstated.code == "Y04" and (misstated.this_year, misstated.last_year) == (D("3.80"), D("3.6"))
    assert "'上年数与原因'!D16" in misstated.message and f"'{T10}'!B11" in misstated.message
    assert "3.80 万元" in misstated.message and "3.60 万元" in misstated.message
    for unchanged in ("第03单位", "第04单位", "第05单位", "第06单位"):  # 第04单位 renamed: matched by 单位编码
        assert unchanged not in found
    gone = {f.department for f in bureau.bureau_findings if f.code == "Y05"}
    assert gone == {MISSING_UNIT, BROKEN_UNIT, "已撤并单位"}
    # the comparison sheet: this year against last year, per department and figure
    yoy = bureau.yoy.set_index(["单位名称", "项目"])
    assert yoy.loc[("第04单位", "收支总计"), "上年单位名称"] == "第04单位（旧名）"
    assert yoy.loc[("第01单位", "三公经费"), "增减额"] == D("0.60")
    assert yoy.loc[("第08单位", "")].iloc[0] == "（2025年数据库中没有该单位）"  # one line for a unit new this year


def test_a_year_in_yuan_against_a_year_in_wan_is_compared_to_the_rounding():
    from budgetxl.collect.compare import Department, year_over_year

    cell = f"'{T10}'!B11"
    last = Department("甲单位", "A1", 1, 1, "甲.xlsx", "元", {"三公经费": (D("35987") / 10000, cell)},
                      {("三公经费", "合计"): ("三公经费“合计”", D("35987") / 10000, cell)}, {})
    this = Department("甲单位", "A1", 2, 1, "甲.xlsx", "万元", {"三公经费": (D("3.60"), cell)}, {},
                      {("三公经费", "合计"): ("三公经费“合计”", D("3.60"), "'上年数与原因'!D16")})
    assert year_over_year([this], [last], [], 2026, 2025)[1] == []  # 35,987 元 is 3.60 万元 as printed
    more = Department(**{**this.__dict__, "figures": {"三公经费": (D("3.61"), cell)}})
    assert [f.code for f in year_over_year([more], [last], [], 2026, 2025)[1]] == ["Y01"]
    exact = Department(**{**last.__dict__, "unit": "万元", "figures": {"三公经费": (D("3.59"), cell)},
                          "current": {("三公经费", "合计"): ("三公经费“合计”", D("3.59"), cell)}})
    assert [f.code for f in year_over_year([this], [exact], [], 2026, 2025)[1]] == ["Y01", "Y04"]  # same unit: exact


def test_bureau_codes_are_catalogued_with_the_four_sections():
    from budgetxl.rules import DOC_SECTIONS
    from budgetxl.rules.catalogue import doc_sections, entries, markdown

    catalogue = entries()
    for code in ("Y01", "Y02", "Y03", "Y04", "Y05"):
        assert set(doc_sections(catalogue[code].doc)) == set(DOC_SECTIONS)
    docs = Path(__file__).resolve().parents[1] / "docs" / "rules.md"
    assert docs.read_text(encoding="utf-8") == markdown()


def test_a_database_from_before_keeps_working(bureau_case, tmp_path):
    """Databases made before statements/received_files: the tables are added, nothing breaks."""
    _, _, box, roster, db, _ = bureau_case
    old = tmp_path / "old.db"
    shutil.copyfile(db, old)
    conn = sqlite3.connect(old)
    conn.executescript("DROP TABLE statements; DROP TABLE received_files;")
    conn.close()
    bureau = analyse(old, read_roster(roster), 2026)
    assert bureau.unreadable_files == 3  # from the submissions: the two identical empty files are one
    assert bureau.comparison["收支总计"].isna().all() and len(bureau.comparison) == GOOD
    run = collect([box / "第05单位.xlsx"], old, SPEC)
    assert run.known and sqlite3.connect(old).execute("SELECT COUNT(*) FROM received_files").fetchone()[0] == 1


def test_statements_are_the_workbook_figures():
    d = pipeline.read(EXAMPLE, SPEC).disclosure
    rows = {(k, n): (a, c) for k, _, _, n, a, c in statement_rows(d, SPEC) if k == "figure"}
    assert rows[("figure", "三公经费")] == ("3.6", f"'{T10}'!B11")
    assert rows[("figure", "机关运行经费")] == ("9.54", "'其他事项'!B3")
    assert rows[("figure", "政府采购")][0] == "12.74"


def test_a_bad_previous_database_is_refused_plainly(bureau_case, tmp_path, capsys):
    _, _, _, _, db, _ = bureau_case
    bad = tmp_path / "上年.db"
    bad.write_bytes(b"not a database at all" * 100)
    assert main(["report", "--db", str(db), "--previous", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "上年数据库" in err and "内部错误" not in err and "Traceback" not in err
    assert main(["report", "--db", str(db), "--previous", str(tmp_path / "无.db")]) == 2


# ------------------------------------------------------------ progress


def test_progress_lines_per_file_when_redirected(tmp_path):
    box = tmp_path / "in"
    box.mkdir()
    variant(EXAMPLE, box / "甲.xlsx", {NAME: "甲单位"})
    (box / "坏.xlsx").write_bytes(b"")
    log = tmp_path / "log.txt"
    with open(log, "w") as out:
        subprocess.run(
            [str(Path(__import__("sys").executable).parent / "budgetxl"), "collect", str(box), "--db", str(tmp_path / "b.db")],
            stdout=out, stderr=subprocess.STDOUT, check=True, timeout=240,
        )
    text = log.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert any(l.startswith("[") and "甲.xlsx  甲单位  有错误  错误 1" in l for l in lines)
    assert any(l.startswith("[") and "坏.xlsx  （无单位名称）  无法读取" in l for l in lines)
    assert "█" not in text and "\r" not in text  # no bar in a log
    assert any(l.startswith("各单位状态") for l in lines)


def test_a_bar_in_a_terminal_and_the_lines_still_in_the_log(tmp_path):
    import os
    import pty
    import sys

    box = tmp_path / "in"
    box.mkdir()
    variant(EXAMPLE, box / "甲.xlsx", {NAME: "甲单位"})
    master, slave = pty.openpty()
    log = tmp_path / "log.txt"
    with open(log, "w") as out:
        subprocess.run([str(Path(sys.executable).parent / "budgetxl"), "collect", str(box), "--db", str(tmp_path / "b.db")],
                       stdout=out, stderr=slave, check=True, timeout=240)
    os.close(slave)
    terminal = os.read(master, 65536).decode("utf-8", "replace")
    os.close(master)
    assert "█" in terminal and "1/1" in terminal  # the bar where someone watches
    assert "[1/1] 甲.xlsx  甲单位  有错误" in log.read_text(encoding="utf-8")  # the lines in the log
