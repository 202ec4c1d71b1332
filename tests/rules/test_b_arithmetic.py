"""B rules: arithmetic inside a table. A firing and a quiet case per rule."""

from decimal import Decimal as D

from budgetxl.model import CellRef, Severity

from .conftest import cell, fired, run


def test_B01_row_total(editor, base):
    ref = cell(base, "T3", "2080109", "合计")
    found = run(editor.setref(ref, 1300).build(), "B01")
    hit = fired(found, ref)
    assert hit and hit[0].expected == D("1270.40") and hit[0].difference == D("29.60")
    assert cell(base, "T3", "2080109", "基本支出") in hit[0].refs


def test_B01_quiet_except_published_rounding(editor):
    found = run(editor.build(), "B01")
    assert {f.severity for f in found} == {Severity.INFO}
    assert {f.refs[0].a1 for f in found} == {"E6", "E7"}  # 表3/表5 208: 501.64 + 879.93 = 1,381.57


def test_B02_detail_changed_without_subtotal(editor, base):
    detail, detail_total = cell(base, "T3", "2080505", "基本支出"), cell(base, "T3", "2080505", "合计")
    found = run(editor.setref(detail, 60).setref(detail_total, 60).build(), "B02")
    errors = fired(found)
    assert errors and all(detail in f.refs or detail_total in f.refs for f in errors)
    assert {f.refs[0] for f in errors} >= {cell(base, "T3", "20805", "基本支出")}


def test_B02_rounding_is_info_with_envelope(editor, base):
    found = run(editor.build(), "B02")
    assert len(found) == 16 and {f.severity for f in found} == {Severity.INFO}
    f = next(f for f in found if f.refs[0] == cell(base, "T3", "21011", "合计"))
    assert "尾差" in f.message and "±0.02 万元" in f.message and f.difference == D("0.01")


def test_B02_exact_in_yuan(editor, base):
    found = run(editor.set("单位信息", "B5", "元").build(), "B02")
    assert len(fired(found)) == 16  # the same 0.01 differences are errors when figures are in 元


def test_B03_fixed_rows(editor, base):
    ref = cell(base, "T1", "一般公共预算拨款", "预算数", "收入")
    found = run(editor.setref(ref, 1500).build(), "B03")
    assert fired(found, ref)
    assert run(GridEditorFresh(), "B03") == []


def GridEditorFresh():
    from ..builders import GridEditor

    return GridEditor().build()


def test_B04_balanced(editor, base):
    t1 = base.disclosure.table("T1")
    ref = t1.total_row("收入").values["预算数"].ref
    assert fired(run(editor.setref(ref, 1463).build(), "B04"), ref)
    assert run(GridEditorFresh(), "B04") == []


def test_B05_missing_parent_row(editor, base):
    kuan = base.disclosure.table("T3").by_code("20805")
    for col in "ABCDEFG":  # the 208 05 row is deleted (cleared)
        editor.set("T3", f"{col}{kuan.row}", None)
    found = run(editor.build(), "B05")
    assert len(fired(found)) == 1 and "20805" in found[0].message
    assert run(GridEditorFresh(), "B05") == []


def test_B06_negative(editor, base):
    ref = cell(base, "T6", "30201", "公用经费")
    assert fired(run(editor.setref(ref, -2.23).build(), "B06"), ref)
    assert run(GridEditorFresh(), "B06") == []


def test_B07_basic_columns(editor, base):
    row = base.disclosure.table("T6").by_code("30201")
    ref = row.values["人员经费"].ref
    found = run(editor.setref(ref, 2.23).setref(row.values["公用经费"].ref, None).build(), "B07")
    assert fired(found, ref, Severity.WARNING)
    assert run(GridEditorFresh(), "B07") == []


def test_B08_duplicate_project(editor, base):
    t7 = base.disclosure.table("T7")
    a, b = [r for r in t7.rows if r.project][:2]
    ref = CellRef(t7.sheet, b.row, 5)
    found = run(editor.setref(ref, a.project).build(), "B08")
    assert fired(found) and "重复" in fired(found)[0].message
    assert run(GridEditorFresh(), "B08") == []


def test_B09_precision(editor, base):
    ref = cell(base, "T6", "30101", "人员经费")
    assert fired(run(editor.setref(ref, 102.3249).build(), "B09"), ref, Severity.WARNING)
    assert run(GridEditorFresh(), "B09") == []
