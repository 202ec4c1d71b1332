"""C rules: relations between tables."""

from decimal import Decimal as D

from budgetxl.model import CellRef, Severity

from ..builders import GridEditor
from .conftest import cell, fired, run


def clean(code):
    return run(GridEditor().build(), code)


def test_C01_t1_income_vs_t2(editor, base):
    ref = cell(base, "T1", "一般财力", "预算数", "收入")
    assert fired(run(editor.setref(ref, 1400).build(), "C01"), ref)
    assert clean("C01") == []


def test_C02_t1_class_vs_t3(editor, base):
    ref = cell(base, "T1", "208", "预算数")
    hit = fired(run(editor.setref(ref, 1300).build(), "C02"), ref)
    assert hit and cell(base, "T3", "208", "合计") in hit[0].refs
    assert clean("C02") == []


def test_C03_same_item_in_t2_and_t3(editor, base):
    ref = cell(base, "T3", "2080109", "合计")
    hit = [f for f in run(editor.setref(ref, 1200).build(), "C03") if ref in f.refs]
    assert hit and hit[0].severity == Severity.ERROR and hit[0].difference == D("70.40")
    assert clean("C03") == []


def test_C04_t4_vs_details(editor, base):
    ref = cell(base, "T4", "210", "一般公共预算")
    assert fired(run(editor.setref(ref, 40).build(), "C04"), ref)
    assert clean("C04") == []


def test_C05_general_budget_not_above_total(editor, base):
    ref = cell(base, "T5", "2080109", "基本支出")
    assert fired(run(editor.setref(ref, 500).build(), "C05"), ref)
    assert clean("C05") == []


def test_C06_t6_total_vs_t5_basic(editor, base):
    ref = base.disclosure.table("T6").total_row().values["合计"].ref
    assert fired(run(editor.setref(ref, 600).build(), "C06"), ref)
    assert clean("C06") == []


def test_C07_t7_projects_vs_t5(editor, base):
    ref = cell(base, "T7", "2026年社会保险工作经费项目（县级）", "项目支出合计")
    hit = [f for f in run(editor.setref(ref, 3).build(), "C07") if ref in f.refs]
    assert hit and hit[0].severity == Severity.ERROR
    assert clean("C07") == []


def test_C08_fund_income_without_fund_table(editor, base):
    ref = cell(base, "T1", "政府性基金预算拨款", "预算数", "收入")
    assert fired(run(editor.setref(ref, 10).build(), "C08"), ref)
    assert clean("C08") == []


def test_C09_three_public_vs_basic(editor, base):
    ref = cell(base, "T10", "公务用车运行维护费", "一般公共预算")
    assert fired(run(editor.setref(ref, 1).build(), "C09"), ref)
    assert fired(run(GridEditor().setref(ref, 5).build(), "C09"), ref, Severity.WARNING)  # project money may cover it
    assert clean("C09") == []


def test_C10_commissioned_services(editor, base):
    row = base.disclosure.table("T6").by_code("30299")
    found = run(editor.set("T6", f"B{row.row}", "27").set("T6", f"C{row.row}", "委托业务费").build(), "C10")
    assert fired(found)
    assert clean("C10") == []


def test_C11_carryover(editor, base):
    ref = base.disclosure.table("T12").total_row().values["合计"].ref
    assert any(ref in f.refs for f in fired(run(editor.setref(ref, 5).build(), "C11")))
    assert clean("C11") == []


def test_C12_code_names_reference_defect_and_fix(editor, base):
    found = clean("C12")
    assert len(found) == 1
    f = found[0]
    assert f.severity == Severity.ERROR and f.refs[0] == CellRef("表7 一般公共预算项目支出情况表", 8, 4)
    assert (f.expected, f.actual) == ("人力资源和社会保障管理事务", "人力资源和社会管理事务")
    assert run(editor.set("T7", "D8", "人力资源和社会保障管理事务").build(), "C12") == []


def test_C12_unknown_code_is_info(editor, base):
    row = base.disclosure.table("T6").by_code("30299")
    found = [f for f in run(editor.set("T6", f"B{row.row}", "98").build(), "C12") if f.refs[0].sheet.startswith("表6")]
    assert [f.severity for f in found] == [Severity.INFO] and "30298" in found[0].message


def test_C13_social_insurance(editor, base):
    assert [f.refs[0].a1 for f in clean("C13")] == ["D12"]  # 301 10 38.00 vs 210 11 39.02 (reference)
    ref = cell(base, "T6", "30110", "合计")
    assert run(editor.setref(ref, 39.02).build(), "C13") == []
    found = run(GridEditor().setref(cell(base, "T6", "30113", "合计"), 40).build(), "C13")
    assert any(cell(base, "T6", "30113", "合计") in f.refs for f in found)


def test_C14_three_public_within_possible_sources(editor, base):
    ref = base.disclosure.table("T10").total_row().values["一般公共预算"].ref
    assert fired(run(editor.setref(ref, 30).build(), "C14"), ref, Severity.WARNING)
    assert clean("C14") == []
