"""The catalogue as a whole: documentation, selection, crash safety, the
reference defects, injected defects, verification marks, the CLI."""

from __future__ import annotations

import json
import re
from collections import Counter

import openpyxl
import pytest

from budgetxl import pipeline
from budgetxl.rules.catalogue import doc_sections, markdown
from budgetxl.cli import main
from budgetxl.model import Severity
from budgetxl.rules import DOC_SECTIONS, REGISTRY, Rule, run_rules
from budgetxl.rules.context import CheckContext

from .builders import GridEditor, edited_copy, sheet_of
from .conftest import EXAMPLE, ROOT
from budgetxl.spec import load_spec as _load_spec  # noqa: E402

SPEC = _load_spec()


@pytest.mark.parametrize("code", sorted(REGISTRY))
def test_rule_is_documented(code):
    r = REGISTRY[code]
    assert re.fullmatch(r"[A-F]\d\d", code)
    sections = doc_sections(r.doc)
    assert list(sections) == list(DOC_SECTIONS), code
    assert all(len(text) >= 8 for text in sections.values()), code
    assert r.title and r.func.__name__.startswith("check_")


@pytest.mark.parametrize("code", sorted(__import__("budgetxl.problems", fromlist=["x"]).PROBLEMS))
def test_reader_and_subtotal_problems_are_catalogued_with_the_four_sections(code):
    from budgetxl.rules.catalogue import entries

    entry = entries()[code]
    sections = doc_sections(entry.doc)
    assert list(sections) == list(DOC_SECTIONS), code
    assert all(len(text) >= 8 for text in sections.values()), code
    assert f"### {code}" in markdown()


def test_docs_rules_md_is_current():
    assert (ROOT / "docs" / "rules.md").read_text(encoding="utf-8") == markdown(), "run: budgetxl rules --markdown > docs/rules.md"


def _check(grid=None, **kw):
    reading = pipeline.read_grid(grid or GridEditor().build(), SPEC)
    return pipeline.check(reading, SPEC, **kw)


def test_select_and_ignore_by_code_and_prefix():
    assert {f.code for f in _check(select=["B"]).findings} == {"B01", "B02"}
    assert {f.code for f in _check(select=["C12", "E06"]).findings} == {"C12", "E06"}
    codes = {f.code for f in _check(ignore=["E", "B"]).findings}
    assert codes and not any(c[0] in "EB" for c in codes)


def test_a_crashing_rule_becomes_a_finding_and_the_run_goes_on(spec, example_reading):
    def check_broken(ctx, out):
        """检查内容：x。为何重要：x。示例：x。处理方法：x。"""
        raise ZeroDivisionError("boom")

    REGISTRY["Z99"] = Rule("Z99", Severity.WARNING, "测试用的坏规则", check_broken)
    try:
        findings = run_rules(CheckContext.build(example_reading.disclosure, spec))
    finally:
        del REGISTRY["Z99"]
    broken = [f for f in findings if f.code == "Z99"]
    assert len(broken) == 1 and broken[0].severity == Severity.ERROR and "Z99" in broken[0].message
    assert "ZeroDivisionError" in broken[0].message and "Traceback" not in broken[0].message
    assert any(f.code == "C12" for f in findings)  # the other rules ran


def test_reference_example_reports_its_real_defects_and_nothing_else_as_error():
    report = _check()
    by = Counter((f.code, f.severity) for f in report.findings)
    errors = [f for f in report.findings if f.severity == Severity.ERROR]
    assert [(f.code, f.refs[0].a1) for f in errors] == [("C12", "D8")]  # 人力资源和社会管理事务
    assert by[("B02", Severity.INFO)] + by[("B01", Severity.INFO)] == 18  # the 0.01 尾差 (§6 items 7–11)
    assert by[("E06", Severity.WARNING)] == 1  # 81 人 × 120 元 × 12 月 ≠ 9.00 万
    assert by[("E02", Severity.WARNING)] == 12  # 绩效 names ≠ 表7 names
    assert by[("F03", Severity.WARNING)] == 3 and by[("F04", Severity.WARNING)] == 2  # copied reasons
    assert by[("F05", Severity.INFO)] == 1  # 职业年金 from a zero base
    assert any(f.code == "E05" and f.actual == "=50-100元" for f in report.findings)
    assert any(f.code == "E05" and f.actual == "> =98%" for f in report.findings)
    assert report.has_errors


INJECTIONS = {
    "detail changed, subtotal not": ("T3", "2101101", "基本支出", 40),
    "表6 total ≠ 表5 基本支出": ("T6", None, "合计", 600),
    "表10 运行维护费 ≠ 表6 302 31": ("T10", "公务用车运行维护费", "合计", 5),
    "code with the wrong name": ("T3", "2080505", "科目名称", "机关事业单位养老保险"),
    "amount typed as text, not a number": ("T6", "30201", "公用经费", "2.2.3"),
}


@pytest.mark.parametrize("case", sorted(INJECTIONS))
def test_injected_defect_gets_an_error_at_the_changed_cell_and_no_spurious_errors(case, example_reading):
    key, row_id, column, value = INJECTIONS[case]
    table = example_reading.disclosure.table(key)
    row = table.total_row() if row_id is None else (table.by_code(row_id) or table.by_key(row_id))
    ref = row.name_ref if column == "科目名称" else row.values[column].ref
    report = _check(GridEditor().setref(ref, value).build())
    errors = [f for f in report.findings if f.severity == Severity.ERROR and (f.code, f.refs[0].a1) != ("C12", "D8")]
    assert errors, case
    assert all(ref in f.refs for f in errors), [(f.code, f.message) for f in errors if ref not in f.refs]


MUTATIONS = {
    "A03": ("其他事项", "B10", 2026),
    "A04": ("单位信息", "B9", "负责XX工作"),
    "A05": ("单位信息", "B10", "本中心设办公室。"),
    "D03": ("其他事项", "B9", 5),
    "D06": ("其他事项", "B15", 1),
    "E05": ("绩效指标", "E3", "> =4 次"),
    "F07": ("上年数与原因", "E9", "退休人员减少。"),
    "D02": ("其他事项", "B4", 13),
    "A07": ("单位信息", "B11", "2025-12-01"),
}


@pytest.mark.parametrize("code", sorted(MUTATIONS))
def test_mutation_fires_exactly_that_rule_at_the_injected_cell(code):
    baseline = {(f.code, str(f.refs[0]) if f.refs else "", f.severity) for f in _check().findings}
    sheet, a1, value = MUTATIONS[code]
    report = _check(GridEditor().set(sheet, a1, value).build())
    new = [f for f in report.findings if (f.code, str(f.refs[0]) if f.refs else "", f.severity) not in baseline]
    assert {f.code for f in new} == {code}
    assert all(any(r.sheet == sheet and r.a1 == a1 for r in f.refs) for f in new)


def test_annotate_and_verified_marks_round_trip(tmp_path):
    annotated = tmp_path / "校验结果.xlsx"
    assert main(["check", str(EXAMPLE), "--annotate", str(annotated)]) == 1
    wb = openpyxl.load_workbook(annotated)
    ws = wb["校验结果"]
    assert wb.sheetnames[0] == "校验结果"
    header = [c.value for c in ws[1]]
    assert header[:6] == ["序号", "级别", "代码", "规则", "位置", "说明"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert rows[0][1:3] == ("错误", "C12")
    assert ws["E2"].hyperlink.location == "'表7 一般公共预算项目支出情况表'!D8"
    t7 = wb["表7 一般公共预算项目支出情况表"]
    assert t7["D8"].fill.fgColor.rgb.endswith("FFC7CE") and "C12" in t7["D8"].comment.text
    # a person verifies the C13 warning and (wrongly) the C12 error
    for r in range(2, ws.max_row + 1):
        if ws.cell(r, 3).value in ("C13", "C12"):
            ws.cell(r, 10).value = "已核实"
            ws.cell(r, 11).value = "医疗科目含公务员医疗补助"
    wb.save(annotated)
    report = pipeline.check(pipeline.read(annotated, SPEC), SPEC)
    c13 = next(f for f in report.findings if f.code == "C13")
    c12 = next(f for f in report.findings if f.code == "C12")
    assert report.is_verified(c13) and not report.is_verified(c12)  # 错误 cannot be waved through
    assert report.summary()["已核实"] == 1 and report.has_errors
    item = next(i for i in report.to_json()["findings"] if i["code"] == "C13")
    assert item["verified"] and item["remark"] == "医疗科目含公务员医疗补助"


def test_check_cli_json_and_exit_codes(tmp_path, capsys):
    assert main(["check", str(EXAMPLE), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["summary"]["错误"] == 1 and set(data["findings"][0]) >= {"code", "severity", "message", "refs", "expected", "actual", "difference"}
    assert main(["check", str(EXAMPLE), "--ignore", "C12"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("校验 2026年 阿克陶县社会保险中心：错误 0 个")


def test_text_amount_is_a_finding_not_a_crash(tmp_path):
    path = edited_copy(EXAMPLE, tmp_path / "t.xlsx", lambda wb: sheet_of(wb, "T6").__setitem__("F8", "十二万"))
    report = pipeline.check(pipeline.read(path, SPEC), SPEC)
    assert any(f.code == "P04" and f.refs[0].a1 == "F8" for f in report.findings)


@pytest.mark.parametrize("table", ["T3", "T1", "T7"])
def test_a_formula_without_a_computed_value_is_unknown_not_zero(tmp_path, table):
    """A workbook written by a program (formulas never calculated) read its totals as
    blank and then as zero: one uncached 总计 gave P06 and four wrong 错误/警告 (B01,
    B02, C02, D04). P06 names the cell; no other finding does."""
    spec = _load_spec()
    t = pipeline.read(EXAMPLE, spec).disclosure.tables[table]
    row = next(r for r in t.rows if r.kind == "total")
    ref = next(a.ref for a in row.values.values() if a.value)
    wb = openpyxl.load_workbook(EXAMPLE)
    ws = wb[ref.sheet]
    ws.cell(ref.row, ref.col).value = f"=SUM({ws.cell(ref.row - 1, ref.col).coordinate})"  # openpyxl keeps no computed value
    path = tmp_path / "程序生成.xlsx"
    wb.save(path)
    findings = pipeline.check(pipeline.read(path, spec), spec).findings
    naming = sorted(f.code for f in findings if ref in f.refs)
    assert naming == ["P06"], [(f.code, f.message[:80]) for f in findings if ref in f.refs]
    clean = Counter(f.code for f in pipeline.check(pipeline.read(EXAMPLE, spec), spec).findings)
    assert Counter(f.code for f in findings) - clean == Counter({"P06": 1})  # nothing else new
